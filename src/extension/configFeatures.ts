/**
 * Hovers and the CodeLens on a model's config.json. Only documents that really are model configs
 * (a top-level "model_type" string) get them. Locations come from jsonc-parser, as in VS Code's
 * own npm extension.
 */
import * as path from 'node:path';
import { getLocation, parseTree, findNodeAtLocation, Node as JsonNode } from 'jsonc-parser/lib/esm/main.js';
import * as vscode from 'vscode';
import { normalizeConfig } from '../core/checkpoint/config';
import { familyForModelType, supportedModelTypes } from '../core/families';
import type { Dims, NormalizedConfig } from '../core/families/types';
import type { LayerSummary } from '../core/probe/report';
import { fmtNum } from '../shared/format';

export const CONFIG_SELECTOR: vscode.DocumentSelector = [
  { language: 'json', pattern: '**/config.json' },
  { language: 'jsonc', pattern: '**/config.json' },
];

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

export function isModelConfigText(text: string): { root: JsonNode; modelType: string } | undefined {
  if (!/"model_type"\s*:/.test(text)) return undefined;
  const root = parseTree(text);
  if (!root || root.type !== 'object') return undefined;
  const node = findNodeAtLocation(root, ['model_type']);
  return node && typeof node.value === 'string' ? { root, modelType: node.value } : undefined;
}

/** Approximate parameter counts of the MLM model (pooler excluded; decoder tied to the embeddings). */
export function parameterEstimate(c: NormalizedConfig): { embeddings: number; encoder: number; head: number; total: number } {
  const { vocabSize: V, hiddenSize: H, embeddingSize: E, intermediateSize: I, maxPositions: P, typeVocabSize: T } = c;
  const embeddings = (V + P + T) * E + 2 * E + (E !== H ? E * H + H : 0);
  const perLayer = 4 * H * H + 4 * H + 2 * H * I + I + H + 4 * H;
  const encoder = c.numLayerWeights * perLayer;
  const head = H * E + E + 2 * E + V;
  return { embeddings, encoder, head, total: embeddings + encoder + head };
}

export function humanCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} K`;
  return String(n);
}

export interface SummaryLookup {
  latestSummary(modelDir: string): { summary: LayerSummary[]; planText: string; sentences: number; at: number } | undefined;
}

/** The markdown for a hover over `key` in a model config; undefined when the key is not one we explain. */
export function hoverMarkdown(rawText: string, key: string, modelDir: string, lookup: SummaryLookup): string | undefined {
  const info = isModelConfigText(rawText);
  if (!info) return undefined;
  const family = familyForModelType(info.modelType);
  let raw: Record<string, unknown> = {};
  try {
    raw = JSON.parse(rawText);
  } catch {
    // jsonc (comments, trailing commas): fall back to the tree's values.
    raw = {};
  }
  let config: NormalizedConfig | undefined;
  let problem: string | undefined;
  try {
    config = normalizeConfig(raw, 'config.json');
  } catch (e) {
    problem = (e as Error).message;
  }
  const lines: string[] = [];
  if (key === 'model_type') {
    lines.push(`**model_type** — which architecture family reads this checkpoint.`);
    lines.push(
      family
        ? `\n\n\`${info.modelType}\` is read by Layer Lens as **${family.displayName}**.`
        : `\n\n\`${info.modelType}\` is not supported by Layer Lens (supported: ${supportedModelTypes().join(', ')}).`,
    );
  } else {
    const dim = family ? HOVERED_DIMS.find((d) => (family.configKeys[d] ?? []).includes(key)) : undefined;
    if (!dim) return undefined;
    const doc = family?.fieldDocs?.[key] ?? DIM_DOCS[dim];
    lines.push(`**${key}** — ${doc ?? ''}`);
  }
  if (config) {
    const p = parameterEstimate(config);
    lines.push(
      '\n\n' +
        [
          `- ${config.numLayers} layers, hidden ${config.hiddenSize}, ${config.numHeads} heads × head size **${config.hiddenSize / config.numHeads}**, FFN ${config.intermediateSize}`,
          `- ≈ **${humanCount(p.total)} parameters** (embeddings ${humanCount(p.embeddings)}, encoder ${humanCount(p.encoder)}, MLM head ${humanCount(p.head)}; decoder tied, pooler excluded)`,
          `- a probe has **${config.numLayers + 1} rows** (h0…h${config.numLayers}); the MLM head runs ${config.numLayers + 1}× over a ${config.vocabSize.toLocaleString('en-US')}-token vocabulary`,
        ].join('\n'),
    );
  } else if (problem) {
    lines.push(`\n\n⚠ ${problem}`);
  }
  const latest = lookup.latestSummary(modelDir);
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

export class ConfigHoverProvider implements vscode.HoverProvider {
  constructor(private readonly lookup: SummaryLookup) {}

  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const text = document.getText();
    if (!/"model_type"\s*:/.test(text)) return undefined;
    const offset = document.offsetAt(position);
    const location = getLocation(text, offset);
    if (location.path.length !== 1 || typeof location.path[0] !== 'string') return undefined;
    const key = location.path[0];
    const md = hoverMarkdown(text, key, path.dirname(document.uri.fsPath), this.lookup);
    if (!md) return undefined;
    const node = location.previousNode;
    const range = node ? new vscode.Range(document.positionAt(node.offset), document.positionAt(node.offset + node.length)) : undefined;
    const markdown = new vscode.MarkdownString(md);
    markdown.isTrusted = false;
    markdown.supportHtml = false;
    return new vscode.Hover(markdown, range);
  }
}

export class ConfigCodeLensProvider implements vscode.CodeLensProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;

  refresh(): void {
    this.changed.fire();
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (!isModelConfigText(document.getText())) return [];
    const top = new vscode.Range(0, 0, 0, 0);
    const lenses = [
      new vscode.CodeLens(top, { title: '$(layers) Probe layers', command: 'layer-lens.probe', arguments: [document.uri], tooltip: 'Probe every layer of this model through its MLM head' }),
    ];
    if (vscode.workspace.isTrusted) {
      lenses.push(new vscode.CodeLens(top, { title: 'Deepen…', command: 'layer-lens.deepen', arguments: [document.uri], tooltip: 'Write a deeper checkpoint by duplicating layers' }));
    }
    return lenses;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
