//! The extracted feature matrix and its CSV form.

use std::fmt::Write as _;
use std::io;

use super::schema::FeatureSchema;

/// Features of an export: one row per record, sorted by timestamp (stable: ties keep input
/// order), one column per schema feature, stored row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMatrix {
    /// Column names, configuration and process vocabulary.
    pub schema: FeatureSchema,
    /// `n_rows * n_cols` values, row after row.
    pub data: Vec<f64>,
    /// [`Record::index`](crate::export::Record::index) of the record behind each row.
    pub record_index: Vec<usize>,
    /// Timestamp of each row, microseconds since the epoch (UTC), non-decreasing.
    pub timestamps: Vec<i64>,
    /// Label of each row's record, when it has one.
    pub labels: Vec<Option<bool>>,
}

impl FeatureMatrix {
    /// Number of rows (records).
    pub fn n_rows(&self) -> usize {
        self.record_index.len()
    }

    /// Number of columns (features).
    pub fn n_cols(&self) -> usize {
        self.schema.len()
    }

    /// The features of row `i`.
    ///
    /// # Panics
    /// If `i >= n_rows()`.
    pub fn row(&self, i: usize) -> &[f64] {
        let n_cols = self.n_cols();
        &self.data[i * n_cols..(i + 1) * n_cols]
    }

    /// A copy of column `j`, one value per row.
    ///
    /// # Panics
    /// If `j >= n_cols()`.
    pub fn column(&self, j: usize) -> Vec<f64> {
        let n_cols = self.n_cols();
        assert!(j < n_cols, "column {j} out of range: {n_cols} columns");
        self.data.iter().skip(j).step_by(n_cols).copied().collect()
    }

    /// Writes the matrix as CSV: a header of the feature names in schema order (plus a trailing
    /// `label` column when `include_label`), then one line per row. Numbers use Rust's `f64`
    /// formatting (3.0 prints as `3`); a label is `0` or `1`, or empty when the row has none.
    /// Writes one line at a time, so wrap a file in a `BufWriter` only if you like.
    pub fn write_csv<W: io::Write>(&self, mut out: W, include_label: bool) -> io::Result<()> {
        let mut line = String::new();
        for (j, name) in self.schema.features.iter().enumerate() {
            if j > 0 {
                line.push(',');
            }
            push_csv_field(&mut line, name);
        }
        if include_label {
            if !self.schema.is_empty() {
                line.push(',');
            }
            line.push_str("label");
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;

        for i in 0..self.n_rows() {
            line.clear();
            for (j, value) in self.row(i).iter().enumerate() {
                if j > 0 {
                    line.push(',');
                }
                // Writing into a String cannot fail.
                let _ = write!(line, "{value}");
            }
            if include_label {
                if !self.schema.is_empty() {
                    line.push(',');
                }
                match self.labels.get(i).copied().flatten() {
                    Some(true) => line.push('1'),
                    Some(false) => line.push('0'),
                    None => {}
                }
            }
            line.push('\n');
            out.write_all(line.as_bytes())?;
        }
        out.flush()
    }
}

/// Appends a CSV field, quoted only when it has to be (names from a hand-edited schema).
fn push_csv_field(line: &mut String, field: &str) {
    if field.contains([',', '"', '\n', '\r']) {
        line.push('"');
        line.push_str(&field.replace('"', "\"\""));
        line.push('"');
    } else {
        line.push_str(field);
    }
}
