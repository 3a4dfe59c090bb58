//! The one training pipeline every surface uses: export bytes + configuration + seed + "now" →
//! validated export → features → scaler → detector → evaluation → [`ModelArtifact`].
//!
//! It reports progress (stage and fraction) through a callback, which can cancel the run by
//! returning `false`; cancellation is checked between stages. The pipeline reads no clock: the
//! caller passes "now" and a stopwatch, so a web worker, the CLI and the server run it unchanged,
//! and `SOURCE_DATE_EPOCH` can make its output byte-for-byte reproducible.
//!
//! Scoring ([`score`]) and evaluation of a finished model on new data ([`evaluate`]) live here
//! too, so every surface extracts, scales and scores in exactly the same way.

mod artifact;
mod csv;
mod log;
mod params;

use std::ops::Range;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use artifact::{
    version_string, ArtifactError, Detector, Evaluation, InputSchema, Lineage, ModelArtifact,
    Threshold, TrainingInfo, MODEL_FORMAT, MODEL_FORMAT_VERSION, WIFI_LOG_TYPE,
};
pub use csv::{read_features_csv, CsvError, FeaturesCsv, QuoteProblem, DEFAULT_LABEL_COLUMN};
pub use log::{validate_log, write_export_of, ValidatedLog};
pub use params::{
    parse_contamination, parse_detector, parse_drop_invalid, parse_max_samples, parse_n_estimators,
    parse_n_neighbors, parse_seed, ParamError, TrainChoices, TrainParams, TRAIN_PARAMETERS,
};

use crate::agent::{AgentError, ParseContext};
use crate::config::{AutoOr, Config, DetectorKind, ModelSection};
use crate::evaluate::{
    check_thresholds, classification_metrics, histogram, permutation_importance,
    precision_recall_curve, roc_curve, score_stats, train_test_split, ClassificationMetrics,
    ScoreStats, ThresholdCheck,
};
use crate::export::{
    looks_like_export, parse_export_with_progress, parse_raw_log, Export, ExportError, IssueKind,
    ParsedExport, ValidateOptions, ValidationReport,
};
use crate::features::extract_with_progress;
use crate::model::{
    IsolationForestParams, LofParams, Matrix, ModelError, OutlierDetector, StandardScaler,
};
use crate::time::format_iso8601;

/// Points kept in the stored ROC and precision–recall curves.
const CURVE_POINTS: usize = 200;
/// Bins of the stored score histogram.
const HISTOGRAM_BINS: usize = 40;
/// Rows used to estimate feature importance.
const IMPORTANCE_ROWS: usize = 2_000;
/// Fewest labelled rows for a held-out evaluation.
const MIN_LABELLED_FOR_SPLIT: usize = 10;

/// A stage of the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Reading and checking the input records.
    Validate,
    /// Extracting the feature rows.
    Features,
    /// Fitting the standard scaler and scaling the rows.
    Scale,
    /// Fitting the detector.
    Fit,
    /// Scoring every row with the fitted detector.
    Score,
    /// Score statistics, held-out metrics, threshold checks and feature importance.
    Evaluate,
    /// The run is finished.
    Done,
}

impl Stage {
    /// The share of the whole run before this stage starts, and this stage's share.
    fn span(self) -> Range<f64> {
        match self {
            Stage::Validate => 0.0..0.30,
            Stage::Features => 0.30..0.50,
            Stage::Scale => 0.50..0.55,
            Stage::Fit => 0.55..0.70,
            Stage::Score => 0.70..0.85,
            Stage::Evaluate => 0.85..1.0,
            Stage::Done => 1.0..1.0,
        }
    }

    /// The stage's name as progress reports spell it (`validate`, …, `done`).
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Validate => "validate",
            Stage::Features => "features",
            Stage::Scale => "scale",
            Stage::Fit => "fit",
            Stage::Score => "score",
            Stage::Evaluate => "evaluate",
            Stage::Done => "done",
        }
    }
}

/// Where the run is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// The stage running.
    pub stage: Stage,
    /// Progress within the stage, 0–1.
    pub stage_fraction: f64,
    /// Progress of the whole run, 0–1.
    pub fraction: f64,
}

/// What the caller lends the pipeline: a progress callback (return `false` to cancel) and a
/// stopwatch in milliseconds (return 0 for reproducible output).
pub struct Hooks<'h> {
    /// Called with each progress report; returning `false` cancels the run.
    pub progress: &'h mut dyn FnMut(&Progress) -> bool,
    /// Milliseconds since the run started; return 0 for reproducible output.
    pub elapsed_ms: &'h dyn Fn() -> f64,
}

impl std::fmt::Debug for Hooks<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hooks")
    }
}

impl Hooks<'_> {
    fn report(&mut self, stage: Stage, stage_fraction: f64) -> Result<(), TrainError> {
        let span = stage.span();
        let progress = Progress {
            stage,
            stage_fraction,
            fraction: span.start + (span.end - span.start) * stage_fraction,
        };
        if (self.progress)(&progress) {
            Ok(())
        } else {
            Err(TrainError::Cancelled)
        }
    }
}

/// The training data.
#[derive(Debug, Clone, Copy)]
pub enum TrainInput<'a> {
    /// An export (JSON object, array or NDJSON).
    Export {
        /// The export's bytes.
        bytes: &'a [u8],
        /// The file's name, recorded in the lineage.
        file_name: &'a str,
        /// The log type (an agent's, e.g. `dns`); `None` learns it from the records' processes
        /// ([`crate::agent::detect_log_type`]).
        log_type: Option<&'a str>,
    },
    /// Raw log text (syslog lines), read line by line by the log type's agent.
    RawLog {
        /// The log's bytes.
        bytes: &'a [u8],
        /// The file's name, recorded in the lineage.
        file_name: &'a str,
        /// The log type; `None` recognises it from the first lines
        /// ([`crate::agent::detect_raw_log_type`]).
        log_type: Option<&'a str>,
        /// What the lines may leave out (the year of RFC 3164 timestamps).
        context: ParseContext,
    },
    /// A numeric features CSV with a header; `label_column` names an optional 0/1 column.
    FeaturesCsv {
        /// The CSV's bytes.
        bytes: &'a [u8],
        /// The file's name, recorded in the lineage.
        file_name: &'a str,
        /// Name of the 0/1 label column, if the file has one.
        label_column: Option<&'a str>,
    },
}

impl<'a> TrainInput<'a> {
    /// An export or a raw log, told apart by the first byte that is not white space (`{` or
    /// `[`: an export; anything else: raw log text). Blank input goes to the export reader, which
    /// says it is empty.
    pub fn log(
        bytes: &'a [u8],
        file_name: &'a str,
        log_type: Option<&'a str>,
        context: ParseContext,
    ) -> TrainInput<'a> {
        if looks_like_export(bytes) || is_blank(bytes) {
            TrainInput::Export {
                bytes,
                file_name,
                log_type,
            }
        } else {
            TrainInput::RawLog {
                bytes,
                file_name,
                log_type,
                context,
            }
        }
    }
}

/// Whether `bytes` hold nothing but white space (and a byte-order mark).
fn is_blank(bytes: &[u8]) -> bool {
    bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(bytes)
        .iter()
        .all(u8::is_ascii_whitespace)
}

/// What the pipeline trains with: one resolved configuration and "now". Surfaces build it with
/// [`TrainParams::options`], which writes their parameters into the configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOptions {
    /// Everything the run reads: detector and its parameters (`model.type`, the detector's
    /// `random_state` as the seed), features, `validation` (with `drop_invalid`) and
    /// `evaluation` (with the split's `random_state`).
    pub config: Config,
    /// "Now", microseconds since the epoch (UTC): the model's creation time and version.
    pub now_micros: i64,
    /// Analysts' verdicts: records confirmed as anomalies (`resolved`) are left out of the
    /// training set ([`Trained::feedback_excluded`] counts them).
    pub feedback: Option<crate::anomalies::Feedback>,
    /// Keep every training row's score ([`Trained::scores`]): the rows `mcp-train score` would
    /// write for the same input, from the scoring pass training makes anyway.
    pub keep_scores: bool,
}

/// Why training or scoring stopped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrainError {
    /// The export cannot be read or fails validation.
    #[error(transparent)]
    Export(#[from] ExportError),
    /// The features CSV cannot be read.
    #[error(transparent)]
    Csv(#[from] CsvError),
    /// The detector or scaler refused the data or its parameters.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The model file cannot be used.
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
    /// The log type has no agent, or its agent refuses the model or its feature state.
    #[error(transparent)]
    Agent(#[from] AgentError),
    /// Fewer than two rows to train on.
    #[error("need at least 2 rows to train, found {found}")]
    TooFewRows {
        /// Usable rows in the data.
        found: usize,
    },
    /// A features CSV whose columns are not the model's; `column` counts from 1.
    #[error("features CSV columns differ from the model's at column {column} (model: {model}; file: {file})")]
    ColumnMismatch {
        /// 1-based column where the names first differ.
        column: usize,
        /// The model's feature at that column, or `(none)`.
        model: String,
        /// The file's column there, or `(none)`.
        file: String,
    },
    /// Evaluation of data without labels.
    #[error("the data has no labels (label 0/1 or is_anomaly true/false); evaluation needs them")]
    NoLabels,
    /// An export given to a model trained on a features CSV.
    #[error(
        "this model was trained on a features CSV; score a features CSV with the same columns"
    )]
    ExportForCsvModel,
    /// A features CSV given to a model trained on exports.
    #[error("this model was trained on an export; score an export (its features are extracted with the model's schema)")]
    CsvForExportModel,
    /// The caller's progress callback asked to stop.
    #[error("cancelled")]
    Cancelled,
}

/// A trained model and, for exports, the validation report of its data.
#[derive(Debug, Clone, PartialEq)]
pub struct Trained {
    /// The trained model, as written to `model.json`.
    pub artifact: ModelArtifact,
    /// What validation found in the export; `None` for a features CSV.
    pub report: Option<ValidationReport>,
    /// Records left out because an analyst confirmed them as anomalies
    /// ([`TrainOptions::feedback`]).
    pub feedback_excluded: usize,
    /// With [`TrainOptions::keep_scores`]: every training row scored by the model, in record
    /// order, equal to what [`score`] gives on the same input (records left out by
    /// [`TrainOptions::feedback`] are not among them).
    pub scores: Option<Vec<ScoredRow>>,
}

/// Where each row of an export or raw log came from: its record's index and timestamp.
struct Origins {
    record_index: Vec<usize>,
    timestamps: Vec<i64>,
}

/// Feature rows ready for the detector, with what the report needs about them.
struct Prepared {
    log_type: String,
    protocol_version: String,
    input: InputSchema,
    data: Vec<f64>,
    n_cols: usize,
    labels: Vec<Option<bool>>,
    report: Option<ValidationReport>,
    lineage: Lineage,
    dropped: usize,
    /// Records left out on analysts' verdicts.
    feedback_excluded: usize,
    /// Each row's record; `None` for a features CSV, whose rows are their own index.
    origins: Option<Origins>,
}

/// `mcp-train <version>`: what wrote a file.
pub fn generator() -> String {
    format!("mcp-train {}", env!("CARGO_PKG_VERSION"))
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    // Fed in slices rather than in one call: browsers compile wasm first with a quick baseline
    // compiler and only optimise a function for its *next* call, so one call over a 300 MB
    // export would run unoptimised throughout (about 18 MB/s in Chromium instead of ~200).
    let mut hasher = Sha256::new();
    for chunk in bytes.chunks(64 * 1024) {
        hasher.update(chunk);
    }
    crate::display::hex(&hasher.finalize())
}

/// Log records of any log type, read and validated, with the log type that reads them.
struct LogRecords<'a> {
    log_type: String,
    export: Export<'a>,
    report: ValidationReport,
}

/// Reads an export or raw log of `log_type` (`None`: recognised from the records) and checks
/// it. Raw logs are read by the log type's agent; exports of every type by the export reader.
fn read_log<'a>(
    bytes: &'a [u8],
    raw: Option<&ParseContext>,
    log_type: Option<&str>,
    options: &ValidateOptions,
) -> Result<LogRecords<'a>, TrainError> {
    let (parsed, log_type): (ParsedExport<'a>, String) = match raw {
        Some(context) => {
            let log_type = match log_type {
                Some(t) => t,
                None => crate::agent::detect_raw_log_type(bytes, context),
            };
            let agent = crate::agent::agent(log_type)?;
            (
                parse_raw_log(bytes, agent, context, options)?,
                log_type.to_owned(),
            )
        }
        None => {
            if let Some(t) = log_type.filter(|t| *t != WIFI_LOG_TYPE) {
                crate::agent::agent(t)?;
            }
            let parsed = parse_export_with_progress(bytes, options, |_| {})?;
            let log_type = match log_type {
                Some(t) => t.to_owned(),
                None => crate::agent::detect_log_type(&parsed.export.records).to_owned(),
            };
            (parsed, log_type)
        }
    };
    let mut report = parsed.report.clone();
    if log_type != WIFI_LOG_TYPE {
        // The share of WiFi processes only means something for WiFi logs.
        report
            .warnings
            .retain(|g| g.kind != IssueKind::FewWifiRecords);
    }
    let export = ParsedExport {
        export: parsed.export,
        report: report.clone(),
    }
    .into_usable()?;
    Ok(LogRecords {
        log_type,
        export,
        report,
    })
}

/// Validates a log and extracts its rows: the `wifi-v1` extractor for WiFi, the log type's
/// agent (fitted on these records) for the others.
fn prepare_log(
    bytes: &[u8],
    file_name: &str,
    raw: Option<&ParseContext>,
    log_type: Option<&str>,
    options: &TrainOptions,
    hooks: &mut Hooks<'_>,
) -> Result<Prepared, TrainError> {
    hooks.report(Stage::Validate, 0.0)?;
    let validate = &options.config.training.validation;
    // The hash of the input on a thread of its own while the records are read.
    let (sha256, records) = crate::parallel::join(
        || sha256_hex(bytes),
        || read_log(bytes, raw, log_type, validate),
    );
    let LogRecords {
        log_type,
        mut export,
        report,
    } = records?;
    let mut feedback_excluded = 0;
    if let Some(feedback) = &options.feedback {
        let before = export.records.len();
        export
            .records
            .retain(|r| feedback.verdict(&log_type, r) != Some(true));
        feedback_excluded = before - export.records.len();
    }
    let dropped = report.dropped.as_ref().map_or(0, |d| d.count);
    hooks.report(Stage::Validate, 1.0)?;
    hooks.report(Stage::Features, 0.0)?;
    let (input, data, n_cols, labels, protocol_version, origins) = if log_type == WIFI_LOG_TYPE {
        // Cancellation waits for the end of the stage; the fraction is only reported.
        let matrix = extract_with_progress(
            &export,
            &options.config.model.features,
            None,
            &mut |done, total| {
                if total > 0 {
                    let _ = hooks.report(Stage::Features, done as f64 / total as f64);
                }
            },
        );
        let n_cols = matrix.n_cols();
        (
            InputSchema::Export(matrix.schema),
            matrix.data,
            n_cols,
            matrix.labels,
            crate::agent::PROTOCOL_VERSION,
            Origins {
                record_index: matrix.record_index,
                timestamps: matrix.timestamps,
            },
        )
    } else {
        let agent = crate::agent::agent(&log_type)?;
        let state = agent.fit(&export.records, &options.config)?;
        let rows = agent.extract(&export.records, &state)?;
        if rows.width != state.features.len() {
            return Err(TrainError::Agent(AgentError::BadState(format!(
                "the {log_type} agent gives rows of {} values for {} features",
                rows.width,
                state.features.len()
            ))));
        }
        (
            InputSchema::Agent(state),
            rows.data,
            rows.width,
            rows.labels,
            agent.info().protocol_version,
            Origins {
                record_index: rows.record_index,
                timestamps: rows.timestamps,
            },
        )
    };
    hooks.report(Stage::Features, 1.0)?;
    let lineage = Lineage {
        source: if raw.is_some() { "raw_log" } else { "export" }.to_owned(),
        file_name: file_name.to_owned(),
        size_bytes: bytes.len() as u64,
        sha256,
        export_id: export.metadata.as_ref().and_then(|m| m.export_id.clone()),
        records: export.records.len(),
        time_range: report.summary.time_range.clone(),
    };
    Ok(Prepared {
        log_type,
        protocol_version: protocol_version.to_owned(),
        input,
        data,
        n_cols,
        labels,
        report: Some(report),
        lineage,
        dropped,
        feedback_excluded,
        origins: Some(origins),
    })
}

fn prepare(
    input: TrainInput<'_>,
    options: &TrainOptions,
    hooks: &mut Hooks<'_>,
) -> Result<Prepared, TrainError> {
    match input {
        TrainInput::Export {
            bytes,
            file_name,
            log_type,
        } => prepare_log(bytes, file_name, None, log_type, options, hooks),
        TrainInput::RawLog {
            bytes,
            file_name,
            log_type,
            context,
        } => prepare_log(bytes, file_name, Some(&context), log_type, options, hooks),
        TrainInput::FeaturesCsv {
            bytes,
            file_name,
            label_column,
        } => {
            hooks.report(Stage::Features, 0.0)?;
            // The hash of the input on a thread of its own while the rows are read.
            let (sha256, csv) = crate::parallel::join(
                || sha256_hex(bytes),
                || read_features_csv(bytes, label_column),
            );
            let csv = csv?;
            let rows = csv.n_rows();
            hooks.report(Stage::Features, 1.0)?;
            Ok(Prepared {
                log_type: WIFI_LOG_TYPE.to_owned(),
                protocol_version: crate::agent::PROTOCOL_VERSION.to_owned(),
                n_cols: csv.names.len(),
                input: InputSchema::FeaturesCsv {
                    features: csv.names,
                },
                data: csv.data,
                labels: csv.labels.unwrap_or_else(|| vec![None; rows]),
                report: None,
                feedback_excluded: 0,
                lineage: Lineage {
                    source: "features_csv".to_owned(),
                    file_name: file_name.to_owned(),
                    size_bytes: bytes.len() as u64,
                    sha256,
                    export_id: None,
                    records: rows,
                    time_range: None,
                },
                dropped: 0,
                origins: None,
            })
        }
    }
}

/// Rows `indices` of a row-major matrix, copied (in parts at the same time).
fn take_rows(data: &[f64], n_cols: usize, indices: &[usize]) -> Vec<f64> {
    let mut out = vec![0.0; indices.len() * n_cols];
    if n_cols == 0 {
        return out;
    }
    let part_rows = indices.len().div_ceil(crate::parallel::threads()).max(1);
    let parts: Vec<_> = out
        .chunks_mut(part_rows * n_cols)
        .zip(indices.chunks(part_rows))
        .collect();
    crate::parallel::map(parts, |(out, indices)| {
        for (row, &i) in out.chunks_exact_mut(n_cols).zip(indices) {
            row.copy_from_slice(&data[i * n_cols..(i + 1) * n_cols]);
        }
    });
    out
}

/// Splits rows into (fit, test): unlabelled rows always train; labelled rows are split
/// (stratified, seeded) when there are enough of them.
fn split(labels: &[Option<bool>], test_size: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let labelled: Vec<usize> = (0..labels.len()).filter(|&i| labels[i].is_some()).collect();
    if labelled.len() < MIN_LABELLED_FOR_SPLIT {
        return ((0..labels.len()).collect(), Vec::new());
    }
    let classes: Vec<bool> = labelled.iter().map(|&i| labels[i] == Some(true)).collect();
    let (train, test) = train_test_split(&classes, test_size, seed);
    let mut fit: Vec<usize> = (0..labels.len()).filter(|&i| labels[i].is_none()).collect();
    fit.extend(train.iter().map(|&k| labelled[k]));
    fit.sort_unstable();
    let test: Vec<usize> = test.iter().map(|&k| labelled[k]).collect();
    (fit, test)
}

/// The training rows scaled, and the scaler fitted on the rows the detector sees.
struct Scaled {
    scaler: StandardScaler,
    /// Every row, scaled (row-major).
    all: Vec<f64>,
    /// The fit rows, scaled, when they are not all rows (labelled rows were held out).
    fit: Option<Vec<f64>>,
}

/// Fits the scaler on the fit rows and scales every row.
fn scale(
    data: Vec<f64>,
    n_cols: usize,
    fit_rows: &[usize],
    hooks: &mut Hooks<'_>,
) -> Result<Scaled, TrainError> {
    hooks.report(Stage::Scale, 0.0)?;
    let n_rows = data.len() / n_cols;
    // Without a held-out part every row trains: no copies of a matrix that may be 1 M rows.
    let all_fit = fit_rows.len() == n_rows;
    let scaler = if all_fit {
        StandardScaler::fit(Matrix::new(&data, n_cols)?)?
    } else {
        // The fit rows in their order, read where they are.
        let rows = fit_rows
            .iter()
            .map(|&i| &data[i * n_cols..(i + 1) * n_cols]);
        StandardScaler::fit_rows(rows, n_cols)
    };
    let mut all = data;
    // Each row on its own, so the parts are scaled at the same time.
    let part_rows = n_rows.div_ceil(crate::parallel::threads()).max(1);
    let parts: Vec<&mut [f64]> = all.chunks_mut(part_rows * n_cols).collect();
    crate::parallel::map(parts, |part| {
        part.chunks_exact_mut(n_cols)
            .try_for_each(|row| scaler.transform_row(row))
    })
    .into_iter()
    .collect::<Result<(), _>>()?;
    let fit = (!all_fit).then(|| take_rows(&all, n_cols, fit_rows));
    hooks.report(Stage::Scale, 1.0)?;
    Ok(Scaled { scaler, all, fit })
}

/// The seed of a run: the chosen detector's `random_state`.
fn seed(model: &ModelSection) -> u64 {
    match model.kind {
        DetectorKind::IsolationForest => model.isolation_forest.random_state,
        DetectorKind::Lof => model.lof.random_state,
    }
}

/// Fits the configured detector on `x`; returns it with its threshold method.
fn fit(
    model: &ModelSection,
    x: Matrix<'_>,
    hooks: &mut Hooks<'_>,
) -> Result<(Detector, String), TrainError> {
    hooks.report(Stage::Fit, 0.0)?;
    let fitted = match model.kind {
        DetectorKind::IsolationForest => {
            let params = model.isolation_forest.clone();
            let fitted = IsolationForestParams::from(params.clone())
                .check()?
                .fit(x)?;
            let method = contamination_method(params.contamination);
            (
                Detector::IsolationForest {
                    params,
                    model: fitted,
                },
                method,
            )
        }
        DetectorKind::Lof => {
            let params = model.lof.clone();
            let fitted = LofParams::from(params.clone()).check()?.fit(x)?;
            let method = contamination_method(params.contamination);
            (
                Detector::Lof {
                    params,
                    model: fitted,
                },
                method,
            )
        }
    };
    hooks.report(Stage::Fit, 1.0)?;
    Ok(fitted)
}

/// Scores every (scaled) row.
fn score_rows(
    detector: &Detector,
    scaled: &[f64],
    n_cols: usize,
    hooks: &mut Hooks<'_>,
) -> Result<Vec<f64>, TrainError> {
    hooks.report(Stage::Score, 0.0)?;
    let all = Matrix::new(scaled, n_cols)?;
    let mut scores = vec![0.0; all.n_rows()];
    crate::model::score_in_parallel(detector, all, &mut scores)?;
    hooks.report(Stage::Score, 1.0)?;
    Ok(scores)
}

/// What the evaluation stage needs about the run.
struct EvaluationInput<'a> {
    config: &'a Config,
    detector: &'a Detector,
    scaled: &'a [f64],
    n_cols: usize,
    names: &'a [String],
    scores: &'a [f64],
    labels: &'a [Option<bool>],
    test_rows: &'a [usize],
    seed: u64,
}

/// Score statistics, metrics and curves on the held-out rows, threshold checks and feature
/// importance.
fn evaluate_training(
    e: EvaluationInput<'_>,
    hooks: &mut Hooks<'_>,
) -> Result<Evaluation, TrainError> {
    hooks.report(Stage::Evaluate, 0.0)?;
    let (scores, labels, n_cols) = (e.scores, e.labels, e.n_cols);
    let offset = e.detector.offset();
    let anomalies = scores.iter().filter(|&&s| s - offset < 0.0).count();
    let anomaly_ratio = anomalies as f64 / scores.len() as f64;
    let (metrics, roc, pr) = if e.test_rows.is_empty() {
        (None, None, None)
    } else {
        let test_labels: Vec<bool> = e
            .test_rows
            .iter()
            .map(|&i| labels[i] == Some(true))
            .collect();
        let predicted: Vec<bool> = e
            .test_rows
            .iter()
            .map(|&i| scores[i] - offset < 0.0)
            .collect();
        let anomaly_scores: Vec<f64> = e.test_rows.iter().map(|&i| -scores[i]).collect();
        (
            Some(classification_metrics(
                &test_labels,
                &predicted,
                &anomaly_scores,
            )),
            roc_curve(&test_labels, &anomaly_scores, CURVE_POINTS),
            precision_recall_curve(&test_labels, &anomaly_scores, CURVE_POINTS),
        )
    };
    hooks.report(Stage::Evaluate, 0.5)?;
    let mut score_scaled = |rows: &[f64]| -> Vec<f64> {
        let mut out = vec![0.0; rows.len() / n_cols.max(1)];
        match Matrix::new(rows, n_cols) {
            Ok(m) if e.detector.score_samples_into(m, &mut out).is_ok() => out,
            _ => vec![0.0; out.len()],
        }
    };
    let feature_importance = permutation_importance(
        e.scaled,
        n_cols,
        e.names,
        &mut score_scaled,
        e.seed,
        IMPORTANCE_ROWS,
    );
    let evaluation = &e.config.training.evaluation;
    let result = Evaluation {
        score_stats: score_stats(scores, &evaluation.score_percentiles),
        anomaly_ratio,
        score_histogram: histogram(scores, HISTOGRAM_BINS),
        threshold_checks: check_thresholds(&evaluation.thresholds, metrics.as_ref(), anomaly_ratio),
        metrics,
        roc_curve: roc,
        pr_curve: pr,
        feature_importance,
    };
    hooks.report(Stage::Evaluate, 1.0)?;
    Ok(result)
}

/// Trains a model with the configuration in `options`: prepare (validate and extract, or read
/// a features CSV) → split → scale → fit → score → evaluate → [`ModelArtifact`].
pub fn train(
    input: TrainInput<'_>,
    options: &TrainOptions,
    mut hooks: Hooks<'_>,
) -> Result<Trained, TrainError> {
    let started = (hooks.elapsed_ms)();
    let Prepared {
        log_type,
        protocol_version,
        input,
        data,
        n_cols,
        labels,
        report,
        lineage,
        dropped,
        feedback_excluded,
        origins,
    } = prepare(input, options, &mut hooks)?;
    let n_rows = data.len().checked_div(n_cols).unwrap_or(0);
    if n_rows < 2 {
        return Err(TrainError::TooFewRows { found: n_rows });
    }
    let config = &options.config;
    let seed = seed(&config.model.model);
    let evaluation = &config.training.evaluation;
    let (fit_rows, test_rows) = split(&labels, evaluation.test_size, evaluation.random_state);

    let Scaled {
        scaler,
        all: rows,
        fit: fit_scaled,
    } = scale(data, n_cols, &fit_rows, &mut hooks)?;
    let fit_matrix = Matrix::new(fit_scaled.as_deref().unwrap_or(&rows), n_cols)?;
    let (detector, method) = fit(&config.model.model, fit_matrix, &mut hooks)?;
    drop(fit_scaled);
    let scores = score_rows(&detector, &rows, n_cols, &mut hooks)?;
    let evaluation = evaluate_training(
        EvaluationInput {
            config,
            detector: &detector,
            scaled: &rows,
            n_cols,
            names: input.feature_names(),
            scores: &scores,
            labels: &labels,
            test_rows: &test_rows,
            seed,
        },
        &mut hooks,
    )?;

    let duration_ms = ((hooks.elapsed_ms)() - started).max(0.0);
    let artifact = ModelArtifact {
        format: MODEL_FORMAT.to_owned(),
        format_version: MODEL_FORMAT_VERSION,
        version: version_string(options.now_micros),
        created_at: format_iso8601(options.now_micros),
        generator: generator(),
        log_type,
        protocol_version,
        threshold: Threshold {
            offset: detector.offset(),
            decision_threshold: 0.0,
            method,
        },
        training: TrainingInfo {
            samples: fit_rows.len(),
            features: n_cols,
            test_samples: test_rows.len(),
            seed,
            duration_ms,
            dropped_records: dropped,
            labelled: labels.iter().any(Option::is_some),
        },
        input,
        scaler,
        detector,
        evaluation,
        lineage,
    };
    artifact.check()?;
    let offset = artifact.threshold.offset;
    let scores = options.keep_scores.then(|| {
        let pairs = scores.iter().map(|&s| (s, s - offset)).collect();
        scored_rows(pairs, &labels, origins)
    });
    hooks.report(Stage::Done, 1.0)?;
    Ok(Trained {
        artifact,
        report,
        feedback_excluded,
        scores,
    })
}

/// Rows' `(score, decision)` pairs (row order) as [`score`] lists them: by record index, with
/// the record's timestamp, for an export or raw log (`origins`); by row for a features CSV.
fn scored_rows(
    scored: Vec<(f64, f64)>,
    labels: &[Option<bool>],
    origins: Option<Origins>,
) -> Vec<ScoredRow> {
    let row = |i: usize, (score, decision): (f64, f64), index, timestamp| ScoredRow {
        index,
        timestamp,
        score,
        decision,
        is_anomaly: decision < 0.0,
        label: labels.get(i).copied().flatten(),
    };
    let scored = scored.into_iter().enumerate();
    match origins {
        None => scored.map(|(i, s)| row(i, s, i, None)).collect(),
        Some(Origins {
            record_index,
            timestamps,
        }) => {
            let mut rows: Vec<ScoredRow> = scored
                .map(|(i, s)| row(i, s, record_index[i], Some(format_iso8601(timestamps[i]))))
                .collect();
            rows.sort_by_key(|r| r.index);
            rows
        }
    }
}

fn contamination_method(c: AutoOr<f64>) -> String {
    match c {
        AutoOr::Auto => "auto".to_owned(),
        AutoOr::Value(v) => format!("contamination={v}"),
    }
}

/// One scored record (or CSV row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredRow {
    /// Record index in the export (0-based, counting dropped records), or CSV data row (0-based).
    pub index: usize,
    /// The record's timestamp (exports only), RFC 3339 UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// The model's anomaly score (lower is more anomalous).
    pub score: f64,
    /// Score minus the model's offset; below 0 is an anomaly.
    pub decision: f64,
    /// Whether the model flags the row as an anomaly.
    pub is_anomaly: bool,
    /// The row's label, when the data carries one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<bool>,
}

/// The file formats of scored rows (`mcp-train score --format`, the wheel's `score_file`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoresFormat {
    /// `index,timestamp,score,decision,is_anomaly,label`, one line per row.
    Csv,
    /// One JSON array of [`ScoredRow`]s and a newline.
    Json,
}

impl ScoresFormat {
    /// `csv` or `json`.
    pub fn parse(s: &str) -> Result<ScoresFormat, String> {
        match s {
            "csv" => Ok(ScoresFormat::Csv),
            "json" => Ok(ScoresFormat::Json),
            _ => Err(format!("expected \"csv\" or \"json\", found {s:?}")),
        }
    }
}

/// Writes `rows` (only those flagged as anomalies with `only_anomalies`) in `format`: the one
/// writer of score files.
pub fn write_scores(
    rows: &[ScoredRow],
    only_anomalies: bool,
    format: ScoresFormat,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let rows: Vec<&ScoredRow> = rows
        .iter()
        .filter(|r| !only_anomalies || r.is_anomaly)
        .collect();
    match format {
        ScoresFormat::Json => {
            serde_json::to_writer(&mut *w, &rows)?;
            writeln!(w)
        }
        ScoresFormat::Csv => {
            writeln!(w, "index,timestamp,score,decision,is_anomaly,label")?;
            // Lines formatted on all cores a round at a time (memory stays bounded), written in
            // order.
            const PIECE_ROWS: usize = 32_768;
            let threads = crate::parallel::threads();
            for round in rows.chunks(PIECE_ROWS * threads) {
                let texts = crate::parallel::map(round.chunks(PIECE_ROWS).collect(), |rows| {
                    let mut text = Vec::with_capacity(rows.len() * 64);
                    rows.iter().try_for_each(|r| write_csv_row(r, &mut text))?;
                    Ok::<_, std::io::Error>(text)
                });
                for text in texts {
                    w.write_all(&text?)?;
                }
            }
            Ok(())
        }
    }
}

/// One line of a scores CSV (floats in Rust's shortest round-trip form).
fn write_csv_row(r: &ScoredRow, w: &mut Vec<u8>) -> std::io::Result<()> {
    use std::io::Write;
    let label = match r.label {
        None => "",
        Some(false) => "0",
        Some(true) => "1",
    };
    writeln!(
        w,
        "{},{},{},{},{},{label}",
        r.index,
        r.timestamp.as_deref().unwrap_or(""),
        r.score,
        r.decision,
        u8::from(r.is_anomaly)
    )
}

/// Scored data, in input order.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// One entry per scored row, in input order.
    pub rows: Vec<ScoredRow>,
    /// What validation found in the export; `None` for a features CSV.
    pub report: Option<ValidationReport>,
    /// Records whose label came from an analyst's verdict ([`evaluate_with_feedback`]).
    pub feedback_labels: usize,
}

/// Data to score or evaluate with a finished model.
#[derive(Debug, Clone, Copy)]
pub enum ScoreInput<'a> {
    /// An export; its features are extracted with the model's schema.
    Export {
        /// The export's bytes (JSON object, array or NDJSON).
        bytes: &'a [u8],
        /// How to validate the records (e.g. whether invalid ones are dropped).
        options: &'a ValidateOptions,
    },
    /// Raw log text of the model's log type, read by its agent.
    RawLog {
        /// The log's bytes.
        bytes: &'a [u8],
        /// How to validate the lines (e.g. whether unreadable ones are dropped).
        options: &'a ValidateOptions,
        /// What the lines may leave out (the year of RFC 3164 timestamps).
        context: ParseContext,
    },
    /// A numeric features CSV with the model's columns.
    FeaturesCsv {
        /// The CSV's bytes.
        bytes: &'a [u8],
        /// Name of the 0/1 label column, if the file has one.
        label_column: Option<&'a str>,
    },
}

impl<'a> ScoreInput<'a> {
    /// An export or a raw log, told apart as [`TrainInput::log`] does.
    pub fn log(
        bytes: &'a [u8],
        options: &'a ValidateOptions,
        context: ParseContext,
    ) -> ScoreInput<'a> {
        if looks_like_export(bytes) || is_blank(bytes) {
            ScoreInput::Export { bytes, options }
        } else {
            ScoreInput::RawLog {
                bytes,
                options,
                context,
            }
        }
    }
}

/// Scores the records of an export or raw log with a model of any log type: the model's
/// agent must serve it (log type, feature schema, protocol version) before anything is read.
fn score_log(
    artifact: &ModelArtifact,
    bytes: &[u8],
    raw: Option<&ParseContext>,
    options: &ValidateOptions,
    feedback: Option<&crate::anomalies::Feedback>,
) -> Result<Scored, TrainError> {
    if !crate::agent::protocol_compatible(&artifact.protocol_version) {
        return Err(TrainError::Agent(AgentError::IncompatibleProtocol {
            model: artifact.protocol_version.clone(),
            agent: crate::agent::PROTOCOL_VERSION.to_owned(),
        }));
    }
    let agent = match &artifact.input {
        InputSchema::Agent(state) => {
            let agent = crate::agent::agent(&artifact.log_type)?;
            crate::agent::check_model(
                agent,
                &state.log_type,
                &state.schema,
                &artifact.protocol_version,
            )?;
            Some(agent)
        }
        _ => None,
    };
    let LogRecords {
        mut export, report, ..
    } = read_log(bytes, raw, Some(&artifact.log_type), options)?;
    let mut feedback_labels = 0;
    if let Some(feedback) = feedback {
        for record in &mut export.records {
            if let Some(verdict) = feedback.verdict(&artifact.log_type, record) {
                record.label = Some(verdict);
                feedback_labels += 1;
            }
        }
    }
    let (data, record_index, timestamps, labels) = match (&artifact.input, agent) {
        (InputSchema::Agent(state), Some(agent)) => {
            let rows = agent.extract(&export.records, state)?;
            (rows.data, rows.record_index, rows.timestamps, rows.labels)
        }
        (InputSchema::Export(schema), _) => {
            let matrix =
                crate::features::extract(&export, &schema.config, Some(&schema.vocabulary));
            (
                matrix.data,
                matrix.record_index,
                matrix.timestamps,
                matrix.labels,
            )
        }
        _ => return Err(TrainError::CsvForExportModel),
    };
    let origins = Origins {
        record_index,
        timestamps,
    };
    let rows = scored_rows(artifact.score_rows(&data)?, &labels, Some(origins));
    Ok(Scored {
        rows,
        report: Some(report),
        feedback_labels,
    })
}

/// Scores every record of an export or raw log (or row of a features CSV) with a model.
pub fn score(artifact: &ModelArtifact, input: ScoreInput<'_>) -> Result<Scored, TrainError> {
    score_with(artifact, input, None)
}

fn score_with(
    artifact: &ModelArtifact,
    input: ScoreInput<'_>,
    feedback: Option<&crate::anomalies::Feedback>,
) -> Result<Scored, TrainError> {
    match (input, &artifact.input) {
        (ScoreInput::Export { bytes, options }, InputSchema::Export(_) | InputSchema::Agent(_)) => {
            score_log(artifact, bytes, None, options, feedback)
        }
        (
            ScoreInput::RawLog {
                bytes,
                options,
                context,
            },
            InputSchema::Export(_) | InputSchema::Agent(_),
        ) => score_log(artifact, bytes, Some(&context), options, feedback),
        (
            ScoreInput::FeaturesCsv {
                bytes,
                label_column,
            },
            InputSchema::FeaturesCsv { features },
        ) => {
            let csv = read_features_csv(bytes, label_column)?;
            if &csv.names != features {
                let at = csv
                    .names
                    .iter()
                    .zip(features)
                    .position(|(a, b)| a != b)
                    .unwrap_or(csv.names.len().min(features.len()));
                return Err(TrainError::ColumnMismatch {
                    column: at + 1,
                    model: features.get(at).map_or("(none)", String::as_str).to_owned(),
                    file: csv
                        .names
                        .get(at)
                        .map_or("(none)", String::as_str)
                        .to_owned(),
                });
            }
            let labels = csv.labels.unwrap_or_default();
            let rows = scored_rows(artifact.score_rows(&csv.data)?, &labels, None);
            Ok(Scored {
                rows,
                report: None,
                feedback_labels: 0,
            })
        }
        (
            ScoreInput::Export { .. } | ScoreInput::RawLog { .. },
            InputSchema::FeaturesCsv { .. },
        ) => Err(TrainError::ExportForCsvModel),
        (ScoreInput::FeaturesCsv { .. }, InputSchema::Export(_) | InputSchema::Agent(_)) => {
            Err(TrainError::CsvForExportModel)
        }
    }
}

/// Metrics of a model on labelled data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EvaluationResult {
    /// Version of the evaluated model.
    pub model_version: String,
    /// Rows scored.
    pub samples: usize,
    /// Rows with a label, all of which count in the metrics.
    pub labelled: usize,
    /// Accuracy, precision, recall, F1 and ROC AUC on the labelled rows.
    pub metrics: ClassificationMetrics,
    /// Statistics of the scores over all rows.
    pub score_stats: ScoreStats,
    /// Share of rows the model flags as anomalies, in `[0, 1]`.
    pub anomaly_ratio: f64,
    /// Each configured acceptance threshold and whether the model met it.
    pub threshold_checks: Vec<ThresholdCheck>,
}

/// Evaluates a model on labelled data (every labelled row counts).
pub fn evaluate(
    artifact: &ModelArtifact,
    input: ScoreInput<'_>,
    config: &Config,
) -> Result<EvaluationResult, TrainError> {
    evaluate_with_feedback(artifact, input, config, None).map(|(result, _)| result)
}

/// [`evaluate`], with analysts' verdicts as labels: a record an analyst judged takes the
/// verdict as its label (over the one in the data). Also answers how many records did.
pub fn evaluate_with_feedback(
    artifact: &ModelArtifact,
    input: ScoreInput<'_>,
    config: &Config,
    feedback: Option<&crate::anomalies::Feedback>,
) -> Result<(EvaluationResult, usize), TrainError> {
    let scored = score_with(artifact, input, feedback)?;
    let feedback_labels = scored.feedback_labels;
    let labelled: Vec<&ScoredRow> = scored.rows.iter().filter(|r| r.label.is_some()).collect();
    if labelled.is_empty() {
        return Err(TrainError::NoLabels);
    }
    let labels: Vec<bool> = labelled.iter().map(|r| r.label == Some(true)).collect();
    let predicted: Vec<bool> = labelled.iter().map(|r| r.is_anomaly).collect();
    let anomaly_scores: Vec<f64> = labelled.iter().map(|r| -r.score).collect();
    let metrics = classification_metrics(&labels, &predicted, &anomaly_scores);
    let scores: Vec<f64> = scored.rows.iter().map(|r| r.score).collect();
    let anomaly_ratio = scored.rows.iter().filter(|r| r.is_anomaly).count() as f64
        / scored.rows.len().max(1) as f64;
    let result = EvaluationResult {
        model_version: artifact.version.clone(),
        samples: scored.rows.len(),
        labelled: labelled.len(),
        threshold_checks: check_thresholds(
            &config.training.evaluation.thresholds,
            Some(&metrics),
            anomaly_ratio,
        ),
        metrics,
        score_stats: score_stats(&scores, &config.training.evaluation.score_percentiles),
        anomaly_ratio,
    };
    Ok((result, feedback_labels))
}

#[cfg(test)]
mod agent_tests;
#[cfg(test)]
mod tests;
