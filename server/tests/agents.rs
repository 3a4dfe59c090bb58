//! `mcp-train agents list` and `mcp-train synth --log-type`.

use crate::common::{self, run, Work};

const KEYS: [&str; 11] = [
    "name",
    "log_type",
    "description",
    "protocol_version",
    "feature_schema",
    "programs",
    "capabilities",
    "stability",
    "features",
    "feature_count",
    "log_schema",
];

#[test]
fn agents_list_json_describes_every_agent() {
    let listed = common::stdout_json(&run(&["agents", "list", "--json"], &[]));
    let agents = listed.as_array().expect("a JSON array");
    let mut names = Vec::new();
    for agent in agents {
        for key in KEYS {
            assert!(agent.get(key).is_some(), "{key} missing in {agent}");
        }
        let name = agent["name"].as_str().expect("name");
        assert_eq!(agent["log_type"], agent["name"], "{agent}");
        assert_eq!(agent["log_schema"]["log_type"], agent["log_type"], "{name}");
        let features = agent["features"].as_array().expect("features");
        assert!(!features.is_empty(), "{name}");
        assert_eq!(agent["feature_count"], features.len(), "{name}");
        names.push(name.to_owned());
    }
    assert!(names.iter().any(|n| n == "wifi"), "{names:?}");

    let wifi = agents
        .iter()
        .find(|a| a["name"] == "wifi")
        .expect("wifi is listed");
    assert_eq!(wifi["protocol_version"], "1.0.0");
    assert_eq!(wifi["feature_schema"], "wifi-v1");
    assert_eq!(wifi["stability"], "stable");
    assert_eq!(wifi["feature_count"], 41);
    assert_eq!(wifi["features"][0], "hour_of_day");
    assert_eq!(wifi["features"][40], "auth_failure_count_60m");
    let programs = wifi["programs"].as_array().expect("programs");
    for program in ["hostapd", "wpa_supplicant", "kernel"] {
        assert!(programs.iter().any(|p| p == program), "{program}");
    }
    assert_eq!(
        wifi["capabilities"],
        serde_json::json!(["raw_lines", "export_records", "streaming_features", "synth"])
    );
    let fields = wifi["log_schema"]["fields"].as_array().expect("fields");
    for field in ["timestamp", "message", "process_name", "log_level"] {
        let found = fields.iter().find(|f| f["name"] == field);
        assert_eq!(
            found.map(|f| &f["required"]),
            Some(&serde_json::json!(true)),
            "{field}"
        );
    }
}

#[test]
fn agents_list_prints_a_table() {
    let out = common::ok(&run(&["agents", "list"], &[]));
    let mut lines = out.lines();
    let header = lines.next().expect("a header");
    for column in ["NAME", "LOG TYPE", "PROTOCOL", "FEATURE SCHEMA", "FEATURES"] {
        assert!(header.contains(column), "{header}");
    }
    let wifi = lines.find(|l| l.starts_with("wifi ")).expect("a wifi row");
    for cell in ["1.0.0", "wifi-v1", "stable", "hostapd,wpa_supplicant", "41"] {
        assert!(wifi.contains(cell), "{cell} in {wifi}");
    }
}

#[test]
fn synth_log_type_wifi_is_the_default() {
    let work = Work::new();
    let default = work.synth("default.json", "2000", "5");
    let typed = work.s("typed.json");
    common::ok(&run(
        &[
            "synth",
            "--log-type",
            "wifi",
            "--records",
            "2000",
            "--anomaly-ratio",
            "0.08",
            "--seed",
            "5",
            "--out",
            &typed,
        ],
        &[],
    ));
    let default = std::fs::read(default).expect("reads");
    assert!(!default.is_empty());
    assert_eq!(default, std::fs::read(typed).expect("reads"));
}

#[test]
fn synth_refuses_an_unknown_log_type() {
    let work = Work::new();
    let out = work.s("out.json");
    let (code, error) = common::failure(&run(
        &[
            "synth",
            "--log-type",
            "printer",
            "--records",
            "10",
            "--out",
            &out,
        ],
        &[],
    ));
    assert_eq!(code, 2, "{error}");
    assert!(error.contains("unknown log type \"printer\""), "{error}");
    assert!(error.contains("wifi"), "{error}");
    assert!(!work.path("out.json").exists());
}
