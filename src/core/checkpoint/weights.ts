/**
 * The tensors of a checkpoint, by HF name, each pointing at its bytes on disk.
 * Nothing is read here beyond headers: the probe graph points ORT at these byte ranges.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';
import { readWeightMap } from '../files';
import { WEIGHT_FORMATS } from './formats';
import { resolveInsideFolder } from './insideFolder';
import { readSafetensorsHeader, TensorEntry } from './safetensors';

export interface WeightIndex {
  /** Every tensor by its HF name. */
  tensors: Map<string, TensorEntry>;
  /** The files the tensors live in (resolved through symlinks). */
  files: string[];
  /** What the user will recognise: the file they have, e.g. model.safetensors. */
  displayFile: string;
  format: 'safetensors' | 'pytorch' | 'onnx';
  /** Added to "missing tensor" errors, e.g. which ONNX initializers could not be mapped to HF names. */
  missingHint?: string;
}

const SINGLE = 'model.safetensors';
const INDEX = 'model.safetensors.index.json';

export function openWeights(dir: string, hint?: string): WeightIndex {
  if (hint) {
    const base = path.basename(hint);
    if (base.endsWith('.safetensors.index.json')) return openSharded(hint);
    if (base.endsWith('.safetensors')) return openSingle(hint);
    const reader = WEIGHT_FORMATS.find((r) => r.matches(base));
    if (reader) return reader.read(hint);
  }
  if (fs.existsSync(path.join(dir, SINGLE))) return openSingle(path.join(dir, SINGLE));
  if (fs.existsSync(path.join(dir, INDEX))) return openSharded(path.join(dir, INDEX));
  for (const reader of WEIGHT_FORMATS) {
    const match = fs.readdirSync(dir).find((f) => reader.matches(f));
    if (match) return reader.read(path.join(dir, match));
  }
  throw new UserError(`no weights found: expected ${SINGLE} or ${INDEX}`, dir);
}

function openSingle(file: string): WeightIndex {
  const header = readSafetensorsHeader(file);
  return { tensors: header.tensors, files: [header.file], displayFile: file, format: 'safetensors' };
}

function openSharded(indexFile: string): WeightIndex {
  const weightMap = readWeightMap(indexFile);
  const dir = path.dirname(indexFile);
  const tensors = new Map<string, TensorEntry>();
  const files: string[] = [];
  for (const shard of new Set(Object.values(weightMap))) {
    const shardFile = resolveInsideFolder(dir, shard, 'shard', indexFile);
    if (!fs.existsSync(shardFile)) throw new UserError(`shard "${shard}" listed in the index is missing`, indexFile);
    const header = readSafetensorsHeader(shardFile);
    files.push(header.file);
    for (const [name, entry] of header.tensors) tensors.set(name, entry);
  }
  for (const [name, shard] of Object.entries(weightMap)) {
    if (!tensors.has(name)) throw new UserError(`tensor "${name}" is listed for shard "${shard}" but is not in it`, indexFile);
  }
  return { tensors, files, displayFile: indexFile, format: 'safetensors' };
}
