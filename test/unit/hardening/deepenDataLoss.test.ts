/**
 * Issue 14, "Data loss": `deepen --overwrite` may replace only what Layer Lens wrote, interrupted
 * writes clean up (SIGINT/SIGTERM) or are cleaned by the next run (kill -9), and output folders get
 * the user's umask. Everything runs through the real CLI (dist/cli.js) in a child process.
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readTempMarker, TEMP_MARKER } from '../../../src/core/deepen/tempFolders';
import { makeTempDir, writeTinyBert } from '../helpers/tinyBert';

const CLI = path.resolve(__dirname, '../../../../dist/cli.js');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function oneLineError(r: ReturnType<typeof cli>, ...fragments: string[]) {
  assert.notEqual(r.code, 0, `expected failure:\n${r.stdout}`);
  assert.equal(r.stderr.trim().split('\n').length, 1, `expected one line:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/);
  for (const f of fragments) assert.ok(r.stderr.includes(f), `"${f}" not in: ${r.stderr}`);
}

const temps = (parent: string) => fs.readdirSync(parent).filter((n) => /\.tmp-[A-Za-z0-9]{6}$/.test(n));

/** Starts `deepen` and sends `signal` once stderr reports `atPct`% written; resolves with the exit. */
function deepenAndKill(model: string, out: string, signal: NodeJS.Signals, atPct: number) {
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; killedAt: string }>((resolve) => {
    const child = spawn(process.execPath, [CLI, 'deepen', model, '--plan', '0-3,3', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let killedAt = '';
    child.stderr.on('data', (d) => {
      stderr += String(d);
      const m = [...stderr.matchAll(/written (\d+)%/g)].pop();
      if (!killedAt && m && Number(m[1]) >= atPct) {
        killedAt = m[0];
        child.kill(signal);
      }
    });
    child.on('exit', (code, sig) => resolve({ code, signal: sig, stderr, killedAt }));
  });
}

describe('hardening: deepen never destroys what it did not write', () => {
  let model: string;
  let work: string;
  before(() => {
    model = writeTinyBert(makeTempDir(), { layers: 2 });
    work = makeTempDir('layer-lens-out-');
  });

  it('--out an existing user file with --overwrite is refused and the file kept', () => {
    const file = path.join(work, 'userfile.txt');
    fs.writeFileSync(file, 'precious\n');
    oneLineError(cli('deepen', model, '--plan', 'dup:1', '--out', file, '--overwrite'), file, 'is a file', 'refusing to replace it');
    assert.equal(fs.readFileSync(file, 'utf8'), 'precious\n');
  });

  it('--out a folder that is not ours with --overwrite is refused, naming what is there', () => {
    const decoy = path.join(work, 'decoy');
    fs.mkdirSync(path.join(decoy, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(decoy, 'thesis.tex'), 'years of work');
    fs.writeFileSync(path.join(decoy, 'config.json'), JSON.stringify({ model_type: 'bert' }));
    oneLineError(cli('deepen', model, '--plan', 'dup:1', '--out', decoy, '--overwrite'), decoy, 'holds 3 entries', 'thesis.tex', 'no "layer_lens" entry');
    assert.equal(fs.readFileSync(path.join(decoy, 'thesis.tex'), 'utf8'), 'years of work');
    assert.deepEqual(temps(work), []);
  });

  it('a symlink as --out is refused, and its target untouched', () => {
    const real = makeTempDir();
    fs.writeFileSync(path.join(real, 'keep'), 'x');
    const link = path.join(work, 'link');
    fs.symlinkSync(real, link);
    oneLineError(cli('deepen', model, '--plan', 'dup:1', '--out', link, '--overwrite'), 'symbolic link');
    assert.ok(fs.existsSync(path.join(real, 'keep')));
  });

  it('an empty folder and a folder Layer Lens wrote are replaced; the output has no marker and follows the umask', () => {
    const out = path.join(work, 'ours');
    fs.mkdirSync(out);
    const first = spawnSync('sh', ['-c', `umask 027 && exec "${process.execPath}" "${CLI}" deepen "${model}" --plan dup:1 --out "${out}" --overwrite`], { encoding: 'utf8' });
    assert.equal(first.status, 0, first.stderr);
    assert.equal(fs.statSync(out).mode & 0o777, 0o750, 'folder mode follows umask 027');
    assert.equal(fs.statSync(path.join(out, 'config.json')).mode & 0o777, 0o640);
    assert.ok(!fs.existsSync(path.join(out, TEMP_MARKER)));
    assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).num_hidden_layers, 3);
    const second = cli('deepen', model, '--plan', 'stack', '--out', out, '--overwrite');
    assert.equal(second.code, 0, second.stderr);
    assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).num_hidden_layers, 4);
    assert.deepEqual(temps(work), []);
  });

  it('an overwrite that died between its two renames is undone by the next run', () => {
    // The state a kill -9 between "old target → holder/replaced" and "temp → target" leaves.
    const out = path.join(work, 'swapped');
    assert.equal(cli('deepen', model, '--plan', 'dup:0', '--out', out).code, 0);
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout.trim());
    const holder = path.join(work, '.swapped.tmp-AbC123');
    fs.mkdirSync(holder);
    fs.writeFileSync(path.join(holder, TEMP_MARKER), JSON.stringify({ layer_lens_temp: 1, pid: deadPid, host: os.hostname(), started: Date.now() - 60_000, target: out }));
    fs.renameSync(out, path.join(holder, 'replaced'));
    // A look-alike without our marker must be left alone.
    const foreign = path.join(work, '.swapped.tmp-XyZ789');
    fs.mkdirSync(foreign);
    fs.writeFileSync(path.join(foreign, 'data'), 'not ours');

    const r = cli('deepen', model, '--plan', 'dup:1', '--out', path.join(work, 'other'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`restored ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(r.stdout, /removed .*\.swapped\.tmp-AbC123 .*interrupted deepen run \(pid \d+\)/);
    assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).num_hidden_layers, 3, 'the previous model is back');
    assert.ok(fs.existsSync(path.join(foreign, 'data')), 'a folder without our marker is not touched');
    fs.rmSync(foreign, { recursive: true });
  });

  describe('interrupted writes (a real child process, killed mid-write)', function () {
    this.timeout(180_000);
    let big: string;
    let parent: string;
    before(() => {
      // 4 layers of 512×8192 FFNs: about 150 MB, so a write lasts long enough to be interrupted.
      big = writeTinyBert(makeTempDir(), { layers: 4, hidden: 512, heads: 8, intermediate: 8192, std: 0.02 });
      parent = makeTempDir('layer-lens-kill-');
    });
    after(() => {
      fs.rmSync(big, { recursive: true, force: true });
      fs.rmSync(parent, { recursive: true, force: true });
    });

    for (const [signal, pct, code] of [['SIGINT', 30, 130], ['SIGTERM', 90, 143]] as const) {
      it(`${signal} at ${pct}% removes the temp folder and exits ${code}`, async () => {
        const out = path.join(parent, `out-${signal}`);
        const r = await deepenAndKill(big, out, signal, pct);
        assert.ok(r.killedAt, `never reached ${pct}%:\n${r.stderr}`);
        assert.equal(r.code, code, r.stderr);
        assert.match(r.stderr, new RegExp(`interrupted by ${signal}; the partial output was removed`));
        assert.deepEqual(temps(parent), []);
        assert.ok(!fs.existsSync(out));
      });
    }

    it('kill -9 at 30% leaves a marked temp folder; the next run reports and removes it', async () => {
      const out = path.join(parent, 'out-kill9');
      const r = await deepenAndKill(big, out, 'SIGKILL', 30);
      assert.equal(r.signal, 'SIGKILL');
      const left = temps(parent);
      assert.equal(left.length, 1, `expected one stale temp folder, got ${left}`);
      const marker = readTempMarker(path.join(parent, left[0]))!;
      assert.ok(marker, 'the stale folder carries our marker');
      assert.equal(marker.target, out);
      const again = cli('deepen', big, '--plan', 'dup:0', '--out', path.join(parent, 'next'));
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, new RegExp(`removed .*${left[0].replace(/\./g, '\\.')} \\(\\d+\\.\\d MB\\), left by an interrupted deepen run \\(pid ${marker.pid}\\)`));
      assert.deepEqual(temps(parent), []);
      fs.rmSync(path.join(parent, 'next'), { recursive: true });
    });
  });
});
