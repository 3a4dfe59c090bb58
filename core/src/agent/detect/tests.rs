//! Detection with a small test-only agent (the built-in agents have their own compliance
//! tests): stream = batch bit for bit, contributions, refusals.

use std::collections::VecDeque;
use std::io;

use serde_json::json;

use super::*;
use crate::agent::frame::parse_frame;
use crate::agent::{
    AgentInfo, Capability, FeatureState, LineError, ParseContext, Stability, PROTOCOL_VERSION,
};
use crate::config::Config;
use crate::export::LogLevel;
use crate::model::{IsolationForestParams, LofParams, StandardScaler};
use crate::pipeline::{self, Hooks, TrainChoices, TrainInput};
use crate::synth::{write_export, SynthConfig, SynthSummary, ValidSynthConfig};

/// Reads `syslog`-framed lines; features: message length, level, records in the trailing
/// minute (a bounded window, as real agents keep), digits in the message.
struct ProbeAgent;

static PROBE_INFO: AgentInfo = AgentInfo {
    name: "probe",
    log_type: "probe",
    description: "test-only agent",
    protocol_version: PROTOCOL_VERSION,
    feature_schema: "probe-v1",
    programs: &["probe"],
    capabilities: &[Capability::RawLines, Capability::StreamingFeatures],
    stability: Stability::Alpha,
};

const PROBE_FEATURES: [&str; 4] = ["message_length", "level", "rate_1m", "digits"];
const MINUTE: i64 = 60_000_000;

struct ProbeStream {
    window: VecDeque<i64>,
    last: i64,
}

impl FeatureStream for ProbeStream {
    fn width(&self) -> usize {
        PROBE_FEATURES.len()
    }
    fn push(&mut self, record: &Record<'_>, out: &mut [f64]) {
        let at = record.timestamp.max(self.last);
        self.last = at;
        self.window.push_back(at);
        while self.window.front().is_some_and(|&t| t <= at - MINUTE) {
            self.window.pop_front();
        }
        out[0] = record.message.chars().count() as f64;
        out[1] = f64::from(record.level.numeric());
        out[2] = self.window.len() as f64;
        out[3] = record.message.chars().filter(char::is_ascii_digit).count() as f64;
    }
}

impl Agent for ProbeAgent {
    fn info(&self) -> &'static AgentInfo {
        &PROBE_INFO
    }
    fn log_schema_yaml(&self) -> &'static str {
        "version: 1\nfields: {}\n"
    }
    fn sample_lines(&self) -> &'static [&'static str] {
        &["2026-12-03T17:50:14Z box probe[1]: hello 42"]
    }
    fn synth(&self, _: &ValidSynthConfig, _: &mut dyn io::Write) -> io::Result<SynthSummary> {
        Err(io::Error::other("the probe agent writes no synthetic logs"))
    }
    fn parse_line<'a>(
        &self,
        line: &'a str,
        index: usize,
        ctx: &ParseContext,
    ) -> Result<Record<'a>, LineError> {
        parse_frame(line, index, ctx)
    }
    fn fields(&self, record: &Record<'_>) -> Vec<(String, String)> {
        let word = record.message.split_whitespace().next().unwrap_or_default();
        vec![("word".to_owned(), word.to_owned())]
    }
    fn fit(&self, _: &[Record<'_>], _: &Config) -> Result<FeatureState, AgentError> {
        Ok(probe_state())
    }
    fn extractor(&self, state: &FeatureState) -> Result<Box<dyn FeatureStream>, AgentError> {
        if state.schema != PROBE_INFO.feature_schema {
            return Err(AgentError::WrongFeatureSchema {
                model: state.schema.clone(),
                agent: PROBE_INFO.feature_schema.to_owned(),
            });
        }
        Ok(Box::new(ProbeStream {
            window: VecDeque::new(),
            last: i64::MIN,
        }))
    }
}

static PROBE: ProbeAgent = ProbeAgent;

fn probe_state() -> FeatureState {
    FeatureState {
        log_type: "probe".to_owned(),
        schema: "probe-v1".to_owned(),
        features: PROBE_FEATURES.iter().map(|s| (*s).to_owned()).collect(),
        state: json!({}),
    }
}

/// Benign chatter every few seconds, a burst of long, digit-heavy error lines in the middle;
/// a few records out of time order.
fn records() -> Vec<Record<'static>> {
    let start = 1_764_784_800_000_000; // 2025-12-03T18:00:00Z
    let mut out = Vec::new();
    for i in 0..600usize {
        let burst = (300..320).contains(&i);
        let (message, level) = if burst {
            (
                format!("failure {} code {} {} {}", i, i * 7919, i * 104_729, i * 31),
                LogLevel::Error,
            )
        } else {
            (format!("tick ok {}", i % 10), LogLevel::Info)
        };
        let step = if burst { 50_000 } else { 5_000_000 };
        let jitter = if i % 97 == 5 { -7_000_000 } else { 0 };
        out.push(Record {
            index: i,
            timestamp: start + (i as i64) * step + jitter,
            message: message.into(),
            process_name: "probe".into(),
            host: Some("box".into()),
            level,
            label: Some(burst),
        });
    }
    out
}

/// A valid model for the probe agent: a trained wifi model's file with the probe's state,
/// scaler and detector put in.
fn probe_model(lof: bool) -> ModelArtifact {
    let synth = SynthConfig {
        records: 300,
        seed: 3,
        ..SynthConfig::default()
    };
    let mut export = Vec::new();
    write_export(&synth.check().unwrap(), &mut export).unwrap();
    let config = Config::defaults();
    let options = TrainChoices {
        seed: Some(3),
        ..TrainChoices::default()
    }
    .resolve(&config)
    .unwrap()
    .options(&config, 1_704_067_200_000_000);
    let input = TrainInput::Export {
        bytes: &export,
        file_name: "export.json",
        log_type: None,
    };
    let hooks = Hooks {
        progress: &mut |_| true,
        elapsed_ms: &|| 0.0,
    };
    let mut model = pipeline::train(input, &options, hooks).unwrap().artifact;

    let state = probe_state();
    let rows = PROBE.extract(&records(), &state).unwrap();
    let x = Matrix::new(&rows.data, rows.width).unwrap();
    let scaler = StandardScaler::fit(x).unwrap();
    let scaled = scaler.transform(x).unwrap();
    let scaled = Matrix::new(&scaled, rows.width).unwrap();
    model.detector = if lof {
        let params = config.model.model.lof.clone();
        let fitted = LofParams::from(params.clone()).fit(scaled).unwrap();
        FittedDetector::Lof {
            params,
            model: fitted,
        }
    } else {
        let params = config.model.model.isolation_forest.clone();
        let fitted = IsolationForestParams::from(params.clone())
            .random_state(11)
            .fit(scaled)
            .unwrap();
        FittedDetector::IsolationForest {
            params,
            model: fitted,
        }
    };
    model.threshold.offset = model.detector.offset();
    model.scaler = scaler;
    model.log_type = "probe".to_owned();
    model.input = InputSchema::Agent(state);
    model.check().unwrap();
    model
}

/// What `score` computes: batch rows, batch scoring.
fn batch_scores(model: &ModelArtifact, records: &[Record<'_>]) -> Vec<(usize, f64, f64)> {
    let state = model.input.feature_state().unwrap();
    let rows = PROBE.extract(records, &state).unwrap();
    let scored = model.score_rows(&rows.data).unwrap();
    rows.record_index
        .iter()
        .zip(scored)
        .map(|(&i, (s, d))| (i, s, d))
        .collect()
}

#[test]
fn stream_scores_equal_batch_scores_bit_for_bit() {
    for lof in [false, true] {
        let model = probe_model(lof);
        let records = records();
        let batch = batch_scores(&model, &records);
        let mut detector = Detector::with_agent(model.clone(), &PROBE).unwrap();
        let all = detector.detect_all(&records, true).unwrap();
        assert_eq!(all.len(), records.len());
        let mut flagged = 0;
        for (report, (index, score, decision)) in all.iter().zip(&batch) {
            assert_eq!(report.entry.index, *index, "lof {lof}");
            assert_eq!(
                report.inference.score.to_bits(),
                score.to_bits(),
                "lof {lof}"
            );
            assert_eq!(report.inference.decision.to_bits(), decision.to_bits());
            assert_eq!(report.inference.is_anomaly, *decision < 0.0);
            assert_eq!(report.inference.model_version, model.version);
            flagged += usize::from(report.inference.is_anomaly);
        }
        assert!(flagged > 0 && flagged < records.len() / 2, "{flagged}");

        // Only the anomalies, the same ones.
        let mut detector = Detector::with_agent(model.clone(), &PROBE).unwrap();
        let anomalies = detector.detect_all(&records, false).unwrap();
        let expected: Vec<usize> = batch
            .iter()
            .filter(|(_, _, d)| *d < 0.0)
            .map(|(i, _, _)| *i)
            .collect();
        let found: Vec<usize> = anomalies.iter().map(|a| a.entry.index).collect();
        assert_eq!(found, expected);

        // infer() on a row is push()'s verdict.
        let mut detector = Detector::with_agent(model, &PROBE).unwrap();
        let (row, verdict) = detector.push(&records[0]).unwrap();
        let row = row.to_vec();
        assert_eq!(detector.infer(&row).unwrap(), verdict);
        assert_eq!(detector.features(&row).names.len(), 4);
    }
}

#[test]
fn burst_is_flagged_with_its_reasons() {
    let model = probe_model(false);
    let records = records();
    let mut detector = Detector::with_agent(model, &PROBE).unwrap();
    let anomalies = detector.detect_all(&records, false).unwrap();
    let in_burst = anomalies
        .iter()
        .filter(|a| a.entry.label == Some(true))
        .count();
    assert!(in_burst >= 15, "{in_burst} of 20 burst records flagged");
    let first = anomalies
        .iter()
        .find(|a| a.entry.label == Some(true))
        .unwrap();
    assert_eq!(first.agent, "probe");
    assert_eq!(first.entry.log_type, "probe");
    assert_eq!(first.entry.host.as_deref(), Some("box"));
    assert_eq!(
        first.entry.fields,
        vec![("word".to_owned(), "failure".to_owned())]
    );
    let c = &first.contributions;
    assert!(!c.is_empty() && c.len() <= TOP_CONTRIBUTIONS, "{c:?}");
    assert!(c.windows(2).all(|w| w[0].contribution >= w[1].contribution));
    assert!(c.iter().all(|c| c.contribution > 0.0));
    // The long, digit-heavy error message is what stands out.
    assert!(
        c.iter()
            .any(|c| ["message_length", "digits", "level"].contains(&c.feature.as_str())),
        "{c:?}"
    );
    // Each contribution is the decision with the feature at its mean minus the row's.
    let mut probe = Detector::with_agent(detector.artifact().clone(), &PROBE).unwrap();
    let mut sorted: Vec<&Record<'_>> = records.iter().collect();
    sorted.sort_by_key(|r| r.timestamp);
    let mut row = Vec::new();
    for r in sorted {
        let (values, _) = probe.push(r).unwrap();
        if r.index == first.entry.index {
            row = values.to_vec();
            break;
        }
    }
    let names = probe.feature_names().to_vec();
    let j = names.iter().position(|n| *n == c[0].feature).unwrap();
    assert_eq!(row[j], c[0].value);
    let mut at_mean = row.clone();
    at_mean[j] = probe.artifact().scaler.mean()[j];
    let lifted = probe.infer(&at_mean).unwrap().decision;
    let expected = lifted - first.inference.decision;
    assert!(
        (expected - c[0].contribution).abs() < 1e-9,
        "{expected} vs {c:?}"
    );
}

#[test]
fn models_an_agent_cannot_serve_are_refused_with_the_reason() {
    let model = probe_model(false);

    let mut other = model.clone();
    other.log_type = "dns".to_owned();
    let e = Detector::with_agent(other, &PROBE).unwrap_err().to_string();
    assert!(e.contains("log type \"dns\""), "{e}");

    let mut newer = model.clone();
    newer.protocol_version = "2.0.0".to_owned();
    let e = Detector::with_agent(newer, &PROBE).unwrap_err().to_string();
    assert!(e.contains("protocol 2.0.0"), "{e}");

    let mut schema = model.clone();
    if let InputSchema::Agent(state) = &mut schema.input {
        state.schema = "probe-v2".to_owned();
    }
    let e = Detector::with_agent(schema, &PROBE)
        .unwrap_err()
        .to_string();
    assert!(e.contains("probe-v2"), "{e}");

    let mut csv = model.clone();
    csv.input = InputSchema::FeaturesCsv {
        features: PROBE_FEATURES.iter().map(|s| (*s).to_owned()).collect(),
    };
    let e = Detector::new(csv).unwrap_err().to_string();
    assert!(e.contains("features CSV"), "{e}");

    // No built-in agent serves the probe's log type.
    let e = detect_records(model.clone(), &records(), false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown log type \"probe\""), "{e}");

    // A wider scaler than the agent's rows.
    let mut wide = model;
    wide.scaler = StandardScaler::from_parts(vec![0.0; 5], vec![1.0; 5]).unwrap();
    let e = Detector::with_agent(wide, &PROBE).unwrap_err().to_string();
    assert!(e.contains("takes 5 features"), "{e}");
}

#[test]
fn a_row_that_cannot_be_scored_names_the_feature() {
    let model = probe_model(false);
    let detector = Detector::with_agent(model, &PROBE).unwrap();
    let e = detector
        .infer(&[1.0, 1.0, f64::NAN, 1.0])
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("feature rate_1m:"), "{e}");
    let e = detector.infer(&[1.0, 1.0]).unwrap_err().to_string();
    assert!(e.contains("fitted on 4 features"), "{e}");
}

#[test]
fn raw_lines_detect_like_records() {
    let model = probe_model(false);
    let mut detector = Detector::with_agent(model, &PROBE).unwrap();
    let ctx = ParseContext { default_year: 2025 };
    let line = "<11>Dec  3 18:00:00 box probe[9]: failure 1 code 2 3 4 5 6 7 8 9 10 11 12 13";
    let record = PROBE.parse_line(line, 0, &ctx).unwrap();
    let report = detector.assess(&record).unwrap();
    assert_eq!(report.entry.level, LogLevel::Error);
    assert_eq!(report.entry.timestamp, "2025-12-03T18:00:00Z");
    assert!(report.inference.is_anomaly, "{report:?}");
}
