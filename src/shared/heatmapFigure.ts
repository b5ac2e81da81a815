/**
 * The heatmap of one sentence as a figure for a paper: layers × tokens coloured by the chosen
 * statistic on the grid's palette (heatmap.ts), with axis titles, a legend bar, and the model,
 * plan and statistic named in the title. The same SvgNode tree as the chart: the host serializes
 * it for SVG, the webview rasterizes that string for PNG.
 */
import type { ProbeReport } from '../core/probe/report';
import { SvgNode, svgText, truncate } from './chart';
import { displayToken } from './format';
import { colorAt, counted, legendTicks, scaleOf, Statistic, statDomain, statisticInfo, statValue, textOn, formatStat } from './heatmap';

const CELL_W = 46;
const CELL_H = 22;
const LEFT = 78;
const TOP = 58;
const TOKENS_H = 70;
const LEGEND_H = 56;

export function buildHeatmapFigure(report: ProbeReport, sentenceIndex: number, stat: Statistic, background = '#ffffff', ink = '#222222'): SvgNode {
  const sentence = report.sentences[Math.max(0, Math.min(sentenceIndex, report.sentences.length - 1))];
  const layers = sentence.layers;
  const labels = report.summary.map((s) => s.label);
  const domain = statDomain(report, stat);
  const info = statisticInfo(stat);
  const n = sentence.ids.length;
  const W = Math.max(420, LEFT + n * CELL_W + 20);
  const H = TOP + layers.length * CELL_H + TOKENS_H + LEGEND_H;
  const title = `${info.label} by layer and token · ${report.model.name} · plan ${report.planText}${report.lens ? ' · tuned lens' : ''}`;
  const children: SvgNode[] = [
    { tag: 'rect', attrs: { x: 0, y: 0, width: W, height: H, fill: background } },
    svgText(W / 2, 18, title, ink, 'middle', 13),
    svgText(W / 2, 34, truncate(`"${sentence.text}${sentence.pair ? ` ‖ ${sentence.pair}` : ''}"`, 110), ink, 'middle', 10),
  ];
  // Rows top to bottom from h0, as the panel's grid reads.
  layers.forEach((cells, l) => {
    const y = TOP + l * CELL_H;
    children.push(svgText(LEFT - 8, y + CELL_H / 2 + 4, labels[l] ?? `h${l}`, ink, 'end', 11));
    for (let p = 0; p < n; p++) {
      const value = statValue(cells, p, stat);
      const t = scaleOf(stat, value, domain);
      const fill = Number.isNaN(t) ? '#9e9e9e' : colorAt(t);
      const x = LEFT + p * CELL_W;
      const dim = !counted(report, sentence, p);
      children.push({
        tag: 'rect',
        attrs: { x, y, width: CELL_W - 1, height: CELL_H - 1, fill, ...(dim ? { 'fill-opacity': 0.35 } : {}) },
        children: [{ tag: 'title', attrs: {}, text: `${labels[l] ?? `h${l}`}, ${displayToken(sentence.tokens[p])}: ${info.label} ${formatStat(stat, value)}` }],
      });
      if (cells.top1[p] !== sentence.ids[p] && !dim && Number.isFinite(cells.top1[p])) {
        children.push({ tag: 'text', attrs: { x: x + CELL_W - 6, y: y + 10, fill: textOn(fill), 'font-size': 9, 'text-anchor': 'end' }, text: '≠' });
      }
    }
  });
  const tokensY = TOP + layers.length * CELL_H + 8;
  sentence.tokens.forEach((tok, p) => {
    const x = LEFT + p * CELL_W + CELL_W / 2;
    children.push({ tag: 'text', attrs: { x, y: tokensY, fill: ink, 'font-size': 10, 'text-anchor': 'end', transform: `rotate(-45 ${x} ${tokensY})` }, text: truncate(displayToken(tok), 12) });
  });
  children.push(svgText(LEFT + (n * CELL_W) / 2, tokensY + TOKENS_H - 14, 'token (≠: top-1 differs from the input; faded: not counted)', ink, 'middle', 11));
  const mid = TOP + (layers.length * CELL_H) / 2;
  children.push({ tag: 'text', attrs: { x: 16, y: mid, fill: ink, 'font-size': 11, 'text-anchor': 'middle', transform: `rotate(-90 16 ${mid})` }, text: 'layer (h0 = embeddings)' });
  // Legend bar: the palette from the dark end to the bright ("better") end, with the statistic's ticks.
  const ly = H - LEGEND_H + 10;
  const lw = Math.min(320, W - LEFT - 20);
  const steps = 32;
  for (let i = 0; i < steps; i++) children.push({ tag: 'rect', attrs: { x: LEFT + (i / steps) * lw, y: ly, width: lw / steps + 0.5, height: 12, fill: colorAt(i / (steps - 1)) } });
  for (const tick of legendTicks(stat, domain)) children.push(svgText(LEFT + tick.t * lw, ly + 26, tick.label, ink, 'middle', 10));
  children.push(svgText(LEFT + lw + 10, ly + 10, info.label, ink, 'start', 11));
  return {
    tag: 'svg',
    attrs: { xmlns: 'http://www.w3.org/2000/svg', viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': title, 'font-family': 'sans-serif' },
    children,
  };
}
