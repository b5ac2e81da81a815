/**
 * Fine-tuning results as the panel sees them, and the pure view model that turns them into table
 * cells. The host builds `FinetuneResultsData` from the results JSON files (core/finetune/results),
 * the webview renders the cells as text. No DOM and no Node here, so both sides and the unit tests
 * share it.
 */

/** One evaluation of one run (a subset of python/finetune.py's entries). */
export interface FinetuneEval {
  epoch: number;
  step: number;
  accuracy: number | null;
  f1Macro: number | null;
  evalLoss: number | null;
  trainLoss: number | null;
}

/** One run: a row of the comparison, with its evaluation history. */
export interface FinetuneRun {
  name: string;
  model: string;
  role: 'baseline' | 'deepened' | 'model';
  layers: number | null;
  plan: string | null;
  status: 'running' | 'done' | 'failed';
  backend: string;
  /** Latest (final, else last) evaluation. */
  latest: FinetuneEval | null;
  /** True once `final` is written, i.e. `latest` holds the final metrics. */
  isFinal: boolean;
  epochs: FinetuneEval[];
  error?: string;
}

/** Everything in one run folder (<out>/<model>/results.json), as the panel shows it. */
export interface FinetuneResultsData {
  outDir: string;
  task: string | null;
  runs: FinetuneRun[];
  /** Runs that are not like for like (different tasks or hyper-parameters). */
  warnings: string[];
  /** Results files that could not be read (a half-written file is retried on the next change). */
  unreadable: string[];
  updatedAt: number;
}

// ---------------------------------------------------------------- view model

/** `up` / `down` say better / worse than the baseline, whatever the metric's direction. */
export type DeltaClass = 'up' | 'down' | '';

export interface Cell {
  text: string;
  /** Right-aligned number. */
  num?: boolean;
  delta?: DeltaClass;
  /** Extra explanation (title / aria-description). */
  title?: string;
}

export interface FinetuneTableRow {
  role: FinetuneRun['role'];
  status: FinetuneRun['status'];
  /** The row header: the model name. */
  name: string;
  cells: Cell[];
}

export interface FinetuneTableModel {
  caption: string;
  columns: string[];
  rows: FinetuneTableRow[];
  /** One table per run: its evaluations, oldest first. */
  history: { name: string; columns: string[]; rows: Cell[][] }[];
  notes: string[];
}

export const FINETUNE_COLUMNS = ['model', 'role', 'layers', 'plan', 'status', 'epoch', 'step', 'accuracy', 'Δ acc', 'macro F1', 'Δ F1', 'eval loss', 'Δ loss'];
const HISTORY_COLUMNS = ['epoch', 'step', 'accuracy', 'macro F1', 'eval loss', 'train loss'];

export const pct = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(1)}%`);
const fixed = (v: number | null | undefined, d: number): string => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(d));

/** Signed difference, "+1.2 pt" / "−0.0300"; '' when either side is unknown. */
export function fmtDelta(d: number | null, kind: 'pt' | 'loss'): string {
  if (d === null || !Number.isFinite(d)) return '';
  const v = kind === 'pt' ? Math.abs(d * 100).toFixed(1) : Math.abs(d).toFixed(4);
  const sign = Number(v) === 0 ? '±' : d > 0 ? '+' : '−';
  return `${sign}${v}${kind === 'pt' ? ' pt' : ''}`;
}

/** Better or worse than the baseline; loss is better when lower. Differences under `eps` are neither. */
export function deltaClass(d: number | null, higherIsBetter: boolean, eps = 1e-9): DeltaClass {
  if (d === null || !Number.isFinite(d) || Math.abs(d) < eps) return '';
  return d > 0 === higherIsBetter ? 'up' : 'down';
}

const diff = (a: number | null | undefined, b: number | null | undefined): number | null =>
  a === null || a === undefined || b === null || b === undefined ? null : a - b;

export function statusText(run: FinetuneRun): string {
  switch (run.status) {
    case 'running':
      return run.latest ? 'running' : 'running (no evaluation yet)';
    case 'done':
      return 'done';
    case 'failed':
      return 'failed';
    default: {
      const never: never = run.status;
      return String(never);
    }
  }
}

/** The comparison table: one row per run, baseline first, with deltas against the baseline. */
export function finetuneTableModel(data: FinetuneResultsData): FinetuneTableModel {
  const baseline = data.runs.find((r) => r.role === 'baseline');
  const ordered = baseline ? [baseline, ...data.runs.filter((r) => r !== baseline)] : data.runs;
  const b = baseline?.latest ?? null;
  const rows = ordered.map((r): FinetuneTableRow => {
    const e = r.latest;
    const isBase = r === baseline;
    const dAcc = isBase ? null : diff(e?.accuracy, b?.accuracy);
    const dF1 = isBase ? null : diff(e?.f1Macro, b?.f1Macro);
    const dLoss = isBase ? null : diff(e?.evalLoss, b?.evalLoss);
    const when = e ? (r.isFinal ? 'final' : 'latest evaluation') : undefined;
    return {
      role: r.role,
      status: r.status,
      name: r.name,
      cells: [
        { text: r.role },
        { text: r.layers === null ? '?' : String(r.layers), num: true },
        { text: r.plan ?? (r.role === 'baseline' ? 'original' : '') },
        { text: statusText(r), ...(r.error ? { title: r.error } : {}) },
        { text: e ? e.epoch.toFixed(2) : '–', num: true, ...(when ? { title: when } : {}) },
        { text: e ? String(e.step) : '–', num: true },
        { text: pct(e?.accuracy), num: true },
        { text: fmtDelta(dAcc, 'pt'), num: true, delta: deltaClass(dAcc, true) },
        { text: pct(e?.f1Macro), num: true },
        { text: fmtDelta(dF1, 'pt'), num: true, delta: deltaClass(dF1, true) },
        { text: fixed(e?.evalLoss, 4), num: true },
        { text: fmtDelta(dLoss, 'loss'), num: true, delta: deltaClass(dLoss, false) },
      ],
    };
  });
  const history = ordered.map((r) => ({
    name: r.name,
    columns: HISTORY_COLUMNS,
    rows: r.epochs.map((e): Cell[] => [
      { text: e.epoch.toFixed(2), num: true },
      { text: String(e.step), num: true },
      { text: pct(e.accuracy), num: true },
      { text: pct(e.f1Macro), num: true },
      { text: fixed(e.evalLoss, 4), num: true },
      { text: fixed(e.trainLoss, 4), num: true },
    ]),
  }));
  const notes = [
    ...data.runs.filter((r) => r.error).map((r) => `${r.name} failed: ${r.error}`),
    ...data.warnings.map((w) => `Not like for like: ${w}.`),
    ...(data.unreadable.length ? [`Could not read ${data.unreadable.join(', ')} (retried on the next change).`] : []),
  ];
  if (!baseline && data.runs.length > 0) notes.push('No baseline: none of these runs is the source of a deepened model, so no deltas are shown.');
  const running = data.runs.filter((r) => r.status === 'running').length;
  const caption =
    data.runs.length === 0
      ? 'No results yet: each run writes <model>/results.json after its first evaluation.'
      : `${data.task ? `Task ${data.task}. ` : ''}Baseline against deepened: ${baseline ? 'Δ columns are against the baseline (green better, red worse)' : 'no baseline'}; ${running ? `${running} run${running === 1 ? '' : 's'} still running, ` : ''}metrics from the final evaluation, else the latest.`;
  return { caption, columns: FINETUNE_COLUMNS, rows, history, notes };
}

/** The panel's heading for a run folder: "2 runs · 1 running". */
export function finetuneSummary(data: FinetuneResultsData): string {
  const n = data.runs.length;
  const by = (s: FinetuneRun['status']) => data.runs.filter((r) => r.status === s).length;
  const parts = [`${n} run${n === 1 ? '' : 's'}`];
  for (const s of ['running', 'done', 'failed'] as const) if (by(s)) parts.push(`${by(s)} ${s}`);
  return parts.join(' · ');
}
