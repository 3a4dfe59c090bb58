//! The product functions for Python: validate, import, features, train, score, evaluate, build
//! and verify packages — each the core call the `mcp-train` CLI makes (server/src/cli/*.rs), with
//! the built-in configuration, so a file gives the same bytes here as there. Inputs are bytes
//! (the Python layer reads files); the clock comes in as arguments (`now_micros`, `year`), as
//! the core wants. Work runs with the GIL released.
//!
//! Results the CLI prints as JSON come back as JSON text (`json.loads` in the Python layer);
//! large per-row results come back as numpy arrays.

use std::time::Instant;

use mcp_train_core::agent::{builtin_log_schema_yaml, LogSchema, ParseContext};
use mcp_train_core::config::Config;
use mcp_train_core::export::{
    parse_export, parse_export_for_detection, ValidateOptions, ValidationReport,
};
use mcp_train_core::features::extract;
use mcp_train_core::package::{self, PackagedModel};
use mcp_train_core::pipeline::{
    self, validate_log, write_export_of, Hooks, InputSchema, ModelArtifact, ScoreInput,
    TrainChoices, TrainError, TrainInput, ValidatedLog,
};
use ndarray::Array2;
use numpy::{PyArray1, PyArray2};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes};

use crate::errors::{error, package_error, param_error, train_error};

/// The CLI's validation options under the built-in configuration, with `--drop-invalid`.
fn validate_options(config: &Config, drop_invalid: bool) -> ValidateOptions {
    let mut options = config.training.validation.clone();
    options.drop_invalid |= drop_invalid;
    options
}

/// Reads `bytes` as a log of `log_type` (or the recognised type) against the built-in log
/// schemas, as `mcp-train validate` and `import` do. `Ok(Err(report))`: the log cannot be read.
fn read_log<'a>(
    bytes: &'a [u8],
    log_type: Option<&str>,
    year: i32,
    options: &ValidateOptions,
) -> PyResult<Result<ValidatedLog<'a>, ValidationReport>> {
    let mut missing_schema = None;
    let context = ParseContext { default_year: year };
    let result = validate_log(bytes, log_type, &context, options, &mut |t| {
        let schema = builtin_log_schema_yaml(t).map(LogSchema::from_yaml);
        match schema {
            Some(Ok(schema)) => Some(schema),
            Some(Err(e)) => {
                missing_schema = Some(format!("built-in log schema of {t:?}: {e}"));
                None
            }
            None => {
                missing_schema = Some(format!("no log schema for log type {t:?}"));
                None
            }
        }
    });
    if let Some(message) = missing_schema {
        return Err(error("unsupported_log", message));
    }
    match result {
        Ok(log) => Ok(Ok(log)),
        Err(TrainError::Export(e)) => Ok(Err(ValidationReport::from_error(&e))),
        Err(e) => Err(train_error(e)),
    }
}

/// `mcp-train validate --json`: the validation report, with the log type when known.
#[pyfunction]
#[pyo3(signature = (data, *, log_type, drop_invalid, max_examples, year))]
pub fn validate(
    py: Python<'_>,
    data: &[u8],
    log_type: Option<&str>,
    drop_invalid: bool,
    max_examples: Option<usize>,
    year: i32,
) -> PyResult<String> {
    let config = Config::defaults();
    let mut options = validate_options(&config, drop_invalid);
    if let Some(n) = max_examples {
        options.max_examples = n;
    }
    py.detach(|| {
        let (log_type, report) = match read_log(data, log_type, year, &options)? {
            Ok(log) => (Some(log.log_type), log.parsed.report),
            Err(report) => (log_type.map(str::to_owned), report),
        };
        let mut value = serde_json::to_value(&report).map_err(|e| error("internal", e))?;
        if let (Some(object), Some(t)) = (value.as_object_mut(), log_type) {
            object.insert("log_type".into(), t.into());
        }
        Ok(value.to_string())
    })
}

/// `mcp-train import`: the export of a raw log (its bytes), `source` naming the log in the
/// export's metadata. A log with bad lines is refused unless `drop_invalid`.
#[pyfunction]
#[pyo3(signature = (data, *, source, log_type, drop_invalid, year))]
pub fn import_log<'py>(
    py: Python<'py>,
    data: &[u8],
    source: &str,
    log_type: Option<&str>,
    drop_invalid: bool,
    year: i32,
) -> PyResult<Bound<'py, PyBytes>> {
    let options = validate_options(&Config::defaults(), drop_invalid);
    let export = py.detach(|| {
        let refusal = |report: &ValidationReport| {
            let count: usize = report.errors.iter().map(|g| g.count).sum();
            let message = match report.first_error() {
                Some(first) if count > 1 => format!(
                    "{source}: {first} (and {} more errors; validate() lists them, \
                     drop_invalid=True leaves the bad lines out)",
                    count - 1
                ),
                Some(first) => {
                    format!("{source}: {first} (drop_invalid=True leaves the bad line out)")
                }
                None => format!("{source} cannot be read"),
            };
            error("invalid_export", message)
        };
        let log = match read_log(data, log_type, year, &options)? {
            Ok(log) if log.parsed.report.valid => log,
            Ok(log) => return Err(refusal(&log.parsed.report)),
            Err(report) => return Err(refusal(&report)),
        };
        if !log.raw {
            return Err(error(
                "wrong_input",
                format!("{source} is already an export (it starts with {{ or [); import reads raw log text"),
            ));
        }
        let mut out = Vec::new();
        write_export_of(&log.parsed.export.records, &log.log_type, source, &mut out)
            .map_err(|e| error("internal", e))?;
        Ok(out)
    })?;
    Ok(PyBytes::new(py, &export))
}

/// Reads an export and extracts its wifi-v1 features, as `mcp-train features`.
fn feature_matrix(
    data: &[u8],
    drop_invalid: bool,
) -> PyResult<mcp_train_core::features::FeatureMatrix> {
    let config = Config::defaults();
    let options = validate_options(&config, drop_invalid);
    let export = parse_export(data, &options)
        .and_then(|parsed| parsed.into_usable())
        .map_err(|e| train_error(e.into()))?;
    Ok(extract(&export, &config.model.features, None))
}

/// `mcp-train features`: the CSV's bytes.
#[pyfunction]
#[pyo3(signature = (data, *, drop_invalid, include_label))]
pub fn features_csv<'py>(
    py: Python<'py>,
    data: &[u8],
    drop_invalid: bool,
    include_label: bool,
) -> PyResult<Bound<'py, PyBytes>> {
    let csv = py.detach(|| {
        let matrix = feature_matrix(data, drop_invalid)?;
        let mut out = Vec::new();
        matrix
            .write_csv(&mut out, include_label)
            .map_err(|e| error("internal", e))?;
        Ok::<_, PyErr>(out)
    })?;
    Ok(PyBytes::new(py, &csv))
}

/// The feature matrix as numpy (rows × features, the matrix's own buffer), the feature names,
/// each row's record index and its label (None when the record has none).
type Features<'py> = (
    Bound<'py, PyArray2<f64>>,
    Vec<String>,
    Bound<'py, PyArray1<u64>>,
    Vec<Option<bool>>,
);

/// `mcp-train features` as arrays.
#[pyfunction]
#[pyo3(signature = (data, *, drop_invalid))]
pub fn features<'py>(py: Python<'py>, data: &[u8], drop_invalid: bool) -> PyResult<Features<'py>> {
    let matrix = py.detach(|| feature_matrix(data, drop_invalid))?;
    let n_cols = matrix.schema.features.len();
    let n_rows = matrix.data.len().checked_div(n_cols).unwrap_or(0);
    let array =
        Array2::from_shape_vec((n_rows, n_cols), matrix.data).map_err(|e| error("internal", e))?;
    let index: Vec<u64> = matrix.record_index.iter().map(|&i| i as u64).collect();
    Ok((
        PyArray2::from_owned_array(py, array),
        matrix.schema.features.clone(),
        PyArray1::from_vec(py, index),
        matrix.labels,
    ))
}

/// `mcp-train train`: the model file's bytes. `choices` are the CLI's training flags as
/// `(name, text)` pairs, parsed and bounded by the core (`TrainChoices::set`). `progress(stage,
/// fraction)` is called with the GIL taken back for the call only; returning `False` cancels.
/// With `frozen_clock` the duration is recorded as 0 (the CLI's `SOURCE_DATE_EPOCH`), so the
/// same data and `now_micros` give the same bytes.
#[pyfunction]
#[pyo3(signature = (data, *, file_name, features_csv, label_column, log_type, choices, now_micros, frozen_clock, year, progress))]
#[allow(clippy::too_many_arguments)]
pub fn train<'py>(
    py: Python<'py>,
    data: &[u8],
    file_name: &str,
    features_csv: bool,
    label_column: Option<&str>,
    log_type: Option<&str>,
    choices: Vec<(String, String)>,
    now_micros: i64,
    frozen_clock: bool,
    year: i32,
    progress: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let config = Config::defaults();
    let mut chosen = TrainChoices::default();
    for (name, text) in &choices {
        chosen.set(name, text).map_err(param_error)?;
    }
    let options = chosen
        .resolve(&config)
        .map_err(param_error)?
        .options(&config, now_micros);
    let input = if features_csv {
        TrainInput::FeaturesCsv {
            bytes: data,
            file_name,
            label_column,
        }
    } else {
        TrainInput::log(
            data,
            file_name,
            log_type,
            ParseContext { default_year: year },
        )
    };
    let model = py.detach(|| {
        let started = Instant::now();
        let elapsed_ms = move || {
            if frozen_clock {
                0.0
            } else {
                started.elapsed().as_secs_f64() * 1000.0
            }
        };
        let mut failure: Option<PyErr> = None;
        let mut on_progress = |p: &pipeline::Progress| -> bool {
            let Some(callback) = &progress else {
                return true;
            };
            Python::attach(
                |py| match callback.call1(py, (p.stage.as_str(), p.fraction)) {
                    Ok(answer) => {
                        // Only an explicit False cancels; None (no return) goes on.
                        let answer = answer.bind(py);
                        let cancel = answer.is_instance_of::<PyBool>()
                            && !answer.is_truthy().unwrap_or(true);
                        !cancel
                    }
                    Err(e) => {
                        failure = Some(e);
                        false
                    }
                },
            )
        };
        let trained = pipeline::train(
            input,
            &options,
            Hooks {
                progress: &mut on_progress,
                elapsed_ms: &elapsed_ms,
            },
        );
        match (trained, failure) {
            (_, Some(e)) => Err(e),
            (Ok(trained), None) => Ok(trained.artifact.to_json()),
            (Err(e), None) => Err(train_error(e)),
        }
    })?;
    Ok(PyBytes::new(py, &model))
}

fn load_model(model: &[u8]) -> PyResult<ModelArtifact> {
    ModelArtifact::from_json(model).map_err(|e| train_error(e.into()))
}

/// The data for scoring or evaluating, as the CLI's `score_input`: an export (or raw log) for
/// a model trained on logs, a features CSV for a model trained on one.
fn score_input<'a>(
    model: &ModelArtifact,
    data: &'a [u8],
    options: &'a ValidateOptions,
    label_column: Option<&'a str>,
    year: i32,
) -> PyResult<ScoreInput<'a>> {
    match model.input {
        InputSchema::Export(_) | InputSchema::Agent(_) => Ok(ScoreInput::log(
            data,
            options,
            ParseContext { default_year: year },
        )),
        InputSchema::FeaturesCsv { .. } => {
            let first = data
                .strip_prefix(b"\xEF\xBB\xBF")
                .unwrap_or(data)
                .iter()
                .find(|b| !b.is_ascii_whitespace());
            if matches!(first, Some(b'{' | b'[')) {
                return Err(error(
                    "wrong_input",
                    "this model was trained on a features CSV, and the data looks like an export (JSON); give it a features CSV with the same columns",
                ));
            }
            Ok(ScoreInput::FeaturesCsv {
                bytes: data,
                label_column,
            })
        }
    }
}

/// Scored rows as arrays: record index, timestamp, score, decision, is_anomaly, label.
type ScoredArrays<'py> = (
    Bound<'py, PyArray1<u64>>,
    Vec<Option<String>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<bool>>,
    Vec<Option<bool>>,
);

fn scored(
    py: Python<'_>,
    model: &[u8],
    data: &[u8],
    drop_invalid: bool,
    label_column: Option<&str>,
    year: i32,
) -> PyResult<pipeline::Scored> {
    let options = validate_options(&Config::defaults(), drop_invalid);
    py.detach(|| {
        let model = load_model(model)?;
        let input = score_input(&model, data, &options, label_column, year)?;
        pipeline::score(&model, input).map_err(train_error)
    })
}

/// `mcp-train score` as arrays.
#[pyfunction]
#[pyo3(signature = (model, data, *, drop_invalid, label_column, year))]
pub fn score<'py>(
    py: Python<'py>,
    model: &[u8],
    data: &[u8],
    drop_invalid: bool,
    label_column: Option<&str>,
    year: i32,
) -> PyResult<ScoredArrays<'py>> {
    let rows = scored(py, model, data, drop_invalid, label_column, year)?.rows;
    let index: Vec<u64> = rows.iter().map(|r| r.index as u64).collect();
    let score: Vec<f64> = rows.iter().map(|r| r.score).collect();
    let decision: Vec<f64> = rows.iter().map(|r| r.decision).collect();
    let is_anomaly: Vec<bool> = rows.iter().map(|r| r.is_anomaly).collect();
    let label = rows.iter().map(|r| r.label).collect();
    let timestamp = rows.into_iter().map(|r| r.timestamp).collect();
    Ok((
        PyArray1::from_vec(py, index),
        timestamp,
        PyArray1::from_vec(py, score),
        PyArray1::from_vec(py, decision),
        PyArray1::from_vec(py, is_anomaly),
        label,
    ))
}

/// `mcp-train score --out FILE`: the bytes of the CSV (`format` "csv") or JSON ("json") the CLI
/// writes, every row or (`only_anomalies`) the flagged ones.
#[pyfunction]
#[pyo3(signature = (model, data, *, format, only_anomalies, drop_invalid, label_column, year))]
#[allow(clippy::too_many_arguments)]
pub fn score_file<'py>(
    py: Python<'py>,
    model: &[u8],
    data: &[u8],
    format: &str,
    only_anomalies: bool,
    drop_invalid: bool,
    label_column: Option<&str>,
    year: i32,
) -> PyResult<Bound<'py, PyBytes>> {
    let format = pipeline::ScoresFormat::parse(format)
        .map_err(|e| error("invalid_parameter", format!("format: {e}")))?;
    let scored = scored(py, model, data, drop_invalid, label_column, year)?;
    let bytes = py.detach(|| -> std::io::Result<Vec<u8>> {
        let mut w = Vec::new();
        pipeline::write_scores(&scored.rows, only_anomalies, format, &mut w)?;
        Ok(w)
    });
    let bytes = bytes.map_err(|e| error("internal", e))?;
    Ok(PyBytes::new(py, &bytes))
}

/// `mcp-train evaluate --json`: metrics of a model on labelled data, as JSON text.
#[pyfunction]
#[pyo3(signature = (model, data, *, drop_invalid, label_column, year))]
pub fn evaluate(
    py: Python<'_>,
    model: &[u8],
    data: &[u8],
    drop_invalid: bool,
    label_column: Option<&str>,
    year: i32,
) -> PyResult<String> {
    let config = Config::defaults();
    let options = validate_options(&config, drop_invalid);
    py.detach(|| {
        let model = load_model(model)?;
        let input = score_input(&model, data, &options, label_column, year)?;
        let result = pipeline::evaluate(&model, input, &config).map_err(train_error)?;
        serde_json::to_string(&result).map_err(|e| error("internal", e))
    })
}

/// `mcp-train package`: the ZIP's file name and bytes. The deployment time is `timestamp_micros`
/// when given, else the model's creation time, so a model packages to the same bytes anywhere.
#[pyfunction]
#[pyo3(signature = (model, *, timestamp_micros))]
pub fn build_package<'py>(
    py: Python<'py>,
    model: &[u8],
    timestamp_micros: Option<i64>,
) -> PyResult<(String, Bound<'py, PyBytes>)> {
    let built = py.detach(|| {
        let artifact = load_model(model)?;
        let deployed = package::deployment_time(PackagedModel::File(&artifact), timestamp_micros)
            .map_err(|e| error("invalid_model_file", format!("model {e}")))?;
        package::build(model, deployed).map_err(package_error)
    })?;
    Ok((built.file_name, PyBytes::new(py, &built.bytes)))
}

/// `mcp-train verify --json`: the verdict on a package's ZIP bytes, as JSON text.
#[pyfunction]
pub fn verify_package(py: Python<'_>, zip: &[u8]) -> PyResult<String> {
    py.detach(|| {
        let verification = package::verify(zip).map_err(package_error)?;
        serde_json::to_string(&verification).map_err(|e| error("internal", e))
    })
}

/// Lines longer than this are bad lines, as in `mcp-train detect` (its `MAX_LINE_BYTES`).
const MAX_LINE_BYTES: usize = 1 << 20;

/// What `detect` read: the counts of its closing line and the problems it reported.
#[derive(Debug, Default, serde::Serialize)]
struct DetectSummary {
    lines: u64,
    parsed: u64,
    bad: u64,
    anomalies: u64,
    model_version: String,
    /// `line N:C: message` for each bad line, or the export's issue examples.
    problems: Vec<String>,
}

/// One verdict in the chosen output format, as a line of `detect`'s output.
fn write_report(
    out: &mut Vec<u8>,
    format: &str,
    report: &mcp_train_core::agent::Anomaly,
) -> serde_json::Result<()> {
    use mcp_train_core::agent::formats::{to_ecs, to_ocsf};
    match format {
        "ecs" => serde_json::to_writer(&mut *out, &to_ecs(report))?,
        "ocsf" => serde_json::to_writer(&mut *out, &to_ocsf(report))?,
        _ => serde_json::to_writer(&mut *out, report)?,
    }
    out.push(b'\n');
    Ok(())
}

/// `mcp-train detect MODEL FILE` (without `--follow`): the bytes it writes on stdout — one JSON
/// object per anomaly (per record with `all`) in `format` ndjson, ecs or ocsf — and its
/// summary as JSON text. Raw lines and NDJSON records are read line by line; a whole JSON export
/// is read to its end and its records taken in timestamp order, as the CLI does.
#[pyfunction]
#[pyo3(signature = (model, data, *, all, format, year))]
pub fn detect<'py>(
    py: Python<'py>,
    model: &[u8],
    data: &[u8],
    all: bool,
    format: &str,
    year: i32,
) -> PyResult<(Bound<'py, PyBytes>, String)> {
    use mcp_train_core::agent::{is_whole_export, line_text, read_line_record, Detector};
    if !matches!(format, "ndjson" | "ecs" | "ocsf") {
        return Err(error(
            "invalid_parameter",
            format!("format: expected \"ndjson\", \"ecs\" or \"ocsf\", found {format:?}"),
        ));
    }
    let (out, summary) = py.detach(|| -> PyResult<(Vec<u8>, DetectSummary)> {
        let artifact = load_model(model)?;
        let mut detector = Detector::new(artifact).map_err(|e| error("unsupported_model", e))?;
        let mut summary = DetectSummary {
            model_version: detector.artifact().version.clone(),
            ..DetectSummary::default()
        };
        let mut out = Vec::new();
        let mut verdict = |record: &mcp_train_core::export::Record<'_>,
                           number: u64,
                           summary: &mut DetectSummary,
                           detector: &mut Detector|
         -> PyResult<()> {
            let report = if all {
                detector.assess(record).map(Some)
            } else {
                detector.detect(record)
            };
            match report {
                Ok(Some(report)) => {
                    summary.anomalies += u64::from(report.inference.is_anomaly);
                    write_report(&mut out, format, &report).map_err(|e| error("internal", e))
                }
                Ok(None) => Ok(()),
                Err(e) => {
                    summary.bad += 1;
                    summary.problems.push(format!("line {number}:1: {e}"));
                    Ok(())
                }
            }
        };
        let context = ParseContext { default_year: year };
        let mut rest = data;
        let mut first = true;
        while !rest.is_empty() {
            let (line, next) = match rest.iter().position(|&b| b == b'\n') {
                Some(end) => (&rest[..end], &rest[end + 1..]),
                None => (rest, &rest[rest.len()..]),
            };
            if first && !line.trim_ascii().is_empty() {
                first = false;
                if is_whole_export(line) {
                    // The whole input from this line on: an export, read to its end.
                    let offset = data.len() - rest.len();
                    let config = Config::defaults();
                    let parsed =
                        parse_export_for_detection(&data[offset..], &config.training.validation)
                            .map_err(|e| train_error(e.into()))?;
                    let report = parsed.report;
                    for group in &report.errors {
                        for issue in &group.examples {
                            summary.problems.push(issue.to_string());
                        }
                    }
                    let records = parsed.export.records;
                    summary.lines += report.records_seen as u64;
                    summary.bad += report.dropped.as_ref().map_or(0, |d| d.count as u64);
                    summary.parsed += records.len() as u64;
                    for record in &records {
                        let number = record.index as u64 + 1;
                        verdict(record, number, &mut summary, &mut detector)?;
                    }
                    return Ok((out, summary));
                }
            }
            rest = next;
            summary.lines += 1;
            let number = summary.lines;
            if line.len() > MAX_LINE_BYTES {
                summary.bad += 1;
                summary.problems.push(format!(
                    "line {number}:{}: line longer than {MAX_LINE_BYTES} bytes",
                    MAX_LINE_BYTES + 1
                ));
                continue;
            }
            let text = match line_text(line) {
                Ok(text) => text,
                Err(column) => {
                    summary.bad += 1;
                    summary
                        .problems
                        .push(format!("line {number}:{column}: not valid UTF-8"));
                    continue;
                }
            };
            if text.trim().is_empty() {
                continue;
            }
            let index = usize::try_from(number - 1).unwrap_or(usize::MAX);
            match read_line_record(text, index, &context, detector.agent()) {
                Ok(record) => {
                    summary.parsed += 1;
                    verdict(&record, number, &mut summary, &mut detector)?;
                }
                Err(e) => {
                    summary.bad += 1;
                    summary
                        .problems
                        .push(format!("line {number}:{}: {}", e.column, e.message));
                }
            }
        }
        Ok((out, summary))
    })?;
    let summary = serde_json::to_string(&summary).map_err(|e| error("internal", e))?;
    Ok((PyBytes::new(py, &out), summary))
}
