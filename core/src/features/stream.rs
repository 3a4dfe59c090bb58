//! The streaming `wifi-v1` extractor: one record in, one row out.

use super::extract::{process_values, RowBuilder};
use super::schema::FeatureSchema;
use super::vocabulary::ProcessVocabulary;
use crate::agent::FeatureStream;
use crate::export::Record;

/// Turns records into `wifi-v1` rows one at a time, keeping the trailing-window state between
/// calls. Fed the records of an export in timestamp order (ties in input order), it writes, bit
/// for bit, the rows [`extract`](super::extract) gives with the same schema: both run the same
/// row code.
///
/// Memory is bounded on an endless stream: it remembers the rows inside the longest window of
/// the configuration (at most `window_minutes.max()` minutes of records) with their distinct
/// MAC addresses and process names, and nothing older.
///
/// A record older than the one before is late: its time features come from its own timestamp,
/// but for the windows it counts as if it came at the previous record's time (windows only move
/// forward).
#[derive(Debug)]
pub struct WifiStream {
    rows: RowBuilder,
    vocabulary: ProcessVocabulary,
    process_on: bool,
    width: usize,
    /// The last process looked up in the vocabulary and its values (records come in bursts).
    last_process: String,
    last_values: Option<[f64; 2]>,
}

impl WifiStream {
    /// A stream extracting the columns of `schema` with its training vocabulary. The schema's
    /// configuration is trusted: check it first ([`crate::features::FeatureConfig::check`]; the
    /// `wifi` agent's [`extractor`](crate::agent::Agent::extractor) does).
    pub fn new(schema: &FeatureSchema) -> WifiStream {
        WifiStream {
            rows: RowBuilder::new(&schema.config),
            vocabulary: schema.vocabulary.clone(),
            process_on: schema.config.groups.process,
            width: super::feature_names(&schema.config).len(),
            last_process: String::new(),
            last_values: None,
        }
    }

    /// Columns per row.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Writes the row of the next record into `out` (`out.len() == width()`; a shorter `out`
    /// gets the leading columns).
    pub fn push(&mut self, record: &Record<'_>, out: &mut [f64]) {
        let process = if self.process_on {
            self.process_values(&record.process_name)
        } else {
            [0.0, 0.0]
        };
        self.rows.push(record, process, out);
    }

    fn process_values(&mut self, name: &str) -> [f64; 2] {
        match self.last_values {
            Some(values) if self.last_process == name => values,
            _ => {
                let values = process_values(&self.vocabulary, name);
                // Reuses the buffer: no allocation once it is long enough.
                self.last_process.clear();
                self.last_process.push_str(name);
                self.last_values = Some(values);
                values
            }
        }
    }

    /// How much the windows remember: (rows, distinct MACs, distinct processes).
    #[cfg(test)]
    pub(crate) fn remembered(&self) -> (usize, usize, usize) {
        self.rows.windows().map_or((0, 0, 0), |w| w.remembered())
    }
}

impl FeatureStream for WifiStream {
    fn width(&self) -> usize {
        self.width
    }

    fn push(&mut self, record: &Record<'_>, out: &mut [f64]) {
        WifiStream::push(self, record, out);
    }
}
