/**
 * "Layer Lens: Fine-tune…": pick one or more models (usually a baseline and its deepened version),
 * a task (GLUE name or a local CSV/TSV/JSONL), hyper-parameters and a launcher; the run is a
 * `layer-lens-finetune` task in the integrated terminal, and the comparison table follows it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { expectedRuns, FINETUNE_DEFAULTS } from '../../core/finetune/args';
import { readSettings } from '../settings';
import { readJsonObject, readUserText } from '../../core/files';
import { createFinetuneTask, FINETUNE_TASK_TYPE, FinetuneTaskDefinition, FinetuneTaskProvider } from './tasks';
import type { FinetuneResultsData } from '../../shared/finetune';
import { FinetuneResultsWatcher } from './resultsView';

export interface FinetuneDeps {
  log: vscode.LogOutputChannel;
  /** Model folders in the workspace (for the picker). */
  findModels(): Promise<string[]>;
  /** Puts a run folder's comparison into the panel (`reveal`: open / focus it). */
  showResults(data: FinetuneResultsData, reveal: boolean): void;
}

/** Programmatic form (tests, the deepen command's "Fine-tune Both…"). */
export interface FinetuneCommandArgs {
  models: string[];
  task?: string;
  data?: string;
  out?: string;
  maxSteps?: number;
  /** Seeds per model (default: the layer-lens.finetuneSeeds setting). */
  seeds?: number;
  /** Also evaluate every N steps. */
  evalSteps?: number;
  /** Interpreter (default: as createFinetuneTask chooses). */
  python?: string;
  /** Only for tests: the built-in torch backend. */
  backend?: 'auto' | 'transformers' | 'torch';
  /** Skip the prompts that have defaults (hyper-parameters, launcher). */
  useDefaults?: boolean;
}

export const UNTRUSTED_FINETUNE =
  'Layer Lens: fine-tuning runs Python code and is disabled in an untrusted workspace. Trust this workspace (Manage Workspace Trust) to use it.';

export function registerFinetune(context: vscode.ExtensionContext, deps: FinetuneDeps): FinetuneResultsWatcher {
  const view = new FinetuneResultsWatcher(deps.log, { show: (data, reveal) => deps.showResults(data, reveal) });
  context.subscriptions.push(
    view,
    vscode.commands.registerCommand('layer-lens.showFinetuneResults', async (arg?: unknown) => {
      try {
        const out = arg instanceof vscode.Uri ? arg.fsPath : typeof arg === 'string' ? arg : await pickRunFolder();
        return out ? view.show(out) : undefined;
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        deps.log.error(`showFinetuneResults: ${err.stack ?? err.message}`);
        void vscode.window.showErrorMessage(`Layer Lens: ${err.message}`);
        return undefined;
      }
    }),
    vscode.tasks.registerTaskProvider(FINETUNE_TASK_TYPE, new FinetuneTaskProvider(context.extensionPath)),
    vscode.commands.registerCommand('layer-lens.finetune', async (arg?: unknown) => {
      try {
        return await finetune(context, deps, view, arg);
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        deps.log.error(`finetune: ${err.stack ?? err.message}`);
        void vscode.window.showErrorMessage(`Layer Lens: ${err.message}`);
        return undefined;
      }
    }),
    // Runs started from tasks.json get the comparison view too, followed like our own.
    vscode.tasks.onDidStartTask((e) => {
      const def = e.execution.task.definition as FinetuneTaskDefinition;
      if (def.type === FINETUNE_TASK_TYPE && typeof def.out === 'string') {
        const scope = e.execution.task.scope;
        const base = typeof scope === 'object' ? scope.uri.fsPath : undefined;
        const out = path.isAbsolute(def.out) || !base ? def.out : path.join(base, def.out);
        if (view.isFollowing(out)) view.attach(out, e.execution);
        else view.follow(out, { expected: expectedOf(def), execution: e.execution });
      }
    }),
  );
  return view;
}

/** Runs the task will make: every model once per seed. */
function expectedOf(def: FinetuneTaskDefinition): number {
  return expectedRuns({ models: def.models ?? [], seeds: def.seeds ?? readSettings().finetuneSeeds });
}

async function finetune(context: vscode.ExtensionContext, deps: FinetuneDeps, view: FinetuneResultsWatcher, arg: unknown): Promise<vscode.TaskExecution | undefined> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showErrorMessage(UNTRUSTED_FINETUNE);
    return undefined;
  }
  const given = typeof arg === 'object' && arg !== null && Array.isArray((arg as FinetuneCommandArgs).models) ? (arg as FinetuneCommandArgs) : undefined;
  const models = given?.models.length ? given.models : await pickModels(deps, arg);
  if (!models?.length) return undefined;

  let task = given?.task;
  let data = given?.data;
  if (!task && !data) {
    const src = await pickTaskSource();
    if (!src) return undefined;
    ({ task, data } = src);
  }

  const folder = vscode.workspace.workspaceFolders?.[0];
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const out = given?.out ?? path.join(folder?.uri.fsPath ?? path.dirname(models[0]), '.layer-lens', 'runs', stamp);

  const def: FinetuneTaskDefinition = {
    type: FINETUNE_TASK_TYPE, models, out, ...(task ? { task } : { data }),
    ...(given?.maxSteps ? { maxSteps: given.maxSteps } : {}),
    ...(given?.seeds ? { seeds: given.seeds } : {}),
    ...(given?.evalSteps ? { evalSteps: given.evalSteps } : {}),
    ...(given?.python ? { python: given.python } : {}),
    ...(given?.backend ? { backend: given.backend } : {}),
  };
  if (!given?.useDefaults) {
    const hp = await askHyperParameters();
    if (!hp) return undefined;
    Object.assign(def, hp);
    const launch = await askLauncher();
    if (!launch) return undefined;
    Object.assign(def, launch);
  }
  if (def.seeds === undefined) def.seeds = readSettings().finetuneSeeds;
  fs.mkdirSync(out, { recursive: true });
  const t = await createFinetuneTask(def, folder ?? vscode.TaskScope.Workspace, context.extensionPath);
  const exec = t.execution as vscode.ProcessExecution;
  deps.log.info(`fine-tune: ${[exec.process, ...exec.args].map((a) => JSON.stringify(a)).join(' ')}`);
  // Follow before the task starts: its first results file can be written before executeTask returns.
  view.follow(out, { expected: expectedOf(def) });
  const execution = await vscode.tasks.executeTask(t);
  view.attach(out, execution);
  return execution;
}

/** The run folder (--out) of a results file: <out>/<model>/seed-<s>/results.json, or an older <out>/<model>/results.json. */
export function runFolderOf(file: string): string {
  const dir = path.dirname(file);
  return /^seed-\d+$/.test(path.basename(dir)) ? path.dirname(path.dirname(dir)) : path.dirname(dir);
}

/** Run folders in the workspace: those holding results files of ours. */
async function pickRunFolder(): Promise<string | undefined> {
  const files = await vscode.workspace.findFiles('**/results.json', '**/node_modules/**', 2000);
  const dirs = [...new Set(files.map((f) => runFolderOf(f.fsPath)))].filter((d) => {
    try {
      return files.some((f) => runFolderOf(f.fsPath) === d && readUserText(f.fsPath, 'results.json').includes('"layer-lens-finetune/'));
    } catch {
      return false;
    }
  });
  dirs.sort((a, b) => b.localeCompare(a)); // run folders are time-stamped: newest first
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const items = dirs.map((d) => ({ label: path.basename(d), description: root ? path.relative(root, d) : d, dir: d }));
  const browse = { label: '$(folder) Browse…', description: 'Choose a run folder (--out) on disk', dir: '' };
  const picked = await vscode.window.showQuickPick([...items, browse], { title: 'Layer Lens: fine-tuning run folder to compare', matchOnDescription: true });
  if (!picked) return undefined;
  if (picked.dir) return picked.dir;
  const uris = await vscode.window.showOpenDialog({ canSelectFiles: false, canSelectFolders: true, canSelectMany: false, title: 'Run folder (holds <model>/seed-<seed>/results.json)' });
  return uris?.[0]?.fsPath;
}

async function pickModels(deps: FinetuneDeps, arg: unknown): Promise<string[] | undefined> {
  const preset = arg instanceof vscode.Uri ? [path.dirname(arg.fsPath)] : [];
  const dirs = [...new Set([...preset, ...(await deps.findModels())])];
  const items = dirs.map((dir) => {
    let detail = dir;
    try {
      // Through readJsonObject: a FIFO or a device as config.json is refused, never read on this thread.
      const cfg = readJsonObject(path.join(dir, 'config.json'), 'config.json') as { layer_lens?: { source?: string; plan?: string } };
      if (cfg.layer_lens?.source) detail = `deepened from ${path.basename(cfg.layer_lens.source)} with plan ${cfg.layer_lens.plan} · ${dir}`;
    } catch {
      // listed anyway
    }
    return { label: path.basename(dir), detail, dir, picked: preset.includes(dir) };
  });
  const more = { label: '$(folder) Browse…', detail: 'Choose model folders on disk', dir: '', picked: false };
  const picked = await vscode.window.showQuickPick([...items, more], {
    title: 'Layer Lens: models to fine-tune (e.g. a baseline and its deepened version)',
    canPickMany: true,
    matchOnDetail: true,
  });
  if (!picked) return undefined;
  const chosen = picked.filter((p) => p.dir).map((p) => p.dir);
  if (picked.some((p) => !p.dir)) {
    const uris = await vscode.window.showOpenDialog({ canSelectFiles: false, canSelectFolders: true, canSelectMany: true, title: 'Model folders' });
    chosen.push(...(uris ?? []).map((u) => u.fsPath));
  }
  return chosen;
}

async function pickTaskSource(): Promise<{ task?: string; data?: string } | undefined> {
  const kind = await vscode.window.showQuickPick(
    [
      { label: 'Local file…', description: 'CSV, TSV or JSONL with text (or text + text_pair) and label columns', source: 'data' as const },
      { label: 'GLUE task…', description: 'downloaded through the datasets package (needs it installed and network)', source: 'glue' as const },
    ],
    { title: 'Layer Lens: fine-tuning task' },
  );
  if (!kind) return undefined;
  if (kind.source === 'glue') {
    const task = await vscode.window.showQuickPick(['sst2', 'cola', 'mrpc', 'qqp', 'mnli', 'qnli', 'rte', 'wnli'], { title: 'GLUE task' });
    return task ? { task } : undefined;
  }
  const f = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'Data files': ['csv', 'tsv', 'jsonl'] }, title: 'Training data (a dev/validation file next to it is used for evaluation)' });
  return f ? { data: f[0].fsPath } : undefined;
}

async function askHyperParameters(): Promise<Partial<FinetuneTaskDefinition> | undefined> {
  const d = { ...FINETUNE_DEFAULTS, seeds: readSettings().finetuneSeeds };
  const choice = await vscode.window.showQuickPick(
    [
      { label: 'Usual BERT defaults', description: `lr ${d.lr}, batch ${d.batchSize}, ${d.epochs} epochs, max length ${d.maxLength}, seeds ${d.seed}…${d.seed + d.seeds - 1} (${d.seeds})`, edit: false },
      { label: 'Edit…', description: 'lr, batch size, epochs, max length, seed, seeds, eval steps, max steps', edit: true },
    ],
    { title: 'Layer Lens: hyper-parameters' },
  );
  if (!choice) return undefined;
  if (!choice.edit) return {};
  const text = await vscode.window.showInputBox({
    title: 'Hyper-parameters',
    value: `lr=${d.lr} batchSize=${d.batchSize} epochs=${d.epochs} maxLength=${d.maxLength} seed=${d.seed} seeds=${d.seeds} evalSteps=0 maxSteps=0`,
    prompt: 'key=value pairs separated by spaces',
    validateInput: (v) => {
      try {
        parseHyperParameters(v);
        return undefined;
      } catch (e) {
        return (e as Error).message;
      }
    },
  });
  return text === undefined ? undefined : parseHyperParameters(text);
}

export function parseHyperParameters(text: string): Partial<FinetuneTaskDefinition> {
  const out: Record<string, number> = {};
  const keys = ['lr', 'batchSize', 'epochs', 'maxLength', 'seed', 'seeds', 'evalSteps', 'maxSteps'];
  for (const part of text.trim().split(/\s+/).filter(Boolean)) {
    const m = /^(\w+)=(\S+)$/.exec(part);
    if (!m || !keys.includes(m[1])) throw new Error(`"${part}": expected one of ${keys.map((k) => `${k}=…`).join(', ')}`);
    const v = Number(m[2]);
    if (!Number.isFinite(v) || v < 0) throw new Error(`"${part}": ${m[1]} must be a non-negative number`);
    out[m[1]] = v;
  }
  if (out.maxSteps === 0) delete out.maxSteps;
  if (out.evalSteps === 0) delete out.evalSteps;
  for (const k of ['batchSize', 'maxLength', 'seed', 'seeds', 'evalSteps', 'maxSteps']) {
    if (out[k] !== undefined && !Number.isInteger(out[k])) throw new Error(`${k} must be a whole number, got ${out[k]}`);
  }
  if (out.seeds !== undefined && out.seeds < 1) throw new Error('seeds must be at least 1');
  return out;
}

export async function askLauncher(): Promise<Pick<FinetuneTaskDefinition, 'launcher' | 'nprocPerNode'> | undefined> {
  const pick = await vscode.window.showQuickPick(
    [
      { label: 'python', description: 'one process (CPU or one GPU)', launcher: 'python' as const },
      { label: 'accelerate launch', description: 'Hugging Face accelerate, N processes', launcher: 'accelerate' as const },
      { label: 'torchrun', description: 'torch.distributed, --nproc_per_node N', launcher: 'torchrun' as const },
    ],
    { title: 'Layer Lens: launch with' },
  );
  if (!pick) return undefined;
  if (pick.launcher === 'python') return { launcher: 'python' };
  const n = await vscode.window.showInputBox({
    title: 'Processes per node (GPUs)',
    value: '2',
    validateInput: (v) => (/^[1-9]\d*$/.test(v) ? undefined : 'a positive integer'),
  });
  return n ? { launcher: pick.launcher, nprocPerNode: Number(n) } : undefined;
}
