//! Calendar arithmetic and ISO 8601 timestamps, without a clock.
//!
//! Timestamps are held as microseconds since the Unix epoch, UTC (`i64`). The core never reads the
//! system clock (it panics on `wasm32-unknown-unknown`); callers pass "now" in when they need it.
//! The civil-date conversions follow Howard Hinnant's `days_from_civil` / `civil_from_days`
//! algorithms, which are exact over the whole proleptic Gregorian calendar.

use std::fmt;

/// Microseconds in one second.
pub const MICROS_PER_SECOND: i64 = 1_000_000;
/// Microseconds in one minute.
pub const MICROS_PER_MINUTE: i64 = 60 * MICROS_PER_SECOND;
/// Microseconds in one day.
pub const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

/// A parsed ISO 8601 timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedTimestamp {
    /// Microseconds since 1970-01-01T00:00:00Z.
    pub micros: i64,
    /// Whether the text carried a zone (`Z` or `±HH:MM`); without one it was read as UTC.
    pub has_offset: bool,
}

/// Why a timestamp could not be read. The message names the first thing that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason} in timestamp {text:?} (expected ISO 8601 such as 2024-01-01T12:00:00Z)")]
pub struct TimestampError {
    /// What is wrong.
    pub reason: &'static str,
    /// The offending text, shortened to at most 64 characters.
    pub text: String,
}

impl TimestampError {
    fn new(reason: &'static str, text: &str) -> Self {
        let text = match text.char_indices().nth(64) {
            Some((cut, _)) => format!("{}…", &text[..cut]),
            None => text.to_owned(),
        };
        TimestampError { reason, text }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date `(year, month, day)` of a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(year) => 29,
        _ => 28,
    }
}

/// A UTC instant broken into calendar fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CivilTime {
    /// Proleptic Gregorian year.
    pub year: i64,
    /// Month, 1–12.
    pub month: u32,
    /// Day of the month, 1–31.
    pub day: u32,
    /// Hour, 0–23.
    pub hour: u32,
    /// Minute, 0–59.
    pub minute: u32,
    /// Second, 0–59.
    pub second: u32,
    /// Microsecond within the second, 0–999999.
    pub micro: u32,
    /// Monday = 0 … Sunday = 6.
    pub weekday: u32,
}

impl CivilTime {
    /// Breaks microseconds since the epoch (UTC) into calendar fields.
    pub fn from_micros(micros: i64) -> Self {
        let days = micros.div_euclid(MICROS_PER_DAY);
        let in_day = micros.rem_euclid(MICROS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        let secs = in_day / MICROS_PER_SECOND;
        CivilTime {
            year,
            month,
            day,
            hour: (secs / 3600) as u32,
            minute: (secs / 60 % 60) as u32,
            second: (secs % 60) as u32,
            micro: (in_day % MICROS_PER_SECOND) as u32,
            // 1970-01-01 was a Thursday (Monday = 0 → Thursday = 3).
            weekday: (days + 3).rem_euclid(7) as u32,
        }
    }
}

/// A timestamp formatted as RFC 3339 UTC: `2024-01-01T12:00:00Z`, with `.ffffff` when the
/// microseconds are not zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Iso8601(pub i64);

impl fmt::Display for Iso8601 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = CivilTime::from_micros(self.0);
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        )?;
        if c.micro != 0 {
            write!(f, ".{:06}", c.micro)?;
        }
        f.write_str("Z")
    }
}

/// Formats microseconds since the epoch as an RFC 3339 UTC string.
pub fn format_iso8601(micros: i64) -> String {
    Iso8601(micros).to_string()
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, n: usize) -> Option<u32> {
        let end = self.pos.checked_add(n)?;
        let slice = self.bytes.get(self.pos..end)?;
        let mut v = 0u32;
        for &b in slice {
            if !b.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(b - b'0');
        }
        self.pos = end;
        Some(v)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
}

/// Parses an ISO 8601 / RFC 3339 date-time.
///
/// Accepted: `YYYY-MM-DD` then `T`, `t` or a space, then `HH:MM[:SS[.fraction]]`, then an optional
/// zone `Z`, `±HH:MM`, `±HHMM` or `±HH`. The fraction may have 1–9 digits (a comma also works) and
/// is kept to the microsecond. A leap second (`:60`) is accepted and rolls into the next minute.
/// Without a zone the time is read as UTC and [`ParsedTimestamp::has_offset`] is false.
pub fn parse_iso8601(text: &str) -> Result<ParsedTimestamp, TimestampError> {
    let err = |reason| TimestampError::new(reason, text);
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(err("empty"));
    }
    let mut c = Cursor {
        bytes: trimmed.as_bytes(),
        pos: 0,
    };
    let year = c.digits(4).ok_or_else(|| err("bad year"))?;
    if !c.eat(b'-') {
        return Err(err("expected '-' after the year"));
    }
    let month = c.digits(2).ok_or_else(|| err("bad month"))?;
    if !c.eat(b'-') {
        return Err(err("expected '-' after the month"));
    }
    let day = c.digits(2).ok_or_else(|| err("bad day"))?;
    if !(1..=12).contains(&month) {
        return Err(err("month out of range"));
    }
    if day == 0 || day > days_in_month(i64::from(year), month) {
        return Err(err("day out of range"));
    }
    match c.peek() {
        Some(b'T' | b't' | b' ') => c.pos += 1,
        None => return Err(err("missing time of day")),
        Some(_) => return Err(err("expected 'T' between date and time")),
    }
    let hour = c.digits(2).ok_or_else(|| err("bad hour"))?;
    if !c.eat(b':') {
        return Err(err("expected ':' after the hour"));
    }
    let minute = c.digits(2).ok_or_else(|| err("bad minute"))?;
    let mut second = 0;
    let mut micro = 0u32;
    if c.eat(b':') {
        second = c.digits(2).ok_or_else(|| err("bad second"))?;
        if c.peek() == Some(b'.') || c.peek() == Some(b',') {
            c.pos += 1;
            let start = c.pos;
            while c.peek().is_some_and(|b| b.is_ascii_digit()) {
                let digit = u32::from(c.bytes[c.pos] - b'0');
                let place = c.pos - start;
                if place < 6 {
                    micro += digit * 10u32.pow(5 - place as u32);
                }
                c.pos += 1;
            }
            let len = c.pos - start;
            if len == 0 || len > 9 {
                return Err(err("bad fraction of a second"));
            }
        }
    }
    if hour > 23 {
        return Err(err("hour out of range"));
    }
    if minute > 59 {
        return Err(err("minute out of range"));
    }
    if second > 60 {
        return Err(err("second out of range"));
    }
    let mut offset_secs: i64 = 0;
    let mut has_offset = false;
    match c.peek() {
        None => {}
        Some(b'Z' | b'z') => {
            c.pos += 1;
            has_offset = true;
        }
        Some(sign @ (b'+' | b'-')) => {
            c.pos += 1;
            let oh = c.digits(2).ok_or_else(|| err("bad zone offset"))?;
            let om = if c.eat(b':') {
                c.digits(2).ok_or_else(|| err("bad zone offset"))?
            } else {
                c.digits(2).unwrap_or(0)
            };
            if oh > 23 || om > 59 {
                return Err(err("zone offset out of range"));
            }
            offset_secs = i64::from(oh * 3600 + om * 60);
            if sign == b'-' {
                offset_secs = -offset_secs;
            }
            has_offset = true;
        }
        Some(_) => return Err(err("unexpected text after the time")),
    }
    if c.pos != c.bytes.len() {
        return Err(err("unexpected text after the zone"));
    }
    let days = days_from_civil(i64::from(year), month, day);
    let secs = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second) - offset_secs;
    Ok(ParsedTimestamp {
        micros: secs * MICROS_PER_SECOND + i64::from(micro),
        has_offset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn micros(text: &str) -> i64 {
        parse_iso8601(text).map(|p| p.micros).unwrap_or(i64::MIN)
    }

    #[test]
    fn civil_round_trip_over_four_centuries() {
        for days in (-200_000..200_000).step_by(7) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn parses_common_shapes() {
        assert_eq!(micros("1970-01-01T00:00:00Z"), 0);
        assert_eq!(micros("2024-01-01T12:00:00Z"), 1_704_110_400_000_000);
        assert_eq!(micros("2024-01-01 12:00:00Z"), 1_704_110_400_000_000);
        assert_eq!(micros("2024-01-01T12:00:00.5Z"), 1_704_110_400_500_000);
        assert_eq!(
            micros("2024-01-01T12:00:00.123456789Z"),
            1_704_110_400_123_456
        );
        assert_eq!(micros("2024-01-01T13:00:00+01:00"), 1_704_110_400_000_000);
        assert_eq!(micros("2024-01-01T07:00:00-0500"), 1_704_110_400_000_000);
        assert_eq!(micros("2024-01-01T12:00Z"), 1_704_110_400_000_000);
        let naive = parse_iso8601("2024-01-01T12:00:00").map(|p| p.has_offset);
        assert_eq!(naive, Ok(false));
    }

    #[test]
    fn rejects_with_a_reason() {
        for (text, reason) in [
            ("", "empty"),
            ("yesterday", "bad year"),
            ("Nov 21 20:28:50", "bad year"),
            ("2024-13-01T00:00:00Z", "month out of range"),
            ("2023-02-29T00:00:00Z", "day out of range"),
            ("2024-01-01", "missing time of day"),
            ("2024-01-01T25:00:00Z", "hour out of range"),
            ("2024-01-01T12:00:00Zjunk", "unexpected text after the zone"),
            ("2024-01-01T12:00:00.Z", "bad fraction of a second"),
            ("2024-01-01T12:00:00+25:00", "zone offset out of range"),
        ] {
            let got = parse_iso8601(text).map_err(|e| e.reason);
            assert_eq!(got, Err(reason), "{text}");
        }
    }

    #[test]
    fn leap_day_and_weekday() {
        let t = micros("2024-02-29T23:59:59Z");
        let c = CivilTime::from_micros(t);
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.minute, c.second),
            (2024, 2, 29, 23, 59, 59)
        );
        // 2024-02-29 was a Thursday.
        assert_eq!(c.weekday, 3);
        assert_eq!(
            CivilTime::from_micros(micros("2024-01-01T00:00:00Z")).weekday,
            0
        );
        assert_eq!(CivilTime::from_micros(-1).weekday, 2);
    }

    #[test]
    fn formats_round_trip() {
        for text in [
            "2024-01-01T12:00:00Z",
            "1969-12-31T23:59:59.999999Z",
            "2038-01-19T03:14:08.000001Z",
        ] {
            assert_eq!(format_iso8601(micros(text)), text);
        }
    }
}
