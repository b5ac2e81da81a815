/**
 * Follows fine-tuning run folders: watches <out>/<model>/results.json (python/finetune.py rewrites
 * it atomically after every evaluation) and posts the comparison, baseline against deepened, to the
 * probe panel's "Fine-tune" view. Result files are untrusted data: they reach the webview as a
 * typed message and are rendered as text only.
 */
import * as vscode from 'vscode';
import { readResults, readRunFolder } from '../../core/finetune/results';
import type { FinetuneResultsData } from '../../shared/finetune';

export interface ResultsSink {
  /** Shows the data in the panel; `reveal` opens / focuses it, else only an open panel is updated. */
  show(data: FinetuneResultsData, reveal: boolean): void;
}

export class FinetuneResultsWatcher implements vscode.Disposable {
  private readonly watchers = new Map<string, vscode.Disposable[]>();
  private readonly announced = new Set<string>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly log: vscode.LogOutputChannel,
    private readonly sink: ResultsSink,
  ) {}

  /** Reads a run folder now. */
  read(outDir: string): FinetuneResultsData {
    return readRunFolder(outDir, (f, e) => this.log.warn(`fine-tune results ${f}: ${(e as Error).message ?? e}`));
  }

  /** Watches <out>/<run>/results.json and updates the panel as they change; tells the user when a run ends. */
  watch(outDir: string): void {
    if (this.watchers.has(outDir)) return;
    const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(outDir), '*/results.json'));
    const fire = (f: vscode.Uri) => {
      this.announce(outDir, f.fsPath);
      // Two runs often finish an evaluation together: one update for both.
      clearTimeout(this.timers.get(outDir));
      this.timers.set(outDir, setTimeout(() => this.sink.show(this.read(outDir), false), 150));
    };
    this.watchers.set(outDir, [w, w.onDidCreate(fire), w.onDidChange(fire)]);
  }

  /** Shows the run folder's comparison in the panel (opening it) and keeps it up to date. */
  show(outDir: string): FinetuneResultsData {
    this.watch(outDir);
    const data = this.read(outDir);
    this.sink.show(data, true);
    return data;
  }

  private announce(outDir: string, file: string): void {
    try {
      const r = readResults(file);
      if (r.status === 'running' || this.announced.has(`${file}:${r.status}`)) return;
      this.announced.add(`${file}:${r.status}`);
      const acc = r.final?.accuracy;
      const message =
        r.status === 'done'
          ? `Layer Lens: fine-tuning ${r.model_name} finished${acc !== undefined ? `: accuracy ${(acc * 100).toFixed(1)}%` : ''}.`
          : `Layer Lens: fine-tuning ${r.model_name} failed: ${r.error ?? 'see the terminal'}`;
      const show = 'Show Comparison';
      void (r.status === 'done' ? vscode.window.showInformationMessage(message, show) : vscode.window.showErrorMessage(message, show)).then((a) => {
        if (a === show) this.show(outDir);
      });
    } catch {
      // a half-written file: the next change event reads it again
    }
  }

  dispose(): void {
    for (const ds of this.watchers.values()) ds.forEach((d) => d.dispose());
    this.watchers.clear();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
