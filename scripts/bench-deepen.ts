/**
 * Writer throughput and memory on a synthetic BERT-base (or --large) sized checkpoint:
 *   node dist/bench-deepen.js [--large] [--dir DIR]   (also run at the end of `npm run bench`)
 * Random bytes in the real HF layout (F32); deepens with the top layer duplicated; prints MB/s and
 * the peak RSS, which should stay near one tensor (the 30522×H word embedding) above the baseline.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeDeepenedCheckpoint } from '../src/core/deepen/writer';
import { BERT_BASE, BERT_LARGE, writeSyntheticBert } from './syntheticBert';

async function main(): Promise<void> {
  const large = process.argv.includes('--large');
  const dirArg = process.argv.indexOf('--dir');
  const root = dirArg > 0 ? process.argv[dirArg + 1] : fs.mkdtempSync(path.join(os.tmpdir(), 'layer-lens-bench-'));
  const dims = large ? BERT_LARGE : BERT_BASE;
  const { layers: L, hidden: H, vocab: V } = dims;
  const src = path.join(root, large ? 'bert-large-synthetic' : 'bert-base-synthetic');
  fs.mkdirSync(src, { recursive: true });
  writeSyntheticBert(src, dims, (_name, n) => crypto.randomBytes(4 * n));
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const target = path.join(root, `${path.basename(src)}-deep`);
  fs.rmSync(target, { recursive: true, force: true });
  const r = await writeDeepenedCheckpoint({ source: src, plan: [...Array(L).keys(), L - 1], target, onProgress: () => (peak = Math.max(peak, process.memoryUsage().rss)) });
  clearInterval(timer);
  const mb = r.bytes / 1e6;
  console.log(
    `${path.basename(src)}: ${L} → ${r.numLayers} layers, ${r.tensors} tensors, ${mb.toFixed(0)} MB written in ${(r.ms / 1000).toFixed(2)} s = ${(mb / (r.ms / 1000)).toFixed(0)} MB/s; ` +
      `RSS before ${(rssBefore / 2 ** 20).toFixed(0)} MiB, peak ${(peak / 2 ** 20).toFixed(0)} MiB (largest tensor ${((V * H * 4) / 2 ** 20).toFixed(0)} MiB); process maxRSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
  );
  if (dirArg < 0) fs.rmSync(root, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
