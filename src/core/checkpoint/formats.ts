/**
 * Registers the weight formats beyond safetensors with openWeights(): PyTorch .bin (plain or
 * sharded) and ONNX. Imported once by checkpoint.ts; safe to import more than once.
 */
import { readOnnxWeights } from './onnx/onnxWeights';
import { readPytorchBin, readPytorchBinIndex } from './pytorch/pytorchBin';
import { registerWeightReader } from './weights';

const SHARD = /-\d{5}-of-\d{5}\.bin$/;
/** .bin files a training run leaves next to the weights. */
const NOT_WEIGHTS = /^(training_args|optimizer|scheduler|rng_state.*|scaler)\.bin$/;

let registered = false;
export function registerWeightFormats(): void {
  if (registered) return;
  registered = true;
  registerWeightReader({ matches: (f) => f.endsWith('.bin.index.json'), read: readPytorchBinIndex });
  registerWeightReader({ matches: (f) => f.endsWith('.bin') && !SHARD.test(f) && !NOT_WEIGHTS.test(f), read: readPytorchBin });
  registerWeightReader({ matches: (f) => f.endsWith('.onnx'), read: readOnnxWeights });
}
registerWeightFormats();
