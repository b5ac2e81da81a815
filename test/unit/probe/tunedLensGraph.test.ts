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
import { UserError } from '../../../src/core/errors';
import { loadTunedLens } from '../../../src/core/lens/tunedLens';
import { writeLens } from '../helpers/lensFolder';
import { ProbeEngine } from '../../../src/core/probe/engine';
import { ROOT, TEST_PYTHON, hasHfPython } from '../helpers/python';

const MODEL = path.join(ROOT, 'models', 'reference-bert-mini');
const TEXT = 'The cat sat on the mat.';

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
