/**
 * A small ONNX graph builder. Nodes and tensors are plain objects; `encodeModel` writes the
 * ModelProto bytes (field numbers from onnx.proto). Weights can be external data: a location
 * relative to the model folder plus an offset and length, so the model file is never copied.
 */
import { ProtoWriter } from './protobuf';

export const enum TensorType {
  FLOAT = 1,
  UINT8 = 2,
  INT8 = 3,
  INT32 = 6,
  INT64 = 7,
  BOOL = 9,
  FLOAT16 = 10,
  DOUBLE = 11,
  BFLOAT16 = 16,
}

export type AttrValue = number | string | number[] | { float: number } | { floats: number[] };

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, AttrValue>;
  /** An operator set other than ONNX's own, e.g. MS_DOMAIN for onnxruntime's contrib ops. */
  domain?: string;
}

/** onnxruntime's contrib operators (version 1), e.g. FusedMatMul. */
export const MS_DOMAIN = 'com.microsoft';

export interface OnnxInitializer {
  name: string;
  type: TensorType;
  dims: number[];
  /** Inline bytes (small constants) … */
  raw?: Uint8Array;
  int64s?: bigint[];
  /** … or a range of an external file, relative to the external-data folder. */
  external?: { location: string; offset: number; length: number };
}

export interface OnnxValueInfo {
  name: string;
  type: TensorType;
  /** A number for a fixed size, a string for a named dynamic size. */
  shape: (number | string)[];
}

export interface OnnxModel {
  nodes: OnnxNode[];
  initializers: OnnxInitializer[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  opset: number;
}

const AttrType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

export function encodeModel(model: OnnxModel): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, 8); // ir_version 8 (opset 17 era)
  w.string(2, 'layer-lens');
  w.message(7, (g) => encodeGraph(g, model));
  w.message(8, (o) => o.string(1, '').int(2, model.opset));
  if (model.nodes.some((n) => n.domain === MS_DOMAIN)) w.message(8, (o) => o.string(1, MS_DOMAIN).int(2, 1));
  return w.finish();
}

function encodeGraph(g: ProtoWriter, model: OnnxModel): void {
  model.nodes.forEach((n, i) => g.message(1, (w) => encodeNode(w, n, i)));
  g.string(2, 'probe');
  for (const t of model.initializers) g.message(5, (w) => encodeTensor(w, t));
  for (const v of model.inputs) g.message(11, (w) => encodeValueInfo(w, v));
  for (const v of model.outputs) g.message(12, (w) => encodeValueInfo(w, v));
}

function encodeNode(w: ProtoWriter, n: OnnxNode, index: number): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, `${n.op}_${index}`);
  w.string(4, n.op);
  if (n.domain) w.string(7, n.domain);
  for (const [name, value] of Object.entries(n.attrs ?? {})) {
    w.message(5, (a) => {
      a.string(1, name);
      if (typeof value === 'number') {
        a.int(3, value).int(20, AttrType.INT);
      } else if (typeof value === 'string') {
        a.string(4, value).int(20, AttrType.STRING);
      } else if (Array.isArray(value)) {
        a.packedInts(8, value).int(20, AttrType.INTS);
      } else if ('float' in value) {
        a.float(2, value.float).int(20, AttrType.FLOAT);
      } else {
        for (const f of value.floats) a.float(7, f);
        a.int(20, AttrType.FLOATS);
      }
    });
  }
}

function encodeTensor(w: ProtoWriter, t: OnnxInitializer): void {
  w.packedInts(1, t.dims);
  w.int(2, t.type);
  if (t.int64s) w.packedInts(7, t.int64s);
  w.string(8, t.name);
  if (t.raw) w.bytes(9, t.raw);
  if (t.external) {
    const entries: [string, string][] = [
      ['location', t.external.location],
      ['offset', String(t.external.offset)],
      ['length', String(t.external.length)],
    ];
    for (const [k, v] of entries) w.message(13, (e) => e.string(1, k).string(2, v));
    w.int(14, 1); // data_location = EXTERNAL
  }
}

function encodeValueInfo(w: ProtoWriter, v: OnnxValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, v.type);
      tensor.message(2, (shape) => {
        for (const d of v.shape) {
          shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
        }
      });
    }),
  );
}

/** Builds a graph node by node, handing out unique names for intermediate values. */
export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxInitializer[] = [];
  private counter = 0;
  private constants = new Map<string, string>();

  /** Adds a node with one output and returns that output's name. */
  op(op: string, inputs: string[], attrs?: Record<string, AttrValue>, hint = op.toLowerCase()): string {
    const out = `${hint}_${this.counter++}`;
    this.nodes.push({ op, inputs, outputs: [out], attrs });
    return out;
  }

  /** A node of onnxruntime's contrib operator set (MS_DOMAIN), one output. */
  msOp(op: string, inputs: string[], attrs?: Record<string, AttrValue>): string {
    const out = `${op.toLowerCase()}_${this.counter++}`;
    this.nodes.push({ op, inputs, outputs: [out], attrs, domain: MS_DOMAIN });
    return out;
  }

  /** Adds a node with several outputs. */
  opMulti(op: string, inputs: string[], outputCount: number, attrs?: Record<string, AttrValue>): string[] {
    const outs = Array.from({ length: outputCount }, (_, i) => `${op.toLowerCase()}_${this.counter++}_${i}`);
    this.nodes.push({ op, inputs, outputs: outs, attrs });
    return outs;
  }

  /** A named node output, for graph outputs. */
  named(op: string, inputs: string[], name: string, attrs?: Record<string, AttrValue>): string {
    this.nodes.push({ op, inputs, outputs: [name], attrs });
    return name;
  }

  floatConst(value: number | number[], dims?: number[]): string {
    const values = Array.isArray(value) ? value : [value];
    const key = `f:${dims ?? 'scalar'}:${values.join(',')}`;
    return this.cached(key, (name) => {
      const raw = new Uint8Array(new Float32Array(values).buffer);
      this.initializers.push({ name, type: TensorType.FLOAT, dims: dims ?? [], raw });
    });
  }

  int64Const(values: number[], dims: number[] = [values.length]): string {
    return this.cached(`i:${dims}:${values.join(',')}`, (name) => {
      this.initializers.push({ name, type: TensorType.INT64, dims, int64s: values.map((v) => BigInt(v)) });
    });
  }

  /** An initializer whose bytes are in the graph itself (e.g. weights derived at session build). */
  inline(name: string, type: TensorType, dims: number[], raw: Uint8Array): string {
    this.initializers.push({ name, type, dims, raw });
    return name;
  }

  external(name: string, type: TensorType, dims: number[], location: string, offset: number, length: number): string {
    this.initializers.push({ name, type, dims, external: { location, offset, length } });
    return name;
  }

  private cached(key: string, create: (name: string) => void): string {
    let name = this.constants.get(key);
    if (!name) {
      name = `const_${this.counter++}`;
      create(name);
      this.constants.set(key, name);
    }
    return name;
  }
}
