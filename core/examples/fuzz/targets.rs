//! The four fuzz targets: what each feeds its input to, the valid inputs its mutations start
//! from, and the invariants every outcome must keep beyond "does not panic".

use mcp_train_core::config::Config;
use mcp_train_core::export::{parse_export, ExportError, ValidateOptions};
use mcp_train_core::features::{extract, FeatureMatrix, FeatureSchema, ProcessVocabulary};
use mcp_train_core::package::zip::{read_zip, write_zip, ZipEntry, ZipLimits};
use mcp_train_core::package::{build, verify, PackageError};
use mcp_train_core::pipeline::{
    read_features_csv, train, CsvError, Hooks, ModelArtifact, Progress, TrainChoices, TrainInput,
};
use mcp_train_core::synth::{write_export, SynthConfig};

use crate::mutate::Mutator;

/// What is fuzzed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `export::parse_export`, then feature extraction of what it accepts.
    Export,
    /// `package::zip::read_zip` and `package::verify`.
    Zip,
    /// `pipeline::read_features_csv`.
    Csv,
    /// `ModelArtifact::from_json`, then scoring and packaging what it accepts.
    Model,
}

impl Target {
    pub const ALL: [Target; 4] = [Target::Export, Target::Zip, Target::Csv, Target::Model];

    pub fn name(self) -> &'static str {
        match self {
            Target::Export => "export",
            Target::Zip => "zip",
            Target::Csv => "csv",
            Target::Model => "model",
        }
    }

    pub fn parse(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Valid inputs to mutate, and the mutator that suits them.
    pub fn corpus(self) -> (Vec<Vec<u8>>, Mutator) {
        let tokens = |words: &[&str]| words.iter().map(|w| w.as_bytes().to_vec()).collect();
        match self {
            Target::Export => (
                exports(),
                Mutator {
                    dictionary: tokens(&[
                        "\"timestamp\":",
                        "\"message\":",
                        "\"process_name\":",
                        "\"level\":",
                        "\"label\":",
                        "\"records\":",
                        "\"metadata\":",
                        "\"2024-01-01T00:00:00.123456+01:00\"",
                        "\"2024-02-29T23:59:60Z\"",
                        "1e400",
                        "-0",
                        "null",
                        "\\ud83d\\ude00",
                        "\\u0000",
                        "AP-STA-CONNECTED 00:11:22:33:44:55",
                        "\u{feff}",
                    ]),
                    json: true,
                },
            ),
            Target::Zip => (
                archives(),
                Mutator {
                    dictionary: vec![
                        b"PK\x03\x04".to_vec(),
                        b"PK\x01\x02".to_vec(),
                        b"PK\x05\x06".to_vec(),
                        b"PK\x06\x07".to_vec(),
                        b"PK\x07\x08".to_vec(),
                        b"../".to_vec(),
                        b"C:".to_vec(),
                        b"/".to_vec(),
                    ],
                    json: false,
                },
            ),
            Target::Csv => (
                csvs(),
                Mutator {
                    dictionary: tokens(&[
                        "\"", "\"\"", ",", "\r\n", "\n", "label", "NaN", "inf", "1e309", "-0",
                        "true", " ", "\u{feff}", "é",
                    ]),
                    json: false,
                },
            ),
            Target::Model => (
                models().into_iter().map(|(json, _)| json).collect(),
                Mutator {
                    dictionary: tokens(&[
                        "\"n_features\":",
                        "\"threshold\":",
                        "\"left\":",
                        "\"right\":",
                        "\"feature\":",
                        "1e308",
                        "-1",
                        "null",
                    ]),
                    json: true,
                },
            ),
        }
    }

    /// Runs one input. `Ok` names the outcome (for the summary); `Err` is a broken invariant.
    pub fn run(self, input: &[u8]) -> Result<String, String> {
        match self {
            Target::Export => run_export(input),
            Target::Zip => run_zip(input),
            Target::Csv => run_csv(input),
            Target::Model => run_model(input),
        }
    }
}

/// The first words of an error message: enough to tell kinds apart in the summary.
fn kind(message: &str) -> String {
    let words: Vec<&str> = message.split_whitespace().take(4).collect();
    words.join(" ")
}

fn run_export(input: &[u8]) -> Result<String, String> {
    for drop_invalid in [false, true] {
        let options = ValidateOptions {
            drop_invalid,
            ..ValidateOptions::default()
        };
        let parsed = match parse_export(input, &options) {
            Ok(parsed) => parsed,
            Err(
                err @ (ExportError::Syntax { line, column, .. }
                | ExportError::NotAnExport { line, column, .. }),
            ) => {
                if line == 0 || column == 0 {
                    return Err(format!("error without a location: {err}"));
                }
                return Ok(format!("error: {}", kind(&err.to_string())));
            }
            Err(err) => return Ok(format!("error: {}", kind(&err.to_string()))),
        };
        let Ok(export) = parsed.into_usable() else {
            continue;
        };
        let matrix = extract(&export, &Config::defaults().model.features, None);
        if matrix.n_rows() != export.records.len() {
            return Err(format!(
                "{} records gave {} feature rows",
                export.records.len(),
                matrix.n_rows()
            ));
        }
        if let Some(bad) = matrix.data.iter().position(|v| !v.is_finite()) {
            return Err(format!(
                "feature {} of row {} is {}",
                matrix.schema.features[bad % matrix.n_cols()],
                bad / matrix.n_cols(),
                matrix.data[bad]
            ));
        }
        return Ok(format!("usable (drop_invalid: {drop_invalid})"));
    }
    Ok("invalid".to_owned())
}

fn run_zip(input: &[u8]) -> Result<String, String> {
    let read = read_zip(input, &ZipLimits::default());
    // What the reader accepts, the writer writes again and the reader reads back the same.
    if let Ok(entries) = &read {
        let again =
            write_zip(entries).map_err(|e| format!("read, but cannot be rewritten: {e}"))?;
        let mut reread = read_zip(&again, &ZipLimits::default())
            .map_err(|e| format!("rewritten, unreadable: {e}"))?;
        let mut sorted = entries.clone();
        sorted.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        reread.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        if reread != sorted {
            return Err("rewritten archive reads back differently".to_owned());
        }
    }
    let verified = verify(input);
    match (&read, &verified) {
        (Err(e), Ok(_)) => return Err(format!("verify accepts what read_zip refuses ({e})")),
        (Ok(_), Err(PackageError::Archive(e))) => {
            return Err(format!("verify refuses what read_zip reads: {e}"))
        }
        _ => {}
    }
    let Ok(verification) = verified else {
        return Ok(format!(
            "refused: {}",
            kind(
                &read
                    .err()
                    .map_or_else(|| "empty".to_owned(), |e| e.to_string())
            )
        ));
    };
    if verification.ok != verification.problems.is_empty() {
        return Err(format!(
            "ok is {} with problems {:?}",
            verification.ok, verification.problems
        ));
    }
    if verification.ok {
        // A verified package verifies again after a rewrite of the same files.
        let entries: Vec<ZipEntry> = read.unwrap_or_default();
        let again = write_zip(&entries).map_err(|e| e.to_string())?;
        let second = verify(&again).map_err(|e| format!("verified package re-verifies: {e}"))?;
        if !second.ok || second.model_version != verification.model_version {
            return Err(format!(
                "verified package fails after a rewrite: {:?}",
                second.problems
            ));
        }
        return Ok("verified".to_owned());
    }
    Ok(format!(
        "problems: {}",
        verification
            .problems
            .first()
            .map_or(String::new(), |p| kind(&p.to_string()))
    ))
}

fn run_csv(input: &[u8]) -> Result<String, String> {
    for label in [None, Some("label"), Some("b")] {
        let csv = match read_features_csv(input, label) {
            Ok(csv) => csv,
            Err(err) => {
                let located = matches!(
                    err,
                    CsvError::NotUtf8 { .. }
                        | CsvError::Ragged { .. }
                        | CsvError::Cell { .. }
                        | CsvError::Quote { .. }
                );
                if located && !err.to_string().contains("line ") {
                    return Err(format!("error without a line: {err}"));
                }
                if let CsvError::Quote {
                    line,
                    character,
                    column,
                    ..
                } = err
                {
                    if line == 0 || character == 0 || column == 0 {
                        return Err(format!("quote error with a zero location: {err}"));
                    }
                }
                continue;
            }
        };
        if csv.names.is_empty() || csv.data.len() != csv.names.len() * csv.n_rows() {
            return Err(format!(
                "{} values for {} columns",
                csv.data.len(),
                csv.names.len()
            ));
        }
        if csv.data.iter().any(|v| !v.is_finite()) {
            return Err("a value that is not finite".to_owned());
        }
        // What the reader accepts, our writer writes again and the reader reads back the same.
        let rows = csv.n_rows();
        let labels = csv.labels.clone();
        let matrix = FeatureMatrix {
            schema: FeatureSchema {
                features: csv.names.clone(),
                ..FeatureSchema::new(&Default::default(), ProcessVocabulary::default())
            },
            data: csv.data.clone(),
            record_index: (0..rows).collect(),
            timestamps: vec![0; rows],
            labels: labels.clone().unwrap_or_else(|| vec![None; rows]),
        };
        let mut written = Vec::new();
        matrix
            .write_csv(&mut written, labels.is_some())
            .map_err(|e| e.to_string())?;
        let label_column = labels.as_ref().map(|_| "label");
        // Our writer calls its label column "label": a feature column of that name cannot be
        // written beside it, and without labels it would be taken for them on the way back.
        if csv.names.iter().any(|n| n == "label") {
            return Ok("read".to_owned());
        }
        let again = read_features_csv(&written, label_column)
            .map_err(|e| format!("our own CSV of what was read is refused: {e}"))?;
        if again != csv {
            return Err(format!(
                "written again, it reads back differently: {again:?}"
            ));
        }
        return Ok(format!("read (label column: {label:?})"));
    }
    Ok("refused".to_owned())
}

fn run_model(input: &[u8]) -> Result<String, String> {
    let model = match ModelArtifact::from_json(input) {
        Ok(model) => model,
        Err(err) => return Ok(format!("refused: {}", kind(&err.to_string()))),
    };
    let again = ModelArtifact::from_json(&model.to_json())
        .map_err(|e| format!("loads, but its own JSON does not: {e}"))?;
    if again.to_json() != model.to_json() {
        return Err("loads, but its JSON does not round-trip".to_owned());
    }
    let n = model.scaler.n_features();
    let rows: Vec<f64> = [0.0, 1.0, -1e6, 1e12]
        .iter()
        .flat_map(|&v| std::iter::repeat_n(v, n))
        .collect();
    match model.score_rows(&rows) {
        Ok(scores) if scores.iter().any(|(s, d)| !s.is_finite() || !d.is_finite()) => {
            return Err(format!("scores that are not finite: {scores:?}"))
        }
        Ok(_) => {}
        Err(err) => return Ok(format!("loads, cannot score: {}", kind(&err.to_string()))),
    }
    // A model that loads and scores can be packaged, and its package verifies.
    match build(input, 1_704_153_600_000_000) {
        Ok(package) => {
            let verification = verify(&package.bytes).map_err(|e| format!("own package: {e}"))?;
            if !verification.ok {
                return Err(format!("own package fails: {:?}", verification.problems));
            }
            Ok("packaged".to_owned())
        }
        Err(err) => Ok(format!("loads, not packaged: {}", kind(&err.to_string()))),
    }
}

/// Small exports in all three formats, with labels, plus a few edge cases.
fn exports() -> Vec<Vec<u8>> {
    let mut corpus = Vec::new();
    for (records, seed) in [(12, 1), (40, 2)] {
        let config = SynthConfig {
            records,
            seed,
            ..SynthConfig::default()
        };
        let mut bytes = Vec::new();
        if let Ok(config) = config.check() {
            let _ = write_export(&config, &mut bytes);
        }
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) {
            if let Some(records) = value.get("records").and_then(|r| r.as_array()) {
                corpus.push(serde_json::to_vec(records).unwrap_or_default());
                let lines: Vec<String> = records.iter().map(|r| r.to_string()).collect();
                corpus.push(lines.join("\n").into_bytes());
            }
        }
        corpus.push(bytes);
    }
    corpus.push(
        br#"{"records":[{"timestamp":"2024-01-01T00:00:00Z","message":"x","process_name":"hostapd","level":"info"}]}"#
            .to_vec(),
    );
    corpus.push(b"[]".to_vec());
    corpus
}

/// Features CSVs as `mcp-train features` writes them, and one with quoted names.
fn csvs() -> Vec<Vec<u8>> {
    let mut corpus = Vec::new();
    if let Some(export) = exports().first() {
        if let Ok(parsed) = parse_export(export, &ValidateOptions::default()) {
            if let Ok(export) = parsed.into_usable() {
                let matrix = extract(&export, &Config::defaults().model.features, None);
                for include_label in [false, true] {
                    let mut bytes = Vec::new();
                    let _ = matrix.write_csv(&mut bytes, include_label);
                    corpus.push(bytes);
                }
            }
        }
    }
    corpus.push(b"a,b,label\r\n1,2.5,0\r\n-3,4e2,1\r\n5,6,\r\n".to_vec());
    corpus.push(b"\"x, \"\"y\"\"\",\"two\nlines\",b\n1,2,0\n3,4,1\n".to_vec());
    corpus
}

/// An Isolation Forest and a LOF trained on a small features CSV, as `(model.json, package)`.
pub fn models() -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut csv = b"a,b,c,label\n".to_vec();
    for i in 0..300u32 {
        let x = f64::from(i % 17) / 3.0;
        let y = f64::from((i * 7) % 23) - 11.0;
        let label = u8::from(i % 50 == 0);
        csv.extend_from_slice(format!("{x},{y},{},{label}\n", x * y).as_bytes());
    }
    let mut models = Vec::new();
    for lof in [false, true] {
        let mut config = Config::defaults();
        config.model.model.isolation_forest.n_estimators = 8;
        config.model.model.lof.n_neighbors = 5;
        let options = TrainChoices {
            detector: Some(if lof {
                mcp_train_core::config::DetectorKind::Lof
            } else {
                mcp_train_core::config::DetectorKind::IsolationForest
            }),
            seed: Some(7),
            ..TrainChoices::default()
        }
        .resolve(&config)
        .expect("parameters")
        .options(&config, 1_704_067_200_000_000);
        let mut progress = |_: &Progress| true;
        let trained = train(
            TrainInput::FeaturesCsv {
                bytes: &csv,
                file_name: "features.csv",
                label_column: None,
            },
            &options,
            Hooks {
                progress: &mut progress,
                elapsed_ms: &|| 0.0,
            },
        );
        if let Ok(trained) = trained {
            let json = trained.artifact.to_json();
            if let Ok(package) = build(&json, 1_704_153_600_000_000) {
                models.push((json, package.bytes));
            }
        }
    }
    models
}

/// Our packages, and small archives with stored, deflated and directory entries.
fn archives() -> Vec<Vec<u8>> {
    let mut corpus: Vec<Vec<u8>> = models().into_iter().map(|(_, package)| package).collect();
    let entry = |name: &str, data: &[u8], executable| ZipEntry {
        name: name.to_owned(),
        data: data.to_vec(),
        executable,
    };
    let small = [
        vec![entry("a.txt", b"hello", false)],
        vec![
            entry("m/model.json", "{\"x\": 1}".repeat(40).as_bytes(), false),
            entry("m/run.py", b"print('ok')\n", true),
            entry("m/empty", b"", false),
        ],
    ];
    corpus.extend(small.iter().filter_map(|entries| write_zip(entries).ok()));
    corpus
}
