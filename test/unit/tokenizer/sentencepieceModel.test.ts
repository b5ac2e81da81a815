/**
 * The SentencePiece ModelProto reader and the folder-level conversion: what it reads from hand-written
 * protobuf bytes, and the one clear line (naming the file) it gives for every malformed or unconvertible
 * model. Parity with HF's conversion is checked in hfParity.test.ts and cli/sentencepieceFolder.test.ts.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadTokenizer } from '../../../src/core/checkpoint/tokenizer';
import { isUserError } from '../../../src/core/errors';
import { parseSentencePieceModel } from '../../../src/core/tokenizer/sentencepieceModel';
import { makeTempDir } from '../helpers/tinyBert';
import { albertLikeModel, encodeSentencePieceModel } from '../helpers/sentencepieceProto';

function folder(files: Record<string, string | Buffer | object>): string {
  const dir = makeTempDir('ll-spm-');
  for (const [name, content] of Object.entries(files)) {
    fs.writeFileSync(path.join(dir, name), Buffer.isBuffer(content) || typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

/** Asserts `run` throws one UserError line that names `file` and contains every fragment. */
function refuses(run: () => unknown, file: string, ...fragments: string[]): void {
  assert.throws(run, (e: unknown) => {
    assert.ok(isUserError(e), `not a UserError: ${String(e)}`);
    const msg = (e as Error).message;
    assert.ok(msg.startsWith(`${file}: `), `does not name ${file}: ${msg}`);
    assert.ok(!msg.includes('\n'), `more than one line: ${msg}`);
    for (const f of fragments) assert.ok(msg.includes(f), `"${f}" not in: ${msg}`);
    return true;
  });
}

describe('SentencePiece model reader', () => {
  it('reads pieces, scores, types, trainer_spec (negative ids too) and normalizer_spec, skipping other fields', () => {
    const charsmap = new Uint8Array([4, 0, 0, 0, 1, 2, 3, 4]);
    const bytes = encodeSentencePieceModel({
      pieces: [{ piece: '<unk>', score: 0, type: 2 }, { piece: '<s>', score: 0, type: 3 }, { piece: '▁ünï', score: -1.5 }, { piece: '<ud>', score: 0, type: 4 }],
      trainer: { modelType: 2, unkId: 0, bosId: 1, eosId: -1, padId: -1, unkPiece: '<unk>', bosPiece: '<s>' },
      normalizer: { name: 'nmt_nfkc', charsmap, addDummyPrefix: false, removeExtraWhitespaces: true },
    });
    const m = parseSentencePieceModel(bytes, 'x.model');
    assert.deepEqual(m.pieces, [
      { piece: '<unk>', score: 0, type: 2 }, { piece: '<s>', score: 0, type: 3 }, { piece: '▁ünï', score: -1.5, type: 1 }, { piece: '<ud>', score: 0, type: 4 },
    ]);
    assert.equal(m.trainer.modelType, 2);
    assert.equal(m.trainer.bosId, 1);
    assert.equal(m.trainer.eosId, -1);
    assert.equal(m.trainer.padId, -1);
    assert.equal(m.trainer.eosPiece, '</s>'); // the proto's default
    assert.equal(m.normalizer.name, 'nmt_nfkc');
    assert.deepEqual([...m.normalizer.precompiledCharsmap], [...charsmap]);
    assert.equal(m.normalizer.addDummyPrefix, false);
    assert.equal(m.normalizer.escapeWhitespaces, true);
  });

  it('uses the proto defaults when trainer_spec and normalizer_spec are absent', () => {
    const m = parseSentencePieceModel(encodeSentencePieceModel({ pieces: [{ piece: '<unk>', score: 0, type: 2 }] }), 'x.model');
    assert.deepEqual(m.trainer, { modelType: 1, unkId: 0, bosId: 1, eosId: 2, padId: -1, unkPiece: '<unk>', bosPiece: '<s>', eosPiece: '</s>', padPiece: '<pad>', byteFallback: false });
    assert.equal(m.normalizer.precompiledCharsmap.length, 0);
    assert.equal(m.normalizer.addDummyPrefix, true);
  });

  it('every truncation of a valid model parses or gives one line naming the file', () => {
    const bytes = albertLikeModel();
    let refused = 0;
    for (let n = 0; n < bytes.length; n++) {
      try {
        parseSentencePieceModel(bytes.subarray(0, n), 'cut.model');
      } catch (e) {
        assert.ok(isUserError(e) && (e as Error).message.startsWith('cut.model: is not a valid SentencePiece model: '), `${n} bytes: ${String(e)}`);
        refused++;
      }
    }
    assert.ok(refused > bytes.length / 2, `${refused} of ${bytes.length} truncations refused`);
  });

  const cases: Array<[string, Buffer, string]> = [
    ['an empty file', Buffer.alloc(0), 'it has no pieces'],
    ['text', Buffer.from('this is not a SentencePiece model at all\n'), 'is not a valid SentencePiece model'],
    ['a piece entry with the wrong wire type', Buffer.from([0x08, 0x01]), 'a piece entry (field 1) has wire type 0, expected 2'],
    ['a length past the end', Buffer.from([0x0a, 0x7f, 0x0a]), 'runs past the end'],
    ['a varint longer than 10 bytes', Buffer.from([0x48, ...Array(11).fill(0xff)]), 'longer than 10 bytes'],
    ['a NaN score', encodeSentencePieceModel({ pieces: [{ piece: '<unk>', score: NaN, type: 2 }] }), 'has score NaN'],
    ['unk_id outside the pieces', encodeSentencePieceModel({ pieces: [{ piece: 'a', score: 0 }], trainer: { unkId: 5 } }), 'unk_id 5 is not a piece'],
    ['a piece that is not UTF-8', Buffer.from([0x0a, 0x04, 0x0a, 0x02, 0xc3, 0x28]), 'not valid UTF-8'],
    ['wire type 7', Buffer.from([0x0f]), 'wire type 7'],
  ];
  for (const [what, bytes, fragment] of cases) {
    it(`refuses ${what} with one line naming the file`, () => {
      refuses(() => parseSentencePieceModel(bytes, '/m/spiece.model'), '/m/spiece.model', 'is not a valid SentencePiece model', fragment);
    });
  }
});

describe('SentencePiece-only folders', () => {
  it('an ALBERT spiece.model with tokenizer_config.json loads, lowercases, strips accents and adds [CLS]/[SEP]', () => {
    const dir = folder({ 'spiece.model': albertLikeModel(), 'tokenizer_config.json': { tokenizer_class: 'AlbertTokenizerFast' } });
    const tok = loadTokenizer(dir);
    assert.equal(tok.file, path.join(dir, 'spiece.model'));
    const e = tok.encode('The CÄT sat', 'a dog');
    assert.deepEqual(e.tokens, ['[CLS]', '▁the', '▁cat', '▁sat', '[SEP]', '▁a', '▁dog', '[SEP]']);
    assert.deepEqual(e.ids, [2, 5, 6, 7, 3, 10, 11, 3]);
    assert.deepEqual(e.rawTypeIds, [0, 0, 0, 0, 0, 1, 1, 1]);
    assert.equal(tok.encode('[MASK]').ids[1], 4);
  });

  it('without tokenizer_class, config.json model_type chooses the converter', () => {
    const dir = folder({ 'spiece.model': albertLikeModel(), 'config.json': { model_type: 'albert' } });
    assert.deepEqual(loadTokenizer(dir).encode('the cat').ids, [2, 5, 6, 3]);
  });

  it('keep_accents and do_lower_case: false are honoured', () => {
    const dir = folder({ 'spiece.model': albertLikeModel(), 'tokenizer_config.json': { tokenizer_class: 'AlbertTokenizer', do_lower_case: false, keep_accents: true } });
    assert.deepEqual(loadTokenizer(dir).encode('the Cät').tokens, ['[CLS]', '▁the', '▁', '<unk>', 't', '[SEP]']);
  });

  it('a malformed .model is one line naming it', () => {
    const dir = folder({ 'spiece.model': Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), 'tokenizer_config.json': { tokenizer_class: 'AlbertTokenizer' } });
    refuses(() => loadTokenizer(dir), path.join(dir, 'spiece.model'), 'is not a valid SentencePiece model');
  });

  it('a class Layer Lens does not convert is named, with the four it does', () => {
    const dir = folder({ 'spiece.model': albertLikeModel(), 'tokenizer_config.json': { tokenizer_class: 'T5Tokenizer' } });
    refuses(() => loadTokenizer(dir), path.join(dir, 'spiece.model'), 'has no tokenizer.json', 'tokenizer_class "T5Tokenizer"', 'XLMRobertaTokenizer', 'DebertaV2Tokenizer');
    const bare = folder({ 'spm.model': albertLikeModel() });
    refuses(() => loadTokenizer(bare), path.join(bare, 'spm.model'), 'neither tokenizer_config.json nor config.json says which tokenizer it is');
  });

  it('CamemBERT with a BPE SentencePiece model is refused, as transformers cannot convert it either', () => {
    const dir = folder({ 'sentencepiece.bpe.model': albertLikeModel({ modelType: 2 }), 'tokenizer_config.json': { tokenizer_class: 'CamembertTokenizer' } });
    refuses(() => loadTokenizer(dir), path.join(dir, 'sentencepiece.bpe.model'), 'SentencePiece BPE model', 'only unigram');
  });

  it('ALBERT without a [CLS] piece is refused (transformers fails with a TypeError)', () => {
    const bytes = encodeSentencePieceModel({ pieces: [{ piece: '<pad>', score: 0, type: 3 }, { piece: '<unk>', score: 0, type: 2 }, { piece: '▁a', score: -1 }], trainer: { unkId: 1 } });
    const dir = folder({ 'spiece.model': bytes, 'tokenizer_config.json': { tokenizer_class: 'AlbertTokenizer' } });
    refuses(() => loadTokenizer(dir), path.join(dir, 'spiece.model'), 'has no piece "[CLS]"');
  });

  it('a bad special token in tokenizer_config.json names that file', () => {
    const dir = folder({ 'spiece.model': albertLikeModel(), 'tokenizer_config.json': { tokenizer_class: 'AlbertTokenizer', mask_token: 7 } });
    refuses(() => loadTokenizer(dir), path.join(dir, 'tokenizer_config.json'), 'mask_token is 7');
  });
});
