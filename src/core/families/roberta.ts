import { bertArchitecture } from './architecture';
import { BERT_CONFIG_KEYS, bertStyleEmbeddings, bertStyleLayer } from './bert';
import { BERT_STYLE_FIELD_DOCS, checkAbsolutePositions } from './fieldDocs';
import { FamilyDescriptor } from './types';

/**
 * RoBERTa and the models that share its code and tensor names: XLM-RoBERTa and CamemBERT
 * (both keep the `roberta.` prefix). Positions start at padding_idx + 1; one token type;
 * the head (`lm_head`) always uses exact GELU, whatever hidden_act says.
 */
function robertaLike(id: string, displayName: string, modelType: string, tokenizerKind: 'bpe' | 'unigram'): FamilyDescriptor {
  return {
    id,
    displayName,
    modelTypes: [modelType],
    configKeys: BERT_CONFIG_KEYS,
    defaults: { typeVocabSize: 1, layerNormEps: 1e-5, padTokenId: 1, maxPositions: 514 },
    activationKeys: ['hidden_act'],
    defaultActivation: 'gelu',
    // RobertaLMHead: dense → gelu (the exact one, hard-coded) → layer_norm → decoder.
    headActivation: () => 'gelu',
    // create_position_ids_from_input_ids: real tokens count from padding_idx + 1, pads get padding_idx.
    architecture: bertArchitecture,
    positionOffset: (dims) => dims.padTokenId + 1,
    checkConfig: checkAbsolutePositions,
    embeddings: bertStyleEmbeddings('roberta'),
    layer: bertStyleLayer('roberta'),
    head: {
      denseWeight: ['lm_head.dense.weight'],
      denseBias: ['lm_head.dense.bias'],
      lnWeight: ['lm_head.layer_norm.weight'],
      lnBias: ['lm_head.layer_norm.bias'],
      decoderWeight: ['lm_head.decoder.weight', 'roberta.embeddings.word_embeddings.weight'],
      bias: ['lm_head.bias', 'lm_head.decoder.bias'],
    },
    layerPrefix: 'roberta.encoder.layer.{i}.',
    layerCountKey: 'num_hidden_layers',
    tokenizerKind,
    missingHeadHint: `This looks like a ${displayName} base model without the masked-LM head (lm_head.*). Layer Lens needs a …ForMaskedLM checkpoint.`,
    fieldDocs: {
      ...BERT_STYLE_FIELD_DOCS,
      pad_token_id: 'Id of <pad> (padding_idx). Position ids of real tokens start at pad_token_id + 1, so max_position_embeddings is 2 more than the longest input.',
      max_position_embeddings: 'Rows of the position table. RoBERTa-style models skip the first pad_token_id + 1 rows, so the longest input is this minus pad_token_id + 1 (514 → 512).',
      type_vocab_size: 'RoBERTa-style models have a single token type (1): sentence pairs are told apart by </s></s> only.',
      layer_norm_eps: 'Epsilon inside every LayerNorm (1e-5 for RoBERTa-style models).',
      bos_token_id: 'Id of <s>, the sequence start.',
      eos_token_id: 'Id of </s>, the sequence end and separator.',
      hidden_act: 'Activation of the feed-forward block. The MLM head (lm_head) always uses exact GELU regardless.',
    },
  };
}

export const roberta = robertaLike('roberta', 'RoBERTa', 'roberta', 'bpe');
export const xlmRoberta = robertaLike('xlm-roberta', 'XLM-RoBERTa', 'xlm-roberta', 'unigram');
export const camembert = robertaLike('camembert', 'CamemBERT', 'camembert', 'unigram');
