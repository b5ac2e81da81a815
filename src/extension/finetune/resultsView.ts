/**
 * Follows fine-tuning run folders: <out>/<model>/seed-<s>/results.json (python/finetune.py rewrites
 * each atomically after every evaluation) and posts the comparison, baseline against deepened, to
 * the probe panel's "Fine-tune" view. Result files are untrusted data: they reach the webview as a
 * typed message and are rendered as text only.
 *
 * Two sources of change, because file events alone were not enough: in code-server 1.100 the
 * events of a run folder created moments before were not delivered at all in 4 of 5 trials (every
 * watcher kind), and the view stayed at "0 runs". So while our task runs the folder is also polled
 * (RunFolderPoller: a stat of each results file about once a second, a read only on a change), and
 * it is read once more when the task's process ends. The file watcher stays for runs we did not
 * launch (tasks.json, another window, a terminal).
 */
import * as vscode from 'vscode';
import { RunFolderPoller } from '../../core/finetune/poll';
import { readRunFolder } from '../../core/finetune/results';
import { compareFinetune, finetuneSummary, verdictLine, type FinetuneResultsData, type FinetuneRun } from '../../shared/finetune';

export interface ResultsSink {
  /** Shows the data in the panel; `reveal` opens / focuses it, else only an open panel is updated. */
  show(data: FinetuneResultsData, reveal: boolean): void;
}

/** A run folder that one of our tasks is writing. */
interface Followed {
  expected?: number;
  execution?: vscode.TaskExecution;
  running: boolean;
  poller: RunFolderPoller;
  timer?: ReturnType<typeof setInterval>;
  /** The verdict was announced (with the last run, or at the task's end). */
  concluded: boolean;
}

/** What the watcher did, for the log and the end-to-end test. */
export interface FollowStats {
  watcherEvents: number;
  pollChecks: number;
  pollChanges: number;
  reads: number;
  endReads: number;
  notices: string[];
}

export const POLL_MS = 1000;

export class FinetuneResultsWatcher implements vscode.Disposable {
  private readonly watchers = new Map<string, vscode.Disposable[]>();
  private readonly followed = new Map<string, Followed>();
  /** Last status seen per run (outDir · model · seed): a notice goes out on the change to done / failed. */
  private readonly known = new Map<string, FinetuneRun['status']>();
  /** Folders read at least once: a run that appears finished in a later read has ended in between. */
  private readonly readOnce = new Set<string>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly disposables: vscode.Disposable[] = [];
  readonly stats: FollowStats = { watcherEvents: 0, pollChecks: 0, pollChanges: 0, reads: 0, endReads: 0, notices: [] };

  constructor(
    private readonly log: vscode.LogOutputChannel,
    private readonly sink: ResultsSink,
  ) {
    this.disposables.push(
      vscode.tasks.onDidEndTaskProcess((e) => {
        for (const [outDir, f] of this.followed) if (f.execution && f.execution === e.execution) this.ended(outDir, f, e.exitCode);
      }),
    );
  }

  /** Reads a run folder now, with what this host knows about the task writing it. */
  read(outDir: string): FinetuneResultsData {
    this.stats.reads++;
    const data = readRunFolder(outDir, (f, e) => this.log.warn(`fine-tune results ${f}: ${(e as Error).message ?? e}`));
    const f = this.followed.get(outDir);
    if (f?.expected !== undefined) data.expected = f.expected;
    if (f) data.taskRunning = f.running;
    return data;
  }

  /** Watches the folder's results files and updates the panel as they change. */
  watch(outDir: string): void {
    if (this.watchers.has(outDir)) return;
    const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(outDir), '**/results.json'));
    const fire = () => {
      this.stats.watcherEvents++;
      // Two runs often finish an evaluation together: one update for both.
      clearTimeout(this.timers.get(outDir));
      this.timers.set(outDir, setTimeout(() => this.refresh(outDir), 150));
    };
    this.watchers.set(outDir, [w, w.onDidCreate(fire), w.onDidChange(fire)]);
  }

  /** Shows the run folder's comparison in the panel (opening it) and keeps it up to date. */
  show(outDir: string): FinetuneResultsData {
    this.watch(outDir);
    const data = this.read(outDir);
    this.remember(outDir, data);
    this.sink.show(data, true);
    return data;
  }

  /**
   * Follows a folder our task writes: `expected` runs (models × seeds) are coming. Polls until the
   * task's process ends (then reads once more), besides the file watcher.
   */
  follow(outDir: string, options: { expected?: number; execution?: vscode.TaskExecution }): FinetuneResultsData {
    this.stopPolling(outDir);
    const f: Followed = { expected: options.expected, execution: options.execution, running: true, poller: new RunFolderPoller(outDir), concluded: false };
    this.followed.set(outDir, f);
    f.poller.changed(); // what is there now is the baseline for the next check
    f.timer = setInterval(() => {
      this.stats.pollChecks++;
      if (f.poller.changed()) {
        this.stats.pollChanges++;
        this.refresh(outDir);
      }
    }, POLL_MS);
    return this.show(outDir);
  }

  /** Whether a task of ours is writing `outDir` now. */
  isFollowing(outDir: string): boolean {
    return this.followed.get(outDir)?.running === true;
  }

  /** The execution of the task writing `outDir`, once executeTask has returned it. */
  attach(outDir: string, execution: vscode.TaskExecution): void {
    const f = this.followed.get(outDir);
    if (!f || !f.running) return;
    f.execution = execution;
    // A task that ended before executeTask returned: its end event is gone already.
    if (!vscode.tasks.taskExecutions.includes(execution)) this.ended(outDir, f, undefined);
  }

  private ended(outDir: string, f: Followed, exitCode: number | undefined): void {
    f.running = false;
    this.stopPolling(outDir);
    this.stats.endReads++;
    const data = this.refresh(outDir);
    this.log.info(`fine-tune task for ${outDir} ended (exit ${exitCode ?? '?'}): ${finetuneSummary(data)}; watcher events ${this.stats.watcherEvents}, poll changes ${this.stats.pollChanges} of ${this.stats.pollChecks} checks`);
    if (!f.concluded) {
      f.concluded = true;
      this.notify(outDir, `Layer Lens: fine-tuning ended${exitCode ? ` (exit code ${exitCode})` : ''}: ${finetuneSummary(data)}.${this.verdicts(data)}`, exitCode ? 'error' : 'info');
    }
  }

  /** Reads the folder, announces runs that ended since the last read, and updates an open panel. */
  private refresh(outDir: string): FinetuneResultsData {
    const data = this.read(outDir);
    const f = this.followed.get(outDir);
    const ends = this.remember(outDir, data);
    if (ends.length) {
      const c = compareFinetune(data).counts;
      const all = c.expected !== null && c.done + c.failed >= c.expected;
      for (const r of ends) {
        const last = all && r === ends[ends.length - 1] && f && !f.concluded;
        if (last) f.concluded = true;
        const acc = r.latest?.accuracy;
        const what = r.status === 'done' ? `finished${acc !== null && acc !== undefined ? `: accuracy ${(acc * 100).toFixed(1)}%` : ''}` : `failed: ${r.error ?? 'see the terminal'}`;
        this.notify(outDir, `Layer Lens: ${r.name}${r.seed === null ? '' : ` (seed ${r.seed})`} ${what} · ${finetuneSummary(data)}.${last ? this.verdicts(data) : ''}`, r.status === 'done' ? 'info' : 'error');
      }
    }
    this.sink.show(data, false);
    return data;
  }

  private verdicts(data: FinetuneResultsData): string {
    const c = compareFinetune(data);
    if (!c.baseline) return '';
    return c.groups.filter((g) => g !== c.baseline).map((g) => ` ${verdictLine(g, c.baseline!)}.`).join('');
  }

  /** Records each run's status; returns the runs that became done or failed since the last call. */
  private remember(outDir: string, data: FinetuneResultsData): FinetuneRun[] {
    const ends: FinetuneRun[] = [];
    for (const r of data.runs) {
      const key = `${outDir}\u0000${r.model}\u0000${r.seed}`;
      const before = this.known.get(key);
      if (before !== undefined && before !== r.status && r.status !== 'running') ends.push(r);
      // A run first seen already finished, while our task runs, ended between two reads.
      else if (before === undefined && r.status !== 'running' && this.followed.get(outDir)?.running && this.readOnce.has(outDir)) ends.push(r);
      this.known.set(key, r.status);
    }
    this.readOnce.add(outDir);
    return ends;
  }

  private notify(outDir: string, message: string, kind: 'info' | 'error'): void {
    this.stats.notices.push(message);
    this.log.info(message);
    const show = 'Show Comparison';
    void (kind === 'info' ? vscode.window.showInformationMessage(message, show) : vscode.window.showErrorMessage(message, show)).then((a) => {
      if (a === show) this.show(outDir);
    });
  }

  private stopPolling(outDir: string): void {
    const f = this.followed.get(outDir);
    if (f?.timer) clearInterval(f.timer);
    if (f) f.timer = undefined;
  }

  dispose(): void {
    for (const outDir of this.followed.keys()) this.stopPolling(outDir);
    this.followed.clear();
    for (const ds of this.watchers.values()) ds.forEach((d) => d.dispose());
    this.watchers.clear();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.disposables.forEach((d) => d.dispose());
  }
}
