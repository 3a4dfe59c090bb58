//! The compliance suite of the agent protocol: every agent registered in `AGENTS` — whoever
//! wrote it — must pass every test here. Each test loops over the registry and names the agent
//! that fails.
//!
//! Covered: sane metadata (name = log type, a compatible semver protocol version, a feature
//! schema `<type>-vN`, unique names), a built-in log schema that is YAML naming its log type,
//! sample lines that parse, deterministic synthetic exports that parse back, fitted states whose
//! width is the extractor's and the batch extractor's, finite values, streaming = batch bit for
//! bit, model refusals with the right reason, and deterministic inference.

#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeSet;

use mcp_train_core::agent::{
    agent, check_model, parse_semver, protocol_compatible, stream_rows, Agent, AgentError,
    FeatureRows, FeatureState, ParseContext, AGENTS, PROTOCOL_VERSION,
};
use mcp_train_core::config::Config;
use mcp_train_core::export::{parse_export, Export, ValidateOptions};
use mcp_train_core::model::{IsolationForestParams, Matrix, OutlierDetector};
use mcp_train_core::synth::{SynthConfig, SynthSummary};

const CTX: ParseContext = ParseContext { default_year: 2026 };
/// Records of the small synthetic export every agent writes.
const RECORDS: usize = 3_000;
const ANOMALY_RATIO: f64 = 0.05;

fn name(agent: &dyn Agent) -> &'static str {
    agent.info().name
}

/// The agent's synthetic export: 3000 records, 5 % anomalies, seed 7.
fn synth(agent: &dyn Agent) -> (Vec<u8>, SynthSummary) {
    let config = SynthConfig {
        records: RECORDS,
        anomaly_ratio: ANOMALY_RATIO,
        seed: 7,
        ..SynthConfig::default()
    }
    .check()
    .expect("synth config");
    let mut bytes = Vec::new();
    let summary = agent
        .synth(&config, &mut bytes)
        .unwrap_or_else(|e| panic!("{}: synth: {e}", name(agent)));
    (bytes, summary)
}

fn export<'a>(agent: &dyn Agent, bytes: &'a [u8]) -> Export<'a> {
    parse_export(bytes, &ValidateOptions::default())
        .and_then(|parsed| parsed.into_usable())
        .unwrap_or_else(|e| panic!("{}: its synthetic export does not parse: {e}", name(agent)))
}

fn fitted(agent: &dyn Agent, export: &Export<'_>) -> FeatureState {
    agent
        .fit(&export.records, &Config::defaults())
        .unwrap_or_else(|e| panic!("{}: fit: {e}", name(agent)))
}

fn assert_same_rows(agent: &dyn Agent, what: &str, a: &FeatureRows, b: &FeatureRows) {
    let name = name(agent);
    assert_eq!(a.width, b.width, "{name}: {what}: width");
    assert_eq!(a.record_index, b.record_index, "{name}: {what}: row order");
    assert_eq!(a.timestamps, b.timestamps, "{name}: {what}: timestamps");
    assert_eq!(a.labels, b.labels, "{name}: {what}: labels");
    assert_eq!(a.data.len(), b.data.len(), "{name}: {what}: values");
    if let Some(i) = (0..a.data.len()).find(|&i| a.data[i].to_bits() != b.data[i].to_bits()) {
        panic!(
            "{name}: {what}: row {} column {} differs: {} vs {}",
            i / a.width.max(1),
            i % a.width.max(1),
            a.data[i],
            b.data[i]
        );
    }
}

#[test]
fn the_registry_is_not_empty_and_finds_each_agent() {
    assert!(!AGENTS.is_empty());
    let mut names = BTreeSet::new();
    for &a in AGENTS {
        let info = a.info();
        assert!(names.insert(info.name), "{} is registered twice", info.name);
        let found = agent(info.log_type).expect("agent(log_type) finds it");
        assert_eq!(found.info().name, info.name);
    }
    assert!(matches!(
        agent("no-such-type"),
        Err(AgentError::UnknownLogType(t)) if t == "no-such-type"
    ));
}

#[test]
fn metadata_is_sane() {
    for &agent in AGENTS {
        let info = agent.info();
        let name = info.name;
        assert!(!name.is_empty());
        assert_eq!(name, info.log_type, "{name}: name and log type differ");
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "{name}: a log type is lowercase ASCII"
        );
        assert!(!info.description.is_empty(), "{name}: no description");
        assert!(
            parse_semver(info.protocol_version).is_some(),
            "{name}: protocol version {} is not semver",
            info.protocol_version
        );
        assert!(
            protocol_compatible(info.protocol_version),
            "{name}: protocol {} is not compatible with {PROTOCOL_VERSION}",
            info.protocol_version
        );
        let version = info
            .feature_schema
            .strip_prefix(name)
            .and_then(|rest| rest.strip_prefix("-v"));
        assert!(
            version.is_some_and(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit())),
            "{name}: feature schema {:?} is not {name}-vN",
            info.feature_schema
        );
        // Only the generic agent reads every program (and so names none).
        assert!(
            !info.programs.is_empty() || name == "syslog",
            "{name}: no programs"
        );
        assert!(!info.capabilities.is_empty(), "{name}: no capabilities");
    }
}

#[test]
fn log_schema_is_yaml_naming_its_log_type() {
    for &agent in AGENTS {
        let name = name(agent);
        let schema: serde_json::Value = serde_saphyr::from_str(agent.log_schema_yaml())
            .unwrap_or_else(|e| panic!("{name}: log schema is not YAML: {e}"));
        assert_eq!(schema["log_type"], name, "{name}: log schema's log_type");
        let version = schema["schema_version"].as_str().unwrap_or_default();
        assert!(
            parse_semver(version).is_some(),
            "{name}: schema_version {version:?} is not semver"
        );
        let fields = schema["fields"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: log schema has no fields list"));
        assert!(!fields.is_empty(), "{name}: no fields");
        let mut seen = BTreeSet::new();
        for field in fields {
            let field_name = field["name"].as_str().unwrap_or_default();
            assert!(!field_name.is_empty(), "{name}: a field without a name");
            assert!(seen.insert(field_name), "{name}: field {field_name} twice");
            assert!(
                field["type"].is_string(),
                "{name}: field {field_name} has no type"
            );
        }
        assert!(seen.contains("timestamp"), "{name}: no timestamp field");
    }
}

#[test]
fn sample_lines_parse_and_have_fields() {
    for &agent in AGENTS {
        let name = name(agent);
        let lines = agent.sample_lines();
        assert!(!lines.is_empty(), "{name}: no sample lines");
        for (i, line) in lines.iter().enumerate() {
            let record = agent
                .parse_line(line, i, &CTX)
                .unwrap_or_else(|e| panic!("{name}: sample line {i} {line:?}: {e}"));
            assert_eq!(record.index, i, "{name}: index of {line:?}");
            // Never panics; the fields have names.
            for (field, _) in agent.fields(&record) {
                assert!(!field.is_empty(), "{name}: an unnamed field of {line:?}");
            }
            // Every prefix of a sample line is read or refused, never a panic.
            for end in (0..line.len()).filter(|&e| line.is_char_boundary(e)) {
                if let Ok(record) = agent.parse_line(&line[..end], i, &CTX) {
                    let _ = agent.fields(&record);
                }
            }
        }
    }
}

#[test]
fn synth_is_deterministic_and_parses_back() {
    for &agent in AGENTS {
        let name = name(agent);
        let (bytes, summary) = synth(agent);
        let (again, _) = synth(agent);
        assert!(
            bytes == again,
            "{name}: the same configuration gave other bytes"
        );
        assert_eq!(summary.records, RECORDS, "{name}: records written");
        let export = export(agent, &bytes);
        assert_eq!(export.records.len(), RECORDS, "{name}: records read back");
        let anomalies = export
            .records
            .iter()
            .filter(|r| r.label == Some(true))
            .count();
        assert!(
            export.records.iter().all(|r| r.label.is_some()),
            "{name}: unlabelled records"
        );
        assert_eq!(anomalies, summary.anomalies, "{name}: labelled anomalies");
        assert_eq!(
            anomalies,
            (RECORDS as f64 * ANOMALY_RATIO).round() as usize,
            "{name}: anomalies = round(records × anomaly_ratio)"
        );
    }
}

#[test]
fn features_have_the_declared_width_finite_values_and_stream_as_batch() {
    for &agent in AGENTS {
        let name = name(agent);
        let info = agent.info();
        let (bytes, _) = synth(agent);
        let export = export(agent, &bytes);
        let state = fitted(agent, &export);
        assert_eq!(state.log_type, info.log_type, "{name}: state's log type");
        assert_eq!(
            state.schema, info.feature_schema,
            "{name}: state's feature schema"
        );
        assert!(!state.features.is_empty(), "{name}: no features");
        let distinct: BTreeSet<&String> = state.features.iter().collect();
        assert_eq!(
            distinct.len(),
            state.features.len(),
            "{name}: feature names repeat"
        );

        let mut stream = agent
            .extractor(&state)
            .unwrap_or_else(|e| panic!("{name}: extractor: {e}"));
        assert_eq!(stream.width(), state.features.len(), "{name}: stream width");
        let streamed = stream_rows(&export.records, stream.as_mut());
        let batch = agent
            .extract(&export.records, &state)
            .unwrap_or_else(|e| panic!("{name}: extract: {e}"));
        assert_eq!(batch.width, state.features.len(), "{name}: batch width");
        assert_eq!(
            batch.len(),
            export.records.len(),
            "{name}: a row per record"
        );
        if let Some(i) = batch.data.iter().position(|v| !v.is_finite()) {
            panic!(
                "{name}: row {} feature {} is {}",
                i / batch.width,
                state.features[i % batch.width],
                batch.data[i]
            );
        }
        assert_same_rows(agent, "stream vs batch", &streamed, &batch);

        // The state survives the model file: JSON out and back gives the same rows.
        let json = serde_json::to_string(&state).expect("state to JSON");
        let back: FeatureState = serde_json::from_str(&json).expect("state from JSON");
        assert_eq!(back, state, "{name}: state round trip");
        let again = agent
            .extract(&export.records, &back)
            .unwrap_or_else(|e| panic!("{name}: extract with the stored state: {e}"));
        assert_same_rows(agent, "stored state", &again, &batch);
    }
}

#[test]
fn models_of_another_type_schema_or_protocol_are_refused() {
    for &agent in AGENTS {
        let name = name(agent);
        let info = agent.info();
        check_model(agent, info.log_type, info.feature_schema, PROTOCOL_VERSION)
            .unwrap_or_else(|e| panic!("{name}: refuses its own model: {e}"));
        assert_eq!(
            check_model(
                agent,
                "not-a-log-type",
                info.feature_schema,
                PROTOCOL_VERSION
            ),
            Err(AgentError::WrongLogType {
                model: "not-a-log-type".into(),
                agent: info.log_type.into()
            }),
            "{name}"
        );
        let other_schema = format!("{}-v999", info.log_type);
        assert_eq!(
            check_model(agent, info.log_type, &other_schema, PROTOCOL_VERSION),
            Err(AgentError::WrongFeatureSchema {
                model: other_schema.clone(),
                agent: info.feature_schema.into()
            }),
            "{name}"
        );
        assert_eq!(
            check_model(agent, info.log_type, info.feature_schema, "2.0.0"),
            Err(AgentError::IncompatibleProtocol {
                model: "2.0.0".into(),
                agent: PROTOCOL_VERSION.into()
            }),
            "{name}"
        );

        // Its extractor refuses another agent's state.
        let (bytes, _) = synth(agent);
        let export = export(agent, &bytes);
        let mut state = fitted(agent, &export);
        state.log_type = "not-a-log-type".into();
        assert!(
            matches!(
                agent.extractor(&state).err(),
                Some(AgentError::WrongLogType { .. })
            ),
            "{name}: extractor took a state of another log type"
        );
        state.log_type = info.log_type.into();
        state.schema = other_schema;
        assert!(
            matches!(
                agent.extractor(&state).err(),
                Some(AgentError::WrongFeatureSchema { .. })
            ),
            "{name}: extractor took a state of another feature schema"
        );
    }
}

#[test]
fn inference_is_deterministic() {
    for &agent in AGENTS {
        let name = name(agent);
        let (bytes, _) = synth(agent);
        let export = export(agent, &bytes);
        let state = fitted(agent, &export);
        let rows = agent
            .extract(&export.records, &state)
            .unwrap_or_else(|e| panic!("{name}: extract: {e}"));
        let fit = || {
            let x = Matrix::new(&rows.data, rows.width).expect("matrix");
            let forest = IsolationForestParams::new()
                .n_estimators(50)
                .random_state(7)
                .check()
                .and_then(|p| p.fit(x))
                .unwrap_or_else(|e| panic!("{name}: isolation forest: {e}"));
            let scores = forest.score_samples(x).expect("scores");
            (serde_json::to_vec(&forest).expect("forest JSON"), scores)
        };
        let (model, scores) = fit();
        let (model_again, scores_again) = fit();
        assert!(
            model == model_again,
            "{name}: the same rows and seed gave another forest"
        );
        assert!(
            scores
                .iter()
                .zip(&scores_again)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{name}: scores differ"
        );
        assert!(
            scores.iter().all(|s| s.is_finite()),
            "{name}: a score is not finite"
        );
    }
}
