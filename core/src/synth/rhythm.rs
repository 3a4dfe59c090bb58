//! The day/night rhythm of normal traffic, and the clock that lays exactly N records onto it.
//!
//! The span is cut into ten-minute slots. Each slot gets a weight: the activity of its hour of
//! day (office hours busy, nights quiet, weekends lower) times a random "how busy was this
//! particular ten minutes" factor. The clock then walks a position `p` in "record space" `[0, n)`
//! and maps it through the inverse of the cumulative weight to a time. After each episode of `L`
//! records, `p` advances by `L` times an exponential draw, rescaled so that `p` keeps tracking the
//! number of records already scheduled: gaps look like a Poisson process, yet the clock reaches
//! the end of the span exactly when the N-th record is scheduled.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::time::{CivilTime, MICROS_PER_SECOND};

/// Nominal length of one rhythm slot.
const SLOT_MICROS: i64 = 600 * MICROS_PER_SECOND;

/// Relative activity per hour of day (UTC), Monday to Friday.
const WEEKDAY: [f64; 24] = [
    0.12, 0.08, 0.06, 0.05, 0.05, 0.07, 0.18, 0.45, 0.95, 1.60, 1.85, 1.90, //
    1.55, 1.70, 1.85, 1.75, 1.50, 1.05, 0.65, 0.50, 0.42, 0.35, 0.25, 0.17,
];

/// Relative activity per hour of day (UTC), Saturday and Sunday.
const WEEKEND: [f64; 24] = [
    0.15, 0.10, 0.07, 0.06, 0.05, 0.05, 0.07, 0.12, 0.20, 0.30, 0.38, 0.42, //
    0.42, 0.40, 0.40, 0.38, 0.35, 0.32, 0.30, 0.28, 0.25, 0.22, 0.20, 0.17,
];

/// Activity of an hour of day (0–23) on a weekday (Monday = 0).
pub(crate) fn hour_weight(weekday: u32, hour: u32) -> f64 {
    let table = if weekday >= 5 { &WEEKEND } else { &WEEKDAY };
    table[(hour % 24) as usize]
}

/// An exponential draw with mean 1, capped at 6 (so one unlucky draw cannot open a huge hole).
pub(crate) fn exp1(rng: &mut ChaCha8Rng) -> f64 {
    let u: f64 = rng.gen();
    (-libm::log(1.0 - u)).min(6.0)
}

/// Places the normal records of an export in time.
#[derive(Debug, Clone)]
pub(crate) struct TrafficClock {
    start: i64,
    slot_len: i64,
    /// Cumulative slot weights; `cum[i]` is the weight before slot `i`, `cum.len() = slots + 1`.
    cum: Vec<f64>,
    cursor: usize,
    /// Records to place.
    n: usize,
    /// Records scheduled so far.
    scheduled: usize,
    /// Position in record space, in `[0, n)`.
    position: f64,
}

impl TrafficClock {
    /// A clock for `n` records between `start` (inclusive) and `end` (exclusive).
    pub(crate) fn new(rng: &mut ChaCha8Rng, start: i64, end: i64, n: usize) -> TrafficClock {
        let span = (end - start).max(1);
        let slots = (span / SLOT_MICROS).max(1);
        let slot_len = span / slots;
        let mut cum = Vec::with_capacity(slots as usize + 1);
        let mut total = 0.0;
        cum.push(total);
        for slot in 0..slots {
            let c = CivilTime::from_micros(start + slot * slot_len);
            let busy = 0.55 + 0.9 * rng.gen::<f64>();
            total += hour_weight(c.weekday, c.hour) * busy;
            cum.push(total);
        }
        let position = if n == 0 {
            0.0
        } else {
            (0.5 * exp1(rng)).min(n as f64 * 0.5)
        };
        TrafficClock {
            start,
            slot_len,
            cum,
            cursor: 0,
            n,
            scheduled: 0,
            position,
        }
    }

    /// Records still to schedule.
    pub(crate) fn remaining(&self) -> usize {
        self.n - self.scheduled
    }

    /// When the next episode starts, or `None` once every record is scheduled.
    pub(crate) fn next_time(&mut self) -> Option<i64> {
        if self.scheduled >= self.n {
            return None;
        }
        let total = self.cum.last().copied().unwrap_or(0.0);
        let q = self.position / self.n as f64 * total;
        let last = self.cum.len().saturating_sub(2);
        while self.cursor < last && self.cum[self.cursor + 1] <= q {
            self.cursor += 1;
        }
        let lo = self.cum[self.cursor];
        let hi = self.cum[self.cursor + 1];
        let frac = if hi > lo {
            ((q - lo) / (hi - lo)).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let within = ((frac * self.slot_len as f64) as i64).min(self.slot_len - 1);
        Some(self.start + self.cursor as i64 * self.slot_len + within)
    }

    /// Records that an episode of `len` records was scheduled at [`Self::next_time`].
    pub(crate) fn advance(&mut self, rng: &mut ChaCha8Rng, len: usize) {
        let n = self.n as f64;
        let left_before = (self.n - self.scheduled) as f64;
        self.scheduled = (self.scheduled + len).min(self.n);
        if self.scheduled >= self.n {
            return;
        }
        // Stretch the step when the position lags the scheduled count, shrink it when ahead.
        let scale = (n - self.position) / left_before;
        // An empty episode (cannot happen today) still nudges the clock so it cannot stall.
        let step = len.max(1) as f64 * exp1(rng) * scale;
        self.position = (self.position + step).min(n * (1.0 - 1e-12));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{days_from_civil, MICROS_PER_DAY};
    use rand::SeedableRng;

    #[test]
    fn places_every_record_in_order_and_fills_the_span() {
        let start = days_from_civil(2024, 1, 1) * MICROS_PER_DAY;
        let end = start + 7 * MICROS_PER_DAY;
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut clock = TrafficClock::new(&mut rng, start, end, 100_000);
        let mut last = start;
        let mut episodes = 0;
        let mut by_hour = [0usize; 24];
        while let Some(t) = clock.next_time() {
            assert!(t >= last && t < end);
            last = t;
            let len = 1 + episodes % 7;
            by_hour[CivilTime::from_micros(t).hour as usize] += len;
            clock.advance(&mut rng, len);
            episodes += 1;
        }
        assert_eq!(clock.remaining(), 0);
        assert!(
            last > end - MICROS_PER_DAY / 4,
            "clock reaches the last day"
        );
        let night: usize = by_hour[1..5].iter().sum();
        let office: usize = by_hour[10..14].iter().sum();
        assert!(office > 8 * night, "office {office} vs night {night}");
    }
}
