/** `layer-lens tune-lens`: trains a tuned lens with python/tune_lens.py (torch), for `probe --lens tuned:DIR`. */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { UserError } from '../../core/errors';
import { pythonScriptPath } from './finetune';

export const TUNE_LENS_USAGE = `Usage: layer-lens tune-lens MODEL --file corpus.txt --out DIR [--steps N] [--lr X] [--python PY]

Trains one affine translator per layer (identity at the start) so that the model's own head reads
each layer like the last: loss KL(final ‖ head(translator(h))), SGD with Nesterov momentum, a
held-out fifth of the corpus reports KL and accuracy before and after. DIR gets
translators.safetensors and lens.json; it must be empty or a lens already, never the model folder.
Then: layer-lens probe MODEL --lens tuned:DIR
--steps   optimiser steps (default 250)     --lr  learning rate (default 0.25)
--python  interpreter with torch and transformers (default: $LAYER_LENS_PYTHON, else python3)`;

export async function runTuneLensCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      file: { type: 'string' },
      out: { type: 'string' },
      steps: { type: 'string' },
      lr: { type: 'string' },
      python: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(TUNE_LENS_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UserError('tune-lens needs exactly one MODEL folder');
  const model = positionals[0];
  if (!fs.existsSync(path.join(model, 'config.json'))) throw new UserError('not a model folder (no config.json)', model);
  if (!values.file) throw new UserError('tune-lens needs --file corpus.txt (one sentence per line)');
  if (!values.out) throw new UserError('tune-lens needs --out DIR, a folder for the lens (not the model folder)');
  if (values.steps !== undefined && !/^[1-9]\d{0,6}$/.test(values.steps)) throw new UserError(`--steps must be a positive integer, got "${values.steps}"`);
  if (values.lr !== undefined && !(Number(values.lr) > 0)) throw new UserError(`--lr must be a positive number, got "${values.lr}"`);
  const python = values.python ?? process.env.LAYER_LENS_PYTHON ?? 'python3';
  const args = [pythonScriptPath('tune_lens.py'), '--model', model, '--file', values.file, '--out', values.out,
    ...(values.steps ? ['--steps', values.steps] : []), ...(values.lr ? ['--lr', values.lr] : [])];
  return new Promise<number>((resolve, reject) => {
    const child = spawn(python, args, { stdio: 'inherit', shell: false });
    child.on('error', (e) => reject(new UserError(`cannot start ${python}: ${(e as NodeJS.ErrnoException).code ?? e.message}; set --python`)));
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
  });
}
