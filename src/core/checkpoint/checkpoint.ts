/** A checkpoint ready to probe: config, weights bound to the generic layout, tokenizer. */
import * as path from 'node:path';
import { familyForModelType } from '../families';
import { FamilyDescriptor, NormalizedConfig } from '../families/types';
import { readConfigFile } from './config';
import { locateModel, ModelLocation } from './locate';
import { resolveWeights, ResolvedWeights } from './resolve';
import { loadTokenizer, ModelTokenizer } from './tokenizer';
import { openWeights, WeightIndex } from './weights';

export interface Checkpoint {
  location: ModelLocation;
  name: string;
  config: NormalizedConfig;
  family: FamilyDescriptor;
  weights: WeightIndex;
  resolved: ResolvedWeights;
  tokenizer: ModelTokenizer;
}

export function loadCheckpoint(target: string): Checkpoint {
  const location = locateModel(target);
  const config = readConfigFile(location.configFile);
  const family = familyForModelType(config.modelType)!;
  const weights = openWeights(location.dir, location.weightsHint);
  const resolved = resolveWeights(family, config, weights);
  const tokenizer = loadTokenizer(location.dir, config.typeVocabSize);
  return { location, name: path.basename(location.dir), config, family, weights, resolved, tokenizer };
}

/** The dtype most of the weights are stored in, for display. */
export function weightsDtype(c: Checkpoint): string {
  return c.resolved.embeddings.word.dtype;
}
