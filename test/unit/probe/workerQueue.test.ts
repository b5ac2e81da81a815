/**
 * The probe worker handles one message at a time: runs sent together (without awaiting each
 * reply) give exactly the numbers each gives alone. The worker reuses its head-feed buffer from
 * batch to batch, so runs interleaved inside it would overwrite each other's inputs.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { loadCheckpoint } from '../../../src/core/checkpoint/checkpoint';
import { identityPlan } from '../../../src/core/deepen/plan';
import { buildProbeGraphs } from '../../../src/core/graph/probeGraph';
import { WorkerClient } from '../../../src/core/probe/workerClient';
import type { BatchInput, RawLayerOutputs } from '../../../src/core/probe/workerProtocol';
import { makeTempDir, writeTinyBert } from '../helpers/tinyBert';

/** A batch of `batch` rows of `seq` real tokens, ids drawn from the vocabulary by `seed`. */
function batchOf(batch: number, seq: number, vocab: number, seed: number): BatchInput {
  const n = batch * seq;
  const ids = BigInt64Array.from({ length: n }, (_, i) => BigInt(5 + ((i * 7 + seed * 13) % (vocab - 5))));
  return {
    batch,
    seq,
    inputIds: ids,
    typeIds: new BigInt64Array(n),
    positionIds: BigInt64Array.from({ length: n }, (_, i) => BigInt(i % seq)),
    attentionMask: new Float32Array(n).fill(1),
  };
}

describe('probe worker: one message at a time', () => {
  it('runs sent together equal each run alone (several head chunks each)', async function () {
    this.timeout(120_000);
    const dir = writeTinyBert(path.join(makeTempDir(), 'tiny'), { layers: 2, hidden: 32, maxPositions: 64 });
    const ckpt = loadCheckpoint(dir);
    // A head buffer of 8 positions, so each batch takes several chunks (several awaits of ORT
    // with the shared buffer filled).
    const states = ckpt.config.numLayers + 1;
    const chunkBytes = states * 8 * ckpt.config.vocabSize * 4;
    const graphs = () => buildProbeGraphs({ config: ckpt.config, weights: ckpt.resolved, plan: identityPlan(ckpt.config.numLayers), topK: 3, headMode: 'exact', headBufferBytes: chunkBytes });
    const built = graphs();
    const seq = Math.min(48, ckpt.config.maxPositions);
    assert.ok(4 * seq > 2 * built.headPositions, `need several head chunks: ${4 * seq} positions, ${built.headPositions} per chunk`);
    const batches = [0, 1, 2, 3, 4, 5].map((seed) => batchOf(4, seq, ckpt.config.vocabSize, seed));
    const client = new WorkerClient();
    try {
      await client.open(built, 2);
      const alone: RawLayerOutputs[] = [];
      for (const b of batches) alone.push((await client.run(b)).output);
      // The batches differ, so a mix-up would show.
      assert.notDeepEqual(alone[0].inputLogProb, alone[1].inputLogProb);
      const together = await Promise.all(batches.map((b) => client.run(b)));
      together.forEach(({ output }, i) => {
        assert.deepEqual(output.inputLogProb, alone[i].inputLogProb, `batch ${i}: log p`);
        assert.deepEqual(output.topKIds, alone[i].topKIds, `batch ${i}: top-k`);
        assert.deepEqual(output.entropy, alone[i].entropy, `batch ${i}: entropy`);
      });
      // An open sent while runs are queued waits for them: they finish on the sessions they began on.
      const [r, , after] = await Promise.all([client.run(batches[0]), client.open(graphs(), 2), client.run(batches[1])]);
      assert.deepEqual(r.output.inputLogProb, alone[0].inputLogProb);
      assert.deepEqual(after.output.inputLogProb, alone[1].inputLogProb);
    } finally {
      await client.dispose();
    }
  });
});
