/**
 * The argv of a fine-tuning run: python/finetune.py with every user-supplied value passed as one
 * argv entry in `--flag=value` form, so no value can be read as an option (a path that starts with
 * "-") and nothing is ever re-parsed by a shell (quotes, `$()`, spaces and unicode stay literal).
 */
import { UserError } from '../errors';

export type Backend = 'auto' | 'transformers' | 'torch';
export type Launcher = 'python' | 'accelerate' | 'torchrun';

export interface FinetuneSpec {
  /** Model folders, usually a baseline and its deepened version. */
  models: string[];
  /** A GLUE task name (needs `datasets` and network), or… */
  task?: string;
  /** …a local CSV/TSV/JSONL file with text (and optional text_pair) and label columns. */
  data?: string;
  evalData?: string;
  /** Run folder: results land in <out>/<model-name>/seed-<seed>/results.json. */
  out: string;
  lr?: number;
  batchSize?: number;
  epochs?: number;
  maxLength?: number;
  /** The first seed; runs use seed, seed + 1, … */
  seed?: number;
  /** Seeds per model (default 3): each model is fine-tuned once per seed, so differences can be paired by seed. */
  seeds?: number;
  /** Also evaluate every N optimizer steps (learning curves); 0 / absent: per epoch only. */
  evalSteps?: number;
  /** Stop after this many optimizer steps (short CI runs). */
  maxSteps?: number;
  backend?: Backend;
  threads?: number;
}

/** The usual BERT fine-tuning defaults (Devlin et al.; HF run_glue). */
export const FINETUNE_DEFAULTS = { lr: 2e-5, batchSize: 32, epochs: 3, maxLength: 128, seed: 42, seeds: 3 } as const;

export interface LaunchOptions {
  /** Interpreter that runs the script (and accelerate / torch.distributed as modules). */
  python: string;
  /** Absolute path of the script (python/finetune.py, python/probe_torch.py). */
  script: string;
  launcher?: Launcher;
  /** Processes per node for torchrun / accelerate (GPUs on this machine). */
  nprocPerNode?: number;
}

export interface ProcessSpec {
  command: string;
  args: string[];
}

function checkNumber(name: string, v: number | undefined, integer: boolean, min: number): void {
  if (v === undefined) return;
  if (!Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min) {
    const bound = min === Number.MIN_VALUE ? '> 0' : `≥ ${min}`;
    throw new UserError(`${name} must be ${integer ? 'an integer' : 'a number'} ${bound}, got ${v}`);
  }
}

export function validateSpec(spec: FinetuneSpec): void {
  if (spec.models.length === 0) throw new UserError('choose at least one model to fine-tune');
  spec.models.forEach((m, i) => {
    if (m === '') throw new UserError(`model ${i + 1} is an empty path`);
  });
  if (!spec.task === !spec.data) throw new UserError('give exactly one of a GLUE task name (--task) or a data file (--data)');
  if (spec.task !== undefined && !/^[A-Za-z0-9_-]+$/.test(spec.task)) {
    throw new UserError(`task "${spec.task}" is not a GLUE task name (letters, digits, - and _ only); use --data for a file`);
  }
  if (!spec.out) throw new UserError('give a run folder (--out)');
  if (/[\0]/.test([...spec.models, spec.data ?? '', spec.evalData ?? '', spec.out].join(''))) {
    throw new UserError('paths must not contain NUL characters');
  }
  checkNumber('--lr', spec.lr, false, Number.MIN_VALUE);
  checkNumber('--batch-size', spec.batchSize, true, 1);
  checkNumber('--epochs', spec.epochs, false, Number.MIN_VALUE);
  checkNumber('--max-length', spec.maxLength, true, 8);
  checkNumber('--seed', spec.seed, true, 0);
  checkNumber('--seeds', spec.seeds, true, 1);
  checkNumber('--eval-steps', spec.evalSteps, true, 0);
  checkNumber('--max-steps', spec.maxSteps, true, 0);
  checkNumber('--threads', spec.threads, true, 0);
}

/** Arguments after the script path. Every value is fused to its flag with "=". */
export function finetuneScriptArgs(spec: FinetuneSpec): string[] {
  validateSpec(spec);
  const a: string[] = spec.models.map((m) => `--model=${m}`);
  if (spec.task !== undefined) a.push(`--task=${spec.task}`);
  if (spec.data !== undefined) a.push(`--data=${spec.data}`);
  if (spec.evalData !== undefined) a.push(`--eval-data=${spec.evalData}`);
  a.push(`--out=${spec.out}`);
  a.push(`--lr=${spec.lr ?? FINETUNE_DEFAULTS.lr}`);
  a.push(`--batch-size=${spec.batchSize ?? FINETUNE_DEFAULTS.batchSize}`);
  a.push(`--epochs=${spec.epochs ?? FINETUNE_DEFAULTS.epochs}`);
  a.push(`--max-length=${spec.maxLength ?? FINETUNE_DEFAULTS.maxLength}`);
  a.push(`--seed=${spec.seed ?? FINETUNE_DEFAULTS.seed}`);
  a.push(`--seeds=${spec.seeds ?? FINETUNE_DEFAULTS.seeds}`);
  if (spec.evalSteps) a.push(`--eval-steps=${spec.evalSteps}`);
  if (spec.maxSteps) a.push(`--max-steps=${spec.maxSteps}`);
  if (spec.backend && spec.backend !== 'auto') a.push(`--backend=${spec.backend}`);
  if (spec.threads) a.push(`--threads=${spec.threads}`);
  return a;
}

/**
 * The process to start: `python finetune.py …`, or the same through accelerate or torchrun, both
 * run as modules of the chosen interpreter so they use its environment.
 */
export function buildFinetuneCommand(spec: FinetuneSpec, launch: LaunchOptions): ProcessSpec {
  return launchCommand(launch, finetuneScriptArgs(spec));
}

/** `python script …` through the chosen launcher (fine-tuning, the PyTorch probe backend). */
export function launchCommand(launch: LaunchOptions, args: string[]): ProcessSpec {
  const launcher = launch.launcher ?? 'python';
  const n = launch.nprocPerNode ?? 1;
  checkNumber('processes per node', n, true, 1);
  switch (launcher) {
    case 'python':
      return { command: launch.python, args: [launch.script, ...args] };
    case 'accelerate':
      return {
        command: launch.python,
        args: ['-m', 'accelerate.commands.launch', ...(n > 1 ? [`--num_processes=${n}`] : []), launch.script, ...args],
      };
    case 'torchrun':
      return { command: launch.python, args: ['-m', 'torch.distributed.run', '--standalone', `--nproc_per_node=${n}`, launch.script, ...args] };
    default: {
      const never: never = launcher;
      throw new UserError(`unknown launcher ${String(never)}`);
    }
  }
}

/** How many runs (results files) a spec makes: every model once per seed. */
export function expectedRuns(spec: Pick<FinetuneSpec, 'models' | 'seeds'>): number {
  return spec.models.length * (spec.seeds ?? FINETUNE_DEFAULTS.seeds);
}

/** Mirrors finetune.py's model folder names: <out>/<slug(basename)>, with -2, -3 for repeats (each holds seed-<s>/). */
export function runFolderNames(models: string[]): string[] {
  const seen = new Map<string, number>();
  return models.map((m) => {
    const base = m.replace(/[\\/]+$/, '').split(/[\\/]/).pop() ?? '';
    const s = (base.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+|[._]+$/g, '') || 'model').slice(0, 80);
    const k = (seen.get(s) ?? 0) + 1;
    seen.set(s, k);
    return k === 1 ? s : `${s}-${k}`;
  });
}
