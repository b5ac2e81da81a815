/**
 * The accuracy and mean log-prob charts (small multiples) as a tiny SVG tree. The webview turns the tree into DOM
 * nodes (createElementNS + textContent, never innerHTML); the host serializes the same tree for
 * the SVG export. One geometry, two renderers, no markup pasting.
 */
import type { LayerSummary, ProbeReport } from '../core/probe/report';

export interface SvgNode {
  tag: string;
  attrs: Record<string, string | number>;
  text?: string;
  children?: SvgNode[];
}

export interface ChartSeries {
  name: string;
  summary: LayerSummary[];
}

export interface ChartColors {
  /** One pair per series: [accuracy, logprob]. */
  series: [string, string][];
  axis: string;
  grid: string;
  text: string;
  background?: string;
}

/** Theme-following colours for the webview (CSS variables); the export uses literal ones. */
export const THEME_COLORS: ChartColors = {
  series: [
    ['var(--vscode-charts-blue, #3794ff)', 'var(--vscode-charts-orange, #d18616)'],
    ['var(--vscode-charts-purple, #b180d7)', 'var(--vscode-charts-green, #89d185)'],
  ],
  axis: 'var(--vscode-foreground, #888)',
  grid: 'var(--vscode-editorWidget-border, #8884)',
  text: 'var(--vscode-foreground, #888)',
};

export const EXPORT_COLORS: ChartColors = {
  series: [
    ['#1f77b4', '#ff7f0e'],
    ['#9467bd', '#2ca02c'],
  ],
  axis: '#333333',
  grid: '#dddddd',
  text: '#222222',
  background: '#ffffff',
};

const W = 640;
const PANEL_H = 210;
const M = { left: 64, right: 20, top: 30, bottom: 44 };
const HEADER = 44;

/** What the figure is of, named in its title so an exported SVG/PNG stands on its own. */
export interface ChartSubject {
  model: string;
  plan: string;
  lens?: string;
}

export function chartSubject(report: ProbeReport): ChartSubject {
  return { model: report.model.name, plan: report.planText, ...(report.lens ? { lens: 'tuned lens' } : {}) };
}

/** Compare's two runs as the chart's series: A, then the baseline B. */
export function compareSeries(a: { label: string; report: ProbeReport }, b: { label: string; report: ProbeReport }): ChartSeries[] {
  return [{ name: `A: ${a.label}`, summary: a.report.summary }, { name: `B (baseline): ${b.label}`, summary: b.report.summary }];
}

export function compareSubject(a: ProbeReport, b: ProbeReport): ChartSubject {
  const both = (x: string, y: string) => (x === y ? x : `${x} vs ${y}`);
  return { model: both(a.model.name, b.model.name), plan: both(a.planText, b.planText), ...(a.lens || b.lens ? { lens: both(a.lens ? 'tuned lens' : 'raw lens', b.lens ? 'tuned lens' : 'raw lens') } : {}) };
}

/**
 * Small multiples: accuracy by layer, then mean log p(input) by layer, each with its own y-axis
 * and axis titles (one axis per chart: two scales on one plot read badly). 95% bootstrap
 * intervals, when the summary has them, are drawn as whiskers.
 */
export function buildChart(series: ChartSeries[], colors: ChartColors = THEME_COLORS, subject?: ChartSubject): SvgNode {
  const layers = Math.max(1, ...series.map((s) => s.summary.length));
  const legendRows = series.length > 1 ? series.length : 0;
  const top = HEADER + legendRows * 14;
  const H = top + 2 * PANEL_H;
  const title = subject ? `Reconstruction by layer · ${subject.model} · plan ${subject.plan}${subject.lens ? ` · ${subject.lens}` : ''}` : 'Reconstruction by layer';
  const children: SvgNode[] = [];
  if (colors.background) children.push({ tag: 'rect', attrs: { x: 0, y: 0, width: W, height: H, fill: colors.background } });
  children.push(svgText(W / 2, 18, truncate(title, 90), colors.text, 'middle', 13));
  children.push(svgText(W / 2, 34, 'each layer\'s state read by the model\'s own MLM head; h0 = embeddings', colors.text, 'middle', 10));
  series.forEach((s, si) => {
    if (series.length < 2) return;
    const ly = HEADER + 4 + si * 14;
    const c = colors.series[si % colors.series.length][0];
    const dash = si === 0 ? undefined : '5 3';
    children.push({ tag: 'line', attrs: { x1: M.left, x2: M.left + 18, y1: ly - 4, y2: ly - 4, stroke: c, 'stroke-width': 2, ...(dash ? { 'stroke-dasharray': dash } : {}) } });
    children.push(svgText(M.left + 24, ly, truncate(s.name, 80), colors.text, 'start'));
  });
  const finite = series.flatMap((s) => s.summary.flatMap((r) => [r.meanLogProb, ...(r.meanLogProbCI ?? [])])).filter(Number.isFinite);
  const minLp = Math.min(-1, Math.floor(finite.length ? Math.min(...finite) : -10));
  const panels: Panel[] = [
    { y0: top, title: 'accuracy (top-1 = input)', axis: 'accuracy (%)', value: (r) => r.accuracy, ci: (r) => r.accuracyCI, lo: 0, hi: 1, tick: (v) => `${Math.round(v * 100)}%`, what: (r) => `accuracy ${(r.accuracy * 100).toFixed(1)}%` },
    { y0: top + PANEL_H, title: 'mean log p(input)', axis: 'mean log p (nats)', value: (r) => r.meanLogProb, ci: (r) => r.meanLogProbCI, lo: minLp, hi: 0, tick: (v) => v.toFixed(1), what: (r) => `mean log p ${r.meanLogProb.toFixed(3)}` },
  ];
  for (const panel of panels) children.push(...drawPanel(panel, series, layers, colors));
  return {
    tag: 'svg',
    attrs: { xmlns: 'http://www.w3.org/2000/svg', viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': title, 'font-family': 'sans-serif' },
    children,
  };
}

interface Panel {
  y0: number;
  title: string;
  axis: string;
  value: (r: LayerSummary) => number;
  ci: (r: LayerSummary) => [number, number] | undefined;
  lo: number;
  hi: number;
  tick: (v: number) => string;
  what: (r: LayerSummary) => string;
}

function drawPanel(panel: Panel, series: ChartSeries[], layers: number, colors: ChartColors): SvgNode[] {
  const plotW = W - M.left - M.right;
  const plotH = PANEL_H - M.top - M.bottom;
  const top = panel.y0 + M.top;
  const x = (i: number) => M.left + (layers === 1 ? plotW / 2 : (i / (layers - 1)) * plotW);
  const y = (v: number) => {
    const c = Number.isFinite(v) ? Math.max(panel.lo, Math.min(panel.hi, v)) : panel.lo;
    return top + ((panel.hi - c) / (panel.hi - panel.lo)) * plotH;
  };
  const out: SvgNode[] = [svgText(M.left, panel.y0 + 18, panel.title, colors.text, 'start', 12)];
  for (let t = 0; t <= 4; t++) {
    const v = panel.hi - (t / 4) * (panel.hi - panel.lo);
    out.push({ tag: 'line', attrs: { x1: M.left, x2: W - M.right, y1: r2(y(v)), y2: r2(y(v)), stroke: colors.grid, 'stroke-width': 1 } });
    out.push(svgText(M.left - 6, y(v) + 4, panel.tick(v), colors.text, 'end'));
  }
  const step = Math.max(1, Math.ceil(layers / 16));
  for (let i = 0; i < layers; i += step) out.push(svgText(x(i), top + plotH + 16, `h${i}`, colors.text, 'middle'));
  out.push(svgText(M.left + plotW / 2, top + plotH + 32, 'layer', colors.text, 'middle'));
  out.push({ tag: 'text', attrs: { x: 14, y: r2(top + plotH / 2), fill: colors.text, 'font-size': 11, 'text-anchor': 'middle', transform: `rotate(-90 14 ${r2(top + plotH / 2)})` }, text: panel.axis });
  series.forEach((s, si) => {
    const c = colors.series[si % colors.series.length][0];
    const dash = si === 0 ? undefined : '5 3';
    const points = s.summary.map((r, i) => [x(i), y(panel.value(r))] as const);
    out.push(path(points, c, dash, `${s.name}: ${panel.title}`));
    s.summary.forEach((r, i) => {
      const ci = panel.ci(r);
      if (ci) out.push({ tag: 'line', attrs: { x1: r2(x(i)), x2: r2(x(i)), y1: r2(y(ci[0])), y2: r2(y(ci[1])), stroke: c, 'stroke-width': 1.5 } });
      const [px, py] = points[i];
      out.push({
        tag: si === 0 ? 'circle' : 'rect',
        attrs: si === 0 ? { cx: r2(px), cy: r2(py), r: 3, fill: c } : { x: r2(px - 3), y: r2(py - 3), width: 6, height: 6, fill: c },
        children: [{ tag: 'title', attrs: {}, text: `${s.name} ${r.label}: ${panel.what(r)}${ci ? ` (95% CI ${panel.tick(ci[0])} … ${panel.tick(ci[1])})` : ''}` }],
      });
    });
  });
  return out;
}

/** Rounds a coordinate to 0.01 (every figure's SVG). */
export function r2(v: number): number {
  return Math.round(v * 100) / 100;
}

/** Cuts a label to n characters with an ellipsis (figure titles and legends). */
export function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/** A text node at rounded coordinates: the one text helper of every figure (chart, heatmap, trajectory). */
export function svgText(x: number, y: number, value: string, fill: string, anchor: 'start' | 'middle' | 'end', size = 11): SvgNode {
  return { tag: 'text', attrs: { x: r2(x), y: r2(y), fill, 'font-size': size, 'text-anchor': anchor }, text: value };
}

function path(points: readonly (readonly [number, number])[], stroke: string, dash: string | undefined, label: string): SvgNode {
  const d = points.map(([px, py], i) => `${i === 0 ? 'M' : 'L'}${r2(px)},${r2(py)}`).join(' ');
  return {
    tag: 'path',
    attrs: { d: d || 'M0,0', fill: 'none', stroke, 'stroke-width': 2, ...(dash ? { 'stroke-dasharray': dash } : {}) },
    children: [{ tag: 'title', attrs: {}, text: label }],
  };
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Serializes the tree; every attribute value and text node is escaped. Tag/attribute names are ours. */
export function svgToString(node: SvgNode): string {
  const attrs = Object.entries(node.attrs)
    .map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`)
    .join('');
  const inner = (node.text !== undefined ? escapeXml(node.text) : '') + (node.children ?? []).map(svgToString).join('');
  return inner === '' ? `<${node.tag}${attrs}/>` : `<${node.tag}${attrs}>${inner}</${node.tag}>`;
}
