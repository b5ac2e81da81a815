/**
 * The probe panel: one webview that holds recent runs. The host is the source of truth for the
 * runs (HostState); the webview keeps its UI choices with setState, and the serializer restores
 * both after a window reload. Data reaches the page only via postMessage, after `ready`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TokenTrajectory } from '../core/probe/report';
import { buildChart, chartSubject, compareSeries, compareSubject, EXPORT_COLORS, svgToString } from '../shared/chart';
import { buildFinetuneCurves } from '../shared/finetuneChart';
import { buildHeatmapFigure } from '../shared/heatmapFigure';
import { buildTrajectoryFigure } from '../shared/trajectoryFigure';
import { pngProblem } from './pngCheck';
import { DEFAULT_STATISTIC, type Statistic } from '../shared/heatmap';
import { exportFileName, reportToCsv, reportToJson, summaryToCsv } from '../shared/export';
import {
  addRun, assertNever, MAX_RUNS, RUNS_KEPT_LIMIT, CurvesExport, ExportFormat, PngFigure, FinetuneResultsData, HostMessage, HostState, PANEL_VIEW_TYPE, PanelRun, UiState, WebviewMessage, webviewMessageProblem,
} from '../shared/protocol';
import { reviveWebviewState } from '../shared/savedState';

function readFastSetting(): boolean {
  return vscode.workspace.getConfiguration('layer-lens').get<boolean>('fast', false) === true;
}

/** How many runs the panel keeps (setting layer-lens.runsKept). */
function runsKept(): number {
  const n = vscode.workspace.getConfiguration('layer-lens').get<number>('runsKept', MAX_RUNS);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, RUNS_KEPT_LIMIT) : MAX_RUNS;
}

/** Writes where the setting is set now (workspace folder, workspace, else user settings). */
async function setFastSetting(fast: boolean): Promise<void> {
  const c = vscode.workspace.getConfiguration('layer-lens');
  const where = c.inspect<boolean>('fast');
  const target = where?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await c.update('fast', fast, target);
}

export interface RerunOptions {
  mask?: { sentence: number; position: number };
  pll?: boolean;
  /** Probe with (true) or without (false) the h·attn rows; absent: as the run did. */
  sublayers?: boolean;
}

export interface PanelHost {
  extensionUri: vscode.Uri;
  log: vscode.LogOutputChannel;
  /** Re-runs a run's model and sentences (the panel's "Re-run" button). */
  rerun(run: PanelRun, options?: RerunOptions): Thenable<unknown>;
  /** Probes a run's sentences again through a tuned lens the user picks, compared with the run. */
  tunedLens(run: PanelRun): Thenable<unknown>;
  /** Follows a token through one sentence of a run. */
  trajectory(run: PanelRun, sentence: number, token: number | string): Promise<TokenTrajectory>;
}

export class ProbePanel implements vscode.Disposable {
  static current: ProbePanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private ready = false;
  /** Resolved each time the webview (re)loads and says it is ready. Tests wait on it. */
  private readyWaiters: (() => void)[] = [];
  /** The fine-tuning comparison shown in the panel's "Fine-tune" view, and whether the next post should switch to it. */
  private finetune: FinetuneResultsData | undefined;
  private focusFinetune = false;
  /** The last trajectory computed per run and sentence: what a trajectory SVG export draws. */
  private readonly trajectories = new Map<string, TokenTrajectory>();
  /** The user was told once that old runs are dropped (layer-lens.runsKept). */
  private toldDropped = false;

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly host: PanelHost,
    private state: HostState,
    finetune?: FinetuneResultsData,
  ) {
    this.finetune = finetune;
    panel.webview.options = webviewOptions(host.extensionUri);
    panel.webview.html = html(panel.webview, host.extensionUri);
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m: unknown) => this.receive(m)),
      panel.onDidChangeViewState(() => {
        // A hidden webview is torn down (retainContextWhenHidden is off); it says `ready` again when shown.
        if (!panel.visible) this.ready = false;
      }),
    );
  }

  static show(host: PanelHost, run: PanelRun, compareWith?: string): ProbePanel {
    const current = ProbePanel.current;
    if (current) {
      const keep = runsKept();
      const { dropped, ...state } = addRun(current.state, run, compareWith, keep);
      current.state = state;
      if (dropped.length) {
        const note = `Layer Lens keeps the last ${keep} run${keep === 1 ? '' : 's'} (setting layer-lens.runsKept): dropped ${dropped.map((l) => `"${l}"`).join(', ')}`;
        host.log.info(note);
        // Said once per panel; later drops go to the log only, so a long session is not a stream of toasts.
        if (!current.toldDropped) void vscode.window.showInformationMessage(`${note}. Later drops are noted in the Layer Lens log.`);
        current.toldDropped = true;
      }
      current.panel.reveal(undefined, false);
      current.push();
      return current;
    }
    const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, 'Layer Lens', vscode.ViewColumn.Active, {
      ...webviewOptions(host.extensionUri),
      retainContextWhenHidden: false,
    });
    const { dropped: _none, ...state } = addRun({ runs: [] }, run, compareWith);
    ProbePanel.current = new ProbePanel(panel, host, state);
    return ProbePanel.current;
  }

  /**
   * Shows (or updates) the fine-tuning comparison. `reveal` opens the panel if it is closed and
   * switches to the comparison; without it an update only reaches a panel that is already open.
   */
  static showFinetune(host: PanelHost, data: FinetuneResultsData, reveal: boolean): ProbePanel | undefined {
    let current = ProbePanel.current;
    if (!current) {
      if (!reveal) return undefined;
      const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, 'Layer Lens', vscode.ViewColumn.Active, {
        ...webviewOptions(host.extensionUri),
        retainContextWhenHidden: false,
      });
      current = ProbePanel.current = new ProbePanel(panel, host, { runs: [] });
    } else if (reveal) {
      current.panel.reveal(undefined, false);
    } else if (current.finetune && current.finetune.outDir !== data.outDir) {
      // Another run folder's watcher: do not replace what the user is looking at.
      return current;
    }
    current.finetune = data;
    current.focusFinetune ||= reveal;
    current.pushFinetune();
    return current;
  }

  /** After a reload: the saved state is the webview's, so only what fits the protocol is kept (savedState.ts). */
  static revive(host: PanelHost, panel: vscode.WebviewPanel, saved: unknown): ProbePanel {
    const revived = reviveWebviewState(saved);
    for (const d of revived.dropped) host.log.warn(`dropped from the saved panel state: ${d}`);
    ProbePanel.current?.dispose();
    ProbePanel.current = new ProbePanel(panel, host, revived.host, revived.finetune);
    host.log.info(`restored the probe panel with ${revived.host.runs.length} run(s)`);
    return ProbePanel.current;
  }

  get hostState(): HostState {
    return this.state;
  }

  /** The fine-tuning comparison the panel holds, if any. */
  get finetuneResults(): FinetuneResultsData | undefined {
    return this.finetune;
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** Resolves once the webview has said `ready` (immediately if it has). */
  whenReady(): Promise<void> {
    return this.ready ? Promise.resolve() : new Promise((r) => this.readyWaiters.push(r));
  }

  private push(): void {
    if (this.ready) this.post({ type: 'state', state: this.state });
  }

  /** Tells the page the `layer-lens.fast` setting (main.ts calls this when the setting changes). */
  pushFastMode(): void {
    if (this.ready) this.post({ type: 'fastMode', fast: readFastSetting() });
  }

  private pushFinetune(): void {
    if (!this.ready || !this.finetune) return;
    this.post({ type: 'finetuneResults', results: this.finetune, focus: this.focusFinetune });
    this.focusFinetune = false;
  }

  private post(message: HostMessage): void {
    void this.panel.webview.postMessage(message);
  }

  private receive(raw: unknown): void {
    const problem = webviewMessageProblem(raw);
    if (problem) {
      this.host.log.warn(`ignored a malformed message from the webview (${problem}): ${safeJson(raw)}`);
      return;
    }
    const m = raw as WebviewMessage;
    switch (m.type) {
      case 'ready':
        this.ready = true;
        this.post({ type: 'state', state: this.state });
        this.pushFastMode();
        this.pushFinetune();
        this.readyWaiters.splice(0).forEach((r) => r());
        return;
      case 'export':
        void this.export(m.format, m.runId, m.compareRunId, undefined, { sentence: m.sentence, stat: m.stat });
        return;
      case 'exportPng':
        void this.exportPng(m);
        return;
      case 'exportCurves':
        void this.exportCurves(m.png);
        return;
      case 'rerun': {
        const run = this.state.runs.find((r) => r.id === m.runId);
        if (run) void this.host.rerun(run, { mask: m.mask, pll: m.pll, sublayers: m.sublayers });
        return;
      }
      case 'tunedLens': {
        const run = this.state.runs.find((r) => r.id === m.runId);
        if (run) void this.host.tunedLens(run);
        return;
      }
      case 'setFast':
        void setFastSetting(m.fast).then(
          () => this.host.log.info(`fast mode ${m.fast ? 'on' : 'off'} (layer-lens.fast), from the panel; applies to the next probe`),
          (e: Error) => this.post({ type: 'error', message: `Could not change layer-lens.fast: ${e.message}` }),
        );
        return;
      case 'trajectory': {
        const run = this.state.runs.find((r) => r.id === m.runId);
        if (!run || !run.report.sentences[m.sentence]) return;
        this.host.trajectory(run, m.sentence, m.token).then(
          (trajectory) => {
            this.trajectories.set(`${run.id}:${m.sentence}`, trajectory);
            this.post({ type: 'trajectory', runId: run.id, sentence: m.sentence, trajectory });
          },
          (e: Error) => this.post({ type: 'error', message: e.name === 'UserError' ? e.message.replace(/^input 1: /, '') : `Could not follow the token: ${e.message}` }),
        );
        return;
      }
      case 'log':
        this.host.log[m.level](`webview: ${m.message}`);
        return;
      default:
        assertNever(m);
    }
  }

  /** Writes a report export or an SVG figure (see save). */
  async export(format: ExportFormat, runId: string, compareRunId?: string, target?: vscode.Uri, figure: FigureChoice = {}): Promise<vscode.Uri | undefined> {
    const run = this.state.runs.find((r) => r.id === runId);
    if (!run) return undefined;
    const other = compareRunId ? this.state.runs.find((r) => r.id === compareRunId) : undefined;
    const trajectory = format === 'trajectory-svg' ? this.trajectories.get(`${run.id}:${figure.sentence ?? 0}`) : undefined;
    if (format === 'trajectory-svg' && !trajectory) {
      this.post({ type: 'error', message: 'Follow a token in this sentence first: the trajectory export draws the one shown.' });
      return undefined;
    }
    const { content, ext, suffix, filter } = exportContent(format, run, other, { ...figure, trajectory });
    return this.save(format, exportFileName(run.report, suffix, ext), { content: new TextEncoder().encode(content), ext, filter }, target);
  }

  /** A PNG the webview rasterized: checked to be a PNG of sane size before anything is written. */
  async exportPng(m: Extract<WebviewMessage, { type: 'exportPng' }>, target?: vscode.Uri): Promise<vscode.Uri | undefined> {
    const run = this.state.runs.find((r) => r.id === m.runId);
    if (!run) return undefined;
    const bytes = Buffer.from(m.png, 'base64');
    const problem = pngProblem(bytes);
    if (problem) {
      this.host.log.error(`webview sent a ${m.figure} PNG that is not one: ${problem}`);
      this.post({ type: 'error', message: `The ${m.figure} PNG could not be made (${problem}).` });
      return undefined;
    }
    const suffix = m.figure === 'chart' ? '-chart' : m.figure === 'heatmap' ? `-heatmap-s${(m.sentence ?? 0) + 1}-${m.stat ?? DEFAULT_STATISTIC}` : `-trajectory-s${(m.sentence ?? 0) + 1}`;
    return this.save(`${m.figure}-png`, exportFileName(run.report, suffix, 'png'), { content: bytes, ext: 'png', filter: 'PNG' }, target);
  }

  /**
   * The fine-tuning learning curves: the host draws the SVG from its own copy of the results; a PNG
   * is the webview's raster of the same drawing, checked like the other PNGs.
   */
  async exportCurves(png: string | undefined, target?: vscode.Uri): Promise<vscode.Uri | undefined> {
    const data = this.finetune;
    if (!data || !data.runs.some((r) => r.epochs.length > 0)) {
      this.post({ type: 'error', message: 'No learning curves to export: no run of this comparison has evaluated yet.' });
      return undefined;
    }
    const base = `${path.basename(data.outDir)}-learning-curves`.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
    if (png === undefined) {
      const svg = svgToString(buildFinetuneCurves(data, EXPORT_COLORS)) + '\n';
      return this.save('curves-svg', `${base}.svg`, { content: new TextEncoder().encode(svg), ext: 'svg', filter: 'SVG' }, target);
    }
    const bytes = Buffer.from(png, 'base64');
    const problem = pngProblem(bytes);
    if (problem) {
      this.host.log.error(`webview sent a learning-curves PNG that is not one: ${problem}`);
      this.post({ type: 'error', message: `The learning-curves PNG could not be made (${problem}).` });
      return undefined;
    }
    return this.save('curves-png', `${base}.png`, { content: bytes, ext: 'png', filter: 'PNG' }, target);
  }

  /**
   * The export buttons' code path. Without `target` it asks with a save dialog; with one (the
   * end-to-end tests, which cannot drive every dialog) it writes there directly. Returns the file
   * written, or undefined when nothing was written (cancelled, untrusted, error).
   */
  private async save(
    format: ExportFormat | `${PngFigure}-png` | CurvesExport,
    name: string,
    file: { content: Uint8Array; ext: string; filter: string },
    target?: vscode.Uri,
  ): Promise<vscode.Uri | undefined> {
    if (!vscode.workspace.isTrusted) {
      this.post({ type: 'error', message: 'Exporting writes files, which is disabled in an untrusted workspace.' });
      return undefined;
    }
    if (!target) {
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
      target = await vscode.window.showSaveDialog({
        defaultUri: folder ? vscode.Uri.joinPath(folder, name) : undefined,
        filters: { [file.filter]: [file.ext] },
        title: `Export ${file.filter}`,
      });
    }
    if (!target) return undefined;
    try {
      await vscode.workspace.fs.writeFile(target, file.content);
      this.host.log.info(`exported ${format} to ${target.fsPath}`);
      this.post({ type: 'exported', format, file: target.fsPath });
      return target;
    } catch (e) {
      const message = `Could not write ${target.fsPath}: ${(e as Error).message}`;
      this.host.log.error(message);
      this.post({ type: 'error', message });
      return undefined;
    }
  }

  dispose(): void {
    if (ProbePanel.current === this) ProbePanel.current = undefined;
    this.disposables.splice(0).forEach((d) => d.dispose());
    this.panel.dispose();
  }
}

/** Which sentence's heatmap, in which statistic (the panel's current ones). */
export interface FigureChoice {
  sentence?: number;
  stat?: Statistic;
  /** The trajectory a trajectory-svg export draws (the host's own, computed for the panel). */
  trajectory?: TokenTrajectory;
}

export function exportContent(format: ExportFormat, run: PanelRun, other?: PanelRun, figure: FigureChoice = {}): { content: string; ext: string; suffix: string; filter: string } {
  switch (format) {
    case 'csv':
      return { content: reportToCsv(run.report), ext: 'csv', suffix: '-cells', filter: 'CSV' };
    case 'summary-csv':
      return { content: summaryToCsv(run.report), ext: 'csv', suffix: '-summary', filter: 'CSV' };
    case 'json':
      return { content: reportToJson(run.report), ext: 'json', suffix: '', filter: 'JSON' };
    case 'svg': {
      const series = other ? compareSeries(run, other) : [{ name: run.label, summary: run.report.summary }];
      const subject = other ? compareSubject(run.report, other.report) : chartSubject(run.report);
      return { content: svgToString(buildChart(series, EXPORT_COLORS, subject)) + '\n', ext: 'svg', suffix: '-chart', filter: 'SVG' };
    }
    case 'heatmap-svg': {
      const stat = figure.stat ?? DEFAULT_STATISTIC;
      const sentence = Math.min(figure.sentence ?? 0, run.report.sentences.length - 1);
      return { content: svgToString(buildHeatmapFigure(run.report, sentence, stat)) + '\n', ext: 'svg', suffix: `-heatmap-s${sentence + 1}-${stat}`, filter: 'SVG' };
    }
    case 'trajectory-svg': {
      const sentence = Math.min(figure.sentence ?? 0, run.report.sentences.length - 1);
      if (!figure.trajectory) throw new Error('internal: a trajectory export without a trajectory');
      const svg = buildTrajectoryFigure(run.report.sentences[sentence], figure.trajectory, run.report.model.vocabSize, { ink: '#222222', figure: { report: run.report, background: '#ffffff' } });
      return { content: svgToString(svg) + '\n', ext: 'svg', suffix: `-trajectory-s${sentence + 1}-${exportSafe(figure.trajectory.tokenText)}`, filter: 'SVG' };
    }
    default:
      return assertNever(format, 'export format');
  }
}

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    // Everything the page loads is bundled into dist/ (the elements are compiled into webview.js).
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist')],
  };
}

export function html(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  const nonce = makeNonce();
  const js = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.js'));
  const css = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.css'));
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} data:`,
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" nonce="${nonce}" href="${css}">
<title>Layer Lens</title>
</head>
<body>
<main id="app" aria-live="polite"><p class="empty">Loading…</p></main>
<script nonce="${nonce}">window.litNonce = ${JSON.stringify(nonce)};</script>
<script nonce="${nonce}" src="${js}"></script>
</body>
</html>`;
}

function makeNonce(): string {
  const bytes = new Uint8Array(18);
  crypto.getRandomValues(bytes);
  return Buffer.from(bytes).toString('base64').replace(/[+/=]/g, '');
}

function safeJson(value: unknown): string {
  try {
    return (JSON.stringify(value) ?? String(value)).slice(0, 200);
  } catch {
    return 'unprintable';
  }
}

/** Reads a file the panel needs to exist, for a clear message when the build is missing. */
export function checkWebviewBuild(extensionPath: string): string | undefined {
  for (const f of ['dist/webview.js', 'dist/webview.css']) {
    if (!fs.existsSync(`${extensionPath}/${f}`)) return `${f} is missing; run "npm run build"`;
  }
  return undefined;
}

/** A token as part of a file name. */
function exportSafe(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 24) || 'token';
}
