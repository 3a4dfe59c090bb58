//! Reading logs: `validate` (as `mcp-train validate`), `importLog` (as `mcp-train import`) and
//! `extractFeatures` (as `mcp-train features`).

use js_sys::{Float64Array, Object, Reflect, Uint32Array};
use mcp_train_core::agent::log_schema::builtin_log_schema;
use mcp_train_core::agent::{LogSchema, ParseContext};
use mcp_train_core::config::Config;
use mcp_train_core::export::{parse_export, ValidateOptions, ValidationReport};
use mcp_train_core::features;
use mcp_train_core::pipeline::{validate_log, write_export_of, TrainError, ValidatedLog};
use serde::Deserialize;
use tsify::{Ts, Tsify};
use wasm_bindgen::prelude::*;

use crate::convert::{this_year, to_js};
use crate::error::{export_error, js_error, train_error, Code};

/// How to read a log.
#[derive(Debug, Default, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReadOptions {
    /// The log type (`wifi`, `dns`, `firewall`, `syslog`); recognised from the data when left out.
    #[tsify(optional)]
    pub log_type: Option<String>,
    /// Leave out invalid records (lines) instead of refusing the data.
    #[tsify(optional)]
    pub drop_invalid: Option<bool>,
    /// Examples kept per kind of issue in the report.
    #[tsify(optional)]
    pub max_examples: Option<usize>,
    /// The year of RFC 3164 timestamps without one (default: this year).
    #[tsify(optional)]
    pub default_year: Option<i32>,
    /// The source named in an imported export's metadata (default `log`).
    #[tsify(optional)]
    pub source: Option<String>,
}

#[wasm_bindgen(typescript_custom_section)]
const EXPORT_TS: &'static str = r#"
/** The verdict on a log: its log type (when known), whether it was raw text, and the report. */
export interface Validation {
    logType: string | null;
    raw: boolean;
    report: ValidationReport;
}

/** A feature matrix: `nRows` rows of `nCols` values, row after row. */
export interface FeatureMatrix {
    /** The feature schema's name (`wifi-v1`). */
    schema: string;
    /** Column names. */
    names: string[];
    nRows: number;
    nCols: number;
    data: Float64Array;
    /** The export record behind each row. */
    recordIndex: Uint32Array;
    /** Records left out as invalid (`dropInvalid`). */
    droppedRecords: number;
}
"#;

impl ReadOptions {
    fn validate_options(&self) -> ValidateOptions {
        let mut options = Config::defaults().training.validation;
        options.drop_invalid |= self.drop_invalid.unwrap_or(false);
        if let Some(n) = self.max_examples {
            options.max_examples = n;
        }
        options
    }

    fn context(&self) -> ParseContext {
        ParseContext {
            default_year: self.default_year.unwrap_or_else(this_year),
        }
    }
}

/// Reads `data` as a log of the given (or recognised) type with its built-in log schema.
/// `Ok(Err(report))`: the log cannot be read at all.
fn read_log<'a>(
    data: &'a [u8],
    options: &ReadOptions,
    validate: &ValidateOptions,
) -> Result<Result<ValidatedLog<'a>, ValidationReport>, JsValue> {
    let mut schema_error = None;
    let result = validate_log(
        data,
        options.log_type.as_deref(),
        &options.context(),
        validate,
        &mut |t| match builtin_log_schema(t)? {
            Ok(schema) => Some(schema),
            Err(e) => {
                schema_error = Some(e);
                None::<LogSchema>
            }
        },
    );
    if let Some(e) = schema_error {
        return Err(js_error(
            Code::UnsupportedLogType,
            format!("built-in log schema: {e}"),
        ));
    }
    match result {
        Ok(log) => Ok(Ok(log)),
        Err(TrainError::Export(e)) => Ok(Err(ValidationReport::from_error(&e))),
        Err(e) => Err(train_error(&e)),
    }
}

/// Validates an export or raw log against its log type's built-in schema, as `mcp-train
/// validate --json` does. A log that cannot be read gives a report with `valid: false`, not an
/// error; an unknown log type throws `UNSUPPORTED_LOG_TYPE`.
#[wasm_bindgen(unchecked_return_type = "Validation")]
pub fn validate(data: &[u8], options: Option<Ts<ReadOptions>>) -> Result<JsValue, JsValue> {
    let options: ReadOptions = crate::convert::options(options, "options")?;
    let validate = options.validate_options();
    let (log_type, raw, report) = match read_log(data, &options, &validate)? {
        Ok(log) => (Some(log.log_type), log.raw, log.parsed.report),
        Err(report) => (options.log_type.clone(), false, report),
    };
    let result = Object::new();
    let log_type = log_type.map_or(JsValue::NULL, JsValue::from);
    let _ = Reflect::set(&result, &"logType".into(), &log_type);
    let _ = Reflect::set(&result, &"raw".into(), &raw.into());
    let _ = Reflect::set(&result, &"report".into(), &to_js(&report)?);
    Ok(result.into())
}

/// The export (NDJSON bytes) of a raw log, as `mcp-train import` writes it. A log with bad lines
/// is refused (`INVALID_EXPORT`, naming the first) unless `dropInvalid`.
#[wasm_bindgen(js_name = importLog)]
pub fn import_log(data: &[u8], options: Option<Ts<ReadOptions>>) -> Result<Vec<u8>, JsValue> {
    let options: ReadOptions = crate::convert::options(options, "options")?;
    let validate = options.validate_options();
    let report = match read_log(data, &options, &validate)? {
        Ok(log) if log.parsed.report.valid => {
            if !log.raw {
                return Err(js_error(
                    Code::InvalidArgument,
                    "the data is already an export (it starts with { or [); importLog reads raw log text",
                ));
            }
            let mut out = Vec::new();
            let source = options.source.as_deref().unwrap_or("log");
            write_export_of(&log.parsed.export.records, &log.log_type, source, &mut out).map_err(
                |e| js_error(Code::InvalidExport, format!("cannot write the export: {e}")),
            )?;
            return Ok(out);
        }
        Ok(log) => log.parsed.report,
        Err(report) => report,
    };
    let count: usize = report.errors.iter().map(|g| g.count).sum();
    let message = match report.first_error() {
        Some(first) if count > 1 => format!(
            "{first} (and {} more errors; validate() lists them, dropInvalid leaves the bad lines out)",
            count - 1
        ),
        Some(first) => format!("{first} (dropInvalid leaves the bad line out)"),
        None => "the log cannot be read".to_owned(),
    };
    Err(js_error(Code::InvalidExport, message))
}

/// The wifi-v1 feature matrix of an export, as `mcp-train features` writes it.
#[wasm_bindgen(js_name = extractFeatures, unchecked_return_type = "FeatureMatrix")]
pub fn extract_features(data: &[u8], options: Option<Ts<ReadOptions>>) -> Result<JsValue, JsValue> {
    let options: ReadOptions = crate::convert::options(options, "options")?;
    let validate = options.validate_options();
    let parsed = parse_export(data, &validate).map_err(|e| export_error(&e))?;
    let dropped = parsed.report.dropped.as_ref().map_or(0, |d| d.count);
    let export = parsed.into_usable().map_err(|e| export_error(&e))?;
    let config = Config::defaults();
    let matrix = features::extract(&export, &config.model.features, None);
    let index: Vec<u32> = matrix.record_index.iter().map(|&i| i as u32).collect();
    let names = to_js(&matrix.schema.features)?;
    let result = Object::new();
    let _ = Reflect::set(
        &result,
        &"schema".into(),
        &matrix.schema.name.as_str().into(),
    );
    let _ = Reflect::set(&result, &"names".into(), &names);
    let _ = Reflect::set(&result, &"nRows".into(), &(matrix.n_rows() as f64).into());
    let _ = Reflect::set(&result, &"nCols".into(), &(matrix.n_cols() as f64).into());
    let _ = Reflect::set(
        &result,
        &"data".into(),
        &Float64Array::from(matrix.data.as_slice()),
    );
    let _ = Reflect::set(
        &result,
        &"recordIndex".into(),
        &Uint32Array::from(index.as_slice()),
    );
    let _ = Reflect::set(&result, &"droppedRecords".into(), &(dropped as f64).into());
    Ok(result.into())
}
