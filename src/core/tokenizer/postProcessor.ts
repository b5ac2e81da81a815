/**
 * The post-processor of a tokenizer.json (TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel,
 * Sequence), read and checked once when the tokenizer loads, then applied to ids as HF's Rust tokenizers do.
 *
 * Why not @huggingface/tokenizers' own: it ignores TemplateProcessing's `special_tokens[].ids` (it looks
 * the token string up in the vocabulary instead) and it throws a TypeError from encode() on a template
 * without `pair`, a string entry or a fractional type_id. Here a malformed template is a UserError
 * naming tokenizer.json, at load time, and a missing pair template is one when a pair is encoded.
 */
import { UserError } from '../errors';

export interface Piece {
  ids: number[];
  tokens: string[];
}

export interface Processed {
  ids: number[];
  tokens: string[];
  typeIds: number[];
  special: boolean[];
}

export interface PostProcessor {
  /** How many special tokens it adds for a single text or a pair (HF's num_special_tokens_to_add). */
  added(pair: boolean): number;
  apply(a: Piece, b: Piece | undefined): Processed;
}

type Entry = { kind: 'seq'; seq: 'A' | 'B'; typeId: number } | { kind: 'special'; ids: number[]; tokens: string[]; typeId: number };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function typeIdOf(v: unknown, where: string, file: string): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff) {
    throw new UserError(`post_processor: ${where} has type_id ${JSON.stringify(v)}; expected a non-negative integer`, file);
  }
  return v;
}

function templateOf(items: unknown, name: string, specials: Map<string, { ids: number[]; tokens: string[] }>, file: string): Entry[] {
  if (!Array.isArray(items)) throw new UserError(`post_processor: TemplateProcessing "${name}" is not a list`, file);
  return items.map((item, i): Entry => {
    const where = `TemplateProcessing "${name}" entry ${i}`;
    if (isObject(item) && isObject(item.Sequence)) {
      const id = item.Sequence.id;
      if (id !== 'A' && id !== 'B') throw new UserError(`post_processor: ${where} is a Sequence with id ${JSON.stringify(id)}; expected "A" or "B"`, file);
      return { kind: 'seq', seq: id, typeId: typeIdOf(item.Sequence.type_id, where, file) };
    }
    if (isObject(item) && isObject(item.SpecialToken)) {
      const id = item.SpecialToken.id;
      const special = typeof id === 'string' ? specials.get(id) : undefined;
      if (!special) throw new UserError(`post_processor: ${where} names special token ${JSON.stringify(id)}, which is not in special_tokens`, file);
      return { kind: 'special', ...special, typeId: typeIdOf(item.SpecialToken.type_id, where, file) };
    }
    throw new UserError(`post_processor: ${where} is ${JSON.stringify(item)?.slice(0, 60)}; expected {"Sequence": …} or {"SpecialToken": …}`, file);
  });
}

function template(config: Record<string, unknown>, file: string): PostProcessor {
  const specials = new Map<string, { ids: number[]; tokens: string[] }>();
  const table = config.special_tokens;
  if (table !== undefined && !isObject(table)) throw new UserError('post_processor: TemplateProcessing special_tokens is not an object', file);
  for (const [key, value] of Object.entries(table ?? {})) {
    const v = value as Record<string, unknown>;
    const ok = isObject(v) && Array.isArray(v.ids) && Array.isArray(v.tokens) && v.ids.length === v.tokens.length
      && v.ids.every((x) => Number.isInteger(x) && (x as number) >= 0) && v.tokens.every((t) => typeof t === 'string');
    if (!ok) throw new UserError(`post_processor: special token ${JSON.stringify(key)} needs "ids" (non-negative integers) and "tokens" of the same length`, file);
    specials.set(key, { ids: v.ids as number[], tokens: v.tokens as string[] });
  }
  const single = templateOf(config.single, 'single', specials, file);
  const pair = config.pair === undefined || config.pair === null ? undefined : templateOf(config.pair, 'pair', specials, file);
  const count = (t: Entry[]) => t.reduce((n, e) => n + (e.kind === 'special' ? e.ids.length : 0), 0);
  return {
    added: (isPair) => count((isPair ? pair : single) ?? []),
    apply(a, b) {
      const t = b === undefined ? single : pair;
      if (!t) throw new UserError('post_processor: TemplateProcessing has no "pair" template, so this tokenizer cannot encode a sentence pair', file);
      const out: Processed = { ids: [], tokens: [], typeIds: [], special: [] };
      for (const e of t) {
        const src = e.kind === 'special' ? e : e.seq === 'A' ? a : b;
        if (!src) continue; // "$B" in a single template: HF skips it
        out.ids.push(...src.ids);
        out.tokens.push(...src.tokens);
        for (let i = 0; i < src.ids.length; i++) {
          out.typeIds.push(e.typeId);
          out.special.push(e.kind === 'special');
        }
      }
      return out;
    },
  };
}

function clsSep(config: Record<string, unknown>, file: string, roberta: boolean): PostProcessor {
  const pairOf = (v: unknown, name: string): [string, number] => {
    if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string' || !Number.isInteger(v[1]) || v[1] < 0) {
      throw new UserError(`post_processor: ${String(config.type)} "${name}" must be [token, id]`, file);
    }
    return [v[0], v[1]];
  };
  const [cls, clsId] = pairOf(config.cls, 'cls');
  const [sep, sepId] = pairOf(config.sep, 'sep');
  return {
    added: (isPair) => (isPair ? (roberta ? 4 : 3) : 2),
    apply(a, b) {
      const out: Processed = { ids: [clsId, ...a.ids, sepId], tokens: [cls, ...a.tokens, sep], typeIds: [], special: [] };
      out.special = [true, ...a.ids.map(() => false), true];
      out.typeIds = out.ids.map(() => 0);
      if (b) {
        const head = roberta ? [sepId] : [];
        out.ids.push(...head, ...b.ids, sepId);
        out.tokens.push(...head.map(() => sep), ...b.tokens, sep);
        out.special.push(...head.map(() => true), ...b.ids.map(() => false), true);
        out.typeIds.push(...head.map(() => (roberta ? 0 : 1)), ...b.ids.map(() => (roberta ? 0 : 1)), roberta ? 0 : 1);
      }
      return out;
    },
  };
}

const plain: PostProcessor = {
  added: () => 0,
  apply(a, b) {
    const ids = [...a.ids, ...(b?.ids ?? [])];
    return { ids, tokens: [...a.tokens, ...(b?.tokens ?? [])], typeIds: [...a.ids.map(() => 0), ...(b?.ids.map(() => 1) ?? [])], special: ids.map(() => false) };
  },
};

export function createPostProcessor(config: unknown, file: string): PostProcessor {
  if (config === null || config === undefined) return plain;
  if (!isObject(config)) throw new UserError('post_processor is not an object', file);
  switch (config.type) {
    case 'TemplateProcessing':
      return template(config, file);
    case 'BertProcessing':
      return clsSep(config, file, false);
    case 'RobertaProcessing':
      return clsSep(config, file, true);
    case 'ByteLevel':
      return plain;
    case 'Sequence': {
      const parts = Array.isArray(config.processors) ? config.processors.map((p) => createPostProcessor(p, file)) : undefined;
      if (!parts) throw new UserError('post_processor: Sequence has no "processors" list', file);
      const adding = parts.filter((p) => p !== plain);
      if (adding.length > 1) throw new UserError('post_processor: a Sequence with more than one processor that adds special tokens is not supported', file);
      return adding[0] ?? plain;
    }
    default:
      throw new UserError(`post_processor type ${JSON.stringify(config.type)} is not supported`, file);
  }
}
