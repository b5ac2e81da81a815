import { BERT_STYLE_FIELD_DOCS } from './fieldDocs';
import { Architecture, Dims, FamilyDescriptor } from './types';

const layer = 'model.layers.{i}';

type Raw = Record<string, unknown>;

/** The rotary base as transformers 5.24's EuroBertConfig reads it: rope_parameters.rope_theta, else the legacy rope_theta, else 10k. */
function ropeTheta(raw: Raw): number {
  const params = raw.rope_parameters as { rope_theta?: unknown } | undefined;
  if (params && typeof params === 'object' && typeof params.rope_theta === 'number') return params.rope_theta;
  return typeof raw.rope_theta === 'number' ? raw.rope_theta : 10_000;
}

function kvHeads(raw: Raw, heads: number): number {
  return typeof raw.num_key_value_heads === 'number' ? raw.num_key_value_heads : heads;
}

function checkEuroBert(raw: Raw): string | undefined {
  const params = raw.rope_parameters as { rope_type?: unknown } | undefined;
  const ropeType = params && typeof params === 'object' ? params.rope_type : undefined;
  if (ropeType !== undefined && ropeType !== 'default') {
    return `rope_parameters.rope_type is ${JSON.stringify(ropeType)}; Layer Lens computes only the "default" rotary embedding`;
  }
  if (raw.rope_scaling !== undefined && raw.rope_scaling !== null) return 'rope_scaling is set; Layer Lens computes only the default rotary embedding';
  const kv = raw.num_key_value_heads;
  if (kv !== undefined && kv !== null && (typeof kv !== 'number' || !Number.isInteger(kv) || kv < 1)) {
    return `num_key_value_heads must be a whole number ≥ 1, got ${JSON.stringify(kv)}`;
  }
  const head = raw.head_dim;
  if (typeof head === 'number' && typeof raw.hidden_size === 'number' && typeof raw.num_attention_heads === 'number' && head * raw.num_attention_heads !== raw.hidden_size) {
    return `head_dim ${head} × num_attention_heads ${raw.num_attention_heads} differs from hidden_size ${raw.hidden_size}`;
  }
  if (typeof raw.pretraining_tp === 'number' && raw.pretraining_tp !== 1) return `pretraining_tp is ${raw.pretraining_tp}; only 1 is supported`;
  return undefined;
}

function euroBertArchitecture(dims: Dims, raw: Raw): Architecture {
  return {
    normPlacement: 'pre',
    norm: { kind: 'rmsNorm' },
    positions: { kind: 'rotary', theta: Array.from({ length: dims.numLayers }, () => ropeTheta(raw)) },
    qkv: 'separate',
    kvHeads: kvHeads(raw, dims.numHeads),
    mlp: { kind: 'gated', fused: false },
    // HF builds lm_head with bias=config.mlp_bias.
    biases: { attention: raw.attention_bias === true, mlp: raw.mlp_bias === true, headDense: false, decoder: raw.mlp_bias === true },
    embeddingNorm: false,
    finalNorm: true,
    head: { kind: 'linear' },
    layers: Array.from({ length: dims.numLayers }, () => ({ attention: { kind: 'global' as const }, attnNorm: true })),
  };
}

/**
 * EuroBERT: a Llama-style encoder. The token embeddings enter the layers as they are (no norm, no
 * positions); pre-norm RMSNorm layers with grouped-query attention, RoPE and a SiLU-gated MLP; a
 * final RMSNorm the lens applies to every state; an lm_head that is one linear map (untied unless
 * tie_word_embeddings).
 */
export const eurobert: FamilyDescriptor = {
  id: 'eurobert',
  displayName: 'EuroBERT',
  modelTypes: ['eurobert'],
  configKeys: {
    vocabSize: ['vocab_size'],
    hiddenSize: ['hidden_size'],
    embeddingSize: ['hidden_size'],
    numLayers: ['num_hidden_layers'],
    numHeads: ['num_attention_heads'],
    intermediateSize: ['intermediate_size'],
    maxPositions: ['max_position_embeddings'],
    typeVocabSize: [],
    layerNormEps: ['rms_norm_eps'],
    padTokenId: ['pad_token_id'],
  },
  defaults: { typeVocabSize: 1, layerNormEps: 1e-5, padTokenId: 128001, maxPositions: 8192, intermediateSize: 3072, vocabSize: 128256 },
  activationKeys: ['hidden_act'],
  defaultActivation: 'silu',
  architecture: euroBertArchitecture,
  positionOffset: () => 0,
  checkConfig: checkEuroBert,
  embeddings: {
    word: ['model.embed_tokens.weight'],
    finalLnWeight: ['model.norm.weight'],
  },
  layer: {
    qWeight: [`${layer}.self_attn.q_proj.weight`],
    qBias: [`${layer}.self_attn.q_proj.bias`],
    kWeight: [`${layer}.self_attn.k_proj.weight`],
    kBias: [`${layer}.self_attn.k_proj.bias`],
    vWeight: [`${layer}.self_attn.v_proj.weight`],
    vBias: [`${layer}.self_attn.v_proj.bias`],
    attnOutWeight: [`${layer}.self_attn.o_proj.weight`],
    attnOutBias: [`${layer}.self_attn.o_proj.bias`],
    attnLnWeight: [`${layer}.input_layernorm.weight`],
    ffnGateWeight: [`${layer}.mlp.gate_proj.weight`],
    ffnGateBias: [`${layer}.mlp.gate_proj.bias`],
    ffnInWeight: [`${layer}.mlp.up_proj.weight`],
    ffnInBias: [`${layer}.mlp.up_proj.bias`],
    ffnOutWeight: [`${layer}.mlp.down_proj.weight`],
    ffnOutBias: [`${layer}.mlp.down_proj.bias`],
    outLnWeight: [`${layer}.post_attention_layernorm.weight`],
  },
  head: {
    decoderWeight: ['lm_head.weight'],
    bias: ['lm_head.bias'],
  },
  tiedDecoder: (raw) => raw.tie_word_embeddings === true,
  layerPrefix: 'model.layers.{i}.',
  layerCountKey: 'num_hidden_layers',
  tokenizerKind: 'bpe',
  missingHeadHint:
    'This looks like a EuroBertModel checkpoint without the masked-LM head (lm_head.weight). Layer Lens needs EuroBertForMaskedLM.',
  fieldDocs: {
    vocab_size: BERT_STYLE_FIELD_DOCS.vocab_size,
    hidden_size: BERT_STYLE_FIELD_DOCS.hidden_size,
    num_hidden_layers: BERT_STYLE_FIELD_DOCS.num_hidden_layers,
    num_attention_heads: BERT_STYLE_FIELD_DOCS.num_attention_heads,
    num_key_value_heads: 'Key/value heads; fewer than num_attention_heads means grouped-query attention (each key/value head serves several query heads).',
    head_dim: 'Width of one attention head; must equal hidden_size / num_attention_heads.',
    intermediate_size: 'Width of the SiLU-gated feed-forward block: gate_proj and up_proj project to it, down_proj back.',
    hidden_act: 'Activation of the gate in the feed-forward block: act(gate_proj(x)) × up_proj(x) (silu in released models).',
    max_position_embeddings: 'Longest input the model was trained for (8192). There is no position table: positions enter through rotary embeddings.',
    rms_norm_eps: 'Epsilon inside every RMSNorm (input_layernorm, post_attention_layernorm, the final norm).',
    rope_theta: 'Older configs: the RoPE base of every layer.',
    rope_parameters: 'RoPE settings: rope_theta is the base of every layer. Layer Lens supports rope_type "default".',
    attention_bias: 'Whether q/k/v/o projections have biases (false in released models).',
    mlp_bias: 'Whether the feed-forward projections and lm_head have biases (false in released models).',
    tie_word_embeddings: 'Whether lm_head shares the token-embedding matrix (false in released EuroBERT models: the head is its own matrix).',
    mask_token_id: 'Id of <|mask|>, the token the model was trained to fill in.',
    pad_token_id: BERT_STYLE_FIELD_DOCS.pad_token_id,
    bos_token_id: BERT_STYLE_FIELD_DOCS.bos_token_id,
    eos_token_id: BERT_STYLE_FIELD_DOCS.eos_token_id,
    pretraining_tp: 'Tensor-parallel degree used in pretraining; must be 1.',
    classifier_pooling: 'Pooling of a classification head; not used by the probe.',
    attention_dropout: 'Dropout during training only; ignored by the probe.',
    use_cache: BERT_STYLE_FIELD_DOCS.use_cache,
    architectures: BERT_STYLE_FIELD_DOCS.architectures,
    model_type: BERT_STYLE_FIELD_DOCS.model_type,
    initializer_range: BERT_STYLE_FIELD_DOCS.initializer_range,
    transformers_version: BERT_STYLE_FIELD_DOCS.transformers_version,
    torch_dtype: BERT_STYLE_FIELD_DOCS.torch_dtype,
    dtype: BERT_STYLE_FIELD_DOCS.torch_dtype,
  },
};
