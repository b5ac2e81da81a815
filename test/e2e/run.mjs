#!/usr/bin/env node
/**
 * End-to-end tests in a real VS Code: code-server 4.100.3 (VS Code 1.100.3) driven by headless
 * Chromium through playwright-core, offline. Install first: bash scripts/install-e2e.sh
 *
 * Phase 1 (extension host): mocha runs inside the extension host (the test-electron contract,
 *   extensionTestsPath in the payload); the result comes back through codeAutomationExit.
 * Phase 2 (UI): drives the workbench like a person: command palette, quick picks, the webview
 *   (two frames deep), the explorer context menu, hovers, the cancel button; saves screenshots
 *   to test-artifacts/.
 * Prints "N passed, M failed" last and exits non-zero on any failure. Kills every process of the
 * code-server session at the end.
 */
import util from 'node:util';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);
const CACHE = path.join(ROOT, '.cache/e2e');
const CODE_SERVER = path.join(CACHE, 'node_modules/code-server/out/node/entry.js');
const RUN = path.join(CACHE, 'run');
const WS = path.join(RUN, 'workspace');
const ARTIFACTS = path.join(ROOT, 'test-artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const started = Date.now();
const results = [];
let server;

function log(...args) {
  console.log(`[e2e +${((Date.now() - started) / 1000).toFixed(1)}s]`, ...args);
}

let currentPage;
async function check(name, fn) {
  const t = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    log(`✓ ${name} (${Date.now() - t} ms)`);
  } catch (e) {
    results.push({ name, ok: false, error: e });
    log(`✗ ${name}: ${e?.stack ?? e}`);
    const shot = path.join(ARTIFACTS, `failed-${results.length}.png`);
    await currentPage?.screenshot({ path: shot }).then(() => log(`  screenshot: ${shot}`), () => {});
    await currentPage?.keyboard.press('Escape').catch(() => {});
  }
}

/** Reads `probe` until `done` holds or `ms` pass, returning the last reading; `retry` runs between reads. */
async function pollUntil(probe, done, ms, retry = async () => {}) {
  const until = Date.now() + ms;
  let last = await probe();
  while (!done(last) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    await retry();
    last = await probe();
  }
  return last;
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function build() {
  log('building (esbuild)…');
  execFileSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, stdio: 'inherit' });
  const esbuild = await import('esbuild');
  const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning', sourcemap: 'inline' };
  await esbuild.build({ ...common, entryPoints: { fixtures: 'test/e2e/fixtures.ts' }, outdir: path.join(RUN, 'out'), absWorkingDir: ROOT, external: ['onnxruntime-node'] });
  await esbuild.build({ ...common, entryPoints: { suite: 'test/e2e/suite/index.ts' }, outdir: path.join(RUN, 'out'), absWorkingDir: ROOT, external: ['vscode', 'mocha'], nodePaths: [path.join(ROOT, 'node_modules')] });
}

function sessionPids(sid) {
  try {
    return execFileSync('ps', ['-eo', 'pid=,sid=,stat='], { encoding: 'utf8' })
      .trim().split('\n').map((l) => l.trim().split(/\s+/))
      .filter(([, s, stat]) => Number(s) === sid && !stat.startsWith('Z')) // zombies are gone already
      .map(([p]) => Number(p));
  } catch {
    return [];
  }
}

function stopServer() {
  if (!server?.pid) return;
  const sid = server.pid; // detached: the server leads its own session (setsid)
  for (let round = 0; round < 3; round++) {
    const pids = sessionPids(sid);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    execFileSync('sleep', ['0.2']);
  }
  const left = sessionPids(sid);
  log(left.length ? `WARNING: processes left in session ${sid}: ${left}` : `stopped code-server (session ${sid})`);
  server = undefined;
}

function setTheme(theme) {
  const file = path.join(RUN, 'data/User/settings.json');
  const settings = JSON.parse(fs.readFileSync(file, 'utf8'));
  settings['workbench.colorTheme'] = theme;
  fs.writeFileSync(file, JSON.stringify(settings, null, 2));
}

async function startServer(port, sampleOverride) {
  for (const d of ['home', 'data', 'ext', 'tmp', 'config', 'xdgdata']) fs.mkdirSync(path.join(RUN, d), { recursive: true });
  fs.mkdirSync(path.join(RUN, 'data/User'), { recursive: true });
  fs.writeFileSync(path.join(RUN, 'data/User/settings.json'), JSON.stringify({
    'workbench.startupEditor': 'none',
    'workbench.colorTheme': 'Default Dark Modern',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'telemetry.telemetryLevel': 'off',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'security.workspace.trust.enabled': false,
    'files.simpleDialog.enable': true,
    'window.commandCenter': false,
    'chat.commandCenter.enabled': false,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'layer-lens.threads': 2,
  }, null, 2));
  const env = {
    ...process.env,
    HOME: path.join(RUN, 'home'),
    XDG_CONFIG_HOME: path.join(RUN, 'config'),
    XDG_DATA_HOME: path.join(RUN, 'xdgdata'),
    TMPDIR: path.join(RUN, 'tmp'),
    LAYER_LENS_E2E_WORKSPACE: WS,
    LAYER_LENS_E2E_RESULTS: path.join(RUN, 'host-results.json'),
    // The tuned-lens task's interpreter (scripts/install-python.sh's environment, as the unit tests use).
    LAYER_LENS_E2E_PYTHON: process.env.LAYER_LENS_TEST_PYTHON ?? path.join(ROOT, '.cache', 'venv', 'bin', 'python'),
    ONNXRUNTIME_NODE_INSTALL: 'skip',
  };
  if (sampleOverride) env.LAYER_LENS_SAMPLE_MODEL = sampleOverride;
  else delete env.LAYER_LENS_SAMPLE_MODEL;
  const out = fs.openSync(path.join(ARTIFACTS, 'code-server.log'), 'w');
  server = spawn(process.execPath, [
    CODE_SERVER, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--user-data-dir', path.join(RUN, 'data'),
    '--extensions-dir', path.join(RUN, 'ext'), '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
    '--disable-getting-started-override', WS,
  ], { env, detached: true, stdio: ['ignore', out, out] });
  for (let i = 0; i < 150; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (r.ok) return;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('code-server did not answer /healthz within 30 s; see test-artifacts/code-server.log');
}

function workbenchUrl(port, withTests) {
  const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
  const payload = [['extensionDevelopmentPath', remote(ROOT)], ['skipWelcome', 'true']];
  if (withTests) payload.push(['extensionTestsPath', remote(path.join(RUN, 'out/suite.js'))]);
  return `http://127.0.0.1:${port}/?folder=${encodeURIComponent(WS)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

async function newPage(context) {
  const page = await context.newPage();
  page.on('dialog', async (d) => {
    dialogs.push(d.message());
    await d.dismiss().catch(() => {});
  });
  page.on('console', (m) => {
    const t = m.text();
    if (/Content Security Policy|Refused to/i.test(t)) cspViolations.push(t);
  });
  return page;
}

const dialogs = [];
const cspViolations = [];

// ── Phase 1: mocha inside the extension host ───────────────────────────────────────────────
// The host tests run Python tasks (tuned lens, torchrun, fine-tuning): minutes when the machine is
// shared (the tuned-lens test alone once took 222 s). A host phase cut short leaves its extension host running
// beside the UI phase, so the limit is generous.
const HOST_PHASE_MS = 420_000;
async function hostPhase(context, port) {
  const page = await newPage(context);
  let resolveExit;
  const exited = new Promise((r) => (resolveExit = r));
  await page.exposeFunction('codeAutomationLog', (type, args) => {
    // The host forwards console calls as (format, ...values): apply %s/%d like console.log does.
    const text = Array.isArray(args) ? util.format(...args.map((a) => (typeof a === 'string' || typeof a === 'number' ? a : JSON.stringify(a)))) : String(args ?? type);
    for (const line of text.split('\n')) if (line.trim()) console.log(`  [host] ${line}`);
  });
  await page.exposeFunction('codeAutomationExit', (code) => resolveExit(code));
  const resultsFile = path.join(RUN, 'host-results.json');
  fs.rmSync(resultsFile, { force: true });
  await page.goto(workbenchUrl(port, true));
  const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), HOST_PHASE_MS))]);
  let host = [];
  try {
    host = JSON.parse(fs.readFileSync(resultsFile, 'utf8')).results;
  } catch { /* no results */ }
  for (const r of host) {
    results.push({ name: `host: ${r.title}`, ok: r.state === 'passed', error: r.error });
    log(`${r.state === 'passed' ? '✓' : '✗'} host: ${r.title}${r.error ? `\n${r.error}` : ''}`);
  }
  if (host.length === 0 || (code !== 0 && !host.some((r) => r.state === 'failed'))) {
    results.push({ name: 'host: mocha run finished', ok: false, error: `exit ${code}, ${host.length} results` });
    log(`✗ host: mocha run did not finish cleanly (exit ${code})`);
  }
  await page.close();
}

// ── Phase 2: the UI, like a person ─────────────────────────────────────────────────────────
async function quickInput(page) {
  const widget = page.locator('.quick-input-widget');
  await widget.waitFor({ state: 'visible', timeout: 15_000 });
  return widget;
}

async function focusWorkbench(page) {
  // Keys typed while a webview has focus go to its iframe; give the focus back to the workbench.
  // Clicking the empty part of the explorer list focuses it without opening anything.
  const list = page.locator('.explorer-folders-view .monaco-list').first();
  const box = await list.boundingBox();
  if (box) await page.mouse.click(box.x + box.width / 2, box.y + box.height - 10);
  await page.locator('.explorer-folders-view .monaco-list:focus-within, .explorer-folders-view .monaco-list.focused').first().waitFor({ timeout: 3_000 }).catch(() => {});
}

async function runCommand(page, title, attempts = 3) {
  for (let attempt = 1; ; attempt++) {
    await focusWorkbench(page);
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    const w = await quickInput(page);
    await page.keyboard.type(title, { delay: 5 });
    // Click the row whose label is exactly the title: Enter would run whichever row is active.
    const row = w.locator(`.quick-input-list .monaco-list-row[aria-label^="${title.replace(/"/g, '\\"')}"]`).first();
    try {
      await row.waitFor({ timeout: 5_000 });
      await row.click();
      return;
    } catch (e) {
      // The palette closes itself when a webview takes the focus back while it opens (seen in
      // CI: the row stays in the DOM, hidden). Open it again rather than fail the check.
      if (attempt >= attempts) throw e;
      log(`  command palette lost "${title}" (attempt ${attempt}); reopening`);
    }
  }
}

async function pickItem(page, text) {
  const w = await quickInput(page);
  await page.keyboard.type(text, { delay: 5 });
  await w.locator('.quick-input-list .monaco-list-row', { hasText: text }).first().waitFor({ timeout: 20_000 });
  await page.keyboard.press('Enter');
}

async function typeSentence(page, text) {
  const w = await quickInput(page);
  await w.locator('.quick-input-title', { hasText: 'probe' }).waitFor({ timeout: 20_000 });
  await page.keyboard.type(text, { delay: 2 });
  await w.locator('.quick-input-list .monaco-list-row', { hasText: 'probe this text' }).first().waitFor({ timeout: 10_000 });
  await page.keyboard.press('Enter');
}

/** The visible webview's document: two frames deep (iframe.webview.ready → #active-frame). */
function webview(page) {
  return page.locator('iframe.webview.ready').filter({ visible: true }).first().contentFrame().locator('#active-frame').contentFrame();
}

async function switchTheme(page, label, cls) {
  await runCommand(page, 'Preferences: Color Theme');
  const w = await quickInput(page);
  await w.locator('.quick-input-list .monaco-list-row').first().waitFor({ timeout: 15_000 });
  await page.keyboard.type(label, { delay: 5 });
  const row = w.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();
  await row.waitFor({ timeout: 15_000 });
  await row.click();
  await page.locator(`.monaco-workbench.${cls}`).waitFor({ timeout: 15_000 });
  await page.waitForTimeout(500);
}

async function gridOf(page, expectSentence) {
  const wv = webview(page);
  if (expectSentence) await wv.locator('p.sentence', { hasText: expectSentence }).first().waitFor({ timeout: 30_000 });
  const grid = wv.locator('table.grid').first();
  await grid.waitFor({ timeout: 30_000 });
  return grid.evaluate((grid) => ({
    rows: grid.querySelectorAll('tbody tr').length,
    rowHeaders: [...grid.querySelectorAll('tbody th')].map((th) => th.textContent),
    tokens: [...grid.querySelectorAll('thead th.tok')].map((th) => th.textContent),
    cells: [...grid.querySelectorAll('tbody td')].map((td) => td.textContent),
    imgs: grid.ownerDocument.querySelectorAll('img').length,
    role: grid.getAttribute('role'),
  }));
}

/** The CLI's report for the same model and text: the numbers the panel must show. */
function cliReport(model, text, extra = []) {
  const out = path.join(RUN, 'tmp', `cli-${Date.now()}.json`);
  execFileSync(process.execPath, [path.join(ROOT, 'dist/cli.js'), 'probe', model, '--text', text, '--threads', '2', '--json', out, ...extra], { cwd: ROOT, stdio: 'ignore', env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' } });
  const report = JSON.parse(fs.readFileSync(out, 'utf8'));
  fs.rmSync(out, { force: true });
  return report;
}

/** The panel's percentage format (src/shared/format.ts fmtPct). */
const fmtPct = (p) => (p >= 0.995 ? '100%' : p < 0.0005 ? (p === 0 ? '0%' : '<0.1%') : p < 0.1 ? `${(p * 100).toFixed(1)}%` : `${Math.round(p * 100)}%`);
const hexRgb = (c) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
const parseRgb = (c) => (c.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map(Number);
/** Within one unit per channel: the panel and the CLI may differ in the last float bits. */
function sameColor(css, hex) {
  const a = parseRgb(css);
  const b = hexRgb(hex);
  return a.length === 3 && a.every((v, i) => Math.abs(v - b[i]) <= 1);
}

/** Picks a statistic in the panel's "Colour" select (the component's own change event). */
async function pickStatistic(wv, id) {
  const label = { logp: 'log p(input)', p: 'colour: p(input)', rank: 'rank of the input', entropy: 'entropy', kl: 'KL→final', top1p: 'top-1 probability' }[id];
  // The select may still be upgrading right after a re-render, and then ignores the value: try again.
  for (let attempt = 0; ; attempt++) {
    await wv.locator('vscode-single-select[aria-label="Colour"]').evaluate((el, v) => {
      el.value = v;
      el.dispatchEvent(new Event('change', { bubbles: true }));
    }, id);
    try {
      await wv.locator('table.grid caption', { hasText: label }).first().waitFor({ timeout: 3_000 });
      return;
    } catch (e) {
      if (attempt === 2) throw e;
    }
  }
}

/** What the panel's grid shows: per cell its value, fill, text colour, mark, classes; the legend's ticks. */
async function heatmapOf(wv) {
  return wv.locator('table.grid').first().evaluate((grid) => {
    const doc = grid.ownerDocument;
    const css = (el) => doc.defaultView.getComputedStyle(el);
    return {
      cells: [...grid.querySelectorAll('tbody td')].map((td) => ({
        l: Number(td.dataset.l), p: Number(td.dataset.p), v: Number(td.dataset.v), bg: css(td).backgroundColor, color: css(td).color,
        mark: td.querySelector('.mark')?.textContent ?? '', excluded: td.classList.contains('excluded'), image: css(td).backgroundImage, text: td.textContent,
      })),
      ticks: [...doc.querySelectorAll('[data-testid="legend"] .tick')].map((t) => t.textContent),
      swatches: [...doc.querySelectorAll('[data-testid="legend"] .swatch')].map((s) => css(s).backgroundColor),
      legend: doc.querySelector('[data-testid="legend"]')?.getAttribute('aria-label'),
      summaryLast: [...doc.querySelectorAll('table[data-testid="summary"] tbody tr')].at(-1)?.querySelectorAll('td')[1]?.textContent,
    };
  });
}

/** Hides the workbench's bottom panel (terminal, output) if it is open, by its own close button. */
async function hidePanel(page) {
  const panel = page.locator('.part.panel');
  if (!(await panel.isVisible())) return;
  // The close button is one of the panel's global actions ("Hide Panel (Ctrl+J)" in VS Code 1.100).
  const close = panel.locator('[aria-label^="Hide Panel"], [title^="Hide Panel"], [aria-label^="Close Panel"]').first();
  if (await close.count()) await close.click({ timeout: 10_000 });
  else await runCommand(page, 'View: Hide Panel');
  await panel.waitFor({ state: 'hidden', timeout: 10_000 });
  log('  bottom panel hidden');
}

async function uiPhase(context, port, fixtures, sampleDir) {
  const page = await newPage(context);
  currentPage = page;
  await page.goto(workbenchUrl(port, false));
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'tiny-bert' }).first().waitFor({ timeout: 30_000 });
  log(`  workbench classes: ${await page.locator('.monaco-workbench').getAttribute('class')}`);
  await check('ui: switch to a dark theme', () => switchTheme(page, 'Dark Modern', 'vs-dark'));
  await page.waitForTimeout(1500); // let the extension activate (workspaceContains) and scan model folders

  const sentence = 'the cat sat on the mat';
  await check('ui: "Layer Lens: Probe Layers…" on the sample model shows L+1 rows with the right tokens', async () => {
    const want = fixtures.expected(sampleDir, sentence);
    await runCommand(page, 'Layer Lens: Probe Layers…');
    await pickItem(page, 'embedded sample model');
    await typeSentence(page, sentence);
    const g = await gridOf(page, sentence);
    assert(g.rows === want.rows, `expected ${want.rows} rows, got ${g.rows}`);
    assert(JSON.stringify(g.tokens) === JSON.stringify(want.tokens), `tokens ${JSON.stringify(g.tokens)} != ${JSON.stringify(want.tokens)}`);
    assert(g.rowHeaders[0] === 'h0' && g.rowHeaders.at(-1) === `h${want.rows - 1}`, `row headers ${g.rowHeaders}`);
    assert(g.role === 'grid', 'table has no grid role');
  });

  await check('ui: arrow keys move through the grid and focus shows the top-k tooltip', async () => {
    const wv = webview(page);
    const focused = () =>
      wv.locator('table.grid').first().evaluate((grid) => {
        const doc = grid.ownerDocument;
        const tip = doc.getElementById('tooltip');
        return { l: doc.activeElement?.getAttribute('data-l'), p: doc.activeElement?.getAttribute('data-p'), tip: tip && !tip.hidden ? tip.textContent : '' };
      });
    // Keys go wherever focus is: wait until the click has put it on the first cell, since a click
    // into the nested webview iframes can land before the frame takes focus (a CI run saw this).
    const start = wv.locator('table.grid td[data-l="0"][data-p="0"]').first();
    await start.click();
    const onStart = await pollUntil(focused, (s) => s.l === '0' && s.p === '0', 5_000, () => start.focus());
    assert(onStart.l === '0' && onStart.p === '0', `the click left focus at ${onStart.l},${onStart.p}`);
    // One key at a time, each checked: a run once saw focus at null,null after the three keys, so
    // say where focus went (element, whether the frame still had it, whether the grid was rebuilt).
    await wv.locator('table.grid').first().evaluate((g) => { g.dataset.e2eMark = '1'; });
    const where = () =>
      wv.locator('body').evaluate((b) => {
        const doc = b.ownerDocument;
        const a = doc.activeElement;
        return `${a?.tagName ?? 'none'}${a?.id ? `#${a.id}` : ''}${a?.className ? `.${String(a.className).split(' ').join('.')}` : ''}, frame focused ${doc.hasFocus()}, grid ${doc.querySelector('table.grid')?.dataset.e2eMark ? 'same' : 'rebuilt'}`;
      });
    let state = onStart;
    for (const [key, l, p] of [['ArrowDown', '1', '0'], ['ArrowRight', '1', '1'], ['ArrowRight', '1', '2']]) {
      await page.keyboard.press(key);
      state = await pollUntil(focused, (s) => s.l === l && s.p === p && s.tip !== '', 5_000);
      if (!(state.l === l && state.p === p)) throw new Error(`after ${key}: focus at ${state.l},${state.p}, want ${l},${p} (${await where()})`);
    }
    assert(/input rank/.test(state.tip), `tooltip: ${state.tip}`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'panel-dark.png') });
  });

  await check('ui: heatmap: each statistic colours the grid with the viridis value of the CLI\'s number; legend scale; specials dimmed', async () => {
    const wv = webview(page);
    const want = cliReport(sampleDir, sentence);
    const ws = want.sentences[0];
    const V = want.model.vocabSize;
    const checkStat = async (stat, valueOf, tol) => {
      if (stat !== 'logp') await pickStatistic(wv, stat);
      const got = await heatmapOf(wv);
      const domain = fixtures.statDomain(want, stat);
      const ticks = fixtures.legendTicks(stat, domain).map((t) => t.label);
      assert(JSON.stringify(got.ticks) === JSON.stringify(ticks), `${stat}: legend ticks ${JSON.stringify(got.ticks)}, want ${JSON.stringify(ticks)}`);
      assert(got.cells.length === ws.layers.length * ws.ids.length, `${stat}: ${got.cells.length} cells`);
      let worst = 0;
      for (const c of got.cells) {
        const v = valueOf(ws.layers[c.l], c.p);
        worst = Math.max(worst, Math.abs(c.v - v));
        assert(Math.abs(c.v - v) <= tol, `${stat} at h${c.l} p${c.p}: panel ${c.v}, CLI ${v}`);
        if (c.excluded) continue; // dimmed specials carry no heat fill (checked below)
        const fill = fixtures.colorAt(fixtures.scaleOf(stat, v, domain));
        assert(sameColor(c.bg, fill), `${stat} at h${c.l} p${c.p}: fill ${c.bg}, want ${fill} for ${v}`);
      }
      log(`  ${stat}: ${got.cells.length} cells match the CLI (max |Δ| ${worst.toExponential(1)}), legend ${got.ticks.join(' | ')}`);
      return got;
    };
    const g = await checkStat('logp', (L, p) => L.inputLogProb[p], 1e-4);
    assert(g.swatches.length === 9 && new Set(g.swatches).size === 9, `legend swatches ${g.swatches}`);
    // Specials: dimmed, no mark; every other cell is marked ✓ (top-1 is the input) or ≠.
    const special = new Set(ws.special.flatMap((x, p) => (x ? [p] : [])));
    assert(special.size === 2, `special positions ${[...special]}`);
    for (const c of g.cells) {
      if (special.has(c.p)) assert(c.excluded && c.mark === '' && c.bg === 'rgba(0, 0, 0, 0)' && /gradient/.test(c.image), `special cell h${c.l} p${c.p}: ${JSON.stringify(c)}`);
      else assert(c.mark === (ws.layers[c.l].top1[c.p] === ws.ids[c.p] ? '✓' : '≠'), `mark at h${c.l} p${c.p}: ${c.mark}`);
    }
    const last = ws.layers.length - 1;
    const hits = g.cells.filter((c) => c.l === last && c.mark === '✓').length;
    const counted = ws.ids.length - special.size;
    const acc = `${((hits / counted) * 100).toFixed(1)}%`;
    assert(g.summaryLast === acc && acc === `${(want.summary[last].accuracy * 100).toFixed(1)}%`, `final accuracy shown ${g.summaryLast}, ✓ marks give ${acc}, CLI ${want.summary[last].accuracy}`);
    log(`  final layer: ${hits} ✓ of ${counted} counted positions = ${acc}; specials at ${[...special]} dimmed`);
    const settle = await wv.locator('table.grid tfoot td.settle').evaluateAll((tds) => tds.map((td) => td.textContent));
    const wantSettle = fixtures.settleLayers(ws.layers).map((l) => `h${l}`);
    assert(JSON.stringify(settle) === JSON.stringify(wantSettle), `"settles" row ${settle}, from the CLI's top-1s ${wantSettle}`);
    log(`  where the final top-1 first appears and stays: ${settle.join(' ')}`);
    await checkStat('rank', (L, p) => L.rank[p], 0);
    await checkStat('p', (L, p) => Math.exp(L.inputLogProb[p]), 1e-5);
    await checkStat('entropy', (L, p) => L.entropy[p], 1e-4);
    await checkStat('kl', (L, p) => L.kl[p], 1e-4);
    await checkStat('top1p', (L, p) => Math.exp(L.topKLogProbs[p][0]), 1e-5);
    // Token trajectories: follow the top-1 of a clicked cell, then a typed word.
    const table = () => wv.locator('table[data-testid="trajectory-table"] tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    const mp = ws.tokens.indexOf('mat');
    const top1 = ws.layers[0].top1[mp];
    await wv.locator(`table.grid td[data-l="0"][data-p="${mp}"]`).first().click();
    await wv.locator('vscode-button[data-action="follow-top1"]').click();
    await wv.locator('table[data-testid="trajectory-table"] caption', { hasText: `"${want.vocab[top1]}"` }).waitFor({ timeout: 30_000 });
    let rowsT = await table();
    let compared = 0;
    ws.layers.forEach((L, l) => L.topKIds.forEach((ids, p) => {
      const k = ids.indexOf(top1);
      if (k < 0) return;
      compared++;
      const cell = `${k + 1} (${fmtPct(Math.exp(L.topKLogProbs[p][k]))})`;
      assert(rowsT[l][p] === cell, `trajectory of "${want.vocab[top1]}" at h${l} p${p}: ${rowsT[l][p]}, CLI top-k gives ${cell}`);
    }));
    assert(compared >= 1 && rowsT[0][mp].startsWith('1 ('), `followed top-1: ${rowsT[0][mp]}`);
    log(`  trajectory of "${want.vocab[top1]}" (top-1 at h0 over "mat"): ${compared} cells agree with the CLI's top-k; at "mat": ${rowsT.map((r) => r[mp]).join(' | ')}`);
    await wv.locator('#follow-word').fill('cat');
    await wv.locator('#follow-word').press('Enter');
    await wv.locator('table[data-testid="trajectory-table"] caption', { hasText: '"cat"' }).waitFor({ timeout: 30_000 });
    rowsT = await table();
    const cp = ws.tokens.indexOf('cat');
    ws.layers.forEach((L, l) => {
      const cell = `${L.rank[cp]} (${fmtPct(Math.exp(L.inputLogProb[cp]))})`;
      assert(rowsT[l][cp] === cell, `trajectory of "cat" at h${l}: ${rowsT[l][cp]}, CLI ${cell}`);
    });
    const paths = await wv.locator('.trajectory-chart svg path').count();
    assert(paths === ws.ids.length, `${paths} trajectory lines for ${ws.ids.length} positions`);
    log(`  trajectory of "cat" at its own position: ${rowsT.map((r) => r[cp]).join(' | ')} (= CLI rank and p(input))`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'trajectory-dark.png'), fullPage: true });
    // The trajectory as an SVG for a paper: the host draws the one it computed, named.
    const svgTarget = path.join(WS, 'ui-trajectory.svg');
    await saveThroughDialog(page, wv.locator('.trajectory-chart vscode-button[data-export="trajectory-svg"]'), svgTarget, 'svg');
    const svg = fs.readFileSync(svgTarget, 'utf8');
    assert(/Trajectory of &quot;cat&quot; · [^·<]+ · plan 0-3</.test(svg), `trajectory SVG title: ${svg.slice(0, 300)}`);
    assert((svg.match(/<path /g) ?? []).length === ws.ids.length, 'one trajectory line per position in the SVG');
    fs.rmSync(svgTarget, { force: true });
    await pickStatistic(wv, 'rank');
    assert(V === 30522 || sampleDir !== path.join(ROOT, 'models/reference-bert-mini'), `vocab ${V}`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'heatmap-rank-dark.png') });
    await pickStatistic(wv, 'logp');
  });

  await check('ui: summary, chart and sentences views render', async () => {
    const wv = webview(page);
    await wv.locator('button[data-view="chart"]').click();
    await wv.locator('figure.chart svg').first().waitFor({ timeout: 10_000 });
    const paths = await wv.locator('figure.chart svg path').count();
    assert(paths === 2, `chart has ${paths} lines`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'chart-dark.png') });
    await wv.locator('button[data-view="layers"]').click();
    await wv.locator('table.grid').first().waitFor();
  });

  await check('ui: state survives hide and show of the panel', async () => {
    await runCommand(page, 'Layer Lens: Open Sample Model');
    await page.locator('.monaco-editor .view-lines', { hasText: 'num_hidden_layers' }).first().waitFor({ timeout: 20_000 });
    // The panel is hidden now (same editor group). Bring it back.
    await page.locator('.tabs-container .tab', { hasText: 'Layer Lens' }).first().click();
    const g = await gridOf(page, sentence);
    assert(g.rows > 1, 'grid not restored');
  });

  await check('ui: the panel comes back with the same table after a window reload (WebviewPanelSerializer)', async () => {
    const before = await gridOf(page, sentence);
    await page.reload();
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    const tab = page.locator('.tabs-container .tab', { hasText: 'Layer Lens' }).first();
    await tab.waitFor({ timeout: 60_000 });
    await tab.click();
    // The restored panel keeps its last view; this check is about the table, so open that view.
    await webview(page).locator('[role="tab"]', { hasText: 'Layers' }).first().click({ timeout: 30_000 });
    const after = await gridOf(page, sentence);
    assert(after.rows === before.rows, `rows ${before.rows} → ${after.rows}`);
    assert(JSON.stringify(after.tokens) === JSON.stringify(before.tokens), `tokens ${JSON.stringify(before.tokens)} → ${JSON.stringify(after.tokens)}`);
    assert(JSON.stringify(after.rowHeaders) === JSON.stringify(before.rowHeaders), `row headers ${before.rowHeaders} → ${after.rowHeaders}`);
    assert(JSON.stringify(after.cells) === JSON.stringify(before.cells), 'cell contents differ after the reload');
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'tiny-bert' }).first().waitFor({ timeout: 30_000 });
    // code-server restores a different dark theme after a reload; go back to Dark Modern so the later "-dark" screenshots match.
    await switchTheme(page, 'Dark Modern', 'vs-dark');
  });

  await check('ui: "Layer Lens: Probe Selected Text" probes the sentence selected in an editor', async () => {
    const text = 'The cat sat on the mat.'; // notes.txt
    const want = fixtures.expected(sampleDir, text);
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: /^notes\.txt$/ }).first().dblclick();
    const lines = page.locator('.monaco-editor .view-lines', { hasText: 'The cat sat' }).first();
    await lines.waitFor({ timeout: 15_000 });
    await lines.click();
    await page.keyboard.press('Control+A');
    await page.locator('.monaco-editor .selected-text').first().waitFor({ timeout: 5_000 });
    await page.keyboard.press('F1');
    const w = await quickInput(page);
    await page.keyboard.type('Layer Lens: Probe Selected Text', { delay: 5 });
    const row = w.locator('.quick-input-list .monaco-list-row[aria-label^="Layer Lens: Probe Selected Text"]').first();
    await row.waitFor({ timeout: 15_000 });
    await row.click();
    await pickItem(page, 'embedded sample model');
    const g = await gridOf(page, text);
    assert(g.rows === want.rows, `expected ${want.rows} rows, got ${g.rows}`);
    assert(JSON.stringify(g.tokens) === JSON.stringify(want.tokens), `tokens ${JSON.stringify(g.tokens)} != ${JSON.stringify(want.tokens)}`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'selection-dark.png') });
  });

  await check('ui: hover on num_hidden_layers in config.json explains it, with derived facts', async () => {
    // The reload does not always restore the config.json tab; open it again then.
    const configTab = page.locator('.tabs-container .tab', { hasText: 'config.json' }).first();
    if (!(await configTab.count())) await runCommand(page, 'Layer Lens: Open Sample Model');
    await configTab.click();
    const key = page.locator('.monaco-editor .view-lines span', { hasText: 'num_hidden_layers' }).last();
    await key.waitFor({ timeout: 15_000 });
    const lens = page.locator('.monaco-editor .codelens-decoration', { hasText: 'Probe layers' });
    await lens.first().waitFor({ timeout: 15_000 });
    await key.hover();
    const hover = page.locator('.monaco-hover', { hasText: 'head size' });
    await hover.first().waitFor({ state: 'visible', timeout: 15_000 });
    const text = await hover.first().innerText();
    assert(/num_hidden_layers/.test(text) && /parameters/.test(text), `hover text: ${text}`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'hover-dark.png') });
    await page.mouse.move(5, 5);
    await page.keyboard.press('Escape');
  });

  await check('ui: explorer menu offers "Probe Layers…" on a model folder, its config.json and model.safetensors, not elsewhere', async () => {
    const row = (name) => page.locator('.explorer-folders-view .monaco-list-row', { hasText: new RegExp(`^${name.replace(/\./g, '\\.')}$`) }).first();
    const menu = page.locator('.context-view .monaco-menu');
    const offers = async (name) => {
      await row(name).click({ button: 'right' });
      await menu.waitFor({ timeout: 10_000 });
      await page.waitForTimeout(150);
      const n = await menu.locator('.action-label', { hasText: 'Probe Layers…' }).count();
      await page.keyboard.press('Escape');
      await menu.waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => {});
      return n;
    };
    const toggle = async (folder, child) => {
      await row(folder).click();
      await row(child).waitFor({ timeout: 10_000 }).catch(() => {});
    };
    const seen = {};
    seen['tiny-bert/'] = await offers('tiny-bert');
    seen['other/'] = await offers('other');
    await toggle('tiny-bert', 'model.safetensors');
    seen['tiny-bert/config.json'] = await offers('config.json');
    seen['tiny-bert/model.safetensors'] = await offers('model.safetensors');
    seen['tiny-bert/vocab.txt'] = await offers('vocab.txt');
    await row('tiny-bert').click(); // collapse, so that the only config.json left is other's
    await row('model.safetensors').waitFor({ state: 'detached', timeout: 5_000 });
    await toggle('other', 'config.json');
    seen['other/config.json'] = await offers('config.json');
    await row('other').click();
    log(`  "Probe Layers…" offered: ${JSON.stringify(seen)}`);
    const want = { 'tiny-bert/': 1, 'other/': 0, 'tiny-bert/config.json': 1, 'tiny-bert/model.safetensors': 1, 'tiny-bert/vocab.txt': 0, 'other/config.json': 0 };
    assert(JSON.stringify(seen) === JSON.stringify(want), `offered ${JSON.stringify(seen)}, want ${JSON.stringify(want)}`);
  });

  await check('ui: XSS tokens render as text (no img element, no alert)', async () => {
    const text = 'the <img src=x onerror=alert(1)> cat </script> dog';
    await runCommand(page, 'Layer Lens: Probe Layers…');
    await pickItem(page, 'xss-bert');
    await typeSentence(page, text);
    const g = await gridOf(page, 'dog');
    assert(g.tokens.includes('<img src=x onerror=alert(1)>'), `tokens: ${JSON.stringify(g.tokens)}`);
    assert(g.tokens.includes('</script>'), `tokens: ${JSON.stringify(g.tokens)}`);
    assert(g.imgs === 0, `${g.imgs} img elements in the webview`);
    await page.waitForTimeout(500);
    assert(dialogs.length === 0, `dialogs opened: ${dialogs}`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'xss-dark.png') });
  });

  await check('ui: a long input: clamped text, overview with the cut marked, sticky layer column and token header', async () => {
    const words = 'the cat sat on the mat and the dog ran to a big red house then went out again at night'.split(' ');
    const text = Array.from({ length: 700 }, (_, k) => words[(k * 5) % words.length]).join(' ');
    const full = fixtures.expected(sampleDir, text).tokens.length;
    const kept = 128; // the default layer-lens.maxTokens, below the model's 512 positions
    // The layout is measured against the webview's height: a terminal panel left open by an
    // earlier task (the UI phase restores the host phase's layout) halves it, so hide it first.
    await hidePanel(page);
    await runCommand(page, 'Layer Lens: Probe Layers…');
    await pickItem(page, 'embedded sample model');
    const w = await quickInput(page);
    await w.locator('.quick-input-title', { hasText: 'probe' }).waitFor({ timeout: 20_000 });
    await page.keyboard.insertText(text);
    await w.locator('.quick-input-list .monaco-list-row', { hasText: 'probe this text' }).first().waitFor({ timeout: 10_000 });
    await page.keyboard.press('Enter');
    const wv = webview(page);
    const note = wv.locator('[data-testid="truncation"]');
    await note.waitFor({ timeout: 60_000 });
    const noteText = await note.textContent();
    assert(noteText.includes(`first ${kept} of ${full} tokens`), `truncation note: ${noteText} (want ${kept} of ${full})`);
    const ov = await wv.locator('[data-testid="overview"] svg').evaluate((svg) => ({
      rects: svg.querySelectorAll('rect').length, cut: svg.querySelector('line.cut') !== null,
      label: [...svg.querySelectorAll('text')].map((t) => t.textContent), aria: svg.getAttribute('aria-label'),
    }));
    const rows = fixtures.expected(sampleDir, 'x').rows;
    assert(ov.rects === kept * rows, `overview has ${ov.rects} cells, want ${kept * rows}`);
    assert(ov.cut && ov.label.includes(`cut at ${kept}/${full}`), `overview cut mark: ${JSON.stringify(ov)}`);
    const lay = await wv.locator('[data-testid="grid-scroll"]').evaluate(async (box) => {
      const doc = box.ownerDocument;
      const sentenceH = doc.querySelector('[data-testid="sentence"]').getBoundingClientRect().height;
      const lineH = parseFloat(doc.defaultView.getComputedStyle(doc.querySelector('[data-testid="sentence"]')).lineHeight) || 20;
      const top0 = box.getBoundingClientRect().top;
      // Five rows fit the panel; a short box (as in a small editor group) makes it scroll down too.
      box.style.maxHeight = '140px';
      box.scrollLeft = 3000;
      box.scrollTop = 60;
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      const b = box.getBoundingClientRect();
      const head = [...box.querySelectorAll('thead th.tok')].find((th) => { const r = th.getBoundingClientRect(); return r.left > b.left + 80 && r.right < b.right; });
      const rowHead = box.querySelector('tbody tr:nth-child(3) th');
      const lastHead = box.querySelector('thead th.tok:last-child');
      return {
        sentenceLines: sentenceH / lineH, gridTop: top0, viewport: doc.defaultView.innerHeight,
        scrolled: [box.scrollLeft, box.scrollTop],
        headTopGap: head ? head.getBoundingClientRect().top - b.top : NaN,
        rowHeadLeftGap: rowHead.getBoundingClientRect().left - b.left,
        cutClass: lastHead.classList.contains('cut'),
      };
    });
    log(`  long input: ${JSON.stringify(lay)}`);
    assert(lay.sentenceLines <= 2.6, `the input text takes ${lay.sentenceLines.toFixed(1)} lines`);
    assert(lay.gridTop < lay.viewport * 0.75, `the grid starts at ${lay.gridTop}px of ${lay.viewport}`);
    assert(lay.scrolled[0] > 0 && lay.scrolled[1] > 0, `the grid did not scroll: ${lay.scrolled}`);
    assert(Math.abs(lay.headTopGap) <= 1.5, `token header moved ${lay.headTopGap}px from the top while scrolling`);
    assert(Math.abs(lay.rowHeadLeftGap) <= 1.5, `layer column moved ${lay.rowHeadLeftGap}px from the left while scrolling`);
    assert(lay.cutClass, 'the last column is not marked as the cut');
    await page.screenshot({ path: path.join(ARTIFACTS, 'long-input-dark.png') });
  });

  await check('ui: the "Sub-layers (h·attn)" toggle probes again with the after-attention rows, which equal the CLI\'s --sublayers', async () => {
    await runCommand(page, 'Layer Lens: Probe Layers…');
    await pickItem(page, 'embedded sample model');
    await typeSentence(page, sentence);
    const wv = webview(page);
    // The long input's run (the test before) has the toggle too: wait for this sentence's grid,
    // or a loaded machine clicks the toggle of the previous run.
    const typed = fixtures.expected(sampleDir, sentence);
    const g = await pollUntil(() => gridOf(page), (x) => x.rows === typed.rows && JSON.stringify(x.tokens) === JSON.stringify(typed.tokens), 60_000);
    assert(JSON.stringify(g.tokens) === JSON.stringify(typed.tokens), `the new probe did not show: tokens ${JSON.stringify(g.tokens)}`);
    await wv.locator('[data-testid="sublayer-toggle"]').waitFor({ timeout: 60_000 });
    await pickStatistic(wv, 'logp');
    await wv.locator('[data-testid="sublayer-toggle"]').click();
    await wv.locator('table.grid tbody th', { hasText: 'h1·attn' }).first().waitFor({ timeout: 60_000 });
    const want = cliReport(sampleDir, sentence, ['--sublayers']);
    const ws = want.sentences[0];
    const L = ws.layers.length - 1;
    const order = ['h0', ...Array.from({ length: L }, (_, l) => [`h${l + 1}·attn`, `h${l + 1}`]).flat()];
    const shown = await wv.locator('table.grid').first().evaluate((t) => ({
      heads: [...t.querySelectorAll('tbody th')].map((th) => th.textContent),
      cells: [...t.querySelectorAll('tbody td')].map((td) => ({ l: Number(td.dataset.l), p: Number(td.dataset.p), v: Number(td.dataset.v), text: td.textContent })),
      toggle: t.ownerDocument.querySelector('[data-testid="sublayer-toggle"]').checked,
    }));
    assert(JSON.stringify(shown.heads) === JSON.stringify(order), `row headers ${shown.heads}`);
    assert(shown.toggle, 'the toggle is not checked on the new run');
    const rows = order.map((label, r) => (label.endsWith('·attn') ? ws.sublayers[(r - 1) / 2] : ws.layers[r === 0 ? 0 : r / 2]));
    let worst = 0;
    for (const c of shown.cells) {
      const v = rows[c.l].inputLogProb[c.p];
      worst = Math.max(worst, Math.abs(c.v - v));
      assert(c.text.endsWith(want.vocab[rows[c.l].top1[c.p]]), `${order[c.l]} p${c.p}: "${c.text}", CLI top-1 ${want.vocab[rows[c.l].top1[c.p]]}`);
    }
    assert(worst < 1e-4 && shown.cells.length === order.length * ws.ids.length, `${shown.cells.length} cells, worst |Δ log p| ${worst}`);
    const summary = await wv.locator('table[data-testid="summary"] tbody th').allTextContents();
    assert(JSON.stringify(summary) === JSON.stringify(order), `summary rows ${summary}`);
    log(`  ${order.length} rows (${L} h·attn) × ${ws.ids.length} tokens equal the CLI's --sublayers (max |Δ log p| ${worst.toExponential(1)})`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'sublayers-dark.png'), fullPage: true });
    await wv.locator('[data-testid="sublayer-toggle"]').click();
    await pollUntil(() => wv.locator('table.grid tbody th', { hasText: '·attn' }).count(), (n) => n === 0, 10_000);
    assert(await wv.locator('table.grid tbody th', { hasText: '·attn' }).count() === 0, 'unchecking did not hide the h·attn rows');
  });

  await check('ui: masked-token mode: a typed [MASK] has no target, "Mask this word" and "Mask each token in turn" match the CLI', async () => {
    const text = 'the cat sat on the [MASK].';
    await runCommand(page, 'Layer Lens: Probe Layers…');
    await pickItem(page, 'embedded sample model');
    await typeSentence(page, text);
    const wv = webview(page);
    await wv.locator('[data-testid="mask-topk"]').first().waitFor({ timeout: 60_000 });
    const want = cliReport(sampleDir, text);
    const ws = want.sentences[0];
    const pos = ws.ids.indexOf(ws.ids.find((_, p) => ws.tokens[p] === '[MASK]'));
    const shown = await wv.locator('body').evaluate((body, p) => ({
      head: body.querySelector(`table.grid thead th[data-p="${p}"]`)?.textContent,
      marks: [...body.querySelectorAll(`table.grid td[data-p="${p}"] .mark`)].map((m) => m.textContent),
      topk: [...body.querySelectorAll('[data-testid="mask-topk"] tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
      summaryCount: body.querySelector('table[data-testid="summary"] caption')?.textContent,
    }), pos);
    assert(shown.head === '[MASK]=?', `mask header ${shown.head}`);
    assert(shown.marks.every((m) => m === '?') && shown.marks.length === ws.layers.length, `mask marks ${shown.marks}`);
    const fmt = fmtPct;
    ws.layers.forEach((L, l) => {
      const wantRow = L.topKIds[pos].map((id, k) => `${want.vocab[id]} ${fmt(Math.exp(L.topKLogProbs[pos][k]))}`);
      assert(JSON.stringify(shown.topk[l]) === JSON.stringify(wantRow), `h${l} top-k at the mask: ${JSON.stringify(shown.topk[l])}, CLI ${JSON.stringify(wantRow)}`);
    });
    assert(/over 6 positions/.test(shown.summaryCount), `summary caption: ${shown.summaryCount}`);
    log(`  [MASK] at token ${pos}: h4 top-k ${shown.topk.at(-1).join(', ')}`);

    // "Mask this word" on "cat" (token 2): the same as the CLI with --mask-gold cat on "the [MASK] sat on the [MASK]."
    await wv.locator('table.grid td[data-l="4"][data-p="2"]').first().click();
    await wv.locator('[data-testid="picked"]', { hasText: '"cat" (token 2)' }).waitFor({ timeout: 5_000 });
    await wv.locator('vscode-button[data-action="mask"]').click();
    await wv.locator('table.grid thead th[data-p="2"]', { hasText: '[MASK]=cat' }).waitFor({ timeout: 60_000 });
    const gold = cliReport(sampleDir, 'the [MASK] sat on the [MASK].', ['--mask-gold', 'cat']);
    const ms = await wv.locator('table[data-testid="mask-summary"] tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
    gold.maskSummary.forEach((x, l) => {
      const row = ms[l];
      const acc = `${(x.accuracy * 100).toFixed(1)}%`;
      const lp = x.meanLogProb.toFixed(2).replace(/^-/, '−');
      assert(row && row[2] === acc && row[3] === lp && row[4] === String(x.medianRank), `mask summary h${l}: ${row}, CLI ${acc} ${lp} ${x.medianRank}`);
    });
    log(`  "Mask this word" on cat: gold log p by layer ${ms.map((r) => r[3]).join(' ')}, rank ${ms.map((r) => r[4]).join(' ')} (= CLI --mask-gold cat)`);

    // "Mask each token in turn": its cost and per-layer PLL, as the CLI's --mask-each gives them.
    await wv.locator('vscode-button[data-action="pll"]').click();
    await wv.locator('[data-testid="pll-cost"]').waitFor({ timeout: 60_000 });
    const pll = cliReport(sampleDir, 'the [MASK] sat on the [MASK].', ['--mask-gold', 'cat', '--mask-each']);
    const cost = await wv.locator('[data-testid="pll-cost"]').textContent();
    assert(cost.includes(`${pll.pllCost.sequences} extra sequences, ${pll.pllCost.tokens} tokens`), `cost ${cost}, CLI ${JSON.stringify(pll.pllCost)}`);
    const sums = await wv.locator('[data-testid="pll-sums"]').textContent();
    const wantSums = pll.pllSummary.map((x) => `${x.label} ${(x.meanLogProb * x.count).toFixed(2).replace(/^-/, '−')}`).join(' · ');
    assert(sums === `PLL (sum of log p): ${wantSums}`, `PLL ${sums}, CLI ${wantSums}`);
    await pickStatistic(wv, 'logp');
    await wv.locator('vscode-single-select[aria-label="Grid"]').evaluate((el) => { el.value = 'pll'; el.dispatchEvent(new Event('change', { bubbles: true })); });
    await wv.locator('table.grid caption', { hasText: 'Each token masked in turn' }).waitFor({ timeout: 10_000 });
    const cells = await wv.locator('table.grid tbody td').evaluateAll((tds) => tds.map((td) => ({ l: Number(td.dataset.l), p: Number(td.dataset.p), v: Number(td.dataset.v) })));
    let n = 0;
    for (const c of cells) {
      const v = pll.sentences[0].pll[c.l].inputLogProb[c.p];
      if (v === null || Number.isNaN(v) || typeof v === 'string') continue;
      n++;
      assert(Math.abs(c.v - v) < 1e-4, `masked-in-turn h${c.l} p${c.p}: ${c.v}, CLI ${v}`);
    }
    assert(n === pll.pllCost.sequences * ws.layers.length, `${n} masked-in-turn cells compared`);
    log(`  mask each in turn: ${cost.trim()} · ${sums}`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'masked-dark.png'), fullPage: true });
  });

  await check('ui: cancel in the progress notification stops a long corpus run', async () => {
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: /^corpus\.txt$/ }).first().click({ button: 'right' });
    const item = page.locator('.context-view .monaco-menu .action-label', { hasText: 'Probe Corpus File…' });
    await item.waitFor({ timeout: 10_000 });
    await page.waitForTimeout(200); // the menu animates in; a click during that can be lost
    await item.click();
    if (await page.locator('.context-view .monaco-menu').isVisible().catch(() => false)) await page.keyboard.press('Enter');
    await pickItem(page, 'slow-bert');
    const toast = page.locator('.notification-toast', { hasText: 'probing slow-bert' });
    await toast.locator('.notification-list-item-message', { hasText: 'sentences' }).waitFor({ timeout: 30_000 });
    const t = Date.now();
    await toast.locator('a.monaco-button, .monaco-button', { hasText: 'Cancel' }).first().click();
    await toast.waitFor({ state: 'detached', timeout: 5_000 });
    const ms = Date.now() - t;
    // Batches finished before the cancel are kept as a partial run (a notification says so, the run
    // label says PARTIAL); with none finished it is a plain cancel in the status bar.
    const partial = page.locator('.notification-toast', { hasText: /cancelled after \d+ of \d+ sentences/ });
    const plain = page.locator('.statusbar', { hasText: 'probe cancelled' });
    await partial.or(plain).first().waitFor({ timeout: 5_000 });
    if (await partial.isVisible()) {
      const text = await partial.first().innerText();
      const [, kept, total] = /cancelled after (\d+) of (\d+) sentences/.exec(text);
      const label = await webview(page).locator('vscode-option[selected]', { hasText: 'PARTIAL' }).first().textContent({ timeout: 10_000 });
      assert(label.includes(`${kept} sentences of ${total}, PARTIAL (cancelled)`), `run label ${label}`);
      assert(Number(kept) > 0 && Number(kept) < Number(total), text);
      log(`  UI cancel: notification gone ${ms} ms after the click; kept ${kept} of ${total} sentences as a partial run`);
    } else {
      log(`  UI cancel: notification gone ${ms} ms after the click; nothing had finished`);
    }
    assert(ms < 1500, `cancel took ${ms} ms`);
  });

  await check('ui: Sentences table: per-sentence accuracy at two layers matches the CLI, sorts by Δ, filters by text', async () => {
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: /^short-corpus\.txt$/ }).first().click({ button: 'right' });
    const item = page.locator('.context-view .monaco-menu .action-label', { hasText: 'Probe Corpus File…' });
    await item.waitFor({ timeout: 10_000 });
    await page.waitForTimeout(200);
    await item.click();
    if (await page.locator('.context-view .monaco-menu').isVisible().catch(() => false)) await page.keyboard.press('Enter');
    await pickItem(page, 'embedded sample model');
    const wv = webview(page);
    await wv.locator('vscode-option[selected]', { hasText: '3 sentences (corpus)' }).first().waitFor({ state: 'attached', timeout: 60_000 });
    await wv.locator('button[data-view="sentences"]').click();
    const table = wv.locator('table[data-testid="sentences"]');
    await table.waitFor({ timeout: 10_000 });
    const texts = fs.readFileSync(path.join(WS, 'short-corpus.txt'), 'utf8').trim().split('\n');
    // The CLI's per-sentence rows: accuracy at h0 and at the final layer, and the change.
    const want = new Map(texts.map((t) => {
      const row = cliReport(sampleDir, t).rows[0];
      const acc = (l) => row.hits[l] / row.n;
      const L = row.hits.length - 1;
      return [t, { a: `${(acc(0) * 100).toFixed(0)}%`, b: `${(acc(L) * 100).toFixed(0)}%`, d: acc(L) - acc(0) }];
    }));
    const rows = () => table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    const byText = await rows();
    assert(byText.length === 3, `${byText.length} rows`);
    for (const r of byText) {
      const w = want.get(r[1]);
      assert(w && r[3] === w.a && r[4] === w.b, `row ${JSON.stringify(r)} vs CLI ${JSON.stringify(w)}`);
    }
    await table.locator('th[data-sort="delta"]').click();
    await table.locator('th[data-sort="delta"][aria-sort="descending"]').waitFor({ timeout: 5_000 });
    const sorted = (await rows()).map((r) => want.get(r[1]).d);
    assert(sorted.every((d, i) => i === 0 || sorted[i - 1] >= d), `Δ not descending: ${sorted}`);
    const word = texts[1].split(' ')[1];
    await wv.locator('[data-testid="sentence-filter"]').fill(word);
    await wv.locator('[data-testid="sentence-count"]', { hasText: `match "${word}"` }).waitFor({ timeout: 5_000 });
    const filtered = await rows();
    assert(filtered.length >= 1 && filtered.length < 3 && filtered.every((r) => r[1].includes(word)), `filter "${word}": ${JSON.stringify(filtered)}`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'sentences-dark.png') });
    await wv.locator('[data-testid="sentence-filter"]').fill('');
    await wv.locator('button[data-view="layers"]').click();
  });

  await check('ui: light theme; "Probe with Layer Plan…" compares the original with a deepened plan', async () => {
    await switchTheme(page, 'Light Modern', 'vs');
    await runCommand(page, 'Layer Lens: Probe with Layer Plan…');
    await pickItem(page, 'embedded sample model');
    const w = await quickInput(page);
    await w.locator('.quick-input-title', { hasText: 'layer plan' }).waitFor({ timeout: 15_000 });
    await page.keyboard.press('Enter'); // the suggested plan: the last layer twice
    await typeSentence(page, sentence);
    const wv = webview(page);
    await wv.locator('table[data-testid="compare"]').first().waitFor({ timeout: 60_000 });
    const rows = await wv.locator('table[data-testid="compare"] tbody tr').count();
    const want = fixtures.expected(sampleDir, sentence).rows;
    assert(rows === want + 1, `compare table has ${rows} rows, want ${want + 1}`);
    const isLight = await wv.locator('body').evaluate((b) => b.classList.contains('vscode-light'));
    assert(isLight, 'the webview did not switch to the light theme');
    await page.screenshot({ path: path.join(ARTIFACTS, 'compare-light.png'), fullPage: true });
    // The per-token difference grid: one row per pair of states lined up by source (the repeated
    // last layer has no partner in the original), and Δ 0 wherever both ran the same layers.
    const diffRows = await wv.locator('table[data-testid="diff-grid"] tbody tr').count();
    assert(diffRows === want, `difference grid has ${diffRows} rows, want ${want}`);
    const firstRow = await wv.locator('table[data-testid="diff-grid"] tbody tr').first().locator('td').evaluateAll((tds) => tds.map((td) => Number(td.getAttribute('data-v'))));
    assert(firstRow.length > 0 && firstRow.every((v) => v === 0), `h0 differs between the original and the deepened plan: ${firstRow}`);
    await wv.locator('table[data-testid="diff-grid"]').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(ARTIFACTS, 'compare-diff-light.png') });
    // Swap A ↔ B: the baseline becomes A, and Δ changes sign.
    const before = await wv.locator('table[data-testid="compare"] caption').innerText();
    await wv.locator('vscode-button[data-testid="swap-baseline"]').click();
    await wv.locator('table[data-testid="compare"] caption', { hasNotText: before }).waitFor({ timeout: 10_000 });
    const swapped = await wv.locator('table[data-testid="diff-grid"] tbody tr').last().locator('td').evaluateAll((tds) => tds.map((td) => Number(td.getAttribute('data-v'))));
    assert(swapped.some((v) => v !== 0), 'the final layers do not differ after the swap');
    await wv.locator('vscode-button[data-testid="swap-baseline"]').click();
    await wv.locator('button[data-view="layers"]').click();
    await wv.locator('table.grid td[data-l="1"][data-p="2"]').first().hover();
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(ARTIFACTS, 'panel-light.png') });
    await wv.locator('button[data-view="chart"]').click();
    await wv.locator('figure.chart svg').first().waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, 'chart-light.png') });
  });

  await check('ui: "Show Fine-tune Results…" renders the comparison table, baseline against deepened', async () => {
    await runCommand(page, 'Layer Lens: Show Fine-tune Results…');
    await pickItem(page, 'e2e-run');
    const wv = webview(page);
    const table = wv.locator('table[data-testid="finetune"]');
    await table.first().waitFor({ timeout: 30_000 });
    const t = await table.first().evaluate((el) => ({
      headers: [...el.querySelectorAll('thead th')].map((th) => th.textContent),
      rows: [...el.querySelectorAll('tbody tr')].map((tr) => ({
        name: tr.querySelector('th[scope="row"]')?.textContent,
        role: tr.getAttribute('data-role'),
        cells: [...tr.querySelectorAll('td')].map((td) => td.textContent),
        up: [...tr.querySelectorAll('td.up')].length,
      })),
      caption: el.querySelector('caption')?.textContent,
      tab: el.ownerDocument.querySelector('button[data-view="finetune"]')?.getAttribute('aria-selected'),
    }));
    // The 3-seed fixture (test/fixtures/finetune-seeds/README.md): mean ± sd over seeds, Δ paired by seed with its 95% t-interval.
    assert(t.rows.length === 2, `finetune table has ${t.rows.length} rows`);
    assert(t.rows[0].name === 'reference-bert-mini' && t.rows[0].role === 'baseline', `row 1: ${JSON.stringify(t.rows[0])}`);
    assert(t.rows[1].name === 'reference-bert-mini-deep' && t.rows[1].role === 'deepened', `row 2: ${JSON.stringify(t.rows[1])}`);
    assert(t.rows[1].cells.includes('0-3,3') && t.rows[1].cells.includes('63.9% ± 2.8') && t.rows[1].cells.includes('+4.7 pt [−19.0, +28.3]'), `deepened cells: ${t.rows[1].cells}`);
    assert(t.rows[1].cells.includes('−0.1287 [−0.2425, −0.0149]') && t.rows[1].cells.includes('3'), `deepened loss / seeds cells: ${t.rows[1].cells}`);
    assert(t.rows[0].cells.includes('59.2% ± 8.6') && t.rows[0].cells.includes('done'), `baseline cells: ${t.rows[0].cells}`);
    assert(t.rows[1].up === 1, `${t.rows[1].up} highlighted improvements (want only the loss: the accuracy and F1 intervals contain 0)`);
    assert(t.headers.includes('macro F1') && t.headers.includes('eval loss') && t.headers.includes('seeds'), `headers: ${t.headers}`);
    assert(t.tab === 'true', 'the Fine-tune tab is not selected');
    // Beside the open explorer all 13 columns fit: a mean's ± sd sits under it, as a Δ's interval does.
    const fit = await table.first().evaluate((el) => ({ table: el.scrollWidth, box: el.closest('.scroll').clientWidth }));
    log(`  fine-tune table: ${fit.table} px in ${fit.box} px`);
    assert(fit.table <= fit.box, `the fine-tune table scrolls sideways: ${fit.table} px in ${fit.box} px`);
    const verdict = await wv.locator('[data-testid="finetune-verdicts"] li').first().textContent();
    assert(/paired by seed over 3 seeds \(42, 43, 44\): \+4\.7 pt, 95% CI \[−19\.0, \+28\.3\] pt: no clear difference/.test(verdict ?? ''), `verdict: ${verdict}`);
    assert((await wv.locator('header vscode-badge').first().textContent()) === '6 runs · 6 done', 'heading count');
    const history = await wv.locator('table[data-testid="finetune-history"]').count();
    assert(history === 6, `${history} per-evaluation tables (2 models × 3 seeds)`);
    const curves = await wv.locator('svg[data-testid="finetune-curves"]').first().evaluate((svg) => ({
      paths: svg.querySelectorAll('path').length,
      strokes: [...new Set([...svg.querySelectorAll('path')].map((p) => svg.ownerDocument.defaultView.getComputedStyle(p).stroke))],
      titles: [...svg.querySelectorAll('text')].map((t) => t.textContent),
    }));
    assert(curves.paths === 16, `${curves.paths} curve paths (want 2 charts × (6 seeds + 2 means))`);
    assert(curves.strokes.length === 2, `model colours: ${curves.strokes}`);
    assert(curves.titles.includes('accuracy (%)') && curves.titles.includes('eval loss (nats)'), `axis titles: ${curves.titles}`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'finetune-light.png') });
    await wv.locator('svg[data-testid="finetune-curves"]').first().scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(ARTIFACTS, 'finetune-curves-light.png') });

    // The curves as figures: the SVG the host draws (export colours) and the webview's PNG of it.
    const svgTarget = path.join(WS, 'ui-curves.svg');
    const proposedSvg = await saveThroughDialog(page, wv.locator('figure.finetune-curves vscode-button[data-export="curves-svg"]'), svgTarget, 'svg');
    assert(/e2e-run-learning-curves\.svg$/.test(proposedSvg), `proposed ${proposedSvg}`);
    const svg = fs.readFileSync(svgTarget, 'utf8');
    const paths = svg.match(/<path /g)?.length ?? 0;
    assert(paths === 16 && svg.includes('fill="#ffffff"'), `exported curves: ${paths} paths (want 16), white background ${svg.includes('fill="#ffffff"')}`);
    // Every seed's last evaluation, as its results file says it, is a titled point of the accuracy chart.
    const fixtureDir = path.join(ROOT, 'test/fixtures/finetune-seeds');
    let points = 0;
    for (const model of fs.readdirSync(fixtureDir).filter((d) => fs.statSync(path.join(fixtureDir, d)).isDirectory())) {
      for (const seedDir of fs.readdirSync(path.join(fixtureDir, model))) {
        const r = JSON.parse(fs.readFileSync(path.join(fixtureDir, model, seedDir, 'results.json'), 'utf8'));
        const last = r.epochs.filter((e) => e.at === 'step').at(-1);
        const title = `${model} seed ${r.seed}, step ${last.step}: ${(last.accuracy * 100).toFixed(1)}%`;
        assert(svg.includes(`<title>${title}</title>`), `the exported curves lack the point "${title}"`);
        points++;
      }
    }
    assert(points === 6, `${points} seed runs in the fixture`);
    const pngTarget = path.join(WS, 'ui-curves.png');
    await saveThroughDialog(page, wv.locator('figure.finetune-curves vscode-button[data-export="curves-png"]'), pngTarget, 'png');
    const png = fs.readFileSync(pngTarget);
    const size = [png.readUInt32BE(16), png.readUInt32BE(20)];
    const svgSize = [Number(/ width="(\d+)"/.exec(svg)[1]), Number(/ height="(\d+)"/.exec(svg)[1])];
    assert(png.subarray(1, 4).toString() === 'PNG' && size[0] === 2 * svgSize[0] && size[1] === 2 * svgSize[1], `curves PNG ${size.join(' × ')}, SVG ${svgSize.join(' × ')}`);
    await wv.locator('p.status', { hasText: 'Saved learning curves PNG to' }).waitFor({ timeout: 10_000 });
    log(`  learning curves exported: SVG ${paths} paths, ${points} seeds' last points checked; PNG ${size.join(' × ')}`);
    fs.copyFileSync(pngTarget, path.join(ARTIFACTS, 'exported-curves.png'));
    fs.rmSync(svgTarget, { force: true });
    fs.rmSync(pngTarget, { force: true });
  });

  await check('ui: high-contrast theme: borders, mismatch marks, colour scale and focus outline are visible', async () => {
    await switchTheme(page, 'Dark High Contrast', 'hc-black');
    const wv = webview(page);
    await wv.locator('button[data-view="layers"]').click();
    await wv.locator('table.grid td[data-l="0"][data-p="1"]').first().click();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowRight');
    const hc = await wv.locator('table.grid').first().evaluate((grid) => {
      const doc = grid.ownerDocument;
      const win = doc.defaultView;
      const css = (el) => win.getComputedStyle(el);
      const probe = doc.createElement('span'); // resolves a theme variable to rgb()
      doc.body.appendChild(probe);
      const rgb = (v) => { probe.style.color = ''; probe.style.color = v; return css(probe).color; };
      const contrastBorder = rgb(css(doc.body).getPropertyValue('--vscode-contrastBorder').trim());
      const activeBorder = rgb(css(doc.body).getPropertyValue('--vscode-contrastActiveBorder').trim());
      const bg = css(doc.body).backgroundColor;
      probe.remove();
      const td = grid.querySelector('tbody td');
      const focused = doc.activeElement;
      const mark = grid.querySelector('td.miss:not(.excluded) .mark');
      const markCellBg = mark ? css(mark.closest('td')).backgroundColor : '';
      const swatches = [...doc.querySelectorAll('.scale .swatch')].map((s) => css(s).backgroundColor);
      const cellBgs = [...new Set([...grid.querySelectorAll('td.cell')].map((c) => css(c).backgroundColor))];
      const sw = doc.querySelector('.scale .swatch');
      return {
        bodyHc: doc.body.classList.contains('vscode-high-contrast'),
        contrastBorder, activeBorder, bg,
        tdBorder: css(td).borderRightColor, tdBorderWidth: css(td).borderRightWidth,
        thBorder: css(grid.querySelector('thead th')).borderTopColor, scaleBorder: css(sw.parentElement).borderTopColor,
        focusedIsCell: focused?.matches?.('td.cell') ?? false,
        outline: focused ? `${css(focused).outlineStyle} ${css(focused).outlineWidth} ${css(focused).outlineColor}` : '',
        outlineColor: focused ? css(focused).outlineColor : '',
        mark: mark ? { color: css(mark).color, cellBg: markCellBg, weight: css(mark).fontWeight, text: mark.textContent } : null,
        missDecoration: grid.querySelector('td.miss') ? css(grid.querySelector('td.miss')).textDecorationLine : '',
        swatches, cellBgs,
        tip: !doc.getElementById('tooltip')?.hidden,
      };
    });
    log(`  high contrast: ${JSON.stringify(hc)}`);
    assert(hc.bodyHc, 'the webview body has no vscode-high-contrast class');
    assert(hc.tdBorder === hc.contrastBorder && hc.thBorder === hc.contrastBorder, `cell borders ${hc.tdBorder}/${hc.thBorder}, want contrastBorder ${hc.contrastBorder}`);
    assert(hc.tdBorderWidth !== '0px', 'cells have no border');
    assert(hc.focusedIsCell && /^solid 2px /.test(hc.outline) && hc.outlineColor === hc.activeBorder && hc.outlineColor !== hc.bg, `focus outline: ${hc.outline} (want 2px ${hc.activeBorder})`);
    assert(hc.mark && hc.mark.text === '≠' && hc.mark.color !== hc.mark.cellBg && Number(hc.mark.weight) >= 700, `mismatch mark: ${JSON.stringify(hc.mark)}`);
    assert(/underline/.test(hc.missDecoration), `mismatched cells are not underlined (${hc.missDecoration})`);
    assert(new Set(hc.swatches).size === hc.swatches.length && hc.swatches.length === 9, `colour scale swatches not distinct: ${hc.swatches}`);
    assert(hc.scaleBorder === hc.contrastBorder, `legend scale border ${hc.scaleBorder}`);
    assert(hc.cellBgs.length > 4, `only ${hc.cellBgs.length} distinct cell fills`);
    assert(hc.tip, 'the focused cell shows no tooltip');
    await page.screenshot({ path: path.join(ARTIFACTS, 'panel-hc.png') });
    // Compare (with its difference grid) and the chart in high contrast, to be looked at.
    await wv.locator('button[data-view="compare"]').click();
    const diff = wv.locator('table[data-testid="diff-grid"]');
    if (await diff.count()) {
      await diff.scrollIntoViewIfNeeded();
      await page.screenshot({ path: path.join(ARTIFACTS, 'compare-diff-hc.png') });
    }
    await wv.locator('button[data-view="chart"]').click();
    await wv.locator('figure.chart svg').first().waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, 'chart-hc.png') });
    await wv.locator('button[data-view="layers"]').click();
  });

  await check('ui: the Fine-tune view in high contrast and dark: table and learning curves in theme colours', async () => {
    const wv = webview(page);
    const look = async (theme) => {
      await wv.locator('button[data-view="finetune"]').click();
      await wv.locator('svg[data-testid="finetune-curves"]').first().waitFor({ timeout: 15_000 });
      await wv.locator('table[data-testid="finetune"]').first().scrollIntoViewIfNeeded();
      await page.screenshot({ path: path.join(ARTIFACTS, `finetune-${theme}.png`) });
      await wv.locator('svg[data-testid="finetune-curves"]').first().scrollIntoViewIfNeeded();
      await page.screenshot({ path: path.join(ARTIFACTS, `finetune-curves-${theme}.png`) });
      return wv.locator('svg[data-testid="finetune-curves"]').first().evaluate((svg) => {
        const css = (el) => svg.ownerDocument.defaultView.getComputedStyle(el);
        return { strokes: [...new Set([...svg.querySelectorAll('path')].map((p) => css(p).stroke))], text: css(svg.querySelector('text')).fill, bg: css(svg.ownerDocument.body).backgroundColor };
      });
    };
    const hc = await look('hc');
    await switchTheme(page, 'Dark Modern', 'vs-dark');
    const dark = await look('dark');
    log(`  curves: hc ${JSON.stringify(hc)}, dark ${JSON.stringify(dark)}`);
    for (const c of [hc, dark]) {
      assert(c.strokes.length === 2 && !c.strokes.includes(c.bg), `curve colours ${c.strokes} on ${c.bg}`);
      assert(c.text !== c.bg, 'axis text has the background colour');
    }
    await wv.locator('button[data-view="layers"]').click();
  });

  await check('ui: "Export CSV" writes the cells CSV through the save dialog (L+1 rows per token)', async () => {
    const wv = webview(page);
    const g = await gridOf(page);
    const target = path.join(WS, 'ui-export-cells.csv');
    await saveThroughDialog(page, wv.locator('vscode-button[data-export="csv"]'), target, 'csv');
    const lines = fs.readFileSync(target, 'utf8').trimEnd().split('\n');
    assert(lines[0].startsWith('sentence,position,token,'), `CSV header: ${lines[0]}`);
    assert(lines.length - 1 === g.rows * g.tokens.length, `CSV has ${lines.length - 1} rows, want ${g.rows} × ${g.tokens.length}`);
    await wv.locator('p.status', { hasText: 'Saved CSV to' }).waitFor({ timeout: 10_000 });
    fs.rmSync(target, { force: true });
  });

  await check('ui: "Chart PNG" draws the chart and writes a PNG through the save dialog', async () => {
    const wv = webview(page);
    const target = path.join(WS, 'ui-chart.png');
    await wv.locator('button[data-view="chart"]').click();
    const proposed = await saveThroughDialog(page, wv.locator('figure.chart vscode-button[data-export="chart-png"]'), target, 'png');
    assert(/-chart\.png$/.test(proposed), `proposed ${proposed}`);
    const png = fs.readFileSync(target);
    assert(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), 'not a PNG');
    const width = png.readUInt32BE(16);
    const height = png.readUInt32BE(20);
    log(`  chart PNG ${width} × ${height}, ${png.length} bytes`);
    assert(width === 1280 && height > 800, `PNG is ${width} × ${height}`);
    await wv.locator('p.status', { hasText: 'Saved chart PNG to' }).waitFor({ timeout: 10_000 });
    fs.copyFileSync(target, path.join(ARTIFACTS, 'exported-chart.png'));
    fs.rmSync(target, { force: true });
  });

  await check('ui: no CSP violations in the webview', async () => {
    assert(cspViolations.length === 0, cspViolations.join('\n'));
  });
  await page.close();
}

/**
 * Clicks an export button and saves through code-server's simple file dialog (a quick input with
 * the path): waits for the proposed name to end in `.ext`, types `target`, and waits for the file.
 */
async function saveThroughDialog(page, button, target, ext) {
  fs.rmSync(target, { force: true });
  await button.click();
  const w = await quickInput(page);
  const input = w.locator('.quick-input-box input').first();
  await input.waitFor({ timeout: 10_000 });
  // The dialog fills in the folder first, then the proposed file name.
  let proposed = await input.inputValue();
  for (let i = 0; i < 30 && !proposed.endsWith(`.${ext}`); i++) {
    await page.waitForTimeout(100);
    proposed = await input.inputValue();
  }
  log(`  save dialog proposed: ${proposed}`);
  await input.fill(target);
  await page.waitForTimeout(400);
  await page.keyboard.press('Enter');
  const deadline = Date.now() + 10_000;
  while (!fs.existsSync(target) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert(fs.existsSync(target), `nothing written to ${target}`);
  return proposed;
}

async function main() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  if (!fs.existsSync(CODE_SERVER)) {
    console.error(`code-server is not installed (${CODE_SERVER}); run: bash scripts/install-e2e.sh`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  await build();
  const fixtures = require(path.join(RUN, 'out/fixtures.js'));
  fixtures.buildWorkspace(WS, ROOT);
  // The embedded sample, once its weights exist; until then a generated tiny checkpoint stands in.
  const realSample = path.join(ROOT, 'models/reference-bert-mini');
  const hasWeights = fs.existsSync(path.join(realSample, 'model.safetensors')) && fs.existsSync(path.join(realSample, 'config.json'));
  const sampleDir = hasWeights && !process.env.E2E_TINY_SAMPLE ? realSample : path.join(WS, 'tiny-bert');
  log(`sample model: ${sampleDir}`);
  const port = await freePort();
  const { chromium } = await import('playwright-core');
  let context;
  try {
    await startServer(port, sampleDir === realSample ? undefined : sampleDir);
    log(`code-server up on ${port}`);
    context = await chromium.launchPersistentContext(path.join(RUN, 'chromium'), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1440, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    await hostPhase(context, port);
    await uiPhase(context, port, fixtures, sampleDir);
  } catch (e) {
    results.push({ name: 'e2e harness', ok: false, error: e });
    log(`✗ harness: ${e?.stack ?? e}`);
  } finally {
    await context?.close().catch(() => {});
    stopServer();
  }
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s; screenshots in ${path.relative(ROOT, ARTIFACTS)}/`);
  for (const r of results.filter((x) => !x.ok)) console.log(`FAILED: ${r.name}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
}

process.on('SIGINT', () => { stopServer(); process.exit(130); });
process.on('SIGTERM', () => { stopServer(); process.exit(143); });
main();
