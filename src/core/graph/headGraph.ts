/**
 * The head graphs: the model's own MLM head applied to h0 and to the output of every planned
 * layer, reduced per layer and position to small results — top-k, the input token's log-prob and
 * rank, entropy, and KL from the final layer — never the [tokens × vocab] logits.
 *
 * Two variants with the same inputs and outputs:
 * - exact: the fp32 decoder product, then log-softmax and the reductions;
 * - fast: the decoder product in int8 (weights quantized per output row once per session,
 *   activations per chunk by DynamicQuantizeLinear), then the top FAST_CANDIDATES of each row
 *   rescored exactly in fp32 from the gathered decoder rows, and the input token's logit exact.
 *   Top-k ids and their order come from exact logits; the log-sum-exp is the int8 one with the
 *   candidates' terms replaced by exact ones, so log-probs, entropy, KL and ranks beyond the
 *   candidates are approximate (the engine measures by how much on a sample of the run).
 */
import { readTensorF32, readTensorRowsF32, TensorEntry } from '../checkpoint/safetensors';
import { required } from '../checkpoint/resolve';
import { HeadKind } from '../families/types';
import { GraphBuilder, OnnxModel, TensorType } from './onnx';
import type { ProbeGraphSpec } from './probeGraph';
import { activation, layers } from './probeGraph';

export const HEAD_INPUTS = ['states', 'ids'] as const;
export const PROBE_OUTPUTS = ['topk_ids', 'topk_logp', 'input_logp', 'rank_above', 'entropy', 'kl'] as const;

/** Rows of the int8 product rescored exactly in fast mode (at least top-k). */
export const FAST_CANDIDATES = 16;

/**
 * Size of one [rows × vocab] float buffer in the head graph; ORT keeps a few of them alive, so
 * this bounds the head's run arena. 24 MiB is 16 BERT-base positions (13 states × 30,522): on
 * the issue-16 measurement, 16-position chunks ran at 1.07× the speed of 31-position chunks with
 * 136 MB less peak RSS.
 */
export const HEAD_BUFFER_BYTES = 24 * 2 ** 20;

/** Positions per head run, so each [states·P × vocab] float buffer stays near `bufferBytes`. */
export function headPositionsFor(states: number, vocab: number, bufferBytes = HEAD_BUFFER_BYTES): number {
  return Math.max(1, Math.floor(bufferBytes / (4 * states * vocab)));
}

export type HeadMode = 'exact' | 'fast';

/** What the decoder reads: the transform of the rows, or the rows themselves. */
function headInput(kind: HeadKind, transform: () => string, rows: string): string {
  switch (kind.kind) {
    case 'transform':
      return transform();
    case 'linear':
      return rows;
    default: {
      const never: never = kind;
      throw new Error(`unknown head ${JSON.stringify(never)}`);
    }
  }
}

export function buildHead(spec: ProbeGraphSpec, folder: string, stateCount: number, mode: HeadMode = 'exact'): OnnxModel {
  const { config, weights, topK } = spec;
  const g = new GraphBuilder();
  const { w } = layers(g, folder, config.layerNormEps);
  const h = weights.head;
  const V = config.vocabSize;
  // A weight stored [in, out] (ONNX MatMul) needs no transB; PyTorch's [out, in] does. A head
  // without biases (ModernBERT, EuroBERT's lm_head) is a Gemm without C, a LayerNorm without B.
  const linear = (x: string, weight: TensorEntry, bias: TensorEntry | undefined) =>
    g.op('Gemm', bias ? [x, w(weight), w(bias)] : [x, w(weight)], { transB: weight.transposed ? 0 : 1 });
  const layerNorm = (x: string, scale: TensorEntry, bias: TensorEntry | undefined) =>
    g.op('LayerNormalization', bias ? [x, w(scale), w(bias)] : [x, w(scale)], { axis: -1, epsilon: { float: config.layerNormEps } });
  const head = h as typeof h & Partial<Record<'denseBias' | 'lnBias' | 'bias', TensorEntry>>;

  // [states, P, H] → [states·P, H] → transform t
  const rows = g.op('Reshape', ['states', g.int64Const([-1, config.hiddenSize])]);
  const t = headInput(config.architecture.head, () =>
    layerNorm(activation(g, linear(rows, required(head, 'denseWeight'), head.denseBias), config.headAct), required(head, 'lnWeight'), head.lnBias),
  rows);
  const toStates = (x: string, last: number) => g.op('Reshape', [x, g.int64Const([stateCount, -1, last])]);
  const lastState = (x: string) => g.op('Slice', [x, g.int64Const([stateCount - 1]), g.int64Const([stateCount]), g.int64Const([0])]);
  const ids = g.op('Expand', [g.op('Reshape', ['ids', g.int64Const([1, -1, 1])]), g.int64Const([stateCount, 1, 1])]);

  // Σ_v a·b over the vocabulary of [.., 1, V] rows (b's leading dims broadcast) as one
  // FusedMatMul with transB: MLAS's M = 1 dot-product kernel, no [rows × vocab] temporary
  // (Mul + ReduceSum writes one and reads it back).
  const dot = (a: string, b: string) => g.msOp('FusedMatMul', [a, b], { transB: 1 });

  if (mode === 'exact') {
    const logp = toStates(g.op('LogSoftmax', [linear(t, head.decoderWeight, head.bias)], { axis: 1 }), V);
    const inputLogp = g.op('GatherElements', [logp, ids], { axis: 2 });
    g.nodes.push({ op: 'TopK', inputs: [logp, g.int64Const([topK])], outputs: ['topk_logp', 'topk_ids'], attrs: { axis: 2, largest: 1, sorted: 1 } });
    g.named('Reshape', [inputLogp, g.int64Const([stateCount, -1])], 'input_logp');
    g.named('Reshape', [countAbove(g, logp, inputLogp, V), g.int64Const([stateCount, -1])], 'rank_above');
    const byState = (x: string, states: number) => g.op('Reshape', [x, g.int64Const([states, -1, 1, V])]);
    const toCells = (x: string) => g.op('Reshape', [x, g.int64Const([stateCount, -1])]);
    const entropy = g.named('Neg', [toCells(dot(byState(g.op('Exp', [logp]), stateCount), byState(logp, stateCount)))], 'entropy');
    // KL(final ‖ layer) = Σ p_F·log p_F − Σ p_F·log p = −entropy_F − Σ p_F·log p: one [rows × vocab]
    // temporary and one pass fewer than Σ p_F·(log p_F − log p).
    g.named('Sub', [g.op('Neg', [lastState(entropy)]), toCells(dot(byState(logp, stateCount), byState(g.op('Exp', [lastState(logp)]), 1)))], 'kl');
  } else {
    const C = Math.min(V, Math.max(FAST_CANDIDATES, topK));
    // The int8 product has Vp ≥ V columns (a multiple of CANDIDATE_GROUPS): the extra ones have
    // zero weights and a −1e30 bias, so they never count (p = 0, never above a logit).
    const Vp = Math.ceil(V / CANDIDATE_GROUPS) * CANDIDATE_GROUPS;
    const { weight: q8, scale } = quantizeRows(head.decoderWeight, V, config.hiddenSize, Vp);
    const wq = g.inline('decoder_s8', TensorType.INT8, [config.hiddenSize, Vp], q8);
    const wScale = g.inline('decoder_scale', TensorType.FLOAT, [Vp], new Uint8Array(scale.buffer));
    const paddedBias = new Float32Array(Vp).fill(-1e30);
    if (head.bias) paddedBias.set(readTensorF32(head.bias));
    else paddedBias.fill(0, 0, V);
    // Activations quantized per chunk (u8, asymmetric); ORT fuses this chain, bias included, into DynamicQuantizeMatMul.
    const [tq, tScale, tZero] = g.opMulti('DynamicQuantizeLinear', [t], 3);
    const product = g.op('Cast', [g.op('MatMulInteger', [tq, wq, tZero])], { to: TensorType.FLOAT });
    const approx = g.op('Add', [g.op('Mul', [product, g.op('Mul', [tScale, wScale])]), g.inline('decoder_bias_padded', TensorType.FLOAT, [Vp], new Uint8Array(paddedBias.buffer))]); // [R, Vp]
    const bias = head.bias ? w(head.bias) : undefined;

    // The int8 distribution in one op (no log-probs: the sums below need only p8 and the logits);
    // the candidates are the top C int8 logits.
    const p8 = g.op('Softmax', [approx], { axis: 1 }); // [R, V]
    const [candApprox, candIds] = topCandidates(g, approx, Vp, C);
    const candApproxP = g.op('GatherElements', [p8, candIds], { axis: 1 }); // [R, C]
    const axis1 = g.int64Const([1]);
    const first = (x: string) => g.op('Slice', [x, g.int64Const([0]), g.int64Const([1]), axis1]);
    // The int8 log-sum-exp per row, from the best candidate: lse8 = z8_1 − log p8_1.
    const lseApprox = g.op('Sub', [first(candApprox), g.op('Log', [first(candApproxP)])]); // [R, 1]
    const candApproxLogp = g.op('Sub', [candApprox, lseApprox]);

    // Exact fp32 logits of the candidates and of the input token, from gathered decoder rows.
    const table = head.decoderWeight.transposed ? g.op('Transpose', [w(head.decoderWeight)], { perm: [1, 0] }) : w(head.decoderWeight);
    const tCol = g.op('Unsqueeze', [t, g.int64Const([2])]); // [R, H, 1]
    let candExact = g.op('Squeeze', [g.op('MatMul', [g.op('Gather', [table, candIds]), tCol]), g.int64Const([2])]); // [R, C]
    if (bias) candExact = g.op('Add', [candExact, g.op('Gather', [bias, candIds])]);
    const rowIds = g.op('Reshape', [ids, g.int64Const([-1])]);
    let inputExact = g.op('Squeeze', [g.op('MatMul', [g.op('Unsqueeze', [g.op('Gather', [table, rowIds]), g.int64Const([1])]), tCol]), g.int64Const([2])]); // [R, 1]
    if (bias) inputExact = g.op('Add', [inputExact, g.op('Unsqueeze', [g.op('Gather', [bias, rowIds]), g.int64Const([1])])]);

    // log Σ exp over the vocabulary: the int8 sum with the candidates' terms swapped for exact
    // ones, lse = lse8 + δ with δ = log(1 − Σ_c p8_c + Σ_c exp(z_c − lse8)).
    const sumRow = (x: string) => g.op('ReduceSum', [x, axis1], { keepdims: 1 });
    const restP = g.op('Relu', [g.op('Sub', [g.floatConst(1), sumRow(candApproxP)])]);
    const delta = g.op('Log', [g.op('Add', [restP, sumRow(g.op('Exp', [g.op('Sub', [candExact, lseApprox])]))])]); // [R, 1]
    const lse = g.op('Add', [lseApprox, delta]);
    const candLogp = g.op('Sub', [candExact, lse]); // exact-logit log-probs of the candidates [R, C]

    // Top-k from the exact candidate logits, in exact order.
    const [topLogp, topAt] = g.opMulti('TopK', [candLogp, g.int64Const([topK])], 2, { axis: 1, largest: 1, sorted: 1 });
    g.named('Reshape', [topLogp, g.int64Const([stateCount, -1, topK])], 'topk_logp');
    g.named('Reshape', [g.op('GatherElements', [candIds, topAt], { axis: 1 }), g.int64Const([stateCount, -1, topK])], 'topk_ids');
    const inputLogp = g.op('Sub', [inputExact, lse]);
    g.named('Reshape', [inputLogp, g.int64Const([stateCount, -1])], 'input_logp');

    // Rank: tokens whose logit is above the input's exact one: the candidates by their exact
    // logits, the rest by their int8 logits. The input token never counts itself (its candidate
    // copy comes from another product and may differ from inputExact in the last bit).
    const toFloat = (x: string) => g.op('Cast', [x], { to: TensorType.FLOAT });
    const count = (x: string, threshold: string) => g.op('ReduceSum', [toFloat(g.op('Greater', [x, threshold])), axis1], { keepdims: 1 });
    const idCol = g.op('Reshape', [ids, g.int64Const([-1, 1])]); // [R, 1]
    const isInput = g.op('Equal', [candIds, idCol]); // [R, C]
    const candAbove = g.op('ReduceSum', [toFloat(g.op('And', [g.op('Greater', [candLogp, inputLogp]), g.op('Not', [isInput])])), axis1], { keepdims: 1 });
    const inputIsCand = g.op('ReduceMax', [toFloat(isInput)], { axes: [1], keepdims: 1 }); // opset 17: axes is an attribute
    const selfOutside = g.op('Mul', [toFloat(g.op('Greater', [g.op('GatherElements', [approx, idCol], { axis: 1 }), inputExact])), g.op('Sub', [g.floatConst(1), inputIsCand])]);
    const restAbove = g.op('Sub', [g.op('Sub', [countAbove(g, approx, inputExact, Vp), count(candApprox, inputExact)]), selfOutside]);
    const rank = g.op('Add', [restAbove, candAbove]);
    g.named('Reshape', [rank, g.int64Const([stateCount, -1])], 'rank_above');

    const asRows = (x: string, lead: number[]) => g.op('Reshape', [x, g.int64Const([...lead, 1, Vp])]);
    const pz = g.op('Reshape', [dot(asRows(p8, [-1]), asRows(approx, [-1])), g.int64Const([-1, 1])]); // Σ p8·z8 [R, 1]

    // Entropy: exact terms for the candidates, int8 terms (rescaled by e^−δ) for the rest:
    // Σ_rest p·log p = e^−δ·(A − δ·B), A = Σ_rest p8·log p8, B = Σ_rest p8, where
    // Σ_all p8·log p8 = Σ p8·z8 − lse8.
    const restA = g.op('Sub', [g.op('Sub', [pz, lseApprox]), sumRow(g.op('Mul', [candApproxP, candApproxLogp]))]);
    const shrink = g.op('Exp', [g.op('Neg', [delta])]);
    const restTerm = g.op('Mul', [shrink, g.op('Sub', [restA, g.op('Mul', [delta, restP])])]);
    const candTerm = sumRow(g.op('Mul', [g.op('Exp', [candLogp]), candLogp]));
    g.named('Reshape', [g.op('Neg', [g.op('Add', [restTerm, candTerm])]), g.int64Const([stateCount, -1])], 'entropy');
    // KL(final ‖ layer) between the int8 distributions, Σ p8_F·(log p8_F − log p8_l): ≥ 0 up to
    // rounding, and exactly 0 at the final layer itself (mixing in the exact candidate terms would
    // not be). Σ p8_F·log p8_l = Σ p8_F·z8_l − lse8_l, one dot per state and position against p8_F.
    const pFinal = g.op('Reshape', [lastState(toStates(p8, Vp)), g.int64Const([1, -1, 1, Vp])]); // [1, P, 1, V]
    const cross = g.op('Sub', [
      g.op('Reshape', [dot(asRows(approx, [stateCount, -1]), pFinal), g.int64Const([stateCount, -1])]),
      g.op('Reshape', [lseApprox, g.int64Const([stateCount, -1])]),
    ]); // [S, P]
    g.named('Sub', [lastState(cross), cross], 'kl');
  }
  return {
    opset: 17,
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: [
      { name: 'states', type: TensorType.FLOAT, shape: [stateCount, 'positions', config.hiddenSize] },
      { name: 'ids', type: TensorType.INT64, shape: ['positions'] },
    ],
    outputs: [
      { name: 'topk_ids', type: TensorType.INT64, shape: [stateCount, 'positions', topK] },
      { name: 'topk_logp', type: TensorType.FLOAT, shape: [stateCount, 'positions', topK] },
      { name: 'input_logp', type: TensorType.FLOAT, shape: [stateCount, 'positions'] },
      { name: 'rank_above', type: TensorType.FLOAT, shape: [stateCount, 'positions'] },
      { name: 'entropy', type: TensorType.FLOAT, shape: [stateCount, 'positions'] },
      { name: 'kl', type: TensorType.FLOAT, shape: [stateCount, 'positions'] },
    ],
  };
}

/** Groups of the candidates' pre-selection (see topCandidates). */
const CANDIDATE_GROUPS = 16;

/**
 * Entries of x [.., width] above threshold [.., 1], per row, as [.., 1]: the comparison as bytes,
 * counted by one integer product with a column of ones (exact in int32), instead of a [rows ×
 * vocab] float copy for ReduceSum (issue 16: one buffer and one pass fewer over the vocabulary).
 */
function countAbove(g: GraphBuilder, x: string, threshold: string, width: number): string {
  const above = g.op('Cast', [g.op('Greater', [x, threshold])], { to: TensorType.UINT8 });
  // One column of ones per width, however many counts a graph makes (an initializer name is unique).
  const name = `ones_u8_${width}`;
  const ones = g.initializers.some((i) => i.name === name) ? name : g.inline(name, TensorType.UINT8, [width, 1], new Uint8Array(width).fill(1));
  return g.op('Cast', [g.op('MatMulInteger', [above, ones])], { to: TensorType.FLOAT });
}

/**
 * The top C entries of each row of z [R, Vp], sorted, with their ids. TopK over the whole
 * vocabulary walks it element by element (ORT's heap selection, ~1 ns an entry); here the row
 * is read as 16 × (Vp/16), one vectorized ReduceMax over the 16 takes the maximum of each
 * strided group {b, b + Vp/16, …}, the top C groups are picked, and TopK runs on their 16·C
 * entries. The same set: an entry of the row's top C has at most C − 1 groups with a larger
 * maximum, so its group is among the top C (ties may pick another, equal entry).
 */
function topCandidates(g: GraphBuilder, z: string, Vp: number, C: number): [string, string] {
  const G = CANDIDATE_GROUPS;
  const n = Vp / G;
  if (n <= 4 * C) return g.opMulti('TopK', [z, g.int64Const([C])], 2, { axis: 1, largest: 1, sorted: 1 }) as [string, string];
  const groupMax = g.op('ReduceMax', [g.op('Reshape', [z, g.int64Const([0, G, n])])], { axes: [1], keepdims: 0 }); // [R, n]
  const [, groups] = g.opMulti('TopK', [groupMax, g.int64Const([C])], 2, { axis: 1, largest: 1, sorted: 0 }); // [R, C]
  const strides = g.int64Const(Array.from({ length: G }, (_, j) => j * n), [1, G, 1]);
  const ids = g.op('Reshape', [g.op('Add', [g.op('Unsqueeze', [groups, g.int64Const([1])]), strides]), g.int64Const([0, -1])]); // [R, G·C]
  const [top, at] = g.opMulti('TopK', [g.op('GatherElements', [z, ids], { axis: 1 }), g.int64Const([C])], 2, { axis: 1, largest: 1, sorted: 1 });
  return [top, g.op('GatherElements', [ids, at], { axis: 1 })];
}

/** Decoder rows read and quantized at a time: 16 MiB of fp32 at H = 1024, not the whole decoder. */
const QUANTIZE_ROWS = 4096;

/**
 * Rows transposed together: a tile of 64 rows × H stays in L2 while each output row k gets 64
 * contiguous bytes. Writing row by row instead touched one cache line per byte (stride Vp):
 * 1.3 s for BERT-base's decoder at every fast-mode open.
 */
const TRANSPOSE_TILE = 64;

/**
 * The decoder [V, H] as s8 per output row (symmetric: scale = max |row| / 127), laid out
 * [H, Vp] for MatMulInteger, columns V…Vp−1 zero. A decoder stored [V, H] is read in blocks of
 * QUANTIZE_ROWS rows, so the host never holds its fp32 copy (4·V·H bytes: 393 MB at a 256k
 * vocabulary); one stored as its transpose [H, V] is read whole.
 */
export function quantizeRows(entry: TensorEntry, V: number, H: number, Vp = V): { weight: Uint8Array; scale: Float32Array } {
  const q = new Int8Array(H * Vp);
  const scale = new Float32Array(Vp).fill(1);
  if (entry.transposed) quantizeColumns(readTensorF32(entry), V, H, Vp, q, scale);
  else {
    for (let first = 0; first < V; first += QUANTIZE_ROWS) {
      const count = Math.min(QUANTIZE_ROWS, V - first);
      quantizeRowBlock(readTensorRowsF32(entry, first, count), first, count, H, Vp, q, scale);
    }
  }
  return { weight: new Uint8Array(q.buffer), scale };
}

const scaleOf = (maxAbs: number) => (maxAbs > 0 ? maxAbs / 127 : 1);

/** Math.round, as ⌊x + ½⌋ (its definition for |x| ≤ 127 but for 0.5 − 2⁻⁵⁴): 3× faster here, as V8 compiles it. */
const round = (x: number) => Math.floor(x + 0.5);

/** Rows first…first+count−1 of [V, H] (f holds just them) into columns of q [H, Vp]. */
function quantizeRowBlock(f: Float32Array, first: number, count: number, H: number, Vp: number, q: Int8Array, scale: Float32Array): void {
  const inv = new Float64Array(count); // from the double scale, as the reference in the tests
  for (let r = 0; r < count; r++) {
    let max = 0;
    for (let k = r * H, end = k + H; k < end; k++) max = Math.max(max, Math.abs(f[k]));
    const s = scaleOf(max);
    scale[first + r] = s;
    inv[r] = 1 / s;
  }
  for (let r0 = 0; r0 < count; r0 += TRANSPOSE_TILE) {
    const r1 = Math.min(count, r0 + TRANSPOSE_TILE);
    for (let k = 0; k < H; k++) {
      const out = k * Vp + first;
      for (let r = r0; r < r1; r++) q[out + r] = round(f[r * H + k] * inv[r]);
    }
  }
}

/** The transpose f [H, V] into q [H, Vp]: both row-major along v, so no tiling is needed. */
function quantizeColumns(f: Float32Array, V: number, H: number, Vp: number, q: Int8Array, scale: Float32Array): void {
  const max = new Float32Array(V);
  for (let k = 0; k < H; k++) for (let v = 0; v < V; v++) max[v] = Math.max(max[v], Math.abs(f[k * V + v]));
  const inv = new Float64Array(V);
  for (let v = 0; v < V; v++) {
    const s = scaleOf(max[v]);
    scale[v] = s;
    inv[v] = 1 / s;
  }
  for (let k = 0; k < H; k++) for (let v = 0; v < V; v++) q[k * Vp + v] = round(f[k * V + v] * inv[v]);
}
