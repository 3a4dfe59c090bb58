// The `bundler` build (`@mcp-train/core/bundler`: the wasm imported as an ES module, as bundlers
// and Node's --experimental-wasm-modules load it) trains the same bytes as the web build.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { test } from "node:test";

import { synth, train } from "../node.mjs";
import { CREATED_AT, PKG, SEED, sha256 } from "./helpers.mjs";

const options = { createdAt: CREATED_AT, params: { seed: SEED, nEstimators: 30 } };

test("the bundler build trains the web build's model.json", () => {
  const script = `
    import { createHash } from "node:crypto";
    import { synth, train } from ${JSON.stringify(path.join(PKG, "dist/bundler/mcp_train_js.js"))};
    const { bytes } = synth({ records: 1500, seed: ${SEED} });
    const { modelJson } = train(bytes, ${JSON.stringify(options)});
    console.log(createHash("sha256").update(modelJson).digest("hex"));`;
  const r = spawnSync(process.execPath, ["--experimental-wasm-modules", "--no-warnings", "--input-type=module", "-e", script], {
    encoding: "utf8",
  });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  const { bytes } = synth({ records: 1500, seed: SEED });
  assert.equal(r.stdout.trim(), sha256(train(bytes, options).modelJson));
});
