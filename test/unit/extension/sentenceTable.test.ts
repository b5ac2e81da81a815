/**
 * The Sentences table's numbers (src/shared/sentenceTable.ts) on a real probe of the reference
 * model: per-sentence accuracy at two layers equals the engine's own per-sentence rows, sorting by
 * the change between them puts the sentences that layer helps most first, and the filter keeps
 * only matching sentences.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { ProbeEngine } from '../../../src/core/probe/engine';
import { readSentenceFile } from '../../../src/core/probe/inputs';
import { defaultSentenceTable, sentenceTableRows, sortAndFilter } from '../../../src/shared/sentenceTable';

const ROOT = path.resolve(__dirname, '../../../..');

describe('Sentences table: sort by any column, filter by text', function () {
  this.timeout(120_000);
  it('matches the engine rows, sorts by Δ accuracy h1 → final, filters, and keeps NaN rows last', async () => {
    const engine = ProbeEngine.load(path.join(ROOT, 'models', 'reference-bert-mini'), { threads: 1 });
    try {
      const inputs = [...readSentenceFile(path.join(ROOT, 'data', 'heldout-sentences.txt')).slice(0, 30), { text: '[CLS] [SEP]' }];
      const report = await engine.probe(inputs);
      const last = report.plan.length;
      const state = { ...defaultSentenceTable(report), layerA: 1 };
      assert.equal(state.layerB, last);
      const rows = sentenceTableRows(report, state);
      assert.equal(rows.length, inputs.length);
      rows.forEach((r) => {
        const engineRow = report.rows!.find((x) => x.i === r.index)!;
        if (engineRow.n === 0) return assert.ok(Number.isNaN(r.accB), 'nothing counted: NaN');
        assert.equal(r.counted, engineRow.n);
        assert.ok(Math.abs(r.accA - engineRow.hits[1] / engineRow.n) < 1e-12, `sentence ${r.index} accuracy at h1`);
        assert.ok(Math.abs(r.accB - engineRow.hits[last] / engineRow.n) < 1e-12, `sentence ${r.index} accuracy at h${last}`);
        assert.ok(Math.abs(r.lp - engineRow.logp[last] / engineRow.n) < 1e-9, `sentence ${r.index} mean log p`);
      });
      const byDelta = sortAndFilter(rows, { ...state, sort: 'delta', descending: true });
      const finite = byDelta.filter((r) => Number.isFinite(r.delta));
      for (let k = 1; k < finite.length; k++) assert.ok(finite[k - 1].delta >= finite[k].delta, 'descending Δ');
      assert.ok(finite[0].delta > finite[finite.length - 1].delta, 'the Δ column varies on real sentences');
      assert.ok(Number.isNaN(byDelta[byDelta.length - 1].delta), 'the all-special sentence sorts last');
      assert.ok(Number.isNaN(sortAndFilter(rows, { ...state, sort: 'delta', descending: false }).at(-1)!.delta), 'last in either direction');
      const word = rows[3].text.split(' ')[1];
      const filtered = sortAndFilter(rows, { ...state, filter: word.toUpperCase() });
      assert.ok(filtered.length >= 1 && filtered.every((r) => r.text.toLowerCase().includes(word.toLowerCase())), word);
      assert.ok(filtered.length < rows.length);
    } finally {
      await engine.dispose();
    }
  });
});
