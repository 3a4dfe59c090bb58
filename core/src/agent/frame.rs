//! Syslog framing shared by every agent: reads the envelope of a raw log line — time, host,
//! process, level — and leaves the daemon's message to the agent.
//!
//! Accepted shapes (a leading `<PRI>` is optional in the first and third):
//! - RFC 3164 / BSD: `Dec  3 17:50:14 host prog[pid]: msg`, with the year after the time
//!   (`Dec  3 17:50:14 2026 host …`), before the month (`2026 Dec  3 17:50:14 host …`) or
//!   missing (then [`ParseContext::default_year`]); the host may be absent, as in the files
//!   dnsmasq writes itself (`Dec  3 17:50:14 dnsmasq[12]: msg`); a line without a tag (ulogd's
//!   LOGEMU: `Dec  3 17:50:14 host DROP_IN IN=…`) has an empty process name.
//! - RFC 5424: `<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD…] MSG` (`-` for nil fields).
//! - ISO 8601 first: `2026-12-03T17:50:14.123Z host prog[pid]: msg` (no offset: UTC).
//!
//! Severity comes from `<PRI>` (emerg/alert/crit → CRITICAL, err → ERROR, warning → WARNING,
//! notice/info → INFO, debug → DEBUG); without one the level is INFO.

use std::borrow::Cow;

use super::{LineError, ParseContext};
use crate::export::{LogLevel, Record};
use crate::time::{days_from_civil, parse_iso8601, MICROS_PER_DAY, MICROS_PER_SECOND};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Reads the syslog envelope of `line` into a record with `index` as its position. The message
/// is everything after the tag (or after the host when there is no tag), as borrowed text.
pub fn parse_frame<'a>(
    line: &'a str,
    index: usize,
    ctx: &ParseContext,
) -> Result<Record<'a>, LineError> {
    let mut cur = Cursor {
        text: line.strip_suffix('\r').unwrap_or(line),
        pos: 0,
    };
    cur.skip_spaces();
    if cur.rest().is_empty() {
        return Err(cur.error("empty line"));
    }
    let pri = if cur.rest().starts_with('<') {
        Some(cur.pri()?)
    } else {
        None
    };
    let level = pri.map_or(LogLevel::Info, |p| severity_level(p & 7));

    // RFC 5424: `<PRI>1 ` then the fields.
    if pri.is_some() && cur.rest().starts_with("1 ") {
        cur.pos += 2;
        return rfc5424(cur, index, level);
    }

    let timestamp = cur.timestamp(ctx)?;
    cur.skip_spaces();
    let (host, process_name, message) = host_tag_message(&mut cur);
    Ok(Record {
        index,
        timestamp,
        message: Cow::Borrowed(message),
        process_name: Cow::Borrowed(process_name),
        host: host.map(Cow::Borrowed),
        level,
        label: None,
    })
}

fn severity_level(severity: u8) -> LogLevel {
    match severity {
        0..=2 => LogLevel::Critical,
        3 => LogLevel::Error,
        4 => LogLevel::Warning,
        5 | 6 => LogLevel::Info,
        _ => LogLevel::Debug,
    }
}

fn rfc5424(mut cur: Cursor<'_>, index: usize, level: LogLevel) -> Result<Record<'_>, LineError> {
    let at = cur.pos;
    let stamp = cur.token();
    if stamp == "-" {
        return Err(cur.error_at(at, "RFC 5424 line without a timestamp"));
    }
    let timestamp = parse_iso8601(stamp)
        .map_err(|e| cur.error_at(at, &format!("RFC 5424 timestamp: {e}")))?
        .micros;
    let host = nil(cur.token());
    let app = nil(cur.token()).unwrap_or("");
    let _procid = cur.token();
    let _msgid = cur.token();
    cur.skip_spaces();
    // Structured data: `-` or one or more `[id k="v" …]` elements (`\]` escapes inside values).
    if cur.rest().starts_with('-') {
        cur.pos += 1;
    } else {
        while cur.rest().starts_with('[') {
            let start = cur.pos;
            let mut escaped = false;
            let mut in_quotes = false;
            let mut end = None;
            for (i, c) in cur.rest().char_indices().skip(1) {
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => in_quotes = !in_quotes,
                    ']' if !in_quotes => {
                        end = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            match end {
                Some(i) => cur.pos += i + 1,
                None => return Err(cur.error_at(start, "unterminated structured data element")),
            }
        }
    }
    let message = cur.rest().strip_prefix(' ').unwrap_or(cur.rest());
    let message = message.strip_prefix('\u{feff}').unwrap_or(message);
    Ok(Record {
        index,
        timestamp,
        message: Cow::Borrowed(message),
        process_name: Cow::Borrowed(app),
        host: host.map(Cow::Borrowed),
        level,
        label: None,
    })
}

fn nil(token: &str) -> Option<&str> {
    (!token.is_empty() && token != "-").then_some(token)
}

/// After the timestamp: `[host] [tag[pid]:] message`.
fn host_tag_message<'a>(cur: &mut Cursor<'a>) -> (Option<&'a str>, &'a str, &'a str) {
    let save = cur.pos;
    let first = cur.token();
    if let Some(tag) = as_tag(first) {
        return (None, tag, cur.message());
    }
    let after_host = cur.pos;
    let second = cur.token();
    if let Some(tag) = as_tag(second) {
        return (nonempty(first), tag, cur.message());
    }
    if first.is_empty() {
        cur.pos = save;
        return (None, "", cur.message());
    }
    // A host and a message without a tag.
    cur.pos = after_host;
    (Some(first), "", cur.message())
}

fn nonempty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

/// `prog:` or `prog[pid]:` → `prog`.
fn as_tag(token: &str) -> Option<&str> {
    let name = token.strip_suffix(':')?;
    let name = match name.find('[') {
        Some(open) if name.ends_with(']') => &name[..open],
        Some(_) => return None,
        None => name,
    };
    (!name.is_empty() && !name.contains(']')).then_some(name)
}

struct Cursor<'a> {
    text: &'a str,
    /// Byte offset into `text`.
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn skip_spaces(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start_matches([' ', '\t']).len();
    }

    /// The next space-delimited token (after leading spaces); empty at the end.
    fn token(&mut self) -> &'a str {
        self.skip_spaces();
        let rest = self.rest();
        let end = rest.find([' ', '\t']).unwrap_or(rest.len());
        self.pos += end;
        &rest[..end]
    }

    /// The rest after one separating space.
    fn message(&mut self) -> &'a str {
        let rest = self.rest();
        let rest = rest.strip_prefix([' ', '\t']).unwrap_or(rest);
        self.pos = self.text.len();
        rest
    }

    fn column(&self, byte: usize) -> usize {
        self.text[..byte.min(self.text.len())].chars().count() + 1
    }

    fn error(&self, message: &str) -> LineError {
        self.error_at(self.pos, message)
    }

    fn error_at(&self, byte: usize, message: &str) -> LineError {
        LineError {
            column: self.column(byte),
            message: message.to_owned(),
        }
    }

    /// `<N>` with N in 0..=191.
    fn pri(&mut self) -> Result<u8, LineError> {
        let rest = self.rest();
        let close = rest[1..]
            .find('>')
            .filter(|&i| (1..=3).contains(&i))
            .ok_or_else(|| self.error("expected a syslog priority such as <13>"))?;
        let digits = &rest[1..=close];
        let value: u16 = match digits.bytes().all(|b| b.is_ascii_digit()) {
            true => digits.parse().unwrap_or(u16::MAX),
            false => u16::MAX,
        };
        if value > 191 {
            return Err(self.error(&format!("syslog priority <{digits}> is not 0 to 191")));
        }
        self.pos += close + 2;
        Ok(value as u8)
    }

    /// An ISO 8601 timestamp, or a BSD one with an optional year before or after it.
    fn timestamp(&mut self, ctx: &ParseContext) -> Result<i64, LineError> {
        let start = self.pos;
        let first = self.token();
        if first.as_bytes().first().is_some_and(u8::is_ascii_digit) {
            if let Ok(parsed) = parse_iso8601(first) {
                return Ok(parsed.micros);
            }
            // `2026 Dec  3 17:50:14`
            if let Some(year) = year(first) {
                let micros = self.bsd(Some(year), ctx)?;
                return Ok(micros);
            }
            return Err(self.error_at(
                start,
                "expected a timestamp (`Dec  3 17:50:14`, RFC 3339 or RFC 5424)",
            ));
        }
        self.pos = start;
        self.bsd(None, ctx)
    }

    /// `Mmm dd hh:mm:ss[.frac] [yyyy]` (or `Mmm dd yyyy hh:mm:ss`).
    fn bsd(&mut self, year_before: Option<i64>, ctx: &ParseContext) -> Result<i64, LineError> {
        let at = self.pos;
        let month_text = self.token();
        let month = MONTHS
            .iter()
            .position(|m| m.eq_ignore_ascii_case(month_text))
            .ok_or_else(|| {
                self.error_at(
                    at,
                    "expected a timestamp (`Dec  3 17:50:14`, RFC 3339 or RFC 5424)",
                )
            })?;
        self.skip_spaces();
        let at_day = self.pos;
        let day: u32 = self
            .token()
            .parse()
            .ok()
            .filter(|d| (1..=31).contains(d))
            .ok_or_else(|| self.error_at(at_day, "expected a day of the month (1 to 31)"))?;
        self.skip_spaces();
        let mut at_time = self.pos;
        let mut time_text = self.token();
        let mut year_value = year_before;
        if year_value.is_none() {
            if let Some(y) = year(time_text) {
                // `Mmm dd yyyy hh:mm:ss`
                year_value = Some(y);
                self.skip_spaces();
                at_time = self.pos;
                time_text = self.token();
            }
        }
        let seconds = clock(time_text)
            .ok_or_else(|| self.error_at(at_time, "expected a time of day hh:mm:ss"))?;
        if year_value.is_none() {
            let save = self.pos;
            let next = self.token();
            match year(next) {
                Some(y) => year_value = Some(y),
                None => self.pos = save,
            }
        }
        let year = year_value.unwrap_or(i64::from(ctx.default_year));
        let month = month as u32 + 1;
        if day > days_in_month(year, month) {
            return Err(self.error_at(
                at_day,
                &format!("{month_text} {day} does not exist in {year}"),
            ));
        }
        let days = days_from_civil(year, month, day);
        Ok(days * MICROS_PER_DAY + seconds)
    }
}

/// A four-digit year 1970..=9999.
fn year(token: &str) -> Option<i64> {
    (token.len() == 4 && token.bytes().all(|b| b.is_ascii_digit()))
        .then(|| token.parse().ok())
        .flatten()
        .filter(|y| *y >= 1970)
}

/// `hh:mm:ss` with optional `.fraction` (up to microseconds) → microseconds of the day.
fn clock(text: &str) -> Option<i64> {
    let (hms, frac) = match text.split_once('.') {
        Some((hms, frac)) => (hms, Some(frac)),
        None => (text, None),
    };
    let mut parts = hms.split(':');
    let mut field = |max: i64| -> Option<i64> {
        let p = parts.next()?;
        if p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        p.parse().ok().filter(|v| *v <= max)
    };
    let (h, m, s) = (field(23)?, field(59)?, field(60)?);
    if parts.next().is_some() {
        return None;
    }
    let mut micros = ((h * 60 + m) * 60 + s.min(59)) * MICROS_PER_SECOND;
    if let Some(frac) = frac {
        if frac.is_empty() || frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let digits = &frac[..frac.len().min(6)];
        let value: i64 = digits.parse().ok()?;
        micros += value * 10_i64.pow(6 - digits.len() as u32);
    }
    Some(micros)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::format_iso8601;

    const CTX: ParseContext = ParseContext { default_year: 2026 };

    fn read(line: &str) -> Record<'_> {
        parse_frame(line, 7, &CTX).unwrap_or_else(|e| panic!("{line:?}: {e}"))
    }

    fn shape(r: &Record<'_>) -> (String, Option<String>, String, LogLevel, String) {
        (
            format_iso8601(r.timestamp),
            r.host.as_deref().map(str::to_owned),
            r.process_name.to_string(),
            r.level,
            r.message.to_string(),
        )
    }

    #[test]
    fn bsd_with_host_and_pid() {
        let r = read("Dec  3 17:50:14 gw dnsmasq[812]: query[A] example.com from 10.0.0.5");
        assert_eq!(r.index, 7);
        assert_eq!(
            shape(&r),
            (
                "2026-12-03T17:50:14Z".into(),
                Some("gw".into()),
                "dnsmasq".into(),
                LogLevel::Info,
                "query[A] example.com from 10.0.0.5".into()
            )
        );
    }

    #[test]
    fn dnsmasq_own_file_has_no_host() {
        let r = read("Dec  3 17:50:14 dnsmasq[812]: 12 127.0.0.1/40000 query[A] x from 127.0.0.1");
        assert_eq!(r.host, None);
        assert_eq!(r.process_name, "dnsmasq");
        assert_eq!(r.message, "12 127.0.0.1/40000 query[A] x from 127.0.0.1");
    }

    #[test]
    fn years_before_after_and_inside() {
        for line in [
            "Dec  3 17:50:14 2024 host sshd[1]: hi",
            "2024 Dec  3 17:50:14 host sshd[1]: hi",
            "Dec  3 2024 17:50:14 host sshd[1]: hi",
        ] {
            let r = read(line);
            assert_eq!(
                format_iso8601(r.timestamp),
                "2024-12-03T17:50:14Z",
                "{line}"
            );
            assert_eq!(r.host.as_deref(), Some("host"), "{line}");
            assert_eq!(r.message, "hi");
        }
    }

    #[test]
    fn pri_gives_level_and_tagless_lines_keep_their_text() {
        let r = read("<4>Dec 13 01:02:03 fw DROP_IN IN=eth0 OUT= SRC=10.0.0.1");
        assert_eq!(r.level, LogLevel::Warning);
        assert_eq!(r.host.as_deref(), Some("fw"));
        assert_eq!(r.process_name, "");
        assert_eq!(r.message, "DROP_IN IN=eth0 OUT= SRC=10.0.0.1");
        assert_eq!(read("<11>Jan  1 00:00:00 h a: b").level, LogLevel::Error);
        assert_eq!(read("<7>Jan  1 00:00:00 h a: b").level, LogLevel::Debug);
        assert_eq!(read("<0>Jan  1 00:00:00 h a: b").level, LogLevel::Critical);
        let k = read("Jan  1 00:00:00 h kernel: [  12.5] DROP_IN IN=x");
        assert_eq!(k.process_name, "kernel");
        assert_eq!(k.message, "[  12.5] DROP_IN IN=x");
    }

    #[test]
    fn rfc5424() {
        let r = read("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Appl\\]ication\"] \u{feff}An application event");
        assert_eq!(
            shape(&r),
            (
                "2003-10-11T22:14:15.003000Z".into(),
                Some("mymachine.example.com".into()),
                "evntslog".into(),
                LogLevel::Info,
                "An application event".into()
            )
        );
        let r = read("<34>1 2003-10-11T22:14:15Z - su - - - 'su root' failed");
        assert_eq!(r.host, None);
        assert_eq!(r.level, LogLevel::Critical);
        assert_eq!(r.message, "'su root' failed");
    }

    #[test]
    fn iso_first() {
        let r = read(
            "2026-12-03T17:50:14.25+01:00 ap-01 hostapd: wlan0: AP-STA-CONNECTED aa:bb:cc:dd:ee:ff",
        );
        assert_eq!(format_iso8601(r.timestamp), "2026-12-03T16:50:14.250000Z");
        assert_eq!(r.process_name, "hostapd");
        assert_eq!(r.message, "wlan0: AP-STA-CONNECTED aa:bb:cc:dd:ee:ff");
    }

    #[test]
    fn errors_name_the_column() {
        let cases = [
            ("", 1, "empty"),
            ("<999>Jan  1 00:00:00 h a: b", 1, "priority"),
            ("hello world", 1, "timestamp"),
            ("Dec 32 00:00:00 h a: b", 5, "day"),
            ("Feb 30 00:00:00 h a: b", 5, "does not exist"),
            ("Dec  3 25:00:00 h a: b", 8, "time of day"),
            ("<1>1 - h a - - - m", 6, "without a timestamp"),
            ("<1>1 2026-13-01T00:00:00Z h a - - - m", 6, "timestamp"),
            (
                "<1>1 2026-12-01T00:00:00Z h a - - [x y=\"1\" m",
                35,
                "unterminated",
            ),
            ("é Dec", 1, "timestamp"),
        ];
        for (line, column, needle) in cases {
            let e = parse_frame(line, 0, &CTX).expect_err(line);
            assert_eq!(e.column, column, "{line:?}: {e}");
            assert!(e.message.contains(needle), "{line:?}: {e}");
        }
    }

    #[test]
    fn never_panics_on_prefixes_of_valid_lines() {
        let line = "<165>1 2003-10-11T22:14:15.003Z host app 1 ID [a b=\"]\"] é msg";
        for (i, _) in line.char_indices() {
            let _ = parse_frame(&line[..i], 0, &CTX);
        }
        let line = "<13>Dec  3 17:50:14 2024 gw dnsmasq[812]: é";
        for (i, _) in line.char_indices() {
            let _ = parse_frame(&line[..i], 0, &CTX);
        }
    }
}
