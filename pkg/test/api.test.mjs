// The package's own behaviour: parameters checked by the core, errors with stable codes and
// locations, progress, and cancellation (AbortSignal, the progress callback).
import assert from "node:assert/strict";
import { test } from "node:test";

import init, { Model, buildPackage, resolveParams, synth, train, validate, verifyPackage, version } from "../node.mjs";
import { CREATED_AT, SEED } from "./helpers.mjs";

const { bytes: exportBytes } = synth({ records: 1500, seed: SEED });
const options = { createdAt: CREATED_AT, params: { nEstimators: 20 } };

/** Runs `fn`, expecting an Error with `code`; returns it. */
function throwsCode(fn, code) {
  let caught;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof Error, `expected an Error with code ${code}, got ${caught}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

test("init() resolves in Node and the version is the workspace's", async () => {
  await init();
  assert.match(version(), /^\d+\.\d+\.\d+/);
});

test("parameters are resolved and bounded by the core", () => {
  const params = resolveParams({ detector: "lof", seed: 9, contamination: "auto", maxSamples: "0.25" });
  assert.equal(params.detector, "lof");
  assert.equal(params.seed, 9);
  assert.equal(params.contamination, "auto");
  assert.equal(params.max_samples, 0.25);
  assert.equal(resolveParams({ maxSamples: 100 }).max_samples, 100);
  let e = throwsCode(() => resolveParams({ nEstimators: 0 }), "INVALID_PARAMETER");
  assert.match(e.message, /n_estimators/);
  e = throwsCode(() => resolveParams({ contamination: 0.9 }), "INVALID_PARAMETER");
  assert.match(e.message, /contamination/);
  throwsCode(() => resolveParams({ detector: "kmeans" }), "INVALID_PARAMETER");
  throwsCode(() => resolveParams({ seed: -1 }), "INVALID_PARAMETER");
  e = throwsCode(() => resolveParams({ nTrees: 5 }), "INVALID_ARGUMENT");
  assert.match(e.message, /nTrees/);
});

test("train needs a valid createdAt and refuses bad parameters before reading the data", () => {
  throwsCode(() => train(exportBytes, {}), "INVALID_ARGUMENT");
  const e = throwsCode(() => train(exportBytes, { createdAt: "yesterday" }), "INVALID_ARGUMENT");
  assert.match(e.message, /createdAt/);
  throwsCode(() => train(exportBytes, { ...options, params: { nNeighbors: 100000 } }), "INVALID_PARAMETER");
});

test("an unreadable export throws INVALID_EXPORT with its line and column", () => {
  const bad = new TextEncoder().encode('{"data": [\n  {"timestamp": 1,,}\n]}');
  const e = throwsCode(() => train(bad, options), "INVALID_EXPORT");
  assert.equal(e.line, 2);
  assert.equal(typeof e.column, "number");
  assert.match(e.message, /line 2, column/);
  throwsCode(() => train(new Uint8Array(), options), "INVALID_EXPORT");
});

test("validate reports a record's bad field with its record index", () => {
  // A record whose log level is not one: the report names the record and field.
  const original = new TextDecoder().decode(exportBytes);
  const broken = original.replace(/"log_level":"[A-Za-z]+"/, '"log_level":"LOUD"');
  assert.notEqual(broken, original);
  const { report } = validate(new TextEncoder().encode(broken));
  assert.equal(report.valid, false);
  const issue = report.errors[0].examples[0];
  assert.equal(issue.record, 0);
  assert.equal(issue.field, "log_level");
});

test("progress goes through the stages in order and ends done at 1", () => {
  const seen = [];
  train(exportBytes, options, { onProgress: (p) => { seen.push(p); } });
  const stages = [...new Set(seen.map((p) => p.stage))];
  assert.deepEqual(stages, ["validate", "features", "scale", "fit", "score", "evaluate", "done"]);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i].fraction >= seen[i - 1].fraction);
  assert.equal(seen.at(-1).fraction, 1);
});

test("an aborted signal stops training with ABORTED and no model", () => {
  const controller = new AbortController();
  controller.abort();
  let result;
  throwsCode(() => { result = train(exportBytes, options, { signal: controller.signal }); }, "ABORTED");
  assert.equal(result, undefined);
});

test("aborting from the progress callback stops at the next step", () => {
  const controller = new AbortController();
  const stages = [];
  let result;
  throwsCode(() => {
    result = train(exportBytes, options, {
      signal: controller.signal,
      onProgress: (p) => {
        stages.push(p.stage);
        if (p.stage === "fit") controller.abort();
      },
    });
  }, "ABORTED");
  assert.equal(result, undefined);
  assert.ok(!stages.includes("evaluate") && !stages.includes("done"), stages.join(","));
});

test("onProgress returning false aborts; an exception in it is rethrown as it is", () => {
  throwsCode(() => train(exportBytes, options, { onProgress: (p) => p.stage !== "features" }), "ABORTED");
  const mine = new RangeError("mine");
  assert.throws(() => train(exportBytes, options, { onProgress: () => { throw mine; } }), (e) => e === mine);
  throwsCode(() => train(exportBytes, options, { onProgress: 5 }), "INVALID_ARGUMENT");
});

test("the same inputs give the same bytes; measureDuration records time", () => {
  const a = train(exportBytes, options).modelJson;
  const b = train(exportBytes, options).modelJson;
  assert.deepEqual(a, b);
  const model = Model.fromJson(a).toObject();
  assert.equal(model.training.duration_ms, 0);
  assert.equal(model.created_at, "2024-06-01T12:00:00Z");
  const timed = Model.fromJson(train(exportBytes, { ...options, measureDuration: true }).modelJson).toObject();
  assert.ok(timed.training.duration_ms > 0, `duration_ms ${timed.training.duration_ms}`);
});

test("a model that is not one throws INVALID_MODEL; a ZIP that is not one INVALID_PACKAGE", () => {
  throwsCode(() => Model.fromJson(new TextEncoder().encode("{}")), "INVALID_MODEL");
  throwsCode(() => buildPackage(new TextEncoder().encode("not json")), "INVALID_MODEL");
  throwsCode(() => verifyPackage(new Uint8Array([1, 2, 3])), "INVALID_PACKAGE");
});

test("scoreRows refuses rows that are not whole rows of the model's features", () => {
  const model = Model.fromJson(train(exportBytes, options).modelJson);
  const width = model.featureNames.length;
  assert.equal(model.scoreRows(new Float64Array(width * 2)).score.length, 2);
  throwsCode(() => model.scoreRows(new Float64Array(width + 1)), "INVALID_ARGUMENT");
  const nan = new Float64Array(width).fill(Number.NaN);
  throwsCode(() => model.scoreRows(nan), "TRAINING_FAILED");
});

test("lineDetector names a bad line and goes on with the next", () => {
  const model = Model.fromJson(train(exportBytes, options).modelJson);
  const detector = model.lineDetector({ all: true });
  const records = JSON.parse(new TextDecoder().decode(exportBytes)).data;
  const first = detector.push(JSON.stringify(records[0]));
  assert.equal(first.entry.index, 0);
  assert.equal(typeof first.inference.is_anomaly, "boolean");
  const e = throwsCode(() => detector.push('{"timestamp": "not a time", "message": "x"}'), "BAD_LINE");
  assert.equal(e.line, 2);
  assert.match(e.message, /^line 2:/);
  assert.equal(detector.push(""), undefined);
  assert.equal(detector.push(JSON.stringify(records[1])).entry.index, 3);
  assert.equal(detector.lines, 4);
});

test("synth refuses out-of-range options naming them", () => {
  throwsCode(() => synth({ records: 10, anomalyRatio: 0.9 }), "INVALID_ARGUMENT");
  throwsCode(() => synth({ records: 10, logType: "nope" }), "UNSUPPORTED_LOG_TYPE");
  throwsCode(() => synth({}), "INVALID_ARGUMENT");
});
