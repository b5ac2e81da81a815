/**
 * A small runtime schema language for what crosses the webview boundary (messages and saved state):
 * each schema checks a value and names the first field that is wrong, and its TypeScript type is
 * inferred from it, so protocol.ts checks at compile time that the schema and the protocol types
 * agree. Objects are exact (an unknown key is an error), strings and arrays have length limits.
 */

export interface Schema<T> {
  /** Undefined when `value` fits, else what is wrong at `at` (a path such as `ui.view`). */
  check(value: unknown, at: string): string | undefined;
  /** Type carrier only (never set). */
  readonly _type?: T;
  /** Set on schemas made by opt(): the key may be absent. */
  readonly optional?: true;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

/** Short, safe description of any value for a message. */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return typeof v === 'object' ? 'an object' : typeof v;
}

const fail = (at: string, want: string, v: unknown) => `${at} is ${describeValue(v)}, expected ${want}`;

export const MAX_STRING = 1_000_000;

export function str(max = MAX_STRING): Schema<string> {
  return { check: (v, at) => (typeof v !== 'string' ? fail(at, 'a string', v) : v.length > max ? `${at} is longer than ${max} characters` : undefined) };
}

export function num(options: { int?: boolean; min?: number; max?: number } = {}): Schema<number> {
  const { int = false, min = -Infinity, max = Infinity } = options;
  const range = min > -Infinity && max < Infinity ? ` from ${min} to ${max}` : min > -Infinity ? ` ≥ ${min}` : max < Infinity ? ` ≤ ${max}` : '';
  const want = `${int ? 'an integer' : 'a finite number'}${range}`;
  return {
    check: (v, at) => (typeof v === 'number' && Number.isFinite(v) && (!int || Number.isInteger(v)) && v >= min && v <= max ? undefined : fail(at, want, v)),
  };
}

/** A metric: a number, or null where JSON (setState) turned NaN or ±Infinity into null. */
export function metric(): Schema<number> {
  return { check: (v, at) => (typeof v === 'number' || v === null ? undefined : fail(at, 'a number', v)) };
}

export function bool(): Schema<boolean> {
  return { check: (v, at) => (typeof v === 'boolean' ? undefined : fail(at, 'true or false', v)) };
}

export function lit<const T extends readonly (string | number | boolean | null)[]>(...values: T): Schema<T[number]> {
  return { check: (v, at) => (values.includes(v as T[number]) ? undefined : fail(at, values.map((x) => JSON.stringify(x)).join(' | '), v)) };
}

/** The first of two schemas that fits (for `number | string` and the like). */
export function either<A, B>(a: Schema<A>, b: Schema<B>, want: string): Schema<A | B> {
  return { check: (v, at) => (a.check(v, at) === undefined || b.check(v, at) === undefined ? undefined : fail(at, want, v)) };
}

export function nullable<T>(s: Schema<T>): Schema<T | null> {
  return { check: (v, at) => (v === null ? undefined : s.check(v, at)) };
}

export function opt<T>(s: Schema<T>): Schema<T> & { optional: true } {
  return { check: (v, at) => (v === undefined ? undefined : s.check(v, at)), optional: true };
}

export function arr<T>(item: Schema<T>, max: number): Schema<T[]> {
  return {
    check(v, at) {
      if (!Array.isArray(v)) return fail(at, 'an array', v);
      if (v.length > max) return `${at} has ${v.length} entries, over the limit of ${max}`;
      for (let i = 0; i < v.length; i++) {
        const e = item.check(v[i], `${at}[${i}]`);
        if (e) return e;
      }
      return undefined;
    },
  };
}

/** An object used as a map (string keys, e.g. a vocabulary by id), at most `max` entries. */
export function record<T>(value: Schema<T>, max: number): Schema<Record<string, T>> {
  return {
    check(v, at) {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(at, 'an object', v);
      const entries = Object.entries(v);
      if (entries.length > max) return `${at} has ${entries.length} entries, over the limit of ${max}`;
      for (const [k, x] of entries) {
        const e = value.check(x, `${at}.${k}`);
        if (e) return e;
      }
      return undefined;
    },
  };
}

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends { optional: true } ? K : never }[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type InferObject<S extends Shape> = Simplify<
  { [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> }
>;

export function obj<S extends Shape>(shape: S): Schema<InferObject<S>> {
  return {
    check(v, at) {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(at, 'an object', v);
      for (const k of Object.keys(v)) if (!Object.hasOwn(shape, k)) return `${at} has an unknown field ${describeValue(k)}`;
      for (const [k, s] of Object.entries(shape)) {
        const e = s.check((v as Record<string, unknown>)[k], at ? `${at}.${k}` : k);
        if (e) return e;
      }
      return undefined;
    },
  };
}

/** A union of objects told apart by their `type` field. */
export function tagged<S extends Record<string, Schema<object>>>(variants: S): Schema<{ [K in keyof S]: Simplify<{ type: K } & Infer<S[K]>> }[keyof S]> {
  return {
    check(v, at) {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(at || 'the message', 'an object', v);
      const type = (v as { type?: unknown }).type;
      if (typeof type !== 'string' || !Object.hasOwn(variants, type)) return fail(at ? `${at}.type` : 'type', Object.keys(variants).map((k) => JSON.stringify(k)).join(' | '), type);
      const { type: _, ...rest } = v as Record<string, unknown>;
      return variants[type].check(rest, at);
    },
  };
}

/** Compile-time check that two types are mutually assignable (schema vs protocol type). */
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/**
 * Same, and also the same field names at every depth: mutual assignability alone lets either side
 * lack an optional field, which is how a report field once went missing from the saved-state schema
 * (a revived run with it was dropped as "unknown field"). Not for unions of objects.
 */
export type SameFields<A, B> = Same<A, B> extends true ? (FieldsMatch<A, B> extends true ? true : false) : false;

type FieldsMatch<A, B> = [A] extends [readonly (infer X)[]]
  ? [B] extends [readonly (infer Y)[]] ? FieldsMatch<X, Y> : false
  : [A] extends [object]
    ? [B] extends [object]
      ? string extends keyof A ? true : number extends keyof A ? true // records: Same has compared them
      : [keyof A] extends [keyof B]
        ? [keyof B] extends [keyof A]
          ? false extends { [K in keyof A & keyof B]-?: FieldsMatch<NonNullable<A[K]>, NonNullable<B[K]>> }[keyof A & keyof B] ? false : true
          : false
        : false
      : false
    : true;
