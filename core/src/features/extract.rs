//! From an export to a feature matrix.

use super::config::FeatureConfig;
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

/// [`extract`], calling `progress(done_rows, total_rows)` every 65 536 rows and once at the end
/// with `done_rows == total_rows` (also for an empty export: `(0, 0)`).
pub fn extract_with_progress(
    export: &Export,
    config: &FeatureConfig,
    vocabulary: Option<&ProcessVocabulary>,
    progress: &mut dyn FnMut(usize, usize),
) -> FeatureMatrix {
    let records = &export.records;
    let n_rows = records.len();
    let order = timestamp_order(records);
    let groups = &config.groups;
    let windows_on = groups.windows && !config.window_minutes.is_empty();
    let flags_needed = groups.wifi_events || groups.security || windows_on;

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
        .map(|name| [f64::from(vocabulary.rank(name)), vocabulary.frequency(name)])
        .collect();

    let schema = FeatureSchema::new(config, vocabulary);
    let n_cols = schema.len();
    let mut data = vec![0.0; n_rows.saturating_mul(n_cols)];
    let timestamps: Vec<i64> = order.iter().map(|&r| records[r].timestamp).collect();
    let mut windows = windows_on.then(|| TrailingWindows::new(&config.window_minutes, &timestamps));
    let mut scratch = Vec::new();

    // One pass, row by row in timestamp order, each row's values written once, left to right.
    for (row, (&r, out)) in order
        .iter()
        .zip(data.chunks_exact_mut(n_cols.max(1)))
        .enumerate()
    {
        let record = &records[r];
        let message: &str = &record.message;
        let mut columns = Columns { out, at: 0 };
        let process = processes.get(row).copied().unwrap_or(0);

        if groups.time {
            columns.put(time_features(record.timestamp));
        }
        let flags = if flags_needed {
            event_flags(message)
        } else {
            0
        };
        let stats = groups.text.then(|| TextStats::of(message, &mut scratch));
        if groups.wifi_events {
            let mut macs = 0usize;
            for_each_mac(message, |mac| {
                macs += 1;
                if let Some(windows) = windows.as_mut() {
                    windows.add_mac(mac);
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
        } else if let Some(windows) = windows.as_mut() {
            for_each_mac(message, |mac| windows.add_mac(mac));
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
            let [rank, frequency] = process_values
                .get(process as usize)
                .copied()
                .unwrap_or([0.0, 0.0]);
            columns.put([rank, frequency, f64::from(record.level.numeric())]);
        }
        if let Some(windows) = windows.as_mut() {
            // The window columns come last.
            windows.push_row(flags, process, columns.rest());
        }
        if (row + 1) % PROGRESS_EVERY == 0 && row + 1 < n_rows {
            progress(row + 1, n_rows);
        }
    }
    drop(windows);
    progress(n_rows, n_rows);

    FeatureMatrix {
        schema,
        data,
        record_index: order.iter().map(|&r| records[r].index).collect(),
        timestamps,
        labels: order.iter().map(|&r| records[r].label).collect(),
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
    /// The columns not written yet.
    fn rest(&mut self) -> &mut [f64] {
        self.out.get_mut(self.at..).unwrap_or_default()
    }

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
pub(crate) mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::export::{ExportFormat, LogLevel};
    use crate::features::config::FeatureGroups;
    use crate::features::schema::feature_names;
    use crate::time::parse_iso8601;

    pub(crate) fn micros(text: &str) -> i64 {
        parse_iso8601(text).map_or(i64::MIN, |p| p.micros)
    }

    pub(crate) fn record(
        index: usize,
        timestamp: &str,
        process: &str,
        message: &str,
    ) -> Record<'static> {
        Record {
            index,
            timestamp: micros(timestamp),
            message: Cow::Owned(message.to_owned()),
            process_name: Cow::Owned(process.to_owned()),
            level: LogLevel::Info,
            label: None,
        }
    }

    pub(crate) fn export(records: Vec<Record<'static>>) -> Export<'static> {
        Export {
            format: ExportFormat::Array,
            metadata: None,
            records,
        }
    }

    /// Value of a named feature in row `row`.
    pub(crate) fn value(matrix: &FeatureMatrix, row: usize, feature: &str) -> f64 {
        let col = matrix.schema.index_of(feature);
        assert!(col.is_some(), "no feature {feature}");
        matrix.row(row)[col.unwrap_or(0)]
    }

    #[test]
    fn time_features_from_the_utc_timestamp() {
        let matrix = extract(
            &export(vec![
                // A Saturday.
                record(0, "2024-01-06T17:30:15.25Z", "hostapd", ""),
                // Mondays.
                record(1, "2024-01-08T09:00:00Z", "hostapd", ""),
                record(2, "2024-01-08T16:59:59.999999Z", "hostapd", ""),
                record(3, "2024-01-08T17:00:00Z", "hostapd", ""),
                // A Sunday, the zone already applied by the parser.
                record(4, "2024-01-14T23:59:00+00:00", "hostapd", ""),
            ]),
            &FeatureConfig::default(),
            None,
        );
        let row = |r: usize| {
            [
                "hour_of_day",
                "day_of_week",
                "minute_of_hour",
                "time_since_midnight",
                "is_weekend",
                "is_business_hours",
            ]
            .map(|f| value(&matrix, r, f))
        };
        assert_eq!(row(0), [17.0, 5.0, 30.0, 63_015.25, 1.0, 0.0]);
        assert_eq!(row(1), [9.0, 0.0, 0.0, 32_400.0, 0.0, 1.0]);
        assert_eq!(row(2), [16.0, 0.0, 59.0, 61_199.999_999, 0.0, 1.0]);
        assert_eq!(row(3), [17.0, 0.0, 0.0, 61_200.0, 0.0, 0.0]);
        assert_eq!(row(4), [23.0, 6.0, 59.0, 86_340.0, 1.0, 0.0]);
    }

    #[test]
    fn one_record_through_every_group() {
        let mut r = record(
            7,
            "2024-01-01T12:00:00Z",
            "hostapd",
            "wlan0: AP-STA-CONNECTED 00:11:22:33:44:55 auth from 192.168.1.10 failed",
        );
        r.level = LogLevel::Warning;
        r.label = Some(true);
        let matrix = extract(&export(vec![r]), &FeatureConfig::default(), None);
        assert_eq!(matrix.n_rows(), 1);
        assert_eq!(matrix.n_cols(), 41);
        assert_eq!(matrix.record_index, [7]);
        assert_eq!(matrix.labels, [Some(true)]);
        for (feature, expected) in [
            ("is_connection_event", 1.0),
            ("is_auth_event", 1.0),
            ("is_error_event", 1.0),
            ("mac_count", 1.0),
            ("ip_count", 1.0),
            ("message_length", 71.0),
            ("is_deauth_event", 0.0),
            ("is_auth_failure", 0.0),
            ("is_handshake_timeout", 0.0),
            ("word_count", 7.0),
            ("special_char_count", 11.0),
            ("uppercase_ratio", 14.0 / 71.0),
            ("number_count", 11.0),
            ("process_rank", 1.0),
            ("process_frequency", 1.0),
            ("log_level_numeric", 2.0),
            ("connection_count_5m", 1.0),
            ("unique_macs_5m", 1.0),
            ("error_count_15m", 1.0),
            ("process_diversity_60m", 1.0),
            ("deauth_count_60m", 0.0),
            ("auth_failure_count_60m", 0.0),
        ] {
            assert_eq!(value(&matrix, 0, feature), expected, "{feature}");
        }
        let distinct: std::collections::BTreeSet<char> =
            "wlan0: AP-STA-CONNECTED 00:11:22:33:44:55 auth from 192.168.1.10 failed"
                .chars()
                .collect();
        assert_eq!(value(&matrix, 0, "unique_chars"), distinct.len() as f64);
    }

    #[test]
    fn security_events_and_log_levels() {
        let mut records = vec![
            record(
                0,
                "2024-01-01T12:00:00Z",
                "hostapd",
                "STA aa:bb:cc:dd:ee:ff deauthenticated",
            ),
            record(1, "2024-01-01T12:00:01Z", "hostapd", "WPA: PSK-MISMATCH"),
            record(
                2,
                "2024-01-01T12:00:02Z",
                "hostapd",
                "EAPOL-Key retry limit reached",
            ),
        ];
        records[1].level = LogLevel::Critical;
        records[2].level = LogLevel::Debug;
        let matrix = extract(&export(records), &FeatureConfig::default(), None);
        let security = |r| {
            [
                "is_deauth_event",
                "is_auth_failure",
                "is_handshake_timeout",
                "log_level_numeric",
            ]
            .map(|f| value(&matrix, r, f))
        };
        assert_eq!(security(0), [1.0, 0.0, 0.0, 1.0]);
        assert_eq!(security(1), [0.0, 1.0, 0.0, 4.0]);
        assert_eq!(security(2), [0.0, 0.0, 1.0, 0.0]);
        assert_eq!(value(&matrix, 2, "deauth_count_5m"), 1.0);
        assert_eq!(value(&matrix, 2, "auth_failure_count_5m"), 1.0);
    }

    #[test]
    fn empty_and_non_ascii_messages() {
        let message = "Gerät ÄÖÜ verbunden: 東京 aa:bb:cc:dd:ee:ff";
        let matrix = extract(
            &export(vec![
                record(0, "2024-01-01T12:00:00Z", "hostapd", ""),
                record(1, "2024-01-01T12:00:01Z", "hostapd", message),
            ]),
            &FeatureConfig::default(),
            None,
        );
        for feature in [
            "mac_count",
            "ip_count",
            "message_length",
            "word_count",
            "special_char_count",
            "uppercase_ratio",
            "number_count",
            "unique_chars",
            "unique_macs_5m",
        ] {
            assert_eq!(value(&matrix, 0, feature), 0.0, "{feature}");
        }
        assert_eq!(value(&matrix, 1, "message_length"), 41.0);
        assert_eq!(value(&matrix, 1, "word_count"), 5.0);
        assert_eq!(value(&matrix, 1, "uppercase_ratio"), 4.0 / 41.0);
        assert_eq!(value(&matrix, 1, "mac_count"), 1.0);
        assert_eq!(value(&matrix, 1, "unique_macs_5m"), 1.0);

        // message_length does not depend on whether the text group is on.
        let no_text = FeatureConfig {
            groups: FeatureGroups {
                text: false,
                ..FeatureGroups::default()
            },
            ..FeatureConfig::default()
        };
        let matrix = extract(
            &export(vec![record(0, "2024-01-01T12:00:00Z", "x", message)]),
            &no_text,
            None,
        );
        assert_eq!(value(&matrix, 0, "message_length"), 41.0);
    }

    #[test]
    fn rows_come_out_in_stable_timestamp_order() {
        let mut records = vec![
            record(10, "2024-01-01T12:00:05Z", "c", "third"),
            record(11, "2024-01-01T12:00:00Z", "a", "first"),
            record(
                12,
                "2024-01-01T12:00:05Z",
                "d",
                "fourth: tie keeps input order",
            ),
            record(13, "2024-01-01T12:00:01Z", "b", "second"),
            record(
                14,
                "2023-12-31T23:59:59Z",
                "z",
                "zeroth: time went backwards",
            ),
        ];
        records[1].label = Some(false);
        records[4].label = Some(true);
        let matrix = extract(&export(records), &FeatureConfig::default(), None);
        assert_eq!(matrix.record_index, [14, 11, 13, 10, 12]);
        assert_eq!(matrix.labels, [Some(true), Some(false), None, None, None]);
        assert!(matrix.timestamps.windows(2).all(|t| t[0] <= t[1]));
        assert_eq!(matrix.timestamps[0], micros("2023-12-31T23:59:59Z"));
        // The features travel with their record.
        assert_eq!(value(&matrix, 4, "message_length"), 29.0);
        assert_eq!(value(&matrix, 0, "day_of_week"), 6.0);
    }

    #[test]
    fn empty_export_gives_no_rows_and_the_full_schema() {
        let config = FeatureConfig::default();
        let mut calls = Vec::new();
        let matrix = extract_with_progress(&export(vec![]), &config, None, &mut |done, total| {
            calls.push((done, total))
        });
        assert_eq!(matrix.n_rows(), 0);
        assert_eq!(matrix.n_cols(), 41);
        assert_eq!(matrix.schema.features, feature_names(&config));
        assert_eq!(matrix.schema.name, "wifi-v1");
        assert_eq!(matrix.schema.extractor_version, EXTRACTOR_VERSION);
        assert!(matrix.schema.vocabulary.is_empty());
        assert!(matrix.data.is_empty() && matrix.timestamps.is_empty());
        assert_eq!(calls, [(0, 0)]);
    }

    use crate::features::schema::EXTRACTOR_VERSION;

    #[test]
    fn progress_reports_every_64k_rows_and_at_the_end() {
        let records: Vec<Record<'static>> = (0..150_000)
            .map(|i| Record {
                index: i,
                timestamp: i as i64,
                message: Cow::Borrowed("x"),
                process_name: Cow::Borrowed("p"),
                level: LogLevel::Info,
                label: None,
            })
            .collect();
        let mut calls = Vec::new();
        let matrix = extract_with_progress(
            &export(records),
            &FeatureConfig::default(),
            None,
            &mut |done, total| calls.push((done, total)),
        );
        assert_eq!(matrix.n_rows(), 150_000);
        assert_eq!(
            calls,
            [(65_536, 150_000), (131_072, 150_000), (150_000, 150_000)]
        );
    }

    #[test]
    fn training_builds_the_vocabulary_inference_reuses_it() {
        let training = export(vec![
            record(0, "2024-01-01T12:00:00Z", "hostapd", ""),
            record(1, "2024-01-01T12:00:01Z", "wpa_supplicant", ""),
            record(2, "2024-01-01T12:00:02Z", "hostapd", ""),
            record(3, "2024-01-01T12:00:03Z", "hostapd", ""),
        ]);
        let config = FeatureConfig::default();
        let trained = extract(&training, &config, None);
        let vocabulary = &trained.schema.vocabulary;
        assert_eq!(vocabulary.rank("hostapd"), 1);
        assert_eq!(vocabulary.rank("wpa_supplicant"), 2);
        assert_eq!(value(&trained, 1, "process_rank"), 2.0);
        assert_eq!(value(&trained, 1, "process_frequency"), 0.25);
        assert_eq!(value(&trained, 0, "process_frequency"), 0.75);

        // At inference, a batch where wpa_supplicant dominates keeps the training ranks, and a
        // process training never saw gets 0.
        let batch = export(vec![
            record(0, "2024-02-01T12:00:00Z", "wpa_supplicant", ""),
            record(1, "2024-02-01T12:00:01Z", "wpa_supplicant", ""),
            record(2, "2024-02-01T12:00:02Z", "dnsmasq", ""),
            record(3, "2024-02-01T12:00:03Z", "hostapd", ""),
        ]);
        let inferred = extract(&batch, &config, Some(vocabulary));
        assert_eq!(&inferred.schema.vocabulary, vocabulary);
        let rank_freq = |r| {
            [
                value(&inferred, r, "process_rank"),
                value(&inferred, r, "process_frequency"),
            ]
        };
        assert_eq!(rank_freq(0), [2.0, 0.25]);
        assert_eq!(rank_freq(2), [0.0, 0.0]);
        assert_eq!(rank_freq(3), [1.0, 0.75]);
        // Without the stored vocabulary the batch would have ranked differently.
        let rebuilt = extract(&batch, &config, None);
        assert_eq!(value(&rebuilt, 0, "process_rank"), 1.0);
    }

    fn varied_export() -> Export<'static> {
        let mut records = vec![
            record(
                0,
                "2024-01-06T08:00:00Z",
                "hostapd",
                "wlan0: AP-STA-CONNECTED 00:11:22:33:44:55",
            ),
            record(
                1,
                "2024-01-06T08:01:00Z",
                "wpa_supplicant",
                "WPA: 4-Way Handshake failed - PSK-MISMATCH",
            ),
            record(
                2,
                "2024-01-06T08:01:00Z",
                "hostapd",
                "STA AA-BB-CC-DD-EE-FF deauthenticated from 10.0.0.1",
            ),
            record(
                3,
                "2024-01-06T09:30:00Z",
                "kernel",
                "Gerät überhitzt: ERROR 42",
            ),
            record(4, "2024-01-06T07:59:00Z", "hostapd", ""),
        ];
        records[3].level = LogLevel::Error;
        export(records)
    }

    #[test]
    fn group_toggles_drop_exactly_their_columns() {
        let data = varied_export();
        let full = extract(&data, &FeatureConfig::default(), None);
        let toggles: [fn(&mut FeatureGroups); 6] = [
            |g| g.time = false,
            |g| g.wifi_events = false,
            |g| g.security = false,
            |g| g.text = false,
            |g| g.process = false,
            |g| g.windows = false,
        ];
        for (i, toggle) in toggles.iter().enumerate() {
            let mut config = FeatureConfig::default();
            toggle(&mut config.groups);
            let part = extract(&data, &config, None);
            assert_eq!(part.schema.features, feature_names(&config), "toggle {i}");
            assert!(part.n_cols() < full.n_cols(), "toggle {i}");
            assert_eq!(part.data.len(), part.n_rows() * part.n_cols());
            // Every remaining column holds the same values as in the full matrix.
            for (j, name) in part.schema.features.iter().enumerate() {
                let k = full.schema.index_of(name);
                assert_eq!(
                    Some(part.column(j)),
                    k.map(|k| full.column(k)),
                    "toggle {i}: {name}"
                );
            }
        }
        // Only windows on: window counts still see the event flags of the groups that are off.
        let only_windows = FeatureConfig {
            groups: FeatureGroups {
                windows: true,
                ..FeatureGroups::none()
            },
            window_minutes: vec![60],
        };
        let part = extract(&data, &only_windows, None);
        assert_eq!(part.n_cols(), 6);
        for (j, name) in part.schema.features.iter().enumerate() {
            let k = full.schema.index_of(name).unwrap_or(usize::MAX);
            assert_eq!(part.column(j), full.column(k), "{name}");
        }
    }

    #[test]
    fn window_features_by_hand() {
        // Rows in time order:
        // 0 07:59 hostapd  ""
        // 1 08:00 hostapd  connected 00:11:..
        // 2 08:01 wpa      failed, PSK-MISMATCH
        // 3 08:01 hostapd  deauth AA-BB-..  (tie with row 2, after it in input order)
        // 4 09:30 kernel   ERROR
        let matrix = extract(&varied_export(), &FeatureConfig::default(), None);
        assert_eq!(matrix.record_index, [4, 0, 1, 2, 3]);
        let window = |r, w: u32| {
            [
                "connection_count",
                "unique_macs",
                "error_count",
                "process_diversity",
                "deauth_count",
                "auth_failure_count",
            ]
            .map(|f| value(&matrix, r, &format!("{f}_{w}m")))
        };
        assert_eq!(window(0, 5), [0.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
        assert_eq!(window(1, 5), [1.0, 1.0, 0.0, 1.0, 0.0, 0.0]);
        // Row 2 does not see row 3, its tie that comes later.
        assert_eq!(window(2, 5), [1.0, 1.0, 1.0, 2.0, 0.0, 1.0]);
        assert_eq!(window(3, 5), [1.0, 2.0, 1.0, 2.0, 1.0, 1.0]);
        // The window is inclusive: 08:01 - 1 min = 08:00 keeps row 1 in a 1-minute window.
        // 09:30 - 60 min = 08:30: only row 4 itself is left.
        assert_eq!(window(4, 60), [0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
        assert_eq!(window(4, 15), window(4, 60));
        let one_minute = FeatureConfig {
            window_minutes: vec![1],
            ..FeatureConfig::default()
        };
        let matrix = extract(&varied_export(), &one_minute, None);
        assert_eq!(value(&matrix, 3, "connection_count_1m"), 1.0);
        assert_eq!(value(&matrix, 3, "unique_macs_1m"), 2.0);
        assert_eq!(value(&matrix, 1, "process_diversity_1m"), 1.0);
    }

    #[test]
    fn same_mac_in_either_spelling_counts_once() {
        let matrix = extract(
            &export(vec![
                record(0, "2024-01-01T12:00:00Z", "hostapd", "aa:bb:cc:dd:ee:ff"),
                record(
                    1,
                    "2024-01-01T12:00:01Z",
                    "hostapd",
                    "AA-BB-CC-DD-EE-FF aa:bb:cc:dd:ee:ff",
                ),
            ]),
            &FeatureConfig::default(),
            None,
        );
        assert_eq!(value(&matrix, 1, "mac_count"), 2.0);
        assert_eq!(value(&matrix, 1, "unique_macs_5m"), 1.0);
    }

    #[test]
    fn odd_configs_do_not_panic() {
        let data = varied_export();
        for config in [
            FeatureConfig {
                groups: FeatureGroups::none(),
                window_minutes: vec![],
            },
            FeatureConfig {
                window_minutes: vec![0, 0, u32::MAX],
                ..FeatureConfig::default()
            },
            FeatureConfig {
                window_minutes: (1..=20).collect(),
                ..FeatureConfig::default()
            },
        ] {
            let matrix = extract(&data, &config, None);
            assert_eq!(matrix.n_rows(), 5);
            assert_eq!(matrix.data.len(), 5 * feature_names(&config).len());
        }
        let zero = FeatureConfig {
            window_minutes: vec![0],
            ..FeatureConfig::default()
        };
        // A zero-width window holds the row and its earlier ties.
        let matrix = extract(&data, &zero, None);
        assert_eq!(value(&matrix, 3, "process_diversity_0m"), 2.0);
        assert_eq!(value(&matrix, 4, "process_diversity_0m"), 1.0);
    }
}

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
