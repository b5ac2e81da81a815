/**
 * The probe graphs: the encoder run along a layer plan, and the model's own MLM head applied to
 * h0 (the embedding output) and to the output of every planned layer. Per layer and position they
 * return only small results — top-k, the input token's log-prob and rank, entropy, and KL from
 * the final layer — never the [tokens × vocab] logits.
 */
import * as path from 'node:path';
import { UserError } from '../errors';
import { Activation, NormalizedConfig } from '../families/types';
import { ResolvedWeights } from '../checkpoint/resolve';
import { TensorEntry } from '../checkpoint/safetensors';
import { GraphBuilder, OnnxModel, TensorType, encodeModel } from './onnx';
import { buildHead, HeadMode, headPositionsFor } from './headGraph';

export const ENCODER_INPUTS = ['input_ids', 'token_type_ids', 'position_ids', 'attention_mask'] as const;

export interface ProbeGraphSpec {
  config: NormalizedConfig;
  weights: ResolvedWeights;
  /** Encoder layers in the order they run, e.g. [0, 1, 2, 3, 3]. */
  plan: number[];
  topK: number;
  /** 'fast': int8 decoder with exact rescoring of the candidates (see headGraph.ts). */
  headMode?: HeadMode;
  /** Bytes of one [rows × vocab] head buffer (default HEAD_BUFFER_BYTES); the bench tunes it. */
  headBufferBytes?: number;
}

/**
 * Two graphs. The encoder maps a padded batch to every hidden state, [states, batch·seq, H].
 * The head takes the states of P real (unpadded) positions, [states, P, H], and runs the MLM
 * head on all states × positions as ONE matrix product — so the decoder weights are read once
 * per run, not once per layer — then reduces each row to the small per-position results.
 * The worker feeds the head only real tokens, in chunks of `headPositions`, which bounds memory
 * by the chunk, not by the batch or the sentence length.
 */
export interface BuiltProbeGraphs {
  encoder: Uint8Array;
  head: Uint8Array;
  headMode: HeadMode;
  /** Fast mode only: the exact head, run on a small sample of each batch to measure the approximation. */
  exactHead?: Uint8Array;
  states: number;
  hiddenSize: number;
  /** Positions per head run, so each [states·P × vocab] buffer stays near HEAD_BUFFER_BYTES (headGraph.ts). */
  headPositions: number;
  /** Folder the external-data locations are relative to (already resolved through symlinks). */
  externalDataFolder: string;
}

const DTYPE_TO_ONNX: Record<string, TensorType> = {
  F32: TensorType.FLOAT,
  F16: TensorType.FLOAT16,
  BF16: TensorType.BFLOAT16,
};

/** Which weight set a (virtual) encoder layer uses: itself, or its ALBERT group. */
export function weightSetForLayer(config: NormalizedConfig, layer: number): number {
  return Math.floor((layer * config.numLayerWeights) / config.numLayers);
}

export function buildProbeGraphs(spec: ProbeGraphSpec): BuiltProbeGraphs {
  const folder = commonFolder(spec.weights);
  const states = spec.plan.length + 1;
  return {
    encoder: encodeModel(buildEncoder(spec, folder)),
    head: encodeModel(buildHead(spec, folder, states, spec.headMode ?? 'exact')),
    headMode: spec.headMode ?? 'exact',
    ...(spec.headMode === 'fast' ? { exactHead: encodeModel(buildHead(spec, folder, states, 'exact')) } : {}),
    states,
    hiddenSize: spec.config.hiddenSize,
    headPositions: headPositionsFor(states, spec.config.vocabSize, spec.headBufferBytes),
    externalDataFolder: folder,
  };
}

/** Graph-building helpers bound to one graph: weights read in place, Linear, LayerNorm, activations. */
export function layers(g: GraphBuilder, folder: string, eps: number) {
  const cast = new Map<string, string>();
  /** A weight as a float32 value in the graph, read in place from the checkpoint file. */
  const w = (entry: TensorEntry | undefined): string => {
    if (!entry) throw new Error('internal: weight missing after resolution');
    const key = `${entry.file}:${entry.offset}`;
    const known = cast.get(key);
    if (known) return known;
    const location = path.relative(folder, entry.file);
    const dims = entry.transposed ? [...entry.shape].reverse() : entry.shape;
    const init = g.external(`w${cast.size}:${entry.name}`, DTYPE_TO_ONNX[entry.dtype], dims, location, entry.offset, entry.byteLength);
    const value = entry.dtype === 'F32' ? init : g.op('Cast', [init], { to: TensorType.FLOAT }, 'cast');
    cast.set(key, value);
    return value;
  };
  return {
    w,
    // PyTorch stores Linear weights [out, in]: Gemm with transB. A weight stored [in, out] (ONNX MatMul) needs none.
    linear: (x: string, weight: TensorEntry, bias: TensorEntry | undefined) =>
      g.op('Gemm', bias ? [x, w(weight), w(bias)] : [x, w(weight)], { transB: weight.transposed ? 0 : 1 }),
    layerNorm: (x: string, scale: TensorEntry, bias: TensorEntry) =>
      g.op('LayerNormalization', [x, w(scale), w(bias)], { axis: -1, epsilon: { float: eps } }),
    activate: (x: string, act: Activation) => activation(g, x, act),
  };
}

function buildEncoder(spec: ProbeGraphSpec, folder: string): OnnxModel {
  const { config, weights, plan } = spec;
  const g = new GraphBuilder();
  const { w, linear, layerNorm, activate } = layers(g, folder, config.layerNormEps);
  const H = config.hiddenSize;
  const heads = config.numHeads;
  const headDim = H / heads;

  const batchSeq = g.op('Shape', ['input_ids']);
  const splitHeads = g.op('Concat', [batchSeq, g.int64Const([heads, headDim])], { axis: 0 });
  const flatHidden = g.int64Const([-1, H]);
  const maskAdd = g.op('Mul', [
    g.op('Sub', [g.floatConst(1), g.op('Unsqueeze', ['attention_mask', g.int64Const([1, 2])])]),
    g.floatConst(-1e9),
  ]);

  // ---- embeddings → h0
  const e = weights.embeddings;
  const table = (entry: TensorEntry) => (entry.transposed ? g.op('Transpose', [w(entry)], { perm: [1, 0] }) : w(entry));
  let emb = g.op('Add', [g.op('Gather', [table(e.word), 'input_ids']), g.op('Gather', [table(e.position), 'position_ids'])]);
  if (e.tokenType) emb = g.op('Add', [emb, g.op('Gather', [table(e.tokenType), 'token_type_ids'])]);
  emb = layerNorm(emb, e.lnWeight, e.lnBias);
  let hidden = g.op('Reshape', [emb, g.int64Const([-1, config.embeddingSize])]);
  if (e.projWeight) hidden = linear(hidden, e.projWeight, e.projBias);
  const states = [hidden];

  // ---- encoder layers, in plan order
  for (const layer of plan) {
    const L = weights.layers[weightSetForLayer(config, layer)];
    const toHeads = (x: string, perm: number[]) => g.op('Transpose', [g.op('Reshape', [x, splitHeads])], { perm });
    const q = toHeads(linear(hidden, L.qWeight, L.qBias), [0, 2, 1, 3]);
    const kT = toHeads(linear(hidden, L.kWeight, L.kBias), [0, 2, 3, 1]);
    const v = toHeads(linear(hidden, L.vWeight, L.vBias), [0, 2, 1, 3]);
    const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [q, kT]), g.floatConst(1 / Math.sqrt(headDim))]), maskAdd]);
    const context = g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), v]);
    const merged = g.op('Reshape', [g.op('Transpose', [context], { perm: [0, 2, 1, 3] }), flatHidden]);
    const attn = layerNorm(g.op('Add', [linear(merged, L.attnOutWeight, L.attnOutBias), hidden]), L.attnLnWeight, L.attnLnBias);
    const ffn = linear(activate(linear(attn, L.ffnInWeight, L.ffnInBias), config.hiddenAct), L.ffnOutWeight, L.ffnOutBias);
    hidden = layerNorm(g.op('Add', [ffn, attn]), L.outLnWeight, L.outLnBias);
    states.push(hidden);
  }
  const axis0 = g.int64Const([0]);
  g.named('Concat', states.map((s) => g.op('Unsqueeze', [s, axis0])), 'states', { axis: 0 });
  return {
    opset: 17,
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: ENCODER_INPUTS.map((name) => ({
      name,
      type: name === 'attention_mask' ? TensorType.FLOAT : TensorType.INT64,
      shape: ['batch', 'seq'],
    })),
    outputs: [{ name: 'states', type: TensorType.FLOAT, shape: [states.length, 'tokens', H] }],
  };
}

export function activation(g: GraphBuilder, x: string, act: Activation): string {
  switch (act) {
    case 'gelu': // exact: x · Φ(x) = 0.5 · x · (1 + erf(x / √2))
      return g.op('Mul', [g.op('Mul', [x, g.floatConst(0.5)]), g.op('Add', [g.floatConst(1), g.op('Erf', [g.op('Mul', [x, g.floatConst(Math.SQRT1_2)])])])]);
    case 'gelu_tanh': {
      const cube = g.op('Mul', [g.op('Mul', [x, x]), x]);
      const inner = g.op('Mul', [g.op('Add', [x, g.op('Mul', [cube, g.floatConst(0.044715)])]), g.floatConst(Math.sqrt(2 / Math.PI))]);
      return g.op('Mul', [g.op('Mul', [x, g.floatConst(0.5)]), g.op('Add', [g.floatConst(1), g.op('Tanh', [inner])])]);
    }
    case 'relu':
      return g.op('Relu', [x]);
    default: {
      const never: never = act;
      throw new Error(`unknown activation ${never}`);
    }
  }
}

/** ORT resolves external data relative to one folder and refuses paths that leave it. */
function commonFolder(weights: ResolvedWeights): string {
  const files = new Set<string>();
  const visit = (o: object) => Object.values(o).forEach((e: TensorEntry) => files.add(e.file));
  visit(weights.embeddings);
  weights.layers.forEach(visit);
  visit(weights.head);
  const folders = new Set([...files].map((f) => path.dirname(f)));
  if (folders.size !== 1) {
    throw new UserError(`the weight files live in ${folders.size} different folders (${[...folders].join(', ')}); put them in one folder`);
  }
  return [...folders][0];
}
