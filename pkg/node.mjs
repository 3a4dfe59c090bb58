// The package in Node (>= 18): the `web` build of the wasm module, instantiated synchronously
// from the file next to it, so everything is ready once this module is imported. `init()` is
// exported too (it does nothing here), so code written for the browser (`await init()`) runs
// unchanged in Node.
import { readFileSync } from "node:fs";
import { initSync } from "./dist/web/mcp_train_js.js";

initSync({ module: readFileSync(new URL("./dist/web/mcp_train_js_bg.wasm", import.meta.url)) });

export * from "./dist/web/mcp_train_js.js";

/** Ready already in Node; in a browser, the default export fetches and instantiates the wasm. */
export default async function init() {}
