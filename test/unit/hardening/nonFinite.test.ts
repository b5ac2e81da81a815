/**
 * Issue 14, "Numbers that lie": with NaN or Inf weights the probe used to exit 0 with no warning and
 * show "median rank 1" and top-1 [SEP] computed from NaN. Now it names the first layer with
 * non-finite outputs (CLI and report) and shows ranks and top-1 there as unavailable.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeTempDir, writeTinyBert } from '../helpers/tinyBert';

const CLI = path.resolve(__dirname, '../../../../dist/cli.js');

/** Overwrites every element of one F32 tensor of model.safetensors with `value`. */
function poison(dir: string, tensor: string, value: number): void {
  const file = path.join(dir, 'model.safetensors');
  const bytes = fs.readFileSync(file);
  const n = Number(bytes.readBigUInt64LE(0));
  const entry = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'))[tensor];
  const [begin, end] = entry.data_offsets as [number, number];
  for (let at = 8 + n + begin; at < 8 + n + end; at += 4) bytes.writeFloatLE(value, at);
  fs.writeFileSync(file, bytes);
}

function probeJson(dir: string) {
  const json = path.join(makeTempDir(), 'r.json');
  const r = spawnSync(process.execPath, [CLI, 'probe', dir, '--text', 'the cat sat on the mat', '--json', json], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return { stdout: r.stdout, report: JSON.parse(fs.readFileSync(json, 'utf8')) };
}

describe('hardening: non-finite outputs are detected, never ranked', function () {
  this.timeout(120_000);

  it('finite weights: no warning, every rank a number', () => {
    const { stdout, report } = probeJson(writeTinyBert(makeTempDir(), { layers: 3 }));
    assert.doesNotMatch(stdout, /non-finite/);
    for (const s of report.summary) assert.equal(typeof s.medianRank, 'number');
  });

  for (const [tensor, value, first, where] of [
    ['bert.encoder.layer.1.output.dense.bias', NaN, 2, 'h2 (encoder layer 1)'],
    ['bert.embeddings.LayerNorm.bias', Infinity, 0, 'h0 (the embeddings)'],
  ] as const) {
    it(`${value} in ${tensor}: warned at ${where}; rank, top-1 and accuracy unavailable from there on`, () => {
      const dir = writeTinyBert(makeTempDir(), { layers: 3 });
      poison(dir, tensor, value);
      const { stdout, report } = probeJson(dir);
      assert.match(stdout, new RegExp(`warning: non-finite values \\(NaN or ±Inf\\) first appear at ${where.replace(/[()]/g, '\\$&')}`));
      assert.ok(report.warnings.some((w: string) => w.includes(`first appear at ${where}`)), 'the warning is in the report too');
      for (let l = 0; l < report.summary.length; l++) {
        const s = report.summary[l];
        const cells = report.sentences[0].layers[l];
        if (l < first) {
          assert.equal(typeof s.medianRank, 'number', `h${l} is finite`);
          continue;
        }
        // NaN is written to JSON as the string "NaN" (src/shared/export.ts).
        assert.equal(s.medianRank, 'NaN', `h${l}: no median rank from NaN`);
        assert.equal(s.accuracy, 'NaN', `h${l}: no accuracy from NaN`);
        assert.ok(cells.rank.every((r: unknown) => r === 'NaN'), `h${l}: ranks ${cells.rank}`);
        assert.ok(cells.top1.every((t: unknown) => t === 'NaN'), `h${l}: top-1 ${cells.top1}`);
        assert.ok(cells.topKIds.every((k: unknown[]) => k.length === 0));
      }
      // The terminal table shows them as unavailable, never as rank 1 or a [SEP] top-1.
      const rows = stdout.split('\n').filter((line) => new RegExp(`^h${first}\\s`).test(line));
      assert.ok(rows.length >= 1 && rows.every((line) => line.includes('–')), stdout);
      assert.ok(rows.every((line) => !line.includes('[SEP]')), stdout);
    });
  }
});
