use super::*;
use mcp_train_core::agent::{Contribution, InferenceResult, LogEntry};
use mcp_train_core::export::LogLevel;
use mcp_train_core::pipeline::{self, Hooks, TrainChoices, TrainInput};
use mcp_train_core::synth::{write_export, SynthConfig};
use mcp_train_core::time::{format_iso8601, parse_iso8601};

fn export(records: usize, seed: u64) -> Vec<u8> {
    let synth = SynthConfig {
        records,
        seed,
        ..SynthConfig::default()
    };
    let mut out = Vec::new();
    write_export(&synth.check().unwrap(), &mut out).unwrap();
    out
}

fn model(export: &[u8]) -> Vec<u8> {
    let config = Config::defaults();
    let options = TrainChoices {
        seed: Some(3),
        ..TrainChoices::default()
    }
    .resolve(&config)
    .unwrap()
    .options(&config, 1_704_067_200_000_000);
    let hooks = Hooks {
        progress: &mut |_| true,
        elapsed_ms: &|| 0.0,
    };
    let input = TrainInput::Export {
        bytes: export,
        file_name: "export.json",
        log_type: None,
    };
    pipeline::train(input, &options, hooks)
        .unwrap()
        .artifact
        .to_json()
}

/// The export's records as raw syslog lines `Mmm dd hh:mm:ss host tag: message`, in time order.
fn raw_lines(export: &[u8]) -> (String, i32) {
    let value: serde_json::Value = serde_json::from_slice(export).unwrap();
    let mut rows: Vec<(i64, String)> = value["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let t = parse_iso8601(r["timestamp"].as_str().unwrap())
                .unwrap()
                .micros;
            let iso = format_iso8601(t);
            let month: usize = iso[5..7].parse().unwrap();
            let day: u32 = iso[8..10].parse().unwrap();
            let names = [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            ];
            let line = format!(
                "{} {:>2} {} {} {}: {}",
                names[month - 1],
                day,
                &iso[11..19],
                r["device_id"].as_str().unwrap_or("ap"),
                r["process_name"].as_str().unwrap(),
                r["message"].as_str().unwrap()
            );
            (t, line)
        })
        .collect();
    rows.sort_by_key(|r| r.0);
    let year: i32 = format_iso8601(rows[0].0)[..4].parse().unwrap();
    let text = rows.into_iter().map(|r| r.1 + "\n").collect();
    (text, year)
}

#[test]
fn an_export_and_its_raw_lines_are_read_and_scored() {
    let export = export(600, 5);
    let model = model(&export);

    let whole = detect(&model, &export, Some("wifi"), 2024).unwrap();
    assert_eq!(whole.kind, InputKind::Export);
    assert_eq!((whole.lines, whole.parsed, whole.bad), (600, 600, 0));
    assert_eq!(whole.looks_like.as_deref(), Some("wifi"));
    assert!(!whole.anomalies.is_empty());
    assert!(whole.anomalies.iter().all(|a| a.inference.is_anomaly));
    // The core's batch detection over the same records agrees.
    let artifact = ModelArtifact::from_json(&model).unwrap();
    let parsed = parse_export(&export, &Config::defaults().training.validation).unwrap();
    let batch =
        mcp_train_core::agent::detect::detect_records(artifact, &parsed.export.records, false)
            .unwrap();
    assert_eq!(batch, whole.anomalies);

    let (mut raw, year) = raw_lines(&export);
    raw.push_str("not a syslog line\n\nDec  3 17:50:14 ap-01 hostapd: wlan0: STA 00:11:22:33:44:55 IEEE 802.11: associated\n");
    let lines = detect(&model, raw.as_bytes(), None, year).unwrap();
    assert_eq!(lines.kind, InputKind::Lines);
    assert_eq!((lines.lines, lines.parsed, lines.bad), (603, 601, 1));
    assert_eq!(lines.bad_lines[0].line, 601);
    assert!(lines.bad_lines[0].column >= 1);
    assert_eq!(lines.looks_like.as_deref(), Some("wifi"));
    assert!(!lines.anomalies.is_empty());
    assert!(lines.anomalies.iter().all(|a| a.entry.host.is_some()));

    let refused = detect(&model, raw.as_bytes(), Some("dns"), year).unwrap_err();
    assert!(
        refused.contains("for wifi logs") && refused.contains("dns"),
        "{refused}"
    );
    assert!(detect(b"{}", raw.as_bytes(), None, year).is_err());
}

#[test]
fn the_log_type_is_guessed_from_a_files_head() {
    let export = export(50, 1);
    assert_eq!(guess_log_type(&export[..2000], 2024), Some("wifi"));
    let (raw, year) = raw_lines(&export);
    // Cut in the middle of a line.
    assert_eq!(guess_log_type(&raw.as_bytes()[..700], year), Some("wifi"));
    assert_eq!(guess_log_type(b"hello\nworld\n", 2024), None);
    assert_eq!(
        log_type_of_processes([("hostapd", 9), ("cron", 3)]),
        Some("wifi")
    );
    assert_eq!(
        log_type_of_processes([("dnsmasq", 9), ("hostapd", 3)]),
        Some("dns")
    );
    // Processes no dedicated agent reads: the generic agent's.
    assert_eq!(log_type_of_processes([("cron", 9)]), Some("syslog"));
    assert_eq!(log_type_of_processes([]), None);
}

#[test]
fn whole_exports_are_told_from_lines() {
    assert!(agent::is_whole_export(b"["));
    assert!(agent::is_whole_export(b"{"));
    assert!(agent::is_whole_export(b"{\"data\": []}"));
    assert!(!agent::is_whole_export(
        b"{\"timestamp\":\"2024-01-01T00:00:00Z\",\"message\":\"m\"}"
    ));
    assert!(!agent::is_whole_export(
        b"Dec  3 17:50:14 host dnsmasq[1]: query"
    ));
}

fn anomaly(message: &str, decision: f64, features: &[&str]) -> Anomaly {
    Anomaly {
        entry: LogEntry {
            index: 7,
            timestamp: "2024-06-01T12:00:00.000000Z".to_owned(),
            log_type: "wifi".to_owned(),
            host: Some("ap-01".to_owned()),
            process: "hostapd".to_owned(),
            level: LogLevel::Info,
            message: message.to_owned(),
            fields: Vec::new(),
            label: None,
        },
        agent: "wifi".to_owned(),
        inference: InferenceResult {
            score: -0.6,
            decision,
            is_anomaly: true,
            model_version: "20240601_120000".to_owned(),
        },
        contributions: features
            .iter()
            .map(|f| Contribution {
                feature: (*f).to_owned(),
                value: 1.0,
                contribution: 0.1,
            })
            .collect(),
    }
}

#[test]
fn csv_quotes_what_needs_quoting_and_ndjson_is_the_contract() {
    let rows = [
        anomaly("plain", -0.1, &["hour", "burst"]),
        anomaly("a, \"quoted\"\nline", -0.2, &[]),
    ];
    let csv = to_csv(&rows);
    assert_eq!(
        csv,
        "index,timestamp,score,decision,host,process,message,top_features\r\n\
         7,2024-06-01T12:00:00.000000Z,-0.6,-0.1,ap-01,hostapd,plain,hour;burst\r\n\
         7,2024-06-01T12:00:00.000000Z,-0.6,-0.2,ap-01,hostapd,\"a, \"\"quoted\"\"\nline\",\r\n"
    );
    let ndjson = String::from_utf8(to_ndjson(&rows)).unwrap();
    let back: Vec<Anomaly> = ndjson
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(back, rows);
}

#[test]
fn filters_match_text_and_strength() {
    let a = anomaly("wlan0: deauth flood", -0.2, &["burst"]);
    assert!(matches(&a, "", None));
    assert!(matches(&a, "DEAUTH", None));
    assert!(matches(&a, "ap-01", None));
    assert!(matches(&a, "burst", None));
    assert!(!matches(&a, "dnsmasq", None));
    assert!(matches(&a, "", Some(0.2)));
    assert!(!matches(&a, "", Some(0.25)));
}
