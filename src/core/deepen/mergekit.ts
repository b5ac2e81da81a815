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

export function parseMergekitYaml(text: string, numLayers: number): MergekitPlan {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new UserError(`mergekit config is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new UserError('mergekit config must be a YAML mapping with "slices" and "merge_method: passthrough"');
  }
  const d = doc as Record<string, unknown>;
  const method = d.merge_method;
  if (method === undefined) throw new UserError('mergekit config has no "merge_method"; Layer Lens reads only "merge_method: passthrough"');
  if (method !== 'passthrough') {
    throw new UserError(
      `mergekit merge_method "${String(method)}" is not supported: Layer Lens only reorders and duplicates layers of one model ("passthrough")`,
    );
  }
  if ('models' in d) {
    throw new UserError('mergekit "models:" lists are for weight-averaging merges; a passthrough plan uses "slices:" with one model');
  }
  if ('parameters' in d) throw new UserError('mergekit top-level "parameters" (e.g. scale) cannot be honoured: layers are copied unchanged');
  for (const key of Object.keys(d)) {
    if (!TOP_KEYS.has(key)) throw new UserError(`mergekit key "${key}" is not supported in a passthrough plan`);
  }
  if (d.base_model !== undefined && typeof d.base_model !== 'string') throw new UserError('mergekit "base_model" must be a model name');
  if (!Array.isArray(d.slices) || d.slices.length === 0) throw new UserError('mergekit config needs a non-empty "slices" list');

  const plan: number[] = [];
  let model: string | undefined = typeof d.base_model === 'string' ? d.base_model : undefined;
  let modelFrom = model !== undefined ? 'base_model' : '';
  d.slices.forEach((slice: unknown, si: number) => {
    const where = `slice ${si + 1}`;
    if (typeof slice !== 'object' || slice === null || Array.isArray(slice)) throw new UserError(`${where} must be a mapping with "sources"`);
    const s = slice as Record<string, unknown>;
    for (const key of Object.keys(s)) {
      if (key === 'parameters') throw new UserError(`${where} has "parameters" (e.g. scale), which cannot be honoured: layers are copied unchanged`);
      if (key !== 'sources') throw new UserError(`${where} has unsupported key "${key}"`);
    }
    if (!Array.isArray(s.sources) || s.sources.length === 0) throw new UserError(`${where} needs a "sources" list with one entry`);
    if (s.sources.length > 1) {
      throw new UserError(`${where} has ${s.sources.length} sources; a passthrough slice takes exactly one (merging several models is not supported)`);
    }
    const src = s.sources[0] as Record<string, unknown>;
    if (typeof src !== 'object' || src === null) throw new UserError(`${where} source must be a mapping with "model" and "layer_range"`);
    for (const key of Object.keys(src)) {
      if (key === 'parameters') throw new UserError(`${where} source has "parameters" (e.g. scale), which cannot be honoured: layers are copied unchanged`);
      if (key !== 'model' && key !== 'layer_range') throw new UserError(`${where} source has unsupported key "${key}"`);
    }
    if (src.model !== undefined) {
      if (typeof src.model !== 'string') throw new UserError(`${where} "model" must be a string`);
      if (model === undefined) {
        model = src.model;
        modelFrom = where;
      } else if (src.model !== model) {
        throw new UserError(
          `${where} uses model "${src.model}" but ${modelFrom} uses "${model}"; Layer Lens deepens one model at a time (several models are not supported)`,
        );
      }
    }
    const r = src.layer_range;
    if (!Array.isArray(r) || r.length !== 2 || !r.every((v) => Number.isInteger(v))) {
      throw new UserError(`${where} "layer_range" must be [start, end] (half-open), got ${JSON.stringify(r)}`);
    }
    const [a, b] = r as [number, number];
    if (a < 0 || b > numLayers) throw new UserError(`${where} layer_range [${a}, ${b}] is out of range: the model has layers 0-${numLayers - 1}, so ranges lie within [0, ${numLayers}]`);
    if (b <= a) throw new UserError(`${where} layer_range [${a}, ${b}] is empty; ranges are half-open [start, end) with end > start`);
    for (let i = a; i < b; i++) plan.push(i);
  });
  const out: MergekitPlan = { plan };
  if (model !== undefined) out.model = model;
  if (typeof d.dtype === 'string') out.dtype = d.dtype;
  return out;
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
