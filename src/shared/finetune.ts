/**
 * Fine-tuning results as the panel and the CLI see them, and the ONE comparison model that both
 * render: per model (over its seeds) mean ± sd, and the paired difference against the baseline
 * (paired by seed) with a 95% Student t interval. The host (core/finetune/results) builds
 * `FinetuneResultsData` from the results JSON files; the webview renders the table model as text,
 * the CLI prints the same table model as a text table. No DOM and no Node here.
 */
import { mean, sampleSd, tInterval } from './stats';

/** One evaluation of one run (a subset of python/finetune.py's entries). */
export interface FinetuneEval {
  epoch: number;
  step: number;
  /** Why it was evaluated: every N steps (--eval-steps), an epoch's end, or the run's end; absent in old files. */
  at?: 'epoch' | 'step' | 'end';
  accuracy: number | null;
  f1Macro: number | null;
  evalLoss: number | null;
  trainLoss: number | null;
}

/** One run (one model with one seed), with its evaluation history. */
export interface FinetuneRun {
  name: string;
  model: string;
  role: 'baseline' | 'deepened' | 'model';
  layers: number | null;
  plan: string | null;
  status: 'running' | 'done' | 'failed';
  backend: string;
  /** The seed of this run (old single-seed files: hyperparameters.seed); null when unknown. */
  seed: number | null;
  /** Latest (final, else last) evaluation. */
  latest: FinetuneEval | null;
  /** True once `final` is written, i.e. `latest` holds the final metrics. */
  isFinal: boolean;
  epochs: FinetuneEval[];
  error?: string;
}

/** Everything in one run folder (<out>/<model>/seed-<s>/results.json), as the panel shows it. */
export interface FinetuneResultsData {
  outDir: string;
  task: string | null;
  runs: FinetuneRun[];
  /** Runs that are not like for like (different tasks or hyper-parameters). */
  warnings: string[];
  /** Results files that could not be read (a half-written file is retried on the next change). */
  unreadable: string[];
  updatedAt: number;
  /** How many runs the task makes (models × seeds), when this host launched or saw the task start. */
  expected?: number;
  /** Whether that task is still running (known only for tasks this host follows). */
  taskRunning?: boolean;
}

// ---------------------------------------------------------------- the comparison model

export type Metric = 'accuracy' | 'f1Macro' | 'evalLoss';
export const METRICS: readonly Metric[] = ['accuracy', 'f1Macro', 'evalLoss'];
const HIGHER_IS_BETTER: Record<Metric, boolean> = { accuracy: true, f1Macro: true, evalLoss: false };

/** A metric over a model's seeds. */
export interface SeedStats {
  /** Seeds counted (finished runs; running runs' latest evaluation only while none has finished). */
  n: number;
  mean: number | null;
  /** Sample sd (n − 1); null below two seeds. */
  sd: number | null;
  /** 'final': over finished runs; 'latest': the latest evaluations of runs still going. */
  basis: 'final' | 'latest';
}

/** This model minus the baseline, paired by seed, over the seeds both finished. */
export interface PairedDelta {
  seeds: number[];
  /** Per seed, in `seeds` order. */
  diffs: number[];
  mean: number;
  sd: number | null;
  /** 95% Student t interval of the mean difference (df = pairs − 1); null for one pair. */
  ci: [number, number] | null;
  /** 'better' / 'worse' only when the interval excludes 0 (a single seed never is). */
  verdict: 'better' | 'worse' | 'no clear difference' | 'one seed';
}

export interface ModelGroup {
  name: string;
  model: string;
  role: FinetuneRun['role'];
  layers: number | null;
  plan: string | null;
  /** Its runs, by seed. */
  runs: FinetuneRun[];
  done: number;
  running: number;
  failed: number;
  /** Highest step reached by any of its runs' latest evaluations. */
  step: number | null;
  stats: Record<Metric, SeedStats>;
  /** Against the baseline; null for the baseline itself, without a baseline, or with no finished pair. */
  delta: Record<Metric, PairedDelta | null>;
}

export interface FinetuneComparison {
  task: string | null;
  /** Baseline first. */
  groups: ModelGroup[];
  baseline: ModelGroup | undefined;
  warnings: string[];
  counts: { done: number; running: number; failed: number; present: number; expected: number | null; toStart: number };
}

const runsOf = (g: FinetuneRun[]) => [...g].sort((a, b) => (a.seed ?? Infinity) - (b.seed ?? Infinity));

function seedStats(runs: FinetuneRun[], m: Metric): SeedStats {
  const done = runs.filter((r) => r.status === 'done' && r.latest);
  const basis = done.length ? 'final' : 'latest';
  const pool = done.length ? done : runs.filter((r) => r.status === 'running' && r.latest);
  const xs = pool.map((r) => r.latest![m]).filter((v): v is number => v !== null && Number.isFinite(v));
  const sd = sampleSd(xs);
  return { n: xs.length, mean: xs.length ? mean(xs) : null, sd: Number.isFinite(sd) ? sd : null, basis };
}

/** The paired difference of `m` between two models' finished runs with the same seed. */
export function pairedDelta(runs: FinetuneRun[], base: FinetuneRun[], m: Metric): PairedDelta | null {
  const finished = (r: FinetuneRun) => r.status === 'done' && r.seed !== null && r.latest !== null && r.latest[m] !== null && Number.isFinite(r.latest[m]);
  const b = new Map(base.filter(finished).map((r) => [r.seed!, r.latest![m]!]));
  const pairs = runsOf(runs.filter(finished)).filter((r) => b.has(r.seed!));
  if (pairs.length === 0) return null;
  const seeds = pairs.map((r) => r.seed!);
  const diffs = pairs.map((r) => r.latest![m]! - b.get(r.seed!)!);
  const t = tInterval(diffs);
  const ci = t.ci;
  const better = HIGHER_IS_BETTER[m];
  const verdict = !ci ? 'one seed' : ci[0] > 0 ? (better ? 'better' : 'worse') : ci[1] < 0 ? (better ? 'worse' : 'better') : 'no clear difference';
  return { seeds, diffs, mean: t.mean, sd: Number.isFinite(t.sd) ? t.sd : null, ci, verdict };
}

/** Groups the runs by model, finds the baseline (its role) and computes every statistic shown. */
export function compareFinetune(data: FinetuneResultsData): FinetuneComparison {
  const byModel = new Map<string, FinetuneRun[]>();
  for (const r of data.runs) byModel.set(r.model, [...(byModel.get(r.model) ?? []), r]);
  const groups0 = [...byModel.values()].map((runs0) => {
    const runs = runsOf(runs0);
    const first = runs[0];
    const latestSteps = runs.flatMap((r) => (r.latest ? [r.latest.step] : []));
    return {
      name: first.name, model: first.model, role: first.role, layers: first.layers, plan: first.plan, runs,
      done: runs.filter((r) => r.status === 'done').length,
      running: runs.filter((r) => r.status === 'running').length,
      failed: runs.filter((r) => r.status === 'failed').length,
      step: latestSteps.length ? Math.max(...latestSteps) : null,
      stats: Object.fromEntries(METRICS.map((m) => [m, seedStats(runs, m)])) as Record<Metric, SeedStats>,
      delta: { accuracy: null, f1Macro: null, evalLoss: null } as Record<Metric, PairedDelta | null>,
    } satisfies ModelGroup;
  });
  const baseline = groups0.find((g) => g.role === 'baseline');
  if (baseline) for (const g of groups0) if (g !== baseline) for (const m of METRICS) g.delta[m] = pairedDelta(g.runs, baseline.runs, m);
  const groups = baseline ? [baseline, ...groups0.filter((g) => g !== baseline)] : groups0;
  const count = (s: FinetuneRun['status']) => data.runs.filter((r) => r.status === s).length;
  const expected = data.expected ?? null;
  return {
    task: data.task,
    groups,
    baseline,
    warnings: data.warnings,
    counts: { done: count('done'), running: count('running'), failed: count('failed'), present: data.runs.length, expected, toStart: expected === null ? 0 : Math.max(0, expected - data.runs.length) },
  };
}

// ---------------------------------------------------------------- formatting

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
  /** The group's state: running while any seed runs, failed when every seed failed, else done. */
  status: FinetuneRun['status'];
  /** The row header: the model name. */
  name: string;
  cells: Cell[];
}

export interface FinetuneTableModel {
  caption: string;
  /** What the columns mean, in a sentence or two (below the table). */
  legend: string;
  columns: string[];
  rows: FinetuneTableRow[];
  /** One line per compared model: the paired accuracy difference and what it says. */
  verdicts: string[];
  /** One table per run (model × seed): its evaluations, oldest first. */
  history: { name: string; seed: number | null; columns: string[]; rows: Cell[][] }[];
  notes: string[];
}

export const FINETUNE_COLUMNS = ['model', 'role', 'layers', 'plan', 'status', 'seeds', 'step', 'accuracy', 'Δ acc', 'macro F1', 'Δ F1', 'eval loss', 'Δ loss'];
const HISTORY_COLUMNS = ['epoch', 'step', 'at', 'accuracy', 'macro F1', 'eval loss', 'train loss'];

export const pct = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(1)}%`);
const fixed = (v: number | null | undefined, d: number): string => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(d));

/** A signed number, "+1.2" / "−0.0300" / "±0.0". */
function signed(v: number, kind: 'pt' | 'loss'): string {
  const s = kind === 'pt' ? Math.abs(v * 100).toFixed(1) : Math.abs(v).toFixed(4);
  return `${Number(s) === 0 ? '±' : v > 0 ? '+' : '−'}${s}`;
}

/** Signed difference, "+1.2 pt" / "−0.0300"; '' when unknown. */
export function fmtDelta(d: number | null, kind: 'pt' | 'loss'): string {
  if (d === null || !Number.isFinite(d)) return '';
  return `${signed(d, kind)}${kind === 'pt' ? ' pt' : ''}`;
}

/** Better or worse than the baseline; loss is better when lower. Differences under `eps` are neither. */
export function deltaClass(d: number | null, higherIsBetter: boolean, eps = 1e-9): DeltaClass {
  if (d === null || !Number.isFinite(d) || Math.abs(d) < eps) return '';
  return d > 0 === higherIsBetter ? 'up' : 'down';
}

const KIND: Record<Metric, 'pt' | 'loss'> = { accuracy: 'pt', f1Macro: 'pt', evalLoss: 'loss' };
const NAME: Record<Metric, string> = { accuracy: 'accuracy', f1Macro: 'macro F1', evalLoss: 'eval loss' };

/** "45.0% ± 1.2" (sd in points) / "1.3505 ± 0.0123"; one seed: the value alone. */
export function fmtMeanSd(s: SeedStats, m: Metric): string {
  if (s.mean === null) return '–';
  const v = KIND[m] === 'pt' ? pct(s.mean) : fixed(s.mean, 4);
  if (s.sd === null) return v;
  return `${v} ± ${KIND[m] === 'pt' ? (s.sd * 100).toFixed(1) : s.sd.toFixed(4)}`;
}

/** "+1.2 pt [−0.5, +2.9]", "+8.8 pt · 1 seed: no interval". */
export function fmtPaired(d: PairedDelta | null, m: Metric): string {
  if (!d) return '';
  const kind = KIND[m];
  if (!d.ci) return `${fmtDelta(d.mean, kind)} · 1 seed: no interval`;
  return `${fmtDelta(d.mean, kind)} [${signed(d.ci[0], kind)}, ${signed(d.ci[1], kind)}]`;
}

const VERDICT_TEXT: Record<PairedDelta['verdict'], string> = {
  better: 'better than the baseline (the interval excludes 0)',
  worse: 'worse than the baseline (the interval excludes 0)',
  'no clear difference': 'no clear difference (the interval contains 0)',
  'one seed': '1 seed: no interval, not evidence either way',
};

/** One line: the paired difference of a metric and what it says. */
export function verdictLine(g: ModelGroup, base: ModelGroup, m: Metric = 'accuracy'): string {
  const d = g.delta[m];
  if (!d) return `${g.name} − ${base.name}: no seed finished by both yet`;
  const seeds = `${d.seeds.length} seed${d.seeds.length === 1 ? '' : 's'} (${d.seeds.join(', ')})`;
  const interval = d.ci ? `, 95% CI [${signed(d.ci[0], KIND[m])}, ${signed(d.ci[1], KIND[m])}]${KIND[m] === 'pt' ? ' pt' : ''}` : '';
  return `${NAME[m]} ${g.name} − ${base.name}, paired by seed over ${seeds}: ${fmtDelta(d.mean, KIND[m])}${interval}: ${VERDICT_TEXT[d.verdict]}`;
}

function deltaCell(d: PairedDelta | null, m: Metric, isBase: boolean): Cell {
  if (isBase || !d) return { text: '', num: true, ...(isBase ? {} : { title: 'no seed finished by both this model and the baseline yet' }) };
  const up = d.verdict === 'better' ? 'up' : d.verdict === 'worse' ? 'down' : '';
  return {
    text: fmtPaired(d, m),
    num: true,
    delta: up,
    title: `${NAME[m]} minus the baseline's, paired by seed (${d.seeds.join(', ')})${d.ci ? '; 95% Student t interval of the mean difference' : ''}: ${VERDICT_TEXT[d.verdict]}`,
  };
}

export function groupStatus(g: ModelGroup): FinetuneRun['status'] {
  return g.running ? 'running' : g.failed === g.runs.length ? 'failed' : 'done';
}

function statusText(g: ModelGroup): string {
  if (g.running) return g.runs.some((r) => r.status === 'running' && r.latest) ? 'running' : 'running (no evaluation yet)';
  if (g.failed === g.runs.length) return 'failed';
  return g.failed ? `done (${g.failed} failed)` : 'done';
}

function seedsCell(g: ModelGroup): Cell {
  const seeds = g.runs.map((r) => (r.seed === null ? '?' : String(r.seed)));
  const parts = [`${g.done}`];
  if (g.running) parts.push(`+${g.running} running`);
  if (g.failed) parts.push(`${g.failed} failed`);
  return { text: parts.join(' '), num: true, title: `seeds ${seeds.join(', ')}: ${g.done} finished` };
}

/** The comparison table: one row per model (baseline first), mean ± sd over seeds, paired deltas against the baseline. */
export function finetuneTableModel(data: FinetuneResultsData): FinetuneTableModel {
  const c = compareFinetune(data);
  const rows = c.groups.map((g): FinetuneTableRow => {
    const isBase = g === c.baseline;
    const statCell = (m: Metric): Cell => {
      const s = g.stats[m];
      return { text: fmtMeanSd(s, m), num: true, title: s.n === 0 ? 'no evaluation yet' : `${s.basis === 'final' ? 'final' : 'latest'} evaluation${s.n > 1 ? `, mean ± sd over ${s.n} seeds` : `, ${s.n} seed`}` };
    };
    return {
      role: g.role,
      status: groupStatus(g),
      name: g.name,
      cells: [
        { text: g.role },
        { text: g.layers === null ? '?' : String(g.layers), num: true },
        { text: g.plan ?? (g.role === 'baseline' ? 'original' : '') },
        { text: statusText(g), ...(g.runs.some((r) => r.error) ? { title: g.runs.flatMap((r) => (r.error ? [`seed ${r.seed}: ${r.error}`] : [])).join('\n') } : {}) },
        seedsCell(g),
        { text: g.step === null ? '–' : String(g.step), num: true },
        statCell('accuracy'),
        deltaCell(g.delta.accuracy, 'accuracy', isBase),
        statCell('f1Macro'),
        deltaCell(g.delta.f1Macro, 'f1Macro', isBase),
        statCell('evalLoss'),
        deltaCell(g.delta.evalLoss, 'evalLoss', isBase),
      ],
    };
  });
  const verdicts = c.baseline ? c.groups.filter((g) => g !== c.baseline).map((g) => verdictLine(g, c.baseline!)) : [];
  const history = c.groups.flatMap((g) => g.runs.map((r) => ({
    name: r.seed === null ? r.name : `${r.name} · seed ${r.seed}`,
    seed: r.seed,
    columns: HISTORY_COLUMNS,
    rows: r.epochs.map((e): Cell[] => [
      { text: e.epoch.toFixed(2), num: true },
      { text: String(e.step), num: true },
      { text: e.at ?? '' },
      { text: pct(e.accuracy), num: true },
      { text: pct(e.f1Macro), num: true },
      { text: fixed(e.evalLoss, 4), num: true },
      { text: fixed(e.trainLoss, 4), num: true },
    ]),
  })));
  const notes = [
    ...data.runs.filter((r) => r.error).map((r) => `${r.name}${r.seed === null ? '' : ` (seed ${r.seed})`} failed: ${r.error}`),
    ...data.warnings.map((w) => `Not like for like: ${w}.`),
    ...(data.unreadable.length ? [`Could not read ${data.unreadable.join(', ')} (retried on the next change).`] : []),
  ];
  if (!c.baseline && data.runs.length > 0) notes.push('No baseline: none of these runs is the source of a deepened model, so no deltas are shown.');
  const caption =
    data.runs.length === 0
      ? 'No results yet: each run writes <model>/seed-<seed>/results.json after its first evaluation.'
      : `${data.task ? `Task ${data.task}: ` : ''}mean ± sd over seeds${c.baseline ? '; Δ paired by seed [95% interval]' : ''}${c.counts.running ? `; ${c.counts.running} run${c.counts.running === 1 ? '' : 's'} still running` : ''}`;
  const legend =
    data.runs.length === 0
      ? ''
      : `Per model: mean ± sd over its seeds of the final evaluation (while none has finished, the latest). ${
          c.baseline ? 'Δ: this model minus the baseline, paired by seed, with the 95% Student t interval of the mean difference; green or red only when the interval excludes 0. One seed gives no interval.' : 'No baseline, so no Δ.'
        }`;
  return { caption, legend, columns: FINETUNE_COLUMNS, rows, verdicts, history, notes };
}

/** The heading: "2 of 6 runs done · 1 running · 3 to start" (or "2 runs · 2 done" when the total is unknown). */
export function finetuneSummary(data: FinetuneResultsData): string {
  const c = compareFinetune(data).counts;
  const rest = [c.running ? `${c.running} running` : '', c.failed ? `${c.failed} failed` : ''];
  if (c.expected !== null) {
    const left = c.toStart ? (data.taskRunning === false ? `${c.toStart} never started` : `${c.toStart} to start`) : '';
    return [`${c.done} of ${c.expected} run${c.expected === 1 ? '' : 's'} done`, ...rest, left].filter(Boolean).join(' · ');
  }
  return [`${c.present} run${c.present === 1 ? '' : 's'}`, rest[0], c.done ? `${c.done} done` : '', rest[1]].filter(Boolean).join(' · ');
}

// ---------------------------------------------------------------- learning curves (data)

export interface CurvePoint {
  step: number;
  value: number;
}

export interface CurveSeries {
  name: string;
  role: FinetuneRun['role'];
  /** The layer plan of a deepened model (named in the figure's legend). */
  plan: string | null;
  /** One line per seed. */
  seeds: { seed: number | null; points: CurvePoint[] }[];
  /** Mean over the seeds at the steps every seed evaluated (only with two or more seeds). */
  mean: CurvePoint[];
}

/** Per model, accuracy or eval loss against step: each seed's evaluations, and their mean where all seeds have one. */
export function learningCurves(data: FinetuneResultsData, m: 'accuracy' | 'evalLoss'): CurveSeries[] {
  return compareFinetune(data).groups.map((g) => {
    const seeds = g.runs.map((r) => {
      const byStep = new Map<number, number>();
      for (const e of r.epochs) if (e[m] !== null && Number.isFinite(e[m])) byStep.set(e.step, e[m]!);
      return { seed: r.seed, points: [...byStep].sort((a, b) => a[0] - b[0]).map(([step, value]) => ({ step, value })) };
    });
    const withPoints = seeds.filter((s) => s.points.length);
    const common = withPoints.length > 1 ? withPoints[0].points.map((p) => p.step).filter((st) => withPoints.every((s) => s.points.some((p) => p.step === st))) : [];
    const meanPts = common.map((step) => ({ step, value: mean(withPoints.map((s) => s.points.find((p) => p.step === step)!.value)) }));
    return { name: g.name, role: g.role, plan: g.plan, seeds, mean: meanPts };
  });
}
