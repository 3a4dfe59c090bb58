// The built package against the CLI on the same inputs: the same bytes (models, packages,
// synthetic exports, imported logs) and the same reports.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";

import {
  buildPackage, extractFeatures, importLog, listAgents, Model, synth, train, validate, verifyPackage,
} from "../node.mjs";
import { CREATED_AT, ROOT, SEED, cli, cliExport, sha256, workDir } from "./helpers.mjs";

const dir = workDir();
const { file: exportFile, bytes: exportBytes } = cliExport(dir);
const fileName = path.basename(exportFile);

/** The CLI's model of the export: `mcp-train train` under SOURCE_DATE_EPOCH with `flags`. */
function cliModel(name, flags) {
  const out = path.join(dir, `${name}.json`);
  cli(["train", exportFile, "-o", out, ...flags]);
  return new Uint8Array(fs.readFileSync(out));
}

const FOREST = { flags: ["--seed", String(SEED), "--n-estimators", "60"], params: { seed: SEED, nEstimators: 60 } };
const cliForest = cliModel("forest", FOREST.flags);

test("synth gives the CLI's export byte for byte", () => {
  const { bytes, summary } = synth({ records: 3000, seed: SEED });
  assert.equal(sha256(bytes), sha256(exportBytes));
  assert.equal(summary.records, 3000);
  assert.equal(summary.bytes, exportBytes.length);
});

test("train (isolation forest) gives the CLI's model.json byte for byte", () => {
  const { modelJson, version, report } = train(exportBytes, { createdAt: CREATED_AT, fileName, params: FOREST.params });
  assert.equal(version, "20240601_120000");
  assert.equal(report.valid, true);
  assert.equal(sha256(modelJson), sha256(cliForest));
  assert.equal(Buffer.from(modelJson).compare(Buffer.from(cliForest)), 0);
});

test("train (LOF, contamination, drop invalid) gives the CLI's model.json byte for byte", () => {
  const expected = cliModel("lof", ["--model", "lof", "--n-neighbors", "12", "--contamination", "0.05", "--seed", "3", "--drop-invalid"]);
  const { modelJson } = train(exportBytes, {
    createdAt: CREATED_AT,
    fileName,
    params: { detector: "lof", nNeighbors: 12, contamination: 0.05, seed: 3, dropInvalid: true },
  });
  assert.equal(sha256(modelJson), sha256(expected));
});

test("train with max samples as a fraction gives the CLI's model", () => {
  const expected = cliModel("fraction", ["--max-samples", "0.5", "--n-estimators", "20"]);
  const { modelJson } = train(exportBytes, { createdAt: CREATED_AT, fileName, params: { maxSamples: 0.5, nEstimators: 20 } });
  assert.equal(sha256(modelJson), sha256(expected));
});

test("validate gives the CLI's report", () => {
  const expected = JSON.parse(cli(["validate", exportFile, "--json"]));
  const { logType, raw, report } = validate(exportBytes);
  assert.equal(raw, false);
  assert.deepEqual({ ...report, log_type: logType }, expected);
});

test("validate of a broken export names line and column, as the CLI does", () => {
  const broken = path.join(dir, "broken.json");
  fs.writeFileSync(broken, '{"data": [\n  {"timestamp": 1,,}\n]}');
  const expected = JSON.parse(cli(["validate", broken, "--json"], { check: false }));
  const { report } = validate(fs.readFileSync(broken));
  assert.equal(report.valid, false);
  assert.deepEqual({ ...report, log_type: "wifi" }, { ...expected, log_type: "wifi" });
  assert.equal(report.errors[0].examples[0].line, 2);
});

test("Model.score gives the CLI's scores", () => {
  const out = path.join(dir, "scores.json");
  cli(["score", path.join(dir, "forest.json"), exportFile, "-o", out, "--format", "json"]);
  const expected = JSON.parse(fs.readFileSync(out, "utf8"));
  const scores = Model.fromJson(cliForest).score(exportBytes);
  assert.equal(scores.score.length, expected.length);
  expected.forEach((row, i) => {
    assert.equal(scores.index[i], row.index);
    assert.equal(scores.score[i], row.score);
    assert.equal(scores.decision[i], row.decision);
    assert.equal(scores.isAnomaly[i], row.is_anomaly ? 1 : 0);
    assert.equal(scores.timestamp[i], row.timestamp);
    assert.equal(scores.label[i], row.label === undefined ? -1 : Number(row.label));
  });
  assert.equal(scores.flagged, expected.filter((r) => r.is_anomaly).length);
});

test("Model.evaluate gives the CLI's evaluation", () => {
  const expected = JSON.parse(cli(["evaluate", path.join(dir, "forest.json"), exportFile, "--json"]));
  assert.deepEqual(Model.fromJson(cliForest).evaluate(exportBytes), expected);
});

test("Model.scoreRows on extracted features equals Model.score", () => {
  const model = Model.fromJson(cliForest);
  const matrix = extractFeatures(exportBytes);
  assert.deepEqual(matrix.names, model.featureNames);
  const rows = model.scoreRows(matrix.data);
  const scores = model.score(exportBytes);
  // score() lists rows in record order; the matrix is in timestamp order.
  const byIndex = new Map(Array.from(scores.index, (index, i) => [index, scores.score[i]]));
  Array.from(matrix.recordIndex).forEach((index, i) => assert.equal(rows.score[i], byIndex.get(index)));
});

test("extractFeatures gives the CLI's feature matrix", () => {
  const out = path.join(dir, "features.csv");
  cli(["features", exportFile, "-o", out]);
  const [header, ...lines] = fs.readFileSync(out, "utf8").trimEnd().split("\n");
  const matrix = extractFeatures(exportBytes);
  assert.deepEqual(matrix.names, header.split(","));
  assert.equal(matrix.nRows, lines.length);
  assert.equal(matrix.data.length, matrix.nRows * matrix.nCols);
  lines.forEach((line, r) => line.split(",").forEach((v, c) => assert.equal(matrix.data[r * matrix.nCols + c], Number(v))));
});

test("lineDetector over NDJSON lines finds the anomalies `mcp-train detect` finds", () => {
  const records = JSON.parse(new TextDecoder().decode(exportBytes)).data;
  const ndjson = path.join(dir, "records.ndjson");
  fs.writeFileSync(ndjson, records.map((r) => JSON.stringify(r)).join("\n") + "\n");
  const expected = cli(["detect", path.join(dir, "forest.json"), ndjson]).trim().split("\n").filter(Boolean).map(JSON.parse);
  const detector = Model.fromJson(cliForest).lineDetector();
  const found = [];
  for (const line of fs.readFileSync(ndjson, "utf8").split("\n")) {
    const anomaly = detector.push(line);
    if (anomaly) found.push(anomaly);
  }
  assert.ok(expected.length > 0, "the CLI found anomalies");
  assert.deepEqual(found, expected);
});

test("buildPackage gives the CLI's ZIP byte for byte, and verifyPackage the CLI's verdict", () => {
  const zip = path.join(dir, "package.zip");
  cli(["package", path.join(dir, "forest.json"), "-o", zip]);
  const expected = new Uint8Array(fs.readFileSync(zip));
  const built = buildPackage(cliForest);
  assert.equal(built.fileName, "model_20240601_120000_deployment.zip");
  assert.equal(sha256(built.bytes), sha256(expected));
  const verdict = JSON.parse(cli(["verify", zip, "--json"]));
  assert.deepEqual(verifyPackage(built.bytes), verdict);
  assert.equal(verdict.ok, true);
});

test("importLog gives the CLI's export of a raw dnsmasq log", () => {
  const log = path.join(ROOT, "tests/fixtures/real/dns/dnsmasq.log");
  const year = fs.statSync(log).mtime.getUTCFullYear();
  const out = path.join(dir, "dns.json");
  cli(["import", log, "--drop-invalid", "-o", out]);
  const expected = fs.readFileSync(out);
  const imported = importLog(fs.readFileSync(log), { dropInvalid: true, defaultYear: year, source: log });
  assert.equal(sha256(imported), sha256(expected));
});

test("listAgents lists the CLI's agents and their features", () => {
  const expected = JSON.parse(cli(["agents", "list", "--json"]));
  const agents = listAgents();
  assert.deepEqual(agents.map((a) => a.name), expected.map((a) => a.name));
  agents.forEach((a, i) => {
    const { log_schema: _a, ...ours } = a;
    const { log_schema: _b, ...theirs } = expected[i];
    assert.deepEqual(ours, theirs);
    assert.ok(a.log_schema && typeof a.log_schema === "object");
  });
});
