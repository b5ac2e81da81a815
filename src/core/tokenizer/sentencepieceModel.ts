/**
 * A SentencePiece model file (spm.model, spiece.model, sentencepiece.bpe.model): the ModelProto protobuf
 * (sentencepiece_model.proto), read by hand for the fields a tokenizer conversion needs. Field numbers
 * and defaults are the proto's; unknown fields are skipped by wire type, as protobuf readers do.
 */
import { UserError } from '../errors';

/** SentencePiece's piece types (ModelProto.SentencePiece.Type). */
export const PIECE_NORMAL = 1;
export const PIECE_UNKNOWN = 2;
export const PIECE_CONTROL = 3;
export const PIECE_USER_DEFINED = 4;

export interface SentencePiece {
  piece: string;
  score: number;
  type: number;
}

export interface SentencePieceModel {
  pieces: SentencePiece[];
  trainer: {
    /** 1 unigram, 2 bpe, 3 word, 4 char. */
    modelType: number;
    unkId: number;
    bosId: number;
    eosId: number;
    padId: number;
    unkPiece: string;
    bosPiece: string;
    eosPiece: string;
    padPiece: string;
    byteFallback: boolean;
  };
  normalizer: {
    name: string;
    /** The Darts trie + replacement pool blob; empty when the model has none. */
    precompiledCharsmap: Uint8Array;
    addDummyPrefix: boolean;
    removeExtraWhitespaces: boolean;
    escapeWhitespaces: boolean;
  };
}

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

class ProtoReader {
  pos: number;
  constructor(
    private readonly buf: Uint8Array,
    private readonly view: DataView,
    start: number,
    readonly end: number,
    private readonly fail: (why: string) => never,
  ) {
    this.pos = start;
  }

  /** A varint as a JavaScript number; int32 fields that are negative come as 10-byte two's complement. */
  varint(): { lo: number; hi: number } {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('a varint runs past the end of its message');
      const b = this.buf[this.pos++];
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if ((b & 0x80) === 0) return { lo: lo >>> 0, hi: hi >>> 0 };
    }
    return this.fail('a varint is longer than 10 bytes');
  }

  int32(): number {
    return this.varint().lo | 0;
  }

  bool(): boolean {
    const v = this.varint();
    return v.lo !== 0 || v.hi !== 0;
  }

  length(): number {
    const v = this.varint();
    if (v.hi !== 0 || v.lo > this.end - this.pos) this.fail(`a length of ${v.hi ? 'over 4 GB' : v.lo} runs past the end of its message`);
    return v.lo;
  }

  bytes(): Uint8Array {
    const n = this.length();
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    try {
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(this.bytes());
    } catch {
      return this.fail('a string is not valid UTF-8');
    }
  }

  float(): number {
    if (this.end - this.pos < 4) this.fail('a float runs past the end of its message');
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  sub(): ProtoReader {
    const n = this.length();
    const r = new ProtoReader(this.buf, this.view, this.pos, this.pos + n, this.fail);
    this.pos += n;
    return r;
  }

  /** The next field's number and wire type, or undefined at the end of the message. */
  tag(): { field: number; wire: number } | undefined {
    if (this.pos >= this.end) return undefined;
    const { lo, hi } = this.varint();
    const field = lo >>> 3;
    if (field === 0 || hi !== 0) this.fail(`a field tag ${field === 0 ? 'has field number 0' : 'is too large'}`);
    return { field, wire: lo & 7 };
  }

  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_LEN) {
      const n = this.length(); // read before pos: `pos += length()` would add to the old pos
      this.pos += n;
    }
    else if (wire === WIRE_I64 || wire === WIRE_I32) {
      const n = wire === WIRE_I64 ? 8 : 4;
      if (this.end - this.pos < n) this.fail('a fixed-width field runs past the end of its message');
      this.pos += n;
    } else this.fail(`a field has wire type ${wire}, which protobuf does not define`);
  }

  /** Checks a field's wire type before reading it as the proto declares it. */
  expect(field: number, wire: number, want: number, what: string): void {
    if (wire !== want) this.fail(`${what} (field ${field}) has wire type ${wire}, expected ${want}`);
  }
}

function readPiece(r: ProtoReader): SentencePiece {
  const p: SentencePiece = { piece: '', score: 0, type: PIECE_NORMAL };
  for (let t = r.tag(); t; t = r.tag()) {
    if (t.field === 1) {
      r.expect(t.field, t.wire, WIRE_LEN, 'a piece');
      p.piece = r.string();
    } else if (t.field === 2) {
      r.expect(t.field, t.wire, WIRE_I32, 'a piece score');
      p.score = r.float();
    } else if (t.field === 3) {
      r.expect(t.field, t.wire, WIRE_VARINT, 'a piece type');
      p.type = r.int32();
    } else r.skip(t.wire);
  }
  return p;
}

function readTrainer(r: ProtoReader, out: SentencePieceModel['trainer']): void {
  const ints: Record<number, keyof SentencePieceModel['trainer']> = { 3: 'modelType', 40: 'unkId', 41: 'bosId', 42: 'eosId', 43: 'padId' };
  const strings: Record<number, keyof SentencePieceModel['trainer']> = { 45: 'unkPiece', 46: 'bosPiece', 47: 'eosPiece', 48: 'padPiece' };
  for (let t = r.tag(); t; t = r.tag()) {
    if (ints[t.field]) {
      r.expect(t.field, t.wire, WIRE_VARINT, `trainer_spec.${ints[t.field]}`);
      (out as unknown as Record<string, number>)[ints[t.field]] = r.int32();
    } else if (strings[t.field]) {
      r.expect(t.field, t.wire, WIRE_LEN, `trainer_spec.${strings[t.field]}`);
      (out as unknown as Record<string, string>)[strings[t.field]] = r.string();
    } else if (t.field === 35) {
      r.expect(t.field, t.wire, WIRE_VARINT, 'trainer_spec.byte_fallback');
      out.byteFallback = r.bool();
    } else r.skip(t.wire);
  }
}

function readNormalizer(r: ProtoReader, out: SentencePieceModel['normalizer']): void {
  for (let t = r.tag(); t; t = r.tag()) {
    if (t.field === 1) {
      r.expect(t.field, t.wire, WIRE_LEN, 'normalizer_spec.name');
      out.name = r.string();
    } else if (t.field === 2) {
      r.expect(t.field, t.wire, WIRE_LEN, 'normalizer_spec.precompiled_charsmap');
      out.precompiledCharsmap = r.bytes();
    } else if (t.field >= 3 && t.field <= 5) {
      r.expect(t.field, t.wire, WIRE_VARINT, 'a normalizer_spec flag');
      const v = r.bool();
      if (t.field === 3) out.addDummyPrefix = v;
      else if (t.field === 4) out.removeExtraWhitespaces = v;
      else out.escapeWhitespaces = v;
    } else r.skip(t.wire);
  }
}

/** Parses a ModelProto; a malformed one is a UserError naming `file`. */
export function parseSentencePieceModel(bytes: Uint8Array, file: string): SentencePieceModel {
  const fail = (why: string): never => {
    throw new UserError(`is not a valid SentencePiece model: ${why}`, file);
  };
  const model: SentencePieceModel = {
    pieces: [],
    trainer: { modelType: 1, unkId: 0, bosId: 1, eosId: 2, padId: -1, unkPiece: '<unk>', bosPiece: '<s>', eosPiece: '</s>', padPiece: '<pad>', byteFallback: false },
    normalizer: { name: '', precompiledCharsmap: new Uint8Array(0), addDummyPrefix: true, removeExtraWhitespaces: true, escapeWhitespaces: true },
  };
  const r = new ProtoReader(bytes, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0, bytes.length, fail);
  for (let t = r.tag(); t; t = r.tag()) {
    if (t.field === 1) {
      r.expect(t.field, t.wire, WIRE_LEN, 'a piece entry');
      model.pieces.push(readPiece(r.sub()));
    } else if (t.field === 2) {
      r.expect(t.field, t.wire, WIRE_LEN, 'trainer_spec');
      readTrainer(r.sub(), model.trainer);
    } else if (t.field === 3) {
      r.expect(t.field, t.wire, WIRE_LEN, 'normalizer_spec');
      readNormalizer(r.sub(), model.normalizer);
    } else r.skip(t.wire);
  }
  if (model.pieces.length === 0) fail('it has no pieces');
  const odd = model.pieces.findIndex((p) => !Number.isFinite(p.score));
  if (odd >= 0) fail(`piece ${odd} (${JSON.stringify(model.pieces[odd].piece)}) has score ${model.pieces[odd].score}`);
  const { unkId } = model.trainer;
  if (unkId < 0 || unkId >= model.pieces.length) fail(`trainer_spec.unk_id ${unkId} is not a piece (it has ${model.pieces.length})`);
  return model;
}
