/**
 * python/finetune.py's transformers backend, with the project venv's transformers: a .bin-only model
 * is refused in one line before any pickle is loaded, and scripts/check-transformers-backend.sh
 * (loading a deepened checkpoint with HF's BERT classes, exact logits against the in-memory plan, a
 * short fine-tune of both) passes its own assertions on a tiny BERT and its deepened copy.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { skipBecause } from '../helpers/pending';
import { hasHfPython, ROOT, TEST_PYTHON } from '../helpers/python';
import { makeTempDir, writeTinyBert } from '../helpers/tinyBert';

const HF_ENV = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', TQDM_DISABLE: '1' };

describe('fine-tune: transformers backend', function () {
  this.timeout(300_000);
  before(function () {
    if (!hasHfPython()) {
      assert.ok(!process.env.CI, `CI must run the transformers backend checks: ${TEST_PYTHON} cannot import torch and transformers`);
      skipBecause(this, `${TEST_PYTHON} cannot import torch and transformers (scripts/install-python.sh)`);
    }
  });

  it('a .bin-only model is refused in one line, and its pickle never runs', () => {
    const root = makeTempDir();
    const model = path.join(root, 'bin-only');
    const tiny = writeTinyBert(path.join(root, 'tiny'), { layers: 1 });
    fs.mkdirSync(model);
    for (const f of ['config.json', 'vocab.txt', 'tokenizer_config.json']) fs.copyFileSync(path.join(tiny, f), path.join(model, f));
    // A legacy torch.save file is a bare pickle; this one calls os.system when unpickled.
    const marker = path.join(root, 'pickle-ran');
    fs.writeFileSync(path.join(model, 'pytorch_model.bin'), `cos\nsystem\n(S'touch ${marker}'\ntR.`, 'latin1');
    const r = spawnSync(
      TEST_PYTHON,
      [path.join(ROOT, 'python', 'finetune.py'), `--model=${model}`, `--data=${path.join(ROOT, 'data/source-clf/train.tsv')}`, `--out=${path.join(root, 'runs')}`, '--backend', 'transformers', '--max-steps', '1', '--seeds', '1'],
      { encoding: 'utf8', env: HF_ENV, timeout: 120_000 },
    );
    assert.equal(r.status, 1, `exit ${r.status}:\n${r.stdout}\n${r.stderr}`);
    assert.equal(r.stderr.trim(), `finetune.py: ${model}: no model.safetensors; it has only pytorch_model.bin, and the transformers backend never loads pickled weights (torch.load can run code); convert it to safetensors first`);
    assert.ok(!fs.existsSync(marker), 'the pickle in pytorch_model.bin was executed');
    const results = JSON.parse(fs.readFileSync(path.join(root, 'runs', 'bin-only', 'seed-42', 'results.json'), 'utf8'));
    assert.equal(results.status, 'failed');
    assert.match(results.error, /never loads pickled weights/);
  });

  it('scripts/check-transformers-backend.sh passes on a tiny BERT and its deepened copy', () => {
    const root = makeTempDir();
    const base = writeTinyBert(path.join(root, 'tiny'), { layers: 2, seed: 5 });
    const d = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'deepen', base, '--plan', 'dup:1'], { encoding: 'utf8' });
    assert.equal(d.status, 0, d.stderr);
    const deep = path.join(root, 'tiny-deep-0_1_1');
    const r = spawnSync('bash', [path.join(ROOT, 'scripts', 'check-transformers-backend.sh'), base, deep, '0,1,1', path.join(root, 'runs')], {
      encoding: 'utf8',
      env: { ...HF_ENV, PYTHON: TEST_PYTHON, STEPS: '3' },
      timeout: 240_000,
    });
    assert.equal(r.status, 0, `check-transformers-backend.sh failed (exit ${r.status}):\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
    assert.match(r.stdout, /deepened vs in-memory plan: max \|logit diff\| = 0\.0\n/);
    assert.match(r.stdout, /check-transformers-backend: all checks passed/);
  });
});
