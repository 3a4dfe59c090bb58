//! What the end-to-end tests share: running the binary, checking how it exited, and a scratch
//! directory per test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `mcp-train` with `args` and extra environment variables (never a caller's
/// `SOURCE_DATE_EPOCH` or `MCP_TRAIN_DATA`).
pub fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mcp-train"));
    command
        .args(args)
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("MCP_TRAIN_DATA");
    for (k, v) in env {
        command.env(k, v);
    }
    command
}

/// Runs `mcp-train` to completion.
pub fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    command(args, env).output().expect("runs mcp-train")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts a zero exit, showing the output otherwise; returns stdout.
pub fn ok(o: &Output) -> String {
    assert_eq!(
        o.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    text(&o.stdout)
}

/// Exit code and `error:` line of a failed run; the failure must be that one line, never a
/// panic.
pub fn failure(o: &Output) -> (i32, String) {
    let err = text(&o.stderr);
    assert!(
        !err.contains("panicked") && !err.contains("internal error"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: "), "{err}");
    (o.status.code().unwrap_or(-1), err.trim_end().to_owned())
}

/// Exit code of a failed run (see [`failure`]).
pub fn failed(o: &Output) -> i32 {
    failure(o).0
}

/// A successful run's stdout, as JSON.
pub fn stdout_json(o: &Output) -> serde_json::Value {
    serde_json::from_str(&ok(o)).expect("stdout is JSON")
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

pub mod mcp;
pub mod server;
