// Browser benchmark: training in the web app (wasm32 in a worker, headless Chromium) against the
// native CLI, on the same synthetic exports.
//
//   scripts/bench-web.sh                          # builds what is needed, then runs this
//   BENCH_SIZES=100000,1000000 BENCH_RUNS=3 node tests/web/bench.mjs   # fastest of 3 trainings
//
// Per size: synth an export (seed 7), then
//   browser validate  from picking the file to the validation report
//   browser train     from clicking start-training to the job's row reading completed
//   CLI validate/train  wall time of `mcp-train validate` / `mcp-train train --seed 7`
// with the same default parameters. Prints a table, the ratio, and the size of dist/.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import {
  DIST, cliPath, launchBrowser, openPage, pickExport, run, serveDist, setField, startTraining,
  waitJob,
} from './lib.mjs';

const SEED = 7;
const sizes = (process.env.BENCH_SIZES || '100000,1000000').split(',').map(Number);
// Trainings per size (browser and CLI); the table shows the fastest.
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS || 1));
const bin = cliPath();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-train-bench-'));

function distSizes() {
  let total = 0;
  let wasm = 0;
  let wasmGz = 0;
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const size = fs.statSync(p).size;
        total += size;
        if (p.endsWith('.wasm')) {
          wasm += size;
          wasmGz += zlib.gzipSync(fs.readFileSync(p), { level: 9 }).length;
        }
      }
    }
  };
  walk(DIST);
  return { total, wasm, wasmGz };
}

const s = (ms) => (ms / 1000).toFixed(2);

/** Records, per job row, when its stage changes: the status, or while running the stage named by
 *  its progress label ("features · 42%"; the label's markup is the app's, not the contract's, so
 *  this breakdown is best effort). */
async function watchStages(page) {
  await page.evaluate(() => {
    window.__stages = {};
    const scan = () => {
      const now = performance.now();
      for (const row of document.querySelectorAll('[data-testid=job-row]')) {
        const status = row.getAttribute('data-status');
        const label = row.querySelector('progress + *');
        const stage = (status === 'running' && label && label.textContent.split(' · ')[0].trim()) || status;
        const log = (window.__stages[row.getAttribute('data-job-id')] ||= []);
        if (!log.length || log[log.length - 1][0] !== stage) log.push([stage, now]);
      }
    };
    new MutationObserver(scan).observe(document.body,
      { subtree: true, childList: true, characterData: true, attributes: true });
  });
}

async function main() {
  const server = await serveDist();
  const browser = await launchBrowser();
  console.log(`${browser.version()} · ${os.cpus().length} cores · ${bin}`);
  const rows = [];
  try {
    for (const n of sizes) {
      const dir = path.join(work, String(n));
      fs.mkdirSync(dir);
      const file = path.join(dir, 'export.json');
      run(bin, ['synth', '-n', String(n), '--seed', String(SEED), '-o', file, '--quiet']);
      const mb = fs.statSync(file).size / 1e6;
      console.log(`\n${n.toLocaleString('en-US')} records (${mb.toFixed(1)} MB)`);

      const best = (f) => Math.min(...Array.from({ length: RUNS }, f));
      const cliValidate = best(() => run(bin, ['validate', file, '--quiet']).seconds * 1000);
      const cliTrain = best(() => run(bin,
        ['train', file, '--seed', String(SEED), '--out', path.join(dir, 'cli.json'), '--quiet']).seconds * 1000);
      console.log(`  CLI      validate ${s(cliValidate)} s · train ${s(cliTrain)} s`);

      // A fresh profile per size, so storage from the previous size does not weigh in.
      const context = await browser.newContext();
      const page = await context.newPage();
      page.setDefaultTimeout(60_000);
      page.on('pageerror', (e) => console.log(`  page error: ${e.message}`));
      page.on('console', (m) => m.type() === 'error' && console.log(`  console.error: ${m.text()}`));
      await page.goto(server.url);
      await openPage(page, 'training', 'training-page');
      const report = await pickExport(page, file, { records: n, timeout: 900_000 });
      if (report.valid !== 'true') throw new Error(`${n}: ${report.fileError || report.text}`);
      await setField(page, 'input[name=seed]', SEED);
      await watchStages(page);
      let train = Infinity;
      let id;
      for (let i = 0; i < RUNS; i++) {
        const t0 = Date.now();
        const job = await startTraining(page);
        const end = await waitJob(page, job, ['completed'], { timeout: 1_800_000, polling: 10 });
        if (end.status !== 'completed') throw new Error(`${n}: job ${end.status} ${end.error || ''}`);
        if (Date.now() - t0 < train) [train, id] = [Date.now() - t0, job];
      }
      console.log(`  browser  validate ${s(report.ms)} s · train ${s(train)} s`);
      const stages = await page.evaluate((id) => window.__stages[id] || [], id);
      if (stages.length > 1) {
        const parts = stages.slice(0, -1).map(([name, t], i) => `${name} ${s(stages[i + 1][1] - t)}`);
        console.log(`  browser  stages (s): ${parts.join(' · ')}`);
      }
      rows.push({ n, mb, bValidate: report.ms, bTrain: train, cValidate: cliValidate, cTrain: cliTrain });
      await context.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    await browser.close();
    await server.close();
    fs.rmSync(work, { recursive: true, force: true });
  }

  const line = (cells) => `| ${cells.join(' | ')} |`;
  console.log();
  console.log(line(['records', 'export', 'browser validate', 'CLI validate', 'browser train', 'CLI train', 'train ratio']));
  console.log(line(['---:', '---:', '---:', '---:', '---:', '---:', '---:']));
  for (const r of rows) {
    console.log(line([r.n.toLocaleString('en-US'), `${r.mb.toFixed(0)} MB`, `${s(r.bValidate)} s`, `${s(r.cValidate)} s`,
      `${s(r.bTrain)} s`, `${s(r.cTrain)} s`, `${(r.bTrain / r.cTrain).toFixed(2)}×`]));
  }
  const d = distSizes();
  console.log(`\ndist/ ${(d.total / 1e6).toFixed(2)} MB; .wasm ${(d.wasm / 1e6).toFixed(2)} MB, ` +
    `${(d.wasmGz / 1e6).toFixed(2)} MB gzipped (-9)`);
  console.log('browser validate: picking the file → validation report (read + parse + validate in the app);');
  console.log('browser train: click on start-training → job completed; CLI: wall time of the process' +
    (RUNS > 1 ? `; fastest of ${RUNS} trainings.` : '.'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
