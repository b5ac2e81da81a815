/** Hover text for config.json fields, shared by the BERT-style families; each family adds its own. */
export const BERT_STYLE_FIELD_DOCS: Record<string, string> = {
  vocab_size: 'Number of token ids: rows of the word-embedding matrix and width of the MLM head output.',
  hidden_size: 'Width of every hidden state h0…hL, the vectors the probe feeds to the MLM head.',
  num_hidden_layers: 'Number of encoder layers. The probe reports h0 (embeddings) plus one row per layer; deepening changes this.',
  num_attention_heads: 'Attention heads per layer; hidden_size must be divisible by it.',
  intermediate_size: 'Width of the feed-forward block inside each layer.',
  hidden_act: 'Activation of the feed-forward block (gelu = exact erf GELU; gelu_new / gelu_pytorch_tanh = tanh approximation; relu).',
  max_position_embeddings: 'Rows of the position-embedding table: the longest input the model can read.',
  type_vocab_size: 'Number of segment (token type) ids; 2 for sentence pairs.',
  layer_norm_eps: 'Epsilon inside every LayerNorm.',
  pad_token_id: 'Id of the padding token.',
  hidden_dropout_prob: 'Dropout during training only; the probe runs in eval mode and ignores it.',
  attention_probs_dropout_prob: 'Attention dropout during training only; ignored by the probe.',
  initializer_range: 'Std of the random init used in training; irrelevant for a trained checkpoint.',
  position_embedding_type: 'Layer Lens supports "absolute" position embeddings.',
  architectures: 'The HF class this checkpoint was saved from; Layer Lens needs a masked-LM head (…ForMaskedLM or …ForPreTraining).',
  model_type: 'Selects the model family: which tensor names and config fields Layer Lens reads.',
  bos_token_id: 'Id of the sequence-start token.',
  eos_token_id: 'Id of the sequence-end token.',
  use_cache: 'Decoder key/value caching; has no effect on an encoder.',
  transformers_version: 'The transformers version that wrote this file.',
  torch_dtype: 'The dtype the weights were saved in (float32, float16, bfloat16).',
};

/** Refuses relative position embeddings (relative_key / relative_key_query), which the probe graph does not compute. */
export function checkAbsolutePositions(raw: Record<string, unknown>): string | undefined {
  const kind = raw.position_embedding_type;
  if (kind === undefined || kind === null || kind === 'absolute') return undefined;
  return `position_embedding_type is ${JSON.stringify(kind)}; Layer Lens computes only "absolute" position embeddings`;
}
