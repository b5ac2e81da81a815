/**
 * A real, short run through the CLI: deepen a tiny checkpoint, fine-tune baseline and deepened
 * with the built-in torch backend on data/source-clf, read both results, compare.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TEST_PYTHON } from '../helpers/python';
import { runDeepenCommand } from '../../../src/cli/commands/deepen';
import { runFinetuneCommand } from '../../../src/cli/commands/finetune';
import { compareResults, findResultFiles, formatComparison, parseResults, readResults } from '../../../src/core/finetune/results';
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
        '--max-steps', '3', '--max-length', '32', '--batch-size', '8', '--lr', '1e-4', '--backend', 'torch',
      ]);
      assert.equal(code, 0, lines.join('\n'));
      const files = findResultFiles(out);
      assert.equal(files.length, 2);
      const results = files.map(readResults);
      for (const r of results) {
        assert.equal(r.status, 'done');
        assert.equal(r.backend, 'torch');
        assert.equal(r.final!.steps, 3);
        assert.ok(r.final!.accuracy! >= 0 && r.final!.accuracy! <= 1);
        assert.deepEqual(r.task.labels, ['bible', 'computing', 'dictionary', 'fortune']);
        assert.equal(r.task.train_size, 2000);
        assert.equal(r.task.eval_size, 400);
      }
      const table = compareResults(results);
      const deepRow = table.rows.find((r) => r.role === 'deepened')!;
      assert.equal(deepRow.layers, 3);
      assert.equal(deepRow.plan, '0,1,1');
      assert.equal(table.rows.find((r) => r.role === 'baseline')!.layers, 2);
      assert.ok(deepRow.deltaAccuracy !== null);
      const text = formatComparison(table);
      assert.match(text, /baseline/);
      assert.match(lines.join('\n'), /deepened/, 'the CLI printed the comparison table');
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

  it('finds the baseline through the deepened model provenance and computes Δ', () => {
    const deep = parseResults(doc({ model: '/m/deep', model_name: 'deep', num_layers: 5, layer_lens: { source: '/m/base', plan: '0-3,3' },
      final: { epoch: 1, step: 10, accuracy: 0.625, f1_macro: 0.6, eval_loss: 0.7, steps: 10, train_seconds: 1 } }));
    const running = parseResults(doc({ model: '/m/other', model_name: 'other', status: 'running', final: null, epochs: [{ epoch: 0.5, step: 5, accuracy: 0.4 }] }));
    const base = parseResults(doc({}));
    const t = compareResults([deep, running, base]);
    assert.deepEqual(t.rows.map((r) => r.role), ['deepened', 'model', 'baseline']);
    assert.equal(t.rows[0].deltaAccuracy, 0.125);
    assert.ok(Math.abs(t.rows[1].deltaAccuracy! + 0.1) < 1e-12);
    assert.equal(t.rows[1].status, 'running');
    assert.equal(t.rows[1].accuracy, 0.4);
    assert.deepEqual(t.warnings, []);
    const text = formatComparison(t);
    assert.match(text, /deep\s+deepened\s+5\s+0-3,3\s+done\s+10\s+62.5%\s+\+12.5/);
  });
});
