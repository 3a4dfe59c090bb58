// Shared by e2e.mjs and bench.mjs: a static server for dist/ under a sub-path, headless Chromium,
// the mcp-train CLI, and the app's selectors (see the UI contract in the e2e header).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DIST = process.env.MCP_TRAIN_DIST || path.join(ROOT, 'dist');
export const SUB_PATH = '/mcp-train/';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

/** Serves `dir` at http://127.0.0.1:PORT/mcp-train/ (a sub-path, as on a shared static host).
 *  Records every request outside the sub-path in `outside` (the app must not make any). */
export async function serveDist(dir = DIST) {
  if (!fs.existsSync(path.join(dir, 'index.html'))) {
    throw new Error(`${dir}/index.html is missing: build the app first (scripts/web.sh build)`);
  }
  const outside = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    let p = decodeURIComponent(url.pathname);
    if (p === SUB_PATH.slice(0, -1)) {
      res.writeHead(301, { Location: SUB_PATH });
      return res.end();
    }
    if (!p.startsWith(SUB_PATH)) {
      if (p !== '/favicon.ico') outside.push(p);
      res.writeHead(404);
      return res.end('not found');
    }
    p = p.slice(SUB_PATH.length) || 'index.html';
    if (p.endsWith('/')) p += 'index.html';
    const file = path.resolve(dir, p);
    if (!file.startsWith(path.resolve(dir) + path.sep)) {
      res.writeHead(403);
      return res.end();
    }
    fs.stat(file, (err, st) => {
      if (err || !st.isFile()) {
        res.writeHead(404);
        return res.end('not found');
      }
      res.writeHead(200, {
        'Content-Type': MIME[path.extname(file).toLowerCase()] || 'application/octet-stream',
        'Content-Length': st.size,
        'Cache-Control': 'no-store',
      });
      fs.createReadStream(file).pipe(res);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}${SUB_PATH}`;
  return { url, outside, close: () => new Promise((resolve) => server.close(resolve)) };
}

export function chromiumPath() {
  for (const c of [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (c && fs.existsSync(c)) return c;
  }
  throw new Error('Chromium not found: apt-get install chromium (or set CHROMIUM=/path/to/chrome)');
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: chromiumPath(),
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-dev-shm-usage',
    ],
  });
}

/** The mcp-train binary: $MCP_TRAIN_BIN, else release, else debug in $CARGO_TARGET_DIR or target/. */
export function cliPath() {
  const target = path.resolve(ROOT, process.env.CARGO_TARGET_DIR || 'target');
  for (const c of [process.env.MCP_TRAIN_BIN,
    path.join(target, 'release/mcp-train'), path.join(target, 'debug/mcp-train')]) {
    if (c && fs.existsSync(c)) return c;
  }
  throw new Error('mcp-train not built: cargo build --release -p mcp-train (or set MCP_TRAIN_BIN)');
}

/** Runs a command; returns { status, stdout, stderr, seconds }. Throws if `check` and it failed. */
export function run(cmd, args, { cwd, env, check = true } = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, {
    cwd, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 << 20,
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.error) throw r.error;
  if (check && r.status !== 0) {
    throw new Error(`${path.basename(cmd)} ${args.join(' ')} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, seconds };
}

export const sha256 = (file) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

// ---- the app (selectors from the UI contract) --------------------------------------------------

export const sel = {
  nav: (route) => `nav a[href="#/${route}"]`,
  exportInput: 'input[type=file][data-testid=export-input]',
  report: '[data-testid=validation-report]',
  fileError: '[data-testid=file-error]',
  start: 'button[data-testid=start-training]',
  jobRow: (id) => (id ? `[data-testid=job-row][data-job-id="${id}"]` : '[data-testid=job-row]'),
  modelRow: (v) => (v ? `[data-testid=model-row][data-version="${v}"]` : '[data-testid=model-row]'),
};

/** Opens a page of the app through its nav bar and waits for the page's marker. */
export async function openPage(page, route, marker) {
  await page.click(sel.nav(route));
  await page.waitForSelector(`[data-testid=${marker}]`, { state: 'visible' });
}

/** Picks `file` in the export input and waits until the validation report for it (the summary
 *  names `records` as "2,000 records") or a file error shows. Returns { valid, text, ms } or
 *  { fileError, ms }. */
export async function pickExport(page, file, { records, timeout = 120_000 } = {}) {
  const want = records == null ? null : `${records.toLocaleString('en-US')} record`;
  // Whatever report or error is on screen belongs to the previous file: mark it, wait for a new one.
  await page.$$eval(`${sel.report}, ${sel.fileError}`, (els) => els.forEach((el) => { el.__stale = true; }));
  const t0 = Date.now();
  await page.setInputFiles(sel.exportInput, file);
  const handle = await page.waitForFunction(([want, r, e]) => {
    const err = document.querySelector(e);
    if (err && !err.__stale && err.textContent.trim()) return { fileError: err.textContent.trim() };
    const rep = document.querySelector(r);
    if (rep && !rep.__stale && (want == null || rep.textContent.includes(want))) {
      return { valid: rep.getAttribute('data-valid'), text: rep.textContent.trim() };
    }
    return null;
  }, [want, sel.report, sel.fileError], { timeout, polling: 50 });
  return { ...(await handle.jsonValue()), ms: Date.now() - t0 };
}

/** Sets a text/number parameter as a user would (type, then leave the field: input + change). */
export async function setField(page, selector, value) {
  const field = page.locator(selector);
  await field.fill(String(value));
  await field.blur();
}

export async function jobIds(page) {
  return page.$$eval(sel.jobRow(), (rows) => rows.map((r) => r.getAttribute('data-job-id')));
}

/** Clicks start-training and returns the id of the job row it adds. */
export async function startTraining(page) {
  await page.waitForSelector(`${sel.start}:not([disabled])`);
  const before = await jobIds(page);
  await page.click(sel.start);
  const h = await page.waitForFunction(([before, rowSel]) => {
    const ids = [...document.querySelectorAll(rowSel)].map((r) => r.getAttribute('data-job-id'));
    return ids.find((id) => !before.includes(id)) || null;
  }, [before, sel.jobRow()], { polling: 20 });
  return h.jsonValue();
}

export async function jobStatus(page, id) {
  return page.getAttribute(sel.jobRow(id), 'data-status');
}

/** Waits until the job's row reaches one of `statuses` or ends (completed, failed, cancelled);
 *  returns { status } and, when it failed, the row's job-error text as { error }. */
export async function waitJob(page, id, statuses, { timeout = 180_000, polling = 50 } = {}) {
  const h = await page.waitForFunction(([rowSel, statuses]) => {
    const row = document.querySelector(rowSel);
    const s = row && row.getAttribute('data-status');
    if (!s) return null;
    if (!statuses.includes(s) && !['completed', 'failed', 'cancelled'].includes(s)) return null;
    const e = row.querySelector('[data-testid=job-error]');
    return s === 'failed' ? { status: s, error: e ? e.textContent.trim() : '(no job-error element)' }
      : { status: s };
  }, [sel.jobRow(id), statuses], { timeout, polling });
  return h.jsonValue();
}

// ---- the server (mcp-train serve) ---------------------------------------------------------------

/** Starts `mcp-train serve --addr 127.0.0.1:0` with `args` and waits for the line that says where
 *  it listens. Returns { url, api, log, close }: `url` is the server's root (it serves the app
 *  there), `log` the file its stderr goes to. */
export async function startServe(bin, args, { logFile, timeout = 60_000 } = {}) {
  const { spawn } = await import('node:child_process');
  const child = spawn(bin, ['serve', '--addr', '127.0.0.1:0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'info' },
  });
  const log = logFile ? fs.createWriteStream(logFile) : null;
  let out = '';
  child.stderr.on('data', (d) => log?.write(d));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mcp-train serve said nowhere it listens within ${timeout} ms; stdout: ${out}`)), timeout);
    child.stdout.on('data', (d) => {
      out += d;
      log?.write(d);
      const m = out.match(/listening on (http:\/\/\S+?)\/?(?:\s|$)/);
      if (m) {
        clearTimeout(timer);
        resolve(`${m[1]}/`);
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`mcp-train serve exited (${code ?? signal}) before listening; stdout: ${out}` +
        (logFile ? `; log ${logFile}` : '')));
    });
  });
  const close = async () => {
    if (child.exitCode == null && child.signalCode == null) child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(force);
    log?.end();
  };
  return { url, api: `${url}api`, log: logFile, child, close };
}

/**
 * Runs `tests` ({ name, needs: [names], fn(args) }) in order and prints `ok - …` / `not ok - …`.
 * E2E_ONLY (a regular expression) picks tests, with the tests they need; a test whose needs did
 * not pass is not run. A failure prints its error and saves a screenshot of `page` in `work`;
 * `where` adds to the failure's last line (e.g. where the server's log is).
 * Returns the names that passed and the number of failures.
 */
export async function runTests(tests, { page, args, work, where = '' }) {
  const only = process.env.E2E_ONLY ? new RegExp(process.env.E2E_ONLY) : null;
  const wanted = new Set();
  const want = (t) => {
    if (wanted.has(t.name)) return;
    wanted.add(t.name);
    t.needs.forEach((n) => want(tests.find((x) => x.name === n)));
  };
  tests.filter((t) => !only || only.test(t.name)).forEach(want);

  const passed = new Set();
  let failed = 0;
  for (const t of tests.filter((x) => wanted.has(x.name))) {
    const missing = t.needs.filter((n) => !passed.has(n));
    const start = Date.now();
    if (missing.length) {
      failed++;
      console.log(`not ok - ${t.name} (not run: needs "${missing.join('", "')}")`);
      continue;
    }
    try {
      await t.fn(args);
      passed.add(t.name);
      console.log(`ok - ${t.name} (${((Date.now() - start) / 1000).toFixed(1)} s)`);
    } catch (e) {
      failed++;
      const shot = path.join(work, `failure-${failed}.png`);
      await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
      console.log(`not ok - ${t.name} (${((Date.now() - start) / 1000).toFixed(1)} s)`);
      // eslint-disable-next-line no-control-regex
      const text = String(e.stack || e).replace(/\x1b\[[0-9;]*m/g, '');
      console.log(text.split('\n').filter((l) => l.trim()).slice(0, 12).map((l) => `    ${l}`).join('\n'));
      console.log(`    page ${page.url()} · screenshot ${shot}${where}`);
    }
  }
  return { passed, failed };
}

/**
 * The last check of a run, `name`: nothing went wrong on the side (`problems`: console errors,
 * page errors, failed requests…). Adds to `result` ({ passed, failed }) like a test.
 */
export function checkSide(name, problems, result) {
  if (problems.length === 0) {
    result.passed.add(name);
    console.log(`ok - ${name}`);
  } else {
    result.failed++;
    console.log(`not ok - ${name}\n${problems.slice(0, 20).map((p) => `    ${p.split('\n').slice(0, 6).join('\n      ')}`).join('\n')}`);
  }
}
