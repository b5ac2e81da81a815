/**
 * `npm run bench`: speed, memory and fast-mode accuracy of the probe, side by side in one run:
 * - BERT-base-sized random checkpoint at 1×32, 8×32, 32×128: PyTorch eager, Layer Lens exact and
 *   Layer Lens fast, alternated in pairs (order reversed every other pair), so a change in the
 *   machine's load hits all three alike; every figure is the median over pairs, and every ratio
 *   the median of the per-pair ratios;
 * - the reference model, a BERT-large-sized random checkpoint (8×32) and a 256k-vocabulary random
 *   checkpoint: exact vs fast, with peak RSS;
 * - fast vs exact on the held-out corpus: top-1 and top-k order agreement, log-prob error;
 * - cold start, warm 1×32, and the exact head's prepacking on vs off (paired);
 * - the tuned lens's cost against the raw lens (paired), on the reference model and BERT-base;
 * - base-sized random ModernBERT and EuroBERT checkpoints built by HF: exact vs fast, with peak RSS;
 * - which int8 kernel runs (the CPU flags, and the fused op in ORT's optimized head graph);
 * - scale-out on this machine: a corpus probe of BERT-base by one process against two (ORT shards +
 *   merge; PyTorch backend alone and under torchrun), wall time from process start, paired.
 * Prints figures; asserts nothing. Each measurement runs in its own process so that cold start
 * and peak RSS are honest.
 *
 * Knobs: `--quick` (or LAYER_LENS_BENCH_QUICK=1): one pair, short runs, no BERT-large/256k;
 * `--only lens|families|scale|speed|memory` (or LAYER_LENS_BENCH_ONLY): just the tuned-lens, modern-family,
 *   scale-out, speed (kernel, cold/warm, BERT-base/reference exact vs fast, agreement) or memory
 *   (head arena, BERT-large, 256k) tables;
 * LAYER_LENS_BENCH_PAIRS=N; LAYER_LENS_THREADS=N.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadCheckpoint } from '../src/core/checkpoint/checkpoint';
import { readOnnxGraph } from '../src/core/checkpoint/onnx/onnxWeights';
import { writeSafetensors } from '../src/core/checkpoint/safetensors';
import { LENS_CARD, LENS_FORMAT, LENS_WEIGHTS, loadTunedLens, modelHash } from '../src/core/lens/tunedLens';
import { compareReports } from '../src/core/probe/agreement';
import { EngineOptions, ProbeEngine, ProbeInput } from '../src/core/probe/engine';
import { readSentenceFile } from '../src/core/probe/inputs';
import { localInt8Kernel, readCpuFlags } from '../src/core/probe/int8Kernel';
import { median } from '../src/core/probe/metrics';
import { BERT_BASE, BERT_LARGE, BertDims, writeSyntheticBert } from './syntheticBert';

const ROOT = path.resolve(__dirname, '..');
const THREADS = Number(process.env.LAYER_LENS_THREADS ?? os.availableParallelism());
const QUICK = process.argv.includes('--quick') || process.env.LAYER_LENS_BENCH_QUICK === '1';
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : process.env.LAYER_LENS_BENCH_ONLY;
const PAIRS = Number(process.env.LAYER_LENS_BENCH_PAIRS ?? (QUICK ? 1 : 3));
const MIN_SECONDS = QUICK ? 0.5 : 2;
const CORPUS = path.join(ROOT, 'data', 'heldout-sentences.txt');
const REFERENCE = path.join(ROOT, 'models', 'reference-bert-mini');
/** mmBERT-like vocabulary on a small BERT, so the head dominates. */
const VOCAB_256K: BertDims = { layers: 6, hidden: 384, heads: 6, intermediate: 1536, vocab: 256_000, positions: 512 };

type Mode = 'exact' | 'fast' | 'exact-prepack' | 'exact-arena';
interface Child {
  model: string;
  mode: Mode;
  /** 'cold' (first result from process start, then warm 1×32), or 'BxS'. */
  kind: string;
  minSeconds: number;
  optimizedHead?: string;
  /** A tuned-lens folder to read the states through (probe --lens tuned:DIR). */
  lens?: string;
}
interface Measured {
  tokensPerS: number;
  msPerRun: number;
  cpuMsPerRun: number;
  sessionMs: number;
  peakRssMib: number;
  coldMs?: number;
  warmMs?: number;
}

/** LAYER_LENS_BENCH_HEAD_MIB: the head's [rows × vocab] buffer size to try (default HEAD_BUFFER_BYTES, 24 MiB). */
const HEAD_MIB = Number(process.env.LAYER_LENS_BENCH_HEAD_MIB ?? 0);

// ── child processes ───────────────────────────────────────────────────────────────────────

/**
 * The int8 kernel the bench's fast runs use: this CPU's, with fast mode on even where the product
 * keeps it off (AVX2 without VNNI), so the bench measures what the product's default avoids.
 */
const BENCH_INT8_KERNEL = { ...localInt8Kernel(), fast: true };

function engineOptions(mode: Mode, optimizedHead?: string): EngineOptions {
  return {
    threads: THREADS,
    fast: mode === 'fast',
    int8Kernel: BENCH_INT8_KERNEL,
    tuning: { ...(HEAD_MIB ? { headBufferBytes: HEAD_MIB * 2 ** 20 } : {}), ...(mode === 'exact-prepack' ? { headPrepacking: true } : {}), ...(mode === 'exact-arena' ? { headMemPattern: true, encoderMemPattern: true } : {}), ...(optimizedHead ? { optimizedHeadPath: optimizedHead } : {}) },
  };
}

/** Sentences that tokenize to exactly `seq` tokens: [CLS] + single-token words + [SEP]. */
function sentences(batch: number, seq: number): ProbeInput[] {
  const vocab = fs.readFileSync(path.join(REFERENCE, 'vocab.txt'), 'utf8').split('\n');
  const words = vocab.slice(2000, 6000).filter((w) => /^[a-z]{3,}$/.test(w));
  return Array.from({ length: batch }, (_, b) => ({
    text: Array.from({ length: seq - 2 }, (_, i) => words[(b * 131 + i * 17) % words.length]).join(' '),
  }));
}

async function speedChild(c: Child): Promise<Measured> {
  const t0 = performance.now();
  const engine = ProbeEngine.load(c.model, engineOptions(c.mode, c.optimizedHead));
  const probeOptions = c.lens ? { lens: loadTunedLens(c.lens, engine.checkpoint) } : {};
  try {
    if (c.kind === 'cold') {
      const one = sentences(1, 32);
      const first = await engine.probe(one);
      const coldMs = performance.now() - t0;
      const cpu0 = process.cpuUsage();
      const t1 = performance.now();
      await engine.probe(one);
      const warmMs = performance.now() - t1;
      const cpu = process.cpuUsage(cpu0);
      return { tokensPerS: 32000 / warmMs, msPerRun: warmMs, cpuMsPerRun: (cpu.user + cpu.system) / 1000, sessionMs: first.timing.sessionMs, peakRssMib: peakRss(), coldMs, warmMs };
    }
    const [b, s] = c.kind.split('x').map(Number);
    const inputs = sentences(b, s);
    if (!engine.encode(inputs).every((e) => e.ids.length === s)) throw new Error(`bench inputs do not tokenize to ${s} tokens`);
    const warm = await engine.probe(inputs, probeOptions);
    let runs = 0;
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    while (performance.now() - start < c.minSeconds * 1000 || runs < 2) {
      await engine.probe(inputs, probeOptions);
      runs++;
    }
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return { tokensPerS: (b * s * runs) / seconds, msPerRun: (1000 * seconds) / runs, cpuMsPerRun: (cpu.user + cpu.system) / 1000 / runs, sessionMs: warm.timing.sessionMs, peakRssMib: peakRss() };
  } finally {
    await engine.dispose();
  }
}

/** Exact and fast on the same sentences of the held-out corpus, compared cell by cell. */
async function accuracyChild(model: string, count: number) {
  const inputs = readSentenceFile(CORPUS).slice(0, count);
  const engine = ProbeEngine.load(model, { threads: THREADS, int8Kernel: BENCH_INT8_KERNEL });
  try {
    const exact = await engine.probe(inputs);
    const fast = await engine.probe(inputs, { fast: true });
    return { sentences: inputs.length, agreement: compareReports(exact, fast), calibration: fast.fast?.calibration, warnings: fast.warnings };
  } finally {
    await engine.dispose();
  }
}

function peakRss(): number {
  return process.resourceUsage().maxRSS / 1024;
}

function child<T>(args: object): T {
  const out = execFileSync(process.execPath, [__filename, '--child', JSON.stringify(args)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
  return JSON.parse(out.trim().split('\n').pop()!);
}

function torch(model: string, kind: string, minSeconds: number): number | string {
  const venv = path.join(ROOT, '.cache', 'venv', 'bin', 'python');
  const py = process.env.LAYER_LENS_TEST_PYTHON ?? (fs.existsSync(venv) ? venv : 'python3');
  const r = spawnSync(py, [path.join(ROOT, 'python', 'bench_torch.py'), '--model', model, '--threads', String(THREADS), '--cases', kind, '--min-seconds', String(minSeconds)], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: String(THREADS), OPENBLAS_NUM_THREADS: String(THREADS) },
  });
  if (r.status !== 0) return `PyTorch bench unavailable: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`;
  return JSON.parse(r.stdout.trim().split('\n').pop()!).cases[kind].tokens_per_s;
}

// ── paired measurements ───────────────────────────────────────────────────────────────────

type Runner = () => number | Measured | string;
type Sample = Record<string, Measured | number | string>;

/** Runs every runner once per pair, in order on even pairs and reversed on odd ones. */
function pairs(runners: Record<string, Runner>): Sample[] {
  const names = Object.keys(runners);
  return Array.from({ length: PAIRS }, (_, i) => {
    const sample: Sample = {};
    for (const n of i % 2 ? [...names].reverse() : names) sample[n] = runners[n]();
    return sample;
  });
}

const tps = (x: Measured | number | string | undefined) => (typeof x === 'number' ? x : typeof x === 'object' ? x.tokensPerS : NaN);
const med = (samples: Sample[], f: (s: Sample) => number) => median(samples.map(f).filter(Number.isFinite));
const ratio = (samples: Sample[], a: string, b: string) => med(samples, (s) => tps(s[a]) / tps(s[b]));
const field = (samples: Sample[], name: string, key: keyof Measured) => med(samples, (s) => (typeof s[name] === 'object' ? (s[name] as Measured)[key] ?? NaN : NaN));

function fmt(x: number, digits = 0): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '-';
}
const times = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '-');

/** Forward FLOPs per token for the whole probe: encoder layers plus the MLM head on all L+1 states. */
function flopsPerToken(d: BertDims, seq: number): number {
  const { hidden: H, layers: L, intermediate: I, vocab: V } = d;
  return L * (2 * 4 * H * H + 2 * 2 * H * I + 2 * 2 * seq * H) + (L + 1) * (2 * H * H + 2 * H * V);
}

function writeRandomBert(dir: string, dims: BertDims): void {
  let seed = 12345;
  const uniform = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 0.07; // std ≈ 0.02
  const t = performance.now();
  writeSyntheticBert(dir, dims, (name, n) => {
    const v = new Float32Array(n);
    const isLnWeight = name.endsWith('LayerNorm.weight');
    for (let i = 0; i < n; i++) v[i] = isLnWeight ? 1 : uniform();
    return new Uint8Array(v.buffer);
  });
  for (const f of ['vocab.txt', 'tokenizer.json', 'tokenizer_config.json']) fs.copyFileSync(path.join(REFERENCE, f), path.join(dir, f));
  const mib = fs.statSync(path.join(dir, 'model.safetensors')).size / 2 ** 20;
  console.log(`checkpoint ${path.relative(ROOT, dir)}: ${mib.toFixed(0)} MiB (ready in ${((performance.now() - t) / 1000).toFixed(1)} s)`);
}

/** A base-sized random ModernBERT or EuroBERT, built by HF (python/random_family.py); false when Python is unavailable. */
function writeRandomFamily(dir: string, family: 'modernbert' | 'eurobert' | 'deberta'): boolean {
  const venv = path.join(ROOT, '.cache', 'venv', 'bin', 'python');
  const py = process.env.LAYER_LENS_TEST_PYTHON ?? (fs.existsSync(venv) ? venv : 'python3');
  const t = performance.now();
  const r = spawnSync(py, [path.join(ROOT, 'python', 'random_family.py'), '--family', family, '--out', dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.log(`${family} random checkpoint unavailable: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`);
    return false;
  }
  const mib = fs.statSync(path.join(dir, 'model.safetensors')).size / 2 ** 20;
  console.log(`checkpoint ${path.relative(ROOT, dir)}: ${r.stdout.trim()}, ${mib.toFixed(0)} MiB (ready in ${((performance.now() - t) / 1000).toFixed(1)} s)`);
  return true;
}

// ── report ────────────────────────────────────────────────────────────────────────────────

function speedTable(title: string, model: string, dims: BertDims | undefined, cases: string[], withTorch: boolean): void {
  console.log(`\n${title}  (medians of ${PAIRS} alternated pair(s); ratios are medians of per-pair ratios)`);
  console.log(
    'case      ' + (withTorch ? 'PyTorch  ' : '') + 'exact tok/s  fast tok/s  fast/exact' + (withTorch ? '  exact/PT  fast/PT' : '') +
      '  exact GFLOP/s   exact RSS   fast RSS  CPU ms/run exact→fast',
  );
  for (const kind of cases) {
    const runners: Record<string, Runner> = {
      exact: () => child<Measured>({ model, mode: 'exact', kind, minSeconds: MIN_SECONDS }),
      fast: () => child<Measured>({ model, mode: 'fast', kind, minSeconds: MIN_SECONDS }),
    };
    if (withTorch) runners.torch = () => torch(model, kind, MIN_SECONDS);
    const order = withTorch ? { torch: runners.torch, exact: runners.exact, fast: runners.fast } : runners;
    const samples = pairs(order);
    const s = Number(kind.split('x')[1]);
    const exactTps = med(samples, (x) => tps(x.exact));
    const torchNote = samples.map((x) => x.torch).find((x) => typeof x === 'string');
    console.log(
      kind.padEnd(8) +
        (withTorch ? fmt(med(samples, (x) => tps(x.torch))).padStart(9) : '') +
        fmt(exactTps).padStart(13) + fmt(med(samples, (x) => tps(x.fast))).padStart(12) + times(ratio(samples, 'fast', 'exact')).padStart(12) +
        (withTorch ? times(ratio(samples, 'exact', 'torch')).padStart(10) + times(ratio(samples, 'fast', 'torch')).padStart(9) : '') +
        (dims ? fmt((exactTps * flopsPerToken(dims, s)) / 1e9) : '-').padStart(15) +
        `${fmt(field(samples, 'exact', 'peakRssMib'))} MiB`.padStart(12) + `${fmt(field(samples, 'fast', 'peakRssMib'))} MiB`.padStart(11) +
        `${fmt(field(samples, 'exact', 'cpuMsPerRun'))} → ${fmt(field(samples, 'fast', 'cpuMsPerRun'))}`.padStart(26),
    );
    if (torchNote) console.log(`  ${torchNote}`);
  }
}

function coldTable(model: string): void {
  const samples = pairs({
    exact: () => child<Measured>({ model, mode: 'exact', kind: 'cold', minSeconds: 0 }),
    fast: () => child<Measured>({ model, mode: 'fast', kind: 'cold', minSeconds: 0 }),
  });
  console.log(`\nCold start and warm 1×32, BERT-base random (medians of ${PAIRS} pair(s))`);
  console.log('                          exact       fast');
  const row = (label: string, key: keyof Measured, note = '') =>
    console.log(`${label.padEnd(22)}${`${fmt(field(samples, 'exact', key))} ms`.padStart(10)}${`${fmt(field(samples, 'fast', key))} ms`.padStart(11)}${note}`);
  row('session create', 'sessionMs');
  row('first result, cold', 'coldMs', '   (process start → 1×32 result: load, graph, session, run)');
  row('warm 1×32', 'warmMs', `   (same sentence again; fast/exact ${times(med(samples, (x) => (x.exact as Measured).warmMs! / (x.fast as Measured).warmMs!))} faster)`);
  console.log(`${'peak RSS'.padEnd(22)}${`${fmt(field(samples, 'exact', 'peakRssMib'))} MiB`.padStart(10)}${`${fmt(field(samples, 'fast', 'peakRssMib'))} MiB`.padStart(11)}`);
}

function prepackTable(model: string): void {
  const kind = '8x32';
  const samples = pairs({
    off: () => child<Measured>({ model, mode: 'exact', kind, minSeconds: MIN_SECONDS }),
    on: () => child<Measured>({ model, mode: 'exact-prepack', kind, minSeconds: MIN_SECONDS }),
  });
  console.log(`\nExact head weight prepacking, BERT-base random ${kind} (product default: off; medians of ${PAIRS} pair(s))`);
  console.log(
    `on/off speed ${times(ratio(samples, 'on', 'off'))} · CPU per run ${fmt(field(samples, 'on', 'cpuMsPerRun'))} vs ${fmt(field(samples, 'off', 'cpuMsPerRun'))} ms` +
      ` · session ${fmt(field(samples, 'on', 'sessionMs'))} vs ${fmt(field(samples, 'off', 'sessionMs'))} ms · peak RSS ${fmt(field(samples, 'on', 'peakRssMib'))} vs ${fmt(field(samples, 'off', 'peakRssMib'))} MiB`,
  );
}

function arenaTable(model: string, kind: string): void {
  const samples = pairs({
    off: () => child<Measured>({ model, mode: 'exact', kind, minSeconds: MIN_SECONDS }),
    on: () => child<Measured>({ model, mode: 'exact-arena', kind, minSeconds: MIN_SECONDS }),
  });
  console.log(
    `ORT memory pattern on both sessions, ${path.basename(model)} ${kind} (product default: off): on/off speed ${times(ratio(samples, 'on', 'off'))}` +
      ` · CPU per run ${fmt(field(samples, 'on', 'cpuMsPerRun'))} vs ${fmt(field(samples, 'off', 'cpuMsPerRun'))} ms · peak RSS ${fmt(field(samples, 'on', 'peakRssMib'))} vs ${fmt(field(samples, 'off', 'peakRssMib'))} MiB`,
  );
}

/**
 * A tuned lens for `model` with identity translators: the in-graph Gemm costs the same whatever
 * the values, and this needs no torch (test/unit/probe/tuneLens.test.ts trains a real one).
 */
function writeIdentityLens(dir: string, model: string): void {
  const { config, weights } = loadCheckpoint(model);
  const H = config.hiddenSize;
  const plan = Array.from({ length: config.numLayers }, (_, l) => l);
  const eye = new Float32Array(H * H).map((_, k) => (k % (H + 1) === 0 ? 1 : 0));
  const zero = new Float32Array(H);
  fs.mkdirSync(dir, { recursive: true });
  writeSafetensors(path.join(dir, LENS_WEIGHTS), plan.flatMap((_, i) => [
    { name: `translator.${i}.weight`, dtype: 'F32' as const, shape: [H, H], byteLength: eye.byteLength, read: () => new Uint8Array(eye.buffer) },
    { name: `translator.${i}.bias`, dtype: 'F32' as const, shape: [H], byteLength: zero.byteLength, read: () => new Uint8Array(zero.buffer) },
  ]));
  const none = { kl: [], accuracy: [] };
  fs.writeFileSync(path.join(dir, LENS_CARD), JSON.stringify({
    format: LENS_FORMAT, model: { name: path.basename(model), hash: modelHash(weights.files), hiddenSize: H, numLayers: plan.length }, plan,
    corpus: { file: 'none (bench: identity translators)', sha256: '', sentences: 0, trainSentences: 0, heldoutSentences: 0, heldoutPositions: 0 },
    optimizer: {}, steps: 0, heldout: { before: none, after: none },
  }));
}

function lensTable(label: string, model: string): void {
  const kind = '8x32';
  const lens = path.join(os.tmpdir(), `layer-lens-bench-lens-${process.pid}`);
  writeIdentityLens(lens, model);
  try {
    const samples = pairs({
      raw: () => child<Measured>({ model, mode: 'exact', kind, minSeconds: MIN_SECONDS }),
      tuned: () => child<Measured>({ model, mode: 'exact', kind, minSeconds: MIN_SECONDS, lens }),
    });
    console.log(`${label.padEnd(22)} ${kind}: raw ${fmt(med(samples, (x) => tps(x.raw)))} tok/s, tuned ${fmt(med(samples, (x) => tps(x.tuned)))} tok/s · overhead ${fmt(100 * (1 / ratio(samples, 'tuned', 'raw') - 1), 1)}% (target ≤ 10%) · peak RSS ${fmt(field(samples, 'tuned', 'peakRssMib'))} vs ${fmt(field(samples, 'raw', 'peakRssMib'))} MiB`);
  } finally {
    fs.rmSync(lens, { recursive: true, force: true });
  }
}

function accuracyRow(label: string, model: string, count: number): void {
  const r = child<Awaited<ReturnType<typeof accuracyChild>>>({ accuracy: true, model, count });
  const a = r.agreement;
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  console.log(
    `${label.padEnd(22)}${String(r.sentences).padStart(6)}${String(a.cells).padStart(8)}${pct(a.top1).padStart(9)}${pct(a.topKOrder).padStart(10)}` +
      `${a.meanAbsInputLogProb.toFixed(4).padStart(11)}${a.maxAbsInputLogProb.toFixed(4).padStart(9)}${a.maxAbsEntropy.toFixed(3).padStart(9)}${a.maxAbsKl.toFixed(3).padStart(8)}` +
      `${pct(a.sameRank).padStart(10)}${(r.calibration ? r.calibration.maxAbsInputLogProb.toFixed(4) : '-').padStart(13)}`,
  );
  for (const w of r.warnings) console.log(`  warning: ${w}`);
}

function kernelReport(model: string): void {
  const flags = readCpuFlags();
  const shown = flags ? ['avx2', 'avx512f', 'avx512_vnni', 'avx_vnni', 'amx_int8'].filter((f) => flags.has(f)).join(' ') : 'unreadable';
  console.log(`CPU ${os.cpus()[0]?.model ?? '?'} · flags: ${shown} · ${THREADS} threads`);
  const kernel = localInt8Kernel();
  console.log(`int8 kernel: ${kernel.name}${kernel.fast ? '' : ` — the product runs exact here (${kernel.reason}); the bench's fast figures force the int8 head on, to measure that choice`}`);
  const file = path.join(os.tmpdir(), `layer-lens-bench-head-${process.pid}.onnx`);
  try {
    child<Measured>({ model, mode: 'fast', kind: '1x32', minSeconds: 0, optimizedHead: file });
    const ops = new Map<string, number>();
    for (const n of readOnnxGraph(file).nodes) ops.set(n.op, (ops.get(n.op) ?? 0) + 1);
    const int8 = [...ops.keys()].filter((o) => /Quant|Integer|MatMulNBits/.test(o));
    console.log(`fast head after ORT's optimizer: ${int8.map((o) => `${o}×${ops.get(o)}`).join(', ') || 'no int8 op'} (of ${[...ops.values()].reduce((a, b) => a + b, 0)} nodes)`);
  } catch (e) {
    console.log(`fast head graph not inspected: ${(e as Error).message.split('\n')[0]}`);
  } finally {
    fs.rmSync(file, { force: true });
  }
}

async function main(): Promise<void> {
  const at = process.argv.indexOf('--child');
  if (at >= 0) {
    const c = JSON.parse(process.argv[at + 1]);
    const result = c.accuracy ? await accuracyChild(c.model, c.count) : await speedChild(c as Child);
    process.stdout.write(JSON.stringify(result) + '\n');
    return;
  }
  const bench = path.join(ROOT, '.cache', 'bench');
  const base = path.join(bench, 'bert-base-random');
  if (ONLY !== undefined && !['lens', 'families', 'scale', 'speed', 'memory'].includes(ONLY)) throw new Error(`--only takes lens, families, scale, speed or memory, not ${ONLY}`);
  console.log(`Layer Lens bench${QUICK ? ' (--quick)' : ''}${ONLY ? ` (--only ${ONLY})` : ''} · ${PAIRS} pair(s) per figure · runs of ≥ ${MIN_SECONDS} s`);
  if (ONLY !== 'families') writeRandomBert(base, BERT_BASE);
  if (!ONLY) coreTables(bench, base);
  if (ONLY === 'speed') speedTables(base);
  if (ONLY === 'memory') memoryTables(bench, base);
  if (!ONLY || ONLY === 'lens') {
    console.log(`\nTuned lens (probe --lens tuned:DIR, one Gemm per state before the head) against the raw lens; medians of ${PAIRS} pair(s)`);
    lensTable('reference-bert-mini', REFERENCE);
    lensTable('BERT-base random', base);
  }
  if (!ONLY || ONLY === 'families') familyTables(bench);
  if (!ONLY || ONLY === 'scale') scaleTable(bench, base);
  if (!ONLY) {
    console.log('\nDeepen writer (BERT-base, top layer duplicated, streamed tensor by tensor):');
    execFileSync(process.execPath, [path.join(__dirname, 'bench-deepen.js')], { stdio: 'inherit' });
  }
}

/** Exact vs fast (and PyTorch) on BERT-shaped checkpoints, cold start, prepacking, fast-mode agreement. */
function coreTables(bench: string, base: string): void {
  speedTables(base);
  prepackTable(base);

  if (!QUICK) memoryTables(bench, base);
}

/** `--only speed`: the int8 kernel, cold start and warm 1×32, exact vs fast (and PyTorch) on BERT-base random and the reference model, fast-vs-exact agreement. */
function speedTables(base: string): void {
  kernelReport(base);
  coldTable(base);
  speedTable('BERT-base random (768 hidden, 12 layers, 30,522 vocab, F32)', base, BERT_BASE, QUICK ? ['1x32', '8x32'] : ['1x32', '8x32', '32x128'], true);
  speedTable('Reference model (reference-bert-mini: 256 hidden, 4 layers, 30,522 vocab, F16)', REFERENCE, undefined, ['8x32', '32x128'], false);
  console.log('\nFast vs exact on data/heldout-sentences.txt (cells = sentences × tokens × states; top-k = 5)');
  console.log('model                 sent.   cells    top-1  top-k ord  mean|Δlp|  max|Δlp|  max|ΔH|  max|ΔKL|  same rank  calib. max|Δlp|');
  accuracyRow('reference-bert-mini', REFERENCE, 500);
  accuracyRow('BERT-base random', base, QUICK ? 20 : 100);
}

/** `--only memory`: the head's memory pattern paired, BERT-large and a 256k vocabulary (exact vs fast, peak RSS). */
function memoryTables(bench: string, base: string): void {
  const large = path.join(bench, 'bert-large-random');
  const wide = path.join(bench, 'bert-256k-vocab-random');
  console.log('');
  writeRandomBert(large, BERT_LARGE);
  arenaTable(base, '32x128');
  arenaTable(large, '8x32');
  writeRandomBert(wide, VOCAB_256K);
  speedTable('BERT-large random (1024 hidden, 24 layers, 30,522 vocab, F32)', large, BERT_LARGE, ['8x32'], false);
  speedTable('256k-vocabulary random (384 hidden, 6 layers, 256,000 vocab, F32)', wide, VOCAB_256K, ['8x32'], false);
}

/** Base-sized random ModernBERT, EuroBERT and DeBERTa-v3 built by HF: exact vs fast, with peak RSS. */
function familyTables(bench: string): void {
  const cases = QUICK ? ['8x32'] : ['8x32', '1x512'];
  const families: [string, 'modernbert' | 'eurobert' | 'deberta', string][] = [
    ['modernbert-base-random', 'modernbert', 'ModernBERT-base random (768 hidden, 22 layers, window 128 on 2 of 3 layers, 50,368 vocab, F32)'],
    ['eurobert-210m-random', 'eurobert', 'EuroBERT-210m-shaped random (HF defaults: 768 hidden, 12 layers, 128,256 vocab, untied head, F32)'],
    ['deberta-v3-base-random', 'deberta', 'DeBERTa-v3-base random (768 hidden, 12 layers, 128,100 vocab, 256 log buckets, c2p + p2c, F32)'],
  ];
  for (const [folder, family, title] of families) {
    console.log('');
    const dir = path.join(bench, folder);
    if (writeRandomFamily(dir, family)) speedTable(title, dir, undefined, cases, false);
  }
}

/**
 * A corpus probe by one process against two on this machine's cores: the ORT engine as one process
 * (all threads) or two `--shard` processes (half the threads each) plus `layer-lens merge`; the
 * PyTorch backend as one process or under torchrun with 2 (gloo). Wall time from process start to
 * report, so loading counts as it does for a real job; tokens/s over the corpus's tokens.
 */
function scaleTable(bench: string, base: string): void {
  const venv = path.join(ROOT, '.cache', 'venv', 'bin', 'python');
  const py = process.env.LAYER_LENS_TEST_PYTHON ?? venv;
  const dir = path.join(bench, 'scale');
  fs.mkdirSync(dir, { recursive: true });
  const corpus = path.join(dir, 'corpus.txt');
  const n = QUICK ? 60 : 200;
  fs.writeFileSync(corpus, fs.readFileSync(CORPUS, 'utf8').split('\n').filter((l) => l.trim()).slice(0, n).join('\n') + '\n');
  const cli = path.join(ROOT, 'dist', 'cli.js');
  const half = String(Math.max(1, Math.floor(THREADS / 2)));
  const wall = (f: () => void) => {
    const t = performance.now();
    f();
    return performance.now() - t;
  };
  const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env } });
    if (r.status !== 0) throw new Error(`${path.basename(cmd)} ${args.slice(0, 2).join(' ')} failed: ${(r.stderr || '').trim().split('\n').pop()}`);
  };
  const ortOne = () => wall(() => run(process.execPath, [cli, 'probe', base, '--file', corpus, '--json', path.join(dir, 'one.json'), '--threads', String(THREADS)]));
  // Two shards at once: started together by one shell, so their wall time overlaps.
  const ortTwoParallel = () => wall(() => {
    run('sh', ['-c', [1, 2].map((i) => `"${process.execPath}" "${cli}" probe "${base}" --file "${corpus}" --shard ${i}/2 --threads ${half} --json "${path.join(dir, `s${i}.json`)}" >/dev/null 2>&1 &`).join(' ') + ' wait']);
    run(process.execPath, [cli, 'merge', path.join(dir, 's1.json'), path.join(dir, 's2.json'), '--json', path.join(dir, 'merged.json')]);
  });
  const torchEnv = (threads: string) => ({ OMP_NUM_THREADS: threads, TQDM_DISABLE: '1', TRANSFORMERS_VERBOSITY: 'error', HF_HUB_OFFLINE: '1' });
  const torchOne = () => wall(() => run(py, [path.join(ROOT, 'python', 'probe_torch.py'), '--model', base, '--file', corpus, '--out', path.join(dir, 't1.json'), '--device', 'cpu'], torchEnv(String(THREADS))));
  const torchTwo = () => wall(() => run(path.join(path.dirname(py), 'torchrun'), ['--standalone', '--nproc_per_node', '2', path.join(ROOT, 'python', 'probe_torch.py'), '--model', base, '--file', corpus, '--out', path.join(dir, 't2.json'), '--device', 'cpu'], torchEnv(half)));
  const runners: Record<string, Runner> = { 'ORT ×1': ortOne, 'ORT ×2': ortTwoParallel };
  const hasTorch = fs.existsSync(py) && spawnSync(py, ['-c', 'import torch, transformers'], { stdio: 'ignore' }).status === 0;
  if (hasTorch) Object.assign(runners, { 'PyTorch ×1': torchOne, 'PyTorch ×2': torchTwo });
  const samples = pairs(runners);
  const tokens = (JSON.parse(fs.readFileSync(path.join(dir, 'one.json'), 'utf8')) as { timing: { tokens: number } }).timing.tokens;
  console.log(`\nScale-out on this machine (${THREADS} threads): BERT-base random, ${n} held-out sentences, ${tokens} tokens; wall time from process start to report, medians of ${PAIRS} pair(s)`);
  console.log('run                              wall s   tokens/s   vs ×1');
  const row = (name: string, label: string, one: string) => {
    const ms = med(samples, (s) => Number(s[name]));
    const speedup = med(samples, (s) => Number(s[one]) / Number(s[name]));
    console.log(`${label.padEnd(32)} ${(ms / 1000).toFixed(1).padStart(6)}   ${fmt(tokens / (ms / 1000)).padStart(8)}   ${name === one ? '' : `${speedup.toFixed(2)}×`}`);
  };
  row('ORT ×1', `ORT, 1 process × ${THREADS} threads`, 'ORT ×1');
  row('ORT ×2', `ORT, 2 shards × ${half} + merge`, 'ORT ×1');
  if (hasTorch) {
    row('PyTorch ×1', `PyTorch fp32, 1 process`, 'PyTorch ×1');
    row('PyTorch ×2', `PyTorch fp32, torchrun 2 × ${half}`, 'PyTorch ×1');
  } else console.log('PyTorch backend: the test Python (scripts/install-python.sh) is missing');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
