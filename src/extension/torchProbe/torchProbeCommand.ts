/**
 * "Layer Lens: Probe Corpus with PyTorch…": the corpus probe run by python/probe_torch.py (HF
 * transformers on CUDA, MPS or the CPU; one process, torchrun or accelerate) as a VS Code task of
 * type `layer-lens-probe-torch`. When the task ends well, its report opens in the panel like any
 * other run; the report is read through the same schema check as `layer-lens merge` uses.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { launchCommand, Launcher } from '../../core/finetune/args';
import type { ProbeReport } from '../../core/probe/report';
import { askLauncher } from '../finetune/finetuneCommand';
import { resolvePython } from '../finetune/python';

export const TORCH_PROBE_TASK_TYPE = 'layer-lens-probe-torch';

/** The taskDefinitions schema contributed in package.json, as TypeScript. */
export interface TorchProbeTaskDefinition extends vscode.TaskDefinition {
  type: typeof TORCH_PROBE_TASK_TYPE;
  model: string;
  file: string;
  /** The report (JSON); with several processes also <out>.shard-i-of-N.json. */
  out: string;
  plan?: string;
  device?: 'auto' | 'cpu' | 'cuda' | 'mps';
  dtype?: 'fp32' | 'bf16';
  launcher?: Launcher;
  nprocPerNode?: number;
  python?: string;
}

export interface TorchProbeDeps {
  log: vscode.LogOutputChannel;
  resolveModel(arg: unknown): Promise<string | undefined>;
  /** Puts a finished report into the panel. */
  show(dir: string, report: ProbeReport): Promise<void>;
  report(command: string, e: unknown): undefined;
}

/** Programmatic form (tests): everything given, nothing asked. */
export interface TorchProbeArgs {
  model: string;
  file: string;
  out?: string;
  dtype?: 'fp32' | 'bf16';
  device?: 'auto' | 'cpu' | 'cuda' | 'mps';
  launcher?: Launcher;
  nprocPerNode?: number;
  python?: string;
}

export const UNTRUSTED_TORCH_PROBE =
  'Layer Lens: the PyTorch backend runs Python code and is disabled in an untrusted workspace. Trust this workspace (Manage Workspace Trust) to use it.';

function absolute(p: string, base: string | undefined): string {
  return path.isAbsolute(p) || !base ? p : path.join(base, p);
}

/** probe_torch.py's argv for a definition. */
export function torchProbeArgs(def: TorchProbeTaskDefinition, base?: string): string[] {
  return [
    '--model', absolute(def.model, base),
    '--file', absolute(def.file, base),
    '--out', absolute(def.out, base),
    ...(def.plan ? ['--plan', def.plan] : []),
    ...(def.device ? ['--device', def.device] : []),
    ...(def.dtype ? ['--dtype', def.dtype] : []),
  ];
}

export async function createTorchProbeTask(def: TorchProbeTaskDefinition, scope: vscode.WorkspaceFolder | vscode.TaskScope, extensionPath: string): Promise<vscode.Task> {
  const base = typeof scope === 'object' ? scope.uri.fsPath : undefined;
  const python = def.python ?? (await resolvePython(typeof scope === 'object' ? scope.uri : undefined)).python;
  const cmd = launchCommand({ python, script: path.join(extensionPath, 'python', 'probe_torch.py'), launcher: def.launcher, nprocPerNode: def.nprocPerNode }, torchProbeArgs(def, base));
  const task = new vscode.Task(def, scope, `probe ${path.basename(def.model)} with PyTorch`, 'Layer Lens', new vscode.ProcessExecution(cmd.command, cmd.args, { cwd: base }), []);
  task.presentationOptions = { reveal: vscode.TaskRevealKind.Always, panel: vscode.TaskPanelKind.Dedicated, clear: true };
  return task;
}

class TorchProbeTaskProvider implements vscode.TaskProvider {
  constructor(private readonly extensionPath: string) {}

  provideTasks(): vscode.Task[] {
    return [];
  }

  async resolveTask(task: vscode.Task): Promise<vscode.Task | undefined> {
    const def = task.definition as TorchProbeTaskDefinition;
    if (def.type !== TORCH_PROBE_TASK_TYPE || !vscode.workspace.isTrusted) return undefined;
    return createTorchProbeTask(def, task.scope ?? vscode.TaskScope.Workspace, this.extensionPath);
  }
}

export function registerTorchProbe(context: vscode.ExtensionContext, deps: TorchProbeDeps): void {
  context.subscriptions.push(
    vscode.tasks.registerTaskProvider(TORCH_PROBE_TASK_TYPE, new TorchProbeTaskProvider(context.extensionPath)),
    vscode.commands.registerCommand('layer-lens.probeCorpusTorch', async (arg?: unknown) => {
      try {
        return await probeCorpusTorch(context, deps, arg);
      } catch (e) {
        return deps.report('probeCorpusTorch', e);
      }
    }),
    // Runs started from tasks.json open their report too.
    vscode.tasks.onDidEndTaskProcess((e) => {
      const def = e.execution.task.definition as TorchProbeTaskDefinition;
      if (def.type !== TORCH_PROBE_TASK_TYPE || started.has(e.execution)) return;
      const scope = e.execution.task.scope;
      void finished(deps, def, typeof scope === 'object' ? scope.uri.fsPath : undefined, e.exitCode);
    }),
  );
}

/** Executions this module started (it opens their reports itself). */
const started = new WeakSet<vscode.TaskExecution>();

async function probeCorpusTorch(context: vscode.ExtensionContext, deps: TorchProbeDeps, arg: unknown): Promise<ProbeReport | undefined> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showErrorMessage(UNTRUSTED_TORCH_PROBE);
    return undefined;
  }
  const given = typeof arg === 'object' && arg !== null && !(arg instanceof vscode.Uri) && 'file' in arg && 'model' in arg ? (arg as TorchProbeArgs) : undefined;
  const model = await deps.resolveModel(given?.model ?? arg);
  if (!model) return undefined;
  const file = given?.file ?? (await pickCorpus());
  if (!file) return undefined;
  const launch = given ? { launcher: given.launcher, nprocPerNode: given.nprocPerNode } : await askLauncher();
  if (!launch) return undefined;
  const dtype = given ? given.dtype : await pickDtype();
  if (!given && !dtype) return undefined;
  const folder = vscode.workspace.workspaceFolders?.[0];
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const out = given?.out ?? path.join(folder?.uri.fsPath ?? path.dirname(model), '.layer-lens', 'reports', `${path.basename(model)}-${stamp}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const def: TorchProbeTaskDefinition = {
    type: TORCH_PROBE_TASK_TYPE, model, file, out, ...launch,
    ...(dtype ? { dtype } : {}), ...(given?.device ? { device: given.device } : {}), ...(given?.python ? { python: given.python } : {}),
  };
  const task = await createTorchProbeTask(def, folder ?? vscode.TaskScope.Workspace, context.extensionPath);
  const exec = task.execution as vscode.ProcessExecution;
  deps.log.info(`probe with PyTorch: ${[exec.process, ...exec.args].map((a) => JSON.stringify(a)).join(' ')}`);
  let execution: vscode.TaskExecution | undefined;
  const ended = new Promise<number | undefined>((resolve) => {
    const sub = vscode.tasks.onDidEndTaskProcess((e) => {
      if (e.execution !== execution) return;
      sub.dispose();
      resolve(e.exitCode);
    });
    context.subscriptions.push(sub);
  });
  execution = await vscode.tasks.executeTask(task);
  started.add(execution);
  return finished(deps, def, folder?.uri.fsPath, await ended);
}

async function finished(deps: TorchProbeDeps, def: TorchProbeTaskDefinition, base: string | undefined, exitCode: number | undefined): Promise<ProbeReport | undefined> {
  if (exitCode !== 0) {
    deps.log.warn(`probe_torch.py exited with ${exitCode ?? 'no code'}`);
    void vscode.window.showErrorMessage(`Layer Lens: the PyTorch probe exited with ${exitCode ?? 'no code'}; its terminal says why.`);
    return undefined;
  }
  const { readReportFile } = await import('../../core/probe/mergeReports');
  const { report } = readReportFile(absolute(def.out, base));
  deps.log.info(`probe with PyTorch: ${report.corpus?.probed ?? report.sentences.length} sentences, ${report.timing.tokens} tokens, ${report.backend?.device} ${report.backend?.dtype} on ${report.backend?.processes} process(es) -> ${def.out}`);
  await deps.show(absolute(def.model, base), report);
  return report;
}

async function pickCorpus(): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({
    title: 'Layer Lens: a corpus file for the PyTorch backend, one sentence per line',
    canSelectMany: false,
    filters: { 'Text files': ['txt'], 'All files': ['*'] },
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
  });
  return picked?.[0]?.fsPath;
}

async function pickDtype(): Promise<'fp32' | 'bf16' | undefined> {
  const pick = await vscode.window.showQuickPick(
    [
      { label: 'fp32', description: 'the same figures as the ORT engine (to float error)', dtype: 'fp32' as const },
      { label: 'bf16', description: 'faster on GPUs with bf16; figures differ from fp32 by bf16 rounding', dtype: 'bf16' as const },
    ],
    { title: 'Layer Lens: precision of the PyTorch probe' },
  );
  return pick?.dtype;
}
