//! Schemas of the agent protocol:
//! - the JSON Schemas of the data contracts (`docs/schemas/*.schema.json`) are generated from the
//!   serde types; the committed files must match them (`MCP_TRAIN_BLESS=1 cargo test -p
//!   mcp-train-core --test schemas` rewrites them), and what serde writes validates against them;
//! - the log schemas (`config/log_schemas/*.yaml`) drive export validation, and evolve: data
//!   written under an older version still validates under a newer one.
#![cfg(not(target_arch = "wasm32"))]

use std::path::PathBuf;

use mcp_train_core::agent::log_schema::builtin_log_schema;
use mcp_train_core::agent::{
    builtin_log_schema_yaml, contract_schemas, AgentDescription, AgentInfo, Anomaly, Capability,
    Contribution, ExportRecord, Features, InferenceResult, LogEntry, LogSchema, Stability,
};
use mcp_train_core::export::{
    parse_export, validate_with_schema, IssueKind, LogLevel, ValidateOptions, ValidationReport,
};
use mcp_train_core::synth::{write_export, SynthConfig};
use serde_json::{json, Value};

fn schema_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/schemas")
}

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// The first differing line of two texts, with its neighbours, for a readable failure.
fn first_difference(committed: &str, generated: &str) -> String {
    let old: Vec<&str> = committed.lines().collect();
    let new: Vec<&str> = generated.lines().collect();
    let at = old
        .iter()
        .zip(new.iter())
        .position(|(a, b)| a != b)
        .unwrap_or(old.len().min(new.len()));
    let show = |lines: &[&str]| -> String {
        lines
            .iter()
            .enumerate()
            .skip(at.saturating_sub(2))
            .take(5)
            .map(|(i, l)| format!("    {:>4} | {l}\n", i + 1))
            .collect()
    };
    format!(
        "  first difference at line {}:\n  committed:\n{}  generated:\n{}",
        at + 1,
        show(&old),
        show(&new)
    )
}

#[test]
fn committed_json_schemas_match_the_contract_types() {
    let bless = std::env::var("MCP_TRAIN_BLESS").is_ok_and(|v| v == "1");
    let dir = schema_dir();
    let mut stale = Vec::new();
    let schemas = contract_schemas();
    for (name, schema) in &schemas {
        let generated = pretty(schema);
        let path = dir.join(format!("{name}.schema.json"));
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed == generated {
            continue;
        }
        if bless {
            std::fs::create_dir_all(&dir).expect("creates docs/schemas");
            std::fs::write(&path, &generated).expect("writes the schema");
        } else if committed.is_empty() {
            stale.push(format!("{} is missing", path.display()));
        } else {
            stale.push(format!(
                "{} differs from the types:\n{}",
                path.display(),
                first_difference(&committed, &generated)
            ));
        }
    }
    // No schema file that nothing generates any more.
    let names: Vec<String> = schemas
        .iter()
        .map(|(name, _)| format!("{name}.schema.json"))
        .collect();
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let file = entry.file_name().to_string_lossy().into_owned();
            if file.ends_with(".schema.json") && !names.contains(&file) {
                stale.push(format!(
                    "{} is not generated from any type; remove it",
                    entry.path().display()
                ));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "the committed JSON Schemas are out of date; regenerate them with\n  MCP_TRAIN_BLESS=1 cargo test -p mcp-train-core --test schemas\nand commit docs/schemas/.\n{}",
        stale.join("\n")
    );
}

fn schema_of(name: &str) -> Value {
    contract_schemas()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| s)
        .unwrap_or_else(|| panic!("no schema named {name}"))
}

/// Validates `instance` against the schema `name`, listing every error.
fn check(name: &str, instance: &Value) -> Result<(), String> {
    let schema = schema_of(name);
    let validator = jsonschema::validator_for(&schema).map_err(|e| format!("{name}: {e}"))?;
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("{name}: {}", errors.join("; ")))
    }
}

fn sample_entry() -> LogEntry {
    LogEntry {
        index: 41,
        timestamp: "2026-12-03T17:50:14.000000Z".to_owned(),
        log_type: "dns".to_owned(),
        host: Some("gw".to_owned()),
        process: "dnsmasq".to_owned(),
        level: LogLevel::Info,
        message: "query[TXT] aGVsbG8.t.example.com from 10.0.0.7".to_owned(),
        fields: vec![
            ("query_type".to_owned(), "TXT".to_owned()),
            ("client".to_owned(), "10.0.0.7".to_owned()),
        ],
        label: Some(true),
    }
}

fn sample_anomaly() -> Anomaly {
    Anomaly {
        entry: sample_entry(),
        agent: "dns".to_owned(),
        inference: InferenceResult {
            score: -0.61,
            decision: -0.11,
            is_anomaly: true,
            model_version: "20261203-175014".to_owned(),
        },
        contributions: vec![Contribution {
            feature: "label_entropy".to_owned(),
            value: 4.2,
            contribution: 0.07,
        }],
    }
}

#[test]
fn what_serde_writes_validates_against_the_schemas() -> Result<(), String> {
    let to_value = |v: Result<Value, serde_json::Error>| v.map_err(|e| e.to_string());
    let entry = to_value(serde_json::to_value(sample_entry()))?;
    check("log_entry", &entry)?;
    // Optional parts left out are still valid.
    let bare = LogEntry {
        host: None,
        fields: Vec::new(),
        label: None,
        ..sample_entry()
    };
    check("log_entry", &to_value(serde_json::to_value(bare))?)?;
    let anomaly = to_value(serde_json::to_value(sample_anomaly()))?;
    check("anomaly", &anomaly)?;
    let record = ExportRecord {
        schema_version: 1,
        anomaly: sample_anomaly(),
        detected_at: "2026-12-03T17:50:15Z".to_owned(),
    };
    check("export_record", &to_value(serde_json::to_value(record))?)?;
    let features = Features {
        schema: "dns-v1".to_owned(),
        names: vec!["query_rate".to_owned()],
        values: vec![3.5],
    };
    check("features", &to_value(serde_json::to_value(features))?)?;

    static INFO: AgentInfo = AgentInfo {
        name: "dns",
        log_type: "dns",
        description: "dnsmasq query logs",
        protocol_version: "1.0.0",
        feature_schema: "dns-v1",
        programs: &["dnsmasq"],
        capabilities: &[Capability::RawLines, Capability::StreamingFeatures],
        stability: Stability::Beta,
    };
    for log_type in mcp_train_core::agent::AGENTS
        .iter()
        .map(|a| a.info().log_type)
    {
        let schema = builtin_log_schema(log_type)
            .ok_or("no built-in schema")?
            .map_err(|e| e.to_string())?;
        let description = AgentDescription::new(&INFO, schema.clone());
        check(
            "agent_description",
            &to_value(serde_json::to_value(description))?,
        )?;
        // The serialized schema and the YAML file both fit the log schema format.
        check("log_schema", &to_value(serde_json::to_value(&schema))?)?;
        let yaml = builtin_log_schema_yaml(log_type).ok_or("no yaml")?;
        let as_json: Value = serde_saphyr::from_str(yaml).map_err(|e| e.to_string())?;
        check("log_schema", &as_json).map_err(|e| format!("{log_type}.yaml: {e}"))?;
    }

    // The schemas say no to what serde would not write.
    let mut bad = entry.clone();
    bad["level"] = json!("LOUD");
    assert!(check("log_entry", &bad).is_err(), "an unknown level");
    let mut bad = entry;
    bad.as_object_mut().map(|o| o.remove("timestamp"));
    assert!(check("log_entry", &bad).is_err(), "a missing timestamp");
    let mut bad = anomaly;
    bad["inference"]["score"] = json!("low");
    assert!(
        check("anomaly", &bad).is_err(),
        "a score that is not a number"
    );
    Ok(())
}

// ---- Log schemas drive validation --------------------------------------------------------------

fn builtin(log_type: &str) -> LogSchema {
    match builtin_log_schema(log_type) {
        Some(Ok(schema)) => schema,
        Some(Err(e)) => panic!("{log_type}: {e}"),
        None => panic!("no built-in schema for {log_type}"),
    }
}

fn validate(bytes: &[u8], schema: &LogSchema) -> ValidationReport {
    match validate_with_schema(bytes, &ValidateOptions::default(), schema) {
        Ok(parsed) => parsed.report,
        Err(e) => panic!("{e}"),
    }
}

fn examples(report: &ValidationReport, kind: IssueKind) -> Vec<String> {
    report
        .errors
        .iter()
        .chain(report.warnings.iter())
        .filter(|g| g.kind == kind)
        .flat_map(|g| g.examples.iter().map(ToString::to_string))
        .collect()
}

#[test]
fn the_wifi_schema_describes_what_the_export_reader_checks() {
    // A synthetic WiFi export, a hand-written one with problems, as NDJSON and as an array:
    // the schema path reports exactly what the plain reader reports.
    let mut synth = Vec::new();
    let config = SynthConfig {
        records: 2_000,
        ..SynthConfig::default()
    };
    let valid = config.check().expect("valid synth config");
    write_export(&valid, &mut synth).expect("writes");
    let ndjson = concat!(
        "{\"timestamp\":\"2026-12-03T10:00:00Z\",\"message\":\"a\",\"process_name\":\"hostapd\",\"log_level\":\"WARN\",\"label\":0}\n",
        "{\"timestamp\":\"2026-12-03T10:00:01\",\"message\":\"b\",\"process_name\":\"hostapd\",\"log_level\":\"INFO\",\"label\":2}\n",
        "not json\n",
        "{\"timestamp\":\"2026-12-03T09:00:00Z\",\"message\":\"\",\"process_name\":\"wpa_supplicant\",\"log_level\":\"info\",\"is_anomaly\":true}\n",
        "{\"timestamp\":\"2026-12-03T09:00:00Z\",\"message\":\"c\",\"log_level\":\"info\",\"device_id\":\"ap-1\"}\n",
    );
    let array = b"[{\"timestamp\":\"2026-12-03T10:00:00Z\",\"message\":\"a\",\"process_name\":\"hostapd\",\"log_level\":\"INFO\",\"id\":1,\"device_ip\":\"10.0.0.2\"},3]";
    let schema = builtin("wifi");
    for bytes in [&synth[..], ndjson.as_bytes(), &array[..]] {
        let options = ValidateOptions::default();
        let plain = parse_export(bytes, &options).map(|p| (p.report, p.export));
        let driven = validate_with_schema(bytes, &options, &schema).map(|p| (p.report, p.export));
        assert_eq!(driven, plain);
    }
}

const DNS_V1: &str = r#"{"export_metadata":{"export_id":"x"},"data":[
{"id":1,"device_id":"gw","timestamp":"2026-12-03T17:50:14Z","log_level":"INFO","process_name":"dnsmasq","message":"query[A] lab.test from 10.0.0.7","client":"10.0.0.7","query_type":"A","label":0},
{"id":2,"device_id":"gw","timestamp":"2026-12-03T17:50:15Z","log_level":"INFO","process_name":"dnsmasq","message":"config lab.test is 10.9.8.7","client_ip":"10.0.0.7","reply":"10.9.8.7","label":0}
]}"#;

/// dns 1.1.0 as a maintainer would write it: `client` was `client_ip` in 1.0.0 (also accepted
/// now), `upstream` is new and optional with a default, `reply` is deprecated in favour of
/// `answer`, and a `message` pattern is enforced.
fn dns_1_1_0() -> String {
    let base = builtin_log_schema_yaml("dns").unwrap_or_default();
    let text = base
        .replacen("schema_version: 1.0.0", "schema_version: 1.1.0", 1)
        .replacen(
            "  - name: client\n    type: ip\n    required: false\n",
            "  - name: client\n    type: ip\n    required: false\n    renamed_from: [client_ip]\n",
            1,
        )
        .replacen(
            "  - name: reply\n    type: string\n    required: false\n",
            "  - name: reply\n    type: string\n    required: false\n    deprecated: use answer\n",
            1,
        );
    text + "  - name: upstream\n    type: ip\n    required: false\n    default: 127.0.0.1\n    since: 1.1.0\n    description: The server the query was forwarded to.\n"
        + "  - name: answer\n    type: string\n    required: false\n    since: 1.1.0\n    description: The reply.\n"
}

#[test]
fn data_of_the_previous_schema_version_validates_under_the_new_one() {
    let new = LogSchema::from_yaml(&dns_1_1_0()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(new.schema_version(), "1.1.0");
    let old = builtin("dns");
    // Under 1.0.0 `client_ip` is unknown: a warning, and the export is still valid.
    let report = validate(DNS_V1.as_bytes(), &old);
    assert!(report.valid, "{report:?}");
    assert_eq!(report.count_of(IssueKind::UnknownField), 1);
    assert_eq!(report.count_of(IssueKind::FewWifiRecords), 0);

    let report = validate(DNS_V1.as_bytes(), &new);
    assert!(report.valid, "{report:?}");
    assert_eq!(report.error_count(), 0);
    assert_eq!(
        examples(&report, IssueKind::RenamedField),
        [
            r#"record 1, field "client_ip": "client_ip" is the former name of "client"; read as "client""#
        ]
    );
    // The added optional field takes its default in both records.
    assert_eq!(report.count_of(IssueKind::DefaultApplied), 2);
    assert!(
        examples(&report, IssueKind::DefaultApplied)[0]
            .contains(r#"field "upstream" (added in schema version 1.1.0) is absent; its default "127.0.0.1" applies"#),
        "{report:?}"
    );
    assert_eq!(
        examples(&report, IssueKind::DeprecatedField),
        [r#"record 1, field "reply": field "reply" is deprecated: use answer"#]
    );
    assert_eq!(report.count_of(IssueKind::UnknownField), 0);
    assert_eq!(report.summary.records, 2);
}

#[test]
fn schema_errors_name_the_record_and_the_field() {
    let schema = builtin("firewall");
    let export = concat!(
        "{\"timestamp\":\"2026-12-03T17:50:14Z\",\"log_level\":\"INFO\",\"process_name\":\"kernel\",\"message\":\"DROP_IN IN=eth0\",\"src\":\"10.0.0.300\",\"dpt\":23,\"proto\":\"TCP\"}\n",
        "{\"timestamp\":\"2026-12-03T17:50:15Z\",\"log_level\":\"INFO\",\"process_name\":\"kernel\",\"message\":\"DROP_IN IN=eth0\",\"src\":\"10.0.0.3\",\"dpt\":\"23\",\"proto\":\"XTP\",\"flags\":\"SYN ACK\",\"ttl\":64}\n",
        "{\"timestamp\":\"2026-12-03T17:50:16Z\",\"log_level\":\"INFO\",\"process_name\":\"kernel\",\"message\":\"DROP_IN IN=eth0\",\"src\":\"10.0.0.3\",\"dpt\":22,\"proto\":\"TCP\",\"flags\":\"SYN\"}\n",
    );
    let report = validate(export.as_bytes(), &schema);
    assert!(!report.valid);
    assert_eq!(
        examples(&report, IssueKind::WrongType),
        [
            r#"record 0, line 1, field "src": expected an IP address string, found string "10.0.0.300""#,
            r#"record 1, line 2, field "dpt": expected a whole number, found string "23""#,
        ]
    );
    assert_eq!(
        examples(&report, IssueKind::DisallowedValue),
        [
            r#"record 1, line 2, field "proto": string "XTP" is not one of the allowed values ("TCP", "UDP", "ICMP", "ICMPv6", "UDPLITE", "SCTP", "GRE", "ESP", "AH")"#
        ]
    );
    assert_eq!(
        examples(&report, IssueKind::UnknownField),
        [
            r#"record 1, line 2, field "ttl": field "ttl" is not in the firewall log schema 1.0.0; ignored"#
        ]
    );
    // Dropping bad records keeps the good one.
    let options = ValidateOptions {
        drop_invalid: true,
        ..ValidateOptions::default()
    };
    let parsed = validate_with_schema(export.as_bytes(), &options, &schema).expect("reads");
    assert!(parsed.report.valid);
    assert_eq!(parsed.export.records.len(), 1);
    assert_eq!(parsed.export.records[0].index, 2);
}

#[test]
fn a_required_field_and_a_pattern_from_an_updated_schema_are_enforced() {
    // An operator's updated syslog schema (what `--config DIR` supplies): `host` becomes
    // required and `pid` must be positive digits, with no change to the code.
    let base = builtin_log_schema_yaml("syslog").unwrap_or_default();
    let updated = base
        .replacen("schema_version: 1.0.0", "schema_version: 2.0.0", 1)
        .replacen(
            "  - name: host\n    type: string\n    required: false\n",
            "  - name: host\n    type: string\n    required: true\n    pattern: '[a-z0-9.-]+'\n",
            1,
        );
    assert_ne!(updated, base);
    let schema = LogSchema::from_yaml(&updated).unwrap_or_else(|e| panic!("{e}"));
    let export = concat!(
        "[{\"timestamp\":\"2026-12-03T17:50:14Z\",\"log_level\":\"ERROR\",\"process_name\":\"sshd\",\"message\":\"Failed password\",\"host\":\"gw\",\"facility\":\"auth\"},",
        "{\"timestamp\":\"2026-12-03T17:50:15Z\",\"log_level\":\"ERROR\",\"process_name\":\"sshd\",\"message\":\"Failed password\"},",
        "{\"timestamp\":\"2026-12-03T17:50:16Z\",\"log_level\":\"ERROR\",\"process_name\":\"sshd\",\"message\":\"Failed password\",\"host\":\"GW 2\",\"facility\":\"nope\"}]"
    );
    let report = validate(export.as_bytes(), &schema);
    assert_eq!(
        examples(&report, IssueKind::MissingField),
        [r#"record 1, field "host": required field "host" is missing"#]
    );
    assert_eq!(
        examples(&report, IssueKind::DisallowedValue),
        [
            r#"record 2, field "host": string "GW 2" does not match the pattern [a-z0-9.-]+"#,
            r#"record 2, field "facility": string "nope" is not one of the allowed values ("kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp", "ntp", "security", "console", "solaris-cron", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7")"#,
        ]
    );
    // The built-in schema has neither rule: only the facility is refused.
    let report = validate(export.as_bytes(), &builtin("syslog"));
    assert_eq!(report.count_of(IssueKind::MissingField), 0);
    assert_eq!(report.count_of(IssueKind::DisallowedValue), 1);
}

#[test]
fn a_renamed_envelope_field_is_read_through_its_former_name() {
    let base = builtin_log_schema_yaml("syslog").unwrap_or_default();
    let updated = base
        .replacen("schema_version: 1.0.0", "schema_version: 1.1.0", 1)
        .replacen(
            "  - name: message\n    type: string\n    required: true\n",
            "  - name: message\n    type: string\n    required: true\n    renamed_from: [msg]\n",
            1,
        );
    let schema = LogSchema::from_yaml(&updated).unwrap_or_else(|e| panic!("{e}"));
    let export = b"{\"timestamp\":\"2026-12-03T17:50:14Z\",\"log_level\":\"INFO\",\"process_name\":\"cron\",\"msg\":\"job done\"}\n";
    let parsed = validate_with_schema(export, &ValidateOptions::default(), &schema).expect("reads");
    assert!(parsed.report.valid, "{:?}", parsed.report);
    assert_eq!(parsed.export.records[0].message, "job done");
    assert_eq!(parsed.report.count_of(IssueKind::RenamedField), 1);
    // Without the rename the record has no message.
    assert!(!validate(export, &builtin("syslog")).valid);
}
