/**
 * The report's 95% bootstrap intervals (issue 12) against an independent numpy implementation
 * (python/bootstrap_check.py): it redraws the same sentence indices with its own mulberry32,
 * recomputes the ratios of sums and takes numpy's percentiles. Measured: identical (max |Δ| 0.0) on
 * 60 held-out sentences of the reference model; 1e-12 leaves room for numpy's pairwise summation
 * order only. The same check with another seed must disagree, so the comparison can fail.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, TEST_PYTHON, hasHfPython } from '../helpers/python';

const CLI = path.join(ROOT, 'dist/cli.js');
const CHECK = path.join(ROOT, 'python/bootstrap_check.py');

interface Check { sentences: number; layers: number; resamples: number; maxAbsDiffCI: number; maxRelDiffRowSums: number; widthAcc: number[] }

function check(report: string, seed?: number): Check {
  const r = spawnSync(TEST_PYTHON, [CHECK, report, ...(seed === undefined ? [] : [String(seed)])], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Check;
}

describe('bootstrap intervals equal an independent numpy implementation (reference model)', function () {
  this.timeout(300_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'll-bootstrap-'));
  const report = path.join(dir, 'report.json');

  before(function () {
    assert.ok(hasHfPython(), `the test Python (${TEST_PYTHON}) with numpy is required: run scripts/install-python.sh`);
    const lines = fs.readFileSync(path.join(ROOT, 'data/heldout-sentences.txt'), 'utf8').split('\n').filter((l) => l.trim()).slice(0, 60);
    fs.writeFileSync(path.join(dir, 'corpus.txt'), lines.join('\n') + '\n');
    const r = spawnSync(process.execPath, [CLI, 'probe', '--file', path.join(dir, 'corpus.txt'), '--json', report, '--threads', '1'], { encoding: 'utf8', timeout: 300_000 });
    assert.equal(r.status, 0, r.stderr);
  });

  it('the same resamples give the same 2.5/97.5 percentiles for accuracy and mean log p on every layer', () => {
    const c = check(report);
    console.log(`      ${c.sentences} sentences × ${c.layers} layers, ${c.resamples} resamples: max |Δ CI| ${c.maxAbsDiffCI.toExponential(1)}, row sums vs aggregates ${c.maxRelDiffRowSums.toExponential(1)} relative; accuracy CI widths ${c.widthAcc.map((w) => (100 * w).toFixed(1)).join(' / ')} pts`);
    assert.equal(c.sentences, 60);
    assert.ok(c.maxAbsDiffCI <= 1e-12, `CI differs from numpy by ${c.maxAbsDiffCI}`);
    assert.ok(c.maxRelDiffRowSums <= 1e-12, `rows do not add up to the aggregates: ${c.maxRelDiffRowSums}`);
    for (const w of c.widthAcc) assert.ok(w > 0.01 && w < 0.2, `implausible interval width ${w}`);
  });

  it('another seed gives other intervals (the comparison can fail)', () => {
    assert.ok(check(report, 1).maxAbsDiffCI > 1e-4);
  });
});
