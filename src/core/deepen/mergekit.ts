/**
 * mergekit `passthrough` YAML, the format people already share for layer-stacked models:
 *
 *   slices:
 *     - sources:
 *         - model: bert-base-uncased
 *           layer_range: [0, 12]      # half-open: layers 0..11
 *     - sources:
 *         - model: bert-base-uncased
 *           layer_range: [11, 12]
 *   merge_method: passthrough
 *
 * We honour exactly what a layer plan can express: one model, one source per slice, no
 * per-tensor parameters. Anything else is rejected with a message naming the offending part.
 */
import YAML from 'yaml';
import { MAX_PLAN_LAYERS } from '../checkpoint/limits';
import { UserError } from '../errors';
import { LayerPlan } from './plan';

export interface MergekitPlan {
  /** The `model` named by every slice (undefined if the YAML left it out). */
  model?: string;
  plan: LayerPlan;
  /** `dtype` from the YAML, if present (informational: the writer keeps the source's dtype). */
  dtype?: string;
}

const TOP_KEYS = new Set(['slices', 'merge_method', 'dtype', 'base_model', 'tokenizer_source', 'name']);

/**
 * Parses a mergekit passthrough config. `file` (the YAML file, when there is one) is named in every
 * error. YAML warnings (an unresolved tag such as `!!float` on a non-number) are errors here: the
 * yaml library would otherwise print them to stderr and go on with a string.
 */
export function parseMergekitYaml(text: string, numLayers: number, file?: string): MergekitPlan {
  const fail = (message: string) => new UserError(message, file);
  let doc: unknown;
  try {
    const parsed = YAML.parseDocument(text, { logLevel: 'silent', uniqueKeys: true });
    const problem = parsed.errors[0] ?? parsed.warnings[0];
    if (problem) throw problem;
    doc = parsed.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw fail(`mergekit config is not valid YAML: ${(e as Error).message.split('\n')[0].replace(/:$/, '')}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw fail('mergekit config must be a YAML mapping with "slices" and "merge_method: passthrough"');
  }
  const d = doc as Record<string, unknown>;
  const method = d.merge_method;
  if (method === undefined) throw fail('mergekit config has no "merge_method"; Layer Lens reads only "merge_method: passthrough"');
  if (method !== 'passthrough') {
    throw fail(
      `mergekit merge_method ${describe(method)} is not supported: Layer Lens only reorders and duplicates layers of one model ("passthrough")`,
    );
  }
  if ('models' in d) {
    throw fail('mergekit "models:" lists are for weight-averaging merges; a passthrough plan uses "slices:" with one model');
  }
  if ('parameters' in d) throw fail('mergekit top-level "parameters" (e.g. scale) cannot be honoured: layers are copied unchanged');
  for (const key of Object.keys(d)) {
    if (!TOP_KEYS.has(key)) throw fail(`mergekit key ${describe(key)} is not supported in a passthrough plan`);
  }
  if (d.base_model !== undefined && typeof d.base_model !== 'string') throw fail('mergekit "base_model" must be a model name');
  if (!Array.isArray(d.slices) || d.slices.length === 0) throw fail('mergekit config needs a non-empty "slices" list');

  const plan: number[] = [];
  let model: string | undefined = typeof d.base_model === 'string' ? d.base_model : undefined;
  let modelFrom = model !== undefined ? 'base_model' : '';
  const slices: unknown[] = d.slices;
  slices.forEach((slice: unknown, si: number) => {
    const where = `slice ${si + 1}`;
    if (typeof slice !== 'object' || slice === null || Array.isArray(slice)) throw fail(`${where} must be a mapping with "sources"`);
    const s = slice as Record<string, unknown>;
    for (const key of Object.keys(s)) {
      if (key === 'parameters') throw fail(`${where} has "parameters" (e.g. scale), which cannot be honoured: layers are copied unchanged`);
      if (key !== 'sources') throw fail(`${where} has unsupported key ${describe(key)}`);
    }
    if (!Array.isArray(s.sources) || s.sources.length === 0) throw fail(`${where} needs a "sources" list with one entry`);
    if (s.sources.length > 1) {
      throw fail(`${where} has ${s.sources.length} sources; a passthrough slice takes exactly one (merging several models is not supported)`);
    }
    const src = s.sources[0] as Record<string, unknown>;
    if (typeof src !== 'object' || src === null) throw fail(`${where} source must be a mapping with "model" and "layer_range"`);
    for (const key of Object.keys(src)) {
      if (key === 'parameters') throw fail(`${where} source has "parameters" (e.g. scale), which cannot be honoured: layers are copied unchanged`);
      if (key !== 'model' && key !== 'layer_range') throw fail(`${where} source has unsupported key ${describe(key)}`);
    }
    if (src.model !== undefined) {
      if (typeof src.model !== 'string') throw fail(`${where} "model" must be a string`);
      if (model === undefined) {
        model = src.model;
        modelFrom = where;
      } else if (src.model !== model) {
        throw fail(
          `${where} uses model ${describe(src.model)} but ${modelFrom} uses ${describe(model)}; Layer Lens deepens one model at a time (several models are not supported)`,
        );
      }
    }
    const r = src.layer_range;
    if (!Array.isArray(r) || r.length !== 2 || !r.every((v) => Number.isInteger(v))) {
      throw fail(`${where} "layer_range" must be [start, end] (half-open), got ${describe(r)}`);
    }
    const [a, b] = r as [number, number];
    if (a < 0 || b > numLayers) throw fail(`${where} layer_range [${a}, ${b}] is out of range: the model has layers 0-${numLayers - 1}, so ranges lie within [0, ${numLayers}]`);
    if (b <= a) throw fail(`${where} layer_range [${a}, ${b}] is empty; ranges are half-open [start, end) with end > start`);
    if (plan.length + (b - a) > MAX_PLAN_LAYERS) {
      throw fail(`mergekit config's slices add up to more than ${MAX_PLAN_LAYERS} layers (over the limit by ${where})`);
    }
    for (let i = a; i < b; i++) plan.push(i);
  });
  const out: MergekitPlan = { plan };
  if (model !== undefined) out.model = model;
  if (typeof d.dtype === 'string') out.dtype = d.dtype;
  return out;
}

/** A YAML value in a message: short, and safe for any value (a mapping with a `toString` key too). */
function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  let text: string;
  try {
    text = JSON.stringify(v) ?? typeof v;
  } catch {
    text = Array.isArray(v) ? 'a list' : 'a mapping';
  }
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/** Maximal runs of consecutive layers, as half-open [start, end) ranges. */
export function planToRanges(plan: LayerPlan): [number, number][] {
  const ranges: [number, number][] = [];
  for (const l of plan) {
    const last = ranges[ranges.length - 1];
    if (last && last[1] === l) last[1] = l + 1;
    else ranges.push([l, l + 1]);
  }
  return ranges;
}

export function printMergekitYaml(plan: LayerPlan, model: string, dtype?: string): string {
  if (plan.length === 0) throw new UserError('layer plan is empty');
  const doc = new YAML.Document({
    slices: planToRanges(plan).map(([a, b]) => ({ sources: [{ model, layer_range: [a, b] }] })),
    merge_method: 'passthrough',
    ...(dtype ? { dtype } : {}),
  });
  // layer_range reads best inline, as mergekit's own examples write it: [0, 12]
  YAML.visit(doc, {
    Pair(_, pair) {
      if (YAML.isScalar(pair.key) && pair.key.value === 'layer_range' && YAML.isSeq(pair.value)) pair.value.flow = true;
    },
  });
  return doc.toString({ flowCollectionPadding: false });
}

/** True if the text looks like YAML (a mapping) rather than a plan such as "0-3,3". */
export function looksLikeMergekit(text: string): boolean {
  return /(^|\n)\s*(slices|merge_method)\s*:/.test(text);
}
