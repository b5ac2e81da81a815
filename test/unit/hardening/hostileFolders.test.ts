/**
 * Issue 14, "Hangs and crashes on hostile model folders", "Wrong messages" and "Paths that leave the
 * model folder": each crafted folder, through the real CLI, ends in one line that names the file and
 * says what is wrong, quickly, never a hang, an out-of-memory crash or a raw onnxruntime error.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readOnnxWeights } from '../../../src/core/checkpoint/onnx/onnxWeights';
import { resolveInsideFolder } from '../../../src/core/checkpoint/insideFolder';
import { isUserError } from '../../../src/core/errors';
import { readResults } from '../../../src/core/finetune/results';
import { writeOnnx } from '../helpers/optimumOnnx';
import { makeTempDir, writeTinyBert } from '../helpers/tinyBert';
import { writeTinyFamily } from '../helpers/tinyFamilies';
import '../helpers/torchBin';

const CLI = path.resolve(__dirname, '../../../../dist/cli.js');

/** Runs the CLI; a hang shows up as a timeout (status null), which every check below rejects. */
function cli(...args: string[]) {
  const started = Date.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started };
}

function expectError(r: ReturnType<typeof cli>, ...fragments: (string | RegExp)[]) {
  assert.notEqual(r.code, null, `timed out (a hang) after ${r.ms} ms`);
  assert.equal(r.code, 1, `expected exit 1 (a user error), got ${r.code}:\n${r.stdout}\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/, `stack trace printed:\n${r.stderr}`);
  assert.equal(r.stderr.trim().split('\n').length, 1, `expected one line:\n${r.stderr}`);
  for (const f of fragments) {
    if (typeof f === 'string') assert.ok(r.stderr.includes(f), `"${f}" not in: ${r.stderr}`);
    else assert.match(r.stderr, f);
  }
}

const fresh = (options = {}) => writeTinyBert(makeTempDir(), { layers: 2, ...options });
const probe = (dir: string) => cli('probe', dir, '--text', 'the cat sat');

function replaceWith(file: string, make: (file: string) => void) {
  fs.rmSync(file);
  make(file);
}
const fifo = (file: string) => {
  const r = spawnSync('mkfifo', [file]);
  assert.equal(r.status, 0, 'mkfifo failed');
};

describe('hardening: hostile model folders', function () {
  this.timeout(120_000);

  describe('FIFOs and devices in place of model files are refused at once', () => {
    for (const name of ['config.json', 'vocab.txt', 'model.safetensors']) {
      it(`a FIFO as ${name}`, () => {
        const dir = fresh();
        replaceWith(path.join(dir, name), fifo);
        const r = probe(dir);
        expectError(r, path.join(dir, name), 'FIFO (named pipe), not a regular file');
        assert.ok(r.ms < 15_000, `took ${r.ms} ms`);
      });
    }
    for (const [name, dev] of [['config.json', '/dev/zero'], ['vocab.txt', '/dev/urandom'], ['model.safetensors', '/dev/zero'], ['tokenizer_config.json', '/dev/urandom']]) {
      it(`${name} → ${dev}`, () => {
        const dir = fresh();
        replaceWith(path.join(dir, name), (f) => fs.symlinkSync(dev, f));
        expectError(probe(dir), path.join(dir, name), 'it is a device, not a regular file');
      });
    }
    it('deepen refuses a FIFO model.safetensors and a /dev/zero vocab.txt', () => {
      const a = fresh();
      replaceWith(path.join(a, 'model.safetensors'), fifo);
      expectError(cli('deepen', a, '--plan', 'dup:0', '--out', path.join(makeTempDir(), 'o')), 'model.safetensors', 'FIFO');
      const b = fresh();
      replaceWith(path.join(b, 'vocab.txt'), (f) => fs.symlinkSync('/dev/zero', f));
      expectError(cli('deepen', b, '--plan', 'dup:0', '--out', path.join(makeTempDir(), 'o')), 'vocab.txt', 'outside the model folder');
    });
    it('a FIFO results.json in a fine-tuning run folder (which the extension watches) is refused at once', () => {
      const run = path.join(makeTempDir(), 'runs', 'tiny');
      fs.mkdirSync(run, { recursive: true });
      const file = path.join(run, 'results.json');
      fifo(file);
      assert.throws(() => readResults(file), (e: Error) => isUserError(e) && e.message === `${file}: cannot read the results.json: it is a FIFO (named pipe), not a regular file`);
    });
  });

  it('deepen, run before any probe in a fresh process, says a .bin folder needs safetensors (not "no weights found")', () => {
    const dir = writeTinyFamily(path.join(makeTempDir(), 'bin'), 'roberta', { format: 'bin', layers: 2 });
    assert.ok(fs.existsSync(path.join(dir, 'pytorch_model.bin')) && !fs.existsSync(path.join(dir, 'model.safetensors')));
    const r = cli('deepen', dir, '--plan', 'dup:1', '--out', path.join(makeTempDir(), 'o'));
    expectError(r, path.join(dir, 'pytorch_model.bin'), 'deepening needs safetensors weights; this model has pytorch weights');
    assert.doesNotMatch(r.stderr, /no weights found/);
  });

  describe('sizes and contents', () => {
    it('an oversized config.json names the limit without reading it', () => {
      const dir = fresh();
      fs.truncateSync(path.join(dir, 'config.json'), 17 * 1024 * 1024); // sparse: nothing is written
      expectError(probe(dir), 'config.json', 'is 17.0 MB, over the 16 MB limit');
    });
    it('a binary vocab.txt (as /etc/shadow or any non-text file would be) is one clear line', () => {
      const dir = fresh();
      fs.writeFileSync(path.join(dir, 'vocab.txt'), Buffer.from([0x5b, 0x50, 0x41, 0x44, 0x5d, 0x0a, 0x00, 0xff, 0x13, 0x0a]));
      expectError(probe(dir), 'vocab.txt', 'not text: it holds NUL bytes');
      fs.writeFileSync(path.join(dir, 'vocab.txt'), Buffer.from('[PAD]\n\xff\xfe\n', 'latin1'));
      expectError(probe(dir), 'vocab.txt', 'not valid UTF-8');
    });
    it('a 200 MB safetensors header names the 100 MB limit, not "file too short"', () => {
      const dir = fresh();
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(200n * 1024n * 1024n);
      fs.writeFileSync(path.join(dir, 'model.safetensors'), Buffer.concat([len, Buffer.from('{}      ')]));
      expectError(probe(dir), 'model.safetensors', "over the format's limit of 104857600 (100 MB)");
    });
    for (const [meta, why] of [[[1, 2], 'must be an object of strings, got [1,2]'], [{ format: 'pt', n: 3 }, 'entry "n" must be a string, got 3'], ['pt', 'must be an object of strings, got "pt"']] as const) {
      it(`__metadata__ ${JSON.stringify(meta)} is refused before it could be copied into deepened output`, () => {
        const dir = fresh();
        const file = path.join(dir, 'model.safetensors');
        const bytes = fs.readFileSync(file);
        const n = Number(bytes.readBigUInt64LE(0));
        const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
        header.__metadata__ = meta;
        let text = JSON.stringify(header);
        text += ' '.repeat((8 - (text.length % 8)) % 8);
        const len = Buffer.alloc(8);
        len.writeBigUInt64LE(BigInt(text.length));
        fs.writeFileSync(file, Buffer.concat([len, Buffer.from(text), bytes.subarray(8 + n)]));
        expectError(cli('deepen', dir, '--plan', 'dup:0', '--out', path.join(makeTempDir(), 'o')), file, `"__metadata__" ${why}`);
      });
    }
  });

  describe('config and plan limits', () => {
    const withConfig = (edit: Record<string, unknown>) => {
      const dir = fresh();
      const cfg = path.join(dir, 'config.json');
      fs.writeFileSync(cfg, JSON.stringify({ ...JSON.parse(fs.readFileSync(cfg, 'utf8')), ...edit }));
      return { dir, cfg };
    };
    it('num_hidden_layers 1e9 with dup:1 is one line, not a V8 out-of-memory crash', () => {
      const { dir, cfg } = withConfig({ num_hidden_layers: 1e9 });
      expectError(cli('deepen', dir, '--plan', 'dup:1', '--out', path.join(makeTempDir(), 'o')), cfg, 'field "num_hidden_layers" is 1000000000, over Layer Lens\'s limit of 1024');
      expectError(probe(dir), cfg, 'num_hidden_layers');
    });
    for (const [field, value] of [['hidden_size', 1 << 20], ['vocab_size', 1e8], ['num_attention_heads', 4096], ['max_position_embeddings', 1e9], ['type_vocab_size', 1e6]] as const) {
      it(`${field} ${value} is over its limit`, () => {
        const { dir, cfg } = withConfig({ [field]: value });
        expectError(probe(dir), cfg, `field "${field}" is ${value}, over Layer Lens's limit`);
      });
    }
    for (const pad of [1e6, -1]) {
      it(`pad_token_id ${pad} is a clear line before onnxruntime`, () => {
        const { dir, cfg } = withConfig({ pad_token_id: pad });
        expectError(probe(dir), cfg, `"pad_token_id" is ${pad}, not a token id`);
      });
    }
    it('--plan stack:1000000 and stack:99999999999999999999 are refused with the limit', () => {
      const dir = fresh();
      const out = path.join(makeTempDir(), 'o');
      expectError(cli('deepen', dir, '--plan', 'stack:1000000', '--out', out), 'stacking 2 layers 1000000 times has 2000000 layers, over the limit of 1024');
      expectError(cli('deepen', dir, '--plan', 'stack:99999999999999999999', '--out', out), 'has 2.00e+20 layers, over the limit of 1024');
      expectError(cli('probe', dir, '--text', 'hi', '--layers', Array(600).fill('0-1').join(',')), 'has 1026 layers, over the limit of 1024');
      assert.ok(!fs.existsSync(out));
    });
    it('a mergekit YAML whose slices add up to more than 1024 layers is refused with the limit, naming the file', () => {
      const dir = fresh();
      const yaml = path.join(makeTempDir(), 'plan.yaml');
      const slice = '  - sources:\n      - model: tiny\n        layer_range: [0, 2]\n';
      fs.writeFileSync(yaml, `merge_method: passthrough\nslices:\n${slice.repeat(600)}`);
      const out = path.join(makeTempDir(), 'o');
      expectError(cli('deepen', dir, '--plan', yaml, '--out', out), yaml, "mergekit config's slices add up to more than 1024 layers (over the limit by slice 513)");
      assert.ok(!fs.existsSync(out));
    });
    it('a FIFO or /dev/zero as the mergekit YAML is refused at once', () => {
      const dir = fresh();
      const yaml = path.join(makeTempDir(), 'plan.yaml');
      fifo(yaml);
      expectError(cli('deepen', dir, '--plan', yaml, '--out', path.join(makeTempDir(), 'o')), yaml, 'cannot read the mergekit YAML: it is a FIFO (named pipe), not a regular file');
      const zero = path.join(makeTempDir(), 'zero.yaml');
      fs.symlinkSync('/dev/zero', zero);
      expectError(cli('deepen', dir, '--plan', zero, '--out', path.join(makeTempDir(), 'o')), zero, 'it is a device, not a regular file');
    });
    it('a negative type_id in the tokenizer is a clear line before onnxruntime', () => {
      const dir = fresh({ tokenizer: 'tokenizer.json' });
      const file = path.join(dir, 'tokenizer.json');
      const json = JSON.parse(fs.readFileSync(file, 'utf8'));
      json.post_processor.single[1].Sequence.type_id = -1;
      fs.writeFileSync(file, JSON.stringify(json));
      expectError(probe(dir), file, 'has type_id -1; expected a non-negative integer');
    });
    // Issue 14's tokenizer reproducers: each made encode() throw a TypeError; now one line naming tokenizer.json.
    const postProcessorCases: Array<[string, (pp: Record<string, any>) => unknown, string[], string]> = [
      ['a TemplateProcessing without a "pair" template, probing a pair', (pp) => void delete pp.pair, ['--pair', 'a second text'], 'TemplateProcessing has no "pair" template, so this tokenizer cannot encode a sentence pair'],
      ['a template entry that is a string', (pp) => void (pp.single[0] = '[CLS]'), [], 'TemplateProcessing "single" entry 0 is "[CLS]"; expected {"Sequence": …} or {"SpecialToken": …}'],
      ['type_id 1.5', (pp) => void (pp.pair[3].Sequence.type_id = 1.5), ['--pair', 'a second text'], 'TemplateProcessing "pair" entry 3 has type_id 1.5; expected a non-negative integer'],
      ['RobertaProcessing with cls: null', () => ({ type: 'RobertaProcessing', sep: ['[SEP]', 3], cls: null, trim_offsets: true, add_prefix_space: false }), [], 'RobertaProcessing "cls" must be [token, id]'],
    ];
    for (const [what, edit, extra, message] of postProcessorCases) {
      it(`tokenizer.json with ${what} is one line naming it`, () => {
        const dir = fresh({ tokenizer: 'tokenizer.json' });
        const file = path.join(dir, 'tokenizer.json');
        const json = JSON.parse(fs.readFileSync(file, 'utf8'));
        json.post_processor = edit(json.post_processor) ?? json.post_processor;
        fs.writeFileSync(file, JSON.stringify(json));
        expectError(cli('probe', dir, '--text', 'the cat sat', ...extra), file, `post_processor: ${message}`);
      });
    }
    it('a tokenizer.json without a "pair" template still probes single sentences', () => {
      const dir = fresh({ tokenizer: 'tokenizer.json' });
      const file = path.join(dir, 'tokenizer.json');
      const json = JSON.parse(fs.readFileSync(file, 'utf8'));
      delete json.post_processor.pair;
      fs.writeFileSync(file, JSON.stringify(json));
      const r = probe(dir);
      assert.equal(r.code, 0, r.stderr);
    });
  });

  describe('paths that leave the model folder', () => {
    const sharded = () => fresh({ shards: 2 });
    const editIndex = (dir: string, edit: (map: Record<string, string>) => void) => {
      const file = path.join(dir, 'model.safetensors.index.json');
      const index = JSON.parse(fs.readFileSync(file, 'utf8'));
      edit(index.weight_map);
      fs.writeFileSync(file, JSON.stringify(index));
      return file;
    };
    it('a shard named /etc/passwd is "outside the model folder", not "missing"', () => {
      const dir = sharded();
      const index = editIndex(dir, (m) => (m['bert.embeddings.word_embeddings.weight'] = '/etc/passwd'));
      expectError(probe(dir), index, 'shard "/etc/passwd" is an absolute path, outside the model folder');
    });
    it('a ../ shard and a shard symlinked out of the folder are refused (probe and deepen)', () => {
      const dir = sharded();
      const first = JSON.parse(fs.readFileSync(path.join(dir, 'model.safetensors.index.json'), 'utf8')).weight_map['bert.embeddings.word_embeddings.weight'];
      const elsewhere = makeTempDir();
      fs.renameSync(path.join(dir, first), path.join(elsewhere, first));
      const index = editIndex(dir, (m) => {
        for (const k of Object.keys(m)) if (m[k] === first) m[k] = `../${path.basename(elsewhere)}/${first}`;
      });
      expectError(probe(dir), index, 'climbs out with ".."', 'outside the model folder');
      editIndex(dir, (m) => {
        for (const k of Object.keys(m)) if (m[k].startsWith('..')) m[k] = first;
      });
      fs.symlinkSync(path.join(elsewhere, first), path.join(dir, first));
      expectError(cli('deepen', dir, '--plan', 'dup:0', '--out', path.join(makeTempDir(), 'o')), index, `is a symbolic link to ${fs.realpathSync(elsewhere)}`);
    });
    it("an HF-cache snapshot's symlinks into its own blobs/ are the one allowed escape; another repo's blobs are not", () => {
      const cache = makeTempDir('hf-cache-');
      const repo = path.join(cache, 'models--org--tiny');
      const snap = path.join(repo, 'snapshots', 'abc123');
      fs.mkdirSync(path.join(repo, 'blobs'), { recursive: true });
      fs.mkdirSync(snap, { recursive: true });
      const src = sharded();
      for (const f of fs.readdirSync(src)) {
        fs.renameSync(path.join(src, f), path.join(repo, 'blobs', `blob-${f}`));
        fs.symlinkSync(`../../blobs/blob-${f}`, path.join(snap, f));
      }
      const ok = probe(snap);
      assert.equal(ok.code, 0, ok.stderr);
      const out = path.join(makeTempDir(), 'deep');
      const deep = cli('deepen', snap, '--plan', 'dup:0', '--out', out);
      assert.equal(deep.code, 0, deep.stderr);
      // A second repository's blobs are outside this snapshot's repository.
      const other = path.join(cache, 'models--org--other', 'blobs');
      fs.mkdirSync(other, { recursive: true });
      const shard = fs.readdirSync(snap).find((f) => f.startsWith('model-00001'))!;
      fs.renameSync(fs.realpathSync(path.join(snap, shard)), path.join(other, 'stolen'));
      fs.rmSync(path.join(snap, shard));
      fs.symlinkSync('../../../models--org--other/blobs/stolen', path.join(snap, shard));
      expectError(probe(snap), 'model.safetensors.index.json', `shard "${shard}" is a symbolic link to`, 'outside the model folder');
    });
    it('an ONNX external-data location of /etc/passwd is refused by the same rule', () => {
      const dir = makeTempDir();
      const file = path.join(dir, 'model.onnx');
      const bytes = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);
      writeOnnx(file, [], [{ name: 'bert.embeddings.LayerNorm.weight', dtype: 'F32', dims: [4], bytes }], 'weights.bin');
      // Same length, so the protobuf stays valid: the location now points at /etc/passwd.
      const proto = fs.readFileSync(file);
      const at = proto.indexOf('weights.bin');
      assert.ok(at > 0);
      proto.write('/etc/passwd', at, 'latin1');
      fs.writeFileSync(file, proto);
      assert.throws(() => readOnnxWeights(file), (e: Error) => isUserError(e) && e.message.includes('external-data location "/etc/passwd" is an absolute path, outside the model folder'));
    });
    it('resolveInsideFolder: plain names pass, NUL and absolute and climbing names do not', () => {
      const dir = makeTempDir();
      assert.equal(resolveInsideFolder(dir, 'a/b.bin', 'x', 'ref'), path.join(dir, 'a/b.bin'));
      assert.equal(resolveInsideFolder(dir, 'a/../b.bin', 'x', 'ref'), path.join(dir, 'b.bin'));
      for (const bad of ['/etc/passwd', '../x', 'a/../../x', 'x\0y', 'C:\\Windows\\x']) {
        assert.throws(() => resolveInsideFolder(dir, bad, 'x', 'ref'), /outside the model folder/, bad);
      }
    });
  });
});
