/**
 * Issue 14's reproducers for the zip, ONNX and mergekit readers ("internal errors where a clear
 * line belongs"): each gives one UserError line naming the file, not a RangeError or TypeError.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readOnnxGraph } from '../../../src/core/checkpoint/onnx/onnxWeights';
import { readZipDirectory } from '../../../src/core/checkpoint/pytorch/zip';
import { parseMergekitYaml } from '../../../src/core/deepen/mergekit';
import { isUserError } from '../../../src/core/errors';
import { makeTempDir } from '../helpers/tinyBert';

/** Asserts `run` throws a one-line UserError that names `file` and matches `why`. */
function userError(run: () => unknown, file: string | undefined, why: RegExp): void {
  assert.throws(run, (e: Error) => {
    assert.ok(isUserError(e), `expected a UserError, got ${e.name}: ${e.message}`);
    assert.ok(!e.message.includes('\n'), `not one line: ${JSON.stringify(e.message)}`);
    if (file) assert.ok(e.message.startsWith(`${file}: `), `does not name ${file}: ${e.message}`);
    assert.match(e.message, why);
    return true;
  });
}

// ---- zip

interface ZipSpec {
  localOffset?: number;
  extra?: Buffer;
  /** Write a zip64 EOCD locator pointing at this offset (and 0xffff entries in the EOCD). */
  zip64RecordAt?: bigint;
}

/** One stored member "a/data.pkl" with content "x", written by hand so that each field can be corrupted. */
function zipBytes(spec: ZipSpec = {}): Buffer {
  const name = Buffer.from('a/data.pkl');
  const data = Buffer.from('x');
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt32LE(1, 18);
  local.writeUInt32LE(1, 22);
  local.writeUInt16LE(name.length, 26);
  const extra = spec.extra ?? Buffer.alloc(0);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt32LE(1, 20);
  central.writeUInt32LE(1, 24);
  central.writeUInt16LE(name.length, 28);
  central.writeUInt16LE(Math.min(extra.length, 0xffff), 30);
  central.writeUInt32LE(spec.localOffset ?? 0, 42);
  const head = Buffer.concat([local, name, data]);
  const cd = Buffer.concat([central, name, extra]);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(spec.zip64RecordAt !== undefined ? 0xffff : 1, 8);
  eocd.writeUInt16LE(spec.zip64RecordAt !== undefined ? 0xffff : 1, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(head.length, 16);
  const parts = [head, cd];
  if (spec.zip64RecordAt !== undefined) {
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(spec.zip64RecordAt, 8);
    parts.push(locator);
  }
  return Buffer.concat([...parts, eocd]);
}

// ---- a protobuf writer, enough for hand-made ONNX files

const varint = (v: number | bigint): Buffer => {
  let n = BigInt(v);
  const out: number[] = [];
  do {
    let b = Number(n & 0x7fn);
    n >>= 7n;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return Buffer.from(out);
};
const tag = (field: number, wire: number) => varint((field << 3) | wire);
const len = (field: number, payload: Buffer | string) => {
  const p = Buffer.from(payload);
  return Buffer.concat([tag(field, 2), varint(p.length), p]);
};
const vint = (field: number, v: number) => Buffer.concat([tag(field, 0), varint(v)]);
const onnxModel = (tensor: Buffer) => len(7, len(5, tensor)); // ModelProto.graph.initializer
const external = (entries: Record<string, string>) => Buffer.concat([...Object.entries(entries).map(([k, v]) => len(13, Buffer.concat([len(1, k), len(2, v)]))), vint(14, 1)]);

describe('issue 14 reproducers: zip, ONNX and mergekit give one clear line', () => {
  let dir: string;
  before(() => (dir = makeTempDir('layer-lens-repro-')));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, bytes: Buffer | string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, bytes);
    return file;
  };
  const zip = (bytes: Buffer) => {
    const file = write('pytorch_model.bin', bytes);
    const fd = fs.openSync(file, 'r');
    try {
      return readZipDirectory(fd, bytes.length, file);
    } finally {
      fs.closeSync(fd);
    }
  };

  it('zip: the hand-made archive itself reads', () => {
    const m = zip(zipBytes()).get('a/data.pkl');
    assert.deepEqual(m && { size: m.size, dataOffset: m.dataOffset }, { size: 1, dataOffset: 40 });
  });
  it('zip: a local-header offset past the end', () => {
    const file = path.join(dir, 'pytorch_model.bin');
    userError(() => zip(zipBytes({ localOffset: 1_000_000 })), file, /not a valid zip archive \(member "a\/data.pkl" has its local header past the end of the file\)/);
  });
  it('zip: an extra-field length of 0xffff', () => {
    const extra = Buffer.alloc(8);
    extra.writeUInt16LE(0x0001, 0);
    extra.writeUInt16LE(0xffff, 2);
    userError(() => zip(zipBytes({ extra })), path.join(dir, 'pytorch_model.bin'), /extra field that runs past its entry/);
  });
  it('zip: a zip64 extra field too short for the sizes it replaces', () => {
    const extra = Buffer.alloc(6);
    extra.writeUInt16LE(0x0001, 0);
    extra.writeUInt16LE(2, 2);
    const bytes = zipBytes({ extra, localOffset: 0xffffffff });
    userError(() => zip(bytes), path.join(dir, 'pytorch_model.bin'), /zip64 extra field too short/);
  });
  it('zip: a zip64 end record past the end', () => {
    userError(() => zip(zipBytes({ zip64RecordAt: 1n << 40n })), path.join(dir, 'pytorch_model.bin'), /zip64 end record past the end of the file/);
    userError(() => zip(zipBytes({ zip64RecordAt: 1n << 62n })), path.join(dir, 'pytorch_model.bin'), /offset or size is too large/);
  });

  it('ONNX: a hand-made initializer with external data reads', () => {
    write('w.bin', Buffer.alloc(16));
    const file = write('model.onnx', onnxModel(Buffer.concat([vint(1, 4), vint(2, 1), len(8, 'w'), external({ location: 'w.bin', offset: '0', length: '16' })])));
    const t = readOnnxGraph(file).initializers.get('w');
    assert.deepEqual(t && { dims: t.dims, offset: t.offset, byteLength: t.byteLength }, { dims: [4], offset: 0, byteLength: 16 });
  });
  it('ONNX: dims with a fixed32 or fixed64 wire type', () => {
    for (const [wire, bytes] of [
      [5, Buffer.alloc(4)],
      [1, Buffer.alloc(8)],
    ] as const) {
      const file = write('model.onnx', onnxModel(Buffer.concat([tag(1, wire), bytes, vint(2, 1), len(8, 'w')])));
      userError(() => readOnnxGraph(file), file, new RegExp(`not a valid ONNX file \\(field 1 should hold integers \\(varint or packed\\) but has wire type ${wire}\\)`));
    }
  });
  it('ONNX: external-data offset or length of NaN, -1 or past the end', () => {
    write('w.bin', Buffer.alloc(16));
    const cases: [Record<string, string>, RegExp][] = [
      [{ offset: 'NaN' }, /external-data offset "NaN" is not a non-negative integer/],
      [{ offset: '-1' }, /external-data offset "-1" is not a non-negative integer/],
      [{ length: '-1' }, /external-data length "-1" is not a non-negative integer/],
      [{ length: '1e3' }, /external-data length "1e3" is not a non-negative integer/],
      [{ offset: '99999999999999999999' }, /external-data offset "99999999999999999999" is not a non-negative integer/],
      [{ offset: '8', length: '16' }, /initializer "w": external data \(offset 8, length 16\) runs past the end of w.bin \(16 bytes\)/],
      [{ offset: '17' }, /external data \(offset 17, length 16\) runs past the end/],
    ];
    for (const [fields, why] of cases) {
      const file = write('model.onnx', onnxModel(Buffer.concat([vint(1, 4), vint(2, 1), len(8, 'w'), external({ location: 'w.bin', ...fields })])));
      userError(() => readOnnxGraph(file), file, why);
    }
  });

  const slice = 'slices:\n  - sources:\n      - model: a\n        layer_range: [0, 4]\n';
  it('mergekit: merge_method as an object, a mapping with toString', () => {
    userError(() => parseMergekitYaml(`${slice}merge_method: {toString: 1}\n`, 4, 'plan.yaml'), 'plan.yaml', /merge_method \{"toString":1\} is not supported/);
  });
  it('mergekit: every error names the YAML file', () => {
    userError(() => parseMergekitYaml(`${slice}merge_method: slerp\n`, 4, 'plan.yaml'), 'plan.yaml', /merge_method "slerp" is not supported/);
    userError(() => parseMergekitYaml('slices: [', 4, 'plan.yaml'), 'plan.yaml', /not valid YAML/);
    userError(() => parseMergekitYaml(`${slice}merge_method: passthrough\nextra: 1\n`, 4, 'plan.yaml'), 'plan.yaml', /key "extra" is not supported/);
  });
  it('mergekit: !!float gives our one line and prints no YAMLWarning', () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    const emit = process.emitWarning;
    process.emitWarning = ((w: string | Error) => void warnings.push(String(w))) as typeof process.emitWarning;
    try {
      const text = 'merge_method: passthrough\nslices:\n  - sources:\n      - model: a\n        layer_range: [!!float 0, 4]\n';
      userError(() => parseMergekitYaml(text, 4, 'plan.yaml'), 'plan.yaml', /mergekit config is not valid YAML: Unresolved tag: tag:yaml.org,2002:float at line 5, column 23/);
      // !!float on a number is fine YAML, and then not an integer layer.
      userError(() => parseMergekitYaml(text.replace('!!float 0', '!!float 0.5'), 4, 'plan.yaml'), 'plan.yaml', /"layer_range" must be \[start, end\]/);
    } finally {
      process.emitWarning = emit;
      process.off('warning', onWarning);
    }
    assert.deepEqual(warnings, []);
  });
  it('mergekit: keys with newlines stay on one line', () => {
    userError(() => parseMergekitYaml(`${slice}merge_method: passthrough\n"a\\nb": 1\n`, 4, 'plan.yaml'), 'plan.yaml', /key "a\\nb" is not supported/);
  });
});
