//! A complete agent in one file: OpenSSH server logins (`sshd`), shown in `docs/protocol.md`.
//!
//! It reads `Failed password for … from IP` / `Accepted publickey for … from IP` lines, fits the
//! set of users seen in training, and streams four features per record: whether it is a failed
//! login, whether the user is unknown, and failed logins in the last minute overall and from the
//! same source. Its window state is bounded: the failures of the last minute.
//!
//! `cargo run -p mcp-train-core --example agent` prints the rows of a small synthetic export;
//! `cargo test -p mcp-train-core --example agent` runs its checks.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io;
use std::net::IpAddr;

use mcp_train_core::agent::frame::parse_frame;
use mcp_train_core::agent::{
    stream_rows, Agent, AgentError, AgentInfo, Capability, FeatureState, FeatureStream, LineError,
    ParseContext, Stability, PROTOCOL_VERSION,
};
use mcp_train_core::config::Config;
use mcp_train_core::export::{parse_export, Record, ValidateOptions};
use mcp_train_core::synth::{SynthConfig, SynthSummary, ValidSynthConfig};
use mcp_train_core::time::format_iso8601;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The agent: a unit struct, registered with one line in `AGENTS` (`&sshd::SshdAgent`).
#[derive(Debug)]
pub struct SshdAgent;

static INFO: AgentInfo = AgentInfo {
    name: "sshd",
    log_type: "sshd",
    description: "OpenSSH server logins (example agent)",
    protocol_version: PROTOCOL_VERSION,
    feature_schema: "sshd-v1",
    programs: &["sshd"],
    capabilities: &[
        Capability::RawLines,
        Capability::ExportRecords,
        Capability::StreamingFeatures,
        Capability::Synth,
    ],
    stability: Stability::Alpha,
};

/// The `sshd-v1` columns, in order: the order is part of the schema.
const FEATURES: [&str; 4] = [
    "is_failure",
    "is_unknown_user",
    "failures_1m",
    "source_failures_1m",
];
const WINDOW_MICROS: i64 = 60_000_000;
/// At most this many training users are kept in the state.
const MAX_USERS: usize = 1_000;

/// A login line's parts.
struct Login<'a> {
    ok: bool,
    user: &'a str,
    source: Option<IpAddr>,
}

/// `Failed password for [invalid user ]NAME from IP port N ssh2` or
/// `Accepted (password|publickey) for NAME from IP port N ssh2`.
fn login(message: &str) -> Option<Login<'_>> {
    let (ok, rest) = if let Some(rest) = message.strip_prefix("Failed password for ") {
        (false, rest.strip_prefix("invalid user ").unwrap_or(rest))
    } else if let Some(rest) = message.strip_prefix("Accepted ") {
        (true, rest.split_once(" for ")?.1)
    } else {
        return None;
    };
    let (user, rest) = rest.split_once(" from ")?;
    let source = rest.split(' ').next().and_then(|ip| ip.parse().ok());
    Some(Login { ok, user, source })
}

/// The fitted state: the training users, most frequent first (ties by name).
#[derive(Serialize, Deserialize)]
struct SshdState {
    users: Vec<String>,
}

impl Agent for SshdAgent {
    fn info(&self) -> &'static AgentInfo {
        &INFO
    }

    fn log_schema_yaml(&self) -> &'static str {
        // A real agent keeps this in config/log_schemas/sshd.yaml and include_str!s it.
        "log_type: sshd\nschema_version: 1.0.0\nfields:\n  \
         - {name: timestamp, type: timestamp, required: true, description: When.}\n  \
         - {name: message, type: string, required: true, description: The sshd message.}\n"
    }

    fn sample_lines(&self) -> &'static [&'static str] {
        &[
            "Dec  3 17:50:14 gw sshd[812]: Accepted publickey for alice from 10.0.0.5 port 50122 ssh2",
            "Dec  3 17:50:15 gw sshd[813]: Failed password for invalid user admin from 203.0.113.7 port 4711 ssh2",
        ]
    }

    fn synth(
        &self,
        config: &ValidSynthConfig,
        out: &mut dyn io::Write,
    ) -> io::Result<SynthSummary> {
        // Deterministic: no clock, no RNG state beyond the seed, no HashMap iteration.
        let c = config.config();
        let n = c.records;
        let anomalies = (n as f64 * c.anomaly_ratio).round() as usize;
        let step = i64::from(c.days) * 86_400_000_000 / n.max(1) as i64;
        let burst = n / 2; // one brute-force burst in the middle
        let users = ["alice", "bob", "carol", "deploy"];
        let mut data = Vec::with_capacity(n);
        for i in 0..n {
            let attack = (burst..burst + anomalies).contains(&i);
            let (timestamp, message) = if attack {
                let k = (i - burst) as i64;
                (
                    c.start_micros + burst as i64 * step + k * 1_000_000,
                    format!(
                        "Failed password for invalid user admin{k} from 203.0.113.7 port {} ssh2",
                        40_000 + k
                    ),
                )
            } else {
                let user = users[(i as u64 ^ c.seed) as usize % users.len()];
                (
                    c.start_micros + i as i64 * step,
                    format!(
                        "Accepted publickey for {user} from 10.0.0.{} port {} ssh2",
                        2 + i % 50,
                        50_000 + i % 10_000
                    ),
                )
            };
            data.push(json!({
                "id": i,
                "timestamp": format_iso8601(timestamp),
                "log_level": "INFO",
                "process_name": "sshd",
                "message": message,
                "label": u8::from(attack),
            }));
        }
        let export = json!({
            "export_metadata": {"total_records": n, "generator": "sshd example", "seed": c.seed},
            "data": data,
        });
        let bytes = serde_json::to_vec(&export).map_err(io::Error::other)?;
        out.write_all(&bytes)?;
        out.flush()?;
        Ok(SynthSummary {
            records: n,
            anomalies,
            incidents: Vec::new(),
            bytes: bytes.len() as u64,
        })
    }

    fn parse_line<'a>(
        &self,
        line: &'a str,
        index: usize,
        ctx: &ParseContext,
    ) -> Result<Record<'a>, LineError> {
        // Lines of other daemons still become records (their features are 0).
        parse_frame(line, index, ctx)
    }

    fn fields(&self, record: &Record<'_>) -> Vec<(String, String)> {
        let Some(login) = login(&record.message) else {
            return Vec::new();
        };
        let mut fields = vec![
            (
                "outcome".to_owned(),
                if login.ok { "accepted" } else { "failed" }.to_owned(),
            ),
            ("user".to_owned(), login.user.to_owned()),
        ];
        if let Some(source) = login.source {
            fields.push(("source".to_owned(), source.to_string()));
        }
        fields
    }

    fn fit(&self, records: &[Record<'_>], _config: &Config) -> Result<FeatureState, AgentError> {
        let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
        for login in records.iter().filter_map(|r| login(&r.message)) {
            *counts.entry(login.user).or_default() += 1;
        }
        let mut users: Vec<(&str, u64)> = counts.into_iter().collect();
        users.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        users.truncate(MAX_USERS);
        let state = SshdState {
            users: users.into_iter().map(|(u, _)| u.to_owned()).collect(),
        };
        Ok(FeatureState {
            log_type: INFO.log_type.to_owned(),
            schema: INFO.feature_schema.to_owned(),
            features: FEATURES.map(str::to_owned).to_vec(),
            state: serde_json::to_value(state).map_err(|e| AgentError::BadState(e.to_string()))?,
        })
    }

    fn extractor(&self, state: &FeatureState) -> Result<Box<dyn FeatureStream>, AgentError> {
        if state.log_type != INFO.log_type {
            return Err(AgentError::WrongLogType {
                model: state.log_type.clone(),
                agent: INFO.log_type.to_owned(),
            });
        }
        if state.schema != INFO.feature_schema {
            return Err(AgentError::WrongFeatureSchema {
                model: state.schema.clone(),
                agent: INFO.feature_schema.to_owned(),
            });
        }
        let fitted = SshdState::deserialize(&state.state)
            .map_err(|e| AgentError::BadState(e.to_string()))?;
        let mut users = fitted.users;
        users.sort();
        Ok(Box::new(SshdStream {
            users,
            failures: VecDeque::new(),
            per_source: HashMap::new(),
            last_time: i64::MIN,
        }))
    }
}

/// The streaming extractor: failures of the last minute, with counts per source.
struct SshdStream {
    /// Training users, sorted for binary search.
    users: Vec<String>,
    /// (window time, source) of the failures in the last minute, oldest first.
    failures: VecDeque<(i64, Option<IpAddr>)>,
    /// Failures per source in the window; a source leaves with its last failure, so the map
    /// is bounded by the window too.
    per_source: HashMap<Option<IpAddr>, u32>,
    last_time: i64,
}

impl FeatureStream for SshdStream {
    fn width(&self) -> usize {
        FEATURES.len()
    }

    fn push(&mut self, record: &Record<'_>, out: &mut [f64]) {
        // Late records count at the latest time seen: the window only moves forward.
        let time = record.timestamp.max(self.last_time);
        self.last_time = time;
        while let Some(&(t, source)) = self.failures.front() {
            if t >= time - WINDOW_MICROS {
                break;
            }
            self.failures.pop_front();
            if let Some(count) = self.per_source.get_mut(&source) {
                *count -= 1;
                if *count == 0 {
                    self.per_source.remove(&source);
                }
            }
        }
        let login = login(&record.message);
        let failed = login.as_ref().is_some_and(|l| !l.ok);
        let unknown = login.as_ref().is_some_and(|l| {
            self.users
                .binary_search_by(|u| u.as_str().cmp(l.user))
                .is_err()
        });
        let mut from_source = 0;
        if let Some(login) = login.filter(|l| !l.ok) {
            self.failures.push_back((time, login.source));
            let count = self.per_source.entry(login.source).or_default();
            *count += 1;
            from_source = *count;
        }
        let row = [
            f64::from(u8::from(failed)),
            f64::from(u8::from(unknown)),
            self.failures.len() as f64,
            f64::from(from_source),
        ];
        for (slot, value) in out.iter_mut().zip(row) {
            *slot = value;
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = SynthConfig {
        records: 200,
        anomaly_ratio: 0.05,
        ..SynthConfig::default()
    }
    .check()?;
    let mut bytes = Vec::new();
    SshdAgent.synth(&config, &mut bytes)?;
    let export = parse_export(&bytes, &ValidateOptions::default())?.into_usable()?;
    let state = SshdAgent.fit(&export.records, &Config::defaults())?;
    let mut stream = SshdAgent.extractor(&state)?;
    let rows = stream_rows(&export.records, stream.as_mut());
    println!("{}", state.features.join(","));
    for i in (0..rows.len()).filter(|&i| rows.row(i)[0] > 0.0).take(5) {
        let values: Vec<String> = rows.row(i).iter().map(f64::to_string).collect();
        println!("{}", values.join(","));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_train_core::agent::check_model;

    #[test]
    fn the_example_agent_keeps_the_contracts() {
        let ctx = ParseContext { default_year: 2026 };
        for line in SshdAgent.sample_lines() {
            let record = SshdAgent.parse_line(line, 0, &ctx).expect("sample line");
            assert!(!SshdAgent.fields(&record).is_empty());
        }
        let config = SynthConfig {
            records: 1_000,
            ..SynthConfig::default()
        }
        .check()
        .expect("config");
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let summary = SshdAgent.synth(&config, &mut a).expect("synth");
        SshdAgent.synth(&config, &mut b).expect("synth");
        assert_eq!(a, b);
        assert_eq!(summary.anomalies, 50);
        let export = parse_export(&a, &ValidateOptions::default())
            .expect("parses")
            .into_usable()
            .expect("usable");
        let state = SshdAgent
            .fit(&export.records, &Config::defaults())
            .expect("fits");
        let mut stream = SshdAgent.extractor(&state).expect("extractor");
        let streamed = stream_rows(&export.records, stream.as_mut());
        let batch = SshdAgent.extract(&export.records, &state).expect("batch");
        assert_eq!(streamed, batch);
        // The burst: 50 failures from one source within a minute.
        let peak = (0..batch.len())
            .map(|i| batch.row(i)[3])
            .fold(0.0, f64::max);
        assert_eq!(peak, 50.0);
        assert!(check_model(&SshdAgent, "sshd", "sshd-v1", "1.0.0").is_ok());
        assert!(check_model(&SshdAgent, "wifi", "sshd-v1", "1.0.0").is_err());
    }
}
