/**
 * Writer throughput and memory on a synthetic BERT-base (or --large) sized checkpoint:
 *   node out/scripts/bench-deepen.js [--large] [--dir DIR]
 * Random bytes in the real HF layout (F32); deepens with the top layer duplicated; prints MB/s and
 * the peak RSS, which should stay near one tensor (the 30522×H word embedding) above the baseline.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TensorToWrite, writeSafetensors } from '../src/core/checkpoint/safetensors';
import { writeDeepenedCheckpoint } from '../src/core/deepen/writer';

async function main(): Promise<void> {
  const large = process.argv.includes('--large');
  const dirArg = process.argv.indexOf('--dir');
  const root = dirArg > 0 ? process.argv[dirArg + 1] : fs.mkdtempSync(path.join(os.tmpdir(), 'layer-lens-bench-'));
  const [L, H, I, V, P] = large ? [24, 1024, 4096, 30522, 512] : [12, 768, 3072, 30522, 512];
  const src = path.join(root, large ? 'bert-large-synthetic' : 'bert-base-synthetic');
  fs.mkdirSync(src, { recursive: true });
  const shapes: [string, number[]][] = [
    ['bert.embeddings.word_embeddings.weight', [V, H]],
    ['bert.embeddings.position_embeddings.weight', [P, H]],
    ['bert.embeddings.token_type_embeddings.weight', [2, H]],
    ['bert.embeddings.LayerNorm.weight', [H]],
    ['bert.embeddings.LayerNorm.bias', [H]],
  ];
  for (let l = 0; l < L; l++) {
    const p = `bert.encoder.layer.${l}`;
    for (const m of ['query', 'key', 'value']) shapes.push([`${p}.attention.self.${m}.weight`, [H, H]], [`${p}.attention.self.${m}.bias`, [H]]);
    shapes.push(
      [`${p}.attention.output.dense.weight`, [H, H]], [`${p}.attention.output.dense.bias`, [H]],
      [`${p}.attention.output.LayerNorm.weight`, [H]], [`${p}.attention.output.LayerNorm.bias`, [H]],
      [`${p}.intermediate.dense.weight`, [I, H]], [`${p}.intermediate.dense.bias`, [I]],
      [`${p}.output.dense.weight`, [H, I]], [`${p}.output.dense.bias`, [H]],
      [`${p}.output.LayerNorm.weight`, [H]], [`${p}.output.LayerNorm.bias`, [H]],
    );
  }
  shapes.push(
    ['cls.predictions.transform.dense.weight', [H, H]], ['cls.predictions.transform.dense.bias', [H]],
    ['cls.predictions.transform.LayerNorm.weight', [H]], ['cls.predictions.transform.LayerNorm.bias', [H]],
    ['cls.predictions.bias', [V]],
  );
  if (!fs.existsSync(path.join(src, 'model.safetensors'))) {
    const tensors: TensorToWrite[] = shapes.map(([name, shape]) => {
      const byteLength = 4 * shape.reduce((a, b) => a * b, 1);
      return { name, dtype: 'F32', shape, byteLength, read: () => crypto.randomBytes(byteLength) };
    });
    writeSafetensors(path.join(src, 'model.safetensors'), tensors, { format: 'pt' });
    fs.writeFileSync(
      path.join(src, 'config.json'),
      JSON.stringify({ model_type: 'bert', architectures: ['BertForMaskedLM'], vocab_size: V, hidden_size: H, num_hidden_layers: L, num_attention_heads: H / 64, intermediate_size: I, max_position_embeddings: P, type_vocab_size: 2, hidden_act: 'gelu', layer_norm_eps: 1e-12, pad_token_id: 0 }, null, 2),
    );
  }
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
