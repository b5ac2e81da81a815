/**
 * Writes SentencePiece ModelProto bytes by hand (the fields src/core/tokenizer/sentencepieceModel.ts
 * reads, plus fields it must skip), for tests that need a .model without running sentencepiece.
 */

function varint(n: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}

const tag = (field: number, wire: number) => varint((field << 3) | wire);
const lenField = (field: number, bytes: Uint8Array | number[]) => [...tag(field, 2), ...varint(bytes.length), ...bytes];
const str = (field: number, s: string) => lenField(field, [...Buffer.from(s, 'utf8')]);
const int = (field: number, n: number) => [...tag(field, 0), ...varint(n)];
function float(field: number, x: number): number[] {
  const b = Buffer.alloc(4);
  b.writeFloatLE(x);
  return [...tag(field, 5), ...b];
}

export interface ProtoPiece {
  piece: string;
  score: number;
  /** 1 normal (default, then not written), 2 unknown, 3 control, 4 user-defined. */
  type?: number;
}

export interface ProtoOptions {
  pieces: ProtoPiece[];
  trainer?: Partial<Record<'modelType' | 'unkId' | 'bosId' | 'eosId' | 'padId', number>> & Partial<Record<'unkPiece' | 'bosPiece' | 'eosPiece' | 'padPiece', string>>;
  normalizer?: { name?: string; charsmap?: Uint8Array; addDummyPrefix?: boolean; removeExtraWhitespaces?: boolean };
}

export function encodeSentencePieceModel(o: ProtoOptions): Buffer {
  const out: number[] = [];
  for (const p of o.pieces) out.push(...lenField(1, [...str(1, p.piece), ...float(2, p.score), ...(p.type && p.type !== 1 ? int(3, p.type) : [])]));
  if (o.trainer) {
    const t = o.trainer;
    // input (1) and character_coverage (10, a float) are there to be skipped
    const body = [...str(1, 'train.txt'), ...float(10, 0.9995)];
    if (t.modelType !== undefined) body.push(...int(3, t.modelType));
    const ints: Array<[number, number | undefined]> = [[40, t.unkId], [41, t.bosId], [42, t.eosId], [43, t.padId]];
    for (const [f, v] of ints) if (v !== undefined) body.push(...int(f, v));
    const strs: Array<[number, string | undefined]> = [[45, t.unkPiece], [46, t.bosPiece], [47, t.eosPiece], [48, t.padPiece]];
    for (const [f, v] of strs) if (v !== undefined) body.push(...str(f, v));
    out.push(...lenField(2, body));
  }
  if (o.normalizer) {
    const n = o.normalizer;
    const body: number[] = [];
    if (n.name !== undefined) body.push(...str(1, n.name));
    if (n.charsmap) body.push(...lenField(2, n.charsmap));
    if (n.addDummyPrefix !== undefined) body.push(...int(3, n.addDummyPrefix ? 1 : 0));
    if (n.removeExtraWhitespaces !== undefined) body.push(...int(4, n.removeExtraWhitespaces ? 1 : 0));
    out.push(...lenField(3, body));
  }
  return Buffer.from(out);
}

/** A small unigram model laid out as ALBERT's spiece.model is: <pad> <unk> [CLS] [SEP] [MASK], then pieces. */
export function albertLikeModel(extra: Partial<ProtoOptions['trainer']> = {}): Buffer {
  const words = ['the', 'cat', 'sat', 'on', 'mat', 'a', 'dog'];
  return encodeSentencePieceModel({
    pieces: [
      { piece: '<pad>', score: 0, type: 3 },
      { piece: '<unk>', score: 0, type: 2 },
      { piece: '[CLS]', score: 0, type: 3 },
      { piece: '[SEP]', score: 0, type: 3 },
      { piece: '[MASK]', score: 0, type: 3 },
      ...words.map((w, i) => ({ piece: `▁${w}`, score: -2 - i / 10 })),
      ...'▁abcdefghijklmnopqrstuvwxyz.'.split('').map((c) => ({ piece: c, score: -6 })),
    ],
    trainer: { modelType: 1, unkId: 1, bosId: -1, eosId: -1, padId: 0, ...extra },
    normalizer: { name: 'identity', addDummyPrefix: true, removeExtraWhitespaces: true },
  });
}
