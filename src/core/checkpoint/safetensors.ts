/**
 * A careful reader and a streaming writer for the safetensors format:
 * 8-byte little-endian header length, a JSON header, then the tensor bytes.
 * The reader validates everything it is told before anything trusts an offset.
 */
import * as fs from 'node:fs';
import { UserError } from '../errors';
import { openFileForReading } from '../files';
import { DType, DTYPE_BYTES, isDType, toFloat32 } from './dtype';

export interface TensorEntry {
  name: string;
  dtype: DType;
  shape: number[];
  /** Absolute path of the file that holds the bytes (already resolved through symlinks). */
  file: string;
  /** Byte offset of the first element within `file`. */
  offset: number;
  byteLength: number;
  /**
   * Set when a 2-D weight is stored as [in, out] (an ONNX MatMul initializer, a transposed view in a
   * PyTorch pickle): `shape` stays the logical PyTorch [out, in], the bytes hold its transpose.
   */
  transposed?: boolean;
}

export interface SafetensorsHeader {
  file: string;
  dataStart: number;
  tensors: Map<string, TensorEntry>;
  metadata: Record<string, string>;
}

const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export function readSafetensorsHeader(file: string): SafetensorsHeader {
  const { fd, real, size: fileSize } = openFileForReading(file, 'safetensors file');
  try {
    if (fileSize < 8) throw new UserError(`not a safetensors file: it is only ${fileSize} bytes long`, file);
    const lenBuf = Buffer.alloc(8);
    fs.readSync(fd, lenBuf, 0, 8, 0);
    const headerLen = Number(lenBuf.readBigUInt64LE(0));
    if (headerLen > MAX_HEADER_BYTES) {
      throw new UserError(
        `corrupt safetensors header: it claims ${headerLen} header bytes, over the format's limit of ${MAX_HEADER_BYTES} (100 MB)`,
        file,
      );
    }
    if (8 + headerLen > fileSize) {
      throw new UserError(
        `corrupt safetensors header: it claims ${headerLen} header bytes but the file has only ${fileSize - 8} after the length field`,
        file,
      );
    }
    const headerBuf = Buffer.alloc(headerLen);
    fs.readSync(fd, headerBuf, 0, headerLen, 8);
    const dataStart = 8 + headerLen;
    return parseHeader(headerBuf.toString('utf8'), file, real, dataStart, fileSize - dataStart);
  } finally {
    fs.closeSync(fd);
  }
}

function parseHeader(text: string, file: string, real: string, dataStart: number, dataSize: number): SafetensorsHeader {
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/\s+$/, ''));
  } catch (e) {
    throw new UserError(`corrupt safetensors header: the header is not valid JSON (${(e as Error).message})`, file);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new UserError('corrupt safetensors header: the header is not a JSON object', file);
  }
  const tensors = new Map<string, TensorEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      // The format says: a map of string to string (null allowed, as the Rust reader's Option). It is
      // copied into deepened output, so check it.
      if (value === null) continue;
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new UserError(`corrupt safetensors header: "__metadata__" must be an object of strings, got ${describeJson(value)}`, file);
      }
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string') {
          throw new UserError(`corrupt safetensors header: "__metadata__" entry "${k}" must be a string, got ${describeJson(v)}`, file);
        }
      }
      metadata = value as Record<string, string>;
      continue;
    }
    tensors.set(name, parseEntry(name, value, file, real, dataStart, dataSize));
  }
  checkNoOverlap([...tensors.values()], file, dataStart);
  return { file: real, dataStart, tensors, metadata };
}

function describeJson(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function parseEntry(name: string, value: unknown, file: string, real: string, dataStart: number, dataSize: number): TensorEntry {
  const bad = (why: string) => new UserError(`corrupt safetensors header: tensor "${name}" ${why}`, file);
  if (typeof value !== 'object' || value === null) throw bad('has no description');
  const { dtype, shape, data_offsets } = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (typeof dtype !== 'string' || !isDType(dtype)) throw bad(`has an unknown dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw bad('has an invalid shape');
  if (
    !Array.isArray(data_offsets) ||
    data_offsets.length !== 2 ||
    !data_offsets.every((d) => Number.isSafeInteger(d) && d >= 0) ||
    data_offsets[1] < data_offsets[0]
  ) {
    throw bad('has invalid data_offsets');
  }
  const [begin, end] = data_offsets as [number, number];
  if (end > dataSize) throw bad(`has data_offsets [${begin}, ${end}] past the end of the data (${dataSize} bytes)`);
  const elements = (shape as number[]).reduce((a, b) => a * b, 1);
  if (elements * DTYPE_BYTES[dtype] !== end - begin) {
    throw bad(`has ${end - begin} bytes but shape [${shape.join(', ')}] of ${dtype} needs ${elements * DTYPE_BYTES[dtype]}`);
  }
  return { name, dtype, shape: shape as number[], file: real, offset: dataStart + begin, byteLength: end - begin };
}

function checkNoOverlap(entries: TensorEntry[], file: string, dataStart: number): void {
  const sorted = entries.filter((e) => e.byteLength > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    if (sorted[i].offset < prev.offset + prev.byteLength) {
      throw new UserError(
        `corrupt safetensors header: tensors "${prev.name}" and "${sorted[i].name}" overlap (bytes ${prev.offset - dataStart}..${prev.offset - dataStart + prev.byteLength} and ${sorted[i].offset - dataStart}..)`,
        file,
      );
    }
  }
}

/** The tensor's bytes, or `length` of them from byte `start` within it. */
export function readTensorBytes(entry: TensorEntry, start = 0, length = entry.byteLength - start): Uint8Array {
  const fd = fs.openSync(entry.file, 'r');
  try {
    const buf = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = fs.readSync(fd, buf, done, length - done, entry.offset + start + done);
      if (n === 0) throw new UserError(`unexpected end of file while reading tensor "${entry.name}"`, entry.file);
      done += n;
    }
    return buf;
  } finally {
    fs.closeSync(fd);
  }
}

export function readTensorF32(entry: TensorEntry): Float32Array {
  return toFloat32(readTensorBytes(entry), entry.dtype);
}

/** Rows [first, first + count) of a 2-D tensor stored row-major (not `transposed`), as float32. */
export function readTensorRowsF32(entry: TensorEntry, first: number, count: number): Float32Array {
  const rowBytes = entry.shape[1] * DTYPE_BYTES[entry.dtype];
  return toFloat32(readTensorBytes(entry, first * rowBytes, count * rowBytes), entry.dtype);
}

// ---------------------------------------------------------------- writing

export interface TensorToWrite {
  name: string;
  dtype: DType;
  shape: number[];
  byteLength: number;
  /** Produces the bytes when the writer reaches this tensor, so only one tensor is in memory at a time. */
  read(): Uint8Array;
}

/**
 * Writes tensors one at a time into `file` (which must not exist yet: callers write into a temp
 * folder and rename). Tensors are laid out in the given order, header padded to 8 bytes.
 */
export function writeSafetensors(file: string, tensors: TensorToWrite[], metadata: Record<string, string> = {}): void {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.byteLength] };
    offset += t.byteLength;
  }
  let headerText = JSON.stringify(header);
  headerText += ' '.repeat((8 - (Buffer.byteLength(headerText) % 8)) % 8);
  const headerBytes = Buffer.from(headerText, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(headerBytes.length));
  const fd = fs.openSync(file, 'wx');
  try {
    writeAll(fd, len);
    writeAll(fd, headerBytes);
    for (const t of tensors) {
      const bytes = t.read();
      if (bytes.byteLength !== t.byteLength) {
        throw new Error(`tensor ${t.name}: expected ${t.byteLength} bytes, got ${bytes.byteLength}`);
      }
      writeAll(fd, bytes);
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.byteLength) done += fs.writeSync(fd, bytes, done, bytes.byteLength - done);
}
