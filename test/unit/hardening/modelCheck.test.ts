/**
 * Issue 14, "In the extension, model loading runs synchronously on the extension-host thread": the
 * extension first loads a folder in a worker bounded in time and heap (modelCheck.ts). A folder that
 * loads passes; a bad one gives the loader's own line; a load that hangs, runs out of memory or
 * crashes ends the worker, not the caller, with one line. The caller's event loop keeps running.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadCheckpoint } from '../../../src/core/checkpoint/checkpoint';
import { checkModelLoads } from '../../../src/core/checkpoint/modelCheck';
import { isCancelled, isUserError } from '../../../src/core/errors';
import { makeTempDir, writeTinyBert } from '../helpers/tinyBert';

/** A stand-in worker for a loader that misbehaves in a way no real folder should reach any more. */
function fakeWorker(body: string): string {
  const file = path.join(makeTempDir(), 'worker.js');
  fs.writeFileSync(file, body);
  return file;
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('hardening: trial model load in a bounded worker', function () {
  this.timeout(60_000);

  it('a model that loads passes, with what it is', async () => {
    const dir = writeTinyBert(makeTempDir(), { layers: 2 });
    const r = await checkModelLoads(dir);
    assert.equal(r.modelType, 'bert');
    assert.equal(r.numLayers, 2);
    assert.ok(r.ms > 0);
  });

  it("a bad folder gives the loader's own one line", async () => {
    const dir = writeTinyBert(makeTempDir(), { layers: 2 });
    const cfg = path.join(dir, 'config.json');
    fs.writeFileSync(cfg, JSON.stringify({ ...JSON.parse(fs.readFileSync(cfg, 'utf8')), num_hidden_layers: 1e9 }));
    let direct = '';
    try {
      loadCheckpoint(dir);
    } catch (e) {
      direct = (e as Error).message;
    }
    const e = await rejection(checkModelLoads(dir));
    assert.ok(isUserError(e));
    assert.equal(e.message, direct);
    assert.match(e.message, /field "num_hidden_layers" is 1000000000, over Layer Lens's limit of 1024/);
  });

  it('a load that hangs is ended at the time limit, and the caller kept running meanwhile', async () => {
    let ticks = 0;
    const tick = setInterval(() => ticks++, 20);
    const started = Date.now();
    const e = await rejection(checkModelLoads('/models/x', { timeoutMs: 500, workerPath: fakeWorker('for (;;) {}') }));
    clearInterval(tick);
    assert.ok(isUserError(e));
    assert.equal(e.message, '/models/x: loading the model took longer than 0.5 s in a trial load, so Layer Lens will not load it');
    assert.ok(Date.now() - started < 5000);
    assert.ok(ticks >= 10, `the caller's event loop ran only ${ticks} times in 0.5 s`);
  });

  it('a load that exhausts memory ends the worker with one line, not the caller', async () => {
    const hog = 'const a = []; for (;;) a.push(new Array(1e5).fill({ x: Math.random() }));';
    const e = await rejection(checkModelLoads('/models/x', { maxHeapMb: 64, workerPath: fakeWorker(hog) }));
    assert.ok(isUserError(e));
    assert.equal(e.message, '/models/x: loading the model needs more than 64 MB of memory in a trial load, so Layer Lens will not load it');
  });

  it('a worker that dies is one line too', async () => {
    const e = await rejection(checkModelLoads('/models/x', { workerPath: fakeWorker('process.exit(3)') }));
    assert.equal(e.message, '/models/x: the trial load of the model stopped unexpectedly (exit code 3)');
  });

  it('cancelling ends the trial load at once', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const started = Date.now();
    const e = await rejection(checkModelLoads('/models/x', { signal: ac.signal, workerPath: fakeWorker('for (;;) {}') }));
    assert.ok(isCancelled(e), String(e));
    assert.ok(Date.now() - started < 5000);
  });
});
