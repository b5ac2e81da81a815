/**
 * A plain TypeScript forward pass in float64, independent of the ONNX graph: the yardstick
 * the engine is checked against. It reads the same resolved tensors, but every number here is
 * computed with ordinary loops. Used only by tests.
 */
import { readTensorF32, TensorEntry } from '../../../src/core/checkpoint/safetensors';
import { ResolvedWeights } from '../../../src/core/checkpoint/resolve';
import { Activation, NormalizedConfig } from '../../../src/core/families/types';
import { weightSetForLayer } from '../../../src/core/graph/probeGraph';

export interface ReferenceInput {
  ids: number[];
  typeIds: number[];
  positionIds: number[];
}

/** Per layer (h0..hL), per position: log-softmax over the vocabulary. */
export type ReferenceLogProbs = Float64Array[][];

type Mat = { rows: number; cols: number; data: Float64Array };

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

function layerNorm(x: Mat, g: TensorEntry, b: TensorEntry, eps: number): Mat {
  const G = load(g);
  const B = load(b);
  const y = new Float64Array(x.data.length);
  for (let r = 0; r < x.rows; r++) {
    let mean = 0;
    for (let c = 0; c < x.cols; c++) mean += x.data[r * x.cols + c];
    mean /= x.cols;
    let v = 0;
    for (let c = 0; c < x.cols; c++) v += (x.data[r * x.cols + c] - mean) ** 2;
    v /= x.cols;
    const inv = 1 / Math.sqrt(v + eps);
    for (let c = 0; c < x.cols; c++) y[r * x.cols + c] = (x.data[r * x.cols + c] - mean) * inv * G[c] + B[c];
  }
  return { ...x, data: y };
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
  const f =
    act === 'gelu'
      ? (v: number) => 0.5 * v * (1 + erf(v / Math.SQRT2))
      : act === 'gelu_tanh'
        ? (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))
        : (v: number) => Math.max(0, v);
  return { ...x, data: x.data.map(f) };
}

function attention(x: Mat, cfg: NormalizedConfig, L: ResolvedWeights['layers'][number]): Mat {
  const q = linear(x, L.qWeight, L.qBias);
  const k = linear(x, L.kWeight, L.kBias);
  const v = linear(x, L.vWeight, L.vBias);
  const S = x.rows;
  const H = cfg.hiddenSize;
  const nh = cfg.numHeads;
  const dh = H / nh;
  const out = new Float64Array(S * H);
  for (let h = 0; h < nh; h++) {
    for (let i = 0; i < S; i++) {
      const scores = new Float64Array(S);
      let max = -Infinity;
      for (let j = 0; j < S; j++) {
        let s = 0;
        for (let d = 0; d < dh; d++) s += q.data[i * H + h * dh + d] * k.data[j * H + h * dh + d];
        scores[j] = s / Math.sqrt(dh);
        max = Math.max(max, scores[j]);
      }
      let z = 0;
      for (let j = 0; j < S; j++) z += (scores[j] = Math.exp(scores[j] - max));
      for (let d = 0; d < dh; d++) {
        let s = 0;
        for (let j = 0; j < S; j++) s += (scores[j] / z) * v.data[j * H + h * dh + d];
        out[i * H + h * dh + d] = s;
      }
    }
  }
  return { rows: S, cols: H, data: out };
}

/** Runs one unpadded sequence through the embeddings and the planned layers, then the head on each state. */
export function referenceLogProbs(cfg: NormalizedConfig, w: ResolvedWeights, plan: number[], input: ReferenceInput): ReferenceLogProbs {
  const S = input.ids.length;
  const E = cfg.embeddingSize;
  const word = load(w.embeddings.word);
  const pos = load(w.embeddings.position);
  const type = w.embeddings.tokenType ? load(w.embeddings.tokenType) : undefined;
  const emb = new Float64Array(S * E);
  for (let p = 0; p < S; p++) {
    for (let c = 0; c < E; c++) {
      emb[p * E + c] =
        word[input.ids[p] * E + c] + pos[input.positionIds[p] * E + c] + (type ? type[input.typeIds[p] * E + c] : 0);
    }
  }
  let x = layerNorm({ rows: S, cols: E, data: emb }, w.embeddings.lnWeight, w.embeddings.lnBias, cfg.layerNormEps);
  if (w.embeddings.projWeight) x = linear(x, w.embeddings.projWeight, w.embeddings.projBias);
  const states = [x];
  for (const layer of plan) {
    const L = w.layers[weightSetForLayer(cfg, layer)];
    const a = layerNorm(add(linear(attention(x, cfg, L), L.attnOutWeight, L.attnOutBias), x), L.attnLnWeight, L.attnLnBias, cfg.layerNormEps);
    const f = linear(activate(linear(a, L.ffnInWeight, L.ffnInBias), cfg.hiddenAct), L.ffnOutWeight, L.ffnOutBias);
    x = layerNorm(add(f, a), L.outLnWeight, L.outLnBias, cfg.layerNormEps);
    states.push(x);
  }
  return states.map((state) => {
    const t = layerNorm(activate(linear(state, w.head.denseWeight, w.head.denseBias), cfg.headAct), w.head.lnWeight, w.head.lnBias, cfg.layerNormEps);
    const logits = linear(t, w.head.decoderWeight, w.head.bias);
    const rows: Float64Array[] = [];
    for (let p = 0; p < S; p++) {
      const row = logits.data.subarray(p * logits.cols, (p + 1) * logits.cols);
      const max = Math.max(...row);
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
