/** Small pure helpers shared by the host (exports, hovers) and the webview (rendering). */
import type { LayerSummary, ProbeReport, ProbedSentence } from '../core/probe/report';

/** Probability of the input token, from its log-probability. */
export function prob(logProb: number): number {
  return Number.isFinite(logProb) ? Math.exp(logProb) : 0;
}

export function fmtPct(p: number): string {
  if (!Number.isFinite(p)) return '–';
  if (p >= 0.995) return '100%';
  if (p < 0.0005) return p === 0 ? '0%' : '<0.1%';
  return p < 0.1 ? `${(p * 100).toFixed(1)}%` : `${Math.round(p * 100)}%`;
}

export function fmtNum(x: number, digits = 2): string {
  if (!Number.isFinite(x)) return x > 0 ? '∞' : x < 0 ? '−∞' : '–';
  return x.toFixed(digits).replace(/^-/, '−');
}

/** How a token string is shown: as is, except that an empty or all-blank token gets a visible mark. */
export function displayToken(token: string | undefined): string {
  if (token === undefined) return '?';
  if (token === '') return '∅';
  if (token.trim() === '') return token.replace(/ /g, '␣').replace(/\t/g, '⇥').replace(/\n/g, '↵');
  return token;
}

export function tokenOf(report: ProbeReport, id: number): string {
  // NaN: the layer's distribution held NaN/Inf, so it has no top-1 (see the report's warnings).
  if (typeof id !== 'number' || Number.isNaN(id)) return '–';
  return report.vocab[id] ?? `[${id}]`;
}

/** Row labels h0..hN for a report, with the encoder layer that produced each. */
export function layerLabels(report: ProbeReport): string[] {
  return report.summary.length > 0
    ? report.summary.map((s) => s.label)
    : (report.sentences[0]?.layers ?? []).map((_, i) => `h${i}`);
}

export function describeSource(summary: LayerSummary): string {
  return summary.sourceLayer === null ? 'embeddings' : `layer ${summary.sourceLayer}`;
}

/** Whether the top-1 prediction at (layer, position) reconstructs the input token. */
export function isMatch(sentence: ProbedSentence, layer: number, pos: number): boolean {
  return sentence.layers[layer].top1[pos] === sentence.ids[pos];
}

/** `modelName`: how the panel names the model (default its folder name), e.g. to tell the embedded sample from a copy. */
export function runLabel(report: ProbeReport, source: string, modelName = report.model.name): string {
  const n = report.sentences.length;
  const partial = report.corpus?.partial ? ` of ${report.corpus.totalSentences}, PARTIAL (cancelled)` : '';
  const lens = report.lens ? ' · tuned lens' : '';
  const sub = report.sublayerSummary ? ' · sub-layers' : '';
  const backend = report.backend
    ? ` · PyTorch ${report.backend.dtype}${report.backend.processes > 1 ? ` ×${report.backend.processes}` : ''}`
    : report.executionProvider && report.executionProvider.ran !== 'cpu' ? ` · ${report.executionProvider.ran}` : '';
  return `${modelName} · plan ${report.planText}${lens}${sub}${backend} · ${n} sentence${n === 1 ? '' : 's'}${partial}${source === 'corpus' ? ' (corpus)' : ''}`;
}

/** Which onnxruntime provider ran and how it compared with the CPU; undefined when only the CPU was asked for. */
export function providerLine(report: ProbeReport): string | undefined {
  const info = report.executionProvider;
  if (!info) return undefined;
  const asked = info.asked === 'auto' ? `auto → ${info.ran}` : info.ran;
  // A fallback is one of the report's warnings already.
  if (info.fallback) return undefined;
  if (info.ran === 'cpu') return `execution provider: ${asked} (this platform's onnxruntime has no GPU provider that auto uses)`;
  const p = info.parity;
  const check = p ? `; on the embedded model it matched the CPU to ${p.maxAbsLogProb.toExponential(1)} in log p, top-1 on ${(p.top1 * 100).toFixed(0)}% of ${p.cells} cells` : '';
  return `execution provider: ${asked}${check}`;
}

/** Per-layer differences between two summaries, aligned by row (h0 with h0, …). */
export interface SummaryDiffRow {
  label: string;
  a?: LayerSummary;
  b?: LayerSummary;
  dAccuracy?: number;
  dMeanLogProb?: number;
  /** True where the two differ enough to highlight. */
  differs: boolean;
}

/**
 * Per-layer differences A − B of two summaries (B the baseline), rows lined up by where each state
 * comes from: the final states sit side by side, and the rest are matched by source layer in order
 * (a longest common subsequence), so a deepened plan's repeated layer gets a row of its own next to
 * its source instead of shifting every later row by one. A row present on one side only has no Δ.
 */
export function diffSummaries(a: LayerSummary[], b: LayerSummary[], tolerance = 0.005): SummaryDiffRow[] {
  return alignBySource(a, b).map(([x, y]) => {
    const dAccuracy = x && y ? x.accuracy - y.accuracy : undefined;
    const dMeanLogProb = x && y ? x.meanLogProb - y.meanLogProb : undefined;
    const differs =
      !x || !y || Math.abs(dAccuracy ?? 0) > tolerance || Math.abs(dMeanLogProb ?? 0) > tolerance || x.medianRank !== y.medianRank;
    const label = x && y && x.label !== y.label ? `${x.label} / ${y.label}` : (x ?? y)!.label;
    return { label, a: x, b: y, dAccuracy, dMeanLogProb, differs };
  });
}

type Pair = [LayerSummary | undefined, LayerSummary | undefined];

/** Row pairs of two summaries lined up by source layer (see diffSummaries); indices are each side's own. */
export function alignBySource(a: LayerSummary[], b: LayerSummary[]): Pair[] {
  if (!a.length || !b.length) return [...a.map((x): Pair => [x, undefined]), ...b.map((y): Pair => [undefined, y])];
  const x = a.slice(0, -1);
  const y = b.slice(0, -1);
  // lcs[i][j]: the longest run of equal sources in x[i..] and y[j..].
  const lcs = Array.from({ length: x.length + 1 }, () => new Array<number>(y.length + 1).fill(0));
  for (let i = x.length - 1; i >= 0; i--) {
    for (let j = y.length - 1; j >= 0; j--) {
      lcs[i][j] = x[i].sourceLayer === y[j].sourceLayer ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const pairs: Pair[] = [];
  let i = 0;
  let j = 0;
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i].sourceLayer === y[j].sourceLayer) pairs.push([x[i++], y[j++]]);
    else if (j >= y.length || (i < x.length && lcs[i + 1][j] >= lcs[i][j + 1])) pairs.push([x[i++], undefined]);
    else pairs.push([undefined, y[j++]]);
  }
  pairs.push([a.at(-1), b.at(-1)]);
  return pairs;
}

/** Index of the sentence in `other` with the same text (and pair), or -1. */
export function matchingSentence(other: ProbeReport, sentence: ProbedSentence): number {
  return other.sentences.findIndex((s) => s.text === sentence.text && s.pair === sentence.pair);
}
