/**
 * Dev tool (not shipped): encoder ms vs head ms per batch, and the head graph's ORT profile
 * (session option enableProfiling) summed by op type, to see where the head's time goes before
 * changing it.
 * node out/scripts/profileHead.js MODEL exact|fast BxS [runs]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { loadCheckpoint } from '../src/core/checkpoint/checkpoint';
import { identityPlan } from '../src/core/deepen/plan';
import { buildProbeGraphs } from '../src/core/graph/probeGraph';
import { stateOutputName } from '../src/core/graph/stateOutputs';

async function main() {
  const [model, mode, kind, runsArg] = process.argv.slice(2);
  const runs = Number(runsArg ?? 5);
  const [B, T] = kind.split('x').map(Number);
  const ort = require('onnxruntime-node') as typeof Ort;
  const { config, resolved } = loadCheckpoint(model);
  const graphs = buildProbeGraphs({ config, weights: resolved, plan: identityPlan(config.numLayers), topK: 10, headMode: mode as 'exact' | 'fast', headBufferBytes: process.env.HB ? Number(process.env.HB) * 2 ** 20 : undefined });
  const threads = os.availableParallelism();
  const base = (prepack: boolean, profile: boolean) => ({
    intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential', enableMemPattern: false,
    enableProfiling: profile, profileFilePrefix: path.join(os.tmpdir(), `prof-${mode}`),
    extra: { session: { model_external_initializers_file_folder_path: graphs.externalDataFolder, intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' }, disable_prepacking: prepack ? '0' : '1' } },
  }) as Ort.InferenceSession.SessionOptions;
  const encoder = await ort.InferenceSession.create(graphs.encoder, base(true, false));
  const head = await ort.InferenceSession.create(graphs.head, base(mode === 'fast', true));
  const n = B * T;
  const ids = BigInt64Array.from({ length: n }, (_, i) => BigInt(2000 + ((i * 7919) % 4000)));
  const pos = BigInt64Array.from({ length: n }, (_, i) => BigInt(i % T));
  const dims = [B, T];
  const S = graphs.states;
  const H = graphs.hiddenSize;
  let encMs = 0;
  let headMs = 0;
  for (let r = 0; r <= runs; r++) {
    const t0 = performance.now();
    const enc = await encoder.run({
      input_ids: new ort.Tensor('int64', ids, dims), token_type_ids: new ort.Tensor('int64', new BigInt64Array(n), dims),
      position_ids: new ort.Tensor('int64', pos, dims), attention_mask: new ort.Tensor('float32', new Float32Array(n).fill(1), dims),
    });
    const t1 = performance.now();
    const states = Array.from({ length: S }, (_, s) => enc[stateOutputName(s)].data as Float32Array);
    const chunk = Math.ceil(n / Math.ceil(n / graphs.headPositions));
    for (let start = 0; start < n; start += chunk) {
      const P = Math.min(chunk, n - start);
      const rows = new Float32Array(S * P * H);
      for (let s = 0; s < S; s++) rows.set(states[s].subarray(start * H, (start + P) * H), s * P * H);
      await head.run({ states: new ort.Tensor('float32', rows, [S, P, H]), ids: new ort.Tensor('int64', ids.slice(start, start + P), [P]) });
    }
    const t2 = performance.now();
    if (r > 0) {
      encMs += t1 - t0;
      headMs += t2 - t1;
    }
  }
  head.endProfiling();
  const prefix = `prof-${mode}`;
  const file = fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith(prefix) && f.endsWith('.json')).map((f) => path.join(os.tmpdir(), f)).sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
  const events = JSON.parse(fs.readFileSync(file, 'utf8')) as { cat: string; name: string; dur: number; args?: { op_name?: string } }[];
  const byOp = new Map<string, number>();
  let total = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const op = e.args?.op_name ?? '?';
    byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
    total += e.dur;
  }
  console.log(`${path.basename(model)} ${mode} ${kind}: encoder ${(encMs / runs).toFixed(1)} ms, head ${(headMs / runs).toFixed(1)} ms per batch (chunk ${graphs.headPositions} positions)`);
  for (const [op, us] of [...byOp].sort((a, b) => b[1] - a[1])) console.log(`  ${op.padEnd(24)} ${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000 / (runs + 1)).toFixed(1)} ms/batch`);
  fs.unlinkSync(file);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
