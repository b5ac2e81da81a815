import * as assert from 'node:assert/strict';
import type { ProbeReport } from '../../../src/core/probe/report';
import { buildChart, escapeXml, EXPORT_COLORS, SvgNode, svgToString } from '../../../src/shared/chart';
import { csvField, reportToCsv, reportToJson, summaryToCsv, exportFileName, CELL_COLUMNS } from '../../../src/shared/export';
import { diffSummaries, displayToken, fmtPct, matchingSentence } from '../../../src/shared/format';
import { addRun, HostState, isWebviewMessage, MAX_RUNS, PanelRun, RUNS_KEPT_LIMIT, uiStateSchema, webviewMessageProblem } from '../../../src/shared/protocol';
import { rerunRefusal, reviveWebviewState } from '../../../src/shared/savedState';
import { parseCorpus, parseInputLine } from '../../../src/extension/corpus';

const XSS = '<img src=x onerror=alert(1)>';

function report(overrides: Partial<ProbeReport> = {}): ProbeReport {
  const lp = Math.log(0.5);
  return {
    model: { path: '/m', name: 'tiny', family: 'BERT', modelType: 'bert', numLayers: 1, hiddenSize: 8, vocabSize: 10, weightsFile: 'model.safetensors', dtype: 'F32' },
    plan: [0],
    planText: '0',
    topK: 2,
    includeSpecial: false,
    sentences: [
      {
        text: 'a, "b"',
        ids: [2, 7, 8, 3],
        tokens: ['[CLS]', XSS, '</script>', '[SEP]'],
        special: [true, false, false, true],
        layers: [0, 1].map(() => ({
          top1: [2, 7, 9, 3],
          inputLogProb: [lp, lp, -Infinity, lp],
          rank: [1, 1, 5, 1],
          entropy: [1, 1, 1, 1],
          kl: [0, 0, 0, 0],
          topKIds: [[2, 3], [7, 9], [9, 7], [3, 2]],
          topKLogProbs: [[lp, lp], [lp, lp], [lp, lp], [lp, lp]],
        })),
      },
    ],
    summary: [
      { label: 'h0', sourceLayer: null, count: 2, accuracy: 0.5, meanLogProb: -1, medianRank: 3, meanEntropy: 1, meanKL: 0.1 },
      { label: 'h1', sourceLayer: 0, count: 2, accuracy: 0.5, meanLogProb: -0.5, medianRank: 3, meanEntropy: 1, meanKL: 0 },
    ],
    vocab: { 2: '[CLS]', 3: '[SEP]', 7: XSS, 8: '</script>', 9: '=cmd|calc' },
    warnings: [],
    timing: { sessionMs: 1, runMs: 1, tokens: 4, peakRssMb: 100 },
    ...overrides,
  };
}

function walk(node: SvgNode, visit: (n: SvgNode) => void): void {
  visit(node);
  node.children?.forEach((c) => walk(c, visit));
}

describe('shared: CSV export', () => {
  it('quotes fields with commas, quotes and newlines (RFC 4180)', () => {
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('two\nlines'), '"two\nlines"');
    assert.equal(csvField(-Infinity), '-inf');
    assert.equal(csvField(null), '');
  });

  it('guards formula-like text but keeps single-character tokens', () => {
    assert.equal(csvField('=cmd|calc'), "'=cmd|calc");
    assert.equal(csvField('@x'), "'@x");
    assert.equal(csvField('-'), '-');
    assert.equal(csvField('='), '=');
  });

  it('writes one row per sentence, layer and position, tokens as text', () => {
    const csv = reportToCsv(report());
    const lines = csv.trim().split('\n');
    assert.equal(lines[0], CELL_COLUMNS.join(','));
    assert.equal(lines.length, 1 + 2 * 4);
    assert.ok(csv.includes(XSS));
    assert.ok(csv.includes("'=cmd|calc"));
    assert.match(lines[3], /^1,2,<\/script>,8,false,h0,,'=cmd\|calc,9,false,0,-inf,5,/);
  });

  it('writes the per-layer summary', () => {
    const lines = summaryToCsv(report()).trim().split('\n');
    assert.equal(lines.length, 3);
    // The two empty pairs are the 95% CI columns: this report has no bootstrap.
    assert.equal(lines[1], 'h0,,2,0.5,,,-1,,,3,1,0.1,raw');
  });

  it('says in both CSVs and the file name when the states were read through a tuned lens', () => {
    const tuned = report({ lens: { kind: 'tuned', dir: '/lenses/a', steps: 250, corpus: 'train.txt' } });
    assert.ok(summaryToCsv(tuned).trim().split('\n').slice(1).every((l) => l.endsWith(',tuned')));
    assert.ok(reportToCsv(tuned).trim().split('\n').slice(1).every((l) => l.endsWith(',tuned')));
    assert.ok(reportToCsv(report()).trim().split('\n').slice(1).every((l) => l.endsWith(',raw')));
    assert.equal(exportFileName(tuned, '-summary', 'csv'), 'tiny-plan-0-tuned-lens-summary.csv');
  });

  it('writes JSON that parses back, with non-finite numbers as strings', () => {
    const back = JSON.parse(reportToJson(report()));
    assert.equal(back.sentences[0].tokens[1], XSS);
    assert.equal(back.sentences[0].layers[0].inputLogProb[2], '-Infinity');
  });

  it('makes safe file names', () => {
    assert.equal(exportFileName(report({ planText: '0-3,3' }), '-cells', 'csv'), 'tiny-plan-0-3_3-cells.csv');
  });
});

describe('shared: chart', () => {
  it('draws one accuracy and one log-prob line per series, with a point per layer', () => {
    const svg = buildChart([{ name: 'a', summary: report().summary }, { name: 'b', summary: report().summary }], EXPORT_COLORS);
    let paths = 0;
    let circles = 0;
    walk(svg, (n) => {
      if (n.tag === 'path') paths++;
      if (n.tag === 'circle') circles++;
    });
    assert.equal(paths, 4);
    assert.equal(circles, 4);
  });

  it('escapes every text and attribute when serialized', () => {
    const s = svgToString(buildChart([{ name: `${XSS}</script>`, summary: report().summary }], EXPORT_COLORS));
    assert.ok(s.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
    assert.ok(!s.includes('<img'));
    assert.ok(!s.includes('</script>'));
    assert.equal(escapeXml(`<a href="x">&'`), '&lt;a href=&quot;x&quot;&gt;&amp;&apos;');
  });

  it('keeps points inside the plot for -Infinity log-probs', () => {
    const summary = report().summary.map((s) => ({ ...s, meanLogProb: -Infinity }));
    const s = svgToString(buildChart([{ name: 'x', summary }]));
    assert.ok(!/NaN|Infinity/.test(s.replace(/mean log p -Infinity/g, '')));
  });
});

describe('shared: formatting and colour scale', () => {
  it('formats percentages', () => {
    assert.equal(fmtPct(0.999), '100%');
    assert.equal(fmtPct(0.5), '50%');
    assert.equal(fmtPct(0.05), '5.0%');
    assert.equal(fmtPct(0.00001), '<0.1%');
    assert.equal(fmtPct(0), '0%');
  });

  it('shows blank tokens visibly and everything else unchanged', () => {
    assert.equal(displayToken(''), '∅');
    assert.equal(displayToken(' '), '␣');
    assert.equal(displayToken(XSS), XSS);
    assert.equal(displayToken(undefined), '?');
  });

  it('diffs summaries of different depths and flags differences', () => {
    const a = report().summary;
    const b = [...a.map((s) => ({ ...s })), { ...a[1], label: 'h2' }];
    b[1].accuracy = 0.9;
    const rows = diffSummaries(a, b);
    // The finals (h1 of A, h2 of B) side by side; B's repeated layer on its own row.
    assert.deepEqual(rows.map((r) => r.label), ['h0', 'h1', 'h1 / h2']);
    assert.deepEqual(rows.map((r) => r.differs), [false, true, false]);
    assert.equal(rows[1].a, undefined);
  });

  it('lines up a deepened plan by source layer: 0,1,1,2,3 against 0-3', () => {
    const row = (label: string, sourceLayer: number | null, accuracy: number) => ({ ...report().summary[0], label, sourceLayer, accuracy });
    const original = [row('h0', null, 0.75), row('h1', 0, 0.82), row('h2', 1, 0.85), row('h3', 2, 0.87), row('h4', 3, 0.86)];
    const deepened = [row('h0', null, 0.75), row('h1', 0, 0.82), row('h2', 1, 0.85), row('h3', 1, 0.84), row('h4', 2, 0.83), row('h5', 3, 0.8)];
    // A = the deepened run, B = the baseline; Δ = A − B.
    const rows = diffSummaries(deepened, original);
    assert.deepEqual(rows.map((r) => r.label), ['h0', 'h1', 'h2', 'h3', 'h4 / h3', 'h5 / h4']);
    assert.deepEqual(rows.map((r) => [r.a?.sourceLayer, r.b?.sourceLayer]), [[null, null], [0, 0], [1, 1], [1, undefined], [2, 2], [3, 3]]);
    assert.deepEqual(rows.map((r) => (r.dAccuracy === undefined ? undefined : Math.round(r.dAccuracy * 1000) / 10)), [0, 0, 0, undefined, -4, -6]);
    // By index, h3 against h3 would have read −3 pt and h4 against h4 −3 pt, and h5 had no partner.
  });

  it('finds the same sentence in another report', () => {
    const r = report();
    assert.equal(matchingSentence(r, r.sentences[0]), 0);
    assert.equal(matchingSentence(r, { ...r.sentences[0], text: 'other' }), -1);
  });
});

describe('shared: protocol', () => {
  it('accepts only well-formed webview messages', () => {
    assert.ok(isWebviewMessage({ type: 'ready' }));
    assert.ok(isWebviewMessage({ type: 'export', format: 'svg', runId: 'r1' }));
    assert.ok(!isWebviewMessage({ type: 'export', format: 'exe', runId: 'r1' }));
    assert.ok(!isWebviewMessage({ type: 'export', format: 'csv' }));
    assert.ok(!isWebviewMessage({ type: 'nope' }));
    assert.ok(!isWebviewMessage(null));
    assert.ok(!isWebviewMessage('ready'));
  });

  it('checks every field of every inbound message against the protocol (one schema)', () => {
    const good = [
      { type: 'ready' },
      { type: 'export', format: 'csv', runId: 'r1', compareRunId: 'r2' },
      { type: 'rerun', runId: 'r1' },
      { type: 'export', format: 'heatmap-svg', runId: 'r1', sentence: 2, stat: 'rank' },
      { type: 'exportPng', figure: 'chart', runId: 'r1', png: 'iVBORw0KGgo=' },
      { type: 'exportCurves' },
      { type: 'exportCurves', png: 'iVBORw0KGgo=' },
      { type: 'log', level: 'warn', message: 'hello' },
    ];
    for (const m of good) assert.equal(webviewMessageProblem(m), undefined, JSON.stringify(m));
    const bad: [unknown, string][] = [
      [{ type: 'log', level: 'dispose', message: 'x' }, 'level is "dispose", expected "info" | "warn" | "error"'],
      [{ type: 'log', message: 'x' }, 'level is undefined'],
      [{ type: 'log', level: 'info', message: 42 }, 'message is 42, expected a string'],
      [{ type: 'log', level: 'info', message: 'x'.repeat(10_001) }, 'message is longer than 10000 characters'],
      [{ type: 'ready', extra: 1 }, 'has an unknown field "extra"'],
      [{ type: 'export', format: 'csv', runId: 'r1', compareRunId: 7 }, 'compareRunId is 7, expected a string'],
      [{ type: 'rerun', runId: { toString: 'r1' } }, 'runId is an object, expected a string'],
      [{ type: 'export', format: 'heatmap-svg', runId: 'r1', stat: 'evil' }, 'stat is "evil"'],
      [{ type: 'exportPng', figure: 'chart', runId: 'r1' }, 'png is undefined'],
      [{ type: 'exportPng', figure: 'movie', runId: 'r1', png: '' }, 'figure is "movie"'],
      [{ type: 'exportCurves', png: 42 }, 'png is 42, expected a string'],
      [{ type: 'exportCurves', outDir: '/etc' }, 'has an unknown field "outDir"'],
      // The host no longer listens to the webview's UI choices (they live in its own saved state).
      [{ type: 'uiChanged', ui: { sentence: 0, view: 'layers' } }, 'type is "uiChanged"'],
      [{ type: 'constructor' }, 'type is "constructor"'],
      [{ type: 'toString' }, 'type is "toString"'],
      [[], 'the message is an array of 0, expected an object'],
    ];
    for (const [m, want] of bad) {
      const problem = webviewMessageProblem(m);
      assert.ok(problem?.includes(want), `${JSON.stringify(m)?.slice(0, 80)}: ${problem}`);
      assert.ok(!isWebviewMessage(m));
    }
  });

  it('checks the UI state the webview saved for itself, field by field', () => {
    assert.equal(uiStateSchema.check({ runId: 'r1', compareRunId: 'r2', sentence: 3, view: 'compare', seenFocusRunId: 'r1' }, 'ui'), undefined);
    const bad: [unknown, string][] = [
      [{}, 'ui.sentence is undefined'],
      [{ sentence: -1, view: 'layers' }, 'ui.sentence is -1, expected an integer from 0 to 10000000'],
      [{ sentence: 0, view: 'evil' }, 'ui.view is "evil"'],
      [{ sentence: 0, view: 'layers', __proto__x: 1 }, 'ui has an unknown field "__proto__x"'],
    ];
    for (const [ui, want] of bad) assert.ok(uiStateSchema.check(ui, 'ui')?.includes(want), `${JSON.stringify(ui)}: ${uiStateSchema.check(ui, 'ui')}`);
  });

  it('re-validates saved webview state: runs that do not fit the protocol are dropped, and said so', () => {
    const run = (id: string, r = report()): PanelRun => ({ id, label: id, source: 'input', createdAt: 1, report: r });
    // What setState keeps is JSON: NaN and -Infinity come back as null, which a revived report allows.
    const saved = JSON.parse(JSON.stringify({
      host: { runs: [run('ok'), { ...run('bad'), source: 'evil' }, { ...run('badpath'), report: { ...report(), model: { ...report().model, path: 7 } } }], focusRunId: 'bad', compareRunId: 'ok' },
      ui: { sentence: 0, view: 'layers' },
      finetune: { outDir: '/runs', task: null, runs: [], warnings: [], unreadable: [], updatedAt: 1, extra: true },
    }));
    const revived = reviveWebviewState(saved);
    assert.deepEqual(revived.host.runs.map((r) => r.id), ['ok']);
    assert.equal(revived.host.focusRunId, undefined, 'focus on a dropped run is dropped');
    assert.equal(revived.host.compareRunId, 'ok');
    assert.deepEqual(revived.ui, { sentence: 0, view: 'layers' });
    assert.equal(revived.finetune, undefined);
    assert.deepEqual(revived.dropped, [
      'host.runs[1].source is "evil", expected "input" | "selection" | "corpus" | "api"',
      'host.runs[2].report.model.path is 7, expected a string',
      'finetune has an unknown field "extra"',
    ]);
    assert.equal(revived.host.runs[0].report.sentences[0].layers[0].inputLogProb[2], null);
    assert.deepEqual(reviveWebviewState(undefined), { host: { runs: [] }, dropped: [] });
    assert.deepEqual(reviveWebviewState('x').host, { runs: [] });
    assert.deepEqual(reviveWebviewState({ host: { runs: 'x' }, ui: { view: 'layers' } }).dropped, ['host.runs is not an array', 'ui.sentence is undefined, expected an integer from 0 to 10000000']);
  });

  it('a revived rerun probes only a model folder the host probed itself', () => {
    const run: PanelRun = { id: 'r', label: 'tiny', source: 'input', createdAt: 1, report: report({ model: { ...report().model, path: '/etc' } }) };
    assert.match(rerunRefusal(run, ['/m'])!, /not re-running "tiny": \/etc is not a model folder Layer Lens probed here/);
    assert.equal(rerunRefusal(run, ['/m', '/etc']), undefined);
  });

  it('keeps at most MAX_RUNS runs, newest focused, and a valid comparison', () => {
    let state: HostState = { runs: [] };
    const run = (i: number): PanelRun => ({ id: `r${i}`, label: `run ${i}`, source: 'api', createdAt: i, report: report() });
    for (let i = 0; i < MAX_RUNS + 3; i++) state = addRun(state, run(i), i > 0 ? `r${i - 1}` : undefined);
    assert.equal(state.runs.length, MAX_RUNS);
    assert.equal(state.focusRunId, `r${MAX_RUNS + 2}`);
    assert.equal(state.compareRunId, `r${MAX_RUNS + 1}`);
    assert.equal(addRun(state, run(99), 'gone').compareRunId, undefined);
  });

  it('keeps as many runs as asked (1 … RUNS_KEPT_LIMIT), names the ones it drops, and never repeats a label', () => {
    const run = (i: number, label = `run ${i}`): PanelRun => ({ id: `r${i}`, label, source: 'api', createdAt: i, report: report() });
    let state: HostState = { runs: [] };
    const dropped: string[] = [];
    for (let i = 0; i < 5; i++) {
      const next = addRun(state, run(i), undefined, 3);
      dropped.push(...next.dropped);
      state = next;
    }
    assert.deepEqual(state.runs.map((r) => r.id), ['r2', 'r3', 'r4']);
    assert.deepEqual(dropped, ['run 0', 'run 1']);
    assert.equal(addRun(state, run(9), undefined, 0).runs.length, 1);
    let many: HostState = { runs: [] };
    for (let i = 0; i < RUNS_KEPT_LIMIT + 5; i++) many = addRun(many, run(i), undefined, 1000);
    assert.equal(many.runs.length, RUNS_KEPT_LIMIT);
    // The same model, plan and sentence count probed three times: three labels.
    let same: HostState = { runs: [] };
    for (let i = 0; i < 3; i++) same = addRun(same, run(i, 'reference-bert-mini (embedded) · plan 0-3 · 1 sentence'));
    assert.deepEqual(same.runs.map((r) => r.label), [
      'reference-bert-mini (embedded) · plan 0-3 · 1 sentence',
      'reference-bert-mini (embedded) · plan 0-3 · 1 sentence · #2',
      'reference-bert-mini (embedded) · plan 0-3 · 1 sentence · #3',
    ]);
  });
});

describe('extension: sentence input parsing', () => {
  it('splits sentence pairs on |||', () => {
    assert.deepEqual(parseInputLine(' a b ||| c d '), { text: 'a b', pair: 'c d' });
    assert.deepEqual(parseInputLine('just one'), { text: 'just one' });
  });

  it('reads a corpus: one sentence per line, skipping blanks and # comments, with a limit', () => {
    const { inputs, skipped } = parseCorpus('# header\none\n\n two \r\nthree\nfour\n', 3);
    assert.deepEqual(inputs.map((i) => i.text), ['one', 'two', 'three']);
    assert.equal(skipped, 1);
  });
});
