//! End-to-end tests of the `mcp-train` binary, run the way a person runs it.
//! Regression tests are named after what they guard.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mcp-train"))
}

fn run(args: &[&str]) -> Output {
    bin()
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run mcp-train: {e}"))
}

fn run_stdin(args: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run mcp-train: {e}"));
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input)
            .unwrap_or_else(|e| panic!("stdin: {e}"));
    }
    child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("wait: {e}"))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit code, and: no panic, no stack trace, at most one `error:` line.
fn code(o: &Output) -> i32 {
    let err = stderr(o);
    assert!(
        !err.contains("panicked")
            && !err.contains("internal error")
            && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
    assert!(
        err.lines().filter(|l| l.starts_with("error")).count() <= 1,
        "{err}"
    );
    o.status.code().unwrap_or(-1)
}

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Dir {
        Dir(tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}")))
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
    fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> String {
        let path = self.path(name);
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("write {name}: {e}"));
        path.to_string_lossy().into_owned()
    }
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn record(ts: &str, level: &str, process: &str, message: &str) -> Value {
    serde_json::json!({"timestamp": ts, "log_level": level, "process_name": process, "message": message})
}

fn small_export() -> String {
    let data: Vec<Value> = (0..20)
        .map(|i| {
            let mut r = record(
                &format!("2024-01-01T12:00:{:02}Z", i),
                "INFO",
                "hostapd",
                &format!("wlan0: AP-STA-CONNECTED 00:11:22:33:44:{i:02x}"),
            );
            r["label"] = Value::from(i64::from(i == 7));
            r
        })
        .collect();
    serde_json::json!({"export_metadata": {"total_records": 20}, "data": data}).to_string()
}

#[test]
fn help_lists_the_commands() {
    let o = run(&["--help"]);
    assert_eq!(code(&o), 0);
    for command in ["validate", "features", "synth"] {
        assert!(stdout(&o).contains(command), "{}", stdout(&o));
    }
    for command in ["validate", "features", "synth"] {
        assert_eq!(code(&run(&[command, "--help"])), 0);
    }
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(code(&run(&["validate"])), 2);
    assert_eq!(code(&run(&["validate", "x.json", "--no-such-flag"])), 2);
    assert_eq!(code(&run(&["frobnicate"])), 2);
}

#[test]
fn validate_a_good_export() {
    let dir = Dir::new();
    let file = dir.write("good.json", small_export());
    let o = run(&["validate", &file]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains(": valid (object, 20 usable of 20 records"),
        "{text}"
    );
    assert!(
        text.contains("Labels     20 labelled, 1 anomalies"),
        "{text}"
    );

    let o = run(&["validate", &file, "--json"]);
    assert_eq!(code(&o), 0);
    let report: Value = serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report["valid"], true);
    assert_eq!(report["summary"]["records"], 20);
    assert_eq!(report["summary"]["processes"][0]["name"], "hostapd");
}

#[test]
fn validate_reads_stdin() {
    let o = run_stdin(&["validate", "-", "--json"], small_export().as_bytes());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("\"valid\": true"));
}

#[test]
fn validate_missing_file_is_an_io_error() {
    let o = run(&["validate", "/definitely/not/here.json"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).starts_with("error: cannot open /definitely/not/here.json"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn broken_inputs_get_a_clear_located_error() {
    let dir = Dir::new();
    let good = small_export();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("not json", b"this is not json".to_vec(), "line 1, column 1"),
        ("truncated", good.as_bytes()[..good.len() / 2].to_vec(), "line 1, column"),
        ("empty", Vec::new(), "the export is empty"),
        ("nan", b"[{\"timestamp\": NaN}]".to_vec(), "line 1, column 16"),
        (
            "invalid utf-8",
            b"[{\"timestamp\": \"2024-01-01T00:00:00Z\", \"message\": \"\xff\xfe\"}]".to_vec(),
            "line 1, column",
        ),
        (
            "wrong type",
            br#"[{"timestamp": "2024-01-01T00:00:00Z", "log_level": "INFO", "process_name": "x", "message": 42}]"#.to_vec(),
            "record 0, field \"message\": expected a string, found number",
        ),
        (
            "bad timestamp",
            br#"[{"timestamp": "2024-01-01 25:00", "log_level": "INFO", "process_name": "x", "message": "m"}]"#.to_vec(),
            "record 0, field \"timestamp\": hour out of range",
        ),
        ("no records", b"{\"data\": []}".to_vec(), "no records"),
        ("deep nesting", format!("{{\"export_metadata\": {}{}, \"data\": []}}", "[".repeat(50_000), "]".repeat(50_000)).into_bytes(), "recursion limit"),
    ];
    for (name, bytes, expected) in cases {
        let file = dir.write("broken.json", &bytes);
        let o = run(&["validate", &file]);
        assert_eq!(code(&o), 1, "{name}: {}{}", stdout(&o), stderr(&o));
        assert!(
            stdout(&o).contains(expected),
            "{name}: expected {expected:?} in\n{}",
            stdout(&o)
        );
        // The commands that need a usable export refuse it in one line naming the same cause.
        let o = run(&["features", &file, "--out", &s(&dir.path("f.csv"))]);
        assert_eq!(code(&o), 1, "{name}");
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        assert!(err.starts_with("error: cannot use"), "{name}: {err}");
        assert!(!dir.path("f.csv").exists(), "{name}: no partial output");
    }
}

#[test]
fn five_megabyte_message_is_a_warning() {
    let dir = Dir::new();
    let export = serde_json::json!([record(
        "2024-01-01T00:00:00Z",
        "INFO",
        "hostapd",
        &"x".repeat(5 << 20)
    )]);
    let file = dir.write("big.json", export.to_string());
    let o = run(&["validate", &file]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("long_message ×1"), "{}", stdout(&o));
    let o = run(&["features", &file, "--out", &s(&dir.path("f.csv"))]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[test]
fn drop_invalid_keeps_going_and_says_why() {
    let dir = Dir::new();
    let export = serde_json::json!([
        record("2024-01-01T00:00:00Z", "INFO", "hostapd", "ok one"),
        record("not a time", "INFO", "hostapd", "bad"),
        {"timestamp": "2024-01-01T00:00:02Z", "log_level": "INFO", "process_name": "hostapd"},
        record("2024-01-01T00:00:03Z", "INFO", "hostapd", "ok two"),
    ]);
    let file = dir.write("mixed.json", export.to_string());
    let o = run(&["validate", &file]);
    assert_eq!(code(&o), 1);
    assert!(
        stdout(&o).contains("record 1, field \"timestamp\""),
        "{}",
        stdout(&o)
    );
    let o = run(&["validate", &file, "--drop-invalid"]);
    assert_eq!(code(&o), 0);
    assert!(
        stdout(&o).contains("Dropped    2 invalid records (1 missing_field, 1 bad_timestamp)"),
        "{}",
        stdout(&o)
    );
    let csv = dir.path("f.csv");
    let o = run(&["features", &file, "--drop-invalid", "--out", &s(&csv)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("2 invalid records dropped"),
        "{}",
        stderr(&o)
    );
    let text = std::fs::read_to_string(&csv).unwrap_or_default();
    assert_eq!(text.lines().count(), 3, "header + 2 rows");
}

#[test]
fn features_csv_has_the_schema_header_and_one_row_per_record() {
    let dir = Dir::new();
    let file = dir.write("good.json", small_export());
    let csv = dir.path("features.csv");
    let o = run(&["features", &file, "--out", &s(&csv), "--json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let summary: Value = serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<String> = summary["features"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(summary["rows"], 20);
    assert_eq!(summary["schema"], "wifi-v1");
    let text = std::fs::read_to_string(&csv).unwrap_or_default();
    let mut lines = text.lines();
    assert_eq!(lines.next().map(str::to_owned), Some(names.join(",")));
    assert_eq!(lines.clone().count(), 20);
    assert!(names.contains(&"is_connection_event".to_owned()));
    assert!(names.contains(&"connection_count_60m".to_owned()));
    let col = names
        .iter()
        .position(|n| n == "is_connection_event")
        .unwrap_or(usize::MAX);
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells.len(), names.len());
        assert_eq!(cells[col], "1");
    }

    let o = run(&["features", &file, "--out", &s(&csv), "--include-label"]);
    assert_eq!(code(&o), 0);
    let text = std::fs::read_to_string(&csv).unwrap_or_default();
    assert!(text.lines().next().unwrap_or_default().ends_with(",label"));
    assert_eq!(text.lines().filter(|l| l.ends_with(",1")).count(), 1);
}

#[test]
fn features_to_stdout() {
    let dir = Dir::new();
    let file = dir.write("good.json", small_export());
    let o = run(&["features", &file, "--out", "-"]);
    assert_eq!(code(&o), 0);
    assert_eq!(stdout(&o).lines().count(), 21);
}

#[test]
fn config_dir_switches_feature_groups_and_is_checked() {
    let dir = Dir::new();
    let file = dir.write("good.json", small_export());
    let config = dir.path("config");
    std::fs::create_dir(&config).unwrap_or_else(|e| panic!("{e}"));
    let model =
        mcp_train_core::config::DEFAULT_MODEL_CONFIG.replace("windows: true", "windows: false");
    std::fs::write(config.join("model_config.yaml"), model).unwrap_or_else(|e| panic!("{e}"));
    let o = run(&["features", &file, "--config", &s(&config), "--out", "-"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let header = stdout(&o).lines().next().unwrap_or_default().to_owned();
    assert!(!header.contains("_5m"), "{header}");
    assert!(header.contains("hour_of_day"));

    std::fs::write(
        config.join("model_config.yaml"),
        "version: 1\nfeatures: {windowz: 1}\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let o = run(&["features", &file, "--config", &s(&config), "--out", "-"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("model_config.yaml") && stderr(&o).contains("windowz"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn synth_is_deterministic_and_validates_cleanly() {
    let dir = Dir::new();
    let a = dir.path("a.json");
    let b = dir.path("b.json");
    let c = dir.path("c.json");
    for (path, seed) in [(&a, "7"), (&b, "7"), (&c, "8")] {
        let o = run(&[
            "synth",
            "--records",
            "3000",
            "--anomaly-ratio",
            "0.1",
            "--seed",
            seed,
            "--out",
            &s(path),
        ]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
    }
    let bytes_a = std::fs::read(&a).unwrap_or_default();
    assert_eq!(bytes_a, std::fs::read(&b).unwrap_or_default());
    assert_ne!(bytes_a, std::fs::read(&c).unwrap_or_default());

    let o = run(&["validate", &s(&a), "--json"]);
    assert_eq!(code(&o), 0);
    let report: Value = serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report["valid"], true);
    assert_eq!(report["errors"].as_array().map(Vec::len), Some(0));
    assert_eq!(report["summary"]["records"], 3000);
    assert_eq!(report["summary"]["labelled"], 3000);
    assert_eq!(report["summary"]["anomalies"], 300);
    let warnings: Vec<&str> = report["warnings"]
        .as_array()
        .map(|a| a.iter().filter_map(|g| g["kind"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        warnings.is_empty(),
        "synthetic exports are clean: {warnings:?}"
    );
}

#[test]
fn synth_json_summary_and_bad_arguments() {
    let o = run(&[
        "synth",
        "--records",
        "500",
        "--anomaly-ratio",
        "0.2",
        "--out",
        "-",
        "--json",
    ]);
    assert_eq!(code(&o), 0);
    // stdout holds the export followed by the summary line.
    let text = stdout(&o);
    let summary: Value = serde_json::from_str(text.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary["records"], 500);
    assert_eq!(summary["anomalies"], 100);

    let o = run(&[
        "synth",
        "--records",
        "10",
        "--anomaly-ratio",
        "0.9",
        "--out",
        "-",
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("anomaly_ratio"), "{}", stderr(&o));
    let o = run(&[
        "synth",
        "--records",
        "10",
        "--start",
        "yesterday",
        "--out",
        "-",
    ]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--start"), "{}", stderr(&o));
}

#[test]
fn unwritable_output_is_an_io_error() {
    let dir = Dir::new();
    let file = dir.write("good.json", small_export());
    let o = run(&["features", &file, "--out", "/nonexistent-dir/f.csv"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).starts_with("error: cannot create /nonexistent-dir/f.csv"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn serve_refuses_bad_settings_with_one_line() {
    let o = bin()
        .args(["serve", "--private", "--addr", "127.0.0.1:0"])
        .env_remove("MCP_TRAIN_TOKEN")
        .output()
        .unwrap_or_else(|e| panic!("cannot run mcp-train: {e}"));
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("--private needs a token"),
        "{}",
        stderr(&o)
    );

    let o = run(&["serve", "--addr", "not-an-address"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--addr"), "{}", stderr(&o));

    // A port already taken: the cause, in one line, exit 2.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let addr = taken
        .local_addr()
        .unwrap_or_else(|e| panic!("{e}"))
        .to_string();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let data = dir.path().join("data");
    let o = bin()
        .args(["serve", "--addr", &addr, "--data-dir"])
        .arg(&data)
        .env("RUST_LOG", "off")
        .output()
        .unwrap_or_else(|e| panic!("cannot run mcp-train: {e}"));
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains(&format!("cannot listen on {addr}")),
        "{}",
        stderr(&o)
    );
}
