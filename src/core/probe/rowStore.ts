/**
 * The per-sentence rows of a corpus run, columnar in typed arrays: 8 bytes per sentence plus 12 per
 * sentence × layer, so 10^6 sentences of a 5-row plan hold 68 MB instead of a million objects.
 */
import { RowColumns } from './bootstrap';
import { SentenceRow } from './report';

export class RowStore implements RowColumns {
  sentences = 0;
  readonly layers: number;
  private index: Float64Array;
  count: Uint32Array;
  hits: Uint32Array;
  logp: Float64Array;

  constructor(layers: number) {
    this.layers = layers;
    this.index = new Float64Array(1024);
    this.count = new Uint32Array(1024);
    this.hits = new Uint32Array(1024 * layers);
    this.logp = new Float64Array(1024 * layers);
  }

  push(row: SentenceRow): void {
    if (this.sentences === this.index.length) this.grow();
    const k = this.sentences++;
    this.index[k] = row.i;
    this.count[k] = row.n;
    for (let l = 0; l < this.layers; l++) {
      this.hits[k * this.layers + l] = row.hits[l];
      this.logp[k * this.layers + l] = row.logp[l];
    }
  }

  row(k: number): SentenceRow {
    const L = this.layers;
    return { i: this.index[k], n: this.count[k], hits: Array.from(this.hits.subarray(k * L, (k + 1) * L)), logp: Array.from(this.logp.subarray(k * L, (k + 1) * L)) };
  }

  indexAt(k: number): number {
    return this.index[k];
  }

  /** Puts the rows in corpus order; returns the first corpus index held twice, if any. */
  sortByIndex(): number | undefined {
    const n = this.sentences;
    let sorted = true;
    for (let k = 1; k < n && sorted; k++) sorted = this.index[k - 1] < this.index[k];
    if (!sorted) {
      const order = Array.from({ length: n }, (_, k) => k).sort((a, b) => this.index[a] - this.index[b]);
      const L = this.layers;
      const index = new Float64Array(this.index.length);
      const count = new Uint32Array(this.count.length);
      const hits = new Uint32Array(this.hits.length);
      const logp = new Float64Array(this.logp.length);
      order.forEach((from, to) => {
        index[to] = this.index[from];
        count[to] = this.count[from];
        hits.set(this.hits.subarray(from * L, (from + 1) * L), to * L);
        logp.set(this.logp.subarray(from * L, (from + 1) * L), to * L);
      });
      Object.assign(this, { index, count, hits, logp });
    }
    for (let k = 1; k < n; k++) if (this.index[k - 1] === this.index[k]) return this.index[k];
    return undefined;
  }

  private grow(): void {
    const size = this.index.length * 2;
    const widen = <T extends Float64Array | Uint32Array>(a: T, n: number): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.set(a);
      return b;
    };
    this.index = widen(this.index, size);
    this.count = widen(this.count, size);
    this.hits = widen(this.hits, size * this.layers);
    this.logp = widen(this.logp, size * this.layers);
  }
}
