/**
 * 95% bootstrap intervals by sentence for the per-layer accuracy and mean log p. Sentences, not
 * positions, are the unit resampled: positions in one sentence are not independent. Each resample
 * draws n sentence indices with replacement (mulberry32, seeded, so a report is reproducible and
 * its test can redraw the same indices); its figure is the ratio of sums over the drawn sentences.
 */
import { LayerSummary, SentenceRow } from './report';

export const BOOTSTRAP_RESAMPLES = 1000;
export const BOOTSTRAP_SEED = 12345;

/** mulberry32: a small 32-bit generator; uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The q-th quantile (0..1) of sorted values, interpolating linearly (numpy's default, "type 7"). */
export function quantileSorted(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** Columnar per-sentence figures: count per sentence, hits and log p per sentence × layer. */
export interface RowColumns {
  sentences: number;
  layers: number;
  count: ArrayLike<number>;
  /** [sentence * layers + layer] */
  hits: ArrayLike<number>;
  logp: ArrayLike<number>;
}

export function rowColumns(rows: SentenceRow[], layers: number): RowColumns {
  const n = rows.length;
  const count = new Float64Array(n);
  const hits = new Float64Array(n * layers);
  const logp = new Float64Array(n * layers);
  rows.forEach((r, s) => {
    count[s] = r.n;
    for (let l = 0; l < layers; l++) {
      hits[s * layers + l] = r.hits[l];
      logp[s * layers + l] = r.logp[l];
    }
  });
  return { sentences: n, layers, count, hits, logp };
}

export interface LayerIntervals {
  accuracy: [number, number];
  meanLogProb: [number, number];
}

/** Per layer, the 2.5th and 97.5th percentiles of the resampled ratios of sums. */
export function bootstrapIntervals(rows: RowColumns, resamples = BOOTSTRAP_RESAMPLES, seed = BOOTSTRAP_SEED): LayerIntervals[] {
  const { sentences: n, layers: L } = rows;
  const acc = Array.from({ length: L }, () => new Float64Array(resamples));
  const lp = Array.from({ length: L }, () => new Float64Array(resamples));
  const random = mulberry32(seed);
  const hits = new Float64Array(L);
  const logp = new Float64Array(L);
  for (let b = 0; b < resamples; b++) {
    hits.fill(0);
    logp.fill(0);
    let count = 0;
    for (let k = 0; k < n; k++) {
      const s = Math.floor(random() * n);
      count += rows.count[s];
      const base = s * L;
      for (let l = 0; l < L; l++) {
        hits[l] += rows.hits[base + l];
        logp[l] += rows.logp[base + l];
      }
    }
    for (let l = 0; l < L; l++) {
      acc[l][b] = count ? hits[l] / count : NaN;
      lp[l][b] = count ? logp[l] / count : NaN;
    }
  }
  const interval = (values: Float64Array): [number, number] => {
    if (n === 0 || values.some(Number.isNaN)) return [NaN, NaN];
    values.sort();
    return [quantileSorted(values, 0.025), quantileSorted(values, 0.975)];
  };
  return acc.map((a, l) => ({ accuracy: interval(a), meanLogProb: interval(lp[l]) }));
}

/** The summary with its intervals; accuracy stays without one where the summary has none (NaN). */
export function withIntervals(summary: LayerSummary[], intervals: LayerIntervals[]): LayerSummary[] {
  return summary.map((s, l) => ({
    ...s,
    accuracyCI: Number.isNaN(s.accuracy) ? [NaN, NaN] : intervals[l].accuracy,
    meanLogProbCI: intervals[l].meanLogProb,
  }));
}
