import { BERT_STYLE_FIELD_DOCS } from './fieldDocs';
import { Architecture, Dims, FamilyDescriptor } from './types';

const layer = 'model.layers.{i}';

type Raw = Record<string, unknown>;

/**
 * Each layer's attention kind, as transformers 5.24's ModernBertConfig reads it: `layer_types`
 * when present, else "sliding_attention" for i % global_attn_every_n_layers ≠ 0 (default 3).
 */
export function modernBertLayerTypes(raw: Raw, numLayers: number): string[] {
  if (Array.isArray(raw.layer_types)) return raw.layer_types.map(String);
  const every = typeof raw.global_attn_every_n_layers === 'number' ? raw.global_attn_every_n_layers : 3;
  return Array.from({ length: numLayers }, (_, i) => (i % every !== 0 ? 'sliding_attention' : 'full_attention'));
}

/** rope_theta per layer type: rope_parameters[type].rope_theta, else the legacy global/local_rope_theta, else HF's defaults. */
function ropeTheta(raw: Raw, type: 'full_attention' | 'sliding_attention'): number {
  const params = raw.rope_parameters as Record<string, { rope_theta?: unknown } | undefined> | undefined;
  const fromParams = params && typeof params === 'object' ? params[type]?.rope_theta : undefined;
  if (typeof fromParams === 'number') return fromParams;
  const legacy = type === 'full_attention' ? raw.global_rope_theta : raw.local_rope_theta;
  if (typeof legacy === 'number') return legacy;
  return type === 'full_attention' ? 160_000 : 10_000;
}

function checkModernBert(raw: Raw): string | undefined {
  const layers = raw.num_hidden_layers;
  if (Array.isArray(raw.layer_types)) {
    const bad = raw.layer_types.find((t) => t !== 'full_attention' && t !== 'sliding_attention');
    if (bad !== undefined) return `layer_types holds ${JSON.stringify(bad)}; only "full_attention" and "sliding_attention" exist`;
    if (typeof layers === 'number' && raw.layer_types.length !== layers) {
      return `layer_types has ${raw.layer_types.length} entries but num_hidden_layers is ${layers}`;
    }
  }
  const every = raw.global_attn_every_n_layers;
  if (every !== undefined && (typeof every !== 'number' || !Number.isInteger(every) || every < 1)) {
    return `global_attn_every_n_layers must be a whole number ≥ 1, got ${JSON.stringify(every)}`;
  }
  const local = raw.local_attention ?? 128;
  if (typeof local !== 'number' || !Number.isInteger(local) || local < 2) {
    return `local_attention must be a whole number ≥ 2, got ${JSON.stringify(local)}`;
  }
  const params = raw.rope_parameters as Record<string, { rope_type?: unknown } | undefined> | undefined;
  for (const type of ['full_attention', 'sliding_attention']) {
    const ropeType = params && typeof params === 'object' ? params[type]?.rope_type : undefined;
    if (ropeType !== undefined && ropeType !== 'default') {
      return `rope_parameters.${type}.rope_type is ${JSON.stringify(ropeType)}; Layer Lens computes only the "default" rotary embedding`;
    }
  }
  if (raw.rope_scaling !== undefined && raw.rope_scaling !== null) return 'rope_scaling is set; Layer Lens computes only the default rotary embedding';
  const head = raw.head_dim;
  if (typeof head === 'number' && typeof raw.hidden_size === 'number' && typeof raw.num_attention_heads === 'number' && head * raw.num_attention_heads !== raw.hidden_size) {
    return `head_dim ${head} × num_attention_heads ${raw.num_attention_heads} differs from hidden_size ${raw.hidden_size}`;
  }
  return undefined;
}

function modernBertArchitecture(dims: Dims, raw: Raw): Architecture {
  const types = modernBertLayerTypes(raw, dims.numLayers);
  const halfWindow = Math.floor((typeof raw.local_attention === 'number' ? raw.local_attention : 128) / 2);
  const norm = { kind: 'layerNorm' as const, bias: raw.norm_bias === true };
  return {
    normPlacement: 'pre',
    norm,
    positions: { kind: 'rotary', theta: types.map((t) => ropeTheta(raw, t === 'sliding_attention' ? 'sliding_attention' : 'full_attention')) },
    qkv: 'fused',
    kvHeads: dims.numHeads,
    mlp: { kind: 'gated', fused: true },
    biases: {
      attention: raw.attention_bias === true,
      mlp: raw.mlp_bias === true,
      headDense: raw.classifier_bias === true,
      decoder: raw.decoder_bias !== false,
    },
    embeddingNorm: true,
    finalNorm: true,
    head: { kind: 'transform' },
    // HF builds attn_norm as nn.Identity for layer_idx 0, a LayerNorm elsewhere.
    layers: types.map((t, i) => ({ attention: t === 'sliding_attention' ? { kind: 'local', halfWindow } : { kind: 'global' }, attnNorm: i !== 0 })),
  };
}

/**
 * ModernBERT (also the ettin encoders and mmBERT): pre-norm layers over a LayerNorm of the token
 * embeddings, RoPE with a global and a local theta, sliding-window attention on local layers, a
 * GeGLU MLP, a final norm the lens applies to every state, and a dense → act → norm head tied to
 * the embeddings.
 */
export const modernbert: FamilyDescriptor = {
  id: 'modernbert',
  displayName: 'ModernBERT',
  modelTypes: ['modernbert'],
  configKeys: {
    vocabSize: ['vocab_size'],
    hiddenSize: ['hidden_size'],
    embeddingSize: ['hidden_size'],
    numLayers: ['num_hidden_layers'],
    numHeads: ['num_attention_heads'],
    intermediateSize: ['intermediate_size'],
    maxPositions: ['max_position_embeddings'],
    typeVocabSize: [],
    layerNormEps: ['norm_eps'],
    padTokenId: ['pad_token_id'],
  },
  defaults: { typeVocabSize: 1, layerNormEps: 1e-5, padTokenId: 50283, maxPositions: 8192, intermediateSize: 1152 },
  activationKeys: ['hidden_activation'],
  defaultActivation: 'gelu',
  headActivation: (raw) => (typeof raw.classifier_activation === 'string' ? raw.classifier_activation : 'gelu'),
  architecture: modernBertArchitecture,
  positionOffset: () => 0,
  checkConfig: checkModernBert,
  embeddings: {
    word: ['model.embeddings.tok_embeddings.weight'],
    lnWeight: ['model.embeddings.norm.weight'],
    lnBias: ['model.embeddings.norm.bias'],
    finalLnWeight: ['model.final_norm.weight'],
    finalLnBias: ['model.final_norm.bias'],
  },
  layer: {
    qkvWeight: [`${layer}.attn.Wqkv.weight`],
    qkvBias: [`${layer}.attn.Wqkv.bias`],
    attnOutWeight: [`${layer}.attn.Wo.weight`],
    attnOutBias: [`${layer}.attn.Wo.bias`],
    attnLnWeight: [`${layer}.attn_norm.weight`],
    attnLnBias: [`${layer}.attn_norm.bias`],
    ffnInWeight: [`${layer}.mlp.Wi.weight`],
    ffnInBias: [`${layer}.mlp.Wi.bias`],
    ffnOutWeight: [`${layer}.mlp.Wo.weight`],
    ffnOutBias: [`${layer}.mlp.Wo.bias`],
    outLnWeight: [`${layer}.mlp_norm.weight`],
    outLnBias: [`${layer}.mlp_norm.bias`],
  },
  head: {
    denseWeight: ['head.dense.weight'],
    denseBias: ['head.dense.bias'],
    lnWeight: ['head.norm.weight'],
    lnBias: ['head.norm.bias'],
    decoderWeight: ['decoder.weight', 'model.embeddings.tok_embeddings.weight'],
    bias: ['decoder.bias'],
  },
  layerPrefix: 'model.layers.{i}.',
  // layer_types is keyed on the index, so a copied layer must take its attention kind along.
  perLayerConfig: (raw, plan, sourceLayers) => {
    const types = modernBertLayerTypes(raw, sourceLayers);
    return { layer_types: plan.map((j) => types[j]) };
  },
  deepenPlanRule:
    'HF builds attn_norm as an identity for layer 0 and as a LayerNorm for every other index, so the plan must start with layer 0 and use it nowhere else (e.g. "0,1,1,2")',
  layerCountKey: 'num_hidden_layers',
  tokenizerKind: 'bpe',
  missingHeadHint:
    'This looks like a ModernBertModel checkpoint without the masked-LM head (head.* and decoder.*). Layer Lens needs ModernBertForMaskedLM.',
  fieldDocs: {
    vocab_size: BERT_STYLE_FIELD_DOCS.vocab_size,
    hidden_size: BERT_STYLE_FIELD_DOCS.hidden_size,
    num_hidden_layers: BERT_STYLE_FIELD_DOCS.num_hidden_layers,
    num_attention_heads: BERT_STYLE_FIELD_DOCS.num_attention_heads,
    intermediate_size: 'Width of each half of the GeGLU feed-forward block: mlp.Wi projects to 2 × intermediate_size (input and gate).',
    max_position_embeddings: 'Longest input the model was trained for (8192). There is no position table: positions enter through rotary embeddings.',
    pad_token_id: BERT_STYLE_FIELD_DOCS.pad_token_id,
    bos_token_id: BERT_STYLE_FIELD_DOCS.bos_token_id,
    eos_token_id: BERT_STYLE_FIELD_DOCS.eos_token_id,
    cls_token_id: 'Id of the [CLS] token that starts every input.',
    sep_token_id: 'Id of the [SEP] token that ends every input.',
    architectures: BERT_STYLE_FIELD_DOCS.architectures,
    model_type: BERT_STYLE_FIELD_DOCS.model_type,
    initializer_range: BERT_STYLE_FIELD_DOCS.initializer_range,
    initializer_cutoff_factor: 'Truncation of the random init used in training; irrelevant for a trained checkpoint.',
    transformers_version: BERT_STYLE_FIELD_DOCS.transformers_version,
    torch_dtype: BERT_STYLE_FIELD_DOCS.torch_dtype,
    dtype: BERT_STYLE_FIELD_DOCS.torch_dtype,
    hidden_activation: 'Activation inside the GeGLU block: act(input) × gate (gelu = exact erf GELU).',
    classifier_activation: 'Activation of the MLM head transform (head.dense → act → head.norm).',
    norm_eps: 'Epsilon inside every LayerNorm (embedding norm, attn_norm, mlp_norm, final_norm, head.norm).',
    norm_bias: 'Whether the LayerNorms have a bias (false in released ModernBERT models).',
    attention_bias: 'Whether attn.Wqkv and attn.Wo have biases (false in released models).',
    mlp_bias: 'Whether mlp.Wi and mlp.Wo have biases (false in released models).',
    classifier_bias: 'Whether head.dense has a bias (false in released models).',
    decoder_bias: 'Whether the decoder (tied to the token embeddings) adds a per-token bias (true in released models).',
    tie_word_embeddings: 'Whether the decoder shares the token-embedding matrix (true in released models).',
    global_attn_every_n_layers: 'Older configs: every n-th layer (0, n, 2n, …) attends globally, the others through a sliding window. transformers 5 turns it into layer_types.',
    layer_types: 'Attention kind of each layer: "full_attention" (every token) or "sliding_attention" (a window of local_attention tokens). A deepened model lists each copied layer\'s kind.',
    local_attention: 'Total width of the sliding window: a local layer\'s token i sees tokens j with |i − j| ≤ local_attention / 2.',
    global_rope_theta: 'Older configs: RoPE base of the global layers (160k).',
    local_rope_theta: 'Older configs: RoPE base of the local layers (10k; mmBERT uses 160k).',
    rope_parameters: 'RoPE settings per layer type: rope_theta of full_attention (global) and sliding_attention (local) layers. Layer Lens supports rope_type "default".',
    embedding_dropout: 'Dropout during training only; ignored by the probe.',
    attention_dropout: 'Dropout during training only; ignored by the probe.',
    mlp_dropout: 'Dropout during training only; ignored by the probe.',
    classifier_dropout: 'Dropout of a classification head; not used by the probe.',
    classifier_pooling: 'Pooling of a classification head; not used by the probe.',
    sparse_prediction: 'Training only: compute the MLM loss on masked positions alone. The probe reads every position.',
    sparse_pred_ignore_index: 'Training only: the label id skipped by sparse prediction.',
    deterministic_flash_attn: 'FlashAttention setting; the probe computes attention exactly, as HF\'s SDPA path.',
    reference_compile: 'torch.compile setting; has no effect on the probe.',
    repad_logits_with_grad: 'Unpadding setting of the FlashAttention path; has no effect on the probe.',
  },
};
