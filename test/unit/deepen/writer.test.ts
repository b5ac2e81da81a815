import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readSafetensorsHeader, readTensorBytes } from '../../../src/core/checkpoint/safetensors';
import { openWeights } from '../../../src/core/checkpoint/weights';
import { identityPlan } from '../../../src/core/deepen/plan';
import { defaultTargetDir, planDeepenedLayout, writeDeepenedCheckpoint } from '../../../src/core/deepen/writer';
import { ProbeEngine, ProbeInput } from '../../../src/core/probe/engine';
import { makeTempDir, writeTinyBert } from '../helpers/tinyBert';

const INPUTS: ProbeInput[] = [
  { text: 'the cat sat on the mat.' },
  { text: 'a bird sang' },
  { text: 'the dog ran to the house', pair: 'it was big and red!' },
];

/** Every file under dir with its size and mtime, to prove a folder was not touched. */
function snapshot(dir: string): string {
  return fs
    .readdirSync(dir, { recursive: true })
    .map(String)
    .sort()
    .map((f) => {
      const st = fs.statSync(path.join(dir, f));
      return `${f}:${st.size}:${st.mtimeMs}:${st.isFile() ? fs.readFileSync(path.join(dir, f)).toString('base64').slice(0, 64) : ''}`;
    })
    .join('\n');
}

/**
 * Runs writeDeepenedCheckpoint with no privileges over `root` and returns its error message (or
 * undefined). Root ignores directory permissions, so as root the write runs in a child process
 * with uid/gid 65534 (nobody), over a tree it may read but not write; otherwise in this process.
 */
async function deepenAsUnprivileged(root: string, options: { source: string; plan: number[]; target: string }): Promise<string | undefined> {
  if (process.getuid?.() !== 0) {
    return writeDeepenedCheckpoint(options).then(() => undefined, (e: Error) => e.message);
  }
  for (const f of [root, ...fs.readdirSync(root, { recursive: true }).map((f) => path.join(root, String(f)))]) {
    if (!f.endsWith('locked')) fs.chmodSync(f, fs.statSync(f).isDirectory() ? 0o755 : 0o644);
  }
  const writer = path.resolve(__dirname, '../../../src/core/deepen/writer.js');
  const script = `require(${JSON.stringify(writer)}).writeDeepenedCheckpoint(${JSON.stringify(options)})
    .then(() => console.log(JSON.stringify({ ok: true })), (e) => console.log(JSON.stringify({ message: e.message })))`;
  const r = spawnSync(process.execPath, ['-e', script], { uid: 65534, gid: 65534, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `the unprivileged child failed:\n${r.stderr}`);
  return (JSON.parse(r.stdout) as { message?: string }).message;
}

function listParent(dir: string): string[] {
  return fs.readdirSync(path.dirname(dir)).sort();
}

describe('deepened checkpoint writer', () => {
  it('identity plan: tensors byte-equal to the source, config and tokenizer carried over', async () => {
    const root = makeTempDir();
    const src = writeTinyBert(path.join(root, 'tiny'), { layers: 3, seed: 11 });
    const before = snapshot(src);
    const result = await writeDeepenedCheckpoint({ source: src, plan: identityPlan(3) });
    assert.equal(result.target, path.join(root, 'tiny-deep-0-2'));
    const a = openWeights(src).tensors;
    const b = openWeights(result.target).tensors;
    assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
    for (const [name, e] of a) {
      const f = b.get(name)!;
      assert.equal(f.dtype, e.dtype);
      assert.deepEqual(f.shape, e.shape);
      assert.ok(Buffer.from(readTensorBytes(f)).equals(Buffer.from(readTensorBytes(e))), name);
    }
    assert.deepEqual(readSafetensorsHeader(path.join(result.target, 'model.safetensors')).metadata, { format: 'pt' });
    const cfg = JSON.parse(fs.readFileSync(path.join(result.target, 'config.json'), 'utf8'));
    assert.equal(cfg.num_hidden_layers, 3);
    assert.deepEqual(cfg.layer_lens, { source: src, plan: '0-2', source_layers: 3 });
    for (const f of ['vocab.txt', 'tokenizer_config.json']) {
      assert.ok(fs.readFileSync(path.join(src, f)).equals(fs.readFileSync(path.join(result.target, f))), f);
    }
    assert.match(fs.readFileSync(path.join(result.target, 'README.md'), 'utf8'), /layer_range: \[0, 3\]/);
    assert.equal(snapshot(src), before, 'source folder untouched');
    assert.deepEqual(listParent(src), ['tiny', 'tiny-deep-0-2'], 'no temp folders left');
  });

  it('a deepened checkpoint, loaded back, probes exactly like the in-memory plan', async () => {
    const root = makeTempDir();
    const src = writeTinyBert(path.join(root, 'tiny'), { layers: 3, seed: 12, dtype: 'F16', shards: 2 });
    const plan = [0, 1, 2, 2, 1, 0];
    const result = await writeDeepenedCheckpoint({ source: src, plan, target: path.join(root, 'deep model «x»') });
    const cfg = JSON.parse(fs.readFileSync(path.join(result.target, 'config.json'), 'utf8'));
    assert.equal(cfg.num_hidden_layers, 6);
    // layer 3 of the new model is a byte copy of layer 2 of the source, under its new name
    const srcT = openWeights(src).tensors;
    const outT = openWeights(result.target).tensors;
    assert.equal(outT.size, srcT.size + 3 * 16);
    const q = (w: typeof srcT, i: number) => Buffer.from(readTensorBytes(w.get(`bert.encoder.layer.${i}.attention.self.query.weight`)!));
    assert.ok(q(outT, 3).equals(q(srcT, 2)));
    assert.ok(q(outT, 5).equals(q(srcT, 0)));

    const original = ProbeEngine.load(src, { threads: 1 });
    const deepened = ProbeEngine.load(result.target, { threads: 1 });
    try {
      const inMemory = await original.probe(INPUTS, { plan });
      const loaded = await deepened.probe(INPUTS);
      assert.equal(loaded.summary.length, plan.length + 1);
      assert.deepEqual(
        loaded.summary.map(({ label, count, accuracy, meanLogProb, medianRank, meanEntropy, meanKL }) => [label, count, accuracy, meanLogProb, medianRank, meanEntropy, meanKL]),
        inMemory.summary.map(({ label, count, accuracy, meanLogProb, medianRank, meanEntropy, meanKL }) => [label, count, accuracy, meanLogProb, medianRank, meanEntropy, meanKL]),
      );
      loaded.sentences.forEach((s, i) => assert.deepEqual(s.layers, inMemory.sentences[i].layers, `sentence ${i} cells`));
    } finally {
      await original.dispose();
      await deepened.dispose();
    }
  });

  it('a failure mid-write leaves nothing behind and the source untouched', async () => {
    const root = makeTempDir();
    const src = writeTinyBert(path.join(root, 'tiny'), { layers: 2, seed: 13 });
    const before = snapshot(src);
    const layout = planDeepenedLayout(src, [0, 1, 1]);
    const failAt = Math.floor(layout.tensors.length / 2);
    const seen: number[] = [];
    await assert.rejects(
      writeDeepenedCheckpoint({
        source: src,
        plan: [0, 1, 1],
        readTensor: async (t, i) => {
          seen.push(i);
          if (i === failAt) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
          return readTensorBytes(t.source);
        },
      }),
      /the disk is full; nothing was written/,
    );
    assert.equal(seen.length, failAt + 1, 'failed part way through');
    assert.deepEqual(listParent(src), ['tiny']);
    assert.equal(snapshot(src), before);
  });

  it('permission denied mid-write also leaves nothing behind', async () => {
    const root = makeTempDir();
    const src = writeTinyBert(path.join(root, 'tiny'), { layers: 2, seed: 16 });
    await assert.rejects(
      writeDeepenedCheckpoint({
        source: src,
        plan: [1, 0],
        readTensor: async (t, i) => {
          if (i === 3) throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
          return readTensorBytes(t.source);
        },
      }),
      /permission denied \(EACCES\); nothing was written/,
    );
    assert.deepEqual(listParent(src), ['tiny']);
  });

  it('cancellation mid-write leaves nothing behind', async () => {
    const root = makeTempDir();
    const src = writeTinyBert(path.join(root, 'tiny'), { layers: 2, seed: 14 });
    const ac = new AbortController();
    await assert.rejects(
      writeDeepenedCheckpoint({ source: src, plan: [0, 1, 1], signal: ac.signal, onProgress: (done) => done > 1000 && ac.abort() }),
      /Cancelled/,
    );
    assert.deepEqual(listParent(src), ['tiny']);
  });

  it('never overwrites an existing target unless asked, and never writes into the source', async () => {
    const root = makeTempDir();
    const src = writeTinyBert(path.join(root, 'tiny'), { layers: 2, seed: 15 });
    const target = defaultTargetDir(src, [0, 1, 1]);
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'keep.txt'), 'mine');
    await assert.rejects(writeDeepenedCheckpoint({ source: src, plan: [0, 1, 1] }), /target already exists/);
    assert.equal(fs.readFileSync(path.join(target, 'keep.txt'), 'utf8'), 'mine');
    await assert.rejects(writeDeepenedCheckpoint({ source: src, plan: [0, 1], target: src, overwrite: true }), /must not be the source folder/);
    await assert.rejects(writeDeepenedCheckpoint({ source: src, plan: [0, 1], target: path.join(src, 'sub') }), /must not be the source folder/);
    // Even with overwrite, a folder Layer Lens did not write is refused; an empty one is replaced.
    await assert.rejects(writeDeepenedCheckpoint({ source: src, plan: [0, 1, 1], overwrite: true }), /holds 1 entry \(keep\.txt\) and is not a folder Layer Lens wrote/);
    assert.equal(fs.readFileSync(path.join(target, 'keep.txt'), 'utf8'), 'mine');
    fs.rmSync(path.join(target, 'keep.txt'));
    const r = await writeDeepenedCheckpoint({ source: src, plan: [0, 1, 1], overwrite: true });
    assert.equal(JSON.parse(fs.readFileSync(path.join(r.target, 'config.json'), 'utf8')).num_hidden_layers, 3);
    assert.deepEqual(listParent(src), ['tiny', 'tiny-deep-0_1_1']);
  });

  it('rejects bad plans with the exact problem', async () => {
    const src = writeTinyBert(path.join(makeTempDir(), 'tiny'), { layers: 2 });
    await assert.rejects(writeDeepenedCheckpoint({ source: src, plan: [] }), /empty/);
    await assert.rejects(writeDeepenedCheckpoint({ source: src, plan: [0, 2] }), /entry 2 \(2\) is out of range: the model has layers 0-1/);
  });

  it('an unwritable parent fails cleanly (permission denied)', async () => {
    const root = makeTempDir();
    const src = writeTinyBert(path.join(root, 'tiny'), { layers: 2 });
    const locked = path.join(root, 'locked');
    fs.mkdirSync(locked, { mode: 0o555 });
    const message = await deepenAsUnprivileged(root, { source: src, plan: [0, 1, 1], target: path.join(locked, 'out') });
    assert.match(message ?? 'it succeeded', /cannot create a folder here: EACCES/);
    assert.deepEqual(fs.readdirSync(locked), []);
  });
});
