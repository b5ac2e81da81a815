/** A progress bar on stderr: redrawn in place on a terminal, a line every 10% otherwise. */
export class ProgressBar {
  private lastTenth = -1;
  private readonly started = Date.now();

  constructor(private readonly total: number) {}

  update(done: number): void {
    const fraction = this.total ? done / this.total : 1;
    if (process.stderr.isTTY) {
      const width = 30;
      const filled = Math.round(fraction * width);
      const rate = done / Math.max((Date.now() - this.started) / 1000, 1e-3);
      process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total} sentences · ${rate.toFixed(1)}/s`);
    } else {
      const tenth = Math.floor(fraction * 10);
      if (tenth > this.lastTenth) {
        this.lastTenth = tenth;
        process.stderr.write(`probed ${done}/${this.total} sentences\n`);
      }
    }
  }

  done(): void {
    if (process.stderr.isTTY) process.stderr.write('\n');
  }
}
