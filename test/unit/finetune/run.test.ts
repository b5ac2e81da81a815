/**
 * A real, short run through the CLI: deepen a tiny checkpoint, fine-tune baseline and deepened
 * with the built-in torch backend on data/source-clf (2 seeds, an evaluation every 2 steps), read
 * all four results, compare.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TEST_PYTHON } from '../helpers/python';
import { runDeepenCommand } from '../../../src/cli/commands/deepen';
import { runFinetuneCommand } from '../../../src/cli/commands/finetune';
import { findResultFiles, formatComparison, parseResults, readResults, toPanelData } from '../../../src/core/finetune/results';
import { compareFinetune, finetuneTableModel } from '../../../src/shared/finetune';
import { makeTempDir, writeTinyBert } from '../helpers/tinyBert';
import { skipBecause } from '../helpers/pending';

const ROOT = path.resolve(__dirname, '../../../..');
const PYTHON = TEST_PYTHON;
const hasTorch = fs.existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch, numpy'], { stdio: 'ignore' }).status === 0;

describe('fine-tune run (torch backend)', () => {
  it('deepens, fine-tunes baseline and deepened for a few steps, and compares them', async function () {
    if (!hasTorch) skipBecause(this, `${PYTHON} cannot import torch and numpy (scripts/install-python.sh)`);
    const root = makeTempDir();
    const base = writeTinyBert(path.join(root, 'tiny base'), { layers: 2, seed: 21 });
    const log = console.log;
    const lines: string[] = [];
    console.log = (...a: unknown[]) => void lines.push(a.join(' '));
    try {
      assert.equal(await runDeepenCommand([base, '--plan', 'dup:1']), 0);
      const deep = path.join(root, 'tiny base-deep-0_1_1');
      assert.ok(fs.existsSync(path.join(deep, 'model.safetensors')));
      const out = path.join(root, 'runs');
      const code = await runFinetuneCommand([
        base, deep, `--data=${path.join(ROOT, 'data/source-clf/train.tsv')}`, '--out', out, '--python', PYTHON,
        '--max-steps', '3', '--max-length', '32', '--batch-size', '8', '--lr', '1e-4', '--backend', 'torch', '--seeds', '2', '--eval-steps', '2',
      ]);
      assert.equal(code, 0, lines.join('\n'));
      const files = findResultFiles(out);
      assert.deepEqual(files.map((f) => path.relative(out, f)), [
        path.join('tiny_base', 'seed-42', 'results.json'), path.join('tiny_base', 'seed-43', 'results.json'),
        path.join('tiny_base-deep-0_1_1', 'seed-42', 'results.json'), path.join('tiny_base-deep-0_1_1', 'seed-43', 'results.json'),
      ].sort());
      const results = files.map(readResults);
      for (const r of results) {
        assert.equal(r.status, 'done');
        assert.equal(r.backend, 'torch');
        assert.equal(r.final!.steps, 3);
        assert.ok(r.final!.accuracy! >= 0 && r.final!.accuracy! <= 1);
        assert.deepEqual(r.task.labels, ['bible', 'computing', 'dictionary', 'fortune']);
        assert.equal(r.task.train_size, 2000);
        assert.equal(r.task.eval_size, 400);
        assert.equal(r.hyperparameters.seed, r.seed);
        // --eval-steps 2 over 3 steps: one evaluation at step 2, one at the end.
        assert.deepEqual(r.epochs.map((e) => [e.step, e.at]), [[2, 'step'], [3, 'end']]);
      }
      // Another seed trains differently (the same seed would give the same numbers).
      const [a, b] = results.filter((r) => r.model_name === 'tiny base');
      assert.notEqual(a.final!.eval_loss, b.final!.eval_loss);
      const c = compareFinetune(toPanelData(out, results));
      const deepRow = c.groups.find((g) => g.role === 'deepened')!;
      assert.equal(deepRow.layers, 3);
      assert.equal(deepRow.plan, '0,1,1');
      assert.equal(c.groups.find((g) => g.role === 'baseline')!.layers, 2);
      assert.deepEqual(deepRow.delta.accuracy?.seeds, [42, 43]);
      assert.ok(deepRow.delta.accuracy?.ci, 'two paired seeds give an interval');
      const text = formatComparison(finetuneTableModel(toPanelData(out, results)));
      assert.match(text, /baseline/);
      assert.match(lines.join('\n'), /deepened/, 'the CLI printed the comparison table');
      assert.match(lines.join('\n'), /paired by seed over 2 seeds \(42, 43\)/, 'the CLI printed the paired verdict');
    } finally {
      console.log = log;
    }
  });
});

describe('fine-tune results', () => {
  const doc = (over: Record<string, unknown>) =>
    JSON.stringify({
      schema: 'layer-lens-finetune/1', status: 'done', backend: 'torch', model: '/m/base', model_name: 'base', num_layers: 4,
      layer_lens: null, task: { kind: 'data', name: 'train.tsv', path: '/d', eval: 'dev', labels: ['a', 'b'], train_size: 10, eval_size: 5 },
      hyperparameters: { lr: 2e-5, batch_size: 32, epochs: 3, max_length: 128, seed: 42, max_steps: 0 },
      epochs: [{ epoch: 1, step: 10, accuracy: 0.5 }], final: { epoch: 1, step: 10, accuracy: 0.5, steps: 10, train_seconds: 1 }, ...over,
    });

  it('rejects files that are not ours', () => {
    assert.throws(() => parseResults('{', 'x.json'), /x.json: results file is not valid JSON/);
    assert.throws(() => parseResults('{"schema":"other"}'), /not a Layer Lens fine-tuning results file/);
  });

  it('rejects result files whose fields have the wrong types (untrusted data)', () => {
    assert.throws(() => parseResults(doc({ epochs: [{ epoch: 1, step: 'ten', accuracy: 0.5 }] })), /epochs\[0\]\.step is not a step count/);
    assert.throws(() => parseResults(doc({ final: { epoch: 1, step: 10, accuracy: '50%' } })), /final\.accuracy is not a number/);
    assert.throws(() => parseResults(doc({ task: null })), /"task" has no name and kind/);
    assert.throws(() => parseResults(doc({ layer_lens: { plan: 3 } })), /"layer_lens" has no source and plan/);
  });

  it('finds the baseline through the deepened model provenance and computes Δ (one seed: no interval)', () => {
    const deep = parseResults(doc({ model: '/m/deep', model_name: 'deep', num_layers: 5, layer_lens: { source: '/m/base', plan: '0-3,3' },
      final: { epoch: 1, step: 10, accuracy: 0.625, f1_macro: 0.6, eval_loss: 0.7, steps: 10, train_seconds: 1 } }));
    const running = parseResults(doc({ model: '/m/other', model_name: 'other', status: 'running', final: null, epochs: [{ epoch: 0.5, step: 5, accuracy: 0.4 }] }));
    const base = parseResults(doc({}));
    const data = toPanelData('/m', [deep, running, base]);
    assert.deepEqual(data.runs.map((r) => [r.role, r.seed]), [['deepened', 42], ['model', 42], ['baseline', 42]]);
    const c = compareFinetune(data);
    assert.deepEqual(c.groups.map((g) => g.role), ['baseline', 'deepened', 'model']);
    assert.equal(c.groups[1].delta.accuracy?.mean, 0.125);
    assert.equal(c.groups[1].delta.accuracy?.verdict, 'one seed');
    assert.equal(c.groups[2].delta.accuracy, null, 'a running run has no finished pair');
    assert.equal(c.groups[2].stats.accuracy.mean, 0.4);
    assert.equal(c.groups[2].stats.accuracy.basis, 'latest');
    assert.deepEqual(data.warnings, []);
    const text = formatComparison(finetuneTableModel(data));
    assert.match(text, /deep\s+deepened\s+5\s+0-3,3\s+done\s+1\s+10\s+62\.5%\s+\+12\.5 pt · 1 seed: no interval/);
    assert.match(text, /paired by seed over 1 seed \(42\): \+12\.5 pt: 1 seed: no interval/);
  });
});
