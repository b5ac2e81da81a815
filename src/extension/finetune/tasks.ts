/**
 * Fine-tuning runs as VS Code tasks of type `layer-lens-finetune`: a ProcessExecution of
 * (python, argv), never a shell string, so paths with quotes, `$()` or a leading "-" stay literal.
 * The same definition can live in tasks.json; resolveTask fills in the interpreter and script.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { buildFinetuneCommand, FinetuneSpec, Launcher } from '../../core/finetune/args';
import { readSettings } from '../settings';
import { resolvePython } from './python';

export const FINETUNE_TASK_TYPE = 'layer-lens-finetune';

/** The taskDefinitions schema contributed in package.json, as TypeScript: a run's spec plus how to launch it. */
export interface FinetuneTaskDefinition extends vscode.TaskDefinition, Omit<FinetuneSpec, 'threads'> {
  type: typeof FINETUNE_TASK_TYPE;
  launcher?: Launcher;
  nprocPerNode?: number;
  /** Overrides the interpreter choice for this task. */
  python?: string;
}

/** Relative paths in tasks.json are relative to the workspace folder. */
function absolute(p: string, base: string | undefined): string {
  return path.isAbsolute(p) || !base ? p : path.join(base, p);
}

export function specFromDefinition(def: FinetuneTaskDefinition, base?: string): FinetuneSpec {
  return {
    models: (def.models ?? []).map((m) => absolute(m, base)),
    task: def.task,
    data: def.data !== undefined ? absolute(def.data, base) : undefined,
    evalData: def.evalData !== undefined ? absolute(def.evalData, base) : undefined,
    out: absolute(def.out, base),
    lr: def.lr,
    batchSize: def.batchSize,
    epochs: def.epochs,
    maxLength: def.maxLength,
    seed: def.seed,
    seeds: def.seeds ?? readSettings().finetuneSeeds,
    evalSteps: def.evalSteps,
    maxSteps: def.maxSteps,
    backend: def.backend,
  };
}

export async function createFinetuneTask(
  def: FinetuneTaskDefinition,
  scope: vscode.WorkspaceFolder | vscode.TaskScope,
  extensionPath: string,
): Promise<vscode.Task> {
  const base = typeof scope === 'object' ? scope.uri.fsPath : undefined;
  const python = def.python ?? (await resolvePython(typeof scope === 'object' ? scope.uri : undefined)).python;
  const spec = specFromDefinition(def, base);
  const cmd = buildFinetuneCommand(spec, {
    python,
    script: path.join(extensionPath, 'python', 'finetune.py'),
    launcher: def.launcher,
    nprocPerNode: def.nprocPerNode,
  });
  const name = `fine-tune ${spec.models.map((m) => path.basename(m)).join(' vs ')}`;
  const task = new vscode.Task(def, scope, name, 'Layer Lens', new vscode.ProcessExecution(cmd.command, cmd.args, { cwd: base }), []);
  task.presentationOptions = { reveal: vscode.TaskRevealKind.Always, panel: vscode.TaskPanelKind.Dedicated, clear: true };
  return task;
}

export class FinetuneTaskProvider implements vscode.TaskProvider {
  constructor(private readonly extensionPath: string) {}

  provideTasks(): vscode.Task[] {
    return []; // runs are created by the command or written in tasks.json
  }

  async resolveTask(task: vscode.Task): Promise<vscode.Task | undefined> {
    const def = task.definition as FinetuneTaskDefinition;
    if (def.type !== FINETUNE_TASK_TYPE) return undefined;
    if (!vscode.workspace.isTrusted) return undefined;
    return createFinetuneTask(def, task.scope ?? vscode.TaskScope.Workspace, this.extensionPath);
  }
}
