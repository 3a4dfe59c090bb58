//! Numbers, sizes and times as the pages show them. Counts, sizes and percentages read as they do
//! in the CLI: they come from the core's one formatting module, `mcp_train_core::display`.

/// `1,234,567`: the core's `display::thousands`, under the name the pages use.
pub use mcp_train_core::display::thousands as count;
pub use mcp_train_core::display::{bytes, percent, percent_with};
use mcp_train_core::time::{format_iso8601, parse_iso8601};

/// `0.934`, or `n/a`.
pub fn metric(value: Option<f64>) -> String {
    value
        .filter(|v| v.is_finite())
        .map_or_else(|| "n/a".to_owned(), |v| format!("{v:.3}"))
}

/// `1.2 s`, `350 ms`, `2 min 05 s`.
pub fn duration_ms(ms: f64) -> String {
    if !ms.is_finite() || ms < 0.0 {
        return "n/a".to_owned();
    }
    if ms < 1000.0 {
        return format!("{ms:.0} ms");
    }
    let seconds = ms / 1000.0;
    if seconds < 60.0 {
        return format!("{seconds:.1} s");
    }
    let whole = seconds.round() as u64;
    format!("{} min {:02} s", whole / 60, whole % 60)
}

/// `2024-06-01 12:00:00 UTC` from microseconds since the epoch.
pub fn time(micros: i64) -> String {
    let iso = format_iso8601(micros);
    // 2024-06-01T12:00:00.000000Z or 2024-06-01T12:00:00Z → date and whole seconds.
    match (iso.get(..10), iso.get(11..19)) {
        (Some(date), Some(clock)) => format!("{date} {clock} UTC"),
        _ => iso,
    }
}

/// An ISO 8601 time as the pages show it; text that is not one is shown as it is.
pub fn iso_time(text: &str) -> String {
    parse_iso8601(text).map_or_else(|_| text.to_owned(), |t| time(t.micros))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_sizes_read_as_in_the_cli() {
        assert_eq!(count(20_000), "20,000");
        assert_eq!(bytes(5_600_000.0), "5.6 MB");
        assert_eq!(percent_with(0.05, 2), "5.00%");
    }

    #[test]
    fn durations_pick_a_readable_unit() {
        assert_eq!(duration_ms(350.0), "350 ms");
        assert_eq!(duration_ms(1234.0), "1.2 s");
        assert_eq!(duration_ms(125_000.0), "2 min 05 s");
        assert_eq!(duration_ms(-1.0), "n/a");
    }

    #[test]
    fn times_are_shown_in_utc_to_the_second() {
        assert_eq!(time(1_717_243_200_000_000), "2024-06-01 12:00:00 UTC");
        assert_eq!(iso_time("2024-06-01T12:00:00Z"), "2024-06-01 12:00:00 UTC");
        assert_eq!(iso_time("yesterday"), "yesterday");
    }

    #[test]
    fn metrics_show_three_decimals_or_na() {
        assert_eq!(metric(Some(0.93456)), "0.935");
        assert_eq!(metric(None), "n/a");
        assert_eq!(metric(Some(f64::NAN)), "n/a");
    }
}
