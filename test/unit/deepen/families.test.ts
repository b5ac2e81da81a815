/** The writer is generic over family descriptors: DistilBERT renumbers its own prefix and count key; ALBERT shares one group. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TensorToWrite, writeSafetensors } from '../../../src/core/checkpoint/safetensors';
import { readTensorBytes } from '../../../src/core/checkpoint/safetensors';
import { openWeights } from '../../../src/core/checkpoint/weights';
import { writeDeepenedCheckpoint } from '../../../src/core/deepen/writer';
import { makeTempDir } from '../helpers/tinyBert';

function writeModel(dir: string, config: Record<string, unknown>, names: string[]): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  const tensors: TensorToWrite[] = names.map((name, i) => {
    const bytes = new Uint8Array(new Float32Array([i, i + 0.5]).buffer);
    return { name, dtype: 'F32', shape: [2], byteLength: 8, read: () => bytes };
  });
  writeSafetensors(path.join(dir, 'model.safetensors'), tensors, { format: 'pt' });
}

describe('deepen writer across families', () => {
  it('DistilBERT: renumbers distilbert.transformer.layer.{i} and updates n_layers', async () => {
    const root = makeTempDir();
    const src = path.join(root, 'distil');
    const layer = (i: number) => [`distilbert.transformer.layer.${i}.attention.q_lin.weight`, `distilbert.transformer.layer.${i}.ffn.lin1.weight`];
    writeModel(src, { model_type: 'distilbert', vocab_size: 10, dim: 8, n_layers: 2, n_heads: 2, hidden_dim: 16, max_position_embeddings: 16, activation: 'gelu' }, [
      'distilbert.embeddings.word_embeddings.weight', ...layer(0), ...layer(1), 'vocab_projector.bias',
    ]);
    const r = await writeDeepenedCheckpoint({ source: src, plan: [0, 1, 1] });
    const cfg = JSON.parse(fs.readFileSync(path.join(r.target, 'config.json'), 'utf8'));
    assert.equal(cfg.n_layers, 3);
    assert.equal(cfg.num_hidden_layers, undefined);
    const out = openWeights(r.target).tensors;
    const inp = openWeights(src).tensors;
    assert.deepEqual([...out.keys()].sort(), ['distilbert.embeddings.word_embeddings.weight', ...layer(0), ...layer(1), ...layer(2), 'vocab_projector.bias'].sort());
    const bytes = (m: typeof out, n: string) => Buffer.from(readTensorBytes(m.get(n)!));
    assert.ok(bytes(out, layer(2)[0]).equals(bytes(inp, layer(1)[0])));
  });

  it('ALBERT: one shared group, so only num_hidden_layers changes and no tensor is renamed', async () => {
    const root = makeTempDir();
    const src = path.join(root, 'albert');
    const names = [
      'albert.embeddings.word_embeddings.weight',
      'albert.encoder.embedding_hidden_mapping_in.weight',
      'albert.encoder.albert_layer_groups.0.albert_layers.0.attention.query.weight',
      'albert.encoder.albert_layer_groups.0.albert_layers.0.ffn.weight',
      'predictions.bias',
    ];
    writeModel(src, { model_type: 'albert', vocab_size: 10, hidden_size: 8, embedding_size: 4, num_hidden_layers: 3, num_attention_heads: 2, intermediate_size: 16, num_hidden_groups: 1 }, names);
    const r = await writeDeepenedCheckpoint({ source: src, plan: [0, 1, 2, 2] });
    const cfg = JSON.parse(fs.readFileSync(path.join(r.target, 'config.json'), 'utf8'));
    assert.equal(cfg.num_hidden_layers, 4);
    assert.equal(cfg.num_hidden_groups, 1);
    assert.deepEqual([...openWeights(r.target).tensors.keys()].sort(), [...names].sort());
    assert.match(r.notes.join(' '), /shares one weight group.*every plan entry maps to that shared group.*only num_hidden_layers changes \(3 → 4\)/);
    assert.match(fs.readFileSync(path.join(r.target, 'README.md'), 'utf8'), /shared group/);
  });

  it('ALBERT with several groups is refused with the reason', async () => {
    const src = path.join(makeTempDir(), 'albert2');
    writeModel(src, { model_type: 'albert', vocab_size: 10, hidden_size: 8, embedding_size: 4, num_hidden_layers: 4, num_attention_heads: 2, intermediate_size: 16, num_hidden_groups: 2 }, ['albert.embeddings.word_embeddings.weight']);
    await assert.rejects(writeDeepenedCheckpoint({ source: src, plan: [0, 1, 2, 3, 3] }), /shares 2 weight groups among 4 layers; deepening is only exact for a single shared group/);
    assert.deepEqual(fs.readdirSync(path.dirname(src)), ['albert2']);
  });
});
