/**
 * `npm run paper`: the measurement of Kao et al. (arXiv 2001.09309) on the reference model, with
 * our engine. Held-out sentences, no masking: per-layer reconstruction accuracy and mean log-prob
 * of the input token, for the trained model, a randomly initialized control of the same shape,
 * and two deepened plans run in memory; then the raw lens against a tuned lens (python/tune_lens.py,
 * trained on the first 300 held-out sentences and read on the other 200, which it never saw).
 * Prints Markdown tables (pasted into the model card). The tuned lens needs the test Python
 * (scripts/install-python.sh) or $LAYER_LENS_PYTHON.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readConfigFile } from '../src/core/checkpoint/config';
import { readSafetensorsHeader, TensorToWrite, writeSafetensors } from '../src/core/checkpoint/safetensors';
import { printPlan } from '../src/core/deepen/plan';
import { loadTunedLens } from '../src/core/lens/tunedLens';
import { ProbeEngine, ProbeInput } from '../src/core/probe/engine';
import { parseSentences } from '../src/core/probe/inputs';
import { ProbeReport } from '../src/core/probe/report';

const ROOT = path.resolve(__dirname, '..');
const MODEL = path.join(ROOT, 'models', 'reference-bert-mini');

/** A control with the trained model's config and tokenizer, weights drawn as HF initializes them. */
function writeRandomControl(dir: string, seed: number): void {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['config.json', 'vocab.txt', 'tokenizer.json', 'tokenizer_config.json']) fs.copyFileSync(path.join(MODEL, f), path.join(dir, f));
  const cfg = readConfigFile(path.join(MODEL, 'config.json'));
  const trained = readSafetensorsHeader(path.join(MODEL, 'model.safetensors')).tensors;
  let state = seed >>> 0;
  const uniform = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const std = Number(cfg.raw.initializer_range ?? 0.02);
  const tensors: TensorToWrite[] = [...trained.values()].map(({ name, shape }) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return {
      name, dtype: 'F32', shape, byteLength: 4 * n,
      read: () => {
        const v = new Float32Array(n);
        const isLn = /LayerNorm|layer_norm/.test(name);
        const isBias = name.endsWith('.bias');
        for (let i = 0; i < n; i++) v[i] = isLn ? (isBias ? 0 : 1) : isBias ? 0 : normal() * std;
        return new Uint8Array(v.buffer);
      },
    };
  });
  writeSafetensors(path.join(dir, 'model.safetensors'), tensors, { format: 'pt' });
}

function table(rows: { name: string; report: ProbeReport }[], cell: (s: ProbeReport['summary'][number]) => string): string {
  const width = Math.max(...rows.map((r) => r.report.summary.length));
  const labels = Array.from({ length: width }, (_, i) => `h${i}`);
  const lines = [`| model / plan | layers | ${labels.join(' | ')} |`, `|---|---|${labels.map(() => '---:').join('|')}|`];
  for (const r of rows) {
    const cells = labels.map((_, i) => (r.report.summary[i] ? cell(r.report.summary[i]) : ''));
    lines.push(`| ${r.name} | ${r.report.planText} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const inputs = parseSentences(fs.readFileSync(path.join(ROOT, 'data', 'heldout-sentences.txt'), 'utf8'));
  const control = path.join(ROOT, '.cache', 'paper', 'random-init-bert-mini');
  writeRandomControl(control, 1);
  const trained = ProbeEngine.load(MODEL);
  const random = ProbeEngine.load(control);
  const L = trained.checkpoint.config.numLayers;
  const last = [...Array(L).keys(), L - 1];
  const middle = [0, 1, 1, 2, 2, 3].filter((l) => l < L);
  const rows = [
    { name: 'trained', report: await trained.probe(inputs) },
    { name: 'random init (control)', report: await random.probe(inputs) },
    { name: 'trained, last layer duplicated', report: await trained.probe(inputs, { plan: last }) },
    { name: 'trained, middle layers duplicated', report: await trained.probe(inputs, { plan: middle }) },
    { name: 'random init, last layer duplicated', report: await random.probe(inputs, { plan: last }) },
  ];
  const lensRows = await rawVersusTuned(trained, inputs);
  await trained.dispose();
  await random.dispose();
  const r0 = rows[0].report;
  console.log(`Reconstruction accuracy of the input token through the MLM head (${r0.sentences.length} held-out sentences, ${r0.summary[0].count} tokens, [CLS]/[SEP] excluded, no masking; plans ${printPlan(last)} and ${printPlan(middle)} run in memory):\n`);
  console.log(table(rows, (s) => `${(100 * s.accuracy).toFixed(1)}%`));
  console.log('\nMean log-probability of the input token (nats):\n');
  console.log(table(rows, (s) => s.meanLogProb.toFixed(3)));
  console.log(lensRows);
}

const LENS_TRAIN = 300;
const LENS_STEPS = 250;

/** Trains a tuned lens on the first LENS_TRAIN sentences and compares it with the raw lens on the rest. */
async function rawVersusTuned(engine: ProbeEngine, inputs: ProbeInput[]): Promise<string> {
  const dir = path.join(ROOT, '.cache', 'paper');
  const corpus = path.join(dir, 'lens-train.txt');
  const lensDir = path.join(dir, 'tuned-lens');
  fs.writeFileSync(corpus, inputs.slice(0, LENS_TRAIN).map((x) => x.text).join('\n') + '\n');
  const python = process.env.LAYER_LENS_PYTHON ?? path.join(ROOT, '.cache', 'venv', 'bin', 'python');
  const t = Date.now();
  const r = spawnSync(python, [path.join(ROOT, 'python', 'tune_lens.py'), '--model', MODEL, '--file', corpus, '--out', lensDir, '--steps', String(LENS_STEPS)], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`python/tune_lens.py failed (${r.error?.message ?? `exit ${r.status}`}): ${r.stderr.slice(-2000)}`);
  const seconds = (Date.now() - t) / 1000;
  const rest = inputs.slice(LENS_TRAIN);
  const raw = await engine.probe(rest);
  const tuned = await engine.probe(rest, { lens: loadTunedLens(lensDir, engine.checkpoint) });
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const lines = [
    `\nRaw lens against a tuned lens (one affine translator per state, ${LENS_STEPS} steps of python/tune_lens.py on the first ${LENS_TRAIN} held-out sentences, ${seconds.toFixed(0)} s on the CPU), both read on the other ${rest.length} sentences (${raw.summary[0].count} tokens), which the lens never saw. KL→final is KL(final layer's distribution ‖ this state's), in nats; the last state has no translator, so its row is the same in both:\n`,
    '| state | accuracy raw | accuracy tuned | mean log p raw | mean log p tuned | KL→final raw | KL→final tuned |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...raw.summary.map((s, l) => {
      const u = tuned.summary[l];
      return `| ${s.label} | ${pct(s.accuracy)} | ${pct(u.accuracy)} | ${s.meanLogProb.toFixed(3)} | ${u.meanLogProb.toFixed(3)} | ${s.meanKL.toFixed(3)} | ${u.meanKL.toFixed(3)} |`;
    }),
  ];
  return lines.join('\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
