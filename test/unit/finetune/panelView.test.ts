import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FinetuneResults, findResultFiles, formatComparison, readResults, readRunFolder, toPanelData } from '../../../src/core/finetune/results';
import { compareFinetune, deltaClass, finetuneSummary, finetuneTableModel, fmtDelta, FinetuneResultsData, FINETUNE_COLUMNS, learningCurves } from '../../../src/shared/finetune';
import { buildFinetuneCurves } from '../../../src/shared/finetuneChart';
import { EXPORT_COLORS, svgToString, THEME_COLORS } from '../../../src/shared/chart';
import { finetuneResultsSchema } from '../../../src/shared/savedState';
import { assertNever, HostMessage } from '../../../src/shared/protocol';

const FIXTURES = path.resolve(__dirname, '../../../../test/fixtures/finetune');
const SEEDS = path.resolve(__dirname, '../../../../test/fixtures/finetune-seeds');
const real = (name: string) => readResults(path.join(FIXTURES, name, 'results.json'));

function cellsByColumn(row: { name: string; cells: { text: string; delta?: string; title?: string }[] }): Record<string, { text: string; delta?: string; title?: string }> {
  const out: Record<string, { text: string; delta?: string; title?: string }> = { model: { text: row.name } };
  FINETUNE_COLUMNS.slice(1).forEach((c, i) => (out[c] = row.cells[i]));
  return out;
}

const close = (a: number | null | undefined, b: number, tol = 1e-12) => assert.ok(a !== null && a !== undefined && Math.abs(a - b) < tol, `${a} vs ${b}`);

describe('fine-tune view model on the 3-seed fixture (test/fixtures/finetune-seeds)', () => {
  // Expected values computed independently from the same JSON files with Python's statistics module:
  //   .cache/venv/bin/python /tmp/ft-expect.py   (the script is in test/fixtures/finetune-seeds/README.md)
  // accuracy base [0.57, 0.52, 0.6875] mean 0.5925 sd 0.08598691760959919
  // accuracy deep [0.61, 0.665, 0.6425] mean 0.6391666666666667 sd 0.02765110003839512
  // accuracy diffs [0.04, 0.145, -0.045] mean 0.04666666666666667 sd 0.09517527690179492 ci -0.1897618279113623 0.28309516124469564
  // f1_macro base mean 0.5342985448816573 sd 0.13157115194707275; deep mean 0.614286103564167 sd 0.046019421731880936
  // f1_macro diffs mean 0.07998755868250974 sd 0.1431031995129032 ci -0.2755004958996247 0.4354756132646442
  // eval_loss base mean 1.18052108446757 sd 0.05621890146325994; deep mean 1.0518401765823364 sd 0.04070118409541924
  // eval_loss diffs mean -0.12868090788523365 sd 0.04581253305689812 ci -0.24248554892268293 -0.014876266847784356
  // (interval: mean ± t.ppf(0.975, 2) · sd / √3 with the published 4.302652729749464)
  const data = readRunFolder(SEEDS);

  it('reads 2 models × 3 seeds and pairs them by seed', () => {
    assert.equal(findResultFiles(SEEDS).length, 6);
    // In file order ('-deep/' sorts before '/'); the view model puts the baseline first.
    assert.deepEqual(data.runs.map((r) => [r.name, r.role, r.seed, r.status]), [
      ['reference-bert-mini-deep', 'deepened', 42, 'done'], ['reference-bert-mini-deep', 'deepened', 43, 'done'], ['reference-bert-mini-deep', 'deepened', 44, 'done'],
      ['reference-bert-mini', 'baseline', 42, 'done'], ['reference-bert-mini', 'baseline', 43, 'done'], ['reference-bert-mini', 'baseline', 44, 'done'],
    ]);
    assert.deepEqual(data.warnings, [], 'seeds differ on purpose: not a warning');
  });

  it('computes means, sds, the paired Δ and its 95% t-interval as Python does', () => {
    const c = compareFinetune(data);
    const [b, d] = c.groups;
    assert.equal(b.role, 'baseline');
    close(b.stats.accuracy.mean, 0.5925);
    close(b.stats.accuracy.sd, 0.08598691760959919);
    close(d.stats.accuracy.mean, 0.6391666666666667);
    close(d.stats.accuracy.sd, 0.02765110003839512);
    close(b.stats.f1Macro.mean, 0.5342985448816573);
    close(b.stats.f1Macro.sd, 0.13157115194707275);
    close(d.stats.evalLoss.mean, 1.0518401765823364);
    close(d.stats.evalLoss.sd, 0.04070118409541924);
    const acc = d.delta.accuracy!;
    assert.deepEqual(acc.seeds, [42, 43, 44]);
    close(acc.mean, 0.04666666666666667);
    close(acc.sd, 0.09517527690179492);
    close(acc.ci![0], -0.1897618279113623, 1e-10);
    close(acc.ci![1], 0.28309516124469564, 1e-10);
    assert.equal(acc.verdict, 'no clear difference');
    const f1 = d.delta.f1Macro!;
    close(f1.mean, 0.07998755868250974);
    close(f1.ci![0], -0.2755004958996247, 1e-10);
    close(f1.ci![1], 0.4354756132646442, 1e-10);
    const loss = d.delta.evalLoss!;
    close(loss.mean, -0.12868090788523365);
    close(loss.ci![0], -0.24248554892268293, 1e-10);
    close(loss.ci![1], -0.014876266847784356, 1e-10);
    assert.equal(loss.verdict, 'better', 'a loss interval below 0 is better');
    assert.equal(b.delta.accuracy, null, 'the baseline has no Δ');
  });

  it('renders the cells: mean ± sd, "no clear difference" without colour, and colour only where the interval excludes 0', () => {
    const m = finetuneTableModel(data);
    const base = cellsByColumn(m.rows[0]);
    const deep = cellsByColumn(m.rows[1]);
    assert.equal(base.plan.text, 'original');
    assert.equal(base.seeds.text, '3');
    assert.equal(base.step.text, '30');
    assert.equal(base.accuracy.text, '59.2% ± 8.6', '0.5925 is 0.59249… in binary');
    assert.equal(base['Δ acc'].text, '');
    assert.equal(deep.accuracy.text, '63.9% ± 2.8');
    assert.equal(deep['Δ acc'].text, '+4.7 pt [−19.0, +28.3]');
    assert.equal(deep['Δ acc'].delta, '', 'an interval that contains 0 is no win');
    assert.match(deep['Δ acc'].title ?? '', /no clear difference/);
    assert.equal(deep['macro F1'].text, '61.4% ± 4.6');
    assert.equal(deep['Δ F1'].text, '+8.0 pt [−27.6, +43.5]');
    assert.equal(deep['Δ F1'].delta, '');
    assert.equal(deep['eval loss'].text, '1.0518 ± 0.0407');
    assert.equal(deep['Δ loss'].text, '−0.1287 [−0.2425, −0.0149]');
    assert.equal(deep['Δ loss'].delta, 'up', 'lower loss, interval below 0: better');
    assert.deepEqual(m.verdicts, ['accuracy reference-bert-mini-deep − reference-bert-mini, paired by seed over 3 seeds (42, 43, 44): +4.7 pt, 95% CI [−19.0, +28.3] pt: no clear difference (the interval contains 0)']);
    assert.equal(m.history.length, 6);
    assert.equal(m.history[3].name, 'reference-bert-mini-deep · seed 42');
    assert.deepEqual(m.history[3].rows.map((r) => [r[1].text, r[2].text, r[3].text]), [['10', 'step', '51.5%'], ['20', 'step', '58.0%'], ['30', 'end', '61.0%']]);
    assert.equal(finetuneSummary(data), '6 runs · 6 done');
    assert.equal(finetuneSummary({ ...data, expected: 6, taskRunning: false }), '6 of 6 runs done');
  });

  it('the CLI prints the same table model', () => {
    const text = formatComparison(finetuneTableModel(data), data.task);
    assert.match(text, /reference-bert-mini-deep\s+deepened\s+5\s+0-3,3\s+done\s+3\s+30\s+63\.9% ± 2\.8\s+\+4\.7 pt \[−19\.0, \+28\.3\]/);
    assert.match(text, /paired by seed over 3 seeds \(42, 43, 44\): \+4\.7 pt, 95% CI \[−19\.0, \+28\.3\] pt: no clear difference/);
  });

  it('learning curves: per model each seed\'s accuracy by step and the mean over seeds, drawn as SVG', () => {
    const acc = learningCurves(data, 'accuracy');
    assert.deepEqual(acc[0].seeds.map((s) => s.points.map((p) => [p.step, p.value])), [
      [[10, 0.5875], [20, 0.545], [30, 0.57]], [[10, 0.4975], [20, 0.4825], [30, 0.52]], [[10, 0.25], [20, 0.705], [30, 0.6875]],
    ]);
    close(acc[1].mean[0].value, (0.515 + 0.66 + 0.395) / 3);
    close(acc[1].mean[2].value, (0.61 + 0.665 + 0.6425) / 3);
    const svg = svgToString(buildFinetuneCurves(data, EXPORT_COLORS));
    assert.match(svg, /^<svg [^>]*data-testid="finetune-curves"/);
    assert.equal((svg.match(/<path /g) ?? []).length, 2 * (2 * 3 + 2), 'two charts × (6 seed lines + 2 means)');
    assert.ok(svg.includes('>accuracy (%)<') && svg.includes('>eval loss (nats)<') && svg.includes('>optimizer step<'), 'one y-axis title per chart');
    assert.ok(svg.includes('reference-bert-mini-deep seed 43, step 10: 66.0%'), 'points carry their values');
    // Round loss ticks around the values (1.0123 … 1.3501): 1.00, 1.10, …, 1.40.
    for (const t of ['1.00', '1.10', '1.20', '1.30', '1.40']) assert.ok(svg.includes(`>${t}<`), `loss tick ${t}`);
    assert.ok(!svg.includes('>0.90<') && !svg.includes('>1.50<'), 'no tick beyond the data');
    assert.ok(!svgToString(buildFinetuneCurves(data, THEME_COLORS)).includes('#1f77b4'), 'the panel uses theme colours');
  });

  it('the data fits the saved-state schema (it is revived after a reload)', () => {
    assert.equal(finetuneResultsSchema.check(JSON.parse(JSON.stringify({ ...data, expected: 6, taskRunning: true })), 'finetune'), undefined);
  });

  it('while a task runs: "2 of 6 runs done · 1 running · 3 to start"; one finished pair is "1 seed: no interval", never a win', () => {
    const partial: FinetuneResultsData = {
      ...data,
      expected: 6,
      taskRunning: true,
      runs: [data.runs[3], data.runs[0], { ...data.runs[4], status: 'running', isFinal: false }],
    };
    assert.equal(finetuneSummary(partial), '2 of 6 runs done · 1 running · 3 to start');
    const m = finetuneTableModel(partial);
    const deep = cellsByColumn(m.rows[1]);
    assert.equal(deep['Δ acc'].text, '+4.0 pt · 1 seed: no interval');
    assert.equal(deep['Δ acc'].delta, '');
    assert.equal(deep['Δ loss'].delta, '', 'one seed is never coloured, even when it looks better');
    assert.match(m.verdicts[0], /1 seed: no interval/);
    assert.equal(cellsByColumn(m.rows[0]).seeds.text, '1 +1 running');
    assert.equal(finetuneSummary({ ...partial, taskRunning: false }), '2 of 6 runs done · 1 running · 3 never started');
  });
});

describe('fine-tune results in the panel (view model), old single-seed folders (test/fixtures/finetune)', () => {
  it('builds baseline and deepened rows from the real results files, with deltas against the baseline', () => {
    // Given in the order a directory listing might give them: deepened first.
    const data = toPanelData('/runs/x', [real('reference-bert-mini-deep'), real('reference-bert-mini')], [], 1000);
    assert.deepEqual(data.runs.map((r) => [r.name, r.role, r.layers, r.plan, r.status, r.isFinal, r.seed]), [
      ['reference-bert-mini-deep', 'deepened', 5, '0-3,3', 'done', true, 42],
      ['reference-bert-mini', 'baseline', 4, null, 'done', true, 42],
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
    // One seed: the difference is shown, but never as a win.
    assert.equal(deep['Δ acc'].text, '+8.8 pt · 1 seed: no interval');
    assert.equal(deep['Δ acc'].delta, '');
    assert.equal(deep['macro F1'].text, '42.2%');
    assert.equal(deep['Δ F1'].delta, '');
    assert.equal(deep['eval loss'].text, '1.3505');
    assert.equal(deep['Δ loss'].text, '−0.0266 · 1 seed: no interval');
    assert.equal(deep['Δ loss'].delta, '');
    assert.equal(m.history.length, 2);
    assert.deepEqual(m.history[1].rows[0].map((c) => c.text), ['0.03', '2', '', '45.0%', '42.2%', '1.3505', '1.3835']);
    assert.deepEqual(m.notes, []);
    assert.match(m.caption, /Task train\.tsv/);
    assert.equal(finetuneSummary(data), '2 runs · 2 done');
  });

  it('shows running, failed and not-yet-evaluated runs, and says why numbers are not comparable', () => {
    const base = real('reference-bert-mini');
    const running: FinetuneResults = { ...real('reference-bert-mini-deep'), status: 'running', final: null, hyperparameters: { ...base.hyperparameters, lr: 5e-5 } };
    const failed: FinetuneResults = { ...running, model: '/runs/elsewhere/failed-model', model_name: '<img src=x onerror=alert(1)>', status: 'failed', epochs: [], error: 'CUDA out of memory' };
    const data = toPanelData('/runs/x', [base, running, failed], ['broken/results.json']);
    const m = finetuneTableModel(data);
    const r = cellsByColumn(m.rows[1]);
    const f = cellsByColumn(m.rows[2]);
    assert.equal(r.status.text, 'running');
    assert.equal(r.accuracy.text, '45.0%', 'the latest evaluation while running');
    assert.equal(r['Δ acc'].text, '', 'no finished pair yet');
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
