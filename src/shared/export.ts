/** Exports of a probe report: per-cell CSV, per-layer summary CSV, JSON. Pure; unit-tested. */
import type { ProbeReport } from '../core/probe/report';
import { prob } from './format';

/**
 * One CSV field. Quotes when needed (RFC 4180). Text that a spreadsheet would run as a formula
 * (=, +, -, @ followed by more characters; vocabularies do hold such tokens) gets a leading
 * apostrophe, the usual guard against CSV injection. Single-character tokens like "-" stay as is.
 */
export function csvField(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : value > 0 ? 'inf' : value < 0 ? '-inf' : 'nan';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  let s = value;
  if (s.length > 1 && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(values: (string | number | boolean | null | undefined)[]): string {
  return values.map(csvField).join(',');
}

export const CELL_COLUMNS = [
  'sentence', 'position', 'token', 'token_id', 'special', 'layer', 'source_layer',
  'top1', 'top1_id', 'match', 'input_prob', 'input_logprob', 'input_rank', 'entropy', 'kl_to_final', 'top_k',
] as const;

/** Long format: one row per (sentence, layer, position). top_k is "token:prob" pairs joined by spaces. */
export function reportToCsv(report: ProbeReport): string {
  const lines = [csvRow([...CELL_COLUMNS])];
  const token = (id: number) => (Number.isNaN(id) ? '' : report.vocab[id] ?? `[${id}]`);
  report.sentences.forEach((s, si) => {
    s.layers.forEach((layer, li) => {
      const summary = report.summary[li];
      for (let p = 0; p < s.ids.length; p++) {
        const topK = layer.topKIds[p].map((id, k) => `${token(id)}:${prob(layer.topKLogProbs[p][k]).toFixed(4)}`).join(' ');
        lines.push(
          csvRow([
            si + 1, p, s.tokens[p], s.ids[p], s.special[p], summary?.label ?? `h${li}`, summary?.sourceLayer ?? null,
            token(layer.top1[p]), layer.top1[p], layer.top1[p] === s.ids[p], round(prob(layer.inputLogProb[p])),
            round(layer.inputLogProb[p]), layer.rank[p], round(layer.entropy[p]), round(layer.kl[p]), topK,
          ]),
        );
      }
    });
  });
  return lines.join('\n') + '\n';
}

export const SUMMARY_COLUMNS = [
  'layer', 'source_layer', 'count', 'accuracy', 'mean_logprob', 'median_rank', 'mean_entropy', 'mean_kl_to_final',
] as const;

export function summaryToCsv(report: ProbeReport): string {
  const lines = [csvRow([...SUMMARY_COLUMNS])];
  for (const s of report.summary) {
    lines.push(csvRow([s.label, s.sourceLayer, s.count, round(s.accuracy), round(s.meanLogProb), s.medianRank, round(s.meanEntropy), round(s.meanKL)]));
  }
  return lines.join('\n') + '\n';
}

export function reportToJson(report: ProbeReport): string {
  return JSON.stringify(report, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 1) + '\n';
}

function round(x: number): number {
  return Number.isFinite(x) ? Math.round(x * 1e6) / 1e6 : x;
}

/** A file name for an export, safe on every platform. */
export function exportFileName(report: ProbeReport, suffix: string, ext: string): string {
  const base = `${report.model.name}-plan-${report.planText}`.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
  return `${base}${suffix}.${ext}`;
}
