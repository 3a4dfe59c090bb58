// Browser end-to-end test of the web app served by the real server (`mcp-train serve`): headless
// Chromium through playwright-core, the app opened from the server, the server's API and the
// mcp-train CLI as the references.
//
//   scripts/web.sh e2e-server           # installs what it needs, then runs this
//   node tests/web/e2e-server.mjs       # dist/ built, npm ci done in tests/web, mcp-train built
//
// Environment: MCP_TRAIN_BIN (the binary, default target/debug/mcp-train then target/release),
// MCP_TRAIN_DIST (default dist/), CHROMIUM (default /usr/bin/chromium), E2E_KEEP=1 keeps the
// work directory (with the server's log), E2E_ONLY=regex runs only the matching tests (and what
// they need), E2E_SERVER_BIG=N sets the records of the export trained on the server (default
// 150000: training must take long enough for the progress to be seen).
//
// It finds its way only by the UI contract (docs/UI-CONTRACT.md, "With a server"): nav links,
// `data-testid` attributes and form field names. Ends with one line,
// `web e2e-server: N passed, M failed`; exits 1 on any failure.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  checkSide, runTests,
  DIST, ROOT, jobIds, launchBrowser, openPage, pickExport, run, sel, setField, startServe, waitJob,
} from './lib.mjs';

const SEED = 7;
const TOKEN = 'e2e-token-5e1f';
const BIG = Number(process.env.E2E_SERVER_BIG || 150_000);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-train-e2e-server-'));
let bin; // the binary, found in main()
let server; // the running `mcp-train serve`
const ctx = {}; // state handed from one test to the next

// ---- a tiny sequential runner: a test whose prerequisite failed fails as "not run" -------------

const tests = [];
const test = (name, fn, needs = []) => tests.push({ name, fn, needs });

// ---- console / page errors ---------------------------------------------------------------------

const problems = [];
// Errors a test provokes on purpose (a refused request logs one in the console); set by
// `expectingErrors` for the duration of one step.
let expected = [];
async function expectingErrors(patterns, fn) {
  expected = patterns;
  try {
    return await fn();
  } finally {
    // Console messages of the last request may arrive a moment after its answer.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expected = [];
  }
}
function watch(page) {
  const note = (kind, text, url = '') => {
    const line = `${kind}: ${text}${url ? ` (${url})` : ''}`;
    if (!expected.some((re) => re.test(line))) problems.push(line);
  };
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.location()?.url?.endsWith('/favicon.ico')) {
      note('console.error', m.text(), m.location()?.url);
    }
  });
  page.on('pageerror', (e) => note('page error', e.stack || e.message));
  page.on('crash', () => note('crash', 'the page crashed'));
  page.on('requestfailed', (r) => {
    // A download saved by the test shows as aborted; the event stream is closed by the app once
    // its job is done.
    if (!/^blob:|^data:/.test(r.url()) && !/\/events$/.test(r.url())) {
      note('request failed', `${r.url()} ${r.failure()?.errorText}`);
    }
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) note('HTTP', `${r.status()} ${r.url()}`);
  });
  page.on('worker', (w) => {
    w.on('console', (m) => {
      if (m.type() === 'error') note('worker console.error', m.text());
    });
  });
}

// ---- helpers -----------------------------------------------------------------------------------

const shared = {
  panel: '[data-testid=shared-models]',
  row: (v) => (v ? `[data-testid=shared-model-row][data-version="${v}"]` : '[data-testid=shared-model-row]'),
};

/** GET on the server's API from node (not through the page), with the token. */
async function api(route) {
  const r = await fetch(`${server.api}${route}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  const body = await r.text();
  assert.ok(r.ok, `GET /api${route}: ${r.status} ${body}`);
  return JSON.parse(body);
}

async function download(page, click, timeout = 120_000) {
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout }), click()]);
  const file = path.join(work, 'downloads', dl.suggestedFilename());
  await dl.saveAs(file);
  const failure = await dl.failure();
  assert.equal(failure, null, `download ${dl.suggestedFilename()} failed: ${failure}`);
  return { file, name: dl.suggestedFilename() };
}

/** Dismisses the notice on screen, runs `act`, and returns the next notice: { text, error }.
 *  `skip` matches notices that only say something is under way. */
async function notice(page, act, skip = /…$/) {
  const current = page.locator('[data-testid=notice]');
  if (await current.count()) {
    await current.locator('button').click();
    await current.waitFor({ state: 'detached' });
  }
  await act();
  const h = await page.waitForFunction((skip) => {
    const n = document.querySelector('[data-testid=notice] span');
    const text = n ? n.textContent.trim() : '';
    return text && !new RegExp(skip).test(text) ? text : null;
  }, skip.source, { timeout: 60_000 });
  const text = await h.jsonValue();
  const error = await page.locator('[data-testid=notice]').evaluate((n) => n.className.includes('error'));
  return { text, error };
}

async function serverState(page) {
  const status = page.locator('[data-testid=server-status]');
  await page.waitForFunction(() => {
    const s = document.querySelector('[data-testid=server-status]');
    return s && ['connected', 'error', 'off'].includes(s.getAttribute('data-state'));
  }, null, { timeout: 30_000 });
  return { state: await status.getAttribute('data-state'), text: (await status.textContent()).trim() };
}

/** Types the token in Settings (as a person would: type, leave the field) and waits for the
 *  connection. */
async function setToken(page, token) {
  await openPage(page, 'settings', 'settings-page');
  await page.$$eval('[data-testid=server-status]', (els) => els.forEach((el) => el.setAttribute('data-state', 'stale')));
  await setField(page, 'input[name=server-token]', token);
  const s = await serverState(page);
  assert.equal(s.state, 'connected', `after setting the token: ${s.text}`);
}

// ---- the tests ---------------------------------------------------------------------------------

test('the app served by the server connects to it (settings shows connected)', async ({ page }) => {
  await page.goto(server.url);
  await page.waitForSelector('[data-testid=dashboard-page]', { state: 'visible' });
  await openPage(page, 'settings', 'settings-page');
  assert.equal(await page.inputValue('input[name=server-url]'), '', 'no URL needed for the same-origin server');
  const s = await serverState(page);
  assert.equal(s.state, 'connected', `server-status: ${s.text}`);
  console.log(`    ${s.text}`);
  await openPage(page, 'models', 'models-page');
  await page.waitForSelector('[data-testid=local-models]', { state: 'visible' });
  await page.waitForSelector(shared.panel, { state: 'visible' });
  const boxes = await Promise.all(['local-models', 'shared-models']
    .map((t) => page.locator(`[data-testid=${t}]`).boundingBox()));
  assert.ok(Math.abs(boxes[0].y - boxes[1].y) < 5 && boxes[0].x < boxes[1].x,
    `the panels are not side by side at 1280 px: ${JSON.stringify(boxes)}`);
});

test('a model trained in the browser is listed as local', async ({ page }) => {
  await openPage(page, 'training', 'training-page');
  const r = await pickExport(page, ctx.export, { records: 2000 });
  assert.equal(r.valid, 'true', r.fileError || r.text);
  await setField(page, 'input[name=seed]', SEED);
  await page.waitForSelector(`${sel.start}:not([disabled])`);
  const before = await jobIds(page);
  await page.click(sel.start);
  const h = await page.waitForFunction(([before, rowSel]) => [...document.querySelectorAll(rowSel)]
    .map((r) => r.getAttribute('data-job-id')).find((id) => !before.includes(id)) || null,
  [before, sel.jobRow()]);
  const id = await h.jsonValue();
  const end = await waitJob(page, id, ['completed']);
  assert.equal(end.status, 'completed', `job ${id} ended ${end.status}: ${end.error || ''}`);
  const row = page.locator(sel.jobRow(id));
  assert.equal(await row.getAttribute('data-location'), 'local');
  ctx.local = (await row.locator('[data-testid=job-model-version]').textContent()).trim();
  assert.match(ctx.local, /^\d{8}_\d{6}$/);
  console.log(`    model ${ctx.local}`);
}, ['the app served by the server connects to it (settings shows connected)']);

test('sharing without the token shows a readable error', async ({ page }) => {
  await openPage(page, 'models', 'models-page');
  const row = page.locator(`[data-testid=local-models] ${sel.modelRow(ctx.local)}`);
  await row.waitFor();
  const n = await expectingErrors([/\b401\b/], () => notice(page, () => row.locator('button[data-testid=share-model]').click()));
  assert.ok(n.error, `the notice is not an error: ${n.text}`);
  assert.match(n.text, /token/i, `the message does not say a token is needed: ${n.text}`);
  assert.doesNotMatch(n.text, /undefined|\[object|JsValue/, `unreadable: ${n.text}`);
  console.log(`    ${n.text}`);
  assert.equal((await api('/models')).models.length, 0, 'the server registered a model without the token');
}, ['a model trained in the browser is listed as local']);

test('with the token, a shared model is listed in the shared panel and by the API', async ({ page }) => {
  await setToken(page, TOKEN);
  await openPage(page, 'models', 'models-page');
  const row = page.locator(`[data-testid=local-models] ${sel.modelRow(ctx.local)}`);
  const n = await notice(page, () => row.locator('button[data-testid=share-model]').click());
  assert.ok(!n.error, `share: ${n.text}`);
  const sharedRow = page.locator(shared.row(ctx.local));
  await sharedRow.waitFor();
  assert.equal(await sharedRow.getAttribute('data-local'), 'true');
  assert.equal(await sharedRow.locator('button[data-testid=import-shared]').count(), 0,
    'import-shared on a model this browser has');
  const versions = (await api('/models')).models.map((m) => m.version);
  assert.ok(versions.includes(ctx.local), `GET /api/models lists ${versions}`);
  // Sharing the same model again is harmless.
  const again = await notice(page, () => row.locator('button[data-testid=share-model]').click());
  assert.ok(!again.error, `sharing twice: ${again.text}`);
}, ['sharing without the token shows a readable error']);

test('the shared package downloads from the server and mcp-train verify accepts it', async ({ page }) => {
  await openPage(page, 'models', 'models-page');
  const row = page.locator(shared.row(ctx.local));
  await row.waitFor();
  const { file, name } = await download(page, () => row.locator('button[data-testid=download-shared-package]').click());
  assert.equal(name, `model_${ctx.local}_deployment.zip`);
  const v = run(bin, ['verify', file], { check: false });
  assert.equal(v.status, 0, `mcp-train verify exited ${v.status}:\n${v.stdout}${v.stderr}`);
  const m = await download(page, () => row.locator('button[data-testid=download-shared-model]').click());
  assert.equal(m.name, `model_${ctx.local}.json`);
  assert.equal(JSON.parse(fs.readFileSync(m.file, 'utf8')).version, ctx.local);
}, ['with the token, a shared model is listed in the shared panel and by the API']);

test('training on the server shows progress, completes and shares its model', async ({ page }) => {
  await openPage(page, 'training', 'training-page');
  const r = await pickExport(page, ctx.big, { records: BIG });
  assert.equal(r.valid, 'true', r.fileError || r.text);
  await setField(page, 'input[name=seed]', SEED);
  await setField(page, 'input[name=n_estimators]', 300);
  const button = 'button[data-testid=train-on-server]';
  await page.waitForSelector(`${button}:not([disabled])`);
  const before = await jobIds(page);
  const t0 = Date.now();
  await page.click(button);
  const h = await page.waitForFunction(([before, rowSel]) => [...document.querySelectorAll(rowSel)]
    .filter((r) => r.getAttribute('data-location') === 'server')
    .map((r) => r.getAttribute('data-job-id')).find((id) => !before.includes(id)) || null,
  [before, sel.jobRow()], { timeout: 120_000 });
  const id = await h.jsonValue();
  console.log(`    server job ${id} listed ${Date.now() - t0} ms after the click`);
  // Running with some progress, or already over.
  const seen = await (await page.waitForFunction((rowSel) => {
    const row = document.querySelector(rowSel);
    const status = row?.getAttribute('data-status');
    const bar = row?.querySelector('progress');
    const value = bar ? Number(bar.value) : 0;
    if (status === 'running' && value > 0) return { status, value };
    if (['completed', 'failed', 'cancelled'].includes(status)) return { status, value };
    return null;
  }, sel.jobRow(id), { timeout: 240_000, polling: 20 })).jsonValue();
  assert.equal(seen.status, 'running',
    `never saw the job running with progress > 0 (it went ${seen.status}; use a larger E2E_SERVER_BIG)`);
  console.log(`    running, progress ${(seen.value * 100).toFixed(0)}%`);
  const end = await waitJob(page, id, ['completed'], { timeout: 300_000 });
  assert.equal(end.status, 'completed', `job ${id} ended ${end.status}: ${end.error || ''}`);
  console.log(`    completed ${Date.now() - t0} ms after the click`);
  const version = (await page.locator(`${sel.jobRow(id)} [data-testid=job-model-version]`).textContent()).trim();
  assert.match(version, /^\d{8}_\d{6}$/);
  ctx.serverJob = id;
  ctx.serverModel = version;
  const job = await api(`/training/jobs/${id}`);
  assert.equal(job.status, 'completed');
  assert.equal(job.model?.version, version, 'the row shows the model the API names');
  assert.equal(job.params.seed, SEED, 'the form\'s seed reached the server');
  assert.equal(job.params.n_estimators, 300, 'the form\'s trees reached the server');
  assert.equal(job.file_name, 'export.json');
  await openPage(page, 'models', 'models-page');
  const row = page.locator(shared.row(version));
  await row.waitFor();
  assert.equal(await row.getAttribute('data-local'), 'false');
  assert.ok((await api('/models')).models.some((m) => m.version === version), 'GET /api/models lists it');
  // Its page shows the results as a browser job's does.
  await openPage(page, 'training', 'training-page');
  await page.click(`${sel.jobRow(id)} a[data-testid=job-link]`);
  await page.waitForSelector('[data-testid=job-details][data-status=completed]');
  await page.waitForSelector('svg[data-testid=plot-histogram]');
  assert.match(await page.locator('[data-testid=job-parameters]').innerText(), /300/);
}, ['with the token, a shared model is listed in the shared panel and by the API']);

test('a shared model imports into the browser and deploys on the server', async ({ page }) => {
  await openPage(page, 'models', 'models-page');
  const row = page.locator(shared.row(ctx.serverModel));
  await row.waitFor();
  const n = await notice(page, () => row.locator('button[data-testid=import-shared]').click());
  assert.ok(!n.error, `import: ${n.text}`);
  await page.waitForSelector(`[data-testid=local-models] ${sel.modelRow(ctx.serverModel)}`);
  await page.waitForSelector(`${shared.row(ctx.serverModel)}[data-local=true]`);
  const d = await notice(page, () => page.locator(`${shared.row(ctx.serverModel)} button[data-testid=deploy-shared]`).click());
  assert.ok(!d.error, `deploy: ${d.text}`);
  await page.waitForSelector(`${shared.row(ctx.serverModel)}[data-status=deployed]`);
  assert.equal(await page.locator(`${shared.row(ctx.serverModel)} button[data-testid=deploy-shared]`).count(), 0,
    'deploy-shared on the deployed model');
  assert.equal((await api('/models/deployed')).version, ctx.serverModel);
}, ['training on the server shows progress, completes and shares its model']);

test('a queued or running server job can be cancelled', async ({ page }) => {
  await openPage(page, 'training', 'training-page');
  const r = await pickExport(page, ctx.big, { records: BIG });
  assert.equal(r.valid, 'true', r.fileError || r.text);
  await setField(page, 'input[name=n_estimators]', 1000);
  const before = await jobIds(page);
  await page.click('button[data-testid=train-on-server]');
  const h = await page.waitForFunction(([before, rowSel]) => [...document.querySelectorAll(rowSel)]
    .map((r) => r.getAttribute('data-job-id')).find((id) => !before.includes(id)) || null,
  [before, sel.jobRow()], { timeout: 120_000 });
  const id = await h.jsonValue();
  const models = (await api('/models')).models.length;
  await page.click(`${sel.jobRow(id)} button[data-testid=cancel-job]`);
  const end = await waitJob(page, id, ['cancelled'], { timeout: 60_000 });
  assert.equal(end.status, 'cancelled', `job ${id} ended ${end.status} ${end.error || ''}`);
  assert.equal((await api(`/training/jobs/${id}`)).status, 'cancelled');
  assert.equal((await api('/models')).models.length, models, 'a cancelled job registered a model');
}, ['training on the server shows progress, completes and shares its model']);

test('after a reload the server jobs and shared models are listed again', async ({ page }) => {
  await page.reload();
  await openPage(page, 'training', 'training-page');
  await page.waitForSelector(`${sel.jobRow(ctx.serverJob)}[data-status=completed][data-location=server]`);
  await openPage(page, 'models', 'models-page');
  await page.waitForSelector(`${shared.row(ctx.serverModel)}[data-status=deployed]`);
}, ['training on the server shows progress, completes and shares its model']);

test('a wrong token shows a readable error', async ({ page }) => {
  await setToken(page, 'not-the-token');
  await openPage(page, 'models', 'models-page');
  const row = page.locator(`[data-testid=local-models] ${sel.modelRow(ctx.local)}`);
  await row.waitFor();
  const n = await expectingErrors([/\b401\b/], () => notice(page, () => row.locator('button[data-testid=share-model]').click()));
  assert.ok(n.error, `the notice is not an error: ${n.text}`);
  assert.match(n.text, /token/i, `the message does not name the token: ${n.text}`);
  console.log(`    ${n.text}`);
  await setToken(page, TOKEN);
}, ['the app served by the server connects to it (settings shows connected)']);

// ---- main --------------------------------------------------------------------------------------

/** The binary: $MCP_TRAIN_BIN, else debug, else release in $CARGO_TARGET_DIR or target/. */
function serverBin() {
  const target = path.resolve(ROOT, process.env.CARGO_TARGET_DIR || 'target');
  for (const c of [process.env.MCP_TRAIN_BIN,
    path.join(target, 'debug/mcp-train'), path.join(target, 'release/mcp-train')]) {
    if (c && fs.existsSync(c)) return c;
  }
  throw new Error('mcp-train not built: cargo build -p mcp-train (or set MCP_TRAIN_BIN)');
}

async function main() {
  const t0 = Date.now();
  bin = serverBin();
  console.log(`work directory ${work}\nmcp-train ${bin}`);
  fs.mkdirSync(path.join(work, 'downloads'));
  ctx.export = path.join(work, 'export.json');
  run(bin, ['synth', '-n', '2000', '--seed', String(SEED), '-o', ctx.export, '--quiet']);
  ctx.big = path.join(work, 'big', 'export.json');
  fs.mkdirSync(path.dirname(ctx.big));
  run(bin, ['synth', '-n', String(BIG), '--seed', String(SEED), '-o', ctx.big, '--quiet']);
  if (!fs.existsSync(path.join(DIST, 'index.html'))) {
    throw new Error(`${DIST}/index.html is missing: build the app first (scripts/web.sh build)`);
  }
  server = await startServe(bin, ['--data-dir', path.join(work, 'data'), '--dist', DIST, '--token', TOKEN],
    { logFile: path.join(work, 'server.log') });
  const browser = await launchBrowser();
  console.log(`mcp-train serve at ${server.url} · ${browser.version()}`);
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  watch(page);

  const result = await runTests(tests, { page, args: { page }, work, where: ` · server log ${server.log}` });

  checkSide('no console errors, page errors or failed requests (but the ones provoked on purpose)', problems, result);

  await browser.close();
  await server.close();
  if (result.failed === 0 && !process.env.E2E_KEEP) fs.rmSync(work, { recursive: true, force: true });
  else {
    fs.rmSync(path.dirname(ctx.big), { recursive: true, force: true }); // tens of MB, made again by synth
    console.log(`kept ${work}`);
  }
  console.log(`web e2e-server: ${result.passed.size} passed, ${result.failed} failed (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  process.exitCode = result.failed === 0 ? 0 : 1;
}

// A hung browser or server must not hang CI: give up after E2E_TIMEOUT seconds (default 900).
setTimeout(() => {
  console.log(`e2e-server timed out after ${process.env.E2E_TIMEOUT || 900} s (work directory ${work})`);
  console.log('web e2e-server: 0 passed, 1 failed');
  server?.child.kill('SIGKILL');
  process.exit(1);
}, 1000 * Number(process.env.E2E_TIMEOUT || 900)).unref();

main().catch((e) => {
  console.error(e);
  console.log('web e2e-server: 0 passed, 1 failed');
  server?.child.kill('SIGKILL');
  process.exit(1);
});
