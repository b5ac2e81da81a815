/**
 * The probe commands, each a factory over the one Ctx (registered by name in main.ts). Deepen,
 * fine-tune, the tuned lens and the PyTorch probe register their own, in their folders.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Ctx, userError } from './ctx';
import { askSentence, parseCorpus, parseInputLine, rememberInput, selectionInputs } from './inputs';
import { modelDirFor } from './models';
import { ProbePanel } from './panel';
import { readSettings } from './settings';

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

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Command = (...args: any[]) => Promise<unknown>;

/** `layer-lens.<name>` → the factory of its handler. */
export const COMMANDS: Record<string, (ctx: Ctx) => Command> = {
  probe: probeCommand,
  probeSelection,
  probeCorpus,
  probeWithPlan,
  openSample,
  compare: compareRuns,
};

/** The programmatic form of "Probe Layers…" (the API, other commands, the tests). */
export async function probeWithArgs(ctx: Ctx, args: ProbeCommandArgs, token?: vscode.CancellationToken) {
  const dir = modelDirFor(args.model);
  const inputs = (args.sentences?.length ? args.sentences : readSettings().defaultSentences).map(parseInputLine);
  return ctx.probeAndShow(dir, inputs, 'api', { plan: args.plan, compareWith: args.compareWith, lensDir: args.lens, sublayers: args.sublayers, token });
}

function probeCommand(ctx: Ctx): Command {
  return async (arg?: vscode.Uri | ProbeCommandArgs | string) => {
    if (arg && typeof arg === 'object' && !(arg instanceof vscode.Uri) && 'model' in arg) return probeWithArgs(ctx, arg);
    const dir = await ctx.resolveModel(arg);
    if (!dir) return undefined;
    const text = await askSentence(ctx.context.globalState, readSettings().defaultSentences, `Layer Lens: probe ${path.basename(dir)}`);
    if (!text) return undefined;
    await rememberInput(ctx.context.globalState, text);
    return ctx.probeAndShow(dir, [parseInputLine(text)], 'input');
  };
}

function probeSelection(ctx: Ctx): Command {
  return async () => {
    const editor = vscode.window.activeTextEditor;
    if (!editor) throw userError('Open a text editor and select the sentence(s) to probe (one per line).');
    const inputs = selectionInputs(editor);
    if (inputs.length === 0) throw userError('The selection is empty: select one or more sentences (one per line).');
    const dir = await ctx.resolveModel(undefined);
    if (!dir) return undefined;
    if (inputs.length === 1) await rememberInput(ctx.context.globalState, inputs[0].text);
    return ctx.probeAndShow(dir, inputs.slice(0, readSettings().maxCorpusSentences), 'selection');
  };
}

function probeCorpus(ctx: Ctx): Command {
  return async (arg?: vscode.Uri) => {
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
    const dir = await ctx.resolveModel(undefined);
    if (!dir) return undefined;
    return ctx.probeAndShow(dir, inputs, 'corpus');
  };
}

function probeWithPlan(ctx: Ctx): Command {
  return async (arg?: vscode.Uri) => {
    const dir = await ctx.resolveModel(arg);
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
    const text = await askSentence(ctx.context.globalState, readSettings().defaultSentences, `Layer Lens: probe ${path.basename(dir)} with plan ${plan}`);
    if (!text) return undefined;
    await rememberInput(ctx.context.globalState, text);
    const inputs = [parseInputLine(text)];
    const base = await ctx.probeAndShow(dir, inputs, 'input');
    if (!base) return undefined;
    return ctx.probeAndShow(dir, inputs, 'input', { plan, compareWith: 'previous' });
  };
}

function openSample(ctx: Ctx): Command {
  return async () => {
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(path.join(ctx.sample, 'config.json')));
    await vscode.window.showTextDocument(doc, { preview: false });
  };
}

function compareRuns(ctx: Ctx): Command {
  return async () => {
    const panel = ProbePanel.current;
    const runs = panel?.hostState.runs ?? [];
    if (!panel || runs.length < 2) throw userError('Compare needs two probe runs in the panel: probe a model twice (another plan, model or sentence).');
    const items = [...runs].reverse().map((r) => ({ label: r.label, description: new Date(r.createdAt).toLocaleTimeString(), run: r }));
    const a = await vscode.window.showQuickPick(items, { title: 'Compare: run A' });
    if (!a) return undefined;
    const b = await vscode.window.showQuickPick(items.filter((i) => i.run.id !== a.run.id), { title: 'Compare: baseline B (Δ = A − B)' });
    if (!b) return undefined;
    ProbePanel.show(ctx.panelHost, a.run, b.run.id);
    return undefined;
  };
}
