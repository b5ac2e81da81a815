/**
 * The tuned lens as the engine applies it (issue 15): one Gemm per state h0..h(L−1) before the head.
 * Identity translators give the raw probe exactly; random translators agree with torch applying the
 * same translators to HF's float64 hidden states (python/lens_apply_torch.py), measured 1.5e-5 max
 * |Δ log p| on the reference model, held to 1e-4; a lens of other weights or another plan is one line.
 * Training (python/tune_lens.py) is not part of this test.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeSafetensors } from '../../../src/core/checkpoint/safetensors';
import { UserError } from '../../../src/core/errors';
import { LENS_CARD, LENS_FORMAT, LENS_WEIGHTS, loadTunedLens, modelHash } from '../../../src/core/lens/tunedLens';
import { ProbeEngine } from '../../../src/core/probe/engine';
import { ROOT, TEST_PYTHON, hasHfPython } from '../helpers/python';
import { mulberry32 } from '../../../src/core/probe/bootstrap';

const MODEL = path.join(ROOT, 'models', 'reference-bert-mini');
const TEXT = 'The cat sat on the mat.';

/** A lens folder for the reference model; translator i = I + scale·noise, bias = scale·noise. */
function writeLens(dir: string, engine: ProbeEngine, scale: number, hash = modelHash(engine.checkpoint.weights.files)): void {
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
    format: LENS_FORMAT, model: { name: 'reference-bert-mini', hash, hiddenSize: H, numLayers: plan.length }, plan,
    corpus: { file: 'none', sha256: '', sentences: 0, trainSentences: 0, heldoutSentences: 0, heldoutPositions: 0 },
    optimizer: {}, steps: 0, heldout: { before: figures, after: figures },
  }));
}

describe('tuned lens in the graph (reference model)', function () {
  this.timeout(300_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'll-lens-'));
  let engine: ProbeEngine;
  before(() => {
    engine = ProbeEngine.load(MODEL, { threads: 1 });
  });
  after(async () => engine.dispose());

  it('identity translators give the raw probe exactly', async () => {
    writeLens(path.join(dir, 'identity'), engine, 0);
    const raw = await engine.probe([{ text: TEXT }]);
    const tuned = await engine.probe([{ text: TEXT }], { lens: loadTunedLens(path.join(dir, 'identity'), engine.checkpoint) });
    assert.deepEqual(tuned.sentences[0].layers.map((l) => Array.from(l.inputLogProb)), raw.sentences[0].layers.map((l) => Array.from(l.inputLogProb)));
    assert.deepEqual(tuned.summary.map((s) => s.accuracy), raw.summary.map((s) => s.accuracy));
  });

  it('random translators agree with torch applying them to HF hidden states (≤ 1e-4)', async () => {
    assert.ok(hasHfPython(), `the test Python (${TEST_PYTHON}) is required: run scripts/install-python.sh`);
    const lensDir = path.join(dir, 'random');
    writeLens(lensDir, engine, 0.02);
    const raw = await engine.probe([{ text: TEXT }]);
    const tuned = await engine.probe([{ text: TEXT }], { lens: loadTunedLens(lensDir, engine.checkpoint) });
    const s = tuned.sentences[0];
    const r = spawnSync(TEST_PYTHON, [path.join(ROOT, 'python/lens_apply_torch.py'), MODEL, lensDir, JSON.stringify(s.ids)], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const torchLogp = JSON.parse(r.stdout) as number[][];
    let worst = 0;
    let moved = 0;
    s.layers.forEach((l, i) => l.inputLogProb.forEach((v, p) => {
      worst = Math.max(worst, Math.abs(v - torchLogp[i][p]));
      moved = Math.max(moved, Math.abs(v - raw.sentences[0].layers[i].inputLogProb[p]));
    }));
    console.log(`      max |Δ log p| engine vs torch ${worst.toExponential(2)} over ${s.layers.length}×${s.ids.length}; the translators moved log p by up to ${moved.toFixed(3)}`);
    assert.ok(worst <= 1e-4, `engine and torch differ by ${worst}`);
    assert.ok(moved > 0.01, 'the random translators did not change the probe, so the check would prove nothing');
  });

  it('a lens of other weights is refused in one line naming its card', () => {
    const other = path.join(dir, 'other');
    writeLens(other, engine, 0, 'f'.repeat(64));
    assert.throws(() => loadTunedLens(other, engine.checkpoint), (e: unknown) => e instanceof UserError && /trained on other weights/.test(e.message) && !e.message.includes('\n'));
  });
});
