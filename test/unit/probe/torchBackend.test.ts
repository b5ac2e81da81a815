/**
 * The PyTorch backend (issue 13): python/probe_torch.py, under torchrun with 2 CPU processes (gloo),
 * writes a report that equals the ORT engine's (`layer-lens probe --file`) on the reference model —
 * counts, hits, median ranks and top-1 identical, log p / entropy / KL and the bootstrap intervals
 * to ≤ 1e-4 (relative beyond 1 nat); ranks within one place or 0.1% (float near-ties; median
 * ranks equal) — and so do one-process runs on tiny HF-built
 * models of seven families, plans included. Its rank files merge with `layer-lens merge` into the
 * same figures; a torch shard among ORT shards, and an unsupported model_type, are refused in one line.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { hasHfPython, ROOT, TEST_PYTHON } from '../helpers/python';
import { skipBecause } from '../helpers/pending';

const CLI = path.join(ROOT, 'dist', 'cli.js');
const SCRIPT = path.join(ROOT, 'python', 'probe_torch.py');
const TORCHRUN = path.join(path.dirname(TEST_PYTHON), 'torchrun');
const TOLERANCE = 1e-4;

interface Summary { label: string; count: number; accuracy: number; meanLogProb: number; medianRank: number; meanEntropy: number; meanKL: number; accuracyCI?: number[]; meanLogProbCI?: number[] }
interface Cells { top1: number[]; inputLogProb: number[]; rank: number[]; entropy: number[]; kl: number[] }
interface Report {
  summary: Summary[];
  aggregates: { count: number; hits: number; rankHistogram: Record<string, number> }[];
  rows: { i: number; n: number; hits: number[] }[];
  sentences: { index: number; ids: number[]; layers: Cells[] }[];
  backend?: { name: string; processes: number };
  corpus: { probed: number; mergedFrom?: string[] };
}

const env = { ...process.env, OMP_NUM_THREADS: '1', HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', TQDM_DISABLE: '1', TRANSFORMERS_VERBOSITY: 'error' };
const rankDrift = { worst: 0, moved: 0, cells: 0 };
const read = (f: string) => JSON.parse(fs.readFileSync(f, 'utf8')) as Report;

function run(cmd: string, args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 300_000, env });
  return { status: r.status, stderr: r.stderr ?? String(r.error) };
}

/** The largest difference in any compared figure; identical counts, hits, ranks and top-1 asserted on the way. */
function compare(torch: Report, ort: Report, where: string): number {
  let worst = 0;
  // Relative beyond 1 nat: float32 over a 30k vocabulary carries ~1e-5 relative error either way,
  // and KL of a peaked random model reaches 30 nats (measured 1.1e-4 absolute there, 3.6e-6 relative).
  const near = (a: number, b: number, what: string) => {
    const d = Math.abs(a - b) / Math.max(1, Math.abs(b));
    worst = Math.max(worst, d);
    assert.ok(d <= TOLERANCE, `${where} ${what}: torch ${a}, ORT ${b}`);
  };
  assert.equal(torch.summary.length, ort.summary.length, `${where}: layers`);
  torch.summary.forEach((s, l) => {
    const o = ort.summary[l];
    assert.equal(s.label, o.label);
    assert.equal(s.count, o.count, `${where} ${s.label}: count`);
    assert.equal(torch.aggregates[l].hits, ort.aggregates[l].hits, `${where} ${s.label}: hits`);
    assert.equal(s.medianRank, o.medianRank, `${where} ${s.label}: median rank`);
    for (const k of ['meanLogProb', 'meanEntropy', 'meanKL'] as const) near(s[k], o[k], `${s.label} ${k}`);
    for (const k of ['accuracyCI', 'meanLogProbCI'] as const) s[k]!.forEach((v, j) => near(v, o[k]![j], `${s.label} ${k}[${j}]`));
  });
  assert.deepEqual(torch.rows.map((r) => [r.i, r.n, r.hits]), ort.rows.map((r) => [r.i, r.n, r.hits]), `${where}: per-sentence rows`);
  assert.equal(torch.sentences.length, ort.sentences.length);
  torch.sentences.forEach((s, k) => {
    const o = ort.sentences[k];
    assert.deepEqual(s.ids, o.ids, `${where} sentence ${s.index}: ids`);
    s.layers.forEach((c, l) => {
      assert.deepEqual(c.top1, o.layers[l].top1, `${where} sentence ${s.index} h${l}: top-1`);
      // Past the top-1 a rank can move by a place where two logits lie within float error of each
      // other, and deep in the vocabulary thousands do: one place, or 0.1% of the rank, is allowed.
      c.rank.forEach((r, p) => {
        const q = o.layers[l].rank[p];
        rankDrift.worst = Math.max(rankDrift.worst, Math.abs(r - q));
        rankDrift.moved += r === q ? 0 : 1;
        assert.ok(Math.abs(r - q) <= Math.max(1, 1e-3 * q), `${where} sentence ${s.index} h${l} p${p}: rank ${r} vs ${q}`);
        rankDrift.cells++;
      });
      c.inputLogProb.forEach((v, p) => near(v, o.layers[l].inputLogProb[p], `sentence ${s.index} h${l} p${p} log p`));
      c.kl.forEach((v, p) => near(v, o.layers[l].kl[p], `sentence ${s.index} h${l} p${p} KL`));
    });
  });
  return worst;
}

describe('PyTorch backend (python/probe_torch.py) against the ORT engine', function () {
  this.timeout(900_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'll-torch-'));
  const corpus = path.join(dir, 'corpus.txt');
  const lines = fs.readFileSync(path.join(ROOT, 'data/heldout-sentences.txt'), 'utf8').split('\n').filter((l) => l.trim()).slice(0, 60);
  lines.push(`${lines[0]}\t${lines[1]}`);
  const summaryLines: string[] = [];

  before(function () {
    if (!hasHfPython()) {
      assert.ok(!process.env.CI, `CI must run the PyTorch backend: ${TEST_PYTHON} cannot import torch and transformers`);
      skipBecause(this, `${TEST_PYTHON} has no torch/transformers (scripts/install-python.sh)`);
    }
    fs.writeFileSync(corpus, lines.join('\n') + '\n');
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    if (summaryLines.length) {
      console.log(`\n  PyTorch backend vs ORT (max |Δ| / max(1, |x|) over per-layer means, intervals, log p and KL cells):\n${summaryLines.map((l) => `    ${l}`).join('\n')}`);
      console.log(`    ranks: ${rankDrift.moved} of ${rankDrift.cells} cells moved, by at most ${rankDrift.worst} place(s)\n`);
    }
  });

  it('reference model, torchrun with 2 CPU processes (gloo): the merged report equals the ORT run; layer-lens merge of its rank files too', () => {
    const model = path.join(ROOT, 'models', 'reference-bert-mini');
    const ort = path.join(dir, 'ref-ort.json');
    const torch = path.join(dir, 'ref-torch.json');
    let r = run(process.execPath, [CLI, 'probe', model, '--file', corpus, '--json', ort, '--threads', '2']);
    assert.equal(r.status, 0, r.stderr);
    r = run(TORCHRUN, ['--standalone', '--nproc_per_node', '2', SCRIPT, '--model', model, '--file', corpus, '--out', torch]);
    assert.equal(r.status, 0, r.stderr.slice(-3000));
    const merged = read(torch);
    assert.equal(merged.backend?.name, 'pytorch');
    assert.equal(merged.backend?.processes, 2);
    assert.equal(merged.corpus.mergedFrom?.length, 2);
    const worst = compare(merged, read(ort), 'reference');
    summaryLines.push(`reference-bert-mini, 2 processes: ${lines.length} sentences, max |Δ| ${worst.toExponential(2)}, counts, hits, median ranks and top-1 identical`);

    const viaCli = path.join(dir, 'ref-merged-by-cli.json');
    r = run(process.execPath, [CLI, 'merge', ...merged.corpus.mergedFrom!, '--json', viaCli]);
    assert.equal(r.status, 0, r.stderr);
    const again = read(viaCli);
    assert.deepEqual(again.aggregates.map((a) => [a.count, a.hits, a.rankHistogram]), merged.aggregates.map((a) => [a.count, a.hits, a.rankHistogram]), 'layer-lens merge of the rank files');
    again.summary.forEach((s, l) => assert.ok(Math.abs(s.meanLogProb - merged.summary[l].meanLogProb) < 1e-9 && Math.abs(s.accuracyCI![0] - merged.summary[l].accuracyCI![0]) < 1e-9));

    // A torch shard among ORT shards: refused, the backends agree to float error, not bit for bit.
    const s1 = path.join(dir, 'ort-s1.json');
    assert.equal(run(process.execPath, [CLI, 'probe', model, '--file', corpus, '--shard', '1/2', '--json', s1, '--threads', '2']).status, 0);
    const mixed = run(process.execPath, [CLI, 'merge', s1, merged.corpus.mergedFrom![1], '--json', path.join(dir, 'x.json')]);
    assert.notEqual(mixed.status, 0);
    assert.match(mixed.stderr.trim(), /different backend/);
    assert.equal(mixed.stderr.trim().split('\n').length, 1);
  });

  const FAMILIES: [string, string | undefined][] = [
    ['bert', '0,1,1,2'], ['roberta', undefined], ['distilbert', '2,1,0'], ['electra', undefined],
    ['modernbert', '0,2,1,1'], ['eurobert', '1,0,1'], ['deberta', undefined],
  ];
  for (const [family, plan] of FAMILIES) {
    it(`tiny ${family} built by HF${plan ? `, plain and along plan ${plan}` : ''}: one process equals the ORT run`, () => {
      const model = path.join(dir, family);
      let r = run(TEST_PYTHON, [path.join(ROOT, 'python', 'random_family.py'), '--tiny', '--family', family, '--out', model]);
      assert.equal(r.status, 0, r.stderr);
      const figures: string[] = [];
      for (const p of [undefined, plan].filter((x, k) => k === 0 || x)) {
        const tag = p ? `plan-${p.replace(/,/g, '_')}` : 'plain';
        const ort = path.join(dir, `${family}-${tag}-ort.json`);
        const torch = path.join(dir, `${family}-${tag}-torch.json`);
        r = run(process.execPath, [CLI, 'probe', model, '--file', corpus, '--json', ort, '--threads', '2', ...(p ? ['--layers', p] : [])]);
        assert.equal(r.status, 0, r.stderr);
        r = run(TEST_PYTHON, [SCRIPT, '--model', model, '--file', corpus, '--out', torch, ...(p ? ['--plan', p] : [])]);
        assert.equal(r.status, 0, r.stderr.slice(-3000));
        figures.push(`${p ?? 'plain'} ${compare(read(torch), read(ort), `${family} ${tag}`).toExponential(2)}`);
      }
      summaryLines.push(`tiny ${family}: ${figures.join(', ')}`);
    });
  }

  it('refuses an unsupported model_type and a bad --shard in one line', () => {
    const other = path.join(dir, 'gpt');
    fs.mkdirSync(other, { recursive: true });
    fs.writeFileSync(path.join(other, 'config.json'), JSON.stringify({ model_type: 'gpt2', n_layer: 2 }));
    let r = run(TEST_PYTHON, [SCRIPT, '--model', other, '--file', corpus, '--out', path.join(dir, 'x.json')]);
    assert.equal(r.status, 2);
    assert.match(r.stderr.trim(), /^probe_torch: .*model_type "gpt2" is not supported/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    r = run(TEST_PYTHON, [SCRIPT, '--model', path.join(ROOT, 'models', 'reference-bert-mini'), '--file', corpus, '--out', path.join(dir, 'x.json'), '--shard', '3/2']);
    assert.equal(r.status, 2);
    assert.match(r.stderr.trim(), /^probe_torch: --shard must be i\/N/);
    assert.ok(!fs.existsSync(path.join(dir, 'x.json')));
  });
});
