/**
 * The "loaded model" lifetime: one ProbeEngine (and its worker) at a time, loaded lazily on first
 * use, so activation never pulls in the tokenizer or graph builder. Cancelling aborts the run,
 * which terminates the worker at once.
 */
import * as vscode from 'vscode';
import type { ProbeEngine, ProbeInput } from '../core/probe/engine';
import type { ProbeReport, TokenTrajectory } from '../core/probe/report';
import type { ExecutionProviderChoice } from '../core/probe/executionProvider';
import type { Settings } from './settings';

export interface RunOptions {
  plan?: string | number[];
  settings: Settings;
  /** Also mask each token in turn (per-layer pseudo-log-likelihood). */
  pll?: boolean;
  /** Also read the state after each layer's attention block (the h·attn rows). */
  sublayers?: boolean;
  /** Read the states through the tuned lens in this folder (python/tune_lens.py's output). */
  lensDir?: string;
  token?: vscode.CancellationToken;
  progress?: vscode.Progress<{ message?: string; increment?: number }>;
}

export class ProbeService implements vscode.Disposable {
  private loaded: { dir: string; threads: number; provider: ExecutionProviderChoice; engine: ProbeEngine } | undefined;
  private busy = false;

  /** `parityModel`: the embedded model, on which a provider other than the CPU is checked before use. */
  constructor(
    private readonly log: vscode.LogOutputChannel,
    private readonly parityModel: string,
  ) {}

  get isBusy(): boolean {
    return this.busy;
  }

  async engineFor(dir: string, threads: number, signal?: AbortSignal, provider: ExecutionProviderChoice = 'cpu'): Promise<ProbeEngine> {
    const l = this.loaded;
    if (l && l.dir === dir && l.threads === threads && l.provider === provider) return l.engine;
    await this.unload();
    // The loader is synchronous: a trial load in a worker (bounded in time and heap) comes first, so
    // a folder that would hang it, exhaust memory or crash V8 never reaches the extension-host thread.
    const { checkModelLoads } = await import('../core/checkpoint/modelCheck');
    const trial = await checkModelLoads(dir, { signal });
    const t = performance.now();
    const { ProbeEngine } = await import('../core/probe/engine');
    const engine = ProbeEngine.load(dir, { ...(threads > 0 ? { threads } : {}), executionProvider: provider, parityModel: this.parityModel });
    this.log.info(
      `loaded ${dir} (${engine.checkpoint.config.modelType}, ${engine.checkpoint.config.numLayers} layers) in ${(performance.now() - t).toFixed(0)} ms ` +
        `(trial load in a worker: ${trial.ms.toFixed(0)} ms)`,
    );
    this.loaded = { dir, threads, provider, engine };
    return engine;
  }

  async run(dir: string, inputs: ProbeInput[], options: RunOptions): Promise<ProbeReport> {
    if (this.busy) throw new BusyError();
    this.busy = true;
    const controller = new AbortController();
    const sub = options.token?.onCancellationRequested(() => {
      this.log.info('cancel requested');
      controller.abort();
    });
    const started = performance.now();
    try {
      options.progress?.report({ message: 'loading the model…' });
      const engine = await this.engineFor(dir, options.settings.threads, controller.signal, options.settings.executionProvider);
      if (controller.signal.aborted) throw cancelled();
      const { parsePlan } = await import('../core/deepen/plan');
      const plan =
        options.plan === undefined ? undefined : typeof options.plan === 'string' ? parsePlan(options.plan, engine.checkpoint.config.numLayers) : options.plan;
      const lens = options.lensDir === undefined ? undefined : (await import('../core/lens/tunedLens')).loadTunedLens(options.lensDir, engine.checkpoint);
      let last = 0;
      options.progress?.report({ message: `${inputs.length} sentence${inputs.length === 1 ? '' : 's'}…` });
      const report = await engine.probe(inputs, {
        plan,
        maxTokens: options.settings.maxTokens,
        topK: options.settings.topK,
        includeSpecial: options.settings.includeSpecialTokens,
        fast: options.settings.fast,
        pll: options.pll,
        sublayers: options.sublayers,
        lens,
        signal: controller.signal,
        // A cancelled run keeps the sentences it finished, marked partial, rather than losing them.
        keepPartial: true,
        onProgress: (done, total) => {
          const pct = (done / total) * 100;
          options.progress?.report({ message: `${done}/${total} sentences`, increment: pct - last });
          last = pct;
        },
      });
      const mem = process.memoryUsage();
      this.log.info(
        `probe ${report.model.name}: plan ${report.planText} (${report.plan.length} layers), ${report.sentences.length} sentence(s), ` +
          `${report.timing.tokens} tokens, top-k ${report.topK}${report.fast ? `, fast (${report.fast.kernel})` : ''}${report.executionProvider ? `, provider ${report.executionProvider.ran} (${report.executionProvider.asked} asked)` : ''}${report.lens ? `, tuned lens ${report.lens.dir}` : ''}${report.sublayerSummary ? ', sub-layers' : ''}; session ${report.timing.sessionMs.toFixed(0)} ms, run ${report.timing.runMs.toFixed(0)} ms, ` +
          `total ${(performance.now() - started).toFixed(0)} ms; peak RSS ${report.timing.peakRssMb.toFixed(0)} MB, rss ${(mem.rss / 2 ** 20).toFixed(0)} MB, ` +
          `heap ${(mem.heapUsed / 2 ** 20).toFixed(0)} MB; model ${report.model.path}`,
      );
      for (const w of report.warnings) this.log.warn(w);
      if (report.corpus?.partial) {
        this.log.info(`probe cancelled after ${report.sentences.length} of ${inputs.length} sentences; kept them as a partial run`);
        void vscode.window.showInformationMessage(`Layer Lens: cancelled after ${report.sentences.length} of ${inputs.length} sentences; the panel shows those, marked partial.`);
      }
      return report;
    } catch (e) {
      if (controller.signal.aborted) {
        this.log.info(`probe cancelled after ${(performance.now() - started).toFixed(0)} ms; worker terminated`);
        throw cancelled();
      }
      throw e;
    } finally {
      sub?.dispose();
      this.busy = false;
    }
  }

  /** Follows one token through a sentence of a run (see ProbeEngine.trajectory). */
  async trajectory(dir: string, input: ProbeInput, token: number | string, options: { plan: number[]; topK: number; settings: Settings }): Promise<TokenTrajectory> {
    if (this.busy) throw new BusyError();
    this.busy = true;
    try {
      const engine = await this.engineFor(dir, options.settings.threads, undefined, options.settings.executionProvider);
      return await engine.trajectory(input, token, { plan: options.plan, topK: options.topK, maxTokens: options.settings.maxTokens });
    } finally {
      this.busy = false;
    }
  }

  async unload(): Promise<void> {
    const old = this.loaded;
    this.loaded = undefined;
    if (old) await old.engine.dispose();
  }

  dispose(): void {
    void this.unload();
  }
}

export class BusyError extends Error {
  constructor() {
    super('A probe is already running; cancel it or wait for it to finish.');
    this.name = 'UserError';
  }
}

function cancelled(): Error {
  const e = new Error('Cancelled');
  e.name = 'CancelledError';
  return e;
}

