/**
 * EuroBERT against HF transformers itself: python/hf_eurobert.py builds tiny seeded random
 * EuroBertForMaskedLM models with HF (grouped-query attention, biases on and off, a tied and an
 * untied lm_head, a 1,100-word input) and a Llama-3-style tokenizer, and computes
 * lm_head(norm(h_i)) for every state with HF's own modules in float64. The engine must match to
 * 1e-4 in log-probability, with the same top-1 wherever HF's own top two are not near-tied. A
 * deepened model must load in HF with no missing or unexpected keys and compute the plan.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeDeepenedCheckpoint } from '../../../src/core/deepen/writer';
import { UserError } from '../../../src/core/errors';
import { eurobert } from '../../../src/core/families/eurobert';
import { ProbeEngine, ProbeInput } from '../../../src/core/probe/engine';
import { parameterEstimate } from '../../../src/extension/configHover';
import { compareWithHf, Expected } from '../helpers/hfLens';
import { skipBecause } from '../helpers/pending';
import { hasHfPython, ROOT, TEST_PYTHON } from '../helpers/python';
import { makeTempDir } from '../helpers/tinyBert';

const SCRIPT = path.join(ROOT, 'python', 'hf_eurobert.py');

describe('EuroBERT vs HF transformers (tiny random models built by HF)', function () {
  this.timeout(600_000);
  let dir = '';
  let expected: Expected | undefined;
  const figures: string[] = [];

  before(function () {
    if (!hasHfPython()) {
      if (process.env.CI) throw new Error(`CI needs ${TEST_PYTHON} with torch and transformers (scripts/install-python.sh)`);
      skipBecause(this, `${TEST_PYTHON} cannot import torch and transformers (scripts/install-python.sh)`);
    }
    dir = makeTempDir();
    const run = spawnSync(TEST_PYTHON, [SCRIPT, '--out', dir], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
    assert.equal(run.status, 0, `hf_eurobert.py failed:\n${run.stderr.slice(-3000)}`);
    expected = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')) as Expected;
  });
  after(() => {
    if (figures.length) console.log(`\n  EuroBERT vs HF ${expected?.transformers} (float64), max |Δ log-prob|:\n${figures.map((f) => `    ${f}`).join('\n')}`);
  });

  for (const name of ['eb-gqa', 'eb-bias-tied', 'eb-long']) {
    it(`${name}: every state, padded batch, pairs and plans, equal to HF`, async () => {
      const engine = ProbeEngine.load(path.join(dir, name), { threads: 1 });
      try {
        // The config.json hover's parameter count, from the architecture's shapes, equals HF's.
        assert.equal(parameterEstimate(engine.checkpoint.config).total, expected!.cases[name].num_parameters, 'parameters');
        for (const run of expected!.cases[name].runs) {
          const inputs: ProbeInput[] = run.sentences.map((s) => (s.pair ? { text: s.text, pair: s.pair } : { text: s.text }));
          const report = await engine.probe(inputs, { topK: 5, ...(run.plan ? { plan: run.plan } : {}) });
          const { maxDelta, positions, top1Checked } = compareWithHf(report, run, name);
          const longest = Math.max(...run.sentences.map((s) => s.ids.length));
          figures.push(
            `${maxDelta.toExponential(2)}  ${name}, plan ${run.plan ? `[${run.plan.join(', ')}]` : 'identity'}, ${positions} cells, ` +
              `top-1 equal at ${top1Checked}, longest input ${longest} tokens`,
          );
          assert.ok(positions > 40, `compared ${positions} cells`);
        }
      } finally {
        await engine.dispose();
      }
    });
  }

  it('eb-gqa: deepened along [0, 2, 1, 1], HF loads it with no missing or unexpected keys and it computes the plan', async () => {
    const src = path.join(dir, 'eb-gqa');
    const plan = [0, 2, 1, 1];
    const result = await writeDeepenedCheckpoint({ source: src, plan, target: path.join(makeTempDir(), 'deep') });
    const out = path.join(makeTempDir(), 'deep.json');
    const check = spawnSync(TEST_PYTHON, [SCRIPT, '--deepened', src, result.target, '--plan', plan.join(','), '--out', out], { encoding: 'utf8' });
    assert.equal(check.status, 0, `hf_eurobert.py --deepened failed:\n${check.stderr.slice(-3000)}`);
    const hf = JSON.parse(fs.readFileSync(out, 'utf8')) as Expected & { deep_vs_plan_max_delta: number };
    const engine = ProbeEngine.load(result.target, { threads: 1 });
    try {
      const run = hf.cases.deep.runs[0];
      const report = await engine.probe(run.sentences.map((s) => (s.pair ? { text: s.text, pair: s.pair } : { text: s.text })), { topK: 5 });
      const { maxDelta, positions } = compareWithHf(report, run, 'eb-gqa deepened');
      figures.push(`${maxDelta.toExponential(2)}  eb-gqa deepened to [0, 2, 1, 1] and reloaded by HF, ${positions} cells (HF: deepened vs plan by hand ${hf.deep_vs_plan_max_delta.toExponential(1)})`);
    } finally {
      await engine.dispose();
    }
  });

  it('documents every config.json field HF writes (for hovers)', () => {
    for (const name of ['eb-gqa', 'eb-bias-tied']) {
      const config = JSON.parse(fs.readFileSync(path.join(dir, name, 'config.json'), 'utf8')) as Record<string, unknown>;
      assert.deepEqual(Object.keys(config).filter((k) => !eurobert.fieldDocs?.[k]), [], name);
    }
  });

  it('a EuroBertModel checkpoint without lm_head is refused in one line that says so', () => {
    const src = path.join(dir, 'eb-gqa');
    const bare = makeTempDir();
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) fs.copyFileSync(path.join(src, f), path.join(bare, f));
    // Drop lm_head.weight from the safetensors file: rewrite the header without it.
    const buf = fs.readFileSync(path.join(src, 'model.safetensors'));
    const n = Number(buf.readBigUInt64LE(0));
    const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { data_offsets: [number, number] }>;
    delete header['lm_head.weight'];
    const text = Buffer.from(JSON.stringify(header), 'utf8');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(text.length));
    fs.writeFileSync(path.join(bare, 'model.safetensors'), Buffer.concat([len, text, buf.subarray(8 + n)]));
    assert.throws(() => ProbeEngine.load(bare, { threads: 1 }), (e: Error) => {
      assert.ok(e instanceof UserError, String(e));
      assert.match(e.message, /missing tensor "lm_head\.weight".*EuroBertForMaskedLM/);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
  });
});
