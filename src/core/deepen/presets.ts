/**
 * Named ways to deepen an encoder, each producing a LayerPlan for a model with `n` layers:
 * - duplicate layer k next to itself (Kao et al. 2020);
 * - duplicate an inclusive range [from, to] right after itself;
 * - stack the whole encoder on top of itself (progressive stacking);
 * - SOLAR depth up-scaling: [0, n−m) followed by [m, n).
 */
import { checkPlanLength } from '../checkpoint/limits';
import { UserError } from '../errors';
import { LayerPlan, identityPlan, parsePlan } from './plan';

export type PresetSpec =
  | { kind: 'duplicate-layer'; layer: number }
  | { kind: 'duplicate-range'; from: number; to: number }
  | { kind: 'stack'; times?: number }
  | { kind: 'depth-upscale'; overlap: number };

function checkLayer(what: string, k: number, n: number): void {
  if (!Number.isInteger(k) || k < 0 || k >= n) {
    throw new UserError(`${what} ${k} is out of range: the model has layers 0-${n - 1}`);
  }
}

/** Layer k duplicated next to itself: 0..k, k, k+1..n−1. */
export function duplicateLayerPlan(n: number, k: number): LayerPlan {
  checkLayer('layer', k, n);
  const plan = identityPlan(n);
  plan.splice(k + 1, 0, k);
  return plan;
}

/** Layers from..to (inclusive) run twice in a row: 0..to, from..to, to+1..n−1. */
export function duplicateRangePlan(n: number, from: number, to: number): LayerPlan {
  checkLayer('range start', from, n);
  checkLayer('range end', to, n);
  if (to < from) throw new UserError(`range ${from}-${to} is descending; write it as ${to}-${from}`);
  const plan = identityPlan(n);
  const range = plan.slice(from, to + 1);
  plan.splice(to + 1, 0, ...range);
  return plan;
}

/** The whole encoder run `times` times in a row (progressive stacking doubles it: times = 2). */
export function stackPlan(n: number, times = 2): LayerPlan {
  if (!Number.isInteger(times) || times < 2) throw new UserError(`stack count must be an integer ≥ 2, got ${times}`);
  checkPlanLength(times * n, `stacking ${n} layers ${times} times`);
  return Array.from({ length: times }, () => identityPlan(n)).flat();
}

/**
 * SOLAR depth up-scaling: two copies of the encoder, the first without its top m layers and the
 * second without its bottom m layers, concatenated: [0, n−m) + [m, n). Depth becomes 2(n−m).
 */
export function depthUpscalePlan(n: number, m: number): LayerPlan {
  if (!Number.isInteger(m) || m < 0 || m >= n) {
    throw new UserError(`depth up-scaling removes m layers from each copy; m must be 0-${n - 1}, got ${m}`);
  }
  const plan: number[] = [];
  for (let i = 0; i < n - m; i++) plan.push(i);
  for (let i = m; i < n; i++) plan.push(i);
  return plan;
}

export function presetPlan(spec: PresetSpec, n: number): LayerPlan {
  const plan = presetPlanUnchecked(spec, n);
  checkPlanLength(plan.length, `preset ${spec.kind}`);
  return plan;
}

function presetPlanUnchecked(spec: PresetSpec, n: number): LayerPlan {
  switch (spec.kind) {
    case 'duplicate-layer':
      return duplicateLayerPlan(n, spec.layer);
    case 'duplicate-range':
      return duplicateRangePlan(n, spec.from, spec.to);
    case 'stack':
      return stackPlan(n, spec.times ?? 2);
    case 'depth-upscale':
      return depthUpscalePlan(n, spec.overlap);
    default: {
      const never: never = spec;
      throw new Error(`unknown preset ${JSON.stringify(never)}`);
    }
  }
}

export interface PresetInfo {
  id: string;
  label: string;
  detail: string;
  /** Text of the argument the user must supply, if any. */
  argument?: string;
}

/** For pickers and `--help`: the preset names accepted by parsePresetOrPlan. */
export const PRESETS: readonly PresetInfo[] = [
  { id: 'dup', label: 'Duplicate layer k', detail: 'run layer k twice in a row (Kao et al.)', argument: 'k, e.g. dup:11' },
  { id: 'dup-range', label: 'Duplicate a range', detail: 'run layers a..b twice in a row', argument: 'a-b, e.g. dup-range:8-11' },
  { id: 'stack', label: 'Stack the encoder', detail: 'run the whole encoder twice (progressive stacking)', argument: 'optional times, e.g. stack or stack:3' },
  { id: 'dus', label: 'Depth up-scaling (SOLAR)', detail: '[0, n−m) + [m, n)', argument: 'm, e.g. dus:2' },
];

/**
 * Accepts either an explicit plan ("0-11,11") or a preset written `name:arg`:
 * `dup:K`, `dup-range:A-B`, `stack`, `stack:T`, `dus:M`.
 */
export function parsePresetOrPlan(text: string, n: number): LayerPlan {
  const t = text.trim();
  const m = /^([a-z-]+)(?::(.*))?$/i.exec(t);
  if (!m) return parsePlan(t, n);
  const name = m[1].toLowerCase();
  const arg = m[2]?.trim();
  const int = (s: string | undefined, what: string): number => {
    if (s === undefined || !/^\d+$/.test(s)) {
      throw new UserError(`preset "${t}": ${what} must be a non-negative integer, e.g. ${name}:2`);
    }
    return Number(s);
  };
  const plan = presetByName(t, name, arg, n, int);
  checkPlanLength(plan.length, `preset "${t}"`);
  return plan;
}

function presetByName(t: string, name: string, arg: string | undefined, n: number, int: (s: string | undefined, what: string) => number): LayerPlan {
  switch (name) {
    case 'dup':
      return duplicateLayerPlan(n, int(arg, 'the layer'));
    case 'dup-range': {
      const r = /^(\d+)\s*-\s*(\d+)$/.exec(arg ?? '');
      if (!r) throw new UserError(`preset "${t}": give the range as a-b, e.g. dup-range:2-3`);
      return duplicateRangePlan(n, Number(r[1]), Number(r[2]));
    }
    case 'stack':
      return stackPlan(n, arg === undefined || arg === '' ? 2 : int(arg, 'the stack count'));
    case 'dus':
      return depthUpscalePlan(n, int(arg, 'm'));
    default:
      throw new UserError(`unknown preset "${name}"; presets: ${PRESETS.map((p) => p.id).join(', ')}; or give layer indices like "0-3,3"`);
  }
}
