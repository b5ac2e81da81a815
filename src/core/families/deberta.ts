import { BERT_STYLE_FIELD_DOCS } from './fieldDocs';
import { bertArchitecture } from './architecture';
import { Architecture, Dims, DisentangledPositions, FamilyDescriptor } from './types';

const layer = 'deberta.encoder.layer.{i}';

type Raw = Record<string, unknown>;

/** pos_att_type as DebertaV2Config reads it: "p2c|c2p" or a list. */
function posAttTypes(raw: Raw): string[] {
  const v = raw.pos_att_type;
  if (typeof v === 'string') return v.toLowerCase().split('|').map((x) => x.trim()).filter(Boolean);
  return Array.isArray(v) ? v.map((x) => String(x).trim().toLowerCase()) : [];
}

function relativePositions(raw: Raw, maxPositions: number): DisentangledPositions {
  const maxRel = typeof raw.max_relative_positions === 'number' && raw.max_relative_positions >= 1 ? raw.max_relative_positions : maxPositions;
  const buckets = typeof raw.position_buckets === 'number' && raw.position_buckets > 0 ? raw.position_buckets : 0;
  const types = posAttTypes(raw);
  const normRel = typeof raw.norm_rel_ebd === 'string' && raw.norm_rel_ebd.toLowerCase().split('|').map((x) => x.trim()).includes('layer_norm');
  return {
    absolute: raw.position_biased_input !== false,
    span: buckets > 0 ? buckets : maxRel,
    buckets,
    maxRelative: maxRel,
    c2p: types.includes('c2p'),
    p2c: types.includes('p2c'),
    shareKey: raw.share_att_key === true,
    normRel,
  };
}

function checkDeberta(raw: Raw): string | undefined {
  if (typeof raw.type_vocab_size === 'number' && raw.type_vocab_size > 0) return `type_vocab_size is ${raw.type_vocab_size}; Layer Lens reads DeBERTa-v2 without token type embeddings (0, as released)`;
  if (typeof raw.embedding_size === 'number' && raw.embedding_size !== raw.hidden_size) return `embedding_size ${raw.embedding_size} differs from hidden_size ${raw.hidden_size}; not supported for DeBERTa-v2`;
  if (typeof raw.conv_kernel_size === 'number' && raw.conv_kernel_size > 0) {
    return `conv_kernel_size is ${raw.conv_kernel_size}: the convolution after layer 0 (DeBERTa-v2 xlarge/xxlarge) is not supported`;
  }
  const unknown = posAttTypes(raw).filter((t) => t !== 'c2p' && t !== 'p2c');
  if (unknown.length) return `pos_att_type holds ${JSON.stringify(unknown.join('|'))}; only c2p and p2c exist in DeBERTa-v2`;
  if (raw.relative_attention !== true && raw.position_biased_input === false) return 'neither relative_attention nor position_biased_input is set: the model has no positions';
  const size = raw.attention_head_size;
  if (typeof size === 'number' && typeof raw.hidden_size === 'number' && typeof raw.num_attention_heads === 'number' && size * raw.num_attention_heads !== raw.hidden_size) {
    return `attention_head_size ${size} × num_attention_heads ${raw.num_attention_heads} differs from hidden_size ${raw.hidden_size}`;
  }
  return undefined;
}

function debertaArchitecture(dims: Dims, raw: Raw, numLayerWeights: number): Architecture {
  const bert = bertArchitecture(dims, raw, numLayerWeights);
  // Post-LN BERT layers; with relative_attention, disentangled attention in every layer.
  return raw.relative_attention === true ? { ...bert, positions: { kind: 'disentangled', ...relativePositions(raw, dims.maxPositions) } } : bert;
}

/**
 * DeBERTa-v2 and v3 (model_type deberta-v2): post-LN BERT layers whose attention adds
 * content→position and position→content terms over log-bucketed relative distances
 * (rel_embeddings, optionally normed, projected by the layer's own query/key with share_att_key).
 * The MLM head is lm_predictions.lm_head.* (or the legacy cls.predictions.*), tied to the word
 * embeddings. HF does not implement the Enhanced Mask Decoder, so the last layer's predictions
 * are HF's, not those of DeBERTa's own pretraining setup.
 */
export const deberta: FamilyDescriptor = {
  id: 'deberta-v2',
  displayName: 'DeBERTa-v2',
  modelTypes: ['deberta-v2'],
  configKeys: {
    vocabSize: ['vocab_size'],
    hiddenSize: ['hidden_size'],
    embeddingSize: ['hidden_size'],
    numLayers: ['num_hidden_layers'],
    numHeads: ['num_attention_heads'],
    intermediateSize: ['intermediate_size'],
    maxPositions: ['max_position_embeddings'],
    typeVocabSize: [],
    layerNormEps: ['layer_norm_eps'],
    padTokenId: ['pad_token_id'],
  },
  defaults: { typeVocabSize: 1, layerNormEps: 1e-7, padTokenId: 0, maxPositions: 512 },
  activationKeys: ['hidden_act'],
  defaultActivation: 'gelu',
  architecture: debertaArchitecture,
  positionOffset: () => 0,
  checkConfig: checkDeberta,
  embeddings: {
    word: ['deberta.embeddings.word_embeddings.weight'],
    position: ['deberta.embeddings.position_embeddings.weight'],
    lnWeight: ['deberta.embeddings.LayerNorm.weight'],
    lnBias: ['deberta.embeddings.LayerNorm.bias'],
    relEmbeddings: ['deberta.encoder.rel_embeddings.weight'],
    relLnWeight: ['deberta.encoder.LayerNorm.weight'],
    relLnBias: ['deberta.encoder.LayerNorm.bias'],
  },
  layer: {
    qWeight: [`${layer}.attention.self.query_proj.weight`],
    qBias: [`${layer}.attention.self.query_proj.bias`],
    kWeight: [`${layer}.attention.self.key_proj.weight`],
    kBias: [`${layer}.attention.self.key_proj.bias`],
    vWeight: [`${layer}.attention.self.value_proj.weight`],
    vBias: [`${layer}.attention.self.value_proj.bias`],
    posKeyWeight: [`${layer}.attention.self.pos_key_proj.weight`],
    posKeyBias: [`${layer}.attention.self.pos_key_proj.bias`],
    posQueryWeight: [`${layer}.attention.self.pos_query_proj.weight`],
    posQueryBias: [`${layer}.attention.self.pos_query_proj.bias`],
    attnOutWeight: [`${layer}.attention.output.dense.weight`],
    attnOutBias: [`${layer}.attention.output.dense.bias`],
    attnLnWeight: [`${layer}.attention.output.LayerNorm.weight`],
    attnLnBias: [`${layer}.attention.output.LayerNorm.bias`],
    ffnInWeight: [`${layer}.intermediate.dense.weight`],
    ffnInBias: [`${layer}.intermediate.dense.bias`],
    ffnOutWeight: [`${layer}.output.dense.weight`],
    ffnOutBias: [`${layer}.output.dense.bias`],
    outLnWeight: [`${layer}.output.LayerNorm.weight`],
    outLnBias: [`${layer}.output.LayerNorm.bias`],
  },
  // DebertaV2ForMaskedLM: lm_predictions.lm_head.* when legacy is false, cls.predictions.* when true.
  head: {
    denseWeight: ['lm_predictions.lm_head.dense.weight', 'cls.predictions.transform.dense.weight'],
    denseBias: ['lm_predictions.lm_head.dense.bias', 'cls.predictions.transform.dense.bias'],
    lnWeight: ['lm_predictions.lm_head.LayerNorm.weight', 'cls.predictions.transform.LayerNorm.weight'],
    lnBias: ['lm_predictions.lm_head.LayerNorm.bias', 'cls.predictions.transform.LayerNorm.bias'],
    decoderWeight: ['cls.predictions.decoder.weight', 'deberta.embeddings.word_embeddings.weight'],
    bias: ['lm_predictions.lm_head.bias', 'cls.predictions.bias'],
  },
  layerPrefix: 'deberta.encoder.layer.{i}.',
  layerCountKey: 'num_hidden_layers',
  tokenizerKind: 'unigram',
  missingHeadHint:
    'DeBERTa-v3 checkpoints on the Hub (microsoft/deberta-v3-*) are replaced-token-detection discriminators with no masked-LM head, ' +
    'so there is nothing to read their layers through; Layer Lens needs a DebertaV2ForMaskedLM generator (lm_predictions.* or cls.predictions.*).',
  fieldDocs: {
    vocab_size: BERT_STYLE_FIELD_DOCS.vocab_size,
    hidden_size: BERT_STYLE_FIELD_DOCS.hidden_size,
    num_hidden_layers: BERT_STYLE_FIELD_DOCS.num_hidden_layers,
    num_attention_heads: BERT_STYLE_FIELD_DOCS.num_attention_heads,
    intermediate_size: BERT_STYLE_FIELD_DOCS.intermediate_size,
    hidden_act: BERT_STYLE_FIELD_DOCS.hidden_act,
    max_position_embeddings: 'Longest input the model reads; with position_biased_input false there is no absolute table, only relative positions.',
    type_vocab_size: 'Segment (token type) ids; 0 in released DeBERTa-v2/v3 models (no token type embeddings).',
    layer_norm_eps: BERT_STYLE_FIELD_DOCS.layer_norm_eps,
    pad_token_id: BERT_STYLE_FIELD_DOCS.pad_token_id,
    relative_attention: 'Disentangled attention: each layer adds content→position and position→content terms over relative distances.',
    max_relative_positions: 'Longest relative distance (−1: max_position_embeddings); log buckets reach it.',
    position_buckets: 'Relative distances within ±position_buckets/2 are kept exactly, farther ones share log-spaced buckets (256 in v3).',
    pos_att_type: 'Which disentangled terms are added: c2p (query content × key position) and/or p2c (key content × query position).',
    share_att_key: 'The relative embeddings are projected by the layer\'s own query/key projections (true in v3); else by pos_key_proj / pos_query_proj.',
    norm_rel_ebd: '"layer_norm": the relative embeddings go through the encoder LayerNorm first.',
    position_biased_input: 'Whether an absolute position table is also added to the embeddings (false in v2/v3).',
    legacy: 'Head layout: true reads cls.predictions.*, false lm_predictions.lm_head.* (Layer Lens reads either).',
    conv_kernel_size: 'Kernel of the convolution after layer 0 (xlarge/xxlarge); Layer Lens refuses it.',
    attention_head_size: 'Width of one head; must equal hidden_size / num_attention_heads.',
    hidden_dropout_prob: BERT_STYLE_FIELD_DOCS.hidden_dropout_prob,
    attention_probs_dropout_prob: BERT_STYLE_FIELD_DOCS.attention_probs_dropout_prob,
    pooler_dropout: 'Dropout of the classification pooler; not used by the probe.',
    pooler_hidden_act: 'Activation of the classification pooler; not used by the probe.',
    pooler_hidden_size: 'Width of the classification pooler; not used by the probe.',
    initializer_range: BERT_STYLE_FIELD_DOCS.initializer_range,
    architectures: BERT_STYLE_FIELD_DOCS.architectures,
    model_type: BERT_STYLE_FIELD_DOCS.model_type,
    bos_token_id: BERT_STYLE_FIELD_DOCS.bos_token_id,
    eos_token_id: BERT_STYLE_FIELD_DOCS.eos_token_id,
    tie_word_embeddings: 'The MLM decoder is the word-embedding matrix (always, in DeBERTa-v2).',
    transformers_version: BERT_STYLE_FIELD_DOCS.transformers_version,
    torch_dtype: BERT_STYLE_FIELD_DOCS.torch_dtype,
    dtype: BERT_STYLE_FIELD_DOCS.torch_dtype,
  },
};
