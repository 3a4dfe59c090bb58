use std::borrow::Cow;

use super::*;
use crate::agent::{stream_rows, Agent, FeatureStream, ParseContext};
use crate::config::Config;
use crate::export::{parse_export, LogLevel, Record, ValidateOptions};
use crate::synth::SynthConfig;
use crate::time::format_iso8601;

const CTX: ParseContext = ParseContext { default_year: 2026 };

fn col(name: &str) -> usize {
    FEATURES
        .iter()
        .position(|f| *f == name)
        .unwrap_or_else(|| panic!("no feature {name}"))
}

fn record(index: usize, secs: i64, process: &'static str, message: String) -> Record<'static> {
    Record {
        index,
        timestamp: 1_764_000_000_000_000 + secs * 1_000_000,
        message: Cow::Owned(message),
        process_name: Cow::Borrowed(process),
        host: None,
        level: LogLevel::Info,
        label: None,
    }
}

fn state_for(records: &[Record<'_>]) -> FeatureState {
    DnsAgent
        .fit(records, &Config::defaults())
        .unwrap_or_else(|e| panic!("fit: {e}"))
}

fn rows(records: &[Record<'_>]) -> FeatureRows {
    let state = state_for(records);
    DnsAgent
        .extract(records, &state)
        .unwrap_or_else(|e| panic!("extract: {e}"))
}

use crate::agent::{FeatureRows, FeatureState};

// ---------------------------------------------------------------------------------------------
// Parsing

#[test]
fn every_message_form_is_read() {
    let cases: &[(&str, DnsEvent, Option<&str>, &str, AnswerClass)] = &[
        (
            "query[A] example.com from 192.168.1.20",
            DnsEvent::Query,
            Some("192.168.1.20"),
            "example.com",
            AnswerClass::None,
        ),
        (
            "forwarded example.com to 8.8.8.8",
            DnsEvent::Forwarded,
            None,
            "example.com",
            AnswerClass::None,
        ),
        (
            "reply example.com is 93.184.216.34",
            DnsEvent::Reply,
            None,
            "example.com",
            AnswerClass::Data,
        ),
        (
            "reply x.test is NXDOMAIN",
            DnsEvent::Reply,
            None,
            "x.test",
            AnswerClass::NxDomain,
        ),
        (
            "reply x.test is NODATA-IPv6",
            DnsEvent::Reply,
            None,
            "x.test",
            AnswerClass::NoData,
        ),
        (
            "reply x.test is <CNAME>",
            DnsEvent::Reply,
            None,
            "x.test",
            AnswerClass::Data,
        ),
        (
            "reply t.up.test is hello world",
            DnsEvent::Reply,
            None,
            "t.up.test",
            AnswerClass::Data,
        ),
        (
            "reply error is REFUSED",
            DnsEvent::Reply,
            None,
            "error",
            AnswerClass::Refused,
        ),
        (
            "reply error is SERVFAIL",
            DnsEvent::Reply,
            None,
            "error",
            AnswerClass::ServFail,
        ),
        (
            "cached example.com is 93.184.216.34",
            DnsEvent::Cached,
            None,
            "example.com",
            AnswerClass::Data,
        ),
        (
            "cached x.test is NXDOMAIN",
            DnsEvent::Cached,
            None,
            "x.test",
            AnswerClass::NxDomain,
        ),
        (
            "config lab.test is 10.9.8.7",
            DnsEvent::Local,
            None,
            "lab.test",
            AnswerClass::Data,
        ),
        (
            "config x.lan is NXDOMAIN",
            DnsEvent::Local,
            None,
            "x.lan",
            AnswerClass::NxDomain,
        ),
        (
            "config error is REFUSED",
            DnsEvent::Local,
            None,
            "error",
            AnswerClass::Refused,
        ),
        (
            "config error is REFUSED (EDE: not ready)",
            DnsEvent::Local,
            None,
            "error",
            AnswerClass::Refused,
        ),
        (
            "/etc/hosts x.test is 1.2.3.4",
            DnsEvent::Local,
            None,
            "x.test",
            AnswerClass::Data,
        ),
        (
            "query[PTR] 4.3.2.1.in-addr.arpa from 10.0.0.2",
            DnsEvent::Query,
            Some("10.0.0.2"),
            "4.3.2.1.in-addr.arpa",
            AnswerClass::None,
        ),
        (
            "query[type=65] a.test from 10.0.0.2",
            DnsEvent::Query,
            Some("10.0.0.2"),
            "a.test",
            AnswerClass::None,
        ),
        (
            "query[ANY] a.test from 10.0.0.2",
            DnsEvent::Query,
            Some("10.0.0.2"),
            "a.test",
            AnswerClass::None,
        ),
        (
            "query[TXT] a.test from fe80::1",
            DnsEvent::Query,
            Some("fe80::1"),
            "a.test",
            AnswerClass::None,
        ),
        (
            "12 127.0.0.1/40000 query[A] name.test from 127.0.0.1",
            DnsEvent::Query,
            Some("127.0.0.1"),
            "name.test",
            AnswerClass::None,
        ),
        (
            "12 127.0.0.1/40000 reply name.test is 1.2.3.4",
            DnsEvent::Reply,
            Some("127.0.0.1"),
            "name.test",
            AnswerClass::Data,
        ),
        (
            "12 ::1/40000 config error is REFUSED (EDE: not ready)",
            DnsEvent::Local,
            Some("::1"),
            "error",
            AnswerClass::Refused,
        ),
        (
            "12 dnssec-query[DS] test to 8.8.8.8",
            DnsEvent::Forwarded,
            None,
            "test",
            AnswerClass::None,
        ),
        (
            "started, version 2.90 cachesize 150",
            DnsEvent::Other,
            None,
            "",
            AnswerClass::None,
        ),
        (
            "using nameserver 127.0.0.1#5354 for domain up.test ",
            DnsEvent::Other,
            None,
            "",
            AnswerClass::None,
        ),
        (
            "read /etc/hosts - 7 names",
            DnsEvent::Other,
            None,
            "",
            AnswerClass::None,
        ),
        (
            "validation x.test is BOGUS",
            DnsEvent::Other,
            None,
            "",
            AnswerClass::None,
        ),
        ("query[A", DnsEvent::Other, None, "", AnswerClass::None),
        ("", DnsEvent::Other, None, "", AnswerClass::None),
    ];
    for (message, event, client, name, answer) in cases {
        let line = parse_message("dnsmasq", message);
        assert_eq!(
            (line.event, line.client, line.name, line.answer),
            (*event, *client, *name, *answer),
            "{message:?}"
        );
    }
    let extra = parse_message(
        "dnsmasq",
        "12 127.0.0.1/40000 query[A] name.test from 127.0.0.1",
    );
    assert_eq!(
        (extra.serial, extra.client_port, extra.query_type),
        (Some(12), Some(40000), Some("A"))
    );
    assert_eq!(
        parse_message("dnsmasq-dhcp", "DHCPACK(br-lan) 1.2.3.4 aa:bb").event,
        DnsEvent::Dhcp
    );
    assert_eq!(
        parse_message("sshd", "query[A] a from b").event,
        DnsEvent::Other
    );
}

#[test]
fn raw_lines_read_with_their_framing_and_fields() {
    for line in DnsAgent.sample_lines() {
        let record = DnsAgent
            .parse_line(line, 0, &CTX)
            .unwrap_or_else(|e| panic!("{line:?}: {e}"));
        assert!(record.process_name.starts_with("dnsmasq"), "{line:?}");
    }
    let r = DnsAgent
        .parse_line("Dec  3 17:50:14 dnsmasq[812]: 7 10.0.0.5/5353 query[TXT] Foo.Example.com from 10.0.0.5", 3, &CTX)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(format_iso8601(r.timestamp), "2026-12-03T17:50:14Z");
    let fields = DnsAgent.fields(&r);
    let want: Vec<(String, String)> = [
        ("event", "query"),
        ("serial", "7"),
        ("client", "10.0.0.5"),
        ("client_port", "5353"),
        ("query_type", "TXT"),
        ("name", "Foo.Example.com"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    assert_eq!(fields, want);
    let reply = record(
        0,
        0,
        "dnsmasq",
        "config error is REFUSED (EDE: not ready)".into(),
    );
    let fields = DnsAgent.fields(&reply);
    assert!(
        fields.contains(&("rcode".into(), "REFUSED".into())),
        "{fields:?}"
    );
    assert!(
        fields.contains(&("answer".into(), "REFUSED (EDE: not ready)".into())),
        "{fields:?}"
    );
    assert!(
        !fields.iter().any(|(k, _)| k == "name"),
        "error is no name: {fields:?}"
    );
    // Unknown dnsmasq messages and other programs are records, not errors.
    for line in [
        "Dec  3 17:50:14 gw dnsmasq[812]: something new in 2.91",
        "Dec  3 17:50:14 gw sshd[1]: Accepted publickey for root",
        "<30>1 2026-12-03T17:50:14Z gw dnsmasq 812 - - query[A] a.test from 10.0.0.1",
    ] {
        assert!(DnsAgent.parse_line(line, 0, &CTX).is_ok(), "{line}");
    }
}

#[test]
fn unreadable_frames_are_errors_with_a_column() {
    for (line, column) in [
        ("", 1),
        ("garbage here", 1),
        ("Dec 32 17:50:14 dnsmasq[1]: query[A] a from b", 5),
        ("Dec  3 25:50:14 dnsmasq[1]: query[A] a from b", 8),
    ] {
        let err = match DnsAgent.parse_line(line, 0, &CTX) {
            Err(e) => e,
            Ok(r) => panic!("{line:?} read as {r:?}"),
        };
        assert_eq!(err.column, column, "{line:?}: {err}");
    }
}

#[test]
fn name_statistics() {
    let s = features::NameStats::of("www.example.com.");
    assert_eq!((s.length, s.labels, s.max_label), (15, 3, 7));
    // "wwwexample": w×3 e×2 x a m p l → entropy of those 10 characters.
    let counts = [3.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0];
    let want: f64 = counts
        .iter()
        .map(|c: &f64| -(c / 10.0) * (c / 10.0).log2())
        .sum();
    assert!((s.entropy - want).abs() < 1e-12, "{} vs {want}", s.entropy);
    assert_eq!(&"www.example.com"[s.base_start..], "example.com");
    let s = features::NameStats::of("news.bbc.co.uk");
    assert_eq!(&"news.bbc.co.uk"[s.base_start..], "bbc.co.uk");
    let s = features::NameStats::of("4.3.2.1.in-addr.arpa");
    assert_eq!(&"4.3.2.1.in-addr.arpa"[s.base_start..], "in-addr.arpa");
    assert_eq!(s.digit_share, 4.0 / 11.0);
    let s = features::NameStats::of("wpad");
    assert_eq!((s.labels, s.base_start, s.max_label), (1, 0, 4));
    assert_eq!(features::NameStats::of(""), features::NameStats::default());
}

// ---------------------------------------------------------------------------------------------
// Features

#[test]
fn replies_are_attributed_to_their_client() {
    let recs = vec![
        record(0, 0, "dnsmasq", "query[A] bad.test from 10.0.0.7".into()),
        record(1, 0, "dnsmasq", "query[A] good.test from 10.0.0.8".into()),
        record(2, 1, "dnsmasq", "forwarded bad.test to 9.9.9.9".into()),
        record(3, 1, "dnsmasq", "reply bad.test is NXDOMAIN".into()),
        record(4, 2, "dnsmasq", "reply good.test is 1.2.3.4".into()),
        record(5, 3, "dnsmasq", "query[TXT] x.test from 10.0.0.9".into()),
        record(6, 3, "dnsmasq", "config error is REFUSED".into()),
        // Extra mode: by the address, and by the serial when there is none.
        record(
            7,
            4,
            "dnsmasq",
            "5 10.0.0.10/4000 query[A] a.test from 10.0.0.10".into(),
        ),
        record(
            8,
            4,
            "dnsmasq",
            "5 10.0.0.10/4000 reply a.test is NXDOMAIN".into(),
        ),
        record(
            9,
            5,
            "dnsmasq",
            "6 10.0.0.11/4000 query[A] b.test from 10.0.0.11".into(),
        ),
        record(10, 5, "dnsmasq", "6 reply b.test is NXDOMAIN".into()),
        // Too late to attribute: more than a minute after the query.
        record(11, 100, "dnsmasq", "reply good.test is NXDOMAIN".into()),
        record(
            12,
            100,
            "dnsmasq-dhcp",
            "DHCPACK(br-lan) 10.0.0.8 aa:bb:cc:dd:ee:ff laptop".into(),
        ),
    ];
    let rows = rows(&recs);
    let nx = col("client_nxdomain_share_5m");
    let refused = col("client_refused_share_5m");
    let q1 = col("client_queries_1m");
    assert_eq!(
        rows.row(3)[nx],
        1.0,
        "bad.test's client had one query, one NXDOMAIN"
    );
    assert_eq!(rows.row(3)[q1], 1.0);
    assert_eq!(rows.row(4)[nx], 0.0, "good.test's client had no NXDOMAIN");
    assert_eq!(rows.row(4)[q1], 1.0);
    assert_eq!(
        rows.row(6)[refused],
        1.0,
        "error is REFUSED goes to the last query's client"
    );
    assert_eq!(
        rows.row(6)[col("name_length")],
        0.0,
        "`error` is not a name"
    );
    assert_eq!(rows.row(8)[nx], 1.0);
    assert_eq!(rows.row(10)[nx], 1.0, "serial 6 belongs to 10.0.0.11");
    assert_eq!(rows.row(11)[nx], 0.0);
    assert_eq!(rows.row(11)[q1], 0.0, "unattributed");
    assert_eq!(rows.row(11)[col("server_nxdomain_1m")], 1.0);
    let dhcp = rows.row(12);
    assert_eq!(dhcp[col("is_dhcp")], 1.0);
    assert_eq!(
        dhcp.iter().sum::<f64>(),
        1.0,
        "a DHCP row has only its event set"
    );
}

#[test]
fn windows_count_rates_distinct_names_and_rare_types() {
    let mut recs = Vec::new();
    // 10.0.0.1 asks 30 TXT names with long labels, one per second; 10.0.0.2 asks one name.
    for i in 0..30 {
        let label = "a".repeat(40) + &i.to_string();
        recs.push(record(
            i,
            i as i64,
            "dnsmasq",
            format!("query[TXT] {label}.tun.test from 10.0.0.1"),
        ));
    }
    recs.push(record(
        30,
        29,
        "dnsmasq",
        "query[A] www.example.com from 10.0.0.2".into(),
    ));
    recs.push(record(
        31,
        29,
        "dnsmasq",
        "query[A] www.example.com from 10.0.0.2".into(),
    ));
    // Long after: the windows are empty again.
    recs.push(record(
        32,
        2000,
        "dnsmasq",
        "query[A] www.example.com from 10.0.0.1".into(),
    ));
    let rows = rows(&recs);
    let last_tunnel = rows.row(29);
    assert_eq!(last_tunnel[col("client_queries_1m")], 30.0);
    assert_eq!(last_tunnel[col("client_distinct_names_5m")], 30.0);
    assert_eq!(last_tunnel[col("client_rare_types_5m")], 30.0);
    assert_eq!(last_tunnel[col("client_long_names_5m")], 30.0);
    assert_eq!(last_tunnel[col("query_type_rare")], 1.0);
    assert_eq!(last_tunnel[col("max_label_length")], 42.0);
    let other = rows.row(31);
    assert_eq!(other[col("client_queries_1m")], 2.0);
    assert_eq!(other[col("client_distinct_names_5m")], 1.0);
    assert_eq!(other[col("server_queries_1m")], 32.0);
    let later = rows.row(32);
    assert_eq!(later[col("client_queries_15m")], 1.0);
    assert_eq!(later[col("server_queries_1m")], 1.0);
    // www.example.com was asked twice in training; tun.test 30 times; example.org never.
    assert!(later[col("domain_rarity")] > 0.0);
    assert!(later[col("client_unknown_domains_5m")] == 0.0);
}

#[test]
fn a_foreign_state_is_refused() {
    let mut state = state_for(&[]);
    state.log_type = "wifi".into();
    assert!(matches!(
        stream_for(&state),
        Err(AgentError::WrongLogType { .. })
    ));
    let mut state = state_for(&[]);
    state.schema = "dns-v0".into();
    assert!(matches!(
        stream_for(&state),
        Err(AgentError::WrongFeatureSchema { .. })
    ));
    let mut state = state_for(&[]);
    state.state = serde_json::json!({"queries": "many"});
    assert!(matches!(stream_for(&state), Err(AgentError::BadState(_))));
    assert!(crate::agent::agent("dns").is_ok());
}

fn assert_stream_equals_batch(records: &[Record<'_>]) {
    let state = state_for(records);
    let batch = DnsAgent
        .extract(records, &state)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut order: Vec<usize> = (0..records.len()).collect();
    order.sort_by_key(|&i| records[i].timestamp);
    let mut stream = DnsAgent.extractor(&state).unwrap_or_else(|e| panic!("{e}"));
    let mut row = vec![0.0; stream.width()];
    for (n, &i) in order.iter().enumerate() {
        stream.push(&records[i], &mut row);
        let want = batch.row(n);
        assert!(
            row.iter()
                .zip(want)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "row {n}: {row:?} vs {want:?}"
        );
    }
    assert_eq!(batch.len(), records.len());
}

#[test]
fn synth_streams_like_batch() {
    let export = synth_bytes(3000, 0.05, 11);
    let parsed =
        parse_export(&export, &ValidateOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    assert_stream_equals_batch(&parsed.export.records);
}

#[test]
fn memory_stays_bounded_with_ever_new_clients() {
    let state = state_for(&[]);
    let mut stream = stream_for(&state).unwrap_or_else(|e| panic!("{e}"));
    let mut row = vec![0.0; FEATURES.len()];
    let mut max_clients = 0;
    let mut max_events = 0;
    for i in 0..200_000u32 {
        // A new client every 5 ms: 180,000 in any 15 minutes, far over the cap.
        let msg = format!(
            "query[A] n{i}.test from 10.{}.{}.{}",
            i >> 16,
            (i >> 8) & 255,
            i & 255
        );
        let r = Record {
            index: i as usize,
            timestamp: i64::from(i) * 5_000,
            message: Cow::Owned(msg),
            process_name: Cow::Borrowed("dnsmasq"),
            host: None,
            level: LogLevel::Info,
            label: None,
        };
        stream.push(&r, &mut row);
        max_clients = max_clients.max(stream.tracked_clients());
        max_events = max_events.max(stream.tracked_events());
    }
    assert!(max_clients <= MAX_CLIENTS, "{max_clients}");
    assert_eq!(max_clients, MAX_CLIENTS, "the cap is reached and holds");
    assert!(max_events <= MAX_EVENTS);
    // Slow new clients: only the last 15 minutes' are kept.
    let mut stream = stream_for(&state).unwrap_or_else(|e| panic!("{e}"));
    for i in 0..5_000u32 {
        let r = record(
            i as usize,
            i64::from(i),
            "dnsmasq",
            format!("query[A] x.test from 10.1.{}.{}", i >> 8, i & 255),
        );
        stream.push(&r, &mut row);
    }
    assert!(
        stream.tracked_clients() <= 902,
        "{}",
        stream.tracked_clients()
    );
}

// ---------------------------------------------------------------------------------------------
// Synthetic data

fn synth_bytes(records: usize, anomaly_ratio: f64, seed: u64) -> Vec<u8> {
    let config = SynthConfig {
        records,
        anomaly_ratio,
        seed,
        ..SynthConfig::default()
    }
    .check()
    .unwrap_or_else(|e| panic!("{e}"));
    let mut out = Vec::new();
    let summary = DnsAgent
        .synth(&config, &mut out)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary.records, records);
    assert_eq!(summary.anomalies, config.anomalies());
    assert_eq!(summary.bytes, out.len() as u64);
    out
}

#[test]
fn synth_is_deterministic_exact_and_reads_back() {
    let a = synth_bytes(5000, 0.07, 3);
    assert_eq!(a, synth_bytes(5000, 0.07, 3));
    assert_ne!(a, synth_bytes(5000, 0.07, 4));
    let options = ValidateOptions {
        min_wifi_share: 0.0,
        ..ValidateOptions::default()
    };
    let parsed = parse_export(&a, &options).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(parsed.report.error_count(), 0);
    let records = parsed.export.records;
    assert_eq!(records.len(), 5000);
    assert_eq!(
        records.iter().filter(|r| r.label == Some(true)).count(),
        350
    );
    assert!(records.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
    let mut events = std::collections::BTreeMap::new();
    for r in &records {
        // Every message framed as the daemon would write it reads back to the same record.
        let line = format!(
            "{} gw {}[812]: {}",
            format_iso8601(r.timestamp),
            r.process_name,
            r.message
        );
        let back = DnsAgent
            .parse_line(&line, r.index, &CTX)
            .unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_eq!(
            (back.timestamp, &back.process_name, &back.message),
            (r.timestamp, &r.process_name, &r.message)
        );
        let parsed = parse_message(&back.process_name, &back.message);
        *events.entry(parsed.event.as_str()).or_insert(0usize) += 1;
        if r.label == Some(true) {
            assert_ne!(parsed.event, DnsEvent::Other, "{line}");
        }
    }
    for event in ["query", "forwarded", "reply", "cached", "local", "dhcp"] {
        assert!(
            events.get(event).copied().unwrap_or(0) > 0,
            "{event}: {events:?}"
        );
    }
    assert!(events.get("other").copied().unwrap_or(0) < 50, "{events:?}");
}

#[test]
fn synth_without_attacks_and_tiny_exports() {
    for (records, ratio) in [(1, 0.0), (1, 0.5), (7, 0.5), (300, 0.0)] {
        let out = synth_bytes(records, ratio, 9);
        let parsed = parse_export(
            &out,
            &ValidateOptions {
                min_wifi_share: 0.0,
                ..ValidateOptions::default()
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.export.records.len(), records);
    }
}

/// Isolation Forest on `dns-v1` rows of one synthetic export, scored on another.
fn held_out_auc() -> f64 {
    use crate::evaluate::classification_metrics;
    use crate::model::{IsolationForestParams, Matrix, StandardScaler};
    let train_bytes = synth_bytes(20_000, 0.05, 1);
    let test_bytes = synth_bytes(20_000, 0.05, 2);
    let options = ValidateOptions {
        min_wifi_share: 0.0,
        ..ValidateOptions::default()
    };
    let train = parse_export(&train_bytes, &options).unwrap_or_else(|e| panic!("{e}"));
    let test = parse_export(&test_bytes, &options).unwrap_or_else(|e| panic!("{e}"));
    let state = state_for(&train.export.records);
    let train_rows = DnsAgent
        .extract(&train.export.records, &state)
        .unwrap_or_else(|e| panic!("{e}"));
    let test_rows = DnsAgent
        .extract(&test.export.records, &state)
        .unwrap_or_else(|e| panic!("{e}"));
    let width = train_rows.width;
    let scaler =
        StandardScaler::fit(Matrix::new(&train_rows.data, width).unwrap_or_else(|e| panic!("{e}")))
            .unwrap_or_else(|e| panic!("{e}"));
    let scaled_train = scaler
        .transform(Matrix::new(&train_rows.data, width).unwrap_or_else(|e| panic!("{e}")))
        .unwrap_or_else(|e| panic!("{e}"));
    let scaled_test = scaler
        .transform(Matrix::new(&test_rows.data, width).unwrap_or_else(|e| panic!("{e}")))
        .unwrap_or_else(|e| panic!("{e}"));
    let forest = IsolationForestParams::new()
        .n_estimators(100)
        .random_state(42)
        .check()
        .and_then(|p| p.fit(Matrix::new(&scaled_train, width)?))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut scores = vec![0.0; test_rows.len()];
    forest
        .score_samples_into(
            Matrix::new(&scaled_test, width).unwrap_or_else(|e| panic!("{e}")),
            &mut scores,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let labels: Vec<bool> = test_rows.labels.iter().map(|l| *l == Some(true)).collect();
    let anomaly: Vec<f64> = scores.iter().map(|s| -s).collect();
    let predicted: Vec<bool> = scores.iter().map(|s| *s - forest.offset() < 0.0).collect();
    let metrics = classification_metrics(&labels, &predicted, &anomaly);
    println!(
        "dns-v1 held-out (train seed 1, test seed 2, 20k records, 5 % attacks): ROC AUC {:.4}, AP {:.4}, F1 {:.4}",
        metrics.roc_auc.unwrap_or(f64::NAN),
        metrics.average_precision.unwrap_or(f64::NAN),
        metrics.f1
    );
    metrics.roc_auc.unwrap_or(0.0)
}

#[test]
fn isolation_forest_finds_synthetic_attacks_on_held_out_data() {
    let auc = held_out_auc();
    assert!(auc >= 0.9, "ROC AUC {auc}");
}

#[cfg(not(target_arch = "wasm32"))]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn message() -> impl Strategy<Value = (&'static str, String)> {
        let client = (0u8..6).prop_map(|c| format!("10.0.0.{c}"));
        let name = prop_oneof![
            Just("www.example.com".to_owned()),
            Just("a.test".to_owned()),
            "[a-z0-9]{1,40}\\.(com|net|test)",
        ];
        let answer = prop_oneof![
            Just("1.2.3.4".to_owned()),
            Just("NXDOMAIN".to_owned()),
            Just("NODATA-IPv6".to_owned()),
            Just("<CNAME>".to_owned()),
        ];
        let qtype = prop_oneof![
            Just("A"),
            Just("AAAA"),
            Just("TXT"),
            Just("ANY"),
            Just("type=65")
        ];
        prop_oneof![
            (qtype, name.clone(), client.clone())
                .prop_map(|(t, n, c)| ("dnsmasq", format!("query[{t}] {n} from {c}"))),
            name.clone()
                .prop_map(|n| ("dnsmasq", format!("forwarded {n} to 9.9.9.9"))),
            (name.clone(), answer.clone())
                .prop_map(|(n, a)| ("dnsmasq", format!("reply {n} is {a}"))),
            (name.clone(), answer).prop_map(|(n, a)| ("dnsmasq", format!("cached {n} is {a}"))),
            Just(("dnsmasq", "config error is REFUSED".to_owned())),
            (1u32..20, client, name)
                .prop_map(|(s, c, n)| ("dnsmasq", format!("{s} {c}/53 reply {n} is NXDOMAIN"))),
            Just((
                "dnsmasq-dhcp",
                "DHCPACK(br-lan) 10.0.0.1 aa:bb:cc:dd:ee:ff x".to_owned()
            )),
            Just(("dnsmasq", "started, version 2.90".to_owned())),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn streaming_equals_batch(items in proptest::collection::vec((0i64..2000, message()), 1..200)) {
            let records: Vec<Record<'static>> = items
                .into_iter()
                .enumerate()
                .map(|(i, (t, (p, m)))| record(i, t, p, m))
                .collect();
            assert_stream_equals_batch(&records);
        }

        #[test]
        fn parse_line_never_panics(line in "\\PC{0,120}") {
            let _ = DnsAgent.parse_line(&line, 0, &CTX);
            let _ = parse_message("dnsmasq", &line);
            let r = record(0, 0, "dnsmasq", line);
            let _ = DnsAgent.fields(&r);
        }

        #[test]
        fn prefixes_of_valid_lines_never_panic(cut in 0usize..200, which in 0usize..8) {
            let line = DnsAgent.sample_lines()[which % DnsAgent.sample_lines().len()];
            let mut end = cut.min(line.len());
            while !line.is_char_boundary(end) {
                end -= 1;
            }
            if let Ok(r) = DnsAgent.parse_line(&line[..end], 0, &CTX) {
                let _ = DnsAgent.fields(&r);
                let mut stream = DnsAgent.extractor(&state_for(&[])).unwrap_or_else(|e| panic!("{e}"));
                let mut row = vec![0.0; stream.width()];
                stream.push(&r, &mut row);
            }
        }
    }
}

#[test]
fn stream_rows_helper_agrees_with_extract() {
    let recs: Vec<Record<'static>> = (0..50)
        .map(|i| {
            record(
                i,
                (50 - i) as i64,
                "dnsmasq",
                format!("query[A] n{}.test from 10.0.0.{}", i % 7, i % 3),
            )
        })
        .collect();
    let state = state_for(&recs);
    let mut stream = stream_for(&state).unwrap_or_else(|e| panic!("{e}"));
    let a = stream_rows(&recs, &mut stream);
    assert_eq!(a, rows(&recs));
}

/// Throughput of raw lines through `parse_line` + `push` (run with `--ignored --nocapture`,
/// ideally in release); prints lines per second, asserts nothing about time.
#[cfg(not(target_arch = "wasm32"))]
#[test]
#[ignore]
fn throughput_of_raw_lines() {
    let export = synth_bytes(200_000, 0.05, 5);
    let options = ValidateOptions {
        min_wifi_share: 0.0,
        ..ValidateOptions::default()
    };
    let parsed = parse_export(&export, &options).unwrap_or_else(|e| panic!("{e}"));
    let records = &parsed.export.records;
    // Five copies of the week, each 8 days after the previous, so time keeps moving forward.
    let week = 8 * crate::time::MICROS_PER_DAY;
    let lines: Vec<String> = (0..5i64)
        .flat_map(|round| {
            records.iter().map(move |r| {
                format!(
                    "{} gw {}[812]: {}",
                    format_iso8601(r.timestamp + round * week),
                    r.process_name,
                    r.message
                )
            })
        })
        .collect();
    let state = state_for(records);
    let mut stream = stream_for(&state).unwrap_or_else(|e| panic!("{e}"));
    let mut row = vec![0.0; FEATURES.len()];
    let started = std::time::Instant::now();
    let mut checksum = 0.0;
    for (i, line) in lines.iter().enumerate() {
        let record = DnsAgent
            .parse_line(line, i, &CTX)
            .unwrap_or_else(|e| panic!("{e}"));
        stream.push(&record, &mut row);
        checksum += row[0];
    }
    let seconds = started.elapsed().as_secs_f64();
    let n = lines.len();
    println!(
        "dns: {n} raw lines in {seconds:.2} s = {:.0} lines/s (parse_line + push, checksum {checksum})",
        n as f64 / seconds
    );
}
