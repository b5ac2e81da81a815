/**
 * Which onnxruntime execution provider a probe runs on. The CPU is the reference: every other
 * provider is used only after it reproduces the CPU's figures on the embedded model (checkParity),
 * and one that fails to start or to agree falls back to the CPU with one line that says why.
 *
 * onnxruntime-node 1.30's npm tarball bundles DirectML (win32), CoreML (darwin) and WebGPU; CUDA
 * needs a separate download of its provider libraries (not done here: installs never download).
 */
import { UserError } from '../errors';
import { compareReports } from './agreement';
import type { ProbeInput } from './engine';
import type { ProbeReport } from './report';

import { EXECUTION_PROVIDERS, ExecutionProvider, ExecutionProviderChoice } from './providerNames';

export { EXECUTION_PROVIDERS };
export type { ExecutionProvider, ExecutionProviderChoice, ExecutionProviderInfo } from './providerNames';

/** Largest |Δ log p| against the CPU, over every cell of the parity inputs, that a provider may show. */
export const PARITY_TOLERANCE = 1e-3;

/** Short sentences of the embedded model's domain, a pair among them; one batch. */
export const PARITY_INPUTS: ProbeInput[] = [
  { text: 'The capital of France is Paris.' },
  { text: 'A noun is a word that names a person, place or thing.' },
  { text: 'He opened the door', pair: 'and the cat walked in.' },
];

export function parseExecutionProvider(text: string, where: string): ExecutionProviderChoice {
  const found = EXECUTION_PROVIDERS.find((p) => p === text.trim().toLowerCase());
  if (!found) throw new UserError(`${where}: unknown execution provider "${text}"; use one of ${EXECUTION_PROVIDERS.join(', ')}`);
  return found;
}

/** One backend as onnxruntime-node lists it (listSupportedBackends). */
export interface BackendListing {
  name: string;
  /** The provider's libraries are in the npm package (false: a separate download, e.g. CUDA). */
  bundled: boolean;
}

/**
 * What `auto` means: the platform's own GPU provider when this onnxruntime build has it (DirectML on
 * Windows, CoreML on Apple silicon), else the CPU. WebGPU and CUDA are used only when asked for: on
 * Linux WebGPU needs a Vulkan adapter, and CUDA libraries are not bundled.
 */
export function resolveAuto(platform: string, arch: string, backends: BackendListing[]): ExecutionProvider {
  const has = (name: string) => backends.some((b) => b.name === name && b.bundled);
  if (platform === 'win32' && has('dml')) return 'dml';
  if (platform === 'darwin' && arch === 'arm64' && has('coreml')) return 'coreml';
  return 'cpu';
}

/** Why a provider cannot be tried at all in this build, or undefined when it can be. */
export function unavailableReason(provider: ExecutionProvider, backends: BackendListing[], platform = process.platform, arch = process.arch): string | undefined {
  if (provider === 'cpu') return undefined;
  const listed = backends.find((b) => b.name === provider);
  const have = backends.filter((b) => b.bundled).map((b) => b.name).join(', ');
  if (!listed) return `this onnxruntime build (${platform}-${arch}) has no ${provider} provider (it has ${have})`;
  // CUDA is listed even where its libraries were never downloaded; onnxruntime then says so itself.
  return undefined;
}

/** The provider's figures against the CPU's on the parity inputs. */
export interface ProviderParity {
  cells: number;
  maxAbsLogProb: number;
  top1: number;
  passed: boolean;
}

/** Compares a provider's report with the CPU's on the same inputs: every log p within PARITY_TOLERANCE, every top-1 equal. */
export function judgeParity(cpu: ProbeReport, candidate: ProbeReport): ProviderParity {
  const a = compareReports(cpu, candidate);
  // Top-k log-probs cover the top-1's own, so a provider that moves the head's peak is caught too.
  const maxAbsLogProb = Math.max(a.maxAbsInputLogProb, a.maxAbsTopKLogProb);
  return { cells: a.cells, maxAbsLogProb, top1: a.top1, passed: maxAbsLogProb <= PARITY_TOLERANCE && a.top1 === 1 };
}

/** onnxruntime's provider errors run to several lines with source paths; keep the sentence that explains. */
export function providerErrorLine(message: string): string {
  const lines = message.split('\n').map((l) => l.trim()).filter(Boolean);
  const first = lines[0] ?? 'unknown error';
  const why = /was false\. (.*)$/.exec(first)?.[1] ?? /\] : \d+ : \w+ : (.*)$/.exec(first)?.[1] ?? first;
  return why.length > 200 ? `${why.slice(0, 197)}…` : why;
}
