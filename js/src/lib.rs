//! The mcp-train core for JavaScript and TypeScript (the npm package built into `pkg/`).

use wasm_bindgen::prelude::*;

/// The package's version (the workspace's).
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
