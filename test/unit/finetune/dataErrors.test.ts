/**
 * python/finetune.py's data reader: a bad local data file is one "finetune.py: FILE: what is wrong"
 * line (exit 2), never a Python traceback.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TEST_PYTHON } from '../helpers/python';
import { makeTempDir } from '../helpers/tinyBert';
import { skipBecause } from '../helpers/pending';

const ROOT = path.resolve(__dirname, '../../../..');
const PYTHON = TEST_PYTHON;

/** Runs the script's own data loading on `file`, as its main() does, without needing torch. */
function readData(file: string) {
  const code = [
    'import sys',
    `sys.path.insert(0, ${JSON.stringify(path.join(ROOT, 'python'))})`,
    'import finetune',
    'try:',
    '    finetune.to_examples(finetune.read_table(sys.argv[1]), sys.argv[1])',
    'except finetune.UsageError as e:',
    '    print(f"finetune.py: {e}", file=sys.stderr)',
    '    sys.exit(2)',
  ].join('\n');
  return spawnSync(PYTHON, ['-c', code, file], { encoding: 'utf8' });
}

describe('finetune.py: bad data files', function () {
  before(function () {
    if (!fs.existsSync(PYTHON)) skipBecause(this, `no Python at ${PYTHON} (scripts/install-python.sh)`);
  });

  it('a JSONL line that is not an object is named, not an AttributeError', () => {
    const file = path.join(makeTempDir(), 'train.jsonl');
    fs.writeFileSync(file, '[1, 2]\n{"text": "a", "label": 1}\n');
    const r = readData(file);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim(), `finetune.py: ${file}: line 1 is not a JSON object with text and label fields`);
  });

  it('a data file that is not UTF-8 is named, not a UnicodeDecodeError', () => {
    const file = path.join(makeTempDir(), 'train.csv');
    fs.writeFileSync(file, Buffer.from('text,label\ncaf\xe9,1\n', 'latin1'));
    const r = readData(file);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim(), `finetune.py: ${file}: not valid UTF-8; save it as UTF-8`);
  });

  it('a file without a label column lists the columns it found', () => {
    const file = path.join(makeTempDir(), 'train.csv');
    fs.writeFileSync(file, 'text,foo\nhello,1\n');
    const r = readData(file);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr.trim(), /^finetune\.py: .*train\.csv: needs a text column .* and a 'label' column; found: foo, text$/);
  });
});
