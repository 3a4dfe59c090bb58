//! `Model`: a `model.json` read once, then scoring rows (`Float64Array`), scoring and evaluating
//! data with the core's pipeline, and detection over a stream of log lines with the core's
//! streaming [`Detector`].

use js_sys::{Array, Float64Array, Int8Array, Object, Reflect, Uint32Array, Uint8Array};
use mcp_train_core::agent::{line_text, read_line_record, Detector, ParseContext};
use mcp_train_core::config::Config;
use mcp_train_core::export::ValidateOptions;
use mcp_train_core::pipeline::{self, InputSchema, ModelArtifact, ScoreInput};
use serde::Deserialize;
use tsify::{Ts, Tsify};
use wasm_bindgen::prelude::*;

use crate::convert::{this_year, to_js};
use crate::error::{js_error, js_error_at, train_error, Code};

#[wasm_bindgen(typescript_custom_section)]
const MODEL_TS: &'static str = r#"
/** Scores of raw feature rows, one per row. */
export interface RowScores {
    /** The model's anomaly score (lower is more anomalous). */
    score: Float64Array;
    /** Score minus the model's offset; below 0 is an anomaly. */
    decision: Float64Array;
}

/** Every record (or CSV row) scored, in input order, as columns. */
export interface Scores extends RowScores {
    /** Record index in the export (0-based, counting dropped records), or CSV data row. */
    index: Uint32Array;
    /** 1 where the model flags the row as an anomaly. */
    isAnomaly: Uint8Array;
    /** The row's label: 1, 0, or -1 when it has none. */
    label: Int8Array;
    /** The records' timestamps (RFC 3339 UTC); `null` for a features CSV. */
    timestamp: string[] | null;
    /** Rows flagged as anomalies. */
    flagged: number;
    /** What validation found in the export; `null` for a features CSV. */
    report: ValidationReport | null;
}
"#;

/// How to read data to score or evaluate.
#[derive(Debug, Default, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScoreOptions {
    /// Leave out invalid records instead of refusing the data.
    #[tsify(optional)]
    pub drop_invalid: Option<bool>,
    /// The 0/1 label column of a features CSV.
    #[tsify(optional)]
    pub label_column: Option<String>,
    /// The year of RFC 3164 timestamps without one (default: this year).
    #[tsify(optional)]
    pub default_year: Option<i32>,
}

/// How to detect over lines.
#[derive(Debug, Default, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DetectOptions {
    /// The year of RFC 3164 timestamps without one (default: this year).
    #[tsify(optional)]
    pub default_year: Option<i32>,
    /// Report every line, not only anomalies (as `mcp-train detect --all`).
    #[tsify(optional)]
    pub all: Option<bool>,
}

/// A trained model (`model.json`), read and checked once.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Model {
    artifact: ModelArtifact,
}

#[wasm_bindgen]
impl Model {
    /// Reads and checks a `model.json`.
    #[wasm_bindgen(js_name = fromJson)]
    pub fn from_json(
        #[wasm_bindgen(js_name = modelJson)] model_json: &[u8],
    ) -> Result<Model, JsValue> {
        ModelArtifact::from_json(model_json)
            .map(|artifact| Model { artifact })
            .map_err(|e| js_error(Code::InvalidModel, format!("cannot use the model: {e}")))
    }

    /// The `model.json` bytes (the core's serialization).
    #[wasm_bindgen(js_name = toJson)]
    pub fn to_json(&self) -> Vec<u8> {
        self.artifact.to_json()
    }

    /// The model's version, `YYYYMMDD_HHMMSS`.
    #[wasm_bindgen(getter)]
    pub fn version(&self) -> String {
        self.artifact.version.clone()
    }

    /// The log type the model reads (`wifi`, `dns`, …).
    #[wasm_bindgen(getter, js_name = logType)]
    pub fn log_type(&self) -> String {
        self.artifact.log_type.clone()
    }

    /// `isolation_forest` or `lof`.
    #[wasm_bindgen(getter)]
    pub fn detector(&self) -> String {
        self.artifact.detector.name().to_owned()
    }

    /// The feature columns, in the order rows give them.
    #[wasm_bindgen(getter, js_name = featureNames)]
    pub fn feature_names(&self) -> Vec<String> {
        self.artifact.input.feature_names().to_vec()
    }

    /// The whole model as a plain object (the `model.json` document).
    #[wasm_bindgen(js_name = toObject, unchecked_return_type = "Record<string, unknown>")]
    pub fn to_object(&self) -> Result<JsValue, JsValue> {
        to_js(&self.artifact)
    }

    /// Scores raw (unscaled) feature rows, `featureNames.length` values per row, row after row.
    #[wasm_bindgen(js_name = scoreRows, unchecked_return_type = "RowScores")]
    pub fn score_rows(&self, rows: &[f64]) -> Result<JsValue, JsValue> {
        let width = self.artifact.input.feature_names().len();
        if width == 0 || rows.len() % width != 0 {
            return Err(js_error(
                Code::InvalidArgument,
                format!(
                    "rows: {} values are not whole rows of the model's {width} features",
                    rows.len()
                ),
            ));
        }
        let scored = self
            .artifact
            .score_rows(rows)
            .map_err(|e| js_error(Code::TrainingFailed, e))?;
        let (score, decision): (Vec<f64>, Vec<f64>) = scored.into_iter().unzip();
        let result = Object::new();
        set(&result, "score", &Float64Array::from(score.as_slice()));
        set(
            &result,
            "decision",
            &Float64Array::from(decision.as_slice()),
        );
        Ok(result.into())
    }

    /// Scores every record of an export or raw log of the model's log type (or every row of a
    /// features CSV, for a CSV-trained model), as `mcp-train score` does.
    #[wasm_bindgen(unchecked_return_type = "Scores")]
    pub fn score(
        &self,
        data: &[u8],
        options: Option<Ts<ScoreOptions>>,
    ) -> Result<JsValue, JsValue> {
        let options: ScoreOptions = crate::convert::options(options, "options")?;
        let validate = validate_options(&options);
        let input = self.input(data, &validate, &options);
        let scored = pipeline::score(&self.artifact, input).map_err(|e| train_error(&e))?;
        let rows = &scored.rows;
        let index: Vec<u32> = rows.iter().map(|r| r.index as u32).collect();
        let score: Vec<f64> = rows.iter().map(|r| r.score).collect();
        let decision: Vec<f64> = rows.iter().map(|r| r.decision).collect();
        let is_anomaly: Vec<u8> = rows.iter().map(|r| u8::from(r.is_anomaly)).collect();
        let label: Vec<i8> = rows.iter().map(|r| r.label.map_or(-1, i8::from)).collect();
        let timestamp = if rows.iter().all(|r| r.timestamp.is_some()) && scored.report.is_some() {
            let array = Array::new_with_length(rows.len() as u32);
            for (i, r) in rows.iter().enumerate() {
                array.set(i as u32, r.timestamp.as_deref().unwrap_or_default().into());
            }
            array.into()
        } else {
            JsValue::NULL
        };
        let result = Object::new();
        set(&result, "index", &Uint32Array::from(index.as_slice()));
        set(&result, "score", &Float64Array::from(score.as_slice()));
        set(
            &result,
            "decision",
            &Float64Array::from(decision.as_slice()),
        );
        set(
            &result,
            "isAnomaly",
            &Uint8Array::from(is_anomaly.as_slice()),
        );
        set(&result, "label", &Int8Array::from(label.as_slice()));
        set(&result, "timestamp", &timestamp);
        let flagged = rows.iter().filter(|r| r.is_anomaly).count();
        set(&result, "flagged", &(flagged as f64).into());
        let report = match &scored.report {
            Some(report) => to_js(report)?,
            None => JsValue::NULL,
        };
        set(&result, "report", &report);
        Ok(result.into())
    }

    /// Metrics of the model on labelled data, as `mcp-train evaluate --json` prints them.
    #[wasm_bindgen(unchecked_return_type = "EvaluationResult")]
    pub fn evaluate(
        &self,
        data: &[u8],
        options: Option<Ts<ScoreOptions>>,
    ) -> Result<JsValue, JsValue> {
        let options: ScoreOptions = crate::convert::options(options, "options")?;
        let validate = validate_options(&options);
        let input = self.input(data, &validate, &options);
        let result = pipeline::evaluate(&self.artifact, input, &Config::defaults())
            .map_err(|e| train_error(&e))?;
        to_js(&result)
    }

    /// A detector over a stream of log lines of the model's log type.
    #[wasm_bindgen(js_name = lineDetector)]
    pub fn line_detector(
        &self,
        options: Option<Ts<DetectOptions>>,
    ) -> Result<LineDetector, JsValue> {
        let options: DetectOptions = crate::convert::options(options, "options")?;
        let detector = Detector::new(self.artifact.clone()).map_err(|e| {
            js_error(
                Code::InvalidModel,
                format!("cannot detect with this model: {e}"),
            )
        })?;
        Ok(LineDetector {
            detector,
            context: ParseContext {
                default_year: options.default_year.unwrap_or_else(this_year),
            },
            all: options.all.unwrap_or(false),
            lines: 0,
        })
    }
}

impl Model {
    /// The data as the model reads it: an export or raw log, or a features CSV.
    fn input<'a>(
        &self,
        data: &'a [u8],
        validate: &'a ValidateOptions,
        options: &'a ScoreOptions,
    ) -> ScoreInput<'a> {
        match self.artifact.input {
            InputSchema::FeaturesCsv { .. } => ScoreInput::FeaturesCsv {
                bytes: data,
                label_column: options.label_column.as_deref(),
            },
            InputSchema::Export(_) | InputSchema::Agent(_) => ScoreInput::log(
                data,
                validate,
                ParseContext {
                    default_year: options.default_year.unwrap_or_else(this_year),
                },
            ),
        }
    }
}

/// The built-in validation options, with `dropInvalid`.
fn validate_options(options: &ScoreOptions) -> ValidateOptions {
    let mut validate = Config::defaults().training.validation;
    validate.drop_invalid |= options.drop_invalid.unwrap_or(false);
    validate
}

fn set(target: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &key.into(), value);
}

/// A model at work on a live log, one line at a time, as `mcp-train detect` reads a stream: a
/// line is an NDJSON export record or a line the model's agent reads (raw syslog, a daemon's
/// JSON); each record goes through the core's streaming feature extractor, so verdicts equal
/// `score` on the same records in the same order.
#[wasm_bindgen]
pub struct LineDetector {
    detector: Detector,
    context: ParseContext,
    all: bool,
    lines: usize,
}

impl std::fmt::Debug for LineDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineDetector")
            .field("model", &self.detector.artifact().version)
            .field("lines", &self.lines)
            .finish()
    }
}

#[wasm_bindgen]
impl LineDetector {
    /// The next line of the log (without its line break): the anomaly it is, or `undefined`
    /// (with `all`, every line's report). Blank lines are skipped; a line that cannot be read
    /// or scored throws a `BAD_LINE` error with its `line` and `column` (1-based), after which
    /// the detector goes on with the next line.
    #[wasm_bindgen(unchecked_return_type = "Anomaly | undefined")]
    pub fn push(&mut self, line: &str) -> Result<JsValue, JsValue> {
        self.lines += 1;
        let number = self.lines;
        let Ok(text) = line_text(line.as_bytes()) else {
            return Ok(JsValue::UNDEFINED);
        };
        if text.trim().is_empty() {
            return Ok(JsValue::UNDEFINED);
        }
        let record = read_line_record(text, number - 1, &self.context, self.detector.agent())
            .map_err(|e| {
                js_error_at(
                    Code::BadLine,
                    format!("line {number}:{}: {}", e.column, e.message),
                    number,
                    e.column,
                )
            })?;
        let report = if self.all {
            self.detector.assess(&record).map(Some)
        } else {
            self.detector.detect(&record)
        }
        .map_err(|e| js_error_at(Code::BadLine, format!("line {number}: {e}"), number, 1))?;
        match report {
            Some(anomaly) => to_js(&anomaly),
            None => Ok(JsValue::UNDEFINED),
        }
    }

    /// Lines pushed so far (blank ones included): the number of the last line.
    #[wasm_bindgen(getter)]
    pub fn lines(&self) -> usize {
        self.lines
    }
}
