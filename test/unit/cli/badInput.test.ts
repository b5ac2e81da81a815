/**
 * Bad input through the real CLI: a clear one-line message naming the file and the problem,
 * a non-zero exit, and never a stack trace.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeTempDir, writeTinyBert } from '../helpers/tinyBert';

const CLI = path.resolve(__dirname, '../../../../dist/cli.js');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectError(result: ReturnType<typeof cli>, ...fragments: (string | RegExp)[]) {
  assert.notEqual(result.code, 0, `expected failure, got success:\n${result.stdout}`);
  assert.doesNotMatch(result.stderr, /\n\s+at .+:\d+:\d+/, `stack trace printed:\n${result.stderr}`);
  assert.equal(result.stderr.trim().split('\n').length, 1, `expected one line:\n${result.stderr}`);
  for (const f of fragments) {
    if (typeof f === 'string') assert.ok(result.stderr.includes(f), `"${f}" not in: ${result.stderr}`);
    else assert.match(result.stderr, f);
  }
}

/** Rewrites model.safetensors with a header built by `edit` (data bytes kept). */
function corruptHeader(dir: string, edit: (header: Record<string, any>, dataLength: number) => string | Buffer): string {
  const file = path.join(dir, 'model.safetensors');
  const bytes = fs.readFileSync(file);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  const data = bytes.subarray(8 + n);
  const edited = edit(header, data.length);
  const text = typeof edited === 'string' ? Buffer.from(edited) : edited;
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(text.length));
  fs.writeFileSync(file, Buffer.concat([len, text, data]));
  return file;
}

describe('CLI: bad input', () => {
  let model: string;
  before(() => {
    model = writeTinyBert(makeTempDir(), { layers: 2 });
  });

  const fresh = () => writeTinyBert(makeTempDir(), { layers: 2 });

  it('missing config.json names the folder', () => {
    const dir = makeTempDir();
    expectError(cli('probe', dir, '--text', 'hi'), dir, 'no config.json');
  });

  it('unsupported model_type lists the supported ones', () => {
    const dir = fresh();
    const cfg = path.join(dir, 'config.json');
    fs.writeFileSync(cfg, JSON.stringify({ ...JSON.parse(fs.readFileSync(cfg, 'utf8')), model_type: 'gpt2' }));
    expectError(cli('probe', dir, '--text', 'hi'), cfg, 'unsupported model_type "gpt2"', /supports: .*bert/);
  });

  it('config.json that is not JSON', () => {
    const dir = fresh();
    fs.writeFileSync(path.join(dir, 'config.json'), '{ "model_type": ');
    expectError(cli('probe', dir, '--text', 'hi'), 'config.json', 'not valid JSON');
  });

  it('a missing tensor is named', () => {
    const dir = fresh();
    const file = corruptHeader(dir, (h) => {
      const entry = h['bert.encoder.layer.1.output.dense.bias'];
      delete h['bert.encoder.layer.1.output.dense.bias'];
      h['renamed.tensor'] = entry;
      return JSON.stringify(h);
    });
    expectError(cli('probe', dir, '--text', 'hi'), file, 'missing tensor "bert.encoder.layer.1.output.dense.bias"');
  });

  it('a tensor whose shape disagrees with config.json', () => {
    const dir = fresh();
    const cfg = path.join(dir, 'config.json');
    fs.writeFileSync(cfg, JSON.stringify({ ...JSON.parse(fs.readFileSync(cfg, 'utf8')), intermediate_size: 64 }));
    expectError(cli('probe', dir, '--text', 'hi'), 'model.safetensors', /intermediate\.dense\.weight" has shape \[128, 32\] but config\.json implies \[64, 32\]/);
  });

  it('safetensors header length past the end of the file', () => {
    const dir = fresh();
    const file = path.join(dir, 'model.safetensors');
    const bytes = fs.readFileSync(file);
    bytes.writeBigUInt64LE(BigInt(bytes.length * 2), 0);
    fs.writeFileSync(file, bytes);
    expectError(cli('probe', dir, '--text', 'hi'), file, 'corrupt safetensors header', 'claims');
  });

  it('safetensors header that is not valid JSON', () => {
    const dir = fresh();
    const file = corruptHeader(dir, (h) => JSON.stringify(h).slice(0, -5));
    expectError(cli('probe', dir, '--text', 'hi'), file, 'not valid JSON');
  });

  it('safetensors tensors with overlapping offsets', () => {
    const dir = fresh();
    const file = corruptHeader(dir, (h) => {
      const a = h['bert.embeddings.LayerNorm.weight'];
      const b = h['bert.embeddings.LayerNorm.bias'];
      b.data_offsets = [a.data_offsets[0] + 4, a.data_offsets[1] + 4];
      return JSON.stringify(h);
    });
    expectError(cli('probe', dir, '--text', 'hi'), file, 'overlap');
  });

  it('safetensors offsets out of range', () => {
    const dir = fresh();
    const file = corruptHeader(dir, (h, dataLength) => {
      const t = h['cls.predictions.bias'];
      const size = t.data_offsets[1] - t.data_offsets[0];
      t.data_offsets = [dataLength, dataLength + size];
      return JSON.stringify(h);
    });
    expectError(cli('probe', dir, '--text', 'hi'), file, 'past the end of the data');
  });

  it('safetensors unknown dtype', () => {
    const dir = fresh();
    const file = corruptHeader(dir, (h) => {
      h['cls.predictions.bias'].dtype = 'F8_E9M9';
      return JSON.stringify(h);
    });
    expectError(cli('probe', dir, '--text', 'hi'), file, 'unknown dtype "F8_E9M9"');
  });

  it('empty text', () => {
    expectError(cli('probe', model, '--text', '   '), 'input 1 is empty');
  });

  it('an input file that is not UTF-8', () => {
    const file = path.join(makeTempDir(), 'latin1.txt');
    fs.writeFileSync(file, Buffer.from('the cat sat\ncaf\xe9 au lait\n', 'latin1'));
    expectError(cli('probe', model, '--file', file), file, 'not valid UTF-8', 'offset 16');
  });

  it('an empty input file', () => {
    const file = path.join(makeTempDir(), 'empty.txt');
    fs.writeFileSync(file, '\n\n');
    expectError(cli('probe', model, '--file', file), file, 'no sentences');
  });

  it('a malformed layer plan names the part', () => {
    expectError(cli('probe', model, '--text', 'the cat', '--layers', '0,x-1'), 'part 2 ("x-1")', 'malformed');
  });

  it('an out-of-range layer plan names the part and the range', () => {
    expectError(cli('probe', model, '--text', 'the cat', '--layers', '0-1,5'), 'part 2 ("5")', 'layers 0-1');
  });

  it('an empty layer plan', () => {
    expectError(cli('probe', model, '--text', 'the cat', '--layers', ' '), 'layer plan is empty');
  });

  it('an unknown flag', () => {
    expectError(cli('probe', model, '--txt', 'the cat'), "'--txt'");
  });

  it('a folder where a file belongs is named as such (weights, vocab.txt, tokenizer_config.json, --file)', () => {
    const weights = fresh();
    fs.rmSync(path.join(weights, 'model.safetensors'));
    fs.mkdirSync(path.join(weights, 'model.safetensors'));
    expectError(cli('probe', weights, '--text', 'hi'), path.join(weights, 'model.safetensors'), 'it is a folder, not a file');
    const vocab = fresh();
    fs.rmSync(path.join(vocab, 'vocab.txt'));
    fs.mkdirSync(path.join(vocab, 'vocab.txt'));
    expectError(cli('probe', vocab, '--text', 'hi'), path.join(vocab, 'vocab.txt'), 'it is a folder, not a file');
    const tokConfig = fresh();
    fs.rmSync(path.join(tokConfig, 'tokenizer_config.json'));
    fs.mkdirSync(path.join(tokConfig, 'tokenizer_config.json'));
    expectError(cli('probe', tokConfig, '--text', 'hi'), 'tokenizer_config.json: cannot read', 'it is a folder, not a file');
    const dir = makeTempDir();
    expectError(cli('probe', model, '--file', dir), dir, 'it is a folder, not a file');
  });

  it('a tokenizer_config.json that is null names the file', () => {
    const dir = fresh();
    fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), 'null');
    expectError(cli('probe', dir, '--text', 'hi'), path.join(dir, 'tokenizer_config.json'), 'must hold a JSON object');
  });

  it('a sharded index that is null, or maps a tensor to a non-string, names the index', () => {
    const dir = fresh();
    fs.renameSync(path.join(dir, 'model.safetensors'), path.join(dir, 'model-00001-of-00001.safetensors'));
    const index = path.join(dir, 'model.safetensors.index.json');
    fs.writeFileSync(index, 'null');
    expectError(cli('probe', dir, '--text', 'hi'), index, 'must hold a JSON object');
    fs.writeFileSync(index, JSON.stringify({ weight_map: { 'cls.predictions.bias': 5 } }));
    expectError(cli('probe', dir, '--text', 'hi'), index, 'maps tensor "cls.predictions.bias" to 5');
  });

  it('a token id at or past config.json vocab_size is refused before ORT sees it', () => {
    const dir = fresh();
    const vocab = path.join(dir, 'vocab.txt');
    const size = fs.readFileSync(vocab, 'utf8').trim().split('\n').length;
    fs.appendFileSync(vocab, 'zebra\n');
    const r = cli('probe', dir, '--text', 'the zebra');
    expectError(r, vocab, `"zebra" id ${size}`, `vocab_size ${size}`);
    assert.doesNotMatch(r.stderr, /onnxruntime|Gather/);
  });

  it('--json/--csv never replace the model\'s files or the corpus, and a missing folder fails before the run', () => {
    const dir = fresh();
    const config = path.join(dir, 'config.json');
    const before = fs.readFileSync(config, 'utf8');
    expectError(cli('probe', dir, '--text', 'the cat', '--csv', config), config, 'model folder');
    assert.equal(fs.readFileSync(config, 'utf8'), before);
    const corpus = path.join(makeTempDir(), 'corpus.txt');
    fs.writeFileSync(corpus, 'the cat\n');
    expectError(cli('probe', dir, '--file', corpus, '--json', corpus), corpus, '--file input');
    assert.equal(fs.readFileSync(corpus, 'utf8'), 'the cat\n');
    const out = path.join(makeTempDir(), 'r.json');
    expectError(cli('probe', dir, '--text', 'the cat', '--json', out, '--csv', out), out, 'same file');
    const missing = path.join(makeTempDir(), 'no', 'r.json');
    const r = cli('probe', dir, '--text', 'the cat', '--json', missing);
    expectError(r, missing, 'folder does not exist');
    assert.equal(r.stdout, '', 'fails before probing');
  });

  it('a vocabulary the tokenizer cannot map words with (no [UNK]) is a clear error', () => {
    const dir = fresh();
    fs.writeFileSync(path.join(dir, 'vocab.txt'), '\n\n');
    expectError(cli('probe', dir, '--text', 'the cat'), path.join(dir, 'vocab.txt'), 'has no id for');
  });
});

describe('CLI: probe output', () => {
  it('prints the per-layer table and the token grid with real numbers, and writes JSON/CSV that agree', () => {
    const dir = writeTinyBert(makeTempDir(), { layers: 3, seed: 11 });
    const out = makeTempDir();
    const r = cli('probe', dir, '--text', 'the cat sat on the mat.', '--json', path.join(out, 'r.json'), '--csv', path.join(out, 'r.csv'));
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(fs.readFileSync(path.join(out, 'r.json'), 'utf8'));
    assert.equal(report.summary.length, 4);
    for (const s of report.summary) {
      const row = r.stdout.split('\n').find((l) => l.startsWith(`${s.label} `));
      assert.ok(row, `row ${s.label} in:\n${r.stdout}`);
      assert.ok(row!.includes(`${(s.accuracy * 100).toFixed(1)}%`) && row!.includes(s.meanLogProb.toFixed(3)), row);
    }
    // The grid shows, for h3, the top-1 token at each non-special position.
    const s = report.sentences[0];
    const grid = r.stdout.split('\n').filter((l) => l.startsWith('h3  ')).pop()!; // the grid comes after the summary
    const expected = s.layers[3].top1.filter((_: number, p: number) => !s.special[p]).map((id: number, i: number) => report.vocab[id] + (id === s.ids.filter((_: number, p: number) => !s.special[p])[i] ? '' : '*'));
    assert.deepEqual(grid.split(/\s+/).slice(1), expected);
    const csv = fs.readFileSync(path.join(out, 'r.csv'), 'utf8').trim().split('\n');
    assert.equal(csv.length, 1 + 4 * s.ids.length);
  });

  it('warns when only special tokens were probed (the figures would be NaN)', () => {
    const dir = writeTinyBert(makeTempDir(), { layers: 1 });
    const r = cli('probe', dir, '--text', '[SEP]');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /warning: every token is a special token/);
    assert.doesNotMatch(cli('probe', dir, '--text', '[SEP]', '--include-special').stdout, /warning: every token/);
  });

  it('warns when a text is longer than max_position_embeddings and truncates it', () => {
    const dir = writeTinyBert(makeTempDir(), { layers: 1, maxPositions: 16 });
    const r = cli('probe', dir, '--text', Array(40).fill('cat').join(' '));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /warning: input 1 has 42 tokens; truncated to 16/);
  });
});

describe('CLI: interrupting a corpus run', () => {
  it('Ctrl-C stops cleanly: exit 130, one line, no stack trace, and keeps what it finished as a partial report', async () => {
    const { spawn } = await import('node:child_process');
    const dir = writeTinyBert(makeTempDir(), { layers: 4, hidden: 64, seed: 24 });
    const out = makeTempDir();
    const corpus = path.join(out, 'corpus.txt');
    fs.writeFileSync(corpus, Array.from({ length: 3000 }, (_, i) => `the cat sat on the mat ${i % 7} and the dog ran to the big red house`).join('\n'));
    const child = spawn(process.execPath, [CLI, 'probe', dir, '--file', corpus, '--json', path.join(out, 'r.json'), '--threads', '1']);
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
      // Interrupt once the progress bar shows the run is under way.
      if (/probed [1-9]/.test(stderr) && !child.killed) child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    assert.equal(code, 130, stderr);
    const m = /layer-lens: interrupted after (\d+) of 3000 sentences; wrote the report so far, marked "partial": true\./.exec(stderr);
    assert.ok(m, stderr);
    assert.doesNotMatch(stderr, /\n\s+at .+:\d+:\d+/);
    const report = JSON.parse(fs.readFileSync(path.join(out, 'r.json'), 'utf8')) as { corpus: { partial?: boolean; probed: number } };
    assert.equal(report.corpus.partial, true);
    assert.equal(report.corpus.probed, Number(m[1]));
    assert.deepEqual(fs.readdirSync(out).sort(), ['corpus.txt', 'r.json'], 'no temp file left behind');
  });
});
