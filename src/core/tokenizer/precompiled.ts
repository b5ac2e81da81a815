/**
 * SentencePiece's precompiled normalizer (the `precompiled_charsmap` of a tokenizer.json, or the
 * normalizer_spec of a .model file), read the way HF's Rust tokenizers read it (the spm_precompiled crate).
 *
 * The blob is: a little-endian u32 giving the byte size of a Darts-clone double-array trie, the trie
 * (u32 units), then a pool of NUL-terminated UTF-8 replacement strings. A trie lookup of a key's UTF-8
 * bytes gives offsets into the pool. As in Rust, text is walked grapheme by grapheme: a grapheme shorter
 * than 6 bytes is looked up whole (the first, i.e. shortest, prefix match replaces the whole grapheme);
 * otherwise, or when it has no match, each of its code points is looked up on its own.
 */
import { UserError } from '../errors';

export class PrecompiledCharsmap {
  private readonly units: Uint32Array;
  private readonly pool: Uint8Array;
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });
  private readonly encoder = new TextEncoder();
  private readonly cache = new Map<string, string | null>();
  private readonly segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

  constructor(blob: Uint8Array, file: string) {
    const bad = (why: string) => new UserError(`precompiled_charsmap: ${why}`, file);
    if (blob.length < 4) throw bad('shorter than its 4-byte header');
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const trieSize = view.getUint32(0, true);
    if (trieSize % 4 !== 0 || 4 + trieSize > blob.length) throw bad(`trie size ${trieSize} does not fit its ${blob.length} bytes`);
    this.units = new Uint32Array(trieSize / 4);
    for (let i = 0; i < this.units.length; i++) this.units[i] = view.getUint32(4 + 4 * i, true);
    this.pool = blob.subarray(4 + trieSize);
  }

  static fromBase64(b64: string, file: string): PrecompiledCharsmap {
    return new PrecompiledCharsmap(Buffer.from(b64, 'base64'), file);
  }

  /** Darts-clone commonPrefixSearch, first result only: the value of the shortest prefix of `key` in the trie. */
  private firstPrefixValue(key: Uint8Array): number | undefined {
    const u = this.units;
    if (u.length === 0) return undefined;
    const offset = (unit: number) => (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
    const label = (unit: number) => unit & ((1 << 31) | 0xff);
    let pos = offset(u[0]) ^ 0;
    for (const c of key) {
      if (c === 0) break;
      pos ^= c;
      if (pos < 0 || pos >= u.length) return undefined;
      const unit = u[pos];
      if (label(unit) >>> 0 !== c) return undefined;
      pos ^= offset(unit);
      if (pos < 0 || pos >= u.length) return undefined;
      if ((unit >>> 8) & 1) return u[pos] & 0x7fffffff;
    }
    return undefined;
  }

  /** The replacement for `chunk`, or null when the charsmap has none. */
  transform(chunk: string): string | null {
    const hit = this.cache.get(chunk);
    if (hit !== undefined) return hit;
    const at = this.firstPrefixValue(this.encoder.encode(chunk));
    let out: string | null = null;
    if (at !== undefined && at < this.pool.length) {
      let end = at;
      while (end < this.pool.length && this.pool[end] !== 0) end++;
      out = this.decoder.decode(this.pool.subarray(at, end));
    }
    if (this.cache.size < 100_000) this.cache.set(chunk, out);
    return out;
  }

  normalize(text: string): string {
    if (this.units.length === 0) return text;
    let out = '';
    for (const { segment } of this.segmenter.segment(text)) {
      if (Buffer.byteLength(segment, 'utf8') < 6) {
        const whole = this.transform(segment);
        if (whole !== null) {
          out += whole;
          continue;
        }
      }
      for (const ch of segment) out += this.transform(ch) ?? ch;
    }
    return out;
  }
}
