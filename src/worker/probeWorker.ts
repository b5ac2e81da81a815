/**
 * The probe worker: the only module that imports onnxruntime-node. It owns the sessions of one
 * probe (encoder + head) at a time and returns only the small per-layer results. It runs in a worker thread
 * because ORT's create() and run() block the event loop for their whole duration.
 */
import { parentPort } from 'node:worker_threads';
import type * as Ort from 'onnxruntime-node';
import type { BuiltProbeGraphs } from '../core/graph/probeGraph';
import { stateOutputName } from '../core/graph/stateOutputs';
import type { BatchInput, FastCalibration, FromWorker, OrtTuning, RawLayerOutputs, ToWorker } from '../core/probe/workerProtocol';
import { BackendListing, ExecutionProvider, providerErrorLine, unavailableReason } from '../core/probe/executionProvider';

let ort: typeof Ort | undefined;
/** The built graphs without their bytes: once the sessions exist, ORT holds what it needs. */
type GraphShape = Omit<BuiltProbeGraphs, 'encoder' | 'head' | 'exactHead'>;

let opened:
  | { encoder: Ort.InferenceSession; head: Ort.InferenceSession; exactHead?: Ort.InferenceSession; graphs: GraphShape }
  | undefined;

/** Positions of each batch that fast mode also runs through the exact head, to measure its error. */
export const CALIBRATION_POSITIONS = 4;

function loadOrt(): typeof Ort {
  if (!ort) {
    try {
      ort = require('onnxruntime-node') as typeof Ort;
      // Before the first session: a provider that fails to start (no CUDA libraries, no WebGPU
      // adapter) would also print onnxruntime's own multi-line log; we report it in one line.
      ort.env.logLevel = 'fatal';
    } catch (e) {
      throw new Error(
        `onnxruntime-node could not be loaded (${(e as Error).message}). Reinstall Layer Lens for this platform (linux-x64, darwin-arm64, …).`,
      );
    }
  }
  return ort;
}

async function release(): Promise<void> {
  const o = opened;
  opened = undefined;
  await o?.encoder.release();
  await o?.head.release();
  await o?.exactHead?.release();
}

type Sessions = NonNullable<typeof opened>;

/**
 * Opens the probe's sessions on `provider` (nodes it cannot run go to the CPU, onnxruntime's own
 * per-node fallback). A provider that is missing or fails to start gives the CPU and the reason.
 */
async function open(graphs: BuiltProbeGraphs, threads: number, tuning: OrtTuning = {}, provider: ExecutionProvider = 'cpu'): Promise<{ ran: ExecutionProvider; fallback?: string }> {
  await release();
  if (provider === 'cpu') {
    opened = await createSessions(graphs, threads, tuning, 'cpu');
    return { ran: 'cpu' };
  }
  let fallback = unavailableReason(provider, listBackends());
  if (!fallback) {
    try {
      opened = await createSessions(graphs, threads, tuning, provider);
      return { ran: provider };
    } catch (e) {
      fallback = `${provider} could not start: ${providerErrorLine((e as Error).message)}`;
    }
  }
  opened = await createSessions(graphs, threads, tuning, 'cpu');
  return { ran: 'cpu', fallback };
}

async function createSessions(graphs: BuiltProbeGraphs, threads: number, tuning: OrtTuning, provider: ExecutionProvider): Promise<Sessions> {
  const { InferenceSession } = loadOrt();
  // Spinning off: pool threads that spin while waiting steal the CPU from each other and from
  // other processes on a shared machine (issue 16: warm 1×32 349 → 271 ms, CPU time −25%).
  const spin = tuning.spinning ? '1' : '0';
  // Prepacking stays on for the encoder (off it runs 0.93× as fast) and for the int8 fast head.
  // For the exact head it is a private copy of the decoder (94 MB for BERT-base, ~786 MB at a
  // 256k vocabulary) and 260–285 ms at session create, for no measured warm speed (issue 16;
  // the bench measures it again in pairs), so it is off there and the decoder stays file-backed.
  const session = (prepack: boolean) => ({
    model_external_initializers_file_folder_path: graphs.externalDataFolder,
    intra_op: { allow_spinning: spin },
    inter_op: { allow_spinning: spin },
    disable_prepacking: prepack ? '0' : '1',
  });
  const options = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    ...(provider === 'cpu' ? {} : { executionProviders: [provider, 'cpu'] }),
    // ORT's own log lines would duplicate (in colour) the errors we report as one clear line.
    logSeverityLevel: 4,
  } as Ort.InferenceSession.SessionOptions;
  const withPrepack = (prepack: boolean) => ({ ...options, extra: { session: session(prepack) } }) as Ort.InferenceSession.SessionOptions;
  const made: Ort.InferenceSession[] = [];
  const create = async (graph: Uint8Array, o: Ort.InferenceSession.SessionOptions) => {
    const s = await InferenceSession.create(graph, o);
    made.push(s);
    return s;
  };
  try {
    const encoderOptions = withPrepack(true);
    // Nor for the encoder: peak RSS BERT-base 8×32 697 → 677 MB, BERT-large 8×32 1650 → 1600 MB,
    // at the same paired speed (226/222 vs 226/223 tok/s).
    encoderOptions.enableCpuMemArena = tuning.encoderArena ?? true;
    encoderOptions.enableMemPattern = tuning.encoderMemPattern ?? false;
    const encoder = await create(graphs.encoder, encoderOptions);
    const headOptions = withPrepack(graphs.headMode === 'fast' || tuning.headPrepacking === true);
    // No memory pattern for the head: with it ORT plans one block for all of a shape's [rows ×
    // vocab] buffers (25 MB each at BERT-base) and its arena, which grows by powers of two and
    // never gives back, kept +165 MB after one batch. Without it the arena reuses freed buffers
    // one by one: peak RSS at BERT-base 8×32 755 → 689–699 MB at the same paired speed (issue 16).
    // The arena stays: without it every buffer is a fresh mmap, 0.80× as fast (147 vs 185 tok/s).
    headOptions.enableCpuMemArena = tuning.headArena ?? true;
    headOptions.enableMemPattern = tuning.headMemPattern ?? false;
    if (tuning.optimizedHeadPath) headOptions.optimizedModelFilePath = tuning.optimizedHeadPath;
    const head = await create(graphs.head, headOptions);
    const exactHead = graphs.exactHead ? await create(graphs.exactHead, { ...withPrepack(false), enableMemPattern: false }) : undefined;
    const { encoder: _e, head: _h, exactHead: _x, ...shape } = graphs;
    return { encoder, head, exactHead, graphs: shape };
  } catch (e) {
    // A provider can fail on the second session after the first started: free what was made.
    await Promise.all(made.map((s) => s.release().catch(() => undefined)));
    throw e;
  }
}

function listBackends(): BackendListing[] {
  return loadOrt().listSupportedBackends().map((b) => ({ name: b.name, bundled: b.bundled }));
}

/** Runs the encoder on the padded batch, then the head on the real positions only, in chunks. */
async function run(input: BatchInput): Promise<RawLayerOutputs> {
  if (!opened) throw new Error('internal: run before open');
  const { encoder, head, graphs } = opened;
  const { Tensor } = loadOrt();
  const dims = [input.batch, input.seq];
  const S = graphs.states;
  const H = graphs.hiddenSize;
  const tokens = input.batch * input.seq;
  // onnxruntime-node returns a copy of every output even when given a preallocated one, so the
  // states come back as fresh buffers per batch (garbage the worker collects late, see reused()).
  const encoded = await encoder.run(
    {
      input_ids: new Tensor('int64', input.inputIds, dims),
      token_type_ids: new Tensor('int64', input.typeIds, dims),
      position_ids: new Tensor('int64', input.positionIds, dims),
      attention_mask: new Tensor('float32', input.attentionMask, dims),
    },
  );
  const states = Array.from({ length: S }, (_, s) => encoded[stateOutputName(s)].data as Float32Array);
  const real = [...input.attentionMask.keys()].filter((i) => input.attentionMask[i] > 0);
  let out: RawLayerOutputs | undefined;
  let calibration: FastCalibration | undefined;

  // Equal chunks: a last chunk of a few positions would stream the whole decoder for nothing.
  const chunk = Math.ceil(real.length / Math.ceil(real.length / graphs.headPositions));
  for (let start = 0; start < real.length; start += chunk) {
    const positions = real.slice(start, start + chunk);
    const P = positions.length;
    const rows = reused('rows', S * P * H);
    for (let s = 0; s < S; s++) {
      positions.forEach((pos, j) => rows.set(states[s].subarray(pos * H, (pos + 1) * H), (s * P + j) * H));
    }
    const feeds = {
      states: new Tensor('float32', rows, [S, P, H]),
      ids: new Tensor('int64', BigInt64Array.from(positions, (pos) => (input.targetIds ?? input.inputIds)[pos]), [P]),
    };
    const result = await head.run(feeds);
    if (opened.exactHead && start === 0) calibration = await calibrate(opened.exactHead, result, feeds.ids.data as BigInt64Array, rows, S, P, H);
    const k = result.topk_ids.dims[2];
    out ??= emptyOutputs(S, tokens, k);
    const ids = result.topk_ids.data as BigInt64Array;
    const logp = result.topk_logp.data as Float32Array;
    for (let s = 0; s < S; s++) {
      positions.forEach((pos, j) => {
        const from = s * P + j;
        const to = s * tokens + pos;
        out!.inputLogProb[to] = (result.input_logp.data as Float32Array)[from];
        out!.rankAbove[to] = (result.rank_above.data as Float32Array)[from];
        out!.entropy[to] = (result.entropy.data as Float32Array)[from];
        out!.kl[to] = (result.kl.data as Float32Array)[from];
        for (let i = 0; i < k; i++) {
          out!.topKIds[to * k + i] = Number(ids[from * k + i]);
          out!.topKLogProbs[to * k + i] = logp[from * k + i];
        }
      });
    }
  }
  const done = out ?? emptyOutputs(S, tokens, 0);
  if (calibration) done.calibration = calibration;
  return done;
}

/**
 * Buffers kept from batch to batch: a fresh head feed per chunk (13 × 16 × 768 floats at BERT-base)
 * is garbage that the worker's V8 collects late (its heap is tiny, so GC comes from external-memory
 * pressure): with the encoder's fresh output it reached 60–75 MB of dead ArrayBuffers at 32×128.
 */
const buffers = new Map<string, Float32Array>();
function reused(name: string, length: number): Float32Array {
  let b = buffers.get(name);
  if (!b || b.length < length) buffers.set(name, (b = new Float32Array(length)));
  return b.subarray(0, length);
}

/** Reruns the first positions of a fast chunk through the exact head and compares every cell. */
async function calibrate(
  exact: Ort.InferenceSession,
  fast: Ort.InferenceSession.OnnxValueMapType,
  ids: BigInt64Array,
  rows: Float32Array,
  S: number,
  P: number,
  H: number,
): Promise<FastCalibration> {
  const { Tensor } = loadOrt();
  const n = Math.min(P, CALIBRATION_POSITIONS);
  const sample = new Float32Array(S * n * H);
  for (let s = 0; s < S; s++) sample.set(rows.subarray(s * P * H, (s * P + n) * H), s * n * H);
  const ref = await exact.run({ states: new Tensor('float32', sample, [S, n, H]), ids: new Tensor('int64', ids.slice(0, n), [n]) });
  const k = ref.topk_ids.dims[2];
  const c: FastCalibration = { cells: S * n, top1Agree: 0, topKIdsAgree: 0, maxAbsInputLogProb: 0, sumAbsInputLogProb: 0, maxAbsTopKLogProb: 0, maxAbsEntropy: 0, maxAbsKl: 0, maxAbsRank: 0 };
  const f = (name: string, o: Ort.InferenceSession.OnnxValueMapType) => o[name].data as Float32Array;
  const fastIds = fast.topk_ids.data as BigInt64Array;
  const refIds = ref.topk_ids.data as BigInt64Array;
  for (let s = 0; s < S; s++) {
    for (let j = 0; j < n; j++) {
      const a = s * P + j; // cell in the fast chunk
      const b = s * n + j; // same cell in the sample
      if (fastIds[a * k] === refIds[b * k]) c.top1Agree++;
      let same = true;
      for (let i = 0; i < k; i++) {
        if (fastIds[a * k + i] !== refIds[b * k + i]) same = false;
        c.maxAbsTopKLogProb = Math.max(c.maxAbsTopKLogProb, Math.abs(f('topk_logp', fast)[a * k + i] - f('topk_logp', ref)[b * k + i]));
      }
      if (same) c.topKIdsAgree++;
      const d = Math.abs(f('input_logp', fast)[a] - f('input_logp', ref)[b]);
      c.maxAbsInputLogProb = Math.max(c.maxAbsInputLogProb, d);
      c.sumAbsInputLogProb += d;
      c.maxAbsEntropy = Math.max(c.maxAbsEntropy, Math.abs(f('entropy', fast)[a] - f('entropy', ref)[b]));
      c.maxAbsKl = Math.max(c.maxAbsKl, Math.abs(f('kl', fast)[a] - f('kl', ref)[b]));
      c.maxAbsRank = Math.max(c.maxAbsRank, Math.abs(f('rank_above', fast)[a] - f('rank_above', ref)[b]));
    }
  }
  return c;
}

function emptyOutputs(layers: number, tokens: number, k: number): RawLayerOutputs {
  return {
    layers,
    tokens,
    k,
    topKIds: new Int32Array(layers * tokens * k),
    topKLogProbs: new Float32Array(layers * tokens * k),
    inputLogProb: new Float32Array(layers * tokens),
    rankAbove: new Float32Array(layers * tokens),
    entropy: new Float32Array(layers * tokens),
    kl: new Float32Array(layers * tokens),
  };
}

function reply(msg: FromWorker): void {
  // Results move to the host instead of being copied, so no second copy waits here for a GC.
  const transfer = msg.type === 'result' ? Object.values(msg.output).flatMap((v) => (ArrayBuffer.isView(v) ? [v.buffer as ArrayBuffer] : [])) : [];
  parentPort!.postMessage(msg, transfer);
}

// One message at a time: run() fills buffers kept across batches (reused()) and open() replaces
// the sessions, so a second message handled while the first awaits ORT would corrupt both.
let queue: Promise<void> = Promise.resolve();
parentPort!.on('message', (msg: ToWorker) => {
  // handle() replies with its own errors; this catch only keeps the chain alive if a reply fails.
  queue = queue.then(() => handle(msg)).catch(() => undefined);
});

/** Never rejects: every failure becomes an error reply for that message's id. */
async function handle(msg: ToWorker): Promise<void> {
  const started = performance.now();
  try {
    switch (msg.type) {
      case 'open': {
        const { ran, fallback } = await open(msg.graphs, msg.threads, msg.tuning, msg.provider);
        reply({ type: 'opened', id: msg.id, ms: performance.now() - started, ran, ...(fallback ? { fallback } : {}) });
        break;
      }
      case 'providers':
        reply({ type: 'providers', id: msg.id, backends: listBackends() });
        break;
      case 'run':
        reply({ type: 'result', id: msg.id, output: await run(msg.input), ms: performance.now() - started });
        break;
      case 'close':
        await release();
        reply({ type: 'closed', id: msg.id });
        break;
      default: {
        const never: never = msg;
        throw new Error(`unknown message ${JSON.stringify(never)}`);
      }
    }
  } catch (e) {
    reply({ type: 'error', id: msg.id, message: (e as Error).message });
  }
}
