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

const MB = 1024 * 1024;

/**
 * The most bytes read whole from each kind of file (keyed by the `what` callers pass). Real files
 * are far smaller: the largest tokenizer.json on the Hub is about 35 MB (multilingual BPEs), the
 * largest config.json a few hundred kB (id2label tables). Anything else read whole gets DEFAULT_CAP.
 */
export const FILE_CAPS: Record<string, number> = {
  'config.json': 16 * MB,
  'tokenizer_config.json': 16 * MB,
  'special_tokens_map.json': 4 * MB,
  'added_tokens.json': 16 * MB,
  'tokenizer.json': 256 * MB,
  'vocab.txt': 64 * MB,
  'vocab.json': 64 * MB,
  'merges.txt': 64 * MB,
  'SentencePiece model': 64 * MB,
  'weight index': 64 * MB,
  'input file': 1024 * MB,
  // A V8 string holds at most ~512 MB; a bigger report would fail inside JSON.parse.
  'probe report': 500 * MB,
  // A passthrough plan of MAX_PLAN_LAYERS slices is about 100 kB.
  'mergekit YAML': 4 * MB,
  // python/finetune.py's per-model results: a few kB per evaluation.
  'results.json': 64 * MB,
};
export const DEFAULT_CAP = 256 * MB;

function kindOf(what: string): string {
  return what.replace(/^the /, '');
}

function describeKind(st: fs.Stats): string {
  if (st.isDirectory()) return 'it is a folder, not a file';
  if (st.isFIFO()) return 'it is a FIFO (named pipe), not a regular file';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'it is a device, not a regular file';
  if (st.isSocket()) return 'it is a socket, not a regular file';
  return 'not a regular file';
}

/**
 * Opens a regular file for reading, through symlinks (HF cache): its descriptor, real path and size.
 * The target is checked before it is opened, so a FIFO (which would block open()) or a device
 * (/dev/zero, /dev/urandom: endless bytes) is refused at once, and checked again on the descriptor.
 */
export function openFileForReading(file: string, what = 'file', verb = 'open'): { fd: number; real: string; size: number } {
  let real: string;
  let fd: number;
  try {
    real = fs.realpathSync(file);
    const before = fs.statSync(real);
    if (!before.isFile()) throw new UserError(`cannot ${verb} the ${what}: ${describeKind(before)}`, file);
    // O_NONBLOCK: should a FIFO be swapped in after the check, open() still returns at once.
    fd = fs.openSync(real, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`cannot ${verb} the ${what}: ${describeFsError(e)}`, file);
  }
  const stat = fs.fstatSync(fd);
  if (!stat.isFile()) {
    fs.closeSync(fd);
    throw new UserError(`cannot ${verb} the ${what}: ${describeKind(stat)}`, file);
  }
  return { fd, real, size: stat.size };
}

/** A whole file, refused when it is not a regular file or larger than the cap for its kind. */
export function readUserFile(file: string, what = 'file', cap = FILE_CAPS[kindOf(what)] ?? DEFAULT_CAP): Buffer {
  const { fd, size } = openFileForReading(file, what, 'read');
  try {
    if (size > cap) {
      throw new UserError(`the ${kindOf(what)} is ${(size / MB).toFixed(1)} MB, over the ${(cap / MB).toFixed(0)} MB limit for this kind of file`, file);
    }
    const buf = Buffer.alloc(size);
    let done = 0;
    while (done < size) {
      const n = fs.readSync(fd, buf, done, size - done, done);
      if (n === 0) break;
      done += n;
    }
    return done === size ? buf : buf.subarray(0, done);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`cannot read the ${what}: ${describeFsError(e)}`, file);
  } finally {
    fs.closeSync(fd);
  }
}

/** A whole file as UTF-8 text; a binary file (NUL bytes, invalid UTF-8) is refused with one line. */
export function readUserText(file: string, what = 'file'): string {
  const bytes = readUserFile(file, what);
  if (bytes.includes(0)) throw new UserError(`the ${kindOf(what)} is not text: it holds NUL bytes (a binary file?)`, file);
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new UserError(`the ${kindOf(what)} is not valid UTF-8 text`, file);
  }
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
