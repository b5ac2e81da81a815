/**
 * The engine (ONNX graph in onnxruntime) against the plain float64 reference, on tiny random
 * checkpoints of several shapes, dtypes, layouts, padding and sentence pairs.
 */
import * as assert from 'node:assert/strict';
import { ProbeEngine, ProbeInput } from '../../../src/core/probe/engine';
import { ProbeReport } from '../../../src/core/probe/report';
import { makeTempDir, TinyBertOptions, writeTinyBert } from '../helpers/tinyBert';
import { referenceCells, referenceLogProbs } from '../helpers/referenceForward';

/** Engine and reference must agree to this in log-probability (issue requirement). */
const TOLERANCE = 1e-4;
/** A rank or top-1 may differ only where the reference itself has two log-probs closer than this. */
const TIE = 1e-5;

const INPUTS: ProbeInput[] = [
  { text: 'the cat sat on the mat.' },
  { text: 'a bird sang' }, // shorter: padded inside the batch
  { text: 'the dog ran to the house', pair: 'it was big and red!' },
];

export function compareWithReference(engine: ProbeEngine, report: ProbeReport): { maxDelta: number; positions: number } {
  const { config, resolved } = engine.checkpoint;
  let maxDelta = 0;
  let positions = 0;
  for (const s of report.sentences) {
    const typeIds = engine.checkpoint.tokenizer.encode(s.text, s.pair).typeIds;
    const positionIds = s.ids.map((_, p) => config.positionOffset + p);
    const ref = referenceCells(referenceLogProbs(config, resolved, report.plan, { ids: s.ids, typeIds, positionIds }), s.ids, report.topK);
    assert.equal(s.layers.length, ref.length, 'layer count');
    ref.forEach((layer, l) =>
      layer.forEach((cell, p) => {
        const got = s.layers[l];
        const where = `"${s.text}" layer h${l} position ${p} (${s.tokens[p]})`;
        const delta = Math.abs(got.inputLogProb[p] - cell.inputLogProb);
        maxDelta = Math.max(maxDelta, delta);
        positions++;
        assert.ok(delta <= TOLERANCE, `${where}: log-prob ${got.inputLogProb[p]} vs reference ${cell.inputLogProb}`);
        // The j-th best log-prob must match, whichever of two near-tied ids holds it.
        got.topKLogProbs[p].forEach((v, j) =>
          assert.ok(Math.abs(v - cell.topKLogProbs[j]) <= TOLERANCE, `${where}: top-${j + 1} log-prob ${v} vs ${cell.topKLogProbs[j]}`),
        );
        if (cell.top1Gap > TIE) assert.equal(got.top1[p], cell.top1, `${where}: top-1`);
        if (cell.gap > TIE) assert.equal(got.rank[p], cell.rank, `${where}: rank`);
        assert.ok(Math.abs(got.entropy[p] - cell.entropy) <= 1e-3, `${where}: entropy ${got.entropy[p]} vs ${cell.entropy}`);
        assert.ok(Math.abs(got.kl[p] - cell.kl) <= 1e-3, `${where}: KL ${got.kl[p]} vs ${cell.kl}`);
      }),
    );
  }
  return { maxDelta, positions };
}

const CASES: [string, TinyBertOptions][] = [
  ['2 layers, hidden 32, F32, vocab.txt', { layers: 2, hidden: 32, heads: 4 }],
  ['3 layers, hidden 48, 3 heads, F16', { layers: 3, hidden: 48, heads: 3, dtype: 'F16', seed: 2 }],
  ['2 layers, hidden 32, BF16, tokenizer.json', { layers: 2, hidden: 32, dtype: 'BF16', tokenizer: 'tokenizer.json', seed: 3 }],
  ['4 layers, hidden 64, sharded in 3', { layers: 4, hidden: 64, heads: 8, shards: 3, seed: 4 }],
  ['legacy gamma/beta names, gelu_new', { layers: 2, hidden: 32, legacyLayerNormNames: true, hiddenAct: 'gelu_new', seed: 5 }],
  ['relu, 1 layer, 1 head', { layers: 1, hidden: 16, heads: 1, hiddenAct: 'relu', seed: 6 }],
];

describe('probe engine vs float64 reference', () => {
  for (const [name, options] of CASES) {
    it(name, async () => {
      const engine = ProbeEngine.load(writeTinyBert(makeTempDir(), options), { threads: 1 });
      try {
        const report = await engine.probe(INPUTS, { topK: 5 });
        const { maxDelta, positions } = compareWithReference(engine, report);
        assert.ok(positions > 40, `compared ${positions} positions`);
        assert.ok(maxDelta <= TOLERANCE, `max |Δ log-prob| = ${maxDelta}`);
      } finally {
        await engine.dispose();
      }
    });
  }

  it('runs a layer plan with duplicated layers exactly like the reference running that plan', async () => {
    const engine = ProbeEngine.load(writeTinyBert(makeTempDir(), { layers: 3, seed: 7 }), { threads: 1 });
    try {
      const report = await engine.probe(INPUTS, { plan: [0, 1, 1, 2, 2] });
      assert.equal(report.summary.length, 6);
      assert.deepEqual(report.summary.map((s) => s.sourceLayer), [null, 0, 1, 1, 2, 2]);
      compareWithReference(engine, report);
    } finally {
      await engine.dispose();
    }
  });

  it('padding does not change a sentence: alone vs in a batch with longer ones', async () => {
    const engine = ProbeEngine.load(writeTinyBert(makeTempDir(), { seed: 8 }), { threads: 1 });
    try {
      const alone = await engine.probe([{ text: 'a bird sang' }]);
      const batched = await engine.probe(INPUTS);
      const a = alone.sentences[0].layers;
      const b = batched.sentences[1].layers;
      a.forEach((layer, l) => layer.inputLogProb.forEach((v, p) => assert.ok(Math.abs(v - b[l].inputLogProb[p]) < 1e-5)));
    } finally {
      await engine.dispose();
    }
  });
});
