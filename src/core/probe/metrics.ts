/** Per-layer aggregates over the counted positions of all sentences. */
import { LayerCells, LayerSummary, ProbedSentence } from './report';

export interface SummaryOptions {
  /** Which positions count; default the unmasked ones (special tokens only when asked). */
  select?: (s: ProbedSentence, p: number) => boolean;
  /** The cells to summarise; default the sentence's layers. */
  cells?: (s: ProbedSentence) => LayerCells[] | undefined;
  /** The token each position is scored against; default the input token. */
  target?: (s: ProbedSentence, p: number) => number;
  /** Sub-layer rows: cell l is the state after attention of planned layer l+1 (label `h{l+1}·attn`). */
  sublayers?: boolean;
}

export function isMasked(s: ProbedSentence, p: number): boolean {
  return s.masks?.some((m) => m.position === p) ?? false;
}

/** The gold token at a masked position with one, else undefined. */
export function goldAt(s: ProbedSentence, p: number): number | undefined {
  return s.masks?.find((m) => m.position === p)?.gold;
}

export function summarizeLayers(sentences: ProbedSentence[], plan: number[], includeSpecial: boolean, options: SummaryOptions = {}): LayerSummary[] {
  const select = options.select ?? ((s: ProbedSentence, p: number) => (includeSpecial || !s.special[p]) && !isMasked(s, p));
  const cellsOf = options.cells ?? ((s: ProbedSentence) => s.layers);
  const target = options.target ?? ((s: ProbedSentence, p: number) => s.ids[p]);
  const sub = options.sublayers === true;
  const layerCount = sub ? plan.length : plan.length + 1;
  const summaries: LayerSummary[] = [];
  for (let l = 0; l < layerCount; l++) {
    let correct = 0;
    let logProb = 0;
    let entropy = 0;
    let kl = 0;
    let unavailable = 0;
    const ranks: number[] = [];
    for (const s of sentences) {
      const cells = cellsOf(s)?.[l];
      if (!cells) continue;
      s.ids.forEach((_, p) => {
        if (!select(s, p)) return;
        if (Number.isNaN(cells.rank[p])) unavailable++;
        if (cells.top1[p] === target(s, p)) correct++;
        logProb += cells.inputLogProb[p];
        entropy += cells.entropy[p];
        kl += cells.kl[p];
        ranks.push(cells.rank[p]);
      });
    }
    const n = ranks.length;
    summaries.push({
      label: sub ? `h${l + 1}·attn` : `h${l}`,
      ...(sub ? { sublayer: true } : {}),
      sourceLayer: sub ? plan[l] : l === 0 ? null : plan[l - 1],
      count: n,
      // A rank or top-1 computed from NaN is no figure: any unavailable cell makes both unavailable.
      accuracy: n && !unavailable ? correct / n : NaN,
      meanLogProb: n ? logProb / n : NaN,
      medianRank: unavailable ? NaN : median(ranks),
      meanEntropy: n ? entropy / n : NaN,
      meanKL: n ? kl / n : NaN,
    });
  }
  return summaries;
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
