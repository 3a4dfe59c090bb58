// The web build of the package in headless Chromium: the same export, parameters and time give
// the CLI's model.json bytes in a page and in a Worker; abort, errors and packages as in Node.
//
//   scripts/pkg.sh test         # builds what it needs, then runs this after the Node tests
//   MCP_TRAIN_BIN=… node pkg/test/browser.mjs
//
// playwright-core comes from tests/web (npm ci there: scripts/web.sh deps). Ends with one line,
// `pkg browser: N passed, M failed`; exits 1 on any failure.
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { pathToFileURL } from "node:url";

import { CREATED_AT, PKG, ROOT, SEED, cli, cliExport, sha256, workDir } from "./helpers.mjs";

const { chromium } = await import(pathToFileURL(path.join(ROOT, "tests/web/node_modules/playwright-core/index.mjs")).href);

const work = workDir();
const { file: exportFile } = cliExport(work);
const modelFile = path.join(work, "model.json");
cli(["train", exportFile, "-o", modelFile, "--seed", String(SEED), "--n-estimators", "60"]);
const zipFile = path.join(work, "package.zip");
cli(["package", modelFile, "-o", zipFile]);
const expected = {
  model: sha256(fs.readFileSync(modelFile)),
  zip: sha256(fs.readFileSync(zipFile)),
};

// Serves pkg/ under /pkg/ and the fixtures under /work/.
const MIME = { ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".json": "application/json", ".html": "text/html" };
const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://localhost");
  const p = decodeURIComponent(url.pathname);
  if (p === "/favicon.ico") {
    // Browsers ask every host for one.
    res.writeHead(204);
    return res.end();
  }
  if (p === "/") {
    res.writeHead(200, { "Content-Type": "text/html" });
    return res.end("<!doctype html><title>pkg test</title>");
  }
  const [root, rest] = p.startsWith("/pkg/") ? [PKG, p.slice(5)] : p.startsWith("/work/") ? [work, p.slice(6)] : [null, null];
  const file = root && path.resolve(root, rest);
  if (!file || !file.startsWith(root + path.sep) || !fs.existsSync(file)) {
    res.writeHead(404);
    return res.end();
  }
  res.writeHead(200, { "Content-Type": MIME[path.extname(file)] || "application/octet-stream" });
  fs.createReadStream(file).pipe(res);
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const origin = `http://127.0.0.1:${server.address().port}`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
const page = await browser.newPage();
const problems = [];
page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
page.on("console", (m) => m.type() === "error" && problems.push(`console.error: ${m.text()}`));
await page.goto(`${origin}/`);

const MODULE = `${origin}/pkg/dist/web/mcp_train_js.js`;
const options = { createdAt: CREATED_AT, fileName: path.basename(exportFile), params: { seed: SEED, nEstimators: 60 } };

// In the page: the module, initialised; the export; a SHA-256 helper.
await page.evaluate(async ({ MODULE, exportName }) => {
  const mod = await import(MODULE);
  await mod.default();
  window.mod = mod;
  window.exportBytes = new Uint8Array(await (await fetch(`/work/${exportName}`)).arrayBuffer());
  window.sha256 = async (bytes) =>
    Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
}, { MODULE, exportName: path.basename(exportFile) });

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test("train in the page gives the CLI's model.json bytes", async () => {
  const got = await page.evaluate(async (options) => {
    const { modelJson, version } = window.mod.train(window.exportBytes, options);
    return { sha: await window.sha256(modelJson), version };
  }, options);
  assert.equal(got.version, "20240601_120000");
  assert.equal(got.sha, expected.model);
});

test("train in a module Worker gives the CLI's model.json bytes", async () => {
  const sha = await page.evaluate(async ({ MODULE, options }) => {
    const source = `
      import init, { train } from ${JSON.stringify(MODULE)};
      onmessage = async ({ data }) => {
        await init();
        const { modelJson } = train(data.bytes, data.options);
        postMessage(modelJson, [modelJson.buffer]);
      };`;
    const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
    const worker = new Worker(url, { type: "module" });
    const modelJson = await new Promise((resolve, reject) => {
      worker.onmessage = ({ data }) => resolve(data);
      worker.onerror = (e) => reject(new Error(e.message));
      worker.postMessage({ bytes: window.exportBytes, options });
    });
    worker.terminate();
    return window.sha256(modelJson);
  }, { MODULE, options });
  assert.equal(sha, expected.model);
});

test("an aborted signal throws ABORTED and returns no model", async () => {
  const got = await page.evaluate((options) => {
    const controller = new AbortController();
    let result;
    try {
      result = window.mod.train(window.exportBytes, options, {
        signal: controller.signal,
        onProgress: (p) => { if (p.stage === "features") controller.abort(); },
      });
    } catch (e) {
      return { isError: e instanceof Error, code: e.code, result: result === undefined };
    }
    return { isError: false };
  }, options);
  assert.deepEqual(got, { isError: true, code: "ABORTED", result: true });
});

test("buildPackage gives the CLI's ZIP and verifyPackage accepts it", async () => {
  const got = await page.evaluate(async (options) => {
    const { modelJson } = window.mod.train(window.exportBytes, options);
    const built = window.mod.buildPackage(modelJson);
    return { sha: await window.sha256(built.bytes), ok: window.mod.verifyPackage(built.bytes).ok };
  }, options);
  assert.deepEqual(got, { sha: expected.zip, ok: true });
});

test("a broken export throws INVALID_EXPORT with its line", async () => {
  const got = await page.evaluate(() => {
    try {
      window.mod.validate(new Uint8Array());
      window.mod.train(new TextEncoder().encode('{"data": [\n  {,}\n]}'), { createdAt: "2024-01-01T00:00:00Z" });
    } catch (e) {
      return { code: e.code, line: e.line };
    }
    return null;
  });
  assert.deepEqual(got, { code: "INVALID_EXPORT", line: 2 });
});

let passed = 0;
let failed = 0;
for (const t of tests) {
  try {
    await t.fn();
    passed += 1;
    console.log(`ok - ${t.name}`);
  } catch (e) {
    failed += 1;
    console.log(`not ok - ${t.name}\n  ${String(e.stack || e).split("\n").join("\n  ")}`);
  }
}
if (problems.length > 0) {
  failed += 1;
  console.log(`not ok - no errors in the page\n  ${problems.join("\n  ")}`);
} else {
  passed += 1;
  console.log("ok - no errors in the page");
}
await browser.close();
server.close();
console.log(`pkg browser: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
