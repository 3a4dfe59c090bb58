//! Bring-your-own features: a numeric CSV with a header row.
//!
//! For users whose features come from elsewhere. The header names the columns; one column may
//! hold labels (0/1, true/false, or empty for unlabelled). Every other cell must be a finite
//! number. Errors name the row and column.

use std::fmt;

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
    #[error("features CSV is empty (expected a header row)")]
    Empty,
    #[error("features CSV is not UTF-8 (line {line})")]
    NotUtf8 { line: usize },
    #[error("features CSV header: {0}")]
    Header(String),
    #[error("features CSV has no label column {0:?} (columns: {1})")]
    MissingLabelColumn(String, String),
    #[error("features CSV row {row} (line {line}) has {found} cells, expected {expected}")]
    Ragged {
        row: usize,
        line: usize,
        found: usize,
        expected: usize,
    },
    #[error("features CSV row {row} (line {line}), column {column:?}: {message}")]
    Cell {
        row: usize,
        line: usize,
        column: String,
        message: String,
    },
    #[error("features CSV has a header but no data rows")]
    NoRows,
}

/// Splits one CSV line into cells, trimmed of spaces. Lines without quotes (every numeric row)
/// borrow their cells; quoted lines (RFC 4180) are unescaped into new strings.
fn cells(line: &str) -> Vec<std::borrow::Cow<'_, str>> {
    if memchr::memchr(b'"', line.as_bytes()).is_none() {
        // Commas are ASCII, so every slice between them is on a character boundary.
        let mut out = Vec::new();
        let mut start = 0;
        for comma in memchr::memchr_iter(b',', line.as_bytes()) {
            out.push(std::borrow::Cow::Borrowed(line[start..comma].trim()));
            start = comma + 1;
        }
        out.push(std::borrow::Cow::Borrowed(line[start..].trim()));
        return out;
    }
    quoted_cells(line)
        .into_iter()
        .map(std::borrow::Cow::Owned)
        .collect()
}

fn quoted_cells(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if cell.trim().is_empty() => {
                cell.clear();
                quoted = true;
            }
            (',', false) => out.push(std::mem::take(&mut cell).trim().to_owned()),
            (c, _) => cell.push(c),
        }
    }
    out.push(cell.trim().to_owned());
    out
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
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut lines = bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix(b"\r").unwrap_or(l)));
    let (_, header) = lines
        .by_ref()
        .find(|(_, l)| !l.iter().all(u8::is_ascii_whitespace))
        .ok_or(CsvError::Empty)?;
    let header = std::str::from_utf8(header).map_err(|_| CsvError::NotUtf8 { line: 1 })?;
    let columns: Vec<String> = cells(header).into_iter().map(|c| c.into_owned()).collect();
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
    let mut data = Vec::new();
    let mut labels = label_at.map(|_| Vec::new());
    let mut row = 0usize;
    for (line, raw) in lines {
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        row += 1;
        let text = std::str::from_utf8(raw).map_err(|_| CsvError::NotUtf8 { line })?;
        let values = cells(text);
        if values.len() != columns.len() {
            return Err(CsvError::Ragged {
                row,
                line,
                found: values.len(),
                expected: columns.len(),
            });
        }
        for (i, value) in values.iter().enumerate() {
            let cell_error = |message: String| CsvError::Cell {
                row,
                line,
                column: columns[i].clone(),
                message,
            };
            let value: &str = value;
            if Some(i) == label_at {
                let label = match value.to_ascii_lowercase().as_str() {
                    "" => None,
                    "0" | "0.0" | "false" => Some(false),
                    "1" | "1.0" | "true" => Some(true),
                    _ => {
                        return Err(cell_error(format!(
                            "label {} is not 0/1 or true/false",
                            Shown(value)
                        )))
                    }
                };
                if let Some(labels) = labels.as_mut() {
                    labels.push(label);
                }
                continue;
            }
            if value.is_empty() {
                return Err(cell_error(
                    "empty cell (every feature needs a number)".to_owned(),
                ));
            }
            match value.parse::<f64>() {
                Ok(v) if v.is_finite() => data.push(v),
                Ok(v) => return Err(cell_error(format!("{v} is not a finite number"))),
                Err(_) => return Err(cell_error(format!("{} is not a number", Shown(value)))),
            }
        }
    }
    if row == 0 {
        return Err(CsvError::NoRows);
    }
    Ok(FeaturesCsv {
        names,
        data,
        labels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
