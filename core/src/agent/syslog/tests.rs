use std::borrow::Cow;

use super::drain::{Drain, DrainParams};
use super::features::{SyslogState, SyslogStream, MAX_HOSTS};
use super::parse::{pattern, Tokens, WILDCARD};
use super::*;
use crate::agent::{stream_rows, FeatureRows};
use crate::export::{parse_export, LogLevel, ValidateOptions};
use crate::synth::SynthConfig;
use crate::time::{format_iso8601, MICROS_PER_SECOND};

const CTX: ParseContext = ParseContext { default_year: 2026 };

fn record(
    t: i64,
    host: Option<&str>,
    process: &str,
    level: LogLevel,
    message: &str,
) -> Record<'static> {
    Record {
        index: 0,
        timestamp: t,
        message: Cow::Owned(message.to_owned()),
        process_name: Cow::Owned(process.to_owned()),
        host: host.map(|h| Cow::Owned(h.to_owned())),
        level,
        label: None,
    }
}

fn synth_bytes(records: usize, seed: u64) -> Vec<u8> {
    let config = SynthConfig {
        records,
        anomaly_ratio: 0.05,
        seed,
        days: 2,
        ..SynthConfig::default()
    }
    .check()
    .expect("valid config");
    let mut out = Vec::new();
    SyslogAgent.synth(&config, &mut out).expect("synth writes");
    out
}

fn fitted(records: &[Record<'_>]) -> FeatureState {
    SyslogAgent.fit(records, &Config::defaults()).expect("fit")
}

#[test]
fn reads_every_framing_and_any_program() {
    let r = SyslogAgent
        .parse_line(
            "Dec 10 06:55:46 LabSZ sshd[24200]: Failed password for invalid user admin from 203.0.113.5 port 51234 ssh2",
            3,
            &CTX,
        )
        .expect("rfc 3164");
    assert_eq!(r.index, 3);
    assert_eq!(r.host.as_deref(), Some("LabSZ"));
    assert_eq!(r.process_name, "sshd");
    assert_eq!(
        r.message,
        "Failed password for invalid user admin from 203.0.113.5 port 51234 ssh2"
    );
    let fields = SyslogAgent.fields(&r);
    assert_eq!(
        fields,
        [
            (
                "pattern".to_owned(),
                "Failed password for invalid user admin from <*> port <*> <*>".to_owned()
            ),
            ("ip".to_owned(), "203.0.113.5".to_owned()),
            ("user".to_owned(), "admin".to_owned()),
        ]
    );
    for line in SAMPLES {
        let r = SyslogAgent.parse_line(line, 0, &CTX).expect(line);
        assert!(!r.message.is_empty(), "{line}");
    }
    let r = SyslogAgent
        .parse_line(
            "<86>1 2026-12-03T17:50:14Z db-01 CRON 311 - - pam_unix(cron:session): session closed for user root",
            0,
            &CTX,
        )
        .expect("rfc 5424");
    assert_eq!(r.process_name, "CRON");
    assert_eq!(
        SyslogAgent.fields(&r)[1],
        ("user".to_owned(), "root".to_owned())
    );
    let r = SyslogAgent
        .parse_line(
            "2026-12-03T17:54:00Z app-01 sudo[4410]:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update",
            0,
            &CTX,
        )
        .expect("iso");
    assert_eq!(
        SyslogAgent.fields(&r)[1],
        ("user".to_owned(), "root".to_owned())
    );
    let r = SyslogAgent
        .parse_line(
            "Dec  3 17:50:14 web-01 sshd[1]: Accepted publickey for bob from 10.0.0.2 port 22 ssh2",
            0,
            &CTX,
        )
        .expect("accepted");
    assert_eq!(
        SyslogAgent.fields(&r)[2],
        ("user".to_owned(), "bob".to_owned())
    );
}

#[test]
fn bad_lines_are_errors_with_a_column() {
    for (line, column) in [
        ("", 1),
        ("   ", 4),
        ("hello world", 1),
        ("Dec 99 17:50:14 h p: m", 5),
    ] {
        let e = SyslogAgent.parse_line(line, 0, &CTX).expect_err(line);
        assert!(e.column >= 1, "{line}: {e}");
        assert!(
            e.column <= column.max(line.chars().count() + 1),
            "{line}: {e}"
        );
    }
}

#[test]
fn variable_tokens_are_masked() {
    assert_eq!(
        pattern("Connection closed by 10.0.0.1 port 4022 [preauth]"),
        "Connection closed by <*> port <*> [preauth]"
    );
    assert_eq!(
        pattern(
            "session 6f1c2e0a-1b2c-4d5e-8f90-aabbccddeeff uses /var/lib/x1 and deadbeefcafebabe1"
        ),
        "session <*> uses <*> and <*>"
    );
    assert_eq!(pattern("hash abcdefabcdefabcd ok"), "hash <*> ok");
    let mut t = Tokens::default();
    t.read("  a 12  b\t<*>  ");
    assert_eq!(t.total, 4);
    assert_eq!(t.digits, 2);
    assert_eq!(t.hashes[1], WILDCARD);
    assert_eq!(t.hashes[3], WILDCARD);
    assert_ne!(t.hashes[0], WILDCARD);
    assert_eq!(t.text("  a 12  b\t<*>  ", 2), "b");
}

fn mine_all(drain: &mut Drain, messages: &[&str]) -> Vec<u32> {
    let mut t = Tokens::default();
    messages
        .iter()
        .map(|m| {
            t.read(m);
            drain.mine(&t, m).id
        })
        .collect()
}

#[test]
fn drain_merges_similar_lines_into_one_template() {
    let mut d = Drain::new(DrainParams::default());
    let ids = mine_all(
        &mut d,
        &[
            "Failed password for invalid user admin from 1.2.3.4 port 5 ssh2",
            "Failed password for invalid user oracle from 1.2.3.9 port 77 ssh2",
            "Failed password for root from 1.2.3.4 port 5 ssh2",
            "Failed password for invalid user test from 9.9.9.9 port 1 ssh2",
            "Started Session 3 of User alice.",
        ],
    );
    assert_eq!(ids, [0, 0, 1, 0, 2]);
    assert_eq!(
        d.template(0).as_deref(),
        Some("Failed password for invalid user <*> from <*> port <*> <*>")
    );
    assert_eq!(d.len(), 3);
}

#[test]
fn drain_overflows_past_its_cap_and_its_state_round_trips() {
    let params = DrainParams {
        max_clusters: 3,
        max_children: 2,
        ..DrainParams::default()
    };
    let mut d = Drain::new(params);
    let first = [
        "alpha one",
        "beta two",
        "gamma three",
        "delta four",
        "alpha one",
        "epsilon five six",
    ];
    let ids = mine_all(&mut d, &first);
    assert_eq!(ids, [0, 1, 2, 3, 0, 3], "cap 3: the overflow id is 3");
    let state = d.state();
    let json = serde_json::to_string(&state).expect("serialises");
    let back: super::drain::DrainState = serde_json::from_str(&json).expect("reads");
    let mut rebuilt = Drain::from_state(&back).expect("rebuilds");
    assert_eq!(rebuilt.state(), state);
    let more = ["beta two", "zeta seven", "gamma three", "alpha one"];
    assert_eq!(mine_all(&mut rebuilt, &more), mine_all(&mut d, &more));
    let mut bad = state.clone();
    bad.templates[0].path.push("x".into());
    assert!(Drain::from_state(&bad).is_err());
}

#[cfg(not(target_arch = "wasm32"))]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parse_line_never_panics(line in "\\PC{0,120}") {
            let _ = SyslogAgent.parse_line(&line, 0, &CTX);
        }

        #[test]
        fn prefixes_of_valid_lines_never_panic(cut in 0usize..200, which in 0usize..7) {
            let line = SAMPLES[which % SAMPLES.len()];
            let mut end = cut.min(line.len());
            while !line.is_char_boundary(end) {
                end -= 1;
            }
            if let Ok(r) = SyslogAgent.parse_line(&line[..end], 0, &CTX) {
                let _ = SyslogAgent.fields(&r);
            }
        }

        #[test]
        fn stream_equals_batch(
            events in proptest::collection::vec(
                (0i64..4000, 0usize..5, 0usize..6, 0usize..8, 0u8..5), 1..300),
            split in 0usize..300,
        ) {
            let hosts = ["a", "b", "c", "d", ""];
            let processes = ["sshd", "CRON", "kernel", "systemd", "x9", "postfix/smtpd"];
            let messages = [
                "Failed password for root from 1.2.3.4 port 22 ssh2",
                "Failed password for invalid user bob from 1.2.3.4 port 22 ssh2",
                "session opened for user root by (uid=0)",
                "I/O error dev sda sector 1234",
                "",
                "Started Session 12 of User alice.",
                "Started Session 12 of Host alice.",
                "a b c d e f g h",
            ];
            let levels = [LogLevel::Debug, LogLevel::Info, LogLevel::Warning, LogLevel::Error, LogLevel::Critical];
            let mut records: Vec<Record<'static>> = events
                .iter()
                .enumerate()
                .map(|(i, &(t, h, p, m, l))| {
                    let mut r = record(
                        t * 7 * MICROS_PER_SECOND,
                        (h < 4).then_some(hosts[h]),
                        processes[p],
                        levels[l as usize],
                        messages[m],
                    );
                    r.index = i;
                    r
                })
                .collect();
            records.sort_by_key(|r| r.timestamp);
            let split = split.min(records.len());
            let state = fitted(&records[..split]);
            let batch = SyslogAgent.extract(&records, &state).expect("extract");
            let mut stream = SyslogAgent.extractor(&state).expect("extractor");
            let mut data = Vec::new();
            for r in &records {
                let mut row = vec![0.0; stream.width()];
                stream.push(r, &mut row);
                data.extend_from_slice(&row);
            }
            prop_assert_eq!(batch.width, FEATURES.len());
            prop_assert_eq!(bits(&batch.data), bits(&data));
            prop_assert!(data.iter().all(|v| v.is_finite()));
        }
    }
}

fn bits(values: &[f64]) -> Vec<u64> {
    values.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn synth_is_deterministic_labelled_and_reads_back() {
    let a = synth_bytes(6_000, 7);
    assert_eq!(a, synth_bytes(6_000, 7));
    assert_ne!(a, synth_bytes(6_000, 8));
    let parsed = parse_export(&a, &ValidateOptions::default()).expect("parses");
    assert!(parsed.report.errors.is_empty());
    let records = &parsed.export.records;
    assert_eq!(records.len(), 6_000);
    assert_eq!(
        records.iter().filter(|r| r.label == Some(true)).count(),
        300
    );
    assert!(records.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
    assert!(records.iter().all(|r| r.host.is_some()));
    // Every message read back through the raw-line path, framed as rsyslog writes it.
    for (i, r) in records.iter().enumerate() {
        let iso = format_iso8601(r.timestamp);
        let line = format!(
            "{iso} {} {}[{}]: {}",
            r.host.as_deref().unwrap_or("-"),
            r.process_name,
            100 + i,
            r.message
        );
        let back = SyslogAgent.parse_line(&line, i, &CTX).expect(&line);
        assert_eq!(back.message, r.message);
        assert_eq!(back.process_name, r.process_name);
        assert_eq!(back.timestamp, r.timestamp);
    }
}

#[test]
fn synth_stream_equals_batch() {
    let bytes = synth_bytes(5_000, 3);
    let records = parse_export(&bytes, &ValidateOptions::default())
        .expect("parses")
        .export
        .records;
    let state = fitted(&records[..2_500]);
    let batch = SyslogAgent.extract(&records, &state).expect("extract");
    let mut stream = SyslogAgent.extractor(&state).expect("extractor");
    let streamed = stream_rows(&records, stream.as_mut());
    assert_eq!(bits(&batch.data), bits(&streamed.data));
    let mut one = SyslogAgent.extractor(&state).expect("extractor");
    let mut row = vec![0.0; FEATURES.len()];
    for (i, r) in records.iter().enumerate() {
        one.push(r, &mut row);
        assert_eq!(bits(&row), bits(batch.row(i)), "row {i}");
    }
}

#[test]
fn hosts_tracked_stay_under_the_cap() {
    let state: SyslogState = serde_json::from_value(fitted(&[]).state).expect("empty state reads");
    let mut stream = SyslogStream::new(&state).expect("stream");
    let mut row = vec![0.0; FEATURES.len()];
    let mut peak = 0;
    for i in 0..200_000i64 {
        let host = format!("h{i}");
        let r = record(i * 1000, Some(&host), "p", LogLevel::Info, "same message");
        stream.push(&r, &mut row);
        peak = peak.max(stream.tracked_hosts());
    }
    assert!(peak <= MAX_HOSTS, "{peak}");
    assert!(peak > MAX_HOSTS / 2);
    // Ever-new message shapes: the template count stops at the cap.
    let letters = |mut n: i64| -> String {
        let mut word = String::from("w");
        for _ in 0..4 {
            word.push(char::from(b'a' + (n % 26) as u8));
            n /= 26;
        }
        word
    };
    for i in 0..6_000i64 {
        let r = record(200_000_000, None, "p", LogLevel::Info, &letters(i));
        stream.push(&r, &mut row);
    }
    assert_eq!(stream.templates(), super::drain::MAX_CLUSTERS);
    assert_eq!(row[4], 0.0, "later overflow lines are not new");
}

#[test]
fn wrong_states_are_refused() {
    let mut state = fitted(&[]);
    state.log_type = "dns".into();
    assert!(matches!(
        SyslogAgent.extractor(&state),
        Err(AgentError::WrongLogType { .. })
    ));
    let mut state = fitted(&[]);
    state.schema = "syslog-v0".into();
    assert!(matches!(
        SyslogAgent.extractor(&state),
        Err(AgentError::WrongFeatureSchema { .. })
    ));
    let mut state = fitted(&[]);
    state.state = serde_json::json!({"drain": 1});
    assert!(matches!(
        SyslogAgent.extractor(&state),
        Err(AgentError::BadState(_))
    ));
}

fn rows_of(bytes: &[u8], state: Option<&FeatureState>) -> (FeatureState, FeatureRows) {
    let records = parse_export(bytes, &ValidateOptions::default())
        .expect("parses")
        .export
        .records;
    let state = state.cloned().unwrap_or_else(|| fitted(&records));
    let rows = SyslogAgent.extract(&records, &state).expect("extract");
    (state, rows)
}

/// ROC AUC of an Isolation Forest trained (with a standard scaler, as the pipeline does) on
/// the rows of one synthetic export and scoring another one.
fn held_out_auc(train_seed: u64, test_seed: u64) -> f64 {
    use crate::evaluate::classification_metrics;
    use crate::model::{IsolationForestParams, Matrix, StandardScaler};
    let (state, train) = rows_of(&synth_bytes(20_000, train_seed), None);
    let (_, test) = rows_of(&synth_bytes(20_000, test_seed), Some(&state));
    let width = train.width;
    let scaler =
        StandardScaler::fit(Matrix::new(&train.data, width).expect("matrix")).expect("scaler");
    let mut x = train.data.clone();
    for row in x.chunks_exact_mut(width) {
        scaler.transform_row(row).expect("scale");
    }
    let forest = IsolationForestParams::new()
        .check()
        .expect("params")
        .fit(Matrix::new(&x, width).expect("matrix"))
        .expect("forest");
    let mut y = test.data.clone();
    for row in y.chunks_exact_mut(width) {
        scaler.transform_row(row).expect("scale");
    }
    let mut scores = vec![0.0; test.len()];
    forest
        .score_samples_into(Matrix::new(&y, width).expect("matrix"), &mut scores)
        .expect("scores");
    let anomaly: Vec<f64> = scores.iter().map(|s| -s).collect();
    let labels: Vec<bool> = test.labels.iter().map(|l| *l == Some(true)).collect();
    let predicted = vec![false; labels.len()];
    classification_metrics(&labels, &predicted, &anomaly)
        .roc_auc
        .expect("both classes")
}

#[test]
fn detects_the_synthetic_incidents_on_held_out_data() {
    let auc = held_out_auc(1, 2);
    println!("syslog-v1 held-out ROC AUC (train seed 1, test seed 2): {auc:.4}");
    assert!(auc >= 0.9, "ROC AUC {auc}");
}

/// Reads a loghub export (the converted JSON of `/work/shared/data/loghub`, or `$LOGHUB_DIR`)
/// and mines its raw lines; skipped when the file is absent.
#[cfg(not(target_arch = "wasm32"))]
fn loghub_templates(file: &str) -> Option<(usize, usize, usize)> {
    let dir = std::env::var("LOGHUB_DIR").unwrap_or_else(|_| "/work/shared/data/loghub".into());
    let bytes = std::fs::read(std::path::Path::new(&dir).join(file)).ok()?;
    let json: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let data = json.get("data")?.as_array()?;
    let mut records = Vec::new();
    let mut events = std::collections::BTreeSet::new();
    for (i, item) in data.iter().enumerate() {
        let raw = item.get("raw")?.as_str()?;
        let r = SyslogAgent
            .parse_line(raw, i, &ParseContext { default_year: 2000 })
            .unwrap_or_else(|e| panic!("{file} line {}: {e}: {raw}", i + 1));
        records.push(r);
        if let Some(e) = item.get("event_id").and_then(|e| e.as_str()) {
            events.insert(e.to_owned());
        }
    }
    let state: SyslogState = serde_json::from_value(fitted(&records).state).ok()?;
    Some((records.len(), state.drain.templates.len(), events.len()))
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn mines_the_real_loghub_samples() {
    for file in ["OpenSSH_2k.json", "Linux_2k.json"] {
        match loghub_templates(file) {
            None => println!("{file}: not present, skipped"),
            Some((lines, templates, truth)) => {
                println!(
                    "{file}: {lines} lines parsed, {templates} templates mined (loghub's ground truth: {truth} event ids)"
                );
                assert!(
                    templates >= truth / 2 && templates <= truth * 3,
                    "{templates} vs {truth}"
                );
            }
        }
    }
}

/// Throughput of parse_line + push on raw syslog lines (run with
/// `cargo test --release -p mcp-train-core --lib agent::syslog::tests::throughput -- --ignored --nocapture`).
#[cfg(not(target_arch = "wasm32"))]
#[test]
#[ignore]
fn throughput() {
    let bytes = synth_bytes(400_000, 9);
    let records = parse_export(&bytes, &ValidateOptions::default())
        .expect("parses")
        .export
        .records;
    let lines: Vec<String> = records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            format!(
                "{} {} {}[{}]: {}",
                format_iso8601(r.timestamp),
                r.host.as_deref().unwrap_or("-"),
                r.process_name,
                100 + i % 30000,
                r.message
            )
        })
        .collect();
    let state = fitted(&records[..100_000]);
    let mut stream = SyslogAgent.extractor(&state).expect("extractor");
    let mut row = vec![0.0; FEATURES.len()];
    let started = std::time::Instant::now();
    let mut sum = 0.0;
    for (i, line) in lines.iter().enumerate() {
        let r = SyslogAgent.parse_line(line, i, &CTX).expect("parses");
        stream.push(&r, &mut row);
        sum += row[3];
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "syslog parse_line + push: {} lines in {secs:.3} s = {:.0} lines/s (checksum {sum:.1})",
        lines.len(),
        lines.len() as f64 / secs
    );
}
