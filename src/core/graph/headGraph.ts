/**
 * The head graph: the model's own MLM head applied to h0 and to the output of every planned layer,
 * reduced per layer and position to small results — top-k, the input token's log-prob and rank,
 * entropy, and KL from the final layer — never the [tokens × vocab] logits.
 */
import { TensorType, GraphBuilder, OnnxModel } from './onnx';
import type { ProbeGraphSpec } from './probeGraph';
import { activation, layers } from './probeGraph';

export const HEAD_INPUTS = ['states', 'ids'] as const;
export const PROBE_OUTPUTS = ['topk_ids', 'topk_logp', 'input_logp', 'rank_above', 'entropy', 'kl'] as const;

export function buildHead(spec: ProbeGraphSpec, folder: string, stateCount: number): OnnxModel {
  const { config, weights, topK } = spec;
  const g = new GraphBuilder();
  const { linear, layerNorm, activate } = layers(g, folder, config.layerNormEps);
  const h = weights.head;
  const V = config.vocabSize;

  // [states, P, H] → [states·P, H] → transform → decoder → log-softmax → [states, P, V]
  const rows = g.op('Reshape', ['states', g.int64Const([-1, config.hiddenSize])]);
  const t = layerNorm(activate(linear(rows, h.denseWeight, h.denseBias), config.headAct), h.lnWeight, h.lnBias);
  const logp = g.op('Reshape', [g.op('LogSoftmax', [linear(t, h.decoderWeight, h.bias)], { axis: 1 }), g.int64Const([stateCount, -1, V])]);

  const vocabAxis = g.int64Const([2]);
  const sumOverVocab = (x: string) => g.op('ReduceSum', [x, vocabAxis], { keepdims: 0 });
  const ids = g.op('Expand', [g.op('Reshape', ['ids', g.int64Const([1, -1, 1])]), g.int64Const([stateCount, 1, 1])]);
  const inputLogp = g.op('GatherElements', [logp, ids], { axis: 2 });
  const final = g.op('Slice', [logp, g.int64Const([stateCount - 1]), g.int64Const([stateCount]), g.int64Const([0])]);

  g.nodes.push({ op: 'TopK', inputs: [logp, g.int64Const([topK])], outputs: ['topk_logp', 'topk_ids'], attrs: { axis: 2, largest: 1, sorted: 1 } });
  g.named('Reshape', [inputLogp, g.int64Const([stateCount, -1])], 'input_logp');
  g.named('ReduceSum', [g.op('Cast', [g.op('Greater', [logp, inputLogp])], { to: TensorType.FLOAT }), vocabAxis], 'rank_above', { keepdims: 0 });
  const entropy = g.named('Neg', [sumOverVocab(g.op('Mul', [g.op('Exp', [logp]), logp]))], 'entropy');
  // KL(final ‖ layer) = Σ p_F·log p_F − Σ p_F·log p = −entropy_F − Σ p_F·log p: one [rows × vocab]
  // temporary and one pass fewer than Σ p_F·(log p_F − log p).
  const finalEntropy = g.op('Slice', [entropy, g.int64Const([stateCount - 1]), g.int64Const([stateCount]), g.int64Const([0])]);
  g.named('Sub', [g.op('Neg', [finalEntropy]), sumOverVocab(g.op('Mul', [g.op('Exp', [final]), logp]))], 'kl');

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
