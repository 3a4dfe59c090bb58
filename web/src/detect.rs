//! Detection in the browser, the part that is plain Rust (the worker runs it, the tests run it
//! natively): a raw log or an export read into records, scored by a model with the core's
//! [`Detector`], bad lines counted with where they are; the log type a file looks like; the
//! NDJSON and CSV downloads of the anomalies.
//!
//! The input is read as `mcp-train detect` reads a file, so the two find the same anomalies:
//! - a whole JSON export (its first line opens an array, or an object with `data`, or a
//!   pretty-printed document) is validated with invalid records dropped (counted as bad) and its
//!   records streamed in stable timestamp order;
//! - anything else is read line by line in file order: a `{` line that is one export record is
//!   that record, any other line goes to the agent's `parse_line` (RFC 3164 timestamps without a
//!   year are read in `default_year`); a line that cannot be read is counted and named as
//!   `line:column`.

use mcp_train_core::agent::{self, Anomaly, Detector, ParseContext};
use mcp_train_core::config::Config;
use mcp_train_core::export::{parse_export, Record};
use mcp_train_core::pipeline::ModelArtifact;
use serde::{Deserialize, Serialize};

/// The log type of models and exports that name none (the core's default).
pub const WIFI: &str = "wifi";

/// Bad lines listed one by one (the rest are only counted).
pub const BAD_LINES_KEPT: usize = 50;

/// A line that could not be read: 1-based line (record number for an export) and column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadLine {
    pub line: u64,
    pub column: usize,
    pub message: String,
}

/// How the input was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    /// Raw log lines (or NDJSON export records), line by line.
    Lines,
    /// A whole JSON export.
    Export,
}

/// The outcome of a detection run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    pub kind: InputKind,
    /// The model that scored the records, and its log type (the agent that read them).
    pub model_version: String,
    pub log_type: String,
    /// The log type the records look like (their processes), when any record names one.
    pub looks_like: Option<String>,
    /// Lines (records of an export) read, records parsed, lines refused.
    pub lines: u64,
    pub parsed: u64,
    pub bad: u64,
    /// The first [`BAD_LINES_KEPT`] refused lines.
    pub bad_lines: Vec<BadLine>,
    /// The anomalies, in the order the model saw the records.
    pub anomalies: Vec<Anomaly>,
}

impl Detection {
    fn bad_line(&mut self, line: u64, column: usize, message: impl Into<String>) {
        self.bad += 1;
        if self.bad_lines.len() < BAD_LINES_KEPT {
            self.bad_lines.push(BadLine {
                line,
                column,
                message: message.into(),
            });
        }
    }
}

/// Detects anomalies in `input` with the model `model_json`. `log_type` is the log type the
/// person chose for the file: a model of another log type is refused, naming both.
pub fn detect(
    model_json: &[u8],
    input: &[u8],
    log_type: Option<&str>,
    default_year: i32,
) -> Result<Detection, String> {
    let artifact = ModelArtifact::from_json(model_json)
        .map_err(|e| format!("the model cannot be read: {e}"))?;
    if let Some(chosen) = log_type {
        if chosen != artifact.log_type {
            return Err(format!(
                "model {} is for {} logs and the file was chosen as {chosen}: choose a {chosen} model or another log type",
                artifact.version, artifact.log_type
            ));
        }
    }
    let mut detector =
        Detector::new(artifact).map_err(|e| format!("cannot detect with this model: {e}"))?;
    let mut out = Detection {
        kind: InputKind::Lines,
        model_version: detector.artifact().version.clone(),
        log_type: detector.artifact().log_type.clone(),
        looks_like: None,
        lines: 0,
        parsed: 0,
        bad: 0,
        bad_lines: Vec::new(),
        anomalies: Vec::new(),
    };
    let first = input
        .split(|&b| b == b'\n')
        .find(|l| !l.trim_ascii().is_empty())
        .unwrap_or_default();
    if agent::is_whole_export(first) {
        out.kind = InputKind::Export;
        let mut options = Config::defaults().training.validation;
        options.drop_invalid = true;
        let parsed =
            parse_export(input, &options).map_err(|e| format!("the export cannot be read: {e}"))?;
        let report = parsed.report;
        for group in &report.errors {
            for issue in &group.examples {
                if out.bad_lines.len() < BAD_LINES_KEPT {
                    out.bad_lines.push(BadLine {
                        line: issue
                            .line
                            .map(|l| l as u64)
                            .or(issue.record.map(|r| r as u64 + 1))
                            .unwrap_or(0),
                        column: issue.column.unwrap_or(1),
                        message: issue.to_string(),
                    });
                }
            }
        }
        let records = parsed.export.records;
        out.lines = report.records_seen as u64;
        out.bad = report.dropped.as_ref().map_or(0, |d| d.count as u64);
        out.parsed = records.len() as u64;
        out.looks_like = (!records.is_empty()).then(|| agent::detect_log_type(&records).to_owned());
        let mut order: Vec<usize> = (0..records.len()).collect();
        order.sort_by_key(|&i| records[i].timestamp);
        for i in order {
            let number = records[i].index as u64 + 1;
            score(&mut detector, &records[i], number, &mut out);
        }
        return Ok(out);
    }
    let ctx = ParseContext { default_year };
    out.looks_like = agent::recognise_raw(input, &ctx).map(str::to_owned);
    // The text after the last line break is no line.
    let body = input.strip_suffix(b"\n").unwrap_or(input);
    let lines = body
        .split(|&b| b == b'\n')
        .take(if body.is_empty() { 0 } else { usize::MAX });
    for (i, bytes) in lines.enumerate() {
        let number = i as u64 + 1;
        out.lines += 1;
        let line = match agent::line_text(bytes) {
            Ok(line) => line,
            Err(column) => {
                out.bad_line(number, column, "not valid UTF-8");
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        match agent::read_line_record(line, i, &ctx, detector.agent()) {
            Ok(record) => {
                out.parsed += 1;
                score(&mut detector, &record, number, &mut out);
            }
            Err(e) => out.bad_line(number, e.column, e.message),
        }
    }
    Ok(out)
}

fn score(detector: &mut Detector, record: &Record<'_>, number: u64, out: &mut Detection) {
    match detector.detect(record) {
        Ok(Some(anomaly)) => out.anomalies.push(anomaly),
        Ok(None) => {}
        Err(e) => out.bad_line(number, 1, e.to_string()),
    }
}

/// The log type a file looks like from its beginning (`head`, e.g. its first 64 KiB), by the
/// core's recognition: raw lines as `train` and `detect` recognise them, JSON by the
/// `process_name` fields in the text (complete or not). `None` when nothing in it is a log.
pub fn guess_log_type(head: &[u8], default_year: i32) -> Option<&'static str> {
    let text = String::from_utf8_lossy(head);
    let json = matches!(text.trim_start().as_bytes().first(), Some(b'{' | b'['));
    if json {
        // Every `"process_name": "…"` in the text, complete or not.
        let key = "\"process_name\"";
        let mut rest = text.as_ref();
        let mut processes: Vec<(&str, usize)> = Vec::new();
        while let Some(at) = rest.find(key) {
            rest = &rest[at + key.len()..];
            let value = rest.trim_start().strip_prefix(':').map(str::trim_start);
            if let Some(value) = value.and_then(|v| v.strip_prefix('"')) {
                if let Some(end) = value.find('"') {
                    processes.push((&value[..end], 1));
                }
            }
        }
        agent::recognise_processes(processes)
    } else {
        // The last line of a cut-off head may be partial: leave it out.
        let whole = match head.iter().rposition(|&b| b == b'\n') {
            Some(end) if !head.ends_with(b"\n") => &head[..=end],
            _ => head,
        };
        agent::recognise_raw(whole, &ParseContext { default_year })
    }
}

/// The log type an export's validation summary points at: its processes, weighted by count.
pub fn log_type_of_processes<'a>(
    processes: impl IntoIterator<Item = (&'a str, usize)>,
) -> Option<&'static str> {
    agent::recognise_processes(processes)
}

/// The anomalies as NDJSON: one [`Anomaly`] per line, in the contract's serde form (what
/// `mcp-train detect` writes).
pub fn to_ndjson<'a>(anomalies: impl IntoIterator<Item = &'a Anomaly>) -> Vec<u8> {
    let mut out = Vec::new();
    for a in anomalies {
        if serde_json::to_writer(&mut out, a).is_ok() {
            out.push(b'\n');
        }
    }
    out
}

/// The CSV header.
pub const CSV_HEADER: &str = "index,timestamp,score,decision,host,process,message,top_features";

/// The anomalies as CSV (RFC 4180: a field with a comma, quote or line break is quoted, its
/// quotes doubled; lines end in CRLF): [`CSV_HEADER`], then one row per anomaly; `top_features`
/// are the contributions' feature names, largest first, separated by `;`.
pub fn to_csv<'a>(anomalies: impl IntoIterator<Item = &'a Anomaly>) -> String {
    let mut out = String::from(CSV_HEADER);
    out.push_str("\r\n");
    for a in anomalies {
        let features: Vec<&str> = a.contributions.iter().map(|c| c.feature.as_str()).collect();
        let fields = [
            a.entry.index.to_string(),
            a.entry.timestamp.clone(),
            a.inference.score.to_string(),
            a.inference.decision.to_string(),
            a.entry.host.clone().unwrap_or_default(),
            a.entry.process.clone(),
            a.entry.message.clone(),
            features.join(";"),
        ];
        let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// Whether `anomaly` passes the page's filters: `text` (case-insensitive) in its time, host,
/// process, message or reasons, and a strength (−decision) of at least `min_strength`.
pub fn matches(anomaly: &Anomaly, text: &str, min_strength: Option<f64>) -> bool {
    if let Some(min) = min_strength {
        if -anomaly.inference.decision < min {
            return false;
        }
    }
    let needle = text.trim().to_lowercase();
    if needle.is_empty() {
        return true;
    }
    let e = &anomaly.entry;
    [
        e.timestamp.as_str(),
        e.host.as_deref().unwrap_or(""),
        e.process.as_str(),
        e.message.as_str(),
    ]
    .into_iter()
    .chain(anomaly.contributions.iter().map(|c| c.feature.as_str()))
    .any(|f| f.to_lowercase().contains(&needle))
}

#[cfg(test)]
mod tests;
