/**
 * The probe graphs: the encoder run along a layer plan, and the model's own MLM head applied to
 * h0 (the embedding output) and to the output of every planned layer. Per layer and position they
 * return only small results — top-k, the input token's log-prob and rank, entropy, and KL from
 * the final layer — never the [tokens × vocab] logits.
 */
import * as path from 'node:path';
import { UserError } from '../errors';
import { relativeIndexTable } from '../families/relativePositions';
import { Activation, AttentionSpan, DisentangledPositions, LayerTensor, NormKind, NormalizedConfig } from '../families/types';
import { ResolvedWeights, required } from '../checkpoint/resolve';
import { TensorEntry } from '../checkpoint/safetensors';
import { GraphBuilder, OnnxModel, TensorType, encodeModel } from './onnx';
import { buildHead, HeadMode, headPositionsFor } from './headGraph';
import { stateOutputName } from './stateOutputs';

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
  /** Also output the state after each planned layer's attention block (sub-layer lens, see buildEncoder). */
  sublayers?: boolean;
  /** Tuned lens: one affine translator per state h0..h(L−1), applied before the head (src/core/lens). */
  translators?: Translator[];
}

/** y = x·Wᵀ + b on [tokens, H]; W is [H, H] row-major ([out, in], as PyTorch's Linear). */
export interface Translator {
  weight: Float32Array;
  bias: Float32Array;
}

/**
 * Two graphs. The encoder maps a padded batch to every hidden state, one [batch·seq, H] output
 * each (stateOutputs.ts).
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
  /** Sub-layer states at the front of `states` (after attention of planned layer 1, 2, …); 0 without sublayers. */
  sublayerStates: number;
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
  const sublayerStates = spec.sublayers ? spec.plan.length : 0;
  const states = spec.plan.length + 1 + sublayerStates;
  return {
    encoder: encodeModel(buildEncoder(spec, folder)),
    head: encodeModel(buildHead(spec, folder, states, spec.headMode ?? 'exact')),
    headMode: spec.headMode ?? 'exact',
    ...(spec.headMode === 'fast' ? { exactHead: encodeModel(buildHead(spec, folder, states, 'exact')) } : {}),
    states,
    sublayerStates,
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
    /** LayerNormalization; without a bias tensor the optional B input is left out. */
    layerNorm: (x: string, scale: TensorEntry, bias: TensorEntry | undefined) =>
      g.op('LayerNormalization', bias ? [x, w(scale), w(bias)] : [x, w(scale)], { axis: -1, epsilon: { float: eps } }),
    activate: (x: string, act: Activation) => activation(g, x, act),
  };
}

type Blocks = ReturnType<typeof layers>;

/** The architecture's norm over the last axis. */
function norm(g: GraphBuilder, b: Blocks, kind: NormKind, eps: number, x: string, scale: TensorEntry, bias: TensorEntry | undefined): string {
  switch (kind.kind) {
    case 'layerNorm':
      return b.layerNorm(x, scale, bias);
    case 'rmsNorm': {
      // x / sqrt(mean(x²) + eps) · scale
      const ms = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: [-1], keepdims: 1 });
      return g.op('Mul', [g.op('Div', [x, g.op('Sqrt', [g.op('Add', [ms, g.floatConst(eps)])])]), b.w(scale)]);
    }
    default: {
      const never: never = kind;
      throw new Error(`unknown norm ${JSON.stringify(never)}`);
    }
  }
}

function buildEncoder(spec: ProbeGraphSpec, folder: string): OnnxModel {
  const { config, weights, plan } = spec;
  const arch = config.architecture;
  const g = new GraphBuilder();
  const blocks = layers(g, folder, config.layerNormEps);
  const { w, linear, activate } = blocks;
  const normOf = (x: string, scale: TensorEntry, bias: TensorEntry | undefined) => norm(g, blocks, arch.norm, config.layerNormEps, x, scale, bias);
  const H = config.hiddenSize;
  const heads = config.numHeads;
  const headDim = H / heads;
  const kvHeads = arch.kvHeads;

  const batchSeq = g.op('Shape', ['input_ids']);
  const splitHeads = g.op('Concat', [batchSeq, g.int64Const([heads, headDim])], { axis: 0 });
  const flatHidden = g.int64Const([-1, H]);
  // Padding: [batch, 1, 1, seq], −1e9 on padded keys.
  const maskAdd = g.op('Mul', [
    g.op('Sub', [g.floatConst(1), g.op('Unsqueeze', ['attention_mask', g.int64Const([1, 2])])]),
    g.floatConst(-1e9),
  ]);
  // Local layers add a band over sequence indices, |i − j| ≤ halfWindow: ONE [seq, seq] mask per
  // distinct window, built once and shared by every local layer (broadcast over batch and heads).
  const bandMasks = new Map<number, string>();
  const maskFor = (span: AttentionSpan): string => {
    switch (span.kind) {
      case 'global':
        return maskAdd;
      case 'local': {
        const known = bandMasks.get(span.halfWindow);
        if (known) return known;
        // Built in float32 (indices are exact below 2^24): one [seq, seq] float, 4·seq² bytes
        // (256 MiB at 8,192 tokens, an nth of one layer's [batch, heads, seq, seq] scores).
        const seq = g.op('Gather', [batchSeq, g.int64Const([1])]);
        const idx = g.op('Cast', [g.op('Range', [g.int64Const([0], []), g.op('Squeeze', [seq, g.int64Const([0])]), g.int64Const([1], [])])], { to: TensorType.FLOAT });
        const distance = g.op('Abs', [g.op('Sub', [g.op('Unsqueeze', [idx, g.int64Const([1])]), g.op('Unsqueeze', [idx, g.int64Const([0])])])]);
        const outside = g.op('Cast', [g.op('Greater', [distance, g.floatConst(span.halfWindow + 0.5)])], { to: TensorType.FLOAT });
        const band = g.op('Add', [maskAdd, g.op('Mul', [outside, g.floatConst(-1e9)])]);
        bandMasks.set(span.halfWindow, band);
        return band;
      }
      default: {
        const never: never = span;
        throw new Error(`unknown attention span ${JSON.stringify(never)}`);
      }
    }
  };
  // Rotary: per distinct theta, cos and sin of [batch, 1, seq, headDim], built once. HF computes
  // the angles in float32 (inv_freq and position · inv_freq), as this graph does.
  const rotary = new Map<number, { cos: string; sin: string }>();
  const rotaryFor = (theta: number) => {
    const known = rotary.get(theta);
    if (known) return known;
    const invFreq = Array.from({ length: headDim / 2 }, (_, i) => Math.fround(1 / Math.fround(theta ** ((2 * i) / headDim))));
    const pos = g.op('Unsqueeze', [g.op('Cast', ['position_ids'], { to: TensorType.FLOAT }), g.int64Const([2])]);
    const freqs = g.op('Mul', [pos, g.floatConst(invFreq, [1, 1, headDim / 2])]);
    const angles = g.op('Unsqueeze', [g.op('Concat', [freqs, freqs], { axis: 2 }), g.int64Const([1])]);
    const made = { cos: g.op('Cos', [angles]), sin: g.op('Sin', [angles]) };
    rotary.set(theta, made);
    return made;
  };
  const half = g.int64Const([headDim / 2]);
  /** x·cos + rotate_half(x)·sin on [batch, heads, seq, headDim]; rotate_half(x) = [−x2, x1]. */
  const rotate = (x: string, r: { cos: string; sin: string }) => {
    const x1 = g.op('Slice', [x, g.int64Const([0]), half, g.int64Const([3])]);
    const x2 = g.op('Slice', [x, half, g.int64Const([headDim]), g.int64Const([3])]);
    const rotated = g.op('Concat', [g.op('Neg', [x2]), x1], { axis: 3 });
    return g.op('Add', [g.op('Mul', [x, r.cos]), g.op('Mul', [rotated, r.sin])]);
  };

  // ---- embeddings → h0
  const e = weights.embeddings;
  const table = (entry: TensorEntry) => (entry.transposed ? g.op('Transpose', [w(entry)], { perm: [1, 0] }) : w(entry));
  let emb = g.op('Gather', [table(e.word), 'input_ids']);
  switch (arch.positions.kind) {
    case 'learned':
      emb = g.op('Add', [emb, g.op('Gather', [table(required(e, 'position')), 'position_ids'])]);
      if (e.tokenType) emb = g.op('Add', [emb, g.op('Gather', [table(e.tokenType), 'token_type_ids'])]);
      break;
    case 'rotary':
      break; // applied to q and k in every layer
    case 'disentangled':
      if (arch.positions.absolute) emb = g.op('Add', [emb, g.op('Gather', [table(required(e, 'position')), 'position_ids'])]);
      break; // relative positions enter every layer's attention scores
    default: {
      const never: never = arch.positions;
      throw new Error(`unknown positions ${JSON.stringify(never)}`);
    }
  }
  if (arch.embeddingNorm) emb = normOf(emb, required(e, 'lnWeight'), e.lnBias);
  let hidden = g.op('Reshape', [emb, g.int64Const([-1, config.embeddingSize])]);
  if (e.projWeight) hidden = linear(hidden, e.projWeight, e.projBias);
  const states = [hidden];
  const afterAttention: string[] = [];

  const relative = arch.positions.kind === 'disentangled' ? disentangledInputs(g, blocks, arch.positions, e, batchSeq, heads, config.maxPositions) : undefined;
  const toHeads = (x: string, split: string, perm: number[]) => g.op('Transpose', [g.op('Reshape', [x, split])], { perm });
  /** Grouped-query: each of the kvHeads heads serves heads/kvHeads query heads, as HF's repeat_kv. */
  const repeatKv = (x: string) => {
    if (kvHeads === heads) return x;
    const rep = heads / kvHeads;
    const shape5 = g.op('Concat', [batchSeq, g.int64Const([kvHeads, 1, headDim])], { axis: 0 });
    const expand5 = g.op('Concat', [batchSeq, g.int64Const([kvHeads, rep, headDim])], { axis: 0 });
    return g.op('Reshape', [g.op('Expand', [g.op('Reshape', [x, shape5]), expand5]), splitHeads]);
  };
  /** q, k, v as [batch·seq, width] rows, from separate or fused projections. */
  const projections = (x: string, L: Partial<Record<LayerTensor, TensorEntry>>) => {
    switch (arch.qkv) {
      case 'separate':
        return [
          linear(x, required(L, 'qWeight'), L.qBias),
          linear(x, required(L, 'kWeight'), L.kBias),
          linear(x, required(L, 'vWeight'), L.vBias),
        ];
      case 'fused': {
        const qkv = linear(x, required(L, 'qkvWeight'), L.qkvBias);
        const kv = kvHeads * headDim;
        return g.opMulti('Split', [qkv, g.int64Const([H, kv, kv])], 3, { axis: 1 });
      }
      default: {
        const never: never = arch.qkv;
        throw new Error(`unknown qkv layout ${JSON.stringify(never)}`);
      }
    }
  };
  const attention = (x: string, L: Partial<Record<LayerTensor, TensorEntry>>, weightSet: number) => {
    const [qRows, kRows, vRows] = projections(x, L);
    let q = toHeads(qRows, splitHeads, [0, 2, 1, 3]);
    const v = toHeads(repeatKv(vRows), splitHeads, [0, 2, 1, 3]);
    let kT: string;
    let positionScores: string | undefined;
    switch (arch.positions.kind) {
      case 'learned':
        kT = toHeads(repeatKv(kRows), splitHeads, [0, 2, 3, 1]);
        break;
      case 'disentangled': {
        const k = toHeads(kRows, splitHeads, [0, 2, 1, 3]);
        kT = g.op('Transpose', [k], { perm: [0, 1, 3, 2] });
        positionScores = disentangledScores(g, blocks, arch.positions, relative!, q, k, L, heads, headDim);
        break;
      }
      case 'rotary': {
        const r = rotaryFor(arch.positions.theta[weightSet]);
        q = rotate(q, r);
        kT = g.op('Transpose', [rotate(toHeads(repeatKv(kRows), splitHeads, [0, 2, 1, 3]), r)], { perm: [0, 1, 3, 2] });
        break;
      }
      default: {
        const never: never = arch.positions;
        throw new Error(`unknown positions ${JSON.stringify(never)}`);
      }
    }
    const mask = maskFor(arch.layers[weightSet].attention);
    const content = g.op('MatMul', [q, kT]);
    // DeBERTa scales the content and position terms together, by 1/√(d · (1 + c2p + p2c)).
    const terms = arch.positions.kind === 'disentangled' ? 1 + Number(arch.positions.c2p) + Number(arch.positions.p2c) : 1;
    const raw = positionScores ? g.op('Add', [content, positionScores]) : content;
    const scores = g.op('Add', [g.op('Mul', [raw, g.floatConst(1 / Math.sqrt(headDim * terms))]), mask]);
    const context = g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), v]);
    const merged = g.op('Reshape', [g.op('Transpose', [context], { perm: [0, 2, 1, 3] }), flatHidden]);
    return linear(merged, required(L, 'attnOutWeight'), L.attnOutBias);
  };
  const mlp = (x: string, L: Partial<Record<LayerTensor, TensorEntry>>) => {
    let inner: string;
    switch (arch.mlp.kind) {
      case 'dense':
        inner = activate(linear(x, required(L, 'ffnInWeight'), L.ffnInBias), config.hiddenAct);
        break;
      case 'gated': {
        let a: string;
        let b: string;
        if (arch.mlp.fused) {
          const I = config.intermediateSize;
          [a, b] = g.opMulti('Split', [linear(x, required(L, 'ffnInWeight'), L.ffnInBias), g.int64Const([I, I])], 2, { axis: 1 });
        } else {
          a = linear(x, required(L, 'ffnGateWeight'), L.ffnGateBias);
          b = linear(x, required(L, 'ffnInWeight'), L.ffnInBias);
        }
        inner = g.op('Mul', [activate(a, config.hiddenAct), b]);
        break;
      }
      default: {
        const never: never = arch.mlp;
        throw new Error(`unknown mlp ${JSON.stringify(never)}`);
      }
    }
    return linear(inner, required(L, 'ffnOutWeight'), L.ffnOutBias);
  };

  // ---- encoder layers, in plan order
  for (const layer of plan) {
    const set = weightSetForLayer(config, layer);
    const L = weights.layers[set];
    switch (arch.normPlacement) {
      case 'post': {
        const attn = normOf(g.op('Add', [attention(hidden, L, set), hidden]), required(L, 'attnLnWeight'), L.attnLnBias);
        afterAttention.push(attn);
        hidden = normOf(g.op('Add', [mlp(attn, L), attn]), required(L, 'outLnWeight'), L.outLnBias);
        break;
      }
      case 'pre': {
        const attnIn = arch.layers[set].attnNorm ? normOf(hidden, required(L, 'attnLnWeight'), L.attnLnBias) : hidden;
        const attn = g.op('Add', [hidden, attention(attnIn, L, set)]);
        afterAttention.push(attn);
        hidden = g.op('Add', [attn, mlp(normOf(attn, required(L, 'outLnWeight'), L.outLnBias), L)]);
        break;
      }
      default: {
        const never: never = arch.normPlacement;
        throw new Error(`unknown norm placement ${JSON.stringify(never)}`);
      }
    }
    states.push(hidden);
  }
  // Tuned lens: state i (not the final one) goes through its translator first, one Gemm each.
  const translated = spec.translators ? states.map((s, i) => (i < spec.translators!.length ? translate(g, s, spec.translators![i], H, i) : s)) : states;
  // Sub-layer states go first, so the final layer stays the last state (the head's KL reference).
  const all = [...(spec.sublayers ? afterAttention : []), ...translated];
  // The head reads head(finalNorm(h_i)) for every state, as the logit lens applies the final norm.
  const read = arch.finalNorm ? all.map((s) => normOf(s, required(e, 'finalLnWeight'), e.finalLnBias)) : all;
  // One output per state, not one Concat: the concatenated copy was another [states × tokens × H]
  // buffer in the arena (26 MB at BERT-large 8×32) beside the states it was made from.
  read.forEach((s, i) => g.named('Identity', [s], stateOutputName(i)));
  return {
    opset: 17,
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: ENCODER_INPUTS.map((name) => ({
      name,
      type: name === 'attention_mask' ? TensorType.FLOAT : TensorType.INT64,
      shape: ['batch', 'seq'],
    })),
    outputs: read.map((_, i) => ({ name: stateOutputName(i), type: TensorType.FLOAT, shape: ['tokens', H] })),
  };
}

/**
 * What every DeBERTa layer shares: the rel_embeddings rows (normed when normRel), and the row each
 * (i, j) reads, [batch, heads, seq, seq], from a table over every distance the model's positions
 * allow (relativeIndexTable), for c2p; its transpose for p2c.
 */
function disentangledInputs(g: GraphBuilder, b: Blocks, p: DisentangledPositions, e: ResolvedWeights['embeddings'], batchSeq: string, heads: number, maxLength: number) {
  let rel = b.w(required(e, 'relEmbeddings'));
  if (p.normRel) rel = b.layerNorm(rel, required(e, 'relLnWeight'), e.relLnBias);
  const table = g.int64Const(relativeIndexTable(p, maxLength));
  const seq = g.op('Squeeze', [g.op('Gather', [batchSeq, g.int64Const([1])]), g.int64Const([0])]);
  const idx = g.op('Range', [g.int64Const([0], []), seq, g.int64Const([1], [])]);
  const delta = g.op('Add', [g.op('Sub', [g.op('Unsqueeze', [idx, g.int64Const([1])]), g.op('Unsqueeze', [idx, g.int64Const([0])])]), g.int64Const([maxLength - 1], [])]);
  const rows = g.op('Gather', [table, delta]); // [seq, seq]: row for (i, j)
  const shape = g.op('Concat', [g.op('Slice', [batchSeq, g.int64Const([0]), g.int64Const([1])]), g.int64Const([heads]), g.op('Unsqueeze', [seq, g.int64Const([0])]), g.op('Unsqueeze', [seq, g.int64Const([0])])], { axis: 0 });
  return {
    rel,
    c2pIndex: g.op('Expand', [rows, shape]),
    p2cIndex: g.op('Expand', [g.op('Transpose', [rows], { perm: [1, 0] }), shape]),
  };
}

/** c2p + p2c of one layer, unscaled, [batch, heads, seq, seq]: q_i·Kpos[δ(i,j)] + k_j·Qpos[δ(i,j)]. */
function disentangledScores(
  g: GraphBuilder, b: Blocks, p: DisentangledPositions, r: ReturnType<typeof disentangledInputs>,
  q: string, k: string, L: Partial<Record<LayerTensor, TensorEntry>>, heads: number, headDim: number,
): string | undefined {
  // rel_embeddings through a projection → [heads, headDim, 2·span].
  const project = (weight: TensorEntry, bias: TensorEntry | undefined) =>
    g.op('Transpose', [g.op('Reshape', [b.linear(r.rel, weight, bias), g.int64Const([-1, heads, headDim])])], { perm: [1, 2, 0] });
  const terms: string[] = [];
  if (p.c2p) {
    const posKey = p.shareKey ? project(required(L, 'kWeight'), L.kBias) : project(required(L, 'posKeyWeight'), L.posKeyBias);
    terms.push(g.op('GatherElements', [g.op('MatMul', [q, posKey]), r.c2pIndex], { axis: 3 }));
  }
  if (p.p2c) {
    const posQuery = p.shareKey ? project(required(L, 'qWeight'), L.qBias) : project(required(L, 'posQueryWeight'), L.posQueryBias);
    const byKey = g.op('GatherElements', [g.op('MatMul', [k, posQuery]), r.p2cIndex], { axis: 3 }); // [.., j, i]
    terms.push(g.op('Transpose', [byKey], { perm: [0, 1, 3, 2] }));
  }
  return terms.length === 0 ? undefined : terms.length === 1 ? terms[0] : g.op('Add', terms);
}

/** One tuned-lens translator as a Gemm on [tokens, H], its weights inline (they live outside the model folder). */
function translate(g: GraphBuilder, x: string, t: Translator, H: number, i: number): string {
  const weight = g.inline(`lens${i}.weight`, TensorType.FLOAT, [H, H], new Uint8Array(t.weight.buffer, t.weight.byteOffset, t.weight.byteLength));
  const bias = g.inline(`lens${i}.bias`, TensorType.FLOAT, [H], new Uint8Array(t.bias.buffer, t.bias.byteOffset, t.bias.byteLength));
  return g.op('Gemm', [x, weight, bias], { transB: 1 });
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
    case 'silu':
      return g.op('Mul', [x, g.op('Sigmoid', [x])]);
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
