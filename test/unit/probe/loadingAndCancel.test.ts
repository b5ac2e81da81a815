/** HF-cache layouts (symlinks into blobs/), cancellation, and threads: the engine's plumbing, with real numbers. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isCancelled } from '../../../src/core/errors';
import { runLabel } from '../../../src/shared/format';
import { ProbeEngine } from '../../../src/core/probe/engine';
import { makeTempDir, writeTinyBert } from '../helpers/tinyBert';

/** Lays a model folder out as the HF hub cache does: snapshots/<rev>/<file> → ../../blobs/<hash>. */
function asHfCache(modelDir: string): string {
  const root = path.join(makeTempDir(), 'models--layer-lens--tiny');
  const blobs = path.join(root, 'blobs');
  const snapshot = path.join(root, 'snapshots', '0123456789abcdef');
  fs.mkdirSync(blobs, { recursive: true });
  fs.mkdirSync(snapshot, { recursive: true });
  fs.readdirSync(modelDir).forEach((file, i) => {
    const blob = `blob${i.toString(16).padStart(8, '0')}`;
    fs.copyFileSync(path.join(modelDir, file), path.join(blobs, blob));
    fs.symlinkSync(path.join('..', '..', 'blobs', blob), path.join(snapshot, file));
  });
  return snapshot;
}

describe('engine plumbing', () => {
  it('probes an HF-cache snapshot (symlinks into blobs/) exactly like the plain folder', async () => {
    const plain = writeTinyBert(makeTempDir(), { layers: 2, shards: 2, seed: 21 });
    const cached = asHfCache(plain);
    assert.ok(fs.lstatSync(path.join(cached, 'model.safetensors.index.json')).isSymbolicLink());
    const a = ProbeEngine.load(plain, { threads: 1 });
    const b = ProbeEngine.load(path.join(cached, 'config.json'), { threads: 1 });
    try {
      const ra = await a.probe([{ text: 'the cat sat on the mat' }]);
      const rb = await b.probe([{ text: 'the cat sat on the mat' }]);
      assert.deepEqual(rb.sentences[0].layers, ra.sentences[0].layers);
      assert.ok(ra.summary.every((s) => Number.isFinite(s.meanLogProb)));
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });

  it('gives the same numbers with 1 and 2 threads', async () => {
    const dir = writeTinyBert(makeTempDir(), { layers: 2, seed: 22 });
    const one = ProbeEngine.load(dir, { threads: 1 });
    const two = ProbeEngine.load(dir, { threads: 2 });
    try {
      const r1 = await one.probe([{ text: 'a bird sang in the tree' }]);
      const r2 = await two.probe([{ text: 'a bird sang in the tree' }]);
      r1.sentences[0].layers.forEach((l, i) =>
        l.inputLogProb.forEach((v, p) => assert.ok(Math.abs(v - r2.sentences[0].layers[i].inputLogProb[p]) < 1e-5)),
      );
    } finally {
      await one.dispose();
      await two.dispose();
    }
  });

  it('cancels a corpus run promptly, then probes again with a fresh worker', async () => {
    const engine = ProbeEngine.load(writeTinyBert(makeTempDir(), { layers: 4, hidden: 64, heads: 4, seed: 23 }), { threads: 1, maxTokensPerRun: 16 });
    const inputs = Array.from({ length: 400 }, (_, i) => ({ text: `the cat sat on the mat number ${i % 10} and then the dog ran to the house` }));
    const controller = new AbortController();
    let progressed = 0;
    const started = Date.now();
    const run = engine.probe(inputs, {
      signal: controller.signal,
      onProgress: (done) => {
        progressed = done;
        if (done >= 10 && !controller.signal.aborted) controller.abort();
      },
    });
    await assert.rejects(run, (e) => isCancelled(e));
    const elapsed = Date.now() - started;
    assert.ok(progressed < inputs.length, `stopped after ${progressed} of ${inputs.length} sentences`);
    assert.ok(elapsed < 30_000, `took ${elapsed} ms`);
    const after = await engine.probe([{ text: 'the cat' }]);
    assert.equal(after.sentences[0].layers.length, 5);
    await engine.dispose();
  });

  it('keepPartial: a cancelled run returns the sentences it finished, marked partial, with the same figures as probing those alone', async () => {
    const engine = ProbeEngine.load(writeTinyBert(makeTempDir(), { layers: 2, hidden: 32, heads: 2, seed: 29 }), { threads: 1, maxTokensPerRun: 16 });
    try {
      const inputs = Array.from({ length: 120 }, (_, i) => ({ text: `the cat sat on the mat number ${i % 7} and the dog ${i % 3 ? 'ran' : 'sat'}` }));
      const controller = new AbortController();
      const report = await engine.probe(inputs, {
        signal: controller.signal,
        keepPartial: true,
        onProgress: (done) => {
          if (done >= 10 && !controller.signal.aborted) controller.abort();
        },
      });
      const n = report.sentences.length;
      assert.ok(n >= 10 && n < inputs.length, `kept ${n} of ${inputs.length}`);
      assert.equal(report.corpus?.partial, true);
      assert.equal(report.corpus?.probed, n);
      assert.equal(report.corpus?.totalSentences, inputs.length);
      assert.equal(report.rows?.length, n);
      assert.ok(report.warnings.some((w) => w.startsWith(`cancelled after ${n} of ${inputs.length} sentences`)), report.warnings.join(' | '));
      assert.match(runLabel(report, 'corpus'), new RegExp(`${n} sentences of ${inputs.length}, PARTIAL \\(cancelled\\)`));
      // The kept figures are those of probing the same sentences on their own.
      const alone = await engine.probe(report.sentences.map((s) => inputs[s.index!]), { intervals: false });
      report.summary.forEach((l, i) => {
        assert.equal(l.count, alone.summary[i].count, `h${i} count`);
        assert.ok(Math.abs(l.accuracy - alone.summary[i].accuracy) < 1e-12, `h${i} accuracy`);
        assert.ok(Math.abs(l.meanLogProb - alone.summary[i].meanLogProb) < 1e-9, `h${i} mean log p`);
      });
      // Cancelled before anything finished: nothing to keep, so it throws as usual.
      const early = new AbortController();
      early.abort();
      await assert.rejects(engine.probe(inputs, { signal: early.signal, keepPartial: true }), (e) => isCancelled(e));
    } finally {
      await engine.dispose();
    }
  });
});

describe('engine: input length limits', () => {
  it('cuts to the smaller of the model limit and a limit asked for, keeps [SEP], and says which limit applied', async () => {
    const engine = ProbeEngine.load(writeTinyBert(makeTempDir(), { layers: 1, maxPositions: 16, seed: 25 }), { threads: 1 });
    try {
      const text = Array(40).fill('cat').join(' ');
      const asked = await engine.probe([{ text }], { maxTokens: 8 });
      assert.deepEqual(asked.sentences[0].tokens, ['[CLS]', 'cat', 'cat', 'cat', 'cat', 'cat', 'cat', '[SEP]']);
      assert.equal(asked.sentences[0].truncatedFrom, 42);
      assert.deepEqual(asked.warnings, ['input 1 has 42 tokens; truncated to 8 (the 8-token limit asked for)']);
      const model = await engine.probe([{ text }], { maxTokens: 100 });
      assert.equal(model.sentences[0].ids.length, 16);
      assert.deepEqual(model.warnings, ['input 1 has 42 tokens; truncated to 16 (max_position_embeddings 16)']);
      const short = await engine.probe([{ text: 'the cat' }], { maxTokens: 8 });
      assert.deepEqual(short.warnings, []);
    } finally {
      await engine.dispose();
    }
  });
});
