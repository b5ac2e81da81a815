/**
 * The fuzzing harness shared by the parser fuzz tests. The property for every parser: it returns
 * a result or throws our own UserError (or a subclass), within a time and a memory bound.
 *
 * Runs: LAYER_LENS_FUZZ_RUNS inputs per parser and seed (CI default below; `npm run fuzz` runs
 * many more). Seeds: a fixed one, plus a rotating one taken from the UTC date (or
 * LAYER_LENS_FUZZ_SEED), both printed so that a failure can be replayed:
 *   LAYER_LENS_FUZZ_SEED=<seed> npx mocha --config /dev/null out/test/unit/fuzz/parsers.fuzz.test.js
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { isUserError } from '../../../src/core/errors';

export const FIXED_SEED = 14;
export const ROTATING_SEED = process.env.LAYER_LENS_FUZZ_SEED !== undefined ? Number(process.env.LAYER_LENS_FUZZ_SEED) : Number(new Date().toISOString().slice(0, 10).replace(/-/g, ''));
export const RUNS = Number(process.env.LAYER_LENS_FUZZ_RUNS ?? 150);
/**
 * One input may take this long. Measured (6000 inputs per parser, 2 busy shared cores): typical
 * inputs take 0.1-20 ms; the slowest single input of any parser took 1.9 s (a GC pause or the
 * scheduler, not the input: replayed alone it takes milliseconds). A parser that hangs or goes
 * quadratic on a crafted length runs far past this.
 */
export const TIME_LIMIT_MS = Number(process.env.LAYER_LENS_FUZZ_TIME_MS ?? 5000);
/** RSS may grow by this much over the start of a parser's run (inputs are small: a leak or a huge allocation shows). */
export const RSS_GROWTH_LIMIT = 768 * 1024 * 1024;

export interface FuzzStats {
  parser: string;
  inputs: number;
  ok: number;
  userErrors: number;
  slowestMs: number;
  rssGrowthMb: number;
  /** Non-UserErrors that match a finding already reported to the owner of that code (see `Known`). */
  known: Record<string, number>;
}

/**
 * A finding in code another area owns, reported to its owner and not fixed on this branch: inputs
 * that fail this way are counted and printed, not failed. Any other failure still fails the test.
 * LAYER_LENS_FUZZ_STRICT=1 fails on these too (run it once the owner's fix is merged).
 */
export interface Known {
  what: string;
  pattern: RegExp;
}
const STRICT = process.env.LAYER_LENS_FUZZ_STRICT === '1';

export const allStats: FuzzStats[] = [];

/** What went wrong with one input, or undefined when the parser behaved. */
export function judge(run: () => unknown): { error?: unknown; ok: boolean; ms: number } {
  const t0 = performance.now();
  try {
    run();
    return { ok: true, ms: performance.now() - t0 };
  } catch (e) {
    return { ok: false, error: e, ms: performance.now() - t0 };
  }
}

/** Asserts the property over `arb` for the fixed and the rotating seed; `examples` (the reproducers) always run first. */
export function fuzzParser<T>(parser: string, arb: fc.Arbitrary<T>, run: (input: T) => unknown, examples: T[] = [], known: Known[] = []): FuzzStats {
  const stats: FuzzStats = { parser, inputs: 0, ok: 0, userErrors: 0, slowestMs: 0, rssGrowthMb: 0, known: {} };
  const rss0 = process.memoryUsage().rss;
  const property = fc.property(arb, (input) => {
    stats.inputs++;
    const r = judge(() => run(input));
    stats.slowestMs = Math.max(stats.slowestMs, r.ms);
    const growth = process.memoryUsage().rss - rss0;
    stats.rssGrowthMb = Math.max(stats.rssGrowthMb, growth / 2 ** 20);
    if (!r.ok) {
      if (!isUserError(r.error)) {
        const e = r.error as Error;
        const k = STRICT ? undefined : known.find((x) => x.pattern.test(`${e?.name}: ${e?.message}`));
        if (k) {
          stats.known[k.what] = (stats.known[k.what] ?? 0) + 1;
          return;
        }
        throw new Error(`${parser} threw ${e?.name ?? typeof e} instead of a UserError: ${e?.message ?? String(e)}\n${e?.stack?.split('\n').slice(1, 4).join('\n') ?? ''}`);
      }
      if ((r.error as Error).message.includes('\n')) throw new Error(`${parser}: the error is not one line: ${JSON.stringify((r.error as Error).message)}`);
      stats.userErrors++;
    } else stats.ok++;
    if (r.ms > TIME_LIMIT_MS) throw new Error(`${parser} took ${r.ms.toFixed(0)} ms on one input (limit ${TIME_LIMIT_MS} ms)`);
    if (growth > RSS_GROWTH_LIMIT) throw new Error(`${parser}: RSS grew by ${(growth / 2 ** 20).toFixed(0)} MB (limit ${RSS_GROWTH_LIMIT / 2 ** 20} MB)`);
  });
  for (const seed of [FIXED_SEED, ROTATING_SEED]) {
    fc.assert(property, { seed, numRuns: RUNS, examples: examples.map((e) => [e] as [T]), endOnFailure: true });
  }
  allStats.push(stats);
  return stats;
}

export function printStats(): void {
  console.log(`    fuzz seeds: fixed ${FIXED_SEED}, rotating ${ROTATING_SEED} (replay: LAYER_LENS_FUZZ_SEED=${ROTATING_SEED}); ${RUNS} runs per seed`);
  for (const s of allStats) {
    console.log(`    ${s.parser}: ${s.inputs} inputs, ${s.ok} parsed, ${s.userErrors} UserErrors, slowest ${s.slowestMs.toFixed(1)} ms, RSS +${s.rssGrowthMb.toFixed(0)} MB`);
    for (const [what, n] of Object.entries(s.known)) console.log(`      known, not fixed here: ${n} inputs: ${what}`);
  }
}

// ---- mutations of a valid seed file

export type Mutation =
  | { op: 'set'; at: number; byte: number }
  | { op: 'int'; at: number; width: 2 | 4 | 8; value: bigint }
  | { op: 'truncate'; at: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; length: number };

const INTERESTING = [0n, 1n, 0x7fn, 0x80n, 0xffn, 0xffffn, 0x7fffffffn, 0xffffffffn, 0x100000000n, 0x7fffffffffffffffn, 0xffffffffffffffffn, 2n ** 53n];

const fraction = fc.nat({ max: 1_000_000 }).map((n) => n / 1_000_000);

/** Positions are fractions of the input length, so the same mutation makes sense for any seed. */
export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), at: fraction, byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    op: fc.constant('int' as const),
    at: fraction,
    width: fc.constantFrom(2 as const, 4 as const, 8 as const),
    value: fc.oneof(fc.constantFrom(...INTERESTING), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
  }),
  fc.record({ op: fc.constant('truncate' as const), at: fraction }),
  fc.record({ op: fc.constant('insert' as const), at: fraction, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fraction, length: fc.integer({ min: 1, max: 64 }) }),
) as fc.Arbitrary<Mutation>;

export function mutate(seed: Uint8Array, mutations: Mutation[]): Buffer {
  let buf = Buffer.from(seed);
  for (const m of mutations) {
    const at = Math.min(buf.length, Math.floor(m.at * buf.length));
    if (m.op === 'set') {
      if (at < buf.length) buf[at] = m.byte;
    } else if (m.op === 'int') {
      const p = Math.max(0, Math.min(at, buf.length - m.width));
      if (buf.length >= m.width) {
        const v = m.value & ((1n << BigInt(8 * m.width)) - 1n);
        for (let i = 0; i < m.width; i++) buf[p + i] = Number((v >> BigInt(8 * i)) & 0xffn);
      }
    } else if (m.op === 'truncate') buf = buf.subarray(0, at);
    else if (m.op === 'insert') buf = Buffer.concat([buf.subarray(0, at), m.bytes, buf.subarray(at)]);
    else buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + m.length)]);
  }
  return buf;
}

/** A mutated copy of `seed`: 1 to 8 mutations, or raw random bytes now and then. */
export function mutatedBytes(seed: Uint8Array): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.array(mutationArb, { minLength: 1, maxLength: 2 }).map((ms) => mutate(seed, ms)) },
    { weight: 3, arbitrary: fc.array(mutationArb, { minLength: 3, maxLength: 8 }).map((ms) => mutate(seed, ms)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)) },
  );
}

/** Writes `bytes` to a fresh file in `dir` and returns its path. */
export function writeInput(dir: string, name: string, bytes: Uint8Array | string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

/** Replaces one randomly chosen value inside a JSON document by an arbitrary JSON value. */
export function jsonMutationArb(doc: unknown): fc.Arbitrary<unknown> {
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, p: (string | number)[]) => {
    paths.push(p);
    if (paths.length > 5000) return;
    if (Array.isArray(v)) v.slice(0, 50).forEach((x, i) => walk(x, [...p, i]));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...p, k]);
  };
  walk(doc, []);
  const value = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(-1, 1.5, 1e9, 1e300, -0, '', 'x', null, true, [], {}, [1, 2], { '0': 0 }, 2 ** 53 + 2),
  );
  return fc.array(fc.tuple(fc.nat({ max: paths.length - 1 }), value, fc.boolean()), { minLength: 1, maxLength: 4 }).map((edits) => {
    const copy = structuredClone(doc) as Record<string | number, unknown>;
    for (const [pi, v, remove] of edits) {
      const p = paths[pi];
      if (p.length === 0) return v;
      let parent: Record<string | number, unknown> | undefined = copy;
      for (const k of p.slice(0, -1)) parent = parent && typeof parent === 'object' ? (parent[k] as Record<string | number, unknown>) : undefined;
      if (!parent || typeof parent !== 'object') continue;
      const last = p[p.length - 1];
      if (remove && !Array.isArray(parent)) delete parent[last];
      else parent[last] = v;
    }
    return copy;
  });
}
