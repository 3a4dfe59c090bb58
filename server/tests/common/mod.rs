//! What the end-to-end tests share: running the binary, checking how it exited, and a scratch
//! directory per test.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `mcp-train` with `args` and extra environment variables (never a caller's
/// `SOURCE_DATE_EPOCH` or `MCP_TRAIN_DATA`).
pub fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mcp-train"));
    command
        .args(args)
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("MCP_TRAIN_DATA");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("runs mcp-train")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts a zero exit, showing the output otherwise.
pub fn ok(o: &Output) {
    assert_eq!(
        o.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        text(&o.stdout),
        text(&o.stderr)
    );
}

/// Exit code of a failed run; the failure must be one `error:` line, never a panic.
pub fn failed(o: &Output) -> i32 {
    let err = text(&o.stderr);
    assert!(
        !err.contains("panicked") && !err.contains("internal error"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: "), "{err}");
    o.status.code().unwrap_or(-1)
}

/// A scratch directory, removed when the test ends.
pub struct Work {
    pub dir: tempfile::TempDir,
}

impl Work {
    pub fn new() -> Work {
        Work {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    pub fn s(&self, name: &str) -> String {
        self.path(name).to_string_lossy().into_owned()
    }
    /// A labelled synthetic export of `records` records.
    pub fn synth(&self, name: &str, records: &str, seed: &str) -> String {
        ok(&run(
            &[
                "synth",
                "--records",
                records,
                "--anomaly-ratio",
                "0.08",
                "--seed",
                seed,
                "--out",
                &self.s(name),
            ],
            &[],
        ));
        self.s(name)
    }
}

pub fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("reads")).expect("json")
}
