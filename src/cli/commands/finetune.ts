/** `layer-lens finetune`: fine-tune models (N seeds each) with python/finetune.py and print the comparison table. */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Backend, buildFinetuneCommand, FINETUNE_DEFAULTS, FinetuneSpec, Launcher, runFolderNames } from '../../core/finetune/args';
import { findResultFiles, formatComparison, readResults, toPanelData } from '../../core/finetune/results';
import { finetuneTableModel } from '../../shared/finetune';
import { UserError } from '../../core/errors';

export const FINETUNE_USAGE = `Usage: layer-lens finetune MODEL… (--task GLUE_TASK | --data FILE) --out DIR [options]

MODEL…          model folders, e.g. a baseline and its deepened version
--task          a GLUE task name (cola, sst2, mrpc, qqp, mnli, qnli, rte, wnli); needs the
                Python 'datasets' package and network access
--data          a local .csv, .tsv or .jsonl with text (or text + text_pair) and label columns;
                a dev/validation file next to it (train.tsv → dev.tsv) is used for evaluation
--eval-data     an explicit evaluation file
--out           run folder; results go to DIR/<model>/seed-<seed>/results.json
--lr (${FINETUNE_DEFAULTS.lr})  --batch-size (${FINETUNE_DEFAULTS.batchSize})  --epochs (${FINETUNE_DEFAULTS.epochs})  --max-length (${FINETUNE_DEFAULTS.maxLength})  --seed (${FINETUNE_DEFAULTS.seed})
--seeds N       fine-tune every model with N seeds: seed, seed+1, … (default ${FINETUNE_DEFAULTS.seeds}); the table
                shows mean ± sd over seeds and deepened − baseline paired by seed with a 95% t-interval
--eval-steps N  also evaluate every N optimizer steps (learning curves)
--max-steps     stop after N optimizer steps (short runs)
--backend       auto (transformers when importable, else the built-in torch backend) | transformers | torch
--threads       CPU threads for torch
--python        interpreter (default: $LAYER_LENS_PYTHON, else python3)
--launcher      python | accelerate | torchrun   --nproc-per-node N (GPUs)
--dry-run       print the command (one argument per line) without running it`;

export async function runFinetuneCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      task: { type: 'string' },
      data: { type: 'string' },
      'eval-data': { type: 'string' },
      out: { type: 'string' },
      lr: { type: 'string' },
      'batch-size': { type: 'string' },
      epochs: { type: 'string' },
      'max-length': { type: 'string' },
      seed: { type: 'string' },
      seeds: { type: 'string' },
      'eval-steps': { type: 'string' },
      'max-steps': { type: 'string' },
      backend: { type: 'string' },
      threads: { type: 'string' },
      python: { type: 'string' },
      launcher: { type: 'string' },
      'nproc-per-node': { type: 'string' },
      'dry-run': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(FINETUNE_USAGE);
    return 0;
  }
  const num = (name: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new UserError(`--${name} must be a number, got "${v}"`);
    return n;
  };
  const backend = values.backend ?? 'auto';
  if (!['auto', 'transformers', 'torch'].includes(backend)) throw new UserError(`--backend must be auto, transformers or torch, got "${backend}"`);
  const launcher = values.launcher ?? 'python';
  if (!['python', 'accelerate', 'torchrun'].includes(launcher)) throw new UserError(`--launcher must be python, accelerate or torchrun, got "${launcher}"`);
  if (!values.out) throw new UserError(`give a run folder with --out\n\n${FINETUNE_USAGE}`);
  const spec: FinetuneSpec = {
    models: positionals.map((m) => path.resolve(m)),
    task: values.task,
    data: values.data !== undefined ? path.resolve(values.data) : undefined,
    evalData: values['eval-data'] !== undefined ? path.resolve(values['eval-data']) : undefined,
    out: path.resolve(values.out),
    lr: num('lr', values.lr),
    batchSize: num('batch-size', values['batch-size']),
    epochs: num('epochs', values.epochs),
    maxLength: num('max-length', values['max-length']),
    seed: num('seed', values.seed),
    seeds: num('seeds', values.seeds),
    evalSteps: num('eval-steps', values['eval-steps']),
    maxSteps: num('max-steps', values['max-steps']),
    backend: backend as Backend,
    threads: num('threads', values.threads),
  };
  for (const m of spec.models) {
    if (!fs.existsSync(path.join(m, 'config.json'))) throw new UserError('not a model folder (no config.json)', m);
  }
  const cmd = buildFinetuneCommand(spec, {
    python: values.python ?? process.env.LAYER_LENS_PYTHON ?? 'python3',
    script: finetuneScriptPath(),
    launcher: launcher as Launcher,
    nprocPerNode: num('nproc-per-node', values['nproc-per-node']),
  });
  if (values['dry-run']) {
    console.log([cmd.command, ...cmd.args].join('\n'));
    return 0;
  }
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(cmd.command, cmd.args, { stdio: 'inherit', shell: false });
    child.on('error', (e) => reject(new UserError(`cannot start ${cmd.command}: ${(e as NodeJS.ErrnoException).code ?? e.message}; set --python`)));
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
  });
  // Only this invocation's models (the folder may hold other runs): their seed-<s>/ files, or an old single-seed file.
  const mine = new Set(runFolderNames(spec.models).map((name) => path.join(spec.out, name)));
  const files = findResultFiles(spec.out).filter((f) => mine.has(path.dirname(f)) || mine.has(path.dirname(path.dirname(f))));
  if (files.length > 0) {
    const data = toPanelData(spec.out, files.map(readResults));
    console.log('');
    console.log(formatComparison(finetuneTableModel(data), data.task));
  }
  return code;
}

/** python/finetune.py in the package. */
export function finetuneScriptPath(): string {
  return pythonScriptPath('finetune.py');
}

/** A script of python/ in the package: next to dist/ when bundled, or above out/ under tests. */
export function pythonScriptPath(name: string): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'python', name);
    if (fs.existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw new UserError(`python/${name} is missing from the Layer Lens installation`);
}
