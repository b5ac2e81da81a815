/**
 * Masked-token mode on a tiny random BERT: a typed [MASK] has an unknown target (no log p, no
 * rank, left out of the summary), a gold token fills its cells and its own summary, "mask this
 * word" equals typing the mask, and masking each token in turn equals masking it alone. Log p of
 * the gold at a mask is checked against the float64 reference forward.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { UserError } from '../../../src/core/errors';
import { ProbeEngine } from '../../../src/core/probe/engine';
import { referenceCells, referenceLogProbs } from '../helpers/referenceForward';
import { makeTempDir, writeTinyBert } from '../helpers/tinyBert';

describe('views: masked-token mode and mask-each-in-turn (PLL)', function () {
  this.timeout(120_000);
  let engine: ProbeEngine;
  before(() => {
    const dir = path.join(makeTempDir(), 'tiny');
    writeTinyBert(dir, { layers: 3, hidden: 32, heads: 4, seed: 11, std: 0.6 });
    engine = ProbeEngine.load(dir, { threads: 1 });
  });
  after(() => engine.dispose());

  const id = (t: string) => engine.checkpoint.tokenizer.tokenToId(t)!;

  it('a typed [MASK] without gold: top-k kept, no log p or rank, not counted, no non-finite warning', async () => {
    const r = await engine.probe([{ text: 'the cat sat on the [MASK] .' }]);
    const s = r.sentences[0];
    assert.equal(r.maskToken, '[MASK]');
    assert.deepEqual(s.masks, [{ position: 6, source: 'text' }]);
    for (const l of s.layers) {
      assert.ok(Number.isNaN(l.inputLogProb[6]) && Number.isNaN(l.rank[6]));
      assert.ok(Number.isInteger(l.top1[6]) && l.topKIds[6].length === 5);
    }
    assert.equal(r.summary[0].count, 6); // the cat sat on the . — the mask is not counted
    const all = await engine.probe([{ text: 'the cat sat on the [MASK] .' }], { includeSpecial: true });
    assert.equal(all.summary[0].count, 8, 'with specials: [CLS] and [SEP] count, the mask still does not');
    assert.ok(all.summary.every((x) => Number.isFinite(x.accuracy)));
    assert.ok(r.summary.every((x) => Number.isFinite(x.accuracy) && Number.isFinite(x.medianRank)));
    assert.equal(r.maskSummary, undefined);
    assert.ok(!r.warnings.some((w) => /non-finite/.test(w)), r.warnings.join('; '));
  });

  it('--mask-gold scores the gold at the mask, matching the float64 reference, in its own summary', async () => {
    const r = await engine.probe([{ text: 'the cat sat on the [MASK] .', maskGold: ['mat'] }]);
    const s = r.sentences[0];
    assert.deepEqual(s.masks, [{ position: 6, source: 'text', gold: id('mat') }]);
    const { config, resolved } = engine.checkpoint;
    const ref = referenceLogProbs(config, resolved, r.plan, { ids: s.ids, typeIds: s.ids.map(() => 0), positionIds: s.ids.map((_, p) => p) });
    const target = [...s.ids];
    target[6] = id('mat');
    const cells = referenceCells(ref, target, 5);
    let worst = 0;
    cells.forEach((layer, l) => {
      worst = Math.max(worst, Math.abs(s.layers[l].inputLogProb[6] - layer[6].inputLogProb));
      assert.equal(s.layers[l].rank[6], layer[6].rank, `h${l} rank of the gold`);
    });
    assert.ok(worst < 1e-4, `log p(gold) off by ${worst}`);
    const ms = r.maskSummary!;
    assert.equal(ms.length, r.plan.length + 1);
    ms.forEach((x, l) => {
      assert.equal(x.count, 1);
      assert.equal(x.accuracy, s.layers[l].top1[6] === id('mat') ? 1 : 0);
      assert.ok(Math.abs(x.meanLogProb - s.layers[l].inputLogProb[6]) < 1e-9);
      assert.equal(x.medianRank, s.layers[l].rank[6]);
    });
    assert.equal(r.vocab[id('mat')], 'mat');
  });

  it('"mask this word" (maskPositions) equals typing [MASK] there with the word as gold', async () => {
    const typed = await engine.probe([{ text: 'the cat sat on the [MASK] .', maskGold: ['mat'] }]);
    const masked = await engine.probe([{ text: 'the cat sat on the mat .', maskPositions: [6] }]);
    const a = typed.sentences[0];
    const b = masked.sentences[0];
    assert.deepEqual(b.masks, [{ position: 6, source: 'masked', gold: id('mat') }]);
    assert.deepEqual(b.ids, a.ids);
    assert.equal(b.tokens[6], '[MASK]');
    a.layers.forEach((l, k) => assert.ok(Math.abs(l.inputLogProb[6] - b.layers[k].inputLogProb[6]) < 1e-6));
    assert.deepEqual(masked.maskSummary!.map((x) => x.accuracy), typed.maskSummary!.map((x) => x.accuracy));
  });

  it('mask each token in turn: every cell equals masking that token alone; cost = one sequence per token', async () => {
    const text = 'the cat sat on the mat .';
    const r = await engine.probe([{ text }], { pll: true });
    const s = r.sentences[0];
    const counted = s.ids.map((_, p) => p).filter((p) => !s.special[p]);
    assert.deepEqual(r.pllCost && { sequences: r.pllCost.sequences, tokens: r.pllCost.tokens }, { sequences: counted.length, tokens: counted.length * s.ids.length });
    for (const p of [1, 4, 7]) {
      const one = (await engine.probe([{ text, maskPositions: [p] }])).sentences[0];
      one.layers.forEach((l, k) => {
        assert.ok(Math.abs(s.pll![k].inputLogProb[p] - l.inputLogProb[p]) < 1e-5, `h${k} p${p}`);
        assert.equal(s.pll![k].rank[p], l.rank[p]);
        assert.deepEqual(s.pll![k].topKIds[p], l.topKIds[p]);
      });
    }
    assert.ok(Number.isNaN(s.pll![0].inputLogProb[0]), '[CLS] is not masked in turn');
    const last = r.pllSummary!.at(-1)!;
    const mean = counted.reduce((n, p) => n + s.pll!.at(-1)!.inputLogProb[p], 0) / counted.length;
    assert.equal(last.count, counted.length);
    assert.ok(Math.abs(last.meanLogProb - mean) < 1e-9);
    // The plain summary is the unmasked one, unchanged by the extra pass.
    const plain = await engine.probe([{ text }]);
    assert.deepEqual(r.summary, plain.summary);
  });

  it('bad masks get one clear line', async () => {
    await assert.rejects(engine.probe([{ text: 'the cat', maskGold: ['mat'] }]), (e: Error) => e instanceof UserError && /has 0 \[MASK\] token\(s\) but 1 gold/.test(e.message));
    await assert.rejects(engine.probe([{ text: 'the [MASK]', maskGold: ['xyzzyq'] }]), (e: Error) => e instanceof UserError && /"xyzzyq" is not one token of the vocabulary/.test(e.message));
    await assert.rejects(engine.probe([{ text: 'the cat', maskPositions: [0] }]), (e: Error) => e instanceof UserError && /special token/.test(e.message));
    await assert.rejects(engine.probe([{ text: 'the cat', maskPositions: [9] }]), (e: Error) => e instanceof UserError && /tokens 0-3/.test(e.message));
  });

  it('a token trajectory: log p and rank of one token at every layer and position, as the float64 reference gives', async () => {
    const text = 'the cat sat on the mat .';
    const t = await engine.trajectory({ text }, 'dog');
    assert.equal(t.token, id('dog'));
    assert.equal(t.tokenText, 'dog');
    const s = (await engine.probe([{ text }])).sentences[0];
    const { config, resolved } = engine.checkpoint;
    const ref = referenceCells(referenceLogProbs(config, resolved, [0, 1, 2], { ids: s.ids, typeIds: s.ids.map(() => 0), positionIds: s.ids.map((_, p) => p) }), s.ids.map(() => id('dog')), 5);
    let worst = 0;
    ref.forEach((layer, l) => layer.forEach((cell, p) => {
      worst = Math.max(worst, Math.abs(t.logProb[l][p] - cell.inputLogProb));
      assert.equal(t.rank[l][p], cell.rank, `h${l} p${p} rank`);
    }));
    assert.ok(worst < 1e-4, `log p off by ${worst}`);
    // Following the input token at its own position gives the probe's own figures.
    const cat = await engine.trajectory({ text }, id('cat'));
    s.layers.forEach((l, k) => {
      assert.ok(Math.abs(cat.logProb[k][2] - l.inputLogProb[2]) < 1e-6);
      assert.equal(cat.rank[k][2], l.rank[2]);
    });
    await assert.rejects(engine.trajectory({ text }, 'xyzzyq'), (e: Error) => e instanceof UserError && /the token to follow "xyzzyq" is not one token/.test(e.message));
  });
});
