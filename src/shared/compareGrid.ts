/**
 * The per-token difference grid of Compare: for one sentence both runs probed with the same
 * tokens, each pair of states lined up by source layer (alignBySource) gets a row, and each
 * position the change A − B in the input token's log p, with whether the two top-1 differ.
 */
import type { ProbedSentence, ProbeReport } from '../core/probe/report';
import { alignBySource } from './format';

export interface DiffCell {
  /** log p(input) of A minus that of B (NaN where either has none). */
  dLogProb: number;
  top1A: number;
  top1B: number;
}

export interface DiffRow {
  /** "h3", or "h4 / h3" when the two states sit at different depths. */
  label: string;
  layerA: number;
  layerB: number;
  cells: DiffCell[];
}

/** Undefined when the two sentences are not tokenized alike (nothing to line up position by position). */
export function tokenDiffGrid(a: ProbeReport, sa: ProbedSentence, b: ProbeReport, sb: ProbedSentence): DiffRow[] | undefined {
  if (sa.ids.length !== sb.ids.length || sa.ids.some((id, p) => sb.ids[p] !== id)) return undefined;
  const index = (summary: ProbeReport['summary'], row: ProbeReport['summary'][number] | undefined) => (row ? summary.indexOf(row) : -1);
  const rows: DiffRow[] = [];
  for (const [x, y] of alignBySource(a.summary, b.summary)) {
    const la = index(a.summary, x);
    const lb = index(b.summary, y);
    if (la < 0 || lb < 0) continue;
    const A = sa.layers[la];
    const B = sb.layers[lb];
    if (!A || !B) continue;
    const num = (v: unknown) => (typeof v === 'number' ? v : NaN);
    rows.push({
      label: x!.label === y!.label ? x!.label : `${x!.label} / ${y!.label}`,
      layerA: la,
      layerB: lb,
      cells: sa.ids.map((_, p) => ({ dLogProb: num(A.inputLogProb[p]) - num(B.inputLogProb[p]), top1A: A.top1[p], top1B: B.top1[p] })),
    });
  }
  return rows;
}

/** Symmetric colour scale for Δ log p: the largest |Δ| of the grid (at least 0.1 nats) maps to the ends. */
export function diffScale(rows: DiffRow[]): number {
  const all = rows.flatMap((r) => r.cells.map((c) => Math.abs(c.dLogProb))).filter(Number.isFinite);
  return Math.max(0.1, ...all);
}

/**
 * A diverging colour for Δ in [−scale, scale]: blue where A gives the input more probability than
 * B, orange where less, near-white at 0 (opaque fills, readable on every theme; text by contrast).
 */
export function diffColor(d: number, scale: number): string {
  if (!Number.isFinite(d)) return '#808080';
  const t = Math.max(-1, Math.min(1, d / scale));
  const white = [247, 247, 247];
  const end = t >= 0 ? [33, 102, 172] : [178, 88, 24];
  const f = Math.abs(t);
  return '#' + white.map((w, k) => Math.round(w + (end[k] - w) * f).toString(16).padStart(2, '0')).join('');
}
