/**
 * DeBERTa-v2/v3 against HF transformers itself: python/hf_deberta.py builds tiny seeded random
 * DebertaV2ForMaskedLM models with HF (log buckets or plain clamped distances, c2p + p2c or c2p
 * alone, shared or own position projections, normed or raw rel_embeddings, with and without
 * absolute positions, the lm_predictions and the legacy cls.predictions head) and computes the
 * head on every state of output_hidden_states in float64. The engine must match to 1e-4 in
 * log-probability, with the same top-1 wherever HF's own top two are not near-tied; the bucket of
 * every distance must equal HF's make_log_bucket_position; a deepened model must load in HF and
 * compute the plan; a checkpoint without an MLM head (a v3 discriminator) is refused in one line.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { normalizeConfig } from '../../../src/core/checkpoint/config';
import { writeDeepenedCheckpoint } from '../../../src/core/deepen/writer';
import { UserError } from '../../../src/core/errors';
import { deberta } from '../../../src/core/families/deberta';
import { relativeBucket } from '../../../src/core/families/relativePositions';
import { ProbeEngine, ProbeInput } from '../../../src/core/probe/engine';
import { parameterEstimate } from '../../../src/extension/configHover';
import { compareWithHf, Expected } from '../helpers/hfLens';
import { skipBecause } from '../helpers/pending';
import { hasHfPython, ROOT, TEST_PYTHON } from '../helpers/python';
import { makeTempDir } from '../helpers/tinyBert';
import { compareWithReference } from '../probe/engineVsReference.test';

const SCRIPT = path.join(ROOT, 'python', 'hf_deberta.py');
const CASES = ['db-v3', 'db-v2-legacy', 'db-c2p'];

type DebertaExpected = Expected & { cases: Record<string, { buckets: number[] }> };

describe('DeBERTa-v2 vs HF transformers (tiny random models built by HF)', function () {
  this.timeout(600_000);
  let dir = '';
  let expected: DebertaExpected | undefined;
  const figures: string[] = [];

  before(function () {
    if (!hasHfPython()) {
      if (process.env.CI) throw new Error(`CI needs ${TEST_PYTHON} with torch and transformers (scripts/install-python.sh)`);
      skipBecause(this, `${TEST_PYTHON} cannot import torch and transformers (scripts/install-python.sh)`);
    }
    dir = makeTempDir();
    const run = spawnSync(TEST_PYTHON, [SCRIPT, '--out', dir], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
    assert.equal(run.status, 0, `hf_deberta.py failed:\n${run.stderr.slice(-3000)}`);
    expected = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')) as DebertaExpected;
  });
  after(() => {
    if (figures.length) console.log(`\n  DeBERTa-v2 vs HF ${expected?.transformers} (float64), max |Δ log-prob|:\n${figures.map((f) => `    ${f}`).join('\n')}`);
  });

  it('buckets every relative distance as HF does (make_log_bucket_position, float32)', () => {
    for (const name of CASES) {
      const raw = JSON.parse(fs.readFileSync(path.join(dir, name, 'config.json'), 'utf8')) as Record<string, unknown>;
      const p = normalizeConfig(raw).architecture.positions;
      assert.equal(p.kind, 'disentangled');
      if (p.kind !== 'disentangled') return;
      const want = expected!.cases[name].buckets;
      const n = (want.length + 1) / 2;
      const got = want.map((_, k) => relativeBucket(k - (n - 1), p.buckets, p.maxRelative));
      assert.deepEqual(got, want, name);
      figures.push(`${name}: ${want.length} distances bucketed as HF (${new Set(want).size} distinct buckets)`);
    }
  });

  for (const name of CASES) {
    it(`${name}: every state, padded batch, pairs and plans, equal to HF and to the f64 reference`, async () => {
      const engine = ProbeEngine.load(path.join(dir, name), { threads: 1 });
      try {
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
        // The TypeScript float64 reference pass computes the disentangled terms on its own.
        const ref = compareWithReference(engine, await engine.probe([{ text: 'the cat sat on the mat' }, { text: 'a dog ran', pair: 'it was red' }], { topK: 5 }));
        figures.push(`${ref.maxDelta.toExponential(2)}  ${name} vs the TypeScript float64 reference, ${ref.positions} cells`);
      } finally {
        await engine.dispose();
      }
    });
  }

  it('db-v3: deepened along [0, 2, 1, 1], HF loads it with no missing or unexpected keys and it computes the plan', async () => {
    const src = path.join(dir, 'db-v3');
    const plan = [0, 2, 1, 1];
    const result = await writeDeepenedCheckpoint({ source: src, plan, target: path.join(makeTempDir(), 'deep') });
    const out = path.join(makeTempDir(), 'deep.json');
    const check = spawnSync(TEST_PYTHON, [SCRIPT, '--deepened', src, result.target, '--plan', plan.join(','), '--out', out], { encoding: 'utf8' });
    assert.equal(check.status, 0, `hf_deberta.py --deepened failed:\n${check.stderr.slice(-3000)}`);
    const hf = JSON.parse(fs.readFileSync(out, 'utf8')) as Expected & { deep_vs_plan_max_delta: number };
    const engine = ProbeEngine.load(result.target, { threads: 1 });
    try {
      const run = hf.cases.deep.runs[0];
      const report = await engine.probe(run.sentences.map((s) => (s.pair ? { text: s.text, pair: s.pair } : { text: s.text })), { topK: 5 });
      const { maxDelta, positions } = compareWithHf(report, run, 'db-v3 deepened');
      figures.push(`${maxDelta.toExponential(2)}  db-v3 deepened to [0, 2, 1, 1] and reloaded by HF, ${positions} cells (HF: deepened vs plan by hand ${hf.deep_vs_plan_max_delta.toExponential(1)})`);
    } finally {
      await engine.dispose();
    }
  });

  it('documents every config.json field HF writes (for hovers)', () => {
    for (const name of CASES) {
      const config = JSON.parse(fs.readFileSync(path.join(dir, name, 'config.json'), 'utf8')) as Record<string, unknown>;
      assert.deepEqual(Object.keys(config).filter((k) => !deberta.fieldDocs?.[k]), [], name);
    }
  });

  it('a checkpoint without the MLM head (a v3 discriminator) is refused in one line that says why', () => {
    const src = path.join(dir, 'db-v3');
    const bare = makeTempDir();
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) fs.copyFileSync(path.join(src, f), path.join(bare, f));
    const buf = fs.readFileSync(path.join(src, 'model.safetensors'));
    const n = Number(buf.readBigUInt64LE(0));
    const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>;
    for (const k of Object.keys(header)) if (k.startsWith('lm_predictions.')) delete header[k];
    const text = Buffer.from(JSON.stringify(header), 'utf8');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(text.length));
    fs.writeFileSync(path.join(bare, 'model.safetensors'), Buffer.concat([len, text, buf.subarray(8 + n)]));
    assert.throws(() => ProbeEngine.load(bare, { threads: 1 }), (e: Error) => {
      assert.ok(e instanceof UserError, String(e));
      assert.match(e.message, /missing tensor "lm_predictions\.lm_head\.dense\.weight".*discriminators with no masked-LM head/);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
  });

  it('refuses what it does not compute, in one line: the xlarge convolution, token types, p2p', () => {
    const base = JSON.parse(fs.readFileSync(path.join(dir, 'db-v3', 'config.json'), 'utf8')) as Record<string, unknown>;
    for (const [patch, why] of [
      [{ conv_kernel_size: 3 }, /conv_kernel_size is 3: the convolution after layer 0/],
      [{ type_vocab_size: 2 }, /type_vocab_size is 2/],
      [{ pos_att_type: 'p2c|c2p|p2p' }, /pos_att_type holds "p2p"/],
    ] as const) {
      assert.throws(() => normalizeConfig({ ...base, ...patch }), (e: Error) => e instanceof UserError && why.test(e.message) && !e.message.includes('\n'));
    }
  });
});
