/**
 * The engine against HF transformers itself: golden per-layer MLM-head outputs computed on the
 * GPU machine by scripts/device/hf_golden.py (issue 7), for tiny random models of every family,
 * saved by HF's own save_pretrained (model.safetensors) and torch.save (pytorch_model.bin).
 *
 * For each fixture folder under test/fixtures/hf-golden/<family>/ the engine runs the exact token
 * ids HF ran (same batches, same padding) and must give, at every layer h0..hL and real position:
 * |Δ log-prob| ≤ 1e-4 for the input token and each of the top-5, the same top-1 (unless HF's own
 * top-2 gap is below 1e-5) and the same rank (unless a neighbour is that close).
 *
 * A family the engine does not read yet is reported as pending, with that reason; BERT must pass.
 * A missing fixture root or pytorch_model.bin fails. LAYER_LENS_HF_GOLDEN_DIR points at another fixture root.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Checkpoint } from '../../../src/core/checkpoint/checkpoint';
import { readConfigFile } from '../../../src/core/checkpoint/config';
import { openWeights, WeightIndex } from '../../../src/core/checkpoint/weights';
import { familyForModelType } from '../../../src/core/families';
import { ProbeEngine } from '../../../src/core/probe/engine';
import { positionId } from '../../../src/core/probe/inputs';
import { ProbedSentence } from '../../../src/core/probe/report';
import { LOGP_TOLERANCE, NEAR_TIE, ParityStats } from '../helpers/parity';
import { skipBecause } from '../helpers/pending';
import { GoldenExample, GoldenFile, goldenCheckpoint, goldenFolders, readGolden } from '../helpers/hfGolden';

/** Ranks may differ only where a neighbour's log-prob is this close (the same threshold as top-1). */
const TIE = NEAR_TIE;
/** Entropy and KL sum over the vocabulary; they are secondary here. */
const SUM_TOLERANCE = 1e-3;

const REPO = path.resolve(__dirname, '../../../..');
const ROOT = process.env.LAYER_LENS_HF_GOLDEN_DIR ?? path.join(REPO, 'test', 'fixtures', 'hf-golden');

/** Compares one probed sentence with its golden example (tie-aware, test/unit/helpers/parity.ts). */
export function compareExample(got: ProbedSentence, want: GoldenExample, c: ParityStats): void {
  const fail = (msg: string) => c.fail(`example ${want.name} ${msg}`);
  assert.deepEqual(got.ids, want.input_ids, `example ${want.name}: ids`);
  if (got.layers.length !== want.layers.length) {
    fail(`has ${got.layers.length} layers, HF ${want.layers.length}`);
    return;
  }
  want.layers.forEach((w, l) => {
    const g = got.layers[l];
    for (let p = 0; p < want.input_ids.length; p++) {
      const at = `example ${want.name} h${l} position ${p} (id ${want.input_ids[p]})`;
      c.logp(at, g.inputLogProb[p], w.input_logp[p], 'input log-prob');
      w.top_logp[p].forEach((v, j) => c.logp(at, g.topKLogProbs[p][j], v, `top-${j + 1} log-prob`));
      c.top1(at, g.top1[p], w.argmax[p], w.top1_gap[p]);
      if (w.rank_gap[p] >= TIE && g.rank[p] !== w.rank[p]) fail(`${at}: rank ${g.rank[p]} vs HF ${w.rank[p]}`);
      if (!(Math.abs(g.entropy[p] - w.entropy[p]) <= SUM_TOLERANCE)) fail(`${at}: entropy ${g.entropy[p]} vs HF ${w.entropy[p]}`);
      if (!(Math.abs(g.kl[p] - w.kl[p]) <= SUM_TOLERANCE)) fail(`${at}: KL ${g.kl[p]} vs HF ${w.kl[p]}`);
    }
  });
}

/** Runs HF's batches through the engine (same grouping, so the same padding) and compares. */
export async function probeAgainstGolden(checkpoint: Checkpoint, golden: GoldenFile): Promise<ParityStats> {
  const c = new ParityStats();
  const engine = ProbeEngine.fromCheckpoint(checkpoint, { threads: 1 });
  try {
    for (const batch of golden.batches) {
      const report = await engine.probe(batch.examples.map((text) => ({ text })), { topK: golden.top_k });
      batch.examples.forEach((name, i) => compareExample(report.sentences[i], golden.examples.find((e) => e.name === name)!, c));
    }
  } finally {
    await engine.dispose();
  }
  return c;
}

/** pytorch_model.bin through our reader (every fixture has one: HF's torch.save of the same state). */
function openBin(dir: string): WeightIndex {
  const file = path.join(dir, 'pytorch_model.bin');
  assert.ok(fs.existsSync(file), `${dir} has no pytorch_model.bin: the fixture is incomplete (scripts/device/run_golden.sh writes one)`);
  const index = openWeights(dir, file);
  assert.equal(index.format, 'pytorch');
  return index;
}

function summarize(label: string, c: ParityStats): string {
  return `${label}: ${c.summary()}`;
}

describe('engine vs HF transformers golden fixtures', function () {
  const folders = goldenFolders(ROOT);
  const lines: string[] = [];
  after(() => {
    if (lines.length) console.log(`\n  HF golden agreement:\n${lines.map((l) => `    ${l}`).join('\n')}\n`);
  });

  // A missing fixture folder must fail, not shrink the whole comparison to one pending test.
  it('has fixtures', () => {
    assert.ok(folders.length > 0, `no fixtures under ${ROOT} (made on the GPU machine by scripts/device/run_golden.sh)`);
  });

  for (const dir of folders) {
    const name = path.basename(dir);
    const golden = readGolden(dir);
    const supported = () => familyForModelType(golden.model_type) !== undefined;
    const requireSupport = (ctx: Mocha.Context) => {
      if (supported()) return;
      // BERT is the baseline family: it must never be skipped.
      assert.notEqual(golden.model_type, 'bert', 'model_type bert must be supported');
      skipBecause(ctx, `${name}: model_type "${golden.model_type}" is not supported by the engine yet`);
    };

    describe(`${name} (${golden.model_class}, transformers ${golden.transformers_version})`, () => {
      it('fixture is consistent', () => {
        assert.equal(golden.examples.length, 3);
        for (const e of golden.examples) {
          assert.equal(e.layers.length, golden.num_layers + 1, `${e.name}: h0..hL`);
          const row = golden.batches[e.batch].input_ids[e.row];
          assert.deepEqual(row.slice(0, e.input_ids.length), e.input_ids, `${e.name}: batch row`);
          assert.ok(row.slice(e.input_ids.length).every((id) => id === golden.special_ids.pad), `${e.name}: padded with pad id`);
          for (const l of e.layers) {
            l.argmax.forEach((id, p) => assert.equal(id, l.top_ids[p][0]));
            l.input_logp.forEach((v) => assert.ok(v <= 0));
          }
          e.layers[golden.num_layers].kl.forEach((v) => assert.ok(Math.abs(v) < 1e-6, 'KL of the final layer to itself'));
        }
        // Near-uniform outputs would prove little: the layers must disagree somewhere.
        assert.ok(golden.examples.some((e) => e.layers[0].kl.some((v) => v > 0.05)), 'h0 differs from the final layer');
        // HF's own float32 run is well within the tolerance of its float64 golden numbers.
        assert.ok(golden.float32_vs_float64.max_abs_input_logp <= LOGP_TOLERANCE, JSON.stringify(golden.float32_vs_float64));
      });

      it('model.safetensors (HF save_pretrained): engine matches HF per layer', async function () {
        requireSupport(this);
        const c = await probeAgainstGolden(goldenCheckpoint(dir, golden), golden);
        lines.push(summarize(`${name} safetensors`, c));
        assert.deepEqual(c.failures, [], `${name}: engine vs HF\n${c.failures.join('\n')}`);
        assert.ok(c.maxDelta <= LOGP_TOLERANCE);
      });

      it('pytorch_model.bin (torch.save state_dict): engine matches HF per layer', async function () {
        requireSupport(this);
        const bin = openBin(dir);
        const c = await probeAgainstGolden(goldenCheckpoint(dir, golden, bin), golden);
        lines.push(summarize(`${name} pytorch_model.bin`, c));
        assert.deepEqual(c.failures, [], `${name}: engine (.bin) vs HF\n${c.failures.join('\n')}`);
      });

      if (golden.examples.some((e) => e.position_ids_hf)) {
        it("position ids: the engine's rule gives HF's (padding_idx + 1 + p, pads padding_idx)", function () {
          requireSupport(this);
          const { positionOffset, padTokenId } = readConfigFile(path.join(dir, 'config.json'));
          for (const e of golden.examples) {
            const seq = golden.batches[e.batch].seq;
            const ours = Array.from({ length: seq }, (_, p) => positionId(p, e.input_ids.length, positionOffset, padTokenId));
            assert.deepEqual(ours, e.position_ids_hf, `example ${e.name}`);
          }
        });
      }
    });
  }
});
