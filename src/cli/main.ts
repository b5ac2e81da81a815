/**
 * The `layer-lens` command line: the extension's engine in a terminal, for scripts and CI.
 * Errors meant for the user are printed as one clear line; nothing prints a stack trace.
 */
import { isCancelled, isUserError } from '../core/errors';
import { DEEPEN_USAGE, runDeepenCommand } from './commands/deepen';
import { FINETUNE_USAGE, runFinetuneCommand } from './commands/finetune';
import { MERGE_USAGE, runMergeCommand } from './commands/merge';
import { PROBE_USAGE, runProbeCommand } from './commands/probe';
import { PROVIDERS_USAGE, runProvidersCommand } from './commands/providers';
import { runTuneLensCommand, TUNE_LENS_USAGE } from './commands/tuneLens';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; summary: string; usage: string }> = {
  probe: { run: runProbeCommand, summary: 'per-layer reconstruction through the MLM head', usage: PROBE_USAGE },
  merge: { run: runMergeCommand, summary: 'merge the shard reports of one corpus run', usage: MERGE_USAGE },
  deepen: { run: runDeepenCommand, summary: 'write a deeper checkpoint by duplicating layers', usage: DEEPEN_USAGE },
  'tune-lens': { run: runTuneLensCommand, summary: 'train a tuned lens (translators per layer) for probe --lens', usage: TUNE_LENS_USAGE },
  finetune: { run: runFinetuneCommand, summary: 'fine-tune baseline and deepened models, compare', usage: FINETUNE_USAGE },
  providers: { run: runProvidersCommand, summary: 'the execution providers on this machine, each tried', usage: PROVIDERS_USAGE },
};

const USAGE = `Usage: layer-lens <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

Run "layer-lens <command> --help" for its options.

${Object.values(COMMANDS)
  .map((c) => c.usage)
  .join('\n\n')}`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    console.log(USAGE);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`layer-lens: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (isCancelled(e)) {
      console.error('layer-lens: interrupted; nothing was written.');
      process.exit(130);
    }
    const message = isUserError(e) || (e as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS') ? (e as Error).message : `internal error: ${(e as Error)?.message ?? e}`;
    console.error(`layer-lens: ${message}`);
    process.exit(isUserError(e) ? 1 : (e as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS') ? 2 : 70);
  },
);
