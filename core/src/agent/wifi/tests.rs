//! The `wifi` agent: lines, fields, feature state, and the streaming extractor against batch
//! extraction, bit for bit.

use std::borrow::Cow;

#[cfg(not(target_arch = "wasm32"))]
use proptest::prelude::*;

use super::*;
use crate::agent::{check_model, stream_rows, AGENTS};
use crate::export::{parse_export, Export, ExportFormat, LogLevel, ValidateOptions};
use crate::features::{extract, FeatureConfig, FeatureGroups};
use crate::synth::SynthConfig;

const CTX: ParseContext = ParseContext { default_year: 2026 };

fn config_with(features: FeatureConfig) -> Config {
    let mut config = Config::defaults();
    config.model.features = features;
    config
}

fn synth(records: usize, seed: u64) -> Vec<u8> {
    let config = SynthConfig {
        records,
        seed,
        anomaly_ratio: 0.05,
        ..SynthConfig::default()
    }
    .check()
    .expect("synth config");
    let mut bytes = Vec::new();
    WifiAgent.synth(&config, &mut bytes).expect("synth");
    bytes
}

/// Rows of `records` fed one at a time to a fresh extractor, and the batch rows; asserted equal
/// bit for bit (NaN-safe), and equal to the export extractor's matrix.
fn assert_stream_is_batch(records: &[Record<'_>], state: &FeatureState) {
    let mut stream = WifiAgent.extractor(state).expect("extractor");
    let streamed = stream_rows(records, stream.as_mut());
    let batch = WifiAgent.extract(records, state).expect("batch");
    assert_eq!(streamed.width, batch.width);
    assert_eq!(streamed.width, state.features.len());
    assert_eq!(streamed.record_index, batch.record_index);
    assert_eq!(streamed.timestamps, batch.timestamps);
    assert_eq!(streamed.labels, batch.labels);
    assert_eq!(streamed.data.len(), batch.data.len());
    for (i, (s, b)) in streamed.data.iter().zip(&batch.data).enumerate() {
        assert_eq!(
            s.to_bits(),
            b.to_bits(),
            "row {} column {}: stream {s}, batch {b}",
            i / streamed.width.max(1),
            state.features[i % streamed.width.max(1)]
        );
    }
    // And the export extractor the pipeline uses, with the same schema.
    let schema = schema_of(state).expect("schema");
    let export = Export {
        format: ExportFormat::Array,
        metadata: None,
        records: records.to_vec(),
    };
    let matrix = extract(&export, &schema.config, Some(&schema.vocabulary));
    assert!(matrix
        .data
        .iter()
        .zip(&batch.data)
        .all(|(m, b)| m.to_bits() == b.to_bits()));
    assert_eq!(matrix.data.len(), batch.data.len());
}

#[test]
fn registered_with_its_metadata() {
    assert!(AGENTS.iter().any(|a| a.info().name == "wifi"));
    let agent = crate::agent::agent("wifi").expect("registered");
    let info = agent.info();
    assert_eq!(info.log_type, "wifi");
    assert_eq!(info.feature_schema, "wifi-v1");
    assert_eq!(info.protocol_version, PROTOCOL_VERSION);
    assert_eq!(info.stability, Stability::Stable);
    assert_eq!(info.programs, &PROGRAMS);
    let schema: serde_json::Value =
        serde_saphyr::from_str(agent.log_schema_yaml()).expect("log schema YAML");
    assert_eq!(schema["log_type"], "wifi");
    assert_eq!(schema["schema_version"], "1.0.0");
}

#[test]
fn every_sample_line_parses_with_its_fields() {
    for (i, line) in WifiAgent.sample_lines().iter().enumerate() {
        let record = WifiAgent
            .parse_line(line, i, &CTX)
            .unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_eq!(record.index, i);
        assert!(!record.message.is_empty(), "{line}");
        assert!(PROGRAMS.contains(&&*record.process_name), "{line}");
    }
    let record = WifiAgent
        .parse_line(WifiAgent.sample_lines()[2], 0, &CTX)
        .expect("parses");
    assert_eq!(record.host.as_deref(), Some("ap1"));
    assert_eq!(record.process_name, "hostapd");
    assert_eq!(
        WifiAgent.fields(&record),
        [
            ("interface".to_owned(), "wlan0".to_owned()),
            ("event".to_owned(), "AP-STA-CONNECTED".to_owned()),
            ("macs".to_owned(), "3c:22:fb:12:34:56".to_owned()),
            ("events".to_owned(), "connection".to_owned()),
        ]
    );
    let line = "Dec  3 17:51:06 laptop wpa_supplicant[812]: wlp2s0: WPA: 4-Way Handshake failed - \
                pre-shared key may be incorrect (AA-BB-CC-DD-EE-0F deauth)";
    let record = WifiAgent.parse_line(line, 0, &CTX).expect("parses");
    assert_eq!(
        WifiAgent.fields(&record),
        [
            ("interface".to_owned(), "wlp2s0".to_owned()),
            ("macs".to_owned(), "aa:bb:cc:dd:ee:0f".to_owned()),
            // "deauth" holds "auth": the wifi-v1 keyword semantics.
            ("events".to_owned(), "auth,error,deauth".to_owned()),
        ]
    );
    // Not a wifi daemon: still a record, with no fields.
    let record = WifiAgent
        .parse_line("Dec  3 17:51:06 host cron[1]: (root) CMD (true)", 0, &CTX)
        .expect("parses");
    assert!(WifiAgent.fields(&record).is_empty());
    // No timestamp: an error with its column, not a panic.
    let error = WifiAgent
        .parse_line("hostapd: wlan0: AP-STA-CONNECTED", 3, &CTX)
        .expect_err("no timestamp");
    assert_eq!(error.column, 1);
}

#[test]
fn fit_gives_the_state_a_wifi_model_stores() {
    let bytes = synth(3_000, 11);
    let export = parse_export(&bytes, &ValidateOptions::default())
        .expect("parses")
        .into_usable()
        .expect("usable");
    let config = Config::defaults();
    let state = WifiAgent.fit(&export.records, &config).expect("fits");
    assert_eq!(state.log_type, "wifi");
    assert_eq!(state.schema, "wifi-v1");
    assert_eq!(state.features.len(), 41);

    // The same as the state of a model the pipeline trains on that export.
    let mut progress = |_: &crate::pipeline::Progress| true;
    let options = crate::pipeline::TrainChoices {
        seed: Some(7),
        ..crate::pipeline::TrainChoices::default()
    }
    .resolve(&config)
    .expect("choices")
    .options(&config, 1_704_067_200_000_000);
    let trained = crate::pipeline::train(
        crate::pipeline::TrainInput::Export {
            bytes: &bytes,
            file_name: "export.json",
            log_type: None,
        },
        &options,
        crate::pipeline::Hooks {
            progress: &mut progress,
            elapsed_ms: &|| 0.0,
        },
    )
    .expect("trains");
    let model = &trained.artifact;
    assert_eq!(model.input.feature_state().as_ref(), Some(&state));
    check_model(
        &WifiAgent,
        &model.log_type,
        &state.schema,
        &model.protocol_version,
    )
    .expect("the agent serves the model");

    // The model's scaler has one column per streamed feature.
    let stream = WifiAgent.extractor(&state).expect("extractor");
    assert_eq!(stream.width(), model.scaler.n_features());
    assert_stream_is_batch(&export.records, &state);
}

#[test]
fn extractor_refuses_states_it_cannot_serve() {
    let state = WifiAgent
        .fit(&[], &Config::defaults())
        .expect("fits nothing");
    let refused = |state: &FeatureState| WifiAgent.extractor(state).err();

    let mut other = state.clone();
    other.log_type = "dns".into();
    assert_eq!(
        refused(&other),
        Some(AgentError::WrongLogType {
            model: "dns".into(),
            agent: "wifi".into()
        })
    );
    let mut other = state.clone();
    other.schema = "wifi-v2".into();
    assert_eq!(
        refused(&other),
        Some(AgentError::WrongFeatureSchema {
            model: "wifi-v2".into(),
            agent: "wifi-v1".into()
        })
    );
    let mut other = state.clone();
    other.state = serde_json::json!({"name": "wifi-v1"});
    assert!(matches!(refused(&other), Some(AgentError::BadState(_))));
    let mut other = state.clone();
    other.features.pop();
    assert!(matches!(refused(&other), Some(AgentError::BadState(_))));
    let mut other = state.clone();
    other.state["config"]["window_minutes"] = serde_json::json!([0]);
    assert!(
        matches!(refused(&other), Some(AgentError::BadState(m)) if m.contains("window_minutes"))
    );
    let mut other = state.clone();
    other.state["features"][0] = serde_json::json!("hour");
    other.features[0] = "hour".into();
    assert!(matches!(refused(&other), Some(AgentError::BadState(_))));

    let bad = config_with(FeatureConfig {
        window_minutes: vec![5, 5],
        ..FeatureConfig::default()
    });
    assert!(matches!(
        WifiAgent.fit(&[], &bad),
        Err(AgentError::BadState(m)) if m.contains("window_minutes")
    ));
}

#[test]
fn stream_is_batch_on_a_synth_export() {
    let bytes = synth(20_000, 3);
    let export = parse_export(&bytes, &ValidateOptions::default())
        .expect("parses")
        .into_usable()
        .expect("usable");
    // Fitted on another export, as at inference time.
    let other = synth(2_000, 4);
    let training = parse_export(&other, &ValidateOptions::default())
        .expect("parses")
        .into_usable()
        .expect("usable");
    let state = WifiAgent
        .fit(&training.records, &Config::defaults())
        .expect("fits");
    assert_stream_is_batch(&export.records, &state);
    // A configuration with other windows and groups.
    let config = config_with(FeatureConfig {
        groups: FeatureGroups {
            text: false,
            wifi_events: false,
            ..FeatureGroups::default()
        },
        window_minutes: vec![1, 30, 1440],
    });
    let state = WifiAgent.fit(&export.records, &config).expect("fits");
    assert_stream_is_batch(&export.records, &state);
}

/// Every real export in `../shared/data/real-wifi/`, when it is there (nothing is copied into
/// the repository).
#[test]
fn stream_is_batch_on_real_exports() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/real-wifi");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("{} is not there: skipped", dir.display());
        return;
    };
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    let mut checked = 0;
    let mut rows = 0;
    for path in &paths {
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        let Ok(export) = parse_export(&bytes, &ValidateOptions::default())
            .map_err(|_| ())
            .and_then(|p| p.into_usable().map_err(|_| ()))
        else {
            continue;
        };
        let state = WifiAgent
            .fit(&export.records, &Config::defaults())
            .expect("fits");
        assert_stream_is_batch(&export.records, &state);
        checked += 1;
        rows += export.records.len();
    }
    eprintln!(
        "streaming = batch on {checked} of {} real exports ({rows} records)",
        paths.len()
    );
    assert!(paths.is_empty() || checked > 0, "no real export was usable");
}

#[test]
fn a_late_record_keeps_its_time_features_and_joins_the_windows_at_the_previous_time() {
    let state = WifiAgent.fit(&[], &Config::defaults()).expect("fits");
    let record = |timestamp: i64, message: &'static str| Record {
        index: 0,
        timestamp,
        message: Cow::Borrowed(message),
        process_name: Cow::Borrowed("hostapd"),
        host: None,
        level: LogLevel::Info,
        label: None,
    };
    let hour = 3_600_000_000;
    let base = 1_704_067_200_000_000; // Monday 00:00 UTC
    let mut stream = WifiAgent.extractor(&state).expect("extractor");
    let mut row = vec![0.0; stream.width()];
    let column = |name: &str| state.features.iter().position(|f| f == name).expect(name);
    stream.push(&record(base + 2 * hour, "wlan0: deauth"), &mut row);
    stream.push(&record(base, "wlan0: deauth"), &mut row);
    assert_eq!(row[column("hour_of_day")], 0.0);
    assert_eq!(row[column("deauth_count_5m")], 2.0);
}

/// An endless stream of new stations and processes: the stream remembers only the rows of its
/// longest window (60 minutes by default) and their MACs and processes.
#[test]
fn stream_memory_is_bounded_by_the_longest_window() {
    let state = WifiAgent.fit(&[], &Config::defaults()).expect("fits");
    let mut stream = WifiStream::new(&schema_of(&state).expect("schema"));
    let mut row = vec![0.0; stream.width()];
    let base = 1_704_067_200_000_000i64;
    for i in 0..150_000u64 {
        let b = i.to_be_bytes();
        let message = format!(
            "wlan0: AP-STA-CONNECTED 02:00:{:02x}:{:02x}:{:02x}:{:02x}",
            b[4], b[5], b[6], b[7]
        );
        let process = format!("daemon{}", i / 1000);
        let record = Record {
            index: i as usize,
            timestamp: base + i as i64 * 1_000_000, // one a second
            message: Cow::Owned(message),
            process_name: Cow::Owned(process),
            host: None,
            level: LogLevel::Info,
            label: None,
        };
        stream.push(&record, &mut row);
        let (rows, macs, processes) = stream.remembered();
        assert!(
            rows <= 3_601 && macs <= 3_601 && processes <= 6,
            "{rows} {macs} {processes}"
        );
    }
    assert_eq!(stream.remembered(), (3_601, 3_601, 4));
}

/// A random wifi-ish record: `(seconds since the previous record, process, MAC, fragments)`.
#[cfg(not(target_arch = "wasm32"))]
fn arb_step() -> impl Strategy<Value = (i64, usize, usize, Vec<usize>, usize)> {
    (
        // Ties, steps within a minute, steps across window edges, long gaps.
        prop_oneof![
            3 => Just(0i64),
            3 => 0i64..20,
            2 => prop::sample::select(vec![60i64, 300, 900, 3600]),
            1 => 0i64..20_000,
        ],
        0..PROCESSES.len(),
        0..MACS.len(),
        prop::collection::vec(0..FRAGMENTS.len(), 0..6),
        0..5usize,
    )
}

#[cfg(not(target_arch = "wasm32"))]
const PROCESSES: [&str; 7] = [
    "hostapd",
    "wpa_supplicant",
    "kernel",
    "dnsmasq-dhcp",
    "netifd",
    "",
    "sshd",
];

#[cfg(not(target_arch = "wasm32"))]
const MACS: [&str; 6] = [
    "00:11:22:33:44:55",
    "00-11-22-33-44-55",
    "AA:BB:CC:DD:EE:FF",
    "3c:22:fb:12:34:56",
    "8e:4f:01:9a:bc:de",
    "02:00:00:00:00:01",
];

#[cfg(not(target_arch = "wasm32"))]
const FRAGMENTS: [&str; 22] = [
    "wlan0: ",
    "AP-STA-CONNECTED ",
    "AP-STA-DISCONNECTED ",
    "STA-ASSOC",
    "deauthenticated ",
    "Disassoc",
    "ERROR ",
    "failed ",
    "PSK-MISMATCH",
    "not allowed ",
    "Authentication failure ",
    "EAPOL-Key timeout ",
    "retry limit reached ",
    "login ",
    "192.168.1.20 ",
    "IEEE 802.11: authenticated ",
    "Gerät ",
    "x",
    ":66",
    " ",
    "42 ",
    "DHCPACK(br-lan) ",
];

#[cfg(not(target_arch = "wasm32"))]
proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Streaming = batch, bit for bit, on random streams in time order (with ties), with a
    /// state fitted on a prefix of the stream and random window widths and groups.
    #[test]
    fn stream_is_batch_on_random_streams(
        steps in prop::collection::vec(arb_step(), 0..200),
        windows in prop::sample::subsequence(vec![1u32, 5, 15, 60, 1440], 0..4),
        groups in prop::collection::vec(any::<bool>(), 6),
        fit_share in 0usize..4,
        shuffle in any::<bool>(),
    ) {
        let mut time = 1_704_067_200_000_000i64;
        let mut records: Vec<Record<'static>> = steps
            .iter()
            .enumerate()
            .map(|(index, (seconds, process, mac, fragments, level))| {
                time += seconds * 1_000_000 + i64::from(index as u8 % 3) * 250_000;
                let mut message: String = fragments.iter().map(|&f| FRAGMENTS[f]).collect();
                if index % 2 == 0 {
                    message.push_str(MACS[*mac]);
                }
                Record {
                    host: None,
                    index,
                    timestamp: time,
                    message: Cow::Owned(message),
                    process_name: Cow::Borrowed(PROCESSES[*process]),
                    level: LogLevel::ALL[*level],
                    label: (index % 7 == 0).then_some(index % 2 == 0),
                }
            })
            .collect();
        let mut features = FeatureConfig {
            groups: FeatureGroups {
                time: groups[0],
                wifi_events: groups[1],
                security: groups[2],
                text: groups[3],
                process: groups[4],
                windows: groups[5],
            },
            window_minutes: windows,
        };
        if features.check().is_err() {
            features.groups.time = true;
        }
        let config = config_with(features);
        let state = WifiAgent
            .fit(&records[..records.len() * fit_share / 4], &config)
            .expect("fits");
        if shuffle {
            // Out of order input: both sides sort stably by time first.
            records.reverse();
        }
        assert_stream_is_batch(&records, &state);
    }
}
