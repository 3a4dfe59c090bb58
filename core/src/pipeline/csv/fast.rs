//! The data rows of a features CSV without quotes, read on all cores.
//!
//! Most features CSVs hold plain numbers: no quotes, lines ending in LF or CRLF. There every line
//! is one record, so the rows can be cut at line ends and the parts read at the same time. Each
//! cell goes through the same [`read_cell`] as in the record-by-record reader, and an error is
//! the one that reader gives: the first in the file, naming its row, line and column.

use super::{read_cell, Body, Cell, CsvError, Rows};

/// Whether the rows can be cut at line ends: no quote anywhere (a quoted cell may hold a line
/// break) and no CR but before an LF (the `csv` crate ends a record at a lone CR as well).
pub(super) fn applies(body: &[u8]) -> bool {
    memchr::memchr(b'"', body).is_none()
        && memchr::memchr_iter(b'\r', body).all(|at| body.get(at + 1) == Some(&b'\n'))
}

/// The values, labels (empty without a label column) and row count of `body`.
pub(super) fn read_body(
    body: Body<'_>,
    columns: &[String],
    label_at: Option<usize>,
) -> Result<Rows, CsvError> {
    let labelled = label_at.is_some();
    let n_values = columns.len() - usize::from(labelled);
    let parts = crate::parallel::split_lines(body.bytes, crate::parallel::threads());
    // A part has at most one row per line. Each part's rows go straight into its own stretch of
    // the result, so the values are written (and their pages touched) once, on the part's thread.
    let room = crate::parallel::map(parts.clone(), |part| {
        memchr::memchr_iter(b'\n', part).count() + 1
    });
    let total: usize = room.iter().sum();
    let mut data = vec![0.0; total * n_values];
    let mut labels = vec![None; if labelled { total } else { 0 }];
    let mut jobs = Vec::with_capacity(parts.len());
    let (mut data_left, mut labels_left) = (&mut data[..], &mut labels[..]);
    for (part, &rows) in parts.into_iter().zip(&room) {
        let (values, rest) = std::mem::take(&mut data_left).split_at_mut(rows * n_values);
        data_left = rest;
        let (part_labels, rest) =
            std::mem::take(&mut labels_left).split_at_mut(if labelled { rows } else { 0 });
        labels_left = rest;
        jobs.push((part, values, part_labels));
    }
    let read = crate::parallel::map(jobs, |(part, values, labels)| {
        read_part(part, columns.len(), label_at, values, labels)
    });
    // Close the gaps blank lines left at the end of each part's stretch.
    let (mut rows, mut line, mut slot) = (0, body.first_line, 0);
    for (part, room) in read.into_iter().zip(room) {
        if let Some(fault) = part.fault {
            return Err(fault.error(rows, line, columns));
        }
        if slot != rows {
            data.copy_within(
                slot * n_values..(slot + part.rows) * n_values,
                rows * n_values,
            );
            if labelled {
                labels.copy_within(slot..slot + part.rows, rows);
            }
        }
        rows += part.rows;
        line += part.lines;
        slot += room;
    }
    data.truncate(rows * n_values);
    labels.truncate(if labelled { rows } else { 0 });
    Ok(Rows {
        data,
        labels,
        count: rows,
    })
}

/// What one part of the rows held, up to its first fault.
#[derive(Default)]
struct Part {
    /// Rows read (blank lines are not rows).
    rows: usize,
    /// Lines walked.
    lines: usize,
    fault: Option<Fault>,
}

/// The first thing wrong in a part: at its `row`-th row (1-based), `line` lines into it.
struct Fault {
    row: usize,
    line: usize,
    kind: FaultKind,
}

enum FaultKind {
    /// A row with `found` cells.
    Ragged(usize),
    NotUtf8,
    /// The cell in column `.0` and what is wrong with it.
    Cell(usize, String),
}

impl Fault {
    /// The error, placed in the file: `rows` rows and `first_line` lines come before the part.
    fn error(self, rows: usize, first_line: usize, columns: &[String]) -> CsvError {
        let (row, line) = (rows + self.row, first_line + self.line);
        match self.kind {
            FaultKind::Ragged(found) => CsvError::Ragged {
                row,
                line,
                found,
                expected: columns.len(),
            },
            FaultKind::NotUtf8 => CsvError::NotUtf8 { line },
            FaultKind::Cell(column, message) => CsvError::Cell {
                row,
                line,
                column: columns[column].clone(),
                message,
            },
        }
    }
}

/// Reads whole lines, row `r`'s values into `values[r * n_values..]` and its label into
/// `labels[r]`; stops at the first fault. There is room for a row per line.
fn read_part(
    part: &[u8],
    n_cols: usize,
    label_at: Option<usize>,
    values: &mut [f64],
    labels: &mut [Option<bool>],
) -> Part {
    let n_values = n_cols - usize::from(label_at.is_some());
    let mut out = Part::default();
    let mut rest = part;
    while !rest.is_empty() {
        let (line, tail) = match memchr::memchr(b'\n', rest) {
            Some(end) => (&rest[..end], &rest[end + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = tail;
        let at = out.lines;
        out.lines += 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let row = out.rows;
        out.rows += 1;
        let row_values = &mut values[row * n_values..(row + 1) * n_values];
        let label = labels.get_mut(row);
        if let Err(kind) = read_row(line, n_cols, label_at, row_values, label) {
            out.fault = Some(Fault {
                row: out.rows,
                line: at,
                kind,
            });
            break;
        }
    }
    out
}

/// One line's cells into `values` and `label`. A row of the wrong width is reported as such
/// before anything about its cells, as the record-by-record reader does.
fn read_row(
    line: &[u8],
    n_cols: usize,
    label_at: Option<usize>,
    values: &mut [f64],
    mut label: Option<&mut Option<bool>>,
) -> Result<(), FaultKind> {
    let mut put = |i: usize, value: &str, next: &mut usize| -> Result<(), FaultKind> {
        match read_cell(value, Some(i) == label_at).map_err(|m| FaultKind::Cell(i, m))? {
            Cell::Value(v) => {
                if let Some(slot) = values.get_mut(*next) {
                    *slot = v;
                }
                *next += 1;
            }
            Cell::Label(l) => {
                if let Some(slot) = label.as_deref_mut() {
                    *slot = l;
                }
            }
        }
        Ok(())
    };
    let mut next = 0;
    let mut found = 0;
    let read = match std::str::from_utf8(line) {
        Ok(text) => {
            // Cut at the commas' byte offsets (a comma is one byte, never inside a character).
            let mut start = 0;
            let ends = memchr::memchr_iter(b',', line).chain(std::iter::once(line.len()));
            ends.take(n_cols + 1).try_for_each(|end| {
                if found == n_cols {
                    return Err(FaultKind::Ragged(0));
                }
                let cell = text.get(start..end).unwrap_or_default();
                start = end + 1;
                found += 1;
                put(found - 1, cell.trim(), &mut next)
            })
        }
        // Some cell is not UTF-8: cell by cell, so a fault in an earlier cell comes first.
        Err(_) => line.split(|&b| b == b',').try_for_each(|cell| {
            if found == n_cols {
                return Err(FaultKind::Ragged(0));
            }
            found += 1;
            let value = std::str::from_utf8(cell).map_err(|_| FaultKind::NotUtf8)?;
            put(found - 1, value.trim(), &mut next)
        }),
    };
    let read = read.and(if found == n_cols {
        Ok(())
    } else {
        Err(FaultKind::Ragged(0))
    });
    read.map_err(|kind| {
        let cells = memchr::memchr_iter(b',', line).count() + 1;
        if cells == n_cols {
            kind
        } else {
            FaultKind::Ragged(cells)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::super::read_features_csv;
    use super::*;

    /// A CSV of `rows` rows, big enough to be cut into parts, with `extra` spliced in after row
    /// `at` (a line of its own, ending in `\n`).
    fn big_csv(rows: usize, at: usize, extra: &str, crlf: bool) -> Vec<u8> {
        let end = if crlf { "\r\n" } else { "\n" };
        let mut text = format!("a,b,label{end}");
        for i in 0..rows {
            if i == at {
                text.push_str(extra);
            }
            let label = ["0", "1", ""][i % 3];
            text.push_str(&format!(
                "{},{:e},{label}{end}",
                i as f64 * 0.37,
                -(i as f64)
            ));
        }
        text.into_bytes()
    }

    /// The same file read by the record-by-record reader.
    fn slowly(bytes: &[u8]) -> Result<super::super::FeaturesCsv, CsvError> {
        super::super::read(bytes, None, false)
    }

    #[test]
    fn parts_read_like_the_record_by_record_reader() {
        for crlf in [false, true] {
            let bytes = big_csv(150_000, 70_000, "   \n\n", crlf);
            assert!(applies(&bytes));
            let fast = read_features_csv(&bytes, None).unwrap();
            assert_eq!(fast.n_rows(), 150_000);
            assert_eq!(fast, slowly(&bytes).unwrap());
        }
    }

    #[test]
    fn errors_deep_in_the_file_name_the_same_row_and_line() {
        let cases = [
            "1,2,3,4\n",
            "1,x,0\n",
            "1,2,maybe\n",
            "1,,0\n",
            "1,inf,0\n",
            "\u{a0}1,2,1\n",
            "1,\u{a0}2\u{a0},1\n",
        ];
        for extra in cases {
            for at in [0, 149_999, 100_000] {
                let bytes = big_csv(150_000, at, &format!("\n{extra}"), false);
                let fast = read_features_csv(&bytes, None);
                assert_eq!(fast, slowly(&bytes), "{extra:?} at {at}");
            }
        }
        // A byte that is not UTF-8 after a cell that is not a number: the number comes first.
        let mut bytes = big_csv(150_000, 120_000, "x,\u{1}2,1\n", false);
        let at = bytes.windows(2).position(|w| w == b"\x012").unwrap();
        bytes[at] = 0xff;
        let e = read_features_csv(&bytes, None).unwrap_err();
        assert_eq!(slowly(&bytes).unwrap_err(), e);
        assert!(e.to_string().contains("\"x\" is not a number"), "{e}");
        bytes[at - 2] = b'7';
        let e = read_features_csv(&bytes, None).unwrap_err();
        assert_eq!(e, CsvError::NotUtf8 { line: 120_002 });
        assert_eq!(slowly(&bytes).unwrap_err(), e);
    }

    #[test]
    fn a_lone_cr_or_a_quote_goes_the_record_by_record_way() {
        assert!(!applies(b"1,2\r3,4\n"));
        assert!(!applies(b"1,\"2\"\n"));
        assert!(applies(b"1,2\r\n3,4"));
        let csv = read_features_csv(b"a,b\n1,2\r3,4\n", None).unwrap();
        assert_eq!(csv.data, vec![1.0, 2.0, 3.0, 4.0]);
    }
}
