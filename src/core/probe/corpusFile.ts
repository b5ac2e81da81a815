/**
 * A corpus file read as a stream: one sentence per non-blank line ("text<TAB>pair" for pairs), in
 * chunks, so a file of any length costs one read buffer. The same line rules as parseSentences.
 */
import * as fs from 'node:fs';
import { UserError } from '../errors';
import { describeFsError, openFileForReading } from '../files';
import { ProbeInput } from './engine';
import { firstInvalidUtf8 } from './inputs';

const READ_BYTES = 1 << 20;

/** Which sentences a shard takes: shard `index` of `count` (1-based) takes corpus indices i with i % count === index - 1. */
export interface Shard {
  index: number;
  count: number;
}

export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(count) || count < 1 || index < 1 || index > count) {
    throw new UserError(`--shard must be i/N with 1 ≤ i ≤ N, e.g. 2/8; got "${text}"`);
  }
  return { index, count };
}

export function inShard(i: number, shard: Shard | undefined): boolean {
  return !shard || i % shard.count === shard.index - 1;
}

/** One line as an input, or undefined for a blank line. */
export function parseLine(raw: string): ProbeInput | undefined {
  const line = raw.trim();
  if (line === '') return undefined;
  const [first, second] = line.split('\t');
  return second !== undefined && second.trim() !== '' ? { text: first.trim(), pair: second.trim() } : { text: first.trim() };
}

/** Sentences (non-blank lines) in the file; refuses a file with none. */
export function countSentences(file: string): number {
  let n = 0;
  for (const block of lineBlocks(file)) for (const line of block) if (line.trim() !== '') n++;
  if (n === 0) throw new UserError('the input file has no sentences (it is empty or blank)', file);
  return n;
}

/** The shard's sentences in corpus order, `size` at a time, each with its corpus index. */
export function* sentenceChunks(file: string, size: number, shard?: Shard): Generator<ProbeInput[]> {
  let index = 0;
  let chunk: ProbeInput[] = [];
  const ready: ProbeInput[][] = [];
  const lines = lineBlocks(file);
  for (const block of lines) {
    for (const line of block) {
      const input = parseLine(line);
      if (!input) continue;
      if (inShard(index, shard)) chunk.push({ ...input, index });
      index++;
      if (chunk.length === size) {
        ready.push(chunk);
        chunk = [];
      }
    }
    while (ready.length) yield ready.shift()!;
  }
  if (chunk.length) yield chunk;
}

/** The file's lines, one block of them per 1 MB read, decoded strictly: a bad byte is one line naming its offset. */
function* lineBlocks(file: string): Generator<string[]> {
  const { fd } = openFileForReading(file, 'input file', 'read');
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const buf = Buffer.alloc(READ_BYTES);
  let offset = 0;
  let carry = '';
  let first = true;
  try {
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(fd, buf, 0, READ_BYTES, offset);
      } catch (e) {
        throw new UserError(`cannot read the input file: ${describeFsError(e)}`, file);
      }
      let text: string;
      try {
        text = decoder.decode(buf.subarray(0, n), { stream: n > 0 });
      } catch {
        throw new UserError(`the input file is not valid UTF-8 (first bad byte at offset ${offset + firstInvalidUtf8(buf.subarray(0, n))}); save it as UTF-8`, file);
      }
      if (first) {
        text = text.replace(/^\uFEFF/, '');
        first = false;
      }
      offset += n;
      const lines = (carry + text).split('\n');
      carry = n > 0 ? lines.pop()! : '';
      yield lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
      if (n === 0) break;
    }
  } finally {
    fs.closeSync(fd);
  }
}
