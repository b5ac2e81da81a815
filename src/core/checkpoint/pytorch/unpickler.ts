/**
 * A restricted unpickler for PyTorch state dicts. It interprets the pickle opcodes itself and
 * never imports or calls anything: the only globals it accepts are the handful a plain state
 * dict uses (OrderedDict, the tensor-rebuild functions, the storage types), and each is
 * "called" by code written here. Any other global, or an opcode outside that subset, is refused
 * before anything else happens.
 */
import { UserError } from '../../errors';
import { DType } from '../dtype';

/** What a storage reference (persistent id) in the pickle names. */
export interface StorageRef {
  kind: 'storage';
  dtype: DType;
  key: string;
  numel: number;
}

export interface TensorRef {
  kind: 'tensor';
  storage: StorageRef;
  storageOffset: number;
  shape: number[];
  stride: number[];
}

export interface PickledDict {
  kind: 'dict';
  entries: Map<unknown, unknown>;
}

interface Global {
  kind: 'global';
  module: string;
  name: string;
}

const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

const ALLOWED_GLOBALS = new Set([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  ...Object.keys(STORAGE_DTYPES).map((s) => `torch.${s}`),
]);

export const SAFETENSORS_HINT =
  'Layer Lens reads only plain state dicts from .bin files. Convert the checkpoint to safetensors ' +
  '(e.g. `python -c "from transformers import AutoModelForMaskedLM as M; M.from_pretrained(\'DIR\').save_pretrained(\'DIR\', safe_serialization=True)"`) ' +
  'and open model.safetensors instead.';

const MARK = Symbol('mark');

/** Unpickles `data` (protocol 2–5) under the restrictions above. Returns the top-level object. */
export function restrictedUnpickle(data: Uint8Array, file: string): unknown {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;
  const refuse = (why: string): never => {
    throw new UserError(`refused to load this pickle: ${why}. ${SAFETENSORS_HINT}`, file);
  };
  const need = (n: number) => {
    if (pos + n > buf.length) refuse('it ends in the middle of an instruction');
  };
  const u8 = () => (need(1), buf[pos++]);
  const u16 = () => (need(2), (pos += 2), buf.readUInt16LE(pos - 2));
  const u32 = () => (need(4), (pos += 4), buf.readUInt32LE(pos - 4));
  const i32 = () => (need(4), (pos += 4), buf.readInt32LE(pos - 4));
  const u64 = () => {
    need(8);
    const v = buf.readBigUInt64LE(pos);
    pos += 8;
    if (v > BigInt(buf.length)) refuse('a length field is larger than the pickle');
    return Number(v);
  };
  const bytes = (n: number) => (need(n), (pos += n), buf.subarray(pos - n, pos));
  const line = () => {
    const end = buf.indexOf(0x0a, pos);
    if (end < 0) refuse('an unterminated text field');
    const s = buf.toString('utf8', pos, end);
    pos = end + 1;
    return s;
  };
  const pop = () => {
    if (stack.length === 0) refuse('it pops from an empty stack');
    return stack.pop();
  };
  const popMark = (): unknown[] => {
    const at = stack.lastIndexOf(MARK);
    if (at < 0) refuse('a missing MARK');
    const items = stack.slice(at + 1);
    stack.length = at;
    return items;
  };
  const top = () => {
    if (stack.length === 0) refuse('it works on an empty stack');
    return stack[stack.length - 1];
  };
  const global = (module: string, name: string): Global => {
    const full = `${module}.${name}`;
    if (!ALLOWED_GLOBALS.has(full)) refuse(`it references the global "${full}", which a plain state dict never needs`);
    return { kind: 'global', module, name };
  };
  const setItems = (target: unknown, items: unknown[]) => {
    if (!isDict(target)) refuse('SETITEM(S) on something that is not a dict');
    for (let i = 0; i + 1 < items.length; i += 2) (target as PickledDict).entries.set(items[i], items[i + 1]);
  };
  const append = (target: unknown, items: unknown[]) => {
    if (!Array.isArray(target) || Object.isFrozen(target)) refuse('APPEND(S) on something that is not a list');
    (target as unknown[]).push(...items);
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP
        return pop();
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push({ kind: 'dict', entries: new Map() } satisfies PickledDict);
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(Object.freeze([]));
        break;
      case 0x74: // TUPLE
        stack.push(Object.freeze(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(Object.freeze([pop()]));
        break;
      case 0x86: { // TUPLE2
        const b = pop();
        stack.push(Object.freeze([pop(), b]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        stack.push(Object.freeze([pop(), b, c]));
        break;
      }
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: { // LONG1
        const n = u8();
        stack.push(readLong(bytes(n)));
        break;
      }
      case 0x8b: { // LONG4
        const n = u32();
        if (n > 16) refuse('an integer too large for a state dict');
        stack.push(readLong(bytes(n)));
        break;
      }
      case 0x47: // BINFLOAT
        need(8);
        stack.push(buf.readDoubleBE(pos));
        pos += 8;
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x58: // BINUNICODE
        stack.push(bytes(u32()).toString('utf8'));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(bytes(u8()).toString('utf8'));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(bytes(u64()).toString('utf8'));
        break;
      case 0x54: // BINSTRING
        stack.push(bytes(u32()).toString('latin1'));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(bytes(u8()).toString('latin1'));
        break;
      case 0x42: // BINBYTES
        stack.push(Uint8Array.from(bytes(u32())));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(Uint8Array.from(bytes(u8())));
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: { // LONG_BINGET
        const key = op === 0x68 ? u8() : u32();
        if (!memo.has(key)) refuse(`it reads memo slot ${key}, which was never set`);
        stack.push(memo.get(key));
        break;
      }
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x63: { // GLOBAL "module\nname\n"
        const module = line();
        stack.push(global(module, line()));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') refuse('STACK_GLOBAL with non-string names');
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x51: // BINPERSID
        stack.push(persistentLoad(pop(), refuse));
        break;
      case 0x52: { // REDUCE
        const args = pop();
        const fn = pop();
        stack.push(call(fn, args, refuse));
        break;
      }
      case 0x62: { // BUILD: state for an object we built; a state dict's _metadata lands here and is ignored
        pop();
        const target = top();
        if (!isDict(target) && !isTensor(target)) refuse('BUILD on an object that is not a dict or tensor');
        break;
      }
      case 0x73: { // SETITEM
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x61: { // APPEND
        const item = pop();
        append(top(), [item]);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        append(top(), items);
        break;
      }
      default:
        refuse(`it uses pickle opcode 0x${op.toString(16).padStart(2, '0')} (${JSON.stringify(String.fromCharCode(op))}) at byte ${pos - 1}, which a plain state dict does not`);
    }
  }
}

function call(fn: unknown, args: unknown, refuse: (why: string) => never): unknown {
  if (!isGlobal(fn)) return refuse('REDUCE on something that is not an allowed global');
  if (!Array.isArray(args)) return refuse('REDUCE with arguments that are not a tuple');
  const full = `${fn.module}.${fn.name}`;
  switch (full) {
    case 'collections.OrderedDict': {
      const dict: PickledDict = { kind: 'dict', entries: new Map() };
      if (args.length > 0) {
        // OrderedDict([(k, v), …]) — protocol 0/1 style.
        const items = args[0];
        if (!Array.isArray(items)) return refuse('OrderedDict called with something other than a list of pairs');
        for (const pair of items) {
          if (!Array.isArray(pair) || pair.length !== 2) return refuse('OrderedDict called with something other than pairs');
          dict.entries.set(pair[0], pair[1]);
        }
      }
      return dict;
    }
    case 'torch._utils._rebuild_tensor_v2': {
      const [storage, storageOffset, shape, stride] = args;
      if (!isStorage(storage)) return refuse('_rebuild_tensor_v2 without a storage');
      const ints = (v: unknown) => Array.isArray(v) && v.every((x) => Number.isSafeInteger(x) && x >= 0);
      if (!Number.isSafeInteger(storageOffset) || (storageOffset as number) < 0 || !ints(shape) || !ints(stride) || (shape as number[]).length !== (stride as number[]).length) {
        return refuse('_rebuild_tensor_v2 with a malformed offset, size or stride');
      }
      return { kind: 'tensor', storage, storageOffset: storageOffset as number, shape: [...(shape as number[])], stride: [...(stride as number[])] } satisfies TensorRef;
    }
    case 'torch._utils._rebuild_parameter':
    case 'torch._utils._rebuild_parameter_with_state': {
      if (!isTensor(args[0])) return refuse(`${fn.name} without a tensor`);
      return args[0];
    }
    default:
      return refuse(`it calls "${full}", which is not callable in a state dict`);
  }
}

/** ('storage', torch.FloatStorage, key, location, numel) */
function persistentLoad(pid: unknown, refuse: (why: string) => never): StorageRef {
  if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) return refuse('a persistent id that is not a storage reference');
  const [, type, key, , numel] = pid;
  if (!isGlobal(type) || type.module !== 'torch' || !(type.name in STORAGE_DTYPES)) return refuse('a storage of an unknown type');
  if (typeof key !== 'string' || !/^[A-Za-z0-9_]+$/.test(key)) return refuse('a storage key that is not a plain name');
  if (!Number.isSafeInteger(numel) || (numel as number) < 0) return refuse('a storage with an invalid element count');
  return { kind: 'storage', dtype: STORAGE_DTYPES[type.name], key, numel: numel as number };
}

/** Little-endian two's-complement integer. */
function readLong(b: Uint8Array): number {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
  return Number(v);
}

const isGlobal = (v: unknown): v is Global => typeof v === 'object' && v !== null && (v as Global).kind === 'global';
const isStorage = (v: unknown): v is StorageRef => typeof v === 'object' && v !== null && (v as StorageRef).kind === 'storage';
export const isTensor = (v: unknown): v is TensorRef => typeof v === 'object' && v !== null && (v as TensorRef).kind === 'tensor';
export const isDict = (v: unknown): v is PickledDict => typeof v === 'object' && v !== null && (v as PickledDict).kind === 'dict';
