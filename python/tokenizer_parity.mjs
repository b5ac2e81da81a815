// node python/tokenizer_parity.mjs MODEL_DIR CASES.json
// Compares @huggingface/tokenizers ids/token_type_ids with the ones stored in CASES.json.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';

const [dir, casesPath] = process.argv.slice(2);
const tj = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
const tc = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
const tok = new Tokenizer(tj, tc);
const cases = JSON.parse(readFileSync(casesPath, 'utf8'));
let bad = 0, pairs = 0;
for (const c of cases) {
  const opts = { return_token_type_ids: true };
  if (c.text_pair !== undefined) { opts.text_pair = c.text_pair; pairs++; }
  const e = tok.encode(c.text, opts);
  const ids = Array.from(e.ids, Number), tt = Array.from(e.token_type_ids ?? [], Number);
  const same = JSON.stringify(ids) === JSON.stringify(c.input_ids) && JSON.stringify(tt) === JSON.stringify(c.token_type_ids);
  if (!same) {
    bad++;
    if (bad <= 10) {
      console.log('MISMATCH', JSON.stringify(c.text).slice(0, 200), c.text_pair !== undefined ? '(pair)' : '');
      console.log('  python', JSON.stringify(c.input_ids), JSON.stringify(c.token_type_ids));
      console.log('  node  ', JSON.stringify(ids), JSON.stringify(tt));
    }
  }
}
console.log(`tokenizer parity: ${cases.length - bad}/${cases.length} identical (${pairs} pairs), ${bad} mismatches`);
process.exit(bad ? 1 : 0);
