/** `layer-lens merge`: the shard reports of one corpus run into the unsharded run's report. */
import { parseArgs } from 'node:util';
import { UserError } from '../../core/errors';
import { mergeReports, readReportFile } from '../../core/probe/mergeReports';
import { reportJsonChunks, summaryToCsv } from '../../shared/export';
import { formatSummaryTable } from '../format';
import { checkOutputs, OutputFile, writeOutput } from '../output';

export const MERGE_USAGE = `Usage: layer-lens merge a.json b.json … --json all.json [--csv summary.csv]

Combines the reports of "layer-lens probe --file corpus.txt --shard i/N" (i = 1…N), or of the
PyTorch backend's ranks, into the report the unsharded run writes: counts, top-1 hits and rank
histograms add up exactly, sums of log p, entropy and KL to float rounding; the 95% bootstrap
intervals are drawn again over all sentences. Refuses, with one line naming the file, reports of
another model, tokenizer, plan, top-k, special-token rule, fast mode or mask-each setting, a
partial (cancelled) report, and overlapping or missing shards.
--json   the merged report
--csv    the merged per-layer summary with its intervals (the shards' per-cell CSVs
         are per sentence already: concatenate them without their header lines)`;

export async function runMergeCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { json: { type: 'string' }, csv: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(MERGE_USAGE);
    return 0;
  }
  if (positionals.length === 0) throw new UserError('give the shard reports to merge: layer-lens merge a.json b.json … --json all.json');
  if (!values.json && !values.csv) throw new UserError('say where the merged report goes: --json all.json (and/or --csv summary.csv)');
  checkOutputs([values.json, values.csv], undefined, positionals);
  const { report, rows } = mergeReports(positionals.map(readReportFile));
  const m = report.model;
  console.log(`${m.name} · plan ${report.planText} · ${rows.sentences} sentences from ${positionals.length} report(s)`);
  for (const w of report.warnings) console.log(`warning: ${w}`);
  console.log('');
  console.log(formatSummaryTable(report));
  if (values.json) {
    const out = new OutputFile(values.json);
    out.writeAll(reportJsonChunks(report, rows));
    out.commit();
  }
  if (values.csv) writeOutput(values.csv, summaryToCsv(report));
  return 0;
}
