/**
 * The model's own tokenizer, from tokenizer.json, or from a SentencePiece model or vocab.txt
 * (+ tokenizer_config.json) converted to the tokenizer.json form that @huggingface/tokenizers reads.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { UserError } from '../errors';
import { readJsonObject, readUserFile, readUserText } from '../files';
import { createNormalizer } from '../tokenizer/normalizers';
import { createPostProcessor, Piece } from '../tokenizer/postProcessor';
import { createPreTokenizer } from '../tokenizer/preTokenizers';
import { SENTENCEPIECE_FILE, sentencePieceClass, sentencePieceTokenizerJson } from '../tokenizer/sentencepieceConvert';
import { parseSentencePieceModel } from '../tokenizer/sentencepieceModel';
import { longestFirst } from '../tokenizer/truncation';

export interface EncodedText {
  ids: number[];
  tokens: string[];
  typeIds: number[];
  /** The type ids the tokenizer itself gives, before `typeVocabSize` folds them (what HF's tokenizers return). */
  rawTypeIds?: number[];
  /** True where the token is a special token ([CLS], [SEP], <s>, …). */
  special: boolean[];
  /** Set when the text had to be cut to fit (see truncate). */
  truncatedFrom?: number;
}

/**
 * Cuts an encoded text to `limit` tokens, keeping a closing special token ([SEP], </s>) so the
 * sequence still ends the way the model saw in training.
 */
export function truncate(e: EncodedText, limit: number): EncodedText {
  if (e.ids.length <= limit) return e;
  const keepLast = e.special[e.special.length - 1];
  const cut = <T>(a: T[]) => (keepLast ? [...a.slice(0, limit - 1), a[a.length - 1]] : a.slice(0, limit));
  return { ids: cut(e.ids), typeIds: cut(e.typeIds), tokens: cut(e.tokens), special: cut(e.special), truncatedFrom: e.truncatedFrom ?? e.ids.length };
}

export interface ModelTokenizer {
  /**
   * `maxLength`: cut as HF's `truncation=True, max_length=maxLength` does (longest first, before the
   * special tokens are added), so the ids equal HF's.
   */
  encode(text: string, pair?: string, maxLength?: number): EncodedText;
  idToToken(id: number): string;
  /** The id of a vocabulary token, or undefined when the vocabulary has no such token. */
  tokenToId(token: string): number | undefined;
  /** The model's own mask token ([MASK], <mask>), when its tokenizer has one. */
  readonly mask?: { id: number; token: string };
  readonly file: string;
}

/**
 * `typeVocabSize`: models with fewer token types than the tokenizer hands out (RoBERTa-style: 1) never
 * see a nonzero type id in HF (their tokenizers do not return token_type_ids), so ids past it become 0.
 */
export function loadTokenizer(dir: string, typeVocabSize = Infinity): ModelTokenizer {
  const jsonFile = path.join(dir, 'tokenizer.json');
  const configFile = path.join(dir, 'tokenizer_config.json');
  const vocabFile = path.join(dir, 'vocab.txt');
  const config = fs.existsSync(configFile) ? readJsonObject(configFile, 'tokenizer_config.json') : {};
  if (fs.existsSync(jsonFile)) {
    const json = readJsonObject(jsonFile, 'tokenizer.json');
    return wrap(construct(json, config, jsonFile), jsonFile, json, typeVocabSize, lowercases(json.normalizer), config);
  }
  const spm = sentencePieceTokenizer(dir, config, configFile);
  if (spm) return wrap(construct(spm.json, config, spm.file), spm.file, spm.json, typeVocabSize, lowercases(spm.json.normalizer));
  if (fs.existsSync(vocabFile)) {
    const lower = config.do_lower_case !== false;
    const vocab = readVocab(vocabFile);
    for (const t of ['[UNK]', '[CLS]', '[SEP]']) {
      if (!vocab.has(t)) throw new UserError(`has no id for "${t}"; a WordPiece vocabulary needs [UNK], [CLS] and [SEP]`, vocabFile);
    }
    const json = wordPieceTokenizerJson(vocab, lower);
    return wrap(construct(json, config, vocabFile), vocabFile, json, typeVocabSize, lower, config);
  }
  throw new UserError('no tokenizer found: expected tokenizer.json, a SentencePiece model (spm.model, spiece.model, sentencepiece.bpe.model), or vocab.txt with tokenizer_config.json', dir);
}

const SENTENCEPIECE_NAMES = ['sentencepiece.bpe.model', 'spiece.model', 'spm.model'];

/**
 * A folder with a SentencePiece model and no tokenizer.json (DeBERTa-v3, older repos): converted as
 * transformers converts it, for the class tokenizer_config.json names (or config.json's model_type).
 */
function sentencePieceTokenizer(dir: string, config: Record<string, unknown>, configFile: string): { json: Record<string, unknown>; file: string } | undefined {
  const present = SENTENCEPIECE_NAMES.filter((n) => fs.existsSync(path.join(dir, n)));
  if (present.length === 0) return undefined;
  const modelConfigFile = path.join(dir, 'config.json');
  const modelType = config.tokenizer_class === undefined && fs.existsSync(modelConfigFile) ? readJsonObject(modelConfigFile, 'config.json').model_type : undefined;
  const cls = sentencePieceClass(config.tokenizer_class, modelType);
  if (!cls) {
    const what = config.tokenizer_class !== undefined
      ? `tokenizer_config.json names tokenizer_class ${JSON.stringify(config.tokenizer_class)?.slice(0, 60)}`
      : modelType !== undefined ? `config.json has model_type ${JSON.stringify(modelType)?.slice(0, 60)}` : 'neither tokenizer_config.json nor config.json says which tokenizer it is';
    throw new UserError(`has no tokenizer.json, and Layer Lens converts a SentencePiece model only as XLMRobertaTokenizer, CamembertTokenizer, AlbertTokenizer or DebertaV2Tokenizer do; ${what}`, path.join(dir, present[0]));
  }
  const file = path.join(dir, present.includes(SENTENCEPIECE_FILE[cls]) ? SENTENCEPIECE_FILE[cls] : present[0]);
  const model = parseSentencePieceModel(readUserFile(file, 'SentencePiece model'), file);
  return { json: sentencePieceTokenizerJson(model, cls, config, file, configFile), file };
}

function construct(json: Record<string, unknown>, config: Record<string, unknown>, file: string): Tokenizer {
  try {
    return new Tokenizer(json, config);
  } catch (e) {
    throw new UserError(`cannot build a tokenizer from it (${(e as Error).message})`, file);
  }
}

/** vocab.txt: one token per line, id = line number. Where a token repeats, the last line wins (as in HF). */
function readVocab(file: string): Map<string, number> {
  const vocab = new Map<string, number>();
  const lines = readUserText(file, 'vocab.txt').split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((token, id) => vocab.set(token, id));
  if (vocab.size === 0) throw new UserError('vocab.txt is empty', file);
  return vocab;
}

/** The tokenizer.json that HF's BertTokenizerFast would save for this vocabulary. */
export function wordPieceTokenizerJson(vocab: Map<string, number>, lowercase: boolean): Record<string, unknown> {
  const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].filter((t) => vocab.has(t));
  const id = (t: string) => vocab.get(t) ?? 0;
  return {
    version: '1.0',
    added_tokens: specials.map((t) => ({
      id: id(t), content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
    })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: Object.fromEntries(
        ['[CLS]', '[SEP]'].filter((t) => vocab.has(t)).map((t) => [t, { id: t, ids: [id(t)], tokens: [t] }]),
      ),
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab),
    },
  };
}

/** The mask token tokenizer_config.json names (a string or an AddedToken), else [MASK] or <mask> if the vocabulary has it. */
function maskToken(config: Record<string, unknown>, known: (t: string) => number | undefined): { id: number; token: string } | undefined {
  const named = config.mask_token;
  const text = typeof named === 'string' ? named : typeof (named as { content?: unknown } | null)?.content === 'string' ? (named as { content: string }).content : undefined;
  for (const token of [text, '[MASK]', '<mask>']) {
    if (token === undefined) continue;
    const id = known(token);
    if (id !== undefined) return { id, token };
  }
  return undefined;
}

/** Whether a tokenizer.json normalizer lowercases (BertNormalizer, Lowercase, or inside a Sequence). */
function lowercases(normalizer: unknown): boolean {
  const n = normalizer as { type?: string; lowercase?: boolean; normalizers?: unknown[] } | null | undefined;
  if (!n) return false;
  if (n.type === 'Lowercase' || (n.type === 'BertNormalizer' && n.lowercase !== false)) return true;
  return (n.normalizers ?? []).some(lowercases);
}

/**
 * JavaScript lowercases a word-final 'Σ' to 'ς' (final sigma); HF's Rust tokenizers lowercase
 * every 'Σ' to 'σ'. Mapping it first makes the two agree (checked against HF on Greek text).
 */
function rustLowercaseQuirks(text: string): string {
  return text.replace(/Σ/g, 'σ');
}

function wrap(tokenizer: Tokenizer, file: string, json: Record<string, unknown>, typeVocabSize = Infinity, lowercase = false, config: Record<string, unknown> = {}): ModelTokenizer {
  const post = createPostProcessor(json.post_processor, file);
  const normalize = createNormalizer(json.normalizer, file);
  const preTokenize = createPreTokenizer(json.pre_tokenizer, file);
  // A special token typed in the text ("[SEP]") is special too, as the summary has always treated it.
  const specialIds = new Set(
    (Array.isArray(json.added_tokens) ? json.added_tokens : [])
      .filter((t): t is { id: number; special: true } => typeof t === 'object' && t !== null && (t as { special?: unknown }).special === true && Number.isInteger((t as { id?: unknown }).id))
      .map((t) => t.id),
  );
  const parts = tokenizer as unknown as { normalizer: unknown; pre_tokenizer: unknown };
  if (normalize) parts.normalizer = json.normalizer ? normalize : null;
  if (preTokenize) parts.pre_tokenizer = json.pre_tokenizer ? (text: string, o?: { section_index?: number }) => preTokenize([text], (o?.section_index ?? 0) === 0) : null;
  // The package's internals this wrapper drives: the text → token strings part of its encode(),
  // and the vocabulary maps. Normalizer and pre-tokenizer are replaced by ours (src/core/tokenizer).
  const inner = tokenizer as unknown as {
    encode_text(text: string): string[];
    added_tokens_map: Map<string, { id: number }>;
    model: { tokens_to_ids: Map<string, number>; unk_token_id?: number };
  };
  const known = (t: string) => inner.added_tokens_map.get(t)?.id ?? inner.model.tokens_to_ids.get(t);
  const toId = (t: string) => known(t) ?? inner.model.unk_token_id ?? 0;
  const mask = maskToken(config, known);
  const piece = (text: string): Piece => {
    const tokens = inner.encode_text(lowercase && !normalize ? rustLowercaseQuirks(text) : text);
    return { tokens, ids: tokens.map(toId) };
  };
  return {
    file,
    idToToken: (id) => tokenizer.id_to_token(id) ?? `[${id}]`,
    tokenToId: known,
    ...(mask ? { mask } : {}),
    encode(text, pair, maxLength) {
      let a = piece(text);
      let b = pair === undefined ? undefined : piece(pair);
      if (maxLength !== undefined) {
        const [na, nb] = longestFirst(a.ids.length, b?.ids.length, maxLength - post.added(b !== undefined));
        const cut = (p: Piece, n: number): Piece => (p.ids.length > n ? { ids: p.ids.slice(0, n), tokens: p.tokens.slice(0, n) } : p);
        a = cut(a, na);
        if (b) b = cut(b, nb);
      }
      const out = post.apply(a, b);
      return {
        ids: out.ids,
        rawTypeIds: out.typeIds,
        typeIds: out.typeIds.map((t) => (t < typeVocabSize ? t : 0)),
        tokens: out.ids.map((id) => tokenizer.id_to_token(id) ?? `[${id}]`),
        special: out.special.map((isSpecial, i) => isSpecial || specialIds.has(out.ids[i])),
      };
    },
  };
}
