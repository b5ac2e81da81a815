import { bertArchitecture } from './architecture';
import { BERT_CONFIG_KEYS } from './bert';
import { BERT_STYLE_FIELD_DOCS, checkAbsolutePositions } from './fieldDocs';
import { FamilyDescriptor } from './types';

const layer = 'albert.encoder.albert_layer_groups.{i}.albert_layers.0';

/**
 * ALBERT: factorized embeddings (embedding_size E, projected to hidden_size H by
 * embedding_hidden_mapping_in), and num_hidden_groups weight sets shared by the
 * num_hidden_layers applications. A "layer" in a plan is one application of a group.
 */
export const albert: FamilyDescriptor = {
  id: 'albert',
  displayName: 'ALBERT',
  modelTypes: ['albert'],
  configKeys: { ...BERT_CONFIG_KEYS, embeddingSize: ['embedding_size'] },
  defaults: { embeddingSize: 128, typeVocabSize: 2, layerNormEps: 1e-12, padTokenId: 0, maxPositions: 512 },
  activationKeys: ['hidden_act'],
  defaultActivation: 'gelu_new',
  architecture: bertArchitecture,
  positionOffset: () => 0,
  layerWeightCount: (dims, raw) => (typeof raw.num_hidden_groups === 'number' ? raw.num_hidden_groups : 1),
  checkConfig: (raw) => {
    const inner = raw.inner_group_num ?? 1;
    if (inner !== 1) {
      return `inner_group_num is ${JSON.stringify(inner)}: Layer Lens supports ALBERT models with one layer per group (inner_group_num 1), as all released ALBERT checkpoints are`;
    }
    const groups = raw.num_hidden_groups ?? 1;
    const layers = raw.num_hidden_layers;
    if (typeof groups !== 'number' || !Number.isInteger(groups) || groups < 1 || (typeof layers === 'number' && groups > layers)) {
      return `num_hidden_groups must be a whole number between 1 and num_hidden_layers, got ${JSON.stringify(groups)}`;
    }
    return checkAbsolutePositions(raw);
  },
  embeddings: {
    word: ['albert.embeddings.word_embeddings.weight'],
    position: ['albert.embeddings.position_embeddings.weight'],
    tokenType: ['albert.embeddings.token_type_embeddings.weight'],
    lnWeight: ['albert.embeddings.LayerNorm.weight'],
    lnBias: ['albert.embeddings.LayerNorm.bias'],
    projWeight: ['albert.encoder.embedding_hidden_mapping_in.weight'],
    projBias: ['albert.encoder.embedding_hidden_mapping_in.bias'],
  },
  layer: {
    qWeight: [`${layer}.attention.query.weight`],
    qBias: [`${layer}.attention.query.bias`],
    kWeight: [`${layer}.attention.key.weight`],
    kBias: [`${layer}.attention.key.bias`],
    vWeight: [`${layer}.attention.value.weight`],
    vBias: [`${layer}.attention.value.bias`],
    attnOutWeight: [`${layer}.attention.dense.weight`],
    attnOutBias: [`${layer}.attention.dense.bias`],
    attnLnWeight: [`${layer}.attention.LayerNorm.weight`],
    attnLnBias: [`${layer}.attention.LayerNorm.bias`],
    ffnInWeight: [`${layer}.ffn.weight`],
    ffnInBias: [`${layer}.ffn.bias`],
    ffnOutWeight: [`${layer}.ffn_output.weight`],
    ffnOutBias: [`${layer}.ffn_output.bias`],
    outLnWeight: [`${layer}.full_layer_layer_norm.weight`],
    outLnBias: [`${layer}.full_layer_layer_norm.bias`],
  },
  head: {
    denseWeight: ['predictions.dense.weight'],
    denseBias: ['predictions.dense.bias'],
    lnWeight: ['predictions.LayerNorm.weight'],
    lnBias: ['predictions.LayerNorm.bias'],
    decoderWeight: ['predictions.decoder.weight', 'albert.embeddings.word_embeddings.weight'],
    bias: ['predictions.bias', 'predictions.decoder.bias'],
  },
  layerPrefix: 'albert.encoder.albert_layer_groups.{i}.',
  layerCountKey: 'num_hidden_layers',
  tokenizerKind: 'unigram',
  planNote:
    'ALBERT shares one group of weights across all its layers: a plan entry is one more application of that group. ' +
    'Deepening adds repetitions (num_hidden_layers grows); no weights are copied.',
  missingHeadHint: 'This looks like an AlbertModel checkpoint without the masked-LM head (predictions.*). Layer Lens needs AlbertForMaskedLM or AlbertForPreTraining.',
  fieldDocs: {
    ...BERT_STYLE_FIELD_DOCS,
    embedding_size: 'Width E of the token embeddings (factorized: E is much smaller than hidden_size). embedding_hidden_mapping_in projects E → hidden_size; the MLM head projects back to E.',
    num_hidden_layers: 'How many times the shared layer group is applied. Deepening an ALBERT model raises this: more repetitions of the same weights.',
    num_hidden_groups: 'Number of distinct weight groups shared across the layers (1 in all released ALBERT models: every layer reuses the same weights).',
    inner_group_num: 'Layers inside each group (1 in released models; Layer Lens supports only 1).',
    hidden_act: 'Activation of the feed-forward block and of the MLM head; ALBERT uses gelu_new (tanh approximation).',
    classifier_dropout_prob: 'Dropout of a classification head; not used by the probe.',
  },
};
