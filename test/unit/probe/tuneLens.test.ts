/**
 * `layer-lens tune-lens` end to end on the embedded reference model (issue 15): python/tune_lens.py
 * trains the translators, the card's held-out KL→final falls on every non-final layer, and
 * `probe --lens tuned:DIR` on the held-out sentences gives the card's figures again (the engine's
 * in-graph Gemm against torch's own evaluation: measured 3.4e-7 in mean KL, accuracy within one position).
 * A lens folder inside the model folder is refused in one line.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, TEST_PYTHON, hasHfPython } from '../helpers/python';

const CLI = path.join(ROOT, 'dist/cli.js');
const MODEL = path.join(ROOT, 'models', 'reference-bert-mini');

interface Card { steps: number; corpus: { heldoutPositions: number }; heldout: { before: { kl: number[]; accuracy: number[] }; after: { kl: number[]; accuracy: number[] } } }
interface Report { summary: Array<{ label: string; count: number; accuracy: number; meanKL: number }> }

function cli(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 600_000, env: { ...process.env, LAYER_LENS_PYTHON: TEST_PYTHON } });
}

describe('tune-lens (CLI, reference model)', function () {
  this.timeout(900_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'll-tune-lens-'));
  const corpus = path.join(dir, 'corpus.txt');
  const lens = path.join(dir, 'lens');
  const lines = fs.readFileSync(path.join(ROOT, 'data/heldout-sentences.txt'), 'utf8').split('\n').filter((l) => l.trim()).slice(0, 100);
  let card: Card;

  before(() => {
    assert.ok(hasHfPython(), `the test Python (${TEST_PYTHON}) is required: run scripts/install-python.sh`);
    fs.writeFileSync(corpus, lines.join('\n') + '\n');
    const r = cli(['tune-lens', MODEL, '--file', corpus, '--out', lens, '--steps', '30']);
    assert.equal(r.status, 0, r.stderr);
    card = JSON.parse(fs.readFileSync(path.join(lens, 'lens.json'), 'utf8')) as Card;
  });

  it('training lowers the held-out KL→final of every non-final layer', () => {
    const { before, after } = card.heldout;
    const L = before.kl.length - 1;
    console.log(`      held-out KL→final before → after (${card.steps} steps, ${card.corpus.heldoutPositions} positions): ${before.kl.slice(0, L).map((k, l) => `h${l} ${k.toFixed(3)} → ${after.kl[l].toFixed(3)}`).join(', ')}`);
    for (let l = 0; l < L; l++) assert.ok(after.kl[l] < before.kl[l], `h${l}: ${before.kl[l]} → ${after.kl[l]}`);
    assert.equal(after.kl[L], 0);
  });

  it('probe --lens tuned:DIR on the held-out sentences reproduces the card (engine vs torch)', () => {
    const heldout = path.join(dir, 'heldout.txt');
    fs.writeFileSync(heldout, lines.filter((_, i) => i % 5 === 4).join('\n') + '\n');
    const r = cli(['probe', '--file', heldout, '--lens', `tuned:${lens}`, '--json', path.join(dir, 'tuned.json')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^lens: tuned \(/m);
    const report = JSON.parse(fs.readFileSync(path.join(dir, 'tuned.json'), 'utf8')) as Report;
    assert.equal(report.summary[0].count, card.corpus.heldoutPositions);
    let worst = 0;
    report.summary.forEach((s, l) => {
      worst = Math.max(worst, Math.abs(s.meanKL - card.heldout.after.kl[l]));
      assert.ok(Math.abs(s.accuracy - card.heldout.after.accuracy[l]) <= 1 / s.count + 1e-12, `${s.label} accuracy ${s.accuracy} vs ${card.heldout.after.accuracy[l]}`);
    });
    console.log(`      engine vs torch on the held-out split: max |Δ mean KL| ${worst.toExponential(2)}`);
    assert.ok(worst <= 1e-4, `mean KL differs by ${worst}`);
  });

  it('refuses a lens folder inside the model folder, in one line', () => {
    const r = cli(['tune-lens', MODEL, '--file', corpus, '--out', path.join(MODEL, 'lens')]);
    assert.notEqual(r.status, 0);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /inside the model folder/);
    assert.ok(!fs.existsSync(path.join(MODEL, 'lens')));
  });
});
