/**
 * Reading the results JSON that python/finetune.py writes (atomically, after every evaluation)
 * into <out>/<model-name>/results.json, and turning several of them into a comparison table.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';
import type { FinetuneEval, FinetuneResultsData } from '../../shared/finetune';
import { readUserText } from '../files';

export const RESULTS_SCHEMA = 'layer-lens-finetune/1';
export const RESULTS_FILE = 'results.json';

export interface EvalEntry {
  epoch: number;
  step: number;
  seconds?: number;
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
  task: { kind: 'data' | 'glue'; name: string; path: string | null; eval: string; labels: string[]; train_size: number; eval_size: number };
  hyperparameters: { lr: number; batch_size: number; epochs: number; max_length: number; seed: number; max_steps: number };
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
  return { ...(d as FinetuneResults), file };
}

export function readResults(file: string): FinetuneResults {
  // A regular file of sane size: the extension watches run folders, and a FIFO must not block it.
  return parseResults(readUserText(file, 'results.json'), file);
}

/** Every <out>/<run>/results.json under a run folder, sorted by run name. */
export function findResultFiles(outDir: string): string[] {
  if (!fs.existsSync(outDir)) return [];
  return fs
    .readdirSync(outDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(outDir, e.name, RESULTS_FILE)))
    .map((e) => path.join(outDir, e.name, RESULTS_FILE))
    .sort();
}

// ---------------------------------------------------------------- comparison

export interface ComparisonRow {
  name: string;
  model: string;
  role: 'baseline' | 'deepened' | 'model';
  layers: number | null;
  plan: string | null;
  status: FinetuneResults['status'];
  backend: string;
  steps: number | null;
  epoch: number | null;
  accuracy: number | null;
  f1Macro: number | null;
  evalLoss: number | null;
  /** Accuracy minus the baseline's (null for the baseline or when unknown). */
  deltaAccuracy: number | null;
  error?: string;
}

export interface ComparisonTable {
  task: string | null;
  rows: ComparisonRow[];
  /** Non-empty when runs used different tasks or hyper-parameters, so the numbers are not like for like. */
  warnings: string[];
}

function latest(r: FinetuneResults): EvalEntry | null {
  return r.final ?? r.epochs[r.epochs.length - 1] ?? null;
}

/**
 * Rows in input order. The baseline is the model that a deepened run names as its source, or
 * else the first run without deepening provenance.
 */
export function compareResults(results: FinetuneResults[]): ComparisonTable {
  const norm = (p: string) => path.resolve(p);
  const sources = new Set(results.flatMap((r) => (r.layer_lens?.source ? [norm(r.layer_lens.source)] : [])));
  const baseline = results.find((r) => sources.has(norm(r.model))) ?? results.find((r) => !r.layer_lens);
  const baseAcc = baseline ? latest(baseline)?.accuracy ?? null : null;
  const rows = results.map((r): ComparisonRow => {
    const e = latest(r);
    const acc = e?.accuracy ?? null;
    const role = r === baseline ? 'baseline' : r.layer_lens ? 'deepened' : 'model';
    return {
      name: r.model_name,
      model: r.model,
      role,
      layers: r.num_layers ?? null,
      plan: r.layer_lens?.plan ?? null,
      status: r.status,
      backend: r.backend,
      steps: e?.step ?? null,
      epoch: e?.epoch ?? null,
      accuracy: acc,
      f1Macro: e?.f1_macro ?? null,
      evalLoss: e?.eval_loss ?? null,
      deltaAccuracy: role !== 'baseline' && acc !== null && baseAcc !== null ? acc - baseAcc : null,
      ...(r.error ? { error: r.error } : {}),
    };
  });
  const warnings: string[] = [];
  const tasks = new Set(results.map((r) => `${r.task.kind}:${r.task.name}`));
  if (tasks.size > 1) warnings.push(`runs used different tasks: ${[...tasks].join(', ')}`);
  const hps = new Set(results.map((r) => JSON.stringify(r.hyperparameters)));
  if (hps.size > 1) warnings.push('runs used different hyper-parameters');
  return { task: results[0] ? results[0].task.name : null, rows, warnings };
}

const toEval = (e: EvalEntry): FinetuneEval => ({
  epoch: e.epoch,
  step: e.step,
  accuracy: e.accuracy ?? null,
  f1Macro: e.f1_macro ?? null,
  evalLoss: e.eval_loss ?? null,
  trainLoss: e.train_loss ?? null,
});

/** What the panel shows for a run folder: the comparison rows (roles from compareResults) plus each run's history. */
export function toPanelData(outDir: string, results: FinetuneResults[], unreadable: string[] = [], now = Date.now()): FinetuneResultsData {
  const table = compareResults(results);
  return {
    outDir,
    task: table.task,
    runs: results.map((r, i) => {
      const row = table.rows[i];
      const e = latest(r);
      return {
        name: row.name,
        model: row.model,
        role: row.role,
        layers: row.layers,
        plan: row.plan,
        status: row.status,
        backend: row.backend,
        latest: e ? toEval(e) : null,
        isFinal: r.final !== null && r.final !== undefined,
        epochs: r.epochs.map(toEval),
        ...(row.error ? { error: row.error } : {}),
      };
    }),
    warnings: table.warnings,
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

const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1)}%`);
const signedPct = (v: number | null) => (v === null ? '' : `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}`);

/** Plain-text table for the terminal. */
export function formatComparison(table: ComparisonTable): string {
  const header = ['model', 'role', 'layers', 'plan', 'status', 'steps', 'accuracy', 'Δacc (pts)', 'macro F1', 'eval loss'];
  const rows = table.rows.map((r) => [
    r.name,
    r.role,
    r.layers === null ? '?' : String(r.layers),
    r.plan ?? '',
    r.status,
    r.steps === null ? '' : String(r.steps),
    pct(r.accuracy),
    signedPct(r.deltaAccuracy),
    pct(r.f1Macro),
    r.evalLoss === null ? '–' : r.evalLoss.toFixed(4),
  ]);
  const all = [header, ...rows];
  const right = [false, false, true, false, false, true, true, true, true, true];
  const widths = header.map((_, c) => Math.max(...all.map((r) => [...r[c]].length)));
  const line = (r: string[]) => r.map((cell, c) => (right[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd();
  const out = [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)];
  if (table.task) out.unshift(`task: ${table.task}`);
  for (const r of table.rows) if (r.error) out.push(`${r.name}: ${r.error}`);
  for (const w of table.warnings) out.push(`warning: ${w}`);
  return out.join('\n');
}
