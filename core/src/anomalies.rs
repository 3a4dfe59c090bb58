//! The anomaly store's contract, written once for every surface (CLI, HTTP, web app, MCP):
//! the lifecycle of a stored anomaly, the filters that select anomalies (parsed and bounded
//! here, nowhere else), the JSON of a stored anomaly and its audit trail, ingestion reports and
//! export jobs.
//!
//! Pure serde, no I/O: the server's SQLite store and export writer implement it, the web app's
//! client reads the same types.
//!
//! ```
//! use mcp_train_core::anomalies::{AnomalyFilter, AnomalyStatus};
//!
//! let filter = AnomalyFilter::from_pairs([("log_type", "dns"), ("min_score", "80"), ("status", "new")])
//!     .unwrap();
//! assert_eq!(filter.status, Some(AnomalyStatus::New));
//! assert!(AnomalyFilter::from_pairs([("min_score", "120")]).is_err());
//! assert!(AnomalyStatus::New.can_become(AnomalyStatus::Acknowledged));
//! assert!(!AnomalyStatus::New.can_become(AnomalyStatus::New));
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::agent::formats::risk_score;
use crate::agent::{Anomaly, LogEntry};
use crate::time::{format_iso8601, parse_iso8601};

/// Where a stored anomaly is in its review: `new` → `acknowledged` → `resolved` (a real
/// anomaly, dealt with) or `false_positive` (not an anomaly). A verdict can be reopened
/// (back to `acknowledged`) when it was given by mistake.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyStatus {
    /// Stored, nobody has looked at it.
    New,
    /// Someone is looking at it.
    Acknowledged,
    /// Confirmed and dealt with: a true positive.
    Resolved,
    /// Confirmed not to be an anomaly.
    FalsePositive,
}

impl AnomalyStatus {
    /// Every status, in the order of the lifecycle.
    pub const ALL: [AnomalyStatus; 4] = [
        AnomalyStatus::New,
        AnomalyStatus::Acknowledged,
        AnomalyStatus::Resolved,
        AnomalyStatus::FalsePositive,
    ];

    /// The status as on the wire and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyStatus::New => "new",
            AnomalyStatus::Acknowledged => "acknowledged",
            AnomalyStatus::Resolved => "resolved",
            AnomalyStatus::FalsePositive => "false_positive",
        }
    }

    /// Reads a status; `ack`, `fp` and `false-positive` are accepted too.
    pub fn parse(text: &str) -> Result<AnomalyStatus, FilterError> {
        match text.trim() {
            "new" => Ok(AnomalyStatus::New),
            "acknowledged" | "ack" => Ok(AnomalyStatus::Acknowledged),
            "resolved" => Ok(AnomalyStatus::Resolved),
            "false_positive" | "false-positive" | "fp" => Ok(AnomalyStatus::FalsePositive),
            other => Err(FilterError::new(
                "status",
                format!(
                    "{other:?} is not a status: expected new, acknowledged, resolved or false_positive"
                ),
            )),
        }
    }

    /// Whether an anomaly in this status may move to `to`: forward through the lifecycle, or
    /// a verdict reopened to `acknowledged`. Nothing moves to `new` or to itself.
    pub fn can_become(self, to: AnomalyStatus) -> bool {
        use AnomalyStatus::*;
        matches!(
            (self, to),
            (New, Acknowledged | Resolved | FalsePositive)
                | (Acknowledged, Resolved | FalsePositive)
                | (Resolved, Acknowledged | FalsePositive)
                | (FalsePositive, Acknowledged | Resolved)
        )
    }

    /// The label an analyst's verdict gives the entry: `resolved` → anomaly (`true`),
    /// `false_positive` → normal (`false`); no verdict yet → `None`.
    pub fn verdict(self) -> Option<bool> {
        match self {
            AnomalyStatus::Resolved => Some(true),
            AnomalyStatus::FalsePositive => Some(false),
            AnomalyStatus::New | AnomalyStatus::Acknowledged => None,
        }
    }
}

impl fmt::Display for AnomalyStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A filter value that cannot be read: which key, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct FilterError {
    /// The filter key (query parameter, CLI flag without dashes, JSON field).
    pub key: String,
    /// What is wrong with its value.
    pub message: String,
}

impl FilterError {
    /// An error for `key`, saying what is wrong.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> FilterError {
        FilterError {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// The keys [`AnomalyFilter::set`] reads, in the order [`AnomalyFilter::to_pairs`] writes them.
pub const FILTER_KEYS: [&str; 8] = [
    "from",
    "to",
    "log_type",
    "model_version",
    "min_score",
    "status",
    "device",
    "client",
];

/// Longest text value (log type, model version, device, client) a filter takes.
pub const MAX_FILTER_TEXT: usize = 256;

/// Which stored anomalies to select. Every field narrows; the empty filter selects all.
///
/// On the wire (query parameters, CLI flags, the `filter` object of an export request) every
/// value is a string or number as [`AnomalyFilter::set`] reads it:
/// - `from`, `to`: RFC 3339 times of the **entry** (when it was logged); `from` inclusive, `to`
///   exclusive; a time without a zone is UTC;
/// - `log_type`, `model_version`: exact;
/// - `min_score`: the lowest risk score (0–100, [`risk_score`]: 50 at the model's threshold,
///   higher is more anomalous);
/// - `status`: one [`AnomalyStatus`];
/// - `device`: the entry's host (source device), exact;
/// - `client`: the client the entry names ([`client_of`]), exact.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "RawFilter", into = "RawFilter")]
pub struct AnomalyFilter {
    /// Entry time from, microseconds since the epoch (inclusive).
    pub from: Option<i64>,
    /// Entry time to, microseconds since the epoch (exclusive).
    pub to: Option<i64>,
    /// Entry log type.
    pub log_type: Option<String>,
    /// Model version that flagged the anomaly.
    pub model_version: Option<String>,
    /// Lowest risk score, 0–100.
    pub min_score: Option<f64>,
    /// Status.
    pub status: Option<AnomalyStatus>,
    /// Source device (the entry's host).
    pub device: Option<String>,
    /// Client the entry is about.
    pub client: Option<String>,
}

/// The wire form of [`AnomalyFilter`]: every key optional, times as RFC 3339 text.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    log_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    model_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min_score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    device: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client: Option<String>,
}

impl TryFrom<RawFilter> for AnomalyFilter {
    type Error = FilterError;

    fn try_from(raw: RawFilter) -> Result<AnomalyFilter, FilterError> {
        let mut filter = AnomalyFilter::default();
        let texts = [
            ("from", raw.from),
            ("to", raw.to),
            ("log_type", raw.log_type),
            ("model_version", raw.model_version),
            ("status", raw.status),
            ("device", raw.device),
            ("client", raw.client),
        ];
        for (key, value) in texts {
            if let Some(value) = value {
                filter.set(key, &value)?;
            }
        }
        if let Some(score) = raw.min_score {
            filter.min_score = Some(check_score(score)?);
        }
        filter.check()?;
        Ok(filter)
    }
}

impl From<AnomalyFilter> for RawFilter {
    fn from(f: AnomalyFilter) -> RawFilter {
        RawFilter {
            from: f.from.map(format_iso8601),
            to: f.to.map(format_iso8601),
            log_type: f.log_type,
            model_version: f.model_version,
            min_score: f.min_score,
            status: f.status.map(|s| s.as_str().to_owned()),
            device: f.device,
            client: f.client,
        }
    }
}

fn check_score(score: f64) -> Result<f64, FilterError> {
    if score.is_finite() && (0.0..=100.0).contains(&score) {
        Ok(score)
    } else {
        Err(FilterError::new(
            "min_score",
            format!("{score} is not a risk score: expected a number from 0 to 100"),
        ))
    }
}

impl AnomalyFilter {
    /// Reads `key=value` pairs (query parameters); unknown keys and empty values are refused,
    /// as is `from` at or after `to`.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<AnomalyFilter, FilterError> {
        let mut filter = AnomalyFilter::default();
        for (key, value) in pairs {
            filter.set(key, value)?;
        }
        filter.check()?;
        Ok(filter)
    }

    /// Sets one key from its text; see the type's documentation for the keys.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), FilterError> {
        let value = value.trim();
        if value.is_empty() {
            return Err(FilterError::new(key, "empty value"));
        }
        let text = |value: &str| -> Result<Option<String>, FilterError> {
            if value.len() > MAX_FILTER_TEXT {
                Err(FilterError::new(
                    key,
                    format!("longer than {MAX_FILTER_TEXT} bytes"),
                ))
            } else {
                Ok(Some(value.to_owned()))
            }
        };
        let time = |value: &str| -> Result<Option<i64>, FilterError> {
            parse_iso8601(value)
                .map(|t| Some(t.micros))
                .map_err(|e| FilterError::new(key, e.to_string()))
        };
        match key {
            "from" => self.from = time(value)?,
            "to" => self.to = time(value)?,
            "log_type" => self.log_type = text(value)?,
            "model_version" => self.model_version = text(value)?,
            "min_score" => {
                let score: f64 = value.parse().map_err(|_| {
                    FilterError::new(key, format!("{value:?} is not a number from 0 to 100"))
                })?;
                self.min_score = Some(check_score(score)?);
            }
            "status" => self.status = Some(AnomalyStatus::parse(value)?),
            "device" => self.device = text(value)?,
            "client" => self.client = text(value)?,
            other => {
                return Err(FilterError::new(
                    other,
                    format!("unknown filter: expected one of {}", FILTER_KEYS.join(", ")),
                ))
            }
        }
        Ok(())
    }

    /// Refuses a time range that selects nothing by construction (`from` at or after `to`).
    pub fn check(&self) -> Result<(), FilterError> {
        if let (Some(from), Some(to)) = (self.from, self.to) {
            if from >= to {
                return Err(FilterError::new(
                    "to",
                    format!(
                        "{} is not after from ({})",
                        format_iso8601(to),
                        format_iso8601(from)
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The filter as `key=value` pairs, in [`FILTER_KEYS`] order (what [`AnomalyFilter::from_pairs`]
    /// reads back).
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        let mut push = |key: &'static str, value: Option<String>| {
            if let Some(value) = value {
                pairs.push((key, value));
            }
        };
        push("from", self.from.map(format_iso8601));
        push("to", self.to.map(format_iso8601));
        push("log_type", self.log_type.clone());
        push("model_version", self.model_version.clone());
        push("min_score", self.min_score.map(|s| s.to_string()));
        push("status", self.status.map(|s| s.as_str().to_owned()));
        push("device", self.device.clone());
        push("client", self.client.clone());
        pairs
    }

    /// Whether `anomaly` passes the filter (what the store's query selects, for in-memory
    /// lists such as the browser's own findings).
    pub fn matches(&self, anomaly: &StoredAnomaly) -> bool {
        let entry = &anomaly.anomaly.entry;
        let micros = parse_iso8601(&entry.timestamp).map(|t| t.micros).ok();
        self.from
            .is_none_or(|from| micros.is_some_and(|m| m >= from))
            && self.to.is_none_or(|to| micros.is_some_and(|m| m < to))
            && self
                .log_type
                .as_deref()
                .is_none_or(|t| t == anomaly.log_type)
            && self
                .model_version
                .as_deref()
                .is_none_or(|v| v == anomaly.model_version)
            && self.min_score.is_none_or(|s| anomaly.score >= s)
            && self.status.is_none_or(|s| s == anomaly.status)
            && self
                .device
                .as_deref()
                .is_none_or(|d| anomaly.device.as_deref() == Some(d))
            && self
                .client
                .as_deref()
                .is_none_or(|c| anomaly.client.as_deref() == Some(c))
    }
}

/// Page size of a list when none is asked for.
pub const DEFAULT_PAGE_SIZE: usize = 50;
/// Largest page a list returns.
pub const MAX_PAGE_SIZE: usize = 1000;

/// Reads a page size (`limit`): 1 to [`MAX_PAGE_SIZE`], [`DEFAULT_PAGE_SIZE`] when absent.
pub fn page_size(limit: Option<&str>) -> Result<usize, FilterError> {
    let Some(limit) = limit else {
        return Ok(DEFAULT_PAGE_SIZE);
    };
    match limit.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(n),
        _ => Err(FilterError::new(
            "limit",
            format!("{limit:?} is not a page size: expected 1 to {MAX_PAGE_SIZE}"),
        )),
    }
}

/// The names of agent fields that say which client an entry is about, in order of preference:
/// an address (`client`, `src`, …) before a station's MAC.
pub const CLIENT_FIELDS: [&str; 9] = [
    "client",
    "src",
    "src_ip",
    "source_ip",
    "client_ip",
    "mac",
    "client_mac",
    "station",
    "sta",
];

/// The client an entry is about: the first of [`CLIENT_FIELDS`] it carries, without an
/// `/port` or `#port` suffix (`192.168.1.7/53011` → `192.168.1.7`).
pub fn client_of(entry: &LogEntry) -> Option<String> {
    CLIENT_FIELDS.iter().find_map(|name| {
        let value = entry
            .fields
            .iter()
            .find(|(field, value)| field == name && !value.is_empty())
            .map(|(_, value)| value.as_str())?;
        let address = match value.rsplit_once(['/', '#']) {
            Some((address, port)) if port.bytes().all(|b| b.is_ascii_digit()) => address,
            _ => value,
        };
        Some(address.to_owned())
    })
}

/// One anomaly as the store keeps it and the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StoredAnomaly {
    /// The store's id (increasing in order of storing).
    pub id: i64,
    /// When it was stored, RFC 3339 UTC.
    pub detected_at: String,
    /// Where its review is.
    pub status: AnomalyStatus,
    /// Risk score 0–100 ([`risk_score`] of the decision).
    pub score: f64,
    /// The entry's log type.
    pub log_type: String,
    /// The model version that flagged it.
    pub model_version: String,
    /// The entry's host, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// The client the entry is about ([`client_of`]), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// The anomaly as detected: entry, verdict, contributions.
    pub anomaly: Anomaly,
}

impl StoredAnomaly {
    /// A new anomaly as it will be stored: status `new`, the derived columns filled in (the id
    /// is the store's to give; 0 until then).
    pub fn new(anomaly: Anomaly, detected_at: i64) -> StoredAnomaly {
        StoredAnomaly {
            id: 0,
            detected_at: format_iso8601(detected_at),
            status: AnomalyStatus::New,
            score: risk_score(anomaly.inference.decision),
            log_type: anomaly.entry.log_type.clone(),
            model_version: anomaly.inference.model_version.clone(),
            device: anomaly.entry.host.clone(),
            client: client_of(&anomaly.entry),
            anomaly,
        }
    }
}

/// Analysts' verdicts on stored anomalies, keyed by the entry they flagged (log type, entry
/// time, host, process, message): what `train|evaluate --feedback DIR` use as labels.
/// `resolved` → anomaly, `false_positive` → normal ([`AnomalyStatus::verdict`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Feedback {
    verdicts: std::collections::HashMap<FeedbackKey, bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct FeedbackKey {
    log_type: String,
    micros: i64,
    host: Option<String>,
    process: String,
    message: String,
}

impl Feedback {
    /// Records the verdict of a stored anomaly (one without a verdict is ignored). Returns
    /// whether it was kept (an entry whose time cannot be read is not).
    pub fn add(&mut self, anomaly: &StoredAnomaly) -> bool {
        let Some(verdict) = anomaly.status.verdict() else {
            return false;
        };
        let entry = &anomaly.anomaly.entry;
        let Ok(time) = parse_iso8601(&entry.timestamp) else {
            return false;
        };
        self.verdicts.insert(
            FeedbackKey {
                log_type: entry.log_type.clone(),
                micros: time.micros,
                host: entry.host.clone(),
                process: entry.process.clone(),
                message: entry.message.clone(),
            },
            verdict,
        );
        true
    }

    /// Verdicts held.
    pub fn len(&self) -> usize {
        self.verdicts.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.verdicts.is_empty()
    }

    /// The verdict on a record of `log_type`, if an analyst gave one.
    pub fn verdict(&self, log_type: &str, record: &crate::export::Record<'_>) -> Option<bool> {
        if self.verdicts.is_empty() {
            return None;
        }
        let key = FeedbackKey {
            log_type: log_type.to_owned(),
            micros: record.timestamp,
            host: record.host.as_deref().map(str::to_owned),
            process: record.process_name.clone().into_owned(),
            message: record.message.clone().into_owned(),
        };
        self.verdicts.get(&key).copied()
    }
}

/// One step of an anomaly's audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AnomalyEvent {
    /// When, RFC 3339 UTC.
    pub at: String,
    /// Who (the name given with the change; the CLI defaults to the user's login).
    pub by: String,
    /// The status before (`None` for the event that stored it).
    pub from: Option<AnomalyStatus>,
    /// The status after.
    pub to: AnomalyStatus,
    /// Why, as the person wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// An anomaly with its whole audit trail (`GET /api/anomalies/{id}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AnomalyDetail {
    /// The anomaly.
    #[serde(flatten)]
    pub anomaly: StoredAnomaly,
    /// Oldest first; the first event is the storing.
    pub history: Vec<AnomalyEvent>,
}

/// A page of a list (`GET /api/anomalies`): newest first; `next_cursor` fetches the rest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnomalyPage {
    /// The anomalies of this page.
    pub items: Vec<StoredAnomaly>,
    /// Opaque; pass as `cursor` for the next page. Absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Longest note a status change takes, in bytes.
pub const MAX_NOTE_BYTES: usize = 4096;
/// Longest name of who made a change, in bytes.
pub const MAX_BY_BYTES: usize = 128;

/// A status change (`POST /api/anomalies/{id}/status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// The new status.
    pub status: AnomalyStatus,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Who; the server uses `api` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

impl StatusChange {
    /// Refuses an over-long note or name, or an empty name.
    pub fn check(&self) -> Result<(), FilterError> {
        if self.note.as_ref().is_some_and(|n| n.len() > MAX_NOTE_BYTES) {
            return Err(FilterError::new(
                "note",
                format!("longer than {MAX_NOTE_BYTES} bytes"),
            ));
        }
        match &self.by {
            Some(by) if by.trim().is_empty() => Err(FilterError::new("by", "empty")),
            Some(by) if by.len() > MAX_BY_BYTES => Err(FilterError::new(
                "by",
                format!("longer than {MAX_BY_BYTES} bytes"),
            )),
            _ => Ok(()),
        }
    }
}

/// A line that could not be ingested: where and why (`line` counts from 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LineError {
    /// Line number.
    pub line: u64,
    /// Column (1-based, in characters).
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

/// How many [`LineError`]s an [`IngestReport`] lists (the rest are counted).
pub const MAX_REPORTED_LINE_ERRORS: usize = 100;

/// The answer to `POST /api/logs/{log_type}` (and the summary of `detect --store`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IngestReport {
    /// The log type the lines were read as.
    pub log_type: String,
    /// The deployed model that scored the lines (the last one, if it changed meanwhile).
    pub model_version: String,
    /// Lines received (blank ones included).
    pub lines: u64,
    /// Lines read and scored.
    pub scored: u64,
    /// Lines refused (see `errors`).
    pub invalid: u64,
    /// Anomalies found and stored.
    pub anomalies: u64,
    /// The first [`MAX_REPORTED_LINE_ERRORS`] refused lines.
    pub errors: Vec<LineError>,
}

/// The format of an anomaly export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// One [`StoredAnomaly`] JSON per line.
    Ndjson,
    /// One row per anomaly, flat columns.
    Csv,
    /// One ECS alert document per line ([`crate::agent::formats::to_ecs`]).
    Ecs,
    /// One OCSF Detection Finding per line ([`crate::agent::formats::to_ocsf`]).
    Ocsf,
}

impl ExportFormat {
    /// Every format.
    pub const ALL: [ExportFormat; 4] = [
        ExportFormat::Ndjson,
        ExportFormat::Csv,
        ExportFormat::Ecs,
        ExportFormat::Ocsf,
    ];

    /// The format as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Ndjson => "ndjson",
            ExportFormat::Csv => "csv",
            ExportFormat::Ecs => "ecs",
            ExportFormat::Ocsf => "ocsf",
        }
    }

    /// Reads a format.
    pub fn parse(text: &str) -> Result<ExportFormat, FilterError> {
        ExportFormat::ALL
            .into_iter()
            .find(|f| f.as_str() == text.trim())
            .ok_or_else(|| {
                FilterError::new(
                    "format",
                    format!("{text:?} is not an export format: expected ndjson, csv, ecs or ocsf"),
                )
            })
    }

    /// The file name extension of the export.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Ndjson | ExportFormat::Ecs | ExportFormat::Ocsf => "ndjson",
        }
    }

    /// The media type of the download.
    pub fn media_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Ndjson | ExportFormat::Ecs | ExportFormat::Ocsf => "application/x-ndjson",
        }
    }
}

/// Where an export job is: `queued` → `running` → `completed` | `failed` | `cancelled`;
/// a completed export's file is deleted when it expires (`expired`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportStatus {
    /// Waiting for its turn.
    Queued,
    /// Writing.
    Running,
    /// Written; the file can be downloaded.
    Completed,
    /// Ended with an error (`error` says why); no file.
    Failed,
    /// Stopped on request; no file.
    Cancelled,
    /// Completed, and its file has since been deleted.
    Expired,
}

impl ExportStatus {
    /// The status as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportStatus::Queued => "queued",
            ExportStatus::Running => "running",
            ExportStatus::Completed => "completed",
            ExportStatus::Failed => "failed",
            ExportStatus::Cancelled => "cancelled",
            ExportStatus::Expired => "expired",
        }
    }

    /// Whether the job has ended (nothing more will change but expiry).
    pub fn is_final(self) -> bool {
        !matches!(self, ExportStatus::Queued | ExportStatus::Running)
    }
}

/// A request for an export (`POST /api/exports`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    /// The format to write.
    pub format: ExportFormat,
    #[serde(default)]
    /// Which anomalies.
    pub filter: AnomalyFilter,
    /// Who asked; the server uses `api` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// An export job and, once it ran, its result: the history entry of `GET /api/exports`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ExportJob {
    /// The job's id.
    pub id: String,
    /// Where it is.
    pub status: ExportStatus,
    /// The format.
    pub format: ExportFormat,
    /// The filter it was asked with.
    pub filter: AnomalyFilter,
    /// Who asked.
    pub by: String,
    /// When it was asked for, RFC 3339 UTC.
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// When it started writing.
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// When it ended.
    pub finished_at: Option<String>,
    /// Rows written so far (all of them once completed).
    pub rows: u64,
    /// Rows the filter selected when the job started (the progress bar's end).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// Bytes written so far.
    pub bytes: u64,
    /// SHA-256 of the finished file, lowercase hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The download's file name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// When the file will be (or was) deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_round_trip_through_pairs_and_json() {
        let filter = AnomalyFilter::from_pairs([
            ("from", "2026-01-01T00:00:00Z"),
            ("to", "2026-01-02T00:00:00Z"),
            ("log_type", "dns"),
            ("min_score", "72.5"),
            ("status", "false-positive"),
            ("client", "10.0.0.9"),
        ])
        .unwrap();
        let pairs = filter.to_pairs();
        let back = AnomalyFilter::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str()))).unwrap();
        assert_eq!(back, filter);
        let json = serde_json::to_string(&filter).unwrap();
        assert_eq!(
            serde_json::from_str::<AnomalyFilter>(&json).unwrap(),
            filter
        );
    }

    #[test]
    fn bad_filters_name_the_key() {
        let err = |pairs: &[(&str, &str)]| {
            AnomalyFilter::from_pairs(pairs.iter().copied())
                .unwrap_err()
                .key
        };
        assert_eq!(err(&[("min_score", "abc")]), "min_score");
        assert_eq!(err(&[("min_score", "-1")]), "min_score");
        assert_eq!(err(&[("from", "yesterday")]), "from");
        assert_eq!(err(&[("status", "open")]), "status");
        assert_eq!(err(&[("colour", "red")]), "colour");
        assert_eq!(err(&[("device", "")]), "device");
        assert_eq!(
            err(&[
                ("from", "2026-01-02T00:00:00Z"),
                ("to", "2026-01-01T00:00:00Z")
            ]),
            "to"
        );
        let json = r#"{"min_score": 101}"#;
        assert!(serde_json::from_str::<AnomalyFilter>(json).is_err());
        let json = r#"{"colour": "red"}"#;
        assert!(serde_json::from_str::<AnomalyFilter>(json).is_err());
    }

    #[test]
    fn the_lifecycle_moves_forward_and_verdicts_reopen() {
        use AnomalyStatus::*;
        assert!(New.can_become(Acknowledged));
        assert!(Acknowledged.can_become(Resolved));
        assert!(Acknowledged.can_become(FalsePositive));
        assert!(Resolved.can_become(Acknowledged));
        assert!(!Acknowledged.can_become(New));
        assert!(!Resolved.can_become(Resolved));
        assert_eq!(Resolved.verdict(), Some(true));
        assert_eq!(FalsePositive.verdict(), Some(false));
        assert_eq!(New.verdict(), None);
        for s in AnomalyStatus::ALL {
            assert_eq!(AnomalyStatus::parse(s.as_str()), Ok(s));
        }
    }

    #[test]
    fn page_sizes_are_bounded() {
        assert_eq!(page_size(None), Ok(DEFAULT_PAGE_SIZE));
        assert_eq!(page_size(Some("1000")), Ok(1000));
        assert!(page_size(Some("0")).is_err());
        assert!(page_size(Some("1001")).is_err());
    }

    #[test]
    fn clients_drop_their_port() {
        let entry = LogEntry {
            index: 0,
            timestamp: "2026-01-01T00:00:00.000000Z".to_owned(),
            log_type: "dns".to_owned(),
            host: None,
            process: "dnsmasq".to_owned(),
            level: crate::export::LogLevel::Info,
            message: String::new(),
            fields: vec![
                ("query_type".to_owned(), "A".to_owned()),
                ("client".to_owned(), "192.168.1.7/53011".to_owned()),
            ],
            label: None,
        };
        assert_eq!(client_of(&entry).as_deref(), Some("192.168.1.7"));
    }
}
