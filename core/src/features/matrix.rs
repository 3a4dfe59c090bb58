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

#[cfg(test)]
mod tests {
    use crate::export::LogLevel;
    use crate::features::config::{FeatureConfig, FeatureGroups};
    use crate::features::extract::extract;
    use crate::features::extract::tests::{export, record};

    fn csv(matrix: &super::FeatureMatrix, include_label: bool) -> String {
        let mut out = Vec::new();
        let written = matrix.write_csv(&mut out, include_label);
        assert!(written.is_ok(), "{written:?}");
        String::from_utf8(out).unwrap_or_default()
    }

    fn process_only() -> FeatureConfig {
        FeatureConfig {
            groups: FeatureGroups {
                time: false,
                wifi_events: false,
                security: false,
                text: false,
                process: true,
                windows: true,
            },
            window_minutes: vec![5],
        }
    }

    #[test]
    fn csv_header_rows_and_labels() {
        let mut records = vec![
            record(0, "2024-01-01T12:00:00Z", "hostapd", "a"),
            record(1, "2024-01-01T12:00:01Z", "kernel", "b"),
            record(2, "2024-01-01T12:00:02Z", "hostapd", "STA-DISASSOC"),
        ];
        records[0].label = Some(false);
        records[1].label = Some(true);
        records[1].level = LogLevel::Error;
        let matrix = extract(&export(records), &process_only(), None);
        let header = "process_rank,process_frequency,log_level_numeric,\
            connection_count_5m,unique_macs_5m,error_count_5m,process_diversity_5m,\
            deauth_count_5m,auth_failure_count_5m";
        let text = csv(&matrix, true);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], format!("{header},label"));
        // Whole numbers print without ".0"; fractions as Rust prints them.
        assert_eq!(lines[1], "1,0.6666666666666666,1,0,0,0,1,0,0,0");
        assert_eq!(lines[2], "2,0.3333333333333333,3,0,0,0,2,0,0,1");
        // No label: an empty cell.
        assert_eq!(lines[3], "1,0.6666666666666666,1,1,0,0,2,1,0,");
        assert!(text.ends_with('\n'));

        let text = csv(&matrix, false);
        assert_eq!(text.lines().next(), Some(header));
        assert_eq!(
            text.lines().nth(1),
            Some("1,0.6666666666666666,1,0,0,0,1,0,0")
        );
    }

    #[test]
    fn csv_of_an_empty_export_is_just_the_header() {
        let matrix = extract(&export(vec![]), &FeatureConfig::default(), None);
        let text = csv(&matrix, false);
        assert_eq!(text.lines().count(), 1);
        assert!(text.starts_with("hour_of_day,day_of_week,"));
        assert!(text.ends_with(",auth_failure_count_60m\n"));
    }

    #[test]
    fn rows_and_columns_agree() {
        let records = vec![
            record(0, "2024-01-01T12:00:00Z", "hostapd", "a"),
            record(1, "2024-01-01T12:00:01Z", "kernel", "b"),
        ];
        let matrix = extract(&export(records), &FeatureConfig::default(), None);
        for j in 0..matrix.n_cols() {
            let column = matrix.column(j);
            assert_eq!(column.len(), matrix.n_rows());
            for (i, v) in column.iter().enumerate() {
                assert_eq!(matrix.row(i)[j].to_bits(), v.to_bits());
            }
        }
    }
}
