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

/** Where the e2e workspace keeps a fine-tuning run folder: 2 models × 3 seeds of results.json. */
export const FINETUNE_RUN = '.layer-lens/runs/e2e-run';
/** The host test's live run (launched through "Fine-tune…"); excluded from file watching. */
export const FINETUNE_LIVE_RUN = '.layer-lens/runs/ft-live';

/**
 * Copies the real results of fine-tuning reference-bert-mini and its deepened copy with 3 seeds
 * (see test/fixtures/finetune-seeds/README.md) into a run folder, with the model paths pointed
 * into the workspace so that the deepened run names the baseline as its source.
 */
export function writeFinetuneRun(ws: string, fixtures: string): string {
  const out = path.join(ws, FINETUNE_RUN);
  const base = path.join(ws, 'reference-bert-mini');
  for (const name of ['reference-bert-mini', 'reference-bert-mini-deep']) {
    for (const seed of fs.readdirSync(path.join(fixtures, name)).filter((d) => /^seed-\d+$/.test(d))) {
      const doc = JSON.parse(fs.readFileSync(path.join(fixtures, name, seed, 'results.json'), 'utf8'));
      doc.model = path.join(ws, name);
      if (doc.layer_lens) doc.layer_lens.source = base;
      fs.mkdirSync(path.join(out, name, seed), { recursive: true });
      fs.writeFileSync(path.join(out, name, seed, 'results.json'), JSON.stringify(doc, null, 2));
    }
  }
  return out;
}

/** `root`: the repository (for test/fixtures). */
export function buildWorkspace(ws: string, root = process.cwd()): void {
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
  // A decoder: a model folder, but not one Layer Lens reads, so no menu or picker offers it.
  fs.mkdirSync(path.join(ws, 'gpt2-model'), { recursive: true });
  fs.writeFileSync(path.join(ws, 'gpt2-model', 'config.json'), JSON.stringify({ model_type: 'gpt2', n_layer: 2, n_embd: 32 }, null, 2));
  fs.mkdirSync(path.join(ws, 'other'), { recursive: true });
  fs.writeFileSync(path.join(ws, 'other', 'config.json'), JSON.stringify({ num_hidden_layers: 3, name: 'not a model' }, null, 2));
  fs.writeFileSync(path.join(ws, 'notes.txt'), 'The cat sat on the mat.\n');
  writeFinetuneRun(ws, path.join(root, 'test/fixtures/finetune-seeds'));
  // No file events for the live fine-tuning run of the host test: the view must follow it without
  // them (code-server often delivers none for a folder created moments before; this makes it always).
  fs.mkdirSync(path.join(ws, '.vscode'), { recursive: true });
  fs.writeFileSync(path.join(ws, '.vscode', 'settings.json'), JSON.stringify({ 'files.watcherExclude': { [`**/${FINETUNE_LIVE_RUN}/**`]: true } }, null, 2));
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
  const tok = loadTokenizer(dir, config.typeVocabSize);
  return { tokens: tok.encode(text).tokens, rows: config.numLayers + 1 };
}

// The panel's colour mapping, so the UI checks compute the expected fill of a cell from the CLI's numbers.
export { colorAt, legendTicks, scaleOf, settleLayers, statDomain } from '../../src/shared/heatmap';
