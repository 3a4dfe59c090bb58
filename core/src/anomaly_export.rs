//! Stored anomalies written as an export file, one row at a time (memory bounded whatever the
//! number of rows): NDJSON (the [`StoredAnomaly`] JSON per line), CSV (flat columns,
//! [`CSV_COLUMNS`]), ECS alert documents and OCSF Detection Findings (one JSON per line, built
//! by [`crate::agent::formats`] and stamped with the store's id and review status).
//!
//! Pure: the writer takes any [`std::io::Write`]; the server's export jobs and the CLI give it a
//! file, the web app a buffer.
//!
//! ```
//! use mcp_train_core::anomalies::ExportFormat;
//! use mcp_train_core::anomaly_export::ExportWriter;
//!
//! let mut out = ExportWriter::new(ExportFormat::Csv, Vec::new()).unwrap();
//! assert_eq!(out.rows(), 0);
//! let bytes = out.finish().unwrap();
//! assert!(bytes.starts_with(b"id,detected_at,status,score,severity"));
//! ```

use std::io::{self, Write};

use serde_json::{json, Value};

use crate::agent::formats::{severity_id, to_ecs, to_ocsf};
use crate::anomalies::{AnomalyStatus, ExportFormat, StoredAnomaly};
use crate::time::parse_iso8601;

/// How many contributions (largest first) the CSV lists, each as a feature, value and
/// contribution column.
pub const CSV_CONTRIBUTIONS: usize = 3;

/// The CSV columns, in order (the header row). `fields` is the agent's typed fields as a JSON
/// object; `feature_N`, `value_N`, `contribution_N` the N-th largest contribution.
pub const CSV_COLUMNS: [&str; 29] = [
    "id",
    "detected_at",
    "status",
    "score",
    "severity",
    "log_type",
    "model_version",
    "timestamp",
    "device",
    "client",
    "process",
    "level",
    "message",
    "decision",
    "anomaly_score",
    "is_anomaly",
    "agent",
    "index",
    "label",
    "fields",
    "feature_1",
    "value_1",
    "contribution_1",
    "feature_2",
    "value_2",
    "contribution_2",
    "feature_3",
    "value_3",
    "contribution_3",
];

/// Why a row could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportWriteError {
    /// The output refused the bytes.
    #[error("cannot write the export: {0}")]
    Io(#[from] io::Error),
    /// A row could not be encoded (never happens with rows the store returns).
    #[error("cannot encode anomaly {id}: {message}")]
    Encode {
        /// The anomaly's id.
        id: i64,
        /// What went wrong.
        message: String,
    },
}

enum Out<W: Write> {
    Lines(W),
    Csv(Box<csv::Writer<W>>),
}

/// Writes stored anomalies in one [`ExportFormat`]; the CSV header is written by
/// [`ExportWriter::new`].
pub struct ExportWriter<W: Write> {
    format: ExportFormat,
    out: Out<W>,
    rows: u64,
}

impl<W: Write> std::fmt::Debug for ExportWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportWriter")
            .field("format", &self.format)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl<W: Write> ExportWriter<W> {
    /// A writer of `format` into `out` (a CSV's header row written already).
    pub fn new(format: ExportFormat, out: W) -> Result<ExportWriter<W>, ExportWriteError> {
        let out = match format {
            ExportFormat::Csv => {
                let mut csv = csv::WriterBuilder::new()
                    .terminator(csv::Terminator::CRLF)
                    .quote_style(csv::QuoteStyle::Necessary)
                    .from_writer(out);
                csv.write_record(CSV_COLUMNS).map_err(csv_error)?;
                Out::Csv(Box::new(csv))
            }
            ExportFormat::Ndjson | ExportFormat::Ecs | ExportFormat::Ocsf => Out::Lines(out),
        };
        Ok(ExportWriter {
            format,
            out,
            rows: 0,
        })
    }

    /// The format written.
    pub fn format(&self) -> ExportFormat {
        self.format
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The output (what the writer has flushed into it so far).
    pub fn get_ref(&self) -> &W {
        match &self.out {
            Out::Csv(csv) => csv.get_ref(),
            Out::Lines(out) => out,
        }
    }

    /// Writes one anomaly.
    pub fn write(&mut self, anomaly: &StoredAnomaly) -> Result<(), ExportWriteError> {
        match &mut self.out {
            Out::Csv(csv) => csv.write_record(csv_row(anomaly)).map_err(csv_error)?,
            Out::Lines(out) => {
                let encode = |e: serde_json::Error| ExportWriteError::Encode {
                    id: anomaly.id,
                    message: e.to_string(),
                };
                match self.format {
                    ExportFormat::Ecs => serde_json::to_writer(&mut *out, &ecs_document(anomaly)),
                    ExportFormat::Ocsf => serde_json::to_writer(&mut *out, &ocsf_finding(anomaly)),
                    _ => serde_json::to_writer(&mut *out, anomaly),
                }
                .map_err(|e| {
                    if e.is_io() {
                        ExportWriteError::Io(io::Error::other(e))
                    } else {
                        encode(e)
                    }
                })?;
                out.write_all(b"\n")?;
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// Pushes what the writer buffers (the CSV writer's buffer) into the output, and flushes it.
    pub fn flush(&mut self) -> io::Result<()> {
        match &mut self.out {
            Out::Csv(csv) => csv.flush(),
            Out::Lines(out) => out.flush(),
        }
    }

    /// Flushes and hands back the output.
    pub fn finish(self) -> io::Result<W> {
        match self.out {
            Out::Csv(csv) => csv
                .into_inner()
                .map_err(|e| io::Error::other(e.to_string())),
            Out::Lines(mut out) => {
                out.flush()?;
                Ok(out)
            }
        }
    }
}

fn csv_error(e: csv::Error) -> ExportWriteError {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => ExportWriteError::Io(e),
        other => ExportWriteError::Io(io::Error::other(format!("{other:?}"))),
    }
}

/// A text cell a spreadsheet cannot take for a formula: one starting with `=`, `+`, `-`, `@`,
/// a tab or a carriage return gets a leading `'` (OWASP's CSV injection advice). Numbers are
/// written as numbers and never pass through here.
pub fn csv_text(text: &str) -> String {
    match text.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

/// A number as the CSV writes it (shortest form that reads back the same).
fn number(value: f64) -> String {
    if value.is_finite() {
        value.to_string()
    } else {
        String::new()
    }
}

/// The CSV row of one anomaly, in [`CSV_COLUMNS`] order.
pub fn csv_row(a: &StoredAnomaly) -> Vec<String> {
    let entry = &a.anomaly.entry;
    let inference = &a.anomaly.inference;
    let mut fields = serde_json::Map::new();
    for (name, value) in &entry.fields {
        fields.entry(name.clone()).or_insert_with(|| json!(value));
    }
    let mut row = vec![
        a.id.to_string(),
        csv_text(&a.detected_at),
        a.status.as_str().to_owned(),
        number(a.score),
        severity_id(a.score).to_string(),
        csv_text(&a.log_type),
        csv_text(&a.model_version),
        csv_text(&entry.timestamp),
        csv_text(a.device.as_deref().unwrap_or("")),
        csv_text(a.client.as_deref().unwrap_or("")),
        csv_text(&entry.process),
        entry.level.as_str().to_owned(),
        csv_text(&entry.message),
        number(inference.decision),
        number(inference.score),
        inference.is_anomaly.to_string(),
        csv_text(&a.anomaly.agent),
        entry.index.to_string(),
        entry.label.map(|l| l.to_string()).unwrap_or_default(),
        csv_text(&Value::Object(fields).to_string()),
    ];
    for i in 0..CSV_CONTRIBUTIONS {
        match a.anomaly.contributions.get(i) {
            Some(c) => {
                row.push(csv_text(&c.feature));
                row.push(number(c.value));
                row.push(number(c.contribution));
            }
            None => row.extend([String::new(), String::new(), String::new()]),
        }
    }
    row
}

/// The ECS alert document of a stored anomaly: [`to_ecs`] of the anomaly, plus `event.id` (the
/// store's id), `event.created` (when it was stored) and, under `mcp_train`, `id`, `status` and
/// `detected_at`.
pub fn ecs_document(a: &StoredAnomaly) -> Value {
    let mut doc = to_ecs(&a.anomaly);
    if let Some(event) = doc.get_mut("event").and_then(Value::as_object_mut) {
        event.insert("id".to_owned(), json!(a.id.to_string()));
        event.insert("created".to_owned(), json!(a.detected_at));
    }
    if let Some(ours) = doc.get_mut("mcp_train").and_then(Value::as_object_mut) {
        ours.insert("id".to_owned(), json!(a.id));
        ours.insert("status".to_owned(), json!(a.status.as_str()));
        ours.insert("detected_at".to_owned(), json!(a.detected_at));
    }
    doc
}

/// OCSF's finding status of a review status: `(status_id, status, status_detail)`. New is 1
/// New, acknowledged 2 In Progress, resolved 4 Resolved, a false positive 3 Suppressed.
pub fn ocsf_status(status: AnomalyStatus) -> (u8, &'static str, &'static str) {
    match status {
        AnomalyStatus::New => (1, "New", "new"),
        AnomalyStatus::Acknowledged => (2, "In Progress", "acknowledged"),
        AnomalyStatus::Resolved => (4, "Resolved", "resolved"),
        AnomalyStatus::FalsePositive => (3, "Suppressed", "false_positive"),
    }
}

/// The OCSF Detection Finding of a stored anomaly: [`to_ocsf`] of the anomaly with
/// `finding_info.uid` the store's id, `finding_info.created_time` when it was stored,
/// `status_id`/`status`/`status_detail` from its review ([`ocsf_status`]) and, under
/// `unmapped.mcp_train`, `id`, `status` and `detected_at`.
pub fn ocsf_finding(a: &StoredAnomaly) -> Value {
    let mut doc = to_ocsf(&a.anomaly);
    let (status_id, status, detail) = ocsf_status(a.status);
    let created_ms = parse_iso8601(&a.detected_at)
        .ok()
        .map(|t| t.micros.div_euclid(1000));
    if let Some(root) = doc.as_object_mut() {
        root.insert("status_id".to_owned(), json!(status_id));
        root.insert("status".to_owned(), json!(status));
        root.insert("status_detail".to_owned(), json!(detail));
    }
    if let Some(info) = doc.get_mut("finding_info").and_then(Value::as_object_mut) {
        info.insert("uid".to_owned(), json!(a.id.to_string()));
        if let Some(ms) = created_ms {
            info.insert("created_time".to_owned(), json!(ms));
        }
    }
    if let Some(ours) = doc
        .get_mut("unmapped")
        .and_then(|u| u.get_mut("mcp_train"))
        .and_then(Value::as_object_mut)
    {
        ours.insert("id".to_owned(), json!(a.id));
        ours.insert("status".to_owned(), json!(a.status.as_str()));
        ours.insert("detected_at".to_owned(), json!(a.detected_at));
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::{Anomaly, Contribution, InferenceResult, LogEntry};
    use crate::export::LogLevel;

    fn stored(id: i64, message: &str, status: AnomalyStatus) -> StoredAnomaly {
        let anomaly = Anomaly {
            entry: LogEntry {
                index: id as usize,
                timestamp: "2026-12-03T17:50:14.250000Z".to_owned(),
                log_type: "firewall".to_owned(),
                host: Some("gw1".to_owned()),
                process: "kernel".to_owned(),
                level: LogLevel::Warning,
                message: message.to_owned(),
                fields: vec![
                    ("src".to_owned(), "10.0.0.9".to_owned()),
                    ("dpt".to_owned(), "23".to_owned()),
                ],
                label: Some(true),
            },
            agent: "firewall".to_owned(),
            inference: InferenceResult {
                score: -0.7,
                decision: -0.25,
                is_anomaly: true,
                model_version: "20261203_170000".to_owned(),
            },
            contributions: vec![
                Contribution {
                    feature: "distinct_ports_1m".to_owned(),
                    value: 42.0,
                    contribution: 0.12,
                },
                Contribution {
                    feature: "-odd".to_owned(),
                    value: -1.5,
                    contribution: 0.01,
                },
            ],
        };
        let mut a = StoredAnomaly::new(anomaly, 1_796_320_300_000_000);
        a.id = id;
        a.status = status;
        a
    }

    fn rows() -> Vec<StoredAnomaly> {
        vec![
            stored(1, "DROP_IN IN=eth0 SRC=10.0.0.9 DPT=23", AnomalyStatus::New),
            stored(
                2,
                "=HYPERLINK(\"http://evil\",\"x\"), with \"quotes\"\r\nand a line break",
                AnomalyStatus::Acknowledged,
            ),
            stored(3, "-- MARK --", AnomalyStatus::Resolved),
            stored(4, "@SUM(1+1)", AnomalyStatus::FalsePositive),
        ]
    }

    fn write_all(format: ExportFormat, rows: &[StoredAnomaly]) -> Vec<u8> {
        let mut out = ExportWriter::new(format, Vec::new()).unwrap();
        for row in rows {
            out.write(row).unwrap();
        }
        assert_eq!(out.rows(), rows.len() as u64);
        out.finish().unwrap()
    }

    #[test]
    fn ndjson_reads_back_as_the_stored_anomalies() {
        let rows = rows();
        let bytes = write_all(ExportFormat::Ndjson, &rows);
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.ends_with('\n'));
        let back: Vec<StoredAnomaly> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(back, rows);
    }

    #[test]
    fn csv_reads_back_with_the_csv_crate_and_defuses_formulas() {
        let rows = rows();
        let bytes = write_all(ExportFormat::Csv, &rows);
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(header, CSV_COLUMNS);
        let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        assert_eq!(records.len(), rows.len());
        let col = |name: &str| CSV_COLUMNS.iter().position(|c| *c == name).unwrap();
        for (record, row) in records.iter().zip(&rows) {
            assert_eq!(record.len(), CSV_COLUMNS.len());
            assert_eq!(record[col("id")].parse::<i64>().unwrap(), row.id);
            assert_eq!(record[col("status")], *row.status.as_str());
            assert_eq!(record[col("score")].parse::<f64>().unwrap(), row.score);
            assert_eq!(record[col("severity")], *"3");
            // Numbers stay numbers, negative ones included.
            assert_eq!(record[col("decision")], *"-0.25");
            assert_eq!(record[col("value_2")], *"-1.5");
            assert_eq!(record[col("device")], *"gw1");
            assert_eq!(record[col("client")], *"10.0.0.9");
            assert_eq!(record[col("feature_1")], *"distinct_ports_1m");
            assert_eq!(record[col("feature_2")], *"'-odd");
            assert_eq!(record[col("feature_3")], *"");
            let fields: Value = serde_json::from_str(&record[col("fields")]).unwrap();
            assert_eq!(fields["dpt"], "23");
        }
        let message = |i: usize| records[i][col("message")].to_owned();
        assert_eq!(message(0), rows[0].anomaly.entry.message);
        // Quotes and line breaks survive; formulas are defused with a leading quote.
        assert_eq!(message(1), format!("'{}", rows[1].anomaly.entry.message));
        assert_eq!(message(2), "'-- MARK --");
        assert_eq!(message(3), "'@SUM(1+1)");
        // RFC 4180: CRLF row ends, quoted cells with doubled quotes.
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with("id,detected_at,"));
        assert!(text.contains("\r\n1,"));
        assert!(text.contains("with \"\"quotes\"\""));
    }

    #[test]
    fn csv_text_defuses_only_formula_starts() {
        for text in ["=1+1", "+1", "-1", "@x", "\tx", "\rx"] {
            assert_eq!(csv_text(text), format!("'{text}"));
        }
        for text in ["", "a=1", "10.0.0.1", "'quoted"] {
            assert_eq!(csv_text(text), text);
        }
    }

    #[test]
    fn ecs_carries_the_store_id_and_status() {
        let rows = rows();
        let bytes = write_all(ExportFormat::Ecs, &rows);
        let docs: Vec<Value> = String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(docs.len(), 4);
        let doc = &docs[1];
        assert_eq!(doc["event"]["id"], "2");
        assert_eq!(doc["event"]["kind"], "alert");
        assert_eq!(doc["event"]["created"], rows[1].detected_at);
        assert_eq!(doc["mcp_train"]["id"], 2);
        assert_eq!(doc["mcp_train"]["status"], "acknowledged");
        assert_eq!(doc["source"]["ip"], "10.0.0.9");
        assert_eq!(doc["@timestamp"], "2026-12-03T17:50:14.250000Z");
    }

    #[test]
    fn ocsf_carries_the_store_id_and_review_status() {
        let rows = rows();
        let bytes = write_all(ExportFormat::Ocsf, &rows);
        let docs: Vec<Value> = String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let expected = [
            (1, "New"),
            (2, "In Progress"),
            (4, "Resolved"),
            (3, "Suppressed"),
        ];
        for ((doc, row), (id, name)) in docs.iter().zip(&rows).zip(expected) {
            assert_eq!(doc["class_uid"], 2004);
            assert_eq!(doc["finding_info"]["uid"], row.id.to_string());
            assert_eq!(doc["status_id"], id);
            assert_eq!(doc["status"], name);
            assert_eq!(doc["status_detail"], row.status.as_str());
            assert_eq!(doc["finding_info"]["created_time"], 1_796_320_300_000_i64);
            assert_eq!(doc["unmapped"]["mcp_train"]["status"], row.status.as_str());
        }
    }

    #[test]
    fn a_failing_output_is_an_error_not_a_panic() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::other("disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Err(io::Error::other("disk full"))
            }
        }
        let mut out = ExportWriter::new(ExportFormat::Ndjson, Broken).unwrap();
        assert!(matches!(
            out.write(&rows()[0]),
            Err(ExportWriteError::Io(_))
        ));
    }
}
