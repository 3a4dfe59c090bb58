//! A value JavaScript threw (a `DOMException`, an `Error`, a string), as text for a message.

use wasm_bindgen::{JsCast, JsValue};

/// A thrown JS value as text.
pub fn js_error(value: &JsValue) -> String {
    if let Some(e) = value.dyn_ref::<web_sys::DomException>() {
        return format!("{}: {}", e.name(), e.message());
    }
    if let Some(e) = value.dyn_ref::<js_sys::Error>() {
        return String::from(e.message());
    }
    value.as_string().unwrap_or_else(|| format!("{value:?}"))
}
