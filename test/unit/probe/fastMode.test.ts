/**
 * Fast mode (int8 decoder, top-16 rescored in fp32) against the exact probe on the reference
 * model over the held-out corpus, through the engine and through the CLI. The bounds are the
 * issue's targets; the figures measured when this was written are in the comments.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compareReports } from '../../../src/core/probe/agreement';
import { ProbeEngine } from '../../../src/core/probe/engine';
import { readSentenceFile } from '../../../src/core/probe/inputs';
import { int8KernelFor, localInt8Kernel, readCpuFlags } from '../../../src/core/probe/int8Kernel';
import { ProbeReport } from '../../../src/core/probe/report';
import { fastModeLines, summaryColumnName } from '../../../src/shared/fastMode';
import { isWebviewMessage } from '../../../src/shared/protocol';

const ROOT = path.resolve(__dirname, '../../../..');
const MODEL = path.join(ROOT, 'models', 'reference-bert-mini');
const CORPUS = path.join(ROOT, 'data', 'heldout-sentences.txt');
const CLI = path.join(ROOT, 'dist', 'cli.js');

const kernel = localInt8Kernel();
// The engine tests run the int8 head on any CPU, so its graph is tested everywhere; the product
// turns it on only where the kernel is VNNI/AMX-class (int8Kernel.ts). Measured on AVX2 without
// VNNI (AMD EPYC): this model's agreement figures are AMX's to the last digit (BERT-base random
// showed the AVX2 kernel's int16 saturation: one top-k order in 21,268 cells), at 1.03–1.06× exact.
const int8Forced = { ...kernel, fast: true };

describe('fast mode vs exact (reference model, held-out corpus)', function () {
  this.timeout(400_000);
  let exact: ProbeReport;
  let fast: ProbeReport;

  before(async function () {
    const engine = ProbeEngine.load(MODEL, { int8Kernel: int8Forced });
    try {
      const inputs = readSentenceFile(CORPUS);
      exact = await engine.probe(inputs, { topK: 5 });
      fast = await engine.probe(inputs, { topK: 5, fast: true });
    } finally {
      await engine.dispose();
    }
  });

  it('top-1 and top-k order identical on every position; mean |Δ log p(input)| ≤ 0.01', () => {
    const a = compareReports(exact, fast);
    // Measured: 42,405 cells (500 sentences × 5 states), top-1 and top-5 order 100%, mean 0.0051, max 0.065.
    assert.equal(a.cells, 42_405);
    assert.equal(a.top1, 1, `top-1 agreement ${a.top1}`);
    assert.equal(a.topKOrder, 1, `top-k order agreement ${a.topKOrder}`);
    assert.ok(a.meanAbsInputLogProb <= 0.01, `mean |Δ log p| ${a.meanAbsInputLogProb}`);
    assert.ok(a.maxAbsInputLogProb <= 0.2, `max |Δ log p| ${a.maxAbsInputLogProb}`);
    // Every accuracy (from top-1) is exact; the approximate means stay close.
    fast.summary.forEach((s, l) => {
      assert.equal(s.accuracy, exact.summary[l].accuracy, `accuracy h${l}`);
      assert.ok(Math.abs(s.meanLogProb - exact.summary[l].meanLogProb) <= 0.01, `mean log p h${l}: ${s.meanLogProb} vs ${exact.summary[l].meanLogProb}`);
    });
  });

  // An input of exact rank r is rescored when it and the r − 1 tokens above it are all among the
  // int8 top 16. Measured: every rank 1–15 exact (34,938 cells); at rank 16, 3 of 71 differ.
  it('ranks 1–15 are exact (the rescored candidates); the input token never outranks itself', () => {
    let within = 0;
    exact.sentences.forEach((s, i) =>
      s.layers.forEach((cells, l) =>
        cells.rank.forEach((r, p) => {
          if (r > 15) return;
          within++;
          assert.equal(fast.sentences[i].layers[l].rank[p], r, `sentence ${i + 1} h${l} position ${p}`);
        }),
      ),
    );
    assert.ok(within > 30_000, `${within} cells with rank ≤ 15`);
  });

  it('the report says it was fast, with a calibration sample that bounds what it measured', () => {
    assert.equal(exact.fast, undefined);
    const f = fast.fast!;
    assert.equal(f.kernel, kernel.name);
    assert.equal(f.candidates, 16);
    const c = f.calibration;
    // 4 positions × 5 states from each of the 36 batches: 720 cells; max |Δ log p| 0.047, mean 0.0071.
    assert.ok(c.cells >= 500, `${c.cells} calibration cells`);
    assert.equal(c.top1Agreement, 1);
    assert.equal(c.topKAgreement, 1);
    assert.ok(c.meanAbsInputLogProb > 0 && c.meanAbsInputLogProb <= 0.02, `calibration mean ${c.meanAbsInputLogProb}`);
    const full = compareReports(exact, fast);
    // The sample's bound is of the same order as the whole run's error (it is a sample, not a proof).
    assert.ok(c.maxAbsInputLogProb >= full.maxAbsInputLogProb / 4, `sample max ${c.maxAbsInputLogProb} vs run max ${full.maxAbsInputLogProb}`);
    assert.ok(c.maxAbsEntropy <= 0.3 && c.maxAbsKl <= 0.3, `entropy ${c.maxAbsEntropy}, KL ${c.maxAbsKl}`);
    const lines = fastModeLines(fast);
    assert.match(lines[0], /^fast mode: int8 decoder \(MLAS/);
    assert.match(lines[1], /^approximate \(≈\), max error on \d+ sampled cells: log p\(input\) [\d.]+ nats/);
    assert.equal(summaryColumnName(fast, 'accuracy'), 'accuracy');
    assert.equal(summaryColumnName(fast, 'entropy'), 'entropy ≈');
    assert.equal(summaryColumnName(exact, 'entropy'), 'entropy');
  });
});

describe('fast mode: CPU kernel choice', () => {
  it('VNNI or AMX runs fast; AVX2-only and unreadable flags run exact, saying why', () => {
    assert.equal(int8KernelFor('x64', new Set(['avx2', 'avx512bw', 'avx512_vnni'])).name, 'MLAS U8S8 AVX512-VNNI (vpdpbusds)');
    assert.equal(int8KernelFor('x64', new Set(['avx2', 'amx_int8', 'avx512_vnni'])).name, 'MLAS U8S8 AMX (tdpbusd)');
    assert.equal(int8KernelFor('x64', new Set(['avx2', 'avx_vnni'])).fast, true);
    const avx2 = int8KernelFor('x64', new Set(['sse4_2', 'avx2', 'fma']));
    assert.equal(avx2.fast, false);
    assert.match(avx2.reason!, /AVX2 but no VNNI\/AMX/);
    assert.equal(int8KernelFor('x64', undefined).fast, false);
    assert.equal(int8KernelFor('arm64', undefined).fast, true);
    const tmp = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'll-cpu-')), 'cpuinfo');
    fs.writeFileSync(tmp, 'processor\t: 0\nflags\t\t: fpu avx2 avx512_vnni\n\nprocessor\t: 1\n');
    assert.deepEqual([...readCpuFlags(tmp)!], ['fpu', 'avx2', 'avx512_vnni']);
    assert.equal(readCpuFlags(path.join(tmp, 'missing')), undefined);
  });

  it('without VNNI/AMX a fast request runs the exact head and warns', async () => {
    const engine = ProbeEngine.load(MODEL, { fast: true, int8Kernel: int8KernelFor('x64', new Set(['avx2'])) });
    try {
      const inputs = [{ text: 'The capital of France is Paris.' }];
      const r = await engine.probe(inputs);
      const exact = await engine.probe(inputs, { fast: false });
      assert.equal(r.fast, undefined);
      assert.ok(r.warnings.some((w) => /fast mode was asked for but the exact head ran: this CPU has AVX2/.test(w)), r.warnings.join('\n'));
      assert.deepEqual(r.sentences, exact.sentences);
      assert.equal(exact.warnings.length, 0);
    } finally {
      await engine.dispose();
    }
  });

  it('the panel toggle message is part of the one protocol', () => {
    assert.equal(isWebviewMessage({ type: 'setFast', fast: true }), true);
    assert.equal(isWebviewMessage({ type: 'setFast', fast: 'yes' }), false);
    assert.equal(isWebviewMessage({ type: 'setFast' }), false);
  });
});

describe('fast mode through the CLI', function () {
  this.timeout(300_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'll-fast-cli-'));
  const corpus = path.join(dir, 'corpus.txt');
  fs.writeFileSync(corpus, fs.readFileSync(CORPUS, 'utf8').split('\n').slice(0, 60).join('\n') + '\n');
  const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, 'probe', ...args], { encoding: 'utf8', timeout: 200_000 });

  // The CLI runs the product's choice of head: int8 on a VNNI/AMX CPU, else exact with one warning.
  const fastCpu = kernel.fast;

  it(`--fast --file: ${fastCpu ? 'the table says the run was fast and marks the approximate figures; top-1 matches exact' : 'on this CPU (no VNNI/AMX) the exact head runs, with one warning saying why'}`, () => {
    const fastJson = path.join(dir, 'fast.json');
    const exactJson = path.join(dir, 'exact.json');
    const f = cli('--fast', '--file', corpus, '--json', fastJson);
    assert.equal(f.status, 0, f.stderr);
    const e = cli('--file', corpus, '--json', exactJson);
    assert.equal(e.status, 0, e.stderr);
    assert.doesNotMatch(e.stdout, /fast mode|≈/);
    const fr = JSON.parse(fs.readFileSync(fastJson, 'utf8')) as ProbeReport;
    const er = JSON.parse(fs.readFileSync(exactJson, 'utf8')) as ProbeReport;
    assert.equal(er.fast, undefined);
    if (!fastCpu) {
      const warnings = f.stdout.split('\n').filter((l) => l.startsWith('warning: fast mode'));
      assert.deepEqual(warnings, [`warning: fast mode was asked for but the exact head ran: ${kernel.reason}`]);
      assert.doesNotMatch(f.stdout, /^fast mode:|≈/m);
      assert.equal(fr.fast, undefined);
      assert.deepEqual(fr.sentences, er.sentences);
      return;
    }
    assert.match(f.stdout, /^fast mode: int8 decoder \(MLAS .*\) with the top 16 of each row rescored in fp32/m);
    assert.match(f.stdout, /^approximate \(≈\), max error on \d+ sampled cells: log p\(input\) [\d.]+ nats \(mean [\d.e-]+\)/m);
    assert.match(f.stdout, /^layer +from +accuracy +95% CI +mean log p ≈ +95% CI +median rank ≈ +entropy ≈ +KL\(final‖h\) ≈$/m);
    assert.equal(fr.fast?.kernel, kernel.name);
    assert.ok(fr.fast!.calibration.cells > 0);
    const a = compareReports(er, fr);
    assert.equal(a.top1, 1);
    assert.equal(a.topKOrder, 1);
    assert.ok(a.meanAbsInputLogProb <= 0.01, `mean |Δ log p| ${a.meanAbsInputLogProb}`);
  });

  it('--fast --text: one sentence, with its top-1 grid', () => {
    const r = cli('--fast', '--text', 'The capital of France is Paris.');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, fastCpu ? /^fast mode: /m : /^warning: fast mode was asked for but the exact head ran: /m);
    assert.match(r.stdout, /^h4 +the +capital +of +france +is +paris +\.$/m);
  });
});
