// Shared by the package's tests: the mcp-train CLI (the reference) and fixtures it makes.
//
// MCP_TRAIN_BIN names the CLI (scripts/pkg.sh test sets it to the build `cargo test` made).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const PKG = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const ROOT = path.resolve(PKG, "..");

/** The creation time every reproducible model here is trained at, and as SOURCE_DATE_EPOCH. */
export const CREATED_AT = "2024-06-01T12:00:00Z";
export const EPOCH = String(Date.parse(CREATED_AT) / 1000);
export const SEED = 7;

export function cliPath() {
  const bin = process.env.MCP_TRAIN_BIN;
  if (!bin || !fs.existsSync(bin)) {
    throw new Error(`MCP_TRAIN_BIN must name the mcp-train CLI (found ${JSON.stringify(bin)}); run scripts/pkg.sh test`);
  }
  return bin;
}

/** Runs the CLI; returns stdout. Throws with its output when it fails. */
export function cli(args, { env = {}, check = true } = {}) {
  const r = spawnSync(cliPath(), [...args, "--quiet"].filter((a) => a !== null), {
    env: { ...process.env, SOURCE_DATE_EPOCH: EPOCH, ...env },
    encoding: "utf8",
    maxBuffer: 256 << 20,
  });
  if (r.error) throw r.error;
  if (check && r.status !== 0) {
    throw new Error(`mcp-train ${args.join(" ")} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  }
  return r.stdout;
}

export const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

/** A fresh work directory, removed when the process exits. */
export function workDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mcp-train-pkg-"));
  process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A synthetic wifi export made by the CLI: its path and bytes. */
export function cliExport(dir, records = 3000, seed = SEED) {
  const file = path.join(dir, `export-${records}-${seed}.json`);
  if (!fs.existsSync(file)) cli(["synth", "-n", String(records), "--seed", String(seed), "-o", file]);
  return { file, bytes: new Uint8Array(fs.readFileSync(file)) };
}
