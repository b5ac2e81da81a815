/** `layer-lens providers`: the onnxruntime execution providers on this machine, each tried on the embedded model. */
import { parseArgs } from 'node:util';
import { UserError } from '../../core/errors';
import { ProbeEngine } from '../../core/probe/engine';
import { BackendListing, EXECUTION_PROVIDERS, ExecutionProvider, PARITY_INPUTS, resolveAuto } from '../../core/probe/executionProvider';
import { WorkerClient } from '../../core/probe/workerClient';
import { referenceModelDir } from '../paths';

export const PROVIDERS_USAGE = `Usage: layer-lens providers

Lists the execution providers this machine's onnxruntime build has, and tries each one that is
not the CPU: it starts it on the embedded model and compares its figures with the CPU's
(max |Δ log p| ≤ 1e-3 and every top-1 equal, as "probe --execution-provider" does first).
Says what "auto" picks here.`;

export async function runProvidersCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(PROVIDERS_USAGE);
    return 0;
  }
  if (positionals.length) throw new UserError(`providers takes no arguments, got ${positionals.join(' ')}`);
  const model = referenceModelDir();
  // Asked of the worker: only it loads onnxruntime.
  const lister = new WorkerClient();
  let backends: BackendListing[];
  try {
    backends = await lister.providers();
  } finally {
    await lister.dispose();
  }
  console.log(`onnxruntime-node on ${process.platform}-${process.arch}; "auto" picks ${resolveAuto(process.platform, process.arch, backends)}`);
  for (const b of backends) {
    const name = b.name as ExecutionProvider;
    if (name === 'cpu') {
      console.log(`  cpu       available (the reference every other provider is checked against)`);
      continue;
    }
    if (!(EXECUTION_PROVIDERS as readonly string[]).includes(name)) {
      console.log(`  ${b.name.padEnd(9)} listed by onnxruntime, not offered by Layer Lens`);
      continue;
    }
    console.log(`  ${b.name.padEnd(9)} ${await tryProvider(name, model, b.bundled)}`);
  }
  return 0;
}

/** Starts the provider on the embedded model, the way a probe does, and says how it fared. */
async function tryProvider(provider: ExecutionProvider, model: string, bundled: boolean): Promise<string> {
  const engine = ProbeEngine.load(model, { executionProvider: provider, parityModel: model });
  try {
    const info = (await engine.probe(PARITY_INPUTS.slice(0, 1), { intervals: false })).executionProvider;
    const p = info?.parity;
    if (info?.ran === provider && p) return `available: matches the CPU to ${p.maxAbsLogProb.toExponential(1)} in log p, top-1 on ${(p.top1 * 100).toFixed(0)}% of ${p.cells} cells`;
    const note = bundled ? '' : ' (its libraries are a separate download, not part of the npm package)';
    return `not usable: ${info?.fallback ?? 'unknown'}${note}`;
  } finally {
    await engine.dispose();
  }
}
