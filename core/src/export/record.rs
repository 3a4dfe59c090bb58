//! The validated, typed form of an export: what every later stage works from.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// Severity of a log record, normalised to the five levels the features know.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum LogLevel {
    /// Diagnostics (numeric level 0).
    Debug,
    /// Normal operation (1).
    Info,
    /// Something unexpected that did not fail (2).
    Warning,
    /// A failure (3).
    Error,
    /// A severe failure (4).
    Critical,
}

impl LogLevel {
    /// All levels, lowest first.
    pub const ALL: [LogLevel; 5] = [
        LogLevel::Debug,
        LogLevel::Info,
        LogLevel::Warning,
        LogLevel::Error,
        LogLevel::Critical,
    ];

    /// DEBUG 0, INFO 1, WARNING 2, ERROR 3, CRITICAL 4 (feature `log_level_numeric`).
    pub fn numeric(self) -> u8 {
        self as u8
    }

    /// The canonical upper-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "DEBUG",
            LogLevel::Info => "INFO",
            LogLevel::Warning => "WARNING",
            LogLevel::Error => "ERROR",
            LogLevel::Critical => "CRITICAL",
        }
    }

    /// Reads a level name, case-insensitively. Returns the level and whether the name was an
    /// alias (such as `WARN`, `ERR`, `FATAL`, `NOTICE`) rather than one of the five names.
    pub fn parse(name: &str) -> Option<(LogLevel, bool)> {
        let name = name.trim();
        if name.len() > 16 {
            return None;
        }
        let mut buf = [0u8; 16];
        let upper = &mut buf[..name.len()];
        upper.copy_from_slice(name.as_bytes());
        upper.make_ascii_uppercase();
        let level = match &*upper {
            b"DEBUG" => (LogLevel::Debug, false),
            b"INFO" => (LogLevel::Info, false),
            b"WARNING" => (LogLevel::Warning, false),
            b"ERROR" => (LogLevel::Error, false),
            b"CRITICAL" => (LogLevel::Critical, false),
            b"TRACE" | b"VERBOSE" | b"DBG" => (LogLevel::Debug, true),
            b"NOTICE" | b"INFORMATION" | b"INFORMATIONAL" | b"INF" => (LogLevel::Info, true),
            b"WARN" => (LogLevel::Warning, true),
            b"ERR" | b"FAIL" | b"FAILURE" => (LogLevel::Error, true),
            b"CRIT" | b"FATAL" | b"ALERT" | b"EMERG" | b"EMERGENCY" | b"PANIC" => {
                (LogLevel::Critical, true)
            }
            _ => return None,
        };
        Some(level)
    }
}

/// One usable log record. Strings borrow from the export's bytes where they had no escapes.
#[derive(Debug, Clone, PartialEq)]
pub struct Record<'a> {
    /// Position of the record in the input (0-based, counting records that were dropped).
    pub index: usize,
    /// Microseconds since the Unix epoch, UTC.
    pub timestamp: i64,
    /// The log message text.
    pub message: Cow<'a, str>,
    /// The process that logged the record.
    pub process_name: Cow<'a, str>,
    /// The device that logged it (syslog hostname, or the export's `device_id`), when known.
    pub host: Option<Cow<'a, str>>,
    /// Severity, normalised from the record's level name.
    pub level: LogLevel,
    /// `label` (0/1) or `is_anomaly` (bool) when the record carries one.
    pub label: Option<bool>,
}

/// The shape the export came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// `{"export_metadata": {...}, "data": [...]}`
    Object,
    /// A bare JSON array of records.
    Array,
    /// One record per line.
    Ndjson,
    /// Raw log text (syslog lines), read by a log type's agent.
    RawLog,
}

/// The fields of `export_metadata` that mcp-train reads; everything else is kept out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExportMetadata {
    /// The export's identifier, as written by the exporter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export_id: Option<String>,
    /// When the export was made, as written by the exporter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Records the exporter says it wrote (checked against the records found).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_records: Option<u64>,
}

/// A parsed export: its usable records in input order.
#[derive(Debug, Clone, PartialEq)]
pub struct Export<'a> {
    /// The shape the export came in.
    pub format: ExportFormat,
    /// `export_metadata`, for object exports that have it.
    pub metadata: Option<ExportMetadata>,
    /// The usable records, in input order.
    pub records: Vec<Record<'a>>,
}

impl Export<'_> {
    /// Whether any record carries a label (supervised evaluation is possible).
    pub fn has_labels(&self) -> bool {
        self.records.iter().any(|r| r.label.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_names_and_aliases() {
        assert_eq!(LogLevel::parse("info"), Some((LogLevel::Info, false)));
        assert_eq!(
            LogLevel::parse(" Warning "),
            Some((LogLevel::Warning, false))
        );
        assert_eq!(LogLevel::parse("WARN"), Some((LogLevel::Warning, true)));
        assert_eq!(LogLevel::parse("err"), Some((LogLevel::Error, true)));
        assert_eq!(LogLevel::parse("FATAL"), Some((LogLevel::Critical, true)));
        assert_eq!(LogLevel::parse("notice"), Some((LogLevel::Info, true)));
        assert_eq!(LogLevel::parse("loud"), None);
        assert_eq!(LogLevel::parse("a-very-long-level-name"), None);
        assert_eq!(LogLevel::Critical.numeric(), 4);
    }
}
