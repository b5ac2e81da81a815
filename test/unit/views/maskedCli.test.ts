/**
 * `layer-lens probe --mask-gold/--mask-each` on the embedded reference model. The final-layer
 * figures are HF's: BertForMaskedLM (transformers 5.24, float32) gives log p("mat") = −10.5921 at
 * the [MASK] of "the cat sat on the [MASK]." and a pseudo-log-likelihood of −24.0278 when each
 * other word is masked in turn (python, this repository's venv, 2026-12-02).
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const CLI = path.resolve(__dirname, '../../../../dist/cli.js');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('views: CLI masked-token mode against HF', function () {
  this.timeout(180_000);

  it('--mask-gold and --mask-each print the mask summary, the PLL and its cost; JSON holds them', () => {
    const json = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'll-mask-')), 'r.json');
    const r = cli('probe', '--text', 'the cat sat on the [MASK].', '--mask-gold', 'mat', '--mask-each', '--threads', '1', '--json', json);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Masked positions \(1 with a gold token\)/);
    assert.match(r.out, /h4\s+L3\s+0\.0%\s+-10\.592\s+6009/);
    assert.match(r.out, /Each token masked in turn \(pseudo-log-likelihood\): 6 extra sequences, 54 tokens/);
    assert.match(r.out, /PLL \(sum of log p over 6 tokens\):.* h4 -24\.03/);
    assert.match(r.out, /\[MASK\]=mat/);
    assert.match(r.out, /\[MASK\] at token 6 \(gold "mat"\):/);
    const report = JSON.parse(fs.readFileSync(json, 'utf8'));
    const last = report.sentences[0].layers.at(-1);
    assert.ok(Math.abs(last.inputLogProb[6] - -10.5921) < 1e-3, `log p(mat) ${last.inputLogProb[6]}`);
    const pll = report.pllSummary.at(-1);
    assert.ok(Math.abs(pll.meanLogProb * pll.count - -24.0278) < 1e-3, `PLL ${pll.meanLogProb * pll.count}`);
    assert.equal(report.maskToken, '[MASK]');
    assert.deepEqual(report.pllCost.sequences, 6);
  });

  it('--mask-gold without a mask, or with a word the vocabulary splits, is one clear line', () => {
    const a = cli('probe', '--text', 'the cat', '--mask-gold', 'mat');
    assert.equal(a.code, 1);
    assert.match(a.err, /input 1 has 0 \[MASK\] token\(s\) but 1 gold token\(s\) were given/);
    assert.ok(!/\n\s+at /.test(a.err), a.err);
    const b = cli('probe', '--text', 'the [MASK]', '--mask-gold', 'zyzzogeton');
    assert.equal(b.code, 1);
    assert.match(b.err, /the gold token "zyzzogeton" is not one token of the vocabulary/);
  });
});
