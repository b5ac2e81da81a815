/**
 * A token's trajectory (ecco's rankings_watch) as small multiples: one panel per position, the
 * token's rank across the layers on a log scale, rank 1 at the dashed line. The panel draws it in
 * the theme's colour (currentColor); the export names the model, plan and token and uses ink.
 */
import type { ProbedSentence, ProbeReport, TokenTrajectory } from '../core/probe/report';
import { type SvgNode, svgText } from './chart';
import { displayToken } from './format';
import { colorAt } from './heatmap';

const W = 96;
const H = 64;
const PAD = 14;
const GAP = 6;

export interface TrajectoryFigureOptions {
  /** Stroke and text colour: 'currentColor' in the panel, a literal colour in exports. */
  ink: string;
  /** Exports get a title, axis notes and a background; the panel has its own caption. */
  figure?: { report: ProbeReport; background: string };
}

export function buildTrajectoryFigure(s: ProbedSentence, t: TokenTrajectory, vocabSize: number, options: TrajectoryFigureOptions): SvgNode {
  const L = t.rank.length;
  const ink = options.ink;
  const top = options.figure ? 44 : 0;
  const bottom = options.figure ? 22 : 0;
  const left = options.figure ? 10 : 0;
  const y = (r: number) => top + PAD + (Math.log10(Math.max(1, r)) / Math.log10(vocabSize)) * (H - 2 * PAD);
  const x = (l: number) => 6 + (l / Math.max(1, L - 1)) * (W - 12);
  const children: SvgNode[] = [];
  const width = Math.max(options.figure ? 420 : 0, left * 2 + s.ids.length * (W + GAP));
  const height = top + H + bottom;
  const label = `rank of "${t.tokenText}" across layers h0-h${L - 1} at each of ${s.ids.length} positions (log scale, rank 1 at the dashed line)`;
  if (options.figure) {
    const { report, background } = options.figure;
    children.push({ tag: 'rect', attrs: { x: 0, y: 0, width, height, fill: background } });
    children.push(svgText(width / 2, 18, `Trajectory of "${t.tokenText}" · ${report.model.name} · plan ${report.planText}`, ink, 'middle', 13));
    children.push(svgText(width / 2, 34, `${label}; each panel: layers h0 → h${L - 1} left to right`, ink, 'middle', 10));
  }
  s.ids.forEach((_, p) => {
    const ox = left + p * (W + GAP);
    const pts = t.rank.map((row, l) => ({ l, r: row[p] })).filter((q) => typeof q.r === 'number' && Number.isFinite(q.r));
    const d = pts.map((q, i) => `${i ? 'L' : 'M'}${(ox + x(q.l)).toFixed(1)},${y(q.r).toFixed(1)}`).join(' ');
    children.push({ tag: 'rect', attrs: { x: ox, y: top, width: W, height: H, fill: 'none', stroke: ink, 'stroke-opacity': 0.35 } });
    children.push({ tag: 'line', attrs: { x1: ox, x2: ox + W, y1: y(1), y2: y(1), stroke: ink, 'stroke-opacity': 0.25, 'stroke-dasharray': '2 2' } });
    children.push(svgText(ox + 3, top + 10, displayToken(s.tokens[p]).slice(0, 14), ink, 'start', 9));
    if (d) children.push({ tag: 'path', attrs: { d, fill: 'none', stroke: colorAt(0.55), 'stroke-width': 2 } });
    for (const q of pts) {
      children.push({
        tag: 'circle',
        attrs: { cx: (ox + x(q.l)).toFixed(1), cy: y(q.r).toFixed(1), r: 2.5, fill: q.r === 1 ? colorAt(1) : colorAt(0.55), stroke: ink, 'stroke-width': 0.5 },
        children: [{ tag: 'title', attrs: {}, text: `h${q.l}: rank ${q.r}` }],
      });
    }
    const last = t.rank[L - 1][p];
    children.push(svgText(ox + 3, top + H - 3, `h${L - 1}: rank ${typeof last === 'number' ? last : '–'}`, ink, 'start', 9));
  });
  if (options.figure) children.push(svgText(width / 2, height - 6, 'position (token of the input) · y: rank, log scale, 1 at the top', ink, 'middle', 10));
  return { tag: 'svg', attrs: { xmlns: 'http://www.w3.org/2000/svg', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label, 'font-family': 'sans-serif' }, children };
}
