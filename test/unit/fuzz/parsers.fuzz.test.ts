/**
 * Fuzzing every parser that reads a model folder or a plan (issue 14, "Fuzzing stays"): each one
 * returns a result or throws a UserError, within a time and memory bound (see harness.ts).
 * The reproducers run first as fixed examples; each also has its own regression test
 * with the message it must give.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import YAML from 'yaml';
import { readConfigFile } from '../../../src/core/checkpoint/config';
import { readOnnxWeights } from '../../../src/core/checkpoint/onnx/onnxWeights';
import { readPytorchBinTensors } from '../../../src/core/checkpoint/pytorch/pytorchBin';
import { restrictedUnpickle } from '../../../src/core/checkpoint/pytorch/unpickler';
import { readAt, readZipDirectory } from '../../../src/core/checkpoint/pytorch/zip';
import { readSafetensorsHeader } from '../../../src/core/checkpoint/safetensors';
import { loadTokenizer } from '../../../src/core/checkpoint/tokenizer';
import { parseMergekitYaml, printMergekitYaml } from '../../../src/core/deepen/mergekit';
import { parsePresetOrPlan } from '../../../src/core/deepen/presets';
import { isUserError } from '../../../src/core/errors';
import { albertLikeModel } from '../helpers/sentencepieceProto';
import { makeTempDir } from '../helpers/tinyBert';
import { writeTinyFamily } from '../helpers/tinyFamilies';
import '../helpers/torchBin';
import '../helpers/optimumOnnx';
import { fuzzParser, jsonMutationArb, mutatedBytes, printStats, writeInput } from './harness';

describe('fuzz: every parser returns a result or a UserError', function () {
  this.timeout(120_000);
  let dir: string;
  let seeds: { bin: Buffer; pickle: Buffer; onnx: Buffer; safetensors: Buffer; config: Record<string, unknown>; tokenizer: Record<string, unknown> };

  before(() => {
    dir = makeTempDir('layer-lens-fuzz-');
    const bin = writeTinyFamily(path.join(dir, 'bin'), 'roberta', { format: 'bin', layers: 1, hidden: 8, heads: 2, intermediate: 8 });
    const onnx = writeTinyFamily(path.join(dir, 'onnx'), 'roberta', { format: 'onnx', layers: 1, hidden: 8, heads: 2, intermediate: 8 });
    const st = writeTinyFamily(path.join(dir, 'st'), 'roberta', { layers: 1, hidden: 8, heads: 2, intermediate: 8 });
    const binBytes = fs.readFileSync(path.join(bin, 'pytorch_model.bin'));
    const fd = fs.openSync(path.join(bin, 'pytorch_model.bin'), 'r');
    const members = readZipDirectory(fd, binBytes.length, 'seed');
    const pkl = [...members.values()].find((m) => m.name.endsWith('/data.pkl'))!;
    const pickle = readAt(fd, pkl.dataOffset, pkl.size);
    fs.closeSync(fd);
    const onnxFile = fs.readdirSync(onnx).find((f) => f.endsWith('.onnx'))!;
    seeds = {
      bin: binBytes,
      pickle,
      onnx: fs.readFileSync(path.join(onnx, onnxFile)),
      safetensors: fs.readFileSync(path.join(st, 'model.safetensors')),
      config: JSON.parse(fs.readFileSync(path.join(st, 'config.json'), 'utf8')),
      tokenizer: JSON.parse(fs.readFileSync(path.join(st, 'tokenizer.json'), 'utf8')),
    };
  });
  after(() => {
    printStats();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('zip directory (pytorch_model.bin)', () => {
    fuzzParser('zip', mutatedBytes(seeds.bin), (bytes) => {
      const file = writeInput(dir, 'fuzz.bin', bytes);
      const fd = fs.openSync(file, 'r');
      try {
        return readZipDirectory(fd, bytes.length, file);
      } finally {
        fs.closeSync(fd);
      }
    });
  });

  it('pytorch_model.bin (zip + restricted pickle + tensor views)', () => {
    fuzzParser('pytorch .bin', mutatedBytes(seeds.bin), (bytes) => readPytorchBinTensors(writeInput(dir, 'pytorch_model.bin', bytes)));
  });

  it('restricted pickle reader', () => {
    // Mutations of a real state-dict pickle, and short opcode soups.
    const opcodes = fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b));
    fuzzParser('pickle', fc.oneof(mutatedBytes(seeds.pickle), opcodes), (bytes) => restrictedUnpickle(bytes, 'data.pkl'));
  });

  it('ONNX protobuf (graph + initializers)', () => {
    fuzzParser('onnx', mutatedBytes(seeds.onnx), (bytes) => readOnnxWeights(writeInput(dir, 'model.onnx', bytes)));
  });

  it('safetensors header', () => {
    const header = (json: unknown, extra: number) => {
      const text = Buffer.from(JSON.stringify(json) ?? 'null');
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(text.length));
      return Buffer.concat([len, text, Buffer.alloc(extra)]);
    };
    const realHeader = JSON.parse(seeds.safetensors.subarray(8, 8 + Number(seeds.safetensors.readBigUInt64LE(0))).toString('utf8'));
    const crafted = fc.tuple(jsonMutationArb(realHeader), fc.nat({ max: 4096 })).map(([h, extra]) => header(h, extra));
    fuzzParser('safetensors', fc.oneof(mutatedBytes(seeds.safetensors), crafted), (bytes) => readSafetensorsHeader(writeInput(dir, 'model.safetensors', bytes)));
  });

  it('config.json normalization', () => {
    fuzzParser('config', jsonMutationArb(seeds.config), (raw) => readConfigFile(writeInput(dir, 'config.json', JSON.stringify(raw) ?? 'null')));
  });

  it('tokenizer.json loading (and one encode)', () => {
    const tokDir = path.join(dir, 'tok');
    fs.mkdirSync(tokDir, { recursive: true });
    fuzzParser('tokenizer.json', jsonMutationArb(seeds.tokenizer), (json) => {
      writeInput(tokDir, 'tokenizer.json', JSON.stringify(json) ?? 'null');
      return loadTokenizer(tokDir).encode('The cat sat on the mat.', 'A pair.');
    });
  });

  it('SentencePiece model, converted (and one encode)', () => {
    const spmDir = path.join(dir, 'spm');
    fs.mkdirSync(spmDir, { recursive: true });
    fs.writeFileSync(path.join(spmDir, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'AlbertTokenizer' }));
    fuzzParser('SentencePiece model', mutatedBytes(albertLikeModel()), (bytes) => {
      writeInput(spmDir, 'spiece.model', bytes);
      return loadTokenizer(spmDir).encode('The cat sat on the mat.', 'A pair.');
    });
  });

  it('layer plans and presets', () => {
    const planText = fc.oneof(
      fc.stringMatching(/^[0-9,\- :a-z]{0,24}$/),
      fc.constantFrom('stack:99999999999999999999', 'stack:1e3', 'dup:-1', 'dup:1.5', 'dus:0', '0-', '-', ',,', '3-1', 'stack:0', 'dup-range:5-2', 'dus:999'),
      fc.string({ maxLength: 32 }),
    );
    fuzzParser('plan', fc.tuple(planText as fc.Arbitrary<string>, fc.integer({ min: 1, max: 48 })), ([text, n]) => parsePresetOrPlan(text, n), [['stack:99999999999999999999', 12] as [string, number]]);
  });

  it('mergekit YAML', () => {
    const valid = printMergekitYaml([0, 1, 2, 3, 3], 'bert-base-uncased');
    const doc = YAML.parse(valid);
    const texts = fc.oneof(
      jsonMutationArb(doc).map((d) => YAML.stringify(d)),
      fc.array(fc.tuple(fc.nat({ max: valid.length }), fc.constantFrom('!!float ', '!!int ', '&a ', '*a', '{', '[', ':', '- ', '\n', '"', '!!binary ', '<<: ', '? ')), { minLength: 1, maxLength: 3 }).map((edits) => {
        let t = valid;
        for (const [at, s] of edits) t = t.slice(0, at) + s + t.slice(at);
        return t;
      }),
      fc.string({ maxLength: 64 }),
    );
    const reproducers = [
      'merge_method: {toString: 1}\nslices: []\n',
      'merge_method: passthrough\nslices:\n  - sources:\n      - model: a\n        layer_range: [!!float 0, 4]\n',
    ];
    fuzzParser('mergekit', texts, (text) => parseMergekitYaml(text, 4, 'plan.yaml'), reproducers);
  });
});
