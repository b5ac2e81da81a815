import * as fs from 'node:fs';
import * as path from 'node:path';
import { REFERENCE_MODEL_RELATIVE } from '../core/checkpoint/locate';

/** The embedded reference checkpoint at the package root. */
export function referenceModelDir(): string {
  // dist/cli.js when bundled, out/src/cli/*.js under tests.
  const candidates = [path.resolve(__dirname, '..', REFERENCE_MODEL_RELATIVE), path.resolve(__dirname, '../../..', REFERENCE_MODEL_RELATIVE)];
  return candidates.find((c) => fs.existsSync(c)) ?? candidates[0];
}
