//! Bring-your-own features: a numeric CSV with a header row.
//!
//! For users whose features come from elsewhere. The header names the columns; one column may
//! hold labels (0/1, true/false, or empty for unlabelled). Every other cell must be a finite
//! number. Errors name the row, the line and the column.
//!
//! The file is RFC 4180 CSV, split by the `csv` crate: a quoted field may hold commas, doubled
//! quotes and line breaks (our own [`FeatureMatrix::write_csv`] quotes names that need it), lines
//! may end in CRLF, blank lines are skipped and cells are trimmed of spaces. The `csv` crate
//! reads a few malformed quotes leniently; those are errors here, because each means the file
//! does not hold what it looks like it holds: a quote that is never closed (the rest of the file
//! would silently become one cell), text after a closing quote, and a quote after leading spaces
//! (which the crate reads as text, not as quoting).
//!
//! [`FeatureMatrix::write_csv`]: crate::features::FeatureMatrix::write_csv

use std::fmt;

mod fast;

/// A features CSV read into a row-major matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct FeaturesCsv {
    /// Feature column names, in file order (without the label column).
    pub names: Vec<String>,
    /// Row-major values, `names.len()` per row.
    pub data: Vec<f64>,
    /// Labels per row when a label column was named.
    pub labels: Option<Vec<Option<bool>>>,
}

impl FeaturesCsv {
    /// Number of data rows (the header not counted).
    pub fn n_rows(&self) -> usize {
        if self.names.is_empty() {
            0
        } else {
            self.data.len() / self.names.len()
        }
    }
}

/// Why a features CSV cannot be used. Rows are 1-based data rows (the header is line 1, so row
/// `r` is on line `r + 1`); columns are named.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CsvError {
    /// The file has no header row.
    #[error("features CSV is empty (expected a header row)")]
    Empty,
    /// A line's bytes are not UTF-8.
    #[error("features CSV is not UTF-8 (line {line})")]
    NotUtf8 {
        /// The 1-based line with the bad bytes.
        line: usize,
    },
    /// The header cannot be used (e.g. an empty or repeated column name).
    #[error("features CSV header: {0}")]
    Header(String),
    /// The named label column is not in the header: its name, and the columns there are.
    #[error("features CSV has no label column {0:?} (columns: {1})")]
    MissingLabelColumn(String, String),
    /// A row with more or fewer cells than the header has columns.
    #[error("features CSV row {row} (line {line}) has {found} cells, expected {expected}")]
    Ragged {
        /// 1-based data row.
        row: usize,
        /// 1-based line in the file.
        line: usize,
        /// Cells in the row.
        found: usize,
        /// Columns in the header.
        expected: usize,
    },
    /// A cell that is empty, not a finite number, or (in the label column) not 0/1 or true/false.
    #[error("features CSV row {row} (line {line}), column {column:?}: {message}")]
    Cell {
        /// 1-based data row.
        row: usize,
        /// 1-based line in the file.
        line: usize,
        /// Name of the cell's column.
        column: String,
        /// What is wrong with the cell.
        message: String,
    },
    /// The header is there but no data row follows it.
    #[error("features CSV has a header but no data rows")]
    NoRows,
    /// A malformed quote; `row` 0 is the header, `character` counts from 1 on `line`, `column`
    /// is 1-based and `name` is that column's name when the header has it.
    #[error("features CSV {} (line {line}, character {character}), {}: {problem}",
        Place(*row), Column(*column, name.as_deref()))]
    Quote {
        /// 1-based data row; 0 for the header.
        row: usize,
        /// 1-based line in the file.
        line: usize,
        /// 1-based character on the line.
        character: usize,
        /// 1-based column.
        column: usize,
        /// The column's name, when the header has it.
        name: Option<String>,
        /// What is wrong with the quoting.
        problem: QuoteProblem,
    },
}

/// What is wrong with a quote in a features CSV (RFC 4180: a field is quoted as a whole, and
/// `""` inside it stands for one quote).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuoteProblem {
    /// The quote that opens the field is never closed.
    Unclosed,
    /// The closing quote is followed by more text before the next comma.
    TextAfterClosing,
    /// The field starts with spaces and then a quote.
    SpaceBeforeOpening,
}

impl fmt::Display for QuoteProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QuoteProblem::Unclosed => "the quote opened here is never closed",
            QuoteProblem::TextAfterClosing => {
                "text after a closing quote (inside quotes, write a quote as two: \"\")"
            }
            QuoteProblem::SpaceBeforeOpening => {
                "a space before an opening quote (remove it, or the quotes are read as text)"
            }
        })
    }
}

/// "header" or "row 3", for [`CsvError::Quote`].
struct Place(usize);

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0 => f.write_str("header"),
            row => write!(f, "row {row}"),
        }
    }
}

/// `column "name"`, or `column 3` when the column has no name (yet).
struct Column<'a>(usize, Option<&'a str>);

impl fmt::Display for Column<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            Some(name) => write!(f, "column {name:?}"),
            None => write!(f, "column {}", self.0),
        }
    }
}

struct Shown<'a>(&'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text: String = self.0.chars().take(40).collect();
        write!(f, "{text:?}")
    }
}

/// The label column used when none is named and the header has it.
pub const DEFAULT_LABEL_COLUMN: &str = "label";

/// Reads a features CSV. A named `label_column` must exist; without a name, a column called
/// `label` (as `mcp-train features --include-label` writes) holds the labels when present.
pub fn read_features_csv(
    bytes: &[u8],
    label_column: Option<&str>,
) -> Result<FeaturesCsv, CsvError> {
    read(bytes, label_column, true)
}

/// [`read_features_csv`]; `parallel` lets rows without quotes be cut at line ends and read on
/// all cores (tests compare both ways).
fn read(bytes: &[u8], label_column: Option<&str>, parallel: bool) -> Result<FeaturesCsv, CsvError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut records = Records::new(bytes);
    let header = records.next(0, &[])?.ok_or(CsvError::Empty)?;
    let mut columns = Vec::with_capacity(header.len());
    for cell in records.cells(&header) {
        columns.push(cell?.to_owned());
    }
    for (i, name) in columns.iter().enumerate() {
        if name.is_empty() {
            return Err(CsvError::Header(format!("column {} has no name", i + 1)));
        }
        if columns[..i].contains(name) {
            return Err(CsvError::Header(format!("column {name:?} appears twice")));
        }
    }
    let label_at =
        match label_column {
            Some(label) => Some(columns.iter().position(|c| c == label).ok_or_else(|| {
                CsvError::MissingLabelColumn(label.to_owned(), columns.join(", "))
            })?),
            None => columns.iter().position(|c| c == DEFAULT_LABEL_COLUMN),
        };
    let names: Vec<String> = columns
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != label_at)
        .map(|(_, c)| c.clone())
        .collect();
    if names.is_empty() {
        return Err(CsvError::Header("no feature columns".to_owned()));
    }
    let body = records.rest();
    let Rows {
        data,
        labels,
        count: rows,
    } = if parallel && fast::applies(body.bytes) {
        fast::read_body(body, &columns, label_at)?
    } else {
        read_body(&mut records, &columns, label_at)?
    };
    if rows == 0 {
        return Err(CsvError::NoRows);
    }
    Ok(FeaturesCsv {
        names,
        data,
        labels: label_at.map(|_| labels),
    })
}

/// The data rows of a features CSV.
struct Rows {
    /// Row-major values, without the label column.
    data: Vec<f64>,
    /// One per row with a label column, else empty.
    labels: Vec<Option<bool>>,
    count: usize,
}

/// The data rows after the header, read record by record with the `csv` crate: any CSV, quotes
/// and all.
fn read_body(
    records: &mut Records<'_>,
    columns: &[String],
    label_at: Option<usize>,
) -> Result<Rows, CsvError> {
    let mut data = Vec::new();
    let mut labels = Vec::new();
    let mut row = 0usize;
    while let Some(record) = records.next(row + 1, columns)? {
        row += 1;
        let line = records.line;
        if record.len() != columns.len() {
            return Err(CsvError::Ragged {
                row,
                line,
                found: record.len(),
                expected: columns.len(),
            });
        }
        for (i, value) in records.cells(&record).enumerate() {
            let cell =
                read_cell(value?, Some(i) == label_at).map_err(|message| CsvError::Cell {
                    row,
                    line,
                    column: columns[i].clone(),
                    message,
                })?;
            match cell {
                Cell::Value(v) => data.push(v),
                Cell::Label(label) => labels.push(label),
            }
        }
    }
    Ok(Rows {
        data,
        labels,
        count: row,
    })
}

/// What a cell holds.
enum Cell {
    Value(f64),
    Label(Option<bool>),
}

/// One trimmed cell: a label (in the label column) or a finite number; what is wrong with it
/// otherwise. The one reading of a cell, for both ways of splitting the file.
fn read_cell(value: &str, is_label: bool) -> Result<Cell, String> {
    if is_label {
        let is = |word: &str| value.eq_ignore_ascii_case(word);
        return if value.is_empty() {
            Ok(Cell::Label(None))
        } else if value == "0" || value == "0.0" || is("false") {
            Ok(Cell::Label(Some(false)))
        } else if value == "1" || value == "1.0" || is("true") {
            Ok(Cell::Label(Some(true)))
        } else {
            Err(format!("label {} is not 0/1 or true/false", Shown(value)))
        };
    }
    if value.is_empty() {
        return Err("empty cell (every feature needs a number)".to_owned());
    }
    match value.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Cell::Value(v)),
        Ok(v) => Err(format!("{v} is not a finite number")),
        Err(_) => Err(format!("{} is not a number", Shown(value))),
    }
}

/// The records of a CSV as the `csv` crate splits them, with blank lines skipped and the quotes
/// it would read leniently refused.
struct Records<'a> {
    bytes: &'a [u8],
    reader: csv::Reader<&'a [u8]>,
    /// The line the last record returned starts on (1-based).
    line: usize,
}

impl<'a> Records<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            // Ragged rows get our own error, which names the row.
            .flexible(true)
            .from_reader(bytes);
        Records {
            bytes,
            reader,
            line: 1,
        }
    }

    /// The next record that is not blank; `row` (0 for the header) and `columns` name the place
    /// of a malformed quote.
    fn next(
        &mut self,
        row: usize,
        columns: &[String],
    ) -> Result<Option<csv::ByteRecord>, CsvError> {
        let mut record = csv::ByteRecord::new();
        loop {
            let start = self.reader.position().clone();
            // Reading from a slice never fails: with `flexible` and bytes (not strings), the
            // crate's only remaining error is I/O.
            let more = self
                .reader
                .read_byte_record(&mut record)
                .map_err(|e| CsvError::Header(e.to_string()))?;
            if !more {
                return Ok(None);
            }
            let begin = record.position().unwrap_or(&start);
            let end = to_usize(self.reader.position().byte()).min(self.bytes.len());
            let from = to_usize(begin.byte()).min(end);
            // The span starts where the previous record stopped: possibly on the LF of its CRLF,
            // or on blank lines the crate skipped. The record starts after them.
            let skipped = self.bytes[from..end]
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
            let raw = &self.bytes[from + skipped..end];
            let newlines = memchr::memchr_iter(b'\n', &self.bytes[from..from + skipped]).count();
            self.line = to_usize(begin.line()).saturating_add(newlines);
            if raw.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if memchr::memchr(b'"', raw).is_some() {
                if let Err(fault) = check_quotes(raw) {
                    let before = &raw[..fault.at];
                    let line_start = memchr::memrchr(b'\n', before).map_or(0, |n| n + 1);
                    return Err(CsvError::Quote {
                        row,
                        line: self.line + memchr::memchr_iter(b'\n', before).count(),
                        character: char_count(&before[line_start..]) + 1,
                        column: fault.field + 1,
                        name: columns.get(fault.field).cloned(),
                        problem: fault.problem,
                    });
                }
            }
            return Ok(Some(record));
        }
    }

    /// The bytes after the last record read, and the line they start on.
    fn rest(&self) -> Body<'a> {
        let at = to_usize(self.reader.position().byte()).min(self.bytes.len());
        Body {
            bytes: &self.bytes[at..],
            first_line: 1 + memchr::memchr_iter(b'\n', &self.bytes[..at]).count(),
        }
    }

    /// The cells of `record`, trimmed; a cell that is not UTF-8 is an error naming the line.
    fn cells<'r>(
        &self,
        record: &'r csv::ByteRecord,
    ) -> impl Iterator<Item = Result<&'r str, CsvError>> + 'r {
        let line = self.line;
        record.iter().map(move |cell| {
            std::str::from_utf8(cell)
                .map(str::trim)
                .map_err(|_| CsvError::NotUtf8 { line })
        })
    }
}

/// The part of a CSV after its header.
#[derive(Clone, Copy)]
struct Body<'a> {
    bytes: &'a [u8],
    /// The 1-based line `bytes` starts on.
    first_line: usize,
}

/// Where in a record a malformed quote is: byte `at`, in the 0-based `field`.
struct QuoteFault {
    at: usize,
    field: usize,
    problem: QuoteProblem,
}

/// Walks the raw bytes of one record the way RFC 4180 reads them and finds the quotes the `csv`
/// crate accepts leniently. Spaces around a quoted field are allowed, as they are trimmed.
fn check_quotes(raw: &[u8]) -> Result<(), QuoteFault> {
    let is_space = |b: &u8| matches!(b, b' ' | b'\t');
    let mut at = 0;
    let mut field = 0;
    loop {
        let start = at;
        at += raw[at..].iter().take_while(|b| is_space(b)).count();
        if raw.get(at) == Some(&b'"') {
            let fault = |at, problem| QuoteFault { at, field, problem };
            if at > start {
                return Err(fault(at, QuoteProblem::SpaceBeforeOpening));
            }
            let open = at;
            at += 1;
            loop {
                let Some(quote) = memchr::memchr(b'"', &raw[at..]) else {
                    return Err(fault(open, QuoteProblem::Unclosed));
                };
                at += quote + 1;
                if raw.get(at) != Some(&b'"') {
                    break;
                }
                at += 1;
            }
            at += raw[at..].iter().take_while(|b| is_space(b)).count();
            match raw.get(at) {
                None | Some(b'\r' | b'\n') => return Ok(()),
                Some(b',') => {}
                Some(_) => return Err(fault(at, QuoteProblem::TextAfterClosing)),
            }
        } else {
            // An unquoted field runs to the next comma or the end of the record; a quote inside
            // it is just a character, as RFC 4180 readers (this crate among them) take it.
            match raw[at..]
                .iter()
                .position(|b| matches!(b, b',' | b'\r' | b'\n'))
            {
                Some(end) if raw[at + end] == b',' => at += end,
                _ => return Ok(()),
            }
        }
        // `at` is on the comma that ends this field.
        at += 1;
        field += 1;
    }
}

/// Characters in UTF-8 bytes (continuation bytes do not start one).
fn char_count(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b & 0xC0 != 0x80).count()
}

/// A `csv` position (u64) as an index; the bytes are in memory, so it fits.
fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::{
        FeatureConfig, FeatureMatrix, FeatureSchema, ProcessVocabulary, EXTRACTOR_VERSION,
        SCHEMA_NAME,
    };

    #[test]
    fn reads_numbers_and_labels() {
        let csv =
            read_features_csv(b"a,b,label\n1,2.5,0\n-3,4e2,1\n5,6,\n", Some("label")).unwrap();
        assert_eq!(csv.names, vec!["a", "b"]);
        assert_eq!(csv.data, vec![1.0, 2.5, -3.0, 400.0, 5.0, 6.0]);
        assert_eq!(csv.labels, Some(vec![Some(false), Some(true), None]));
        assert_eq!(csv.n_rows(), 3);
    }

    #[test]
    fn a_column_called_label_is_the_label_unless_another_is_named() {
        let csv = read_features_csv(b"a,label\n1,1\n", None).unwrap();
        assert_eq!(
            (csv.names.clone(), csv.labels),
            (vec!["a".to_owned()], Some(vec![Some(true)]))
        );
        let csv = read_features_csv(b"a,y\n1,0\n", None).unwrap();
        assert_eq!((csv.names.len(), csv.labels), (2, None));
    }

    #[test]
    fn quoted_header_crlf_and_bom() {
        let csv = read_features_csv(b"\xEF\xBB\xBF\"x, y\",z\r\n1,2\r\n", None).unwrap();
        assert_eq!(csv.names, vec!["x, y", "z"]);
        assert_eq!(csv.data, vec![1.0, 2.0]);
    }

    #[test]
    fn errors_name_row_and_column() {
        let cases: [(&[u8], Option<&str>, &str); 8] = [
            (b"", None, "empty"),
            (
                b"a,b\n1,x\n",
                None,
                "row 1 (line 2), column \"b\": \"x\" is not a number",
            ),
            (
                b"a,b\n1,2\n1,NaN\n",
                None,
                "row 2 (line 3), column \"b\": NaN is not a finite number",
            ),
            (
                b"a,b\n1,2\n3\n",
                None,
                "row 2 (line 3) has 1 cells, expected 2",
            ),
            (
                b"a,b\n1,2\n",
                Some("label"),
                "no label column \"label\" (columns: a, b)",
            ),
            (b"a,label\n1,2\n", Some("label"), "label \"2\" is not 0/1"),
            (b"a,a\n1,2\n", None, "column \"a\" appears twice"),
            (b"a,b\n", None, "no data rows"),
        ];
        for (input, label, expected) in cases {
            let e = read_features_csv(input, label).unwrap_err().to_string();
            assert!(e.contains(expected), "{e} should contain {expected}");
        }
    }

    fn matrix(names: &[&str], data: Vec<f64>, labels: Vec<Option<bool>>) -> FeatureMatrix {
        let rows = labels.len();
        FeatureMatrix {
            schema: FeatureSchema {
                name: SCHEMA_NAME.to_owned(),
                extractor_version: EXTRACTOR_VERSION.to_owned(),
                features: names.iter().map(|n| (*n).to_owned()).collect(),
                config: FeatureConfig::default(),
                vocabulary: ProcessVocabulary::default(),
            },
            data,
            record_index: (0..rows).collect(),
            timestamps: vec![0; rows],
            labels,
        }
    }

    #[test]
    fn what_our_writer_quotes_reads_back_exactly() {
        // Commas, quotes, LF, CRLF and a lone CR in names make the writer quote them; a name
        // holding a line break used to split the header in two.
        let names = [
            "a,b",
            "say \"hi\"",
            "two\nlines",
            "cr\r\nlf",
            "lone\rcr",
            "plain",
        ];
        let data = vec![
            1.0, -2.5, 3e-9, 0.0, -0.0, 1e300, 7.0, 8.0, 9.0, 10.0, 11.0, 12.5,
        ];
        let labels = vec![Some(true), None];
        let mut bytes = Vec::new();
        matrix(&names, data.clone(), labels.clone())
            .write_csv(&mut bytes, true)
            .unwrap();
        let csv = read_features_csv(&bytes, None).unwrap();
        assert_eq!(csv.names, names);
        assert_eq!(csv.data, data);
        assert_eq!(csv.labels, Some(labels));
        assert_eq!(csv.n_rows(), 2);
    }

    #[test]
    fn quoted_cells_may_span_lines_and_errors_name_the_line_they_start_on() {
        let csv = read_features_csv(b"a,b\r\n\"1\",\" 2 \"\r\n3,\"4\"\r\n", None).unwrap();
        assert_eq!(csv.data, vec![1.0, 2.0, 3.0, 4.0]);
        let e = read_features_csv(b"\"x\ny\",b\n1,2\n1,oops\n", None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "features CSV row 2 (line 4), column \"b\": \"oops\" is not a number"
        );
        // Blank and whitespace-only lines are skipped, and still counted as lines.
        let e = read_features_csv(b"a,b\r\n\r\n1,2\r\n  \r\n3,x\r\n", None).unwrap_err();
        assert!(
            e.to_string().contains("row 2 (line 5), column \"b\""),
            "{e}"
        );
        let e = read_features_csv(b"a,b\n1,2\n\xff,1\n", None).unwrap_err();
        assert_eq!(e, CsvError::NotUtf8 { line: 3 });
    }

    #[test]
    fn malformed_quotes_are_errors_that_name_line_character_and_column() {
        let cases: [(&[u8], &str); 6] = [
            (
                b"a,b\n1,\"2\n3,4\n",
                "features CSV row 1 (line 2, character 3), column \"b\": \
                 the quote opened here is never closed",
            ),
            (
                b"a,b\n1,\"2\"x\n",
                "features CSV row 1 (line 2, character 6), column \"b\": \
                 text after a closing quote",
            ),
            (
                b"\"a,b\n1,2\n",
                "features CSV header (line 1, character 1), column 1: \
                 the quote opened here is never closed",
            ),
            (
                b"a, \"b\"\n1,2\n",
                "features CSV header (line 1, character 4), column 2: \
                 a space before an opening quote",
            ),
            (
                "é,\"b\"\"\n\"c\n1,2,3\n".as_bytes(),
                "features CSV header (line 2, character 2), column 2: text after a closing quote",
            ),
            (
                b"a,b\n1,2\n3,4,\"5\n",
                "features CSV row 2 (line 3, character 5), column 3: \
                 the quote opened here is never closed",
            ),
        ];
        for (input, expected) in cases {
            let e = read_features_csv(input, None).unwrap_err().to_string();
            assert!(
                e.starts_with(expected),
                "{e:?} should start with {expected:?}"
            );
        }
        // Spaces around a quoted cell are trimmed like any other cell's.
        let csv = read_features_csv(b"\"a\" , b\n\"1\"  ,2\n", None).unwrap();
        assert_eq!(
            (csv.names, csv.data),
            (vec!["a".to_owned(), "b".to_owned()], vec![1.0, 2.0])
        );
    }
}
