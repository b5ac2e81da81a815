/**
 * tokenizer.json normalizers with HF Rust's semantics. @huggingface/tokenizers 0.2.0 differs where it
 * matters for real checkpoints (ENCODERS.md): its Precompiled ignores the charsmap, its BertNormalizer
 * walks UTF-16 code units (Extension-B is never padded) and uses JavaScript's \s (U+FEFF in, U+0085 out),
 * and its Lowercase/StripAccents follow JavaScript, not Rust. Types not listed here (none in the
 * checkpoints we know) fall back to the package's implementation of the whole normalizer.
 */
import { ReplaceNormalizer } from '@huggingface/tokenizers';
import { UserError } from '../errors';
import { PrecompiledCharsmap } from './precompiled';

export type Normalize = (text: string) => string;

/** Rust's char::is_whitespace: the Unicode White_Space property. */
export const WHITESPACE = /\p{White_Space}/u;
/** Rust's char::is_other as BertNormalizer uses it (Cc, Cf, Cs, Co, Cn), tab/newline/return excepted. */
const CONTROL = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}]$/u;
/** What BertNormalizer's strip_accents drops after NFD: Mn only (HF keeps U+09BE (Mc) and U+20E3 (Me)). */
const MARK_NONSPACING = /\p{Mn}/gu;
/**
 * What the StripAccents normalizer drops: every mark, Mn, Mc and Me. Measured: HF Rust removes the
 * Devanagari vowel sign U+093F (Mc) and the keycap U+20E3 (Me) in AlbertTokenizerFast's normalizer,
 * while its BertNormalizer keeps them.
 */
const MARK_ANY = /\p{M}/gu;

/** BertNormalizer's CJK ranges, by code point (tokenizers' bert.rs, including its 0x2B920 start). */
export function isChineseChar(cp: number): boolean {
  return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2a6df)
    || (cp >= 0x2a700 && cp <= 0x2b73f) || (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b920 && cp <= 0x2ceaf)
    || (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f);
}

/** Rust's str::to_lowercase as tokenizers applies it: char by char, so 'Σ' is always 'σ'. */
export function rustLowercase(text: string): string {
  let out = '';
  for (const ch of text) out += ch === 'Σ' ? 'σ' : ch.toLowerCase();
  return out;
}

function bert(config: Record<string, unknown>): Normalize {
  const clean = config.clean_text !== false;
  const chinese = config.handle_chinese_chars !== false;
  const lower = config.lowercase !== false;
  const strip = config.strip_accents === null || config.strip_accents === undefined ? lower : config.strip_accents === true;
  return (text) => {
    let out = '';
    for (const ch of text) {
      const cp = ch.codePointAt(0)!;
      if (clean) {
        if (cp === 0 || cp === 0xfffd || (cp !== 9 && cp !== 10 && cp !== 13 && CONTROL.test(ch))) continue;
        if (WHITESPACE.test(ch)) {
          out += ' ';
          continue;
        }
      }
      out += chinese && isChineseChar(cp) ? ` ${ch} ` : ch;
    }
    if (strip) out = out.normalize('NFD').replace(MARK_NONSPACING, '');
    if (lower) out = rustLowercase(out);
    return out;
  };
}

function strip(config: Record<string, unknown>): Normalize {
  const left = config.strip_left !== false;
  const right = config.strip_right !== false;
  return (text) => {
    const cps = Array.from(text);
    let a = 0;
    let b = cps.length;
    if (left) while (a < b && WHITESPACE.test(cps[a])) a++;
    if (right) while (b > a && WHITESPACE.test(cps[b - 1])) b--;
    return cps.slice(a, b).join('');
  };
}

/** One normalizer from its tokenizer.json object; undefined where a type is not ours to handle. */
function build(config: unknown, file: string): Normalize | undefined {
  if (config === null || config === undefined) return (t) => t;
  if (typeof config !== 'object' || Array.isArray(config)) throw new UserError('normalizer is not an object', file);
  const c = config as Record<string, unknown>;
  switch (c.type) {
    case 'BertNormalizer':
      return bert(c);
    case 'Precompiled': {
      if (c.precompiled_charsmap === null || c.precompiled_charsmap === undefined || c.precompiled_charsmap === '') return (t) => t;
      if (typeof c.precompiled_charsmap !== 'string') throw new UserError('normalizer: precompiled_charsmap is not a base64 string', file);
      const map = PrecompiledCharsmap.fromBase64(c.precompiled_charsmap, file);
      return (t) => map.normalize(t);
    }
    case 'Sequence': {
      if (!Array.isArray(c.normalizers)) throw new UserError('normalizer: Sequence has no "normalizers" list', file);
      const parts = c.normalizers.map((n) => build(n, file));
      if (parts.some((p) => p === undefined)) return undefined;
      return (t) => (parts as Normalize[]).reduce((s, f) => f(s), t);
    }
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD': {
      const form = c.type;
      return (t) => t.normalize(form);
    }
    case 'Lowercase':
      return rustLowercase;
    case 'StripAccents':
      return (t) => t.replace(MARK_ANY, '');
    case 'Strip':
      return strip(c);
    case 'Prepend': {
      const content = typeof c.prepend === 'string' ? c.prepend : '';
      return (t) => (t.length > 0 ? content + t : t);
    }
    case 'Replace': {
      const pattern = c.pattern as { String?: unknown; Regex?: unknown } | undefined;
      const content = typeof c.content === 'string' ? c.content : '';
      if (pattern && typeof pattern.String === 'string') {
        const s = pattern.String;
        return (t) => (s === '' ? t : t.split(s).join(content));
      }
      const inner = new ReplaceNormalizer(c as never) as unknown as { normalize(t: string): string };
      return (t) => inner.normalize(t);
    }
    default:
      return undefined;
  }
}

/** The normalizer for a tokenizer.json's "normalizer" object, or undefined to keep the package's. */
export function createNormalizer(config: unknown, file: string): Normalize | undefined {
  return build(config, file);
}
