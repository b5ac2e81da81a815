/**
 * The one context every command works through (as rust-analyzer's `Ctx` in editors/code): the
 * probe service, what this host remembers in its own storage, and the one path from a probe to
 * the panel. Commands are factories over it (commands.ts), so none of them is a closure inside
 * activate().
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ProbeInput } from '../core/probe/engine';
import type { LayerSummary, ProbeReport } from '../core/probe/report';
import { runLabel } from '../shared/format';
import type { PanelRun } from '../shared/protocol';
import { rerunRefusal } from '../shared/savedState';
import { pickLensFolder } from './lens/lensCommands';
import { modelDirFor, pickModel } from './models';
import { PanelHost, ProbePanel, type RerunOptions } from './panel';
import { ProbeService } from './probeService';
import { rerunInputs } from './rerunInputs';
import { readSettings } from './settings';

const LAST_MODEL_KEY = 'layer-lens.lastModel';
const LATEST_KEY = 'layer-lens.latestSummaries';
const PROBED_KEY = 'layer-lens.probedModels';
const LENSES_KEY = 'layer-lens.tunedLenses';
const MAX_PROBED = 200;

export type Latest = { summary: LayerSummary[]; planText: string; sentences: number; at: number };

export interface ShowOptions {
  plan?: string;
  /** Run id to compare the new run with, or "previous". */
  compareWith?: string;
  token?: vscode.CancellationToken;
  pll?: boolean;
  sublayers?: boolean;
  lensDir?: string;
}

export class Ctx {
  readonly latest: Map<string, Latest>;
  readonly panelHost: PanelHost;
  private runCounter = 0;

  constructor(
    readonly context: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
    readonly service: ProbeService,
    /** The embedded sample model (or the tests' override). */
    readonly sample: string,
  ) {
    this.latest = new Map(Object.entries(context.workspaceState.get<Record<string, Latest>>(LATEST_KEY, {})));
    this.panelHost = this.makePanelHost();
  }

  /** The model folder for a command argument (a URI or path), or the picker when there is none. */
  async resolveModel(arg: unknown): Promise<string | undefined> {
    if (arg instanceof vscode.Uri) return modelDirFor(arg.fsPath);
    if (typeof arg === 'string') return modelDirFor(arg);
    return pickModel(this.context.extensionPath, this.context.globalState.get<string>(LAST_MODEL_KEY));
  }

  /** Probes with progress and cancel, remembers the model, and shows the run in the panel. */
  async probeAndShow(dir: string, inputs: ProbeInput[], source: PanelRun['source'], how: ShowOptions = {}): Promise<ProbeReport | undefined> {
    const settings = readSettings(vscode.Uri.file(dir));
    const report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Layer Lens: probing ${path.basename(dir)}`, cancellable: true },
      (progress, token) => {
        const merged = how.token ? anyToken(token, how.token) : token;
        return this.service.run(dir, inputs, { plan: how.plan, settings, token: merged, progress, pll: how.pll, sublayers: how.sublayers, lensDir: how.lensDir });
      },
    );
    await this.context.globalState.update(LAST_MODEL_KEY, dir);
    await this.rememberProbed(dir);
    if (how.lensDir) await this.rememberLens(how.lensDir);
    this.latest.set(dir, { summary: report.summary, planText: report.planText, sentences: report.sentences.length, at: Date.now() });
    void this.context.workspaceState.update(LATEST_KEY, Object.fromEntries([...this.latest].slice(-20)));
    const previous = ProbePanel.current?.hostState.focusRunId;
    this.show(report, source, how.compareWith === 'previous' ? previous : how.compareWith);
    return report;
  }

  /** A report made elsewhere (the PyTorch task) shown like a probe of this host's. */
  async showReport(dir: string, report: ProbeReport): Promise<void> {
    await this.rememberProbed(dir);
    this.show(report, 'corpus');
  }

  lastLens(): string | undefined {
    return this.usedLenses().at(-1);
  }

  private show(report: ProbeReport, source: PanelRun['source'], compareWith?: string): void {
    const run: PanelRun = { id: `run-${Date.now().toString(36)}-${++this.runCounter}`, label: runLabel(report, source, this.modelLabel(report)), source, createdAt: Date.now(), report };
    ProbePanel.show(this.panelHost, run, compareWith);
  }

  /** The embedded sample and a workspace copy share a folder name: say which one a run probed. */
  private modelLabel(report: ProbeReport): string {
    const dir = path.resolve(report.model.path);
    if (dir === path.resolve(this.sample)) return `${report.model.name} (embedded)`;
    const namesake = ProbePanel.current?.hostState.runs.some((r) => r.report.model.name === report.model.name && path.resolve(r.report.model.path) !== dir);
    return namesake || report.model.name === path.basename(this.sample) ? `${report.model.name} (${vscode.workspace.asRelativePath(dir, true)})` : report.model.name;
  }

  // The model folders this extension probed, in its own storage: the panel re-runs only these, so a
  // run in the webview's (untrusted) saved state cannot make the host probe a path of its choosing.
  private probedModels(): string[] {
    return this.context.globalState.get<string[]>(PROBED_KEY, []);
  }

  private rememberProbed(dir: string): Thenable<void> {
    return this.context.globalState.update(PROBED_KEY, [...this.probedModels().filter((d) => d !== dir), dir].slice(-MAX_PROBED));
  }

  // Likewise the tuned-lens folders: a revived run's lens path is re-applied only if this host chose it.
  private usedLenses(): string[] {
    return this.context.globalState.get<string[]>(LENSES_KEY, []);
  }

  private rememberLens(dir: string): Thenable<void> {
    return this.context.globalState.update(LENSES_KEY, [...this.usedLenses().filter((d) => d !== dir), dir].slice(-MAX_PROBED));
  }

  private lensRefusal(run: PanelRun): string | undefined {
    return run.report.lens && !this.usedLenses().includes(run.report.lens.dir)
      ? `not re-running "${run.label}": its tuned lens ${run.report.lens.dir} was not chosen in Layer Lens here; use "Layer Lens: Probe with Tuned Lens…"`
      : undefined;
  }

  private makePanelHost(): PanelHost {
    return {
      extensionUri: this.context.extensionUri,
      log: this.log,
      // A revived run names a model path from saved webview state: probe it again only if this host
      // probed it itself (rerunRefusal). A plain re-run is compared with the run it repeats; masking a
      // word or each token in turn is shown by itself.
      rerun: async (run: PanelRun, options: RerunOptions = {}) => {
        try {
          const refusal = rerunRefusal(run, this.probedModels()) ?? this.lensRefusal(run);
          if (refusal) throw userError(refusal);
          const variant = options.mask || options.pll || options.sublayers !== undefined;
          return await this.probeAndShow(modelDirFor(run.report.model.path), rerunInputs(run.report, options.mask), run.source, {
            plan: run.report.planText,
            compareWith: variant ? undefined : run.id,
            pll: options.pll ?? Boolean(run.report.pllSummary),
            sublayers: options.sublayers ?? Boolean(run.report.sublayerSummary),
            lensDir: run.report.lens?.dir,
          });
        } catch (e) {
          return reportError(this.log, 'rerun', e);
        }
      },
      // The panel's "Tuned lens…": the run's sentences again through a lens folder the user picks, compared with the run.
      tunedLens: async (run: PanelRun) => {
        try {
          const refusal = rerunRefusal(run, this.probedModels());
          if (refusal) throw userError(refusal);
          const dir = modelDirFor(run.report.model.path);
          const lensDir = await pickLensFolder(dir, this.lastLens());
          if (!lensDir) return undefined;
          return await this.probeAndShow(dir, rerunInputs(run.report), run.source, { plan: run.report.planText, compareWith: run.id, lensDir });
        } catch (e) {
          return reportError(this.log, 'tunedLens', e);
        }
      },
      trajectory: (run: PanelRun, sentence: number, token: number | string) => {
        const refusal = rerunRefusal(run, this.probedModels());
        if (refusal) return Promise.reject(userError(refusal));
        const dir = modelDirFor(run.report.model.path);
        return this.service.trajectory(dir, rerunInputs(run.report)[sentence], token, { plan: run.report.plan, topK: run.report.topK, settings: readSettings(vscode.Uri.file(dir)) });
      },
    };
  }
}

/** An error meant for the user: shown as it is, logged as a warning. */
export function userError(message: string): Error {
  const e = new Error(message);
  e.name = 'UserError';
  return e;
}

export function reportError(log: vscode.LogOutputChannel, command: string, e: unknown): undefined {
  const err = e instanceof Error ? e : new Error(String(e));
  if (err.name === 'CancelledError') {
    void vscode.window.setStatusBarMessage('Layer Lens: probe cancelled', 4000);
    return undefined;
  }
  if (err.name === 'UserError') {
    log.warn(`${command}: ${err.message}`);
    void vscode.window.showErrorMessage(`Layer Lens: ${err.message}`);
    return undefined;
  }
  log.error(`${command} failed: ${err.stack ?? err.message}`);
  void vscode.window.showErrorMessage(`Layer Lens: ${command} failed: ${err.message}`, 'Show Log').then((a) => {
    if (a) log.show();
  });
  return undefined;
}

function anyToken(a: vscode.CancellationToken, b: vscode.CancellationToken): vscode.CancellationToken {
  const source = new vscode.CancellationTokenSource();
  if (a.isCancellationRequested || b.isCancellationRequested) source.cancel();
  a.onCancellationRequested(() => source.cancel());
  b.onCancellationRequested(() => source.cancel());
  return source.token;
}
