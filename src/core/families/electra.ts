import { bertArchitecture } from './architecture';
import { BERT_CONFIG_KEYS, bertStyleEmbeddings, bertStyleLayer } from './bert';
import { BERT_STYLE_FIELD_DOCS, checkAbsolutePositions } from './fieldDocs';
import { FamilyDescriptor } from './types';

/**
 * ELECTRA generator (ElectraForMaskedLM): BERT layers under `electra.`, embeddings of width
 * embedding_size projected by embeddings_project when it differs from hidden_size, and the
 * generator_predictions + generator_lm_head head, whose activation is always exact GELU.
 * Discriminators (ElectraForPreTraining) have no MLM head and are refused.
 */
export const electra: FamilyDescriptor = {
  id: 'electra',
  displayName: 'ELECTRA (generator)',
  modelTypes: ['electra'],
  configKeys: { ...BERT_CONFIG_KEYS, embeddingSize: ['embedding_size', 'hidden_size'] },
  defaults: { typeVocabSize: 2, layerNormEps: 1e-12, padTokenId: 0, maxPositions: 512 },
  activationKeys: ['hidden_act'],
  defaultActivation: 'gelu',
  // ElectraGeneratorPredictions: self.activation = get_activation("gelu").
  headActivation: () => 'gelu',
  architecture: bertArchitecture,
  positionOffset: () => 0,
  checkConfig: checkAbsolutePositions,
  embeddings: {
    ...bertStyleEmbeddings('electra'),
    projWeight: ['electra.embeddings_project.weight'],
    projBias: ['electra.embeddings_project.bias'],
  },
  layer: bertStyleLayer('electra'),
  head: {
    denseWeight: ['generator_predictions.dense.weight'],
    denseBias: ['generator_predictions.dense.bias'],
    lnWeight: ['generator_predictions.LayerNorm.weight'],
    lnBias: ['generator_predictions.LayerNorm.bias'],
    decoderWeight: ['generator_lm_head.weight', 'electra.embeddings.word_embeddings.weight'],
    bias: ['generator_lm_head.bias'],
  },
  notMaskedLm: [
    {
      present: 'discriminator_predictions.dense.weight',
      absent: 'generator_predictions.dense.weight',
      message:
        'this is an ELECTRA discriminator (ElectraForPreTraining: discriminator_predictions.*). It predicts "replaced or not" per token and has no masked-LM head, ' +
        'so there is nothing to probe its layers through. Use the matching generator checkpoint (e.g. google/electra-small-generator).',
    },
  ],
  layerPrefix: 'electra.encoder.layer.{i}.',
  layerCountKey: 'num_hidden_layers',
  tokenizerKind: 'wordpiece',
  missingHeadHint:
    'ELECTRA checkpoints need the generator head (generator_predictions.* and generator_lm_head.*): an ElectraForMaskedLM checkpoint. Discriminators and ElectraModel have no MLM head.',
  fieldDocs: {
    ...BERT_STYLE_FIELD_DOCS,
    embedding_size: 'Width E of the token embeddings. When it differs from hidden_size, embeddings_project maps E → hidden_size (h0 is taken after it) and the generator head maps back to E.',
    hidden_size: 'Width of every hidden state. Generators are usually smaller than their discriminator (e.g. 256 vs 768 for ELECTRA-base).',
    summary_type: 'Pooling for sequence-summary heads; not used by the probe.',
    summary_use_proj: 'Sequence-summary head setting; not used by the probe.',
    summary_activation: 'Sequence-summary head setting; not used by the probe.',
    summary_last_dropout: 'Sequence-summary head setting; not used by the probe.',
    hidden_act: 'Activation of the feed-forward block. The generator head always uses exact GELU.',
  },
};
