/**
 * pytorch_model.bin: the restricted unpickler reads real torch.save output and our own
 * torch-format fixtures, every family probes from .bin like from safetensors, and hostile
 * pickles are refused without anything running.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadCheckpoint } from '../../../src/core/checkpoint/checkpoint';
import { readPytorchBinTensors } from '../../../src/core/checkpoint/pytorch/pytorchBin';
import { restrictedUnpickle } from '../../../src/core/checkpoint/pytorch/unpickler';
import { readSafetensorsHeader, readTensorBytes, readTensorF32 } from '../../../src/core/checkpoint/safetensors';
import { UserError } from '../../../src/core/errors';
import { makeTempDir, writeTinyBert } from '../helpers/tinyBert';
import { writeTinyFamily } from '../helpers/tinyFamilies';
import { BinTensor, PickleWriter, writeTorchBin, zipStored } from '../helpers/torchBin';
import { probeAndCompare } from './families.test';

const FIXTURES = path.resolve(__dirname, '../../../../test/fixtures/pytorch');

/** Rewrites a folder's model.safetensors as pytorch_model.bin (same names, dtypes, bytes). */
function safetensorsToBin(dir: string): string {
  const header = readSafetensorsHeader(path.join(dir, 'model.safetensors'));
  const tensors: BinTensor[] = [...header.tensors.values()].map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, bytes: readTensorBytes(t) }));
  fs.rmSync(path.join(dir, 'model.safetensors'));
  writeTorchBin(path.join(dir, 'pytorch_model.bin'), tensors);
  return dir;
}

const refusedSaying = (...patterns: RegExp[]) => (e: unknown) =>
  e instanceof UserError && patterns.every((p) => p.test(e.message)) && /safetensors/.test(e.message);

describe('pytorch_model.bin: reading', () => {
  it('reads a real torch.save state_dict(): tied storage, F16, BF16, int64 buffer, _metadata, a transposed view', () => {
    const t = readPytorchBinTensors(path.join(FIXTURES, 'real_state_dict.bin'));
    assert.deepEqual([...t.keys()], ['position_ids', 'emb.weight', 'dec.weight', 'dec.bias', 'half', 'bf16', 'transposed']);
    const emb = t.get('emb.weight')!;
    assert.deepEqual(emb.shape, [5, 4]);
    assert.deepEqual(Array.from(readTensorF32(emb)), Array.from({ length: 20 }, (_, i) => i / 4));
    assert.equal(t.get('dec.weight')!.offset, emb.offset, 'tied weights point at one storage');
    assert.deepEqual(Array.from(readTensorF32(t.get('dec.bias')!)), [-2, -1, 0, 1, 2]);
    assert.equal(t.get('half')!.dtype, 'F16');
    assert.deepEqual(Array.from(readTensorF32(t.get('half')!)), [0, 1, 2, 3, 4, 5].map((i) => i / 8));
    assert.equal(t.get('bf16')!.dtype, 'BF16');
    assert.deepEqual(Array.from(readTensorF32(t.get('bf16')!)), [0, 1, 2, 3, 4, 5].map((i) => i / 8));
    assert.equal(t.get('position_ids')!.dtype, 'I64');
    const tr = t.get('transposed')!;
    assert.equal(tr.transposed, true);
    assert.deepEqual(tr.shape, [2, 3]);
    // Stored bytes are the contiguous [3, 2] source: arange(6).
    assert.deepEqual(Array.from(readTensorF32(tr)), [0, 1, 2, 3, 4, 5]);
  });

  it('BERT from pytorch_model.bin probes like the reference', async () => {
    const dir = safetensorsToBin(writeTinyBert(makeTempDir(), { seed: 31 }));
    const { maxDelta } = await probeAndCompare(dir, 'bert (.bin)');
    assert.equal(loadCheckpoint(dir).weights.format, 'pytorch');
    assert.ok(maxDelta <= 1e-4);
  });

  for (const family of ['roberta', 'xlm-roberta', 'albert', 'distilbert', 'electra'] as const) {
    it(`${family} from pytorch_model.bin (tied decoder sharing the embedding storage) probes like the reference`, async () => {
      const dir = writeTinyFamily(makeTempDir(), family, { format: 'bin', seed: 40 });
      const c = loadCheckpoint(dir);
      assert.equal(c.weights.format, 'pytorch');
      assert.equal(c.resolved.head.decoderWeight.offset, c.resolved.embeddings.word.offset);
      const { maxDelta } = await probeAndCompare(dir, `${family} (.bin)`);
      assert.ok(maxDelta <= 1e-4);
    });
  }

  it('F16 .bin probes like the reference', async () => {
    const { maxDelta } = await probeAndCompare(writeTinyFamily(makeTempDir(), 'distilbert', { format: 'bin', dtype: 'F16', seed: 41 }), 'distilbert (.bin)');
    assert.ok(maxDelta <= 1e-4);
  });

  it('reads sharded pytorch_model-0000N-of-0000M.bin through the index', async () => {
    const dir = safetensorsToBin(writeTinyBert(makeTempDir(), { seed: 32 }));
    const all = readPytorchBinTensors(path.join(dir, 'pytorch_model.bin'));
    const names = [...all.keys()];
    const half = Math.ceil(names.length / 2);
    const weightMap: Record<string, string> = {};
    [names.slice(0, half), names.slice(half)].forEach((part, s) => {
      const file = `pytorch_model-0000${s + 1}-of-00002.bin`;
      writeTorchBin(path.join(dir, file), part.map((n) => ({ name: n, dtype: all.get(n)!.dtype, shape: all.get(n)!.shape, bytes: readTensorBytes(all.get(n)!) })));
      part.forEach((n) => (weightMap[n] = file));
    });
    fs.rmSync(path.join(dir, 'pytorch_model.bin'));
    fs.writeFileSync(path.join(dir, 'pytorch_model.bin.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    const c = loadCheckpoint(dir);
    assert.equal(c.weights.files.length, 2);
    await probeAndCompare(dir, 'bert (.bin)');
  });

  it('reads a zip64 archive (the layout of .bin files over 4 GB)', async () => {
    const dir = writeTinyBert(makeTempDir(), { seed: 36 });
    const header = readSafetensorsHeader(path.join(dir, 'model.safetensors'));
    const tensors: BinTensor[] = [...header.tensors.values()].map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, bytes: readTensorBytes(t) }));
    fs.rmSync(path.join(dir, 'model.safetensors'));
    writeTorchBin(path.join(dir, 'pytorch_model.bin'), tensors, 'archive', true);
    await probeAndCompare(dir, 'bert (.bin)');
  });

  it('a transposed-view Linear weight is used transposed, not misread', async () => {
    const dir = safetensorsToBin(writeTinyBert(makeTempDir(), { seed: 33 }));
    const all = readPytorchBinTensors(path.join(dir, 'pytorch_model.bin'));
    const target = 'bert.encoder.layer.0.intermediate.dense.weight'; // [I, H]
    const tensors: BinTensor[] = [...all.values()].map((t) => {
      const bytes = readTensorBytes(t);
      if (t.name !== target) return { name: t.name, dtype: t.dtype, shape: t.shape, bytes };
      const [out, inp] = t.shape;
      const src = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      const tr = new Float32Array(src.length);
      for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) tr[i * out + o] = src[o * inp + i];
      return { name: t.name, dtype: t.dtype, shape: t.shape, bytes: new Uint8Array(tr.buffer), transposedView: true };
    });
    writeTorchBin(path.join(dir, 'pytorch_model.bin'), tensors);
    assert.equal(loadCheckpoint(dir).resolved.layers[0].ffnInWeight?.transposed, true);
    await probeAndCompare(dir, 'bert (.bin)');
  });
});

describe('pytorch_model.bin: refusals', () => {
  const MARKER = () => path.join(makeTempDir(), 'pwned');

  /** A checkpoint folder whose pytorch_model.bin holds `pickle` as its data.pkl. */
  function folderWithPickle(pickle: Uint8Array): string {
    const dir = writeTinyBert(makeTempDir(), { seed: 34 });
    fs.rmSync(path.join(dir, 'model.safetensors'));
    fs.writeFileSync(path.join(dir, 'pytorch_model.bin'), zipStored([['archive/data.pkl', pickle], ['archive/version', Buffer.from('3\n')]]));
    return dir;
  }

  const attacks: [string, (marker: string) => Uint8Array, RegExp][] = [
    ['GLOBAL posix.system + REDUCE', (m) => new PickleWriter().proto(2).global('posix', 'system').str(`touch ${m}`).op('\x85').op('R').op('.').bytes(), /posix\.system/],
    ['GLOBAL os.system + REDUCE', (m) => new PickleWriter().proto(2).global('os', 'system').str(`touch ${m}`).op('\x85').op('R').op('.').bytes(), /os\.system/],
    ['STACK_GLOBAL builtins.eval + REDUCE', (m) => new PickleWriter().proto(4).stackGlobal('builtins', 'eval').str(`__import__('os').system('touch ${m}')`).op('\x85').op('R').op('.').bytes(), /builtins\.eval/],
    [
      'a state dict whose tensor value is an os.system call',
      (m) => new PickleWriter().proto(2).global('collections', 'OrderedDict').op(')').op('R').op('(').str('w').global('os', 'system').str(`touch ${m}`).op('\x85').op('R').op('u').op('.').bytes(),
      /os\.system/,
    ],
    [
      'a storage type that is really subprocess.call',
      (m) => {
        const p = new PickleWriter().proto(2).global('collections', 'OrderedDict').op(')').op('R').op('(').str('w').global('torch._utils', '_rebuild_tensor_v2').op('(');
        p.tuple([() => p.str('storage'), () => p.global('subprocess', 'call'), () => p.str('0'), () => p.str(`touch ${m}`), () => p.int(1)]).op('Q');
        return p.int(0).ints([1]).ints([1]).raw(0x89).op(')').op('t').op('R').op('u').op('.').bytes();
      },
      /subprocess\.call/,
    ],
    ['an object built with NEWOBJ', () => new PickleWriter().proto(2).global('collections', 'OrderedDict').op(')').raw(0x81).op('.').bytes(), /opcode 0x81/],
  ];

  for (const [name, build, names] of attacks) {
    it(`refuses ${name}, naming it, and nothing runs`, () => {
      const marker = MARKER();
      const dir = folderWithPickle(build(marker));
      assert.throws(() => loadCheckpoint(dir), refusedSaying(names, /refused/));
      assert.throws(() => restrictedUnpickle(build(marker), 'x'), refusedSaying(names));
      assert.equal(fs.existsSync(marker), false, 'the marker file must not exist');
    });
  }

  it('refuses a legacy (pre-1.6, bare pickle) torch.save file', () => {
    const dir = folderWithPickle(new Uint8Array());
    fs.writeFileSync(path.join(dir, 'pytorch_model.bin'), Buffer.from([0x80, 0x02, 0x8a, 0x0a]));
    assert.throws(() => loadCheckpoint(dir), refusedSaying(/not a zip-format/));
  });

  it('refuses a non-contiguous view it cannot read in place', () => {
    const dir = safetensorsToBin(writeTinyBert(makeTempDir(), { seed: 35 }));
    const file = path.join(dir, 'pytorch_model.bin');
    // A [2, 2] view with stride [4, 1]: every other row of a 4×4 storage... here simply stride [3, 1].
    const p = new PickleWriter().proto(2).global('collections', 'OrderedDict').op(')').op('R').op('(').str('w').global('torch._utils', '_rebuild_tensor_v2').op('(');
    p.tuple([() => p.str('storage'), () => p.global('torch', 'FloatStorage'), () => p.str('0'), () => p.str('cpu'), () => p.int(6)]).op('Q');
    p.int(0).ints([2, 2]).ints([3, 1]).raw(0x89).global('collections', 'OrderedDict').op(')').op('R').op('t').op('R').op('u').op('.');
    fs.writeFileSync(file, zipStored([['archive/data.pkl', p.bytes()], ['archive/data/0', new Uint8Array(24)]]));
    assert.throws(() => readPytorchBinTensors(file), (e: unknown) => e instanceof UserError && /non-contiguous/.test(e.message));
  });

  it('refuses a storage that is too short for its tensor', () => {
    const file = path.join(makeTempDir(), 'pytorch_model.bin');
    const p = new PickleWriter().proto(2).global('collections', 'OrderedDict').op(')').op('R').op('(').str('w').global('torch._utils', '_rebuild_tensor_v2').op('(');
    p.tuple([() => p.str('storage'), () => p.global('torch', 'FloatStorage'), () => p.str('0'), () => p.str('cpu'), () => p.int(100)]).op('Q');
    p.int(0).ints([10, 10]).ints([10, 1]).raw(0x89).global('collections', 'OrderedDict').op(')').op('R').op('t').op('R').op('u').op('.');
    fs.writeFileSync(file, zipStored([['archive/data.pkl', p.bytes()], ['archive/data/0', new Uint8Array(16)]]));
    assert.throws(() => readPytorchBinTensors(file), (e: unknown) => e instanceof UserError && /past the end of its storage/.test(e.message));
  });
});
