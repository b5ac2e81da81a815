/** Messages between the probe client (host side) and the worker thread that owns ORT. */
import type { BuiltProbeGraphs } from '../graph/probeGraph';

export interface BatchInput {
  batch: number;
  seq: number;
  inputIds: BigInt64Array;
  typeIds: BigInt64Array;
  positionIds: BigInt64Array;
  attentionMask: Float32Array;
}

/** Layer-major results for `tokens` = batch × seq positions. */
export interface RawLayerOutputs {
  layers: number;
  tokens: number;
  k: number;
  topKIds: Int32Array;
  topKLogProbs: Float32Array;
  inputLogProb: Float32Array;
  rankAbove: Float32Array;
  entropy: Float32Array;
  kl: Float32Array;
}

export type ToWorker =
  | { type: 'open'; id: number; graphs: BuiltProbeGraphs; threads: number }
  | { type: 'run'; id: number; input: BatchInput }
  | { type: 'close'; id: number };

export type FromWorker =
  | { type: 'opened'; id: number; ms: number }
  | { type: 'result'; id: number; output: RawLayerOutputs; ms: number }
  | { type: 'closed'; id: number }
  | { type: 'error'; id: number; message: string };
