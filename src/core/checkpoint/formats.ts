/**
 * The weight formats beyond safetensors, as one static table that openWeights() reads: PyTorch .bin
 * (plain or sharded) and ONNX. A table, not registration by a side-effect import: whichever entry
 * point runs first (probe, deepen, the config hover), every format is known, so deepening a .bin
 * folder says "deepening needs safetensors" instead of "no weights found".
 */
import { readOnnxWeights } from './onnx/onnxWeights';
import { readPytorchBin, readPytorchBinIndex } from './pytorch/pytorchBin';
import type { WeightIndex } from './weights';

export interface WeightFormat {
  /** What the format is called in messages. */
  id: string;
  /** Whether a file of this name holds weights of this format. */
  matches(fileName: string): boolean;
  read(file: string): WeightIndex;
}

const SHARD = /-\d{5}-of-\d{5}\.bin$/;
/** .bin files a training run leaves next to the weights. */
const NOT_WEIGHTS = /^(training_args|optimizer|scheduler|rng_state.*|scaler)\.bin$/;

/** In the order a folder is searched, after model.safetensors and its index. */
export const WEIGHT_FORMATS: readonly WeightFormat[] = [
  { id: 'pytorch index', matches: (f) => f.endsWith('.bin.index.json'), read: (file) => readPytorchBinIndex(file) },
  { id: 'pytorch', matches: (f) => f.endsWith('.bin') && !SHARD.test(f) && !NOT_WEIGHTS.test(f), read: (file) => readPytorchBin(file) },
  { id: 'onnx', matches: (f) => f.endsWith('.onnx'), read: (file) => readOnnxWeights(file) },
];
