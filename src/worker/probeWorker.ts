/**
 * The probe worker: the only module that imports onnxruntime-node. It owns one inference
 * session at a time and returns only the small per-layer results. It runs in a worker thread
 * because ORT's create() and run() block the event loop for their whole duration.
 */
import { parentPort } from 'node:worker_threads';
import type * as Ort from 'onnxruntime-node';
import type { BatchInput, FromWorker, RawLayerOutputs, ToWorker } from '../core/probe/workerProtocol';

let ort: typeof Ort | undefined;
let session: Ort.InferenceSession | undefined;

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

async function open(graph: Uint8Array, folder: string, threads: number): Promise<void> {
  const { InferenceSession } = loadOrt();
  await session?.release();
  session = undefined;
  session = await InferenceSession.create(graph, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    extra: { session: { model_external_initializers_file_folder_path: folder } },
  } as Ort.InferenceSession.SessionOptions);
}

async function run(input: BatchInput): Promise<RawLayerOutputs> {
  if (!session) throw new Error('internal: run before open');
  const { Tensor } = loadOrt();
  const dims = [input.batch, input.seq];
  const out = await session.run({
    input_ids: new Tensor('int64', input.inputIds, dims),
    token_type_ids: new Tensor('int64', input.typeIds, dims),
    position_ids: new Tensor('int64', input.positionIds, dims),
    attention_mask: new Tensor('float32', input.attentionMask, dims),
  });
  const [layers, tokens, k] = out.topk_ids.dims;
  const floats = (name: string) => out[name].data as Float32Array;
  return {
    layers,
    tokens,
    k,
    topKIds: Int32Array.from(out.topk_ids.data as BigInt64Array, (v) => Number(v)),
    topKLogProbs: floats('topk_logp'),
    inputLogProb: floats('input_logp'),
    rankAbove: floats('rank_above'),
    entropy: floats('entropy'),
    kl: floats('kl'),
  };
}

function reply(msg: FromWorker): void {
  parentPort!.postMessage(msg);
}

parentPort!.on('message', async (msg: ToWorker) => {
  const started = performance.now();
  try {
    switch (msg.type) {
      case 'open':
        await open(msg.graph, msg.externalDataFolder, msg.threads);
        reply({ type: 'opened', id: msg.id, ms: performance.now() - started });
        break;
      case 'run':
        reply({ type: 'result', id: msg.id, output: await run(msg.input), ms: performance.now() - started });
        break;
      case 'close':
        await session?.release();
        session = undefined;
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
