/**
 * Reading the results JSON that python/finetune.py writes (atomically, after every evaluation)
 * into <out>/<model-name>/seed-<seed>/results.json (older runs: <out>/<model-name>/results.json), and
 * turning a run folder into the data the one comparison model (shared/finetune) reads.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';
import type { FinetuneEval, FinetuneResultsData, FinetuneTableModel } from '../../shared/finetune';
import { readUserText } from '../files';

export const RESULTS_SCHEMA = 'layer-lens-finetune/1';
export const RESULTS_FILE = 'results.json';

export interface EvalEntry {
  epoch: number;
  step: number;
  seconds?: number;
  at?: 'epoch' | 'step' | 'end';
  train_loss?: number | null;
  eval_loss?: number | null;
  accuracy?: number;
  f1_macro?: number;
  mcc?: number;
}

export interface FinetuneResults {
  schema: string;
  status: 'running' | 'done' | 'failed';
  backend: 'torch' | 'transformers';
  model: string;
  model_name: string;
  model_type?: string | null;
  num_layers?: number | null;
  /** Provenance written by the deepen writer: present on deepened models. */
  layer_lens?: { source: string; plan: string; source_layers?: number } | null;
  /** This run's seed, and every seed of the invocation (absent in single-seed files). */
  seed?: number;
  seeds?: number[];
  task: { kind: 'data' | 'glue'; name: string; path: string | null; eval: string; labels: string[]; train_size: number; eval_size: number };
  hyperparameters: { lr: number; batch_size: number; epochs: number; max_length: number; seed: number; max_steps: number; eval_steps?: number };
  epochs: EvalEntry[];
  final: (EvalEntry & { steps: number; train_seconds: number }) | null;
  error?: string;
  /** Where this was read from (added by the reader). */
  file?: string;
}

export function parseResults(text: string, file = RESULTS_FILE): FinetuneResults {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UserError(`results file is not valid JSON (${(e as Error).message})`, file);
  }
  const d = doc as Partial<FinetuneResults>;
  if (typeof d !== 'object' || d === null || d.schema !== RESULTS_SCHEMA) {
    throw new UserError(`not a Layer Lens fine-tuning results file (expected schema "${RESULTS_SCHEMA}")`, file);
  }
  if (!['running', 'done', 'failed'].includes(d.status as string) || typeof d.model !== 'string' || !Array.isArray(d.epochs)) {
    throw new UserError('results file is missing "status", "model" or "epochs"', file);
  }
  // The file is untrusted data: every field the comparison reads has the type it reads.
  const problem = resultsProblem(d as Record<string, unknown>);
  if (problem) throw new UserError(`results file: ${problem}`, file);
  return { ...(d as FinetuneResults), file };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const optNum = (v: unknown) => v === undefined || v === null || (typeof v === 'number' && Number.isFinite(v));
const optStr = (v: unknown) => v === undefined || v === null || typeof v === 'string';

function entryProblem(e: unknown, at: string): string | undefined {
  if (!isObj(e)) return `${at} is not an object`;
  if (typeof e.step !== 'number' || !Number.isInteger(e.step) || e.step < 0) return `${at}.step is not a step count`;
  if (typeof e.epoch !== 'number' || !Number.isFinite(e.epoch)) return `${at}.epoch is not a number`;
  for (const k of ['accuracy', 'f1_macro', 'mcc', 'eval_loss', 'train_loss', 'seconds']) if (!optNum(e[k])) return `${at}.${k} is not a number`;
  if (e.at !== undefined && e.at !== 'epoch' && e.at !== 'step' && e.at !== 'end') return `${at}.at is not epoch, step or end`;
  return undefined;
}

function resultsProblem(d: Record<string, unknown>): string | undefined {
  if (typeof d.model_name !== 'string') return '"model_name" is not a string';
  if (!optNum(d.num_layers) || !optNum(d.seed)) return '"num_layers" or "seed" is not a number';
  if (!optStr(d.error) || !optStr(d.backend)) return '"error" or "backend" is not a string';
  if (d.layer_lens !== undefined && d.layer_lens !== null && (!isObj(d.layer_lens) || typeof d.layer_lens.source !== 'string' || typeof d.layer_lens.plan !== 'string')) return '"layer_lens" has no source and plan';
  if (!isObj(d.task) || typeof d.task.name !== 'string' || typeof d.task.kind !== 'string') return '"task" has no name and kind';
  if (!isObj(d.hyperparameters)) return '"hyperparameters" is not an object';
  const epochs = d.epochs as unknown[];
  for (let i = 0; i < epochs.length; i++) {
    const p = entryProblem(epochs[i], `epochs[${i}]`);
    if (p) return p;
  }
  if (d.final !== undefined && d.final !== null) return entryProblem(d.final, 'final');
  return undefined;
}

export function readResults(file: string): FinetuneResults {
  // A regular file of sane size: the extension watches run folders, and a FIFO must not block it.
  return parseResults(readUserText(file, 'results.json'), file);
}

/**
 * Every results file under a run folder, sorted: <out>/<model>/seed-<s>/results.json (python/finetune.py
 * with --seeds) and <out>/<model>/results.json (older single-seed runs).
 */
export function findResultFiles(outDir: string): string[] {
  if (!fs.existsSync(outDir)) return [];
  const out: string[] = [];
  const dirs = (d: string) => {
    try {
      return fs.readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      return [];
    }
  };
  for (const model of dirs(outDir)) {
    const single = path.join(outDir, model, RESULTS_FILE);
    if (fs.existsSync(single)) out.push(single);
    for (const seed of dirs(path.join(outDir, model))) {
      if (!/^seed-\d+$/.test(seed)) continue;
      const f = path.join(outDir, model, seed, RESULTS_FILE);
      if (fs.existsSync(f)) out.push(f);
    }
  }
  return out.sort();
}

const toEval = (e: EvalEntry): FinetuneEval => ({
  epoch: e.epoch,
  step: e.step,
  ...(e.at === 'epoch' || e.at === 'step' || e.at === 'end' ? { at: e.at } : {}),
  accuracy: e.accuracy ?? null,
  f1Macro: e.f1_macro ?? null,
  evalLoss: e.eval_loss ?? null,
  trainLoss: e.train_loss ?? null,
});

function latest(r: FinetuneResults): EvalEntry | null {
  return r.final ?? r.epochs[r.epochs.length - 1] ?? null;
}

/** The seed of a run: its own entry, else (single-seed files) the hyper-parameter. */
export function seedOf(r: FinetuneResults): number | null {
  const s = r.seed ?? r.hyperparameters?.seed;
  return typeof s === 'number' && Number.isInteger(s) ? s : null;
}

/**
 * What the panel and the CLI show for a run folder: every run (model × seed) with its role and
 * history. The baseline is the model that a deepened run names as its source, else the first
 * model without deepening provenance; every seed of a model has the model's role.
 */
export function toPanelData(outDir: string, results: FinetuneResults[], unreadable: string[] = [], now = Date.now()): FinetuneResultsData {
  const norm = (p: string) => path.resolve(p);
  const sources = new Set(results.flatMap((r) => (r.layer_lens?.source ? [norm(r.layer_lens.source)] : [])));
  const baseline = results.find((r) => sources.has(norm(r.model))) ?? results.find((r) => !r.layer_lens);
  const baseModel = baseline ? norm(baseline.model) : undefined;
  const warnings: string[] = [];
  const tasks = new Set(results.map((r) => `${r.task.kind}:${r.task.name}`));
  if (tasks.size > 1) warnings.push(`runs used different tasks: ${[...tasks].join(', ')}`);
  // Seeds differ on purpose; anything else that differs makes the numbers not like for like.
  const hps = new Set(results.map((r) => JSON.stringify({ ...r.hyperparameters, seed: undefined })));
  if (hps.size > 1) warnings.push('runs used different hyper-parameters');
  return {
    outDir,
    task: results[0] ? results[0].task.name : null,
    runs: results.map((r) => {
      const e = latest(r);
      const role = baseModel !== undefined && norm(r.model) === baseModel ? 'baseline' : r.layer_lens ? 'deepened' : 'model';
      return {
        name: r.model_name,
        model: r.model,
        role,
        layers: r.num_layers ?? null,
        plan: r.layer_lens?.plan ?? null,
        status: r.status,
        backend: r.backend,
        seed: seedOf(r),
        latest: e ? toEval(e) : null,
        isFinal: r.final !== null && r.final !== undefined,
        epochs: r.epochs.map(toEval),
        ...(r.error ? { error: r.error } : {}),
      };
    }),
    warnings,
    unreadable,
    updatedAt: now,
  };
}

/** Reads every results file of a run folder; the files that fail to parse are listed, not thrown. */
export function readRunFolder(outDir: string, onError: (file: string, e: unknown) => void = () => undefined): FinetuneResultsData {
  const unreadable: string[] = [];
  const results = findResultFiles(outDir).flatMap((f) => {
    try {
      return [readResults(f)];
    } catch (e) {
      onError(f, e);
      unreadable.push(path.relative(outDir, f));
      return [];
    }
  });
  return toPanelData(outDir, results, unreadable);
}

/**
 * The comparison as a plain-text table for the terminal: the panel's table model
 * (shared/finetune finetuneTableModel), cell for cell, then the verdicts and notes.
 */
export function formatComparison(model: FinetuneTableModel, task: string | null = null): string {
  const header = model.columns;
  const rows = model.rows.map((r) => [r.name, ...r.cells.map((c) => c.text)]);
  const right = [false, ...(model.rows[0]?.cells ?? []).map((c) => c.num === true)];
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => [...(r[c] ?? '')].length)));
  const line = (r: string[]) => r.map((cell, c) => (right[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd();
  const out = [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)];
  if (task) out.unshift(`task: ${task}`);
  for (const v of model.verdicts) out.push(v);
  for (const n of model.notes) out.push(n);
  return out.join('\n');
}
