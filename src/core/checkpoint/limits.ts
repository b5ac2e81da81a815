/**
 * Sane limits on every config dimension and on layer-plan length, checked before anything is sized
 * from them: a config.json claiming 10^9 layers or a `stack:1000000` plan must end in one clear line,
 * not in a V8 out-of-memory crash.
 *
 * Each limit is far above any real encoder (the largest on the Hub: 48 layers, hidden 4096-ish,
 * vocabularies of 250k-500k, 8192-32768 positions), so no real model is refused, while anything
 * derived from them (plan arrays, per-layer graphs, position tables) stays small.
 */
import { UserError } from '../errors';
import type { Dims } from '../families/types';

export const LIMITS = {
  numLayers: 1024,
  hiddenSize: 65_536,
  embeddingSize: 65_536,
  intermediateSize: 262_144,
  vocabSize: 4_194_304,
  numHeads: 1024,
  maxPositions: 1_048_576,
  typeVocabSize: 1024,
} as const satisfies Partial<Record<keyof Dims, number>>;

/** The most layers a plan (probed or deepened) may have. */
export const MAX_PLAN_LAYERS = 1024;

/**
 * Throws a UserError naming the field when a dimension is out of its limit, or when pad_token_id
 * is not a token of the vocabulary. `names` gives the config.json key used for each dimension.
 */
export function checkConfigLimits(dims: Dims, file: string, configKeys: Partial<Record<keyof Dims, string[]>> = {}, raw: Record<string, unknown> = {}): void {
  const names: Partial<Record<keyof Dims, string>> = {};
  for (const [key, keys] of Object.entries(configKeys) as [keyof Dims, string[] | undefined][]) {
    names[key] = keys?.find((n) => raw[n] !== undefined && raw[n] !== null) ?? keys?.[0];
  }
  for (const [key, limit] of Object.entries(LIMITS) as [keyof typeof LIMITS, number][]) {
    const value = dims[key];
    if (value !== undefined && value > limit) {
      throw new UserError(`config.json field "${names[key] ?? key}" is ${value}, over Layer Lens's limit of ${limit}; no real model is that large`, file);
    }
  }
  if (dims.numHeads > dims.hiddenSize) {
    throw new UserError(`config.json has ${dims.numHeads} attention heads for hidden size ${dims.hiddenSize}: more heads than hidden units`, file);
  }
  const pad = dims.padTokenId;
  if (pad !== undefined && (!Number.isInteger(pad) || pad < 0 || pad >= dims.vocabSize)) {
    throw new UserError(`config.json field "${names.padTokenId ?? 'pad_token_id'}" is ${pad}, not a token id: the vocabulary has ids 0-${dims.vocabSize - 1}`, file);
  }
}

/** Throws when a plan of `length` layers (or one about to be built) is over MAX_PLAN_LAYERS. */
export function checkPlanLength(length: number, what = 'the layer plan'): void {
  if (!(length <= MAX_PLAN_LAYERS)) {
    const shown = Number.isFinite(length) && length < 1e15 ? String(length) : length.toExponential(2);
    throw new UserError(`${what} has ${shown} layers, over the limit of ${MAX_PLAN_LAYERS}`);
  }
}
