/**
 * The text of the hovers on a model's config.json, as pure functions (no `vscode` here, so the
 * unit tests cover them). configFeatures.ts finds the key under the cursor and parses the
 * document; this module explains the key: a size field gets its meaning plus derived facts
 * (parameter count, head size, probe rows) and the latest probe; any other field the family's
 * descriptor documents (`fieldDocs`, looked up through `model_type`) gets its explanation too.
 */
import { normalizeConfig } from '../core/checkpoint/config';
import { familyForModelType, supportedModelTypes } from '../core/families';
import { embeddingShapes, headShapes, layerShapes } from '../core/families/architecture';
import type { Dims, NormalizedConfig } from '../core/families/types';
import type { LayerSummary } from '../core/probe/report';
import { fmtNum } from '../shared/format';

/** What each hovered field means. Keys are the normalized dimension names. */
const DIM_DOCS: Partial<Record<keyof Dims, string>> = {
  numLayers: 'Number of Transformer encoder layers. The probe reads the hidden state after each one (h1…hL) plus the embeddings (h0), so a probe table has this many + 1 rows.',
  hiddenSize: 'Width of the hidden states (d_model): every layer reads and writes vectors of this size, and the MLM head maps them back to the vocabulary.',
  numHeads: 'Number of self-attention heads per layer. The hidden size is split evenly across them.',
  intermediateSize: 'Width of the feed-forward block inside each layer (usually 4 × hidden size).',
  vocabSize: 'Number of tokens in the vocabulary: the size of the embedding matrix and of the MLM head output.',
  maxPositions: 'Longest input the position embeddings cover, in tokens (special tokens included). Longer inputs are truncated.',
  embeddingSize: 'Width of the token embeddings, when it differs from the hidden size (ALBERT, small ELECTRA generators).',
};

const HOVERED_DIMS: (keyof Dims)[] = ['numLayers', 'hiddenSize', 'numHeads', 'intermediateSize', 'vocabSize', 'maxPositions', 'embeddingSize'];

/**
 * Parameter counts of the MLM model, from the tensors its architecture implies (the shapes the
 * checkpoint is checked against). A decoder tied to the embeddings is counted once; a pooler or a
 * classifier is not counted.
 */
export function parameterEstimate(c: NormalizedConfig): { embeddings: number; encoder: number; head: number; total: number; tiedDecoder: boolean } {
  const a = c.architecture;
  const size = (shapes: Partial<Record<string, number[]>>, skip: readonly string[] = []) =>
    Object.entries(shapes).reduce((n, [k, s]) => (skip.includes(k) || !s ? n : n + s.reduce((x, y) => x * y, 1)), 0);
  const emb = embeddingShapes(a, c);
  const finalNorm = ['finalLnWeight', 'finalLnBias'];
  const embeddings = size(emb, [...finalNorm, ...(c.embeddingSize === c.hiddenSize ? ['projWeight', 'projBias'] : [])]);
  let encoder = size(Object.fromEntries(finalNorm.map((k) => [k, emb[k as keyof typeof emb]])));
  for (let i = 0; i < c.numLayerWeights; i++) encoder += size(layerShapes(a, c, i));
  const family = familyForModelType(c.modelType);
  const tiedDecoder = family?.tiedDecoder ? family.tiedDecoder(c.raw) : c.raw.tie_word_embeddings !== false;
  const head = size(headShapes(a, c), tiedDecoder ? ['decoderWeight'] : []);
  return { embeddings, encoder, head, total: embeddings + encoder + head, tiedDecoder };
}

export function humanCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} K`;
  return String(n);
}

export interface SummaryLookup {
  latestSummary(modelDir: string): LatestProbe | undefined;
}

export interface LatestProbe {
  summary: LayerSummary[];
  planText: string;
  sentences: number;
  at: number;
}

/**
 * The markdown for a hover over top-level `key` of a parsed config.json; undefined when the JSON
 * is not a model config (no string `model_type`) or the key is one we do not explain.
 */
export function configHoverMarkdown(raw: unknown, key: string, latest?: LatestProbe): string | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const cfg = raw as Record<string, unknown>;
  const modelType = cfg.model_type;
  if (typeof modelType !== 'string') return undefined;
  const family = familyForModelType(modelType);
  let config: NormalizedConfig | undefined;
  let problem: string | undefined;
  try {
    config = normalizeConfig(cfg, 'config.json');
  } catch (e) {
    problem = (e as Error).message;
  }
  const lines: string[] = [];
  if (key === 'model_type') {
    lines.push(`**model_type** — which architecture family reads this checkpoint.`);
    lines.push(
      family
        ? `\n\n\`${modelType}\` is read by Layer Lens as **${family.displayName}**.`
        : `\n\n\`${modelType}\` is not supported by Layer Lens (supported: ${supportedModelTypes().join(', ')}).`,
    );
  } else {
    if (!family) return undefined;
    const dim = HOVERED_DIMS.find((d) => (family.configKeys[d] ?? []).includes(key));
    // A size field: the family's own words if it has them, else the generic ones. Any other field
    // the family documents (ALBERT num_hidden_groups, DistilBERT activation, …): its fieldDocs entry.
    const doc = family.fieldDocs?.[key] ?? (dim ? DIM_DOCS[dim] : undefined);
    if (!doc) return undefined;
    lines.push(`**${key}** — ${doc}`);
    if (!dim) lines.push(`\n\n_${family.displayName} config field._`);
  }
  if (config) {
    const p = parameterEstimate(config);
    lines.push(
      '\n\n' +
        [
          `- ${config.numLayers} layers, hidden ${config.hiddenSize}, ${config.numHeads} heads × head size **${config.hiddenSize / config.numHeads}**, FFN ${config.intermediateSize}`,
          `- ≈ **${humanCount(p.total)} parameters** (embeddings ${humanCount(p.embeddings)}, encoder ${humanCount(p.encoder)}, MLM head ${humanCount(p.head)}; decoder ${p.tiedDecoder ? 'tied' : 'untied'}, pooler excluded)`,
          `- a probe has **${config.numLayers + 1} rows** (h0…h${config.numLayers}); the MLM head runs ${config.numLayers + 1}× over a ${config.vocabSize.toLocaleString('en-US')}-token vocabulary`,
        ].join('\n'),
    );
  } else if (problem) {
    lines.push(`\n\n⚠ ${problem}`);
  }
  if (latest) {
    lines.push(`\n\n**Latest probe** (plan ${latest.planText}, ${latest.sentences} sentence${latest.sentences === 1 ? '' : 's'}):\n\n`);
    lines.push(summaryMarkdownTable(latest.summary));
  } else {
    lines.push('\n\n_No probe of this model yet in this session: use "Probe layers" above._');
  }
  return lines.join('');
}

export function summaryMarkdownTable(summary: LayerSummary[], maxRows = 25): string {
  const rows = summary.length > maxRows ? [...summary.slice(0, maxRows - 1), summary[summary.length - 1]] : summary;
  const out = ['| layer | accuracy | mean log p | median rank |', '|---|---:|---:|---:|'];
  for (const s of rows) out.push(`| ${s.label} | ${(s.accuracy * 100).toFixed(1)}% | ${fmtNum(s.meanLogProb)} | ${s.medianRank} |`);
  if (summary.length > maxRows) out.splice(out.length - 1, 0, '| … | | | |');
  return out.join('\n');
}

