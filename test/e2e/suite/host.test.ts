/** End-to-end tests that run in the real extension host of code-server (VS Code 1.100). */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LayerLensApi } from '../../../src/extension/main';
import { compareFinetune, finetuneSummary, verdictLine, type FinetuneResultsData } from '../../../src/shared/finetune';

const WS = process.env.LAYER_LENS_E2E_WORKSPACE!;
const EXT_ID = 'layer-lens.layer-lens';

async function api(): Promise<LayerLensApi> {
  const ext = vscode.extensions.getExtension<LayerLensApi>(EXT_ID);
  assert.ok(ext, `extension ${EXT_ID} is not installed`);
  return ext.isActive ? ext.exports : ext.activate();
}

/** The exit code of the next task process of this type to end (subscribe before starting the task). */
function taskEnded(type: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const sub = vscode.tasks.onDidEndTaskProcess((e) => {
      if (e.execution.task.definition.type !== type) return;
      sub.dispose();
      resolve(e.exitCode);
    });
  });
}

function positionOf(doc: vscode.TextDocument, needle: string): vscode.Position {
  const at = doc.getText().indexOf(needle);
  assert.ok(at >= 0, `${needle} not in ${doc.uri.fsPath}`);
  return doc.positionAt(at + 2);
}

function hoverText(hovers: vscode.Hover[]): string {
  return hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))).join('\n');
}

describe('Layer Lens in VS Code', () => {
  // The UI phase reuses this workspace's storage: a panel left open here would be serialized and
  // revived there next to the UI phase's own, and which of the two survives would be arbitrary.
  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('activates fast and registers its commands', async () => {
    const a = await api();
    console.log(`activation: activate() ${a.activationMs.toFixed(1)} ms, bundle evaluation ${a.bundleMs.toFixed(1)} ms`);
    assert.ok(a.activationMs < 50, `activate() took ${a.activationMs} ms`);
    const commands = await vscode.commands.getCommands(true);
    for (const c of [
      'layer-lens.probe', 'layer-lens.probeSelection', 'layer-lens.probeCorpus', 'layer-lens.openSample', 'layer-lens.probeWithPlan', 'layer-lens.probeWithTunedLens', 'layer-lens.tuneLens', 'layer-lens.probeCorpusTorch', 'layer-lens.compare',
      'layer-lens.deepen', 'layer-lens.finetune', 'layer-lens.showFinetuneResults',
    ]) {
      assert.ok(commands.includes(c), `${c} is not registered`);
    }
  });

  it('finds the model folders of the workspace for the explorer menu, leaving out a GPT-2 folder (model_type gpt2)', async () => {
    const dirs = await (await api()).refreshModelContext();
    const names = dirs.map((d) => path.basename(d)).sort();
    assert.deepEqual(names, ['slow-bert', 'tiny-bert', 'xss-bert']);
  });

  it('probes the sample model and shows L+1 rows in the panel', async () => {
    const a = await api();
    const report = await a.probe({ model: a.sampleModelDir, sentences: ['the cat sat on the mat'] });
    assert.ok(report);
    const config = JSON.parse(fs.readFileSync(path.join(a.sampleModelDir, 'config.json'), 'utf8'));
    assert.equal(report.sentences[0].layers.length, config.num_hidden_layers + 1);
    assert.equal(report.summary.length, config.num_hidden_layers + 1);
    const panel = a.panel();
    assert.ok(panel, 'the panel did not open');
    await panel.whenReady();
    assert.equal(panel.hostState.runs.at(-1)?.report, report);
    // The embedded sample is named as such, so a workspace copy of it cannot be mistaken for it.
    assert.match(panel.hostState.runs.at(-1)!.label, /^reference-bert-mini \(embedded\) · plan 0-3 · /);
  });

  it('hovers on num_hidden_layers in a model config.json, with derived facts and the latest probe', async () => {
    const a = await api();
    const doc = await vscode.workspace.openTextDocument(path.join(a.sampleModelDir, 'config.json'));
    await vscode.window.showTextDocument(doc);
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, positionOf(doc, '"num_hidden_layers"'));
    const text = hoverText(hovers);
    assert.match(text, /num_hidden_layers/);
    assert.match(text, /head size/);
    assert.match(text, /parameters/);
    assert.match(text, /Latest probe/);
    for (const key of ['hidden_size', 'num_attention_heads', 'intermediate_size', 'vocab_size', 'max_position_embeddings', 'model_type']) {
      const t = hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, positionOf(doc, `"${key}"`)));
      assert.match(t, new RegExp(key), `no hover for ${key}`);
    }
  });

  it('shows the CodeLens on a model config and nothing on other JSON or a GPT-2 config', async () => {
    const a = await api();
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', vscode.Uri.file(path.join(a.sampleModelDir, 'config.json')));
    assert.deepEqual(lenses.map((l) => l.command?.command), ['layer-lens.probe', 'layer-lens.deepen']);
    // Every lens points at a registered command ("Deepen…" is registered in src/extension/deepen/).
    const registered = await vscode.commands.getCommands(true);
    for (const l of lenses) assert.ok(registered.includes(l.command!.command), `the "${l.command?.title}" lens points at ${l.command?.command}, which is not registered`);
    const other = await vscode.workspace.openTextDocument(path.join(WS, 'other', 'config.json'));
    const none = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', other.uri);
    assert.equal(none.length, 0);
    const gpt2 = await vscode.workspace.openTextDocument(path.join(WS, 'gpt2-model', 'config.json'));
    assert.equal((await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', gpt2.uri)).length, 0, 'a GPT-2 config got a CodeLens');
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', other.uri, positionOf(other, '"num_hidden_layers"'));
    assert.doesNotMatch(hoverText(hovers), /head size/);
  });

  it('cancels a long corpus run within half a second, keeps what it finished (marked partial), and frees the worker', async () => {
    const a = await api();
    const sentences = fs.readFileSync(path.join(WS, 'corpus.txt'), 'utf8').trim().split('\n');
    const source = new vscode.CancellationTokenSource();
    const started = Date.now();
    const running = a.probe({ model: path.join(WS, 'slow-bert'), sentences }, source.token);
    await new Promise((r) => setTimeout(r, 2500));
    const cancelAt = Date.now();
    source.cancel();
    let outcome = 'finished';
    let report: Awaited<typeof running> | undefined;
    try {
      report = await running;
    } catch (e) {
      outcome = (e as Error).name;
    }
    const ms = Date.now() - cancelAt;
    console.log(`cancel took effect after ${ms} ms (run started ${cancelAt - started} ms before the cancel); ` +
      (report ? `kept ${report.sentences.length} of ${sentences.length} sentences, partial` : outcome));
    // Batches finished before the cancel are kept as a partial run; with none finished it is a plain cancel.
    if (report) {
      assert.equal(report.corpus?.partial, true);
      assert.ok(report.sentences.length > 0 && report.sentences.length < sentences.length, `${report.sentences.length} sentences`);
      assert.equal(report.corpus?.probed, report.sentences.length);
      assert.equal(report.summary[0].count, report.rows!.reduce((n, r) => n + r.n, 0), 'the summary counts the kept sentences only');
    } else {
      assert.equal(outcome, 'CancelledError');
    }
    assert.ok(ms < 500, `cancel took ${ms} ms`);
    // The engine still works afterwards (a fresh worker).
    const again = await a.probe({ model: path.join(WS, 'slow-bert'), sentences: ['the cat sat on the mat'] });
    assert.equal(again?.sentences.length, 1);
  });

  it('keeps HTML-looking tokens as plain strings in the report', async () => {
    const a = await api();
    const report = await a.probe({ model: path.join(WS, 'xss-bert'), sentences: ['the <img src=x onerror=alert(1)> cat </script> dog'] });
    assert.ok(report?.sentences[0].tokens.includes('<img src=x onerror=alert(1)>'));
    assert.ok(report?.sentences[0].tokens.includes('</script>'));
  });

  it('Deepen previews the plan on a corpus file the user names, then writes the model', async () => {
    const a = await api();
    const model = path.join(WS, 'tiny-bert');
    const target = path.join(WS, '.deep-preview-out');
    fs.rmSync(target, { recursive: true, force: true });
    const corpus = path.join(WS, 'short-corpus.txt');
    const lines = fs.readFileSync(corpus, 'utf8').split('\n').filter((l) => l.trim());
    const result = await vscode.commands.executeCommand<{ target: string } | undefined>('layer-lens.deepen', { model, plan: '0,1,1,2', target, previewCorpus: corpus });
    assert.ok(result, 'deepen wrote nothing');
    const runs = a.panel()!.hostState.runs.slice(-2);
    assert.deepEqual(runs.map((r) => r.report.sentences.map((x) => x.text)), [lines, lines]);
    assert.deepEqual(runs.map((r) => r.report.planText), ['0-2', '0,1,1,2']);
    assert.equal(a.panel()!.hostState.compareRunId, runs[0].id);
    assert.equal(JSON.parse(fs.readFileSync(path.join(target, 'config.json'), 'utf8')).num_hidden_layers, 4);
    fs.rmSync(target, { recursive: true, force: true });
  });

  it('compares two runs (original against a deepened plan)', async () => {
    const a = await api();
    const before = a.panel()!.hostState.runs.length;
    await a.probe({ model: a.sampleModelDir, sentences: ['the cat sat on the mat'] });
    const config = JSON.parse(fs.readFileSync(path.join(a.sampleModelDir, 'config.json'), 'utf8'));
    const last = config.num_hidden_layers - 1;
    const deep = await a.probe({ model: a.sampleModelDir, sentences: ['the cat sat on the mat'], plan: `0-${last},${last}`, compareWith: 'previous' });
    assert.equal(deep?.summary.length, config.num_hidden_layers + 2);
    const state = a.panel()!.hostState;
    assert.equal(state.runs.length, Math.min(8, before + 2));
    assert.ok(state.compareRunId, 'no comparison set');
  });

  it('runs on the execution provider the setting names, or falls back to the CPU with one warning shown in the panel', async () => {
    const a = await api();
    const settings = vscode.workspace.getConfiguration('layer-lens');
    await settings.update('executionProvider', 'webgpu', vscode.ConfigurationTarget.Global);
    try {
      const report = await a.probe({ model: a.sampleModelDir, sentences: ['the cat sat on the mat'] });
      const info = report?.executionProvider;
      assert.equal(info?.asked, 'webgpu');
      const run = a.panel()!.hostState.runs.at(-1)!;
      if (info.ran === 'webgpu') {
        assert.ok(info.parity && info.parity.maxAbsLogProb <= 1e-3 && info.parity.top1 === 1);
        assert.match(run.label, / · webgpu · /);
      } else {
        // No GPU adapter here: the CPU ran, and the run's warnings say why in one line.
        assert.equal(info.ran, 'cpu');
        assert.deepEqual(run.report.warnings, [`execution provider: ${info.fallback}; ran on the CPU`]);
        assert.match(info.fallback!, /^webgpu could not start: [^\n]+$/);
      }
    } finally {
      await settings.update('executionProvider', undefined, vscode.ConfigurationTarget.Global);
    }
    const back = await a.probe({ model: a.sampleModelDir, sentences: ['the cat sat on the mat'] });
    assert.equal(back?.executionProvider, undefined);
  });

  it('reads the state after each attention block (h·attn rows) when asked, labelled in the run label', async () => {
    const a = await api();
    const report = await a.probe({ model: a.sampleModelDir, sentences: ['the cat sat on the mat'], sublayers: true });
    assert.ok(report?.sublayerSummary, 'no sub-layer rows');
    const L = report.plan.length;
    assert.deepEqual(report.sublayerSummary.map((r) => r.label), Array.from({ length: L }, (_, l) => `h${l + 1}·attn`));
    assert.equal(report.sentences[0].sublayers?.length, L);
    assert.match(a.panel()!.hostState.runs.at(-1)!.label, /sub-layers/);
  });

  it('trains a tuned lens as a VS Code task, then probes raw and tuned side by side; the tuned run equals the CLI\'s', async function () {
    this.timeout(600_000);
    const a = await api();
    const python = process.env.LAYER_LENS_E2E_PYTHON!;
    assert.ok(python && fs.existsSync(python), `the tuned-lens task needs the test Python (${python}); run scripts/install-python.sh`);
    const root = vscode.extensions.getExtension(EXT_ID)!.extensionPath;
    const out = path.join(WS, '.layer-lens', 'lenses', 'e2e');
    const ended = taskEnded('layer-lens-tune-lens');
    const execution = await vscode.commands.executeCommand<vscode.TaskExecution>('layer-lens.tuneLens', {
      model: a.sampleModelDir, file: path.join(root, 'data', 'heldout-sentences.txt'), out, steps: 10, python,
    });
    assert.ok(execution, 'no task started');
    assert.equal(execution.task.execution instanceof vscode.ProcessExecution, true);
    assert.equal(await ended, 0, 'tune_lens.py failed; see its terminal');
    const card = JSON.parse(fs.readFileSync(path.join(out, 'lens.json'), 'utf8')) as { steps: number; heldout: { before: { kl: number[] }; after: { kl: number[] } } };
    assert.equal(card.steps, 10);
    assert.ok(card.heldout.after.kl[0] < card.heldout.before.kl[0], `held-out KL at h0 ${card.heldout.before.kl[0]} → ${card.heldout.after.kl[0]}`);

    const text = 'the cat sat on the mat';
    const tuned = await vscode.commands.executeCommand<import('../../../src/core/probe/report').ProbeReport>('layer-lens.probeWithTunedLens', { model: a.sampleModelDir, lens: out, sentences: [text] });
    assert.equal(tuned?.lens?.dir, out);
    const state = a.panel()!.hostState;
    const tunedRun = state.runs.find((r) => r.id === state.focusRunId)!;
    const rawRun = state.runs.find((r) => r.id === state.compareRunId)!;
    assert.match(tunedRun.label, /tuned lens/);
    assert.equal(rawRun.report.lens, undefined, 'Compare must set the tuned run against the raw one');
    assert.equal(rawRun.report.sentences[0].text, text);
    assert.ok(tuned.summary[0].meanKL < rawRun.report.summary[0].meanKL, `tuned h0 KL→final ${tuned.summary[0].meanKL} vs raw ${rawRun.report.summary[0].meanKL}`);

    const json = path.join(WS, '.layer-lens', 'tuned-cli.json');
    const cli = spawnSync(process.execPath, [path.join(root, 'dist', 'cli.js'), 'probe', a.sampleModelDir, '--text', text, '--lens', `tuned:${out}`, '--json', json, '--threads', '2'], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(cli.status, 0, cli.stderr);
    const want = JSON.parse(fs.readFileSync(json, 'utf8')) as typeof tuned;
    assert.deepEqual(tuned.summary.map((r) => [r.label, r.accuracy, r.medianRank]), want.summary.map((r) => [r.label, r.accuracy, r.medianRank]));
    tuned.summary.forEach((r, l) => assert.ok(Math.abs(r.meanKL - want.summary[l].meanKL) < 1e-6 && Math.abs(r.meanLogProb - want.summary[l].meanLogProb) < 1e-6, `${r.label}: panel vs CLI`));
  });

  it('"Probe Corpus with PyTorch…" runs probe_torch.py under torchrun (2 processes) as a task and opens its report, equal to the CLI\'s', async function () {
    this.timeout(600_000);
    const a = await api();
    const python = process.env.LAYER_LENS_E2E_PYTHON!;
    assert.ok(python && fs.existsSync(python), `the PyTorch backend needs the test Python (${python}); run scripts/install-python.sh`);
    const root = vscode.extensions.getExtension(EXT_ID)!.extensionPath;
    const file = path.join(WS, 'short-corpus.txt');
    const out = path.join(WS, '.layer-lens', 'reports', 'torch-e2e.json');
    const report = await vscode.commands.executeCommand<import('../../../src/core/probe/report').ProbeReport>('layer-lens.probeCorpusTorch', {
      model: a.sampleModelDir, file, out, launcher: 'torchrun', nprocPerNode: 2, device: 'cpu', python,
    });
    assert.ok(report, 'no report came back (see the task terminal)');
    assert.equal(report.backend?.processes, 2);
    const state = a.panel()!.hostState;
    const shown = state.runs.find((r) => r.id === state.focusRunId)!;
    assert.match(shown.label, /PyTorch fp32 ×2/);
    assert.equal(shown.report.corpus?.probed, 3);
    const json = path.join(WS, '.layer-lens', 'ort-corpus.json');
    const cli = spawnSync(process.execPath, [path.join(root, 'dist', 'cli.js'), 'probe', a.sampleModelDir, '--file', file, '--json', json, '--threads', '2'], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(cli.status, 0, cli.stderr);
    const want = JSON.parse(fs.readFileSync(json, 'utf8')) as typeof report;
    assert.deepEqual(report.summary.map((r) => [r.label, r.count, r.accuracy, r.medianRank]), want.summary.map((r) => [r.label, r.count, r.accuracy, r.medianRank]));
    report.summary.forEach((r, l) => assert.ok(Math.abs(r.meanLogProb - want.summary[l].meanLogProb) < 1e-4, `${r.label}: torch ${r.meanLogProb}, ORT ${want.summary[l].meanLogProb}`));
  });

  it('shows the fine-tuning comparison of a run folder in the panel, baseline against deepened', async () => {
    const a = await api();
    const out = path.join(WS, '.layer-lens', 'runs', 'e2e-run');
    const data = await vscode.commands.executeCommand<FinetuneResultsData>('layer-lens.showFinetuneResults', out);
    // Runs come in folder-listing order; the roles come from the deepened run's provenance.
    assert.deepEqual(data?.runs.map((r) => [r.name, r.role, r.seed, r.status]).sort(), [
      ['reference-bert-mini', 'baseline', 42, 'done'], ['reference-bert-mini', 'baseline', 43, 'done'], ['reference-bert-mini', 'baseline', 44, 'done'],
      ['reference-bert-mini-deep', 'deepened', 42, 'done'], ['reference-bert-mini-deep', 'deepened', 43, 'done'], ['reference-bert-mini-deep', 'deepened', 44, 'done'],
    ]);
    const panel = a.panel();
    assert.ok(panel, 'the panel did not open');
    await panel.whenReady();
    assert.equal(panel.finetuneResults?.outDir, out);
    // The watcher follows the files: a third run appears without another command.
    const extra = path.join(out, 'zz-extra');
    const doc = JSON.parse(fs.readFileSync(path.join(out, 'reference-bert-mini', 'seed-42', 'results.json'), 'utf8'));
    fs.mkdirSync(extra, { recursive: true });
    const write = () => fs.writeFileSync(path.join(extra, 'results.json'), JSON.stringify({ ...doc, model_name: 'zz-extra', model: extra, status: 'running', final: null }));
    write();
    try {
      // A just-created file watcher can miss the very first event while it starts up (seen on a
      // loaded machine); finetune.py rewrites results.json after every evaluation, so do the same.
      const deadline = Date.now() + 30_000;
      let lastWrite = Date.now();
      while (Date.now() < deadline && (a.panel()?.finetuneResults?.runs.length ?? 0) < 7) {
        await new Promise((r) => setTimeout(r, 200));
        if (Date.now() - lastWrite > 3_000) {
          write();
          lastWrite = Date.now();
        }
      }
      assert.equal(a.panel()?.finetuneResults?.runs.length, 7, 'the watcher did not post the new results file');
    } finally {
      fs.rmSync(extra, { recursive: true, force: true });
      await vscode.commands.executeCommand('layer-lens.showFinetuneResults', out);
    }
  });

  it('"Fine-tune…" follows its own task with no file events for the run folder: a live run count, then every run\'s numbers from its results file and the paired verdict', async function () {
    this.timeout(300_000);
    const a = await api();
    const python = process.env.LAYER_LENS_E2E_PYTHON!;
    assert.ok(python && fs.existsSync(python), `fine-tuning needs the test Python (${python}); run scripts/install-python.sh`);
    const root = vscode.extensions.getExtension(EXT_ID)!.extensionPath;
    const base = a.sampleModelDir;
    const deep = path.join(WS, '.layer-lens', 'models', 'reference-bert-mini-deep');
    fs.rmSync(deep, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(deep), { recursive: true });
    const d = spawnSync(process.execPath, [path.join(root, 'dist', 'cli.js'), 'deepen', base, '--plan', '0-3,3', '--out', deep], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(d.status, 0, d.stderr);
    // The workspace settings exclude this folder from file watching (test/e2e/fixtures.ts): only polling can follow it.
    const out = path.join(WS, '.layer-lens', 'runs', 'ft-live');
    fs.rmSync(out, { recursive: true, force: true });
    const before = { ...a.finetuneStats(), notices: a.finetuneStats().notices.length };
    const ended = taskEnded('layer-lens-finetune');
    const execution = await vscode.commands.executeCommand<vscode.TaskExecution>('layer-lens.finetune', {
      models: [base, deep], data: path.join(root, 'data', 'source-clf', 'train.tsv'), out, maxSteps: 2, seeds: 2, evalSteps: 1, backend: 'torch', python, useDefaults: true,
    });
    assert.ok(execution, 'no task started');
    const args = (execution.task.execution as vscode.ProcessExecution).args;
    assert.ok(args.includes('--seeds=2') && args.includes('--eval-steps=1'), `task args: ${args.join(' ')}`);
    // What the view's heading says while the task runs: the count goes up run by run.
    const seen: string[] = [];
    let done = false;
    void ended.then(() => (done = true));
    while (!done) {
      const live = a.panel()?.finetuneResults;
      if (live?.outDir === out) {
        const line = finetuneSummary(live);
        if (seen.at(-1) !== line) seen.push(line);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(await ended, 0, 'finetune.py failed; see its terminal');
    // The last read happens when the task process ends.
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (a.panel()?.finetuneResults?.taskRunning !== false || a.panel()?.finetuneResults?.outDir !== out)) await new Promise((r) => setTimeout(r, 100));
    const data = a.panel()!.finetuneResults!;
    const stats = a.finetuneStats();
    console.log(`fine-tune view while the task ran: ${JSON.stringify(seen)}; watcher events ${stats.watcherEvents - before.watcherEvents}, ` +
      `poll changes ${stats.pollChanges - before.pollChanges} of ${stats.pollChecks - before.pollChecks} checks, end reads ${stats.endReads - before.endReads}`);
    assert.equal(data.outDir, out);
    assert.equal(data.expected, 4);
    assert.equal(data.taskRunning, false);
    assert.equal(finetuneSummary(data), '4 of 4 runs done');
    assert.equal(stats.watcherEvents, before.watcherEvents, 'file events arrived for an excluded folder: this test would not show that polling works');
    assert.ok(stats.pollChanges > before.pollChanges, 'polling saw no change');
    // Live: counts seen before the end, with a run going.
    assert.ok(seen.some((l) => /^[0-3] of 4 runs done · 1 running/.test(l)), `no live count seen: ${JSON.stringify(seen)}`);
    assert.ok(seen.some((l) => / to start$/.test(l)), `no "to start" seen: ${JSON.stringify(seen)}`);
    // Every run's numbers are those of its results file.
    assert.deepEqual(data.runs.map((r) => [r.name, r.role, r.seed, r.status]).sort(), [
      ['reference-bert-mini', 'baseline', 42, 'done'], ['reference-bert-mini', 'baseline', 43, 'done'],
      ['reference-bert-mini-deep', 'deepened', 42, 'done'], ['reference-bert-mini-deep', 'deepened', 43, 'done'],
    ]);
    for (const r of data.runs) {
      const file = JSON.parse(fs.readFileSync(path.join(out, r.name, `seed-${r.seed}`, 'results.json'), 'utf8'));
      assert.equal(r.latest?.accuracy, file.final.accuracy, `${r.name} seed ${r.seed}: accuracy`);
      assert.equal(r.latest?.evalLoss, file.final.eval_loss, `${r.name} seed ${r.seed}: eval loss`);
      assert.deepEqual(r.epochs.map((e) => [e.step, e.at]), [[1, 'step'], [2, 'end']]);
      assert.ok(file.final.accuracy > 0 && file.final.accuracy < 1);
    }
    const c = compareFinetune(data);
    const deepGroup = c.groups.find((g) => g.role === 'deepened')!;
    assert.deepEqual(deepGroup.delta.accuracy?.seeds, [42, 43]);
    const verdict = verdictLine(deepGroup, c.baseline!);
    const notices = stats.notices.slice(before.notices);
    console.log(`notices: ${JSON.stringify(notices)}`);
    assert.equal(notices.filter((n) => / finished: accuracy /.test(n)).length, 4, 'one notice per finished run');
    assert.ok(notices.some((n) => n.includes(verdict)), `no notice with the verdict "${verdict}"`);
  });

  it('exports CSV, summary CSV, JSON and chart SVG through the export buttons\' code path', async () => {
    const a = await api();
    const sentence = 'the cat sat on the mat';
    const report = await a.probe({ model: a.sampleModelDir, sentences: [sentence] });
    assert.ok(report);
    const panel = a.panel()!;
    await panel.whenReady();
    const run = panel.hostState.runs.at(-1)!;
    assert.equal(run.report, report);
    const dir = path.join(WS, '.exports');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const write = async (format: 'csv' | 'summary-csv' | 'json' | 'svg', name: string) => {
      const target = vscode.Uri.file(path.join(dir, name));
      const written = await panel.export(format, run.id, undefined, target);
      assert.equal(written?.fsPath, target.fsPath, `${format} export wrote nothing`);
      return fs.readFileSync(target.fsPath, 'utf8');
    };
    const L1 = report.summary.length; // L+1 rows: h0..hL
    const tokens = report.sentences[0].tokens;
    const labels = report.summary.map((s) => s.label);

    // Cells CSV: a header, then L+1 rows per token, each (layer, position) exactly once.
    const csv = parseCsv(await write('csv', 'cells.csv'));
    const header = csv[0];
    assert.equal(header[0], 'sentence');
    assert.equal(csv.length - 1, L1 * tokens.length, `cells CSV has ${csv.length - 1} rows; want ${L1} × ${tokens.length}`);
    const col = (name: string) => header.indexOf(name);
    const rows = csv.slice(1);
    tokens.forEach((tok, p) => {
      const mine = rows.filter((r) => r[col('position')] === String(p));
      assert.equal(mine.length, L1, `token ${p} (${tok}) has ${mine.length} rows`);
      assert.deepEqual(mine.map((r) => r[col('layer')]), labels, `layers of token ${p}`);
      assert.ok(mine.every((r) => r[col('token')] === tok), `token column of position ${p}`);
    });
    const last = report.sentences[0].layers.at(-1)!;
    const top1Last = rows.filter((r) => r[col('layer')] === labels.at(-1)).map((r) => r[col('top1_id')]);
    assert.deepEqual(top1Last, [...last.top1].map(String), 'top-1 ids of the last layer');

    // Summary CSV: a header and one row per layer.
    const summary = parseCsv(await write('summary-csv', 'summary.csv'));
    assert.equal(summary[0][0], 'layer');
    assert.deepEqual(summary.slice(1).map((r) => r[0]), labels);

    // JSON: the report itself.
    const json = JSON.parse(await write('json', 'report.json'));
    assert.equal(json.sentences.length, 1);
    assert.deepEqual(json.sentences[0].tokens, tokens);
    assert.equal(json.sentences[0].layers.length, L1);
    assert.deepEqual(json.summary.map((s: { label: string }) => s.label), labels);

    // SVG: well-formed XML with the layer labels.
    const svg = await write('svg', 'chart.svg');
    assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assertWellFormedXml(svg);
    for (const label of labels) assert.ok(new RegExp(`>${label}<|${label}:`).test(svg), `layer label ${label} missing from the SVG`);
    assert.ok(!svg.includes('var(--'), 'the exported SVG uses theme variables, which mean nothing outside VS Code');
    assert.ok(svg.includes('>accuracy (%)<') && svg.includes('>mean log p (nats)<'), 'the chart has one y-axis title per small multiple');
    assert.match(svg, /Reconstruction by layer · reference-bert-mini · plan 0-3/);

    // Heatmap SVG of the sentence, in the statistic asked for: a cell per layer × token, named.
    const heatTarget = vscode.Uri.file(path.join(dir, 'heatmap.svg'));
    assert.equal((await panel.export('heatmap-svg', run.id, undefined, heatTarget, { sentence: 0, stat: 'rank' }))?.fsPath, heatTarget.fsPath);
    const heat = fs.readFileSync(heatTarget.fsPath, 'utf8');
    assertWellFormedXml(heat);
    assert.match(heat, /aria-label="rank of the input \(log scale\) by layer and token · reference-bert-mini · plan 0-3"/);
    assert.equal((heat.match(/<rect [^>]*><title>/g) ?? []).length, L1 * tokens.length);
    for (const tok of tokens.filter((t) => /^\w+$/.test(t))) assert.ok(heat.includes(`>${tok}<`), `token ${tok} missing from the heatmap`);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('rejects a folder that is not a model with a clear message', async () => {
    const a = await api();
    await assert.rejects(a.probe({ model: path.join(WS, 'other') }), /not a model folder.*model_type/);
  });
});

/** Throws unless `xml` is one well-formed element tree (balanced, properly nested tags, escaped text). */
function assertWellFormedXml(xml: string): void {
  const stack: string[] = [];
  let roots = 0;
  const text = xml.trim();
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/g;
  let m: RegExpExecArray | null;
  while ((m = tag.exec(text))) {
    const [, close, name, , selfClose, chars, stray] = m;
    if (stray) throw new Error(`SVG is not well-formed: stray "<" at ${m.index}: ${text.slice(m.index, m.index + 40)}`);
    if (chars !== undefined) {
      if (stack.length === 0 && chars.trim()) throw new Error(`SVG has text outside the root: ${chars.slice(0, 40)}`);
      if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(chars)) throw new Error(`unescaped & in SVG text: ${chars.slice(0, 40)}`);
      continue;
    }
    if (close) {
      const open = stack.pop();
      if (open !== name) throw new Error(`SVG is not well-formed: </${name}> closes <${open}>`);
    } else {
      if (stack.length === 0) roots++;
      if (!selfClose) stack.push(name);
    }
  }
  if (stack.length) throw new Error(`SVG is not well-formed: unclosed <${stack.join('> <')}>`);
  if (roots !== 1) throw new Error(`SVG has ${roots} root elements`);
}

/** RFC 4180 rows (quoted fields may hold commas, quotes and newlines). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n') { row.push(field); rows.push(row); row = []; field = ''; }
    else if (c !== '\r') field += c;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}
