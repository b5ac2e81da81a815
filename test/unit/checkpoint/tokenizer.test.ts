/** Our tokenizer wrapper against ids HF transformers 5.17 (BertTokenizerFast) produced for the reference vocabulary. */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { loadTokenizer } from '../../../src/core/checkpoint/tokenizer';

const MODEL = path.resolve(__dirname, '../../../../models/reference-bert-mini');

describe('tokenizer: agreement with HF tokenizers (reference vocabulary)', () => {
  const tok = loadTokenizer(MODEL);
  // Expected ids recorded from HF BertTokenizerFast on the device machine (python/hf_parity.py).
  it('lowercases a word-final capital sigma the way HF (Rust) does, not as JavaScript does', () => {
    assert.deepEqual(
      tok.encode('UPPERCASE Words And MiXeD CaSe ΣΊΣΥΦΟΣ ДОБРЫЙ ДЕНЬ').ids,
      [101, 3356, 18382, 2616, 1998, 3816, 2553, 1173, 18199, 29733, 29735, 29736, 29730, 29733, 1184, 14150, 29740, 16856, 29113, 10325, 1184, 15290, 18947, 23742, 102],
    );
  });
  it('handles dotted I, sharp s, ligatures and titlecase like HF', () => {
    assert.deepEqual(tok.encode('İstanbul ß ﬁ ligature ǅ titlecase Ⅻ roman').ids, [101, 9960, 1096, 1984, 8018, 11244, 100, 2516, 18382, 100, 3142, 102]);
  });
  it('marks [CLS]/[SEP] as special and gives pair segments type ids 0 and 1', () => {
    const e = tok.encode('the cat', 'a dog');
    assert.deepEqual(e.tokens, ['[CLS]', 'the', 'cat', '[SEP]', 'a', 'dog', '[SEP]']);
    assert.deepEqual(e.typeIds, [0, 0, 0, 0, 1, 1, 1]);
    assert.deepEqual(e.special, [true, false, false, true, false, false, true]);
  });
});
