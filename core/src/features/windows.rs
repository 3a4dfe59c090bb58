//! Trailing-window features in O(n), computed row by row in the same pass as the rest.
//!
//! Rows arrive sorted by timestamp. The window of row `i` is every row `j <= i` with
//! `t_j >= t_i - w`, so it only ever needs rows already seen: as `i` advances, row `i` enters
//! each window and rows whose timestamp fell out of it leave from the left (two pointers), so
//! each row enters and leaves each window once. MAC addresses and process names are interned to
//! dense ids as they are first seen, so the distinct counts are kept with plain count arrays
//! instead of hashing inside the windows.

use rustc_hash::FxHashMap;

use super::schema::WINDOW_FEATURES;
use super::text::{AUTH_FAILURE, CONNECTION, DEAUTH, ERROR};
use crate::time::MICROS_PER_MINUTE;

/// How many of each id are in a window, and how many ids are there at all.
#[derive(Debug, Default)]
struct DistinctCounter {
    counts: Vec<u32>,
    distinct: usize,
}

impl DistinctCounter {
    fn add(&mut self, id: u32) {
        let id = id as usize;
        if id >= self.counts.len() {
            // Ids are dense and handed out in order, so this grows by one now and then.
            self.counts.resize(id + 1, 0);
        }
        let count = &mut self.counts[id];
        if *count == 0 {
            self.distinct += 1;
        }
        *count += 1;
    }

    fn remove(&mut self, id: u32) {
        if let Some(count) = self.counts.get_mut(id as usize) {
            if *count == 1 {
                self.distinct -= 1;
            }
            *count = count.saturating_sub(1);
        }
    }
}

/// Running counts of the rows in a window that carry each event flag.
#[derive(Debug, Default)]
struct EventCounts {
    connection: usize,
    error: usize,
    deauth: usize,
    auth_failure: usize,
}

fn has(flags: u8, bit: u8) -> usize {
    usize::from(flags & bit != 0)
}

impl EventCounts {
    fn enter(&mut self, flags: u8) {
        self.connection += has(flags, CONNECTION);
        self.error += has(flags, ERROR);
        self.deauth += has(flags, DEAUTH);
        self.auth_failure += has(flags, AUTH_FAILURE);
    }

    fn leave(&mut self, flags: u8) {
        self.connection -= has(flags, CONNECTION);
        self.error -= has(flags, ERROR);
        self.deauth -= has(flags, DEAUTH);
        self.auth_failure -= has(flags, AUTH_FAILURE);
    }
}

/// One trailing window: its width and what is in it.
#[derive(Debug)]
struct Window {
    width: i64,
    /// First row still in the window.
    left: usize,
    events: EventCounts,
    macs: DistinctCounter,
    processes: DistinctCounter,
}

/// What the windows need to remember of each row seen so far, in row order.
#[derive(Debug, Default)]
struct History {
    flags: Vec<u8>,
    processes: Vec<u32>,
    /// MAC ids of all rows, row after row.
    macs: Vec<u32>,
    /// Row `i`'s MAC ids are `macs[mac_offsets[i]..mac_offsets[i + 1]]`.
    mac_offsets: Vec<usize>,
}

impl History {
    fn row_macs(&self, row: usize) -> &[u32] {
        match (self.mac_offsets.get(row), self.mac_offsets.get(row + 1)) {
            (Some(&start), Some(&end)) => self.macs.get(start..end).unwrap_or_default(),
            _ => &[],
        }
    }
}

/// The trailing windows of every configured width, fed one row at a time in timestamp order.
#[derive(Debug)]
pub(crate) struct TrailingWindows<'a> {
    /// Timestamps of all rows, sorted.
    timestamps: &'a [i64],
    windows: Vec<Window>,
    history: History,
    mac_ids: FxHashMap<u64, u32>,
}

impl<'a> TrailingWindows<'a> {
    /// Windows of `window_minutes` over rows with the sorted `timestamps`.
    pub fn new(window_minutes: &[u32], timestamps: &'a [i64]) -> Self {
        let n = timestamps.len();
        let mut history = History {
            flags: Vec::with_capacity(n),
            processes: Vec::with_capacity(n),
            macs: Vec::new(),
            mac_offsets: Vec::with_capacity(n + 1),
        };
        history.mac_offsets.push(0);
        TrailingWindows {
            timestamps,
            windows: window_minutes
                .iter()
                .map(|&minutes| Window {
                    width: i64::from(minutes) * MICROS_PER_MINUTE,
                    left: 0,
                    events: EventCounts::default(),
                    macs: DistinctCounter::default(),
                    processes: DistinctCounter::default(),
                })
                .collect(),
            history,
            mac_ids: FxHashMap::default(),
        }
    }

    /// Notes a MAC address (as a 48-bit number) of the row being built.
    pub fn add_mac(&mut self, mac: u64) {
        let next = u32::try_from(self.mac_ids.len()).unwrap_or(u32::MAX);
        let id = *self.mac_ids.entry(mac).or_insert(next);
        self.history.macs.push(id);
    }

    /// Completes the next row — its keyword flags, process id and the MACs given to
    /// [`add_mac`](Self::add_mac) since the last row — and writes its window features into
    /// `out`: six per window, in [`super::schema::WINDOW_FEATURES`] order, windows in
    /// configuration order.
    pub fn push_row(&mut self, flags: u8, process: u32, out: &mut [f64]) {
        let history = &mut self.history;
        let row = history.flags.len();
        history.flags.push(flags);
        history.processes.push(process);
        history.mac_offsets.push(history.macs.len());
        let history = &self.history;
        let Some(&t) = self.timestamps.get(row) else {
            return;
        };
        for (window, out) in self
            .windows
            .iter_mut()
            .zip(out.chunks_exact_mut(WINDOW_FEATURES.len()))
        {
            window.events.enter(flags);
            window.processes.add(process);
            for &mac in history.row_macs(row) {
                window.macs.add(mac);
            }
            let from = t.saturating_sub(window.width);
            // `width >= 0`, so the new row itself never leaves and `left <= row`.
            while window.left < row && self.timestamps[window.left] < from {
                let old = window.left;
                window.events.leave(history.flags[old]);
                window.processes.remove(history.processes[old]);
                for &mac in history.row_macs(old) {
                    window.macs.remove(mac);
                }
                window.left += 1;
            }
            out.copy_from_slice(&[
                window.events.connection as f64,
                window.macs.distinct as f64,
                window.events.error as f64,
                window.processes.distinct as f64,
                window.events.deauth as f64,
                window.events.auth_failure as f64,
            ]);
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
                    host: None,
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
