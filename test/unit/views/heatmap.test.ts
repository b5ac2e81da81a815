import * as assert from 'node:assert/strict';
import type { ProbeReport } from '../../../src/core/probe/report';
import { colorAt, legendTicks, luminance, scaleOf, settleLayers, statDomain, statValue, textOn } from '../../../src/shared/heatmap';

const V = 30522;
const report = { model: { vocabSize: V }, sentences: [{ layers: [{ kl: [0, 0.5, 2.25] }] }] } as unknown as ProbeReport;

describe('views: heatmap scale and palette', () => {
  it('puts the better end of every statistic at the bright end', () => {
    assert.equal(scaleOf('logp', 0, statDomain(report, 'logp')), 1);
    assert.equal(scaleOf('logp', -Math.log(V), statDomain(report, 'logp')), 0);
    assert.equal(scaleOf('rank', 1, statDomain(report, 'rank')), 1);
    assert.equal(scaleOf('rank', V, statDomain(report, 'rank')), 0);
    // log scale: rank 175 is halfway between 1 and 30522 in log10 (10^(4.485/2) ≈ 174.7)
    assert.ok(Math.abs(scaleOf('rank', 174.7, statDomain(report, 'rank')) - 0.5) < 1e-4);
    assert.equal(scaleOf('entropy', 0, statDomain(report, 'entropy')), 1);
    assert.deepEqual(statDomain(report, 'kl'), { lo: 0, hi: 2.25 });
    assert.equal(scaleOf('kl', 2.25, statDomain(report, 'kl')), 0);
    assert.ok(Number.isNaN(scaleOf('rank', NaN, statDomain(report, 'rank'))));
  });

  it('a correct top-1 at p = 1.8% sits mid-scale on log p, far from a miss at p = 0.01%', () => {
    const d = statDomain(report, 'logp');
    const hit = scaleOf('logp', Math.log(0.018), d);
    const miss = scaleOf('logp', Math.log(1e-4), d);
    assert.ok(Math.abs(hit - 0.6110) < 1e-3, `hit at ${hit}`);
    assert.ok(Math.abs(miss - 0.1080) < 1e-3, `miss at ${miss}`);
    // and their fills differ in luminance by more than 4× (viridis is monotone in lightness)
    assert.ok(luminance(colorAt(hit)) / luminance(colorAt(miss)) > 4);
  });

  it('viridis ends, monotone luminance, and text that contrasts with each fill', () => {
    assert.equal(colorAt(0), '#440154');
    assert.equal(colorAt(1), '#fde725');
    assert.equal(colorAt(0.5), '#21918c');
    let last = -1;
    for (let i = 0; i <= 40; i++) {
      const L = luminance(colorAt(i / 40));
      assert.ok(L > last, `luminance not increasing at ${i / 40}`);
      last = L;
    }
    assert.equal(textOn(colorAt(0)), '#ffffff');
    assert.equal(textOn(colorAt(1)), '#000000');
    for (let i = 0; i <= 40; i++) {
      const fill = colorAt(i / 40);
      const L = luminance(fill);
      const Lt = luminance(textOn(fill));
      const ratio = (Math.max(L, Lt) + 0.05) / (Math.min(L, Lt) + 0.05);
      assert.ok(ratio >= 4.5, `contrast ${ratio.toFixed(2)} at ${i / 40}`);
    }
  });

  it('legend ticks: powers of ten up to the vocabulary for rank, quarters for linear scales', () => {
    assert.deepEqual(legendTicks('rank', statDomain(report, 'rank')).map((t) => t.label), ['30,522', '1,000', '100', '10', '1']);
    assert.deepEqual(legendTicks('p', statDomain(report, 'p')).map((t) => t.label), ['0%', '25%', '50%', '75%', '100%']);
    assert.deepEqual(legendTicks('logp', statDomain(report, 'logp')).map((t) => t.label), ['−10.33', '−7.74', '−5.16', '−2.58', '0.00']);
  });

  it('reads each statistic from the cells', () => {
    const cells = { top1: [1], inputLogProb: [Math.log(0.25)], rank: [3], entropy: [1.5], kl: [0.2], topKIds: [[1, 2]], topKLogProbs: [[Math.log(0.5), Math.log(0.25)]] };
    assert.ok(Math.abs(statValue(cells, 0, 'p') - 0.25) < 1e-12);
    assert.equal(statValue(cells, 0, 'rank'), 3);
    assert.ok(Math.abs(statValue(cells, 0, 'top1p') - 0.5) < 1e-12);
    assert.ok(Number.isNaN(statValue({ ...cells, topKLogProbs: [[]] }, 0, 'top1p')));
  });
});

describe('views: where the final answer first appears', () => {
  it('is the first layer from which the final top-1 stays top-1', () => {
    const layer = (top1: number[]) => ({ top1, inputLogProb: [], rank: [], entropy: [], kl: [], topKIds: [], topKLogProbs: [] });
    // position 0: 7 from h1 on; 1: flips back and forth, settles at h3; 2: only the final layer; 3: from h0
    const cells = [layer([1, 5, 1, 9]), layer([7, 5, 1, 9]), layer([7, 6, 1, 9]), layer([7, 5, 1, 9]), layer([7, 5, 2, 9])];
    assert.deepEqual(settleLayers(cells), [1, 3, 4, 0]);
  });
});
