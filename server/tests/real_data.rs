//! Every real export in `../shared/data/` (public WiFi, Linux and OpenSSH logs converted to the
//! export format) must validate without a panic and be usable: its mess is warnings, not errors.
//! The data is not part of the repository; without it this test says so and checks nothing.

use std::path::PathBuf;
use std::process::Command;

fn data_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
    dir.is_dir().then_some(dir)
}

#[test]
fn every_shared_export_validates_and_extracts() {
    let Some(dir) = data_dir() else {
        eprintln!("shared/data not found beside the repository; nothing to check");
        return;
    };
    let mut files: Vec<PathBuf> = Vec::new();
    for sub in ["real-wifi", "loghub"] {
        if let Ok(entries) = std::fs::read_dir(dir.join(sub)) {
            files.extend(
                entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "json")),
            );
        }
    }
    files.sort();
    assert!(
        files.len() >= 40,
        "expected the shared exports, found {}",
        files.len()
    );
    let out = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for file in &files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let o = Command::new(env!("CARGO_BIN_EXE_mcp-train"))
            .args(["validate", "--json"])
            .arg(file)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let report: serde_json::Value =
            serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            o.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&o.stdout)
        );
        assert_eq!(report["valid"], true, "{name}");
        let warnings: Vec<String> = report["warnings"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|g| format!("{}×{}", g["kind"].as_str().unwrap_or("?"), g["count"]))
                    .collect()
            })
            .unwrap_or_default();
        println!(
            "{name}: {} records; warnings: {}",
            report["summary"]["records"],
            if warnings.is_empty() {
                "none".into()
            } else {
                warnings.join(", ")
            }
        );

        let csv = out.path().join("f.csv");
        let o = Command::new(env!("CARGO_BIN_EXE_mcp-train"))
            .arg("features")
            .arg(file)
            .arg("--out")
            .arg(&csv)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            o.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let rows = std::fs::read_to_string(&csv)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        assert_eq!(
            rows as u64,
            report["summary"]["records"].as_u64().unwrap_or(0) + 1,
            "{name}"
        );
    }
}
