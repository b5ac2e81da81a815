/**
 * The probe worker: the only module that imports onnxruntime-node. It owns the sessions of one
 * probe (encoder + head) at a time and returns only the small per-layer results. It runs in a worker thread
 * because ORT's create() and run() block the event loop for their whole duration.
 */
import { parentPort } from 'node:worker_threads';
import type * as Ort from 'onnxruntime-node';
import type { BuiltProbeGraphs } from '../core/graph/probeGraph';
import type { BatchInput, FromWorker, RawLayerOutputs, ToWorker } from '../core/probe/workerProtocol';

let ort: typeof Ort | undefined;
let opened: { encoder: Ort.InferenceSession; head: Ort.InferenceSession; graphs: BuiltProbeGraphs } | undefined;

function loadOrt(): typeof Ort {
  if (!ort) {
    try {
      ort = require('onnxruntime-node') as typeof Ort;
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
}

async function open(graphs: BuiltProbeGraphs, threads: number): Promise<void> {
  const { InferenceSession } = loadOrt();
  await release();
  // Weight pre-packing stays on for both graphs: measured on 2 cores it costs ~0.5 s at session
  // start and makes the head's big decoder product several times faster per run.
  const options = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    // ORT's own log lines would duplicate (in colour) the errors we report as one clear line.
    logSeverityLevel: 4,
    extra: { session: { model_external_initializers_file_folder_path: graphs.externalDataFolder } },
  } as Ort.InferenceSession.SessionOptions;
  const encoder = await InferenceSession.create(graphs.encoder, options);
  const head = await InferenceSession.create(graphs.head, options);
  opened = { encoder, head, graphs };
}

/** Runs the encoder on the padded batch, then the head on the real positions only, in chunks. */
async function run(input: BatchInput): Promise<RawLayerOutputs> {
  if (!opened) throw new Error('internal: run before open');
  const { encoder, head, graphs } = opened;
  const { Tensor } = loadOrt();
  const dims = [input.batch, input.seq];
  const encoded = await encoder.run({
    input_ids: new Tensor('int64', input.inputIds, dims),
    token_type_ids: new Tensor('int64', input.typeIds, dims),
    position_ids: new Tensor('int64', input.positionIds, dims),
    attention_mask: new Tensor('float32', input.attentionMask, dims),
  });
  const states = encoded.states.data as Float32Array;
  const S = graphs.states;
  const H = graphs.hiddenSize;
  const tokens = input.batch * input.seq;
  const real = [...input.attentionMask.keys()].filter((i) => input.attentionMask[i] > 0);
  let out: RawLayerOutputs | undefined;

  // Equal chunks: a last chunk of a few positions would stream the whole decoder for nothing.
  const chunk = Math.ceil(real.length / Math.ceil(real.length / graphs.headPositions));
  for (let start = 0; start < real.length; start += chunk) {
    const positions = real.slice(start, start + chunk);
    const P = positions.length;
    const rows = new Float32Array(S * P * H);
    for (let s = 0; s < S; s++) {
      positions.forEach((pos, j) => rows.set(states.subarray((s * tokens + pos) * H, (s * tokens + pos + 1) * H), (s * P + j) * H));
    }
    const result = await head.run({
      states: new Tensor('float32', rows, [S, P, H]),
      ids: new Tensor('int64', BigInt64Array.from(positions, (pos) => input.inputIds[pos]), [P]),
    });
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
  return out ?? emptyOutputs(S, tokens, 0);
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

parentPort!.on('message', async (msg: ToWorker) => {
  const started = performance.now();
  try {
    switch (msg.type) {
      case 'open':
        await open(msg.graphs, msg.threads);
        reply({ type: 'opened', id: msg.id, ms: performance.now() - started });
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
});
