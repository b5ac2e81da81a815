/**
 * ModernBERT against HF transformers itself: python/hf_modern.py builds tiny seeded random
 * ModernBertForMaskedLM models with HF (save_pretrained), and computes head(final_norm(h_i)) for
 * every state with HF's own modules in float64, through the SDPA (padded) path, with padding,
 * pairs, local windows that matter, a 1,100-token input and layer plans (the layers ModuleList
 * rebuilt from the original modules). The engine must match to 1e-4 in log-probability, with the
 * same top-1 wherever HF's own top two are not near-tied.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ProbeEngine, ProbeInput } from '../../../src/core/probe/engine';
import { writeDeepenedCheckpoint } from '../../../src/core/deepen/writer';
import { UserError } from '../../../src/core/errors';
import { modernbert } from '../../../src/core/families/modernbert';
import { makeTempDir } from '../helpers/tinyBert';
import { hasHfPython, ROOT, TEST_PYTHON } from '../helpers/python';
import { skipBecause } from '../helpers/pending';
import { parameterEstimate } from '../../../src/extension/configHover';
import { compareWithHf, Expected } from '../helpers/hfLens';

/** Peak RSS bound for the 256k-vocabulary model, from the measured value (see the printed figure). */
const PEAK_RSS_MIB = 768;

export function generateModern(only?: string[]): { dir: string; expected: Expected } {
  const dir = makeTempDir();
  const args = [path.join(ROOT, 'python', 'hf_modern.py'), '--out', dir, ...(only ? ['--only', only.join(',')] : [])];
  const run = spawnSync(TEST_PYTHON, args, { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  assert.equal(run.status, 0, `hf_modern.py failed:\n${run.stderr.slice(-3000)}`);
  return { dir, expected: JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')) as Expected };
}

describe('ModernBERT vs HF transformers (tiny random models built by HF)', function () {
  this.timeout(600_000);
  let generated: { dir: string; expected: Expected } | undefined;
  const figures: string[] = [];

  before(function () {
    if (!hasHfPython()) {
      if (process.env.CI) throw new Error(`CI needs ${TEST_PYTHON} with torch and transformers (scripts/install-python.sh)`);
      skipBecause(this, `${TEST_PYTHON} cannot import torch and transformers (scripts/install-python.sh)`);
    }
    generated = generateModern();
  });
  after(() => {
    if (figures.length) console.log(`\n  ModernBERT vs HF ${generated?.expected.transformers} (float64), max |Δ log-prob|:\n${figures.map((f) => `    ${f}`).join('\n')}`);
  });

  for (const name of ['mb-256k', 'mb-3l-w4', 'mb-4l-bias', 'mb-long']) {
    it(`${name}: every state, padded batch, pairs and plans, equal to HF`, async () => {
      // Runs first, so the process's peak RSS is this model's: the 256k-token head is chunked by headPositions.
      const rssBefore = process.resourceUsage().maxRSS;
      const { dir, expected } = generated!;
      const want = expected.cases[name];
      const engine = ProbeEngine.load(path.join(dir, name), { threads: 1 });
      try {
        // The config.json hover's parameter count, from the architecture's shapes, equals HF's.
        assert.equal(parameterEstimate(engine.checkpoint.config).total, want.num_parameters, 'parameters');
        for (const run of want.runs) {
          const inputs: ProbeInput[] = run.sentences.map((s) => (s.pair ? { text: s.text, pair: s.pair } : { text: s.text }));
          const started = Date.now();
          const report = await engine.probe(inputs, { topK: 5, ...(run.plan ? { plan: run.plan } : {}) });
          const ms = Date.now() - started;
          const { maxDelta, positions, top1Checked } = compareWithHf(report, run, name);
          const longest = Math.max(...run.sentences.map((s) => s.ids.length));
          figures.push(
            `${maxDelta.toExponential(2)}  ${name}, plan ${run.plan ? `[${run.plan.join(', ')}]` : 'identity'}, ${positions} cells, ` +
              `top-1 equal at ${top1Checked}, longest input ${longest} tokens, ${ms} ms`,
          );
          assert.ok(positions > 40, `compared ${positions} cells`);
        }
        if (name === 'mb-256k') {
          const peak = process.resourceUsage().maxRSS;
          figures.push(`peak RSS ${(peak / 1024).toFixed(0)} MiB (before loading ${(rssBefore / 1024).toFixed(0)} MiB), vocab ${engine.checkpoint.config.vocabSize}`);
          // Measured 465 MiB (66 MiB before loading); 16 positions per head run keep each [rows × 256k] buffer near 48 MiB.
          assert.ok(peak / 1024 < PEAK_RSS_MIB, `peak RSS ${(peak / 1024).toFixed(0)} MiB`);
        }
      } finally {
        await engine.dispose();
      }
    });
  }
  // Deepening: layer_types follows the plan (HF's default pattern would turn copied local layers
  // global), and the float literals of config.json survive (HF's strict config refuses 2 for 2.0).
  for (const [name, plan] of [['mb-3l-w4', [0, 2, 1, 1]], ['mb-4l-bias', [0, 1, 1, 3, 2]]] as const) {
    it(`${name}: deepened along [${plan.join(', ')}], HF loads it with no missing or unexpected keys and it computes the plan`, async () => {
      const src = path.join(generated!.dir, name);
      const result = await writeDeepenedCheckpoint({ source: src, plan: [...plan], target: path.join(makeTempDir(), 'deep') });
      const out = path.join(makeTempDir(), 'deep.json');
      const check = spawnSync(TEST_PYTHON, [path.join(ROOT, 'python', 'hf_modern.py'), '--deepened', src, result.target, '--plan', plan.join(','), '--out', out], { encoding: 'utf8' });
      assert.equal(check.status, 0, `hf_modern.py --deepened failed:\n${check.stderr.slice(-3000)}`);
      const hf = JSON.parse(fs.readFileSync(out, 'utf8')) as Expected & { deep_vs_plan_max_delta: number };
      const srcTypes = generated!.expected.cases[name].layer_types;
      assert.deepEqual(hf.cases.deep.layer_types, plan.map((j) => srcTypes[j]), 'HF reads each copied layer\'s attention kind');
      const cfgText = fs.readFileSync(path.join(result.target, 'config.json'), 'utf8');
      assert.match(cfgText, /"initializer_cutoff_factor": 2\.0/, 'float literal kept');
      // The written model, probed as it is, against HF's outputs of the written model.
      const engine = ProbeEngine.load(result.target, { threads: 1 });
      try {
        const run = hf.cases.deep.runs[0];
        const report = await engine.probe(run.sentences.map((s) => (s.pair ? { text: s.text, pair: s.pair } : { text: s.text })), { topK: 5 });
        const { maxDelta, positions } = compareWithHf(report, run, `${name} deepened`);
        figures.push(`${maxDelta.toExponential(2)}  ${name} deepened to [${plan.join(', ')}] and reloaded by HF, ${positions} cells (HF: deepened vs plan by hand ${hf.deep_vs_plan_max_delta.toExponential(1)})`);
      } finally {
        await engine.dispose();
      }
    });
  }

  it('documents every config.json field HF writes, the deepened one included (for hovers)', async () => {
    const src = path.join(generated!.dir, 'mb-4l-bias');
    const deep = await writeDeepenedCheckpoint({ source: src, plan: [0, 1], target: path.join(makeTempDir(), 'deep') });
    for (const dir of [src, deep.target]) {
      const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
      assert.deepEqual(Object.keys(config).filter((k) => !modernbert.fieldDocs?.[k] && k !== 'layer_lens'), [], dir);
    }
  });

  it('refuses a plan that moves layer 0 (its attn_norm is an identity only at index 0), in one line', async () => {
    const src = path.join(generated!.dir, 'mb-3l-w4');
    for (const plan of [[1, 0, 2], [0, 0, 1, 2]]) {
      await assert.rejects(writeDeepenedCheckpoint({ source: src, plan, target: path.join(makeTempDir(), 'deep') }), (e: Error) => {
        assert.ok(e instanceof UserError, String(e));
        assert.match(e.message, /^.*plan entry \d: source layer \d has (no|an) attention norm, but HF would build layer \d (with|without) one; .*start with layer 0/);
        assert.ok(!e.message.includes('\n'), 'one line');
        return true;
      });
    }
  });
});
