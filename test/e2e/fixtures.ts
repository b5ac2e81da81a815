/**
 * Builds the end-to-end workspace: tiny random checkpoints (a normal one that stands in for the
 * sample until its weights exist, one whose vocabulary holds HTML-looking tokens, a slower one
 * for cancelling), a corpus file, and a plain JSON file that must get no hovers.
 * Run by run.mjs (bundled with esbuild): node fixtures.js <workspace dir>
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeTinyBert } from '../unit/helpers/tinyBert';

export const XSS_TOKENS = ['<img src=x onerror=alert(1)>', '</script>'];

export function writeXssBert(dir: string): void {
  writeTinyBert(dir, { tokenizer: 'tokenizer.json', seed: 7, std: 0.6 });
  const file = path.join(dir, 'tokenizer.json');
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  const vocab: Record<string, number> = json.model.vocab;
  // Rename two ordinary tokens into the hostile strings and make them added tokens, so the
  // tokenizer produces them whole and the report's vocabulary carries them to the webview.
  [['img', XSS_TOKENS[0]], ['script', XSS_TOKENS[1]]].forEach(([from, to]) => {
    const id = vocab[from];
    delete vocab[from];
    vocab[to] = id;
    json.added_tokens.push({ id, content: to, single_word: false, lstrip: false, rstrip: false, normalized: false, special: false });
  });
  fs.writeFileSync(file, JSON.stringify(json));
}

export function buildWorkspace(ws: string): void {
  fs.rmSync(ws, { recursive: true, force: true });
  fs.mkdirSync(ws, { recursive: true });
  writeTinyBert(path.join(ws, 'tiny-bert'), { layers: 3, hidden: 32, heads: 4, seed: 3, std: 0.6 });
  writeXssBert(path.join(ws, 'xss-bert'));
  writeTinyBert(path.join(ws, 'slow-bert'), { layers: 6, hidden: 256, heads: 4, maxPositions: 128, seed: 5 });
  const words = 'the cat sat on the mat and the dog ran to a big red house then went out again at night'.split(' ');
  const lines: string[] = [];
  for (let i = 0; i < 2000; i++) {
    const n = 30 + (i % 10);
    lines.push(Array.from({ length: n }, (_, k) => words[(i * 7 + k * 3) % words.length]).join(' '));
  }
  fs.writeFileSync(path.join(ws, 'corpus.txt'), lines.join('\n') + '\n');
  fs.writeFileSync(path.join(ws, 'short-corpus.txt'), 'the cat sat on the mat\nthe dog ran to a big red house\nshe saw a bird in the tree\n');
  fs.mkdirSync(path.join(ws, 'other'), { recursive: true });
  fs.writeFileSync(path.join(ws, 'other', 'config.json'), JSON.stringify({ num_hidden_layers: 3, name: 'not a model' }, null, 2));
  fs.writeFileSync(path.join(ws, 'notes.txt'), 'The cat sat on the mat.\n');
}

if (require.main === module) {
  const ws = process.argv[2];
  if (!ws) throw new Error('usage: fixtures.js <workspace dir>');
  buildWorkspace(ws);
}

/** What the panel should show for `text` on the model in `dir`: its tokens and row count. */
export function expected(dir: string, text: string): { tokens: string[]; rows: number } {
  // Loaded lazily so that writing fixtures does not need the tokenizer.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { readConfigFile } = require('../../src/core/checkpoint/config') as typeof import('../../src/core/checkpoint/config');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { loadTokenizer } = require('../../src/core/checkpoint/tokenizer') as typeof import('../../src/core/checkpoint/tokenizer');
  const config = readConfigFile(path.join(dir, 'config.json'));
  const tok = loadTokenizer(dir, config.maxPositions - config.positionOffset);
  return { tokens: tok.encode(text).tokens, rows: config.numLayers + 1 };
}
