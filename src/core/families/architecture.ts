/**
 * What an architecture value implies about a checkpoint: which tensors must exist and their
 * shapes. resolve.ts checks a checkpoint against these; the graph builder and the reference
 * forward pass read the same value, so the three cannot drift apart.
 */
import { Architecture, Dims, EmbeddingTensor, HeadTensor, LayerTensor, NormKind } from './types';

/** Post-LN BERT: learned positions, separate Q/K/V with biases, a dense–act MLP, no final norm. */
export function bertArchitecture(dims: Dims, _raw: Record<string, unknown>, numLayerWeights: number): Architecture {
  return {
    normPlacement: 'post',
    norm: { kind: 'layerNorm', bias: true },
    positions: { kind: 'learned' },
    qkv: 'separate',
    kvHeads: dims.numHeads,
    mlp: { kind: 'dense' },
    biases: { attention: true, mlp: true, headDense: true, decoder: true },
    embeddingNorm: true,
    finalNorm: false,
    head: { kind: 'transform' },
    layers: Array.from({ length: numLayerWeights }, () => ({ attention: { kind: 'global' as const }, attnNorm: true })),
  };
}

export function normHasBias(norm: NormKind): boolean {
  switch (norm.kind) {
    case 'layerNorm':
      return norm.bias;
    case 'rmsNorm':
      return false;
    default: {
      const never: never = norm;
      throw new Error(`unknown norm ${JSON.stringify(never)}`);
    }
  }
}

/** Tensors that may be present but are not required (token types; the projection when E = H). */
export const OPTIONAL_EMBEDDINGS: ReadonlySet<EmbeddingTensor> = new Set(['tokenType', 'projWeight', 'projBias']);

export function embeddingShapes(a: Architecture, d: Dims): Partial<Record<EmbeddingTensor, number[]>> {
  const { vocabSize: V, embeddingSize: E, hiddenSize: H } = d;
  const out: Partial<Record<EmbeddingTensor, number[]>> = { word: [V, E] };
  switch (a.positions.kind) {
    case 'learned':
      out.position = [d.maxPositions, E];
      out.tokenType = [d.typeVocabSize, E];
      break;
    case 'rotary':
      break;
    case 'disentangled':
      if (a.positions.absolute) out.position = [d.maxPositions, E];
      out.relEmbeddings = [2 * a.positions.span, H];
      if (a.positions.normRel) Object.assign(out, { relLnWeight: [H], relLnBias: [H] });
      break;
    default: {
      const never: never = a.positions;
      throw new Error(`unknown positions ${JSON.stringify(never)}`);
    }
  }
  if (a.embeddingNorm) {
    out.lnWeight = [E];
    if (normHasBias(a.norm)) out.lnBias = [E];
  }
  out.projWeight = [H, E];
  out.projBias = [H];
  if (a.finalNorm) {
    out.finalLnWeight = [H];
    if (normHasBias(a.norm)) out.finalLnBias = [H];
  }
  return out;
}

export function layerShapes(a: Architecture, d: Dims, weightSet: number): Partial<Record<LayerTensor, number[]>> {
  const { hiddenSize: H, intermediateSize: I } = d;
  const headDim = H / d.numHeads;
  const kv = a.kvHeads * headDim;
  const out: Partial<Record<LayerTensor, number[]>> = {};
  const attnBias = a.biases.attention;
  switch (a.qkv) {
    case 'separate':
      Object.assign(out, { qWeight: [H, H], kWeight: [kv, H], vWeight: [kv, H] });
      if (attnBias) Object.assign(out, { qBias: [H], kBias: [kv], vBias: [kv] });
      break;
    case 'fused':
      out.qkvWeight = [H + 2 * kv, H];
      if (attnBias) out.qkvBias = [H + 2 * kv];
      break;
    default: {
      const never: never = a.qkv;
      throw new Error(`unknown qkv layout ${JSON.stringify(never)}`);
    }
  }
  if (a.positions.kind === 'disentangled' && !a.positions.shareKey) {
    if (a.positions.c2p) Object.assign(out, { posKeyWeight: [H, H], posKeyBias: [H] });
    if (a.positions.p2c) Object.assign(out, { posQueryWeight: [H, H], posQueryBias: [H] });
  }
  out.attnOutWeight = [H, H];
  if (attnBias) out.attnOutBias = [H];
  const normBias = normHasBias(a.norm);
  if (a.layers[weightSet].attnNorm) {
    out.attnLnWeight = [H];
    if (normBias) out.attnLnBias = [H];
  }
  out.outLnWeight = [H];
  if (normBias) out.outLnBias = [H];
  const mlpBias = a.biases.mlp;
  switch (a.mlp.kind) {
    case 'dense':
      out.ffnInWeight = [I, H];
      if (mlpBias) out.ffnInBias = [I];
      break;
    case 'gated':
      if (a.mlp.fused) {
        out.ffnInWeight = [2 * I, H];
        if (mlpBias) out.ffnInBias = [2 * I];
      } else {
        Object.assign(out, { ffnInWeight: [I, H], ffnGateWeight: [I, H] });
        if (mlpBias) Object.assign(out, { ffnInBias: [I], ffnGateBias: [I] });
      }
      break;
    default: {
      const never: never = a.mlp;
      throw new Error(`unknown mlp ${JSON.stringify(never)}`);
    }
  }
  out.ffnOutWeight = [H, I];
  if (mlpBias) out.ffnOutBias = [H];
  return out;
}

export function headShapes(a: Architecture, d: Dims): Partial<Record<HeadTensor, number[]>> {
  const { vocabSize: V, embeddingSize: E, hiddenSize: H } = d;
  const out: Partial<Record<HeadTensor, number[]>> = {};
  switch (a.head.kind) {
    case 'transform':
      Object.assign(out, { denseWeight: [E, H], lnWeight: [E], decoderWeight: [V, E] });
      if (a.biases.headDense) out.denseBias = [E];
      if (normHasBias(a.norm)) out.lnBias = [E];
      break;
    case 'linear':
      out.decoderWeight = [V, H];
      break;
    default: {
      const never: never = a.head;
      throw new Error(`unknown head ${JSON.stringify(never)}`);
    }
  }
  if (a.biases.decoder) out.bias = [V];
  return out;
}
