/**
 * `npm run bench`: speed and memory of the probe on a BERT-base-sized random checkpoint,
 * against a PyTorch eager implementation of the same probe. Prints figures; asserts nothing.
 *
 * Each measurement runs in its own process so that cold start and peak RSS are honest.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ProbeEngine, ProbeInput } from '../src/core/probe/engine';
import { BERT_BASE, writeSyntheticBert } from './syntheticBert';

const BASE = BERT_BASE;
const CASES = [
  [1, 32],
  [8, 32],
  [32, 128],
] as const;
const ROOT = path.resolve(__dirname, '..');
const THREADS = Number(process.env.LAYER_LENS_THREADS ?? os.availableParallelism());

/** Forward FLOPs per token for the whole probe: encoder layers plus the MLM head on all L+1 states. */
function flopsPerToken(seq: number): number {
  const { hidden: H, layers: L, intermediate: I, vocab: V } = BASE;
  const encoder = L * (2 * 4 * H * H + 2 * 2 * H * I + 2 * 2 * seq * H);
  const head = (L + 1) * (2 * H * H + 2 * H * V);
  return encoder + head;
}

function writeBenchModel(dir: string): void {
  let seed = 12345;
  const uniform = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 0.07; // std ≈ 0.02
  writeSyntheticBert(dir, BASE, (name, n) => {
    const v = new Float32Array(n);
    const isLnWeight = name.endsWith('LayerNorm.weight');
    for (let i = 0; i < n; i++) v[i] = isLnWeight ? 1 : uniform();
    return new Uint8Array(v.buffer);
  });
  for (const f of ['vocab.txt', 'tokenizer.json', 'tokenizer_config.json']) {
    fs.copyFileSync(path.join(ROOT, 'models', 'reference-bert-mini', f), path.join(dir, f));
  }
}

/** Sentences that tokenize to exactly `seq` tokens: [CLS] + single-token words + [SEP]. */
function sentences(batch: number, seq: number): ProbeInput[] {
  const vocab = fs.readFileSync(path.join(ROOT, 'models', 'reference-bert-mini', 'vocab.txt'), 'utf8').split('\n');
  const words = vocab.slice(2000, 6000).filter((w) => /^[a-z]{3,}$/.test(w));
  return Array.from({ length: batch }, (_, b) => ({
    text: Array.from({ length: seq - 2 }, (_, i) => words[(b * 131 + i * 17) % words.length]).join(' '),
  }));
}

async function childCase(model: string, kind: string): Promise<void> {
  const t0 = performance.now();
  const engine = ProbeEngine.load(model, { threads: THREADS });
  if (kind === 'cold') {
    const one = sentences(1, 32);
    const first = await engine.probe(one);
    const cold = performance.now() - t0;
    const t1 = performance.now();
    await engine.probe(one);
    const warm = performance.now() - t1;
    print({ coldMs: cold, warmMs: warm, sessionMs: first.timing.sessionMs, peakRssMb: process.resourceUsage().maxRSS / 1024 });
  } else {
    const [b, s] = kind.split('x').map(Number);
    const inputs = sentences(b, s);
    const check = engine.encode(inputs).every((e) => e.ids.length === s);
    if (!check) throw new Error(`bench inputs do not tokenize to ${s} tokens`);
    const warm = await engine.probe(inputs);
    let runs = 0;
    const start = performance.now();
    while (performance.now() - start < 3000 || runs < 2) {
      await engine.probe(inputs);
      runs++;
    }
    const seconds = (performance.now() - start) / 1000;
    print({ tokensPerS: (b * s * runs) / seconds, msPerRun: (1000 * seconds) / runs, sessionMs: warm.timing.sessionMs, peakRssMb: process.resourceUsage().maxRSS / 1024 });
  }
  await engine.dispose();
}

function print(o: object): void {
  process.stdout.write(JSON.stringify(o) + '\n');
}

function runChild(model: string, kind: string): Record<string, number> {
  const out = execFileSync(process.execPath, [__filename, '--case', kind, '--model', model], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop()!);
}

function torchBench(model: string): Record<string, { tokens_per_s: number }> | string {
  const venv = path.join(ROOT, '.cache', 'venv', 'bin', 'python');
  const py = process.env.LAYER_LENS_TEST_PYTHON ?? (fs.existsSync(venv) ? venv : 'python3');
  const r = spawnSync(py, [path.join(ROOT, 'python', 'bench_torch.py'), '--model', model, '--threads', String(THREADS)], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: String(THREADS), OPENBLAS_NUM_THREADS: String(THREADS) },
  });
  if (r.status !== 0) return `PyTorch bench unavailable: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`;
  return JSON.parse(r.stdout.trim().split('\n').pop()!).cases;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const caseAt = args.indexOf('--case');
  if (caseAt >= 0) return childCase(args[args.indexOf('--model') + 1], args[caseAt + 1]);

  const model = path.join(ROOT, '.cache', 'bench', 'bert-base-random');
  console.log(`Layer Lens bench · BERT-base shape (768 hidden, 12 layers, 30522 vocab), random F32 weights · ${THREADS} threads · ${os.cpus()[0]?.model ?? ''}`);
  const t = performance.now();
  writeBenchModel(model);
  console.log(`checkpoint: ${model} (${(fs.statSync(path.join(model, 'model.safetensors')).size / 2 ** 20).toFixed(0)} MiB, ready in ${((performance.now() - t) / 1000).toFixed(1)} s)\n`);

  const cold = runChild(model, 'cold');
  console.log(`session create            ${cold.sessionMs.toFixed(0)} ms`);
  console.log(`first result, cold        ${cold.coldMs.toFixed(0)} ms   (process start → 1×32 result: load, graph, session, run; target ≤ 1500)`);
  console.log(`first result, warm        ${cold.warmMs.toFixed(1)} ms   (same sentence again; target ≤ 150)`);
  console.log(`peak RSS (cold run)       ${cold.peakRssMb.toFixed(0)} MB\n`);

  const torch = torchBench(model);
  console.log('case      tokens/s   ms/run   GFLOP/s   peak RSS   PyTorch tokens/s   speed-up');
  for (const [b, s] of CASES) {
    const kind = `${b}x${s}`;
    const r = runChild(model, kind);
    const gflops = (r.tokensPerS * flopsPerToken(s)) / 1e9;
    const tt = typeof torch === 'string' ? undefined : torch[kind]?.tokens_per_s;
    console.log(
      `${kind.padEnd(8)} ${r.tokensPerS.toFixed(0).padStart(9)} ${r.msPerRun.toFixed(0).padStart(8)} ${gflops.toFixed(0).padStart(9)} ${`${r.peakRssMb.toFixed(0)} MB`.padStart(10)}` +
        ` ${tt ? tt.toFixed(0).padStart(18) : '-'.padStart(18)} ${tt ? `${(r.tokensPerS / tt).toFixed(2)}×`.padStart(10) : ''}`,
    );
  }
  if (typeof torch === 'string') console.log(`\n${torch}`);

  console.log('\nDeepen writer (BERT-base, top layer duplicated, streamed tensor by tensor):');
  execFileSync(process.execPath, [path.join(__dirname, 'bench-deepen.js')], { stdio: 'inherit' });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
