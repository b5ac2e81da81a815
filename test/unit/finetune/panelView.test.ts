import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FinetuneResults, readResults, readRunFolder, toPanelData } from '../../../src/core/finetune/results';
import { deltaClass, finetuneSummary, finetuneTableModel, fmtDelta, FinetuneResultsData, FINETUNE_COLUMNS } from '../../../src/shared/finetune';
import { assertNever, HostMessage } from '../../../src/shared/protocol';

const FIXTURES = path.resolve(__dirname, '../../../../test/fixtures/finetune');
const real = (name: string) => readResults(path.join(FIXTURES, name, 'results.json'));

function cellsByColumn(row: { name: string; cells: { text: string; delta?: string }[] }): Record<string, { text: string; delta?: string }> {
  const out: Record<string, { text: string; delta?: string }> = { model: { text: row.name } };
  FINETUNE_COLUMNS.slice(1).forEach((c, i) => (out[c] = row.cells[i]));
  return out;
}

describe('fine-tune results in the panel (view model)', () => {
  it('builds baseline and deepened rows from the real results files, with deltas against the baseline', () => {
    // Given in the order a directory listing might give them: deepened first.
    const data = toPanelData('/runs/x', [real('reference-bert-mini-deep'), real('reference-bert-mini')], [], 1000);
    assert.deepEqual(data.runs.map((r) => [r.name, r.role, r.layers, r.plan, r.status, r.isFinal]), [
      ['reference-bert-mini-deep', 'deepened', 5, '0-3,3', 'done', true],
      ['reference-bert-mini', 'baseline', 4, null, 'done', true],
    ]);
    const m = finetuneTableModel(data);
    assert.equal(m.columns.length, m.rows[0].cells.length + 1);
    assert.deepEqual(m.rows.map((r) => r.name), ['reference-bert-mini', 'reference-bert-mini-deep'], 'baseline first');
    const base = cellsByColumn(m.rows[0]);
    const deep = cellsByColumn(m.rows[1]);
    assert.equal(base.plan.text, 'original');
    assert.equal(base.accuracy.text, '36.3%');
    assert.equal(base['Δ acc'].text, '');
    assert.equal(deep.layers.text, '5');
    assert.equal(deep.status.text, 'done');
    assert.equal(deep.accuracy.text, '45.0%');
    assert.equal(deep['Δ acc'].text, '+8.8 pt');
    assert.equal(deep['Δ acc'].delta, 'up');
    assert.equal(deep['macro F1'].text, '42.2%');
    assert.equal(deep['Δ F1'].delta, 'up');
    assert.equal(deep['eval loss'].text, '1.3505');
    assert.equal(deep['Δ loss'].text, '−0.0266');
    assert.equal(deep['Δ loss'].delta, 'up', 'a lower loss is better');
    assert.equal(m.history.length, 2);
    assert.deepEqual(m.history[1].rows[0].map((c) => c.text), ['0.03', '2', '45.0%', '42.2%', '1.3505', '1.3835']);
    assert.deepEqual(m.notes, []);
    assert.match(m.caption, /Task train\.tsv/);
    assert.equal(finetuneSummary(data), '2 runs · 2 done');
  });

  it('shows running, failed and not-yet-evaluated runs, and says why numbers are not comparable', () => {
    const base = real('reference-bert-mini');
    const running: FinetuneResults = { ...real('reference-bert-mini-deep'), status: 'running', final: null, hyperparameters: { ...base.hyperparameters, lr: 5e-5 } };
    const failed: FinetuneResults = { ...running, model_name: '<img src=x onerror=alert(1)>', status: 'failed', epochs: [], error: 'CUDA out of memory' };
    const data = toPanelData('/runs/x', [base, running, failed], ['broken/results.json']);
    const m = finetuneTableModel(data);
    const r = cellsByColumn(m.rows[1]);
    const f = cellsByColumn(m.rows[2]);
    assert.equal(r.status.text, 'running');
    assert.equal(r.accuracy.text, '45.0%', 'the latest evaluation while running');
    assert.equal(f.status.text, 'failed');
    assert.equal(f.accuracy.text, '–');
    assert.equal(f['Δ acc'].text, '');
    assert.equal(m.rows[2].name, '<img src=x onerror=alert(1)>', 'names are data, passed through as text');
    assert.ok(m.notes.some((n) => /CUDA out of memory/.test(n)));
    assert.ok(m.notes.some((n) => /different hyper-parameters/.test(n)));
    assert.ok(m.notes.some((n) => /broken\/results\.json/.test(n)));
    assert.match(m.caption, /1 run still running/);
    assert.equal(finetuneSummary(data), '3 runs · 1 running · 1 done · 1 failed');
  });

  it('has no deltas without a baseline, and an empty folder says what to expect', () => {
    const lone: FinetuneResults = { ...real('reference-bert-mini-deep'), layer_lens: { source: '/elsewhere', plan: '0-3,3' } };
    const m = finetuneTableModel(toPanelData('/r', [lone]));
    assert.equal(m.rows[0].role, 'deepened');
    assert.equal(cellsByColumn(m.rows[0])['Δ acc'].text, '');
    assert.ok(m.notes.some((n) => /No baseline/.test(n)));
    const empty = finetuneTableModel(toPanelData('/r', []));
    assert.equal(empty.rows.length, 0);
    assert.match(empty.caption, /No results yet/);
  });

  it('formats deltas with a sign and classes them by the metric direction', () => {
    assert.equal(fmtDelta(0.0875, 'pt'), '+8.8 pt');
    assert.equal(fmtDelta(-0.012, 'pt'), '−1.2 pt');
    assert.equal(fmtDelta(0.00001, 'pt'), '±0.0 pt');
    assert.equal(fmtDelta(null, 'loss'), '');
    assert.equal(deltaClass(0.1, true), 'up');
    assert.equal(deltaClass(0.1, false), 'down');
    assert.equal(deltaClass(-0.1, false), 'up');
    assert.equal(deltaClass(0, true), '');
    assert.equal(deltaClass(null, true), '');
  });

  it('reads a run folder, listing unreadable files instead of failing', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'll-ft-panel-'));
    try {
      for (const n of ['reference-bert-mini', 'reference-bert-mini-deep']) {
        fs.mkdirSync(path.join(dir, n));
        fs.copyFileSync(path.join(FIXTURES, n, 'results.json'), path.join(dir, n, 'results.json'));
      }
      fs.mkdirSync(path.join(dir, 'half'));
      fs.writeFileSync(path.join(dir, 'half', 'results.json'), '{"schema": "layer-lens-fine');
      const data = readRunFolder(dir);
      assert.equal(data.runs.length, 2);
      assert.deepEqual(data.unreadable, [path.join('half', 'results.json')]);
      assert.equal(data.outDir, dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the finetuneResults message is part of the one protocol (exhaustive switch)', () => {
    const data: FinetuneResultsData = toPanelData('/r', [real('reference-bert-mini')]);
    const m: HostMessage = { type: 'finetuneResults', results: data, focus: true };
    const kind = (x: HostMessage): string => {
      switch (x.type) {
        case 'state': return 'state';
        case 'finetuneResults': return `finetune:${x.results.runs.length}`;
        case 'exported': return 'exported';
        case 'fastMode': return 'fastMode';
        case 'error': return 'error';
        case 'trajectory': return 'trajectory';
        default: return assertNever(x);
      }
    };
    assert.equal(kind(m), 'finetune:1');
    // Survives the JSON round trip of postMessage / setState.
    assert.deepEqual(JSON.parse(JSON.stringify(data)), data);
  });
});
