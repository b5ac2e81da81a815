/**
 * A plain TypeScript forward pass in float64, independent of the ONNX graph: the yardstick
 * the engine is checked against. It reads the same resolved tensors, but every number here is
 * computed with ordinary loops. Used only by tests.
 */
import { readTensorF32, TensorEntry } from '../../../src/core/checkpoint/safetensors';
import { ResolvedWeights, required } from '../../../src/core/checkpoint/resolve';
import { Activation, NormKind, NormalizedConfig } from '../../../src/core/families/types';
import { relativeBucket } from '../../../src/core/families/relativePositions';
import { weightSetForLayer } from '../../../src/core/graph/probeGraph';

export interface ReferenceInput {
  ids: number[];
  typeIds: number[];
  positionIds: number[];
}

/** Per layer (h0..hL), per position: log-softmax over the vocabulary. */
export type ReferenceLogProbs = Float64Array[][];

type Mat = { rows: number; cols: number; data: Float64Array };
type Layer = ResolvedWeights['layers'][number];

const cache = new WeakMap<TensorEntry, Float64Array>();
function load(e: TensorEntry): Float64Array {
  let v = cache.get(e);
  if (!v) {
    v = Float64Array.from(readTensorF32(e));
    if (e.transposed) {
      // Stored [in, out]; hand back the logical [out, in] that linear() expects.
      const [out, inp] = e.shape;
      const t = new Float64Array(v.length);
      for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) t[o * inp + i] = v[i * out + o];
      v = t;
    }
    cache.set(e, v);
  }
  return v;
}

/** y = x · Wᵀ + b with W stored [out, in] as in PyTorch. */
function linear(x: Mat, w: TensorEntry, b?: TensorEntry): Mat {
  const W = load(w);
  const B = b ? load(b) : undefined;
  const out = w.shape[0];
  const inp = w.shape[1];
  const y = new Float64Array(x.rows * out);
  for (let r = 0; r < x.rows; r++) {
    for (let o = 0; o < out; o++) {
      let s = B ? B[o] : 0;
      for (let i = 0; i < inp; i++) s += x.data[r * inp + i] * W[o * inp + i];
      y[r * out + o] = s;
    }
  }
  return { rows: x.rows, cols: out, data: y };
}

function layerNorm(x: Mat, g: TensorEntry, b: TensorEntry | undefined, eps: number): Mat {
  const G = load(g);
  const B = b ? load(b) : undefined;
  const y = new Float64Array(x.data.length);
  for (let r = 0; r < x.rows; r++) {
    let mean = 0;
    for (let c = 0; c < x.cols; c++) mean += x.data[r * x.cols + c];
    mean /= x.cols;
    let v = 0;
    for (let c = 0; c < x.cols; c++) v += (x.data[r * x.cols + c] - mean) ** 2;
    v /= x.cols;
    const inv = 1 / Math.sqrt(v + eps);
    for (let c = 0; c < x.cols; c++) y[r * x.cols + c] = (x.data[r * x.cols + c] - mean) * inv * G[c] + (B ? B[c] : 0);
  }
  return { ...x, data: y };
}

function rmsNorm(x: Mat, g: TensorEntry, eps: number): Mat {
  const G = load(g);
  const y = new Float64Array(x.data.length);
  for (let r = 0; r < x.rows; r++) {
    let ms = 0;
    for (let c = 0; c < x.cols; c++) ms += x.data[r * x.cols + c] ** 2;
    const inv = 1 / Math.sqrt(ms / x.cols + eps);
    for (let c = 0; c < x.cols; c++) y[r * x.cols + c] = x.data[r * x.cols + c] * inv * G[c];
  }
  return { ...x, data: y };
}

function norm(kind: NormKind, x: Mat, g: TensorEntry, b: TensorEntry | undefined, eps: number): Mat {
  switch (kind.kind) {
    case 'layerNorm':
      return layerNorm(x, g, b, eps);
    case 'rmsNorm':
      return rmsNorm(x, g, eps);
    default: {
      const never: never = kind;
      throw new Error(`unknown norm ${JSON.stringify(never)}`);
    }
  }
}

function add(a: Mat, b: Mat): Mat {
  return { ...a, data: a.data.map((v, i) => v + b.data[i]) };
}

/** erf by Abramowitz–Stegun 7.1.26 is too coarse for 1e-4 checks; use a series/continued fraction. */
function erf(x: number): number {
  const t = Math.abs(x);
  if (t < 2.5) {
    // Maclaurin series, converges fast for small |x|.
    let sum = t;
    let term = t;
    for (let n = 1; n < 60; n++) {
      term *= (-t * t) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // Continued fraction for erfc at larger |x|.
  let f = 0;
  for (let n = 60; n >= 1; n--) f = (n / 2) / (t + f);
  const erfc = Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f);
  return Math.sign(x) * (1 - erfc);
}

function activate(x: Mat, act: Activation): Mat {
  let f: (v: number) => number;
  switch (act) {
    case 'gelu':
      f = (v) => 0.5 * v * (1 + erf(v / Math.SQRT2));
      break;
    case 'gelu_tanh':
      f = (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
      break;
    case 'relu':
      f = (v) => Math.max(0, v);
      break;
    case 'silu':
      f = (v) => v / (1 + Math.exp(-v));
      break;
    default: {
      const never: never = act;
      throw new Error(`unknown activation ${never}`);
    }
  }
  return { ...x, data: x.data.map(f) };
}

function columns(x: Mat, from: number, width: number): Mat {
  const y = new Float64Array(x.rows * width);
  for (let r = 0; r < x.rows; r++) y.set(x.data.subarray(r * x.cols + from, r * x.cols + from + width), r * width);
  return { rows: x.rows, cols: width, data: y };
}

/** Rotary position embedding on [S, heads·dh] rows, angles in float32 as HF computes them. */
function rope(x: Mat, heads: number, dh: number, theta: number, positionIds: number[]): Mat {
  const y = new Float64Array(x.data.length);
  const half = dh / 2;
  const inv = Array.from({ length: half }, (_, i) => Math.fround(1 / Math.fround(theta ** ((2 * i) / dh))));
  for (let p = 0; p < x.rows; p++) {
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(positionIds[p] * inv[i]);
      const c = Math.fround(Math.cos(angle));
      const s = Math.fround(Math.sin(angle));
      for (let h = 0; h < heads; h++) {
        const o = p * x.cols + h * dh;
        const x1 = x.data[o + i];
        const x2 = x.data[o + i + half];
        y[o + i] = x1 * c - x2 * s;
        y[o + i + half] = x2 * c + x1 * s;
      }
    }
  }
  return { ...x, data: y };
}

function attention(x: Mat, cfg: NormalizedConfig, L: Layer, weightSet: number, positionIds: number[], rel?: Mat): Mat {
  const arch = cfg.architecture;
  const S = x.rows;
  const H = cfg.hiddenSize;
  const nh = cfg.numHeads;
  const dh = H / nh;
  const kvw = arch.kvHeads * dh;
  let q: Mat;
  let k: Mat;
  let v: Mat;
  switch (arch.qkv) {
    case 'separate':
      q = linear(x, required(L, 'qWeight'), L.qBias);
      k = linear(x, required(L, 'kWeight'), L.kBias);
      v = linear(x, required(L, 'vWeight'), L.vBias);
      break;
    case 'fused': {
      const qkv = linear(x, required(L, 'qkvWeight'), L.qkvBias);
      q = columns(qkv, 0, H);
      k = columns(qkv, H, kvw);
      v = columns(qkv, H + kvw, kvw);
      break;
    }
    default: {
      const never: never = arch.qkv;
      throw new Error(`unknown qkv ${never}`);
    }
  }
  switch (arch.positions.kind) {
    case 'learned':
      break;
    case 'rotary':
      q = rope(q, nh, dh, arch.positions.theta[weightSet], positionIds);
      k = rope(k, arch.kvHeads, dh, arch.positions.theta[weightSet], positionIds);
      break;
    case 'disentangled':
      break; // added to the scores below
    default: {
      const never: never = arch.positions;
      throw new Error(`unknown positions ${JSON.stringify(never)}`);
    }
  }
  const span = arch.layers[weightSet].attention;
  const visible = (i: number, j: number): boolean => {
    switch (span.kind) {
      case 'global':
        return true;
      case 'local':
        return Math.abs(i - j) <= span.halfWindow;
      default: {
        const never: never = span;
        throw new Error(`unknown span ${JSON.stringify(never)}`);
      }
    }
  };
  const group = nh / arch.kvHeads;
  // DeBERTa: score(i, j) += q_i·Kpos[r] + k_j·Qpos[r], r = clamp(bucket(i − j) + span), all over √(dh·terms).
  let positionTerm = (_h: number, _i: number, _j: number) => 0;
  let scale = Math.sqrt(dh);
  if (arch.positions.kind === 'disentangled') {
    const p = arch.positions;
    const posK = p.c2p ? linear(rel!, p.shareKey ? required(L, 'kWeight') : required(L, 'posKeyWeight'), p.shareKey ? L.kBias : L.posKeyBias) : undefined;
    const posQ = p.p2c ? linear(rel!, p.shareKey ? required(L, 'qWeight') : required(L, 'posQueryWeight'), p.shareKey ? L.qBias : L.posQueryBias) : undefined;
    const row = (i: number, j: number) => Math.min(2 * p.span - 1, Math.max(0, relativeBucket(i - j, p.buckets, p.maxRelative) + p.span));
    positionTerm = (h, i, j) => {
      const r = row(i, j);
      let s = 0;
      for (let d = 0; d < dh; d++) {
        if (posK) s += q.data[i * H + h * dh + d] * posK.data[r * H + h * dh + d];
        if (posQ) s += k.data[j * H + h * dh + d] * posQ.data[r * H + h * dh + d];
      }
      return s;
    };
    scale = Math.sqrt(dh * (1 + Number(p.c2p) + Number(p.p2c)));
  }
  const out = new Float64Array(S * H);
  for (let h = 0; h < nh; h++) {
    const kh = Math.floor(h / group);
    for (let i = 0; i < S; i++) {
      const scores = new Float64Array(S);
      let max = -Infinity;
      for (let j = 0; j < S; j++) {
        if (!visible(i, j)) {
          scores[j] = -Infinity;
          continue;
        }
        let s = 0;
        for (let d = 0; d < dh; d++) s += q.data[i * H + h * dh + d] * k.data[j * kvw + kh * dh + d];
        scores[j] = (s + positionTerm(h, i, j)) / scale;
        max = Math.max(max, scores[j]);
      }
      let z = 0;
      for (let j = 0; j < S; j++) z += (scores[j] = Math.exp(scores[j] - max));
      for (let d = 0; d < dh; d++) {
        let s = 0;
        for (let j = 0; j < S; j++) if (scores[j] !== 0) s += (scores[j] / z) * v.data[j * kvw + kh * dh + d];
        out[i * H + h * dh + d] = s;
      }
    }
  }
  return linear({ rows: S, cols: H, data: out }, required(L, 'attnOutWeight'), L.attnOutBias);
}

function mlp(x: Mat, cfg: NormalizedConfig, L: Layer): Mat {
  const arch = cfg.architecture;
  let inner: Mat;
  switch (arch.mlp.kind) {
    case 'dense':
      inner = activate(linear(x, required(L, 'ffnInWeight'), L.ffnInBias), cfg.hiddenAct);
      break;
    case 'gated': {
      let a: Mat;
      let b: Mat;
      if (arch.mlp.fused) {
        const both = linear(x, required(L, 'ffnInWeight'), L.ffnInBias);
        a = columns(both, 0, cfg.intermediateSize);
        b = columns(both, cfg.intermediateSize, cfg.intermediateSize);
      } else {
        a = linear(x, required(L, 'ffnGateWeight'), L.ffnGateBias);
        b = linear(x, required(L, 'ffnInWeight'), L.ffnInBias);
      }
      const act = activate(a, cfg.hiddenAct);
      inner = { ...act, data: act.data.map((v, i) => v * b.data[i]) };
      break;
    }
    default: {
      const never: never = arch.mlp;
      throw new Error(`unknown mlp ${JSON.stringify(never)}`);
    }
  }
  return linear(inner, required(L, 'ffnOutWeight'), L.ffnOutBias);
}

/** Runs one unpadded sequence through the embeddings and the planned layers, then the head on each state. */
export function referenceLogProbs(cfg: NormalizedConfig, w: ResolvedWeights, plan: number[], input: ReferenceInput): ReferenceLogProbs {
  const arch = cfg.architecture;
  const eps = cfg.layerNormEps;
  const S = input.ids.length;
  const E = cfg.embeddingSize;
  const word = load(w.embeddings.word);
  let pos: Float64Array | undefined;
  switch (arch.positions.kind) {
    case 'learned':
      pos = load(required(w.embeddings, 'position'));
      break;
    case 'rotary':
      break;
    case 'disentangled':
      if (arch.positions.absolute) pos = load(required(w.embeddings, 'position'));
      break;
    default: {
      const never: never = arch.positions;
      throw new Error(`unknown positions ${JSON.stringify(never)}`);
    }
  }
  const type = pos && w.embeddings.tokenType ? load(w.embeddings.tokenType) : undefined;
  const emb = new Float64Array(S * E);
  for (let p = 0; p < S; p++) {
    for (let c = 0; c < E; c++) {
      emb[p * E + c] =
        word[input.ids[p] * E + c] + (pos ? pos[input.positionIds[p] * E + c] : 0) + (type ? type[input.typeIds[p] * E + c] : 0);
    }
  }
  let x: Mat = { rows: S, cols: E, data: emb };
  if (arch.embeddingNorm) x = norm(arch.norm, x, required(w.embeddings, 'lnWeight'), w.embeddings.lnBias, eps);
  if (w.embeddings.projWeight) x = linear(x, w.embeddings.projWeight, w.embeddings.projBias);
  const states = [x];
  const relTable = w.embeddings.relEmbeddings;
  let rel: Mat | undefined;
  if (relTable && arch.positions.kind === 'disentangled') {
    rel = { rows: relTable.shape[0], cols: relTable.shape[1], data: load(relTable) };
    if (arch.positions.normRel) rel = layerNorm(rel, required(w.embeddings, 'relLnWeight'), w.embeddings.relLnBias, eps);
  }
  for (const layer of plan) {
    const set = weightSetForLayer(cfg, layer);
    const L = w.layers[set];
    switch (arch.normPlacement) {
      case 'post': {
        const a = norm(arch.norm, add(attention(x, cfg, L, set, input.positionIds, rel), x), required(L, 'attnLnWeight'), L.attnLnBias, eps);
        x = norm(arch.norm, add(mlp(a, cfg, L), a), required(L, 'outLnWeight'), L.outLnBias, eps);
        break;
      }
      case 'pre': {
        const attnIn = arch.layers[set].attnNorm ? norm(arch.norm, x, required(L, 'attnLnWeight'), L.attnLnBias, eps) : x;
        const a = add(x, attention(attnIn, cfg, L, set, input.positionIds, rel));
        x = add(a, mlp(norm(arch.norm, a, required(L, 'outLnWeight'), L.outLnBias, eps), cfg, L));
        break;
      }
      default: {
        const never: never = arch.normPlacement;
        throw new Error(`unknown placement ${never}`);
      }
    }
    states.push(x);
  }
  const read = arch.finalNorm ? states.map((s) => norm(arch.norm, s, required(w.embeddings, 'finalLnWeight'), w.embeddings.finalLnBias, eps)) : states;
  return read.map((state) => {
    let t: Mat;
    switch (arch.head.kind) {
      case 'transform':
        t = norm(arch.norm, activate(linear(state, required(w.head, 'denseWeight'), w.head.denseBias), cfg.headAct), required(w.head, 'lnWeight'), w.head.lnBias, eps);
        break;
      case 'linear':
        t = state;
        break;
      default: {
        const never: never = arch.head;
        throw new Error(`unknown head ${JSON.stringify(never)}`);
      }
    }
    const logits = linear(t, w.head.decoderWeight, w.head.bias);
    const rows: Float64Array[] = [];
    for (let p = 0; p < S; p++) {
      const row = logits.data.subarray(p * logits.cols, (p + 1) * logits.cols);
      let max = -Infinity;
      for (const v of row) max = Math.max(max, v);
      let z = 0;
      for (const v of row) z += Math.exp(v - max);
      const lse = max + Math.log(z);
      rows.push(Float64Array.from(row, (v) => v - lse));
    }
    return rows;
  });
}

/** The per-position facts the engine reports, computed from reference log-probs. */
export function referenceCells(logp: ReferenceLogProbs, ids: number[], k: number) {
  const final = logp[logp.length - 1];
  return logp.map((layer) =>
    layer.map((row, p) => {
      const order = Array.from(row.keys()).sort((a, b) => row[b] - row[a]);
      const input = row[ids[p]];
      let above = 0;
      let entropy = 0;
      let kl = 0;
      row.forEach((v, i) => {
        if (v > input) above++;
        entropy -= Math.exp(v) * v;
        const f = final[p][i];
        kl += Math.exp(f) * (f - v);
      });
      /** Distance from the input's log-prob to the nearest other one: tiny gaps may legitimately swap ranks. */
      let gap = Infinity;
      row.forEach((v, i) => {
        if (i !== ids[p]) gap = Math.min(gap, Math.abs(v - input));
      });
      const top1Gap = row[order[0]] - row[order[1]];
      return { top1: order[0], topK: order.slice(0, k), topKLogProbs: order.slice(0, k).map((i) => row[i]), inputLogProb: input, rank: above + 1, entropy, kl, gap, top1Gap };
    }),
  );
}
