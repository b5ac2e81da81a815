// Bundles the extension host, the probe worker, the CLI, the bench and the webview.
// Type checking is separate (`npm run typecheck`); esbuild only strips types.
import * as esbuild from 'esbuild';
import { existsSync } from 'node:fs';

const production = process.argv.includes('--production');
const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning' };
const node = {
  ...common,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // Native addon: loaded at run time from node_modules, never bundled.
  external: ['vscode', 'onnxruntime-node'],
};

const targets = [
  { ...node, entryPoints: { extension: 'src/extension/main.ts' } },
  { ...node, entryPoints: { worker: 'src/worker/probeWorker.ts' } },
  { ...node, entryPoints: { modelCheckWorker: 'src/worker/modelCheckWorker.ts' } },
  { ...node, entryPoints: { cli: 'src/cli/main.ts' }, banner: { js: '#!/usr/bin/env node' } },
  { ...node, entryPoints: { bench: 'scripts/bench.ts' } },
  { ...node, entryPoints: { paper: 'scripts/paper-table.ts' } },
  { ...node, entryPoints: { 'bench-deepen': 'scripts/bench-deepen.ts' } },
  { ...common, platform: 'browser', format: 'iife', target: 'es2022', entryPoints: { webview: 'webview/main.ts' } },
];

await Promise.all(
  targets
    .filter((t) => existsSync(Object.values(t.entryPoints)[0]))
    .map((t) => esbuild.build({ ...t, outdir: 'dist' })),
);

// Unit tests run from out/ as plain CommonJS: transpile src/ and test/ file by file (no bundling).
if (process.argv.includes('--tests')) {
  const { readdirSync } = await import('node:fs');
  const tsFiles = (dir) =>
    existsSync(dir)
      ? readdirSync(dir, { recursive: true }).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).map((f) => `${dir}/${f}`)
      : [];
  const files = [...tsFiles('src'), ...tsFiles('test/unit'), ...tsFiles('scripts')];
  await esbuild.build({
    entryPoints: files,
    outdir: 'out',
    outbase: '.',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
  });
}
