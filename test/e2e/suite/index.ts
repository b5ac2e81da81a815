/**
 * Runs inside the extension host (the test-electron contract): run() returns a promise that
 * settles when mocha is done; a failure makes the workbench exit with code 1. Results also go
 * to $LAYER_LENS_E2E_RESULTS as JSON so the runner can count them.
 */
import * as fs from 'node:fs';
import Mocha from 'mocha';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec' });
  mocha.suite.emit('pre-require', globalThis, 'host.test', mocha);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('./host.test');
  const results: { title: string; state: string; error?: string; ms?: number }[] = [];
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const file = process.env.LAYER_LENS_E2E_RESULTS;
      if (file) fs.writeFileSync(file, JSON.stringify({ results }, null, 2));
      if (failures > 0) reject(new Error(`${failures} extension-host test(s) failed`));
      else resolve();
    });
    runner.on('pass', (t) => results.push({ title: t.fullTitle(), state: 'passed', ms: t.duration }));
    runner.on('fail', (t, err) => results.push({ title: t.fullTitle(), state: 'failed', error: String(err?.stack ?? err) }));
  });
}
