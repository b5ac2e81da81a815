/**
 * ONNX masked-LM exports: weights recovered from the initializers (renamed, transposed MatMul
 * weights traced back through their node paths) and probed exactly like safetensors.
 * Real torch.onnx.export output (test/fixtures/onnx, opsets 14 and 17) for BERT, and
 * Optimum-layout files written in TS for every other family.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadCheckpoint } from '../../../src/core/checkpoint/checkpoint';
import { readTensorF32, TensorEntry } from '../../../src/core/checkpoint/safetensors';
import { UserError } from '../../../src/core/errors';
import { LayerTensor } from '../../../src/core/families/types';
import { ProbeEngine } from '../../../src/core/probe/engine';
import { makeTempDir, tinyVocab } from '../helpers/tinyBert';
import { TinyFamily, writeTinyFamily } from '../helpers/tinyFamilies';
import { onnxFixtureOptions, writeOnnx } from '../helpers/optimumOnnx';
import '../helpers/torchBin';
import { probeAndCompare } from './families.test';

const FIXTURES = path.resolve(__dirname, '../../../../test/fixtures/onnx');

/** A copy of a torch-exported fixture folder with the tiny WordPiece vocabulary added. */
function exportedFolder(opset: number): string {
  const dir = makeTempDir();
  for (const f of ['model.onnx', 'pytorch_model.bin', 'config.json']) fs.copyFileSync(path.join(FIXTURES, `bert-tiny-opset${opset}`, f), path.join(dir, f));
  fs.writeFileSync(path.join(dir, 'vocab.txt'), tinyVocab().join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: true }));
  return dir;
}

/** Logical [out, in] values, whichever way the bytes are stored. */
function logical(e: TensorEntry): number[] {
  const v = readTensorF32(e);
  if (!e.transposed) return Array.from(v);
  const [out, inp] = e.shape;
  const t: number[] = new Array(v.length);
  for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) t[o * inp + i] = v[i * out + o];
  return t;
}

describe('ONNX: real torch.onnx.export output (BERT)', () => {
  for (const opset of [14, 17]) {
    it(`opset ${opset}: every weight maps to the same values as pytorch_model.bin, MatMul weights transposed`, () => {
      const dir = exportedFolder(opset);
      const onnx = loadCheckpoint(path.join(dir, 'model.onnx'));
      const bin = loadCheckpoint(path.join(dir, 'pytorch_model.bin'));
      assert.equal(onnx.weights.format, 'onnx');
      assert.equal(bin.weights.format, 'pytorch');
      assert.equal(onnx.resolved.layers[1].qWeight?.transposed, true);
      assert.match(onnx.resolved.head.decoderWeight.name, /cls\.predictions\.decoder\.weight/);
      const pairs: [string, ReturnType<typeof logical>, ReturnType<typeof logical>][] = [];
      for (const k of Object.keys(bin.resolved.embeddings) as (keyof typeof bin.resolved.embeddings)[]) {
        pairs.push([`embeddings.${k}`, logical(onnx.resolved.embeddings[k]!), logical(bin.resolved.embeddings[k]!)]);
      }
      bin.resolved.layers.forEach((layer, i) =>
        (Object.keys(layer) as LayerTensor[]).forEach((k) => pairs.push([`layer ${i} ${k}`, logical(onnx.resolved.layers[i][k]!), logical(layer[k]!)])),
      );
      for (const k of Object.keys(bin.resolved.head) as (keyof typeof bin.resolved.head)[]) {
        pairs.push([`head.${k}`, logical(onnx.resolved.head[k]!), logical(bin.resolved.head[k]!)]);
      }
      for (const [what, a, b] of pairs) assert.deepEqual(a, b, what);
      assert.equal(pairs.length, 5 + 2 * 16 + 6);
    });

    it(`opset ${opset}: the probe matches the reference, and its last layer matches the exported graph's own logits in onnxruntime`, async () => {
      const dir = exportedFolder(opset);
      const { report } = await probeAndCompare(path.join(dir, 'model.onnx'), 'bert (ONNX, torch export)');
      // The exported graph is PyTorch's own computation: run it and compare the final layer.
      const session = await ort.InferenceSession.create(path.join(dir, 'model.onnx'));
      let worst = 0;
      for (const s of report.sentences) {
        const n = s.ids.length;
        const typeIds = s.pair === undefined ? s.ids.map(() => 0) : loadCheckpoint(dir).tokenizer.encode(s.text, s.pair).typeIds;
        const feeds = {
          input_ids: new ort.Tensor('int64', BigInt64Array.from(s.ids.map(BigInt)), [1, n]),
          attention_mask: new ort.Tensor('int64', BigInt64Array.from(s.ids.map(() => 1n)), [1, n]),
          token_type_ids: new ort.Tensor('int64', BigInt64Array.from(typeIds.map(BigInt)), [1, n]),
        };
        const logits = (await session.run(feeds)).logits.data as Float32Array;
        const V = logits.length / n;
        const last = s.layers[s.layers.length - 1];
        for (let p = 0; p < n; p++) {
          const row = logits.subarray(p * V, (p + 1) * V);
          const max = Math.max(...row);
          const lse = max + Math.log(row.reduce((z, v) => z + Math.exp(v - max), 0));
          worst = Math.max(worst, Math.abs(row[s.ids[p]] - lse - last.inputLogProb[p]));
        }
      }
      await session.release();
      assert.ok(worst <= 1e-4, `final layer vs exported graph: max |Δ| ${worst}`);
    });
  }
});

describe('ONNX: Optimum-layout exports of every family', () => {
  const cases: [TinyFamily, object][] = [
    ['roberta', {}],
    ['xlm-roberta', {}],
    ['albert', { layers: 3 }],
    ['distilbert', {}],
    ['electra', {}],
    ['roberta', { dtype: 'F16', seed: 51 }],
  ];
  for (const [family, options] of cases) {
    it(`${family}${'dtype' in options ? ' (F16)' : ''} from model.onnx probes like the reference`, async () => {
      const dir = writeTinyFamily(makeTempDir(), family, { format: 'onnx', seed: 50, ...options });
      const c = loadCheckpoint(dir);
      assert.equal(c.weights.format, 'onnx');
      assert.equal(c.resolved.layers[0].ffnInWeight?.transposed, true);
      const { maxDelta } = await probeAndCompare(dir, `${family} (ONNX)`);
      assert.ok(maxDelta <= 1e-4);
    });
  }

  it('reads weights kept in an external-data file (model.onnx_data), in place', async () => {
    onnxFixtureOptions.externalData = 'model.onnx_data';
    let dir: string;
    try {
      dir = writeTinyFamily(makeTempDir(), 'distilbert', { format: 'onnx', seed: 55 });
    } finally {
      delete onnxFixtureOptions.externalData;
    }
    const c = loadCheckpoint(dir);
    assert.equal(path.basename(c.resolved.layers[0].qWeight!.file), 'model.onnx_data');
    assert.equal(c.resolved.layers[0].qWeight?.transposed, true);
    await probeAndCompare(dir, 'distilbert (ONNX)');
  });

  it('an ONNX model with the same weights gives the same probe as safetensors', async () => {
    const a = await probeOnce(writeTinyFamily(makeTempDir(), 'electra', { seed: 52 }));
    const b = await probeOnce(writeTinyFamily(makeTempDir(), 'electra', { seed: 52, format: 'onnx' }));
    a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-5));
  });
});

async function probeOnce(dir: string): Promise<number[]> {
  const engine = ProbeEngine.load(dir, { threads: 1 });
  try {
    const r = await engine.probe([{ text: 'the cat sat on the mat.' }]);
    return r.sentences[0].layers.flatMap((l) => l.inputLogProb);
  } finally {
    await engine.dispose();
  }
}

describe('ONNX: graphs that cannot be mapped', () => {
  it('says which initializers could not be mapped, and what used them', () => {
    const dir = writeTinyFamily(makeTempDir(), 'distilbert', { format: 'onnx', seed: 53 });
    // The same weights, but MatMul nodes without module-path names (as some exporters write them).
    const file = path.join(dir, 'model.onnx');
    const q = new Float32Array(32 * 32);
    writeOnnx(
      file,
      [{ name: 'MatMul_7', op: 'MatMul', inputs: ['x', 'onnx::MatMul_1'], outputs: ['y'] }],
      [{ name: 'onnx::MatMul_1', dtype: 'F32', dims: [32, 32], bytes: new Uint8Array(q.buffer) }],
    );
    assert.throws(
      () => loadCheckpoint(dir),
      (e: unknown) => e instanceof UserError && /missing tensor/.test(e.message) && /could not be mapped/.test(e.message) && /onnx::MatMul_1 \[32×32\] used by MatMul_7/.test(e.message),
    );
  });

  it('refuses a file that is not ONNX', () => {
    const dir = writeTinyFamily(makeTempDir(), 'distilbert', { seed: 54 });
    fs.rmSync(path.join(dir, 'model.safetensors'));
    fs.writeFileSync(path.join(dir, 'model.onnx'), Buffer.from('definitely not protobuf \xff\xff\xff\xff'));
    assert.throws(() => loadCheckpoint(dir), (e: unknown) => e instanceof UserError && /ONNX/.test(e.message));
  });
});
