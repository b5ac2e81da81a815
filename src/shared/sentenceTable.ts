/**
 * The Sentences table of a run: one row per sentence with its accuracy and mean log p at two
 * chosen layers and the change between them, sorted by any column and filtered by text, so the
 * sentences a layer helps or hurts most are found. Pure functions: the webview renders, the unit
 * tests check the numbers.
 */
import type { ProbedSentence, ProbeReport } from '../core/probe/report';

export const SENTENCE_SORT_KEYS = ['index', 'tokens', 'accA', 'accB', 'delta', 'lp'] as const;
export type SentenceSortKey = (typeof SENTENCE_SORT_KEYS)[number];

export interface SentenceTableState {
  sort: SentenceSortKey;
  descending: boolean;
  /** Case-insensitive substring of the sentence (or its pair). */
  filter: string;
  /** The two states compared, h0 = 0; the change is B − A. */
  layerA: number;
  layerB: number;
}

export interface SentenceTableRow {
  /** Position in report.sentences (what the Layers view opens). */
  at: number;
  index: number;
  text: string;
  tokens: number;
  /** Counted positions (0: every token special or masked; the figures are then NaN). */
  counted: number;
  accA: number;
  accB: number;
  /** accB − accA, in accuracy points (0–1). */
  delta: number;
  /** Mean log p(input) at layer B. */
  lp: number;
}

export function defaultSentenceTable(report: ProbeReport): SentenceTableState {
  return { sort: 'index', descending: false, filter: '', layerA: 0, layerB: report.plan.length };
}

/** The same counting as the summary: special tokens only when the run includes them, masked positions never. */
function layerFigures(s: ProbedSentence, layer: number, includeSpecial: boolean): { n: number; acc: number; lp: number } {
  const cells = s.layers[Math.min(layer, s.layers.length - 1)];
  let n = 0;
  let hits = 0;
  let lp = 0;
  s.ids.forEach((id, p) => {
    if ((s.special[p] && !includeSpecial) || s.masks?.some((m) => m.position === p)) return;
    n++;
    if (cells.top1[p] === id) hits++;
    lp += cells.inputLogProb[p];
  });
  return { n, acc: n ? hits / n : NaN, lp: n ? lp / n : NaN };
}

export function sentenceTableRows(report: ProbeReport, state: SentenceTableState): SentenceTableRow[] {
  return report.sentences.map((s, at) => {
    const a = layerFigures(s, state.layerA, report.includeSpecial);
    const b = layerFigures(s, state.layerB, report.includeSpecial);
    return { at, index: s.index ?? at, text: s.pair !== undefined ? `${s.text} ||| ${s.pair}` : s.text, tokens: s.ids.length, counted: b.n, accA: a.acc, accB: b.acc, delta: b.acc - a.acc, lp: b.lp };
  });
}

/** Filtered by text, then sorted (NaN last whichever the direction; ties keep corpus order). */
export function sortAndFilter(rows: SentenceTableRow[], state: SentenceTableState): SentenceTableRow[] {
  const needle = state.filter.trim().toLowerCase();
  const kept = needle ? rows.filter((r) => r.text.toLowerCase().includes(needle)) : rows;
  const sign = state.descending ? -1 : 1;
  return [...kept].sort((x, y) => {
    const a = x[state.sort];
    const b = y[state.sort];
    const aNaN = Number.isNaN(a);
    const bNaN = Number.isNaN(b);
    if (aNaN || bNaN) return aNaN === bNaN ? x.index - y.index : aNaN ? 1 : -1;
    return a === b ? x.index - y.index : sign * (a - b);
  });
}
