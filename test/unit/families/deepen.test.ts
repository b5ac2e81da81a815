/**
 * Deepening every family: the writer renumbers each family's layer names (its layerPrefix) and
 * layer-count key, and the written checkpoint probes exactly like the source run along the plan.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadCheckpoint } from '../../../src/core/checkpoint/checkpoint';
import { writeDeepenedCheckpoint } from '../../../src/core/deepen/writer';
import { ProbeEngine } from '../../../src/core/probe/engine';
import { makeTempDir } from '../helpers/tinyBert';
import { TinyFamily, writeTinyFamily } from '../helpers/tinyFamilies';
import { compareWithReference } from '../probe/engineVsReference.test';

async function inputLogProbs(dir: string, plan?: number[]): Promise<number[]> {
  const engine = ProbeEngine.load(dir, { threads: 1 });
  try {
    const r = await engine.probe([{ text: 'the cat sat on the mat.' }, { text: 'a dog ran', pair: 'it was red' }], plan ? { plan } : {});
    compareWithReference(engine, r);
    return r.sentences.flatMap((s) => s.layers.flatMap((l) => l.inputLogProb));
  } finally {
    await engine.dispose();
  }
}

const CASES: [TinyFamily, string, number][] = [
  ['roberta', 'num_hidden_layers', 3],
  ['xlm-roberta', 'num_hidden_layers', 3],
  ['distilbert', 'n_layers', 3],
  ['electra', 'num_hidden_layers', 3],
  ['albert', 'num_hidden_layers', 3],
];

describe('families: deepen', () => {
  for (const [family, key, layers] of CASES) {
    it(`${family}: writes plan [0, 1, 1] with ${key} = ${layers} and probes like the in-memory plan`, async () => {
      const src = writeTinyFamily(makeTempDir(), family, { seed: 60 });
      const plan = [0, 1, 1];
      const result = await writeDeepenedCheckpoint({ source: src, plan, target: path.join(makeTempDir(), 'deep') });
      const cfg = JSON.parse(fs.readFileSync(path.join(result.target, 'config.json'), 'utf8'));
      assert.equal(cfg[key], layers);
      const deep = loadCheckpoint(result.target);
      assert.equal(deep.config.numLayers, layers);
      const a = await inputLogProbs(src, plan);
      const b = await inputLogProbs(result.target);
      assert.equal(a.length, b.length);
      a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-5, `${i}: ${v} vs ${b[i]}`));
      if (family === 'albert') {
        assert.equal(deep.config.numLayerWeights, 1, 'ALBERT keeps its one shared group');
        assert.ok(result.notes.some((n) => /repetition|shares one weight group/.test(n)), result.notes.join(' | '));
      } else {
        const prefix = deep.family.layerPrefix.replace('{i}', '2');
        assert.ok([...deep.weights.tensors.keys()].some((n) => n.startsWith(prefix)), `has ${prefix}…`);
      }
    });
  }
});
