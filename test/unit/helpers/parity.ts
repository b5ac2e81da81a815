/**
 * One tie-aware comparison for every parity test (live HF, HF golden fixtures, the PyTorch
 * reference): log-probs within LOGP_TOLERANCE, and the same top-1 except where the reference's
 * own best and second-best log-probs are closer than NEAR_TIE (float32 rounding may swap them
 * there). Near-ties are counted and printed, never silently dropped.
 */

/** The issues' requirement, in log-probability (measured: a few 1e-6 in float32 against float64). */
export const LOGP_TOLERANCE = 1e-4;
/** The top-1 may differ only where the reference's top-1/top-2 gap is below this. */
export const NEAR_TIE = 1e-5;

export class ParityStats {
  maxDelta = 0;
  /** Log-probs compared. */
  values = 0;
  /** Positions whose top-1 was compared (layer × position cells). */
  cells = 0;
  sameTop1 = 0;
  /** Cells where the reference's top-2 gap is below NEAR_TIE (top-1 not required to agree). */
  nearTies = 0;
  /** Near-tie cells where the top-1 actually differed. */
  nearTieSwaps = 0;
  readonly failures: string[] = [];

  constructor(private readonly maxFailures = 12) {}

  fail(msg: string): void {
    if (this.failures.length < this.maxFailures) this.failures.push(msg);
    else if (this.failures.length === this.maxFailures) this.failures.push('… (more)');
  }

  /** One log-prob against the reference's. */
  logp(at: string, got: number, want: number, what = 'log-prob'): void {
    const d = Math.abs(got - want);
    this.values++;
    if (!(d <= this.maxDelta)) this.maxDelta = Number.isNaN(d) ? Infinity : d;
    if (!(d <= LOGP_TOLERANCE)) this.fail(`${at}: ${what} ${got} vs reference ${want} (|Δ| ${d.toExponential(2)})`);
  }

  /** The top-1 id; `gap` is the reference's best minus second-best log-prob (undefined: unknown, no tie allowed). */
  top1(at: string, got: number, want: number, gap: number | undefined): void {
    this.cells++;
    if (got === want) this.sameTop1++;
    if (gap !== undefined && gap < NEAR_TIE) {
      this.nearTies++;
      if (got !== want) this.nearTieSwaps++;
    } else if (got !== want) {
      this.fail(`${at}: top-1 ${got} vs reference ${want} (reference top-2 gap ${gap})`);
    }
  }

  /** Adds another comparison's counts into this one. */
  add(o: ParityStats): void {
    this.maxDelta = Math.max(this.maxDelta, o.maxDelta);
    this.values += o.values;
    this.cells += o.cells;
    this.sameTop1 += o.sameTop1;
    this.nearTies += o.nearTies;
    this.nearTieSwaps += o.nearTieSwaps;
    for (const f of o.failures) this.fail(f);
  }

  get top1Percent(): number {
    return this.cells === 0 ? NaN : (100 * this.sameTop1) / this.cells;
  }

  summary(): string {
    return (
      `max |Δ log-prob| ${this.maxDelta.toExponential(2)} over ${this.values} log-probs, ` +
      `top-1 identical on ${this.sameTop1}/${this.cells} (${this.top1Percent.toFixed(2)}%), ` +
      `${this.nearTies} near-ties (gap < ${NEAR_TIE}), ${this.nearTieSwaps} swapped`
    );
  }
}
