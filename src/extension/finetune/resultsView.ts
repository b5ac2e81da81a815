/**
 * The comparison table of fine-tuning runs, baseline against deepened, as a read-only text
 * document (`layer-lens-finetune:` URIs) that refreshes while the results JSON files change.
 * Plain text: result files are untrusted data, so nothing is ever interpreted as markup.
 */
import * as vscode from 'vscode';
import { compareResults, findResultFiles, formatComparison, readResults } from '../../core/finetune/results';

export const RESULTS_SCHEME = 'layer-lens-finetune';

export class FinetuneResultsView implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly watchers = new Map<string, vscode.Disposable[]>();
  private readonly announced = new Set<string>();

  constructor(private readonly log: vscode.LogOutputChannel) {}

  uriFor(outDir: string): vscode.Uri {
    return vscode.Uri.from({ scheme: RESULTS_SCHEME, path: '/comparison.txt', query: encodeURIComponent(outDir) });
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const out = decodeURIComponent(uri.query);
    return renderComparison(out, (f, e) => this.log.warn(`fine-tune results ${f}: ${e}`));
  }

  /** Watches <out>/<run>/results.json and refreshes the view; tells the user when a run ends. */
  watch(outDir: string): vscode.Uri {
    const uri = this.uriFor(outDir);
    if (!this.watchers.has(outDir)) {
      const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(outDir), '*/results.json'));
      const fire = (f: vscode.Uri) => {
        this.changed.fire(uri);
        this.announce(f.fsPath);
      };
      this.watchers.set(outDir, [w, w.onDidCreate(fire), w.onDidChange(fire)]);
    }
    return uri;
  }

  async show(outDir: string): Promise<void> {
    const doc = await vscode.workspace.openTextDocument(this.watch(outDir));
    await vscode.window.showTextDocument(doc, { preview: false, viewColumn: vscode.ViewColumn.Beside });
  }

  private announce(file: string): void {
    try {
      const r = readResults(file);
      if (r.status === 'running' || this.announced.has(`${file}:${r.status}`)) return;
      this.announced.add(`${file}:${r.status}`);
      const acc = r.final?.accuracy;
      void vscode.window.showInformationMessage(
        r.status === 'done'
          ? `Layer Lens: fine-tuning ${r.model_name} finished${acc !== undefined ? `: accuracy ${(acc * 100).toFixed(1)}%` : ''}.`
          : `Layer Lens: fine-tuning ${r.model_name} failed: ${r.error ?? 'see the terminal'}`,
      );
    } catch {
      // a half-written file: the next change event reads it again
    }
  }

  dispose(): void {
    for (const ds of this.watchers.values()) ds.forEach((d) => d.dispose());
    this.watchers.clear();
    this.changed.dispose();
  }
}

export function renderComparison(outDir: string, onError: (file: string, e: unknown) => void = () => undefined): string {
  const results = findResultFiles(outDir).flatMap((f) => {
    try {
      return [readResults(f)];
    } catch (e) {
      onError(f, e);
      return [];
    }
  });
  const head = `Layer Lens fine-tuning runs in ${outDir}\n(refreshes as each evaluation is written)\n\n`;
  if (results.length === 0) return `${head}No results yet: the runs write <model>/results.json after their first evaluation.\n`;
  const epochs = results
    .map((r) => `${r.model_name}:\n${r.epochs.map((e) => `  epoch ${e.epoch.toFixed(2)}  step ${e.step}  accuracy ${e.accuracy !== undefined ? (e.accuracy * 100).toFixed(1) + '%' : '–'}  eval loss ${e.eval_loss?.toFixed(4) ?? '–'}`).join('\n') || '  (no evaluation yet)'}`)
    .join('\n');
  return `${head}${formatComparison(compareResults(results))}\n\nPer evaluation:\n${epochs}\n`;
}
