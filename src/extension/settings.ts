/** Typed access to the `layer-lens.*` settings. Read on use, so changes apply to the next run. */
import * as vscode from 'vscode';
import { EXECUTION_PROVIDERS, ExecutionProviderChoice } from '../core/probe/providerNames';

export interface Settings {
  topK: number;
  maxTokens: number;
  threads: number;
  includeSpecialTokens: boolean;
  /** Fast mode: int8 decoder with exact rescoring of the top candidates (engine.ts). */
  fast: boolean;
  /** Where onnxruntime runs (executionProvider.ts); anything but the CPU is checked against it first. */
  executionProvider: ExecutionProviderChoice;
  defaultSentences: string[];
  maxCorpusSentences: number;
  pythonPath: string;
  /** Seeds per model in a fine-tuning run. */
  finetuneSeeds: number;
}

export const DEFAULT_SENTENCES = ['The capital of France is Paris.', 'The cat sat on the mat.'];

export function readSettings(scope?: vscode.Uri): Settings {
  const c = vscode.workspace.getConfiguration('layer-lens', scope);
  const int = (key: string, fallback: number, min: number, max: number) => {
    const v = c.get<number>(key, fallback);
    return Number.isFinite(v) ? Math.max(min, Math.min(max, Math.round(v))) : fallback;
  };
  const sentences = c.get<unknown>('defaultSentences', DEFAULT_SENTENCES);
  return {
    topK: int('topK', 5, 1, 50),
    maxTokens: int('maxTokens', 128, 4, 4096),
    threads: int('threads', 0, 0, 256),
    includeSpecialTokens: c.get<boolean>('includeSpecialTokens', false) === true,
    fast: c.get<boolean>('fast', false) === true,
    executionProvider: EXECUTION_PROVIDERS.find((p) => p === c.get<string>('executionProvider', 'cpu')) ?? 'cpu',
    defaultSentences: Array.isArray(sentences) ? sentences.filter((s): s is string => typeof s === 'string' && s.trim() !== '') : DEFAULT_SENTENCES,
    maxCorpusSentences: int('maxCorpusSentences', 2000, 1, 1_000_000),
    pythonPath: c.get<string>('pythonPath', '') ?? '',
    finetuneSeeds: int('finetuneSeeds', 3, 1, 100),
  };
}
