/**
 * Sub-layer lens parity (issue 15): python/hf_sublayers.py reads the state after each layer's
 * attention block with HF forward hooks on HF's own modules (post-LN: the attention output
 * LayerNorm, DeBERTa-v2's included; ModernBERT and EuroBERT: the residual stream after attention) and applies the model's MLM head in
 * float64. The engine, probing with `sublayers`, must match those rows and, in the same run, the
 * h0..hL rows: max |Δ log-prob| ≤ 1e-4, the same top-1 outside near-ties (helpers/parity.ts), for
 * every family, plain and along a plan that repeats a layer.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadCheckpoint } from '../../../src/core/checkpoint/checkpoint';
import { EncodedText, ModelTokenizer } from '../../../src/core/checkpoint/tokenizer';
import { ProbeEngine } from '../../../src/core/probe/engine';
import { LayerCells, summaryRows } from '../../../src/core/probe/report';
import { LOGP_TOLERANCE, ParityStats } from '../helpers/parity';
import { hasHfPython, ROOT, TEST_PYTHON } from '../helpers/python';
import { makeTempDir } from '../helpers/tinyBert';
import { skipBecause } from '../helpers/pending';

const FAMILIES = ['bert', 'roberta', 'xlm-roberta', 'camembert', 'albert', 'distilbert', 'electra', 'modernbert', 'eurobert', 'deberta-v2'];

interface Facts {
  input_logp: number[];
  top_ids: number[][];
  top_logp: number[][];
  top1_gap: number[];
}
interface Example {
  name: string;
  ids: number[];
  type_ids: number[];
  hf_ids: number[];
  layers: Facts[];
  sublayers: Facts[];
}
interface Run {
  family: string;
  dir: string;
  plan: number[] | null;
  specials: number[];
  examples: Example[];
}

function idTokenizer(run: Run, file: string): ModelTokenizer {
  const specials = new Set(run.specials);
  const byName = new Map(run.examples.map((e) => [e.name, e]));
  return {
    file,
    encode(text: string, _pair?: string, maxLength?: number): EncodedText {
      const e = byName.get(text);
      if (!e) throw new Error(`no example "${text}"`);
      const cut = <T>(a: T[]) => (maxLength !== undefined && a.length > maxLength ? [...a.slice(0, maxLength - 1), a[a.length - 1]] : [...a]);
      const ids = cut(e.ids);
      return { ids, tokens: ids.map((id) => `#${id}`), typeIds: cut(e.type_ids), special: ids.map((id) => specials.has(id)) };
    },
    idToToken: (id: number) => `#${id}`,
    tokenToId: () => undefined,
  };
}

function compareRows(got: LayerCells[], want: Facts[], where: string, s: ParityStats): void {
  assert.equal(got.length, want.length, `${where}: rows`);
  want.forEach((w, l) => {
    w.input_logp.forEach((v, p) => {
      const at = `${where} row ${l} p${p}`;
      s.logp(at, got[l].inputLogProb[p], v, 'input log-prob');
      w.top_logp[p].forEach((tv, j) => s.logp(at, got[l].topKLogProbs[p][j], tv, `top-${j + 1} log-prob`));
      s.top1(at, got[l].top1[p], w.top_ids[p][0], w.top1_gap[p]);
    });
  });
}

describe('sub-layer lens: engine vs HF forward hooks (python/hf_sublayers.py)', function () {
  this.timeout(300_000);
  let out = '';
  let runs: Run[] = [];
  const lines: string[] = [];

  before(function () {
    if (!hasHfPython()) {
      assert.ok(!process.env.CI, `CI must run the sub-layer parity: ${TEST_PYTHON} cannot import torch and transformers`);
      skipBecause(this, `${TEST_PYTHON} has no torch/transformers (scripts/install-python.sh)`);
    }
    out = makeTempDir();
    const r = spawnSync(TEST_PYTHON, [path.join(ROOT, 'python', 'hf_sublayers.py'), '--out', out], {
      encoding: 'utf8',
      timeout: 240_000,
      env: { ...process.env, OMP_NUM_THREADS: '1', HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', TQDM_DISABLE: '1', TRANSFORMERS_VERBOSITY: 'error' },
    });
    assert.equal(r.status, 0, `python/hf_sublayers.py failed (${r.error ?? `exit ${r.status}`}):\n${r.stderr.slice(-4000)}`);
    runs = (JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { models: Run[] }).models;
  });

  after(function () {
    if (out) fs.rmSync(out, { recursive: true, force: true });
    if (lines.length) console.log(`\n  Sub-layer lens vs HF hooks (max |Δ log-prob|, top-1 agreement):\n${lines.map((l) => `    ${l}`).join('\n')}\n`);
  });

  it('covers every family, and the sub-layer states differ from the layer outputs', function () {
    assert.deepEqual([...new Set(runs.map((r) => r.family))].sort(), [...FAMILIES].sort());
    for (const r of runs) {
      const e = r.examples[0];
      const differs = e.sublayers.some((sub, l) => sub.top_ids.some((t, p) => t[0] !== e.layers[l + 1].top_ids[p][0] || Math.abs(sub.input_logp[p] - e.layers[l + 1].input_logp[p]) > 1e-3));
      assert.ok(differs, `${r.dir}: HF's after-attention rows equal the layer outputs, so they would prove nothing`);
    }
  });

  for (const family of FAMILIES) {
    it(`${family}: h·attn rows and h rows match HF, plain and along a plan`, async function () {
      const stats = new ParityStats();
      for (const dir of [...new Set(runs.filter((r) => r.family === family).map((r) => r.dir))]) {
        const here = runs.filter((r) => r.dir === dir);
        const checkpoint = loadCheckpoint(path.join(out, dir));
        const engine = ProbeEngine.fromCheckpoint({ ...checkpoint, tokenizer: idTokenizer(here[0], checkpoint.tokenizer.file) }, { threads: 1 });
        try {
          for (const run of here) {
            const report = await engine.probe(run.examples.map((e) => ({ text: e.name })), { topK: 5, sublayers: true, ...(run.plan ? { plan: run.plan } : {}) });
            const where = `${dir}${run.plan ? ` plan ${run.plan.join(',')}` : ''}`;
            run.examples.forEach((e, i) => {
              const s = report.sentences[i];
              assert.deepEqual(s.ids, e.hf_ids, `${where} ${e.name}: ids`);
              compareRows(s.sublayers!, e.sublayers, `${where} ${e.name} ·attn`, stats);
              compareRows(s.layers, e.layers, `${where} ${e.name}`, stats);
            });
            const labels = summaryRows(report).map((r) => r.label);
            const L = (run.plan ?? []).length || report.plan.length;
            assert.deepEqual(labels, ['h0', ...Array.from({ length: L }, (_, l) => [`h${l + 1}·attn`, `h${l + 1}`]).flat()], `${where}: row order`);
            assert.ok(report.sublayerSummary!.every((r) => r.sublayer === true) && report.summary.every((r) => r.sublayer === undefined));
          }
        } finally {
          await engine.dispose();
        }
      }
      lines.push(`${family.padEnd(12)} ${stats.summary()}`);
      assert.deepEqual(stats.failures, [], `${family}\n${stats.failures.join('\n')}`);
      assert.ok(stats.maxDelta <= LOGP_TOLERANCE && stats.cells > 0);
    });
  }
});
