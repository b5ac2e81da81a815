/** Parsing sentences from text: pure, no `vscode` import, so it is unit-tested. */
import type { ProbeInput } from '../core/probe/engine';

/** Writing "first ||| second" probes a sentence pair (segment B gets token type 1). */
export const PAIR_SEPARATOR = '|||';

export function parseInputLine(line: string): ProbeInput {
  const at = line.indexOf(PAIR_SEPARATOR);
  if (at < 0) return { text: line.trim() };
  return { text: line.slice(0, at).trim(), pair: line.slice(at + PAIR_SEPARATOR.length).trim() };
}

/** Non-empty lines of a text, each one input; lines starting with # are comments. */
export function parseCorpus(text: string, limit: number): { inputs: ProbeInput[]; skipped: number } {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  return { inputs: lines.slice(0, limit).map(parseInputLine), skipped: Math.max(0, lines.length - limit) };
}
