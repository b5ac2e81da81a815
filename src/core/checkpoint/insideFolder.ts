/**
 * The one rule for file names that come from inside a model's own files (shard names in a weight
 * index, ONNX external-data locations, the tokenizer files the deepen writer copies): they must
 * stay inside the model folder, so no checkpoint can make Layer Lens read (or deepen copy) bytes
 * from elsewhere on the disk.
 *
 * A name is accepted when all of these hold:
 * 1. it is relative and, taken as written, stays inside the folder (no absolute path, no `..`
 *    climbing out, no NUL byte);
 * 2. followed through symlinks, it lands inside the folder's real path;
 *    or, the one allowed escape, the folder is a Hugging Face cache snapshot
 *    (`<cache>/models--<org>--<name>/snapshots/<revision>`) and the name lands inside that same
 *    repository's `<cache>/models--<org>--<name>/blobs/` (how the HF cache stores every file:
 *    `snapshots/<rev>/model.safetensors → ../../blobs/<sha256>`). Blobs of another repository,
 *    or anything else outside, are refused.
 * A name that does not exist passes (the caller says it is missing).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';

function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** `<cache>/models--x/blobs` when `realFolder` is `<cache>/models--x/snapshots/<rev>`, else undefined. */
export function hfCacheBlobsFor(realFolder: string): string | undefined {
  const snapshots = path.dirname(realFolder);
  const repo = path.dirname(snapshots);
  if (path.basename(snapshots) !== 'snapshots' || !path.basename(repo).startsWith('models--')) return undefined;
  const blobs = path.join(repo, 'blobs');
  try {
    return fs.realpathSync(blobs);
  } catch {
    return undefined;
  }
}

/**
 * Resolves `name` (as written in `referrer`) against `folder`, or throws a UserError naming
 * `referrer` when it leaves the folder. `what` says what the name is, e.g. 'shard'.
 */
export function resolveInsideFolder(folder: string, name: string, what: string, referrer: string): string {
  const outside = (detail: string) =>
    new UserError(`${what} "${name}" ${detail}, outside the model folder; refusing to read it (names must stay inside ${folder})`, referrer);
  if (name.includes('\0')) throw outside('holds a NUL byte and so points');
  if (path.isAbsolute(name) || path.win32.isAbsolute(name)) throw outside('is an absolute path');
  const base = path.resolve(folder);
  const lexical = path.resolve(base, name);
  if (!isInside(base, lexical)) throw outside('climbs out with ".."');
  let real: string;
  try {
    real = fs.realpathSync(lexical);
  } catch {
    return lexical;
  }
  const realBase = fs.realpathSync(base);
  if (isInside(realBase, real)) return lexical;
  const blobs = hfCacheBlobsFor(realBase);
  if (blobs && isInside(blobs, real)) return lexical;
  throw outside(`is a symbolic link to ${real}`);
}
