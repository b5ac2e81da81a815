/**
 * The accuracy / mean log-prob chart as a tiny SVG tree. The webview turns the tree into DOM
 * nodes (createElementNS + textContent, never innerHTML); the host serializes the same tree for
 * the SVG export. One geometry, two renderers, no markup pasting.
 */
import type { LayerSummary } from '../core/probe/report';

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
const H = 340;
const M = { left: 52, right: 60, top: 76, bottom: 40 };

export function buildChart(series: ChartSeries[], colors: ChartColors = THEME_COLORS, title = 'Reconstruction by layer'): SvgNode {
  const layers = Math.max(1, ...series.map((s) => s.summary.length));
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const x = (i: number) => M.left + (layers === 1 ? plotW / 2 : (i / (layers - 1)) * plotW);
  const finite = series.flatMap((s) => s.summary.map((r) => r.meanLogProb)).filter(Number.isFinite);
  const minLp = Math.min(-1, Math.floor(finite.length ? Math.min(...finite) : -10));
  const yAcc = (a: number) => M.top + (1 - a) * plotH;
  const yLp = (lp: number) => M.top + (Math.max(minLp, Math.min(0, Number.isFinite(lp) ? lp : minLp)) / minLp) * plotH;

  const children: SvgNode[] = [];
  if (colors.background) children.push({ tag: 'rect', attrs: { x: 0, y: 0, width: W, height: H, fill: colors.background } });
  children.push(text(W / 2, 18, title, colors.text, 'middle', 13));
  // Grid and left axis (accuracy 0..1), right axis (mean log-prob minLp..0).
  for (let t = 0; t <= 4; t++) {
    const y = M.top + (t / 4) * plotH;
    children.push({ tag: 'line', attrs: { x1: M.left, x2: W - M.right, y1: y, y2: y, stroke: colors.grid, 'stroke-width': 1 } });
    children.push(text(M.left - 6, y + 4, `${Math.round((1 - t / 4) * 100)}%`, colors.text, 'end'));
    children.push(text(W - M.right + 6, y + 4, ((t / 4) * minLp).toFixed(1), colors.text, 'start'));
  }
  const step = Math.max(1, Math.ceil(layers / 16));
  for (let i = 0; i < layers; i += step) children.push(text(x(i), H - M.bottom + 16, `h${i}`, colors.text, 'middle'));
    children.push(text(W / 2, H - 6, 'layer', colors.text, 'middle'));

  series.forEach((s, si) => {
    const [cAcc, cLp] = colors.series[si % colors.series.length];
    const dash = si === 0 ? undefined : '5 3';
    const acc = s.summary.map((r, i) => [x(i), yAcc(r.accuracy)] as const);
    const lp = s.summary.map((r, i) => [x(i), yLp(r.meanLogProb)] as const);
    children.push(path(acc, cAcc, dash, `${s.name}: accuracy`));
    children.push(path(lp, cLp, dash, `${s.name}: mean log-prob`));
    acc.forEach(([px, py], i) =>
      children.push({
        tag: 'circle',
        attrs: { cx: r2(px), cy: r2(py), r: 3, fill: cAcc },
        children: [{ tag: 'title', attrs: {}, text: `${s.name} ${s.summary[i].label}: accuracy ${(s.summary[i].accuracy * 100).toFixed(1)}%` }],
      }),
    );
    lp.forEach(([px, py], i) =>
      children.push({
        tag: 'rect',
        attrs: { x: r2(px - 3), y: r2(py - 3), width: 6, height: 6, fill: cLp },
        children: [{ tag: 'title', attrs: {}, text: `${s.name} ${s.summary[i].label}: mean log p ${s.summary[i].meanLogProb.toFixed(3)}` }],
      }),
    );
    // Legend, one row per series under the title.
    const ly = 34 + si * 14;
    const lx = M.left;
    const name = truncate(s.name, 24);
    children.push({ tag: 'line', attrs: { x1: lx, x2: lx + 16, y1: ly - 4, y2: ly - 4, stroke: cAcc, 'stroke-width': 2, ...(dash ? { 'stroke-dasharray': dash } : {}) } });
    children.push(text(lx + 20, ly, `accuracy${series.length > 1 ? ` (${name})` : ''}`, colors.text, 'start'));
    children.push({ tag: 'line', attrs: { x1: lx + 300, x2: lx + 316, y1: ly - 4, y2: ly - 4, stroke: cLp, 'stroke-width': 2, ...(dash ? { 'stroke-dasharray': dash } : {}) } });
    children.push(text(lx + 320, ly, `mean log p${series.length > 1 ? ` (${name})` : ''}`, colors.text, 'start'));
  });

  return {
    tag: 'svg',
    attrs: { xmlns: 'http://www.w3.org/2000/svg', viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': title, 'font-family': 'sans-serif' },
    children,
  };
}

function r2(v: number): number {
  return Math.round(v * 100) / 100;
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

function text(x: number, y: number, value: string, fill: string, anchor: 'start' | 'middle' | 'end', size = 11): SvgNode {
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
