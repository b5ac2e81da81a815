/**
 * The webview's saved state (setState), re-validated when VS Code hands it back after a reload.
 * The page wrote it, so it is as untrusted as any message: a revived run whose fields do not fit the
 * protocol is dropped (and said so), and a run is re-run only on a model folder the host itself
 * probed (the host keeps that list outside the webview), so saved state cannot make it probe a path.
 */
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../core/probe/providerNames';
import type { FinetuneResultsData } from './finetune';
import { HostState, PanelRun, RUNS_KEPT_LIMIT, UiState, uiStateSchema, WebviewState } from './protocol';
import { arr, bool, Infer, lit, metric, nullable, num, obj, opt, record, Same, SameFields, Schema, str } from './schema';

const MAX_SENTENCES = 100_000;
const MAX_TOKENS = 100_000;
const MAX_LAYERS = 1025;
const MAX_TOP_K = 1000;

const metrics = (max: number) => arr(metric(), max);
const ints = (max: number) => arr(num({ int: true }), max);

const layerCellsSchema = obj({
  top1: metrics(MAX_TOKENS),
  inputLogProb: metrics(MAX_TOKENS),
  rank: metrics(MAX_TOKENS),
  entropy: metrics(MAX_TOKENS),
  kl: metrics(MAX_TOKENS),
  topKIds: arr(ints(MAX_TOP_K), MAX_TOKENS),
  topKLogProbs: arr(metrics(MAX_TOP_K), MAX_TOKENS),
});

const sentenceSchema = obj({
  index: opt(num({ int: true, min: 0 })),
  text: str(),
  pair: opt(str()),
  ids: ints(MAX_TOKENS),
  tokens: arr(str(1000), MAX_TOKENS),
  special: arr(bool(), MAX_TOKENS),
  layers: arr(layerCellsSchema, MAX_LAYERS),
  truncatedFrom: opt(num({ int: true, min: 0 })),
  masks: opt(arr(obj({ position: num({ int: true, min: 0 }), gold: opt(num({ int: true, min: 0 })), source: lit('text', 'masked') }), MAX_TOKENS)),
  pll: opt(arr(layerCellsSchema, MAX_LAYERS)),
  sublayers: opt(arr(layerCellsSchema, MAX_LAYERS)),
});

const summarySchema = obj({
  label: str(100),
  sublayer: opt(bool()),
  sourceLayer: nullable(num({ int: true, min: 0 })),
  count: num({ int: true, min: 0 }),
  accuracy: metric(),
  meanLogProb: metric(),
  medianRank: metric(),
  meanEntropy: metric(),
  meanKL: metric(),
  accuracyCI: opt(tuple2()),
  meanLogProbCI: opt(tuple2()),
});

function tuple2(): Schema<[number, number]> {
  const pair = arr(metric(), 2);
  return { check: (v, at) => pair.check(v, at) ?? ((v as number[]).length === 2 ? undefined : `${at} must hold 2 numbers`) } as Schema<[number, number]>;
}

const aggregateSchema = obj({
  label: str(100),
  sublayer: opt(bool()),
  sourceLayer: nullable(num({ int: true, min: 0 })),
  count: num({ int: true, min: 0 }),
  hits: num({ int: true, min: 0 }),
  unavailable: num({ int: true, min: 0 }),
  sumLogProb: metric(),
  sumEntropy: metric(),
  sumKL: metric(),
  rankHistogram: record(num({ int: true, min: 0 }), 10_000_000),
});

const rowSchema = obj({
  i: num({ int: true, min: 0 }),
  n: num({ int: true, min: 0 }),
  hits: ints(MAX_LAYERS),
  logp: metrics(MAX_LAYERS),
});

/** A probe report (report.ts), as the saved state and `layer-lens merge` read it. */
export const reportSchema = obj({
  model: obj({
    path: str(4096),
    name: str(1000),
    family: str(200),
    modelType: str(200),
    numLayers: num({ int: true, min: 1 }),
    hiddenSize: num({ int: true, min: 1 }),
    vocabSize: num({ int: true, min: 1 }),
    weightsFile: str(4096),
    dtype: str(50),
    weightsBytes: opt(num({ int: true, min: 0 })),
    tokenizerFile: opt(str(4096)),
    tokenizerSha256: opt(str(64)),
  }),
  schemaVersion: opt(num({ int: true, min: 1 })),
  plan: ints(MAX_LAYERS),
  planText: str(10_000),
  topK: num({ int: true, min: 1, max: MAX_TOP_K }),
  includeSpecial: bool(),
  sentences: arr(sentenceSchema, MAX_SENTENCES),
  summary: arr(summarySchema, MAX_LAYERS),
  aggregates: opt(arr(aggregateSchema, MAX_LAYERS)),
  rows: opt(arr(rowSchema, 10_000_000)),
  corpus: opt(
    obj({
      file: opt(str(4096)),
      totalSentences: num({ int: true, min: 0 }),
      shard: opt(obj({ index: num({ int: true, min: 1 }), count: num({ int: true, min: 1 }), scheme: lit('stride') })),
      probed: num({ int: true, min: 0 }),
      fullSentences: num({ int: true, min: 0 }),
      partial: opt(bool()),
      mergedFrom: opt(arr(str(4096), 100_000)),
    }),
  ),
  bootstrap: opt(
    obj({ resamples: num({ int: true, min: 1 }), seed: num({ int: true }), unit: lit('sentence'), estimator: lit('ratio of sums'), interval: lit('percentile 2.5/97.5') }),
  ),
  pllAggregates: opt(arr(aggregateSchema, MAX_LAYERS)),
  maskToken: opt(str(1000)),
  maskSummary: opt(arr(summarySchema, MAX_LAYERS)),
  pllSummary: opt(arr(summarySchema, MAX_LAYERS)),
  pllCost: opt(obj({ sequences: num({ int: true, min: 0 }), tokens: num({ int: true, min: 0 }), runMs: metric() })),
  sublayerSummary: opt(arr(summarySchema, MAX_LAYERS)),
  lens: opt(obj({ kind: lit('tuned'), dir: str(4096), steps: num({ int: true, min: 0 }), corpus: str(4096) })),
  backend: opt(obj({ name: lit('pytorch'), device: str(100), dtype: lit('fp32', 'bf16'), processes: num({ int: true, min: 1 }), torch: str(100), transformers: str(100) })),
  executionProvider: opt(
    obj({
      asked: lit(...EXECUTION_PROVIDERS),
      ran: lit(...EXECUTION_PROVIDERS.filter((p): p is ExecutionProvider => p !== 'auto')),
      parity: opt(obj({ cells: metric(), maxAbsLogProb: metric(), top1: metric() })),
      fallback: opt(str(1000)),
    }),
  ),
  vocab: record(str(1000), 10_000_000),
  warnings: arr(str(10_000), 10_000),
  timing: obj({ sessionMs: metric(), runMs: metric(), tokens: metric(), peakRssMb: metric() }),
  fast: opt(
    obj({
      candidates: num({ int: true, min: 1 }),
      kernel: str(200),
      approximate: arr(str(200), 100),
      calibration: obj({
        cells: metric(),
        top1Agreement: metric(),
        topKAgreement: metric(),
        maxAbsInputLogProb: metric(),
        meanAbsInputLogProb: metric(),
        maxAbsTopKLogProb: metric(),
        maxAbsEntropy: metric(),
        maxAbsKl: metric(),
        maxAbsRank: metric(),
      }),
    }),
  ),
});

export const panelRunSchema = obj({
  id: str(200),
  label: str(1000),
  source: lit('input', 'selection', 'corpus', 'api'),
  createdAt: num(),
  report: reportSchema,
});

const finetuneEvalSchema = obj({
  epoch: num(),
  step: num({ int: true, min: 0 }),
  at: opt(lit('epoch', 'step', 'end')),
  accuracy: nullable(metric()),
  f1Macro: nullable(metric()),
  evalLoss: nullable(metric()),
  trainLoss: nullable(metric()),
});

export const finetuneResultsSchema = obj({
  outDir: str(4096),
  task: nullable(str(1000)),
  runs: arr(
    obj({
      name: str(1000),
      model: str(4096),
      role: lit('baseline', 'deepened', 'model'),
      layers: nullable(num({ int: true, min: 0 })),
      plan: nullable(str(10_000)),
      status: lit('running', 'done', 'failed'),
      backend: str(100),
      seed: nullable(num({ int: true })),
      latest: nullable(finetuneEvalSchema),
      isFinal: bool(),
      epochs: arr(finetuneEvalSchema, 100_000),
      error: opt(str(10_000)),
    }),
    1000,
  ),
  warnings: arr(str(10_000), 1000),
  unreadable: arr(str(4096), 1000),
  updatedAt: num(),
  expected: opt(num({ int: true, min: 0, max: 100_000 })),
  taskRunning: opt(bool()),
});

// Compile-time: the schemas describe the protocol's types.
const runMatches: SameFields<Infer<typeof panelRunSchema>, PanelRun> = true;
const finetuneMatches: SameFields<Infer<typeof finetuneResultsSchema>, FinetuneResultsData> = true;
void runMatches;
void finetuneMatches;

export interface RevivedState {
  host: HostState;
  ui?: UiState;
  finetune?: FinetuneResultsData;
  /** What was dropped and why, one line each, for the log. */
  dropped: string[];
}

function checked<T>(schema: Schema<T>, value: unknown, at: string, dropped: string[]): T | undefined {
  if (value === undefined) return undefined;
  const problem = schema.check(value, at);
  if (problem) {
    dropped.push(problem);
    return undefined;
  }
  return value as T;
}

/** The saved state VS Code handed back, keeping only what fits the protocol. */
export function reviveWebviewState(saved: unknown): RevivedState {
  const dropped: string[] = [];
  if (saved === undefined || saved === null) return { host: { runs: [] }, dropped };
  if (typeof saved !== 'object' || Array.isArray(saved)) return { host: { runs: [] }, dropped: ['the saved state is not an object'] };
  const s = saved as Partial<Record<keyof WebviewState, unknown>>;
  const host = (typeof s.host === 'object' && s.host !== null ? s.host : {}) as Record<string, unknown>;
  const savedRuns = Array.isArray(host.runs) ? host.runs.slice(-RUNS_KEPT_LIMIT) : [];
  if (s.host !== undefined && !Array.isArray(host.runs)) dropped.push('host.runs is not an array');
  const runs = savedRuns.flatMap((r, i) => checked(panelRunSchema, r, `host.runs[${i}]`, dropped) ?? []);
  const known = (v: unknown) => (typeof v === 'string' && runs.some((r) => r.id === v) ? v : undefined);
  const state: HostState = { runs };
  const focusRunId = known(host.focusRunId);
  const compareRunId = known(host.compareRunId);
  if (focusRunId) state.focusRunId = focusRunId;
  if (compareRunId) state.compareRunId = compareRunId;
  const out: RevivedState = { host: state, dropped };
  const ui = checked(uiStateSchema, s.ui, 'ui', dropped);
  if (ui) out.ui = ui;
  const finetune = checked(finetuneResultsSchema, s.finetune, 'finetune', dropped);
  if (finetune) out.finetune = finetune;
  return out;
}

/**
 * Why the panel must not re-run `run`, or undefined when it may: the host re-runs only a model
 * folder it probed itself (`probedByHost`, kept in the extension's own storage).
 */
export function rerunRefusal(run: PanelRun, probedByHost: readonly string[]): string | undefined {
  const dir = run.report.model.path;
  if (!probedByHost.includes(dir)) {
    return `not re-running "${run.label}": ${dir} is not a model folder Layer Lens probed here; probe it with "Layer Lens: Probe Model" first`;
  }
  return undefined;
}
