/**
 * Reads the directory of a zip archive (with zip64), enough to find where each member's bytes
 * start. PyTorch's torch.save writes members uncompressed ("stored"), so tensor bytes can be
 * used in place. Reads only the directory and local headers, never the members themselves.
 */
import * as fs from 'node:fs';
import { UserError } from '../../errors';

export interface ZipMember {
  name: string;
  /** 0 = stored, 8 = deflate, … */
  method: number;
  compressedSize: number;
  size: number;
  /** Absolute offset of the member's first data byte. */
  dataOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

export function readZipDirectory(fd: number, fileSize: number, file: string): Map<string, ZipMember> {
  const bad = (why: string) => new UserError(`not a valid zip archive (${why})`, file);
  const tailLen = Math.min(fileSize, 22 + 65535);
  const tail = readAt(fd, fileSize - tailLen, tailLen);
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw bad('no end-of-central-directory record');
  let entries = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  if (entries === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const locAt = eocd - 20;
    if (locAt < 0 || tail.readUInt32LE(locAt) !== ZIP64_LOCATOR) throw bad('zip64 locator missing');
    const recOffset = num(tail.readBigUInt64LE(locAt + 8), file);
    if (recOffset + 56 > fileSize) throw bad('zip64 end record past the end of the file');
    const rec = readAt(fd, recOffset, 56);
    if (rec.length < 56 || rec.readUInt32LE(0) !== ZIP64_EOCD) throw bad('zip64 end record missing');
    entries = num(rec.readBigUInt64LE(32), file);
    cdSize = num(rec.readBigUInt64LE(40), file);
    cdOffset = num(rec.readBigUInt64LE(48), file);
  }
  if (cdOffset + cdSize > fileSize) throw bad('central directory past the end of the file');
  const cd = readAt(fd, cdOffset, cdSize);
  if (cd.length < cdSize) throw bad('central directory past the end of the file');
  const members = new Map<string, ZipMember>();
  let at = 0;
  for (let n = 0; n < entries; n++) {
    if (at + 46 > cd.length || cd.readUInt32LE(at) !== CENTRAL) throw bad('corrupt central directory');
    const method = cd.readUInt16LE(at + 10);
    let compressedSize = cd.readUInt32LE(at + 20);
    let size = cd.readUInt32LE(at + 24);
    const nameLen = cd.readUInt16LE(at + 28);
    const extraLen = cd.readUInt16LE(at + 30);
    const commentLen = cd.readUInt16LE(at + 32);
    let localOffset = cd.readUInt32LE(at + 42);
    if (at + 46 + nameLen + extraLen + commentLen > cd.length) throw bad('corrupt central directory (an entry runs past its end)');
    const name = cd.toString('utf8', at + 46, at + 46 + nameLen);
    // zip64 extended information: the 0xffffffff fields, in this order.
    let e = at + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = cd.readUInt16LE(e);
      const len = cd.readUInt16LE(e + 2);
      const fieldEnd = e + 4 + len;
      if (fieldEnd > extraEnd) throw bad(`member "${name}" has an extra field that runs past its entry`);
      if (id === 0x0001) {
        let f = e + 4;
        const next = (): number => {
          if (f + 8 > fieldEnd) throw bad(`member "${name}" has a zip64 extra field too short for its sizes`);
          const v = num(cd.readBigUInt64LE(f), file);
          f += 8;
          return v;
        };
        if (size === 0xffffffff) size = next();
        if (compressedSize === 0xffffffff) compressedSize = next();
        if (localOffset === 0xffffffff) localOffset = next();
      }
      e = fieldEnd;
    }
    at = extraEnd + commentLen;
    if (localOffset + 30 > fileSize) throw bad(`member "${name}" has its local header past the end of the file`);
    const local = readAt(fd, localOffset, 30);
    if (local.length < 30 || local.readUInt32LE(0) !== LOCAL) throw bad(`member "${name}" has no local header`);
    const dataOffset = localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    if (dataOffset + compressedSize > fileSize) throw bad(`member "${name}" runs past the end of the file`);
    members.set(name, { name, method, compressedSize, size, dataOffset });
  }
  return members;
}

export function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buf, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return buf.subarray(0, done);
}

function num(v: bigint, file: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new UserError('not a valid zip archive (an offset or size is too large)', file);
  return Number(v);
}
