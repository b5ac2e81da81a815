/** The execution providers by name, and what a report says of them: plain data, no Node (the webview reads it). */

export const EXECUTION_PROVIDERS = ['auto', 'cpu', 'dml', 'coreml', 'webgpu', 'cuda'] as const;
export type ExecutionProviderChoice = (typeof EXECUTION_PROVIDERS)[number];
/** A provider onnxruntime is asked for (its own names). */
export type ExecutionProvider = Exclude<ExecutionProviderChoice, 'auto'>;

/** What the report says about the provider, when anything but the CPU was asked for. */
export interface ExecutionProviderInfo {
  asked: ExecutionProviderChoice;
  ran: ExecutionProvider;
  /** The provider against the CPU on the embedded model, when it was checked. */
  parity?: { cells: number; maxAbsLogProb: number; top1: number };
  /** Why the run fell back to the CPU. */
  fallback?: string;
}
