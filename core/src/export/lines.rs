//! Raw log text (syslog files) read line by line through a log type's agent, with the same
//! report as an export: a line the agent cannot read is a bad record at that line and column,
//! dropped on request like an invalid export record.

use super::record::ExportFormat;
use super::validate::Validator;
use super::{ExportError, ParsedExport, ValidateOptions};
use crate::agent::{Agent, ParseContext};

/// Whether `bytes` look like a JSON export rather than raw log text: the first byte that is not
/// white space (after a UTF-8 byte-order mark) is `{` or `[`. Raw syslog lines start with `<`
/// (a PRI), a month name, a digit or a host name, never with those. One exception: a daemon's
/// own JSON lines (ulogd's JSON output) start with `{` too, so a first line that is a whole
/// JSON object with neither an export's `data` nor a record's `message` is raw log text.
pub fn looks_like_export(bytes: &[u8]) -> bool {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = body.iter().position(|b| !b.is_ascii_whitespace());
    match start.map(|i| (body[i], &body[i..])) {
        Some((b'[', _)) => true,
        Some((b'{', rest)) => {
            let line = rest.split(|&b| b == b'\n').next().unwrap_or(rest);
            match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(line) {
                Ok(object) => ["message", "data", "export_metadata"]
                    .iter()
                    .any(|k| object.contains_key(*k)),
                // Not a whole object on the first line: a pretty-printed export (or a
                // broken one, which the export reader reports).
                Err(_) => true,
            }
        }
        _ => false,
    }
}

/// The non-blank lines of a raw log: `(1-based line number, text or where its UTF-8 breaks)`.
/// A trailing `\r` (CRLF files) is not part of the line.
pub(crate) fn raw_lines(
    bytes: &[u8],
) -> impl Iterator<Item = (usize, Result<&str, (usize, String)>)> + '_ {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    body.split(|&b| b == b'\n')
        .enumerate()
        .filter_map(|(i, line)| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.iter().all(u8::is_ascii_whitespace) {
                return None;
            }
            let text = std::str::from_utf8(line).map_err(|e| {
                let valid = &line[..e.valid_up_to()];
                // The prefix is valid UTF-8 by construction.
                let column = std::str::from_utf8(valid).map_or(1, |s| s.chars().count() + 1);
                (column, "the line is not valid UTF-8".to_owned())
            });
            Some((i + 1, text))
        })
}

/// Reads raw log text with `agent`: every non-blank line through [`Agent::parse_line`] (with
/// its 0-based line number as the record index), validated and summarised like export records.
/// Lines the agent cannot read are [`BadLine`](super::IssueKind::BadLine) errors at their line
/// and column, left out and counted with [`ValidateOptions::drop_invalid`].
pub fn parse_raw_log<'a>(
    bytes: &'a [u8],
    agent: &dyn Agent,
    context: &ParseContext,
    options: &ValidateOptions,
) -> Result<ParsedExport<'a>, ExportError> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(ExportError::Syntax {
            line: 1,
            column: 1,
            message: "the file is UTF-16 encoded; save it as UTF-8".to_owned(),
        });
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ExportError::Empty);
    }
    // The share of WiFi processes only means something for WiFi logs.
    let mut options = options.clone();
    if agent.info().log_type != crate::pipeline::WIFI_LOG_TYPE {
        options.min_wifi_share = 0.0;
    }
    let mut validator = Validator::new(&options, None);
    for (line, text) in raw_lines(bytes) {
        let read = text.and_then(|text| {
            agent
                .parse_line(text, line - 1, context)
                .map_err(|e| (e.column, e.message))
        });
        validator.push_line(read, line);
    }
    let (export, report) = validator.finish(ExportFormat::RawLog, None);
    Ok(ParsedExport { export, report })
}
