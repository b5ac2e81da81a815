/**
 * Tuned-lens training as a VS Code task of type `layer-lens-tune-lens`: a ProcessExecution of
 * (python, argv) running the extension's python/tune_lens.py, like fine-tuning, so paths stay
 * literal. The same definition can live in tasks.json; resolveTask fills in the interpreter.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { resolvePython } from '../finetune/python';

export const TUNE_LENS_TASK_TYPE = 'layer-lens-tune-lens';

/** The taskDefinitions schema contributed in package.json, as TypeScript. */
export interface TuneLensTaskDefinition extends vscode.TaskDefinition {
  type: typeof TUNE_LENS_TASK_TYPE;
  model: string;
  /** Corpus, one sentence per line; every 5th sentence is held out. */
  file: string;
  /** Lens folder: empty, new, or a lens already; never inside the model folder. */
  out: string;
  steps?: number;
  lr?: number;
  python?: string;
}

function absolute(p: string, base: string | undefined): string {
  return path.isAbsolute(p) || !base ? p : path.join(base, p);
}

/** tune_lens.py's argv for a definition (relative paths are relative to the workspace folder). */
export function tuneLensArgs(def: TuneLensTaskDefinition, script: string, base?: string): string[] {
  return [
    script,
    '--model', absolute(def.model, base),
    '--file', absolute(def.file, base),
    '--out', absolute(def.out, base),
    ...(def.steps !== undefined ? ['--steps', String(def.steps)] : []),
    ...(def.lr !== undefined ? ['--lr', String(def.lr)] : []),
  ];
}

export async function createTuneLensTask(def: TuneLensTaskDefinition, scope: vscode.WorkspaceFolder | vscode.TaskScope, extensionPath: string): Promise<vscode.Task> {
  const base = typeof scope === 'object' ? scope.uri.fsPath : undefined;
  const python = def.python ?? (await resolvePython(typeof scope === 'object' ? scope.uri : undefined)).python;
  const args = tuneLensArgs(def, path.join(extensionPath, 'python', 'tune_lens.py'), base);
  const task = new vscode.Task(def, scope, `tune lens ${path.basename(def.model)}`, 'Layer Lens', new vscode.ProcessExecution(python, args, { cwd: base }), []);
  task.presentationOptions = { reveal: vscode.TaskRevealKind.Always, panel: vscode.TaskPanelKind.Dedicated, clear: true };
  return task;
}

export class TuneLensTaskProvider implements vscode.TaskProvider {
  constructor(private readonly extensionPath: string) {}

  provideTasks(): vscode.Task[] {
    return []; // runs are created by the command or written in tasks.json
  }

  async resolveTask(task: vscode.Task): Promise<vscode.Task | undefined> {
    const def = task.definition as TuneLensTaskDefinition;
    if (def.type !== TUNE_LENS_TASK_TYPE || !vscode.workspace.isTrusted) return undefined;
    return createTuneLensTask(def, task.scope ?? vscode.TaskScope.Workspace, this.extensionPath);
  }
}
