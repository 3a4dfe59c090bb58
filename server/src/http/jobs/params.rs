//! The query parameters of `POST /api/training/jobs`, and the pipeline options they give over the
//! server's configuration.

use mcp_train_core::config::{AutoOr, Config, DetectorKind, MaxSamples};
use mcp_train_core::pipeline::{self, TrainParams};

use crate::http::error::{ApiError, ApiResult};

/// The pipeline options of `params` over the server's configuration. With the built-in
/// configuration these are exactly the browser's, so the same choices give the same model bytes.
pub(super) fn options(params: &TrainParams, config: &Config, now: i64) -> pipeline::TrainOptions {
    let mut options = params.to_options(now);
    if *config != Config::defaults() {
        let mut own = config.clone();
        own.model.model.isolation_forest.n_estimators = params.n_estimators;
        own.model.model.isolation_forest.max_samples = params.max_samples;
        own.model.model.lof.n_neighbors = params.n_neighbors;
        options.config = own;
        options.detector = Some(params.detector);
        options.contamination = Some(params.contamination);
    }
    options
}

/// The query parameters of `POST /api/training/jobs` over the configuration's defaults.
pub(super) fn parse_params(
    query: &[(String, String)],
    config: &Config,
) -> ApiResult<(TrainParams, String, Option<i64>)> {
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
    let mut params = TrainParams::from_config(config);
    let mut file_name = "export.json".to_owned();
    let mut created_at = None;
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
            "detector" => {
                params.detector = match v {
                    "isolation_forest" => DetectorKind::IsolationForest,
                    "lof" => DetectorKind::Lof,
                    _ => return Err(bad(name, "isolation_forest or lof", value)),
                }
            }
            "seed" => {
                params.seed = v
                    .parse()
                    .map_err(|_| bad(name, "a whole number ≥ 0", value))?
            }
            "contamination" => {
                params.contamination = if v.eq_ignore_ascii_case("auto") {
                    AutoOr::Auto
                } else {
                    match v.parse::<f64>() {
                        Ok(c) if c > 0.0 && c <= 0.5 => AutoOr::Value(c),
                        _ => return Err(bad(name, "\"auto\" or a fraction in (0, 0.5]", value)),
                    }
                }
            }
            "n_estimators" => {
                params.n_estimators = match v.parse::<u32>() {
                    Ok(n) if (1..=10_000).contains(&n) => n,
                    _ => return Err(bad(name, "a whole number from 1 to 10000", value)),
                }
            }
            "max_samples" => {
                params.max_samples = if v.eq_ignore_ascii_case("auto") {
                    MaxSamples::Auto
                } else if let Ok(n) = v.parse::<u64>() {
                    if n == 0 {
                        return Err(bad(
                            name,
                            "\"auto\", a count ≥ 1 or a fraction in (0, 1]",
                            value,
                        ));
                    }
                    MaxSamples::Count(n)
                } else {
                    match v.parse::<f64>() {
                        Ok(f) if f > 0.0 && f <= 1.0 => MaxSamples::Fraction(f),
                        _ => {
                            return Err(bad(
                                name,
                                "\"auto\", a count ≥ 1 or a fraction in (0, 1]",
                                value,
                            ))
                        }
                    }
                }
            }
            "n_neighbors" => {
                params.n_neighbors = match v.parse::<u32>() {
                    Ok(n) if n >= 1 => n,
                    _ => return Err(bad(name, "a whole number ≥ 1", value)),
                }
            }
            "drop_invalid" => {
                params.drop_invalid = match v {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => return Err(bad(name, "true or false", value)),
                }
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
            _ => {
                let shown: String = name.chars().take(64).collect();
                return Err(ApiError::invalid_parameter(format!(
                    "unknown parameter {shown:?} (see /api/openapi.json)"
                )));
            }
        }
    }
    Ok((params, file_name, created_at))
}
