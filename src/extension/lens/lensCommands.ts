/**
 * The tuned lens in the editor: "Train Tuned Lens…" runs python/tune_lens.py as a task and, when it
 * succeeds, offers to probe with the result; "Probe with Tuned Lens…" probes the same sentences
 * through the raw head and through the lens, and opens the two side by side in Compare.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ProbeInput } from '../../core/probe/engine';
import type { ProbeReport } from '../../core/probe/report';
import { createTuneLensTask, TUNE_LENS_TASK_TYPE, TuneLensTaskDefinition, TuneLensTaskProvider } from './tuneLensTask';

export interface LensDeps {
  log: vscode.LogOutputChannel;
  resolveModel(arg: unknown): Promise<string | undefined>;
  /** Asks for the sentence(s) to probe. */
  askInputs(dir: string): Promise<ProbeInput[] | undefined>;
  probe(dir: string, inputs: ProbeInput[], options: { lensDir?: string; compareWith?: string }): Promise<ProbeReport | undefined>;
  lastLens(): string | undefined;
  /** Turns an error into a message (the commands' shared handler). */
  report(command: string, e: unknown): undefined;
}

/** Programmatic forms (tests; the "Probe with It" button after training). */
export interface ProbeWithLensArgs {
  model: string;
  lens: string;
  sentences?: string[];
}
export interface TuneLensArgs {
  model: string;
  file: string;
  out?: string;
  steps?: number;
  /** Interpreter for this run (default: as fine-tuning chooses). */
  python?: string;
}

export const UNTRUSTED_TUNE_LENS =
  'Layer Lens: training a tuned lens runs Python code and is disabled in an untrusted workspace. Trust this workspace (Manage Workspace Trust) to use it.';
const DEFAULT_STEPS = 250;

export function registerLensCommands(context: vscode.ExtensionContext, deps: LensDeps): void {
  context.subscriptions.push(
    vscode.tasks.registerTaskProvider(TUNE_LENS_TASK_TYPE, new TuneLensTaskProvider(context.extensionPath)),
    vscode.commands.registerCommand('layer-lens.probeWithTunedLens', async (arg?: unknown) => {
      try {
        return await probeWithLens(deps, arg);
      } catch (e) {
        return deps.report('probeWithTunedLens', e);
      }
    }),
    vscode.commands.registerCommand('layer-lens.tuneLens', async (arg?: unknown) => {
      try {
        return await tuneLens(context, deps, arg);
      } catch (e) {
        return deps.report('tuneLens', e);
      }
    }),
  );
}

async function probeWithLens(deps: LensDeps, arg: unknown): Promise<ProbeReport | undefined> {
  const given = isArgs<ProbeWithLensArgs>(arg, 'lens') ? arg : undefined;
  const dir = await deps.resolveModel(given?.model ?? arg);
  if (!dir) return undefined;
  const lensDir = given ? checkLensFolder(given.lens) : await pickLensFolder(dir, deps.lastLens());
  if (!lensDir) return undefined;
  const inputs = given?.sentences?.length ? given.sentences.map((text) => ({ text })) : await deps.askInputs(dir);
  if (!inputs?.length) return undefined;
  // Raw first, then the lens compared with it: Compare shows A = tuned, B = raw.
  const raw = await deps.probe(dir, inputs, {});
  if (!raw) return undefined;
  return deps.probe(dir, inputs, { lensDir, compareWith: 'previous' });
}

async function tuneLens(context: vscode.ExtensionContext, deps: LensDeps, arg: unknown): Promise<vscode.TaskExecution | undefined> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showErrorMessage(UNTRUSTED_TUNE_LENS);
    return undefined;
  }
  const given = isArgs<TuneLensArgs>(arg, 'file') ? arg : undefined;
  const model = await deps.resolveModel(given?.model ?? arg);
  if (!model) return undefined;
  const file = given?.file ?? (await pickCorpus());
  if (!file) return undefined;
  let steps = given?.steps;
  if (steps === undefined) {
    const text = await vscode.window.showInputBox({
      title: `Layer Lens: tuned lens for ${path.basename(model)}: optimiser steps`,
      value: String(DEFAULT_STEPS),
      prompt: 'SGD with Nesterov momentum, 16 sentences a step; every 5th sentence of the corpus is held out for the before/after figures.',
      validateInput: (v) => (/^[1-9]\d{0,6}$/.test(v.trim()) ? undefined : 'a positive whole number'),
    });
    if (!text) return undefined;
    steps = Number(text.trim());
  }
  const folder = vscode.workspace.workspaceFolders?.[0];
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const out = given?.out ?? path.join(folder?.uri.fsPath ?? path.dirname(model), '.layer-lens', 'lenses', `${path.basename(model)}-${stamp}`);
  const def: TuneLensTaskDefinition = { type: TUNE_LENS_TASK_TYPE, model, file, out, steps, ...(given?.python ? { python: given.python } : {}) };
  const task = await createTuneLensTask(def, folder ?? vscode.TaskScope.Workspace, context.extensionPath);
  const exec = task.execution as vscode.ProcessExecution;
  deps.log.info(`tune-lens: ${[exec.process, ...exec.args].map((a) => JSON.stringify(a)).join(' ')}`);
  const execution = await vscode.tasks.executeTask(task);
  const ended = vscode.tasks.onDidEndTaskProcess((e) => {
    if (e.execution !== execution) return;
    ended.dispose();
    if (e.exitCode === 0) {
      deps.log.info(`tune-lens: wrote ${out}`);
      void vscode.window.showInformationMessage(`Layer Lens: tuned lens written to ${out}.`, 'Probe with It').then((choice) => {
        if (choice) void vscode.commands.executeCommand('layer-lens.probeWithTunedLens', { model, lens: out } satisfies ProbeWithLensArgs);
      });
    } else {
      deps.log.warn(`tune-lens exited with ${e.exitCode ?? 'no code'}`);
      void vscode.window.showErrorMessage(`Layer Lens: tuned-lens training exited with ${e.exitCode ?? 'no code'}; its terminal says why.`);
    }
  });
  context.subscriptions.push(ended);
  return execution;
}

/** A folder the user picks that holds a tuned lens (lens.json); the engine checks it fits the model. */
export async function pickLensFolder(modelDir: string, last: string | undefined): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({
    title: `Layer Lens: a tuned lens for ${path.basename(modelDir)} (a folder made by "Train Tuned Lens…")`,
    canSelectFiles: false,
    canSelectFolders: true,
    canSelectMany: false,
    defaultUri: last ? vscode.Uri.file(last) : vscode.workspace.workspaceFolders?.[0]?.uri,
  });
  return picked?.[0] ? checkLensFolder(picked[0].fsPath) : undefined;
}

function checkLensFolder(dir: string): string {
  if (!fs.existsSync(path.join(dir, 'lens.json'))) {
    const e = new Error(`${dir} is not a tuned lens (no lens.json): make one with "Layer Lens: Train Tuned Lens…" or layer-lens tune-lens`);
    e.name = 'UserError';
    throw e;
  }
  return dir;
}

async function pickCorpus(): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({
    title: 'Layer Lens: a training corpus for the tuned lens, one sentence per line',
    canSelectMany: false,
    filters: { 'Text files': ['txt'], 'All files': ['*'] },
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
  });
  return picked?.[0]?.fsPath;
}

function isArgs<T extends object>(arg: unknown, key: keyof T): arg is T {
  return typeof arg === 'object' && arg !== null && !(arg instanceof vscode.Uri) && key in arg && 'model' in arg;
}
