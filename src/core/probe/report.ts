/**
 * What a probe returns: per layer and position, and per layer in aggregate. Plain JSON.
 *
 * Schema version 2 (REPORT_SCHEMA_VERSION) adds what a merge of sharded corpus runs needs to be
 * exact: `aggregates` (per layer: counts, top-1 hits, sums, a sparse rank histogram), `rows` (per
 * sentence: count, and per layer hits and sum of log p, for bootstrap intervals by sentence) and
 * `corpus` (which sentences of which file, which shard, whether the run was cut short). `summary`
 * is always `summarizeAggregate` of `aggregates` (metrics.ts): a writer of this schema (the ORT
 * engine, the PyTorch backend, `layer-lens merge`) derives it the same way. Non-finite numbers are
 * written as the strings "NaN", "Infinity", "-Infinity" (export.ts reportToJson).
 */

/** Bump when a field's meaning changes; `layer-lens merge` refuses reports of another version. */
export const REPORT_SCHEMA_VERSION = 2;

import type { ExecutionProviderInfo } from './providerNames';

export interface LayerCells {
  /** Top-1 token id at each position. */
  top1: number[];
  /** log p(input token) at each position. */
  inputLogProb: number[];
  /** Rank of the input token (1 = best). */
  rank: number[];
  /** Entropy of the distribution, in nats. */
  entropy: number[];
  /** KL(final layer ‖ this layer), in nats. */
  kl: number[];
  /** Top-k ids and log-probs at each position, best first. */
  topKIds: number[][];
  topKLogProbs: number[][];
}

export interface ProbedSentence {
  /** 0-based index of the sentence in its corpus (non-blank lines of the --file, in order); absent for --text runs before v2. */
  index?: number;
  text: string;
  pair?: string;
  ids: number[];
  tokens: string[];
  /** True where the token is special ([CLS], [SEP], …) and so excluded unless asked. */
  special: boolean[];
  /** Index 0 is h0 (embeddings), then one entry per planned layer. */
  layers: LayerCells[];
  truncatedFrom?: number;
  /**
   * Positions holding the model's mask token: their target is unknown, so they are left out of the
   * per-layer summary; where a gold token is known its log p and rank fill the cells (else NaN).
   */
  masks?: MaskedPosition[];
  /**
   * "Mask each token in turn": cell (l, p) is layer l at position p when p alone is masked, scored
   * against the input token (per-layer pseudo-log-likelihood). Uncounted positions hold NaN.
   */
  pll?: LayerCells[];
  /**
   * Sub-layer lens (asked for): entry i is the state after the attention block of planned layer i+1,
   * before its MLP, shown as `h{i+1}·attn` between h{i} and h{i+1}.
   */
  sublayers?: LayerCells[];
}

export interface MaskedPosition {
  position: number;
  /** The token the mask stands for, when given (--mask-gold, or "mask this word"). */
  gold?: number;
  /** Typed as the mask token in the text, or masked by the probe (the original token is the gold). */
  source: 'text' | 'masked';
}

export interface LayerSummary {
  /** Row label: h0, h1, …; `h3·attn` for a sub-layer row. */
  label: string;
  /** True for a sub-layer row: the state after the layer's attention block, before its MLP. */
  sublayer?: boolean;
  /** Which encoder layer produced this state (null for h0). */
  sourceLayer: number | null;
  /** Positions counted (special tokens and padding excluded unless asked). */
  count: number;
  accuracy: number;
  meanLogProb: number;
  medianRank: number;
  meanEntropy: number;
  meanKL: number;
  /**
   * 95% bootstrap intervals over sentences (core/probe/bootstrap.ts): `resamples` resamples of the
   * sentences with replacement (seeded), each figure the ratio of sums (sum of hits / sum of counts,
   * sum of log p / sum of counts), the interval the 2.5th and 97.5th percentiles (linear
   * interpolation, numpy's default). Absent when the report has no per-sentence rows.
   */
  accuracyCI?: [number, number];
  meanLogProbCI?: [number, number];
}

/**
 * One layer's exact, mergeable figures over the counted positions: merging adds the numbers and
 * the histogram entries (mergeAggregates), and the summary follows from them (summarizeAggregate).
 */
export interface LayerAggregate {
  label: string;
  /** A sub-layer row (the state after attention of a planned layer). */
  sublayer?: boolean;
  sourceLayer: number | null;
  /** Positions counted (the same rule as LayerSummary.count). */
  count: number;
  /** Positions whose top-1 is the target token. */
  hits: number;
  /** Positions whose rank and top-1 are unavailable (non-finite outputs); any makes accuracy and median rank NaN. */
  unavailable: number;
  /** Sums over the counted positions, in nats (NaN once any term is NaN). */
  sumLogProb: number;
  sumEntropy: number;
  sumKL: number;
  /** Sparse rank → number of positions with that rank (1 = best); keys are decimal integers. Unavailable ranks are not in it. */
  rankHistogram: Record<string, number>;
}

/**
 * One sentence's figures, compact: enough to resample by sentence. Written for every sentence of
 * a corpus run (full per-position cells are kept only for the first CorpusInfo.fullSentences).
 */
export interface SentenceRow {
  /** 0-based corpus index (ProbedSentence.index). */
  i: number;
  /** Positions counted in this sentence (the same at every layer). */
  n: number;
  /** Per layer (h0 first): top-1 hits. */
  hits: number[];
  /** Per layer (h0 first): sum of log p(target) over the counted positions. */
  logp: number[];
}

export interface CorpusInfo {
  /** The --file as given (absent for --text runs). */
  file?: string;
  /** Sentences in the whole corpus (all shards), i.e. non-blank lines of the file. */
  totalSentences: number;
  /** Which sentences this report holds: shard `index` of `count` (1-based) takes corpus indices i with i % count === index - 1. */
  shard?: { index: number; count: number; scheme: 'stride' };
  /** Sentences probed into this report (rows.length). */
  probed: number;
  /** Full per-position cells (`sentences`) are kept for this many sentences at most: those with the smallest corpus indices. */
  fullSentences: number;
  /** True when the run was cancelled: the figures cover only the sentences probed before it stopped. */
  partial?: boolean;
  /** Shard reports this one was merged from (`layer-lens merge`), by file. */
  mergedFrom?: string[];
}

export interface ModelInfo {
  path: string;
  name: string;
  family: string;
  modelType: string;
  numLayers: number;
  hiddenSize: number;
  vocabSize: number;
  weightsFile: string;
  dtype: string;
  /** Total bytes of the weight files: with the path, what merge checks to tell two models apart. */
  weightsBytes?: number;
  /** The tokenizer file the run used (tokenizer.json, vocab.txt, or the SentencePiece model) and its SHA-256 (hex). */
  tokenizerFile?: string;
  tokenizerSha256?: string;
}

export interface ProbeReport {
  /** REPORT_SCHEMA_VERSION of the writer; absent in reports older than version 2. */
  schemaVersion?: number;
  model: ModelInfo;
  /** Encoder layers in run order. */
  plan: number[];
  planText: string;
  topK: number;
  includeSpecial: boolean;
  /** Full per-position cells; for a corpus run only the first CorpusInfo.fullSentences sentences. */
  sentences: ProbedSentence[];
  /** Derived from `aggregates` (summarizeAggregate), plus bootstrap intervals from `rows`. */
  summary: LayerSummary[];
  /** Per layer (h0 first), the exact figures `summary` comes from. */
  aggregates?: LayerAggregate[];
  /** One row per probed sentence, in corpus order. */
  rows?: SentenceRow[];
  /** The corpus, the shard and completeness. */
  corpus?: CorpusInfo;
  /** How the summary's intervals were drawn (bootstrap.ts); absent when there are none. */
  bootstrap?: { resamples: number; seed: number; unit: 'sentence'; estimator: 'ratio of sums'; interval: 'percentile 2.5/97.5' };
  /** The same over the positions masked in turn (--mask-each): mergeable like `aggregates`. */
  pllAggregates?: LayerAggregate[];
  /** Token strings for every id that appears in the report, so a viewer needs no vocabulary. */
  vocab: Record<number, string>;
  warnings: string[];
  timing: { sessionMs: number; runMs: number; tokens: number; peakRssMb: number };
  /** The model's mask token, when the run has masked positions or masked each token in turn. */
  maskToken?: string;
  /** Per layer over the masked positions that have a gold token: accuracy, log p and rank of the gold. */
  maskSummary?: LayerSummary[];
  /** Per layer over every counted position masked in turn (see ProbedSentence.pll). */
  pllSummary?: LayerSummary[];
  /** What masking each token in turn cost: one sequence per masked position. */
  pllCost?: { sequences: number; tokens: number; runMs: number };
  /** Sub-layer lens rows (asked for): after attention of planned layer 1, 2, …; see summaryRows. */
  sublayerSummary?: LayerSummary[];
  /** Present when the states were read through a tuned lens (absent: the raw lens). */
  lens?: { kind: 'tuned'; dir: string; steps: number; corpus: string };
  /** Present when the PyTorch backend (python/probe_torch.py) made the report; absent: this engine (onnxruntime). */
  backend?: { name: 'pytorch'; device: string; dtype: 'fp32' | 'bf16'; processes: number; torch: string; transformers: string };
  /** Present when an execution provider other than the CPU was asked for: which ran, its parity, any fallback. */
  executionProvider?: ExecutionProviderInfo;
  /** Present when the run used fast mode (int8 decoder, exact rescoring): what is approximate, by how much. */
  fast?: FastModeInfo;
}

export interface FastModeInfo {
  /** Candidates per row rescored exactly in fp32 (top-k ids, their order and the input logit are exact). */
  candidates: number;
  /** The int8 GEMM kernel onnxruntime runs for the decoder on this CPU. */
  kernel: string;
  /** Figures that come from the int8 log-sum-exp or the int8 logits beyond the candidates. */
  approximate: string[];
  /** Fast vs exact on a sample of this run's own layer × position cells. */
  calibration: {
    cells: number;
    top1Agreement: number;
    topKAgreement: number;
    maxAbsInputLogProb: number;
    meanAbsInputLogProb: number;
    maxAbsTopKLogProb: number;
    maxAbsEntropy: number;
    maxAbsKl: number;
    maxAbsRank: number;
  };
}

/** One token followed through every layer and position (ecco's rankings_watch): log p and rank, [layer][position]. */
export interface TokenTrajectory {
  token: number;
  tokenText: string;
  logProb: number[][];
  rank: number[][];
}

/**
 * The per-layer rows in display order: h0, then for each planned layer its sub-layer row (when the
 * report has them) followed by the layer's own row.
 */
export function summaryRows(report: Pick<ProbeReport, 'summary' | 'sublayerSummary'>, rows: LayerSummary[] = report.summary): LayerSummary[] {
  return inDisplayOrder(rows, rows === report.summary ? report.sublayerSummary : undefined);
}

/** Layer rows h0..hL with sub-layer row l (after the attention of planned layer l+1) put before h(l+1). */
export function inDisplayOrder<T>(layers: T[], sublayers: T[] | undefined): T[] {
  if (!sublayers) return layers;
  return layers.flatMap((row, l) => (l === 0 || !sublayers[l - 1] ? [row] : [sublayers[l - 1], row]));
}
