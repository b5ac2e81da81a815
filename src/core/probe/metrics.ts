/** Per-layer aggregates over the counted positions of all sentences. */
import { LayerSummary, ProbedSentence } from './report';

export function summarizeLayers(sentences: ProbedSentence[], plan: number[], includeSpecial: boolean): LayerSummary[] {
  const layerCount = plan.length + 1;
  const summaries: LayerSummary[] = [];
  for (let l = 0; l < layerCount; l++) {
    let correct = 0;
    let logProb = 0;
    let entropy = 0;
    let kl = 0;
    let unavailable = 0;
    const ranks: number[] = [];
    for (const s of sentences) {
      const cells = s.layers[l];
      s.ids.forEach((id, p) => {
        if (!includeSpecial && s.special[p]) return;
        if (Number.isNaN(cells.rank[p])) unavailable++;
        if (cells.top1[p] === id) correct++;
        logProb += cells.inputLogProb[p];
        entropy += cells.entropy[p];
        kl += cells.kl[p];
        ranks.push(cells.rank[p]);
      });
    }
    const n = ranks.length;
    summaries.push({
      label: `h${l}`,
      sourceLayer: l === 0 ? null : plan[l - 1],
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
