/**
 * Live HF parity (issue 10), the primary numeric check: python/hf_live.py builds tiny seeded
 * random models with HF's own *ForMaskedLM classes (two shapes per family), saves each with
 * save_pretrained as safetensors F32, F16, BF16 and sharded, as pytorch_model.bin, and as a real
 * torch.onnx.export, and computes in float64 the model's own MLM head on every hidden state.
 * Every saved folder is then loaded by our loader (locate, weights, resolve) and probed by the
 * engine on the same token ids (padding, a sentence pair, an input past max_position_embeddings
 * that the engine must truncate, and a layer plan with duplicated layers), and must match:
 * max |Δ log-prob| ≤ 1e-4 (input token and top-k), the same top-1 outside near-ties
 * (HF's own top-1/top-2 gap < 1e-5, counted and printed).
 *
 * To add a family: a BUILDERS entry in python/hf_live.py and its name in FAMILIES below.
 * In CI (process.env.CI) a missing Python/transformers fails the test instead of skipping it.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadCheckpoint } from '../../../src/core/checkpoint/checkpoint';
import { EncodedText, ModelTokenizer } from '../../../src/core/checkpoint/tokenizer';
import { ProbeEngine } from '../../../src/core/probe/engine';
import { ProbedSentence } from '../../../src/core/probe/report';
import { LOGP_TOLERANCE, ParityStats } from '../helpers/parity';
import { hasHfPython, ROOT, TEST_PYTHON } from '../helpers/python';
import { makeTempDir } from '../helpers/tinyBert';
import { skipBecause } from '../helpers/pending';

/** One line per family python/hf_live.py builds (its BUILDERS keys). */
const FAMILIES = ['bert', 'roberta', 'xlm-roberta', 'camembert', 'albert', 'distilbert', 'electra'];
/** Formats every family is saved in (python/hf_live.py FORMATS, plus the ONNX export). */
const FORMATS = ['f32', 'f16', 'bf16', 'sharded', 'bin', 'onnx'];

/**
 * Real exports our ONNX reader cannot read yet, with the error it gives (owned by
 * src/core/checkpoint/onnx/onnxWeights.ts). torch.onnx.export names the tied word-embedding /
 * decoder tensor of XLM-R and CamemBERT "lm_head.decoder.weight" (RoBERTa's: the embedding's
 * name); the reader maps that initializer by its state-dict name first and then skips it at the
 * word_embeddings Gather (`!mapped.has(t.name)`), so the embedding is missing. The test checks the
 * error still happens: once the reader is fixed it fails here, and the entry goes.
 */
const KNOWN_ONNX_READER_BUGS: Record<string, RegExp> = {};

interface LiveLayer {
  input_logp: number[];
  top_ids: number[][];
  top_logp: number[][];
  top1_gap: number[];
}
interface LiveExample {
  name: string;
  ids: number[];
  type_ids: number[];
  hf_ids: number[];
  layers: LiveLayer[];
}
interface LiveModel {
  family: string;
  shape: number;
  format: string;
  dir: string;
  plan: number[] | null;
  model_type: string;
  specials: number[];
  examples: LiveExample[];
}
interface LiveManifest {
  format: string;
  transformers_version: string;
  torch_version: string;
  top_k: number;
  models: LiveModel[];
  onnx_errors: string[];
  seconds: number;
}

/** Hands the engine the exact ids HF ran (tokenization has its own parity tests). */
function idTokenizer(run: LiveModel, file: string): ModelTokenizer {
  const specials = new Set(run.specials);
  const byName = new Map(run.examples.map((e) => [e.name, e]));
  return {
    file,
    encode(text: string, _pair?: string, maxLength?: number): EncodedText {
      const e = byName.get(text);
      if (!e) throw new Error(`no live example "${text}"`);
      // A single sequence cut as HF's truncation=True, max_length does: its text shortened, [CLS]/[SEP] kept.
      const cut = <T>(a: T[]) => (maxLength !== undefined && a.length > maxLength ? [...a.slice(0, maxLength - 1), a[a.length - 1]] : [...a]);
      const ids = cut(e.ids);
      return { ids, tokens: ids.map((id) => `#${id}`), typeIds: cut(e.type_ids), special: ids.map((id) => specials.has(id)) };
    },
    idToToken: (id: number) => `#${id}`,
    tokenToId: () => undefined,
  };
}

function compare(got: ProbedSentence, want: LiveExample, where: string, s: ParityStats): void {
  assert.deepEqual(got.ids, want.hf_ids, `${where} example ${want.name}: the engine's (truncated) ids are HF's`);
  if (want.ids.length !== want.hf_ids.length) assert.equal(got.truncatedFrom, want.ids.length, `${where} example ${want.name}: truncation reported`);
  assert.equal(got.layers.length, want.layers.length, `${where} example ${want.name}: h0..hL`);
  want.layers.forEach((w, l) => {
    const g = got.layers[l];
    w.input_logp.forEach((v, p) => {
      const at = `${where} ${want.name} h${l} p${p}`;
      s.logp(at, g.inputLogProb[p], v, 'input log-prob');
      w.top_logp[p].forEach((tv, j) => s.logp(at, g.topKLogProbs[p][j], tv, `top-${j + 1} log-prob`));
      s.top1(at, g.top1[p], w.top_ids[p][0], w.top1_gap[p]);
    });
  });
}

describe('live HF transformers parity (python/hf_live.py)', function () {
  this.timeout(300_000);
  let out = '';
  let manifest: LiveManifest | undefined;
  const rows: string[] = [];
  const all = new ParityStats();

  before(function () {
    if (!hasHfPython()) {
      assert.ok(!process.env.CI, `CI must run the live HF parity: ${TEST_PYTHON} cannot import torch and transformers (scripts/install-python.sh)`);
      console.warn(`\n    !!! ${TEST_PYTHON} has no torch/transformers: live HF parity NOT run (scripts/install-python.sh) !!!\n`);
      skipBecause(this, `${TEST_PYTHON} has no torch/transformers (scripts/install-python.sh)`);
    }
    out = makeTempDir();
    const started = Date.now();
    const r = spawnSync(TEST_PYTHON, [path.join(ROOT, 'python', 'hf_live.py'), '--out', out, '--onnx'], {
      encoding: 'utf8',
      timeout: 240_000,
      env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', TQDM_DISABLE: '1', TRANSFORMERS_VERBOSITY: 'error' },
    });
    assert.equal(r.status, 0, `python/hf_live.py failed (${r.error ?? `exit ${r.status}`}):\n${r.stderr.slice(-4000)}`);
    manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as LiveManifest;
    console.log(`      hf_live.py: transformers ${manifest.transformers_version}, torch ${manifest.torch_version}: ${manifest.models.length} model runs in ${((Date.now() - started) / 1000).toFixed(1)} s (${manifest.seconds} s inside Python)`);
  });

  after(function () {
    if (out) fs.rmSync(out, { recursive: true, force: true });
    if (rows.length === 0) return;
    console.log(`\n  Live HF parity, per family and format (max |Δ log-prob| over input token + top-${manifest?.top_k}; top-1 agreement):`);
    console.log(`    ${'family'.padEnd(12)} ${'format'.padEnd(8)} ${'max |Δ|'.padEnd(9)} ${'top-1'.padEnd(18)} near-ties`);
    for (const r of rows) console.log(`    ${r}`);
    console.log(`    all: ${all.summary()}\n`);
  });

  it('builds every family in every format, ONNX exports included', function () {
    assert.ok(manifest);
    assert.deepEqual(manifest.onnx_errors, [], 'torch.onnx.export failed');
    for (const family of FAMILIES) {
      for (const format of FORMATS) {
        const runs = manifest.models.filter((m) => m.family === family && m.format === format);
        assert.ok(runs.length >= 2, `${family} ${format}: ${runs.length} runs`);
        assert.ok(new Set(runs.map((m) => m.shape)).size >= 2, `${family} ${format}: at least two shapes`);
      }
    }
    const extra = [...new Set(manifest.models.map((m) => m.family))].filter((f) => !FAMILIES.includes(f));
    assert.deepEqual(extra, [], 'families python/hf_live.py builds that this test does not list');
    // Near-uniform outputs would prove little: HF's own layers must disagree somewhere.
    for (const m of manifest.models) {
      const firstTop = m.examples[0].layers[0].top_ids.map((t) => t[0]);
      const lastTop = m.examples[0].layers[m.examples[0].layers.length - 1].top_ids.map((t) => t[0]);
      assert.ok(
        m.examples.some((e) => e.layers[0].top1_gap.some((g) => g > 0.5)) && firstTop.some((t, p) => t !== lastTop[p]),
        `${m.dir}: HF's outputs are too flat or identical across layers to prove anything`,
      );
    }
  });

  for (const family of FAMILIES) {
    it(`${family}: the engine matches HF per layer (every shape and format, with and without a layer plan)`, async function () {
      assert.ok(manifest);
      const runs = manifest.models.filter((m) => m.family === family);
      const byFormat = new Map<string, ParityStats>();
      const knownBugRows: string[] = [];
      for (const dir of [...new Set(runs.map((m) => m.dir))]) {
        const runsHere = runs.filter((m) => m.dir === dir);
        const knownBug = runsHere[0].format === 'onnx' ? KNOWN_ONNX_READER_BUGS[family] : undefined;
        if (knownBug) {
          assert.throws(() => loadCheckpoint(path.join(out, dir)), knownBug, `${dir}: the known ONNX reader bug is gone: remove it from KNOWN_ONNX_READER_BUGS`);
          knownBugRows.push(`${family.padEnd(12)} onnx     NOT READ: known reader bug (${dir}, see KNOWN_ONNX_READER_BUGS)`);
          continue;
        }
        const checkpoint = loadCheckpoint(path.join(out, dir));
        const engine = ProbeEngine.fromCheckpoint({ ...checkpoint, tokenizer: idTokenizer(runsHere[0], checkpoint.tokenizer.file) }, { threads: 1 });
        try {
          for (const run of runsHere) {
            const stats = byFormat.get(run.format) ?? new ParityStats();
            byFormat.set(run.format, stats);
            const report = await engine.probe(run.examples.map((e) => ({ text: e.name })), { topK: manifest.top_k, ...(run.plan ? { plan: run.plan } : {}) });
            if (run.examples.some((e) => e.ids.length !== e.hf_ids.length)) {
              assert.ok(report.warnings.some((w) => w.includes('max_position_embeddings')), `${dir}: truncation warning: ${report.warnings}`);
            }
            const where = `${dir}${run.plan ? ` plan ${run.plan.join(',')}` : ''}`;
            run.examples.forEach((e, i) => compare(report.sentences[i], e, where, stats));
          }
        } finally {
          await engine.dispose();
        }
      }
      const s = new ParityStats();
      for (const [format, f] of byFormat) {
        rows.push(`${family.padEnd(12)} ${format.padEnd(8)} ${f.maxDelta.toExponential(2).padEnd(9)} ${`${f.sameTop1}/${f.cells} ${f.top1Percent.toFixed(2)}%`.padEnd(18)} ${f.nearTies} (${f.nearTieSwaps} swapped)`);
        s.add(f);
      }
      rows.push(...knownBugRows);
      all.add(s);
      assert.deepEqual(s.failures, [], `${family}: engine vs HF\n${s.failures.join('\n')}`);
      assert.ok(s.maxDelta <= LOGP_TOLERANCE, `${family}: max |Δ| ${s.maxDelta}`);
      assert.ok(s.cells > 0);
    });
  }
});
