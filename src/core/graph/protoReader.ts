/**
 * A minimal protobuf wire-format reader (the counterpart of protobuf.ts), over a file read in
 * windows, so a large .onnx file is walked without loading it: big fields (tensor bytes) are
 * skipped and only their position is kept.
 */
import * as fs from 'node:fs';

export const enum Wire {
  VARINT = 0,
  I64 = 1,
  LEN = 2,
  I32 = 5,
}

export interface Field {
  field: number;
  wire: Wire;
  /** VARINT / I64 / I32 value (as a bigint for varints, to keep int64 exact). */
  value?: bigint;
  /** LEN: absolute start of the payload and its length. */
  start?: number;
  length?: number;
}

export class ProtoFileReader {
  private window = Buffer.alloc(0);
  private windowStart = 0;

  constructor(
    private readonly fd: number,
    readonly size: number,
    private readonly windowSize = 1 << 20,
  ) {}

  byteAt(pos: number): number {
    if (pos < this.windowStart || pos >= this.windowStart + this.window.length) this.fill(pos);
    return this.window[pos - this.windowStart];
  }

  bytes(pos: number, length: number): Buffer {
    if (pos < 0 || pos + length > this.size) throw new ProtoError(`field runs past the end of the file (${pos}+${length} > ${this.size})`);
    if (pos >= this.windowStart && pos + length <= this.windowStart + this.window.length) {
      return this.window.subarray(pos - this.windowStart, pos - this.windowStart + length);
    }
    const buf = Buffer.alloc(length);
    fs.readSync(this.fd, buf, 0, length, pos);
    return buf;
  }

  private fill(pos: number): void {
    if (pos >= this.size) throw new ProtoError('unexpected end of file');
    const len = Math.min(this.windowSize, this.size - pos);
    const buf = Buffer.alloc(len);
    fs.readSync(this.fd, buf, 0, len, pos);
    this.window = buf;
    this.windowStart = pos;
  }

  /** The fields of the message in [start, end), in order. LEN payloads are not read. */
  *fields(start: number, end: number): Generator<Field> {
    let pos = start;
    const varint = (): bigint => {
      let v = 0n;
      let shift = 0n;
      for (;;) {
        if (pos >= end) throw new ProtoError('truncated varint');
        const b = this.byteAt(pos++);
        v |= BigInt(b & 0x7f) << shift;
        if (!(b & 0x80)) return v;
        shift += 7n;
        if (shift > 63n) throw new ProtoError('varint too long');
      }
    };
    while (pos < end) {
      const tag = Number(varint());
      const field = tag >>> 3;
      const wire = (tag & 7) as Wire;
      switch (wire) {
        case Wire.VARINT:
          yield { field, wire, value: varint() };
          break;
        case Wire.I64:
          yield { field, wire, value: this.bytes(pos, 8).readBigUInt64LE(0) };
          pos += 8;
          break;
        case Wire.I32:
          yield { field, wire, value: BigInt(this.bytes(pos, 4).readUInt32LE(0)) };
          pos += 4;
          break;
        case Wire.LEN: {
          const length = Number(varint());
          if (pos + length > end) throw new ProtoError(`field ${field} runs past the end of its message`);
          yield { field, wire, start: pos, length };
          pos += length;
          break;
        }
        default:
          throw new ProtoError(`unsupported wire type ${wire} (field ${field})`);
      }
    }
  }

  string(f: Field): string {
    return this.bytes(f.start!, f.length!).toString('utf8');
  }

  /** A repeated int64 field, packed or not, appended to `out`. */
  ints(f: Field, out: number[]): void {
    if (f.wire !== Wire.VARINT && f.wire !== Wire.LEN) {
      throw new ProtoError(`field ${f.field} should hold integers (varint or packed) but has wire type ${f.wire}`);
    }
    if (f.wire === Wire.VARINT) {
      out.push(Number(BigInt.asIntN(64, f.value!)));
      return;
    }
    const buf = this.bytes(f.start!, f.length!);
    let v = 0n;
    let shift = 0n;
    for (const b of buf) {
      v |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if (!(b & 0x80)) {
        out.push(Number(BigInt.asIntN(64, v)));
        v = 0n;
        shift = 0n;
      }
    }
  }
}

export class ProtoError extends Error {}
