/**
 * The deepen writer's temp folders, and how a later run recognises the ones an interrupted run left.
 *
 * A temp folder of ours is, precisely:
 * - a folder in the target's parent named `.<target name>.tmp-XXXXXX` (6 characters [A-Za-z0-9]),
 * - holding a marker file `.layer-lens-temp.json` written before anything else, with
 *   `{ "layer_lens_temp": 1, "pid", "host", "started" (ms since epoch), "target" }`.
 *
 * It is stale when its marker names this host and a process that is gone: `kill(pid, 0)` fails
 * with ESRCH, or (Linux) /proc/<pid> is younger than the marker's `started`, so the pid was reused.
 * A folder without a valid marker is never touched: it is not ours. A marker from another host
 * (a shared network folder) is left alone too, since its process cannot be checked from here.
 *
 * While an overwrite swaps folders, the old target is moved into a temp folder of ours as
 * `replaced/`. If a run dies between the two renames, the target is missing and `replaced/` holds
 * the user's previous model: the cleaner puts it back instead of deleting it.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const TEMP_MARKER = '.layer-lens-temp.json';
export const REPLACED_DIR = 'replaced';
const SUFFIX = /\.tmp-[A-Za-z0-9]{6}$/;

export interface TempMarker {
  layer_lens_temp: 1;
  pid: number;
  host: string;
  started: number;
  target: string;
}

/** Creates `.<name>.tmp-XXXXXX` next to `target` with our marker inside; mode follows the umask. */
export function createTempFolder(target: string): string {
  const parent = path.dirname(target);
  for (let attempt = 0; ; attempt++) {
    const id = crypto.randomBytes(6).toString('base64url').replace(/[^A-Za-z0-9]/g, 'x').slice(0, 6);
    const dir = path.join(parent, `.${path.basename(target)}.tmp-${id}`);
    try {
      // mkdir (unlike mkdtemp's fixed 0700) gives the folder the user's umask.
      fs.mkdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 10) continue;
      throw e;
    }
    const marker: TempMarker = { layer_lens_temp: 1, pid: process.pid, host: os.hostname(), started: Date.now(), target };
    fs.writeFileSync(path.join(dir, TEMP_MARKER), JSON.stringify(marker) + '\n', { flag: 'wx' });
    return dir;
  }
}

/** The marker of a folder that is one of our temp folders, or undefined. */
export function readTempMarker(dir: string): TempMarker | undefined {
  if (!SUFFIX.test(path.basename(dir)) || !path.basename(dir).startsWith('.')) return undefined;
  try {
    const st = fs.lstatSync(dir);
    if (!st.isDirectory()) return undefined;
    const file = path.join(dir, TEMP_MARKER);
    const mst = fs.lstatSync(file);
    if (!mst.isFile() || mst.size > 64 * 1024) return undefined;
    const m = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<TempMarker>;
    if (m.layer_lens_temp !== 1 || !Number.isSafeInteger(m.pid) || typeof m.host !== 'string' || typeof m.started !== 'number' || typeof m.target !== 'string') {
      return undefined;
    }
    return m as TempMarker;
  } catch {
    return undefined;
  }
}

/** Whether the process that wrote `marker` is gone (see the module comment). */
export function isStale(marker: TempMarker): boolean {
  if (marker.host !== os.hostname()) return false;
  if (marker.pid === process.pid) return false;
  try {
    process.kill(marker.pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
  try {
    // The pid is alive: it is ours only if that process started before the marker was written.
    return fs.statSync(`/proc/${marker.pid}`).ctimeMs > marker.started + 1000;
  } catch {
    return false;
  }
}

export interface StaleCleanup {
  /** Folders removed, with their size in bytes. */
  removed: { dir: string; bytes: number; pid: number }[];
  /** Old targets put back where an interrupted overwrite had moved them. */
  restored: { from: string; target: string }[];
}

/** Finds our stale temp folders in `parent`, removes them, and restores any half-swapped target. */
export function cleanStaleTempFolders(parent: string): StaleCleanup {
  const out: StaleCleanup = { removed: [], restored: [] };
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return out;
  }
  for (const name of names) {
    const dir = path.join(parent, name);
    const marker = readTempMarker(dir);
    if (!marker || !isStale(marker)) continue;
    const replaced = path.join(dir, REPLACED_DIR);
    if (fs.existsSync(replaced) && path.dirname(marker.target) === parent && !fs.existsSync(marker.target)) {
      fs.renameSync(replaced, marker.target);
      out.restored.push({ from: dir, target: marker.target });
    }
    const bytes = folderBytes(dir);
    fs.rmSync(dir, { recursive: true, force: true });
    out.removed.push({ dir, bytes, pid: marker.pid });
  }
  return out;
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += folderBytes(p);
    else if (e.isFile()) total += fs.lstatSync(p).size;
  }
  return total;
}
