/** Reads config.json into one normalized shape, whatever the family calls its fields. */
import { UserError } from '../errors';
import { readJsonObject } from '../files';
import { checkConfigLimits } from './limits';
import { familyForModelType, supportedModelTypes } from '../families';
import { Activation, Dims, FamilyDescriptor, NormalizedConfig } from '../families/types';

const ACTIVATIONS: Record<string, Activation> = {
  gelu: 'gelu',
  gelu_new: 'gelu_tanh',
  gelu_pytorch_tanh: 'gelu_tanh',
  gelu_fast: 'gelu_tanh',
  relu: 'relu',
  silu: 'silu',
  swish: 'silu',
};

export function readConfigFile(file: string): NormalizedConfig {
  return normalizeConfig(readJsonObject(file, 'config.json'), file);
}

export function normalizeConfig(raw: Record<string, unknown>, file = 'config.json'): NormalizedConfig {
  const modelType = raw.model_type;
  if (typeof modelType !== 'string') {
    throw new UserError(`config.json has no "model_type"; supported: ${supportedModelTypes().join(', ')}`, file);
  }
  const family = familyForModelType(modelType);
  if (!family) {
    throw new UserError(
      `unsupported model_type "${modelType}"; Layer Lens supports: ${supportedModelTypes().join(', ')}`,
      file,
    );
  }
  const refusal = family.checkConfig?.(raw);
  if (refusal) throw new UserError(`${family.displayName}: ${refusal}`, file);
  const dims = readDims(family, raw, file);
  checkConfigLimits(dims, file, family.configKeys, raw);
  const hiddenAct = readActivation(family, raw, file);
  const headAct = family.headActivation ? parseActivation(family.headActivation(raw), file) : hiddenAct;
  if (dims.hiddenSize % dims.numHeads !== 0) {
    throw new UserError(`hidden size ${dims.hiddenSize} is not divisible by the ${dims.numHeads} attention heads`, file);
  }
  const numLayerWeights = family.layerWeightCount ? family.layerWeightCount(dims, raw) : dims.numLayers;
  const architecture = family.architecture(dims, raw, numLayerWeights);
  if (dims.numHeads % architecture.kvHeads !== 0) {
    throw new UserError(`the ${dims.numHeads} attention heads are not divisible by the ${architecture.kvHeads} key/value heads`, file);
  }
  return {
    ...dims,
    family: family.id,
    modelType,
    hiddenAct,
    headAct,
    positionOffset: family.positionOffset(dims, raw),
    numLayerWeights,
    architecture,
    raw,
  };
}

function readDims(family: FamilyDescriptor, raw: Record<string, unknown>, file: string): Dims {
  const out: Partial<Dims> = {};
  for (const key of Object.keys(family.configKeys) as (keyof Dims)[]) {
    const names = family.configKeys[key] ?? [];
    const name = names.find((n) => raw[n] !== undefined && raw[n] !== null);
    const value = name !== undefined ? raw[name] : family.defaults[key];
    if (value === undefined) {
      throw new UserError(`config.json is missing "${names[0]}"`, file);
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || (key !== 'layerNormEps' && !Number.isInteger(value))) {
      throw new UserError(`config.json field "${name}" must be a number, got ${JSON.stringify(value)}`, file);
    }
    if (key !== 'padTokenId' && value <= 0) {
      throw new UserError(`config.json field "${name}" must be positive, got ${value}`, file);
    }
    out[key] = value;
  }
  return out as Dims;
}

function readActivation(family: FamilyDescriptor, raw: Record<string, unknown>, file: string): Activation {
  const key = family.activationKeys.find((k) => raw[k] !== undefined);
  return parseActivation(key ? raw[key] : family.defaultActivation, file);
}

function parseActivation(value: unknown, file: string): Activation {
  const act = typeof value === 'string' ? ACTIVATIONS[value] : undefined;
  if (!act) {
    throw new UserError(
      `unsupported activation ${JSON.stringify(value)}; supported: ${Object.keys(ACTIVATIONS).join(', ')}`,
      file,
    );
  }
  return act;
}
