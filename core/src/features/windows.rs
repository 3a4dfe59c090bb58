//! Trailing-window features in O(n): one two-pointer sweep per window width.
//!
//! Rows arrive sorted by timestamp. The window of row `i` is every row `j <= i` with
//! `t_j >= t_i - w`; as `i` advances, row `i` enters and rows whose timestamp fell out of the
//! window leave from the left, so each row enters and leaves once per width. MAC addresses and
//! process names are interned to dense ids beforehand, so the distinct counts are kept with plain
//! count arrays instead of hashing inside the sweep.

use rustc_hash::FxHashMap;

use super::text::{AUTH_FAILURE, CONNECTION, DEAUTH, ERROR};
use crate::time::MICROS_PER_MINUTE;

/// Dense ids for distinct values, in order of first appearance.
#[derive(Debug, Default)]
pub(crate) struct Interner<K> {
    ids: FxHashMap<K, u32>,
}

impl<K: std::hash::Hash + Eq> Interner<K> {
    /// The id of `key`, and whether it is new.
    pub fn id(&mut self, key: K) -> (u32, bool) {
        let next = u32::try_from(self.ids.len()).unwrap_or(u32::MAX);
        let mut new = false;
        let id = *self.ids.entry(key).or_insert_with(|| {
            new = true;
            next
        });
        (id, new)
    }

    /// Number of distinct keys seen.
    pub fn len(&self) -> usize {
        self.ids.len()
    }
}

/// What the sweep needs from each row, in sorted row order.
#[derive(Debug, Default)]
pub(crate) struct WindowInputs {
    /// Keyword flags of each row (see [`super::text::event_flags`]).
    pub flags: Vec<u8>,
    /// Process id of each row.
    pub processes: Vec<u32>,
    /// Number of distinct process ids.
    pub n_processes: usize,
    /// MAC ids of all rows, row after row.
    pub macs: Vec<u32>,
    /// Row `i`'s MAC ids are `macs[mac_offsets[i]..mac_offsets[i + 1]]`; starts with 0.
    pub mac_offsets: Vec<usize>,
    /// Number of distinct MAC ids.
    pub n_macs: usize,
}

impl WindowInputs {
    fn row_macs(&self, row: usize) -> &[u32] {
        match (self.mac_offsets.get(row), self.mac_offsets.get(row + 1)) {
            (Some(&start), Some(&end)) => self.macs.get(start..end).unwrap_or_default(),
            _ => &[],
        }
    }
}

/// How many of each id are in the window, and how many ids are there at all.
struct DistinctCounter {
    counts: Vec<u32>,
    distinct: usize,
}

impl DistinctCounter {
    fn new(ids: usize) -> Self {
        DistinctCounter {
            counts: vec![0; ids],
            distinct: 0,
        }
    }

    fn add(&mut self, id: u32) {
        if let Some(count) = self.counts.get_mut(id as usize) {
            if *count == 0 {
                self.distinct += 1;
            }
            *count += 1;
        }
    }

    fn remove(&mut self, id: u32) {
        if let Some(count) = self.counts.get_mut(id as usize) {
            if *count == 1 {
                self.distinct -= 1;
            }
            *count = count.saturating_sub(1);
        }
    }

    fn clear(&mut self) {
        self.counts.fill(0);
        self.distinct = 0;
    }
}

/// Running counts of the rows in the window that carry each event flag.
#[derive(Default)]
struct EventCounts {
    connection: usize,
    error: usize,
    deauth: usize,
    auth_failure: usize,
}

impl EventCounts {
    fn apply(&mut self, flags: u8, enter: bool) {
        for (bit, count) in [
            (CONNECTION, &mut self.connection),
            (ERROR, &mut self.error),
            (DEAUTH, &mut self.deauth),
            (AUTH_FAILURE, &mut self.auth_failure),
        ] {
            if flags & bit != 0 {
                if enter {
                    *count += 1;
                } else {
                    *count -= 1;
                }
            }
        }
    }
}

/// Sweeps the window widths in turn.
pub(crate) struct WindowSweep<'a> {
    timestamps: &'a [i64],
    inputs: &'a WindowInputs,
    macs: DistinctCounter,
    processes: DistinctCounter,
}

impl<'a> WindowSweep<'a> {
    /// `timestamps` are the sorted rows' timestamps; `inputs` has one entry per row.
    pub fn new(timestamps: &'a [i64], inputs: &'a WindowInputs) -> Self {
        WindowSweep {
            timestamps,
            inputs,
            macs: DistinctCounter::new(inputs.n_macs),
            processes: DistinctCounter::new(inputs.n_processes),
        }
    }

    fn enter_or_leave(&mut self, row: usize, events: &mut EventCounts, enter: bool) {
        let inputs = self.inputs;
        events.apply(inputs.flags.get(row).copied().unwrap_or(0), enter);
        let process = inputs.processes.get(row).copied();
        for &mac in inputs.row_macs(row) {
            if enter {
                self.macs.add(mac);
            } else {
                self.macs.remove(mac);
            }
        }
        if let Some(process) = process {
            if enter {
                self.processes.add(process);
            } else {
                self.processes.remove(process);
            }
        }
    }

    /// Computes the six window features of width `minutes` for every row and hands them to
    /// `write(row, values)` in [`super::schema::WINDOW_FEATURES`] order.
    pub fn sweep(&mut self, minutes: u32, mut write: impl FnMut(usize, [f64; 6])) {
        self.macs.clear();
        self.processes.clear();
        let width = i64::from(minutes) * MICROS_PER_MINUTE;
        let mut events = EventCounts::default();
        let mut left = 0;
        for (row, &t) in self.timestamps.iter().enumerate() {
            self.enter_or_leave(row, &mut events, true);
            let from = t.saturating_sub(width);
            // `width >= 0`, so row `row` itself never leaves and `left <= row`.
            while left < row && self.timestamps[left] < from {
                self.enter_or_leave(left, &mut events, false);
                left += 1;
            }
            write(
                row,
                [
                    events.connection as f64,
                    self.macs.distinct as f64,
                    events.error as f64,
                    self.processes.distinct as f64,
                    events.deauth as f64,
                    events.auth_failure as f64,
                ],
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::collections::HashSet;

    use proptest::prelude::*;

    use crate::export::{Export, ExportFormat, LogLevel, Record};
    use crate::features::config::FeatureConfig;
    use crate::features::extract::extract;
    use crate::features::extract::tests::value;
    use crate::features::text::for_each_mac;

    const PROCESSES: [&str; 5] = ["hostapd", "wpa_supplicant", "kernel", "dhcpd", ""];

    const FRAGMENTS: [&str; 24] = [
        "wlan0: ",
        "AP-STA-CONNECTED ",
        "ap-sta-disconnected",
        "STA-ASSOC",
        "sta-disassoc ",
        "deauth",
        "Disassoc",
        "ERROR",
        "failed ",
        "PSK-MISMATCH",
        "not allowed",
        "Authentication failure",
        "00:11:22:33:44:55",
        "00-11-22-33-44-55 ",
        "AA:BB:CC:DD:EE:FF",
        "aa-bb-cc-dd-ee-ff",
        "00:11:22:33:44:56 ",
        ":66",
        "-",
        " ",
        "x",
        "é",
        "192.168.1.1",
        "7",
    ];

    /// Whether the message carries any of `keywords`, as plain lowercase substring search.
    fn has(message: &str, keywords: &[&str]) -> bool {
        let lower = message.to_ascii_lowercase();
        keywords.iter().any(|k| lower.contains(k))
    }

    /// The six window features of every row, by brute force: sort, then for each row look at
    /// every earlier row again.
    fn naive_windows(records: &[Record], minutes: u32) -> Vec<[f64; 6]> {
        let mut sorted: Vec<&Record> = records.iter().collect();
        sorted.sort_by_key(|r| r.timestamp);
        let width = i64::from(minutes) * 60_000_000;
        (0..sorted.len())
            .map(|i| {
                let window: Vec<&Record> = sorted[..=i]
                    .iter()
                    .filter(|r| r.timestamp >= sorted[i].timestamp - width)
                    .copied()
                    .collect();
                let count = |keywords: &[&str]| {
                    window.iter().filter(|r| has(&r.message, keywords)).count() as f64
                };
                let mut macs = HashSet::new();
                for r in &window {
                    for_each_mac(&r.message, |mac| {
                        macs.insert(mac);
                    });
                }
                let processes: HashSet<&str> = window.iter().map(|r| &*r.process_name).collect();
                [
                    count(&[
                        "ap-sta-connected",
                        "ap-sta-disconnected",
                        "sta-assoc",
                        "sta-disassoc",
                    ]),
                    macs.len() as f64,
                    count(&["error", "failed", "denied", "rejected"]),
                    processes.len() as f64,
                    count(&["deauth", "disassoc"]),
                    count(&["psk-mismatch", "authentication failure", "not allowed"]),
                ]
            })
            .collect()
    }

    fn arb_record() -> impl Strategy<Value = (i64, usize, Vec<usize>)> {
        (
            // Minutes: many ties within a few minutes, sometimes an hour or days away.
            prop_oneof![0i64..6, 0i64..90, 0i64..3000],
            // Seconds within the minute, often exactly on the minute (window edges).
            prop_oneof![Just(0i64), 0i64..60],
            0..PROCESSES.len(),
            prop::collection::vec(0..FRAGMENTS.len(), 0..6),
        )
            .prop_map(|(minute, second, process, fragments)| {
                (minute * 60 + second, process, fragments)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn window_features_match_a_naive_reference(
            rows in prop::collection::vec(arb_record(), 0..60),
            windows in prop::sample::subsequence(vec![1u32, 2, 5, 15, 60, 1440], 1..4),
        ) {
            let records: Vec<Record> = rows
                .iter()
                .enumerate()
                .map(|(index, (seconds, process, fragments))| Record {
                    index,
                    timestamp: 1_704_067_200_000_000 + seconds * 1_000_000,
                    message: Cow::Owned(fragments.iter().map(|&f| FRAGMENTS[f]).collect()),
                    process_name: Cow::Borrowed(PROCESSES[*process]),
                    level: LogLevel::Info,
                    label: None,
                })
                .collect();
            let config = FeatureConfig {
                window_minutes: windows.clone(),
                ..FeatureConfig::default()
            };
            let export = Export {
                format: ExportFormat::Array,
                metadata: None,
                records: records.clone(),
            };
            let matrix = extract(&export, &config, None);
            prop_assert_eq!(matrix.n_rows(), records.len());
            for &minutes in &windows {
                let expected = naive_windows(&records, minutes);
                for (row, expected) in expected.iter().enumerate() {
                    let got = [
                        "connection_count",
                        "unique_macs",
                        "error_count",
                        "process_diversity",
                        "deauth_count",
                        "auth_failure_count",
                    ]
                    .map(|f| value(&matrix, row, &format!("{f}_{minutes}m")));
                    prop_assert_eq!(&got, expected, "row {} window {}m", row, minutes);
                }
            }
        }
    }
}
