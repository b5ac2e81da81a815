/** Reading probe inputs from a corpus file: one sentence per line, `text<TAB>pair` for pairs. */
import { UserError } from '../errors';
import { readUserFile } from '../files';
import { ProbeInput } from './engine';
import { parseLine } from './corpusFile';

/**
 * The position id of slot `p` in a batch row whose first `length` slots are real tokens.
 * BERT-style (positionOffset 0): p, padding included. RoBERTa-style (positionOffset =
 * padding_idx + 1): real tokens count from padding_idx + 1 and padding gets padding_idx, as HF's
 * create_position_ids_from_input_ids computes from the ids.
 */
export function positionId(p: number, length: number, positionOffset: number, padTokenId: number): number {
  if (p < length) return positionOffset + p;
  return positionOffset > 0 ? padTokenId : p;
}

export function readSentenceFile(file: string): ProbeInput[] {
  return parseSentences(decodeUtf8(readUserFile(file, 'input file'), file), file);
}

export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    throw new UserError(`the input file is not valid UTF-8 (first bad byte at offset ${at}); save it as UTF-8`, file);
  }
}

export function parseSentences(text: string, file = 'input'): ProbeInput[] {
  const inputs = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .flatMap((line) => parseLine(line) ?? []);
  if (inputs.length === 0) throw new UserError('the input file has no sentences (it is empty or blank)', file);
  return inputs;
}

/** The offset of the first byte that is not UTF-8: the largest prefix that decodes cleanly. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let lo = 0;
  let hi = bytes.length;
  // Largest prefix that decodes cleanly (allowing a cut multi-byte sequence at its end).
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    try {
      decoder.decode(bytes.subarray(0, mid), { stream: true });
      lo = mid;
    } catch {
      hi = mid - 1;
    }
  }
  return lo;
}
