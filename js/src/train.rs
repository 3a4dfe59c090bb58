//! `train`: the core's one training pipeline ([`pipeline::train`]) with the parameters parsed and
//! bounded by the core's own parameter types, a progress callback and an `AbortSignal`.

use js_sys::{Function, Object, Reflect, Uint8Array};
use mcp_train_core::agent::ParseContext;
use mcp_train_core::config::Config;
use mcp_train_core::pipeline::{self, Hooks, Progress, TrainChoices, TrainInput};
use serde::Deserialize;
use tsify::{Ts, Tsify};
use wasm_bindgen::prelude::*;

use crate::convert::{micros, options, required, to_js, year_of};
use crate::error::{js_error, param_error, train_error, Code};

/// The training parameters; each one left out is the built-in configuration's
/// (`config/model_config.yaml`). Values are parsed and range-checked by the core, exactly as the
/// CLI's flags and the API's query parameters are; a value may also be given as its text
/// (`maxSamples: "1.0"` is the fraction 1, where the number `1` is one row).
#[derive(Debug, Default, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrainParams {
    /// The detector to train.
    #[tsify(optional, type = "\"isolation_forest\" | \"lof\"")]
    pub detector: Option<String>,
    /// The run's one seed (detector, held-out split, feature-importance sample), a whole number
    /// ≥ 0; as a string above 2^53.
    #[tsify(optional, type = "number | string")]
    pub seed: Option<ParamValue>,
    /// Expected share of anomalies, in (0, 0.5], or `"auto"`.
    #[tsify(optional, type = "\"auto\" | number")]
    pub contamination: Option<ParamValue>,
    /// Trees in the isolation forest.
    #[tsify(optional, type = "number")]
    pub n_estimators: Option<ParamValue>,
    /// Rows per isolation tree: `"auto"`, a count ≥ 1 or a fraction in (0, 1].
    #[tsify(optional, type = "\"auto\" | number | string")]
    pub max_samples: Option<ParamValue>,
    /// Neighbours LOF compares each row with.
    #[tsify(optional, type = "number")]
    pub n_neighbors: Option<ParamValue>,
    /// Leave out invalid records instead of refusing the data.
    #[tsify(optional, type = "boolean")]
    pub drop_invalid: Option<ParamValue>,
}

/// A parameter's value as JS gives it, turned into the text the core's parsers read.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    /// `true` / `false`.
    Bool(bool),
    /// A number: whole numbers are written without a fraction (`256`, not `256.0`).
    Number(f64),
    /// Text, passed to the parser as it is.
    Text(String),
}

impl ParamValue {
    fn text(&self) -> String {
        match self {
            ParamValue::Bool(b) => b.to_string(),
            // Below 2^53 a whole f64 is an exact integer.
            ParamValue::Number(n) if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 => {
                format!("{}", *n as i64)
            }
            ParamValue::Number(n) => n.to_string(),
            ParamValue::Text(t) => t.clone(),
        }
    }
}

impl TrainParams {
    /// The parameters resolved over the built-in configuration by the core
    /// ([`TrainChoices::set`] and [`TrainChoices::resolve`]).
    pub fn resolve(&self, config: &Config) -> Result<pipeline::TrainParams, JsValue> {
        let mut choices = TrainChoices::default();
        let given = [
            ("detector", self.detector.clone().map(ParamValue::Text)),
            ("seed", self.seed.clone()),
            ("contamination", self.contamination.clone()),
            ("n_estimators", self.n_estimators.clone()),
            ("max_samples", self.max_samples.clone()),
            ("n_neighbors", self.n_neighbors.clone()),
            ("drop_invalid", self.drop_invalid.clone()),
        ];
        for (name, value) in given {
            if let Some(value) = value {
                choices
                    .set(name, &value.text())
                    .map_err(|e| param_error(&e))?;
            }
        }
        choices.resolve(config).map_err(|e| param_error(&e))
    }
}

/// What the training data is.
#[derive(Debug, Default, Clone, Copy, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub enum InputFormat {
    /// An export (JSON, NDJSON) or raw log text, told apart by the first byte.
    #[default]
    Log,
    /// A numeric features CSV with a header.
    FeaturesCsv,
}

/// How to train.
#[derive(Debug, Default, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrainOptions {
    /// The model's creation time, ISO 8601 (`2024-01-01T00:00:00Z`): its `created_at` and
    /// version. The core reads no clock; the same data, parameters and time give the same bytes.
    pub created_at: String,
    /// The data's file name, recorded in the model's lineage (default `export.json`).
    #[tsify(optional)]
    pub file_name: Option<String>,
    /// The log type (`wifi`, `dns`, `firewall`, `syslog`); recognised from the data when left out.
    #[tsify(optional)]
    pub log_type: Option<String>,
    /// The year of RFC 3164 timestamps without one (default: the year of `createdAt`).
    #[tsify(optional)]
    pub default_year: Option<i32>,
    /// `log` (default) or `featuresCsv`.
    #[tsify(optional)]
    pub format: Option<InputFormat>,
    /// The 0/1 label column of a features CSV.
    #[tsify(optional)]
    pub label_column: Option<String>,
    /// The training parameters.
    #[tsify(optional)]
    pub params: Option<TrainParams>,
    /// Record the measured duration (`training.duration_ms`); off by default, so the model is
    /// byte-for-byte reproducible (the CLI does the same under `SOURCE_DATE_EPOCH`).
    #[tsify(optional)]
    pub measure_duration: Option<bool>,
}

#[wasm_bindgen(typescript_custom_section)]
const TRAIN_TS: &'static str = r#"
/** Where a training run is: its stage and the whole run's fraction done, 0–1. */
export interface TrainProgress {
    stage: "validate" | "features" | "scale" | "fit" | "score" | "evaluate" | "done";
    stageFraction: number;
    fraction: number;
}

/** What the caller lends a training run. */
export interface TrainHooks {
    /** Called at each step of the pipeline; returning `false` aborts the run. */
    onProgress?: (progress: TrainProgress) => boolean | void;
    /** Checked at each step: once aborted, the run stops with an `ABORTED` error. */
    signal?: AbortSignal;
}

/** A trained model. */
export interface TrainResult {
    /** The `model.json` bytes, as the CLI writes them. */
    modelJson: Uint8Array;
    /** The model's version (`YYYYMMDD_HHMMSS` of `createdAt`). */
    version: string;
    /** What validation found in the export; `null` for a features CSV. */
    report: ValidationReport | null;
}
"#;

#[wasm_bindgen]
extern "C" {
    /// `{ onProgress?, signal? }`, declared in TypeScript above (functions and an `AbortSignal`,
    /// which serde cannot read).
    #[wasm_bindgen(typescript_type = "TrainHooks")]
    pub type TrainHooks;
}

/// Trains a model on `data` (an export, raw log text, or a features CSV).
///
/// Cancellation: the call is synchronous, so the `signal` is read, and `onProgress` called,
/// only between the pipeline's steps; an abort from another task takes effect only if that
/// task can run — in a browser, run training in a Worker and abort there, or call
/// `controller.abort()` from `onProgress`.
#[wasm_bindgen(unchecked_return_type = "TrainResult")]
pub fn train(
    data: &[u8],
    options: Ts<TrainOptions>,
    hooks: Option<TrainHooks>,
) -> Result<JsValue, JsValue> {
    let mut options: TrainOptions = required(options, "options")?;
    let now_micros = micros("createdAt", &options.created_at)?;
    let config = Config::defaults();
    let params = options.params.take().unwrap_or_default().resolve(&config)?;
    let train_options = params.options(&config, now_micros);

    let on_progress = hook(hooks.as_ref().map(AsRef::as_ref), "onProgress")?
        .map(|f| f.dyn_into::<Function>())
        .transpose()
        .map_err(|_| js_error(Code::InvalidArgument, "hooks.onProgress: not a function"))?;
    let signal = hook(hooks.as_ref().map(AsRef::as_ref), "signal")?;
    if aborted(signal.as_ref()) {
        return Err(js_error(
            Code::Aborted,
            "the training was aborted before it started",
        ));
    }

    let file_name = options.file_name.as_deref().unwrap_or("export.json");
    let context = ParseContext {
        default_year: options.default_year.unwrap_or_else(|| year_of(now_micros)),
    };
    let input = match options.format.unwrap_or_default() {
        InputFormat::Log => TrainInput::log(data, file_name, options.log_type.as_deref(), context),
        InputFormat::FeaturesCsv => TrainInput::FeaturesCsv {
            bytes: data,
            file_name,
            label_column: options.label_column.as_deref(),
        },
    };

    // An exception thrown by the callback stops the run and is rethrown as it is.
    let mut thrown: Option<JsValue> = None;
    let mut report_progress = |p: &Progress| -> bool {
        if let Some(f) = &on_progress {
            let object = Object::new();
            let _ = Reflect::set(&object, &"stage".into(), &p.stage.as_str().into());
            let _ = Reflect::set(&object, &"stageFraction".into(), &p.stage_fraction.into());
            let _ = Reflect::set(&object, &"fraction".into(), &p.fraction.into());
            match f.call1(&JsValue::UNDEFINED, &object) {
                Ok(answer) if answer == JsValue::FALSE => return false,
                Ok(_) => {}
                Err(e) => {
                    thrown = Some(e);
                    return false;
                }
            }
        }
        !aborted(signal.as_ref())
    };
    let started = js_sys::Date::now();
    let measure = options.measure_duration.unwrap_or(false);
    let elapsed = move || {
        if measure {
            js_sys::Date::now() - started
        } else {
            0.0
        }
    };
    let trained = pipeline::train(
        input,
        &train_options,
        Hooks {
            progress: &mut report_progress,
            elapsed_ms: &elapsed,
        },
    );
    if let Some(e) = thrown {
        return Err(e);
    }
    let trained = trained.map_err(|e| train_error(&e))?;

    let result = Object::new();
    let model_json = trained.artifact.to_json();
    let _ = Reflect::set(
        &result,
        &"modelJson".into(),
        &Uint8Array::from(model_json.as_slice()),
    );
    let _ = Reflect::set(
        &result,
        &"version".into(),
        &trained.artifact.version.as_str().into(),
    );
    let report = match &trained.report {
        Some(report) => to_js(report)?,
        None => JsValue::NULL,
    };
    let _ = Reflect::set(&result, &"report".into(), &report);
    Ok(result.into())
}

/// The training parameters a run would use: these choices over the built-in configuration,
/// checked by the core (the bounds live there), as the core's JSON (`detector`, `seed`,
/// `contamination`, `n_estimators`, `max_samples`, `n_neighbors`, `drop_invalid`).
#[wasm_bindgen(js_name = resolveParams, unchecked_return_type = "ResolvedTrainParams")]
pub fn resolve_params(params: Option<Ts<TrainParams>>) -> Result<JsValue, JsValue> {
    let params: TrainParams = options(params, "params")?;
    to_js(&params.resolve(&Config::defaults())?)
}

/// A property of the optional hooks object (`undefined` when absent).
fn hook(hooks: Option<&JsValue>, name: &str) -> Result<Option<JsValue>, JsValue> {
    let Some(hooks) = hooks.filter(|h| !h.is_undefined() && !h.is_null()) else {
        return Ok(None);
    };
    if !hooks.is_object() {
        return Err(js_error(Code::InvalidArgument, "hooks: not an object"));
    }
    let value = Reflect::get(hooks, &name.into())?;
    Ok((!value.is_undefined() && !value.is_null()).then_some(value))
}

/// Whether an `AbortSignal` (or anything with an `aborted` property) says to stop.
fn aborted(signal: Option<&JsValue>) -> bool {
    signal
        .and_then(|s| Reflect::get(s, &"aborted".into()).ok())
        .is_some_and(|a| a.is_truthy())
}
