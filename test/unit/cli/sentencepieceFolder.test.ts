/**
 * Probing a model folder that has only a SentencePiece model (no tokenizer.json), through the real CLI:
 * XLM-R (sentencepiece.bpe.model) and ALBERT (spiece.model) models trained by python/spm_folder.py. The
 * probe's ids must be HF's (AutoTokenizer on the same folder), including sentence pairs cut at
 * max_position_embeddings with HF's `truncation=True, max_length=…` (longest first), and the whole
 * report must equal the one for the same weights with the tokenizer.json transformers writes.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeTempDir } from '../helpers/tinyBert';
import { TinyFamily, writeTinyFamily } from '../helpers/tinyFamilies';
import { ROOT, TEST_PYTHON } from '../helpers/python';

const CLI = path.resolve(__dirname, '../../../../dist/cli.js');
/** Both tiny families take 64 tokens (XLM-R: 66 positions, 2 kept for the padding offset). */
const LIMIT = 64;

interface Built {
  cases: Array<{ text: string; pair?: string }>;
  [family: string]: unknown;
}
interface FamilyRows {
  vocab_size: number;
  rows: Array<{ ids: number[]; type_ids: number[]; full_length: number }>;
}
interface Report {
  sentences: Array<{ ids: number[]; truncatedFrom?: number; layers: unknown[] }>;
  warnings: string[];
}

function hasSpmPython(): boolean {
  return fs.existsSync(TEST_PYTHON) && spawnSync(TEST_PYTHON, ['-c', 'import sentencepiece, transformers'], { stdio: 'ignore' }).status === 0;
}

function probe(dir: string, inputs: string, out: string): Report {
  const r = spawnSync(process.execPath, [CLI, 'probe', dir, '--file', inputs, '--json', out, '--threads', '1'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `probe ${dir} failed:\n${r.stderr}`);
  return JSON.parse(fs.readFileSync(out, 'utf8')) as Report;
}

describe('CLI: a folder with only a SentencePiece model', function () {
  this.timeout(240_000);
  let work = '';
  let built: Built;

  before(function () {
    if (!hasSpmPython()) {
      assert.ok(!process.env.CI, `CI must have ${TEST_PYTHON} with sentencepiece and transformers (scripts/install-python.sh)`);
      console.warn(`\n    !!! ${TEST_PYTHON} with sentencepiece/transformers is missing: SentencePiece folders NOT checked against HF !!!\n`);
      this.skip();
    }
    work = makeTempDir('ll-spm-cli-');
    const r = spawnSync(TEST_PYTHON, [path.join(ROOT, 'python', 'spm_folder.py'), work, String(LIMIT)], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, `python/spm_folder.py failed:\n${r.stderr}`);
    built = JSON.parse(r.stdout.trim().split('\n').pop()!) as Built;
  });
  after(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  for (const family of ['xlm-roberta', 'albert'] as TinyFamily[]) {
    it(`${family}: ids are HF's (pairs cut longest first at max_position_embeddings), report equals the tokenizer.json one`, () => {
      const hf = built[family] as FamilyRows;
      // The same seeded weights twice: one folder with only the .model, one with HF's converted tokenizer.json.
      const withTokenizer = (name: string) => {
        const dir = path.join(work, `${family}-model-${name}`);
        writeTinyFamily(dir, family, { layers: 2, vocabSize: hf.vocab_size, seed: 31 });
        for (const f of ['tokenizer.json', 'tokenizer_config.json', 'vocab.txt', 'special_tokens_map.json']) fs.rmSync(path.join(dir, f), { force: true });
        const src = path.join(work, `${family}-${name}`);
        for (const f of fs.readdirSync(src)) fs.copyFileSync(path.join(src, f), path.join(dir, f));
        return dir;
      };
      const spmDir = withTokenizer('spm');
      const hfDir = withTokenizer('hf');
      assert.ok(!fs.existsSync(path.join(spmDir, 'tokenizer.json')) && fs.readdirSync(spmDir).some((f) => f.endsWith('.model')));

      const inputs = path.join(work, `${family}-inputs.txt`);
      fs.writeFileSync(inputs, built.cases.map((c) => (c.pair === undefined ? c.text : `${c.text}\t${c.pair}`)).join('\n') + '\n');
      const ours = probe(spmDir, inputs, path.join(work, `${family}-spm.json`));
      let truncatedPairs = 0;
      ours.sentences.forEach((s, i) => {
        const want = hf.rows[i];
        assert.deepEqual(s.ids, want.ids, `${family} input ${i + 1}: ids differ from HF's`);
        if (want.full_length > LIMIT) {
          assert.equal(s.truncatedFrom, want.full_length, `${family} input ${i + 1}: truncation reported`);
          assert.ok(ours.warnings.some((w) => w.startsWith(`input ${i + 1} has ${want.full_length} tokens; truncated to ${LIMIT}`)), ours.warnings.join('\n'));
          if (built.cases[i].pair !== undefined) truncatedPairs++;
        } else assert.equal(s.truncatedFrom, undefined);
      });
      assert.ok(truncatedPairs >= 3, `only ${truncatedPairs} truncated pairs`);
      const theirs = probe(hfDir, inputs, path.join(work, `${family}-hf.json`));
      assert.deepEqual(ours.sentences, theirs.sentences, `${family}: the SentencePiece folder and the tokenizer.json folder give different reports`);
    });
  }
});
