//! The web app's one clock: the wall-clock "now" that dates models, jobs and deployments, and a
//! stopwatch for how long a training took. A fixed time from Settings freezes both: "now" is that
//! time and the stopwatch reads zero, as the CLI does under `SOURCE_DATE_EPOCH`, so a model is
//! byte-for-byte reproducible.
//!
//! The page and the worker both use it (`performance` exists on a window and on a worker's scope).

use mcp_train_core::time::parse_iso8601;
use wasm_bindgen::JsCast;

/// Now, in microseconds since the epoch.
pub fn now_micros() -> i64 {
    (js_sys::Date::now() * 1000.0) as i64
}

/// This computer's current year (UTC): the year of RFC 3164 timestamps that carry none.
pub fn current_year() -> i32 {
    i32::try_from(mcp_train_core::time::CivilTime::from_micros(now_micros()).year).unwrap_or(1970)
}

/// "Now" for a new model or deployment, and whether it is fixed: `fixed_time` (ISO 8601) when it
/// is one, else the wall clock.
pub fn now_or_fixed(fixed_time: &str) -> (i64, bool) {
    let fixed = fixed_time.trim();
    match parse_iso8601(fixed) {
        Ok(t) if !fixed.is_empty() => (t.micros, true),
        _ => (now_micros(), false),
    }
}

/// Milliseconds on a monotonic clock (`performance.now()`), the wall clock where there is none.
fn monotonic_ms() -> f64 {
    js_sys::Reflect::get(&js_sys::global(), &"performance".into())
        .ok()
        .and_then(|p| p.dyn_into::<web_sys::Performance>().ok())
        .map_or_else(js_sys::Date::now, |p| p.now())
}

/// Measures elapsed time; a frozen one always reads zero.
#[derive(Debug, Clone, Copy)]
pub struct Stopwatch {
    /// `None` when frozen.
    started_ms: Option<f64>,
}

impl Stopwatch {
    /// Starts timing now, or a frozen stopwatch (for a fixed creation time).
    pub fn start(frozen: bool) -> Stopwatch {
        Stopwatch {
            started_ms: (!frozen).then(monotonic_ms),
        }
    }

    /// Milliseconds since [`start`](Self::start); 0 when frozen.
    pub fn elapsed_ms(&self) -> f64 {
        self.started_ms
            .map_or(0.0, |started| monotonic_ms() - started)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The wall clock is JavaScript's, so only the frozen paths run natively.

    #[test]
    fn a_frozen_stopwatch_reads_zero() {
        let stopwatch = Stopwatch::start(true);
        assert_eq!(stopwatch.elapsed_ms(), 0.0);
    }

    #[test]
    fn a_fixed_time_is_now_and_frozen() {
        assert_eq!(
            now_or_fixed(" 2024-06-01T12:00:00Z "),
            (1_717_243_200_000_000, true)
        );
    }
}
