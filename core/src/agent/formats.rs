//! Anomalies in the formats security tools ingest: an Elastic Common Schema (ECS) alert
//! document ([`to_ecs`]) and an OCSF 1.3 Detection Finding ([`to_ocsf`]).
//!
//! Both carry the same numbers, mapped the same way:
//! - **risk score** (0–100) from the decision value `d` (negative for anomalies):
//!   `clamp(50 − 100·d, 0, 100)` rounded to 0.1 — the threshold (`d = 0`) is 50, an Isolation
//!   Forest's most anomalous score (`score = −1`, `d = −0.5` with the `auto` offset) is 100,
//!   and LOF's unbounded decisions saturate at 100 ([`risk_score`]);
//! - **severity** from the risk score ([`severity_id`]): below 50 (not an anomaly, written only
//!   with `--all`) 1 informational; 50–65 2 low; 65–80 3 medium; 80–90 4 high; 90 and above
//!   5 critical (OCSF `severity_id`; ECS `event.severity` takes the same number).
//!
//! The agent's typed fields go to the standard places where their names say what they are
//! (`client`/`src` → `source.ip`, `dpt` → `destination.port`, `name` → `dns.question.name`,
//! …; see [`FIELD_MAP`]) and, all of them, under `mcp_train.fields` (ECS) or
//! `unmapped.mcp_train.fields` (OCSF).

use std::net::IpAddr;

use serde_json::{json, Map, Value};

use super::Anomaly;
use crate::time::parse_iso8601;

/// The OCSF schema version of [`to_ocsf`] documents.
pub const OCSF_VERSION: &str = "1.3.0";
/// The ECS version of [`to_ecs`] documents.
pub const ECS_VERSION: &str = "8.11.0";

/// Where an agent field lands in ECS, by the field's name: `(agent field names, ECS path,
/// kind)`. The kind checks the value: `ip` must parse as an address (an `ip/port` or `ip#port`
/// suffix is split off into the port), `port` as a number up to 65535; `text` is taken as is,
/// `lower` lower-cased.
pub const FIELD_MAP: &[(&[&str], &str, FieldKind)] = &[
    (
        &["client", "src", "src_ip", "source_ip", "client_ip"],
        "source.ip",
        FieldKind::Ip,
    ),
    (
        &["spt", "src_port", "sport"],
        "source.port",
        FieldKind::Port,
    ),
    (
        &["dst", "dest_ip", "dst_ip", "destination_ip", "server"],
        "destination.ip",
        FieldKind::Ip,
    ),
    (
        &["dpt", "dest_port", "dst_port", "dport"],
        "destination.port",
        FieldKind::Port,
    ),
    (
        &["proto", "protocol"],
        "network.transport",
        FieldKind::Lower,
    ),
    (
        &["name", "query_name", "qname"],
        "dns.question.name",
        FieldKind::Text,
    ),
    (
        &["query_type", "qtype"],
        "dns.question.type",
        FieldKind::Text,
    ),
    (
        &["reply", "answer", "rcode"],
        "dns.response_code",
        FieldKind::Text,
    ),
    (
        &["mac", "client_mac", "station", "sta"],
        "source.mac",
        FieldKind::Text,
    ),
    (&["in"], "observer.ingress.interface.name", FieldKind::Text),
    (&["out"], "observer.egress.interface.name", FieldKind::Text),
    (&["prefix", "action"], "event.action", FieldKind::Text),
];

/// How an agent field's value is checked before it takes an ECS place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// An IP address (an `ip/port` or `ip#port` suffix gives the matching port).
    Ip,
    /// A port number.
    Port,
    /// Text as is.
    Text,
    /// Text, lower-cased.
    Lower,
}

/// The risk score (0–100, one decimal) of a decision value: see the module documentation.
pub fn risk_score(decision: f64) -> f64 {
    if decision.is_nan() {
        return 50.0;
    }
    let risk = (50.0 - 100.0 * decision).clamp(0.0, 100.0);
    libm::round(risk * 10.0) / 10.0
}

/// The severity (1–5) of a risk score: see the module documentation.
pub fn severity_id(risk: f64) -> u8 {
    match risk {
        r if r >= 90.0 => 5,
        r if r >= 80.0 => 4,
        r if r >= 65.0 => 3,
        r if r >= 50.0 => 2,
        _ => 1,
    }
}

/// OCSF's name of a [`severity_id`].
fn severity_name(id: u8) -> &'static str {
    match id {
        5 => "Critical",
        4 => "High",
        3 => "Medium",
        2 => "Low",
        _ => "Informational",
    }
}

/// ECS `event.category` of a log type.
pub fn ecs_categories(log_type: &str) -> &'static [&'static str] {
    match log_type {
        "wifi" => &["network", "authentication"],
        "dns" | "firewall" => &["network"],
        _ => &["host"],
    }
}

/// The typed values the agent fields give, by ECS path (first field wins per path).
fn mapped_fields(anomaly: &Anomaly) -> Vec<(&'static str, Value)> {
    let mut out: Vec<(&'static str, Value)> = Vec::new();
    let put = |path: &'static str, value: Value, out: &mut Vec<(&'static str, Value)>| {
        if !out.iter().any(|(p, _)| *p == path) {
            out.push((path, value));
        }
    };
    for (name, value) in &anomaly.entry.fields {
        let Some((_, path, kind)) = FIELD_MAP
            .iter()
            .find(|(names, _, _)| names.contains(&name.as_str()))
        else {
            continue;
        };
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match kind {
            FieldKind::Ip => {
                let (ip, port) = match value.rsplit_once(['/', '#']) {
                    Some((ip, port)) if port.parse::<u16>().is_ok() => {
                        (ip, port.parse::<u16>().ok())
                    }
                    _ => (value, None),
                };
                if let Ok(ip) = ip.parse::<IpAddr>() {
                    put(path, json!(ip.to_string()), &mut out);
                    if let Some(port) = port {
                        let port_path = if *path == "source.ip" {
                            "source.port"
                        } else {
                            "destination.port"
                        };
                        put(port_path, json!(port), &mut out);
                    }
                }
            }
            FieldKind::Port => {
                if let Ok(port) = value.parse::<u16>() {
                    put(path, json!(port), &mut out);
                }
            }
            FieldKind::Text => put(path, json!(value), &mut out),
            FieldKind::Lower => put(path, json!(value.to_ascii_lowercase()), &mut out),
        }
    }
    out
}

/// Sets `path` (dotted) in a JSON object, creating the objects on the way.
fn set_path(root: &mut Map<String, Value>, path: &str, value: Value) {
    let mut parts = path.split('.').peekable();
    let mut at = root;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            at.insert(part.to_owned(), value);
            return;
        }
        let next = at
            .entry(part.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !next.is_object() {
            *next = Value::Object(Map::new());
        }
        let Value::Object(map) = next else { return };
        at = map;
    }
}

/// The agent's fields as a JSON object (a repeated name keeps its first value).
fn fields_object(anomaly: &Anomaly) -> Value {
    let mut map = Map::new();
    for (name, value) in &anomaly.entry.fields {
        map.entry(name.clone()).or_insert_with(|| json!(value));
    }
    Value::Object(map)
}

/// What mcp-train adds of its own: the verdict, the contributions, the agent's fields.
fn mcp_train_object(anomaly: &Anomaly) -> Value {
    json!({
        "agent": anomaly.agent,
        "log_type": anomaly.entry.log_type,
        "index": anomaly.entry.index,
        "score": anomaly.inference.score,
        "decision": anomaly.inference.decision,
        "is_anomaly": anomaly.inference.is_anomaly,
        "model_version": anomaly.inference.model_version,
        "label": anomaly.entry.label,
        "contributions": anomaly.contributions,
        "fields": fields_object(anomaly),
    })
}

/// One line saying what was found: the top contributions, or the verdict.
fn summary(anomaly: &Anomaly) -> String {
    let what = if anomaly.inference.is_anomaly {
        "anomaly"
    } else {
        "normal"
    };
    let reasons: Vec<String> = anomaly
        .contributions
        .iter()
        .map(|c| format!("{}={}", c.feature, c.value))
        .collect();
    if reasons.is_empty() {
        format!(
            "{} {what} (decision {:.4})",
            anomaly.entry.log_type, anomaly.inference.decision
        )
    } else {
        format!(
            "{} {what} (decision {:.4}): {}",
            anomaly.entry.log_type,
            anomaly.inference.decision,
            reasons.join(", ")
        )
    }
}

/// The anomaly as an ECS alert document.
pub fn to_ecs(anomaly: &Anomaly) -> Value {
    let entry = &anomaly.entry;
    let risk = risk_score(anomaly.inference.decision);
    let severity = severity_id(risk);
    let mut doc = json!({
        "@timestamp": entry.timestamp,
        "message": entry.message,
        "ecs": { "version": ECS_VERSION },
        "event": {
            "kind": if anomaly.inference.is_anomaly { "alert" } else { "event" },
            "category": ecs_categories(&entry.log_type),
            "type": ["info"],
            "module": "mcp-train",
            "dataset": format!("mcp_train.{}", entry.log_type),
            "risk_score": risk,
            "severity": severity,
            "reason": summary(anomaly),
        },
        "log": { "level": entry.level.as_str().to_ascii_lowercase() },
        "process": { "name": entry.process },
        "rule": {
            "name": format!("mcp-train {} anomaly", entry.log_type),
            "ruleset": "mcp-train",
            "version": anomaly.inference.model_version,
        },
        "labels": { "model_version": anomaly.inference.model_version },
        "mcp_train": mcp_train_object(anomaly),
    });
    let Value::Object(root) = &mut doc else {
        return doc;
    };
    if let Some(host) = &entry.host {
        set_path(root, "observer.hostname", json!(host));
        set_path(root, "host.name", json!(host));
    }
    for (path, value) in mapped_fields(anomaly) {
        set_path(root, path, value);
    }
    doc
}

/// OCSF observable type ids.
const OBSERVABLE_HOSTNAME: u8 = 1;
const OBSERVABLE_IP: u8 = 2;
const OBSERVABLE_MAC: u8 = 3;
const OBSERVABLE_PROCESS: u8 = 9;
const OBSERVABLE_PORT: u8 = 11;

/// The anomaly as an OCSF 1.3 Detection Finding (class 2004, activity Create).
pub fn to_ocsf(anomaly: &Anomaly) -> Value {
    let entry = &anomaly.entry;
    let risk = risk_score(anomaly.inference.decision);
    let severity = severity_id(risk);
    let time_ms = parse_iso8601(&entry.timestamp)
        .map(|t| t.micros.div_euclid(1000))
        .unwrap_or(0);
    let mut observables = Vec::new();
    if let Some(host) = &entry.host {
        observables
            .push(json!({"name": "host.name", "type_id": OBSERVABLE_HOSTNAME, "value": host}));
    }
    if !entry.process.is_empty() {
        observables.push(
            json!({"name": "process.name", "type_id": OBSERVABLE_PROCESS, "value": entry.process}),
        );
    }
    for (path, value) in mapped_fields(anomaly) {
        let type_id = match path {
            "source.ip" | "destination.ip" => OBSERVABLE_IP,
            "source.port" | "destination.port" => OBSERVABLE_PORT,
            "source.mac" => OBSERVABLE_MAC,
            "dns.question.name" => OBSERVABLE_HOSTNAME,
            _ => continue,
        };
        let value = match value {
            Value::String(s) => s,
            other => other.to_string(),
        };
        observables.push(json!({"name": path, "type_id": type_id, "value": value}));
    }
    let uid = format!(
        "mcp-train:{}:{}:{}:{}",
        entry.log_type, anomaly.inference.model_version, entry.index, entry.timestamp
    );
    json!({
        "class_uid": 2004,
        "class_name": "Detection Finding",
        "category_uid": 2,
        "category_name": "Findings",
        "activity_id": 1,
        "activity_name": "Create",
        "type_uid": 200401,
        "type_name": "Detection Finding: Create",
        "severity_id": severity,
        "severity": severity_name(severity),
        "status_id": 1,
        "status": "New",
        "time": time_ms,
        "message": summary(anomaly),
        "risk_score": libm::round(risk) as i64,
        "metadata": {
            "version": OCSF_VERSION,
            "product": {"name": "mcp-train", "vendor_name": "mcp-train"},
            "log_name": format!("mcp_train.{}", entry.log_type),
        },
        "finding_info": {
            "title": format!("{} anomaly: {}", entry.log_type, entry.message.chars().take(120).collect::<String>()),
            "uid": uid,
            "desc": summary(anomaly),
            "types": [format!("mcp-train/{}", entry.log_type)],
            "analytic": {
                "name": format!("mcp-train {} model", entry.log_type),
                "uid": anomaly.inference.model_version,
                "type_id": 4,
                "type": "Learning (ML/DL)",
                "version": anomaly.inference.model_version,
            },
        },
        "observables": observables,
        "raw_data": serde_json::to_string(entry).unwrap_or_default(),
        "unmapped": { "mcp_train": mcp_train_object(anomaly) },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::{Contribution, InferenceResult, LogEntry};
    use crate::export::LogLevel;

    fn anomaly(log_type: &str, fields: &[(&str, &str)], decision: f64) -> Anomaly {
        Anomaly {
            entry: LogEntry {
                index: 17,
                timestamp: "2026-12-03T17:50:14.250000Z".to_owned(),
                log_type: log_type.to_owned(),
                host: Some("gw1".to_owned()),
                process: "kernel".to_owned(),
                level: LogLevel::Warning,
                message: "DROP_IN IN=eth0 SRC=10.0.0.9 DST=10.0.0.1 PROTO=TCP DPT=23 SYN"
                    .to_owned(),
                fields: fields
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
                label: None,
            },
            agent: log_type.to_owned(),
            inference: InferenceResult {
                score: -0.7,
                decision,
                is_anomaly: decision < 0.0,
                model_version: "20261203_170000".to_owned(),
            },
            contributions: vec![Contribution {
                feature: "distinct_ports_1m".to_owned(),
                value: 42.0,
                contribution: 0.12,
            }],
        }
    }

    const FIREWALL: &[(&str, &str)] = &[
        ("src", "10.0.0.9"),
        ("dst", "10.0.0.1"),
        ("proto", "TCP"),
        ("spt", "40000"),
        ("dpt", "23"),
        ("in", "eth0"),
        ("prefix", "DROP_IN"),
    ];

    #[test]
    fn risk_and_severity_mapping() {
        assert_eq!(risk_score(0.0), 50.0);
        assert_eq!(risk_score(-0.5), 100.0);
        assert_eq!(risk_score(-3.0), 100.0);
        assert_eq!(risk_score(0.6), 0.0);
        assert_eq!(risk_score(-0.1234), 62.3);
        assert_eq!(risk_score(f64::NAN), 50.0);
        assert_eq!(severity_id(49.9), 1);
        assert_eq!(severity_id(50.0), 2);
        assert_eq!(severity_id(70.0), 3);
        assert_eq!(severity_id(85.0), 4);
        assert_eq!(severity_id(100.0), 5);
    }

    #[test]
    fn ecs_alert_has_the_required_keys_and_types() {
        let doc = to_ecs(&anomaly("firewall", FIREWALL, -0.2));
        assert_eq!(doc["@timestamp"], "2026-12-03T17:50:14.250000Z");
        assert_eq!(doc["event"]["kind"], "alert");
        assert_eq!(doc["event"]["category"], json!(["network"]));
        assert_eq!(doc["event"]["module"], "mcp-train");
        assert_eq!(doc["event"]["dataset"], "mcp_train.firewall");
        assert_eq!(doc["event"]["risk_score"], 70.0);
        assert_eq!(doc["event"]["severity"], 3);
        assert_eq!(doc["observer"]["hostname"], "gw1");
        assert_eq!(doc["host"]["name"], "gw1");
        assert_eq!(doc["source"]["ip"], "10.0.0.9");
        assert_eq!(doc["source"]["port"], 40000);
        assert_eq!(doc["destination"]["ip"], "10.0.0.1");
        assert_eq!(doc["destination"]["port"], 23);
        assert_eq!(doc["network"]["transport"], "tcp");
        assert_eq!(doc["observer"]["ingress"]["interface"]["name"], "eth0");
        assert_eq!(doc["event"]["action"], "DROP_IN");
        assert_eq!(doc["rule"]["name"], "mcp-train firewall anomaly");
        assert_eq!(doc["labels"]["model_version"], "20261203_170000");
        assert!(doc["message"].is_string());
        assert_eq!(doc["log"]["level"], "warning");
        let mcp = &doc["mcp_train"];
        assert_eq!(mcp["contributions"][0]["feature"], "distinct_ports_1m");
        assert_eq!(mcp["decision"], -0.2);
        assert_eq!(mcp["fields"]["dpt"], "23");
        assert!(doc["event"]["reason"]
            .as_str()
            .unwrap()
            .contains("distinct_ports_1m=42"));
    }

    #[test]
    fn ecs_takes_only_values_that_fit_their_place() {
        let fields = [
            ("client", "192.168.1.7/53011"),
            ("name", "x1y2.evil.test"),
            ("query_type", "TXT"),
            ("dst", "not-an-ip"),
            ("dpt", "99999"),
        ];
        let doc = to_ecs(&anomaly("dns", &fields, 0.1));
        assert_eq!(doc["event"]["kind"], "event");
        assert_eq!(doc["source"]["ip"], "192.168.1.7");
        assert_eq!(doc["source"]["port"], 53011);
        assert_eq!(doc["dns"]["question"]["name"], "x1y2.evil.test");
        assert_eq!(doc["dns"]["question"]["type"], "TXT");
        assert!(doc.get("destination").is_none(), "{doc}");
        let doc = to_ecs(&anomaly("syslog", &[], -0.01));
        assert_eq!(doc["event"]["category"], json!(["host"]));
    }

    #[test]
    fn ocsf_detection_finding_has_the_required_keys_and_types() {
        let doc = to_ocsf(&anomaly("firewall", FIREWALL, -0.45));
        for (key, value) in [
            ("class_uid", 2004),
            ("category_uid", 2),
            ("activity_id", 1),
            ("type_uid", 200_401),
            ("severity_id", 5),
        ] {
            assert_eq!(doc[key], value, "{key}");
        }
        assert_eq!(doc["time"], 1_796_320_214_250_i64);
        assert_eq!(doc["metadata"]["version"], "1.3.0");
        assert_eq!(doc["metadata"]["product"]["name"], "mcp-train");
        assert!(doc["metadata"]["product"]["vendor_name"].is_string());
        let info = &doc["finding_info"];
        assert!(info["title"]
            .as_str()
            .unwrap()
            .starts_with("firewall anomaly: DROP_IN"));
        assert!(info["uid"].as_str().unwrap().contains(":17:"));
        assert_eq!(info["analytic"]["type_id"], 4);
        assert!(info["analytic"]["name"].is_string());
        let observables = doc["observables"].as_array().unwrap();
        assert!(observables
            .iter()
            .any(|o| o["type_id"] == 2 && o["value"] == "10.0.0.9"));
        assert!(observables
            .iter()
            .any(|o| o["type_id"] == 11 && o["value"] == "23"));
        assert!(observables
            .iter()
            .all(|o| o["name"].is_string() && o["value"].is_string() && o["type_id"].is_u64()));
        let raw: LogEntry = serde_json::from_str(doc["raw_data"].as_str().unwrap()).unwrap();
        assert_eq!(raw.index, 17);
        assert_eq!(
            doc["unmapped"]["mcp_train"]["contributions"][0]["value"],
            42.0
        );
    }
}
