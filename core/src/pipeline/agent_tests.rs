//! Training, scoring and evaluation of models of other log types, through the agent protocol
//! (with the test-only `testdns` agent), and the log type of WiFi exports.

use super::*;
use crate::agent::test_agent::DNS_TEST_AGENT;
use crate::agent::Agent;
use crate::config::Config;
use crate::synth::{write_export, SynthConfig};

const NOW: i64 = 1_704_067_200_000_000; // 2024-01-01T00:00:00Z
const CONTEXT: ParseContext = ParseContext { default_year: 2024 };

fn options() -> TrainOptions {
    let config = Config::defaults();
    TrainChoices {
        seed: Some(7),
        ..TrainChoices::default()
    }
    .resolve(&config)
    .expect("valid choices")
    .options(&config, NOW)
}

fn run(input: TrainInput<'_>, options: &TrainOptions) -> Result<Trained, TrainError> {
    train(
        input,
        options,
        Hooks {
            progress: &mut |_| true,
            elapsed_ms: &|| 0.0,
        },
    )
}

/// A testdnsd-like log: five hosts querying twenty names once a second, and a burst of queries
/// for unknown names from one host (the anomalies). Returns the raw text and the same records
/// as a labelled NDJSON export.
fn dns_log(records: usize) -> (String, String) {
    let (mut raw, mut ndjson) = (String::new(), String::new());
    for i in 0..records {
        let attack = i % 20 == 19;
        let (host, name) = if attack {
            ("evil".to_owned(), format!("x{i:05}q7z.tunnel.example"))
        } else {
            (format!("gw{}", i % 5), format!("name{}.example", i % 20))
        };
        let second = if attack { i - 1 } else { i };
        let stamp = format!(
            "2024-01-01T{:02}:{:02}:{:02}Z",
            second / 3600,
            second / 60 % 60,
            second % 60
        );
        let message = format!("query[A] {name} from 10.0.0.{}", i % 5);
        raw.push_str(&format!("{stamp} {host} testdnsd[7]: {message}\n"));
        ndjson.push_str(&format!(
            "{{\"timestamp\":\"{stamp}\",\"process_name\":\"testdnsd\",\"log_level\":\"INFO\",\"message\":\"{message}\",\"label\":{}}}\n",
            u8::from(attack)
        ));
    }
    (raw, ndjson)
}

fn wifi_export() -> Vec<u8> {
    let config = SynthConfig {
        records: 1_500,
        anomaly_ratio: 0.05,
        seed: 2,
        ..SynthConfig::default()
    }
    .check()
    .expect("synth config");
    let mut bytes = Vec::new();
    write_export(&config, &mut bytes).expect("synth");
    bytes
}

#[test]
fn wifi_exports_train_as_wifi_whether_detected_or_named() {
    let bytes = wifi_export();
    let detected = run(TrainInput::log(&bytes, "e.json", None, CONTEXT), &options())
        .expect("trains")
        .artifact;
    assert_eq!(detected.log_type, "wifi");
    assert_eq!(detected.protocol_version, crate::agent::PROTOCOL_VERSION);
    assert!(matches!(detected.input, InputSchema::Export(_)));
    let named = TrainInput::Export {
        bytes: &bytes,
        file_name: "e.json",
        log_type: Some("wifi"),
    };
    let named = run(named, &options()).expect("trains").artifact;
    assert_eq!(named.to_json(), detected.to_json());
}

#[test]
fn raw_logs_of_an_agent_train_score_and_round_trip() {
    let (raw, _) = dns_log(600);
    // No log type given: the first lines are recognised as the agent's (testdnsd).
    let input = TrainInput::log(raw.as_bytes(), "dns.log", None, CONTEXT);
    assert!(matches!(input, TrainInput::RawLog { .. }));
    let trained = run(input, &options()).expect("trains");
    let model = trained.artifact;
    assert_eq!(model.log_type, "testdns");
    assert_eq!(model.lineage.source, "raw_log");
    assert_eq!(model.lineage.records, 600);
    let InputSchema::Agent(state) = &model.input else {
        panic!(
            "an agent model has an agent feature state: {:?}",
            model.input
        );
    };
    assert_eq!(state.schema, DNS_TEST_AGENT.info().feature_schema);
    assert_eq!(model.training.features, 3);
    let report = trained.report.expect("a raw log has a report");
    assert_eq!(report.format, Some(crate::export::ExportFormat::RawLog));
    // Not a WiFi log, so no warning about few WiFi processes.
    assert_eq!(report.count_of(IssueKind::FewWifiRecords), 0);

    let loaded = ModelArtifact::from_json(&model.to_json()).expect("loads");
    assert_eq!(loaded, model);
    let validate = ValidateOptions::default();
    let scored =
        score(&loaded, ScoreInput::log(raw.as_bytes(), &validate, CONTEXT)).expect("scores");
    assert_eq!(scored.rows.len(), 600);
    assert!(scored.rows.iter().enumerate().all(|(i, r)| r.index == i));
    // The burst of unknown names scores lower than the usual queries.
    let mean = |attack: bool| {
        let rows: Vec<f64> = scored
            .rows
            .iter()
            .filter(|r| (r.index % 20 == 19) == attack)
            .map(|r| r.score)
            .collect();
        rows.iter().sum::<f64>() / rows.len() as f64
    };
    assert!(
        mean(true) < mean(false),
        "{} vs {}",
        mean(true),
        mean(false)
    );
}

#[test]
fn labelled_exports_of_an_agent_train_and_evaluate() {
    let (_, ndjson) = dns_log(800);
    let input = TrainInput::Export {
        bytes: ndjson.as_bytes(),
        file_name: "dns.ndjson",
        log_type: None,
    };
    let model = run(input, &options()).expect("trains").artifact;
    assert_eq!(model.log_type, "testdns");
    let auc = model
        .evaluation
        .metrics
        .as_ref()
        .and_then(|m| m.roc_auc)
        .expect("held-out metrics");
    assert!(auc > 0.9, "held-out ROC AUC {auc}");
    let validate = ValidateOptions::default();
    let result = evaluate(
        &model,
        ScoreInput::Export {
            bytes: ndjson.as_bytes(),
            options: &validate,
        },
        &Config::defaults(),
    )
    .expect("evaluates");
    assert_eq!((result.samples, result.labelled), (800, 800));
    assert!(result.metrics.roc_auc.is_some_and(|a| a > 0.9));
}

#[test]
fn models_an_agent_cannot_serve_are_refused_with_the_reason() {
    let (raw, _) = dns_log(200);
    let input = TrainInput::log(raw.as_bytes(), "dns.log", Some("testdns"), CONTEXT);
    let model = run(input, &options()).expect("trains").artifact;
    let validate = ValidateOptions::default();
    let score_with =
        |m: &ModelArtifact| score(m, ScoreInput::log(raw.as_bytes(), &validate, CONTEXT));

    let mut other_schema = model.clone();
    if let InputSchema::Agent(state) = &mut other_schema.input {
        state.schema = "testdns-v9".to_owned();
    }
    let err = score_with(&other_schema).expect_err("another feature schema");
    assert!(
        matches!(
            err,
            TrainError::Agent(AgentError::WrongFeatureSchema { .. })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("testdns-v9"), "{err}");

    let mut newer = model.clone();
    newer.protocol_version = "2.0.0".to_owned();
    let err = score_with(&newer).expect_err("a newer protocol");
    assert!(
        matches!(
            err,
            TrainError::Agent(AgentError::IncompatibleProtocol { .. })
        ),
        "{err}"
    );

    let mut unknown = model.clone();
    unknown.log_type = "nosuch".to_owned();
    if let InputSchema::Agent(state) = &mut unknown.input {
        state.log_type = "nosuch".to_owned();
    }
    let err = score_with(&unknown).expect_err("no agent");
    assert!(
        matches!(err, TrainError::Agent(AgentError::UnknownLogType(_))),
        "{err}"
    );

    // The file itself must agree on its log type.
    let mut mislabelled = model.clone();
    mislabelled.log_type = "wifi".to_owned();
    let err = ModelArtifact::from_json(&mislabelled.to_json()).expect_err("disagrees");
    assert!(
        err.to_string().contains("feature state is for \"testdns\""),
        "{err}"
    );
    let mut wifi = run(
        TrainInput::Export {
            bytes: &wifi_export(),
            file_name: "e.json",
            log_type: None,
        },
        &options(),
    )
    .expect("trains")
    .artifact;
    wifi.log_type = "testdns".to_owned();
    let err = ModelArtifact::from_json(&wifi.to_json()).expect_err("wifi-v1 is wifi only");
    assert!(err.to_string().contains("log_type is \"testdns\""), "{err}");
}

#[test]
fn bad_raw_lines_are_located_and_droppable() {
    let (raw, _) = dns_log(100);
    let mut lines: Vec<&str> = raw.lines().collect();
    lines.insert(2, "2024-01-01T00:00:02Z gw1 no tag here");
    let raw = lines.join("\n");
    let input = TrainInput::log(raw.as_bytes(), "dns.log", Some("testdns"), CONTEXT);
    let err = run(input, &options()).expect_err("a bad line");
    let text = err.to_string();
    assert!(text.contains("line 3, column 26"), "{text}");

    let mut dropping = options();
    dropping.config.training.validation.drop_invalid = true;
    let trained = run(input, &dropping).expect("trains without the bad line");
    assert_eq!(trained.artifact.training.dropped_records, 1);
    assert_eq!(trained.artifact.lineage.records, 100);
}

#[test]
fn unknown_log_types_are_refused_by_name() {
    let (raw, ndjson) = dns_log(50);
    for input in [
        TrainInput::log(raw.as_bytes(), "a.log", Some("nosuch"), CONTEXT),
        TrainInput::log(ndjson.as_bytes(), "a.ndjson", Some("nosuch"), CONTEXT),
    ] {
        let err = run(input, &options()).expect_err("unknown");
        assert!(
            err.to_string().contains("unknown log type \"nosuch\""),
            "{err}"
        );
    }
}

#[test]
fn exports_and_raw_logs_are_told_apart_by_their_first_byte() {
    assert!(crate::export::looks_like_export(b" \n{\"data\": []}"));
    assert!(crate::export::looks_like_export(b"\xEF\xBB\xBF[]"));
    assert!(!crate::export::looks_like_export(
        b"<13>Dec  3 17:50:14 gw dnsmasq[1]: x"
    ));
    assert!(!crate::export::looks_like_export(b""));
    // NDJSON records are an export; a daemon's own JSON lines (ulogd) are raw log text.
    assert!(crate::export::looks_like_export(
        b"{\"timestamp\":\"2024-01-01T00:00:00Z\",\"message\":\"m\"}\n"
    ));
    assert!(!crate::export::looks_like_export(
        b"{\"timestamp\": \"2026-12-03T18:14:10\", \"dvc\": \"Netfilter\", \"src_ip\": \"10.0.0.1\"}\n"
    ));
}

#[test]
fn kept_training_scores_of_an_agent_are_the_rows_score_gives() {
    let (raw, _) = dns_log(800);
    let mut opts = options();
    opts.keep_scores = true;
    let trained = run(
        TrainInput::log(raw.as_bytes(), "dns.log", None, CONTEXT),
        &opts,
    )
    .expect("trains");
    let loaded = ModelArtifact::from_json(&trained.artifact.to_json()).expect("loads");
    let validate = ValidateOptions::default();
    let scored =
        score(&loaded, ScoreInput::log(raw.as_bytes(), &validate, CONTEXT)).expect("scores");
    let kept = trained.scores.expect("scores kept");
    assert_eq!(kept.len(), 800);
    assert!(kept.iter().all(|r| r.timestamp.is_some()));
    assert_eq!(kept, scored.rows);
}
