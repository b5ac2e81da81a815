import { bertArchitecture } from './architecture';
import { FamilyDescriptor } from './types';

/** Names shared by BERT-style encoders (BERT, RoBERTa, ELECTRA), `{p}` = the model prefix. */
export function bertStyleLayer(p: string): FamilyDescriptor['layer'] {
  const l = `${p}.encoder.layer.{i}`;
  return {
    qWeight: [`${l}.attention.self.query.weight`],
    qBias: [`${l}.attention.self.query.bias`],
    kWeight: [`${l}.attention.self.key.weight`],
    kBias: [`${l}.attention.self.key.bias`],
    vWeight: [`${l}.attention.self.value.weight`],
    vBias: [`${l}.attention.self.value.bias`],
    attnOutWeight: [`${l}.attention.output.dense.weight`],
    attnOutBias: [`${l}.attention.output.dense.bias`],
    attnLnWeight: [`${l}.attention.output.LayerNorm.weight`],
    attnLnBias: [`${l}.attention.output.LayerNorm.bias`],
    ffnInWeight: [`${l}.intermediate.dense.weight`],
    ffnInBias: [`${l}.intermediate.dense.bias`],
    ffnOutWeight: [`${l}.output.dense.weight`],
    ffnOutBias: [`${l}.output.dense.bias`],
    outLnWeight: [`${l}.output.LayerNorm.weight`],
    outLnBias: [`${l}.output.LayerNorm.bias`],
  };
}

export function bertStyleEmbeddings(p: string): FamilyDescriptor['embeddings'] {
  const e = `${p}.embeddings`;
  return {
    word: [`${e}.word_embeddings.weight`],
    position: [`${e}.position_embeddings.weight`],
    tokenType: [`${e}.token_type_embeddings.weight`],
    lnWeight: [`${e}.LayerNorm.weight`],
    lnBias: [`${e}.LayerNorm.bias`],
  };
}

export const BERT_CONFIG_KEYS: FamilyDescriptor['configKeys'] = {
  vocabSize: ['vocab_size'],
  hiddenSize: ['hidden_size'],
  embeddingSize: ['embedding_size', 'hidden_size'],
  numLayers: ['num_hidden_layers'],
  numHeads: ['num_attention_heads'],
  intermediateSize: ['intermediate_size'],
  maxPositions: ['max_position_embeddings'],
  typeVocabSize: ['type_vocab_size'],
  layerNormEps: ['layer_norm_eps'],
  padTokenId: ['pad_token_id'],
};

export const bert: FamilyDescriptor = {
  id: 'bert',
  displayName: 'BERT',
  modelTypes: ['bert'],
  configKeys: BERT_CONFIG_KEYS,
  defaults: { typeVocabSize: 2, layerNormEps: 1e-12, padTokenId: 0, maxPositions: 512 },
  activationKeys: ['hidden_act'],
  defaultActivation: 'gelu',
  architecture: bertArchitecture,
  positionOffset: () => 0,
  embeddings: bertStyleEmbeddings('bert'),
  layer: bertStyleLayer('bert'),
  head: {
    denseWeight: ['cls.predictions.transform.dense.weight'],
    denseBias: ['cls.predictions.transform.dense.bias'],
    lnWeight: ['cls.predictions.transform.LayerNorm.weight'],
    lnBias: ['cls.predictions.transform.LayerNorm.bias'],
    decoderWeight: ['cls.predictions.decoder.weight', 'bert.embeddings.word_embeddings.weight'],
    bias: ['cls.predictions.bias', 'cls.predictions.decoder.bias'],
  },
  layerPrefix: 'bert.encoder.layer.{i}.',
  layerCountKey: 'num_hidden_layers',
  missingHeadHint:
    'This looks like a BertModel checkpoint without the masked-LM head (cls.predictions.*). Layer Lens needs a BertForMaskedLM (or BertForPreTraining) checkpoint.',
};
