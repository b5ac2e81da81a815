/**
 * The one message protocol between the extension host and the probe panel webview.
 * Both sides import this file; every message is a member of a union keyed on `type`, and every
 * switch over it ends in `assertNever`, so adding a message is a compile error until both sides
 * handle it. Handshake: the webview posts `ready` once it listens; only then does the host send
 * `state`. The host never pushes into a page that is not listening.
 */
import type { ProbeReport, TokenTrajectory } from '../core/probe/report';
import type { FinetuneResultsData } from './finetune';
import { bool, either, Infer, lit, num, obj, opt, Same, SameFields, str, tagged } from './schema';
import type { Statistic } from './heatmap';
import { SENTENCE_SORT_KEYS, type SentenceTableState } from './sentenceTable';

export type { FinetuneResultsData, ProbeReport };

/** One probe run as the panel keeps it. */
export interface PanelRun {
  id: string;
  /** Short label shown in pickers, e.g. "reference-bert-mini · 0-3 · 1 sentence". */
  label: string;
  /** Where the sentences came from. */
  source: 'input' | 'selection' | 'corpus' | 'api';
  createdAt: number;
  report: ProbeReport;
}

/** What the host owns and restores: the runs, newest last. */
export interface HostState {
  runs: PanelRun[];
  /** Run to show first; defaults to the newest. */
  focusRunId?: string;
  /** Run to compare against the focused one, when the host asks for a comparison. */
  compareRunId?: string;
}

export type View = 'layers' | 'summary' | 'chart' | 'sentences' | 'compare' | 'finetune';

/** What the webview persists with setState (and the serializer hands back after a reload). */
export interface WebviewState {
  host: HostState;
  ui: UiState;
  /** The fine-tuning comparison last shown, so it survives hide/show and a reload. */
  finetune?: FinetuneResultsData;
}

export interface UiState {
  runId?: string;
  compareRunId?: string;
  sentence: number;
  view: View;
  /** The host's focusRunId last acted on, so a new run switches the view once and only once. */
  seenFocusRunId?: string;
  /** The statistic that colours the grid (default log p(input)). */
  stat?: Statistic;
  /** Which cells the grid shows when the run masked each token in turn: the input as typed, or each token masked. */
  gridMode?: 'input' | 'pll';
  /** The Sentences table: sort column and direction, text filter, the two layers compared. */
  sentenceTable?: SentenceTableState;
  /** Show the h·attn rows (state after each attention block) where the run has them. */
  sublayers?: boolean;
}

/** What the host writes itself: the report's data, and the figures as SVG (chart; heatmap of one sentence; the trajectory it last computed for it). */
export type ExportFormat = 'csv' | 'summary-csv' | 'json' | 'svg' | 'heatmap-svg' | 'trajectory-svg';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['csv', 'summary-csv', 'json', 'svg', 'heatmap-svg', 'trajectory-svg'];
/** Figures the webview rasterizes (the host has no canvas) and sends as PNG bytes for the host to write. */
export type PngFigure = 'chart' | 'heatmap' | 'trajectory';
export const PNG_FIGURES: readonly PngFigure[] = ['chart', 'heatmap', 'trajectory'];
/** The fine-tuning learning curves, written as SVG (host-built) or PNG (the webview's raster of the same SVG). */
export type CurvesExport = 'curves-svg' | 'curves-png';
/** Largest PNG the host accepts from the webview, base64 characters (≈ 24 MB of PNG). */
export const MAX_PNG_BASE64 = 32_000_000;

// ── host → webview ────────────────────────────────────────────────────────────────────────
export type HostMessage =
  | { type: 'state'; state: HostState }
  /** The comparison of a fine-tuning run folder, re-sent whenever one of its results.json files changes. `focus` switches the view to it. */
  | { type: 'finetuneResults'; results: FinetuneResultsData; focus: boolean }
  | { type: 'exported'; format: ExportFormat | `${PngFigure}-png` | CurvesExport; file: string }
  /** The `layer-lens.fast` setting now (sent after `ready` and when it changes): the panel's fast-mode toggle shows it. */
  | { type: 'fastMode'; fast: boolean }
  /** A token followed through one sentence of a run, as asked for with `trajectory`. */
  | { type: 'trajectory'; runId: string; sentence: number; trajectory: TokenTrajectory }
  | { type: 'error'; message: string };

// ── webview → host ────────────────────────────────────────────────────────────────────────
export type WebviewMessage =
  | { type: 'ready' }
  /** `sentence` and `stat`: which sentence's heatmap, coloured by which statistic (heatmap-svg), or whose trajectory (trajectory-svg). */
  | { type: 'export'; format: ExportFormat; runId: string; compareRunId?: string; sentence?: number; stat?: Statistic }
  /** A figure the webview drew from the same SVG the host exports, rasterized: `png` is base64. */
  | { type: 'exportPng'; figure: PngFigure; runId: string; compareRunId?: string; sentence?: number; stat?: Statistic; png: string }
  /** The learning curves of the fine-tuning comparison the panel shows: SVG, or with `png` (base64) the webview's raster of it. */
  | { type: 'exportCurves'; png?: string }
  /** Re-runs a run; `mask` also masks one more token of one sentence ("mask this word"), `pll` masks each token in turn. */
  | { type: 'rerun'; runId: string; mask?: { sentence: number; position: number }; pll?: boolean; sublayers?: boolean }
  /** "Tuned lens…": the host asks for a lens folder and probes the run's sentences through it, compared with the run. */
  | { type: 'tunedLens'; runId: string }
  /** The fast-mode toggle: sets `layer-lens.fast`, which the next probe uses. */
  | { type: 'setFast'; fast: boolean }
  /** Follow a token (an id from a clicked cell, or a typed word) through one sentence of a run. */
  | { type: 'trajectory'; runId: string; sentence: number; token: number | string }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

export const PANEL_VIEW_TYPE = 'layerLens.probe';

export function assertNever(value: never, what = 'message'): never {
  throw new Error(`unhandled ${what}: ${JSON.stringify(value)}`);
}

// ── runtime schemas (the webview is another process: trust nothing it sends or saved) ──────
const id = () => str(200);
const STATISTIC_IDS = ['p', 'logp', 'rank', 'entropy', 'kl', 'top1p'] as const satisfies readonly Statistic[];
const VIEWS = ['layers', 'summary', 'chart', 'sentences', 'compare', 'finetune'] as const satisfies readonly View[];

export const uiStateSchema = obj({
  runId: opt(id()),
  compareRunId: opt(id()),
  sentence: num({ int: true, min: 0, max: 10_000_000 }),
  view: lit(...VIEWS),
  seenFocusRunId: opt(id()),
  stat: opt(lit(...STATISTIC_IDS)),
  gridMode: opt(lit('input', 'pll')),
  sublayers: opt(bool()),
  sentenceTable: opt(obj({
    sort: lit(...SENTENCE_SORT_KEYS),
    descending: bool(),
    filter: str(200),
    layerA: num({ int: true, min: 0, max: 10_000 }),
    layerB: num({ int: true, min: 0, max: 10_000 }),
  })),
});

/** Every inbound message, every field: e.g. `{type: 'log', level: 'dispose'}` is refused. */
export const webviewMessageSchema = tagged({
  ready: obj({}),
  export: obj({
    format: lit(...(EXPORT_FORMATS as readonly ExportFormat[])), runId: id(), compareRunId: opt(id()),
    sentence: opt(num({ int: true, min: 0, max: 10_000_000 })), stat: opt(lit(...STATISTIC_IDS)),
  }),
  exportPng: obj({
    figure: lit(...(PNG_FIGURES as readonly PngFigure[])), runId: id(), compareRunId: opt(id()),
    sentence: opt(num({ int: true, min: 0, max: 10_000_000 })), stat: opt(lit(...STATISTIC_IDS)), png: str(MAX_PNG_BASE64),
  }),
  exportCurves: obj({ png: opt(str(MAX_PNG_BASE64)) }),
  rerun: obj({
    runId: id(),
    mask: opt(obj({ sentence: num({ int: true, min: 0 }), position: num({ int: true, min: 0 }) })),
    pll: opt(bool()),
    sublayers: opt(bool()),
  }),
  tunedLens: obj({ runId: id() }),
  trajectory: obj({ runId: id(), sentence: num({ int: true, min: 0 }), token: either(num({ int: true, min: 0 }), str(200), 'a token id or a word') }),
  setFast: obj({ fast: bool() }),
  log: obj({ level: lit('info', 'warn', 'error'), message: str(10_000) }),
});

// Compile-time: the schemas and the protocol types say the same thing.
const messageSchemaMatches: Same<Infer<typeof webviewMessageSchema>, WebviewMessage> = true;
const uiSchemaMatches: SameFields<Infer<typeof uiStateSchema>, UiState> = true;
void messageSchemaMatches;
void uiSchemaMatches;

/** What is wrong with an inbound message (the first field that does not fit), or undefined. */
export function webviewMessageProblem(value: unknown): string | undefined {
  return webviewMessageSchema.check(value, '');
}

/** Runtime guard for what arrives from the webview. */
export function isWebviewMessage(value: unknown): value is WebviewMessage {
  return webviewMessageProblem(value) === undefined;
}

/** Runs the panel keeps by default (setting layer-lens.runsKept); RUNS_KEPT_LIMIT at most, so its state stays small enough to persist. */
export const MAX_RUNS = 8;
export const RUNS_KEPT_LIMIT = 50;

/**
 * Adds a run, dropping the oldest beyond `keep`, and gives it a label no kept run has (" · #2", …),
 * so two runs can always be told apart in Compare's pickers. `dropped`: the labels of runs dropped.
 */
export function addRun(state: HostState, run: PanelRun, compareWith?: string, keep = MAX_RUNS): HostState & { dropped: string[] } {
  const others = state.runs.filter((r) => r.id !== run.id);
  const runs = [...others, { ...run, label: uniqueLabel(run.label, others.map((r) => r.label)) }];
  const dropped: string[] = [];
  while (runs.length > Math.max(1, Math.min(keep, RUNS_KEPT_LIMIT))) dropped.push(runs.shift()!.label);
  const compareRunId = compareWith && runs.some((r) => r.id === compareWith) ? compareWith : undefined;
  return { runs, focusRunId: run.id, compareRunId, dropped };
}

function uniqueLabel(label: string, taken: string[]): string {
  if (!taken.includes(label)) return label;
  let n = 2;
  while (taken.includes(`${label} · #${n}`)) n++;
  return `${label} · #${n}`;
}
