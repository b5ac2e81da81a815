/**
 * `layer-lens merge`: shard reports of one corpus run into one report, refused with one line naming
 * the file and what differs when they are not shards of the same run.
 */
import { UserError } from '../errors';
import { readUserText } from '../files';
import { reportSchema } from '../../shared/savedState';
import { AccumulatedReport, ReportAccumulator } from './accumulate';
import { ProbeReport, REPORT_SCHEMA_VERSION } from './report';

export interface ReportFile {
  file: string;
  report: ProbeReport;
}

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

/** Numbers the JSON holds as "NaN"/"Infinity" strings (reportToJson), or null, back to numbers. */
function num(v: unknown): unknown {
  if (v === null) return NaN;
  return typeof v === 'string' && v in NON_FINITE ? NON_FINITE[v] : Array.isArray(v) ? v.map(num) : v;
}

function reviveFields(o: unknown, keys: string[]): void {
  if (typeof o !== 'object' || o === null) return;
  const r = o as Record<string, unknown>;
  for (const k of keys) if (k in r) r[k] = num(r[k]);
}

const SUMMARY_FIELDS = ['accuracy', 'meanLogProb', 'medianRank', 'meanEntropy', 'meanKL', 'accuracyCI', 'meanLogProbCI'];
const AGGREGATE_FIELDS = ['sumLogProb', 'sumEntropy', 'sumKL'];
const CELL_FIELDS = ['top1', 'inputLogProb', 'rank', 'entropy', 'kl', 'topKIds', 'topKLogProbs'];

/** Only the numeric fields are revived: a token or a sentence may well read "NaN". */
function revive(raw: Record<string, unknown>): void {
  const each = (v: unknown, f: (x: unknown) => void) => Array.isArray(v) && v.forEach(f);
  for (const key of ['summary', 'maskSummary', 'pllSummary']) each(raw[key], (s) => reviveFields(s, SUMMARY_FIELDS));
  for (const key of ['aggregates', 'pllAggregates']) each(raw[key], (a) => reviveFields(a, AGGREGATE_FIELDS));
  each(raw.rows, (r) => reviveFields(r, ['logp']));
  each(raw.sentences, (s) => {
    const sentence = s as Record<string, unknown>;
    each(sentence?.layers, (c) => reviveFields(c, CELL_FIELDS));
    each(sentence?.pll, (c) => reviveFields(c, CELL_FIELDS));
  });
  reviveFields(raw.timing, ['sessionMs', 'runMs', 'tokens', 'peakRssMb']);
  reviveFields(raw.pllCost, ['runMs']);
  const fast = raw.fast as Record<string, unknown> | undefined;
  if (fast?.calibration && typeof fast.calibration === 'object') reviveFields(fast.calibration, Object.keys(fast.calibration));
}

/** A report written by `layer-lens probe --json` (or the PyTorch backend), checked field by field. */
export function readReportFile(file: string): ReportFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readUserText(file, 'probe report'));
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`not valid JSON (${(e as Error).message})`, file);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new UserError('not a probe report: it holds no JSON object', file);
  const version = (raw as Record<string, unknown>).schemaVersion;
  if (version !== REPORT_SCHEMA_VERSION) {
    throw new UserError(`report schema version ${version ?? '1 (none given)'}; merge reads version ${REPORT_SCHEMA_VERSION}: re-run the probe with this layer-lens`, file);
  }
  revive(raw as Record<string, unknown>);
  const problem = reportSchema.check(raw, 'report');
  if (problem) throw new UserError(`not a probe report: ${problem}`, file);
  const report = raw as ProbeReport;
  if (!report.aggregates || !report.rows || !report.corpus) throw new UserError('not a mergeable report: it has no aggregates, rows or corpus', file);
  const layers = report.plan.length + 1;
  if (report.aggregates.length !== layers || report.rows.some((r) => r.hits.length !== layers || r.logp.length !== layers)) {
    throw new UserError(`the aggregates or rows do not have one entry per layer (${layers} for plan ${report.planText})`, file);
  }
  return { file, report };
}

/** What must agree for two reports to be shards of one run: label → a printable value. */
function runKey(r: ProbeReport): [string, string][] {
  const m = r.model;
  return [
    ['model', `${m.name} (${m.modelType}, ${m.numLayers} layers, hidden ${m.hiddenSize}, vocab ${m.vocabSize})`],
    ['weights', `${m.weightsBytes ?? '?'} bytes, ${m.dtype}`],
    ['tokenizer', `${m.tokenizerFile ?? '?'} sha256 ${m.tokenizerSha256?.slice(0, 12) ?? '?'}`],
    ['plan', r.planText],
    ['top-k', String(r.topK)],
    ['includeSpecial', String(r.includeSpecial)],
    ['fast mode', r.fast ? `on (${r.fast.candidates} candidates)` : 'off'],
    ['lens', r.lens ? `tuned (${r.lens.dir})` : 'raw'],
    // The two backends agree to float error, not bit for bit, and bf16 less: shards of one run use one.
    // So do onnxruntime's providers (within the parity check's 1e-3).
    ['backend', r.backend ? `PyTorch ${r.backend.dtype}` : `onnxruntime ${r.executionProvider?.ran ?? 'cpu'}`],
    ['mask each token', r.pllAggregates ? 'on' : 'off'],
    ['corpus size', `${r.corpus!.totalSentences} sentences`],
    ['full sentences kept', String(r.corpus!.fullSentences)],
    ['shard count', String(r.corpus!.shard?.count ?? 1)],
  ];
}

/** Refuses reports that are not the complete, non-overlapping shards of one run. */
export function checkShards(files: ReportFile[]): void {
  if (files.length === 0) throw new UserError('merge needs at least one report');
  const [first, ...others] = files;
  const want = runKey(first.report);
  for (const { file, report } of files) {
    if (report.corpus!.partial) throw new UserError('the report is partial (its run was cancelled): re-run that shard', file);
  }
  for (const { file, report } of others) {
    runKey(report).forEach(([label, value], k) => {
      if (value !== want[k][1]) throw new UserError(`different ${label} from ${first.file}: ${value} vs ${want[k][1]}`, file);
    });
  }
  const count = first.report.corpus!.shard?.count ?? 1;
  const seen = new Map<number, string>();
  for (const { file, report } of files) {
    const index = report.corpus!.shard?.index ?? 1;
    const other = seen.get(index);
    if (other !== undefined) throw new UserError(`shard ${index}/${count} overlaps ${other}, which is the same shard`, file);
    seen.set(index, file);
  }
  const missing = Array.from({ length: count }, (_, k) => k + 1).filter((i) => !seen.has(i));
  if (missing.length) throw new UserError(`shard(s) ${missing.map((i) => `${i}/${count}`).join(', ')} missing: give all ${count} shard reports`);
}

export function mergeReports(files: ReportFile[]): AccumulatedReport {
  checkShards(files);
  const first = files[0].report;
  const acc = new ReportAccumulator(first.corpus!.fullSentences, 'separate');
  for (const f of files) acc.add(f.report);
  let merged: AccumulatedReport;
  try {
    merged = acc.finish({ ...(first.corpus!.file ? { file: first.corpus!.file } : {}), totalSentences: first.corpus!.totalSentences, mergedFrom: files.map((f) => f.file) });
  } catch (e) {
    throw new UserError(`the reports overlap: ${(e as Error).message}`);
  }
  if (merged.rows.sentences !== first.corpus!.totalSentences) {
    throw new UserError(`the shards hold ${merged.rows.sentences} sentences but the corpus has ${first.corpus!.totalSentences}`);
  }
  return merged;
}
