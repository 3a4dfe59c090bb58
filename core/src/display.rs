//! Numbers as people read them: counts with thousands separators, shares as percentages, sizes in
//! decimal units, plot labels, and bytes as hex. One copy for every surface — the CLI's reports,
//! the server and the web app's pages all call these — so the same number reads the same
//! everywhere (README transcripts and tests hold some of these strings, e.g. `20,000`, `5.6 MB`).
//!
//! Every function is total: a non-finite number gives `n/a` (or an empty label), never `NaN`.
//!
//! ```
//! use mcp_train_core::display;
//!
//! assert_eq!(display::thousands(20_000), "20,000");
//! assert_eq!(display::percent(0.0523), "5.2%");
//! assert_eq!(display::bytes(27_948_170.0), "27.9 MB");
//! assert_eq!(display::hex(&[0x0f, 0xa0]), "0fa0");
//! ```

use std::fmt::Write as _;

/// `1234567` → `1,234,567`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A share as a percentage with one decimal: `0.3521` → `35.2%`; `n/a` when not finite.
pub fn percent(share: f64) -> String {
    percent_with(share, 1)
}

/// A share as a percentage with `decimals` decimals: `(0.05, 2)` → `5.00%`. A share that rounds
/// to zero from below reads `0.0%`, not `-0.0%`; `n/a` when not finite.
pub fn percent_with(share: f64, decimals: usize) -> String {
    let pct = share * 100.0;
    if !pct.is_finite() {
        return "n/a".to_owned();
    }
    let text = format!("{pct:.decimals$}");
    match text.strip_prefix('-') {
        Some(magnitude) if magnitude.chars().all(|c| c == '0' || c == '.') => {
            format!("{magnitude}%")
        }
        _ => format!("{text}%"),
    }
}

/// A size in bytes in decimal units with one decimal: `27.9 MB`, `1.5 GB`; below 1000, whole
/// bytes (`512 B`). Negative or non-finite sizes read `0 B`.
pub fn bytes(n: f64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if !n.is_finite() || n < 1000.0 {
        return format!("{} B", n.max(0.0) as u64);
    }
    let mut value = n;
    let mut unit = "B";
    for u in UNITS {
        if value < 1000.0 {
            break;
        }
        value /= 1000.0;
        unit = u;
    }
    format!("{value:.1} {unit}")
}

/// A size in bytes always in megabytes with one decimal (`5.6 MB`, `0.3 MB`), as the CLI reports
/// what it wrote.
pub fn megabytes(n: u64) -> String {
    format!("{:.1} MB", n as f64 / 1e6)
}

/// `value` with `decimals` decimals, trailing zeros (and a bare point) trimmed and `-0` written
/// `0`: `(0.25, 2)` → `0.25`, `(0.5, 2)` → `0.5`, `(1.0, 2)` → `1`. Non-finite → empty string.
/// Axis ticks are labelled with it at their step's precision.
pub fn trimmed(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return String::new();
    }
    trim_zeros(format!("{value:.decimals$}"))
}

/// A number for labels and hover text: 4 decimals (trimmed) in the usual range, scientific
/// notation for tiny or huge magnitudes (`2.500e-5`), `n/a` when not finite.
pub fn number(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_owned();
    }
    let magnitude = v.abs();
    if v == 0.0 {
        "0".to_owned()
    } else if (1e-3..1e9).contains(&magnitude) {
        trim_zeros(format!("{v:.4}"))
    } else {
        format!("{v:.3e}")
    }
}

/// Removes trailing zeros after a decimal point (and the point itself when nothing is left
/// after it), and writes negative zero as `0`.
fn trim_zeros(s: String) -> String {
    let trimmed = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s.as_str()
    };
    if trimmed == "-0" {
        "0".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// Bytes as lowercase hex, two digits each: digests (`sha256`) and random ids.
pub fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(20_000), "20,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }

    #[test]
    fn percentages_have_one_decimal_and_never_read_nan_or_minus_zero() {
        assert_eq!(percent(0.35214), "35.2%");
        assert_eq!(percent(1.0), "100.0%");
        assert_eq!(percent(0.05), "5.0%");
        assert_eq!(percent(-0.0001), "0.0%");
        assert_eq!(percent(-0.0), "0.0%");
        assert_eq!(percent(-0.5), "-50.0%");
        assert_eq!(percent(f64::NAN), "n/a");
        assert_eq!(percent(f64::MAX), "n/a");
        assert_eq!(percent_with(0.05, 2), "5.00%");
        assert_eq!(percent_with(0.123, 0), "12%");
        assert_eq!(percent_with(-0.001, 0), "0%");
        assert_eq!(percent_with(-0.02, 0), "-2%");
    }

    #[test]
    fn sizes_use_decimal_units() {
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(999.0), "999 B");
        assert_eq!(bytes(1000.0), "1.0 KB");
        assert_eq!(bytes(5_600_000.0), "5.6 MB");
        assert_eq!(bytes(27_948_170.0), "27.9 MB");
        assert_eq!(bytes(1.5e9), "1.5 GB");
        assert_eq!(bytes(2e15), "2000.0 TB");
        assert_eq!(bytes(f64::NAN), "0 B");
        assert_eq!(bytes(-5.0), "0 B");
        assert_eq!(megabytes(5_612_345), "5.6 MB");
        assert_eq!(megabytes(280_000), "0.3 MB");
        assert_eq!(megabytes(0), "0.0 MB");
    }

    #[test]
    fn tick_labels_and_numbers_are_trimmed() {
        assert_eq!(trimmed(0.25, 2), "0.25");
        assert_eq!(trimmed(0.5, 2), "0.5");
        assert_eq!(trimmed(1.0, 2), "1");
        assert_eq!(trimmed(-0.55, 2), "-0.55");
        assert_eq!(trimmed(-0.0, 1), "0");
        assert_eq!(trimmed(2500.0, 0), "2500");
        assert_eq!(trimmed(f64::NAN, 2), "");
        assert_eq!(number(-0.512345), "-0.5123");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(2.5e-5), "2.500e-5");
        assert_eq!(number(1e12), "1.000e12");
        assert_eq!(number(f64::NEG_INFINITY), "n/a");
    }

    #[test]
    fn hex_is_two_lowercase_digits_per_byte() {
        assert_eq!(hex(&[]), "");
        assert_eq!(hex(&[0, 1, 0xab, 0xff]), "0001abff");
        assert_eq!(hex(&[0x0f; 16]).len(), 32);
    }
}
