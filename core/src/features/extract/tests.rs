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
        host: None,
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
            host: None,
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

/// The batch extractor computes each record's own columns in parts at the same time and the
/// trailing windows in order; row for row it must give the bits the streaming extractor gives,
/// which does everything record by record — with every group on, and with the windows off.
#[test]
fn parts_in_parallel_give_the_rows_of_the_record_by_record_stream() {
    let messages = [
        "wlan0: STA 02:00:00:00:00:{:02x} IEEE 802.11: authenticated",
        "wlan0: AP-STA-CONNECTED 02:00:00:00:01:{:02x}",
        "wlan0: deauthenticated 02:00:00:00:02:{:02x} reason 3 from 10.0.0.{}",
        "authentication failure for user{}: Permission DENIED",
        "WPA: 4-Way Handshake failed - pre-shared key may be incorrect ({})",
        "plain message number {} with Ünïcode",
    ];
    // Scattered, with counts (so ranks and frequencies) of their own.
    const PROCESSES: [&str; 5] = ["hostapd", "wpa_supplicant", "kernel", "dnsmasq", "hostapd"];
    let base = micros("2024-03-01T08:00:00Z");
    let records: Vec<Record<'static>> = (0..120_000usize)
        .map(|i| {
            let message =
                messages[i % messages.len()].replace("{:02x}", &format!("{:02x}", i % 97));
            let message = message.replace("{}", &(i % 251).to_string());
            // Bursts: now and then several records share a second.
            let timestamp = base + (i as i64 / 3) * 7_000_000;
            let mut r = record(
                i,
                "2024-03-01T08:00:00Z",
                PROCESSES[(i.wrapping_mul(2_654_435_761) >> 9) % PROCESSES.len()],
                &message,
            );
            r.timestamp = timestamp;
            r
        })
        .collect();
    let mut windows_off = FeatureConfig::default();
    windows_off.groups.windows = false;
    for config in [FeatureConfig::default(), windows_off] {
        let matrix = extract(&export(records.clone()), &config, None);
        let mut stream = crate::features::WifiStream::new(&matrix.schema);
        let mut row = vec![0.0; stream.width()];
        assert_eq!(row.len(), matrix.n_cols());
        for (i, record) in records.iter().enumerate() {
            stream.push(record, &mut row);
            let batch = &matrix.data[i * row.len()..(i + 1) * row.len()];
            let same = batch
                .iter()
                .zip(&row)
                .all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "row {i}: batch {batch:?} vs stream {row:?}");
        }
    }
}
