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

export function runLabel(report: ProbeReport, source: string): string {
  const n = report.sentences.length;
  const partial = report.corpus?.partial ? ` of ${report.corpus.totalSentences}, PARTIAL (cancelled)` : '';
  const lens = report.lens ? ' · tuned lens' : '';
  const sub = report.sublayerSummary ? ' · sub-layers' : '';
  const backend = report.backend ? ` · PyTorch ${report.backend.dtype}${report.backend.processes > 1 ? ` ×${report.backend.processes}` : ''}` : '';
  return `${report.model.name} · plan ${report.planText}${lens}${sub}${backend} · ${n} sentence${n === 1 ? '' : 's'}${partial}${source === 'corpus' ? ' (corpus)' : ''}`;
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

export function diffSummaries(a: LayerSummary[], b: LayerSummary[], tolerance = 0.005): SummaryDiffRow[] {
  const rows: SummaryDiffRow[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    const dAccuracy = x && y ? y.accuracy - x.accuracy : undefined;
    const dMeanLogProb = x && y ? y.meanLogProb - x.meanLogProb : undefined;
    const differs =
      !x || !y || Math.abs(dAccuracy ?? 0) > tolerance || Math.abs(dMeanLogProb ?? 0) > tolerance || x.medianRank !== y.medianRank;
    rows.push({ label: (x ?? y)!.label, a: x, b: y, dAccuracy, dMeanLogProb, differs });
  }
  return rows;
}

/** Index of the sentence in `other` with the same text (and pair), or -1. */
export function matchingSentence(other: ProbeReport, sentence: ProbedSentence): number {
  return other.sentences.findIndex((s) => s.text === sentence.text && s.pair === sentence.pair);
}
