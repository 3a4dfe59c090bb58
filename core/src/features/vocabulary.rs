//! The process vocabulary of the training data.
//!
//! `process_rank` and `process_frequency` must mean the same thing at training and at inference
//! time, so they come from the vocabulary of the training export, which the model stores. (The
//! predecessor recomputed them per batch, so a process's rank drifted with each batch.)

use rustc_hash::FxHashMap;
use serde::{Deserialize, Deserializer, Serialize};

use crate::export::Record;

/// One process of the vocabulary and how many training records it wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessEntry {
    /// The process name, as in the records.
    pub name: String,
    /// Training records it wrote.
    pub count: u64,
}

/// Process names of the training data with their record counts.
///
/// Entries are sorted by count (most frequent first), ties by name, so the rank of a process is
/// its position plus one and does not depend on the order of the records. Deserializing checks
/// that order, that names are unique and that `total` is the sum of the counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProcessVocabulary {
    entries: Vec<ProcessEntry>,
    total: u64,
    /// Entry positions sorted by name, for lookups by binary search. Derived from `entries`.
    #[serde(skip)]
    by_name: Vec<u32>,
}

/// Why a stored vocabulary is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum VocabularyError {
    #[error("process vocabulary: entry {index} ({name:?}) is out of order (count descending, then name ascending)")]
    OutOfOrder { index: usize, name: String },
    #[error("process vocabulary: process {name:?} is listed more than once")]
    Duplicate { name: String },
    #[error("process vocabulary: total {total} is not the sum of the counts ({sum})")]
    WrongTotal { total: u64, sum: u64 },
    #[error("process vocabulary: more than {} processes", u32::MAX)]
    TooLarge,
}

#[derive(Deserialize)]
struct StoredVocabulary {
    entries: Vec<ProcessEntry>,
    total: u64,
}

impl<'de> Deserialize<'de> for ProcessVocabulary {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let stored = StoredVocabulary::deserialize(deserializer)?;
        ProcessVocabulary::from_sorted(stored.entries, stored.total)
            .map_err(serde::de::Error::custom)
    }
}

/// Orders entries by count descending, then name ascending.
fn entry_order(a: &ProcessEntry, b: &ProcessEntry) -> std::cmp::Ordering {
    b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name))
}

impl ProcessVocabulary {
    /// Counts the process names of `records` (the training data).
    pub fn from_records(records: &[Record]) -> Self {
        let mut counts: FxHashMap<&str, u64> = FxHashMap::default();
        for record in records {
            *counts.entry(&record.process_name).or_default() += 1;
        }
        Self::from_counts(counts)
    }

    /// Builds the vocabulary from distinct names and their counts, in any order.
    pub(crate) fn from_counts<'a>(counts: impl IntoIterator<Item = (&'a str, u64)>) -> Self {
        let mut entries: Vec<ProcessEntry> = counts
            .into_iter()
            .map(|(name, count)| ProcessEntry {
                name: name.to_owned(),
                count,
            })
            .collect();
        entries.sort_unstable_by(entry_order);
        let total = entries
            .iter()
            .map(|e| e.count)
            .fold(0u64, u64::saturating_add);
        let by_name = name_index(&entries);
        ProcessVocabulary {
            entries,
            total,
            by_name,
        }
    }

    /// Checks stored entries and builds the lookup index.
    fn from_sorted(entries: Vec<ProcessEntry>, total: u64) -> Result<Self, VocabularyError> {
        if u32::try_from(entries.len()).is_err() {
            return Err(VocabularyError::TooLarge);
        }
        for (index, pair) in entries.windows(2).enumerate() {
            if entry_order(&pair[0], &pair[1]).is_gt() {
                return Err(VocabularyError::OutOfOrder {
                    index: index + 1,
                    name: pair[1].name.clone(),
                });
            }
        }
        let sum = entries
            .iter()
            .try_fold(0u64, |sum, e| sum.checked_add(e.count));
        if sum != Some(total) {
            return Err(VocabularyError::WrongTotal {
                total,
                sum: sum.unwrap_or(u64::MAX),
            });
        }
        let by_name = name_index(&entries);
        for pair in by_name.windows(2) {
            let (a, b) = (&entries[pair[0] as usize], &entries[pair[1] as usize]);
            if a.name == b.name {
                return Err(VocabularyError::Duplicate {
                    name: a.name.clone(),
                });
            }
        }
        Ok(ProcessVocabulary {
            entries,
            total,
            by_name,
        })
    }

    fn position(&self, name: &str) -> Option<usize> {
        let found = self
            .by_name
            .binary_search_by(|&i| self.entries[i as usize].name.as_str().cmp(name));
        found.ok().map(|at| self.by_name[at] as usize)
    }

    /// Rank of a process: 1 for the most frequent, 0 for a process the vocabulary does not know.
    pub fn rank(&self, name: &str) -> u32 {
        self.position(name)
            .map_or(0, |i| u32::try_from(i + 1).unwrap_or(u32::MAX))
    }

    /// Share of the training records written by a process: `count / total`, 0 when unseen.
    pub fn frequency(&self, name: &str) -> f64 {
        match self.position(name) {
            Some(i) if self.total > 0 => self.entries[i].count as f64 / self.total as f64,
            _ => 0.0,
        }
    }

    /// Number of distinct processes.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the vocabulary knows no process.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The processes, most frequent first (ties by name).
    pub fn entries(&self) -> &[ProcessEntry] {
        &self.entries
    }

    /// Number of records counted.
    pub fn total(&self) -> u64 {
        self.total
    }
}

fn name_index(entries: &[ProcessEntry]) -> Vec<u32> {
    // `entries.len()` fits in u32: callers check it, and from_counts is fed from an export whose
    // processes are far fewer than 2^32. Saturate rather than wrap, just in case.
    let mut by_name: Vec<u32> = (0..entries.len())
        .map(|i| u32::try_from(i).unwrap_or(u32::MAX))
        .collect();
    by_name.sort_unstable_by(|&a, &b| entries[a as usize].name.cmp(&entries[b as usize].name));
    by_name
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::export::LogLevel;

    fn records(processes: &[&'static str]) -> Vec<Record<'static>> {
        processes
            .iter()
            .enumerate()
            .map(|(index, &name)| Record {
                host: None,
                index,
                timestamp: 0,
                message: Cow::Borrowed(""),
                process_name: Cow::Borrowed(name),
                level: LogLevel::Info,
                label: None,
            })
            .collect()
    }

    #[test]
    fn ranks_by_count_then_name() {
        let vocab = ProcessVocabulary::from_records(&records(&[
            "wpa_supplicant",
            "hostapd",
            "kernel",
            "hostapd",
            "dhcpd",
            "hostapd",
            "kernel",
        ]));
        assert_eq!(vocab.len(), 4);
        assert_eq!(vocab.total(), 7);
        let names: Vec<&str> = vocab.entries().iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["hostapd", "kernel", "dhcpd", "wpa_supplicant"]);
        assert_eq!(vocab.rank("hostapd"), 1);
        assert_eq!(vocab.rank("kernel"), 2);
        assert_eq!(vocab.rank("dhcpd"), 3);
        assert_eq!(vocab.rank("wpa_supplicant"), 4);
        assert_eq!(vocab.frequency("hostapd"), 3.0 / 7.0);
        assert_eq!(vocab.frequency("dhcpd"), 1.0 / 7.0);
    }

    #[test]
    fn unseen_process_gets_zero() {
        let vocab = ProcessVocabulary::from_records(&records(&["hostapd", ""]));
        assert_eq!(vocab.rank("dnsmasq"), 0);
        assert_eq!(vocab.frequency("dnsmasq"), 0.0);
        assert_eq!(vocab.rank("HOSTAPD"), 0, "process names are case-sensitive");
        // An empty process name is a process like any other.
        assert_eq!(vocab.rank(""), 1);
        let empty = ProcessVocabulary::from_records(&[]);
        assert!(empty.is_empty());
        assert_eq!(
            (empty.rank("hostapd"), empty.frequency("hostapd")),
            (0, 0.0)
        );
    }

    #[test]
    fn round_trips_through_json() {
        let vocab = ProcessVocabulary::from_records(&records(&["b", "a", "b"]));
        let json = serde_json::to_string(&vocab).expect("serializes");
        assert_eq!(
            json,
            r#"{"entries":[{"name":"b","count":2},{"name":"a","count":1}],"total":3}"#
        );
        let back: ProcessVocabulary = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, vocab);
        assert_eq!(back.rank("a"), 2);
    }

    #[test]
    fn rejects_inconsistent_stored_vocabulary() {
        for (json, needle) in [
            (
                r#"{"entries":[{"name":"a","count":1},{"name":"b","count":2}],"total":3}"#,
                "entry 1 (\"b\") is out of order",
            ),
            (
                r#"{"entries":[{"name":"b","count":2},{"name":"a","count":1},{"name":"b","count":1}],"total":4}"#,
                "\"b\" is listed more than once",
            ),
            (
                r#"{"entries":[{"name":"a","count":2}],"total":3}"#,
                "total 3 is not the sum of the counts (2)",
            ),
        ] {
            let err = serde_json::from_str::<ProcessVocabulary>(json).map(|_| ());
            assert!(
                err.as_ref().is_err_and(|e| e.to_string().contains(needle)),
                "{json}: {err:?}"
            );
        }
    }
}
