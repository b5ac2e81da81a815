/**
 * Binds a family's generic weight names to the tensors of one checkpoint, checking that each
 * exists and has the shape config.json implies. Everything downstream uses the generic names.
 */
import { UserError } from '../errors';
import { OPTIONAL_EMBEDDINGS, embeddingShapes, headShapes, layerShapes } from '../families/architecture';
import { EmbeddingTensor, FamilyDescriptor, HeadTensor, LayerTensor, NormalizedConfig } from '../families/types';
import { TensorEntry } from './safetensors';
import { WeightIndex } from './weights';

export interface ResolvedWeights {
  /** `word` always; the rest as the architecture requires (embeddingShapes). */
  embeddings: Partial<Record<EmbeddingTensor, TensorEntry>> & Record<'word', TensorEntry>;
  /** One entry per distinct weight set (ALBERT has one shared set), holding what layerShapes requires. */
  layers: Partial<Record<LayerTensor, TensorEntry>>[];
  /** What headShapes requires: the transform's tensors only for a transform head, biases only where they exist. */
  head: Partial<Record<HeadTensor, TensorEntry>> & Record<'decoderWeight', TensorEntry>;
}

export function resolveWeights(family: FamilyDescriptor, config: NormalizedConfig, weights: WeightIndex): ResolvedWeights {
  const { hiddenSize: H, embeddingSize: E } = config;
  const arch = config.architecture;
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
  const missing = (names: string[] | undefined, index?: number, hint?: string, what?: string): never => {
    const name = (names?.[0] ?? `?`).replace('{i}', String(index));
    if (!names?.length) {
      throw new Error(`internal: family ${family.id} names no tensor for ${what} that its architecture requires`);
    }
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

  const embShapes = embeddingShapes(arch, config);
  const embeddings: Partial<Record<EmbeddingTensor, TensorEntry>> = {};
  for (const key of Object.keys(embShapes) as EmbeddingTensor[]) {
    const entry = find(family.embeddings[key]);
    if (!entry) {
      if (OPTIONAL_EMBEDDINGS.has(key)) continue;
      missing(family.embeddings[key], undefined, undefined, `embeddings.${key}`);
    } else {
      embeddings[key] = check(entry, embShapes[key]!, `embeddings.${key}`);
    }
  }
  if (E !== H && !embeddings.projWeight) {
    missing(family.embeddings.projWeight, undefined, `embedding size ${E} differs from hidden size ${H}, so a projection is needed`, 'embeddings.projWeight');
  }

  const layers: Partial<Record<LayerTensor, TensorEntry>>[] = [];
  for (let i = 0; i < config.numLayerWeights; i++) {
    const shapes = layerShapes(arch, config, i);
    const layer: Partial<Record<LayerTensor, TensorEntry>> = {};
    for (const key of Object.keys(shapes) as LayerTensor[]) {
      const entry = find(family.layer[key], i) ?? missing(family.layer[key], i, undefined, `layer.${key}`);
      layer[key] = check(entry, shapes[key]!, `layer ${i} ${key}`);
    }
    layers.push(layer);
  }

  const hShapes = headShapes(arch, config);
  const head: Partial<Record<HeadTensor, TensorEntry>> = {};
  const tied = family.tiedDecoder?.(config.raw) ?? false;
  for (const key of Object.keys(hShapes) as HeadTensor[]) {
    const names = key === 'decoderWeight' && tied ? [...(family.head[key] ?? []), ...(family.embeddings.word ?? [])] : family.head[key];
    const entry = find(names) ?? missing(family.head[key], undefined, family.missingHeadHint, `head.${key}`);
    head[key] = check(entry, hShapes[key]!, `MLM head ${key}`);
  }
  return { embeddings, layers, head } as ResolvedWeights;
}

/** A tensor the architecture requires, for the graph builder and the reference pass (resolution has checked it). */
export function required<K extends string>(tensors: Partial<Record<K, TensorEntry>>, key: K): TensorEntry {
  const entry = tensors[key];
  if (!entry) throw new Error(`internal: tensor ${key} missing after resolution`);
  return entry;
}

/** TF-converted checkpoints name LayerNorm parameters gamma/beta. */
function legacyNames(name: string): string[] {
  if (/(LayerNorm|layer_norm|_ln)\.weight$/i.test(name)) return [name.replace(/\.weight$/, '.gamma')];
  if (/(LayerNorm|layer_norm|_ln)\.bias$/i.test(name)) return [name.replace(/\.bias$/, '.beta')];
  return [];
}
