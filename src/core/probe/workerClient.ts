/**
 * Host side of the probe worker: spawns it, pairs requests with replies, and cancels a run by
 * terminating the thread (which frees its ORT session at once; the next request starts a fresh one).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { CancelledError, UserError } from '../errors';
import type { BuiltProbeGraphs } from '../graph/probeGraph';
import type { BackendListing, ExecutionProvider } from './executionProvider';
import { BatchInput, FromWorker, OrtTuning, RawLayerOutputs, ToWorker } from './workerProtocol';

type Pending = { resolve: (m: FromWorker) => void; reject: (e: Error) => void };
type Request = ToWorker extends infer T ? (T extends { id: number } ? Omit<T, 'id'> : never) : never;

export function defaultWorkerPath(): string {
  // Bundled: dist/worker.js sits next to the caller. Compiled tests: out/src/core/probe → dist/.
  const candidates = [path.join(__dirname, 'worker.js'), path.resolve(__dirname, '../../../../dist/worker.js')];
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found) throw new UserError(`the probe worker is missing (looked for ${candidates.join(', ')}); run "npm run build"`);
  return found;
}

export class WorkerClient {
  private worker: Worker | undefined;
  private pending = new Map<number, Pending>();
  private nextId = 1;
  /** Workers detached by cancel() that are finishing their current native call before exiting. */
  private readonly stopping = new Set<Promise<void>>();

  constructor(private readonly workerPath = defaultWorkerPath()) {}

  get isRunning(): boolean {
    return this.worker !== undefined;
  }

  /** Opens the sessions; `ran` is the provider they run on (the CPU, with `fallback`, when `provider` could not start). */
  async open(graphs: BuiltProbeGraphs, threads: number, tuning?: OrtTuning, provider: ExecutionProvider = 'cpu'): Promise<{ ms: number; ran: ExecutionProvider; fallback?: string }> {
    const reply = await this.request({ type: 'open', graphs, threads, tuning, provider });
    if (reply.type !== 'opened') throw new Error(`internal: unexpected reply ${reply.type}`);
    return { ms: reply.ms, ran: reply.ran, ...(reply.fallback ? { fallback: reply.fallback } : {}) };
  }

  /** The providers this onnxruntime build lists (only the worker loads onnxruntime). */
  async providers(): Promise<BackendListing[]> {
    const reply = await this.request({ type: 'providers' });
    if (reply.type !== 'providers') throw new Error(`internal: unexpected reply ${reply.type}`);
    return reply.backends;
  }

  async run(input: BatchInput): Promise<{ output: RawLayerOutputs; ms: number }> {
    const reply = await this.request({ type: 'run', input });
    if (reply.type !== 'result') throw new Error(`internal: unexpected reply ${reply.type}`);
    return { output: reply.output, ms: reply.ms };
  }

  /** Stops whatever is running and frees the session. Pending requests reject with CancelledError. */
  async cancel(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    const busy = this.pending.size > 0;
    for (const p of this.pending.values()) p.reject(new CancelledError());
    this.pending.clear();
    if (!worker) return;
    if (!busy) {
      await worker.terminate();
      return;
    }
    // Terminating a worker while ORT's native run() is in flight aborts the whole process
    // (onnxruntime-node throws a Napi::Error from the completion callback into a torn-down
    // environment: std::terminate). So the caller sees the cancel at once, and the detached
    // worker is terminated as soon as its current native call returns (one batch at most).
    const stopped = new Promise<void>((resolve) => {
      const stop = () => void worker.terminate().then(() => resolve(), () => resolve());
      worker.removeAllListeners('message');
      worker.once('message', stop);
      worker.once('exit', () => resolve());
    });
    this.stopping.add(stopped);
    void stopped.then(() => this.stopping.delete(stopped));
    await stopped;
  }

  /** Cancels, and waits until every worker (also one detached by an earlier cancel) has exited. */
  async dispose(): Promise<void> {
    await this.cancel();
    await Promise.all(this.stopping);
  }

  private spawn(): Worker {
    const worker = new Worker(this.workerPath);
    worker.on('message', (msg: FromWorker) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.type === 'error') p.reject(new UserError(msg.message));
      else p.resolve(msg);
    });
    worker.on('error', (e) => this.failAll(e));
    worker.on('exit', (code) => {
      if (this.worker === worker) {
        this.worker = undefined;
        this.failAll(new Error(`the probe worker stopped unexpectedly (exit code ${code})`));
      }
    });
    worker.unref();
    return worker;
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private request(msg: Request): Promise<FromWorker> {
    if (!this.worker) this.worker = this.spawn();
    const id = this.nextId++;
    const worker = this.worker;
    return new Promise<FromWorker>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Keep the process alive while a request is outstanding.
      worker.ref();
      const done = () => {
        if (this.pending.size === 0) worker.unref();
      };
      this.pending.set(id, {
        resolve: (m) => (resolve(m), done()),
        reject: (e) => (reject(e), done()),
      });
      // The graph bytes move to the worker instead of being copied (a fast head holds the int8
      // decoder: 98 MB at a 256k vocabulary); the caller builds them for this one open.
      const transfer = msg.type === 'open' ? [msg.graphs.encoder, msg.graphs.head, msg.graphs.exactHead].flatMap((b) => (b ? [b.buffer as ArrayBuffer] : [])) : [];
      worker.postMessage({ ...msg, id } as ToWorker, transfer);
    });
  }
}
