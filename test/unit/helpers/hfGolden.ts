/**
 * Golden fixtures computed by HF transformers itself (scripts/device/hf_golden.py, issue 7):
 * the JSON shape, and a Checkpoint built from a fixture folder without a tokenizer, so the
 * engine runs on the exact token ids HF ran on.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Checkpoint } from '../../../src/core/checkpoint/checkpoint';
import { readConfigFile } from '../../../src/core/checkpoint/config';
import { resolveWeights } from '../../../src/core/checkpoint/resolve';
import { EncodedText, ModelTokenizer } from '../../../src/core/checkpoint/tokenizer';
import { openWeights, WeightIndex } from '../../../src/core/checkpoint/weights';
import { familyForModelType } from '../../../src/core/families';

/** Per layer, per real position of one example (float64 numbers from HF, 7 significant digits). */
export interface GoldenLayer {
  input_logp: number[];
  rank: number[];
  /** Distance from the input's log-prob to the nearest other id's: ranks may swap below this. */
  rank_gap: number[];
  top_ids: number[][];
  top_logp: number[][];
  argmax: number[];
  /** Best minus second-best log-prob: the argmax may swap below this. */
  top1_gap: number[];
  entropy: number[];
  /** KL(final layer || this layer). */
  kl: number[];
}

export interface GoldenExample {
  name: string;
  description: string;
  batch: number;
  row: number;
  input_ids: number[];
  token_type_ids: number[] | null;
  attention_mask: number[];
  position_ids: number[] | null;
  /** RoBERTa family: the position ids HF computed for the padded batch row (reference only). */
  position_ids_hf: number[] | null;
  layers: GoldenLayer[];
}

export interface GoldenBatch {
  examples: string[];
  seq: number;
  input_ids: number[][];
  attention_mask: number[][];
  token_type_ids: number[][] | null;
}

export interface GoldenFile {
  format: string;
  family: string;
  model_type: string;
  model_class: string;
  transformers_version: string;
  torch_version: string;
  num_layers: number;
  vocab_size: number;
  special_ids: { bos: number; eos: number; pad: number };
  token_types: boolean;
  top_k: number;
  float32_vs_float64: { max_abs_input_logp: number; max_abs_top_logp: number; argmax_disagreements: number; positions: number };
  files: Record<string, Record<string, { dtype: string; shape: number[] }>>;
  batches: GoldenBatch[];
  examples: GoldenExample[];
}

export const GOLDEN_FORMAT = 'layer-lens-hf-golden/1';

/** Fixture folders (those holding a golden.json) under `root`, sorted by name. */
export function goldenFolders(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(root, d.name, 'golden.json')))
    .map((d) => path.join(root, d.name))
    .sort();
}

export function readGolden(dir: string): GoldenFile {
  const golden = JSON.parse(fs.readFileSync(path.join(dir, 'golden.json'), 'utf8')) as GoldenFile;
  if (golden.format !== GOLDEN_FORMAT) throw new Error(`${dir}: golden.json format ${golden.format}, expected ${GOLDEN_FORMAT}`);
  return golden;
}

/**
 * A tokenizer stand-in: "encodes" an example's name to the ids HF ran on. The engine then does
 * everything else itself (batching, padding, position ids, token types).
 */
export function goldenTokenizer(golden: GoldenFile, file: string): ModelTokenizer {
  const specials = new Set([golden.special_ids.bos, golden.special_ids.eos, golden.special_ids.pad]);
  const byName = new Map(golden.examples.map((e) => [e.name, e]));
  return {
    file,
    encode(text: string): EncodedText {
      const e = byName.get(text);
      if (!e) throw new Error(`golden fixture has no example "${text}"`);
      return {
        ids: [...e.input_ids],
        tokens: e.input_ids.map((id) => `#${id}`),
        typeIds: e.token_type_ids ? [...e.token_type_ids] : e.input_ids.map(() => 0),
        special: e.input_ids.map((id) => specials.has(id)),
      };
    },
    idToToken: (id: number) => `#${id}`,
    tokenToId: () => undefined,
  };
}

/**
 * The pieces of loadCheckpoint, minus the tokenizer: config, family, weights (the given file, or
 * model.safetensors), resolved weights. `weights` may be passed in when it was opened another way.
 */
export function goldenCheckpoint(dir: string, golden: GoldenFile, weights?: WeightIndex): Checkpoint {
  const configFile = path.join(dir, 'config.json');
  const config = readConfigFile(configFile);
  const family = familyForModelType(config.modelType);
  if (!family) throw new Error(`model_type ${config.modelType} is not supported`);
  const index = weights ?? openWeights(dir, path.join(dir, 'model.safetensors'));
  return {
    location: { dir, configFile, weightsHint: index.displayFile },
    name: path.basename(dir),
    config,
    family,
    weights: index,
    resolved: resolveWeights(family, config, index),
    tokenizer: goldenTokenizer(golden, path.join(dir, 'golden.json')),
  };
}
