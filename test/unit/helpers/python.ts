/**
 * The Python the tests run: the project venv that scripts/install-python.sh builds (pinned torch,
 * transformers, tokenizers, sentencepiece, accelerate), or $LAYER_LENS_TEST_PYTHON.
 * CI must have it: a test that needs it fails there instead of skipping.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '../../../..');
export const TEST_PYTHON = process.env.LAYER_LENS_TEST_PYTHON ?? path.join(ROOT, '.cache', 'venv', 'bin', 'python');

let cached: boolean | undefined;
/** Whether TEST_PYTHON imports torch and transformers. */
export function hasHfPython(): boolean {
  cached ??= fs.existsSync(TEST_PYTHON) && spawnSync(TEST_PYTHON, ['-c', 'import torch, transformers, numpy'], { stdio: 'ignore' }).status === 0;
  return cached;
}
