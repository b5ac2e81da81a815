/** Large synthetic BERT checkpoints in the exact HF layout, for the benchmarks (never shipped). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TensorToWrite, writeSafetensors } from '../src/core/checkpoint/safetensors';

export interface BertDims {
  layers: number;
  hidden: number;
  heads: number;
  intermediate: number;
  vocab: number;
  positions: number;
}

export const BERT_BASE: BertDims = { layers: 12, hidden: 768, heads: 12, intermediate: 3072, vocab: 30522, positions: 512 };
export const BERT_LARGE: BertDims = { layers: 24, hidden: 1024, heads: 16, intermediate: 4096, vocab: 30522, positions: 512 };

/** Every tensor of a BertForMaskedLM safetensors file (decoder tied, so not stored). */
export function bertTensorShapes(d: BertDims): [string, number[]][] {
  const { hidden: H, intermediate: I, vocab: V, positions: P } = d;
  const shapes: [string, number[]][] = [
    ['bert.embeddings.word_embeddings.weight', [V, H]],
    ['bert.embeddings.position_embeddings.weight', [P, H]],
    ['bert.embeddings.token_type_embeddings.weight', [2, H]],
    ['bert.embeddings.LayerNorm.weight', [H]],
    ['bert.embeddings.LayerNorm.bias', [H]],
  ];
  for (let l = 0; l < d.layers; l++) {
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
  return shapes;
}

/**
 * Writes config.json and an F32 model.safetensors (tensor by tensor; `fill` makes each one's bytes).
 * Does nothing if the folder already has weights, so repeated bench runs reuse it.
 */
export function writeSyntheticBert(dir: string, d: BertDims, fill: (name: string, elements: number) => Uint8Array): void {
  if (fs.existsSync(path.join(dir, 'model.safetensors'))) return;
  fs.mkdirSync(dir, { recursive: true });
  const tensors: TensorToWrite[] = bertTensorShapes(d).map(([name, shape]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return { name, dtype: 'F32', shape, byteLength: 4 * n, read: () => fill(name, n) };
  });
  writeSafetensors(path.join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  fs.writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({
      architectures: ['BertForMaskedLM'], model_type: 'bert', vocab_size: d.vocab, hidden_size: d.hidden, num_hidden_layers: d.layers,
      num_attention_heads: d.heads, intermediate_size: d.intermediate, hidden_act: 'gelu', max_position_embeddings: d.positions,
      type_vocab_size: 2, layer_norm_eps: 1e-12, pad_token_id: 0, initializer_range: 0.02,
    }, null, 2),
  );
}
