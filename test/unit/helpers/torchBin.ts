/**
 * Writes pytorch_model.bin files the way torch.save does (zip, members stored uncompressed and
 * 64-byte aligned, a protocol-2 pickle of an OrderedDict of _rebuild_tensor_v2 calls whose
 * storages are persistent ids), so tests need no PyTorch. Also a small pickle assembler for
 * hostile pickles.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DType } from '../../../src/core/checkpoint/dtype';
import { FORMAT_WRITERS, TinyCheckpoint } from './tinyFamilies';
import { encode } from './tinyBert';

const STORAGE: Partial<Record<DType, string>> = { F32: 'FloatStorage', F16: 'HalfStorage', BF16: 'BFloat16Storage', I64: 'LongStorage' };

export interface BinTensor {
  name: string;
  dtype: DType;
  shape: number[];
  bytes: Uint8Array;
  /** Share the storage of this earlier tensor (tied weights). */
  sharesWith?: string;
  /** Bytes hold the [in, out] transpose; pickle it as a .t() view (stride [1, out]). */
  transposedView?: boolean;
}

/** A tiny pickle assembler: enough opcodes for state dicts and for hostile pickles in tests. */
export class PickleWriter {
  private parts: number[] = [];
  raw(...bytes: number[]): this {
    this.parts.push(...bytes);
    return this;
  }
  op(ch: string): this {
    return this.raw(ch.charCodeAt(0));
  }
  proto(v = 2): this {
    return this.raw(0x80, v);
  }
  global(module: string, name: string): this {
    return this.op('c').text(`${module}\n${name}\n`);
  }
  stackGlobal(module: string, name: string): this {
    return this.str(module).str(name).raw(0x93);
  }
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    this.op('X');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(b.length);
    return this.raw(...len, ...b);
  }
  int(v: number): this {
    if (v >= 0 && v < 256) return this.raw(0x4b, v);
    if (v >= -(2 ** 31) && v < 2 ** 31) {
      const b = Buffer.alloc(4);
      b.writeInt32LE(v);
      return this.raw(0x4a, ...b);
    }
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(BigInt(v));
    return this.raw(0x8a, 8, ...b);
  }
  tuple(items: (() => void)[]): this {
    this.op('(');
    items.forEach((f) => f());
    return this.op('t');
  }
  ints(values: number[]): this {
    return this.tuple(values.map((v) => () => this.int(v)));
  }
  private text(s: string): this {
    return this.raw(...Buffer.from(s, 'utf8'));
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** The state-dict pickle torch.save writes for these tensors (storage keys "0", "1", …). */
export function stateDictPickle(tensors: BinTensor[]): { pickle: Uint8Array; storages: Map<string, Uint8Array> } {
  const p = new PickleWriter().proto(2).global('collections', 'OrderedDict').op(')').op('R').op('(');
  const storages = new Map<string, Uint8Array>();
  const keyOf = new Map<string, string>();
  for (const t of tensors) {
    const key = t.sharesWith ? keyOf.get(t.sharesWith)! : String(storages.size);
    if (!t.sharesWith) storages.set(key, t.bytes);
    keyOf.set(t.name, key);
    const numel = t.shape.reduce((a, b) => a * b, 1);
    const stride = t.transposedView ? [1, t.shape[0]] : t.shape.map((_, i) => t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
    p.str(t.name).global('torch._utils', '_rebuild_tensor_v2').op('(');
    p.tuple([() => p.str('storage'), () => p.global('torch', STORAGE[t.dtype]!), () => p.str(key), () => p.str('cpu'), () => p.int(numel)]).op('Q');
    p.int(0).ints(t.shape).ints(stride).raw(0x89).global('collections', 'OrderedDict').op(')').op('R').op('t').op('R');
  }
  p.op('u').op('.');
  return { pickle: p.bytes(), storages };
}

export function writeTorchBin(file: string, tensors: BinTensor[], archive = 'pytorch_model', zip64 = false): void {
  const { pickle, storages } = stateDictPickle(tensors);
  const members: [string, Uint8Array][] = [
    [`${archive}/data.pkl`, pickle],
    [`${archive}/byteorder`, Buffer.from('little')],
    ...[...storages].map(([k, v]) => [`${archive}/data/${k}`, v] as [string, Uint8Array]),
    [`${archive}/version`, Buffer.from('3\n')],
  ];
  fs.writeFileSync(file, zipStored(members, zip64));
}

/** A zip with every member stored (method 0), data aligned to 64 bytes like torch's writer. */
/** `zip64`: write the directory the way zip64 archives (over 4 GB) do, with the real values in extra fields. */
export function zipStored(members: [string, Uint8Array][], zip64 = false): Buffer {
  const chunks: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of members) {
    const nameBuf = Buffer.from(name, 'utf8');
    const headerLen = 30 + nameBuf.length + 4;
    const pad = (64 - ((offset + headerLen) % 64)) % 64;
    const extra = Buffer.alloc(4 + pad);
    extra.writeUInt16LE(0x4246, 0); // "FB", as torch pads
    extra.writeUInt16LE(pad, 2);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    local.writeUInt16LE(extra.length, 28);
    chunks.push(local, nameBuf, extra, Buffer.from(data));
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(zip64 ? 45 : 20, 4);
    cd.writeUInt16LE(zip64 ? 45 : 20, 6);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(zip64 ? 0xffffffff : data.length, 20);
    cd.writeUInt32LE(zip64 ? 0xffffffff : data.length, 24);
    cd.writeUInt16LE(nameBuf.length, 28);
    cd.writeUInt32LE(zip64 ? 0xffffffff : offset, 42);
    const extra64 = Buffer.alloc(zip64 ? 28 : 0);
    if (zip64) {
      extra64.writeUInt16LE(1, 0);
      extra64.writeUInt16LE(24, 2);
      extra64.writeBigUInt64LE(BigInt(data.length), 4);
      extra64.writeBigUInt64LE(BigInt(data.length), 12);
      extra64.writeBigUInt64LE(BigInt(offset), 20);
      cd.writeUInt16LE(28, 30);
    }
    central.push(cd, nameBuf, extra64);
    offset += 30 + nameBuf.length + extra.length + data.length;
  }
  const cdBuf = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(zip64 ? 0xffff : members.length, 8);
  end.writeUInt16LE(zip64 ? 0xffff : members.length, 10);
  end.writeUInt32LE(zip64 ? 0xffffffff : cdBuf.length, 12);
  end.writeUInt32LE(zip64 ? 0xffffffff : offset, 16);
  if (!zip64) return Buffer.concat([...chunks, cdBuf, end]);
  const rec = Buffer.alloc(56);
  rec.writeUInt32LE(0x06064b50, 0);
  rec.writeBigUInt64LE(44n, 4);
  rec.writeUInt16LE(45, 12);
  rec.writeUInt16LE(45, 14);
  rec.writeBigUInt64LE(BigInt(members.length), 24);
  rec.writeBigUInt64LE(BigInt(members.length), 32);
  rec.writeBigUInt64LE(BigInt(cdBuf.length), 40);
  rec.writeBigUInt64LE(BigInt(offset), 48);
  const loc = Buffer.alloc(20);
  loc.writeUInt32LE(0x07064b50, 0);
  loc.writeBigUInt64LE(BigInt(offset + cdBuf.length), 8);
  loc.writeUInt32LE(1, 16);
  return Buffer.concat([...chunks, cdBuf, rec, loc, end]);
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** pytorch_model.bin for a tiny family checkpoint: tied weights share a storage, as in HF. */
FORMAT_WRITERS.bin = (dir: string, ckpt: TinyCheckpoint, dtype: DType) => {
  const present = new Set(ckpt.tensors.map((t) => t.name));
  const tiedTo = new Map(ckpt.tied.filter(([a, b]) => present.has(a) && present.has(b)).map(([a, b]) => [a, b]));
  // Storages must be written before a tensor refers to them: put the tied tensors last.
  const ordered = [...ckpt.tensors.filter((t) => !tiedTo.has(t.name)), ...ckpt.tensors.filter((t) => tiedTo.has(t.name))];
  writeTorchBin(
    path.join(dir, 'pytorch_model.bin'),
    ordered.map((t) => ({ name: t.name, dtype, shape: t.shape, bytes: encode(t.values as Float32Array, dtype), sharesWith: tiedTo.get(t.name) })),
  );
};
