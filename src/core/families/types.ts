/**
 * A model family is data, not a branch in a switch: its config.json names, the HF tensor
 * names of each weight in our generic layout, its embedding quirks, its MLM head.
 * Adding a family means adding one descriptor to ./index.ts.
 */

export type Activation = 'gelu' | 'gelu_tanh' | 'relu' | 'silu';

/**
 * The architecture of an encoder, as a set of small choices. The graph builder, the tensor
 * resolution and the reference forward pass all switch over these unions exhaustively, so a new
 * choice is a compile error everywhere it must be handled.
 */
export type NormPlacement = 'post' | 'pre';
export type NormKind = { kind: 'layerNorm'; bias: boolean } | { kind: 'rmsNorm' };
export type Positions =
  /** A learned table indexed by position id (offset by NormalizedConfig.positionOffset). */
  | { kind: 'learned' }
  /** Rotary embeddings on q and k; `theta[i]` is the base of weight set i (ModernBERT: global vs local layers). */
  | { kind: 'rotary'; theta: number[] }
  /** DeBERTa's disentangled attention: content↔position terms over bucketed relative distances. */
  | ({ kind: 'disentangled' } & DisentangledPositions);

/**
 * DeBERTa-v2's relative positions. Distance i − j maps to a bucket (log-spaced beyond ±buckets/2
 * when `buckets` > 0, as make_log_bucket_position), then to a row of rel_embeddings (2·span rows,
 * clamped). c2p adds q_i·Kpos[δ(i,j)], p2c adds k_j·Qpos[δ(i,j)], and every term is scaled by
 * 1/√(d·(1 + c2p + p2c)).
 */
export interface DisentangledPositions {
  /** A learned absolute table is also added to the embeddings (position_biased_input). */
  absolute: boolean;
  /** Rows of rel_embeddings are 2·span: position_buckets when > 0, else max_relative_positions. */
  span: number;
  /** position_buckets (0: no log buckets) and max_relative_positions. */
  buckets: number;
  maxRelative: number;
  c2p: boolean;
  p2c: boolean;
  /** The position projections are the layer's own query/key projections (share_att_key). */
  shareKey: boolean;
  /** rel_embeddings go through the encoder's LayerNorm first (norm_rel_ebd "layer_norm"). */
  normRel: boolean;
}
export type AttentionSpan = { kind: 'global' } | { kind: 'local'; halfWindow: number };
export type QkvLayout = 'separate' | 'fused';
export type MlpKind =
  | { kind: 'dense' }
  /** act(a) · b; fused: a and b are the two halves of one projection (ModernBERT Wi); else a = gate, b = up. */
  | { kind: 'gated'; fused: boolean };

/**
 * The MLM head over a (final-normed) state: BERT's transform (dense → act → norm) before the
 * decoder, or the decoder alone (EuroBERT's lm_head).
 */
export type HeadKind = { kind: 'transform' } | { kind: 'linear' };

export interface LayerArchitecture {
  /** Which keys this layer's queries may see: every token, or a band |i − j| ≤ halfWindow. */
  attention: AttentionSpan;
  /** False where the layer has no norm next to attention (ModernBERT layer 0: an identity). */
  attnNorm: boolean;
}

export interface Architecture {
  normPlacement: NormPlacement;
  norm: NormKind;
  positions: Positions;
  qkv: QkvLayout;
  /** Key/value heads; fewer than the query heads means grouped-query attention. */
  kvHeads: number;
  mlp: MlpKind;
  biases: { attention: boolean; mlp: boolean; headDense: boolean; decoder: boolean };
  /** A norm over the embedding sum (every family so far). A projection follows when embedding and hidden sizes differ. */
  embeddingNorm: boolean;
  /** A final norm after the last layer; the head then reads head(finalNorm(h_i)) for every state. */
  finalNorm: boolean;
  head: HeadKind;
  /** One entry per weight set. */
  layers: LayerArchitecture[];
}

/** Weights of the generic encoder, as the probe graph and the reference forward pass see them. */
/**
 * Model-level tensors outside the layers: the embeddings, and the final norm (`finalLn*`) that
 * pre-norm encoders apply after the last layer.
 */
export type EmbeddingTensor =
  | 'word' | 'position' | 'tokenType' | 'lnWeight' | 'lnBias' | 'projWeight' | 'projBias' | 'finalLnWeight' | 'finalLnBias'
  /** DeBERTa: the relative-position table and its LayerNorm. */
  | 'relEmbeddings' | 'relLnWeight' | 'relLnBias';
/**
 * One layer's tensors. `attnLn*` is the norm next to attention (after it when post-norm, before
 * it when pre-norm), `outLn*` the norm next to the MLP. `qkv*` is a fused projection; `ffnGate*`
 * the separate gate of a gated MLP (`ffnIn*` is then its up projection, or both halves when fused).
 */
export type LayerTensor =
  | 'qWeight' | 'qBias' | 'kWeight' | 'kBias' | 'vWeight' | 'vBias' | 'qkvWeight' | 'qkvBias'
  | 'attnOutWeight' | 'attnOutBias' | 'attnLnWeight' | 'attnLnBias'
  | 'ffnInWeight' | 'ffnInBias' | 'ffnGateWeight' | 'ffnGateBias' | 'ffnOutWeight' | 'ffnOutBias' | 'outLnWeight' | 'outLnBias'
  /** DeBERTa without share_att_key: the projections of rel_embeddings for c2p (key) and p2c (query). */
  | 'posKeyWeight' | 'posKeyBias' | 'posQueryWeight' | 'posQueryBias';
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
  architecture: Architecture;
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
  /** The architecture this config describes (post-LN BERT for the BERT-style families). */
  architecture: (dims: Dims, raw: Record<string, unknown>, numLayerWeights: number) => Architecture;
  embeddings: { [K in EmbeddingTensor]?: string[] };
  layer: { [K in LayerTensor]?: string[] };
  head: { [K in HeadTensor]?: string[] };
  /** Prefix of one encoder layer's tensors, `{i}` for its index; used to renumber when deepening. */
  layerPrefix: string;
  /**
   * config.json keys that describe the layers one by one (ModernBERT's `layer_types`), rewritten for
   * a deepened model whose layer k is source layer plan[k]. The writer then checks that the written
   * config gives every layer the architecture of the source layer it copies.
   */
  perLayerConfig?: (raw: Record<string, unknown>, plan: readonly number[], sourceLayers: number) => Record<string, unknown>;
  /** What a plan must respect because HF keys some layer structure on the index (shown when one does not). */
  deepenPlanRule?: string;
  /** How a deepened plan is described to the user (ALBERT: repetitions of a shared group). */
  planNote?: string;
  /** Whether the decoder is the word-embedding table (tie_word_embeddings) when it has no tensor of its own. */
  tiedDecoder?: (raw: Record<string, unknown>) => boolean;
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
