/**
 * pytorch_model.bin (torch.save's zip format, PyTorch ≥ 1.6): the state dict's pickle is read by
 * the restricted unpickler; each tensor then points straight at its bytes inside the zip (torch
 * stores members uncompressed), so nothing is copied. Sharded checkpoints come with
 * pytorch_model.bin.index.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../../errors';
import { openFileForReading, readWeightMap } from '../../files';
import { resolveInsideFolder } from '../insideFolder';
import { DTYPE_BYTES } from '../dtype';
import { TensorEntry } from '../safetensors';
import { WeightIndex } from '../weights';
import { readAt, readZipDirectory, ZipMember } from './zip';
import { isDict, isTensor, PickledDict, restrictedUnpickle, SAFETENSORS_HINT, TensorRef } from './unpickler';

const MAX_PICKLE_BYTES = 256 * 1024 * 1024;

export function readPytorchBin(file: string): WeightIndex {
  const tensors = readPytorchBinTensors(file);
  return { tensors, files: [fs.realpathSync(file)], displayFile: file, format: 'pytorch' };
}

export function readPytorchBinIndex(indexFile: string): WeightIndex {
  const weightMap = readWeightMap(indexFile);
  const tensors = new Map<string, TensorEntry>();
  const files: string[] = [];
  for (const shard of new Set(Object.values(weightMap))) {
    const shardFile = resolveInsideFolder(path.dirname(indexFile), shard, 'shard', indexFile);
    if (!fs.existsSync(shardFile)) throw new UserError(`shard "${shard}" listed in the index is missing`, indexFile);
    files.push(fs.realpathSync(shardFile));
    for (const [name, entry] of readPytorchBinTensors(shardFile)) tensors.set(name, entry);
  }
  return { tensors, files, displayFile: indexFile, format: 'pytorch' };
}

export function readPytorchBinTensors(file: string): Map<string, TensorEntry> {
  const { fd, real, size } = openFileForReading(file, 'PyTorch checkpoint');
  try {
    const magic = readAt(fd, 0, 4);
    if (magic.length < 4 || magic.readUInt32LE(0) !== 0x04034b50) {
      throw new UserError(
        `this is not a zip-format PyTorch checkpoint (torch.save before PyTorch 1.6 wrote a bare pickle stream, which Layer Lens does not read). ${SAFETENSORS_HINT}`,
        file,
      );
    }
    const members = readZipDirectory(fd, size, file);
    const pkl = [...members.values()].find((m) => m.name.endsWith('/data.pkl') && m.name.split('/').length === 2);
    if (!pkl) throw new UserError('the zip has no <archive>/data.pkl: it is not a torch.save checkpoint', file);
    const prefix = pkl.name.slice(0, -'data.pkl'.length);
    const byteorder = members.get(`${prefix}byteorder`);
    if (byteorder && stored(byteorder) && readAt(fd, byteorder.dataOffset, byteorder.size).toString('utf8').trim() === 'big') {
      throw new UserError(`the tensors were saved big-endian. ${SAFETENSORS_HINT}`, file);
    }
    if (!stored(pkl)) throw new UserError(`data.pkl is compressed (method ${pkl.method}). ${SAFETENSORS_HINT}`, file);
    if (pkl.size > MAX_PICKLE_BYTES) throw new UserError(`data.pkl is ${pkl.size} bytes; too large for a state dict`, file);
    const root = restrictedUnpickle(readAt(fd, pkl.dataOffset, pkl.size), file);
    const dict = stateDict(root, file);
    const out = new Map<string, TensorEntry>();
    for (const [name, value] of dict.entries) {
      if (typeof name !== 'string') throw new UserError('the state dict has a key that is not a string', file);
      if (!isTensor(value)) continue; // e.g. a stray int; weights are all tensors
      out.set(name, toEntry(name, value, members, prefix, real, file));
    }
    return out;
  } finally {
    fs.closeSync(fd);
  }
}

const stored = (m: ZipMember) => m.method === 0 && m.compressedSize === m.size;

/** A plain state dict, or one wrapped as {"state_dict": …} / {"model": …}. */
function stateDict(root: unknown, file: string): PickledDict {
  if (!isDict(root)) throw new UserError(`the pickle does not hold a state dict (a dict of tensors). ${SAFETENSORS_HINT}`, file);
  if (![...root.entries.values()].some(isTensor)) {
    for (const key of ['state_dict', 'model', 'module']) {
      const inner = root.entries.get(key);
      if (isDict(inner)) return inner;
    }
  }
  return root;
}

function toEntry(name: string, t: TensorRef, members: Map<string, ZipMember>, prefix: string, real: string, file: string): TensorEntry {
  const member = members.get(`${prefix}data/${t.storage.key}`);
  if (!member) throw new UserError(`tensor "${name}" refers to storage ${t.storage.key}, which is not in the archive`, file);
  if (!stored(member)) {
    throw new UserError(`tensor "${name}" is stored compressed (zip method ${member.method}), so it cannot be read in place. ${SAFETENSORS_HINT}`, file);
  }
  const elem = DTYPE_BYTES[t.storage.dtype];
  const numel = t.shape.reduce((a, b) => a * b, 1);
  // The furthest element the view touches must lie inside the storage.
  const span = numel === 0 ? 0 : t.shape.reduce((acc, d, i) => acc + (d - 1) * t.stride[i], 0) + 1;
  if ((t.storageOffset + span) * elem > member.size) {
    throw new UserError(`tensor "${name}" reaches past the end of its storage (corrupt checkpoint)`, file);
  }
  let transposed = false;
  if (!isContiguous(t.shape, t.stride)) {
    if (t.shape.length === 2 && t.stride[0] === 1 && t.stride[1] === t.shape[0]) {
      transposed = true; // a .t() view of a contiguous [in, out] block: read in place, transposed
    } else {
      throw new UserError(
        `tensor "${name}" is a non-contiguous view (size [${t.shape}], stride [${t.stride}]), which cannot be read in place. Re-save it with .contiguous(), or convert to safetensors.`,
        file,
      );
    }
  }
  return {
    name,
    dtype: t.storage.dtype,
    shape: t.shape,
    file: real,
    offset: member.dataOffset + t.storageOffset * elem,
    byteLength: numel * elem,
    ...(transposed ? { transposed } : {}),
  };
}

function isContiguous(shape: number[], stride: number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && stride[i] !== expected) return false;
    expected *= shape[i];
  }
  return true;
}
