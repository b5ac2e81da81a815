/**
 * A SentencePiece model turned into the tokenizer.json that transformers (5.24, the version the tests
 * pin) builds from it when a folder has no tokenizer.json: the vocabulary reordering of each class's
 * converter (`convert_from_spm`: XLM-R's fairseq offset, CamemBERT's NOTUSED entries), the normalizer,
 * pre-tokenizer and template of the tokenizer class itself (XLMRobertaTokenizer, CamembertTokenizer,
 * AlbertTokenizer, DebertaV2Tokenizer), then the special tokens the base class adds. The result runs
 * through the same pipeline as a tokenizer.json, and python/tokenizer_build.py checks it against HF.
 */
import { UserError } from '../errors';
import { PIECE_CONTROL, PIECE_USER_DEFINED, SentencePieceModel } from './sentencepieceModel';

export type SentencePieceClass = 'XLMRobertaTokenizer' | 'CamembertTokenizer' | 'AlbertTokenizer' | 'DebertaV2Tokenizer';

/** The tokenizer class for a folder, from tokenizer_config.json's tokenizer_class, else config.json's model_type. */
export function sentencePieceClass(tokenizerClass: unknown, modelType: unknown): SentencePieceClass | undefined {
  const byClass: Record<string, SentencePieceClass> = {
    XLMRobertaTokenizer: 'XLMRobertaTokenizer',
    CamembertTokenizer: 'CamembertTokenizer',
    AlbertTokenizer: 'AlbertTokenizer',
    DebertaV2Tokenizer: 'DebertaV2Tokenizer',
  };
  const byModel: Record<string, SentencePieceClass> = {
    'xlm-roberta': 'XLMRobertaTokenizer',
    camembert: 'CamembertTokenizer',
    albert: 'AlbertTokenizer',
    'deberta-v2': 'DebertaV2Tokenizer',
  };
  if (typeof tokenizerClass === 'string' && tokenizerClass !== '') return byClass[tokenizerClass.replace(/Fast$/, '')];
  return typeof modelType === 'string' ? byModel[modelType] : undefined;
}

/** The file name each class reads its model from (its vocab_files_names). */
export const SENTENCEPIECE_FILE: Record<SentencePieceClass, string> = {
  XLMRobertaTokenizer: 'sentencepiece.bpe.model',
  CamembertTokenizer: 'sentencepiece.bpe.model',
  AlbertTokenizer: 'spiece.model',
  DebertaV2Tokenizer: 'spm.model',
};

interface Token {
  content: string;
  lstrip: boolean;
  rstrip: boolean;
  single_word: boolean;
  normalized: boolean;
  special: boolean;
}

type Role = 'bos' | 'eos' | 'unk' | 'sep' | 'pad' | 'cls' | 'mask';
/** The order the base class adds named special tokens in (SPECIAL_TOKENS_ATTRIBUTES). */
const ROLES: Role[] = ['bos', 'eos', 'unk', 'sep', 'pad', 'cls', 'mask'];

const DEFAULTS: Record<SentencePieceClass, Record<Role, string>> = {
  XLMRobertaTokenizer: { bos: '<s>', eos: '</s>', unk: '<unk>', sep: '</s>', pad: '<pad>', cls: '<s>', mask: '<mask>' },
  CamembertTokenizer: { bos: '<s>', eos: '</s>', unk: '<unk>', sep: '</s>', pad: '<pad>', cls: '<s>', mask: '<mask>' },
  AlbertTokenizer: { bos: '[CLS]', eos: '[SEP]', unk: '<unk>', sep: '[SEP]', pad: '<pad>', cls: '[CLS]', mask: '[MASK]' },
  DebertaV2Tokenizer: { bos: '[CLS]', eos: '[SEP]', unk: '[UNK]', sep: '[SEP]', pad: '[PAD]', cls: '[CLS]', mask: '[MASK]' },
};

const special = (content: string): Token => ({ content, lstrip: false, rstrip: false, single_word: false, normalized: false, special: true });

/** A special token as tokenizer_config.json gives it: a string or an AddedToken object ({content, lstrip, …}). */
function configToken(v: unknown, role: string, file: string): Token | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return special(v);
  if (typeof v === 'object' && !Array.isArray(v) && typeof (v as { content?: unknown }).content === 'string') {
    const o = v as Record<string, unknown>;
    const flag = (k: string, d: boolean) => (typeof o[k] === 'boolean' ? (o[k] as boolean) : d);
    return { content: o.content as string, lstrip: flag('lstrip', false), rstrip: flag('rstrip', false), single_word: flag('single_word', false), normalized: flag('normalized', false), special: flag('special', true) };
  }
  throw new UserError(`${role}_token is ${JSON.stringify(v)?.slice(0, 60)}; expected a string or {"content": …}`, file);
}

const flagOf = (config: Record<string, unknown>, key: string, d: boolean) => (typeof config[key] === 'boolean' ? (config[key] as boolean) : d);

const metaspace = (prependScheme: string) => ({ type: 'Metaspace', replacement: '\u2581', prepend_scheme: prependScheme, split: true });

/**
 * The tokenizer.json for `model` as `cls` builds it. `config` is tokenizer_config.json (do_lower_case,
 * keep_accents, split_by_punct, add_prefix_space and the *_token names are read as the class reads them);
 * `modelFile` and `configFile` are named in errors.
 */
export function sentencePieceTokenizerJson(
  model: SentencePieceModel,
  cls: SentencePieceClass,
  config: Record<string, unknown>,
  modelFile: string,
  configFile: string,
): Record<string, unknown> {
  const tokens = {} as Record<Role, Token>;
  for (const role of ROLES) tokens[role] = configToken(config[`${role}_token`], role, configFile) ?? special(DEFAULTS[cls][role]);
  // CamemBERT's <mask> takes the space before it, when given by name only.
  if (cls === 'CamembertTokenizer' && typeof config.mask_token !== 'object') tokens.mask = { ...tokens.mask, lstrip: true };
  const name = (r: Role) => tokens[r].content;
  const addPrefixSpace = flagOf(config, 'add_prefix_space', true);
  const pieces: Array<[string, number]> = model.pieces.map((p) => [p.piece, p.score]);
  const charsmap = model.normalizer.precompiledCharsmap.length > 0 ? Buffer.from(model.normalizer.precompiledCharsmap).toString('base64') : undefined;
  const precompiled = charsmap ? { type: 'Precompiled', precompiled_charsmap: charsmap } : undefined;

  let vocab: Array<[string, number]>;
  let unkId: number;
  let normalizer: unknown;
  let preTokenizers: unknown[];
  switch (cls) {
    case 'XLMRobertaTokenizer':
      // fairseq's order: <s> <pad> </s> <unk>, then the model's pieces after its own <unk> <s> </s>, then <mask>.
      vocab = [[name('bos'), 0], [name('pad'), 0], [name('eos'), 0], [name('unk'), 0], ...pieces.slice(3), [name('mask'), 0]];
      unkId = 3;
      normalizer = precompiled ?? null;
      preTokenizers = [{ type: 'WhitespaceSplit' }, metaspace(addPrefixSpace ? 'always' : 'never')];
      break;
    case 'CamembertTokenizer': {
      if (model.trainer.modelType !== 1) {
        throw new UserError(`is a SentencePiece ${modelTypeName(model.trainer.modelType)} model; CamembertTokenizer converts only unigram ones (as transformers does)`, modelFile);
      }
      vocab = [['<s>NOTUSED', 0], [name('pad'), 0], ['</s>NOTUSED', 0], [name('unk'), 0], ['<unk>NOTUSED', -100], ...pieces.slice(1), [name('mask'), 0]];
      const unk = vocab.findIndex(([p]) => p === name('unk'));
      unkId = unk >= 0 ? unk : 0;
      normalizer = precompiled ?? null;
      preTokenizers = [{ type: 'WhitespaceSplit' }, metaspace(addPrefixSpace ? 'always' : 'never')];
      break;
    }
    case 'AlbertTokenizer': {
      vocab = pieces;
      unkId = 1; // AlbertTokenizer's own choice, whatever the model's unk_id
      const parts: unknown[] = [
        { type: 'Replace', pattern: { String: '``' }, content: '"' },
        { type: 'Replace', pattern: { String: "''" }, content: '"' },
      ];
      if (!flagOf(config, 'keep_accents', false)) parts.push({ type: 'NFKD' }, { type: 'StripAccents' });
      if (flagOf(config, 'do_lower_case', true)) parts.push({ type: 'Lowercase' });
      if (precompiled) parts.push(precompiled);
      normalizer = { type: 'Sequence', normalizers: parts };
      preTokenizers = [{ type: 'WhitespaceSplit' }, metaspace(addPrefixSpace ? 'always' : 'never')];
      break;
    }
    case 'DebertaV2Tokenizer': {
      vocab = pieces;
      const unk = vocab.findIndex(([p, s]) => p === name('unk') && s === 0);
      unkId = unk >= 0 ? unk : model.trainer.unkId;
      const parts: unknown[] = flagOf(config, 'do_lower_case', false) ? [{ type: 'Lowercase' }] : [];
      parts.push(
        { type: 'Replace', pattern: { Regex: '\\s{2,}|[\\n\\r\\t]' }, content: ' ' },
        { type: 'NFC' },
        { type: 'Strip', strip_left: false, strip_right: true },
      );
      normalizer = { type: 'Sequence', normalizers: parts };
      preTokenizers = flagOf(config, 'split_by_punct', false) ? [{ type: 'Punctuation', behavior: 'Isolated' }] : [];
      preTokenizers.push(metaspace(addPrefixSpace ? 'always' : 'first'));
      break;
    }
  }
  if (unkId < 0 || unkId >= vocab.length) throw new UserError(`has no unknown piece: unk_id ${unkId} is outside its ${vocab.length} pieces`, modelFile);

  // The model's token → id map keeps the last of repeated pieces, as HF Rust's Unigram does.
  const modelIds = new Map<string, number>();
  vocab.forEach(([p], i) => modelIds.set(p, i));

  // Named special tokens, then SentencePiece's control (special) and user-defined (not special) pieces,
  // each added once: one the vocabulary has keeps its id, any other goes after the vocabulary.
  const added = new Map<string, Token & { id: number }>();
  let next = vocab.length;
  const add = (t: Token) => {
    if (added.has(t.content)) return;
    const id = modelIds.get(t.content) ?? next++;
    added.set(t.content, { id, ...t });
  };
  for (const role of ROLES) add(tokens[role]);
  model.pieces.forEach((p) => {
    if (p.type === PIECE_CONTROL || p.type === PIECE_USER_DEFINED) add({ ...special(p.piece), special: p.type === PIECE_CONTROL });
  });
  const idOf = (t: string) => added.get(t)?.id ?? modelIds.get(t);

  let post: Record<string, unknown>;
  const seq = (id: 'A' | 'B', typeId: number) => ({ Sequence: { id, type_id: typeId } });
  const tok = (id: string, typeId: number) => ({ SpecialToken: { id, type_id: typeId } });
  const table = (entries: Array<[string, number]>) => Object.fromEntries(entries.map(([t, id]) => [t, { id: t, ids: [id], tokens: [t] }]));
  if (cls === 'AlbertTokenizer') {
    // AlbertTokenizer names its template's tokens [CLS]/[SEP] and looks their ids up in the SentencePiece vocabulary.
    const clsId = modelIds.get(name('cls'));
    const sepId = modelIds.get(name('sep'));
    if (clsId === undefined || sepId === undefined) {
      throw new UserError(`has no piece ${JSON.stringify(clsId === undefined ? name('cls') : name('sep'))}, which AlbertTokenizer's template needs`, modelFile);
    }
    post = {
      type: 'TemplateProcessing',
      single: [tok('[CLS]', 0), seq('A', 0), tok('[SEP]', 0)],
      pair: [tok('[CLS]', 0), seq('A', 0), tok('[SEP]', 0), seq('B', 1), tok('[SEP]', 1)],
      special_tokens: table([['[CLS]', clsId], ['[SEP]', sepId]]),
    };
  } else if (cls === 'DebertaV2Tokenizer') {
    post = {
      type: 'TemplateProcessing',
      single: [tok(name('cls'), 0), seq('A', 0), tok(name('sep'), 0)],
      pair: [tok(name('cls'), 0), seq('A', 0), tok(name('sep'), 0), seq('B', 1), tok(name('sep'), 1)],
      special_tokens: table([[name('cls'), idOf(name('cls')) ?? 0], [name('sep'), idOf(name('sep')) ?? 0]]),
    };
  } else {
    post = {
      type: 'TemplateProcessing',
      single: [tok(name('bos'), 0), seq('A', 0), tok(name('eos'), 0)],
      pair: [tok(name('bos'), 0), seq('A', 0), tok(name('eos'), 0), tok(name('eos'), 0), seq('B', 0), tok(name('eos'), 0)],
      special_tokens: table([[name('bos'), idOf(name('bos'))!], [name('eos'), idOf(name('eos'))!]]),
    };
  }

  const prependScheme = (preTokenizers[preTokenizers.length - 1] as { prepend_scheme: string }).prepend_scheme;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [...added.values()].sort((a, b) => a.id - b.id).map((t) => ({
      id: t.id, content: t.content, single_word: t.single_word, lstrip: t.lstrip, rstrip: t.rstrip, normalized: t.normalized, special: t.special,
    })),
    normalizer,
    pre_tokenizer: { type: 'Sequence', pretokenizers: preTokenizers },
    post_processor: post,
    decoder: metaspace(prependScheme),
    model: { type: 'Unigram', unk_id: unkId, vocab, byte_fallback: false },
  };
}

function modelTypeName(t: number): string {
  return ({ 1: 'unigram', 2: 'BPE', 3: 'word', 4: 'char' } as Record<number, string>)[t] ?? `type-${t}`;
}
