/**
 * Extension entry. Activation registers commands, the panel serializer, and the config.json hover
 * and CodeLens; it loads nothing heavy. The probe engine (tokenizer, graph builder, worker) is
 * imported on the first probe, and onnxruntime only ever loads inside the worker thread.
 */
import { bundleStart } from './startTime';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ProbeInput } from '../core/probe/engine';
import type { LayerSummary, ProbeReport } from '../core/probe/report';
import { PANEL_VIEW_TYPE, PanelRun } from '../shared/protocol';
import { runLabel } from '../shared/format';
import { rerunRefusal } from '../shared/savedState';
import { CONFIG_SELECTOR, ConfigCodeLensProvider, ConfigHoverProvider } from './configFeatures';
import { askSentence, parseCorpus, parseInputLine, rememberInput, selectionInputs } from './inputs';
import { findWorkspaceModels, modelDirFor, pickModel, referenceModelDir, sampleModelDir } from './models';
import { ProbePanel, type RerunOptions } from './panel';
import { rerunInputs } from './rerunInputs';
import { ProbeService } from './probeService';
import { readSettings } from './settings';
import { registerDeepenCommands } from './deepen/deepenCommand';
import { registerFinetune } from './finetune/finetuneCommand';
import { pickLensFolder, registerLensCommands } from './lens/lensCommands';
import { registerTorchProbe } from './torchProbe/torchProbeCommand';

export interface ProbeCommandArgs {
  /** Model folder or a file in it. */
  model: string;
  sentences?: string[];
  /** Layer plan text, e.g. "0-3,3". */
  plan?: string;
  /** Run id to compare the new run against, or "previous" for the run shown before it. */
  compareWith?: string;
  /** A tuned-lens folder to read the states through. */
  lens?: string;
  /** Also the h·attn rows (the state after each attention block). */
  sublayers?: boolean;
}

interface ShowOptions {
  plan?: string;
  /** Run id to compare the new run with, or "previous". */
  compareWith?: string;
  token?: vscode.CancellationToken;
  pll?: boolean;
  sublayers?: boolean;
  lensDir?: string;
}

/** What activate() returns: used by the end-to-end tests and by other Layer Lens features. */
export interface LayerLensApi {
  activationMs: number;
  bundleMs: number;
  probe(args: ProbeCommandArgs, token?: vscode.CancellationToken): Promise<ProbeReport | undefined>;
  panel(): ProbePanel | undefined;
  sampleModelDir: string;
  refreshModelContext(): Promise<string[]>;
}

const LAST_MODEL_KEY = 'layer-lens.lastModel';
const LATEST_KEY = 'layer-lens.latestSummaries';
const PROBED_KEY = 'layer-lens.probedModels';
const LENSES_KEY = 'layer-lens.tunedLenses';
const MAX_PROBED = 200;

type Latest = { summary: LayerSummary[]; planText: string; sentences: number; at: number };

/** When the bundle's modules (everything main.ts imports) finished evaluating. */
const modulesEvaluated = performance.now();

export function activate(context: vscode.ExtensionContext): LayerLensApi {
  const t0 = performance.now();
  const log = vscode.window.createOutputChannel('Layer Lens', { log: true });
  const service = new ProbeService(log, referenceModelDir(context.extensionPath));
  const latest = new Map<string, Latest>(Object.entries(context.workspaceState.get<Record<string, Latest>>(LATEST_KEY, {})));
  const codeLens = new ConfigCodeLensProvider();
  const sample = sampleModelDir(context.extensionPath);
  let runCounter = 0;
  // The embedded sample and a workspace copy share a folder name: say which one a run probed.
  const modelLabel = (report: ProbeReport): string => {
    const dir = path.resolve(report.model.path);
    if (dir === path.resolve(sample)) return `${report.model.name} (embedded)`;
    const namesake = ProbePanel.current?.hostState.runs.some((r) => r.report.model.name === report.model.name && path.resolve(r.report.model.path) !== dir);
    return namesake || report.model.name === path.basename(sample) ? `${report.model.name} (${vscode.workspace.asRelativePath(dir, true)})` : report.model.name;
  };

  // The model folders this extension probed, in its own storage: the panel re-runs only these, so a
  // run in the webview's (untrusted) saved state cannot make the host probe a path of its choosing.
  const probedModels = () => context.globalState.get<string[]>(PROBED_KEY, []);
  const rememberProbed = (dir: string) => context.globalState.update(PROBED_KEY, [...probedModels().filter((d) => d !== dir), dir].slice(-MAX_PROBED));
  // Likewise the tuned-lens folders: a revived run's lens path is re-applied only if this host chose it.
  const usedLenses = () => context.globalState.get<string[]>(LENSES_KEY, []);
  const lastLens = () => usedLenses().at(-1);
  const rememberLens = (dir: string) => context.globalState.update(LENSES_KEY, [...usedLenses().filter((d) => d !== dir), dir].slice(-MAX_PROBED));
  const lensRefusal = (run: PanelRun) =>
    run.report.lens && !usedLenses().includes(run.report.lens.dir)
      ? `not re-running "${run.label}": its tuned lens ${run.report.lens.dir} was not chosen in Layer Lens here; use "Layer Lens: Probe with Tuned Lens…"`
      : undefined;
  const panelHost = {
    extensionUri: context.extensionUri,
    log,
    // A revived run names a model path from saved webview state: probe it again only if this host
    // probed it itself (rerunRefusal). A plain re-run is compared with the run it repeats; masking a
    // word or each token in turn is shown by itself.
    rerun: async (run: PanelRun, options: RerunOptions = {}) => {
      try {
        const refusal = rerunRefusal(run, probedModels()) ?? lensRefusal(run);
        if (refusal) throw userError(refusal);
        const variant = options.mask || options.pll || options.sublayers !== undefined;
        return await probeAndShow(modelDirFor(run.report.model.path), rerunInputs(run.report, options.mask), run.source, {
          plan: run.report.planText,
          compareWith: variant ? undefined : run.id,
          pll: options.pll ?? Boolean(run.report.pllSummary),
          sublayers: options.sublayers ?? Boolean(run.report.sublayerSummary),
          lensDir: run.report.lens?.dir,
        });
      } catch (e) {
        return reportError(log, 'rerun', e);
      }
    },
    // The panel's "Tuned lens…": the run's sentences again through a lens folder the user picks, compared with the run.
    tunedLens: async (run: PanelRun) => {
      try {
        const refusal = rerunRefusal(run, probedModels());
        if (refusal) throw userError(refusal);
        const dir = modelDirFor(run.report.model.path);
        const lensDir = await pickLensFolder(dir, lastLens());
        if (!lensDir) return undefined;
        return await probeAndShow(dir, rerunInputs(run.report), run.source, { plan: run.report.planText, compareWith: run.id, lensDir });
      } catch (e) {
        return reportError(log, 'tunedLens', e);
      }
    },
    trajectory: (run: PanelRun, sentence: number, token: number | string) => {
      const refusal = rerunRefusal(run, probedModels());
      if (refusal) return Promise.reject(userError(refusal));
      const dir = modelDirFor(run.report.model.path);
      return service.trajectory(dir, rerunInputs(run.report)[sentence], token, { plan: run.report.plan, topK: run.report.topK, settings: readSettings(vscode.Uri.file(dir)) });
    },
  };

  async function probeAndShow(dir: string, inputs: ProbeInput[], source: PanelRun['source'], how: ShowOptions = {}): Promise<ProbeReport | undefined> {
    const settings = readSettings(vscode.Uri.file(dir));
    const name = path.basename(dir);
    const report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Layer Lens: probing ${name}`, cancellable: true },
      (progress, token) => {
        const merged = how.token ? anyToken(token, how.token) : token;
        return service.run(dir, inputs, { plan: how.plan, settings, token: merged, progress, pll: how.pll, sublayers: how.sublayers, lensDir: how.lensDir });
      },
    );
    await context.globalState.update(LAST_MODEL_KEY, dir);
    await rememberProbed(dir);
    if (how.lensDir) await rememberLens(how.lensDir);
    const entry: Latest = { summary: report.summary, planText: report.planText, sentences: report.sentences.length, at: Date.now() };
    latest.set(dir, entry);
    void context.workspaceState.update(LATEST_KEY, Object.fromEntries([...latest].slice(-20)));
    const run: PanelRun = { id: `run-${Date.now().toString(36)}-${++runCounter}`, label: runLabel(report, source, modelLabel(report)), source, createdAt: Date.now(), report };
    const previous = ProbePanel.current?.hostState.focusRunId;
    ProbePanel.show(panelHost, run, how.compareWith === 'previous' ? previous : how.compareWith);
    return report;
  }

  /** Runs a command body, turning errors into messages the user can act on. */
  const guarded =
    <A extends unknown[]>(name: string, body: (...args: A) => Promise<unknown>) =>
    async (...args: A) => {
      try {
        return await body(...args);
      } catch (e) {
        return reportError(log, name, e);
      }
    };

  const resolveModel = async (arg: unknown): Promise<string | undefined> => {
    if (arg instanceof vscode.Uri) return modelDirFor(arg.fsPath);
    if (typeof arg === 'string') return modelDirFor(arg);
    return pickModel(context.extensionPath, context.globalState.get<string>(LAST_MODEL_KEY));
  };

  const probeCommand = guarded('probe', async (arg?: vscode.Uri | ProbeCommandArgs | string) => {
    if (arg && typeof arg === 'object' && !(arg instanceof vscode.Uri) && 'model' in arg) {
      const dir = modelDirFor(arg.model);
      const inputs = (arg.sentences?.length ? arg.sentences : readSettings().defaultSentences).map(parseInputLine);
      return probeAndShow(dir, inputs, 'api', { plan: arg.plan, compareWith: arg.compareWith, lensDir: arg.lens, sublayers: arg.sublayers });
    }
    const dir = await resolveModel(arg);
    if (!dir) return undefined;
    const text = await askSentence(context.globalState, readSettings().defaultSentences, `Layer Lens: probe ${path.basename(dir)}`);
    if (!text) return undefined;
    await rememberInput(context.globalState, text);
    return probeAndShow(dir, [parseInputLine(text)], 'input');
  });

  const probeSelection = guarded('probeSelection', async () => {
    const editor = vscode.window.activeTextEditor;
    if (!editor) throw userError('Open a text editor and select the sentence(s) to probe (one per line).');
    const inputs = selectionInputs(editor);
    if (inputs.length === 0) throw userError('The selection is empty: select one or more sentences (one per line).');
    const dir = await resolveModel(undefined);
    if (!dir) return undefined;
    if (inputs.length === 1) await rememberInput(context.globalState, inputs[0].text);
    return probeAndShow(dir, inputs.slice(0, readSettings().maxCorpusSentences), 'selection');
  });

  const probeCorpus = guarded('probeCorpus', async (arg?: vscode.Uri) => {
    let file = arg instanceof vscode.Uri && !arg.fsPath.endsWith('config.json') ? arg : undefined;
    if (!file) {
      const picked = await vscode.window.showOpenDialog({
        title: 'Layer Lens: a corpus file, one sentence per line',
        canSelectMany: false,
        filters: { 'Text files': ['txt'], 'All files': ['*'] },
        defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
      });
      file = picked?.[0];
    }
    if (!file) return undefined;
    const settings = readSettings(file);
    const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(file));
    const { inputs, skipped } = parseCorpus(text, settings.maxCorpusSentences);
    if (inputs.length === 0) throw userError(`${file.fsPath} has no sentences: it needs one sentence per line.`);
    if (skipped > 0) {
      void vscode.window.showWarningMessage(`Probing the first ${inputs.length} sentences; ${skipped} more skipped (setting layer-lens.maxCorpusSentences).`);
    }
    const dir = await resolveModel(undefined);
    if (!dir) return undefined;
    return probeAndShow(dir, inputs, 'corpus');
  });

  const probeWithPlan = guarded('probeWithPlan', async (arg?: vscode.Uri) => {
    const dir = await resolveModel(arg);
    if (!dir) return undefined;
    const { readConfigFile } = await import('../core/checkpoint/config');
    const { parsePlan } = await import('../core/deepen/plan');
    const config = readConfigFile(path.join(dir, 'config.json'));
    const last = config.numLayers - 1;
    const plan = await vscode.window.showInputBox({
      title: `Layer Lens: layer plan for ${path.basename(dir)} (layers 0-${last})`,
      value: `0-${last},${last}`,
      prompt: 'Comma list of layer indices and ranges, run in order; e.g. duplicate the last layer. The original order is probed too, for comparison.',
      validateInput: (v) => {
        try {
          parsePlan(v, config.numLayers);
          return undefined;
        } catch (e) {
          return (e as Error).message;
        }
      },
    });
    if (!plan) return undefined;
    const text = await askSentence(context.globalState, readSettings().defaultSentences, `Layer Lens: probe ${path.basename(dir)} with plan ${plan}`);
    if (!text) return undefined;
    await rememberInput(context.globalState, text);
    const inputs = [parseInputLine(text)];
    const base = await probeAndShow(dir, inputs, 'input');
    if (!base) return undefined;
    return probeAndShow(dir, inputs, 'input', { plan, compareWith: 'previous' });
  });

  const openSample = guarded('openSample', async () => {
    const config = vscode.Uri.file(path.join(sample, 'config.json'));
    const doc = await vscode.workspace.openTextDocument(config);
    await vscode.window.showTextDocument(doc, { preview: false });
  });

  const compareRuns = guarded('compare', async () => {
    const panel = ProbePanel.current;
    const runs = panel?.hostState.runs ?? [];
    if (!panel || runs.length < 2) throw userError('Compare needs two probe runs in the panel: probe a model twice (another plan, model or sentence).');
    const items = [...runs].reverse().map((r) => ({ label: r.label, description: new Date(r.createdAt).toLocaleTimeString(), run: r }));
    const a = await vscode.window.showQuickPick(items, { title: 'Compare: first run' });
    if (!a) return undefined;
    const b = await vscode.window.showQuickPick(items.filter((i) => i.run.id !== a.run.id), { title: 'Compare: second run' });
    if (!b) return undefined;
    ProbePanel.show(panelHost, a.run, b.run.id);
    return undefined;
  });

  const refreshModelContext = async (): Promise<string[]> => {
    const dirs = await findWorkspaceModels();
    await vscode.commands.executeCommand('setContext', 'layer-lens.modelFolders', dirs);
    await vscode.commands.executeCommand('setContext', 'layer-lens.modelConfigs', dirs.map((d) => path.join(d, 'config.json')));
    return dirs;
  };
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  const scheduleRefresh = () => {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => void refreshModelContext().catch((e) => log.warn(`model folder scan failed: ${e}`)), 500);
  };
  const watcher = vscode.workspace.createFileSystemWatcher('**/config.json');

  context.subscriptions.push(
    log,
    service,
    codeLens,
    watcher,
    watcher.onDidCreate(scheduleRefresh),
    watcher.onDidChange(scheduleRefresh),
    watcher.onDidDelete(scheduleRefresh),
    vscode.workspace.onDidChangeWorkspaceFolders(scheduleRefresh),
    vscode.workspace.onDidGrantWorkspaceTrust(() => codeLens.refresh()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('layer-lens.fast')) ProbePanel.current?.pushFastMode();
    }),
    vscode.commands.registerCommand('layer-lens.probe', probeCommand),
    vscode.commands.registerCommand('layer-lens.probeSelection', probeSelection),
    vscode.commands.registerCommand('layer-lens.probeCorpus', probeCorpus),
    vscode.commands.registerCommand('layer-lens.probeWithPlan', probeWithPlan),
    vscode.commands.registerCommand('layer-lens.openSample', openSample),
    vscode.commands.registerCommand('layer-lens.compare', compareRuns),
    vscode.commands.registerCommand('layer-lens.showLog', () => log.show()),
    vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, state) => {
        const revived = ProbePanel.revive(panelHost, panel, state);
        // Keep following the fine-tuning runs the panel showed before the reload.
        const out = revived.finetuneResults?.outDir;
        if (out) finetuneResults.watch(out);
      },
    }),
    vscode.languages.registerHoverProvider(CONFIG_SELECTOR, new ConfigHoverProvider({ latestSummary: (dir) => latest.get(dir) })),
    vscode.languages.registerCodeLensProvider(CONFIG_SELECTOR, codeLens),
    { dispose: () => clearTimeout(refreshTimer) },
    { dispose: () => ProbePanel.current?.dispose() },
  );
  registerDeepenCommands(context, { log, resolveModel, previewSentences: () => readSettings().defaultSentences, maxCorpusSentences: () => readSettings().maxCorpusSentences });
  registerLensCommands(context, {
    log,
    resolveModel,
    askInputs: async (dir) => {
      const text = await askSentence(context.globalState, readSettings().defaultSentences, `Layer Lens: probe ${path.basename(dir)} with a tuned lens`);
      if (!text) return undefined;
      await rememberInput(context.globalState, text);
      return [parseInputLine(text)];
    },
    probe: (dir, inputs, options) => probeAndShow(dir, inputs, 'input', options),
    lastLens,
    report: (command, e) => reportError(log, command, e),
  });
  registerTorchProbe(context, {
    log,
    resolveModel,
    show: async (dir, report) => {
      await rememberProbed(dir);
      const run: PanelRun = { id: `run-${Date.now().toString(36)}-${++runCounter}`, label: runLabel(report, 'corpus', modelLabel(report)), source: 'corpus', createdAt: Date.now(), report };
      ProbePanel.show(panelHost, run);
    },
    report: (command, e) => reportError(log, command, e),
  });
  const finetuneResults = registerFinetune(context, {
    log,
    findModels: findWorkspaceModels,
    showResults: (data, reveal) => void ProbePanel.showFinetune(panelHost, data, reveal),
  });
  scheduleRefresh();

  const activationMs = performance.now() - t0;
  const bundleMs = modulesEvaluated - bundleStart;
  log.info(`activated in ${activationMs.toFixed(1)} ms (modules evaluated in ${bundleMs.toFixed(1)} ms); sample model: ${sample}`);

  return {
    activationMs,
    bundleMs,
    sampleModelDir: sample,
    probe: async (args, token) => {
      const dir = modelDirFor(args.model);
      const inputs = (args.sentences?.length ? args.sentences : readSettings().defaultSentences).map(parseInputLine);
      return probeAndShow(dir, inputs, 'api', { plan: args.plan, compareWith: args.compareWith, lensDir: args.lens, sublayers: args.sublayers, token });
    },
    panel: () => ProbePanel.current,
    refreshModelContext,
  };
}

export function deactivate(): void {
  // Disposables registered on the context (the service, which ends the worker) clean up.
}

function userError(message: string): Error {
  const e = new Error(message);
  e.name = 'UserError';
  return e;
}

function reportError(log: vscode.LogOutputChannel, command: string, e: unknown): undefined {
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
