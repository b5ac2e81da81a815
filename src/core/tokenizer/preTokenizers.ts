/**
 * tokenizer.json pre-tokenizers with HF Rust's semantics: each one maps a list of pieces to a list of
 * pieces, and empty pieces are dropped (PreTokenizedString::split). Where @huggingface/tokenizers 0.2.0
 * differs (ENCODERS.md): Punctuation and Split `behavior`, Metaspace `split` and legacy
 * `add_prefix_space`, ByteLevel's JavaScript \s, WhitespaceSplit/BertPreTokenizer whitespace.
 * Regex patterns (Oniguruma syntax) are compiled by the package's own translator.
 */
import { SplitPreTokenizer } from '@huggingface/tokenizers';
import { UserError } from '../errors';

export type PreTokenize = (pieces: string[], first: boolean) => string[];
type Behavior = 'Removed' | 'Isolated' | 'MergedWithPrevious' | 'MergedWithNext' | 'Contiguous';
type Span = [start: number, end: number, isMatch: boolean];

const WS = /\p{White_Space}/u;
/** Rust's `is_ascii_punctuation || is_punctuation` (Unicode P*), as BertPreTokenizer and Punctuation use. */
const PUNCT = /[\p{P}!-/:-@[-`{-~]/u;
const NUMERIC = /[\p{Nd}\p{Nl}\p{No}]/u;
/** GPT-2's pattern, in Oniguruma syntax, as tokenizers' ByteLevel uses it. */
const BYTE_LEVEL_REGEX = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

const BYTES_TO_UNICODE: string[] = (() => {
  const keep: number[] = [];
  for (let b = 33; b <= 126; b++) keep.push(b);
  for (let b = 161; b <= 172; b++) keep.push(b);
  for (let b = 174; b <= 255; b++) keep.push(b);
  const map: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) map[b] = String.fromCodePoint(keep.includes(b) ? b : 256 + n++);
  return map;
})();
const utf8 = new TextEncoder();

/** Spans of `text` covering it whole, marking where `matches` are (tokenizers' find_matches). */
function spansOf(text: string, matches: Iterable<[number, number]>, invert: boolean): Span[] {
  const spans: Span[] = [];
  let at = 0;
  for (const [s, e] of matches) {
    if (e === s) continue;
    if (s > at) spans.push([at, s, invert]);
    spans.push([s, e, !invert]);
    at = e;
  }
  if (at < text.length || spans.length === 0) spans.push([at, text.length, invert]);
  return spans;
}

function applyBehavior(text: string, spans: Span[], behavior: Behavior): string[] {
  let out: Span[] = [];
  let previous = false;
  switch (behavior) {
    case 'Removed':
      out = spans.filter((s) => !s[2]);
      break;
    case 'Isolated':
      out = spans;
      break;
    case 'MergedWithPrevious':
      for (const s of spans) {
        const last = out[out.length - 1];
        if (s[2] && !previous && last) last[1] = s[1];
        else out.push([...s]);
        previous = s[2];
      }
      break;
    case 'MergedWithNext':
      for (let i = spans.length - 1; i >= 0; i--) {
        const s = spans[i];
        const last = out[out.length - 1];
        if (s[2] && !previous && last) last[0] = s[0];
        else out.push([...s]);
        previous = s[2];
      }
      out.reverse();
      break;
    case 'Contiguous':
      for (const s of spans) {
        const last = out[out.length - 1];
        if (s[2] === previous && last) last[1] = s[1];
        else out.push([...s]);
        previous = s[2];
      }
      break;
  }
  return out.map(([s, e]) => text.slice(s, e)).filter((p) => p.length > 0);
}

function* charMatches(text: string, test: (ch: string) => boolean): Generator<[number, number]> {
  let i = 0;
  for (const ch of text) {
    if (test(ch)) yield [i, i + ch.length];
    i += ch.length;
  }
}

function* regexMatches(text: string, re: RegExp): Generator<[number, number]> {
  re.lastIndex = 0;
  for (const m of text.matchAll(re)) yield [m.index, m.index + m[0].length];
}

function behaviorOf(v: unknown, file: string): Behavior {
  const names: Behavior[] = ['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous'];
  const found = names.find((n) => typeof v === 'string' && n.toLowerCase() === v.toLowerCase());
  if (!found) throw new UserError(`pre_tokenizer: behavior ${JSON.stringify(v)} is not one of ${names.join(', ')}`, file);
  return found;
}

function compile(pattern: unknown, file: string): RegExp {
  const p = pattern as { String?: unknown; Regex?: unknown } | undefined;
  if (p && typeof p.String === 'string') return new RegExp(p.String.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gu');
  if (p && typeof p.Regex === 'string') {
    try {
      const re = (new SplitPreTokenizer({ pattern: { Regex: p.Regex } } as never) as unknown as { pattern: RegExp | null }).pattern;
      if (re) return re;
    } catch {
      /* reported below */
    }
    throw new UserError(`pre_tokenizer: cannot compile the regex ${JSON.stringify(p.Regex).slice(0, 80)}`, file);
  }
  throw new UserError('pre_tokenizer: Split needs a pattern {"String": …} or {"Regex": …}', file);
}

const each = (f: (piece: string, first: boolean) => string[]): PreTokenize => (pieces, first) =>
  pieces.flatMap((p, i) => f(p, first && i === 0)).filter((p) => p.length > 0);

function build(config: unknown, file: string): PreTokenize | undefined {
  if (config === null || config === undefined) return (p) => p;
  if (typeof config !== 'object' || Array.isArray(config)) throw new UserError('pre_tokenizer is not an object', file);
  const c = config as Record<string, unknown>;
  switch (c.type) {
    case 'Sequence': {
      if (!Array.isArray(c.pretokenizers)) throw new UserError('pre_tokenizer: Sequence has no "pretokenizers" list', file);
      const parts = c.pretokenizers.map((p) => build(p, file));
      if (parts.some((p) => p === undefined)) return undefined;
      return (pieces, first) => (parts as PreTokenize[]).reduce((acc, f) => f(acc, first), pieces);
    }
    case 'WhitespaceSplit':
      return each((p) => applyBehavior(p, spansOf(p, charMatches(p, (ch) => WS.test(ch)), false), 'Removed'));
    case 'Whitespace': {
      const re = /[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]+|[^\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}\p{White_Space}]+/gu;
      return each((p) => Array.from(p.matchAll(re), (m) => m[0]));
    }
    case 'BertPreTokenizer':
      return each((p) =>
        applyBehavior(p, spansOf(p, charMatches(p, (ch) => WS.test(ch)), false), 'Removed').flatMap((w) =>
          applyBehavior(w, spansOf(w, charMatches(w, (ch) => PUNCT.test(ch)), false), 'Isolated')));
    case 'Punctuation': {
      const behavior = behaviorOf(c.behavior ?? 'Isolated', file);
      return each((p) => applyBehavior(p, spansOf(p, charMatches(p, (ch) => PUNCT.test(ch)), false), behavior));
    }
    case 'Digits': {
      const behavior: Behavior = c.individual_digits === true ? 'Isolated' : 'Contiguous';
      return each((p) => applyBehavior(p, spansOf(p, charMatches(p, (ch) => NUMERIC.test(ch)), false), behavior));
    }
    case 'Split': {
      const re = compile(c.pattern, file);
      const behavior = behaviorOf(c.behavior, file);
      const invert = c.invert === true;
      return each((p) => applyBehavior(p, spansOf(p, regexMatches(p, re), invert), behavior));
    }
    case 'Metaspace': {
      const replacement = typeof c.replacement === 'string' && c.replacement.length > 0 ? c.replacement : '\u2581';
      const scheme = typeof c.prepend_scheme === 'string' ? c.prepend_scheme : c.add_prefix_space === false ? 'never' : 'always';
      if (!['always', 'never', 'first'].includes(scheme)) throw new UserError(`pre_tokenizer: Metaspace prepend_scheme ${JSON.stringify(scheme)} is not always, never or first`, file);
      const split = c.split !== false;
      return each((p, first) => {
        let s = p.split(' ').join(replacement);
        if ((scheme === 'always' || (scheme === 'first' && first)) && !s.startsWith(replacement)) s = replacement + s;
        if (!split) return [s];
        return applyBehavior(s, spansOf(s, regexMatches(s, new RegExp(replacement.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gu')), false), 'MergedWithNext');
      });
    }
    case 'ByteLevel': {
      const prefix = c.add_prefix_space === true;
      const useRegex = c.use_regex !== false;
      const re = compile({ Regex: BYTE_LEVEL_REGEX }, file);
      return each((p) => {
        const s = prefix && !p.startsWith(' ') ? ' ' + p : p;
        const parts = useRegex ? applyBehavior(s, spansOf(s, regexMatches(s, re), false), 'Isolated') : [s];
        return parts.map((part) => Array.from(utf8.encode(part), (b) => BYTES_TO_UNICODE[b]).join(''));
      });
    }
    default:
      return undefined;
  }
}

/** The pre-tokenizer for a tokenizer.json's "pre_tokenizer" object, or undefined to keep the package's. */
export function createPreTokenizer(config: unknown, file: string): PreTokenize | undefined {
  return build(config, file);
}
