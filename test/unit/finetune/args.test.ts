import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TEST_PYTHON } from '../helpers/python';
import { buildFinetuneCommand, expectedRuns, finetuneScriptArgs, FinetuneSpec, runFolderNames } from '../../../src/core/finetune/args';
import { makeTempDir } from '../helpers/tinyBert';

const ROOT = path.resolve(__dirname, '../../../..');
const SCRIPT = path.join(ROOT, 'python', 'finetune.py');
const PYTHON = TEST_PYTHON;

const HOSTILE = [
  '/tmp/my models/bert base',
  `/tmp/it's "quoted"/model`,
  '/tmp/$(touch /tmp/layer-lens-pwned)/`id`;rm -rf x',
  '/tmp/ünïcødé/模型/🤖',
  '-rf',
  '--out=/etc',
  '/tmp/back\\slash/and\ttab',
  '*?[glob]',
];

function printArgs(args: string[]): Record<string, unknown> {
  const r = spawnSync(PYTHON, [SCRIPT, '--print-args', ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('fine-tune argv', () => {
  it('a non-positive learning rate or epoch count says "> 0", not the smallest double', () => {
    const base: FinetuneSpec = { models: ['/m'], data: '/d.tsv', out: '/o' };
    assert.throws(() => finetuneScriptArgs({ ...base, epochs: -1 }), { message: '--epochs must be a number > 0, got -1' });
    assert.throws(() => finetuneScriptArgs({ ...base, lr: 0 }), { message: '--lr must be a number > 0, got 0' });
    assert.throws(() => finetuneScriptArgs({ ...base, batchSize: 0.5 }), { message: '--batch-size must be an integer ≥ 1, got 0.5' });
  });

  it('hostile paths round-trip through python argparse unchanged, with no shell', () => {
    const canary = '/tmp/layer-lens-pwned';
    fs.rmSync(canary, { force: true });
    const spec: FinetuneSpec = { models: HOSTILE, data: '-data $(x).tsv', out: '--help', maxSteps: 30, seed: 7 };
    const cmd = buildFinetuneCommand(spec, { python: PYTHON, script: SCRIPT });
    assert.equal(cmd.command, PYTHON);
    assert.equal(cmd.args[0], SCRIPT);
    const parsed = printArgs(cmd.args.slice(1));
    assert.deepEqual(parsed.models, HOSTILE);
    assert.equal(parsed.data, '-data $(x).tsv');
    assert.equal(parsed.out, '--help');
    assert.equal(parsed.task, null);
    assert.equal(parsed.lr, 2e-5);
    assert.equal(parsed.batch_size, 32);
    assert.equal(parsed.epochs, 3);
    assert.equal(parsed.max_length, 128);
    assert.equal(parsed.seed, 7);
    assert.equal(parsed.max_steps, 30);
    assert.ok(!fs.existsSync(canary), 'nothing was executed');
  });

  it('every hyper-parameter reaches the script', () => {
    const args = finetuneScriptArgs({
      models: ['a'], task: 'sst2', out: 'o', lr: 3e-5, batchSize: 16, epochs: 2.5, maxLength: 64, seed: 1, seeds: 5, evalSteps: 7, maxSteps: 5, backend: 'torch', threads: 2,
    });
    const p = printArgs(args);
    assert.deepEqual(
      [p.models, p.task, p.lr, p.batch_size, p.epochs, p.max_length, p.seed, p.seeds, p.eval_steps, p.max_steps, p.backend, p.threads],
      [['a'], 'sst2', 3e-5, 16, 2.5, 64, 1, 5, 7, 5, 'torch', 2],
    );
    // Defaults: 3 seeds, per-epoch evaluation only; the script's own defaults agree.
    const d = printArgs(finetuneScriptArgs({ models: ['a'], task: 'sst2', out: 'o' }));
    assert.deepEqual([d.seeds, d.eval_steps], [3, 0]);
    assert.deepEqual([printArgs(['--model=a', '--task=sst2', '--out=o']).seeds], [3]);
    assert.equal(expectedRuns({ models: ['a', 'b'] }), 6);
    assert.equal(expectedRuns({ models: ['a', 'b'], seeds: 1 }), 2);
    assert.throws(() => finetuneScriptArgs({ models: ['a'], task: 'sst2', out: 'o', seeds: 0 }), /--seeds must be an integer ≥ 1, got 0/);
    assert.throws(() => finetuneScriptArgs({ models: ['a'], task: 'sst2', out: 'o', evalSteps: 1.5 }), /--eval-steps must be an integer ≥ 0/);
  });

  it('launchers run as modules of the chosen interpreter', () => {
    const spec: FinetuneSpec = { models: ['m'], data: 'd.tsv', out: 'o' };
    const t = buildFinetuneCommand(spec, { python: '/py', script: '/s.py', launcher: 'torchrun', nprocPerNode: 4 });
    assert.deepEqual(t.args.slice(0, 6), ['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=4', '/s.py', '--model=m']);
    const a = buildFinetuneCommand(spec, { python: '/py', script: '/s.py', launcher: 'accelerate', nprocPerNode: 2 });
    assert.deepEqual(a.args.slice(0, 5), ['-m', 'accelerate.commands.launch', '--num_processes=2', '/s.py', '--model=m']);
    assert.equal(a.command, '/py');
  });

  it('rejects bad specs with a clear message', () => {
    assert.throws(() => finetuneScriptArgs({ models: [], data: 'd', out: 'o' }), /at least one model/);
    assert.throws(() => finetuneScriptArgs({ models: ['m'], out: 'o' }), /exactly one of/);
    assert.throws(() => finetuneScriptArgs({ models: ['m'], task: 'sst2', data: 'd', out: 'o' }), /exactly one of/);
    assert.throws(() => finetuneScriptArgs({ models: ['m'], task: 'sst2; rm', out: 'o' }), /not a GLUE task name/);
    assert.throws(() => finetuneScriptArgs({ models: ['m'], data: 'd', out: 'o', batchSize: 0 }), /--batch-size must be an integer ≥ 1/);
    assert.throws(() => finetuneScriptArgs({ models: ['m'], data: 'd', out: 'o', lr: -1 }), /--lr must be a number/);
  });

  it('run folder names match the script', () => {
    const models = ['/a/bert base', '/b/bert base', '/c/deep-0-3_3/', '/d/..hidden.'];
    const dir = makeTempDir();
    const r = spawnSync(PYTHON, ['-c', `import sys; sys.path.insert(0, ${JSON.stringify(path.join(ROOT, 'python'))}); import finetune, json; print(json.dumps([p.split('/')[-1] for p in finetune.run_dirs(${JSON.stringify(dir)}, ${JSON.stringify(models)})]))`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(runFolderNames(models), JSON.parse(r.stdout));
  });
});
