//! The query parameters of `POST /api/training/jobs`: the core's per-name parsers
//! ([`TrainChoices::set`]) for the training parameters, the server's configuration for the rest.

use mcp_train_core::config::Config;
use mcp_train_core::pipeline::{ParamError, TrainChoices, TrainParams};

use crate::http::error::{ApiError, ApiResult};

/// The query parameters of `POST /api/training/jobs`: the training parameters chosen (parsed by
/// the core's per-name parsers, the rest from the server's configuration), the file name, the
/// fixed creation time and the log type (learned from the export when not given).
pub(super) fn parse_params(
    query: &[(String, String)],
    config: &Config,
) -> ApiResult<(TrainParams, String, Option<i64>, Option<String>)> {
    if let Some((name, _)) = query
        .iter()
        .enumerate()
        .find(|(i, (name, _))| query[..*i].iter().any(|(n, _)| n == name))
        .map(|(_, pair)| pair)
    {
        let shown: String = name.chars().take(64).collect();
        return Err(ApiError::invalid_parameter(format!(
            "parameter {shown:?} is given more than once"
        )));
    }
    let mut choices = TrainChoices::default();
    let mut file_name = "export.json".to_owned();
    let mut created_at = None;
    let mut log_type = None;
    let bad = |name: &str, expected: &str, value: &str| {
        let shown: String = value.chars().take(64).collect();
        ApiError::invalid_parameter(format!("{name}: expected {expected}, found {shown:?}"))
    };
    for (name, value) in query {
        let v = value.trim();
        match name.as_str() {
            "file_name" => {
                if v.is_empty() || v.len() > 255 || v.chars().any(char::is_control) {
                    return Err(bad(name, "a file name (1–255 characters)", value));
                }
                file_name = v.to_owned();
            }
            "log_type" => {
                if v != mcp_train_core::pipeline::WIFI_LOG_TYPE {
                    mcp_train_core::agent::agent(v)
                        .map_err(|e| ApiError::invalid_parameter(format!("log_type: {e}")))?;
                }
                log_type = Some(v.to_owned());
            }
            "created_at_micros" => {
                let micros: i64 = v
                    .parse()
                    .map_err(|_| bad(name, "microseconds since 1970 (a whole number)", value))?;
                // The model's version is its creation second, YYYYMMDD_HHMMSS: years 1970–9999.
                if !(0..253_402_300_800_000_000).contains(&micros) {
                    return Err(bad(name, "a time between 1970 and 9999", value));
                }
                created_at = Some(micros);
            }
            _ => choices.set(name, v).map_err(|e| match e {
                ParamError::Unknown(name) => ApiError::invalid_parameter(format!(
                    "unknown parameter {name:?} (see /api/openapi.json)"
                )),
                e => ApiError::invalid_parameter(e.to_string()),
            })?,
        }
    }
    let params = choices
        .resolve(config)
        .map_err(|e| ApiError::invalid_parameter(e.to_string()))?;
    Ok((params, file_name, created_at, log_type))
}
