/**
 * Figures and Compare (issue 12) on real probes of the embedded model: the heatmap figure has a
 * cell per layer × token and marks exactly the report's mismatches; the chart is two small
 * multiples with their own axes and the bootstrap whiskers; the per-token difference grid of a
 * deepened plan against the original is 0 up to the repeated layer and lines rows up by source;
 * the host accepts only real PNG headers from the webview.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { ProbeEngine } from '../../../src/core/probe/engine';
import { parsePlan } from '../../../src/core/deepen/plan';
import type { ProbeReport } from '../../../src/core/probe/report';
import { buildChart, chartSubject, EXPORT_COLORS, SvgNode, svgToString } from '../../../src/shared/chart';
import { buildHeatmapFigure } from '../../../src/shared/heatmapFigure';
import { tokenDiffGrid } from '../../../src/shared/compareGrid';
import { buildTrajectoryFigure } from '../../../src/shared/trajectoryFigure';
import { statisticInfo } from '../../../src/shared/heatmap';
import { pngProblem } from '../../../src/extension/pngCheck';

const MODEL = path.resolve(__dirname, '../../../../models/reference-bert-mini');
const TEXT = 'The cat sat on the mat.';

function walk(n: SvgNode, f: (n: SvgNode) => void): void {
  f(n);
  for (const c of n.children ?? []) walk(c, f);
}

describe('figures and the compare grid (reference model)', function () {
  this.timeout(120_000);
  let plain: ProbeReport;
  let deepened: ProbeReport;
  let corpus: ProbeReport;
  before(async () => {
    const engine = ProbeEngine.load(MODEL, { threads: 1 });
    try {
      plain = await engine.probe([{ text: TEXT }]);
      deepened = await engine.probe([{ text: TEXT }], { plan: parsePlan('0,1,1,2,3', 4) });
      corpus = await engine.probe(['The capital of France is Paris.', 'A noun names a thing.', 'She opened the door.', TEXT].map((text) => ({ text })));
    } finally {
      await engine.dispose();
    }
  });

  it('the heatmap figure: a cell per layer × token, ≠ on exactly the counted mismatches, model, plan and statistic named', () => {
    const fig = buildHeatmapFigure(plain, 0, 'rank');
    const s = plain.sentences[0];
    let cells = 0;
    let marks = 0;
    walk(fig, (n) => {
      if (n.tag === 'rect' && n.children?.[0]?.tag === 'title') cells++;
      if (n.tag === 'text' && n.text === '≠') marks++;
    });
    assert.equal(cells, s.layers.length * s.ids.length);
    const mismatches = s.layers.reduce((m, l) => m + l.top1.filter((id, p) => !s.special[p] && id !== s.ids[p]).length, 0);
    assert.ok(mismatches > 0);
    assert.equal(marks, mismatches);
    const svg = svgToString(fig);
    assert.match(svg, new RegExp(`aria-label="${statisticInfo('rank').label.replace(/[()]/g, '\\$&')} by layer and token · reference-bert-mini · plan 0-3"`));
    for (const t of ['layer (h0 = embeddings)', 'token (≠', 'cat', 'mat']) assert.ok(svg.includes(t), t);
  });

  it('the chart: two panels with their own y-axis titles, one whisker per layer and panel where intervals exist', () => {
    assert.ok(corpus.summary.every((r) => r.accuracyCI && r.meanLogProbCI));
    const fig = buildChart([{ name: 'x', summary: corpus.summary }], EXPORT_COLORS, chartSubject(corpus));
    const texts: string[] = [];
    let whiskers = 0;
    walk(fig, (n) => {
      if (n.tag === 'text' && n.text) texts.push(n.text);
      if (n.tag === 'line' && n.attrs['stroke-width'] === 1.5) whiskers++;
    });
    assert.ok(texts.includes('accuracy (%)') && texts.includes('mean log p (nats)'), texts.join('|'));
    assert.equal(texts.filter((t) => t === 'layer').length, 2);
    assert.equal(whiskers, 2 * corpus.summary.length);
    assert.match(texts[0], /^Reconstruction by layer · reference-bert-mini · plan 0-3$/);
  });

  it('the difference grid of 0,1,1,2,3 against 0-3: Δ 0 up to the repeated layer, rows by source, finals side by side', () => {
    const rows = tokenDiffGrid(deepened, deepened.sentences[0], plain, plain.sentences[0])!;
    assert.deepEqual(rows.map((r) => r.label), ['h0', 'h1', 'h2', 'h4 / h3', 'h5 / h4']);
    assert.deepEqual(rows.map((r) => [r.layerA, r.layerB]), [[0, 0], [1, 1], [2, 2], [4, 3], [5, 4]]);
    for (const r of rows.slice(0, 3)) for (const c of r.cells) {
      assert.equal(c.dLogProb, 0);
      assert.equal(c.top1A, c.top1B);
    }
    const s = deepened.sentences[0];
    const t = plain.sentences[0];
    rows[4].cells.forEach((c, p) => assert.equal(c.dLogProb, s.layers[5].inputLogProb[p] - t.layers[4].inputLogProb[p]));
    assert.ok(rows[3].cells.some((c) => c.dLogProb !== 0), 'the states after the repeated layer differ');
    assert.equal(tokenDiffGrid(plain, plain.sentences[0], corpus, corpus.sentences[0]), undefined);
  });
});

describe('the trajectory figure (reference model)', function () {
  this.timeout(120_000);
  it('one panel and one line per position, a point per layer, the title naming token, model and plan', async () => {
    const engine = ProbeEngine.load(MODEL, { threads: 1 });
    try {
      const report = await engine.probe([{ text: TEXT }]);
      const s = report.sentences[0];
      const t = await engine.trajectory({ text: TEXT }, 'cat');
      const fig = buildTrajectoryFigure(s, t, report.model.vocabSize, { ink: '#222222', figure: { report, background: '#ffffff' } });
      let paths = 0;
      let points = 0;
      const titles: string[] = [];
      walk(fig, (n) => {
        if (n.tag === 'path') paths++;
        if (n.tag === 'circle') points++;
        if (n.tag === 'title' && n.text) titles.push(n.text);
      });
      assert.equal(paths, s.ids.length);
      assert.equal(points, s.ids.length * s.layers.length);
      // At "cat" itself the points carry the engine's own ranks of "cat".
      const p = s.tokens.indexOf('cat');
      const atCat = titles.slice(p * s.layers.length, (p + 1) * s.layers.length);
      assert.deepEqual(atCat, s.layers.map((l, i) => `h${i}: rank ${l.rank[p]}`));
      assert.match(svgToString(fig), /Trajectory of &quot;cat&quot; · reference-bert-mini · plan 0-3/);
    } finally {
      await engine.dispose();
    }
  });
});

describe('host: PNG check of what the webview sends', () => {
  const header = (w: number, h: number) => {
    const b = new Uint8Array(33);
    b.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
    new DataView(b.buffer).setUint32(16, w);
    new DataView(b.buffer).setUint32(20, h);
    return b;
  };
  it('accepts a PNG header and refuses anything else in one phrase', () => {
    assert.equal(pngProblem(header(1280, 720)), undefined);
    assert.equal(pngProblem(new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"></svg>')), 'no PNG signature');
    assert.equal(pngProblem(header(0, 10)), 'a size of 0 × 10 pixels');
    assert.equal(pngProblem(header(50_000, 10)), 'a size of 50000 × 10 pixels');
  });
});
