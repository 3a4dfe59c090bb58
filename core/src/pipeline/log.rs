//! Logs of any log type in and out: validating an export against its log type's log schema or
//! raw log text with its agent ([`validate_log`]), and writing the export of a raw log
//! ([`write_export_of`], what `mcp-train import` does).

use std::io::{self, Write};

use crate::agent::{detect_log_type, detect_raw_log_type, LogSchema, ParseContext};
use crate::export::{
    looks_like_export, parse_export, parse_raw_log, validate_with_schema, ParsedExport, Record,
    ValidateOptions,
};
use crate::time::format_iso8601;

use super::TrainError;

/// A log read and validated as its log type.
#[derive(Debug)]
pub struct ValidatedLog<'a> {
    /// The log type: the one given, or the one recognised from the records.
    pub log_type: String,
    /// Whether the input was raw log text (read by the agent) rather than an export.
    pub raw: bool,
    /// The usable records and the validation report.
    pub parsed: ParsedExport<'a>,
}

/// Reads and validates `bytes` as a log of `log_type` (`None`: recognised from the records).
/// Raw log text (anything not starting with `{` or `[`) is read line by line by the log type's
/// agent, bad lines reported with line and column. An export is checked against the log
/// schema `schema_of` gives for its log type (the built-in one, or one from a configuration
/// directory); `None` checks the envelope only. Fatal problems (not JSON, empty) are errors; a
/// log with invalid records comes back with an invalid report.
pub fn validate_log<'a>(
    bytes: &'a [u8],
    log_type: Option<&str>,
    context: &ParseContext,
    options: &ValidateOptions,
    schema_of: &mut dyn FnMut(&str) -> Option<LogSchema>,
) -> Result<ValidatedLog<'a>, TrainError> {
    if !looks_like_export(bytes) && !bytes.iter().all(u8::is_ascii_whitespace) {
        let log_type = match log_type {
            Some(t) => t,
            None => detect_raw_log_type(bytes, context),
        };
        let agent = crate::agent::agent(log_type)?;
        let parsed = parse_raw_log(bytes, agent, context, options)?;
        return Ok(ValidatedLog {
            log_type: log_type.to_owned(),
            raw: true,
            parsed,
        });
    }
    let log_type = match log_type {
        Some(t) => {
            crate::agent::agent(t)?;
            t.to_owned()
        }
        // A first reading to learn the type; the schema-driven reading below checks it.
        None => detect_log_type(&parse_export(bytes, options)?.export.records).to_owned(),
    };
    let parsed = match schema_of(&log_type) {
        Some(schema) => validate_with_schema(bytes, options, &schema)?,
        None => parse_export(bytes, options)?,
    };
    Ok(ValidatedLog {
        log_type,
        raw: false,
        parsed,
    })
}

/// Writes `records` as an export of `log_type` (a JSON object with `export_metadata` and
/// `data`, one record per line): timestamp (ISO 8601, UTC), host, process_name, log_level,
/// message and label when known — the fields the export reader gives back, so the export
/// trains and scores exactly as the raw log does.
pub fn write_export_of(
    records: &[Record<'_>],
    log_type: &str,
    source: &str,
    out: &mut dyn Write,
) -> io::Result<()> {
    let metadata = serde_json::json!({
        "log_type": log_type,
        "source": source,
        "records": records.len(),
        "generator": super::generator(),
    });
    write!(out, "{{\"export_metadata\":{metadata},\"data\":[")?;
    for (i, record) in records.iter().enumerate() {
        let mut object = serde_json::Map::new();
        object.insert("timestamp".into(), format_iso8601(record.timestamp).into());
        if let Some(host) = &record.host {
            object.insert("host".into(), host.as_ref().into());
        }
        object.insert("process_name".into(), record.process_name.as_ref().into());
        object.insert("log_level".into(), record.level.as_str().into());
        object.insert("message".into(), record.message.as_ref().into());
        if let Some(label) = record.label {
            object.insert("label".into(), u8::from(label).into());
        }
        let separator = if i == 0 { "\n" } else { ",\n" };
        write!(out, "{separator}{}", serde_json::Value::Object(object))?;
    }
    writeln!(out, "\n]}}")
}
