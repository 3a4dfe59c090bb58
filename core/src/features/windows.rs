//! Trailing-window features in O(n), computed row by row in the same pass as the rest — the one
//! window code of both batch extraction and the streaming extractor.
//!
//! Rows arrive in timestamp order. The window of row `i` is every row `j <= i` with
//! `t_j >= t_i - w`, so it only ever needs rows already seen: as `i` advances, row `i` enters
//! each window and rows whose timestamp fell out of it leave from the left (two pointers), so
//! each row enters and leaves each window once.
//!
//! **Bounded memory.** The windows remember only the rows still inside the longest window (a
//! queue: a row is dropped once every window has let it go), and MAC addresses and process
//! names are interned to small ids with reference counts over those rows: an id is recycled once
//! no remembered row uses it. So on an endless stream the memory is proportional to the rows
//! inside the longest window and the distinct MACs and processes among them, never to the
//! length of the stream. The distinct counts are kept with plain count arrays indexed by id
//! instead of hashing inside the windows.

use std::collections::VecDeque;
use std::hash::Hash;

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
            // Ids are dense (recycled ones first), so this grows by one now and then.
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

/// Keys interned to small dense ids, each id counting the remembered rows that use it; an id
/// whose count drops to zero is forgotten and handed out again.
#[derive(Debug)]
struct Interner<K> {
    ids: FxHashMap<K, u32>,
    /// Key and reference count of each id (`None` for a free id).
    slots: Vec<Option<(K, u32)>>,
    free: Vec<u32>,
    /// The id handed out last, tried first: logs come in bursts from one process.
    last: Option<u32>,
}

impl<K> Default for Interner<K> {
    fn default() -> Self {
        Interner {
            ids: FxHashMap::default(),
            slots: Vec::new(),
            free: Vec::new(),
            last: None,
        }
    }
}

impl<K: Hash + Eq + Clone> Interner<K> {
    /// The id of `key` with one more reference.
    fn acquire<Q>(&mut self, key: &Q) -> u32
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        if let Some(last) = self.last {
            if let Some(Some((known, refs))) = self.slots.get_mut(last as usize) {
                if known.borrow() == key {
                    *refs += 1;
                    return last;
                }
            }
        }
        let id = match self.ids.get(key) {
            Some(&id) => {
                if let Some(Some((_, refs))) = self.slots.get_mut(id as usize) {
                    *refs += 1;
                }
                id
            }
            None => {
                let owned = key.to_owned();
                let id = match self.free.pop() {
                    Some(id) => {
                        if let Some(slot) = self.slots.get_mut(id as usize) {
                            *slot = Some((owned.clone(), 1));
                        }
                        id
                    }
                    None => {
                        let id = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
                        self.slots.push(Some((owned.clone(), 1)));
                        id
                    }
                };
                self.ids.insert(owned, id);
                id
            }
        };
        self.last = Some(id);
        id
    }

    /// Drops one reference to `id`, forgetting the key with the last one.
    fn release(&mut self, id: u32) {
        let Some(slot) = self.slots.get_mut(id as usize) else {
            return;
        };
        let forget = match slot {
            Some((_, refs)) => {
                *refs = refs.saturating_sub(1);
                *refs == 0
            }
            None => false,
        };
        if forget {
            if let Some((key, _)) = slot.take() {
                self.ids.remove(&key);
            }
            self.free.push(id);
            if self.last == Some(id) {
                self.last = None;
            }
        }
    }

    /// Keys with at least one reference.
    #[cfg(test)]
    fn live(&self) -> usize {
        self.ids.len()
    }
}

/// What the windows remember of one row.
#[derive(Debug, Clone, Copy)]
struct Row {
    /// The row's time for the windows.
    time: i64,
    flags: u8,
    process: u32,
    /// Its MAC ids: the next `macs` entries of [`TrailingWindows::macs`].
    macs: u32,
}

/// One trailing window: its width and what is in it.
#[derive(Debug)]
struct Window {
    width: i64,
    /// Sequence number of the first row still in the window.
    left: u64,
    /// Sequence number (in [`TrailingWindows::macs`]) of that row's first MAC id.
    left_mac: u64,
    events: EventCounts,
    macs: DistinctCounter,
    processes: DistinctCounter,
}

/// The trailing windows of every configured width, fed one row at a time in timestamp order.
///
/// Memory: the rows inside the longest window (and their MAC and process ids), see the module
/// documentation.
#[derive(Debug)]
pub(crate) struct TrailingWindows {
    windows: Vec<Window>,
    /// The remembered rows: sequence numbers `first..first + rows.len()`.
    rows: VecDeque<Row>,
    /// MAC ids of the remembered rows, row after row.
    macs: VecDeque<u32>,
    /// Sequence number of `rows[0]`.
    first: u64,
    /// Sequence number of `macs[0]`.
    first_mac: u64,
    /// MAC ids given to [`add_mac`](Self::add_mac) for the row being built.
    pending_macs: u32,
    /// Time of the last row (the floor for late rows).
    last_time: Option<i64>,
    mac_ids: Interner<u64>,
    process_ids: Interner<String>,
}

impl TrailingWindows {
    /// Windows of `window_minutes`, in column order.
    pub fn new(window_minutes: &[u32]) -> Self {
        TrailingWindows {
            windows: window_minutes
                .iter()
                .map(|&minutes| Window {
                    width: i64::from(minutes) * MICROS_PER_MINUTE,
                    left: 0,
                    left_mac: 0,
                    events: EventCounts::default(),
                    macs: DistinctCounter::default(),
                    processes: DistinctCounter::default(),
                })
                .collect(),
            rows: VecDeque::new(),
            macs: VecDeque::new(),
            first: 0,
            first_mac: 0,
            pending_macs: 0,
            last_time: None,
            mac_ids: Interner::default(),
            process_ids: Interner::default(),
        }
    }

    /// Notes a MAC address (as a 48-bit number) of the row being built.
    pub fn add_mac(&mut self, mac: u64) {
        let id = self.mac_ids.acquire(&mac);
        self.macs.push_back(id);
        self.pending_macs += 1;
    }

    /// Completes the next row — its time, keyword flags, process and the MACs given to
    /// [`add_mac`](Self::add_mac) since the last row — and writes its window features into
    /// `out`: six per window, in [`super::schema::WINDOW_FEATURES`] order, windows in
    /// configuration order.
    ///
    /// A row older than the one before counts as if it came at that row's time: windows only
    /// move forward.
    pub fn push_row(&mut self, time: i64, flags: u8, process: &str, out: &mut [f64]) {
        let time = self.last_time.map_or(time, |last| time.max(last));
        self.last_time = Some(time);
        let process = self.process_ids.acquire(process);
        let macs = std::mem::take(&mut self.pending_macs);
        self.rows.push_back(Row {
            time,
            flags,
            process,
            macs,
        });
        let seq = self.first + self.rows.len() as u64 - 1;
        let new_macs = self.macs.len() - macs as usize..self.macs.len();
        let mut keep_from = seq + 1;
        // Every window moves, even one `out` has no room for, so that none is left pointing
        // at a forgotten row.
        let mut outs = out.chunks_exact_mut(WINDOW_FEATURES.len());
        for window in &mut self.windows {
            window.events.enter(flags);
            window.processes.add(process);
            for &mac in self.macs.range(new_macs.clone()) {
                window.macs.add(mac);
            }
            let from = time.saturating_sub(window.width);
            // `width >= 0`, so the new row itself never leaves and `left <= seq`.
            while window.left < seq {
                let Some(&old) = self.rows.get((window.left - self.first) as usize) else {
                    break;
                };
                if old.time >= from {
                    break;
                }
                window.events.leave(old.flags);
                window.processes.remove(old.process);
                let at = (window.left_mac - self.first_mac) as usize;
                for &mac in self.macs.range(at..at + old.macs as usize) {
                    window.macs.remove(mac);
                }
                window.left += 1;
                window.left_mac += u64::from(old.macs);
            }
            keep_from = keep_from.min(window.left);
            if let Some(out) = outs.next() {
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
        self.forget_before(keep_from);
    }

    /// How much is remembered: (rows, distinct MACs, distinct processes).
    #[cfg(test)]
    pub fn remembered(&self) -> (usize, usize, usize) {
        (
            self.rows.len(),
            self.mac_ids.live(),
            self.process_ids.live(),
        )
    }

    /// Drops the remembered rows before sequence number `seq`.
    fn forget_before(&mut self, seq: u64) {
        while self.first < seq {
            let Some(row) = self.rows.pop_front() else {
                break;
            };
            self.process_ids.release(row.process);
            for _ in 0..row.macs {
                if let Some(mac) = self.macs.pop_front() {
                    self.mac_ids.release(mac);
                    self.first_mac += 1;
                }
            }
            self.first += 1;
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

    /// An endless stream of ever-new MACs and processes: the windows remember the rows of the
    /// longest window only, and ids are recycled.
    #[test]
    fn memory_is_bounded_by_the_longest_window() {
        let mut windows = super::TrailingWindows::new(&[5, 60]);
        let mut out = [0.0; 12];
        let step = 2_000_000; // a row every 2 s: 1801 rows in [t - 60 min, t]
        let mut process = String::new();
        for i in 0..200_000u64 {
            windows.add_mac(i);
            windows.add_mac(i + 1);
            process.clear();
            process.push_str(&format!("p{}", i / 100));
            windows.push_row(i as i64 * step, 0, &process, &mut out);
            let (rows, macs, processes) = windows.remembered();
            assert!(rows <= 1801, "{rows} rows remembered at {i}");
            assert!(macs <= 1802, "{macs} MACs remembered at {i}");
            assert!(processes <= 20, "{processes} processes remembered at {i}");
        }
        assert_eq!(windows.remembered().0, 1801);
        assert!(windows.mac_ids.slots.len() <= 1802 + 2);
        assert!(windows.process_ids.slots.len() <= 21);
        // unique_macs and process_diversity of the last row, 5 and 60 minutes.
        assert_eq!(out[1], 152.0);
        assert_eq!(out[3], 2.0);
        assert_eq!(out[6 + 1], 1802.0);
        assert_eq!(out[6 + 3], 19.0);
    }

    /// A row older than the previous one counts at the previous row's time.
    #[test]
    fn late_rows_count_at_the_previous_time() {
        let minute = 60_000_000;
        let mut windows = super::TrailingWindows::new(&[1]);
        let mut out = [0.0; 6];
        windows.push_row(0, super::ERROR, "a", &mut out);
        windows.push_row(10 * minute, super::ERROR, "b", &mut out);
        assert_eq!(out[2], 1.0);
        // Late by ten minutes: still in the window of the row before, and it does not bring
        // the first row back.
        windows.push_row(0, super::ERROR, "c", &mut out);
        assert_eq!(out[2], 2.0);
        assert_eq!(out[3], 2.0);
        windows.push_row(10 * minute + 1, 0, "c", &mut out);
        assert_eq!((out[2], out[3]), (2.0, 2.0));
    }
}
