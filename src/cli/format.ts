/** Plain-text rendering of a report for the terminal. */
import { ProbeReport } from '../core/probe/report';
import { summaryColumnName } from '../shared/fastMode';

export function formatSummaryTable(report: ProbeReport): string {
  // In fast mode the approximate figures carry a mark (summaryColumnName).
  const header = ['layer', 'from', 'accuracy', 'mean log p', 'median rank', 'entropy', 'KL(final‖h)'].map((c) => summaryColumnName(report, c));
  const rows = report.summary.map((s) => [
    s.label,
    s.sourceLayer === null ? 'emb' : `L${s.sourceLayer}`,
    Number.isNaN(s.accuracy) ? '–' : `${(s.accuracy * 100).toFixed(1)}%`,
    s.meanLogProb.toFixed(3),
    formatRank(s.medianRank),
    s.meanEntropy.toFixed(3),
    s.meanKL.toFixed(3),
  ]);
  return alignTable([header, ...rows], [false, false, true, true, true, true, true]);
}

/** Layers × tokens grid of top-1 predictions for one sentence; `*` marks a mismatch. */
export function formatTokenGrid(report: ProbeReport, sentenceIndex = 0, maxWidth = 12): string {
  const s = report.sentences[sentenceIndex];
  const clip = (t: string) => (t.length > maxWidth ? t.slice(0, maxWidth - 1) + '…' : t);
  const show = s.ids.map((_, p) => report.includeSpecial || !s.special[p]);
  const header = ['', ...s.tokens.filter((_, p) => show[p]).map(clip)];
  const rows = s.layers.map((cells, l) => [
    `h${l}`,
    ...cells.top1.flatMap((id, p) => (show[p] ? [Number.isNaN(id) ? '–' : clip((report.vocab[id] ?? `[${id}]`) + (id === s.ids[p] ? '' : '*'))] : [])),
  ]);
  return alignTable([header, ...rows], header.map(() => false));
}

function formatRank(r: number): string {
  if (Number.isNaN(r)) return '–';
  return Number.isInteger(r) ? String(r) : r.toFixed(1);
}

function alignTable(rows: string[][], rightAlign: boolean[]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => [...(r[c] ?? '')].length)));
  const line = (r: string[]) =>
    r.map((cell, c) => (rightAlign[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join('  ');
  return [line(rows[0]), rule, ...rows.slice(1).map(line)].join('\n');
}
