//! The agent protocol: how mcp-train turns the logs of one kind of device into features, scores
//! them with a model and reports anomalies — the same code in the CLI, the server and the browser.
//!
//! An [`Agent`] serves one log type (`wifi`, `dns`, `firewall`, `syslog`). It
//! - reads a raw log line (syslog framing and the daemon's own format) into a [`Record`], the
//!   envelope every later stage works from ([`Agent::parse_line`]); export records become
//!   [`Record`]s through [`crate::export`];
//! - names the typed fields it reads from a record's message ([`Agent::fields`]), which the
//!   public [`LogEntry`] carries;
//! - fits its feature state (vocabularies and the like) on training records
//!   ([`Agent::fit`]) and turns records into feature rows **one at a time**
//!   ([`Agent::extractor`] → [`FeatureStream`]): the stream keeps its window state, and a
//!   stream fed records in timestamp order gives, bit for bit, the rows of batch extraction
//!   ([`Agent::extract`], which sorts the records stably by time and streams them);
//! - refuses a model made for another log type, feature schema or an incompatible protocol
//!   version ([`check_model`]).
//!
//! Built-in agents are listed once, in [`AGENTS`]: one line per agent, no link-time magic, so
//! the list is the same on wasm32. `docs/protocol.md` is the reference for agent authors.

mod contract;
pub mod detect;
pub mod dns;
pub mod firewall;
pub mod formats;
pub mod frame;
pub mod log_schema;
mod recognize;
pub mod syslog;
#[cfg(test)]
pub(crate) mod test_agent;
pub mod wifi;

use std::fmt;
use std::io;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::export::Record;
use crate::synth::{SynthSummary, ValidSynthConfig};

pub use contract::{
    contract_schemas, AgentDescription, Anomaly, Contribution, ExportRecord, Features,
    InferenceResult, LogEntry,
};
pub use detect::{
    detect_records, is_whole_export, line_text, read_line_record, DetectError, Detector,
};
pub use log_schema::{builtin_log_schema_yaml, LogSchema, LogSchemaError};
pub use recognize::{detect_log_type, detect_raw_log_type, recognise_processes, recognise_raw};

/// The protocol version this build speaks (semver). A model or agent is compatible when its
/// protocol version has the same major version and a minor version no newer than this one
/// ([`protocol_compatible`]).
pub const PROTOCOL_VERSION: &str = "1.0.0";

/// What an agent can do beyond the required operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// Reads raw log lines ([`Agent::parse_line`]).
    RawLines,
    /// Reads export records (JSON object, array or NDJSON).
    ExportRecords,
    /// Extracts features one record at a time ([`Agent::extractor`]).
    StreamingFeatures,
    /// Writes labelled synthetic logs (`mcp-train synth --log-type`).
    Synth,
}

/// How settled an agent's feature schema and behaviour are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stability {
    /// Features and parsing change only with a new feature schema version.
    Stable,
    /// Usable; the feature schema may still change in a minor release.
    Beta,
    /// Experimental.
    Alpha,
}

impl Stability {
    /// `stable`, `beta` or `alpha`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stability::Stable => "stable",
            Stability::Beta => "beta",
            Stability::Alpha => "alpha",
        }
    }
}

/// An agent's static metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentInfo {
    /// Unique agent name (also the CLI's `--log-type` value).
    pub name: &'static str,
    /// The log type the agent serves; models and registry entries are filed under it.
    pub log_type: &'static str,
    /// One line for `mcp-train agents list`.
    pub description: &'static str,
    /// The protocol version the agent implements (semver).
    pub protocol_version: &'static str,
    /// Name and version of the feature schema it extracts, e.g. `wifi-v1`.
    pub feature_schema: &'static str,
    /// The processes (syslog tags) whose lines the agent reads, for recognising a log's type.
    pub programs: &'static [&'static str],
    /// What it can do.
    pub capabilities: &'static [Capability],
    /// How settled it is.
    pub stability: Stability,
}

/// Context for reading raw lines: what a line may leave out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseContext {
    /// The year of RFC 3164 timestamps that carry none (`Dec  3 17:50:14`), e.g. the file's
    /// modification year. The core has no clock: callers pass it.
    pub default_year: i32,
}

/// Why a raw line could not be read. `column` counts characters from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct LineError {
    /// 1-based column where reading failed.
    pub column: usize,
    /// What was expected there.
    pub message: String,
}

/// The fitted feature state of an agent: what a model stores so that inference extracts the
/// same features as training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureState {
    /// The log type it was fitted for.
    pub log_type: String,
    /// Feature schema name and version, e.g. `dns-v1`.
    pub schema: String,
    /// Column names in order.
    pub features: Vec<String>,
    /// Agent-specific fitted state (vocabularies, templates), read back by [`Agent::extractor`].
    pub state: serde_json::Value,
}

/// Why an agent cannot serve a model or a feature state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentError {
    /// The model was made for another log type.
    #[error("model is for log type \"{model}\", this agent serves \"{agent}\"")]
    WrongLogType {
        /// The model's log type.
        model: String,
        /// The agent's log type.
        agent: String,
    },
    /// The model's feature schema is not the agent's.
    #[error("model has feature schema \"{model}\", this agent extracts \"{agent}\"")]
    WrongFeatureSchema {
        /// The model's feature schema.
        model: String,
        /// The agent's feature schema.
        agent: String,
    },
    /// The model needs a protocol this build does not speak.
    #[error("model needs agent protocol {model}, this build speaks {agent} (same major version and a minor version no newer needed)")]
    IncompatibleProtocol {
        /// The model's protocol version.
        model: String,
        /// This build's protocol version.
        agent: String,
    },
    /// The stored feature state cannot be read.
    #[error("feature state: {0}")]
    BadState(String),
    /// No built-in agent serves this log type.
    #[error("unknown log type \"{0}\" (known: {known})", known = known_log_types())]
    UnknownLogType(String),
}

/// Turns records into feature rows one at a time, keeping its window state. Feed records in
/// timestamp order: a record older than the previous one is treated as if it came at the
/// previous record's time for the windows (its own time still gives the time features).
pub trait FeatureStream {
    /// Feature columns per row.
    fn width(&self) -> usize;
    /// Writes the next record's row into `out` (`out.len() == width()`).
    fn push(&mut self, record: &Record<'_>, out: &mut [f64]);
}

/// One log type's agent. Object safe: the registry holds `&'static dyn Agent`.
pub trait Agent: Send + Sync {
    /// Static metadata.
    fn info(&self) -> &'static AgentInfo;

    /// The built-in log schema (the YAML of `config/log_schemas/<log_type>.yaml`).
    fn log_schema_yaml(&self) -> &'static str;

    /// A few real-looking raw lines this agent reads (documentation, the compliance tests,
    /// and recognising a log's type).
    fn sample_lines(&self) -> &'static [&'static str];

    /// Whether `record` is one of this agent's, for recognising a log's type: by default its
    /// process is one of [`AgentInfo::programs`] (`dnsmasq` also matches `dnsmasq-dhcp`). An
    /// agent sharing a process with other logs (the kernel) looks at the message too.
    fn recognises(&self, record: &Record<'_>) -> bool {
        self.info()
            .programs
            .iter()
            .any(|p| is_program(&record.process_name, p))
    }

    /// Writes a labelled synthetic export of this log type (`mcp-train synth --log-type`):
    /// benign traffic with labelled attacks, the same bytes for the same configuration.
    fn synth(&self, config: &ValidSynthConfig, out: &mut dyn io::Write)
        -> io::Result<SynthSummary>;

    /// Reads one raw log line (syslog framing and the daemon's message) into a record with
    /// `index` as its position. Never panics; a line it cannot read is a [`LineError`].
    fn parse_line<'a>(
        &self,
        line: &'a str,
        index: usize,
        ctx: &ParseContext,
    ) -> Result<Record<'a>, LineError>;

    /// The typed fields the agent reads from a record (for [`LogEntry::fields`]), e.g. a DNS
    /// query's client, name and type.
    fn fields(&self, record: &Record<'_>) -> Vec<(String, String)>;

    /// Fits the feature state on training records (any order: they are sorted by time first)
    /// with the run's configuration.
    fn fit(&self, records: &[Record<'_>], config: &Config) -> Result<FeatureState, AgentError>;

    /// A streaming extractor for a fitted state (refused when the state is not this agent's).
    fn extractor(&self, state: &FeatureState) -> Result<Box<dyn FeatureStream>, AgentError>;

    /// Batch extraction: records sorted stably by timestamp, streamed through
    /// [`extractor`](Self::extractor). Agents may override it with a faster equivalent; the
    /// compliance tests check both agree bit for bit.
    fn extract(
        &self,
        records: &[Record<'_>],
        state: &FeatureState,
    ) -> Result<FeatureRows, AgentError> {
        let mut stream = self.extractor(state)?;
        Ok(stream_rows(records, stream.as_mut()))
    }
}

/// Feature rows of records in timestamp order, with what scoring and evaluation need about
/// each row.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureRows {
    /// Columns per row.
    pub width: usize,
    /// `rows × width` values, row after row.
    pub data: Vec<f64>,
    /// [`Record::index`] of the record behind each row.
    pub record_index: Vec<usize>,
    /// Timestamp of each row (microseconds since the epoch, UTC), non-decreasing.
    pub timestamps: Vec<i64>,
    /// Label of each row's record, when it has one.
    pub labels: Vec<Option<bool>>,
}

impl FeatureRows {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.record_index.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.record_index.is_empty()
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.width..(i + 1) * self.width]
    }
}

/// Streams `records` in stable timestamp order through `stream` into rows.
pub fn stream_rows(records: &[Record<'_>], stream: &mut dyn FeatureStream) -> FeatureRows {
    let mut order: Vec<usize> = (0..records.len()).collect();
    order.sort_by_key(|&i| records[i].timestamp);
    let width = stream.width();
    let mut data = vec![0.0; order.len().saturating_mul(width)];
    for (row, &i) in order.iter().enumerate() {
        stream.push(&records[i], &mut data[row * width..(row + 1) * width]);
    }
    FeatureRows {
        width,
        data,
        record_index: order.iter().map(|&i| records[i].index).collect(),
        timestamps: order.iter().map(|&i| records[i].timestamp).collect(),
        labels: order.iter().map(|&i| records[i].label).collect(),
    }
}

/// Whether something written for protocol `version` can be served by this build: same major
/// version, minor version no newer than [`PROTOCOL_VERSION`]'s. Unparseable versions are not.
pub fn protocol_compatible(version: &str) -> bool {
    match (parse_semver(version), parse_semver(PROTOCOL_VERSION)) {
        (Some((major, minor, _)), Some((our_major, our_minor, _))) => {
            major == our_major && minor <= our_minor
        }
        _ => false,
    }
}

/// `MAJOR.MINOR.PATCH` with no leading zeros (pre-release and build suffixes are not used by
/// the protocol and are refused).
pub fn parse_semver(text: &str) -> Option<(u64, u64, u64)> {
    let mut parts = text.split('.');
    let mut next = || -> Option<u64> {
        let part = parts.next()?;
        if part.is_empty()
            || part.len() > 1 && part.starts_with('0')
            || !part.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        part.parse().ok()
    };
    let version = (next()?, next()?, next()?);
    parts.next().is_none().then_some(version)
}

/// Checks that `agent` can serve a model with this log type, feature schema and protocol
/// version, naming the first reason it cannot.
pub fn check_model(
    agent: &dyn Agent,
    log_type: &str,
    feature_schema: &str,
    protocol_version: &str,
) -> Result<(), AgentError> {
    let info = agent.info();
    if log_type != info.log_type {
        return Err(AgentError::WrongLogType {
            model: log_type.to_owned(),
            agent: info.log_type.to_owned(),
        });
    }
    if feature_schema != info.feature_schema {
        return Err(AgentError::WrongFeatureSchema {
            model: feature_schema.to_owned(),
            agent: info.feature_schema.to_owned(),
        });
    }
    if !protocol_compatible(protocol_version) {
        return Err(AgentError::IncompatibleProtocol {
            model: protocol_version.to_owned(),
            agent: PROTOCOL_VERSION.to_owned(),
        });
    }
    Ok(())
}

/// Whether the syslog tag `process` is `program`, ignoring case, or `program` followed by a
/// separator (`hostapd-wlan0`, `dnsmasq-dhcp`).
pub fn is_program(process: &str, program: &str) -> bool {
    let (p, q) = (process.as_bytes(), program.as_bytes());
    p.len() >= q.len()
        && p[..q.len()].eq_ignore_ascii_case(q)
        && p.get(q.len())
            .is_none_or(|&b| !b.is_ascii_alphanumeric() && b != b'_')
}

/// The built-in agents, one line each.
pub static AGENTS: &[&dyn Agent] = &[
    &wifi::WifiAgent,
    &dns::DnsAgent,
    &firewall::FirewallAgent,
    &syslog::SyslogAgent,
];

/// The agents [`agent`] and [`detect_log_type`] look at: [`AGENTS`], and in this crate's unit
/// tests also a test-only agent (log type `testdns`).
pub(crate) fn registered() -> Vec<&'static dyn Agent> {
    #[allow(unused_mut)]
    let mut agents = AGENTS.to_vec();
    #[cfg(test)]
    agents.extend_from_slice(test_agent::TEST_AGENTS);
    agents
}

/// The agent serving `log_type`.
pub fn agent(log_type: &str) -> Result<&'static dyn Agent, AgentError> {
    registered()
        .into_iter()
        .find(|a| a.info().log_type == log_type)
        .ok_or_else(|| AgentError::UnknownLogType(log_type.to_owned()))
}

/// The log types of [`AGENTS`], comma-separated (for messages).
pub fn known_log_types() -> String {
    let names: Vec<&str> = AGENTS.iter().map(|a| a.info().log_type).collect();
    names.join(", ")
}

impl fmt::Debug for dyn Agent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Agent")
            .field("name", &self.info().name)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semver_and_compatibility() {
        assert_eq!(parse_semver("1.2.3"), Some((1, 2, 3)));
        for bad in [
            "",
            "1",
            "1.2",
            "1.2.3.4",
            "01.2.3",
            "1.2.x",
            "1.2.3-rc1",
            "-1.2.3",
        ] {
            assert_eq!(parse_semver(bad), None, "{bad}");
        }
        assert!(protocol_compatible(PROTOCOL_VERSION));
        assert!(protocol_compatible("1.0.7"));
        assert!(!protocol_compatible("2.0.0"));
        assert!(!protocol_compatible("0.9.0"));
        assert!(!protocol_compatible("1.99.0"));
        assert!(!protocol_compatible("one"));
    }
}
