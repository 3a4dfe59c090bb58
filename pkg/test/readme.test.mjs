// The READMEs' TypeScript examples (the ```ts blocks of README.md and pkg/README.md) run as
// written against the built package: installed under its npm name in a scratch node_modules,
// run by Node's type stripping (Node >= 22.6). A broken example fails here.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";

import { PKG, ROOT, workDir } from "./helpers.mjs";

const NAME = JSON.parse(fs.readFileSync(path.join(PKG, "package.json"), "utf8")).name;

function tsBlocks(file) {
  const text = fs.readFileSync(file, "utf8");
  return [...text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

const dir = workDir();
fs.mkdirSync(path.join(dir, "node_modules", path.dirname(NAME)), { recursive: true });
fs.symlinkSync(PKG, path.join(dir, "node_modules", NAME), "dir");

for (const readme of [path.join(ROOT, "README.md"), path.join(PKG, "README.md")]) {
  const blocks = tsBlocks(readme);
  test(`${path.relative(ROOT, readme)} has a TypeScript example`, () => {
    assert.ok(blocks.length > 0, `no \`\`\`ts block in ${readme}`);
  });
  blocks.forEach((code, i) => {
    test(`${path.relative(ROOT, readme)} TypeScript example ${i + 1} runs`, () => {
      const [major, minor] = process.versions.node.split(".").map(Number);
      assert.ok(major > 22 || (major === 22 && minor >= 6), `Node >= 22.6 runs TypeScript; this is ${process.version}`);
      const file = path.join(dir, `example-${path.basename(path.dirname(readme))}-${i + 1}.mts`);
      fs.writeFileSync(file, code);
      const r = spawnSync(process.execPath, ["--experimental-strip-types", "--no-warnings", file], {
        cwd: dir,
        encoding: "utf8",
      });
      assert.equal(r.status, 0, `the example failed:\n${r.stdout}${r.stderr}`);
    });
  });
}
