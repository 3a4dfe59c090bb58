//! The one clock of the command line and the server. The core never reads the time: "now" and
//! the stopwatch come from here and go in as arguments.
//!
//! Reproducible runs: `SOURCE_DATE_EPOCH` (whole seconds) replaces "now" in
//! [`reproducible_now`], the clock the command line uses for model versions and registry
//! changes, and a frozen [`Stopwatch`] always reads 0, so the same inputs give the same bytes.
//! The server keeps the wall clock ([`now_micros`]) for its own records; a training job fixes
//! its model's time through its `created_at_micros` parameter instead.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The environment variable that fixes "now" for reproducible builds.
pub const SOURCE_DATE_EPOCH: &str = "SOURCE_DATE_EPOCH";

/// Why there is no usable "now".
#[derive(Debug, thiserror::Error)]
pub enum ClockError {
    /// `SOURCE_DATE_EPOCH` is not a whole number.
    #[error("SOURCE_DATE_EPOCH must be whole seconds since 1970, found {text:?}")]
    NotSeconds { text: String },
    /// `SOURCE_DATE_EPOCH` does not fit in microseconds.
    #[error("SOURCE_DATE_EPOCH {seconds} is out of range")]
    OutOfRange { seconds: i64 },
    /// The system clock says it is before 1970.
    #[error("system clock before 1970: {0}")]
    BeforeEpoch(#[from] std::time::SystemTimeError),
}

/// A point in time for a run, in microseconds since 1970, and whether it was fixed by
/// `SOURCE_DATE_EPOCH` (then durations are not measured either).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    pub micros: i64,
    pub frozen: bool,
}

/// Microseconds since 1970 by the system clock (0 if the clock is set before 1970).
pub fn now_micros() -> i64 {
    system_micros().unwrap_or(0)
}

fn system_micros() -> Result<i64, std::time::SystemTimeError> {
    let since = SystemTime::now().duration_since(UNIX_EPOCH)?;
    Ok(i64::try_from(since.as_micros()).unwrap_or(i64::MAX))
}

/// "Now" from `SOURCE_DATE_EPOCH` when it is set, else the system clock.
pub fn reproducible_now() -> Result<Now, ClockError> {
    from_epoch_var(std::env::var(SOURCE_DATE_EPOCH).ok().as_deref())
}

/// [`reproducible_now`] with the variable's value given.
fn from_epoch_var(value: Option<&str>) -> Result<Now, ClockError> {
    match value {
        Some(text) => {
            let seconds: i64 = text.trim().parse().map_err(|_| ClockError::NotSeconds {
                text: text.to_owned(),
            })?;
            let micros = seconds
                .checked_mul(1_000_000)
                .ok_or(ClockError::OutOfRange { seconds })?;
            Ok(Now {
                micros,
                frozen: true,
            })
        }
        None => Ok(Now {
            micros: system_micros()?,
            frozen: false,
        }),
    }
}

/// Milliseconds since it started; always 0 when frozen, so a reproducible run records no
/// measured duration.
#[derive(Debug, Clone, Copy)]
pub struct Stopwatch {
    started: Instant,
    frozen: bool,
}

impl Stopwatch {
    pub fn start(frozen: bool) -> Stopwatch {
        Stopwatch::started_at(Instant::now(), frozen)
    }

    /// A stopwatch that has been running since `started` (e.g. since a job left the queue).
    pub fn started_at(started: Instant, frozen: bool) -> Stopwatch {
        Stopwatch { started, frozen }
    }

    pub fn elapsed_ms(&self) -> f64 {
        if self.frozen {
            0.0
        } else {
            self.started.elapsed().as_secs_f64() * 1000.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_date_epoch_fixes_now_in_microseconds() {
        assert_eq!(
            from_epoch_var(Some("1700000000")).ok(),
            Some(Now {
                micros: 1_700_000_000_000_000,
                frozen: true
            })
        );
        // Surrounding whitespace is forgiven, as before.
        assert_eq!(from_epoch_var(Some(" 0\n")).ok().map(|n| n.micros), Some(0));
    }

    #[test]
    fn a_bad_source_date_epoch_is_named() {
        let e = from_epoch_var(Some("soon")).err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("SOURCE_DATE_EPOCH must be whole seconds since 1970, found \"soon\"")
        );
        let e = from_epoch_var(Some("1.5")).err().map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("\"1.5\"")));
        let e = from_epoch_var(Some(&i64::MAX.to_string()))
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e,
            Some(format!("SOURCE_DATE_EPOCH {} is out of range", i64::MAX))
        );
    }

    #[test]
    fn without_source_date_epoch_the_system_clock_runs() {
        let now = from_epoch_var(None).ok();
        assert!(now.is_some_and(|n| !n.frozen && n.micros > 1_700_000_000_000_000));
        assert!(now_micros() > 1_700_000_000_000_000);
    }

    #[test]
    fn a_frozen_stopwatch_reads_zero() {
        let frozen = Stopwatch::start(true);
        let running = Stopwatch::start(false);
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert_eq!(frozen.elapsed_ms(), 0.0);
        assert!(running.elapsed_ms() >= 5.0);
    }
}
