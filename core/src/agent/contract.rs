//! The protocol's data contracts: serde types that every surface writes and reads, published as
//! JSON Schemas (`docs/schemas/`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::log_schema::{LogSchema, LogSchemaError};
use super::{Agent, AgentInfo, Capability, Stability};
use crate::export::{LogLevel, Record};
use crate::time::format_iso8601;

/// One log entry as an agent read it: the syslog envelope plus the typed fields the agent found
/// in the message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LogEntry {
    /// Position in the input: record index of an export, or 0-based line number of a raw log.
    pub index: usize,
    /// The entry's time, RFC 3339 UTC with microseconds.
    pub timestamp: String,
    /// The log type of the agent that read it.
    pub log_type: String,
    /// The device that logged it (syslog hostname or the export's `device_id`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The logging process (syslog tag), possibly empty.
    pub process: String,
    /// Severity.
    pub level: LogLevel,
    /// The message text.
    pub message: String,
    /// Typed fields the agent read from the message, in the agent's order (e.g. `client`,
    /// `query_type`, `name` for DNS).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<(String, String)>,
    /// The entry's label, when the input carries one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<bool>,
}

impl LogEntry {
    /// The public form of `record`, read by the agent of `log_type` with these `fields`.
    pub fn from_record(
        record: &Record<'_>,
        log_type: &str,
        fields: Vec<(String, String)>,
    ) -> LogEntry {
        LogEntry {
            index: record.index,
            timestamp: format_iso8601(record.timestamp),
            log_type: log_type.to_owned(),
            host: record.host.as_deref().map(str::to_owned),
            process: record.process_name.clone().into_owned(),
            level: record.level,
            message: record.message.clone().into_owned(),
            fields,
            label: record.label,
        }
    }
}

/// One entry's feature row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Features {
    /// Feature schema name and version, e.g. `dns-v1`.
    pub schema: String,
    /// Column names, in order.
    pub names: Vec<String>,
    /// Values, one per name.
    pub values: Vec<f64>,
}

/// A model's verdict on one feature row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct InferenceResult {
    /// The model's anomaly score (lower is more anomalous).
    pub score: f64,
    /// `score − offset`; below the threshold (0) is an anomaly.
    pub decision: f64,
    /// Whether the row is an anomaly.
    pub is_anomaly: bool,
    /// Version of the model that scored it.
    pub model_version: String,
}

/// How much one feature pushed a row towards "anomaly": the rise in the decision value when
/// the feature is replaced by its training mean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Contribution {
    /// Feature name.
    pub feature: String,
    /// The row's value of the feature.
    pub value: f64,
    /// Decision value with the feature at its training mean, minus the row's decision value
    /// (positive: the feature made the row look more anomalous).
    pub contribution: f64,
}

/// A detected anomaly: the entry, the verdict and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Anomaly {
    /// The entry that was flagged.
    pub entry: LogEntry,
    /// The agent that flagged it.
    pub agent: String,
    /// The model's verdict.
    pub inference: InferenceResult,
    /// The features that pushed it over, largest contribution first (at most a few).
    pub contributions: Vec<Contribution>,
}

/// One row of an anomaly export: an anomaly with where and when it was exported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ExportRecord {
    /// Contract version of the record (`1`).
    pub schema_version: u32,
    /// The anomaly.
    pub anomaly: Anomaly,
    /// When it was detected, RFC 3339 UTC.
    pub detected_at: String,
}

/// What `mcp-train agents list --json` writes for one agent: its static metadata and its log
/// schema, owned and serializable.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct AgentDescription {
    /// Unique agent name (also the CLI's `--log-type` value).
    pub name: String,
    /// The log type the agent serves.
    pub log_type: String,
    /// One line saying what it reads.
    pub description: String,
    /// The protocol version it implements (semver).
    pub protocol_version: String,
    /// Name and version of the feature schema it extracts, e.g. `dns-v1`.
    pub feature_schema: String,
    /// The processes (syslog tags) whose lines it reads.
    pub programs: Vec<String>,
    /// What it can do.
    pub capabilities: Vec<Capability>,
    /// How settled it is.
    pub stability: Stability,
    /// The log schema its exports are validated against (the built-in one, or the one a
    /// configuration directory supplies).
    pub log_schema: LogSchema,
}

impl AgentDescription {
    /// The description of an agent with `info`, validating with `log_schema`.
    pub fn new(info: &AgentInfo, log_schema: LogSchema) -> AgentDescription {
        AgentDescription {
            name: info.name.to_owned(),
            log_type: info.log_type.to_owned(),
            description: info.description.to_owned(),
            protocol_version: info.protocol_version.to_owned(),
            feature_schema: info.feature_schema.to_owned(),
            programs: info.programs.iter().map(|p| (*p).to_owned()).collect(),
            capabilities: info.capabilities.to_vec(),
            stability: info.stability,
            log_schema,
        }
    }

    /// The description of `agent` with its built-in log schema.
    pub fn of(agent: &dyn Agent) -> Result<AgentDescription, LogSchemaError> {
        let schema = LogSchema::from_yaml(agent.log_schema_yaml())?;
        Ok(AgentDescription::new(agent.info(), schema))
    }
}

/// The JSON Schemas (draft 2020-12) of the protocol's data contracts and of the log schema
/// format, by file stem: `docs/schemas/<name>.schema.json` holds each, pretty-printed.
pub fn contract_schemas() -> Vec<(&'static str, serde_json::Value)> {
    fn schema<T: JsonSchema>() -> serde_json::Value {
        schemars::SchemaGenerator::default()
            .into_root_schema_for::<T>()
            .to_value()
    }
    vec![
        ("log_entry", schema::<LogEntry>()),
        ("features", schema::<Features>()),
        ("inference_result", schema::<InferenceResult>()),
        ("contribution", schema::<Contribution>()),
        ("anomaly", schema::<Anomaly>()),
        ("export_record", schema::<ExportRecord>()),
        ("agent_description", schema::<AgentDescription>()),
        ("log_schema", schema::<LogSchema>()),
    ]
}
