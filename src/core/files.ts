/**
 * Reading the user's files with errors the user can act on: one line that names the file and says
 * what is wrong ("is a folder, not a file", "permission denied"), never a raw EISDIR from deep inside.
 */
import * as fs from 'node:fs';
import { UserError } from './errors';

/** A file-system error in words. */
export function describeFsError(e: unknown): string {
  switch ((e as NodeJS.ErrnoException)?.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'it is a folder, not a file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    default:
      return (e as NodeJS.ErrnoException)?.code ?? (e as Error)?.message ?? String(e);
  }
}

/** Opens a regular file for reading, through symlinks (HF cache): its descriptor, real path and size. */
export function openFileForReading(file: string, what = 'file'): { fd: number; real: string; size: number } {
  let real: string;
  let fd: number;
  try {
    real = fs.realpathSync(file);
    fd = fs.openSync(real, 'r');
  } catch (e) {
    throw new UserError(`cannot open the ${what}: ${describeFsError(e)}`, file);
  }
  const stat = fs.fstatSync(fd);
  if (!stat.isFile()) {
    fs.closeSync(fd);
    throw new UserError(`cannot open the ${what}: ${stat.isDirectory() ? 'it is a folder, not a file' : 'not a regular file'}`, file);
  }
  return { fd, real, size: stat.size };
}

export function readUserFile(file: string, what = 'file'): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new UserError(`cannot read the ${what}: ${describeFsError(e)}`, file);
  }
}

export function readUserText(file: string, what = 'file'): string {
  return readUserFile(file, what).toString('utf8');
}

/** A file that must hold one JSON object (config.json, tokenizer.json, an index, …). */
export function readJsonObject(file: string, what = 'file'): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(readUserText(file, what));
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${what} is not valid JSON (${(e as Error).message})`, file);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UserError(`${what} must hold a JSON object`, file);
  }
  return value as Record<string, unknown>;
}

/** A safetensors / pytorch_model.bin index: its weight_map of tensor name → shard file name. */
export function readWeightMap(indexFile: string): Record<string, string> {
  const index = readJsonObject(indexFile, 'weight index');
  const map = index.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw new UserError('the weight index has no "weight_map" object', indexFile);
  }
  for (const [name, shard] of Object.entries(map)) {
    if (typeof shard !== 'string' || shard === '') {
      throw new UserError(`the weight index maps tensor "${name}" to ${JSON.stringify(shard)}, not a shard file name`, indexFile);
    }
  }
  return map as Record<string, string>;
}
