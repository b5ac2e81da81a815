/** Finds the checkpoint folder for whatever the user pointed at: the folder, or any file inside it. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';
import { readJsonObject } from '../files';

export interface ModelLocation {
  /** The folder as the user sees it (not resolved through symlinks: HF cache snapshots are symlink farms). */
  dir: string;
  configFile: string;
  /** The weights file the user pointed at, if they pointed at one. */
  weightsHint?: string;
}

/** The embedded reference checkpoint, relative to the package root (CLI) or extension root. */
export const REFERENCE_MODEL_RELATIVE = 'models/reference-bert-mini';

const WEIGHT_FILE = /(\.safetensors|\.safetensors\.index\.json|\.bin|\.onnx)$/;

export function locateModel(target: string): ModelLocation {
  const abs = path.resolve(target);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(abs);
  } catch {
    throw new UserError('no such file or folder', abs);
  }
  const dir = stat.isDirectory() ? abs : path.dirname(abs);
  const weightsHint = !stat.isDirectory() && WEIGHT_FILE.test(abs) ? abs : undefined;
  const configFile = path.join(dir, 'config.json');
  if (!fs.existsSync(configFile)) {
    throw new UserError(
      `no config.json next to it; a model folder needs config.json, weights (model.safetensors) and a tokenizer`,
      stat.isDirectory() ? abs : dir,
    );
  }
  return { dir, configFile, weightsHint };
}

/** True when `dir` looks like a model folder: it holds a config.json with a model_type. */
export function isModelFolder(dir: string): boolean {
  try {
    // Through readJsonObject: a FIFO or /dev/zero as config.json is refused, not read forever.
    return typeof readJsonObject(path.join(dir, 'config.json'), 'config.json').model_type === 'string';
  } catch {
    return false;
  }
}
