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
// 150000: training must take long enough for the progress to be seen), E2E_EXPORT_SEED=N the
// synthetic anomalies stored for the export that is cancelled (default 200000).
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
  DIST, ROOT, jobIds, launchBrowser, openPage, pickExport, run, sel, setField, sha256, startServe, waitJob,
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
  // A token the app already holds (an earlier test typed it; it is remembered) changes nothing
  // when typed again, so no new connection state would come: only wait for the current one.
  if ((await page.inputValue('input[name=server-token]')) !== token) {
    await page.$$eval('[data-testid=server-status]', (els) => els.forEach((el) => el.setAttribute('data-state', 'stale')));
    await setField(page, 'input[name=server-token]', token);
  }
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

// ---- issue 14: the Anomalies page and the Detect page's "Save to server" ----------------------

/** A request to the server's API from node with the token; returns the parsed answer. */
async function apiSend(method, route, body, contentType = 'application/json') {
  const r = await fetch(`${server.api}${route}`, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': contentType },
    body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
  });
  const text = await r.text();
  assert.ok(r.ok, `${method} /api${route}: ${r.status} ${text}`);
  return JSON.parse(text);
}

/** Every stored anomaly the query selects, through every page. */
async function allAnomalies(query = '') {
  const items = [];
  let cursor = null;
  do {
    const q = [query, 'limit=1000', cursor ? `cursor=${encodeURIComponent(cursor)}` : ''].filter(Boolean).join('&');
    const page = await api(`/anomalies?${q}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

/** A synth export's records as NDJSON (one record a line: what POST /api/logs takes). */
function toNdjson(exportFile, out) {
  const doc = JSON.parse(fs.readFileSync(exportFile, 'utf8'));
  const records = Array.isArray(doc) ? doc : doc.data;
  assert.ok(Array.isArray(records) && records.length > 0, `no records in ${exportFile}`);
  fs.writeFileSync(out, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return records.length;
}

const anomalies = {
  row: (id) => (id == null ? '[data-testid=stored-anomaly-row]' : `[data-testid=stored-anomaly-row][data-id="${id}"]`),
  details: '[data-testid=anomaly-details]',
};

/** Waits until the list has finished loading and returns its rows' { id, status, score }. */
async function listed(page) {
  await page.waitForSelector('[data-testid=anomalies-loaded][data-loading=false]');
  return page.$$eval(anomalies.row(), (rows) => rows.map((r) => ({
    id: Number(r.getAttribute('data-id')),
    status: r.getAttribute('data-status'),
    score: Number(r.getAttribute('data-score')),
  })));
}

/** Clicks "More" until the list has every page. */
async function listAll(page) {
  for (;;) {
    const rows = await listed(page);
    const more = page.locator('button[data-testid=anomalies-more]');
    if (!(await more.count())) return rows;
    await more.click();
    await page.waitForFunction(([sel, n]) => document.querySelectorAll(sel).length > n,
      [anomalies.row(), rows.length]);
  }
}

async function applyFilter(page, fields) {
  for (const [key, value] of Object.entries(fields)) {
    const el = page.locator(`[data-testid=anomaly-filter] [name="filter-${key}"]`);
    if (await el.evaluate((e) => e.tagName === 'SELECT')) await el.selectOption(String(value));
    else await el.fill(String(value));
  }
  await page.$$eval('[data-testid=anomalies-loaded]', (els) => els.forEach((el) => el.setAttribute('data-loading', 'stale')));
  await page.click('button[data-testid=apply-filter]');
}

test('the anomalies page lists what POST /api/logs/dns stored with the deployed dns model', async ({ page }) => {
  // A dns model trained by the CLI, shared and deployed over the API.
  const model = JSON.parse(fs.readFileSync(ctx.dnsModel, 'utf8'));
  await apiSend('POST', '/models', fs.readFileSync(ctx.dnsModel));
  await apiSend('POST', `/models/${model.version}/deploy`, '');
  ctx.dnsVersion = model.version;
  // A dns log ingested over HTTP.
  const report = await apiSend('POST', '/logs/dns', fs.readFileSync(ctx.dnsLog), 'application/x-ndjson');
  assert.equal(report.log_type, 'dns');
  assert.equal(report.model_version, model.version);
  assert.equal(report.scored, ctx.dnsLines, `scored: ${JSON.stringify(report)}`);
  assert.ok(report.anomalies > 0, `no anomalies: ${JSON.stringify(report)}`);
  // The same anomalies as `mcp-train detect` finds on the same file.
  const detected = run(bin, ['detect', ctx.dnsModel, ctx.dnsLog]).stdout.split('\n').filter(Boolean).length;
  assert.equal(report.anomalies, detected, 'stored anomalies differ from mcp-train detect');
  ctx.ingested = report.anomalies;
  console.log(`    ${report.lines} lines, ${report.anomalies} anomalies stored (model ${model.version})`);

  await setToken(page, TOKEN);
  await openPage(page, 'anomalies', 'anomalies-page');
  const rows = await listed(page);
  assert.equal(rows.length, Math.min(50, ctx.ingested), 'the first page');
  const all = await listAll(page);
  assert.equal(all.length, ctx.ingested, 'every page');
  assert.deepEqual(all.map((r) => r.id), (await allAnomalies()).map((a) => a.id), 'the order of the API (newest first)');
  const count = page.locator('[data-testid=summary-count][data-log-type=dns][data-status=new]');
  await page.waitForFunction((n) => document.querySelector('[data-testid=summary-count][data-log-type=dns][data-status=new]')
    ?.getAttribute('data-count') === String(n), ctx.ingested);
  assert.equal(await count.getAttribute('data-count'), String(ctx.ingested));
}, ['the app served by the server connects to it (settings shows connected)']);

test('the anomalies filter reads as the core reads it: errors next to the field, status and min score narrow the list', async ({ page }) => {
  await openPage(page, 'anomalies', 'anomalies-page');
  await applyFilter(page, { min_score: '120' });
  const err = page.locator('[data-testid=filter-error][data-key=min_score]');
  await err.waitFor();
  assert.match(await err.textContent(), /0 to 100/);
  await applyFilter(page, { from: 'yesterday', min_score: '60', status: 'new' });
  await page.locator('[data-testid=filter-error][data-key=from]').waitFor();
  await applyFilter(page, { from: '', min_score: '60', status: 'new' });
  await page.waitForFunction(() => !document.querySelector('[data-testid=filter-error]'));
  const rows = await listAll(page);
  const want = await allAnomalies('min_score=60&status=new');
  assert.ok(want.length > 0 && want.length < ctx.ingested, `min_score=60 selects ${want.length} of ${ctx.ingested}`);
  assert.deepEqual(rows.map((r) => r.id), want.map((a) => a.id));
  assert.ok(rows.every((r) => r.score >= 60 && r.status === 'new'), JSON.stringify(rows.slice(0, 3)));
  ctx.highScore = rows.map((r) => r.id);
}, ['the anomalies page lists what POST /api/logs/dns stored with the deployed dns model']);

test('an anomaly is acknowledged then resolved with notes; its history shows both; a stale change shows the 409', async ({ page }) => {
  await openPage(page, 'anomalies', 'anomalies-page');
  await applyFilter(page, { min_score: '60', status: 'new' });
  await listed(page);
  const [id, other] = ctx.highScore;
  await page.click(`${anomalies.row(id)} button[data-testid=open-anomaly]`);
  await page.waitForSelector(`${anomalies.details}[data-id="${id}"][data-status=new]`);
  assert.ok(await page.locator('[data-testid=anomaly-contributions] [data-testid=contribution]').count() > 0, 'contributions');
  await page.fill('input[name=by]', 'e2e-analyst');
  await page.fill('textarea[name=status-note]', 'looking at it');
  await page.click('button[data-testid=status-acknowledge]');
  await page.waitForSelector(`${anomalies.details}[data-id="${id}"][data-status=acknowledged]`);
  await page.fill('textarea[name=status-note]', 'confirmed: DNS tunnel from this client');
  await page.click('button[data-testid=status-resolve]');
  await page.waitForSelector(`${anomalies.details}[data-id="${id}"][data-status=resolved]`);
  const events = await page.$$eval('[data-testid=history-event]', (els) => els.map((e) => ({
    to: e.getAttribute('data-to'), by: e.getAttribute('data-by'), text: e.textContent,
  })));
  assert.deepEqual(events.map((e) => e.to), ['new', 'acknowledged', 'resolved'], JSON.stringify(events));
  assert.equal(events[2].by, 'e2e-analyst');
  assert.match(events[1].text, /looking at it/);
  assert.match(events[2].text, /confirmed: DNS tunnel/);
  const detail = await api(`/anomalies/${id}`);
  assert.equal(detail.status, 'resolved');
  assert.deepEqual(detail.history.map((h) => h.note ?? null), [null, 'looking at it', 'confirmed: DNS tunnel from this client'].slice(detail.history.length === 3 ? 0 : 1));
  assert.equal(await page.getAttribute(anomalies.row(id), 'data-status'), 'resolved', 'the row follows');
  // Reopen is offered on a verdict.
  assert.equal(await page.locator('button[data-testid=status-reopen]').count(), 1);
  // Someone else marks the other one a false positive while this page shows it as new.
  await page.click(`${anomalies.row(other)} button[data-testid=open-anomaly]`);
  await page.waitForSelector(`${anomalies.details}[data-id="${other}"][data-status=new]`);
  await apiSend('POST', `/anomalies/${other}/status`, { status: 'false_positive', by: 'someone-else' });
  await expectingErrors([/\b409\b/], async () => {
    await page.click('button[data-testid=status-false-positive]');
    const e = page.locator('[data-testid=status-error]');
    await e.waitFor();
    assert.equal(await e.getAttribute('data-code'), '409');
    assert.match(await e.textContent(), /409/);
    console.log(`    ${(await e.textContent()).trim().slice(0, 160)}`);
  });
  await page.waitForSelector(`${anomalies.details}[data-id="${other}"][data-status=false_positive]`);
  await page.waitForFunction(() => document.querySelector('[data-testid=summary-count][data-log-type=dns][data-status=resolved]')
    ?.getAttribute('data-count') === '1');
}, ['the anomalies filter reads as the core reads it: errors next to the field, status and min score narrow the list']);

test('a CSV export of the filter runs to completed, downloads with its SHA-256 and has the filter\'s rows', async ({ page }) => {
  await openPage(page, 'anomalies', 'anomalies-page');
  await page.click('button[data-testid=clear-filter]');
  await applyFilter(page, { log_type: 'dns', min_score: '60' });
  await listed(page);
  const want = await allAnomalies('log_type=dns&min_score=60');
  assert.ok(want.length > 0, 'the filter selects something');
  await page.selectOption('select[name=export-format]', 'csv');
  const before = await page.$$eval('[data-testid=export-row]', (rows) => rows.map((r) => r.getAttribute('data-id')));
  await page.click('button[data-testid=start-export]');
  const id = await (await page.waitForFunction((before) => [...document.querySelectorAll('[data-testid=export-row]')]
    .map((r) => r.getAttribute('data-id')).find((x) => !before.includes(x)) || null, before)).jsonValue();
  const row = `[data-testid=export-row][data-id="${id}"]`;
  const seen = new Set();
  await page.waitForFunction((row) => {
    const s = document.querySelector(row)?.getAttribute('data-status');
    (window.__exportStatuses ||= new Set()).add(s);
    return ['completed', 'failed', 'cancelled'].includes(s) ? s : null;
  }, row, { polling: 10, timeout: 120_000 });
  (await page.evaluate(() => [...window.__exportStatuses])).forEach((s) => seen.add(s));
  assert.equal(await page.getAttribute(row, 'data-status'), 'completed', `statuses seen: ${[...seen]}`);
  console.log(`    statuses seen: ${[...seen].join(' → ')}`);
  assert.equal(await page.getAttribute(row, 'data-rows'), String(want.length));
  assert.equal((await page.locator(`${row} [data-testid=export-by]`).textContent()).trim(), 'e2e-analyst');
  const job = await api(`/exports/${id}`);
  assert.equal(job.status, 'completed');
  assert.equal(job.format, 'csv');
  assert.deepEqual(job.filter, { log_type: 'dns', min_score: 60 });
  assert.equal(await page.getAttribute(row, 'data-sha256'), job.sha256);
  const { file } = await download(page, () => page.click(`${row} button[data-testid=download-export]`));
  assert.equal(sha256(file), job.sha256, 'the file is the one the history describes');
  assert.equal(fs.statSync(file).size, job.bytes);
  const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/).filter(Boolean);
  assert.equal(lines.length - 1, want.length, 'a header and one line per anomaly');
  const history = await api('/exports');
  assert.equal(history.items[0].id, id, 'newest first');
}, ['an anomaly is acknowledged then resolved with notes; its history shows both; a stale change shows the 409']);

test('the Detect page saves its findings to the server, and they appear on the Anomalies page', async ({ page }) => {
  // The dns model was shared over the API, not through this tab: the tab reads the server's list
  // when it loads, so load it again (as a person would) to see it.
  await page.reload();
  await openPage(page, 'models', 'models-page');
  const sharedRow = page.locator(shared.row(ctx.dnsVersion));
  await sharedRow.waitFor();
  if ((await sharedRow.getAttribute('data-local')) === 'false') {
    const n = await notice(page, () => sharedRow.locator('button[data-testid=import-shared]').click());
    assert.ok(!n.error, `import: ${n.text}`);
  }
  await openPage(page, 'detect', 'detect-page');
  await page.setInputFiles('input[type=file][data-testid=detect-input]', ctx.dnsLog2);
  await page.waitForSelector('[data-testid=detected-log-type][data-log-type=dns]');
  await page.waitForSelector(`select[name=model] option[value="${ctx.dnsVersion}"]`, { state: 'attached' });
  await page.click('button[data-testid=run-detect]:not([disabled])');
  const summary = page.locator('[data-testid=detect-summary]');
  await summary.waitFor({ timeout: 60_000 });
  const found = Number(await summary.getAttribute('data-anomalies'));
  assert.ok(found > 0, 'the browser found anomalies');
  const before = (await allAnomalies()).length;
  await page.click('button[data-testid=save-to-server]');
  const saved = page.locator('[data-testid=saved-to-server]');
  await saved.waitFor();
  assert.equal(await saved.getAttribute('data-stored'), String(found));
  const after = await allAnomalies();
  assert.equal(after.length, before + found, 'the server stored each one once');
  await page.click('[data-testid=saved-to-server] a[href="#/anomalies"]');
  await page.waitForSelector('[data-testid=anomalies-page]');
  const rows = await listed(page);
  const newest = after.slice(0, Math.min(50, after.length)).map((a) => a.id);
  assert.deepEqual(rows.map((r) => r.id), newest);
  await page.click(`${anomalies.row(rows[0].id)} button[data-testid=open-anomaly]`);
  await page.waitForSelector(`${anomalies.details}[data-id="${rows[0].id}"]`);
  assert.equal(await page.getAttribute('[data-testid=history-event]', 'data-by'), 'web detect');
  await page.waitForFunction((n) => document.querySelector('[data-testid=summary-count][data-log-type=dns][data-status=new]')
    ?.getAttribute('data-count') === String(n), after.filter((a) => a.status === 'new').length);
}, ['the anomalies page lists what POST /api/logs/dns stored with the deployed dns model']);

// ---- the Knowledge page (GET /api/kb/search) and an anomaly's explanation ----------------------

const kb = {
  result: '[data-testid=kb-result]',
  outcome: '[data-testid=kb-outcome]',
};

/** Searches the knowledge base as a person would (kind: a document kind, '' for any; Enter
 *  submits) and returns the outcome's state once it has one: results, empty or error. */
async function searchKnowledge(page, q, kind = '') {
  await page.selectOption('select[name=kb-kind]', kind);
  await page.fill('input[name=kb-query]', q);
  await page.$$eval(kb.outcome, (els) => els.forEach((el) => el.setAttribute('data-state', 'stale')));
  await page.press('input[name=kb-query]', 'Enter');
  const h = await page.waitForFunction((sel) => {
    const state = document.querySelector(sel)?.getAttribute('data-state');
    return ['results', 'empty', 'error'].includes(state) ? state : null;
  }, kb.outcome);
  return h.jsonValue();
}

test('the Knowledge page ranks the PSK-mismatch catalogue entry first, shows the server\'s refusal of a query without words, and explains a cited anomaly', async ({ page }) => {
  await openPage(page, 'knowledge', 'knowledge-page');
  assert.equal(await searchKnowledge(page, 'PSK mismatch'), 'results');
  const first = page.locator(kb.result).first();
  assert.equal(await first.getAttribute('data-rank'), '1');
  assert.equal(await first.getAttribute('data-kind'), 'catalogue');
  assert.equal(await first.getAttribute('data-source-id'), 'wifi/AP-STA-POSSIBLE-PSK-MISMATCH');
  assert.match(await first.locator('[data-testid=kb-citation]').textContent(), /wifi\/AP-STA-POSSIBLE-PSK-MISMATCH/);
  const marks = await first.locator('[data-testid=kb-snippet] mark').allTextContents();
  assert.ok(marks.some((m) => /psk|mismatch/i.test(m)), `no marked match in the snippet: ${JSON.stringify(marks)}`);
  assert.doesNotMatch(await first.locator('[data-testid=kb-snippet]').textContent(), /\[|\]/, 'the match markers show');
  const shown = await page.$$eval(kb.result, (els) => els.map((e) => e.getAttribute('data-source-id')));
  assert.deepEqual(shown, (await api('/kb/search?q=PSK%20mismatch')).results.map((r) => r.source.id), 'the API\'s order');

  // Punctuation only: the server refuses it and the page says why.
  await expectingErrors([/\b400\b/], async () => {
    assert.equal(await searchKnowledge(page, ' ?! -- '), 'error');
  });
  const error = (await page.locator('[data-testid=kb-error]').textContent()).trim();
  assert.match(error, /no words to search for/, error);
  assert.match(error, /HTTP 400/, error);
  console.log(`    ${error}`);

  // The analyst's note on the resolved anomaly is found as a verdict citing it; the citation
  // opens it on the Anomalies page, and Explain lists its features with what they measure.
  const [id] = ctx.highScore;
  assert.equal(await searchKnowledge(page, 'confirmed DNS tunnel', 'verdict'), 'results');
  const cited = page.locator(`${kb.result}[data-source-kind=anomaly][data-source-id="${id}"]`).first();
  await cited.locator('[data-testid=kb-citation] a').click();
  await page.waitForSelector(`${anomalies.details}[data-id="${id}"][data-status=resolved]`);
  await page.click('button[data-testid=explain-anomaly]');
  await page.waitForSelector(`[data-testid=anomaly-explanation][data-id="${id}"]`);
  const features = await page.$$eval('[data-testid=explanation-feature]', (rows) => rows.map((r) => ({
    feature: r.getAttribute('data-feature'), text: r.textContent,
  })));
  const explained = await api(`/anomalies/${id}/explanation`);
  assert.ok(features.length > 0, 'no features listed');
  assert.deepEqual(features.map((f) => f.feature), explained.top_features.map((f) => f.feature));
  assert.ok(features.every((f, i) => f.text.includes(explained.top_features[i].meaning)), 'each feature says what it measures');
  assert.equal((await page.locator('[data-testid=explanation-summary]').textContent()).trim(), explained.summary.trim());
  assert.equal(await page.locator('[data-testid=similar-anomaly]').count(), explained.similar.length);
  console.log(`    anomaly ${id}: ${features.length} features, ${explained.events.length} catalogue entries, ${explained.similar.length} similar`);
  await openPage(page, 'knowledge', 'knowledge-page');
}, ['an anomaly is acknowledged then resolved with notes; its history shows both; a stale change shows the 409']);

test('a large export shows its progress over the event stream and can be cancelled', async ({ page }) => {
  // Enough anomalies that an export runs for a while: the CLI stores synthetic ones in the
  // server's store (SQLite in WAL mode takes a second writer).
  run(bin, ['anomalies', 'seed', '--count', String(ctx.seedCount), '--data-dir', ctx.dataDir, '--quiet']);
  await openPage(page, 'anomalies', 'anomalies-page');
  await page.click('button[data-testid=clear-filter]');
  await listed(page);
  await page.selectOption('select[name=export-format]', 'ocsf');
  const before = await page.$$eval('[data-testid=export-row]', (rows) => rows.map((r) => r.getAttribute('data-id')));
  await page.click('button[data-testid=start-export]');
  const id = await (await page.waitForFunction((before) => [...document.querySelectorAll('[data-testid=export-row]')]
    .map((r) => r.getAttribute('data-id')).find((x) => !before.includes(x)) || null, before, { polling: 10 })).jsonValue();
  const row = `[data-testid=export-row][data-id="${id}"]`;
  const seen = await (await page.waitForFunction((row) => {
    const r = document.querySelector(row);
    const status = r?.getAttribute('data-status');
    const value = Number(r?.querySelector('progress')?.value || 0);
    if (status === 'running' && value > 0) return { status, value, rows: r.getAttribute('data-rows') };
    if (['completed', 'failed', 'cancelled'].includes(status)) return { status, value };
    return null;
  }, row, { polling: 10, timeout: 120_000 })).jsonValue();
  assert.equal(seen.status, 'running', `never saw the export running with progress (it went ${seen.status})`);
  console.log(`    running: ${seen.rows} rows, progress ${(seen.value * 100).toFixed(0)}%`);
  await page.click(`${row} button[data-testid=cancel-export]`);
  await page.waitForSelector(`${row}[data-status=cancelled]`, { timeout: 60_000 });
  assert.equal((await api(`/exports/${id}`)).status, 'cancelled');
  assert.equal(await page.locator(`${row} button[data-testid=download-export]`).count(), 0, 'no download of a cancelled export');
}, ['a CSV export of the filter runs to completed, downloads with its SHA-256 and has the filter\'s rows']);

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

test('answers that arrive after the user left a page are dropped quietly', async ({ page }) => {
  // The anomalies list and a knowledge search are held at the network until their pages are gone;
  // reading a page's state for them then used to panic the app ("a reactive value that has
  // already been disposed").
  let release;
  const gate = new Promise((resolve) => { release = resolve; });
  const held = [];
  const hold = async (route) => {
    held.push(new URL(route.request().url()).pathname);
    await gate;
    await route.continue();
  };
  const list = /\/api\/anomalies\?/;
  const search = /\/api\/kb\/search\?/;
  await page.route(list, hold);
  await page.route(search, hold);
  const waitHeld = async (n) => {
    for (let i = 0; held.length < n; i += 1) {
      assert.ok(i < 200, `only ${held.length} of ${n} requests were held: ${held.join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  const before = problems.length;
  try {
    await openPage(page, 'anomalies', 'anomalies-page');
    await waitHeld(1);
    await openPage(page, 'knowledge', 'knowledge-page');
    await page.fill('input[name=kb-query]', 'PSK mismatch');
    await page.press('input[name=kb-query]', 'Enter');
    await waitHeld(2);
    await openPage(page, 'models', 'models-page');
    release();
    // Both answers arrive and are handled (or dropped) by now.
    await new Promise((resolve) => setTimeout(resolve, 1000));
  } finally {
    release();
    await page.unroute(list, hold);
    await page.unroute(search, hold);
  }
  assert.deepEqual([...new Set(held)].sort(), ['/api/anomalies', '/api/kb/search']);
  assert.deepEqual(problems.slice(before), [], 'errors while the late answers arrived');
  // The pages still work afterwards.
  await openPage(page, 'anomalies', 'anomalies-page');
  await listed(page);
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
  // Issue 14: a dns model trained by the CLI, a dns log to ingest and another for the Detect page.
  ctx.dnsExport = path.join(work, 'dns.json');
  run(bin, ['synth', '--log-type', 'dns', '-n', '3000', '--seed', String(SEED), '-o', ctx.dnsExport]);
  ctx.dnsModel = path.join(work, 'dns-model.json');
  run(bin, ['train', ctx.dnsExport, '--seed', String(SEED), '--out', ctx.dnsModel]);
  const dnsLive = path.join(work, 'dns-live.json');
  run(bin, ['synth', '--log-type', 'dns', '-n', '1500', '--seed', '8', '--start', '2024-02-01T00:00:00Z', '-o', dnsLive]);
  ctx.dnsLog = path.join(work, 'dns-live.ndjson');
  ctx.dnsLines = toNdjson(dnsLive, ctx.dnsLog);
  const dnsLive2 = path.join(work, 'dns-live2.json');
  run(bin, ['synth', '--log-type', 'dns', '-n', '800', '--seed', '9', '--start', '2024-03-01T00:00:00Z', '-o', dnsLive2]);
  ctx.dnsLog2 = path.join(work, 'dns-live2.ndjson');
  toNdjson(dnsLive2, ctx.dnsLog2);
  if (!fs.existsSync(path.join(DIST, 'index.html'))) {
    throw new Error(`${DIST}/index.html is missing: build the app first (scripts/web.sh build)`);
  }
  ctx.dataDir = path.join(work, 'data');
  ctx.seedCount = Number(process.env.E2E_EXPORT_SEED || 200_000);
  server = await startServe(bin, ['--data-dir', ctx.dataDir, '--dist', DIST, '--token', TOKEN],
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
