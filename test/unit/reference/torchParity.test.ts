/**
 * The engine on the shipped reference checkpoint against an independent PyTorch forward pass
 * (python/bert_torch.py, the trainer's own model code, in float64). CI installs Debian's torch;
 * where torch is missing, committed golden outputs stand in — and the test says so out loud.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LOGP_TOLERANCE, ParityStats } from '../helpers/parity';
import { TEST_PYTHON } from '../helpers/python';
import { ProbeEngine, ProbeInput } from '../../../src/core/probe/engine';
import { parseSentences } from '../../../src/core/probe/inputs';
import { ProbeReport } from '../../../src/core/probe/report';
import { makeTempDir } from '../helpers/tinyBert';

const ROOT = path.resolve(__dirname, '../../../..');
const MODEL = path.join(ROOT, 'models', 'reference-bert-mini');
const GOLDEN = path.join(ROOT, 'test', 'fixtures', 'reference-parity', 'expected.json');
const PYTHON = TEST_PYTHON;
const SENTENCES = 60;

interface Expected {
  layers: number[][][];
  top1: number[][][];
  top1_logprob: number[][][];
  /** Best minus second-best log-prob (absent from the committed golden outputs: no near-tie allowed there). */
  top1_gap?: number[][][];
}

function hasTorch(): boolean {
  return spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
}

function inputs(): ProbeInput[] {
  const held = parseSentences(fs.readFileSync(path.join(ROOT, 'data', 'heldout-sentences.txt'), 'utf8')).slice(0, SENTENCES - 1);
  return [...held, { text: 'The lord is my shepherd.', pair: 'A program that copies files.' }];
}

function torchExpected(report: ProbeReport, engine: ProbeEngine): Expected {
  const dir = makeTempDir();
  const ids = report.sentences.map((s) => ({
    input_ids: s.ids,
    token_type_ids: engine.checkpoint.tokenizer.encode(s.text, s.pair).typeIds,
    attention_mask: s.ids.map(() => 1),
  }));
  fs.writeFileSync(path.join(dir, 'ids.json'), JSON.stringify(ids));
  const r = spawnSync(
    PYTHON,
    [path.join(ROOT, 'python', 'check_engine_parity.py'), '--model', MODEL, '--ids', path.join(dir, 'ids.json'), '--out', path.join(dir, 'expected.json')],
    { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' } },
  );
  assert.equal(r.status, 0, `check_engine_parity.py failed:\n${r.stderr}`);
  const expected = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8'));
  if (process.env.LAYER_LENS_WRITE_GOLDEN) {
    fs.writeFileSync(GOLDEN, JSON.stringify({ note: 'python/check_engine_parity.py on models/reference-bert-mini; regenerate with LAYER_LENS_WRITE_GOLDEN=1 npx mocha', inputs: ids, layers: expected.layers, top1: expected.top1, top1_logprob: expected.top1_logprob }));
  }
  return expected;
}

describe('reference checkpoint: engine vs independent PyTorch forward pass', function () {
  this.timeout(300_000);

  it(`agrees on ${SENTENCES} held-out sentences: max |Δ log-prob| ≤ 1e-4, the same top-1 outside near-ties`, async function () {
    assert.ok(fs.existsSync(path.join(MODEL, 'model.safetensors')), `${MODEL}/model.safetensors is missing: train it (python/README.md)`);
    const engine = ProbeEngine.load(MODEL, { threads: 2 });
    try {
      const report = await engine.probe(inputs(), { includeSpecial: true });
      let expected: Expected;
      if (hasTorch()) {
        expected = torchExpected(report, engine);
      } else {
        assert.ok(!process.env.CI, 'CI must have torch (scripts/install-python.sh builds .cache/venv)');
        console.warn('\n    !!! torch is NOT installed: comparing against COMMITTED golden outputs (test/fixtures/reference-parity), not a live PyTorch run !!!\n');
        expected = JSON.parse(fs.readFileSync(GOLDEN, 'utf8'));
      }
      const stats = new ParityStats();
      report.sentences.forEach((s, i) => {
        s.layers.forEach((cells, l) => {
          cells.inputLogProb.forEach((v, p) => {
            const at = `sentence ${i + 1} h${l} position ${p}`;
            stats.logp(at, v, expected.layers[i][l][p], 'input log-prob');
            stats.logp(at, cells.topKLogProbs[p][0], expected.top1_logprob[i][l][p], 'top-1 log-prob');
            stats.top1(at, cells.top1[p], expected.top1[i][l][p], expected.top1_gap?.[i][l][p]);
          });
        });
      });
      console.log(`      ${stats.summary()}`);
      assert.ok(stats.cells > 500, `compared ${stats.cells}`);
      assert.deepEqual(stats.failures, [], `engine vs PyTorch:\n${stats.failures.join('\n')}`);
      assert.ok(stats.maxDelta <= LOGP_TOLERANCE, `max |Δ log-prob| = ${stats.maxDelta}`);
    } finally {
      await engine.dispose();
    }
  });
});
