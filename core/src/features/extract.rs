//! From an export to a feature matrix.

use super::config::{FeatureConfig, FeatureGroups};
use super::matrix::FeatureMatrix;
use super::schema::{FeatureSchema, TIME_FEATURES};
use super::text::{
    char_count, event_flags, for_each_mac, ip_count, TextStats, AUTH, AUTH_FAILURE, CONNECTION,
    DEAUTH, ERROR, HANDSHAKE_TIMEOUT,
};
use super::vocabulary::ProcessVocabulary;
use super::windows::TrailingWindows;
use crate::export::{Export, Record};
use crate::time::CivilTime;

/// Rows between two progress reports.
const PROGRESS_EVERY: usize = 1 << 16;
/// Rows below which a part of the extraction is not worth a thread of its own.
const PARALLEL_MIN_ROWS: usize = 1 << 14;

/// Extracts the features `config` selects from every record of `export`, rows sorted by
/// timestamp (stable).
///
/// With `vocabulary: None` the process vocabulary is built from `export` (training); otherwise
/// the given one — the training vocabulary stored in the model — is used (inference). Either way
/// it ends up in the returned schema.
///
/// `config` is trusted: run [`FeatureConfig::check`] first. No configuration or export makes
/// this panic; an empty export gives 0 rows and the full schema.
pub fn extract(
    export: &Export,
    config: &FeatureConfig,
    vocabulary: Option<&ProcessVocabulary>,
) -> FeatureMatrix {
    extract_with_progress(export, config, vocabulary, &mut |_, _| {})
}

/// [`extract`], calling `progress(done_rows, total_rows)` every 65 536 rows while the trailing
/// windows are computed (when they are configured) and once at the end with
/// `done_rows == total_rows` (also for an empty export: `(0, 0)`).
pub fn extract_with_progress(
    export: &Export,
    config: &FeatureConfig,
    vocabulary: Option<&ProcessVocabulary>,
    progress: &mut dyn FnMut(usize, usize),
) -> FeatureMatrix {
    extract_records(&export.records, config, vocabulary, progress)
}

/// [`extract_with_progress`] over records, in any order.
pub fn extract_records(
    records: &[Record],
    config: &FeatureConfig,
    vocabulary: Option<&ProcessVocabulary>,
    progress: &mut dyn FnMut(usize, usize),
) -> FeatureMatrix {
    let n_rows = records.len();
    let order = timestamp_order(records);

    // Process ids in row order; they also give the training vocabulary without a second count.
    let mut process_ids = ProcessIds::default();
    let processes: Vec<u32> = order
        .iter()
        .map(|&r| process_ids.id(&records[r].process_name))
        .collect();
    let vocabulary = match vocabulary {
        Some(given) => given.clone(),
        None => ProcessVocabulary::from_counts(
            process_ids
                .names
                .iter()
                .copied()
                .zip(process_ids.counts.iter().copied()),
        ),
    };
    // Rank and frequency once per distinct process, not once per row.
    let process_values: Vec<[f64; 2]> = process_ids
        .names
        .iter()
        .map(|name| process_values(&vocabulary, name))
        .collect();

    let schema = FeatureSchema::new(config, vocabulary);
    let n_cols = schema.len();
    let mut data = vec![0.0; n_rows.saturating_mul(n_cols)];
    let process_of_row = |row: usize| {
        let process = processes.get(row).copied().unwrap_or(0);
        process_values
            .get(process as usize)
            .copied()
            .unwrap_or([0.0, 0.0])
    };
    RowBuilder::new(config).push_all(records, &order, process_of_row, &mut data, n_cols, progress);

    FeatureMatrix {
        schema,
        data,
        record_index: order.iter().map(|&r| records[r].index).collect(),
        timestamps: order.iter().map(|&r| records[r].timestamp).collect(),
        labels: order.iter().map(|&r| records[r].label).collect(),
    }
}

/// `process_rank` and `process_frequency` of a process.
pub(crate) fn process_values(vocabulary: &ProcessVocabulary, name: &str) -> [f64; 2] {
    [f64::from(vocabulary.rank(name)), vocabulary.frequency(name)]
}

/// Turns records, fed in timestamp order, into rows: the one row code of batch extraction
/// ([`extract`]) and of the streaming extractor ([`super::WifiStream`]), so the two cannot
/// drift apart. It keeps the trailing windows (bounded: see [`TrailingWindows`]).
#[derive(Debug)]
pub(crate) struct RowBuilder {
    groups: FeatureGroups,
    flags_needed: bool,
    windows: Option<TrailingWindows>,
    scratch: Vec<char>,
}

impl RowBuilder {
    /// Rows of the columns `config` selects (trusted: checked first).
    pub(crate) fn new(config: &FeatureConfig) -> RowBuilder {
        let groups = config.groups.clone();
        let windows_on = groups.windows && !config.window_minutes.is_empty();
        RowBuilder {
            flags_needed: groups.wifi_events || groups.security || windows_on,
            groups,
            windows: windows_on.then(|| TrailingWindows::new(&config.window_minutes)),
            scratch: Vec::new(),
        }
    }

    /// Writes the row of `record` into `out` (one value per column of the schema);
    /// `process` is its process's `[process_rank, process_frequency]`.
    pub(crate) fn push(&mut self, record: &Record, process: [f64; 2], out: &mut [f64]) {
        let mut windows = self.windows.take();
        let (flags, at) = self.own_columns(record, process, out, windows.is_some(), |mac| {
            if let Some(windows) = windows.as_mut() {
                windows.add_mac(mac);
            }
        });
        if let Some(windows) = windows.as_mut() {
            // The window columns come last.
            let rest = out.get_mut(at..).unwrap_or_default();
            windows.push_row(record.timestamp, flags, &record.process_name, rest);
        }
        self.windows = windows;
    }

    /// The columns of `record` that depend on it alone (all but the windows', which come
    /// last), written into `out`; `found_mac` gets each MAC address of its message when
    /// `macs_wanted`. Returns the row's keyword flags and where the window columns start.
    fn own_columns(
        &mut self,
        record: &Record,
        process: [f64; 2],
        out: &mut [f64],
        macs_wanted: bool,
        mut found_mac: impl FnMut(u64),
    ) -> (u8, usize) {
        let groups = &self.groups;
        let message: &str = &record.message;
        let mut columns = Columns { out, at: 0 };

        if groups.time {
            columns.put(time_features(record.timestamp));
        }
        let flags = if self.flags_needed {
            event_flags(message)
        } else {
            0
        };
        let stats = groups
            .text
            .then(|| TextStats::of(message, &mut self.scratch));
        if groups.wifi_events {
            let mut macs = 0usize;
            for_each_mac(message, |mac| {
                macs += 1;
                if macs_wanted {
                    found_mac(mac);
                }
            });
            // The text group has counted the characters already when it is on.
            let length = stats.map_or_else(|| char_count(message), |s| s.chars);
            columns.put([
                flag(flags, CONNECTION),
                flag(flags, AUTH),
                flag(flags, ERROR),
                macs as f64,
                ip_count(message) as f64,
                length as f64,
            ]);
        } else if macs_wanted {
            for_each_mac(message, found_mac);
        }
        if groups.security {
            columns.put([
                flag(flags, DEAUTH),
                flag(flags, AUTH_FAILURE),
                flag(flags, HANDSHAKE_TIMEOUT),
            ]);
        }
        if let Some(stats) = stats {
            columns.put([
                stats.words as f64,
                stats.special as f64,
                stats.uppercase_ratio(),
                stats.numbers as f64,
                stats.unique as f64,
            ]);
        }
        if groups.process {
            let [rank, frequency] = process;
            columns.put([rank, frequency, f64::from(record.level.numeric())]);
        }
        (flags, columns.at)
    }

    /// Rows of `records` in `order` into `data` (`n_cols` per row) — what [`push`](Self::push)
    /// row after row gives, with the columns that depend on one record alone computed in parts
    /// at the same time and only the trailing windows, which carry from row to row, in order.
    fn push_all(
        &mut self,
        records: &[Record],
        order: &[usize],
        process_of_row: impl Fn(usize) -> [f64; 2] + Sync,
        data: &mut [f64],
        n_cols: usize,
        progress: &mut dyn FnMut(usize, usize),
    ) {
        let n_rows = order.len();
        let macs_wanted = self.windows.is_some();
        let part_rows = n_rows
            .div_ceil(crate::parallel::threads())
            .max(PARALLEL_MIN_ROWS);
        let parts: Vec<_> = data
            .chunks_mut(part_rows * n_cols.max(1))
            .zip(order.chunks(part_rows))
            .enumerate()
            .map(|(k, (data, order))| (k * part_rows, data, order))
            .collect();
        let (groups, flags_needed) = (&self.groups, self.flags_needed);
        // Per part: each row's flags, its number of MAC addresses, and the addresses.
        let own = crate::parallel::map(parts, |(first, data, order)| {
            let mut rows = RowBuilder {
                groups: groups.clone(),
                flags_needed,
                windows: None,
                scratch: Vec::new(),
            };
            let mut flags = Vec::with_capacity(if macs_wanted { order.len() } else { 0 });
            let mut mac_counts = Vec::with_capacity(flags.capacity());
            let mut macs = Vec::new();
            let mut window_at = 0;
            for (k, (&r, out)) in order
                .iter()
                .zip(data.chunks_exact_mut(n_cols.max(1)))
                .enumerate()
            {
                let before = macs.len();
                let (f, at) = rows.own_columns(
                    &records[r],
                    process_of_row(first + k),
                    out,
                    macs_wanted,
                    |mac| macs.push(mac),
                );
                if macs_wanted {
                    flags.push(f);
                    mac_counts.push(u32::try_from(macs.len() - before).unwrap_or(u32::MAX));
                }
                window_at = at;
            }
            (flags, mac_counts, macs, window_at)
        });
        let Some(windows) = self.windows.as_mut() else {
            progress(n_rows, n_rows);
            return;
        };
        let mut row = 0;
        for (flags, mac_counts, macs, window_at) in own {
            let mut macs = macs.into_iter();
            for (f, count) in flags.into_iter().zip(mac_counts) {
                for mac in macs.by_ref().take(count as usize) {
                    windows.add_mac(mac);
                }
                let record = &records[order[row]];
                let out = &mut data[row * n_cols..(row + 1) * n_cols];
                let rest = out.get_mut(window_at..).unwrap_or_default();
                windows.push_row(record.timestamp, f, &record.process_name, rest);
                row += 1;
                if row % PROGRESS_EVERY == 0 && row < n_rows {
                    progress(row, n_rows);
                }
            }
        }
        progress(n_rows, n_rows);
    }

    /// The windows, for the bounded-memory tests.
    #[cfg(test)]
    pub(crate) fn windows(&self) -> Option<&TrailingWindows> {
        self.windows.as_ref()
    }
}

/// Positions of `records` sorted by timestamp; ties keep input order.
fn timestamp_order(records: &[Record]) -> Vec<usize> {
    if records.is_sorted_by_key(|r| r.timestamp) {
        // Exports are usually in order already.
        return (0..records.len()).collect();
    }
    // (timestamp, position) pairs are distinct, so an unstable sort gives the stable order.
    let mut keyed: Vec<(i64, usize)> = records
        .iter()
        .enumerate()
        .map(|(i, r)| (r.timestamp, i))
        .collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// The time group, from microseconds since the epoch (UTC).
fn time_features(timestamp: i64) -> [f64; TIME_FEATURES.len()] {
    let t = CivilTime::from_micros(timestamp);
    let seconds = f64::from(t.hour * 3600 + t.minute * 60 + t.second);
    [
        f64::from(t.hour),
        f64::from(t.weekday),
        f64::from(t.minute),
        seconds + f64::from(t.micro) / 1e6,
        f64::from(u8::from(t.weekday >= 5)),
        f64::from(u8::from((9..17).contains(&t.hour))),
    ]
}

fn flag(flags: u8, bit: u8) -> f64 {
    if flags & bit != 0 {
        1.0
    } else {
        0.0
    }
}

/// Writes a row's groups left to right.
struct Columns<'a> {
    out: &'a mut [f64],
    at: usize,
}

impl Columns<'_> {
    fn put<const N: usize>(&mut self, values: [f64; N]) {
        if let Some(out) = self.out.get_mut(self.at..self.at + N) {
            out.copy_from_slice(&values);
        }
        self.at += N;
    }
}

/// Dense process ids in order of first appearance, with record counts.
#[derive(Default)]
struct ProcessIds<'a> {
    ids: rustc_hash::FxHashMap<&'a str, u32>,
    names: Vec<&'a str>,
    counts: Vec<u64>,
    last: Option<(&'a str, u32)>,
}

impl<'a> ProcessIds<'a> {
    fn id(&mut self, name: &'a str) -> u32 {
        // Logs come in bursts from one process: skip the hash when the name repeats.
        let id = match self.last {
            Some((last, id)) if last == name => id,
            _ => {
                let next = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
                let id = *self.ids.entry(name).or_insert(next);
                if id == next {
                    self.names.push(name);
                    self.counts.push(0);
                }
                self.last = Some((name, id));
                id
            }
        };
        if let Some(count) = self.counts.get_mut(id as usize) {
            *count += 1;
        }
        id
    }
}

#[cfg(test)]
pub(crate) mod tests;

#[cfg(test)]
mod throughput {
    use std::borrow::Cow;
    use std::time::Instant;

    use super::*;
    use crate::export::{ExportFormat, LogLevel};

    /// Realistic ~100-byte hostapd/wpa_supplicant records, one in eight not ASCII.
    fn synthetic_records(n: usize) -> Vec<Record<'static>> {
        let processes = ["hostapd", "wpa_supplicant", "kernel", "dnsmasq", "dropbear"];
        (0..n)
            .map(|i| {
                // Some 5000 stations, as on a busy site.
                let station = i.wrapping_mul(2_654_435_761) % 5000;
                let mac = format!("{:02x}:1b:63:a0:{:02x}:{:02x}", station % 3, station / 256, station % 256);
                let message = match i % 8 {
                    0 => format!("wlan0: STA {mac} IEEE 802.11: authenticated (open system), status=0 seq={i} rssi=-61"),
                    1 => format!("wlan0: AP-STA-CONNECTED {mac} auth_alg=open keyid=0 vlan_id=1 signal=-58 dBm tx=54"),
                    2 => format!("wlan0: STA {mac} WPA: pairwise key handshake completed (RSN) cipher=CCMP group=CCMP"),
                    3 => format!("DHCPACK(br-lan) 192.168.1.{} {mac} client-{} lease time 86400s renewed by server", i % 250, i % 97),
                    4 => format!("wlan0: STA {mac} IEEE 802.11: deauthenticated due to local deauth request (reason 3)"),
                    5 => format!("wlan0: STA {mac} WPA: EAPOL-Key timeout, 4-Way Handshake failed (PSK-MISMATCH)"),
                    6 => format!("Password auth failed for user root from 10.0.{}.{} port 22 ssh2 - login not allowed", i % 200, i % 100),
                    _ => format!("ath10k_pci 0000:01:00.0: firmware crashed! Gerät überhitzt, retry limit {} reached, reset", i % 9),
                };
                Record {
                    host: None,
                    index: i,
                    // Roughly 20 records a second, a few ties.
                    timestamp: 1_704_067_200_000_000 + (i as i64) * 50_000 / 3 * 3,
                    message: Cow::Owned(message),
                    process_name: Cow::Borrowed(processes[(i * 7 / 3) % processes.len()]),
                    level: LogLevel::ALL[i % 5],
                    label: None,
                }
            })
            .collect()
    }

    /// `cargo test --release -p mcp-train-core --lib features::extract::throughput -- --ignored --nocapture`
    /// Prints records per second for the default configuration; asserts nothing about time.
    #[test]
    #[ignore = "throughput measurement; run in release by hand"]
    fn default_config_throughput() {
        let records = synthetic_records(1_000_000);
        let bytes: usize = records.iter().map(|r| r.message.len()).sum();
        let export = Export {
            format: ExportFormat::Array,
            metadata: None,
            records,
        };
        let config = FeatureConfig::default();
        for _ in 0..3 {
            let start = Instant::now();
            let matrix = extract(&export, &config, None);
            let seconds = start.elapsed().as_secs_f64();
            assert_eq!(matrix.n_rows(), export.records.len());
            println!(
                "{} records ({:.0} bytes/message) in {:.3} s: {:.0} records/s",
                matrix.n_rows(),
                bytes as f64 / matrix.n_rows() as f64,
                seconds,
                matrix.n_rows() as f64 / seconds
            );
        }
    }
}
