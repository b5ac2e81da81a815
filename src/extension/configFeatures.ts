/**
 * Hovers and the CodeLens on a model's config.json. Only documents that really are model configs
 * (a top-level "model_type" string) get them. Locations come from jsonc-parser, as in VS Code's
 * own npm extension.
 */
import * as path from 'node:path';
import { getLocation, parse, parseTree, findNodeAtLocation, Node as JsonNode } from 'jsonc-parser/lib/esm/main.js';
import * as vscode from 'vscode';
import { familyForModelType } from '../core/families';
import { configHoverMarkdown, SummaryLookup } from './configHover';

export { configHoverMarkdown, humanCount, parameterEstimate, summaryMarkdownTable } from './configHover';
export type { SummaryLookup } from './configHover';

export const CONFIG_SELECTOR: vscode.DocumentSelector = [
  { language: 'json', pattern: '**/config.json' },
  { language: 'jsonc', pattern: '**/config.json' },
];

export function isModelConfigText(text: string): { root: JsonNode; modelType: string } | undefined {
  if (!/"model_type"\s*:/.test(text)) return undefined;
  const root = parseTree(text);
  if (!root || root.type !== 'object') return undefined;
  const node = findNodeAtLocation(root, ['model_type']);
  return node && typeof node.value === 'string' ? { root, modelType: node.value } : undefined;
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
    // jsonc-parser's tolerant parse: a config with comments or trailing commas still gets its facts.
    const raw: unknown = parse(text, [], { allowTrailingComma: true });
    const md = configHoverMarkdown(raw, key, this.lookup.latestSummary(path.dirname(document.uri.fsPath)));
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
    // Only for a model_type Layer Lens reads: a GPT-2 config gets no "Probe layers" to be refused by.
    const config = isModelConfigText(document.getText());
    if (!config || !familyForModelType(config.modelType)) return [];
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
