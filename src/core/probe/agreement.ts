/**
 * How far one report is from another on the same inputs, cell by cell (layer × position): the
 * bench and the tests compare a fast run with an exact one through this.
 */
import type { ProbeReport } from './report';

export interface Agreement {
  cells: number;
  /** Share of cells with the same top-1 id. */
  top1: number;
  /** Share of cells with the same top-k ids in the same order. */
  topKOrder: number;
  meanAbsInputLogProb: number;
  maxAbsInputLogProb: number;
  maxAbsTopKLogProb: number;
  maxAbsEntropy: number;
  maxAbsKl: number;
  /** Largest rank difference, and the share of cells whose rank is identical. */
  maxAbsRank: number;
  sameRank: number;
}

export function compareReports(reference: ProbeReport, other: ProbeReport): Agreement {
  if (reference.sentences.length !== other.sentences.length) throw new Error('reports cover different inputs');
  let cells = 0;
  let top1 = 0;
  let order = 0;
  let sameRank = 0;
  let sumAbs = 0;
  const max = { input: 0, topK: 0, entropy: 0, kl: 0, rank: 0 };
  reference.sentences.forEach((s, i) => {
    const o = other.sentences[i];
    if (o.ids.length !== s.ids.length || o.layers.length !== s.layers.length) throw new Error(`sentence ${i + 1} differs between the reports`);
    s.layers.forEach((a, l) => {
      const b = o.layers[l];
      a.top1.forEach((id, p) => {
        cells++;
        if (b.top1[p] === id) top1++;
        if (a.topKIds[p].length === b.topKIds[p].length && a.topKIds[p].every((x, j) => b.topKIds[p][j] === x)) order++;
        if (a.rank[p] === b.rank[p]) sameRank++;
        const d = Math.abs(a.inputLogProb[p] - b.inputLogProb[p]);
        sumAbs += d;
        max.input = Math.max(max.input, d);
        a.topKLogProbs[p].forEach((v, j) => (max.topK = Math.max(max.topK, Math.abs(v - b.topKLogProbs[p][j]))));
        max.entropy = Math.max(max.entropy, Math.abs(a.entropy[p] - b.entropy[p]));
        max.kl = Math.max(max.kl, Math.abs(a.kl[p] - b.kl[p]));
        max.rank = Math.max(max.rank, Math.abs(a.rank[p] - b.rank[p]));
      });
    });
  });
  return {
    cells,
    top1: top1 / cells,
    topKOrder: order / cells,
    meanAbsInputLogProb: sumAbs / cells,
    maxAbsInputLogProb: max.input,
    maxAbsTopKLogProb: max.topK,
    maxAbsEntropy: max.entropy,
    maxAbsKl: max.kl,
    maxAbsRank: max.rank,
    sameRank: sameRank / cells,
  };
}
