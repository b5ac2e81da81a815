/**
 * Tiny random checkpoints of every non-BERT family in its exact HF layout: the tensor names and
 * shapes of RobertaForMaskedLM / XLMRobertaForMaskedLM / CamembertForMaskedLM, AlbertForMaskedLM,
 * DistilBertForMaskedLM and ElectraForMaskedLM (or an ELECTRA discriminator), the config.json
 * fields each family's config class writes, and a tokenizer of the family's kind (byte-level BPE
 * for RoBERTa, Unigram for XLM-R / CamemBERT, WordPiece otherwise).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DType } from '../../../src/core/checkpoint/dtype';
import { TensorToWrite, writeSafetensors } from '../../../src/core/checkpoint/safetensors';
import { wordPieceTokenizerJson } from '../../../src/core/checkpoint/tokenizer';
import { gaussian, rng } from './random';
import { encode, TINY_WORDS, tinyVocab } from './tinyBert';

export type TinyFamily = 'roberta' | 'xlm-roberta' | 'camembert' | 'albert' | 'distilbert' | 'electra' | 'electra-discriminator';
export type TinyFormat = 'safetensors' | 'bin' | 'onnx';

export interface TinyFamilyOptions {
  layers?: number;
  hidden?: number;
  /** ALBERT / ELECTRA embedding_size (defaults to hidden / 2 for them, so the projection is exercised). */
  embedding?: number;
  heads?: number;
  intermediate?: number;
  /** ALBERT num_hidden_groups. */
  groups?: number;
  hiddenAct?: string;
  dtype?: DType;
  format?: TinyFormat;
  /** Leave the (tied) decoder weight out of the file, as HF does for tied weights in safetensors. */
  omitTiedDecoder?: boolean;
  seed?: number;
  std?: number;
  /** vocab_size for a tokenizer brought by the test (the family's own tiny tokenizer is still written). */
  vocabSize?: number;
}

export type Init = 'normal' | 'lnw' | 'lnb';
export interface TensorSpec {
  name: string;
  shape: number[];
  init: Init;
}

/** A fully described tiny checkpoint before it is written in some format. */
export interface TinyCheckpoint {
  config: Record<string, unknown>;
  tensors: { name: string; shape: number[]; values: Float32Array<ArrayBufferLike> }[];
  /** [tied name, name it shares storage with] */
  tied: [string, string][];
}

const linear = (name: string, out: number, inp: number): TensorSpec[] => [
  { name: `${name}.weight`, shape: [out, inp], init: 'normal' },
  { name: `${name}.bias`, shape: [out], init: 'normal' },
];
const norm = (name: string, n: number): TensorSpec[] => [
  { name: `${name}.weight`, shape: [n], init: 'lnw' },
  { name: `${name}.bias`, shape: [n], init: 'lnb' },
];

function bertStyleLayers(prefix: string, L: number, H: number, I: number): TensorSpec[] {
  const out: TensorSpec[] = [];
  for (let l = 0; l < L; l++) {
    const p = `${prefix}.encoder.layer.${l}`;
    out.push(
      ...linear(`${p}.attention.self.query`, H, H),
      ...linear(`${p}.attention.self.key`, H, H),
      ...linear(`${p}.attention.self.value`, H, H),
      ...linear(`${p}.attention.output.dense`, H, H),
      ...norm(`${p}.attention.output.LayerNorm`, H),
      ...linear(`${p}.intermediate.dense`, I, H),
      ...linear(`${p}.output.dense`, H, I),
      ...norm(`${p}.output.LayerNorm`, H),
    );
  }
  return out;
}

function embeddings(prefix: string, V: number, P: number, T: number, E: number): TensorSpec[] {
  return [
    { name: `${prefix}.embeddings.word_embeddings.weight`, shape: [V, E], init: 'normal' },
    { name: `${prefix}.embeddings.position_embeddings.weight`, shape: [P, E], init: 'normal' },
    ...(T > 0 ? [{ name: `${prefix}.embeddings.token_type_embeddings.weight`, shape: [T, E], init: 'normal' as Init }] : []),
    ...norm(`${prefix}.embeddings.LayerNorm`, E),
  ];
}

/** Tensor specs and config.json of one family, in the names and order its HF class saves them. */
export function describeTinyFamily(family: TinyFamily, options: TinyFamilyOptions = {}): { config: Record<string, unknown>; specs: TensorSpec[]; tied: [string, string][]; vocab: string[] } {
  const L = options.layers ?? 2;
  const H = options.hidden ?? 32;
  const heads = options.heads ?? 4;
  const I = options.intermediate ?? 4 * H;
  const P = 64;
  const tok = tinyTokenizer(family);
  const V = options.vocabSize ?? tok.vocab.length;
  switch (family) {
    case 'roberta':
    case 'xlm-roberta':
    case 'camembert': {
      const arch = { roberta: 'RobertaForMaskedLM', 'xlm-roberta': 'XLMRobertaForMaskedLM', camembert: 'CamembertForMaskedLM' }[family];
      const config = {
        architectures: [arch], model_type: family, vocab_size: V, hidden_size: H, num_hidden_layers: L, num_attention_heads: heads,
        intermediate_size: I, hidden_act: options.hiddenAct ?? 'gelu', hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1,
        max_position_embeddings: P + 2, type_vocab_size: 1, initializer_range: 0.02, layer_norm_eps: 1e-5,
        pad_token_id: 1, bos_token_id: 0, eos_token_id: 2, position_embedding_type: 'absolute', use_cache: true,
      };
      const specs = [
        ...embeddings('roberta', V, P + 2, 1, H),
        ...bertStyleLayers('roberta', L, H, I),
        { name: 'lm_head.bias', shape: [V], init: 'normal' as Init },
        ...linear('lm_head.dense', H, H),
        ...norm('lm_head.layer_norm', H),
        { name: 'lm_head.decoder.weight', shape: [V, H], init: 'normal' as Init },
      ];
      return { config, specs, tied: [['lm_head.decoder.weight', 'roberta.embeddings.word_embeddings.weight']], vocab: tok.vocab };
    }
    case 'albert': {
      const E = options.embedding ?? H / 2;
      const G = options.groups ?? 1;
      const config = {
        architectures: ['AlbertForMaskedLM'], model_type: 'albert', vocab_size: V, embedding_size: E, hidden_size: H,
        num_hidden_layers: L, num_hidden_groups: G, num_attention_heads: heads, intermediate_size: I, inner_group_num: 1,
        hidden_act: options.hiddenAct ?? 'gelu_new', hidden_dropout_prob: 0, attention_probs_dropout_prob: 0, max_position_embeddings: P,
        type_vocab_size: 2, initializer_range: 0.02, layer_norm_eps: 1e-12, classifier_dropout_prob: 0.1,
        position_embedding_type: 'absolute', pad_token_id: 0, bos_token_id: 2, eos_token_id: 3,
      };
      const specs: TensorSpec[] = [...embeddings('albert', V, P, 2, E), ...linear('albert.encoder.embedding_hidden_mapping_in', H, E)];
      for (let g = 0; g < G; g++) {
        const p = `albert.encoder.albert_layer_groups.${g}.albert_layers.0`;
        specs.push(
          ...norm(`${p}.full_layer_layer_norm`, H),
          ...linear(`${p}.attention.query`, H, H),
          ...linear(`${p}.attention.key`, H, H),
          ...linear(`${p}.attention.value`, H, H),
          ...linear(`${p}.attention.dense`, H, H),
          ...norm(`${p}.attention.LayerNorm`, H),
          ...linear(`${p}.ffn`, I, H),
          ...linear(`${p}.ffn_output`, H, I),
        );
      }
      specs.push(
        ...linear('albert.pooler', H, H),
        { name: 'predictions.bias', shape: [V], init: 'normal' },
        ...norm('predictions.LayerNorm', E),
        ...linear('predictions.dense', E, H),
        { name: 'predictions.decoder.weight', shape: [V, E], init: 'normal' },
        { name: 'predictions.decoder.bias', shape: [V], init: 'normal' },
      );
      return {
        config, specs, vocab: tok.vocab,
        tied: [['predictions.decoder.weight', 'albert.embeddings.word_embeddings.weight'], ['predictions.decoder.bias', 'predictions.bias']],
      };
    }
    case 'distilbert': {
      const config = {
        architectures: ['DistilBertForMaskedLM'], model_type: 'distilbert', vocab_size: V, dim: H, n_layers: L, n_heads: heads,
        hidden_dim: I, activation: options.hiddenAct ?? 'gelu', dropout: 0.1, attention_dropout: 0.1, max_position_embeddings: P,
        initializer_range: 0.02, pad_token_id: 0, qa_dropout: 0.1, seq_classif_dropout: 0.2, sinusoidal_pos_embds: false, tie_weights_: true,
      };
      const specs: TensorSpec[] = [...embeddings('distilbert', V, P, 0, H)];
      for (let l = 0; l < L; l++) {
        const p = `distilbert.transformer.layer.${l}`;
        specs.push(
          ...linear(`${p}.attention.q_lin`, H, H),
          ...linear(`${p}.attention.k_lin`, H, H),
          ...linear(`${p}.attention.v_lin`, H, H),
          ...linear(`${p}.attention.out_lin`, H, H),
          ...norm(`${p}.sa_layer_norm`, H),
          ...linear(`${p}.ffn.lin1`, I, H),
          ...linear(`${p}.ffn.lin2`, H, I),
          ...norm(`${p}.output_layer_norm`, H),
        );
      }
      specs.push(
        ...linear('vocab_transform', H, H),
        ...norm('vocab_layer_norm', H),
        { name: 'vocab_projector.weight', shape: [V, H], init: 'normal' },
        { name: 'vocab_projector.bias', shape: [V], init: 'normal' },
      );
      return { config, specs, tied: [['vocab_projector.weight', 'distilbert.embeddings.word_embeddings.weight']], vocab: tok.vocab };
    }
    case 'electra':
    case 'electra-discriminator': {
      const E = options.embedding ?? H / 2;
      const generator = family === 'electra';
      const config = {
        architectures: [generator ? 'ElectraForMaskedLM' : 'ElectraForPreTraining'], model_type: 'electra', vocab_size: V,
        embedding_size: E, hidden_size: H, num_hidden_layers: L, num_attention_heads: heads, intermediate_size: I,
        hidden_act: options.hiddenAct ?? 'gelu', hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1, max_position_embeddings: P,
        type_vocab_size: 2, initializer_range: 0.02, layer_norm_eps: 1e-12, summary_type: 'first', summary_use_proj: true,
        summary_activation: 'gelu', summary_last_dropout: 0.1, pad_token_id: 0, position_embedding_type: 'absolute',
      };
      const specs: TensorSpec[] = [
        ...embeddings('electra', V, P, 2, E),
        ...(E !== H ? linear('electra.embeddings_project', H, E) : []),
        ...bertStyleLayers('electra', L, H, I),
      ];
      if (generator) {
        specs.push(
          ...norm('generator_predictions.LayerNorm', E),
          ...linear('generator_predictions.dense', E, H),
          { name: 'generator_lm_head.weight', shape: [V, E], init: 'normal' },
          { name: 'generator_lm_head.bias', shape: [V], init: 'normal' },
        );
      } else {
        specs.push(...linear('discriminator_predictions.dense', H, H), ...linear('discriminator_predictions.dense_prediction', 1, H));
      }
      return { config, specs, tied: generator ? [['generator_lm_head.weight', 'electra.embeddings.word_embeddings.weight']] : [], vocab: tok.vocab };
    }
  }
}

/** Random values for the specs; tied tensors get exactly the values of the tensor they share. */
export function tinyCheckpoint(family: TinyFamily, options: TinyFamilyOptions = {}): TinyCheckpoint & { vocab: string[] } {
  const { config, specs, tied, vocab } = describeTinyFamily(family, options);
  const normal = gaussian(rng(options.seed ?? 11));
  const std = options.std ?? 0.4;
  const byName = new Map<string, Float32Array>();
  const tensors = specs.map((s) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const values: Float32Array<ArrayBufferLike> = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = s.init === 'normal' ? normal() * std : s.init === 'lnw' ? 1 + 0.1 * normal() : 0.1 * normal();
    byName.set(s.name, values);
    return { name: s.name, shape: s.shape, values };
  });
  for (const [a, b] of tied) {
    const t = tensors.find((x) => x.name === a);
    if (t) t.values = byName.get(b)!;
  }
  return { config, tensors, tied, vocab };
}

export function writeTinyFamily(dir: string, family: TinyFamily, options: TinyFamilyOptions = {}): string {
  const ckpt = tinyCheckpoint(family, options);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(ckpt.config, null, 2));
  writeTokenizer(dir, family, ckpt.config);
  const dtype = options.dtype ?? 'F32';
  const tiedNames = new Set(ckpt.tied.map(([a]) => a));
  const kept = ckpt.tensors.filter((t) => !(options.omitTiedDecoder && tiedNames.has(t.name)));
  const format = options.format ?? 'safetensors';
  if (format === 'safetensors') {
    const toWrite: TensorToWrite[] = kept.map((t) => {
      const bytes = encode(t.values, dtype);
      return { name: t.name, dtype, shape: t.shape, byteLength: bytes.byteLength, read: () => bytes };
    });
    writeSafetensors(path.join(dir, 'model.safetensors'), toWrite, { format: 'pt' });
  } else {
    const writer = FORMAT_WRITERS[format];
    if (!writer) throw new Error(`fixture format ${format} not registered`);
    writer(dir, { ...ckpt, tensors: kept }, dtype);
  }
  return dir;
}

/** Writers for the other formats register here (they live in their own helper files). */
export const FORMAT_WRITERS: Partial<Record<TinyFormat, (dir: string, ckpt: TinyCheckpoint, dtype: DType) => void>> = {};

// ---- tokenizers

interface TinyTokenizer {
  vocab: string[];
  json: (config: Record<string, unknown>) => Record<string, unknown>;
}

function special(id: number, content: string) {
  return { id, content, single_word: false, lstrip: content === '<mask>', rstrip: false, normalized: false, special: true };
}

/** GPT-2's byte → printable character table (bytes_to_unicode). */
export function bytesToUnicode(): string[] {
  const keep: number[] = [];
  for (let b = 33; b <= 126; b++) keep.push(b);
  for (let b = 161; b <= 172; b++) keep.push(b);
  for (let b = 174; b <= 255; b++) keep.push(b);
  const out: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) out[b] = keep.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + extra++);
  return out;
}

function tinyTokenizer(family: TinyFamily): TinyTokenizer {
  if (family === 'roberta') {
    // Byte-level BPE: <s> <pad> </s> <unk>, the 256 byte symbols, merged words, then <mask>.
    const vocab = ['<s>', '<pad>', '</s>', '<unk>', ...bytesToUnicode()];
    const merges: string[] = [];
    const seen = new Set(vocab);
    const add = (left: string, right: string) => {
      if (seen.has(left + right)) return;
      seen.add(left + right);
      vocab.push(left + right);
      merges.push(`${left} ${right}`);
    };
    // Each word is built left to right; "Ġword" (the word after a space) merges Ġ with the whole word last.
    for (const word of TINY_WORDS) {
      const chars = [...word];
      let cur = chars[0];
      for (const c of chars.slice(1)) {
        add(cur, c);
        cur += c;
      }
    }
    for (const word of TINY_WORDS) add('Ġ', word);
    vocab.push('<mask>');
    return {
      vocab,
      json: () => ({
        version: '1.0',
        truncation: null,
        padding: null,
        added_tokens: [special(0, '<s>'), special(1, '<pad>'), special(2, '</s>'), special(3, '<unk>'), special(vocab.length - 1, '<mask>')],
        normalizer: null,
        pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
        post_processor: { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: false },
        decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
        model: {
          type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false,
          byte_fallback: false, vocab: Object.fromEntries(vocab.map((t, i) => [t, i])), merges,
        },
      }),
    };
  }
  if (family === 'xlm-roberta' || family === 'camembert') {
    // SentencePiece Unigram, as XLMRobertaTokenizerFast / CamembertTokenizerFast save it.
    const pieces: [string, number][] = [['<s>', 0], ['<pad>', 0], ['</s>', 0], ['<unk>', 0]];
    TINY_WORDS.forEach((w, i) => pieces.push([`▁${w}`, -3 - i / 100]));
    for (const c of '▁abcdefghijklmnopqrstuvwxyz.,!?\'-'.split('')) pieces.push([c, -8]);
    pieces.push(['<mask>', 0]);
    const vocab = pieces.map(([p]) => p);
    return {
      vocab,
      json: () => ({
        version: '1.0',
        truncation: null,
        padding: null,
        added_tokens: [special(0, '<s>'), special(1, '<pad>'), special(2, '</s>'), special(3, '<unk>'), special(vocab.length - 1, '<mask>')],
        normalizer: { type: 'Sequence', normalizers: [{ type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }] },
        pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
        post_processor: {
          type: 'TemplateProcessing',
          single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
          pair: [
            { SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } },
            { SpecialToken: { id: '</s>', type_id: 0 } }, { Sequence: { id: 'B', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } },
          ],
          special_tokens: {
            '<s>': { id: '<s>', ids: [0], tokens: ['<s>'] },
            '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] },
          },
        },
        decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
        model: { type: 'Unigram', unk_id: 3, vocab: pieces, byte_fallback: false },
      }),
    };
  }
  const vocab = tinyVocab();
  return { vocab, json: () => wordPieceTokenizerJson(new Map(vocab.map((t, i) => [t, i])), true) };
}

function writeTokenizer(dir: string, family: TinyFamily, config: Record<string, unknown>): void {
  const tok = tinyTokenizer(family);
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tok.json(config)));
  const cls = { roberta: 'RobertaTokenizer', 'xlm-roberta': 'XLMRobertaTokenizer', camembert: 'CamembertTokenizer', albert: 'AlbertTokenizer', distilbert: 'DistilBertTokenizer', electra: 'ElectraTokenizer', 'electra-discriminator': 'ElectraTokenizer' }[family];
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: cls, model_max_length: 64 }));
}
