/** Flat exports of a report: CSV with one row per sentence × layer × position, and JSON. */
import { ProbeReport } from './report';

const CSV_COLUMNS = [
  'sentence', 'layer', 'source_layer', 'position', 'token', 'special', 'top1', 'match',
  'input_logprob', 'rank', 'entropy', 'kl', 'topk',
] as const;

export function csvField(value: string | number | boolean): string {
  const s = String(value);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function reportToCsv(report: ProbeReport): string {
  const lines = [CSV_COLUMNS.join(',')];
  const tok = (id: number) => report.vocab[id] ?? `[${id}]`;
  report.sentences.forEach((s, si) => {
    s.layers.forEach((cells, l) => {
      s.ids.forEach((id, p) => {
        const topk = cells.topKIds[p].map((k, j) => `${tok(k)}:${cells.topKLogProbs[p][j].toFixed(4)}`).join(' ');
        lines.push(
          [
            si, `h${l}`, l === 0 ? '' : report.plan[l - 1], p, s.tokens[p], s.special[p], tok(cells.top1[p]), cells.top1[p] === id,
            cells.inputLogProb[p].toFixed(6), cells.rank[p], cells.entropy[p].toFixed(6), cells.kl[p].toFixed(6), topk,
          ].map(csvField).join(','),
        );
      });
    });
  });
  return lines.join('\n') + '\n';
}

export function summaryToCsv(report: ProbeReport): string {
  const lines = ['layer,source_layer,count,accuracy,mean_logprob,median_rank,mean_entropy,mean_kl'];
  for (const s of report.summary) {
    lines.push([s.label, s.sourceLayer ?? '', s.count, s.accuracy, s.meanLogProb, s.medianRank, s.meanEntropy, s.meanKL].map(csvField).join(','));
  }
  return lines.join('\n') + '\n';
}

export function reportToJson(report: ProbeReport): string {
  return JSON.stringify(report, null, 1) + '\n';
}
