/**
 * Writes tiny random BERT checkpoints in the exact HF layout, for tests: config.json,
 * model.safetensors (F32/F16/BF16, optionally sharded, optionally legacy gamma/beta names),
 * and a vocab.txt or tokenizer.json.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DType, f32ToBf16, f32ToF16 } from '../../../src/core/checkpoint/dtype';
import { TensorToWrite, writeSafetensors } from '../../../src/core/checkpoint/safetensors';
import { wordPieceTokenizerJson } from '../../../src/core/checkpoint/tokenizer';
import { gaussian, rng } from './random';

export interface TinyBertOptions {
  layers?: number;
  hidden?: number;
  heads?: number;
  intermediate?: number;
  maxPositions?: number;
  dtype?: DType;
  /** Number of shards (1 = a single model.safetensors). */
  shards?: number;
  legacyLayerNormNames?: boolean;
  tokenizer?: 'vocab.txt' | 'tokenizer.json';
  hiddenAct?: string;
  seed?: number;
  /** Standard deviation of the random weights: larger gives peakier distributions. */
  std?: number;
}

export const TINY_WORDS = [
  'the', 'cat', 'sat', 'on', 'mat', 'dog', 'ran', 'to', 'a', 'house', 'and', 'it', 'was', 'red', 'blue', 'big',
  'small', 'bird', 'sang', 'in', 'tree', 'sun', 'is', 'hot', 'cold', 'water', 'fish', 'swim', 'book', 'read', 'he', 'she',
  'they', 'we', 'you', 'i', 'go', 'went', 'come', 'came', 'see', 'saw', 'good', 'bad', 'day', 'night', 'light', 'dark',
  'word', 'of', 'for', 'with', 'at', 'by', 'from', 'up', 'down', 'out', 'over', 'under', 'again', 'then', 'once', 'here',
];

export function tinyVocab(): string[] {
  const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  const punct = ['.', ',', '!', '?', "'", '<', '>', '/', '=', '(', ')', '"', ':', ';', '-'];
  const pieces = ['##s', '##ed', '##ing', '##er', '##ly', '##x', '##y', 'x', 'y', 'z', 'img', 'src', 'on', 'error', 'alert', '1', 'script'];
  const letters = 'abcdefghijklmnopqrstuvwxyz'.split('');
  const cont = letters.map((l) => `##${l}`);
  return [...new Set([...specials, ...punct, ...TINY_WORDS, ...pieces, ...letters, ...cont])];
}

export function makeTempDir(prefix = 'layer-lens-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function writeTinyBert(dir: string, options: TinyBertOptions = {}): string {
  const L = options.layers ?? 2;
  const H = options.hidden ?? 32;
  const heads = options.heads ?? 4;
  const I = options.intermediate ?? 4 * H;
  const P = options.maxPositions ?? 64;
  const dtype = options.dtype ?? 'F32';
  const vocab = tinyVocab();
  const V = vocab.length;
  const std = options.std ?? 0.4;
  const normal = gaussian(rng(options.seed ?? 1));
  fs.mkdirSync(dir, { recursive: true });

  const config = {
    architectures: ['BertForMaskedLM'],
    model_type: 'bert',
    vocab_size: V,
    hidden_size: H,
    num_hidden_layers: L,
    num_attention_heads: heads,
    intermediate_size: I,
    hidden_act: options.hiddenAct ?? 'gelu',
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    max_position_embeddings: P,
    type_vocab_size: 2,
    initializer_range: 0.02,
    layer_norm_eps: 1e-12,
    pad_token_id: 0,
    position_embedding_type: 'absolute',
  };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));

  const ln = (name: string) => (options.legacyLayerNormNames ? name.replace(/\.weight$/, '.gamma').replace(/\.bias$/, '.beta') : name);
  const tensors: [string, number[], 'normal' | 'ones' | 'zeros' | 'lnw' | 'lnb'][] = [
    ['bert.embeddings.word_embeddings.weight', [V, H], 'normal'],
    ['bert.embeddings.position_embeddings.weight', [P, H], 'normal'],
    ['bert.embeddings.token_type_embeddings.weight', [2, H], 'normal'],
    [ln('bert.embeddings.LayerNorm.weight'), [H], 'lnw'],
    [ln('bert.embeddings.LayerNorm.bias'), [H], 'lnb'],
  ];
  for (let l = 0; l < L; l++) {
    const p = `bert.encoder.layer.${l}`;
    for (const m of ['query', 'key', 'value']) {
      tensors.push([`${p}.attention.self.${m}.weight`, [H, H], 'normal'], [`${p}.attention.self.${m}.bias`, [H], 'normal']);
    }
    tensors.push(
      [`${p}.attention.output.dense.weight`, [H, H], 'normal'],
      [`${p}.attention.output.dense.bias`, [H], 'normal'],
      [ln(`${p}.attention.output.LayerNorm.weight`), [H], 'lnw'],
      [ln(`${p}.attention.output.LayerNorm.bias`), [H], 'lnb'],
      [`${p}.intermediate.dense.weight`, [I, H], 'normal'],
      [`${p}.intermediate.dense.bias`, [I], 'normal'],
      [`${p}.output.dense.weight`, [H, I], 'normal'],
      [`${p}.output.dense.bias`, [H], 'normal'],
      [ln(`${p}.output.LayerNorm.weight`), [H], 'lnw'],
      [ln(`${p}.output.LayerNorm.bias`), [H], 'lnb'],
    );
  }
  tensors.push(
    ['cls.predictions.transform.dense.weight', [H, H], 'normal'],
    ['cls.predictions.transform.dense.bias', [H], 'normal'],
    [ln('cls.predictions.transform.LayerNorm.weight'), [H], 'lnw'],
    [ln('cls.predictions.transform.LayerNorm.bias'), [H], 'lnb'],
    ['cls.predictions.bias', [V], 'normal'],
  );

  const toWrite: TensorToWrite[] = tensors.map(([name, shape, init]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      values[i] =
        init === 'normal' ? normal() * std : init === 'lnw' ? 1 + 0.1 * normal() : init === 'lnb' ? 0.1 * normal() : init === 'ones' ? 1 : 0;
    }
    const bytes = encode(values, dtype);
    return { name, dtype, shape, byteLength: bytes.byteLength, read: () => bytes };
  });

  const shards = options.shards ?? 1;
  if (shards === 1) {
    writeSafetensors(path.join(dir, 'model.safetensors'), toWrite, { format: 'pt' });
  } else {
    const weightMap: Record<string, string> = {};
    const per = Math.ceil(toWrite.length / shards);
    for (let s = 0; s < shards; s++) {
      const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
      const part = toWrite.slice(s * per, (s + 1) * per);
      part.forEach((t) => (weightMap[t.name] = file));
      writeSafetensors(path.join(dir, file), part, { format: 'pt' });
    }
    fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }, null, 2));
  }

  if ((options.tokenizer ?? 'vocab.txt') === 'vocab.txt') {
    fs.writeFileSync(path.join(dir, 'vocab.txt'), vocab.join('\n') + '\n');
    fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: true, tokenizer_class: 'BertTokenizer' }));
  } else {
    const json = wordPieceTokenizerJson(new Map(vocab.map((t, i) => [t, i])), true);
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(json));
    fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: true, tokenizer_class: 'BertTokenizer', model_max_length: P }));
  }
  return dir;
}

export function encode(values: Float32Array, dtype: DType): Uint8Array {
  switch (dtype) {
    case 'F32':
      return new Uint8Array(values.buffer.slice(0));
    case 'F16':
    case 'BF16': {
      const out = new Uint16Array(values.length);
      const conv = dtype === 'F16' ? f32ToF16 : f32ToBf16;
      for (let i = 0; i < values.length; i++) out[i] = conv(values[i]);
      return new Uint8Array(out.buffer);
    }
    default:
      throw new Error(`fixture dtype ${dtype} not supported`);
  }
}
