/**
 * Learning curves of a fine-tuning run folder as an SVG tree (the same SvgNode the probe chart uses;
 * the webview turns it into DOM nodes with textContent, never markup): small multiples, accuracy
 * and eval loss against the optimizer step, one y-axis each, one colour per model, every seed a
 * thin line and the mean over seeds a thick one. Built from FinetuneResultsData only.
 */
import { r2, svgText, truncate, type ChartColors, type SvgNode } from './chart';
import { learningCurves, type CurveSeries, type FinetuneResultsData } from './finetune';

const W = 640;
const PANEL_H = 200;
const M = { left: 64, right: 20, top: 28, bottom: 40 };

interface CurvePanel {
  title: string;
  axis: string;
  series: CurveSeries[];
  lo: number;
  hi: number;
  ticks: number[];
  tick: (v: number) => string;
}

/** A round tick step near span / 4: 1, 2, 2.5 or 5 times a power of ten. */
export function niceStep(span: number): number {
  const raw = Math.max(span, 1e-9) / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((k) => k * mag).find((v) => v >= raw - 1e-12)!;
}

/** Round bounds and ticks for the loss axis: from a multiple of the step below the lowest value to one above the highest. */
function lossAxis(series: CurveSeries[]): { lo: number; hi: number; ticks: number[] } {
  const vs = series.flatMap((s) => s.seeds.flatMap((x) => x.points.map((p) => p.value)));
  if (!vs.length) return { lo: 0, hi: 1, ticks: [0, 0.25, 0.5, 0.75, 1] };
  const min = Math.min(...vs);
  const max = Math.max(...vs);
  const step = niceStep(max - min || Math.abs(max) * 0.1 || 0.1);
  const lo = Math.floor(min / step) * step;
  const hi = Math.max(lo + step, Math.ceil(max / step) * step);
  const ticks: number[] = [];
  for (let v = lo; v <= hi + step / 1e6; v += step) ticks.push(Math.round(v / step) * step);
  return { lo, hi, ticks };
}

/** One colour per model; the baseline first. Each seed line uses the model's colour, thinner and fainter. */
export function buildFinetuneCurves(data: FinetuneResultsData, colors: ChartColors, title = 'Learning curves'): SvgNode {
  const acc = learningCurves(data, 'accuracy');
  const loss = learningCurves(data, 'evalLoss');
  const steps = acc.concat(loss).flatMap((s) => s.seeds.flatMap((x) => x.points.map((p) => p.step)));
  const maxStep = Math.max(1, ...steps);
  const legendRows = acc.length;
  const top = 40 + legendRows * 16;
  const H = top + 2 * PANEL_H;
  const children: SvgNode[] = [];
  if (colors.background) children.push({ tag: 'rect', attrs: { x: 0, y: 0, width: W, height: H, fill: colors.background } });
  children.push(svgText(W / 2, 18, truncate(`${title}${data.task ? ` · ${data.task}` : ''}`, 90), colors.text, 'middle', 13));
  children.push(svgText(W / 2, 33, 'thin lines: one seed each; thick line: mean over the seeds (at the steps all of them evaluated)', colors.text, 'middle', 10));
  acc.forEach((s, si) => {
    const ly = 40 + 12 + si * 16;
    const c = colors.series[si % colors.series.length][0];
    children.push({ tag: 'line', attrs: { x1: M.left, x2: M.left + 22, y1: ly - 4, y2: ly - 4, stroke: c, 'stroke-width': 3, ...(si ? { 'stroke-dasharray': '6 3' } : {}) } });
    children.push(svgText(M.left + 28, ly, truncate(`${s.name} (${s.role}${s.plan ? `, plan ${s.plan}` : ''}, ${s.seeds.length} seed${s.seeds.length === 1 ? '' : 's'})`, 80), colors.text, 'start'));
  });
  const la = lossAxis(loss);
  const digits = Math.max(0, -Math.floor(Math.log10(niceStep(la.hi - la.lo))) + 1);
  const panels: CurvePanel[] = [
    { title: 'accuracy on the evaluation set', axis: 'accuracy (%)', series: acc, lo: 0, hi: 1, ticks: [0, 0.25, 0.5, 0.75, 1], tick: (v) => `${Math.round(v * 100)}%` },
    { title: 'eval loss (cross-entropy)', axis: 'eval loss (nats)', series: loss, lo: la.lo, hi: la.hi, ticks: la.ticks, tick: (v) => v.toFixed(Math.min(4, digits)) },
  ];
  panels.forEach((p, i) => children.push(...drawPanel(p, top + i * PANEL_H, maxStep, colors)));
  return {
    tag: 'svg',
    attrs: { xmlns: 'http://www.w3.org/2000/svg', viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': `${title}: accuracy and eval loss by step`, 'font-family': 'sans-serif', 'data-testid': 'finetune-curves' },
    children,
  };
}

function niceStepTicks(maxStep: number): number[] {
  const raw = maxStep / 5;
  const mag = 10 ** Math.floor(Math.log10(Math.max(1, raw)));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? mag * 10;
  const out: number[] = [];
  for (let v = 0; v <= maxStep + 1e-9; v += step) out.push(v);
  return out;
}

function drawPanel(p: CurvePanel, y0: number, maxStep: number, colors: ChartColors): SvgNode[] {
  const plotW = W - M.left - M.right;
  const plotH = PANEL_H - M.top - M.bottom;
  const top = y0 + M.top;
  const x = (step: number) => M.left + (step / maxStep) * plotW;
  const y = (v: number) => top + ((p.hi - Math.max(p.lo, Math.min(p.hi, v))) / (p.hi - p.lo)) * plotH;
  const out: SvgNode[] = [svgText(M.left, y0 + 18, p.title, colors.text, 'start', 12)];
  for (const v of p.ticks) {
    // Dotted and faint: in high contrast the grid colour is the bright contrast border, and solid lines competed with the data.
    out.push({ tag: 'line', attrs: { x1: M.left, x2: W - M.right, y1: r2(y(v)), y2: r2(y(v)), stroke: colors.grid, 'stroke-width': 1, 'stroke-opacity': 0.5, 'stroke-dasharray': '2 3' } });
    out.push(svgText(M.left - 6, y(v) + 4, p.tick(v), colors.text, 'end'));
  }
  for (const s of niceStepTicks(maxStep)) out.push(svgText(x(s), top + plotH + 16, String(s), colors.text, 'middle'));
  out.push(svgText(M.left + plotW / 2, top + plotH + 32, 'optimizer step', colors.text, 'middle'));
  out.push({ tag: 'text', attrs: { x: 14, y: r2(top + plotH / 2), fill: colors.text, 'font-size': 11, 'text-anchor': 'middle', transform: `rotate(-90 14 ${r2(top + plotH / 2)})` }, text: p.axis });
  p.series.forEach((s, si) => {
    const c = colors.series[si % colors.series.length][0];
    const dash = si ? '6 3' : undefined;
    const fmt = (v: number) => (p.lo === 0 && p.hi === 1 ? `${(v * 100).toFixed(1)}%` : v.toFixed(4));
    for (const seed of s.seeds) {
      if (!seed.points.length) continue;
      out.push(line(seed.points.map((q) => [x(q.step), y(q.value)]), c, s.mean.length ? 1.25 : 2, s.mean.length ? 0.6 : 1, dash, `${s.name}${seed.seed === null ? '' : ` seed ${seed.seed}`}: ${p.title}`));
      for (const q of seed.points) {
        out.push({ tag: 'circle', attrs: { cx: r2(x(q.step)), cy: r2(y(q.value)), r: 2, fill: c, 'fill-opacity': s.mean.length ? 0.6 : 1 }, children: [{ tag: 'title', attrs: {}, text: `${s.name}${seed.seed === null ? '' : ` seed ${seed.seed}`}, step ${q.step}: ${fmt(q.value)}` }] });
      }
    }
    if (s.mean.length) {
      out.push(line(s.mean.map((q) => [x(q.step), y(q.value)]), c, 3, 1, dash, `${s.name}, mean over ${s.seeds.length} seeds: ${p.title}`));
    }
  });
  return out;
}

function line(points: [number, number][], stroke: string, width: number, opacity: number, dash: string | undefined, label: string): SvgNode {
  const d = points.map(([px, py], i) => `${i === 0 ? 'M' : 'L'}${r2(px)},${r2(py)}`).join(' ');
  return {
    tag: 'path',
    attrs: { d: d || 'M0,0', fill: 'none', stroke, 'stroke-width': width, 'stroke-opacity': opacity, 'stroke-linejoin': 'round', ...(dash ? { 'stroke-dasharray': dash } : {}) },
    children: [{ tag: 'title', attrs: {}, text: label }],
  };
}
