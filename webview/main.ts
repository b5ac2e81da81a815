/**
 * The probe panel. State flow: on load, render what setState kept (hide/show, reload), then say
 * `ready`; the host answers with its runs. Every UI change is saved with setState.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import './style.css';
import { inDisplayOrder, summaryRows, type LayerCells, type LayerSummary, type ProbeReport, type ProbedSentence, type TokenTrajectory } from '../src/core/probe/report';
import { buildChart, ChartSeries, ChartSubject, chartSubject, compareSeries, compareSubject, EXPORT_COLORS, svgToString, THEME_COLORS, type SvgNode as SvgChild } from '../src/shared/chart';
import { buildFinetuneCurves } from '../src/shared/finetuneChart';
import { buildHeatmapFigure } from '../src/shared/heatmapFigure';
import { buildTrajectoryFigure } from '../src/shared/trajectoryFigure';
import { finetuneSummary, finetuneTableModel, type Cell } from '../src/shared/finetune';
import { diffSummaries, displayToken, fmtNum, fmtPct, matchingSentence } from '../src/shared/format';
import { diffColor, DiffRow, diffScale, tokenDiffGrid } from '../src/shared/compareGrid';
import {
  assertNever, CurvesExport, ExportFormat, FinetuneResultsData, PngFigure, HostMessage, HostState, PanelRun, UiState, View, WebviewMessage, WebviewState,
} from '../src/shared/protocol';
import { clear, h, svgToDom } from './dom';
import { fastNote, fastToggle } from './fastMode';
import { summaryColumnName } from '../src/shared/fastMode';
import { hideTip, paint, renderGrid } from './grid';
import { defaultSentenceTable, SentenceSortKey, SentenceTableState, sentenceTableRows, sortAndFilter } from '../src/shared/sentenceTable';
import { colorAt, textOn, DEFAULT_STATISTIC, legendTicks, scaleOf, Statistic, STATISTICS, statDomain, statisticInfo, statValue } from '../src/shared/heatmap';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): WebviewState | undefined;
  setState(state: WebviewState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const app = document.getElementById('app')!;
const saved = vscode.getState();
let host: HostState = saved?.host ?? { runs: [] };
let ui: UiState = saved?.ui ?? { sentence: 0, view: 'layers' };
let finetune: FinetuneResultsData | undefined = saved?.finetune;
let status: { text: string; error?: boolean } | undefined;
const EXPORT_NAMES: Record<ExportFormat | `${PngFigure}-png` | CurvesExport, string> = {
  csv: 'CSV', 'summary-csv': 'summary CSV', json: 'JSON', svg: 'chart SVG', 'heatmap-svg': 'heatmap SVG', 'trajectory-svg': 'trajectory SVG',
  'chart-png': 'chart PNG', 'heatmap-png': 'heatmap PNG', 'trajectory-png': 'trajectory PNG', 'curves-svg': 'learning curves SVG', 'curves-png': 'learning curves PNG',
};
/** The `layer-lens.fast` setting, as the host last said (undefined until it has). */
let fastSetting: boolean | undefined;
/** The token last followed through a sentence (kept in memory; asked for again after a reload). */
let followed: { runId: string; sentence: number; data: TokenTrajectory } | undefined;

const VIEWS: { id: View; label: string }[] = [
  { id: 'layers', label: 'Layers' },
  { id: 'summary', label: 'Summary' },
  { id: 'chart', label: 'Chart' },
  { id: 'sentences', label: 'Sentences' },
  { id: 'compare', label: 'Compare' },
  { id: 'finetune', label: 'Fine-tune' },
];

/** The tabs that have something to show: "Fine-tune" only once fine-tuning results arrived. */
function views(): { id: View; label: string }[] {
  return VIEWS.filter((v) => v.id !== 'finetune' || finetune);
}

function post(m: WebviewMessage): void {
  vscode.postMessage(m);
}

function save(): void {
  // The UI choices live in the webview's own saved state; the host needs none of them.
  vscode.setState({ host, ui, ...(finetune ? { finetune } : {}) });
}

function setUi(patch: Partial<UiState>): void {
  ui = { ...ui, ...patch };
  save();
  render();
}

window.addEventListener('message', (event: MessageEvent<HostMessage>) => {
  const m = event.data;
  switch (m.type) {
    case 'state': {
      host = m.state;
      const focus = host.focusRunId ?? host.runs[host.runs.length - 1]?.id;
      if (focus && focus !== ui.seenFocusRunId) {
        // A new run arrived: show it (or the comparison the host asked for) once.
        ui = { ...ui, runId: focus, seenFocusRunId: focus, sentence: 0, compareRunId: host.compareRunId ?? ui.compareRunId, view: host.compareRunId ? 'compare' : ui.view === 'compare' || ui.view === 'finetune' ? 'layers' : ui.view };
      }
      if (!host.runs.some((r) => r.id === ui.runId)) ui.runId = focus;
      save();
      render();
      return;
    }
    case 'finetuneResults':
      finetune = m.results;
      if (m.focus) ui = { ...ui, view: 'finetune' };
      save();
      render();
      return;
    case 'fastMode':
      fastSetting = m.fast;
      render();
      return;
    case 'exported':
      status = { text: `Saved ${EXPORT_NAMES[m.format]} to ${m.file}` };
      render();
      return;
    case 'trajectory':
      followed = { runId: m.runId, sentence: m.sentence, data: m.trajectory };
      status = undefined;
      render();
      return;
    case 'error':
      status = { text: m.message, error: true };
      render();
      return;
    default:
      assertNever(m);
  }
});

function currentRun(): PanelRun | undefined {
  return host.runs.find((r) => r.id === ui.runId) ?? host.runs[host.runs.length - 1];
}

function compareRun(run: PanelRun): PanelRun | undefined {
  const other = host.runs.find((r) => r.id === ui.compareRunId && r.id !== run.id);
  return other ?? [...host.runs].reverse().find((r) => r.id !== run.id);
}

function render(): void {
  hideTip();
  const focusedCell = document.activeElement?.closest?.('table.grid td.cell[data-l]');
  const refocus = focusedCell ? { l: focusedCell.getAttribute('data-l'), p: focusedCell.getAttribute('data-p') } : undefined;
  clear(app);
  const run = currentRun();
  if (finetune && (!run || ui.view === 'finetune')) {
    // The fine-tuning comparison: its own header; the tabs lead back to the probe views when there are probes.
    app.appendChild(finetuneHeader(finetune));
    if (status) app.appendChild(h('p', { class: status.error ? 'status error' : 'status', role: 'status' }, status.text));
    if (run) app.appendChild(tabs());
    const panel = h('section', { role: run ? 'tabpanel' : 'region', id: 'panel-finetune', 'aria-labelledby': run ? 'tab-finetune' : 'finetune-title', class: 'tabpanel' });
    panel.appendChild(finetuneView(finetune));
    app.appendChild(panel);
    return;
  }
  if (!run) {
    app.appendChild(h('p', { class: 'empty' }, 'No probe yet. Run "Layer Lens: Probe Layers…" from the command palette or the explorer.'));
    return;
  }
  if (ui.view === 'finetune') ui = { ...ui, view: 'layers' };
  const report = run.report;
  app.appendChild(header(run));
  const note = fastNote(report);
  if (note) app.appendChild(note);
  if (report.warnings.length) app.appendChild(h('ul', { class: 'warnings' }, ...report.warnings.map((w) => h('li', {}, w))));
  if (status) app.appendChild(h('p', { class: status.error ? 'status error' : 'status', role: 'status' }, status.text));
  app.appendChild(tabs());
  const panel = h('section', { role: 'tabpanel', id: `panel-${ui.view}`, 'aria-labelledby': `tab-${ui.view}`, class: 'tabpanel' });
  switch (ui.view) {
    case 'layers': panel.appendChild(layersView(run)); break;
    case 'summary': panel.appendChild(summaryTable(report)); break;
    case 'chart': panel.appendChild(chartView([{ name: run.label, summary: report.summary }], chartSubject(report), figureExports('chart', run))); break;
    case 'sentences': panel.appendChild(sentencesView(report)); break;
    case 'compare': panel.appendChild(compareView(run)); break;
    case 'finetune': break; // rendered above, with its own header

    default: assertNever(ui.view, 'view');
  }
  app.appendChild(panel);
  if (refocus) {
    // The grid's own cell: the trajectory and difference tables carry data-l / data-p too.
    const again = app.querySelector<HTMLElement>(`table.grid td.cell[data-l="${refocus.l}"][data-p="${refocus.p}"]`);
    if (again) {
      app.querySelectorAll<HTMLElement>('td[tabindex="0"]').forEach((c) => (c.tabIndex = -1));
      again.tabIndex = 0;
      again.focus();
    }
  }
}

/** SVG and PNG buttons for a figure, shown next to it: the chart (with Compare's baseline) or the current sentence's heatmap. */
const FIGURE_SVG: Record<PngFigure, { format: ExportFormat; label: string }> = {
  chart: { format: 'svg', label: 'Chart SVG' },
  heatmap: { format: 'heatmap-svg', label: 'Heatmap SVG' },
  trajectory: { format: 'trajectory-svg', label: 'Trajectory SVG' },
};

function figureExports(which: PngFigure, run: PanelRun, compareRunId?: string): HTMLElement {
  const figure = { sentence: Math.min(ui.sentence, run.report.sentences.length - 1), stat: currentStat() };
  const { format, label } = FIGURE_SVG[which];
  return h('span', { class: 'figure-exports', role: 'group', 'aria-label': `Export the ${which}` },
    h('vscode-button', { secondary: true, 'data-export': format, title: `The ${which} as SVG, for papers`, onclick: () => post({ type: 'export', format, runId: run.id, compareRunId, ...(which === 'chart' ? {} : figure) }) }, label),
    h('vscode-button', { secondary: true, 'data-export': `${which}-png`, title: `The ${which} as PNG (twice the size)`, onclick: () => void exportPng(which, run, compareRunId, figure) }, 'PNG'));
}

/**
 * Draws the same SVG the host exports (export colours, not the theme's) onto a canvas at twice its
 * size and sends the PNG to the host to write: the host has no canvas.
 */
async function exportPng(which: PngFigure, run: PanelRun, compareRunId: string | undefined, figure: { sentence: number; stat: Statistic }): Promise<void> {
  const other = compareRunId ? host.runs.find((r) => r.id === compareRunId) : undefined;
  const followedHere = followed && followed.runId === run.id && followed.sentence === figure.sentence ? followed.data : undefined;
  if (which === 'trajectory' && !followedHere) return;
  const tree = which === 'chart'
    ? buildChart(other ? compareSeries(run, other) : [{ name: run.label, summary: run.report.summary }], EXPORT_COLORS, other ? compareSubject(run.report, other.report) : chartSubject(run.report))
    : which === 'heatmap'
      ? buildHeatmapFigure(run.report, figure.sentence, figure.stat)
      : buildTrajectoryFigure(run.report.sentences[figure.sentence], followedHere!, run.report.model.vocabSize, { ink: EXPORT_COLORS.text, figure: { report: run.report, background: EXPORT_COLORS.background! } });
  try {
    const png = await rasterize(svgToString(tree), Number(tree.attrs.width), Number(tree.attrs.height), 2);
    post({ type: 'exportPng', figure: which, runId: run.id, compareRunId, ...(which === 'chart' ? {} : figure), png });
  } catch (e) {
    status = { text: `Could not draw the ${which} PNG: ${(e as Error).message}`, error: true };
    render();
  }
}

/** The learning curves as SVG (the host draws it from its own copy of the results) or PNG (this page rasterizes the same drawing). */
function curvesExports(data: FinetuneResultsData): HTMLElement {
  const png = async () => {
    const tree = buildFinetuneCurves(data, EXPORT_COLORS);
    try {
      post({ type: 'exportCurves', png: await rasterize(svgToString(tree), Number(tree.attrs.width), Number(tree.attrs.height), 2) });
    } catch (e) {
      status = { text: `Could not draw the learning-curves PNG: ${(e as Error).message}`, error: true };
      render();
    }
  };
  return h('span', { class: 'figure-exports', role: 'group', 'aria-label': 'Export the learning curves' },
    h('vscode-button', { secondary: true, 'data-export': 'curves-svg', title: 'The learning curves as SVG, for papers', onclick: () => post({ type: 'exportCurves' }) }, 'Curves SVG'),
    h('vscode-button', { secondary: true, 'data-export': 'curves-png', title: 'The learning curves as PNG (twice the size)', onclick: () => void png() }, 'PNG'));
}

async function rasterize(svg: string, width: number, height: number, scale: number): Promise<string> {
  const img = new Image();
  img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2D canvas');
  ctx.scale(scale, scale);
  ctx.drawImage(img, 0, 0, width, height);
  return canvas.toDataURL('image/png').replace(/^data:image\/png;base64,/, '');
}

function header(run: PanelRun): HTMLElement {
  const r = run.report;
  const runSelect = select(
    'Run',
    host.runs.map((x) => ({ value: x.id, label: x.label })).reverse(),
    run.id,
    (v) => setUi({ runId: v, sentence: 0 }),
  );
  const exportButton = (format: ExportFormat, label: string) =>
    h('vscode-button', { secondary: true, 'data-export': format, onclick: () => post({ type: 'export', format, runId: run.id, compareRunId: ui.view === 'compare' ? compareRun(run)?.id : undefined }) }, label);
  return h(
    'header',
    { class: 'head' },
    h('div', { class: 'title' },
      h('h1', {}, r.model.name),
      h('vscode-badge', { variant: 'counter' }, `${r.plan.length} layers`),
      h('span', { class: 'meta' }, `${r.model.family} · ${r.model.dtype} · plan ${r.planText} · top-${r.topK} · ${r.sentences.length} sentence${r.sentences.length === 1 ? '' : 's'}, ${r.timing.tokens} tokens · ${Math.round(r.timing.runMs)} ms${r.fast ? ' · fast' : ''}${r.backend ? ` · PyTorch ${r.backend.device} ${r.backend.dtype}${r.backend.processes > 1 ? ` × ${r.backend.processes} processes` : ''}` : ''}`),
      r.lens ? h('vscode-badge', { variant: 'default', 'data-testid': 'lens-badge', title: `every state but the last read through its translator: ${r.lens.dir}, ${r.lens.steps} steps on ${r.lens.corpus}` }, 'tuned lens') : null,
    ),
    h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Run and export' },
      runSelect,
      exportButton('csv', 'Export CSV'),
      exportButton('summary-csv', 'Summary CSV'),
      exportButton('json', 'JSON'),
      h('vscode-button', { secondary: true, onclick: () => post({ type: 'rerun', runId: run.id }) }, 'Re-run'),
      h('vscode-button', { secondary: true, 'data-action': 'tuned-lens', title: 'Probe these sentences through a tuned lens (a folder made by "Layer Lens: Train Tuned Lens…") and compare it with this run', onclick: () => post({ type: 'tunedLens', runId: run.id }) }, 'Tuned lens…'),
      fastToggle(fastSetting, (fast) => post({ type: 'setFast', fast })),
    ),
  );
}

function select(label: string, options: { value: string; label: string }[], value: string | undefined, onChange: (v: string) => void): HTMLElement {
  const el = h('vscode-single-select', { 'aria-label': label, class: 'picker' }) as HTMLElement & { value: string };
  for (const o of options) {
    const opt = h('vscode-option', { value: o.value }, o.label);
    if (o.value === value) opt.setAttribute('selected', '');
    el.appendChild(opt);
  }
  el.addEventListener('change', () => onChange(el.value));
  return h('label', { class: 'picker-label' }, h('span', {}, `${label} `), el);
}

function tabs(): HTMLElement {
  const list = h('div', { role: 'tablist', class: 'tabs', 'aria-label': 'Views' });
  const VIEWS = views();
  VIEWS.forEach((v, i) => {
    const selected = v.id === ui.view;
    const n = v.id === 'sentences' ? currentRun()?.report.sentences.length : undefined;
    list.appendChild(
      h('button', {
        role: 'tab', id: `tab-${v.id}`, class: selected ? 'tab selected' : 'tab', 'aria-selected': selected ? 'true' : 'false',
        'aria-controls': `panel-${v.id}`, tabindex: selected ? 0 : -1, 'data-view': v.id,
        onclick: () => setUi({ view: v.id }),
        onkeydown: (e: Event) => {
          const key = (e as KeyboardEvent).key;
          const d = key === 'ArrowRight' ? 1 : key === 'ArrowLeft' ? -1 : 0;
          if (!d) return;
          e.preventDefault();
          const next = VIEWS[(i + d + VIEWS.length) % VIEWS.length].id;
          setUi({ view: next });
          document.getElementById(`tab-${next}`)?.focus();
        },
      }, v.label, n !== undefined && n > 1 ? ` (${n})` : ''),
    );
  });
  return list;
}

function sentenceNav(report: ProbeReport): HTMLElement | null {
  const n = report.sentences.length;
  if (n <= 1) return null;
  const i = Math.min(ui.sentence, n - 1);
  return h('div', { class: 'sentence-nav' },
    h('vscode-button', { secondary: true, disabled: i === 0, onclick: () => setUi({ sentence: i - 1 }), 'aria-label': 'Previous sentence' }, '‹'),
    h('span', {}, `Sentence ${i + 1} of ${n}`),
    h('vscode-button', { secondary: true, disabled: i === n - 1, onclick: () => setUi({ sentence: i + 1 }), 'aria-label': 'Next sentence' }, '›'),
  );
}

/** Inputs longer than this get a zoomed-out overview of the whole grid above it. */
const OVERVIEW_MIN_TOKENS = 40;

function currentStat(): Statistic {
  return ui.stat ?? DEFAULT_STATISTIC;
}

function layersView(run: PanelRun): HTMLElement {
  const report = run.report;
  const si = Math.min(ui.sentence, report.sentences.length - 1);
  const s = report.sentences[si];
  const stat = currentStat();
  const domain = statDomain(report, stat);
  const pllMode = ui.gridMode === 'pll' && s.pll !== undefined;
  const caption = pllMode
    ? `Each token masked in turn: top-1 of the MLM head at each layer when that token alone is masked; colour: ${statisticInfo(stat).label}`
    : `Top-1 prediction of the MLM head at each layer (rows) for each input token (columns); colour: ${statisticInfo(stat).label}`;
  // The h·attn rows go between the layer rows when asked for and the run has them (not in the masked-in-turn grid).
  const withSub = ui.sublayers === true && s.sublayers !== undefined && !pllMode;
  const cells = pllMode ? s.pll! : withSub ? inDisplayOrder(s.layers, s.sublayers) : s.layers;
  const rows = withSub ? summaryRows(report) : report.summary;
  const grid = renderGrid(report, s, { caption: withSub ? `${caption}; h·attn rows: after each layer's attention block, before its MLP` : caption, idPrefix: 'main', stat, domain, cells, rows });
  const gridScroll = h('div', { class: 'scroll grid-scroll', 'data-testid': 'grid-scroll' }, grid);
  return h('div', { class: 'layers' },
    sentenceNav(report),
    sentenceLine(s),
    h('div', { class: 'heat-controls' },
      select('Colour', STATISTICS.map((x) => ({ value: x.id, label: x.label })), stat, (v) => setUi({ stat: v as Statistic })),
      sublayerToggle(run),
      figureExports('heatmap', run),
      legend(report, stat)),
    maskToolbar(run, si, grid, cells, rows),
    s.ids.length > OVERVIEW_MIN_TOKENS || s.truncatedFrom ? overview(report, s, stat, gridScroll) : null,
    gridScroll,
    h('h2', {}, 'Per-layer summary'),
    summaryTable(report, withSub ? rows : report.summary),
    trajectorySection(run, si),
    masksSection(report, s),
    pllSection(report),
  );
}

/**
 * Token trajectories (ecco's rankings_watch): type a word or follow a selected cell's top-1; its
 * rank (log scale) across the layers at every position, as small multiples, and the numbers.
 */
function trajectorySection(run: PanelRun, si: number): HTMLElement {
  const report = run.report;
  const s = report.sentences[si];
  const input = h('input', { type: 'text', id: 'follow-word', 'aria-label': 'Token to follow', placeholder: 'a token, e.g. cat', class: 'follow-input' }) as HTMLInputElement;
  const go = () => { if (input.value.trim()) post({ type: 'trajectory', runId: run.id, sentence: si, token: input.value.trim() }); };
  input.addEventListener('keydown', (e) => { if ((e as KeyboardEvent).key === 'Enter') go(); });
  const out = h('div', { class: 'trajectory', 'data-testid': 'trajectory' },
    h('h2', {}, 'Token trajectory'),
    h('div', { class: 'follow' }, h('label', { for: 'follow-word' }, 'Follow '), input,
      h('vscode-button', { secondary: true, 'data-action': 'follow', onclick: go }, 'Follow'),
      h('span', { class: 'note' }, ' or select a cell and press "Follow its top-1": its rank and probability at every layer and position.')));
  const t = followed && followed.runId === run.id && followed.sentence === si ? followed.data : undefined;
  if (!t) return out;
  const L = t.rank.length;
  out.appendChild(h('figure', { class: 'trajectory-chart' },
    figureExports('trajectory', run),
    svgToDom(buildTrajectoryFigure(s, t, report.model.vocabSize, { ink: 'currentColor' })),
    h('figcaption', {}, `Rank of "${t.tokenText}" (id ${t.token}) across the layers (left to right, h0 to h${L - 1}) at each position; log scale, rank 1 at the dashed line.`)));
  const table = h('table', { class: 'summary trajectory-table', 'data-testid': 'trajectory-table' });
  table.appendChild(h('caption', {}, `"${t.tokenText}": rank and probability at each layer and position`));
  table.appendChild(h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'layer'), ...s.tokens.map((tok) => h('th', { scope: 'col' }, displayToken(tok))))));
  table.appendChild(h('tbody', {}, ...t.rank.map((row, l) => h('tr', {}, h('th', { scope: 'row' }, `h${l}`),
    ...row.map((r, p) => h('td', { class: 'num', 'data-l': l, 'data-p': p }, typeof r === 'number' && Number.isFinite(r) ? `${r} (${fmtPct(Math.exp(t.logProb[l][p]))})` : '–'))))));
  out.appendChild(h('div', { class: 'scroll' }, table));
  return out;
}

/**
 * The sub-layer lens toggle: shows the h·attn rows (the state after each layer's attention block,
 * before its MLP). A run probed without them is probed again with them; a tuned-lens run has no
 * translators for those states, so the toggle is off there and says why.
 */
function sublayerToggle(run: PanelRun): HTMLElement {
  const report = run.report;
  const box = h('input', { type: 'checkbox', id: 'sublayers', 'data-testid': 'sublayer-toggle' }) as HTMLInputElement;
  box.checked = ui.sublayers === true && report.sublayerSummary !== undefined;
  box.disabled = report.lens !== undefined;
  box.addEventListener('change', () => {
    if (box.checked && !report.sublayerSummary) post({ type: 'rerun', runId: run.id, sublayers: true });
    setUi({ sublayers: box.checked });
  });
  const title = report.lens
    ? 'The tuned lens has translators for the layer outputs only; sub-layer rows need the raw lens'
    : report.sublayerSummary
      ? 'Show the state after each attention block (h·attn) between the layer rows'
      : 'Probe this run again with the state after each attention block (h·attn rows)';
  return h('label', { class: 'fast-toggle', for: 'sublayers', title }, box, ' Sub-layers (h·attn)');
}

/**
 * The selected token (the grid's focused cell) and what can be done with it: mask it, or mask each
 * token in turn, with what that costs; and the switch between the typed and the masked-in-turn grid.
 */
function maskToolbar(run: PanelRun, si: number, grid: HTMLElement, cells: LayerCells[], rows: LayerSummary[]): HTMLElement {
  const report = run.report;
  const s = report.sentences[si];
  const counted = s.ids.filter((_, p) => (report.includeSpecial || !s.special[p]) && !s.masks?.some((m) => m.position === p)).length;
  const sequences = report.sentences.reduce((n, x) => n + x.ids.filter((_, p) => (report.includeSpecial || !x.special[p]) && !x.masks?.some((m) => m.position === p)).length, 0);
  const tokens = report.sentences.reduce((n, x) => n + x.ids.filter((_, p) => (report.includeSpecial || !x.special[p]) && !x.masks?.some((m) => m.position === p)).length * x.ids.length, 0);
  const picked = h('span', { class: 'picked', 'data-testid': 'picked' }, 'Selected: none (click a cell)');
  let position = -1;
  const maskButton = h('vscode-button', { secondary: true, disabled: true, 'data-action': 'mask', onclick: () => { if (position >= 0) post({ type: 'rerun', runId: run.id, mask: { sentence: si, position } }); } }, 'Mask this word');
  let top1: number | undefined;
  const followButton = h('vscode-button', { secondary: true, disabled: true, 'data-action': 'follow-top1', onclick: () => { if (top1 !== undefined) post({ type: 'trajectory', runId: run.id, sentence: si, token: top1 }); } }, 'Follow its top-1');
  const choose = (p: number, l: number) => {
    position = p;
    const cellTop1 = cells[l]?.top1[p];
    top1 = typeof cellTop1 === 'number' && Number.isFinite(cellTop1) ? cellTop1 : undefined;
    if (top1 !== undefined) followButton.removeAttribute('disabled'); else followButton.setAttribute('disabled', '');
    const m = s.masks?.find((x) => x.position === p);
    const can = !s.special[p] && !m;
    picked.textContent = `Selected: "${displayToken(s.tokens[p])}" (token ${p}) at ${rows[l]?.label ?? `h${l}`}${top1 !== undefined ? `, top-1 "${displayToken(tokenText(report, top1))}"` : ''}${m ? ', already masked' : s.special[p] ? ', a special token' : ''}`;
    if (can) maskButton.removeAttribute('disabled'); else maskButton.setAttribute('disabled', '');
  };
  grid.addEventListener('focusin', (e) => {
    const cell = (e.target as HTMLElement).closest('td[data-p]');
    if (cell) choose(Number(cell.getAttribute('data-p')), Number(cell.getAttribute('data-l')));
  });
  const pllButton = report.pllSummary
    ? null
    : h('vscode-button', { secondary: true, 'data-action': 'pll', title: 'One extra sequence per counted token: a batch per sentence', onclick: () => post({ type: 'rerun', runId: run.id, pll: true }) },
      `Mask each token in turn (${sequences} sequence${sequences === 1 ? '' : 's'}, ${tokens} tokens)`);
  const modes = s.pll
    ? select('Grid', [{ value: 'input', label: 'as typed' }, { value: 'pll', label: `each token masked in turn (${counted} sequences)` }], ui.gridMode ?? 'input', (v) => setUi({ gridMode: v as 'input' | 'pll' }))
    : null;
  return h('div', { class: 'mask-toolbar', role: 'toolbar', 'aria-label': 'Selected token' }, picked, maskButton, followButton, pllButton, modes);
}

/** Per mask of this sentence: the top-k at each layer; and the masked positions' own summary over the run. */
function masksSection(report: ProbeReport, s: ProbedSentence): HTMLElement | null {
  if (!s.masks?.length && !report.maskSummary) return null;
  const out = h('div', { class: 'masks', 'data-testid': 'masks' }, h('h2', {}, `Masked positions (${report.maskToken ?? 'mask token'})`));
  for (const m of s.masks ?? []) {
    const gold = m.gold !== undefined ? tokenText(report, m.gold) : undefined;
    const t = h('table', { class: 'summary mask-topk', 'data-testid': 'mask-topk', 'data-position': m.position });
    t.appendChild(h('caption', {}, `Token ${m.position}: top-${report.topK} at each layer; ${gold !== undefined ? `gold "${gold}" (bold)` : 'target unknown'}${m.source === 'masked' ? ` · masked from "${gold}"` : ''}`));
    t.appendChild(h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'layer'), ...Array.from({ length: report.topK }, (_, k) => h('th', { scope: 'col' }, `top-${k + 1}`)),
      m.gold !== undefined ? h('th', { scope: 'col' }, 'gold rank') : null, m.gold !== undefined ? h('th', { scope: 'col' }, 'p(gold)') : null)));
    const body = h('tbody');
    s.layers.forEach((cells, l) => {
      body.appendChild(h('tr', {}, h('th', { scope: 'row' }, report.summary[l]?.label ?? `h${l}`),
        ...cells.topKIds[m.position].map((id, k) => h('td', { class: id === m.gold ? 'gold' : '' }, `${displayToken(tokenText(report, id))} `, h('span', { class: 'pr' }, fmtPct(Math.exp(cells.topKLogProbs[m.position][k]))))),
        m.gold !== undefined ? h('td', { class: 'num' }, String(cells.rank[m.position])) : null,
        m.gold !== undefined ? h('td', { class: 'num' }, fmtPct(Math.exp(cells.inputLogProb[m.position]))) : null));
    });
    t.appendChild(body);
    out.appendChild(h('div', { class: 'scroll' }, t));
  }
  if (report.maskSummary) {
    out.appendChild(summaryTable(report, report.maskSummary, `Masked positions with a gold token, per layer, over ${report.maskSummary[0]?.count ?? 0} position(s): accuracy, log p and rank of the gold`, 'mask-summary'));
  }
  return out;
}

/** The per-layer pseudo-log-likelihood of the run, with what it cost. */
function pllSection(report: ProbeReport): HTMLElement | null {
  if (!report.pllSummary || !report.pllCost) return null;
  const c = report.pllCost;
  const pll = report.pllSummary.map((x) => `${x.label} ${fmtNum(x.meanLogProb * x.count)}`).join(' · ');
  return h('div', { class: 'pll', 'data-testid': 'pll' },
    h('h2', {}, 'Each token masked in turn (pseudo-log-likelihood)'),
    h('p', { class: 'note', 'data-testid': 'pll-cost' }, `Cost: ${c.sequences} extra sequences, ${c.tokens} tokens, ${Math.round(c.runMs)} ms (one sequence per counted token, a batch per sentence).`),
    summaryTable(report, report.pllSummary, `Per layer, over ${report.pllSummary[0]?.count ?? 0} positions each masked alone: accuracy, log p and rank of the input token`, 'pll-summary'),
    h('p', { 'data-testid': 'pll-sums' }, `PLL (sum of log p): ${pll}`),
  );
}

function tokenText(report: ProbeReport, id: number): string {
  return report.vocab[id] ?? `[${id}]`;
}

function sentenceLine(s: ProbedSentence): HTMLElement {
  // A long text is clamped to two lines (it used to push the grid below the fold); a toggle shows it all.
  const long = s.text.length + (s.pair?.length ?? 0) > 240;
  const line = h('p', { class: long ? 'sentence clamped' : 'sentence', 'data-testid': 'sentence' }, h('span', { class: 'label' }, 'Input: '), s.text, s.pair !== undefined ? h('span', { class: 'pair' }, ' ||| ', s.pair) : null);
  const note = s.truncatedFrom
    ? h('p', { class: 'note truncation', 'data-testid': 'truncation' }, `Probed the first ${s.ids.length} of ${s.truncatedFrom} tokens; the cut is marked ⟩ in the overview and on the last column.`)
    : null;
  if (!long) return h('div', {}, line, note);
  const toggle = h('button', { class: 'link', type: 'button', 'aria-expanded': 'false' }, `Show all ${s.text.length.toLocaleString('en-US')} characters`);
  toggle.addEventListener('click', () => {
    const open = line.classList.toggle('clamped') === false;
    toggle.setAttribute('aria-expanded', String(open));
    toggle.textContent = open ? 'Show less' : `Show all ${s.text.length.toLocaleString('en-US')} characters`;
  });
  return h('div', {}, line, toggle, note);
}

function legend(report: ProbeReport, stat: Statistic): HTMLElement {
  const info = statisticInfo(stat);
  const domain = statDomain(report, stat);
  const steps = h('span', { class: 'scale', 'aria-hidden': 'true' });
  const N = 9;
  for (let i = 0; i < N; i++) {
    const sw = h('span', { class: 'swatch' });
    paint(sw, i / (N - 1));
    steps.appendChild(sw);
  }
  const ticks = h('span', { class: 'ticks', 'aria-hidden': 'true' });
  const tickList = legendTicks(stat, domain);
  for (const t of tickList) {
    const tick = h('span', { class: 'tick' }, t.label);
    tick.style.left = `${(t.t * 100).toFixed(1)}%`;
    ticks.appendChild(tick);
  }
  const ends = info.better === 'high' ? 'bright = higher' : 'bright = lower (closer to the input or the final layer)';
  return h('div', { class: 'legend', 'data-testid': 'legend', 'aria-label': `Colour scale for ${info.label}: from ${tickList[0].label} to ${tickList[tickList.length - 1].label}${info.scale === 'log' ? ', log scale' : ''}` },
    h('span', { class: 'legend-title' }, `${info.label}${info.scale === 'log' ? ' (log scale)' : ''}: `),
    h('span', { class: 'legend-bar' }, steps, ticks),
    h('span', { class: 'legend-text' },
      ` ${ends}. Cell: top-1 token; `, h('span', { class: 'legend-mark hit' }, '✓'), ' it is the input, ', h('span', { class: 'legend-mark miss' }, '≠'), ' it is not',
      report.includeSpecial ? '' : '; dimmed columns (special tokens) are not counted in the summary', '. Hover or focus a cell (arrow keys move) for the top-k.'),
  );
}

/**
 * The whole grid zoomed out (one small rect per cell, same palette), for inputs too long to see at
 * once; the truncation point is marked and a click scrolls the grid to that column.
 */
function overview(report: ProbeReport, s: ProbedSentence, stat: Statistic, gridScroll: HTMLElement): HTMLElement {
  const domain = statDomain(report, stat);
  const P = s.ids.length;
  const L = s.layers.length;
  const cw = Math.max(1.5, Math.min(8, 1100 / P));
  const ch = 6;
  const width = Math.ceil(P * cw) + (s.truncatedFrom ? 70 : 2);
  const height = L * ch + 14;
  const rects: SvgChild[] = [];
  s.layers.forEach((layer, l) => {
    for (let p = 0; p < P; p++) {
      const t = scaleOf(stat, statValue(layer, p, stat), domain);
      rects.push({ tag: 'rect', attrs: { x: (p * cw).toFixed(2), y: l * ch, width: (cw + 0.02).toFixed(2), height: ch, fill: Number.isNaN(t) ? '#808080' : colorAt(t), 'fill-opacity': report.includeSpecial || !s.special[p] ? 1 : 0.35 } });
    }
  });
  if (s.truncatedFrom) {
    const x = (P * cw).toFixed(2);
    rects.push({ tag: 'line', attrs: { x1: x, x2: x, y1: 0, y2: L * ch + 12, stroke: 'currentColor', 'stroke-width': 2, class: 'cut' } });
    rects.push({ tag: 'text', attrs: { x: P * cw + 4, y: L * ch / 2 + 4, 'font-size': 10, fill: 'currentColor' }, text: `cut at ${P}/${s.truncatedFrom}` });
  }
  rects.push({ tag: 'text', attrs: { x: 0, y: L * ch + 11, 'font-size': 9, fill: 'currentColor' }, text: `${P} tokens × ${L} layers; click to scroll the grid there` });
  const svg = svgToDom({ tag: 'svg', attrs: { xmlns: 'http://www.w3.org/2000/svg', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `Overview of all ${P} tokens and ${L} layers${s.truncatedFrom ? `, cut at token ${P} of ${s.truncatedFrom}` : ''}` }, children: rects });
  svg.addEventListener('click', (e) => {
    const box = svg.getBoundingClientRect();
    const p = Math.max(0, Math.min(P - 1, Math.floor(((e as MouseEvent).clientX - box.left) / cw)));
    const l = Math.max(0, Math.min(L - 1, Math.floor(((e as MouseEvent).clientY - box.top) / ch)));
    const cell = gridScroll.querySelector<HTMLElement>(`td[data-l="${l}"][data-p="${p}"]`);
    if (!cell) return;
    gridScroll.scrollLeft = Math.max(0, cell.offsetLeft - gridScroll.clientWidth / 2);
    cell.focus({ preventScroll: true });
  });
  return h('figure', { class: 'overview', 'data-testid': 'overview' }, svg);
}

function summaryTable(report: ProbeReport, summary: LayerSummary[] = report.summary, caption?: string, testid = 'summary'): HTMLElement {
  const table = h('table', { class: 'summary', 'data-testid': testid });
  table.appendChild(h('caption', {}, caption ?? `Per layer, over ${report.summary[0]?.count ?? 0} positions${report.includeSpecial ? ' (special tokens included)' : ' (special tokens excluded)'}${report.sentences.some((x) => x.masks?.length) ? '; masked positions have their own summary below' : ''}`));
  table.appendChild(h('thead', {}, h('tr', {}, ...['layer', 'from', 'accuracy', 'mean log p', 'median rank', 'entropy', 'KL→final'].map((c) => h('th', { scope: 'col' }, summaryColumnName(report, c))))));
  const body = h('tbody');
  for (const s of summary) {
    const bar = h('span', { class: 'accbar', 'aria-hidden': 'true' });
    bar.style.setProperty('--w', `${(s.accuracy * 100).toFixed(1)}%`);
    body.appendChild(h('tr', {},
      h('th', { scope: 'row' }, s.label),
      h('td', {}, s.sourceLayer === null ? 'emb' : `L${s.sourceLayer}`),
      h('td', { class: 'num acc' }, bar, `${(s.accuracy * 100).toFixed(1)}%`),
      h('td', { class: 'num' }, fmtNum(s.meanLogProb)),
      h('td', { class: 'num' }, String(s.medianRank)),
      h('td', { class: 'num' }, fmtNum(s.meanEntropy)),
      h('td', { class: 'num' }, fmtNum(s.meanKL, 3)),
    ));
  }
  table.appendChild(body);
  return table;
}

function chartView(series: ChartSeries[], subject: ChartSubject, exports: HTMLElement): HTMLElement {
  const intervals = series.some((x) => x.summary.some((r) => r.accuracyCI));
  return h('figure', { class: 'chart', 'data-testid': 'chart' }, exports, svgToDom(buildChart(series, undefined, subject)),
    h('figcaption', {}, `Accuracy and mean log-probability of the input token by layer, one chart each${intervals ? '; whiskers: 95% bootstrap intervals over sentences' : ''}.`));
}

const SENTENCE_COLUMNS: { key: SentenceSortKey; label: (a: string, b: string) => string }[] = [
  { key: 'index', label: () => '#' },
  { key: 'tokens', label: () => 'tokens' },
  { key: 'accA', label: (a) => `accuracy ${a}` },
  { key: 'accB', label: (_, b) => `accuracy ${b}` },
  { key: 'delta', label: (a, b) => `Δ ${b} − ${a}` },
  { key: 'lp', label: (_, b) => `mean log p ${b}` },
];
const SENTENCE_LIMIT = 1000;

/**
 * Every sentence with its accuracy at two chosen layers, the change between them and its mean log
 * p, sortable by any column (click a header; again to reverse) and filtered by text, so the
 * sentences a layer helps or hurts most come first.
 */
function sentencesView(report: ProbeReport): HTMLElement {
  const last = report.plan.length;
  const state = { ...defaultSentenceTable(report), ...ui.sentenceTable };
  state.layerA = Math.min(state.layerA, last);
  state.layerB = Math.min(state.layerB, last);
  const label = (l: number) => report.summary[l]?.label ?? `h${l}`;
  const update = (patch: Partial<SentenceTableState>) => setUi({ sentenceTable: { ...state, ...patch } });
  const layerOptions = report.summary.map((s, l) => ({ value: String(l), label: s.label }));
  const filter = h('input', { type: 'search', class: 'filter', placeholder: 'filter by text', 'aria-label': 'Filter sentences by text', value: state.filter, 'data-testid': 'sentence-filter' }) as HTMLInputElement;
  const table = h('table', { class: 'sentences', 'data-testid': 'sentences' });
  const body = h('tbody');
  const count = h('p', { class: 'note', 'data-testid': 'sentence-count' });
  const all = sentenceTableRows(report, state);
  const fill = (text: string) => {
    const rows = sortAndFilter(all, { ...state, filter: text });
    clear(body);
    for (const r of rows.slice(0, SENTENCE_LIMIT)) {
      const open = () => setUi({ sentence: r.at, view: 'layers' });
      const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(0)}%` : '–');
      const delta = Number.isFinite(r.delta) ? `${r.delta > 0 ? '+' : r.delta < 0 ? '−' : ''}${Math.abs(r.delta * 100).toFixed(0)} pt` : '–';
      body.appendChild(h('tr', { tabindex: 0, class: r.at === ui.sentence ? 'current' : '', onclick: open, onkeydown: (e: Event) => { if ((e as KeyboardEvent).key === 'Enter') open(); } },
        h('td', { class: 'num' }, String(r.index + 1)), h('td', { class: 'text' }, r.text), h('td', { class: 'num' }, String(r.tokens)),
        h('td', { class: 'num' }, pct(r.accA)), h('td', { class: 'num' }, pct(r.accB)),
        h('td', { class: `num ${r.delta > 0 ? 'up' : r.delta < 0 ? 'down' : ''}` }, delta), h('td', { class: 'num' }, Number.isFinite(r.lp) ? fmtNum(r.lp) : '–')));
    }
    count.textContent = `${rows.length} of ${all.length} sentence${all.length === 1 ? '' : 's'}${text.trim() ? ` match "${text.trim()}"` : ''}` +
      `${rows.length > SENTENCE_LIMIT ? `; showing the first ${SENTENCE_LIMIT}, export CSV for all` : ''}.`;
  };
  // Typing filters in place (no re-render, so the field keeps focus); the filter is saved on change.
  filter.addEventListener('input', () => fill(filter.value));
  filter.addEventListener('change', () => update({ filter: filter.value }));
  table.appendChild(h('caption', {}, `Sentences of this run: accuracy at ${label(state.layerA)} and ${label(state.layerB)}, the change, and mean log p. Click a column to sort; Enter or click on a row opens it in the Layers view.`));
  const headers = SENTENCE_COLUMNS.map((c) => {
    const sorted = state.sort === c.key;
    const th = h('th', { scope: 'col', class: 'sortable', tabindex: 0, 'aria-sort': sorted ? (state.descending ? 'descending' : 'ascending') : 'none', 'data-sort': c.key },
      `${c.label(label(state.layerA), label(state.layerB))}${sorted ? (state.descending ? ' ▼' : ' ▲') : ''}`);
    const sort = () => update({ sort: c.key, descending: sorted ? !state.descending : c.key !== 'index' && c.key !== 'tokens' ? c.key === 'delta' : false });
    th.addEventListener('click', sort);
    th.addEventListener('keydown', (e) => { if ((e as KeyboardEvent).key === 'Enter') sort(); });
    return th;
  });
  headers.splice(1, 0, h('th', { scope: 'col' }, 'sentence'));
  table.appendChild(h('thead', {}, h('tr', {}, ...headers)));
  table.appendChild(body);
  fill(state.filter);
  const controls = h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Sentences table' },
    select('Layer A', layerOptions, String(state.layerA), (v) => update({ layerA: Number(v) })),
    select('Layer B', layerOptions, String(state.layerB), (v) => update({ layerB: Number(v) })),
    filter);
  return h('div', {}, summaryTable(report), h('h2', {}, 'Sentences'), controls, count, table);
}

function compareView(run: PanelRun): HTMLElement {
  const other = compareRun(run);
  if (!other) return h('p', { class: 'empty' }, 'Compare needs a second run: probe again with another layer plan ("Layer Lens: Probe with Layer Plan…"), another model, or other sentences.');
  const a = run.report;
  const b = other.report;
  const picker = select('Baseline (B)', host.runs.filter((r) => r.id !== run.id).map((r) => ({ value: r.id, label: r.label })).reverse(), other.id, (v) => setUi({ compareRunId: v }));
  const swap = h('vscode-button', { secondary: true, 'data-testid': 'swap-baseline', onclick: () => setUi({ runId: other.id, compareRunId: run.id }) }, 'Swap A ↔ B');
  const rows = diffSummaries(a.summary, b.summary);
  const table = h('table', { class: 'summary compare-table', 'data-testid': 'compare' });
  table.appendChild(h('caption', {}, 'A = ', h('b', {}, run.label), ', B (baseline) = ', h('b', {}, other.label), '. Δ = A − B; rows are lined up by the encoder layer each state comes from. Highlighted rows differ.'));
  table.appendChild(h('thead', {}, h('tr', {}, ...['layer', 'accuracy A', 'accuracy B', 'Δ A − B', 'mean log p A', 'mean log p B', 'Δ A − B', 'median rank A', 'B', 'KL→final A', 'B'].map((c) => h('th', { scope: 'col' }, c)))));
  const body = h('tbody');
  const pct = (x?: number) => (x === undefined ? '–' : `${(x * 100).toFixed(1)}%`);
  const delta = (x?: number, scale = 1, unit = '') => (x === undefined ? '–' : `${x > 0 ? '+' : x < 0 ? '−' : '±'}${Math.abs(x * scale).toFixed(scale === 100 ? 1 : 2)}${unit}`);
  for (const r of rows) {
    body.appendChild(h('tr', { class: r.differs ? 'differs' : '' },
      h('th', { scope: 'row' }, r.label),
      h('td', { class: 'num' }, pct(r.a?.accuracy)), h('td', { class: 'num' }, pct(r.b?.accuracy)),
      h('td', { class: `num ${sign(r.dAccuracy)}` }, delta(r.dAccuracy, 100, ' pt')),
      h('td', { class: 'num' }, r.a ? fmtNum(r.a.meanLogProb) : '–'), h('td', { class: 'num' }, r.b ? fmtNum(r.b.meanLogProb) : '–'),
      h('td', { class: `num ${sign(r.dMeanLogProb)}` }, delta(r.dMeanLogProb)),
      h('td', { class: 'num' }, r.a ? String(r.a.medianRank) : '–'), h('td', { class: 'num' }, r.b ? String(r.b.medianRank) : '–'),
      h('td', { class: 'num' }, r.a ? fmtNum(r.a.meanKL, 3) : '–'), h('td', { class: 'num' }, r.b ? fmtNum(r.b.meanKL, 3) : '–'),
    ));
  }
  table.appendChild(body);
  const out = h('div', { class: 'compare' }, h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Compare' }, picker, swap), table, chartView(compareSeries(run, other), compareSubject(a, b), figureExports('chart', run, other.id)));
  const s = a.sentences[Math.min(ui.sentence, a.sentences.length - 1)];
  const j = matchingSentence(b, s);
  out.appendChild(sentenceNav(a) ?? h('span'));
  if (j < 0) {
    out.appendChild(h('p', { class: 'note' }, 'B did not probe this sentence, so only the summaries are compared.'));
    return out;
  }
  const t = b.sentences[j];
  const differsA = new Set<string>();
  const differsB = new Set<string>();
  if (t.ids.length === s.ids.length) {
    for (let l = 0; l < Math.max(s.layers.length, t.layers.length); l++) {
      for (let p = 0; p < s.ids.length; p++) {
        if (s.layers[l]?.top1[p] !== t.layers[l]?.top1[p]) {
          if (l < s.layers.length) differsA.add(`${l}:${p}`);
          if (l < t.layers.length) differsB.add(`${l}:${p}`);
        }
      }
    }
  }
  out.appendChild(sentenceLine(s));
  out.appendChild(h('div', { class: 'side-by-side' },
    h('div', { class: 'scroll' }, renderGrid(a, s, { caption: `A: ${run.label} (outlined cells: top-1 differs from B)`, differs: differsA, idPrefix: 'a' })),
    h('div', { class: 'scroll' }, renderGrid(b, t, { caption: `B: ${other.label} (outlined cells: top-1 differs from A)`, differs: differsB, idPrefix: 'b' })),
  ));
  const diff = tokenDiffGrid(a, s, b, t);
  out.appendChild(diff ? h('div', { class: 'scroll' }, diffGridView(s, diff)) : h('p', { class: 'note' }, 'A and B tokenize this sentence differently, so there is no per-token difference grid.'));
  return out;
}

/** Δ log p(input) = A − B per state and token, on a diverging scale; outlined where the two top-1 differ. */
function diffGridView(s: ProbedSentence, rows: DiffRow[]): HTMLElement {
  const scale = diffScale(rows);
  const table = h('table', { class: 'grid diff-grid', 'data-testid': 'diff-grid' });
  table.appendChild(h('caption', {}, `Per-token difference: log p(input) of A − B (blue: A gives the input more probability; orange: less; scale ±${scale.toFixed(2)} nats). Outlined: the two top-1 differ.`));
  table.appendChild(h('thead', {}, h('tr', {}, h('th', { scope: 'col', class: 'corner' }, 'layer'), ...s.tokens.map((tok, p) => h('th', { scope: 'col', class: `tok${s.special[p] ? ' special' : ''}` }, displayToken(tok))))));
  const body = h('tbody');
  for (const r of rows) {
    body.appendChild(h('tr', {}, h('th', { scope: 'row', class: 'layer' }, r.label), ...r.cells.map((c, p) => {
      const fill = diffColor(c.dLogProb, scale);
      const td = h('td', {
        class: `cell${c.top1A !== c.top1B ? ' diff' : ''}`, 'data-l': r.layerA, 'data-p': p, 'data-v': String(c.dLogProb),
        title: `${r.label}, ${displayToken(s.tokens[p])}: Δ log p ${Number.isFinite(c.dLogProb) ? c.dLogProb.toFixed(3) : '–'}${c.top1A !== c.top1B ? ' (top-1 differs)' : ''}`,
      }, Number.isFinite(c.dLogProb) ? `${c.dLogProb > 0 ? '+' : c.dLogProb < 0 ? '−' : '±'}${Math.abs(c.dLogProb).toFixed(2)}` : '–');
      td.style.background = fill;
      td.style.color = textOn(fill);
      return td;
    })));
  }
  table.appendChild(body);
  return table;
}

function finetuneHeader(data: FinetuneResultsData): HTMLElement {
  const updated = new Date(data.updatedAt).toLocaleTimeString();
  return h('header', { class: 'head' },
    h('div', { class: 'title' },
      h('h1', { id: 'finetune-title' }, 'Fine-tuning: baseline vs deepened'),
      h('vscode-badge', { variant: 'counter' }, finetuneSummary(data)),
      h('span', { class: 'meta' }, `${data.outDir} · updated ${updated} · ${data.taskRunning ? 'following the task: refreshes as each evaluation is written' : 'refreshes as each evaluation is written'}`),
    ),
  );
}

function cellTd(c: Cell): HTMLElement {
  const cls = [c.num ? 'num' : '', c.delta ?? ''].filter(Boolean).join(' ');
  // A paired Δ's interval (" [lo, hi]"), its note (" · 1 seed: no interval") or a mean's " ± sd"
  // goes on a second line, so the 13 columns fit beside the explorer; the text stays the cell's.
  const cut = c.text.search(/ \[| · | ± /);
  const content = cut > 0 ? [c.text.slice(0, cut), h('span', { class: 'ci' }, c.text.slice(cut))] : [c.text];
  return h('td', { ...(cls ? { class: cls } : {}), ...(c.title ? { title: c.title } : {}) }, ...content);
}

function finetuneView(data: FinetuneResultsData): HTMLElement {
  const model = finetuneTableModel(data);
  const table = h('table', { class: 'summary finetune-table', 'data-testid': 'finetune' });
  table.appendChild(h('caption', {}, model.caption));
  table.appendChild(h('thead', {}, h('tr', {}, ...model.columns.map((c) => h('th', { scope: 'col' }, c)))));
  const body = h('tbody');
  for (const r of model.rows) {
    const [role, layers, plan, statusCell, ...rest] = r.cells;
    body.appendChild(h('tr', { class: `role-${r.role} status-${r.status}`, 'data-role': r.role, 'data-status': r.status },
      h('th', { scope: 'row' }, r.name),
      cellTd(role), cellTd(layers), cellTd(plan),
      h('td', { class: `state ${r.status}`, ...(statusCell.title ? { title: statusCell.title } : {}) }, statusCell.text),
      ...rest.map(cellTd),
    ));
  }
  table.appendChild(body);
  const out = h('div', { class: 'finetune' }, h('div', { class: 'scroll' }, table));
  if (model.legend) out.appendChild(h('p', { class: 'note legend-text' }, model.legend));
  if (model.verdicts.length) out.appendChild(h('ul', { class: 'verdicts', 'data-testid': 'finetune-verdicts' }, ...model.verdicts.map((v) => h('li', {}, v))));
  if (model.notes.length) out.appendChild(h('ul', { class: 'warnings' }, ...model.notes.map((n) => h('li', {}, n))));
  if (model.history.some((x) => x.rows.length > 0)) {
    out.appendChild(h('figure', { class: 'chart finetune-curves' }, svgToDom(buildFinetuneCurves(data, THEME_COLORS)),
      h('figcaption', {}, 'Accuracy and eval loss on the evaluation set against the optimizer step, one chart each: every seed a thin line, the mean over seeds a thick one. ', curvesExports(data))));
    const details = h('details', { class: 'history-all' }, h('summary', {}, `Per evaluation (${model.history.length} run${model.history.length === 1 ? '' : 's'})`));
    details.appendChild(h('div', { class: 'side-by-side' }, ...model.history.map((x) => {
      const t = h('table', { class: 'summary history', 'data-testid': 'finetune-history' });
      t.appendChild(h('caption', {}, x.name));
      t.appendChild(h('thead', {}, h('tr', {}, ...x.columns.map((c) => h('th', { scope: 'col' }, c)))));
      t.appendChild(h('tbody', {}, ...(x.rows.length ? x.rows.map((cells) => h('tr', {}, ...cells.map(cellTd))) : [h('tr', {}, h('td', { colspan: x.columns.length, class: 'note' }, 'no evaluation yet'))])));
      return t;
    })));
    out.appendChild(details);
  }
  return out;
}

function sign(x?: number): string {
  return x === undefined || Math.abs(x) < 1e-9 ? '' : x > 0 ? 'up' : 'down';
}

window.addEventListener('error', (e) => post({ type: 'log', level: 'error', message: `${e.message} at ${e.filename}:${e.lineno}` }));
render();
post({ type: 'ready' });
