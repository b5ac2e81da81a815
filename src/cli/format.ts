/** Plain-text rendering of a report for the terminal. */
import { LayerSummary, ProbeReport } from '../core/probe/report';
import { summaryColumnName } from '../shared/fastMode';
import { settleLayers } from '../shared/heatmap';

export function formatSummaryTable(report: ProbeReport, summary: LayerSummary[] = report.summary): string {
  // In fast mode the approximate figures carry a mark (summaryColumnName).
  // 95% bootstrap intervals by sentence, where the report has them.
  const ci = summary.some((s) => s.accuracyCI || s.meanLogProbCI);
  const interval = (v: [number, number] | undefined, f: (x: number) => string) => (!v || v.some(Number.isNaN) ? '–' : `[${f(v[0])}, ${f(v[1])}]`);
  const pct = (x: number) => (x * 100).toFixed(1);
  const header = ['layer', 'from', 'accuracy', ...(ci ? ['95% CI'] : []), 'mean log p', ...(ci ? ['95% CI'] : []), 'median rank', 'entropy', 'KL(final‖h)'].map((c) =>
    summaryColumnName(report, c),
  );
  const rows = summary.map((s) => [
    s.label,
    s.sourceLayer === null ? 'emb' : `L${s.sourceLayer}`,
    Number.isNaN(s.accuracy) ? '–' : `${pct(s.accuracy)}%`,
    ...(ci ? [interval(s.accuracyCI, pct)] : []),
    s.meanLogProb.toFixed(3),
    ...(ci ? [interval(s.meanLogProbCI, (x) => x.toFixed(3))] : []),
    formatRank(s.medianRank),
    s.meanEntropy.toFixed(3),
    s.meanKL.toFixed(3),
  ]);
  return alignTable([header, ...rows], [false, false, ...header.slice(2).map(() => true)]);
}

/** Layers × tokens grid of top-1 predictions for one sentence; `*` marks a mismatch. */
export function formatTokenGrid(report: ProbeReport, sentenceIndex = 0, maxWidth = 12): string {
  const s = report.sentences[sentenceIndex];
  const clip = (t: string) => (t.length > maxWidth ? t.slice(0, maxWidth - 1) + '…' : t);
  const mask = new Map((s.masks ?? []).map((m) => [m.position, m]));
  // Masks always show; their target is the gold when given (else unknown: no mark).
  const show = s.ids.map((_, p) => report.includeSpecial || !s.special[p] || mask.has(p));
  const target = (p: number) => (mask.has(p) ? mask.get(p)!.gold : s.ids[p]);
  const head = (p: number) => {
    const gold = mask.get(p)?.gold;
    return clip(s.tokens[p] + (gold !== undefined ? `=${report.vocab[gold] ?? gold}` : mask.has(p) ? '=?' : ''));
  };
  const header = ['', ...s.tokens.flatMap((_, p) => (show[p] ? [head(p)] : []))];
  const rows = s.layers.map((cells, l) => [
    `h${l}`,
    ...cells.top1.flatMap((id, p) => {
      if (!show[p]) return [];
      if (Number.isNaN(id)) return ['–'];
      const t = target(p);
      return [clip((report.vocab[id] ?? `[${id}]`) + (t === undefined || id === t ? '' : '*'))];
    }),
  ]);
  // Where the final answer first appears: the first layer from which the final top-1 stays top-1.
  const settle = settleLayers(s.layers);
  const settleRow = ['settles', ...settle.flatMap((l, p) => (show[p] ? [Number.isNaN(s.layers[l].top1[p]) ? '–' : `h${l}`] : []))];
  return alignTable([header, ...rows, settleRow], header.map(() => false));
}

/** Per layer, the top-k at each mask of one sentence, with their probabilities. */
export function formatMaskTopK(report: ProbeReport, sentenceIndex = 0): string {
  const s = report.sentences[sentenceIndex];
  const blocks: string[] = [];
  for (const m of s.masks ?? []) {
    const gold = m.gold !== undefined ? `gold "${report.vocab[m.gold] ?? m.gold}"` : 'no gold';
    const rows = s.layers.map((cells, l) => [
      `h${l}`,
      ...cells.topKIds[m.position].map((id, k) => `${report.vocab[id] ?? `[${id}]`} ${(Math.exp(cells.topKLogProbs[m.position][k]) * 100).toFixed(1)}%`),
    ]);
    const header = ['', ...Array.from({ length: rows[0].length - 1 }, (_, k) => `top-${k + 1}`)];
    blocks.push(`${report.maskToken ?? '[MASK]'} at token ${m.position} (${gold}):\n${alignTable([header, ...rows], header.map(() => false))}`);
  }
  return blocks.join('\n\n');
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
