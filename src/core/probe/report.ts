/** What a probe returns: per layer and position, and per layer in aggregate. Plain JSON. */

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
}

export interface ProbeReport {
  model: ModelInfo;
  /** Encoder layers in run order. */
  plan: number[];
  planText: string;
  topK: number;
  includeSpecial: boolean;
  sentences: ProbedSentence[];
  summary: LayerSummary[];
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
  const sub = rows === report.summary ? report.sublayerSummary : undefined;
  if (!sub) return rows;
  return rows.flatMap((row, l) => (l === 0 || !sub[l - 1] ? [row] : [sub[l - 1], row]));
}
