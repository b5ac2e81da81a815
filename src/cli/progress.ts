/**
 * A progress bar on stderr: redrawn in place on a terminal; otherwise a line every 10% and at least
 * every 10 seconds, with the rate and the time left, so a long corpus run in a log shows it is alive.
 */
const LINE_EVERY_MS = 10_000;

export class ProgressBar {
  private lastTenth = 0;
  private lastLine = Date.now();
  private readonly started = Date.now();

  constructor(private readonly total: number) {}

  update(done: number): void {
    const fraction = this.total ? done / this.total : 1;
    const seconds = Math.max((Date.now() - this.started) / 1000, 1e-3);
    const rate = done / seconds;
    const left = rate > 0 ? (this.total - done) / rate : NaN;
    if (process.stderr.isTTY) {
      const width = 30;
      const filled = Math.round(fraction * width);
      process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total} sentences · ${rate.toFixed(1)}/s · ${formatSeconds(left)} left `);
      return;
    }
    const tenth = Math.floor(fraction * 10);
    const now = Date.now();
    if (tenth > this.lastTenth || now - this.lastLine >= LINE_EVERY_MS || done === this.total) {
      this.lastTenth = tenth;
      this.lastLine = now;
      process.stderr.write(`probed ${done}/${this.total} sentences (${(fraction * 100).toFixed(1)}%) · ${rate.toFixed(1)}/s · ${formatSeconds(left)} left\n`);
    }
  }

  done(): void {
    if (process.stderr.isTTY) process.stderr.write('\n');
  }
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 90) return `${s.toFixed(0)} s`;
  if (s < 5400) return `${(s / 60).toFixed(0)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}
