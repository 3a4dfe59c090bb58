// Browser end-to-end test of the mcp-train web app: dist/ served under a sub-path, headless
// Chromium driven through playwright-core, the mcp-train CLI as the reference.
//
//   scripts/web.sh e2e                  # installs what it needs, then runs this
//   node tests/web/e2e.mjs              # dist/ built, npm ci done in tests/web, CLI built
//
// Environment: MCP_TRAIN_BIN (CLI, default target/release then target/debug), MCP_TRAIN_DIST
// (default dist/), CHROMIUM (default /usr/bin/chromium), E2E_KEEP=1 keeps the work directory,
// E2E_ONLY=regex runs only the tests whose names match (and what they need), E2E_BIG=N sets the
// records of the large export (default 200000).
//
// It finds its way only by the app's test contract: the nav links, `data-testid` attributes and
// form field names the app (web/) promises these tests (see lib.mjs `sel`), not by markup; text is
// only checked for content (the record count, the seed, ROC AUC, the fields an error names).
// Ends with one line, `web e2e: N passed, M failed`; exits 1 on any failure.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  checkSide, runTests,
  cliPath, jobStatus, launchBrowser, openPage, pickExport, run, sel, serveDist, setField,
  sha256, startTraining, waitJob,
} from './lib.mjs';

const SEED = 7;
const FIXED_TIME = '2024-06-01T12:00:00Z';
const FIXED_EPOCH = String(Date.parse(FIXED_TIME) / 1000); // 1717243200
const FIXED_VERSION = '20240601_120000';
const BIG = Number(process.env.E2E_BIG || 200_000);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-train-e2e-'));
let bin; // the CLI, found in main()
const ctx = {}; // state handed from one test to the next

// ---- a tiny sequential runner: a test whose prerequisite failed fails as "not run" -------------

const tests = [];
const test = (name, fn, needs = []) => tests.push({ name, fn, needs });

// ---- console / page errors ---------------------------------------------------------------------

const problems = [];
// Errors the app is allowed to log (none so far; add a regex with the reason if one is expected).
const EXPECTED_ERRORS = [];
function watch(page) {
  const note = (kind, text, url = '') => {
    if (!EXPECTED_ERRORS.some((re) => re.test(text))) problems.push(`${kind}: ${text}${url ? ` (${url})` : ''}`);
  };
  page.on('console', (m) => {
    // The browser asks every host for /favicon.ico; a 404 there is the host's business.
    if (m.type() === 'error' && !m.location()?.url?.endsWith('/favicon.ico')) {
      note('console.error', m.text(), m.location()?.url);
    }
  });
  page.on('pageerror', (e) => note('page error', e.stack || e.message));
  page.on('crash', () => note('crash', 'the page crashed'));
  page.on('requestfailed', (r) => {
    // A download the test saved itself can show as aborted navigation; anything else is a problem.
    if (!/^blob:|^data:/.test(r.url())) note('request failed', `${r.url()} ${r.failure()?.errorText}`);
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

// ---- fixtures ----------------------------------------------------------------------------------

function fixtures() {
  fs.mkdirSync(path.join(work, 'browser'));
  fs.mkdirSync(path.join(work, 'cli'));
  ctx.export = path.join(work, 'export.json');
  run(bin, ['synth', '-n', '2000', '--seed', String(SEED), '-o', ctx.export]);
  ctx.big = path.join(work, 'big', 'export.json');
  fs.mkdirSync(path.dirname(ctx.big));
  run(bin, ['synth', '-n', String(BIG), '--seed', String(SEED), '-o', ctx.big]);
  // A truncated export and a binary file that is not an export at all.
  ctx.truncated = path.join(work, 'truncated.json');
  fs.writeFileSync(ctx.truncated, '{"data": [ {"timestamp": ');
  // Readable, but with a bad timestamp, a missing process_name, a number as message, and warnings.
  ctx.badRecords = path.join(work, 'bad-records.json');
  const rec = (ts, message, extra = {}) => ({ timestamp: ts, message, process_name: 'hostapd', log_level: 'INFO', ...extra });
  fs.writeFileSync(ctx.badRecords, JSON.stringify({ data: [
    rec('2024-03-01T08:00:00Z', 'wlan0: STA aa:bb:cc:dd:ee:ff IEEE 802.11: associated'),
    rec('01/03/2024 08:00', 'wlan0: STA aa:bb:cc:dd:ee:01 IEEE 802.11: associated'),
    { timestamp: '2024-03-01T08:00:05Z', message: 42, log_level: 'INFO' },
    rec('2024-03-01 08:00:07', 'wlan0: STA aa:bb:cc:dd:ee:02 WPA: pairwise key handshake completed', { log_level: 'warn' }),
  ] }, null, 1));
  ctx.binary = path.join(work, 'picture.png');
  const png = Buffer.alloc(4096);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(png);
  for (let i = 8; i < png.length; i++) png[i] = (i * 2654435761) >>> 24;
  fs.writeFileSync(ctx.binary, png);
}

async function modelVersions(page) {
  return page.$$eval(sel.modelRow(), (rows) => rows.map((r) => r.getAttribute('data-version')));
}

async function download(page, click, timeout = 120_000) {
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout }), click()]);
  const file = path.join(work, 'browser', dl.suggestedFilename());
  await dl.saveAs(file);
  const failure = await dl.failure();
  assert.equal(failure, null, `download ${dl.suggestedFilename()} failed: ${failure}`);
  return { file, name: dl.suggestedFilename() };
}

/** Rewrites a ZIP with one byte of one entry flipped (a valid ZIP whose content no longer matches
 *  its manifest). */
function alterZip(zip, out, entrySuffix) {
  run('python3', ['-c', `
import sys, zipfile
src, dst, suffix = sys.argv[1:4]
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
    hit = None
    for info in zin.infolist():
        data = zin.read(info)
        if hit is None and info.filename.endswith(suffix):
            data = bytearray(data); data[len(data) // 2] ^= 0x20; data = bytes(data); hit = info.filename
        zout.writestr(info, data)
    assert hit, "no entry ends with " + suffix
    print(hit)
`, zip, out, entrySuffix]);
}

// ---- the tests ---------------------------------------------------------------------------------

test('the app loads from a sub-path and shows the dashboard', async ({ page, server }) => {
  await page.goto(server.url);
  await page.waitForSelector('[data-testid=dashboard-page]', { state: 'visible' });
  for (const route of ['', 'training', 'models', 'settings']) {
    assert.equal(await page.locator(sel.nav(route)).count(), 1, `nav link #/${route}`);
  }
  assert.equal(await page.locator('[data-testid=app-error]').count(), 0, 'no app-error banner at start');
});

test('without a server the Anomalies page says so and how to connect (no request made)', async ({ page }) => {
  await openPage(page, 'anomalies', 'anomalies-page');
  const box = page.locator('[data-testid=anomalies-no-server][data-state=off]');
  await box.waitFor();
  assert.match(await box.textContent(), /No server is connected/);
  assert.equal(await box.locator('a[href="#/settings"]').count(), 1, 'a link to Settings');
  assert.equal(await page.locator('[data-testid=stored-anomalies], [data-testid=exports]').count(), 0,
    'no list without a server');
}, ['the app loads from a sub-path and shows the dashboard']);

test('a labelled export is validated (2,000 records, valid)', async ({ page }) => {
  await openPage(page, 'training', 'training-page');
  assert.equal(await page.isDisabled(sel.start), true, 'start-training is disabled before a report');
  const r = await pickExport(page, ctx.export, { records: 2000 });
  assert.equal(r.fileError, undefined, `unexpected file-error: ${r.fileError}`);
  assert.equal(r.valid, 'true', `report data-valid: ${r.text}`);
  console.log(`    validated in ${r.ms} ms`);
}, ['the app loads from a sub-path and shows the dashboard']);

test('training with a seed completes and links to its model', async ({ page }) => {
  await setField(page, 'input[name=seed]', SEED);
  const id = await startTraining(page);
  const t0 = Date.now();
  const end = await waitJob(page, id, ['completed']);
  assert.equal(end.status, 'completed', `job ${id} ended ${end.status}: ${end.error || ''}`);
  console.log(`    job ${id} completed in ${Date.now() - t0} ms`);
  ctx.jobId = id;
  await page.click(`${sel.jobRow(id)} a[data-testid=job-link]`);
  const details = page.locator('[data-testid=job-details]');
  await details.waitFor({ state: 'visible' });
  assert.equal(await details.getAttribute('data-status'), 'completed');
  assert.match(page.url(), new RegExp(`#/jobs/${id}$`));
  const link = (await page.locator('a[data-testid=job-model-link]').textContent()).trim();
  const version = link.match(/\d{8}_\d{6}/)?.[0];
  assert.ok(version, `job-model-link names no version: "${link}"`);
  ctx.version = version;
  console.log(`    model ${version}`);
}, ['a labelled export is validated (2,000 records, valid)']);

test('the job details show statistics, parameters, metrics and plots', async ({ page }) => {
  if (!page.url().endsWith(`#/jobs/${ctx.jobId}`)) {
    await openPage(page, 'training', 'training-page');
    await page.click(`${sel.jobRow(ctx.jobId)} a[data-testid=job-link]`);
  }
  await page.locator('[data-testid=job-details]').waitFor({ state: 'visible' });
  for (const t of ['job-statistics', 'job-parameters', 'job-metrics']) {
    const text = (await page.locator(`[data-testid=${t}]`).textContent()).trim();
    assert.ok(text.length > 0, `${t} is empty`);
  }
  const params = await page.locator('[data-testid=job-parameters]').innerText();
  assert.match(params, new RegExp(`seed\\s*:?\\s*${SEED}\\b`, 'i'), `job-parameters show the seed: ${params}`);
  const metrics = await page.locator('[data-testid=job-metrics]').innerText();
  assert.match(metrics, /roc auc|auc/i, `job-metrics name no ROC AUC: ${metrics}`);
  const missing = [];
  for (const plot of ['plot-histogram', 'plot-roc', 'plot-pr', 'plot-importance']) {
    const svg = page.locator(`svg[data-testid=${plot}]`);
    if ((await svg.count()) !== 1) missing.push(`${plot}: no svg[data-testid=${plot}]`);
    else if ((await svg.locator('path, rect, line, polyline, polygon, circle').count()) === 0) {
      missing.push(`${plot}: the svg draws nothing`);
    }
  }
  assert.deepEqual(missing, [], missing.join('; '));
}, ['training with a seed completes and links to its model']);

test('deploy downloads a ZIP that mcp-train verify and validate_model.py accept', async ({ page }) => {
  await openPage(page, 'models', 'models-page');
  const row = page.locator(sel.modelRow(ctx.version));
  await row.waitFor();
  assert.equal(await row.getAttribute('data-status'), 'ready');
  const { file, name } = await download(page, () => row.locator('button[data-testid=deploy]').click());
  assert.equal(name, `model_${ctx.version}_deployment.zip`);
  await page.waitForSelector(`${sel.modelRow(ctx.version)}[data-status=deployed]`);
  ctx.zip = file;
  const v = run(bin, ['verify', file], { check: false });
  assert.equal(v.status, 0, `mcp-train verify exited ${v.status}:\n${v.stdout}${v.stderr}`);
  const out = path.join(work, 'unzipped');
  run('python3', ['-m', 'zipfile', '-e', file, out]);
  const dir = path.join(out, `model_${ctx.version}_deployment`);
  const py = run('python3', ['validate_model.py'], { cwd: dir, check: false });
  assert.equal(py.status, 0, `validate_model.py exited ${py.status}:\n${py.stdout}${py.stderr}`);
  await openPage(page, '', 'dashboard-page');
  assert.match(await page.locator('[data-testid=deployed-model]').textContent(), new RegExp(ctx.version));
}, ['training with a seed completes and links to its model']);

test('verify page: the downloaded ZIP verifies, a ZIP with one altered byte does not', async ({ page }) => {
  await openPage(page, 'models', 'models-page');
  const verify = async (zip) => {
    const result = page.locator('[data-testid=verify-result]');
    const before = (await result.count()) ? await result.evaluate((r) => r.outerHTML) : null;
    await page.setInputFiles('input[type=file][data-testid=verify-input]', zip);
    // Wait for the result of this file (the previous one may still be on screen).
    await page.waitForFunction((before) => {
      const r = document.querySelector('[data-testid=verify-result]');
      return r && r.hasAttribute('data-ok') && r.outerHTML !== before;
    }, before, { timeout: 60_000 });
    const files = await page.$$eval('[data-testid=verify-file]',
      (rows) => rows.map((r) => [r.getAttribute('data-name'), r.getAttribute('data-status')]));
    return { ok: await result.getAttribute('data-ok'), files, text: (await result.textContent()).trim() };
  };
  const good = await verify(ctx.zip);
  assert.equal(good.ok, 'true', `verify-result: ${good.text}`);
  assert.ok(good.files.length >= 8, `expected a row per file, got ${JSON.stringify(good.files)}`);
  for (const [name, status] of good.files) {
    const okStatuses = name.endsWith('deployment_manifest.json') ? ['ok', 'sealed'] : ['ok'];
    assert.ok(okStatuses.includes(status), `${name}: ${status}`);
  }
  const bad = path.join(work, `altered_${path.basename(ctx.zip)}`);
  alterZip(ctx.zip, bad, 'README.md');
  const cli = run(bin, ['verify', bad], { check: false });
  assert.equal(cli.status, 1, `mcp-train verify of the altered ZIP exited ${cli.status}`);
  // Let the page see a new file even if it keys on the input's value.
  await page.locator('input[type=file][data-testid=verify-input]').evaluate((i) => { i.value = ''; });
  const res = await verify(bad);
  assert.equal(res.ok, 'false', `verify-result of the altered ZIP: ${res.text}`);
  const readme = res.files.find(([name]) => name.endsWith('README.md'));
  assert.deepEqual(readme?.[1], 'altered', `README.md row: ${JSON.stringify(res.files)}`);
}, ['deploy downloads a ZIP that mcp-train verify and validate_model.py accept']);

test('after a reload the model and the job are still listed', async ({ page }) => {
  await page.reload();
  await openPage(page, 'models', 'models-page');
  await page.waitForSelector(`${sel.modelRow(ctx.version)}[data-status=deployed]`);
  await openPage(page, 'training', 'training-page');
  await page.waitForSelector(`${sel.jobRow(ctx.jobId)}[data-status=completed]`);
}, ['deploy downloads a ZIP that mcp-train verify and validate_model.py accept']);

test('the browser and the CLI train byte-identical model.json (fixed time, same seed)', async ({ page }) => {
  await openPage(page, 'settings', 'settings-page');
  await setField(page, 'input[name=fixed-time]', FIXED_TIME);
  await openPage(page, 'training', 'training-page');
  const r = await pickExport(page, ctx.export, { records: 2000 });
  assert.equal(r.valid, 'true', r.fileError || r.text);
  await setField(page, 'input[name=seed]', SEED);
  const id = await startTraining(page);
  const end = await waitJob(page, id, ['completed']);
  assert.equal(end.status, 'completed', `job ${id} ended ${end.status}: ${end.error || ''}`);
  await openPage(page, 'models', 'models-page');
  const row = page.locator(sel.modelRow(FIXED_VERSION));
  await row.waitFor();
  const { file, name } = await download(page, () => row.locator('button[data-testid=download-model]').click());
  assert.equal(name, `model_${FIXED_VERSION}.json`);
  const cliModel = path.join(work, 'cli', 'model.json');
  run(bin, ['train', ctx.export, '--seed', String(SEED), '--out', cliModel, '--quiet'],
    { env: { SOURCE_DATE_EPOCH: FIXED_EPOCH } });
  const [a, b] = [sha256(file), sha256(cliModel)];
  console.log(`    browser ${a}  ${name}`);
  console.log(`    cli     ${b}  SOURCE_DATE_EPOCH=${FIXED_EPOCH} mcp-train train export.json --seed ${SEED}`);
  if (a !== b) {
    const x = fs.readFileSync(file, 'utf8');
    const y = fs.readFileSync(cliModel, 'utf8');
    let i = 0;
    while (i < x.length && x[i] === y[i]) i++;
    assert.fail(`model.json differs (sizes ${x.length} vs ${y.length}) from offset ${i}:\n` +
      `  browser …${x.slice(Math.max(0, i - 80), i + 80)}…\n  cli     …${y.slice(Math.max(0, i - 80), i + 80)}…`);
  }
  // Back to the clock, for the tests after this one.
  await openPage(page, 'settings', 'settings-page');
  await setField(page, 'input[name=fixed-time]', '');
}, ['the app loads from a sub-path and shows the dashboard']);

test('Package on an undeployed model gives the bytes of mcp-train package, and deploys nothing', async ({ page }) => {
  // The model of the test before (fixed time, same seed) is byte-identical to the CLI's model.json.
  await openPage(page, 'models', 'models-page');
  const row = page.locator(sel.modelRow(FIXED_VERSION));
  await row.waitFor();
  assert.equal(await row.getAttribute('data-status'), 'ready');
  const { file, name } = await download(page, () => row.locator('button[data-testid=download-package]').click());
  assert.equal(name, `model_${FIXED_VERSION}_deployment.zip`);
  assert.equal(await row.getAttribute('data-status'), 'ready', 'Package must not deploy the model');
  const cliZip = path.join(work, 'cli', name);
  run(bin, ['package', path.join(work, 'cli', 'model.json'), '--out', cliZip]);
  const [a, b] = [sha256(file), sha256(cliZip)];
  console.log(`    browser ${a}  ${name}`);
  console.log(`    cli     ${b}  mcp-train package model.json`);
  assert.equal(a, b, 'the package differs from the CLI\'s: the deployment time is not the model\'s creation time');
}, ['the browser and the CLI train byte-identical model.json (fixed time, same seed)']);

// ---- Detect page -------------------------------------------------------------------------------

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The export's records as raw syslog lines `Mmm dd hh:mm:ss host tag: message` (RFC 3164, no
 *  year), in time order, plus one line no agent reads (line `bad`). */
function rawLog(exportFile, out) {
  const { data } = JSON.parse(fs.readFileSync(exportFile, 'utf8'));
  const rows = data.map((r) => ({ t: Date.parse(r.timestamp), r }))
    .filter(({ t }) => Number.isFinite(t))
    .sort((a, b) => a.t - b.t);
  const lines = rows.map(({ t, r }) => {
    const d = new Date(t);
    const hms = d.toISOString().slice(11, 19);
    return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${hms} ${r.device_id || 'ap'} ${r.process_name}: ${r.message}`;
  });
  const bad = 11;
  lines.splice(bad - 1, 0, 'this is no syslog line');
  fs.writeFileSync(out, `${lines.join('\n')}\n`);
  return { lines: lines.length, bad };
}

/** A CSV (RFC 4180) as rows of fields. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field); rows.push(row); row = []; field = ''; i++;
    } else field += c;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  return rows;
}

/** Runs `mcp-train detect model file`: { ndjson (stdout), lines, parsed, bad, anomalies }. */
function cliDetect(model, file) {
  const r = run(bin, ['detect', model, file]);
  const m = r.stderr.match(/(\d+) lines read, (\d+) parsed, (\d+) bad, (\d+) anomalies/);
  assert.ok(m, `mcp-train detect printed no summary: ${r.stderr}`);
  const [lines, parsed, bad, anomalies] = m.slice(1).map(Number);
  return { ndjson: r.stdout, lines, parsed, bad, anomalies };
}

/** On the Detect page: picks `file`, waits for the detected log type, picks `version`, runs. */
async function detectInBrowser(page, file, version) {
  await openPage(page, 'detect', 'detect-page');
  await page.$$eval('[data-testid=detect-summary]', (els) => els.forEach((el) => { el.__stale = true; }));
  await page.setInputFiles('input[type=file][data-testid=detect-input]', file);
  await page.waitForSelector('[data-testid=detected-log-type][data-log-type=wifi]');
  assert.equal(await page.locator('select[name=log_type]').inputValue(), 'wifi');
  await page.selectOption('select[name=model]', version);
  await page.click('button[data-testid=run-detect]:not([disabled])');
  const h = await page.waitForFunction(() => {
    const err = document.querySelector('[data-testid=detect-error]');
    if (err) return { error: err.textContent.trim() };
    const s = document.querySelector('[data-testid=detect-summary]');
    if (!s || s.__stale) return null;
    const n = (k) => Number(s.getAttribute(`data-${k}`));
    return { lines: n('lines'), parsed: n('parsed'), bad: n('bad'), anomalies: n('anomalies'), model: s.getAttribute('data-model') };
  }, null, { timeout: 120_000, polling: 50 });
  const got = await h.jsonValue();
  assert.ok(!got.error, `detection failed: ${got.error}`);
  return got;
}

test('detect: a raw log on the Detect page gives the anomalies of mcp-train detect; NDJSON and CSV downloads', async ({ page }) => {
  // The model the app trained, as a file for the CLI.
  await openPage(page, 'models', 'models-page');
  const row = page.locator(sel.modelRow(ctx.version));
  const { file: model } = await download(page, () => row.locator('button[data-testid=download-model]').click());
  const raw = path.join(work, 'raw.log');
  const written = rawLog(ctx.export, raw);

  const cli = cliDetect(model, raw);
  assert.equal(cli.bad, 1, 'the CLI reads every line but the bad one');
  assert.ok(cli.anomalies > 0, 'the CLI finds no anomaly in the raw log');
  const got = await detectInBrowser(page, raw, ctx.version);
  console.log(`    raw log: ${got.lines} lines, ${got.parsed} parsed, ${got.bad} bad, ${got.anomalies} anomalies (CLI ${cli.anomalies})`);
  assert.equal(got.model, ctx.version);
  assert.deepEqual(
    { lines: got.lines, parsed: got.parsed, bad: got.bad, anomalies: got.anomalies },
    { lines: cli.lines, parsed: cli.parsed, bad: cli.bad, anomalies: cli.anomalies },
  );
  assert.equal(got.lines, written.lines);
  // The bad line is named with line:column.
  const bad = (await page.locator('[data-testid=bad-line]').first().textContent()).trim();
  assert.ok(bad.startsWith(`${written.bad}:`), `bad line shown as "${bad}"`);
  // The table: one row per anomaly (up to 500), each with a time, a score and a reason.
  const rows = page.locator('[data-testid=anomaly-row]');
  assert.equal(await rows.count(), Math.min(cli.anomalies, 500));
  assert.equal(Number(await page.getAttribute('[data-testid=anomalies-shown]', 'data-count')), cli.anomalies);
  const reasons = await page.$$eval('[data-testid=anomaly-reason]', (els) => els.map((e) => e.textContent.trim()));
  assert.ok(reasons.some((r) => r.length > 0), 'no anomaly shows a reason');

  // NDJSON: byte for byte what mcp-train detect writes.
  const nd = await download(page, () => page.click('button[data-testid=download-ndjson]'));
  assert.equal(nd.name, `anomalies_${ctx.version}.ndjson`);
  const ndText = fs.readFileSync(nd.file, 'utf8');
  assert.equal(ndText, cli.ndjson, 'the NDJSON download differs from mcp-train detect');
  const anomalies = ndText.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(anomalies.length, cli.anomalies);
  // CSV: a header, one row per anomaly, the fields of the NDJSON.
  const csv = await download(page, () => page.click('button[data-testid=download-csv]'));
  assert.equal(csv.name, `anomalies_${ctx.version}.csv`);
  const table = parseCsv(fs.readFileSync(csv.file, 'utf8'));
  assert.deepEqual(table[0], ['index', 'timestamp', 'score', 'decision', 'host', 'process', 'message', 'top_features']);
  assert.equal(table.length, anomalies.length + 1);
  anomalies.forEach((a, i) => {
    const r = table[i + 1];
    assert.equal(Number(r[0]), a.entry.index);
    assert.equal(r[1], a.entry.timestamp);
    assert.equal(Number(r[2]), a.inference.score);
    assert.equal(Number(r[3]), a.inference.decision);
    assert.equal(r[4], a.entry.host);
    assert.equal(r[5], a.entry.process);
    assert.equal(r[6], a.entry.message);
    assert.equal(r[7], a.contributions.map((c) => c.feature).join(';'));
  });

  // Filters: a text and a minimum strength (−decision) narrow the table and the downloads.
  const host = anomalies[0].entry.host;
  const withHost = anomalies.filter((a) => [a.entry.timestamp, a.entry.host, a.entry.process, a.entry.message,
    ...a.contributions.map((c) => c.feature)].some((f) => (f || '').toLowerCase().includes(host.toLowerCase()))).length;
  await page.fill('input[name=detect-filter]', host);
  await page.waitForSelector(`[data-testid=anomalies-shown][data-count="${withHost}"]`);
  const filtered = await download(page, () => page.click('button[data-testid=download-ndjson]'));
  assert.equal(fs.readFileSync(filtered.file, 'utf8').trim().split('\n').length, withHost);
  await page.fill('input[name=detect-filter]', '');
  const strong = anomalies.filter((a) => -a.inference.decision >= 0.05).length;
  await setField(page, 'input[name=min-strength]', '0.05');
  await page.waitForSelector(`[data-testid=anomalies-shown][data-count="${strong}"]`);
  await setField(page, 'input[name=min-strength]', '');
  await page.waitForSelector(`[data-testid=anomalies-shown][data-count="${cli.anomalies}"]`);

  // The export itself: the same count as mcp-train detect on it.
  const cliExport = cliDetect(model, ctx.export);
  const gotExport = await detectInBrowser(page, ctx.export, ctx.version);
  console.log(`    export: ${gotExport.parsed} records, ${gotExport.anomalies} anomalies (CLI ${cliExport.anomalies})`);
  assert.deepEqual(
    { lines: gotExport.lines, parsed: gotExport.parsed, bad: gotExport.bad, anomalies: gotExport.anomalies },
    { lines: cliExport.lines, parsed: cliExport.parsed, bad: cliExport.bad, anomalies: cliExport.anomalies },
  );
  const ndExport = await download(page, () => page.click('button[data-testid=download-ndjson]'));
  assert.equal(fs.readFileSync(ndExport.file, 'utf8'), cliExport.ndjson);
}, ['training with a seed completes and links to its model']);

test('a broken file shows a readable file-error', async ({ page }) => {
  await openPage(page, 'training', 'training-page');
  const t = await pickExport(page, ctx.truncated);
  assert.ok(t.fileError, `truncated JSON: expected file-error, got report "${t.text}"`);
  assert.match(t.fileError, /line \d+|column \d+|\d+:\d+/i, `the message names no position: "${t.fileError}"`);
  console.log(`    truncated JSON: ${t.fileError}`);
  assert.equal(await page.isDisabled(sel.start), true, 'start-training enabled after a broken file');
  const b = await pickExport(page, ctx.binary);
  assert.ok(b.fileError, `binary file: expected file-error, got report "${b.text}"`);
  assert.ok(b.fileError.length >= 10 && !/undefined|\[object/.test(b.fileError), `unreadable: "${b.fileError}"`);
  console.log(`    binary file:    ${b.fileError.slice(0, 160)}`);
  assert.equal(await page.isDisabled(sel.start), true, 'start-training enabled after a binary file');
}, ['the app loads from a sub-path and shows the dashboard']);

test('an export with bad records shows grouped errors; drop_invalid makes it usable', async ({ page }) => {
  await openPage(page, 'training', 'training-page');
  const r = await pickExport(page, ctx.badRecords);
  assert.equal(r.fileError, undefined, `a readable export with bad records is not a file error: ${r.fileError}`);
  assert.equal(r.valid, 'false', `report: ${r.text}`);
  const errors = await page.locator('[data-testid=validation-errors]').textContent();
  for (const want of ['timestamp', 'process_name', 'message']) {
    assert.ok(errors.includes(want), `validation-errors do not mention ${want}: ${errors}`);
  }
  const warnings = await page.locator('[data-testid=validation-warnings]').textContent();
  assert.match(warnings, /zone/i, `validation-warnings: ${warnings}`);
  assert.equal(await page.isDisabled(sel.start), true, 'start-training enabled on an invalid export');
  await page.$$eval(sel.report, (els) => els.forEach((el) => { el.__stale = true; }));
  await page.check('input[type=checkbox][name=drop_invalid]');
  const h = await page.waitForFunction((r) => {
    const rep = document.querySelector(r);
    return rep && !rep.__stale && rep.getAttribute('data-valid') === 'true';
  }, sel.report);
  assert.ok(await h.jsonValue());
  await page.waitForSelector(`${sel.start}:not([disabled])`);
}, ['the app loads from a sub-path and shows the dashboard']);

test('dropping an export on the drop zone validates it', async ({ page }) => {
  await openPage(page, 'training', 'training-page');
  await page.$$eval(`${sel.report}, ${sel.fileError}`, (els) => els.forEach((el) => { el.__stale = true; }));
  const data = fs.readFileSync(ctx.export).toString('base64');
  const dt = await page.evaluateHandle((b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const t = new DataTransfer();
    t.items.add(new File([bytes], 'export.json', { type: 'application/json' }));
    return t;
  }, data);
  await page.dispatchEvent('[data-testid=dropzone]', 'dragover', { dataTransfer: dt });
  await page.dispatchEvent('[data-testid=dropzone]', 'drop', { dataTransfer: dt });
  const h = await page.waitForFunction(([r]) => {
    const rep = document.querySelector(r);
    return rep && !rep.__stale && rep.textContent.includes('2,000 record') ? rep.getAttribute('data-valid') : null;
  }, [sel.report]);
  assert.equal(await h.jsonValue(), 'true');
  await page.waitForSelector(`${sel.start}:not([disabled])`);
}, ['the app loads from a sub-path and shows the dashboard']);

test('deleting a model takes two clicks and sticks after a reload', async ({ page }) => {
  await openPage(page, 'models', 'models-page');
  const row = page.locator(sel.modelRow(FIXED_VERSION));
  await row.waitFor();
  await row.locator('button[data-testid=delete-model]').click();
  assert.equal(await row.count(), 1, 'one click on delete-model must not delete yet');
  await row.locator('button[data-testid=confirm-delete]').click();
  await row.waitFor({ state: 'detached' });
  await page.reload();
  await openPage(page, 'models', 'models-page');
  await page.waitForSelector(sel.modelRow());
  assert.equal(await page.locator(sel.modelRow(FIXED_VERSION)).count(), 0, 'the deleted model is back after a reload');
}, ['the browser and the CLI train byte-identical model.json (fixed time, same seed)']);

/** Starts a long training (the large export, 1000 trees) and returns its job id, once running. */
async function startLongJob(page) {
  await openPage(page, 'training', 'training-page');
  const r = await pickExport(page, ctx.big, { records: BIG });
  assert.equal(r.valid, 'true', r.fileError || r.text);
  console.log(`    ${BIG.toLocaleString('en-US')} records validated in ${r.ms} ms`);
  await setField(page, 'input[name=n_estimators]', 1000);
  const id = await startTraining(page);
  const s = await waitJob(page, id, ['running'], { polling: 10 });
  assert.equal(s.status, 'running', `job ${id} is ${s.status} ${s.error || ''}, expected running`);
  return id;
}

test('the UI stays responsive during a large training (Settings opens while it runs)', async ({ page }) => {
  ctx.modelsBefore = await openPage(page, 'models', 'models-page').then(() => modelVersions(page));
  const id = await startLongJob(page);
  const t0 = Date.now();
  await page.click(sel.nav('settings'));
  await page.waitForSelector('[data-testid=settings-page]', { state: 'visible' });
  const ms = Date.now() - t0;
  // Back on the jobs list: the job is still going, so Settings opened before the training ended.
  await openPage(page, 'training', 'training-page');
  const status = await jobStatus(page, id);
  assert.ok(['pending', 'running'].includes(status),
    `job ${id} is ${status} after Settings opened: inconclusive (use a larger E2E_BIG)`);
  console.log(`    Settings visible ${ms} ms after the click; job ${id} still ${status}`);
  ctx.longJob = id;
}, ['the app loads from a sub-path and shows the dashboard']);

test('cancelling a running job marks it cancelled and adds no model', async ({ page }) => {
  if (!ctx.modelsBefore) ctx.modelsBefore = await openPage(page, 'models', 'models-page').then(() => modelVersions(page));
  await openPage(page, 'training', 'training-page');
  let id = ctx.longJob;
  if (!id || !['pending', 'running'].includes(await jobStatus(page, id))) id = await startLongJob(page);
  await page.click(`${sel.jobRow(id)} button[data-testid=cancel-job]`);
  const t0 = Date.now();
  const end = await waitJob(page, id, ['cancelled'], { timeout: 120_000 });
  assert.equal(end.status, 'cancelled', `job ${id} ended ${end.status} ${end.error || ''}`);
  console.log(`    cancelled ${Date.now() - t0} ms after the click`);
  assert.equal(await page.locator(`${sel.jobRow(id)} button[data-testid=cancel-job]`).count(), 0,
    'a cancelled row still has cancel-job');
  await page.waitForTimeout(1500); // a late result must not sneak in
  assert.equal(await jobStatus(page, id), 'cancelled');
  await openPage(page, 'models', 'models-page');
  assert.deepEqual((await modelVersions(page)).sort(), [...ctx.modelsBefore].sort(), 'models changed');
}, ['the app loads from a sub-path and shows the dashboard']);

test('a second tab sees a job and its model from the first without a reload', async ({ page }) => {
  const other = await page.context().newPage();
  watch(other);
  try {
    await other.goto(`${page.url().split('#')[0]}#/models`);
    await other.waitForSelector('[data-testid=models-page]', { state: 'visible' });
    const before = await modelVersions(other);
    await openPage(page, 'training', 'training-page');
    const r = await pickExport(page, ctx.export, { records: 2000 });
    assert.equal(r.valid, 'true', r.fileError || r.text);
    await setField(page, 'input[name=seed]', SEED + 1);
    const id = await startTraining(page);
    const end = await waitJob(page, id, ['completed']);
    assert.equal(end.status, 'completed', `job ${id} ended ${end.status}: ${end.error || ''}`);
    const h = await other.waitForFunction(([rowSel, before]) => [...document.querySelectorAll(rowSel)]
      .map((row) => row.getAttribute('data-version')).find((v) => !before.includes(v)) || null,
    [sel.modelRow(), before], { timeout: 15_000 });
    console.log(`    the other tab lists model ${await h.jsonValue()}`);
    await openPage(other, 'training', 'training-page');
    try {
      await other.waitForSelector(`${sel.jobRow(id)}[data-status=completed]`, { timeout: 10_000 });
    } catch {
      const rowsOf = (p) => p.$$eval(sel.jobRow(), (rs) => rs.map((r) => `${r.dataset.jobId} ${r.dataset.status}`));
      const rows = await rowsOf(other);
      await other.reload();
      await other.waitForSelector('[data-testid=training-page]', { state: 'visible' });
      await other.waitForTimeout(500);
      assert.fail(`the other tab does not show job ${id} completed 10 s after it completed; its job rows: ` +
        `${rows.join(', ') || 'none'}; after a reload: ${(await rowsOf(other)).join(', ') || 'none'}`);
    }
  } finally {
    await other.close();
  }
}, ['the app loads from a sub-path and shows the dashboard']);

test('without browser storage a banner says so and training still works in memory', async ({ page }) => {
  // As in private browsing with storage disabled: opening IndexedDB throws a SecurityError.
  const context = await page.context().browser().newContext({ acceptDownloads: true });
  await context.addInitScript(() => {
    IDBFactory.prototype.open = function () {
      throw new DOMException('access to IndexedDB is denied', 'SecurityError');
    };
  });
  const other = await context.newPage();
  watch(other);
  try {
    await other.goto(page.url().split('#')[0] + '#/training');
    const banner = await other.waitForSelector('[data-testid=app-error]', { state: 'visible' });
    const text = await banner.textContent();
    assert.match(text, /storage is unavailable/, `banner: "${text}"`);
    const r = await pickExport(other, ctx.export, { records: 2000 });
    assert.equal(r.valid, 'true', r.fileError || r.text);
    const id = await startTraining(other);
    const end = await waitJob(other, id, ['completed', 'failed']);
    assert.equal(end.status, 'completed', `job ${id} ended ${end.status}: ${end.error || ''}`);
    await openPage(other, 'models', 'models-page');
    assert.equal((await modelVersions(other)).length, 1, 'the model trained in memory is listed');
  } finally {
    await context.close();
  }
}, ['the app loads from a sub-path and shows the dashboard']);

// ---- main --------------------------------------------------------------------------------------

async function main() {
  const t0 = Date.now();
  bin = cliPath();
  console.log(`work directory ${work}\nCLI ${bin}`);
  fixtures();
  const server = await serveDist();
  const browser = await launchBrowser();
  console.log(`serving dist/ at ${server.url} · ${browser.version()}`);
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  watch(page);

  const result = await runTests(tests, { page, args: { page, server }, work });

  // Last: nothing went wrong on the side (console errors, uncaught exceptions, requests that left
  // the sub-path — which would break hosting under a path).
  checkSide(
    'no console errors, page errors, failed requests or requests outside the sub-path',
    [...problems, ...server.outside.map((p) => `request outside ${server.url}: ${p}`)],
    result,
  );

  await browser.close();
  await server.close();
  if (result.failed === 0 && !process.env.E2E_KEEP) fs.rmSync(work, { recursive: true, force: true });
  else {
    fs.rmSync(path.dirname(ctx.big), { recursive: true, force: true }); // tens of MB, made again by synth
    console.log(`kept ${work}`);
  }
  console.log(`web e2e: ${result.passed.size} passed, ${result.failed} failed (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  process.exitCode = result.failed === 0 ? 0 : 1;
}

// A hung browser must not hang CI: give up after E2E_TIMEOUT seconds (default 600).
setTimeout(() => {
  console.log(`e2e timed out after ${process.env.E2E_TIMEOUT || 600} s (work directory ${work})`);
  console.log('web e2e: 0 passed, 1 failed');
  process.exit(1);
}, 1000 * Number(process.env.E2E_TIMEOUT || 600)).unref();

main().catch((e) => {
  console.error(e);
  console.log('web e2e: 0 passed, 1 failed');
  process.exit(1); // the browser or the server may still hold the event loop
});
