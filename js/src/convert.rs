//! Values across the boundary: small objects through serde-wasm-bindgen (plain JS objects, the
//! same shape as the core's JSON), options read from `undefined` or an object.

use mcp_train_core::time::{parse_iso8601, CivilTime};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tsify::{Ts, Tsify};
use wasm_bindgen::JsValue;

use crate::error::{js_error, Code};

/// `value` as a plain JS object: maps as objects and 64-bit integers as numbers, so the object
/// has the shape of the core's JSON (`mcp-train ... --json`, the API).
pub fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| {
            js_error(
                Code::InvalidArgument,
                format!("cannot convert the result: {e}"),
            )
        })
}

/// Options from JS: `undefined` or `null` is every option's default; `what` names the argument in
/// the error.
pub fn options<T: Tsify + DeserializeOwned + Default>(
    value: Option<Ts<T>>,
    what: &str,
) -> Result<T, JsValue> {
    match value {
        Some(value) => required(value, what),
        None => Ok(T::default()),
    }
}

/// A required object argument, typed in TypeScript by its Rust type (tsify); read here, where a
/// bad value is an ordinary error rather than an exception thrown across the boundary.
///
/// Read through a JSON value: serde-wasm-bindgen looks up only the fields a struct declares, so an
/// unknown (misspelt) option would pass unnoticed; serde_json's `deny_unknown_fields` names it.
pub fn required<T: Tsify + DeserializeOwned>(value: Ts<T>, what: &str) -> Result<T, JsValue> {
    let invalid = |text: String| {
        // serde-wasm-bindgen's errors are JS `Error`s; their text starts with "Error: ".
        let text = text.strip_prefix("Error: ").unwrap_or(&text).to_owned();
        js_error(Code::InvalidArgument, format!("{what}: {text}"))
    };
    let json: serde_json::Value =
        serde_wasm_bindgen::from_value(JsValue::from(value)).map_err(|e| invalid(e.to_string()))?;
    serde_json::from_value(json).map_err(|e| invalid(e.to_string()))
}

/// An ISO 8601 time (`2024-01-01T00:00:00Z`) as microseconds since the epoch; `field` names it
/// in the error.
pub fn micros(field: &str, text: &str) -> Result<i64, JsValue> {
    parse_iso8601(text)
        .map(|t| t.micros)
        .map_err(|e| js_error(Code::InvalidArgument, format!("{field}: {e}")))
}

/// The UTC year of a time in microseconds.
pub fn year_of(micros: i64) -> i32 {
    CivilTime::from_micros(micros).year as i32
}

/// This year by the JS clock (`Date`): the year of RFC 3164 timestamps that carry none, when the
/// caller names no `defaultYear` and there is no other time to go by.
pub fn this_year() -> i32 {
    js_sys::Date::new_0().get_utc_full_year() as i32
}
