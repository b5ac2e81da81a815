/**
 * `probe --sublayers` through the real CLI on the embedded reference model (issue 15): the table
 * puts h(l+1)·attn between h(l) and h(l+1); the CSV has the same rows with the cells of the JSON's
 * `sublayers`; reading the extra states leaves the layer rows exactly as a plain run has them; a
 * corpus run refuses the flag in one line. The sub-layer numbers themselves are checked against HF
 * forward hooks in test/unit/hf/sublayerParity.test.ts.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../../../..');
const CLI = path.join(ROOT, 'dist/cli.js');
const TEXT = 'The cat sat on the mat.';

interface Cells { inputLogProb: number[]; top1: number[] }
interface Report { summary: Array<{ label: string; accuracy: number; meanLogProb: number }>; sublayerSummary?: Array<{ label: string; sourceLayer: number }>; sentences: Array<{ layers: Cells[]; sublayers?: Cells[] }> }

function cli(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
}

describe('probe --sublayers (CLI, reference model)', function () {
  this.timeout(300_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'll-sublayers-'));
  let table: string;
  let withSub: Report;
  let plain: Report;
  before(() => {
    const a = cli(['probe', '--text', TEXT, '--sublayers', '--json', path.join(dir, 'sub.json'), '--csv', path.join(dir, 'sub.csv'), '--threads', '1']);
    assert.equal(a.status, 0, a.stderr);
    table = a.stdout;
    assert.equal(cli(['probe', '--text', TEXT, '--json', path.join(dir, 'plain.json'), '--threads', '1']).status, 0);
    withSub = JSON.parse(fs.readFileSync(path.join(dir, 'sub.json'), 'utf8')) as Report;
    plain = JSON.parse(fs.readFileSync(path.join(dir, 'plain.json'), 'utf8')) as Report;
  });

  it('the table interleaves h1·attn … h4·attn with the layer rows', () => {
    const labels = table.split('\n').map((l) => /^(h\d(?:·attn)?) /.exec(l)?.[1]).filter((l): l is string => !!l);
    assert.deepEqual(labels.slice(0, 9), ['h0', 'h1·attn', 'h1', 'h2·attn', 'h2', 'h3·attn', 'h3', 'h4·attn', 'h4']);
    assert.deepEqual(withSub.sublayerSummary?.map((s) => [s.label, s.sourceLayer]), [['h1·attn', 0], ['h2·attn', 1], ['h3·attn', 2], ['h4·attn', 3]]);
  });

  it('the layer rows are those of a plain run, exactly', () => {
    assert.deepEqual(withSub.summary.map((s) => [s.label, s.accuracy, s.meanLogProb]), plain.summary.map((s) => [s.label, s.accuracy, s.meanLogProb]));
    assert.deepEqual(withSub.sentences[0].layers.map((l) => l.inputLogProb), plain.sentences[0].layers.map((l) => l.inputLogProb));
  });

  it('the CSV has the sub-layer cells of the JSON, in display order', () => {
    const lines = fs.readFileSync(path.join(dir, 'sub.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    const sub = withSub.sentences[0].sublayers!;
    assert.equal(sub.length, 4);
    const tokens = withSub.sentences[0].layers[0].top1.length;
    assert.equal(lines.length, 9 * tokens);
    for (let l = 0; l < 4; l++) {
      const rows = lines.filter((c) => c[5] === `h${l + 1}·attn`);
      assert.equal(rows.length, tokens);
      rows.forEach((c, p) => assert.ok(Math.abs(Number(c[11]) - sub[l].inputLogProb[p]) < 1e-6, `h${l + 1}·attn position ${p}: ${c[11]} vs ${sub[l].inputLogProb[p]}`));
      // The sub-layer of planned layer l+1 is read after attention, so it differs from h(l+1).
      assert.notDeepEqual(sub[l].inputLogProb, withSub.sentences[0].layers[l + 1].inputLogProb);
    }
  });

  it('a corpus run refuses --sublayers in one line', () => {
    fs.writeFileSync(path.join(dir, 'c.txt'), `${TEXT}\n`);
    const r = cli(['probe', '--file', path.join(dir, 'c.txt'), '--sublayers']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /--sublayers goes with --text/);
  });
});
