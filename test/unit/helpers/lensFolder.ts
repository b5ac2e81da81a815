/** A tuned-lens folder written by hand for tests (the layout python/tune_lens.py writes). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeSafetensors } from '../../../src/core/checkpoint/safetensors';
import { LENS_CARD, LENS_FORMAT, LENS_WEIGHTS, modelHash } from '../../../src/core/lens/tunedLens';
import { mulberry32 } from '../../../src/core/probe/bootstrap';
import type { ProbeEngine } from '../../../src/core/probe/engine';

/** A lens folder for the reference model; translator i = I + scale·noise, bias = scale·noise. */
export function writeLens(dir: string, engine: ProbeEngine, scale: number, hash = modelHash(engine.checkpoint.weights.files)): void {
  const H = engine.checkpoint.config.hiddenSize;
  const plan = Array.from({ length: engine.checkpoint.config.numLayers }, (_, l) => l);
  const random = mulberry32(7);
  const noise = () => (random() - 0.5) * 2 * scale;
  fs.mkdirSync(dir, { recursive: true });
  const tensors = plan.flatMap((_, i) => {
    const w = new Float32Array(H * H).map((_, k) => (k % (H + 1) === 0 ? 1 : 0) + noise());
    const b = new Float32Array(H).map(noise);
    return [
      { name: `translator.${i}.weight`, dtype: 'F32' as const, shape: [H, H], byteLength: w.byteLength, read: () => new Uint8Array(w.buffer) },
      { name: `translator.${i}.bias`, dtype: 'F32' as const, shape: [H], byteLength: b.byteLength, read: () => new Uint8Array(b.buffer) },
    ];
  });
  writeSafetensors(path.join(dir, LENS_WEIGHTS), tensors);
  const figures = { kl: [], accuracy: [] };
  fs.writeFileSync(path.join(dir, LENS_CARD), JSON.stringify({
    format: LENS_FORMAT, model: { name: engine.checkpoint.name, hash, hiddenSize: H, numLayers: plan.length }, plan,
    corpus: { file: 'none', sha256: '', sentences: 0, trainSentences: 0, heldoutSentences: 0, heldoutPositions: 0 },
    optimizer: {}, steps: 0, heldout: { before: figures, after: figures },
  }));
}

