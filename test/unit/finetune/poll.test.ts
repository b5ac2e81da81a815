/** Polling a run folder (core/finetune/poll): a change is a results file that appeared, vanished, or changed size or mtime. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunFolderPoller } from '../../../src/core/finetune/poll';
import { makeTempDir } from '../helpers/tinyBert';

describe('run folder poller', () => {
  it('sees results files appear (old and seed layouts), change and vanish, and nothing else', () => {
    const out = path.join(makeTempDir(), 'run');
    const p = new RunFolderPoller(out);
    assert.equal(p.changed(), false, 'a folder that does not exist yet has nothing');
    fs.mkdirSync(path.join(out, 'base', 'seed-42'), { recursive: true });
    assert.equal(p.changed(), false, 'an empty seed folder is no result');
    const f = path.join(out, 'base', 'seed-42', 'results.json');
    fs.writeFileSync(f, '{"a":1}');
    assert.equal(p.changed(), true, 'a new seed file');
    assert.equal(p.changed(), false, 'unchanged since');
    fs.writeFileSync(f, '{"a":12}');
    assert.equal(p.changed(), true, 'a size change');
    const t = new Date(Date.now() + 5000);
    fs.writeFileSync(f, '{"a":13}');
    fs.utimesSync(f, t, t);
    assert.equal(p.changed(), true, 'same size, new mtime');
    fs.mkdirSync(path.join(out, 'old'), { recursive: true });
    fs.writeFileSync(path.join(out, 'old', 'results.json'), '{}');
    assert.equal(p.changed(), true, 'an old single-seed file');
    fs.writeFileSync(path.join(out, 'base', 'seed-42', 'notes.txt'), 'x');
    fs.mkdirSync(path.join(out, 'base', 'trainer'), { recursive: true });
    fs.writeFileSync(path.join(out, 'base', 'trainer', 'results.json'), '{}');
    assert.equal(p.changed(), false, 'other files and non-seed folders are not results');
    fs.rmSync(path.join(out, 'old'), { recursive: true });
    assert.equal(p.changed(), true, 'a vanished file');
    assert.equal(p.checks, 9);
    assert.equal(p.changes, 5);
  });
});
