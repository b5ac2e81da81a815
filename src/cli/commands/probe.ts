/** `layer-lens probe`: per-layer reconstruction of the input through the model's own MLM head. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { parsePlan } from '../../core/deepen/plan';
import { UserError } from '../../core/errors';
import { describeFsError } from '../../core/files';
import { ProbeEngine, ProbeInput } from '../../core/probe/engine';
import { reportToCsv, reportToJson } from '../../shared/export';
import { readSentenceFile } from '../../core/probe/inputs';
import { ProbeReport } from '../../core/probe/report';
import { fastModeLines } from '../../shared/fastMode';
import { formatMaskTopK, formatSummaryTable, formatTokenGrid } from '../format';
import { ProgressBar } from '../progress';
import { referenceModelDir } from '../paths';

export const PROBE_USAGE = `Usage: layer-lens probe [MODEL] (--text "…")… | --file sentences.txt
                        [--pair "…"] [--layers PLAN] [--top-k K] [--threads N]
                        [--include-special] [--mask-gold WORD]… [--mask-each] [--fast]
                        [--json out.json] [--csv out.csv]

MODEL      a HuggingFace checkpoint folder, or any file in it (config.json,
           model.safetensors, model.safetensors.index.json). Default: the embedded
           reference model (models/reference-bert-mini).
--text     a sentence to probe (repeatable)
--pair     second segment for the (single) --text, probed as a sentence pair
--file     a UTF-8 text file, one sentence per line ("text<TAB>pair" for pairs)
--layers   layer plan: the order encoder layers run, e.g. 0-3,3 (duplicates layer 3)
--top-k    how many top predictions to keep per position (default 5)
--include-special  also count [CLS]/[SEP] etc. in the per-layer figures
--fast     int8 decoder with the top 16 rescored in fp32: top-1 and top-k order
           exact, log-probs/entropy/KL/ranks approximate (the report says by how
           much); needs VNNI/AMX on x64, else the exact head runs
--mask-gold  the token a mask token ([MASK], <mask>) in the --text stands for, one
           per mask in order (repeatable); masks get their own per-layer summary
--mask-each  also mask each token in turn (per-layer pseudo-log-likelihood); costs one
           extra sequence per token: n sequences of n tokens for an n-token sentence
--json/--csv       write the full report`;

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
      'mask-gold': { type: 'string', multiple: true },
      'mask-each': { type: 'boolean' },
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

  const inputs: ProbeInput[] = values.file
    ? readSentenceFile(values.file)
    : (values.text ?? [DEFAULT_TEXT]).map((text) => ({
        text,
        ...(values.pair !== undefined ? { pair: values.pair } : {}),
        ...(values['mask-gold'] ? { maskGold: values['mask-gold'] } : {}),
      }));
  const engine = ProbeEngine.load(positionals[0] ?? referenceModelDir(), {
    threads: values.threads ? positiveInt(values.threads, '--threads') : undefined,
    fast: values.fast ?? false,
  });
  checkOutputs([values.json, values.csv], engine.checkpoint.location.dir, values.file);
  const plan = values.layers ? parsePlan(values.layers, engine.checkpoint.config.numLayers) : undefined;
  const topK = values['top-k'] ? positiveInt(values['top-k'], '--top-k') : undefined;

  const controller = new AbortController();
  const onInterrupt = () => controller.abort();
  process.once('SIGINT', onInterrupt);
  const progress = values.file ? new ProgressBar(inputs.length) : undefined;
  let report: ProbeReport;
  try {
    report = await engine.probe(inputs, {
      plan,
      topK,
      includeSpecial: values['include-special'] ?? false,
      pll: values['mask-each'] ?? false,
      signal: controller.signal,
      onProgress: (done) => progress?.update(done),
    });
  } finally {
    process.removeListener('SIGINT', onInterrupt);
    progress?.done();
    await engine.dispose();
  }

  printReport(report);
  if (values.json) writeOutput(values.json, reportToJson(report));
  if (values.csv) writeOutput(values.csv, reportToCsv(report));
  return 0;
}

/** --json/--csv must not replace the model's own files, the corpus being read, or each other. */
function checkOutputs(outputs: (string | undefined)[], modelDir: string, inputFile: string | undefined): void {
  const real = (p: string) => {
    const abs = path.resolve(p);
    try {
      return fs.realpathSync(abs);
    } catch {
      try {
        return path.join(fs.realpathSync(path.dirname(abs)), path.basename(abs));
      } catch {
        return abs;
      }
    }
  };
  const model = real(modelDir);
  const seen = new Set<string>();
  for (const out of outputs) {
    if (out === undefined) continue;
    const target = real(out);
    if (!fs.existsSync(path.dirname(target))) throw new UserError('cannot write the report: its folder does not exist', out);
    if (path.dirname(target) === model || target === model) {
      throw new UserError('refusing to write the report into the model folder; choose a path outside it', out);
    }
    if (inputFile !== undefined && target === real(inputFile)) throw new UserError('refusing to overwrite the --file input with the report', out);
    if (seen.has(target)) throw new UserError('--json and --csv name the same file', out);
    seen.add(target);
  }
}

function printReport(report: ProbeReport): void {
  const m = report.model;
  console.log(`${m.name} · ${m.family} · ${m.numLayers} layers · hidden ${m.hiddenSize} · vocab ${m.vocabSize} · ${m.dtype}`);
  console.log(`plan ${report.planText} · ${report.sentences.length} sentence(s), ${report.timing.tokens} tokens · ${report.includeSpecial ? 'special tokens included' : 'special tokens excluded'}`);
  for (const w of report.warnings) console.log(`warning: ${w}`);
  for (const line of fastModeLines(report)) console.log(line);
  console.log('');
  console.log(formatSummaryTable(report));
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

/** Writes next to the target and renames, so a failed write never leaves a half-written or emptied file. */
function writeOutput(file: string, text: string): void {
  const temp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(temp, text, { flag: 'wx' });
    fs.renameSync(temp, file);
  } catch (e) {
    fs.rmSync(temp, { force: true });
    throw new UserError(`cannot write the report: ${describeFsError(e)}`, file);
  }
  console.log(`wrote ${file}`);
}

export function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`${flag} must be a positive integer, got "${text}"`);
  return n;
}
