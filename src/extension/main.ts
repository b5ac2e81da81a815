/**
 * Extension entry. Activation registers commands, the panel serializer, and the config.json hover
 * and CodeLens; it loads nothing heavy. The probe engine (tokenizer, graph builder, worker) is
 * imported on the first probe, and onnxruntime only ever loads inside the worker thread.
 */
import { bundleStart } from './startTime';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ProbeReport } from '../core/probe/report';
import { PANEL_VIEW_TYPE } from '../shared/protocol';
import { COMMANDS, ProbeCommandArgs, probeWithArgs } from './commands';
import { CONFIG_SELECTOR, ConfigCodeLensProvider, ConfigHoverProvider } from './configFeatures';
import { Ctx, reportError } from './ctx';
import { askSentence, parseInputLine, rememberInput } from './inputs';
import { findWorkspaceModels, referenceModelDir, sampleModelDir } from './models';
import { ProbePanel } from './panel';
import { ProbeService } from './probeService';
import { readSettings } from './settings';
import { registerDeepenCommands } from './deepen/deepenCommand';
import { registerFinetune } from './finetune/finetuneCommand';
import type { FollowStats } from './finetune/resultsView';
import { registerLensCommands } from './lens/lensCommands';
import { registerTorchProbe } from './torchProbe/torchProbeCommand';

export type { ProbeCommandArgs } from './commands';

/** What activate() returns: used by the end-to-end tests and by other Layer Lens features. */
export interface LayerLensApi {
  activationMs: number;
  bundleMs: number;
  probe(args: ProbeCommandArgs, token?: vscode.CancellationToken): Promise<ProbeReport | undefined>;
  panel(): ProbePanel | undefined;
  sampleModelDir: string;
  refreshModelContext(): Promise<string[]>;
  /** How the Fine-tune view learnt of changes (watcher events, polls, reads) and the notices it gave. */
  finetuneStats(): FollowStats;
}

/** When the bundle's modules (everything main.ts imports) finished evaluating. */
const modulesEvaluated = performance.now();

export function activate(context: vscode.ExtensionContext): LayerLensApi {
  const t0 = performance.now();
  const log = vscode.window.createOutputChannel('Layer Lens', { log: true });
  const service = new ProbeService(log, referenceModelDir(context.extensionPath));
  const ctx = new Ctx(context, log, service, sampleModelDir(context.extensionPath));
  const codeLens = new ConfigCodeLensProvider();
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
  const resolveModel = (arg: unknown) => ctx.resolveModel(arg);

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
    ...Object.entries(COMMANDS).map(([name, make]) => vscode.commands.registerCommand(`layer-lens.${name}`, guarded(name, make(ctx)))),
    vscode.commands.registerCommand('layer-lens.showLog', () => log.show()),
    vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, state) => {
        const revived = ProbePanel.revive(ctx.panelHost, panel, state);
        // Keep following the fine-tuning runs the panel showed before the reload.
        const out = revived.finetuneResults?.outDir;
        if (out) finetuneResults.watch(out);
      },
    }),
    vscode.languages.registerHoverProvider(CONFIG_SELECTOR, new ConfigHoverProvider({ latestSummary: (dir) => ctx.latest.get(dir) })),
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
    probe: (dir, inputs, options) => ctx.probeAndShow(dir, inputs, 'input', options),
    lastLens: () => ctx.lastLens(),
    report: (command, e) => reportError(log, command, e),
  });
  registerTorchProbe(context, {
    log,
    resolveModel,
    show: (dir, report) => ctx.showReport(dir, report),
    report: (command, e) => reportError(log, command, e),
  });
  const finetuneResults = registerFinetune(context, {
    log,
    findModels: findWorkspaceModels,
    showResults: (data, reveal) => void ProbePanel.showFinetune(ctx.panelHost, data, reveal),
  });
  scheduleRefresh();

  const activationMs = performance.now() - t0;
  const bundleMs = modulesEvaluated - bundleStart;
  log.info(`activated in ${activationMs.toFixed(1)} ms (modules evaluated in ${bundleMs.toFixed(1)} ms); sample model: ${ctx.sample}`);

  return {
    activationMs,
    bundleMs,
    sampleModelDir: ctx.sample,
    probe: (args, token) => probeWithArgs(ctx, args, token),
    panel: () => ProbePanel.current,
    refreshModelContext,
    finetuneStats: () => finetuneResults.stats,
  };
}

export function deactivate(): void {
  // Disposables registered on the context (the service, which ends the worker) clean up.
}
