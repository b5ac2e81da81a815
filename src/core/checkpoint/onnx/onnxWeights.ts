/**
 * Weights of an ONNX masked-LM export (HF Optimum / torch.onnx.export), recovered as HF tensor
 * names pointing at their bytes inside the .onnx file (or its external-data file).
 *
 * Initializers that kept their PyTorch names (embeddings, biases, LayerNorm) are used as they are.
 * Linear weights come out of the exporter renamed (`onnx::MatMul_1234`) and stored [in, out]: the
 * node that uses one is named after the module path (`/bert/encoder/layer.0/attention/self/query/MatMul`),
 * which gives back `bert.encoder.layer.0.attention.self.query.weight`, marked transposed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../../errors';
import { openFileForReading } from '../../files';
import { resolveInsideFolder } from '../insideFolder';
import { DType, DTYPE_BYTES } from '../dtype';
import { TensorEntry } from '../safetensors';
import { WeightIndex } from '../weights';
import { Field, ProtoError, ProtoFileReader, Wire } from '../../graph/protoReader';

export interface OnnxNodeInfo {
  name: string;
  op: string;
  inputs: string[];
  outputs: string[];
  ints: Record<string, number | number[]>;
}

export interface OnnxTensorInfo {
  name: string;
  dtype: DType | undefined;
  onnxType: number;
  dims: number[];
  /** Where the element bytes are, or undefined when they are not stored as one little-endian block. */
  file?: string;
  offset?: number;
  byteLength?: number;
}

export interface OnnxGraphInfo {
  nodes: OnnxNodeInfo[];
  initializers: Map<string, OnnxTensorInfo>;
}

const ONNX_DTYPES: Record<number, DType> = { 1: 'F32', 2: 'U8', 3: 'I8', 5: 'I16', 6: 'I32', 7: 'I64', 9: 'BOOL', 10: 'F16', 11: 'F64', 16: 'BF16' };

/** Reads nodes and initializers of an .onnx file without loading the tensor bytes. */
export function readOnnxGraph(file: string): OnnxGraphInfo {
  const { fd, real, size } = openFileForReading(file, 'ONNX model');
  try {
    const r = new ProtoFileReader(fd, size);
    const nodes: OnnxNodeInfo[] = [];
    const initializers = new Map<string, OnnxTensorInfo>();
    let sawGraph = false;
    for (const f of r.fields(0, r.size)) {
      if (f.field !== 7 || f.wire !== Wire.LEN) continue; // ModelProto.graph
      sawGraph = true;
      for (const g of r.fields(f.start!, f.start! + f.length!)) {
        if (g.wire !== Wire.LEN) continue;
        if (g.field === 1) {
          const node = readNode(r, g, real, initializers);
          nodes.push(node);
        } else if (g.field === 5) {
          const t = readTensor(r, g, real);
          initializers.set(t.name, t);
        }
      }
    }
    if (!sawGraph) throw new UserError('not an ONNX model: it has no graph', file);
    return { nodes, initializers };
  } catch (e) {
    if (e instanceof ProtoError) throw new UserError(`not a valid ONNX file (${e.message})`, file);
    throw e;
  } finally {
    fs.closeSync(fd);
  }
}

function readNode(r: ProtoFileReader, msg: Field, file: string, initializers: Map<string, OnnxTensorInfo>): OnnxNodeInfo {
  const node: OnnxNodeInfo = { name: '', op: '', inputs: [], outputs: [], ints: {} };
  let constant: OnnxTensorInfo | undefined;
  for (const f of r.fields(msg.start!, msg.start! + msg.length!)) {
    if (f.field === 1 && f.wire === Wire.LEN) node.inputs.push(r.string(f));
    else if (f.field === 2 && f.wire === Wire.LEN) node.outputs.push(r.string(f));
    else if (f.field === 3 && f.wire === Wire.LEN) node.name = r.string(f);
    else if (f.field === 4 && f.wire === Wire.LEN) node.op = r.string(f);
    else if (f.field === 5 && f.wire === Wire.LEN) {
      let name = '';
      let i: number | undefined;
      const ints: number[] = [];
      let tensor: Field | undefined;
      for (const a of r.fields(f.start!, f.start! + f.length!)) {
        if (a.field === 1 && a.wire === Wire.LEN) name = r.string(a);
        else if (a.field === 3 && a.wire === Wire.VARINT) i = Number(BigInt.asIntN(64, a.value!));
        else if (a.field === 8) r.ints(a, ints);
        else if (a.field === 5 && a.wire === Wire.LEN) tensor = a;
      }
      if (i !== undefined) node.ints[name] = i;
      else if (ints.length) node.ints[name] = ints;
      if (tensor && name === 'value') constant = readTensor(r, tensor, file);
    }
  }
  // A Constant node's tensor is an initializer in all but name.
  if (node.op === 'Constant' && constant && node.outputs[0]) initializers.set(node.outputs[0], { ...constant, name: node.outputs[0] });
  return node;
}

function readTensor(r: ProtoFileReader, msg: Field, file: string): OnnxTensorInfo {
  const t: OnnxTensorInfo = { name: '', dtype: undefined, onnxType: 0, dims: [] };
  const external: Record<string, string> = {};
  let externalLocation = false;
  let data: Field | undefined;
  for (const f of r.fields(msg.start!, msg.start! + msg.length!)) {
    if (f.field === 1) r.ints(f, t.dims);
    else if (f.field === 2 && f.wire === Wire.VARINT) t.onnxType = Number(f.value!);
    else if (f.field === 8 && f.wire === Wire.LEN) t.name = r.string(f);
    else if (f.field === 9 && f.wire === Wire.LEN) data = f; // raw_data
    else if (f.field === 4 && f.wire === Wire.LEN) data = f; // packed float_data: the same little-endian bytes
    else if (f.field === 13 && f.wire === Wire.LEN) {
      let key = '';
      let value = '';
      for (const kv of r.fields(f.start!, f.start! + f.length!)) {
        if (kv.field === 1 && kv.wire === Wire.LEN) key = r.string(kv);
        if (kv.field === 2 && kv.wire === Wire.LEN) value = r.string(kv);
      }
      external[key] = value;
    } else if (f.field === 14 && f.wire === Wire.VARINT) externalLocation = f.value === 1n;
  }
  t.dtype = ONNX_DTYPES[t.onnxType];
  const numel = t.dims.reduce((a, b) => a * b, 1);
  const expected = t.dtype ? numel * DTYPE_BYTES[t.dtype] : undefined;
  if (externalLocation) {
    const location = external.location ?? '';
    const target = location ? resolveInsideFolder(path.dirname(file), location, 'external-data location', file) : '';
    if (location && fs.existsSync(target)) {
      t.file = fs.realpathSync(target);
      t.offset = externalNumber(external, 'offset', t.name, file) ?? 0;
      t.byteLength = externalNumber(external, 'length', t.name, file) ?? expected;
      const targetSize = fs.statSync(t.file).size;
      if (t.byteLength !== undefined && t.offset + t.byteLength > targetSize) {
        throw new UserError(`initializer "${t.name}": external data (offset ${t.offset}, length ${t.byteLength}) runs past the end of ${location} (${targetSize} bytes)`, file);
      }
    }
  } else if (data && (data.field === 9 || t.onnxType === 1)) {
    t.file = file;
    t.offset = data.start;
    t.byteLength = data.length;
  }
  if (t.byteLength !== undefined && expected !== undefined && t.byteLength !== expected) {
    t.file = undefined; // not one plain block of the declared size
  }
  return t;
}

/** An external-data `offset` or `length`: a non-negative decimal integer, or absent. */
function externalNumber(external: Record<string, string>, key: 'offset' | 'length', tensor: string, file: string): number | undefined {
  const text = external[key];
  if (text === undefined) return undefined;
  const v = /^\d{1,16}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(v)) {
    throw new UserError(`initializer "${tensor}": external-data ${key} "${text.slice(0, 40)}" is not a non-negative integer`, file);
  }
  return v;
}

/** HF names look like `bert.encoder.layer.0.output.dense.bias`; exporter-made names like `onnx::MatMul_12`. */
const HF_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+$/;

/** `/bert/encoder/layer.0/attention/self/query/MatMul_1` → `bert.encoder.layer.0.attention.self.query` */
function modulePath(nodeName: string): string | undefined {
  if (!nodeName.startsWith('/')) return undefined;
  const parts = nodeName.slice(1).split('/');
  parts.pop(); // the op's own name
  return parts.length ? parts.join('.') : undefined;
}

export function readOnnxWeights(file: string): WeightIndex {
  const graph = readOnnxGraph(file);
  const tensors = new Map<string, TensorEntry>();
  const mapped = new Set<string>();
  const entry = (t: OnnxTensorInfo, name: string, transposed: boolean): TensorEntry | undefined => {
    if (!t.file || !t.dtype || t.offset === undefined || t.byteLength === undefined) return undefined;
    const shape = transposed ? [...t.dims].reverse() : t.dims;
    return { name, dtype: t.dtype, shape, file: t.file, offset: t.offset, byteLength: t.byteLength, ...(transposed ? { transposed } : {}) };
  };
  const add = (name: string, t: OnnxTensorInfo, transposed: boolean) => {
    if (tensors.has(name)) return;
    const e = entry(t, name, transposed);
    if (e) {
      tensors.set(name, e);
      mapped.add(t.name);
    }
  };

  // 1. Initializers that kept their PyTorch names.
  for (const t of graph.initializers.values()) if (HF_NAME.test(t.name) && !t.name.startsWith('onnx::')) add(t.name, t, false);

  // 2. Weights named by the node that uses them.
  const producer = new Map<string, OnnxNodeInfo>();
  for (const n of graph.nodes) for (const o of n.outputs) producer.set(o, n);
  /** The initializer behind a value, looking through a 2-D Transpose; `flipped` if it was transposed. */
  const source = (value: string): { t: OnnxTensorInfo; flipped: boolean } | undefined => {
    const t = graph.initializers.get(value);
    if (t) return { t, flipped: false };
    const p = producer.get(value);
    if (p?.op === 'Transpose' && (p.ints.perm === undefined || String(p.ints.perm) === '1,0')) {
      const inner = graph.initializers.get(p.inputs[0]);
      if (inner && inner.dims.length === 2) return { t: inner, flipped: true };
    }
    return undefined;
  };
  for (const n of graph.nodes) {
    const module = modulePath(n.name);
    if (!module) continue;
    if (n.op === 'MatMul' || n.op === 'Gemm') {
      const s = source(n.inputs[1] ?? '');
      if (!s || s.t.dims.length !== 2) continue;
      // MatMul's B is [in, out]; Gemm's is [out, in] when transB = 1.
      const storedInOut = n.op === 'MatMul' || !n.ints.transB;
      add(`${module}.weight`, s.t, storedInOut !== s.flipped);
      // The bias Add after it usually kept its full state-dict name: a second opinion on the module
      // path, for exports whose scopes skipped a module (one that did not run its own children).
      for (const user of graph.nodes.filter((u) => u.op === 'Add' && u.inputs.includes(n.outputs[0]))) {
        const bias = user.inputs.find((i) => i.endsWith('.bias') && HF_NAME.test(i) && graph.initializers.get(i)?.dims.length === 1);
        if (bias) add(`${bias.slice(0, -'.bias'.length)}.weight`, s.t, storedInOut !== s.flipped);
      }
      if (n.op === 'Gemm' && n.inputs[2]) {
        const b = graph.initializers.get(n.inputs[2]);
        if (b && b.dims.length === 1) add(`${module}.bias`, b, false);
      }
    } else if (n.op === 'Add') {
      // The bias Add right after a MatMul: /…/query/Add(bias, matmul_out) or the reverse.
      const b = n.inputs.map((i) => graph.initializers.get(i)).find((t) => t && t.dims.length === 1);
      if (b && !mapped.has(b.name) && tensors.has(`${module}.weight`)) add(`${module}.bias`, b, false);
    } else if (n.op === 'LayerNormalization') {
      const [, scale, bias] = n.inputs.map((i) => graph.initializers.get(i));
      if (scale && !mapped.has(scale.name)) add(`${module}.weight`, scale, false);
      if (bias && !mapped.has(bias.name)) add(`${module}.bias`, bias, false);
    } else if (n.op === 'Gather') {
      // A lookup table is unambiguous even when it is already mapped: a tied decoder/embedding
      // (torch.onnx names it lm_head.decoder.weight for XLM-R and CamemBERT) is both.
      const t = graph.initializers.get(n.inputs[0]);
      if (t && t.dims.length === 2) add(`${module}.weight`, t, false);
    }
  }

  // What could not be placed, for the "missing tensor" error.
  const unmapped = [...graph.initializers.values()].filter(
    (t) => !mapped.has(t.name) && t.dims.length >= 2 && t.dims.every((d) => d > 1) && (t.dtype === undefined || ['F32', 'F16', 'BF16'].includes(t.dtype)),
  );
  const users = (name: string) => graph.nodes.filter((n) => n.inputs.includes(name)).map((n) => n.name || n.op);
  const describe = (t: OnnxTensorInfo) => `${t.name} [${t.dims.join('×')}]${users(t.name).length ? ` used by ${users(t.name).slice(0, 2).join(', ')}` : ''}${!t.file ? ' (not stored as raw bytes)' : ''}`;
  const quantized = graph.nodes.some((n) => /MatMulInteger|QLinear|DequantizeLinear|MatMulNBits/.test(n.op));
  const hints = [
    quantized ? 'This ONNX model is quantized; Layer Lens needs the float (fp32/fp16) export.' : '',
    unmapped.length
      ? `${unmapped.length} weight initializer(s) of the ONNX graph could not be mapped to HF names: ${unmapped.slice(0, 4).map(describe).join('; ')}${unmapped.length > 4 ? '; …' : ''}.`
      : '',
  ].filter(Boolean);
  const real = fs.realpathSync(file);
  const files = [...new Set([...tensors.values()].map((t) => t.file))];
  if (!files.includes(real)) files.unshift(real);
  return {
    tensors,
    files,
    displayFile: file,
    format: 'onnx',
    ...(hints.length ? { missingHint: `${hints.join(' ')} Export with HF Optimum (\`optimum-cli export onnx --task fill-mask\`) or use the safetensors checkpoint.` } : {}),
  };
}
