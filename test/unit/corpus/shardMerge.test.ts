/**
 * Sharded corpus probes merge exactly (issue 13), through the real CLI on the embedded reference
 * model: three `--shard i/3` reports merged by `layer-lens merge` equal the unsharded run — counts,
 * hits and rank histograms bit for bit, sums of log p / entropy / KL to float error (entropy and KL
 * come out of batches padded differently, measured ≤ 4.1e-5 absolute on sums of ~1e4) — and merge
 * refuses reports of another plan or a missing shard with one line.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ProbeEngine } from '../../../src/core/probe/engine';
import { writeLens } from '../helpers/lensFolder';

const ROOT = path.resolve(__dirname, '../../../..');
const CLI = path.join(ROOT, 'dist/cli.js');

interface Aggregate { label: string; count: number; hits: number; unavailable: number; sumLogProb: number; sumEntropy: number; sumKL: number; rankHistogram: unknown }
interface Report { aggregates: Aggregate[]; summary: Array<{ label: string; accuracy: number; medianRank: number }>; sentences: Array<{ text: string }> }

function cli(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, stderr: r.stderr };
}

describe('sharded corpus probes and merge (CLI, reference model)', function () {
  this.timeout(600_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'll-shards-'));
  const corpus = path.join(dir, 'corpus.txt');
  const lines = fs.readFileSync(path.join(ROOT, 'data/heldout-sentences.txt'), 'utf8').split('\n').filter((l) => l.trim()).slice(0, 61);
  // A few sentence pairs too (text<TAB>pair).
  lines.push(`${lines[0]}\t${lines[1]}`, `${lines[2]}\t${lines[3]}`);
  fs.writeFileSync(corpus, lines.join('\n') + '\n');
  const read = (f: string) => JSON.parse(fs.readFileSync(f, 'utf8')) as Report;

  let whole: Report;
  let merged: Report;
  before(() => {
    assert.equal(cli(['probe', '--file', corpus, '--json', path.join(dir, 'all.json'), '--threads', '1']).status, 0);
    for (const i of [1, 2, 3]) {
      const r = cli(['probe', '--file', corpus, '--shard', `${i}/3`, '--json', path.join(dir, `s${i}.json`), '--threads', '1']);
      assert.equal(r.status, 0, r.stderr);
    }
    const m = cli(['merge', ...[3, 1, 2].map((i) => path.join(dir, `s${i}.json`)), '--json', path.join(dir, 'merged.json')]);
    assert.equal(m.status, 0, m.stderr);
    whole = read(path.join(dir, 'all.json'));
    merged = read(path.join(dir, 'merged.json'));
  });

  it('counts, hits and rank histograms equal the unsharded run bit for bit; sums to float error', () => {
    assert.equal(merged.aggregates.length, whole.aggregates.length);
    let worst = 0;
    whole.aggregates.forEach((w, l) => {
      const m = merged.aggregates[l];
      assert.equal(m.label, w.label);
      assert.equal(m.count, w.count);
      assert.equal(m.hits, w.hits);
      assert.equal(m.unavailable, w.unavailable);
      assert.deepEqual(m.rankHistogram, w.rankHistogram);
      for (const k of ['sumLogProb', 'sumEntropy', 'sumKL'] as const) {
        const d = Math.abs(m[k] - w[k]);
        worst = Math.max(worst, d / Math.max(1, Math.abs(w[k])));
        assert.ok(d <= 1e-7 * Math.max(1, Math.abs(w[k])), `${w.label} ${k}: ${m[k]} vs ${w[k]}`);
      }
    });
    console.log(`      ${lines.length} lines in 3 shards: counts/hits/histograms identical, worst relative sum difference ${worst.toExponential(2)}`);
    assert.deepEqual(merged.summary.map((s) => [s.label, s.accuracy, s.medianRank]), whole.summary.map((s) => [s.label, s.accuracy, s.medianRank]));
    assert.deepEqual(merged.sentences.map((s) => s.text).sort(), whole.sentences.map((s) => s.text).sort());
  });

  it('refuses a report of another plan, and a missing shard, with one line', () => {
    assert.equal(cli(['probe', '--file', corpus, '--shard', '1/3', '--layers', '0-3,3', '--json', path.join(dir, 'p1.json'), '--threads', '1']).status, 0);
    const plan = cli(['merge', path.join(dir, 'p1.json'), path.join(dir, 's2.json'), path.join(dir, 's3.json'), '--json', path.join(dir, 'x.json')]);
    assert.notEqual(plan.status, 0);
    assert.match(plan.stderr.trim(), /^layer-lens: .*different plan.*0-3,3/);
    assert.equal(plan.stderr.trim().split('\n').length, 1);
    const missing = cli(['merge', path.join(dir, 's1.json'), path.join(dir, 's2.json'), '--json', path.join(dir, 'x.json')]);
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr.trim(), /shard\(s\) 3\/3 missing/);
    assert.ok(!fs.existsSync(path.join(dir, 'x.json')), 'a refused merge writes nothing');
  });

  it('merges tuned-lens shards like raw ones, and refuses a raw shard among them in one line', async () => {
    // The report schema once lacked `lens`, so merge refused every tuned-lens report as "unknown field".
    const lensDir = path.join(dir, 'lens');
    const engine = ProbeEngine.load(path.join(ROOT, 'models', 'reference-bert-mini'), { threads: 1 });
    try {
      writeLens(lensDir, engine, 0.01);
    } finally {
      await engine.dispose();
    }
    const small = path.join(dir, 'small.txt');
    fs.writeFileSync(small, lines.slice(0, 12).join('\n') + '\n');
    const lens = ['--lens', `tuned:${lensDir}`, '--threads', '1'];
    assert.equal(cli(['probe', '--file', small, ...lens, '--json', path.join(dir, 't-all.json')]).status, 0);
    for (const i of [1, 2]) assert.equal(cli(['probe', '--file', small, '--shard', `${i}/2`, ...lens, '--json', path.join(dir, `t${i}.json`)]).status, 0);
    const m = cli(['merge', path.join(dir, 't1.json'), path.join(dir, 't2.json'), '--json', path.join(dir, 't-merged.json')]);
    assert.equal(m.status, 0, m.stderr);
    const [all, tm] = [read(path.join(dir, 't-all.json')), read(path.join(dir, 't-merged.json'))];
    assert.deepEqual(tm.aggregates.map((a) => [a.count, a.hits]), all.aggregates.map((a) => [a.count, a.hits]));
    assert.equal((tm as unknown as { lens?: { kind: string } }).lens?.kind, 'tuned');
    assert.equal(cli(['probe', '--file', small, '--shard', '2/2', '--threads', '1', '--json', path.join(dir, 'r2.json')]).status, 0);
    const mixed = cli(['merge', path.join(dir, 't1.json'), path.join(dir, 'r2.json'), '--json', path.join(dir, 'x2.json')]);
    assert.notEqual(mixed.status, 0);
    assert.match(mixed.stderr.trim(), /lens/);
    assert.equal(mixed.stderr.trim().split('\n').length, 1);
  });
});
