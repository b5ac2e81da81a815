/**
 * A trial load of a model folder in a worker thread, bounded in time and heap. The extension host
 * must never block on a hostile folder: the loader itself is synchronous (and bounded by the file
 * caps in files.ts and the limits in limits.ts), so the host runs it here first. A folder that fails
 * gives its own one-line UserError; one that runs past the time limit, or past the heap limit, or
 * crashes the worker, is refused with a line that says so, and the host never loads it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { CancelledError, UserError } from '../errors';

export type ModelCheckReply =
  | { ok: true; ms: number; modelType: string; numLayers: number }
  | { ok: false; userError: boolean; message: string };

export interface ModelCheckOptions {
  /** Longest a trial load may take. Loading the 22 MB reference model takes about 40 ms. */
  timeoutMs?: number;
  /** V8 heap limit of the worker (the largest tokenizer.json the caps allow needs about 2 GB). */
  maxHeapMb?: number;
  workerPath?: string;
  /** Aborting ends the trial load at once (CancelledError). */
  signal?: AbortSignal;
}

export const MODEL_CHECK_TIMEOUT_MS = 60_000;
export const MODEL_CHECK_HEAP_MB = 4096;

export function defaultModelCheckWorkerPath(): string {
  // Bundled: dist/modelCheckWorker.js next to the caller. Compiled tests: out/src/core/checkpoint → dist/.
  const candidates = [path.join(__dirname, 'modelCheckWorker.js'), path.resolve(__dirname, '../../../../dist/modelCheckWorker.js')];
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found) throw new UserError(`the model-check worker is missing (looked for ${candidates.join(', ')}); run "npm run build"`);
  return found;
}

/** Resolves once `dir` loads in a worker within the bounds; rejects with one UserError line otherwise. */
export function checkModelLoads(dir: string, options: ModelCheckOptions = {}): Promise<{ ms: number; modelType: string; numLayers: number }> {
  const timeoutMs = options.timeoutMs ?? MODEL_CHECK_TIMEOUT_MS;
  const maxHeapMb = options.maxHeapMb ?? MODEL_CHECK_HEAP_MB;
  const worker = new Worker(options.workerPath ?? defaultModelCheckWorkerPath(), {
    workerData: { dir },
    resourceLimits: { maxOldGenerationSizeMb: maxHeapMb },
  });
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (action: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', abort);
      void worker.terminate();
      action();
    };
    const timer = setTimeout(
      () => settle(() => reject(new UserError(`loading the model took longer than ${timeoutMs / 1000} s in a trial load, so Layer Lens will not load it`, dir))),
      timeoutMs,
    );
    const abort = () => settle(() => reject(new CancelledError()));
    if (options.signal?.aborted) abort();
    options.signal?.addEventListener('abort', abort, { once: true });
    worker.once('message', (m: ModelCheckReply) =>
      settle(() => {
        if (m.ok) resolve({ ms: m.ms, modelType: m.modelType, numLayers: m.numLayers });
        else reject(m.userError ? new UserError(m.message) : new UserError(`loading the model failed: ${m.message.split('\n')[0]}`, dir));
      }),
    );
    worker.once('error', (e: Error & { code?: string }) =>
      settle(() =>
        reject(
          e.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new UserError(`loading the model needs more than ${maxHeapMb} MB of memory in a trial load, so Layer Lens will not load it`, dir)
            : new UserError(`loading the model failed: ${e.message.split('\n')[0]}`, dir),
        ),
      ),
    );
    worker.once('exit', (code) => settle(() => reject(new UserError(`the trial load of the model stopped unexpectedly (exit code ${code})`, dir))));
  });
}
