/**
 * How a fast-mode run is described to the user, the same in the CLI and the panel: that it was
 * fast, what is exact, and which figures are approximate by at most how much on the run's own
 * calibration sample (the exact head rerun on a few positions of every batch).
 */
import type { FastModeInfo, ProbeReport } from '../core/probe/report';

/** The mark put after an approximate figure's name. */
export const APPROX_MARK = '≈';

function num(x: number): string {
  if (!Number.isFinite(x)) return '–';
  if (x === 0) return '0';
  return x >= 100 ? x.toFixed(0) : x >= 0.1 ? x.toFixed(2) : x.toPrecision(2);
}

function pct(x: number): string {
  return Number.isFinite(x) ? `${(x * 100).toFixed(x === 1 ? 0 : 1)}%` : '–';
}

/** One line saying the run was fast and what stays exact. */
export function fastHeadline(info: FastModeInfo): string {
  return (
    `fast mode: int8 decoder (${info.kernel}) with the top ${info.candidates} of each row rescored in fp32; ` +
    'top-1, top-k ids and their order, and the input token\'s logit are exact'
  );
}

/** Which figures are approximate, by at most how much on the calibration sample. */
export function fastBounds(info: FastModeInfo): string {
  const c = info.calibration;
  return (
    `approximate (${APPROX_MARK}), max error on ${c.cells} sampled cells: log p(input) ${num(c.maxAbsInputLogProb)} nats (mean ${num(c.meanAbsInputLogProb)}), ` +
    `top-k log p ${num(c.maxAbsTopKLogProb)}, entropy ${num(c.maxAbsEntropy)}, KL ${num(c.maxAbsKl)}, rank ${num(c.maxAbsRank)} ` +
    `(beyond the top ${info.candidates}); top-1 same as exact on ${pct(c.top1Agreement)}, top-k order on ${pct(c.topKAgreement)}`
  );
}

export function fastModeLines(report: ProbeReport): string[] {
  return report.fast ? [fastHeadline(report.fast), fastBounds(report.fast)] : [];
}

/**
 * A summary column's name, marked when the run was fast and the figure comes from the int8
 * log-sum-exp or int8 logits: log-probs, ranks, entropy, KL (accuracy, from top-1, is exact).
 */
export function summaryColumnName(report: ProbeReport, name: string): string {
  return report.fast && /log p|rank|entropy|KL/.test(name) ? `${name} ${APPROX_MARK}` : name;
}
