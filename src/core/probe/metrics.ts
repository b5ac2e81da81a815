/**
 * Per-layer figures over the counted positions: exact aggregates (counts, hits, sums, a rank
 * histogram) that merge by addition, the summary derived from them, and per-sentence rows.
 */
import { LayerAggregate, LayerCells, LayerSummary, ProbedSentence, SentenceRow } from './report';

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

function resolve(includeSpecial: boolean, options: SummaryOptions) {
  return {
    select: options.select ?? ((s: ProbedSentence, p: number) => (includeSpecial || !s.special[p]) && !isMasked(s, p)),
    cellsOf: options.cells ?? ((s: ProbedSentence) => s.layers),
    target: options.target ?? ((s: ProbedSentence, p: number) => s.ids[p]),
  };
}

/** How many rows a summary has: h0..hL, or one after-attention state per planned layer. */
function rowCount(plan: number[], options: SummaryOptions): number {
  return options.sublayers ? plan.length : plan.length + 1;
}

export function emptyAggregate(l: number, plan: number[], sublayer = false): LayerAggregate {
  const where = sublayer ? { label: `h${l + 1}·attn`, sublayer: true, sourceLayer: plan[l] } : { label: `h${l}`, sourceLayer: l === 0 ? null : plan[l - 1] };
  return { ...where, count: 0, hits: 0, unavailable: 0, sumLogProb: 0, sumEntropy: 0, sumKL: 0, rankHistogram: {} };
}

/** Per layer (h0 first), the exact figures over the counted positions of `sentences`. */
export function aggregateLayers(sentences: ProbedSentence[], plan: number[], includeSpecial: boolean, options: SummaryOptions = {}): LayerAggregate[] {
  const { select, cellsOf, target } = resolve(includeSpecial, options);
  const out: LayerAggregate[] = [];
  for (let l = 0; l < rowCount(plan, options); l++) {
    const a = emptyAggregate(l, plan, options.sublayers === true);
    for (const s of sentences) {
      const cells = cellsOf(s)?.[l];
      if (!cells) continue;
      for (let p = 0; p < s.ids.length; p++) {
        if (!select(s, p)) continue;
        a.count++;
        if (cells.top1[p] === target(s, p)) a.hits++;
        a.sumLogProb += cells.inputLogProb[p];
        a.sumEntropy += cells.entropy[p];
        a.sumKL += cells.kl[p];
        const r = cells.rank[p];
        if (Number.isNaN(r)) a.unavailable++;
        else a.rankHistogram[r] = (a.rankHistogram[r] ?? 0) + 1;
      }
    }
    out.push(a);
  }
  return out;
}

/** One row per sentence: counted positions, and per layer the hits and the sum of log p. */
export function sentenceRows(sentences: ProbedSentence[], plan: number[], includeSpecial: boolean, options: SummaryOptions = {}): SentenceRow[] {
  const { select, cellsOf, target } = resolve(includeSpecial, options);
  return sentences.map((s, k) => {
    const counted = s.ids.map((_, p) => p).filter((p) => select(s, p));
    const layers = cellsOf(s) ?? [];
    const hits: number[] = [];
    const logp: number[] = [];
    for (let l = 0; l < rowCount(plan, options); l++) {
      const cells = layers[l];
      let h = 0;
      let lp = 0;
      for (const p of counted) {
        if (cells.top1[p] === target(s, p)) h++;
        lp += cells.inputLogProb[p];
      }
      hits.push(h);
      logp.push(lp);
    }
    return { i: s.index ?? k, n: counted.length, hits, logp };
  });
}

/** Adds `b` into `a`, layer by layer (the same plan, so the same length). */
export function addAggregates(a: LayerAggregate[], b: LayerAggregate[]): void {
  a.forEach((x, l) => {
    const y = b[l];
    x.count += y.count;
    x.hits += y.hits;
    x.unavailable += y.unavailable;
    x.sumLogProb += y.sumLogProb;
    x.sumEntropy += y.sumEntropy;
    x.sumKL += y.sumKL;
    for (const [r, n] of Object.entries(y.rankHistogram)) x.rankHistogram[r] = (x.rankHistogram[r] ?? 0) + n;
  });
}

export function cloneAggregates(a: LayerAggregate[]): LayerAggregate[] {
  return a.map((x) => ({ ...x, rankHistogram: { ...x.rankHistogram } }));
}

/** The summary row of one aggregate: the one place the per-layer figures are derived. */
export function summarizeAggregate(a: LayerAggregate): LayerSummary {
  const n = a.count;
  return {
    label: a.label,
    ...(a.sublayer ? { sublayer: true } : {}),
    sourceLayer: a.sourceLayer,
    count: n,
    // A rank or top-1 computed from NaN is no figure: any unavailable cell makes both unavailable.
    accuracy: n && !a.unavailable ? a.hits / n : NaN,
    meanLogProb: n ? a.sumLogProb / n : NaN,
    medianRank: a.unavailable ? NaN : histogramMedian(a.rankHistogram),
    meanEntropy: n ? a.sumEntropy / n : NaN,
    meanKL: n ? a.sumKL / n : NaN,
  };
}

export function summarizeLayers(sentences: ProbedSentence[], plan: number[], includeSpecial: boolean, options: SummaryOptions = {}): LayerSummary[] {
  return aggregateLayers(sentences, plan, includeSpecial, options).map(summarizeAggregate);
}

/** The median of the values a sparse histogram counts (mean of the two middle ones for an even count). */
export function histogramMedian(histogram: Record<string, number>): number {
  const entries = Object.entries(histogram)
    .map(([v, n]) => [Number(v), n] as const)
    .sort((x, y) => x[0] - y[0]);
  const total = entries.reduce((t, [, n]) => t + n, 0);
  if (total === 0) return NaN;
  const valueAt = (k: number) => {
    let seen = 0;
    for (const [v, n] of entries) {
      seen += n;
      if (k < seen) return v;
    }
    return NaN;
  };
  const mid = Math.floor(total / 2);
  return total % 2 ? valueAt(mid) : (valueAt(mid - 1) + valueAt(mid)) / 2;
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
