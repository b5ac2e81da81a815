/**
 * Writes model.onnx files laid out like an HF Optimum masked-LM export, without PyTorch: every
 * Linear weight becomes an `onnx::MatMul_N` initializer stored [in, out], used by a MatMul node
 * named after its module path (/bert/encoder/layer.0/attention/self/query/MatMul) and followed by
 * the bias Add; embeddings, LayerNorm parameters and biases keep their state-dict names. The
 * tied decoder gets its own transposed copy, as constant folding produces. Only the weight
 * wiring is modelled: the graph is not meant to be run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DType } from '../../../src/core/checkpoint/dtype';
import { ProtoWriter } from '../../../src/core/graph/protobuf';
import { FORMAT_WRITERS, TinyCheckpoint } from './tinyFamilies';
import { encode } from './tinyBert';

const ONNX_TYPE: Partial<Record<DType, number>> = { F32: 1, F16: 10, BF16: 16 };

export interface OnnxNodeSpec {
  name: string;
  op: string;
  inputs: string[];
  outputs: string[];
}
export interface OnnxInitSpec {
  name: string;
  dtype: DType;
  dims: number[];
  bytes: Uint8Array;
}

/** `externalData`: put every initializer's bytes in this file next to the model (as exports over 2 GB do). */
export function writeOnnx(file: string, nodes: OnnxNodeSpec[], inits: OnnxInitSpec[], externalData?: string): void {
  const external = new Map<string, { offset: number; length: number }>();
  if (externalData) {
    const chunks: Buffer[] = [];
    let offset = 0;
    for (const t of inits) {
      const pad = (64 - (offset % 64)) % 64; // onnx's writer aligns like this too
      chunks.push(Buffer.alloc(pad), Buffer.from(t.bytes));
      offset += pad;
      external.set(t.name, { offset, length: t.bytes.length });
      offset += t.bytes.length;
    }
    fs.writeFileSync(path.join(path.dirname(file), externalData), Buffer.concat(chunks));
  }
  const w = new ProtoWriter();
  w.int(1, 8);
  w.string(2, 'pytorch');
  w.message(7, (g) => {
    for (const n of nodes) {
      g.message(1, (m) => {
        n.inputs.forEach((i) => m.string(1, i));
        n.outputs.forEach((o) => m.string(2, o));
        m.string(3, n.name).string(4, n.op);
      });
    }
    g.string(2, 'main_graph');
    for (const t of inits) {
      g.message(5, (m) => {
        m.packedInts(1, t.dims).int(2, ONNX_TYPE[t.dtype]!).string(8, t.name);
        const ext = external.get(t.name);
        if (!ext) return void m.bytes(9, t.bytes);
        for (const [k, v] of [['location', externalData!], ['offset', String(ext.offset)], ['length', String(ext.length)]]) {
          m.message(13, (e) => e.string(1, k).string(2, v));
        }
        m.int(14, 1);
      });
    }
  });
  w.message(8, (o) => o.string(1, '').int(2, 17));
  fs.writeFileSync(file, w.finish());
}

/** `albert.encoder.albert_layer_groups.0.albert_layers.0.ffn` → `/albert/encoder/albert_layer_groups.0/albert_layers.0/ffn` */
export function scopePath(module: string): string {
  const out: string[] = [];
  for (const part of module.split('.')) {
    if (/^\d+$/.test(part) && out.length) out[out.length - 1] += `.${part}`;
    else out.push(part);
  }
  return '/' + out.join('/');
}

function isLinearWeight(name: string, shape: number[]): boolean {
  return shape.length === 2 && name.endsWith('.weight') && !/embeddings\.(word|position|token_type)_embeddings/.test(name);
}

/** Set to write the next fixtures with external data (model.onnx_data). */
export const onnxFixtureOptions: { externalData?: string } = {};

FORMAT_WRITERS.onnx = (dir: string, ckpt: TinyCheckpoint, dtype: DType) => {
  const nodes: OnnxNodeSpec[] = [];
  const inits: OnnxInitSpec[] = [];
  const names = new Set(ckpt.tensors.map((t) => t.name));
  const reps = Number(ckpt.config.num_hidden_layers ?? 1) / Number(ckpt.config.num_hidden_groups ?? ckpt.config.num_hidden_layers ?? 1);
  let counter = 100;
  for (const t of ckpt.tensors) {
    if (!isLinearWeight(t.name, t.shape)) {
      inits.push({ name: t.name, dtype, dims: t.shape, bytes: encode(t.values as Float32Array, dtype) });
      continue;
    }
    const [out, inp] = t.shape;
    const transposed = new Float32Array(out * inp);
    for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) transposed[i * out + o] = t.values[o * inp + i];
    const init = `onnx::MatMul_${counter++}`;
    inits.push({ name: init, dtype, dims: [inp, out], bytes: encode(transposed, dtype) });
    const module = t.name.slice(0, -'.weight'.length);
    const scope = scopePath(module);
    // ALBERT's shared group runs once per layer: one node per application, all on the same initializer.
    const uses = module.includes('albert_layer_groups') ? reps : 1;
    for (let r = 0; r < uses; r++) {
      const suffix = r ? `_${r}` : '';
      const mm = `${scope}/MatMul${suffix}_output_0`;
      nodes.push({ name: `${scope}/MatMul${suffix}`, op: 'MatMul', inputs: [`${scope}/input${suffix}`, init], outputs: [mm] });
      if (names.has(`${module}.bias`)) {
        nodes.push({ name: `${scope}/Add${suffix}`, op: 'Add', inputs: [`${module}.bias`, mm], outputs: [`${scope}/Add${suffix}_output_0`] });
      }
    }
  }
  writeOnnx(path.join(dir, 'model.onnx'), nodes, inits, onnxFixtureOptions.externalData);
};
