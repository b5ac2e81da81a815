/**
 * Folds probe reports into one: the chunks of a streamed corpus run, or the shards `layer-lens
 * merge` reads. Aggregates add up exactly (counts, hits, histograms; sums to float error), rows are
 * kept in compact columns, full per-position cells only for the `fullSentences` sentences with the
 * smallest corpus indices, so memory stays bounded whatever the corpus length.
 */
import { BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, bootstrapIntervals, withIntervals } from './bootstrap';
import { addAggregates, cloneAggregates, summarizeAggregate } from './metrics';
import { CorpusInfo, FastModeInfo, LayerAggregate, ProbedSentence, ProbeReport, REPORT_SCHEMA_VERSION } from './report';
import { RowStore } from './rowStore';

/** The engine's warning when nothing is counted: judged on the whole run, not per chunk. */
export const NOTHING_COUNTED = 'every token is a special token, so the per-layer figures count nothing (NaN); include special tokens to count them';
const MAX_WARNINGS = 100;

export interface AccumulatedReport {
  /** The report without `rows` (they stay in `rows`, written out by the streaming JSON writer). */
  report: ProbeReport;
  rows: RowStore;
}

export class ReportAccumulator {
  private base: ProbeReport | undefined;
  private aggregates: LayerAggregate[] | undefined;
  private pllAggregates: LayerAggregate[] | undefined;
  private pllCost: ProbeReport['pllCost'];
  private rowStore: RowStore | undefined;
  private kept: ProbedSentence[] = [];
  private vocab: Record<number, string> = {};
  private warnings = new Set<string>();
  private extraWarnings = 0;
  private timing = { sessionMs: 0, runMs: 0, tokens: 0, peakRssMb: 0 };
  private fastParts: FastModeInfo[] = [];
  private droppedMaskSummary = false;

  /** `sessions`: 'shared' when the reports are chunks of one session (its time counts once), 'separate' for shards. */
  constructor(
    private readonly fullSentences: number,
    private readonly sessions: 'shared' | 'separate',
  ) {}

  get probed(): number {
    return this.rowStore?.sentences ?? 0;
  }

  add(report: ProbeReport): void {
    if (!report.aggregates || !report.rows) throw new Error('a report without aggregates cannot be accumulated');
    if (!this.base) {
      this.base = report;
      this.aggregates = cloneAggregates(report.aggregates);
      this.pllAggregates = report.pllAggregates && cloneAggregates(report.pllAggregates);
      this.pllCost = report.pllCost && { ...report.pllCost };
      this.rowStore = new RowStore(report.aggregates.length);
    } else {
      addAggregates(this.aggregates!, report.aggregates);
      if (this.pllAggregates && report.pllAggregates) addAggregates(this.pllAggregates, report.pllAggregates);
      if (this.pllCost && report.pllCost) {
        this.pllCost.sequences += report.pllCost.sequences;
        this.pllCost.tokens += report.pllCost.tokens;
        this.pllCost.runMs += report.pllCost.runMs;
      }
    }
    for (const row of report.rows) this.rowStore!.push(row);
    this.keepSentences(report);
    for (const w of report.warnings) {
      if (w === NOTHING_COUNTED || this.warnings.has(w)) continue;
      if (this.warnings.size < MAX_WARNINGS) this.warnings.add(w);
      else this.extraWarnings++;
    }
    const t = report.timing;
    this.timing.sessionMs = this.sessions === 'shared' ? Math.max(this.timing.sessionMs, t.sessionMs) : this.timing.sessionMs + t.sessionMs;
    this.timing.runMs += t.runMs;
    this.timing.tokens += t.tokens;
    this.timing.peakRssMb = Math.max(this.timing.peakRssMb, t.peakRssMb);
    if (report.fast) this.fastParts.push(report.fast);
    if (report.maskSummary) this.droppedMaskSummary = true;
  }

  /** The sentences with the smallest corpus indices, at most fullSentences of them, with their tokens' strings. */
  private keepSentences(report: ProbeReport): void {
    const room = this.fullSentences;
    if (room === 0) return;
    const last = this.kept.length === room ? this.kept[room - 1].index ?? Infinity : Infinity;
    const candidates = report.sentences.filter((s) => this.kept.length < room || (s.index ?? Infinity) < last);
    if (!candidates.length) return;
    this.kept = [...this.kept, ...candidates].sort((a, b) => (a.index ?? 0) - (b.index ?? 0)).slice(0, room);
    for (const s of candidates) for (const id of usedIds(s)) if (report.vocab[id] !== undefined) this.vocab[id] = report.vocab[id];
  }

  /** The report so far; `corpus` says which corpus and shard; `partial` when the run was cut short. */
  finish(corpus: Omit<CorpusInfo, 'probed' | 'fullSentences'>): AccumulatedReport {
    const base = this.base;
    if (!base || !this.aggregates || !this.rowStore) throw new Error('nothing was accumulated');
    const rows = this.rowStore;
    const twice = rows.sortByIndex();
    if (twice !== undefined) throw new Error(`sentence ${twice + 1} is held twice`);
    const plain = this.aggregates.map(summarizeAggregate);
    const summary = rows.sentences ? withIntervals(plain, bootstrapIntervals(rows)) : plain;
    const warnings = [...this.warnings];
    if (this.extraWarnings) warnings.push(`… and ${this.extraWarnings} more warning(s) like the above`);
    if (this.droppedMaskSummary) warnings.push('the masked-position summary is per run and was not merged');
    if (summary[0].count === 0) warnings.push(NOTHING_COUNTED);
    const used = new Set(this.kept.flatMap(usedIds));
    const vocab: Record<number, string> = {};
    for (const id of used) if (this.vocab[id] !== undefined) vocab[id] = this.vocab[id];
    const { rows: _rows, maskSummary: _mask, sentences: _s, ...rest } = base;
    const report: ProbeReport = {
      ...rest,
      schemaVersion: REPORT_SCHEMA_VERSION,
      sentences: this.kept,
      summary,
      aggregates: this.aggregates,
      corpus: { ...corpus, probed: rows.sentences, fullSentences: this.fullSentences },
      ...(rows.sentences ? { bootstrap: { resamples: BOOTSTRAP_RESAMPLES, seed: BOOTSTRAP_SEED, unit: 'sentence' as const, estimator: 'ratio of sums' as const, interval: 'percentile 2.5/97.5' as const } } : {}),
      vocab,
      warnings,
      timing: { ...this.timing },
      ...(this.pllAggregates ? { pllAggregates: this.pllAggregates, pllSummary: this.pllAggregates.map(summarizeAggregate), pllCost: this.pllCost } : {}),
      ...(this.fastParts.length ? { fast: mergeFast(this.fastParts) } : {}),
    };
    return { report, rows };
  }
}

function usedIds(s: ProbedSentence): number[] {
  const ids = [...s.ids];
  for (const m of s.masks ?? []) if (m.gold !== undefined) ids.push(m.gold);
  for (const layer of [...s.layers, ...(s.pll ?? [])]) for (const k of layer.topKIds) for (const id of k) if (Number.isFinite(id)) ids.push(id);
  return ids;
}

/** Fast-mode calibration pooled over parts: agreements and means weighted by cells, maxima the largest. */
function mergeFast(parts: FastModeInfo[]): FastModeInfo {
  const cells = parts.reduce((n, p) => n + p.calibration.cells, 0);
  const weighted = (key: 'top1Agreement' | 'topKAgreement' | 'meanAbsInputLogProb') =>
    cells ? parts.reduce((n, p) => n + (p.calibration.cells ? p.calibration[key] * p.calibration.cells : 0), 0) / cells : NaN;
  const max = (key: 'maxAbsInputLogProb' | 'maxAbsTopKLogProb' | 'maxAbsEntropy' | 'maxAbsKl' | 'maxAbsRank') => parts.reduce((m, p) => Math.max(m, p.calibration[key]), 0);
  return {
    ...parts[0],
    calibration: {
      cells,
      top1Agreement: weighted('top1Agreement'),
      topKAgreement: weighted('topKAgreement'),
      maxAbsInputLogProb: max('maxAbsInputLogProb'),
      meanAbsInputLogProb: weighted('meanAbsInputLogProb'),
      maxAbsTopKLogProb: max('maxAbsTopKLogProb'),
      maxAbsEntropy: max('maxAbsEntropy'),
      maxAbsKl: max('maxAbsKl'),
      maxAbsRank: max('maxAbsRank'),
    },
  };
}
