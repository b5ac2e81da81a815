/** `layer-lens probe`: per-layer reconstruction of the input through the model's own MLM head. */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { parsePlan } from '../../core/deepen/plan';
import { isCancelled, UserError } from '../../core/errors';
import { ProbeEngine, ProbeInput, ProbeOptions } from '../../core/probe/engine';
import { CELL_COLUMNS, cellCsvLines, csvRow, reportJsonChunks, reportToCsv, reportToJson } from '../../shared/export';
import { ReportAccumulator } from '../../core/probe/accumulate';
import { countSentences, parseShard, sentenceChunks, Shard } from '../../core/probe/corpusFile';
import { ProbeReport, summaryRows } from '../../core/probe/report';
import { loadTunedLens, parseLensArg, TunedLens } from '../../core/lens/tunedLens';
import { fastModeLines } from '../../shared/fastMode';
import { providerLine } from '../../shared/format';
import { parseExecutionProvider } from '../../core/probe/executionProvider';
import { formatMaskTopK, formatSummaryTable, formatTokenGrid } from '../format';
import { checkOutputs, OutputFile, writeOutput } from '../output';
import { ProgressBar } from '../progress';
import { referenceModelDir } from '../paths';

/** Sentences per engine call in a corpus run: enough to batch by length, few enough to keep memory flat. */
const CORPUS_CHUNK = 512;
export const DEFAULT_FULL_SENTENCES = 200;

export const PROBE_USAGE = `Usage: layer-lens probe [MODEL] (--text "…")… | --file sentences.txt [--shard i/N]
                        [--pair "…"] [--layers PLAN] [--top-k K] [--threads N]
                        [--include-special] [--mask-gold WORD]… [--mask-each] [--fast]
                        [--sublayers] [--lens raw|tuned:DIR] [--execution-provider EP]
                        [--full-sentences K] [--json out.json] [--csv out.csv]

MODEL      a HuggingFace checkpoint folder, or any file in it (config.json,
           model.safetensors, model.safetensors.index.json). Default: the embedded
           reference model (models/reference-bert-mini).
--text     a sentence to probe (repeatable)
--pair     second segment for the (single) --text, probed as a sentence pair
--file     a UTF-8 text file, one sentence per line ("text<TAB>pair" for pairs);
           read as a stream: memory stays flat however long the corpus. Progress goes
           to stderr; Ctrl-C writes the report so far, marked "partial": true
--shard    i/N: probe only every N-th sentence, starting at the i-th (sentences
           i, i+N, i+2N, … counting non-blank lines from 1); the N shard reports
           combine with "layer-lens merge" into the unsharded run's report
--full-sentences  keep full per-position cells (the panel's grid, the CSV's
           cells are written for every sentence regardless) for the first K sentences
           of the corpus (default ${DEFAULT_FULL_SENTENCES}); every sentence keeps its compact row
--layers   layer plan: the order encoder layers run, e.g. 0-3,3 (duplicates layer 3)
--top-k    how many top predictions to keep per position (default 5)
--include-special  also count [CLS]/[SEP] etc. in the per-layer figures
--fast     int8 decoder with the top 16 rescored in fp32: top-1 and top-k order
           exact, log-probs/entropy/KL/ranks approximate (the report says by how
           much); needs VNNI/AMX on x64, else the exact head runs
--execution-provider  auto | cpu (default) | dml | coreml | webgpu | cuda: where
           onnxruntime runs (see "layer-lens providers"). A provider other than the
           CPU runs only once it matches the CPU to 1e-3 on the embedded model; one
           that fails to start or to match falls back to the CPU and says why.
           auto: DirectML on Windows, CoreML on Apple silicon, else the CPU
--mask-gold  the token a mask token ([MASK], <mask>) in the --text stands for, one
           per mask in order (repeatable); masks get their own per-layer summary
--sublayers  also read the state after each layer's attention block, before its MLP
           (post-LN: after the attention output LayerNorm; pre-norm: the residual
           stream), shown as rows h3·attn between h2 and h3, in the table and exports
--lens     raw (default) or tuned:DIR, a tuned lens made by "layer-lens tune-lens"
           for this model and plan: each state but the last goes through its translator
--mask-each  also mask each token in turn (per-layer pseudo-log-likelihood); costs one
           extra sequence per token: n sequences of n tokens for an n-token sentence
--json/--csv       write the report (JSON: summary with 95% bootstrap intervals by
           sentence, per-layer aggregates, per-sentence rows; CSV: every cell)`;

const DEFAULT_TEXT = 'The quick brown fox jumps over the lazy dog.';

export async function runProbeCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      text: { type: 'string', multiple: true },
      pair: { type: 'string' },
      file: { type: 'string' },
      layers: { type: 'string' },
      'top-k': { type: 'string' },
      threads: { type: 'string' },
      'include-special': { type: 'boolean' },
      fast: { type: 'boolean' },
      'execution-provider': { type: 'string' },
      'mask-gold': { type: 'string', multiple: true },
      'mask-each': { type: 'boolean' },
      sublayers: { type: 'boolean' },
      lens: { type: 'string' },
      shard: { type: 'string' },
      'full-sentences': { type: 'string' },
      json: { type: 'string' },
      csv: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(PROBE_USAGE);
    return 0;
  }
  if (positionals.length > 1) throw new UserError(`expected at most one MODEL, got ${positionals.length}: ${positionals.join(' ')}`);
  if (values.file && values.text) throw new UserError('give either --text or --file, not both');
  if (values.pair && (values.text?.length ?? 0) !== 1) throw new UserError('--pair goes with exactly one --text');
  if (values['mask-gold'] && (values.text?.length ?? 0) !== 1) throw new UserError('--mask-gold goes with exactly one --text that holds the mask token');

  // A corpus run merges chunk aggregates of the layer rows only; sub-layer rows would be dropped there.
  if (values.sublayers && values.file) throw new UserError('--sublayers goes with --text (corpus runs do not carry the after-attention rows yet)');
  if (values.shard && !values.file) throw new UserError('--shard goes with --file');
  if (values['full-sentences'] && !values.file) throw new UserError('--full-sentences goes with --file');
  const shard = values.shard ? parseShard(values.shard) : undefined;
  const fullSentences = values['full-sentences'] !== undefined ? nonNegativeInt(values['full-sentences'], '--full-sentences') : DEFAULT_FULL_SENTENCES;
  const total = values.file ? countSentences(values.file) : undefined;
  const inShard = total !== undefined && shard ? Math.max(0, Math.ceil((total - (shard.index - 1)) / shard.count)) : total;
  if (inShard === 0) throw new UserError(`shard ${values.shard} of a ${total}-sentence corpus holds no sentences`, values.file);

  const engine = ProbeEngine.load(positionals[0] ?? referenceModelDir(), {
    threads: values.threads ? positiveInt(values.threads, '--threads') : undefined,
    fast: values.fast ?? false,
    ...(values['execution-provider'] ? { executionProvider: parseExecutionProvider(values['execution-provider'], '--execution-provider'), parityModel: referenceModelDir() } : {}),
  });
  checkOutputs([values.json, values.csv], engine.checkpoint.location.dir, values.file ? [values.file] : []);
  const options: ProbeOptions = {
    plan: values.layers ? parsePlan(values.layers, engine.checkpoint.config.numLayers) : undefined,
    topK: values['top-k'] ? positiveInt(values['top-k'], '--top-k') : undefined,
    includeSpecial: values['include-special'] ?? false,
    pll: values['mask-each'] ?? false,
    sublayers: values.sublayers ?? false,
    lens: tunedLensFor(values.lens, engine),
  };
  if (values.file) return probeCorpus(engine, options, { file: values.file, total: total!, inShard: inShard!, shard, fullSentences, json: values.json, csv: values.csv });

  const inputs: ProbeInput[] = (values.text ?? [DEFAULT_TEXT]).map((text) => ({
    text,
    ...(values.pair !== undefined ? { pair: values.pair } : {}),
    ...(values['mask-gold'] ? { maskGold: values['mask-gold'] } : {}),
  }));
  const controller = new AbortController();
  const onInterrupt = () => controller.abort();
  process.once('SIGINT', onInterrupt);
  let report: ProbeReport;
  try {
    report = await engine.probe(inputs, { ...options, signal: controller.signal });
  } finally {
    process.removeListener('SIGINT', onInterrupt);
    await engine.dispose();
  }

  printReport(report);
  if (values.json) writeOutput(values.json, reportToJson(report));
  if (values.csv) writeOutput(values.csv, reportToCsv(report));
  return 0;
}

interface CorpusRun {
  file: string;
  /** Sentences in the corpus, and in this shard. */
  total: number;
  inShard: number;
  shard?: Shard;
  fullSentences: number;
  json?: string;
  csv?: string;
}

/**
 * A corpus, streamed: each chunk of sentences is probed, folded into the aggregates and rows, and
 * its cells appended to the CSV's temp file; the JSON is written at the end. Ctrl-C stops the run
 * and writes what it finished, marked partial (exit 130); nothing is written if nothing finished.
 */
async function probeCorpus(engine: ProbeEngine, options: ProbeOptions, run: CorpusRun): Promise<number> {
  const acc = new ReportAccumulator(run.fullSentences, 'shared');
  const controller = new AbortController();
  const onInterrupt = () => controller.abort();
  process.once('SIGINT', onInterrupt);
  const progress = new ProgressBar(run.inShard);
  let csv: OutputFile | undefined;
  let cancelled = false;
  try {
    csv = run.csv ? new OutputFile(run.csv) : undefined;
    csv?.write(csvRow([...CELL_COLUMNS]) + '\n');
    for (const chunk of sentenceChunks(run.file, CORPUS_CHUNK, run.shard)) {
      const report = await engine.probe(chunk, { ...options, intervals: false, signal: controller.signal });
      acc.add(report);
      const lines = cellCsvLines(report);
      if (lines.length) csv?.write(lines.join('\n') + '\n');
      progress.update(acc.probed);
    }
  } catch (e) {
    if (!isCancelled(e) || acc.probed === 0) {
      csv?.discard();
      throw e;
    }
    cancelled = true;
  } finally {
    process.removeListener('SIGINT', onInterrupt);
    progress.done();
    await engine.dispose();
  }
  const { report, rows } = acc.finish({
    file: run.file,
    totalSentences: run.total,
    ...(run.shard ? { shard: { ...run.shard, scheme: 'stride' as const } } : {}),
    ...(cancelled ? { partial: true } : {}),
  });
  printReport(report);
  if (run.json) {
    const out = new OutputFile(run.json);
    out.writeAll(reportJsonChunks(report, rows));
    out.commit();
  }
  csv?.commit();
  if (cancelled) {
    console.error(`layer-lens: interrupted after ${acc.probed} of ${run.inShard} sentences; ${run.json || run.csv ? 'wrote the report so far, marked "partial": true' : 'the figures above are partial'}.`);
    return 130;
  }
  return 0;
}

function printReport(report: ProbeReport): void {
  const m = report.model;
  console.log(`${m.name} · ${m.family} · ${m.numLayers} layers · hidden ${m.hiddenSize} · vocab ${m.vocabSize} · ${m.dtype}`);
  const c = report.corpus;
  const which = c?.file
    ? `${c.probed}${c.shard ? ` of ${c.totalSentences} sentences (shard ${c.shard.index}/${c.shard.count}, every ${c.shard.count}-th)` : ' sentence(s)'}${c.partial ? ' · PARTIAL: interrupted' : ''}`
    : `${report.sentences.length} sentence(s)`;
  console.log(`plan ${report.planText} · ${which}, ${report.timing.tokens} tokens · ${report.includeSpecial ? 'special tokens included' : 'special tokens excluded'}`);
  if (report.lens) console.log(`lens: tuned (${report.lens.dir}, ${report.lens.steps} steps on ${path.basename(report.lens.corpus)}): every state but the last is read through its translator`);
  for (const w of report.warnings) console.log(`warning: ${w}`);
  for (const line of fastModeLines(report)) console.log(line);
  const provider = providerLine(report);
  if (provider) console.log(provider);
  console.log('');
  console.log(formatSummaryTable(report, summaryRows(report)));
  if (report.maskSummary) {
    console.log('');
    console.log(`Masked positions (${report.maskSummary[0].count} with a gold token): accuracy, log p and rank of the gold`);
    console.log(formatSummaryTable(report, report.maskSummary));
  }
  if (report.pllSummary && report.pllCost) {
    const c = report.pllCost;
    console.log('');
    console.log(`Each token masked in turn (pseudo-log-likelihood): ${c.sequences} extra sequences, ${c.tokens} tokens, ${c.runMs.toFixed(0)} ms`);
    console.log(formatSummaryTable(report, report.pllSummary));
    const pll = report.pllSummary.map((x) => `${x.label} ${(x.meanLogProb * x.count).toFixed(2)}`).join(' · ');
    console.log(`PLL (sum of log p over ${report.pllSummary[0].count} tokens): ${pll}`);
  }
  if (report.sentences.length === 1) {
    const s = report.sentences[0];
    console.log('');
    console.log(`Top-1 token per layer for: ${s.text}${s.pair ? ` ‖ ${s.pair}` : ''}   (* = differs from the input${s.masks ? ' or the gold' : ''})`);
    console.log(formatTokenGrid(report));
    if (s.masks?.length) {
      console.log('');
      console.log(formatMaskTopK(report));
    }
  }
  const t = report.timing;
  console.log('');
  console.log(`session ${t.sessionMs.toFixed(0)} ms · run ${t.runMs.toFixed(0)} ms · peak RSS ${t.peakRssMb.toFixed(0)} MB`);
}

function nonNegativeInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new UserError(`${flag} must be a whole number ≥ 0, got "${text}"`);
  return n;
}

export function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`${flag} must be a positive integer, got "${text}"`);
  return n;
}

/** `--lens tuned:DIR` loaded and checked against the model; raw or absent is no lens. */
function tunedLensFor(arg: string | undefined, engine: ProbeEngine): TunedLens | undefined {
  if (arg === undefined) return undefined;
  const lens = parseLensArg(arg);
  return lens.kind === 'tuned' ? loadTunedLens(lens.dir, engine.checkpoint) : undefined;
}
