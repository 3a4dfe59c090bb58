//! Export parsing and validation: the input format that README.md (`mcp-train validate`) describes
//! for users, checked record by record.
//!
//! Three shapes are accepted — the export object `{"export_metadata": …, "data": [...]}`, a bare
//! array of records, and NDJSON (one record per line) — with or without a UTF-8 byte-order mark.
//! Parsing is a single streaming pass over the bytes: records are checked as they are read, and
//! their strings borrow from the input unless they contain escapes, so memory stays proportional
//! to the input.
//!
//! Whole-file problems (not JSON, empty, not an export) are [`ExportError`]s with a line and
//! column. Problems in single records are collected in the [`ValidationReport`], grouped by kind,
//! with the record index and field of the first examples; with
//! [`ValidateOptions::drop_invalid`] those records are left out and counted instead.

mod lines;
mod raw;
mod record;
mod report;
mod validate;

pub(crate) use validate::truncate;

use serde::de::{DeserializeSeed, IgnoredAny};
use serde::{Deserialize, Serialize};

pub(crate) use lines::raw_lines;
pub use lines::{looks_like_export, parse_raw_log};
pub use record::{Export, ExportFormat, ExportMetadata, LogLevel, Record};
pub use report::{
    Count, Dropped, Issue, IssueGroup, IssueKind, LengthStats, Severity, Summary, TimeRange,
    ValidationReport,
};
pub use validate::is_wifi_process;

use crate::agent::LogSchema;
use raw::{FieldsItem, RawItem, RecordsSeed, TopLevel, TopLevelSeed};
use validate::Validator;

/// How strictly to validate, and how much to report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ValidateOptions {
    /// Leave out records with errors instead of refusing the export.
    pub drop_invalid: bool,
    /// Examples kept per issue kind.
    pub max_examples: usize,
    /// Messages longer than this many bytes get a warning.
    pub long_message_bytes: usize,
    /// Below this share of WiFi-process records (0–1) the report warns.
    pub min_wifi_share: f64,
}

impl Default for ValidateOptions {
    fn default() -> Self {
        ValidateOptions {
            drop_invalid: false,
            max_examples: 5,
            long_message_bytes: 64 * 1024,
            min_wifi_share: 0.5,
        }
    }
}

/// Why an export cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExportError {
    /// The input holds no bytes, or only whitespace.
    #[error("the export is empty")]
    Empty,
    /// The input is not valid JSON (nor NDJSON).
    #[error("not valid JSON at line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line of the first syntax error.
        line: usize,
        /// 1-based column of the first syntax error.
        column: usize,
        /// The JSON parser's message.
        message: String,
    },
    /// Valid JSON, but not an export object, an array of records or NDJSON records.
    #[error("not an export at line {line}, column {column}: {message}")]
    NotAnExport {
        /// 1-based line where the shape went wrong.
        line: usize,
        /// 1-based column where the shape went wrong.
        column: usize,
        /// What was expected there.
        message: String,
    },
    /// Validation rejected the export: errors (without `drop_invalid`) or no usable record.
    #[error("the export is invalid ({errors} error{s}); first: {first}", s = if *.errors == 1 { "" } else { "s" })]
    Invalid {
        /// Error occurrences found.
        errors: usize,
        /// The first error, with its location (or "no usable records").
        first: String,
    },
}

impl ExportError {
    fn kind(&self) -> IssueKind {
        match self {
            ExportError::Empty => IssueKind::Empty,
            ExportError::Syntax { .. } => IssueKind::NotJson,
            ExportError::NotAnExport { .. } => IssueKind::NotAnExport,
            ExportError::Invalid { .. } => IssueKind::NoRecords,
        }
    }
}

impl ValidationReport {
    /// The report for an export that could not be read at all.
    pub fn from_error(error: &ExportError) -> ValidationReport {
        let (line, column, message) = match error {
            ExportError::Syntax {
                line,
                column,
                message,
            }
            | ExportError::NotAnExport {
                line,
                column,
                message,
            } => (Some(*line), Some(*column), message.clone()),
            other => (None, None, other.to_string()),
        };
        let kind = error.kind();
        ValidationReport {
            valid: false,
            format: None,
            records_seen: 0,
            errors: vec![IssueGroup {
                kind,
                severity: Severity::Error,
                description: kind.description().to_owned(),
                count: 1,
                examples: vec![Issue {
                    kind,
                    record: None,
                    line,
                    column,
                    field: None,
                    message,
                }],
            }],
            warnings: Vec::new(),
            dropped: None,
            summary: Summary::default(),
        }
    }
}

/// A read export and its report. The export holds only the usable records.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedExport<'a> {
    /// The export, with only its usable records.
    pub export: Export<'a>,
    /// What validation found: issues, dropped records and a summary.
    pub report: ValidationReport,
}

impl<'a> ParsedExport<'a> {
    /// The export when the report says it is usable; otherwise an error naming the first problem.
    pub fn into_usable(self) -> Result<Export<'a>, ExportError> {
        if self.report.valid {
            return Ok(self.export);
        }
        let first = self
            .report
            .first_error()
            .map(ToString::to_string)
            .unwrap_or_else(|| "no usable records".to_owned());
        Err(ExportError::Invalid {
            errors: self.report.error_count(),
            first,
        })
    }
}

/// A whole export as detection reads it (`mcp-train detect` on an export file, the wheel's
/// `detect`): invalid records dropped rather than fatal, the usable ones in time order (stable:
/// records with equal timestamps keep their input order), each keeping its export index.
pub fn parse_export_for_detection<'a>(
    bytes: &'a [u8],
    options: &ValidateOptions,
) -> Result<ParsedExport<'a>, ExportError> {
    let mut options = options.clone();
    options.drop_invalid = true;
    let mut parsed = parse_export(bytes, &options)?;
    parsed.export.records.sort_by_key(|r| r.timestamp);
    Ok(parsed)
}

/// Reads and validates an export.
pub fn parse_export<'a>(
    bytes: &'a [u8],
    options: &ValidateOptions,
) -> Result<ParsedExport<'a>, ExportError> {
    parse(bytes, options, None, None)
}

/// Like [`parse_export`], calling `progress(records_read)` every 65,536 records and at the end.
pub fn parse_export_with_progress<'a>(
    bytes: &'a [u8],
    options: &ValidateOptions,
    progress: impl FnMut(usize) + 'a,
) -> Result<ParsedExport<'a>, ExportError> {
    parse(bytes, options, None, Some(Box::new(progress)))
}

/// Reads and validates an export of `schema`'s log type, driven by the log schema: besides
/// everything [`parse_export`] checks, each record's other fields are checked against their
/// declarations (required fields present, types, allowed values and patterns). A field read
/// through a former name (`renamed_from`) is accepted with a warning naming its current name;
/// deprecated fields are warnings; an optional field added after the schema's first version
/// that a record lacks takes its default, with a warning; fields the schema does not know are
/// warnings. The WiFi-share warning is given only for the `wifi` log type.
pub fn validate_with_schema<'a>(
    bytes: &'a [u8],
    options: &ValidateOptions,
    schema: &LogSchema,
) -> Result<ParsedExport<'a>, ExportError> {
    parse(bytes, options, Some(schema), None)
}

/// Like [`validate_with_schema`], calling `progress(records_read)` every 65,536 records and at
/// the end.
pub fn validate_with_schema_and_progress<'a>(
    bytes: &'a [u8],
    options: &ValidateOptions,
    schema: &LogSchema,
    progress: impl FnMut(usize) + 'a,
) -> Result<ParsedExport<'a>, ExportError> {
    parse(bytes, options, Some(schema), Some(Box::new(progress)))
}

fn parse<'a>(
    bytes: &'a [u8],
    options: &ValidateOptions,
    schema: Option<&LogSchema>,
    progress: Option<Box<dyn FnMut(usize) + 'a>>,
) -> Result<ParsedExport<'a>, ExportError> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(ExportError::Syntax {
            line: 1,
            column: 1,
            message: "the file is UTF-16 encoded; save it as UTF-8".to_owned(),
        });
    }
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Some(first) = body.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Err(ExportError::Empty);
    };
    let mut validator = Validator::new(options, progress);
    if let Some(schema) = schema {
        validator.set_schema(schema);
    }
    let (format, metadata) = match body[first] {
        b'[' => {
            let mut de = serde_json::Deserializer::from_slice(body);
            RecordsSeed {
                validator: &mut validator,
            }
            .deserialize(&mut de)
            .map_err(|e| located(&e, body, "records"))?;
            de.end().map_err(|e| located(&e, body, "records"))?;
            (ExportFormat::Array, None)
        }
        b'{' => {
            let mut de = serde_json::Deserializer::from_slice(body);
            let top = TopLevelSeed {
                validator: &mut validator,
            }
            .deserialize(&mut de)
            .map_err(|e| located(&e, body, "export"))?;
            match top {
                TopLevel::Export { metadata } => {
                    de.end().map_err(|e| located(&e, body, "export"))?;
                    (ExportFormat::Object, metadata)
                }
                TopLevel::Record if validator.wants_fields() => {
                    parse_ndjson::<FieldsItem<'a>>(body, &mut validator);
                    (ExportFormat::Ndjson, None)
                }
                TopLevel::Record => {
                    parse_ndjson::<RawItem<'a>>(body, &mut validator);
                    (ExportFormat::Ndjson, None)
                }
                TopLevel::Unrecognised { keys_seen } => {
                    let (line, column) = line_column(body, first);
                    return Err(ExportError::NotAnExport {
                        line,
                        column,
                        message: format!(
                            "the top-level object ({keys_seen} fields) has no \"data\" array and no record fields (timestamp, message, process_name, log_level)"
                        ),
                    });
                }
            }
        }
        _ => {
            // Either JSON of the wrong kind (a lone number or string), or not JSON at all.
            let (line, column) = line_column(body, first);
            return Err(match serde_json::from_slice::<IgnoredAny>(body) {
                Ok(_) => ExportError::NotAnExport {
                    line,
                    column,
                    message: "expected an export object, an array of records, or NDJSON records; found a single JSON value".to_owned(),
                },
                Err(_) => {
                    let start: String = String::from_utf8_lossy(&body[first..body.len().min(first + 24)])
                        .chars()
                        .take_while(|c| *c != '\n' && *c != '\r')
                        .collect();
                    ExportError::Syntax {
                        line,
                        column,
                        message: format!("expected '{{' or '[' at the start of an export, found {start:?}"),
                    }
                }
            });
        }
    };
    let (export, report) = validator.finish(format, metadata);
    Ok(ParsedExport { export, report })
}

/// Parses NDJSON (or concatenated JSON values). A line that is not JSON is a bad record at that
/// line and column; reading resumes on the next line, so one broken line never hides the rest.
fn parse_ndjson<'a, T: Deserialize<'a> + Into<RawItem<'a>>>(
    body: &'a [u8],
    validator: &mut Validator<'a>,
) {
    let mut base = 0usize;
    let mut base_line = 1usize;
    while base < body.len() {
        let slice = &body[base..];
        let mut stream = serde_json::Deserializer::from_slice(slice).into_iter::<T>();
        let mut pos = 0usize;
        let mut line = base_line;
        loop {
            let start = match slice[pos..].iter().position(|b| !b.is_ascii_whitespace()) {
                Some(skip) => pos + skip,
                None => return,
            };
            line += memchr::memchr_iter(b'\n', &slice[pos..start]).count();
            match stream.next() {
                None => return,
                Some(Ok(item)) => {
                    validator.push(item.into(), Some(line));
                    let end = stream.byte_offset();
                    line += memchr::memchr_iter(b'\n', &slice[start..end]).count();
                    pos = end;
                }
                Some(Err(e)) => {
                    let (at_line, column) = error_position(&e, slice);
                    validator.push_unreadable(
                        base_line + at_line.saturating_sub(1),
                        column,
                        serde_message(&e),
                    );
                    let error_line = base_line + e.line().saturating_sub(1);
                    // Resume at the start of the line after the error.
                    let newlines_before = e.line().saturating_sub(1);
                    match memchr::memchr_iter(b'\n', slice).nth(newlines_before) {
                        Some(nl) => {
                            base += nl + 1;
                            base_line = error_line + 1;
                        }
                        None => return,
                    }
                    break;
                }
            }
        }
    }
}

/// serde_json's message without its trailing " at line L column C".
fn serde_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let text = match text.rfind(" at line ") {
        Some(cut) => &text[..cut],
        None => &text,
    };
    match text {
        // serde_json's words for a bare word such as NaN, yes or tru.
        "expected ident" => "expected a value (a bare word is not JSON: use true, false, null, a number or a string)".to_owned(),
        other => other.to_owned(),
    }
}

/// Turns a serde_json error into a located export error: syntax problems are "not JSON", type
/// problems (such as `data` not being an array) are "not an export".
fn located(e: &serde_json::Error, body: &[u8], what: &str) -> ExportError {
    let (line, column) = error_position(e, body);
    let message = serde_message(e);
    match e.classify() {
        serde_json::error::Category::Data => ExportError::NotAnExport {
            line,
            column,
            message: format!("{what}: {message}"),
        },
        _ => ExportError::Syntax {
            line,
            column,
            message,
        },
    }
}

/// serde_json's 1-based line and column of an error in `body`, except where serde_json says
/// column 0: it puts an error on a line break (a raw newline inside a string, a document cut off
/// after one) at column 0 of the next line. Found by fuzzing; the line break itself is reported,
/// at the end of its own line.
fn error_position(e: &serde_json::Error, body: &[u8]) -> (usize, usize) {
    let (line, column) = (e.line(), e.column());
    if column > 0 {
        return (line, column);
    }
    match line
        .checked_sub(2)
        .and_then(|n| memchr::memchr_iter(b'\n', body).nth(n))
    {
        Some(newline) => line_column(body, newline),
        None => (line.max(1), 1),
    }
}

/// 1-based line and column of a byte offset.
fn line_column(body: &[u8], offset: usize) -> (usize, usize) {
    let before = &body[..offset.min(body.len())];
    let line = memchr::memchr_iter(b'\n', before).count() + 1;
    let column = match memchr::memrchr(b'\n', before) {
        Some(nl) => offset - nl,
        None => offset + 1,
    };
    (line, column)
}

#[cfg(test)]
mod tests;
