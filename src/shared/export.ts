/** Exports of a probe report: per-cell CSV, per-layer summary CSV, JSON. Pure; unit-tested. */
import type { ProbeReport, SentenceRow } from '../core/probe/report';
import { inDisplayOrder, summaryRows } from '../core/probe/report';
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
  'top1', 'top1_id', 'match', 'input_prob', 'input_logprob', 'input_rank', 'entropy', 'kl_to_final', 'top_k', 'lens',
] as const;

/** How the states were read: "raw" (the head alone) or "tuned" (a tuned lens's translators, then the head). */
function lensOf(report: ProbeReport): string {
  return report.lens ? 'tuned' : 'raw';
}

/** Long format: one row per (sentence, layer, position). top_k is "token:prob" pairs joined by spaces. */
export function reportToCsv(report: ProbeReport): string {
  return [csvRow([...CELL_COLUMNS]), ...cellCsvLines(report)].join('\n') + '\n';
}

/**
 * The cell rows without the header, so a corpus run can append each chunk's as it goes. `sentence`
 * is the 1-based corpus index (the sentence's line among the non-blank ones).
 */
export function cellCsvLines(report: ProbeReport): string[] {
  const lines: string[] = [];
  const token = (id: number) => (Number.isNaN(id) ? '' : report.vocab[id] ?? `[${id}]`);
  // Display order: h0, then each planned layer's after-attention row (with --sublayers) and its own.
  const rows = summaryRows(report);
  const lens = lensOf(report);
  report.sentences.forEach((s, si) => {
    inDisplayOrder(s.layers, s.sublayers).forEach((layer, li) => {
      const summary = rows[li];
      for (let p = 0; p < s.ids.length; p++) {
        const topK = layer.topKIds[p].map((id, k) => `${token(id)}:${prob(layer.topKLogProbs[p][k]).toFixed(4)}`).join(' ');
        lines.push(
          csvRow([
            (s.index ?? si) + 1, p, s.tokens[p], s.ids[p], s.special[p], summary?.label ?? `h${li}`, summary?.sourceLayer ?? null,
            token(layer.top1[p]), layer.top1[p], layer.top1[p] === s.ids[p], round(prob(layer.inputLogProb[p])),
            round(layer.inputLogProb[p]), layer.rank[p], round(layer.entropy[p]), round(layer.kl[p]), topK, lens,
          ]),
        );
      }
    });
  });
  return lines;
}

/** The per-layer summary; the *_ci_* columns are the 95% bootstrap intervals by sentence (empty without them). */
export const SUMMARY_COLUMNS = [
  'layer', 'source_layer', 'count', 'accuracy', 'accuracy_ci_low', 'accuracy_ci_high', 'mean_logprob', 'mean_logprob_ci_low', 'mean_logprob_ci_high',
  'median_rank', 'mean_entropy', 'mean_kl_to_final', 'lens',
] as const;

export function summaryToCsv(report: ProbeReport): string {
  const lines = [csvRow([...SUMMARY_COLUMNS])];
  for (const s of summaryRows(report)) {
    const [accLo, accHi] = s.accuracyCI ?? [];
    const [lpLo, lpHi] = s.meanLogProbCI ?? [];
    lines.push(
      csvRow([
        s.label, s.sourceLayer, s.count, round(s.accuracy), roundOrEmpty(accLo), roundOrEmpty(accHi), round(s.meanLogProb), roundOrEmpty(lpLo), roundOrEmpty(lpHi),
        s.medianRank, round(s.meanEntropy), round(s.meanKL), lensOf(report),
      ]),
    );
  }
  return lines.join('\n') + '\n';
}

const jsonNumbers = (_k: string, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v);

export function reportToJson(report: ProbeReport): string {
  return JSON.stringify(report, jsonNumbers, 1) + '\n';
}

/** Rows as a corpus run keeps them (core/probe/rowStore.ts): read one at a time. */
export interface RowSource {
  sentences: number;
  row(k: number): SentenceRow;
}

// Stands in for the rows while the rest is stringified; `rows` is the last key, so its last occurrence is ours.
const ROWS_PLACEHOLDER = '\u0000rows\u0000';
const ROWS_MARK = JSON.stringify(ROWS_PLACEHOLDER);

/**
 * The same JSON as reportToJson with `rows` taken from `rows`, in pieces, one row per line, so a
 * report of a million sentences is never one string.
 */
export function* reportJsonChunks(report: ProbeReport, rows: RowSource): Generator<string> {
  const { rows: _inline, ...rest } = report;
  const text = JSON.stringify({ ...rest, rows: ROWS_PLACEHOLDER }, jsonNumbers, 1) + '\n';
  const at = text.lastIndexOf(ROWS_MARK);
  yield text.slice(0, at) + '[';
  const batch: string[] = [];
  for (let k = 0; k < rows.sentences; k++) {
    batch.push(`${k ? ',' : ''}\n  ${JSON.stringify(rows.row(k), jsonNumbers)}`);
    if (batch.length === 4096) yield batch.splice(0).join('');
  }
  yield batch.join('') + (rows.sentences ? '\n ]' : ']') + text.slice(at + ROWS_MARK.length);
}

function roundOrEmpty(x: number | undefined): number | undefined {
  return x === undefined ? undefined : round(x);
}

function round(x: number): number {
  return Number.isFinite(x) ? Math.round(x * 1e6) / 1e6 : x;
}

/** A file name for an export, safe on every platform. */
export function exportFileName(report: ProbeReport, suffix: string, ext: string): string {
  const base = `${report.model.name}-plan-${report.planText}${report.lens ? '-tuned-lens' : ''}`.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
  return `${base}${suffix}.${ext}`;
}
