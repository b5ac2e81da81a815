/** Messages between the probe client (host side) and the worker thread that owns ORT. */
import type { BuiltProbeGraphs } from '../graph/probeGraph';
import type { BackendListing, ExecutionProvider } from './executionProvider';

export interface BatchInput {
  batch: number;
  seq: number;
  inputIds: BigInt64Array;
  typeIds: BigInt64Array;
  positionIds: BigInt64Array;
  attentionMask: Float32Array;
  /** The token each position is scored against (log p, rank); default inputIds. Differs at masks with a gold token. */
  targetIds?: BigInt64Array;
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
  /** Fast mode: the exact head rerun on a sample of this batch's positions, compared cell by cell. */
  calibration?: FastCalibration;
}

/** Fast vs exact on the same cells (layer × position), from a sample of the run itself. */
export interface FastCalibration {
  cells: number;
  top1Agree: number;
  topKIdsAgree: number;
  maxAbsInputLogProb: number;
  sumAbsInputLogProb: number;
  maxAbsTopKLogProb: number;
  maxAbsEntropy: number;
  maxAbsKl: number;
  maxAbsRank: number;
}

/** ORT settings the bench compares in pairs; the defaults are what the product runs. */
export interface OrtTuning {
  /** Pool threads spin while waiting for work (ORT's default). Off by default: see probeWorker.ts. */
  spinning?: boolean;
  /** Weight prepacking for the exact head session (the encoder always prepacks). */
  headPrepacking?: boolean;
  /** ORT's memory arena for the head sessions (default on). */
  headArena?: boolean;
  /** ORT's memory pattern (one planned block per input shape) for the head sessions (default off: see probeWorker.ts). */
  headMemPattern?: boolean;
  /** ORT's memory arena for the encoder session (default on). */
  encoderArena?: boolean;
  /** ORT's memory pattern for the encoder session (default off: see probeWorker.ts). */
  encoderMemPattern?: boolean;
  /** Write the head as ORT optimized it (fused ops) to this file, so the bench can name the kernels that run. */
  optimizedHeadPath?: string;
}

export type ToWorker =
  | { type: 'open'; id: number; graphs: BuiltProbeGraphs; threads: number; tuning?: OrtTuning; provider?: ExecutionProvider }
  | { type: 'providers'; id: number }
  | { type: 'run'; id: number; input: BatchInput }
  | { type: 'close'; id: number };

export type FromWorker =
  /** `ran`: the provider the sessions run on; `fallback`: why that is the CPU when another was asked for. */
  | { type: 'opened'; id: number; ms: number; ran: ExecutionProvider; fallback?: string }
  | { type: 'providers'; id: number; backends: BackendListing[] }
  | { type: 'result'; id: number; output: RawLayerOutputs; ms: number }
  | { type: 'closed'; id: number }
  | { type: 'error'; id: number; message: string };
