/**
 * A model family is data, not a branch in a switch: its config.json names, the HF tensor
 * names of each weight in our generic layout, its embedding quirks, its MLM head.
 * Adding a family means adding one descriptor to ./index.ts.
 */

export type Activation = 'gelu' | 'gelu_tanh' | 'relu';

/** Weights of the generic encoder, as the probe graph and the reference forward pass see them. */
export type EmbeddingTensor = 'word' | 'position' | 'tokenType' | 'lnWeight' | 'lnBias' | 'projWeight' | 'projBias';
export type LayerTensor =
  | 'qWeight' | 'qBias' | 'kWeight' | 'kBias' | 'vWeight' | 'vBias'
  | 'attnOutWeight' | 'attnOutBias' | 'attnLnWeight' | 'attnLnBias'
  | 'ffnInWeight' | 'ffnInBias' | 'ffnOutWeight' | 'ffnOutBias' | 'outLnWeight' | 'outLnBias';
export type HeadTensor = 'denseWeight' | 'denseBias' | 'lnWeight' | 'lnBias' | 'decoderWeight' | 'bias';

export interface Dims {
  vocabSize: number;
  hiddenSize: number;
  /** Width of the token embeddings; differs from hiddenSize for ALBERT and small ELECTRA generators. */
  embeddingSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  maxPositions: number;
  typeVocabSize: number;
  layerNormEps: number;
  padTokenId: number;
}

export interface NormalizedConfig extends Dims {
  family: string;
  modelType: string;
  hiddenAct: Activation;
  headAct: Activation;
  /** Position ids start here (RoBERTa: padding_idx + 1). */
  positionOffset: number;
  /** How many distinct parameter sets the encoder has (ALBERT shares one group across all layers). */
  numLayerWeights: number;
  /** The config.json as read, kept so a writer can copy it faithfully. */
  raw: Record<string, unknown>;
}

export interface FamilyDescriptor {
  id: string;
  displayName: string;
  /** `model_type` values in config.json that this descriptor reads. */
  modelTypes: string[];
  /** config.json names for each dimension; the first one present wins. */
  configKeys: { [K in keyof Dims]?: string[] };
  defaults: Partial<Dims>;
  /** config.json names of the activation, first present wins. */
  activationKeys: string[];
  defaultActivation: string;
  /** Activation used inside the MLM head transform. Most families reuse the encoder's. */
  headActivation?: (raw: Record<string, unknown>) => string;
  positionOffset: (dims: Dims, raw: Record<string, unknown>) => number;
  /** Number of distinct encoder layer weight sets. */
  layerWeightCount?: (dims: Dims, raw: Record<string, unknown>) => number;
  /** HF tensor names, most common first. Layer names use `{i}` for the (weight-set) index. */
  embeddings: { [K in EmbeddingTensor]?: string[] };
  layer: { [K in LayerTensor]: string[] };
  head: { [K in HeadTensor]?: string[] };
  /** Prefix of one encoder layer's tensors, `{i}` for its index; used to renumber when deepening. */
  layerPrefix: string;
  /** How a deepened plan is described to the user (ALBERT: repetitions of a shared group). */
  planNote?: string;
  /** Hint shown when the MLM head is missing, e.g. for an ELECTRA discriminator. */
  missingHeadHint?: string;
  /** Fields worth explaining in config.json hovers, beyond the common ones. */
  fieldDocs?: Record<string, string>;
  /** The family's own config.json key for each generic field, for hovers and the deepen writer. */
  layerCountKey: string;
  /** Refuses a config this family's graph cannot run (e.g. ALBERT inner_group_num > 1): the reason, or undefined. */
  checkConfig?: (raw: Record<string, unknown>) => string | undefined;
  /**
   * Checkpoints of this model_type that are not masked LMs, recognised by their tensors (an ELECTRA
   * discriminator): when `present` exists and `absent` does not, the checkpoint is refused with `message`.
   */
  notMaskedLm?: { present: string; absent: string; message: string }[];
  /** Which tokenizer this family ships, for docs and fixtures. */
  tokenizerKind?: 'wordpiece' | 'bpe' | 'unigram';
}
