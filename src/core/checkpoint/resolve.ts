/**
 * Binds a family's generic weight names to the tensors of one checkpoint, checking that each
 * exists and has the shape config.json implies. Everything downstream uses the generic names.
 */
import { UserError } from '../errors';
import { EmbeddingTensor, FamilyDescriptor, HeadTensor, LayerTensor, NormalizedConfig } from '../families/types';
import { TensorEntry } from './safetensors';
import { WeightIndex } from './weights';

export interface ResolvedWeights {
  embeddings: Partial<Record<EmbeddingTensor, TensorEntry>> & Record<'word' | 'position' | 'lnWeight' | 'lnBias', TensorEntry>;
  /** One entry per distinct weight set (ALBERT has one shared set). */
  layers: Record<LayerTensor, TensorEntry>[];
  head: Partial<Record<HeadTensor, TensorEntry>> & Record<'denseWeight' | 'denseBias' | 'lnWeight' | 'lnBias' | 'decoderWeight' | 'bias', TensorEntry>;
}

const OPTIONAL_EMBEDDINGS: ReadonlySet<EmbeddingTensor> = new Set(['tokenType', 'projWeight', 'projBias']);

export function resolveWeights(family: FamilyDescriptor, config: NormalizedConfig, weights: WeightIndex): ResolvedWeights {
  const { hiddenSize: H, embeddingSize: E, vocabSize: V, intermediateSize: I } = config;
  const find = (names: string[] | undefined, index?: number): TensorEntry | undefined => {
    for (const template of names ?? []) {
      const name = index === undefined ? template : template.replace('{i}', String(index));
      for (const candidate of [name, ...legacyNames(name)]) {
        const entry = weights.tensors.get(candidate);
        if (entry) return entry;
      }
    }
    return undefined;
  };
  for (const rule of family.notMaskedLm ?? []) {
    if (weights.tensors.has(rule.present) && !weights.tensors.has(rule.absent)) {
      throw new UserError(`cannot probe: ${rule.message}`, weights.displayFile);
    }
  }
  const missing = (names: string[] | undefined, index?: number, hint?: string): never => {
    const name = (names?.[0] ?? '?').replace('{i}', String(index));
    const hints = [hint, weights.missingHint].filter(Boolean).join(' ');
    throw new UserError(`missing tensor "${name}"${hints ? `. ${hints}` : ''}`, weights.displayFile);
  };
  const check = (entry: TensorEntry, expected: number[], field: string): TensorEntry => {
    if (entry.shape.length !== expected.length || entry.shape.some((d, i) => d !== expected[i])) {
      throw new UserError(
        `tensor "${entry.name}" has shape [${entry.shape.join(', ')}] but config.json implies [${expected.join(', ')}] (${field})`,
        weights.displayFile,
      );
    }
    if (!['F32', 'F16', 'BF16'].includes(entry.dtype)) {
      throw new UserError(`tensor "${entry.name}" has dtype ${entry.dtype}; weights must be F32, F16 or BF16`, weights.displayFile);
    }
    return entry;
  };

  const embShapes: Record<EmbeddingTensor, number[]> = {
    word: [V, E],
    position: [config.maxPositions, E],
    tokenType: [config.typeVocabSize, E],
    lnWeight: [E],
    lnBias: [E],
    projWeight: [H, E],
    projBias: [H],
  };
  const embeddings: Partial<Record<EmbeddingTensor, TensorEntry>> = {};
  for (const key of Object.keys(family.embeddings) as EmbeddingTensor[]) {
    const entry = find(family.embeddings[key]);
    if (!entry) {
      if (OPTIONAL_EMBEDDINGS.has(key)) continue;
      missing(family.embeddings[key]);
    } else {
      embeddings[key] = check(entry, embShapes[key], `embeddings.${key}`);
    }
  }
  if (E !== H && !embeddings.projWeight) {
    missing(family.embeddings.projWeight, undefined, `embedding size ${E} differs from hidden size ${H}, so a projection is needed`);
  }

  const layerShapes: Record<LayerTensor, number[]> = {
    qWeight: [H, H], qBias: [H], kWeight: [H, H], kBias: [H], vWeight: [H, H], vBias: [H],
    attnOutWeight: [H, H], attnOutBias: [H], attnLnWeight: [H], attnLnBias: [H],
    ffnInWeight: [I, H], ffnInBias: [I], ffnOutWeight: [H, I], ffnOutBias: [H], outLnWeight: [H], outLnBias: [H],
  };
  const layers: Record<LayerTensor, TensorEntry>[] = [];
  for (let i = 0; i < config.numLayerWeights; i++) {
    const layer = {} as Record<LayerTensor, TensorEntry>;
    for (const key of Object.keys(layerShapes) as LayerTensor[]) {
      const entry = find(family.layer[key], i) ?? missing(family.layer[key], i);
      layer[key] = check(entry, layerShapes[key], `layer ${i} ${key}`);
    }
    layers.push(layer);
  }

  const headShapes: Record<HeadTensor, number[]> = {
    denseWeight: [E, H], denseBias: [E], lnWeight: [E], lnBias: [E], decoderWeight: [V, E], bias: [V],
  };
  const head: Partial<Record<HeadTensor, TensorEntry>> = {};
  for (const key of Object.keys(headShapes) as HeadTensor[]) {
    const entry = find(family.head[key]) ?? missing(family.head[key], undefined, family.missingHeadHint);
    head[key] = check(entry, headShapes[key], `MLM head ${key}`);
  }
  return { embeddings, layers, head } as ResolvedWeights;
}

/** TF-converted checkpoints name LayerNorm parameters gamma/beta. */
function legacyNames(name: string): string[] {
  if (/(LayerNorm|layer_norm|_ln)\.weight$/i.test(name)) return [name.replace(/\.weight$/, '.gamma')];
  if (/(LayerNorm|layer_norm|_ln)\.bias$/i.test(name)) return [name.replace(/\.bias$/, '.beta')];
  return [];
}
