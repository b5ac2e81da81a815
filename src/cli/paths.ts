import * as fs from 'node:fs';
import * as path from 'node:path';

/** The embedded reference checkpoint: models/reference-bert-mini at the package root. */
export function referenceModelDir(): string {
  // dist/cli.js when bundled, out/src/cli/*.js under tests.
  const candidates = [path.resolve(__dirname, '..', 'models', 'reference-bert-mini'), path.resolve(__dirname, '../../..', 'models', 'reference-bert-mini')];
  return candidates.find((c) => fs.existsSync(c)) ?? candidates[0];
}
