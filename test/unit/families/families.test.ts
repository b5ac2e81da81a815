/**
 * Every non-BERT family: a tiny random checkpoint in its exact HF layout, probed by the engine
 * (ONNX graph in onnxruntime) and checked against the float64 reference to ≤ 1e-4 in log-prob.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadCheckpoint } from '../../../src/core/checkpoint/checkpoint';
import { normalizeConfig } from '../../../src/core/checkpoint/config';
import { UserError } from '../../../src/core/errors';
import { familyForModelType, FAMILIES } from '../../../src/core/families';
import { ProbeEngine, ProbeInput } from '../../../src/core/probe/engine';
import { compareWithReference } from '../probe/engineVsReference.test';
import { makeTempDir } from '../helpers/tinyBert';
import { describeTinyFamily, TinyFamily, TinyFamilyOptions, writeTinyFamily } from '../helpers/tinyFamilies';

const INPUTS: ProbeInput[] = [
  { text: 'the cat sat on the mat.' },
  { text: 'a bird sang' },
  { text: 'the dog ran to the house', pair: 'it was big and red!' },
];

/** Max |Δ log-prob| per case, printed at the end (the report quotes them). */
export const FAMILY_DELTAS: Record<string, number> = {};

export async function probeAndCompare(dir: string, label: string, plan?: number[]) {
  const engine = ProbeEngine.load(dir, { threads: 1 });
  try {
    const report = await engine.probe(INPUTS, { topK: 5, ...(plan ? { plan } : {}) });
    const { maxDelta, positions } = compareWithReference(engine, report);
    assert.ok(positions > 30, `compared ${positions} positions`);
    FAMILY_DELTAS[label] = Math.max(FAMILY_DELTAS[label] ?? 0, maxDelta);
    return { engine, report, maxDelta };
  } finally {
    await engine.dispose();
  }
}

const CASES: [string, TinyFamily, TinyFamilyOptions][] = [
  ['RoBERTa (byte-level BPE, positions from padding_idx + 1)', 'roberta', {}],
  ['RoBERTa, tied decoder left out of the file, F16', 'roberta', { omitTiedDecoder: true, dtype: 'F16', seed: 12 }],
  ['XLM-RoBERTa (Unigram tokenizer)', 'xlm-roberta', { seed: 13, layers: 3 }],
  ['CamemBERT', 'camembert', { seed: 14 }],
  ['ALBERT, E=16 < H=32, one shared group over 3 layers', 'albert', { layers: 3, seed: 15 }],
  ['ALBERT, 2 groups over 4 layers, BF16', 'albert', { layers: 4, groups: 2, dtype: 'BF16', seed: 16 }],
  ['DistilBERT', 'distilbert', { seed: 17 }],
  ['DistilBERT, relu, tied projector left out', 'distilbert', { hiddenAct: 'relu', omitTiedDecoder: true, seed: 18 }],
  ['ELECTRA generator, E=16 < H=32 (embeddings_project)', 'electra', { seed: 19 }],
  ['ELECTRA generator, E = H (no projection), gelu_new encoder', 'electra', { embedding: 32, hiddenAct: 'gelu_new', seed: 20 }],
];

// Root-level: runs once after every test file, so the .bin and ONNX cases are included.
after(() => {
  if (Object.keys(FAMILY_DELTAS).length === 0) return;
  console.log('\n  max |Δ log-prob| vs the float64 reference, per family (and format):');
  for (const [k, v] of Object.entries(FAMILY_DELTAS)) console.log(`    ${v.toExponential(2)}  ${k}`);
});

describe('families: engine vs float64 reference', () => {

  for (const [name, family, options] of CASES) {
    it(name, async () => {
      const { maxDelta } = await probeAndCompare(writeTinyFamily(makeTempDir(), family, options), family);
      assert.ok(maxDelta <= 1e-4, `max |Δ| ${maxDelta}`);
    });
  }

  it('ALBERT: a plan repeating the shared group runs like the reference running it', async () => {
    const dir = writeTinyFamily(makeTempDir(), 'albert', { layers: 2, seed: 21 });
    const { report } = await probeAndCompare(dir, 'albert', [0, 1, 1, 1]);
    assert.equal(report.summary.length, 5);
  });

  it('ALBERT with 2 groups: layers 0,1 use group 0 and 2,3 group 1 (as HF AlbertTransformer)', () => {
    const c = loadCheckpoint(writeTinyFamily(makeTempDir(), 'albert', { layers: 4, groups: 2, seed: 22 }));
    assert.equal(c.config.numLayerWeights, 2);
    assert.equal(c.resolved.layers.length, 2);
    assert.match(c.resolved.layers[1].qWeight?.name ?? '', /albert_layer_groups\.1\.albert_layers\.0\.attention\.query\.weight/);
    assert.equal(c.resolved.embeddings.projWeight?.name, 'albert.encoder.embedding_hidden_mapping_in.weight');
  });
});

describe('families: config normalization', () => {
  it('reads each family\'s own config names', () => {
    const cases: [TinyFamily, Partial<Record<string, unknown>>][] = [
      ['roberta', { family: 'roberta', positionOffset: 2, typeVocabSize: 1, layerNormEps: 1e-5, padTokenId: 1, maxPositions: 66, headAct: 'gelu' }],
      ['xlm-roberta', { family: 'xlm-roberta', positionOffset: 2 }],
      ['camembert', { family: 'camembert', positionOffset: 2 }],
      ['albert', { family: 'albert', embeddingSize: 16, hiddenSize: 32, hiddenAct: 'gelu_tanh', headAct: 'gelu_tanh', numLayerWeights: 1 }],
      ['distilbert', { family: 'distilbert', hiddenSize: 32, embeddingSize: 32, numLayers: 2, numHeads: 4, intermediateSize: 128, layerNormEps: 1e-12, typeVocabSize: 1 }],
      ['electra', { family: 'electra', embeddingSize: 16, hiddenSize: 32, headAct: 'gelu' }],
    ];
    for (const [family, expected] of cases) {
      const cfg = normalizeConfig(describeTinyFamily(family).config as Record<string, unknown>);
      for (const [k, v] of Object.entries(expected)) assert.deepEqual((cfg as unknown as Record<string, unknown>)[k], v, `${family} ${k}`);
    }
  });

  it('the RoBERTa head uses exact GELU even when hidden_act is gelu_new; DistilBERT reads "activation"', () => {
    const r = normalizeConfig({ ...describeTinyFamily('roberta').config, hidden_act: 'gelu_new' });
    assert.equal(r.hiddenAct, 'gelu_tanh');
    assert.equal(r.headAct, 'gelu');
    const d = normalizeConfig({ ...describeTinyFamily('distilbert').config, activation: 'relu' });
    assert.equal(d.hiddenAct, 'relu');
    assert.equal(d.headAct, 'relu');
  });

  it('ALBERT defaults to gelu_new when hidden_act is absent', () => {
    const raw = { ...describeTinyFamily('albert').config } as Record<string, unknown>;
    delete raw.hidden_act;
    assert.equal(normalizeConfig(raw).hiddenAct, 'gelu_tanh');
  });

  it('refuses ALBERT with inner_group_num > 1, saying why', () => {
    assert.throws(
      () => normalizeConfig({ ...describeTinyFamily('albert').config, inner_group_num: 2 }),
      (e: unknown) => e instanceof UserError && /inner_group_num/.test(e.message) && /ALBERT/.test(e.message),
    );
  });

  it('refuses relative position embeddings, which the probe does not compute', () => {
    for (const family of ['roberta', 'albert', 'electra'] as TinyFamily[]) {
      assert.throws(
        () => normalizeConfig({ ...describeTinyFamily(family).config, position_embedding_type: 'relative_key' }),
        (e: unknown) => e instanceof UserError && /relative_key/.test(e.message),
        family,
      );
    }
  });

  it('every family names its layer prefix with {i}, a layer-count key, and documents that key', () => {
    for (const f of FAMILIES) {
      assert.match(f.layerPrefix, /\{i\}\.$/, f.id);
      if (f.id !== 'bert') assert.ok(f.fieldDocs?.[f.layerCountKey], `${f.id} documents ${f.layerCountKey}`);
    }
    assert.equal(familyForModelType('distilbert')?.layerCountKey, 'n_layers');
    assert.ok(familyForModelType('albert')?.planNote?.includes('repetitions'));
  });

  it('documents every config.json field each family\'s HF config class writes (for hovers)', () => {
    for (const family of ['roberta', 'xlm-roberta', 'camembert', 'albert', 'distilbert', 'electra'] as TinyFamily[]) {
      const { config } = describeTinyFamily(family);
      const docs = familyForModelType(config.model_type as string)!.fieldDocs ?? {};
      assert.deepEqual(Object.keys(config).filter((k) => !docs[k]), [], family);
    }
  });

  it('layer prefixes match the tensor names the fixtures (HF layout) use', () => {
    for (const family of ['roberta', 'albert', 'distilbert', 'electra'] as TinyFamily[]) {
      const { config, specs } = describeTinyFamily(family);
      const prefix = familyForModelType(config.model_type as string)!.layerPrefix.replace('{i}', '0');
      assert.ok(specs.some((s) => s.name.startsWith(prefix)), `${family}: ${prefix}`);
    }
  });
});

describe('families: tokenizers and refusals', () => {
  it('RoBERTa byte-level BPE: <s> … </s>, Ġ-prefixed words, pairs joined by </s></s>', () => {
    const c = loadCheckpoint(writeTinyFamily(makeTempDir(), 'roberta'));
    const e = c.tokenizer.encode('the cat sat', 'a dog');
    assert.deepEqual(e.tokens, ['<s>', 'the', 'Ġcat', 'Ġsat', '</s>', '</s>', 'a', 'Ġdog', '</s>']);
    assert.deepEqual(e.special, [true, false, false, false, true, true, false, false, true]);
  });

  it('XLM-R Unigram: ▁-prefixed pieces', () => {
    const c = loadCheckpoint(writeTinyFamily(makeTempDir(), 'xlm-roberta'));
    const e = c.tokenizer.encode('the cat sat.');
    assert.deepEqual(e.tokens, ['<s>', '▁the', '▁cat', '▁sat', '.', '</s>']);
  });

  it('refuses an ELECTRA discriminator with a clear message', () => {
    const dir = writeTinyFamily(makeTempDir(), 'electra-discriminator');
    assert.throws(() => loadCheckpoint(dir), (e: unknown) => e instanceof UserError && /discriminator/.test(e.message) && /generator/.test(e.message));
  });

  it('a RoBERTa base model without lm_head says what is missing', () => {
    const dir = writeTinyFamily(makeTempDir(), 'roberta');
    const { config } = describeTinyFamily('roberta');
    // Rewrite without the head: keep only roberta.* tensors.
    const st = require('../../../src/core/checkpoint/safetensors');
    const header = st.readSafetensorsHeader(path.join(dir, 'model.safetensors'));
    const kept = [...header.tensors.values()].filter((t: { name: string }) => t.name.startsWith('roberta.'));
    const bytes = kept.map((t: unknown) => st.readTensorBytes(t));
    fs.rmSync(path.join(dir, 'model.safetensors'));
    st.writeSafetensors(path.join(dir, 'model.safetensors'), kept.map((t: { name: string; dtype: string; shape: number[] }, i: number) => ({ name: t.name, dtype: t.dtype, shape: t.shape, byteLength: bytes[i].byteLength, read: () => bytes[i] })));
    assert.equal(config.model_type, 'roberta');
    assert.throws(() => loadCheckpoint(dir), (e: unknown) => e instanceof UserError && /lm_head\.dense\.weight/.test(e.message) && /ForMaskedLM/.test(e.message));
  });
});
