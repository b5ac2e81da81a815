/**
 * Loads a model folder once, off the caller's thread, and reports whether it loads: the extension
 * runs this before it loads the model on the extension-host thread, so a folder that would hang the
 * loader, exhaust memory or crash V8 does that to this worker (which the host bounds and ends)
 * instead of freezing VS Code. See src/core/checkpoint/modelCheck.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadCheckpoint } from '../core/checkpoint/checkpoint';
import { isUserError } from '../core/errors';
import type { ModelCheckReply } from '../core/checkpoint/modelCheck';

const started = performance.now();
let reply: ModelCheckReply;
try {
  const c = loadCheckpoint(String((workerData as { dir: string }).dir));
  reply = { ok: true, ms: performance.now() - started, modelType: c.config.modelType, numLayers: c.config.numLayers };
} catch (e) {
  reply = { ok: false, userError: isUserError(e), message: (e as Error)?.message ?? String(e) };
}
parentPort!.postMessage(reply);
