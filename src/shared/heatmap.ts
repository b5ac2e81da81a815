/**
 * The grid's heatmap: which statistic colours a cell, its scale (linear or log), and a perceptually
 * uniform palette (viridis, van der Walt & Smith). Pure, so the webview, the exports and the tests
 * share one mapping. Cells are opaque fills with text picked for contrast, so the same colours read
 * on light, dark and high-contrast backgrounds (no transparency that fades into the theme).
 */
import type { LayerCells, ProbeReport, ProbedSentence } from '../core/probe/report';
import { fmtNum, fmtPct } from './format';

export type Statistic = 'p' | 'logp' | 'rank' | 'entropy' | 'kl' | 'top1p';

export interface StatisticInfo {
  id: Statistic;
  label: string;
  /** Which end of the scale is "closer to the input / to the final layer": it gets the bright end. */
  better: 'high' | 'low';
  scale: 'linear' | 'log';
}

export const STATISTICS: readonly StatisticInfo[] = [
  { id: 'logp', label: 'log p(input)', better: 'high', scale: 'linear' },
  { id: 'p', label: 'p(input)', better: 'high', scale: 'linear' },
  { id: 'rank', label: 'rank of the input (log scale)', better: 'low', scale: 'log' },
  { id: 'entropy', label: 'entropy (nats)', better: 'low', scale: 'linear' },
  { id: 'kl', label: 'KL→final (nats)', better: 'low', scale: 'linear' },
  { id: 'top1p', label: 'top-1 probability', better: 'high', scale: 'linear' },
];

export const DEFAULT_STATISTIC: Statistic = 'logp';

export function isStatistic(x: unknown): x is Statistic {
  return STATISTICS.some((s) => s.id === x);
}

export function statisticInfo(stat: Statistic): StatisticInfo {
  return STATISTICS.find((s) => s.id === stat)!;
}

/** The statistic's value at one cell (NaN where the cell has none, e.g. a non-finite distribution). */
export function statValue(cells: LayerCells, p: number, stat: Statistic): number {
  // NaN may arrive as null (a report that went through JSON): both mean "no figure".
  const n = (x: unknown) => (typeof x === 'number' ? x : NaN);
  switch (stat) {
    case 'p': return Math.exp(n(cells.inputLogProb[p]));
    case 'logp': return n(cells.inputLogProb[p]);
    case 'rank': return n(cells.rank[p]);
    case 'entropy': return n(cells.entropy[p]);
    case 'kl': return n(cells.kl[p]);
    case 'top1p': return Math.exp(n(cells.topKLogProbs[p]?.[0]));
  }
}

export interface Domain {
  lo: number;
  hi: number;
}

/**
 * Fixed ends where the statistic has natural ones, so that colours compare across sentences and
 * runs of one model: log p from −ln V (a uniform guess) to 0, rank 1..V, entropy 0..ln V.
 * KL has no upper bound: its top is the largest KL in the report.
 */
export function statDomain(report: ProbeReport, stat: Statistic): Domain {
  const lnV = Math.log(report.model.vocabSize);
  switch (stat) {
    case 'p':
    case 'top1p': return { lo: 0, hi: 1 };
    case 'logp': return { lo: -lnV, hi: 0 };
    case 'rank': return { lo: 1, hi: report.model.vocabSize };
    case 'entropy': return { lo: 0, hi: lnV };
    case 'kl': {
      let hi = 0;
      for (const s of report.sentences) for (const l of s.layers) for (const v of l.kl) if (Number.isFinite(v) && v > hi) hi = v;
      return { lo: 0, hi: hi > 0 ? hi : 1 };
    }
  }
}

/** Position on the palette, 0 (dark) .. 1 (bright = the "better" end); NaN stays NaN. */
export function scaleOf(stat: Statistic, value: number, d: Domain): number {
  if (Number.isNaN(value)) return NaN;
  const info = statisticInfo(stat);
  const f = (x: number) => (info.scale === 'log' ? Math.log10(Math.max(x, 1e-12)) : x);
  const lo = f(d.lo);
  const hi = f(d.hi);
  let t = hi === lo ? 0 : (f(value) - lo) / (hi - lo);
  t = Math.min(1, Math.max(0, t));
  return info.better === 'high' ? t : 1 - t;
}

// Viridis at 9 even stops (matplotlib's table); linear interpolation between them in sRGB.
const VIRIDIS = ['#440154', '#472d7b', '#3b528b', '#2c728e', '#21918c', '#28ae80', '#5ec962', '#addc30', '#fde725'];

function hex(c: string): [number, number, number] {
  return [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)) as [number, number, number];
}

/** The palette colour at t in [0, 1], as #rrggbb. */
export function colorAt(t: number): string {
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const a = hex(VIRIDIS[i]);
  const b = hex(VIRIDIS[i + 1]);
  const f = x - i;
  return '#' + a.map((v, k) => Math.round(v + (b[k] - v) * f).toString(16).padStart(2, '0')).join('');
}

/** Relative luminance (WCAG) of #rrggbb. */
export function luminance(color: string): number {
  const [r, g, b] = hex(color).map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** Black or white text on a fill, whichever contrasts more (WCAG ratio). */
export function textOn(fill: string): '#000000' | '#ffffff' {
  const L = luminance(fill);
  return (L + 0.05) / 0.05 >= 1.05 / (L + 0.05) ? '#000000' : '#ffffff';
}

/** How a value is written in legends, tooltips and labels. */
export function formatStat(stat: Statistic, value: number): string {
  if (Number.isNaN(value)) return '–';
  switch (stat) {
    case 'p':
    case 'top1p': return fmtPct(value);
    case 'rank': return Math.round(value).toLocaleString('en-US');
    case 'logp':
    case 'entropy': return fmtNum(value);
    case 'kl': return fmtNum(value, 3);
  }
}

export interface LegendTick {
  /** Position along the legend bar, 0 = left (dark) .. 1 = right (bright). */
  t: number;
  label: string;
}

/** Tick labels for the legend bar, dark end first. */
export function legendTicks(stat: Statistic, d: Domain): LegendTick[] {
  const info = statisticInfo(stat);
  let values: number[];
  if (info.scale === 'log') {
    values = [];
    for (let v = 1; v <= d.hi; v *= 10) values.push(v);
    // The top end replaces a power of ten too close to it to label apart.
    if (values.length > 1 && Math.log10(d.hi) - Math.log10(values[values.length - 1]) < 0.5) values.pop();
    values.push(d.hi);
  } else {
    values = [0, 0.25, 0.5, 0.75, 1].map((f) => d.lo + (d.hi - d.lo) * f);
  }
  return values
    .map((v) => ({ t: scaleOf(stat, v, d), label: formatStat(stat, v) }))
    .sort((a, b) => a.t - b.t);
}

/** Whether the position counts in the per-layer summary (special tokens only when asked). */
export function counted(report: ProbeReport, sentence: ProbedSentence, p: number): boolean {
  return report.includeSpecial || !sentence.special[p];
}

/**
 * Where the final answer first appears: per position, the first layer from which the top-1 equals
 * the final layer's top-1 at every later layer (the final layer itself when it only appears there).
 */
export function settleLayers(cells: LayerCells[]): number[] {
  const last = cells.length - 1;
  if (last < 0) return [];
  return cells[last].top1.map((final, p) => {
    let l = last;
    while (l > 0 && cells[l - 1].top1[p] === final) l--;
    return l;
  });
}
