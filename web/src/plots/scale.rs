//! Scales and ticks: the linear map from data to viewBox units, d3's "nice" 1-2-5 tick steps,
//! and the axis ticks every plot labels (4–6 round values, whole numbers for counts).

use mcp_train_core::display;

/// Linear map from a data domain onto a range of viewBox units (the range may be reversed, as
/// for a y axis growing upwards).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearScale {
    d0: f64,
    d1: f64,
    r0: f64,
    r1: f64,
}

impl LinearScale {
    /// A non-finite domain is replaced by `[0, 1]`, a non-finite range end by 0.
    pub fn new(domain: (f64, f64), range: (f64, f64)) -> Self {
        let (d0, d1) = if domain.0.is_finite() && domain.1.is_finite() {
            domain
        } else {
            (0.0, 1.0)
        };
        let finite_or_zero = |v: f64| if v.is_finite() { v } else { 0.0 };
        LinearScale {
            d0,
            d1,
            r0: finite_or_zero(range.0),
            r1: finite_or_zero(range.1),
        }
    }

    /// Where `v` lands in the range (outside it when `v` is outside the domain). A degenerate
    /// domain (both ends equal), a non-finite `v` or an overflow map to the middle of the range,
    /// so the result is always finite.
    pub fn map(&self, v: f64) -> f64 {
        let middle = (self.r0 + self.r1) / 2.0;
        let span = self.d1 - self.d0;
        if !v.is_finite() || span == 0.0 || !span.is_finite() {
            return middle;
        }
        let out = self.r0 + (v - self.d0) / span * (self.r1 - self.r0);
        if out.is_finite() {
            out
        } else {
            middle
        }
    }

    /// [`map`](Self::map), clamped into the range.
    pub fn map_clamped(&self, v: f64) -> f64 {
        let (lo, hi) = if self.r0 <= self.r1 {
            (self.r0, self.r1)
        } else {
            (self.r1, self.r0)
        };
        self.map(v).clamp(lo, hi)
    }
}

/// A tick spacing `mantissa · 10^power`, mantissa one of 1, 2, 2.5, 5.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TickStep {
    mantissa: f64,
    power: i32,
}

/// Upper bound on the ticks one step may produce; beyond it the step is useless for an axis.
const MAX_TICKS: f64 = 10_000.0;

impl TickStep {
    /// The spacing between two ticks.
    pub fn size(self) -> f64 {
        self.mantissa * 10f64.powi(self.power)
    }

    /// Decimals needed to print a multiple of the step exactly: 0.05 → 2, 0.25 → 2, 2.5 → 1,
    /// 20 → 0.
    pub fn decimals(self) -> usize {
        let extra = i32::from(self.mantissa.fract() != 0.0);
        usize::try_from(extra - self.power).unwrap_or(0)
    }

    /// The multiples of the step in `[lo, hi]` (a hair of tolerance at both ends so rounding
    /// does not drop an end tick), ascending. Computed as `i / (1/step)` for steps below 1, like
    /// d3, so 0.1·3 prints `0.3` and not `0.30000000000000004`.
    pub fn ticks(self, lo: f64, hi: f64) -> Vec<f64> {
        const EPS: f64 = 1e-9;
        if !(lo.is_finite() && hi.is_finite()) || lo > hi {
            return Vec::new();
        }
        let inverse = 10f64.powi(-self.power) / self.mantissa;
        let (first, last, value): (f64, f64, Box<dyn Fn(f64) -> f64>) =
            if self.power < 0 && inverse.is_finite() {
                (
                    (lo * inverse - EPS).ceil(),
                    (hi * inverse + EPS).floor(),
                    Box::new(move |i| i / inverse),
                )
            } else {
                let size = self.size();
                (
                    (lo / size - EPS).ceil(),
                    (hi / size + EPS).floor(),
                    Box::new(move |i| i * size),
                )
            };
        let n = last - first + 1.0;
        if !(1.0..=MAX_TICKS).contains(&n) {
            return Vec::new();
        }
        // `+ 0.0` turns a −0 tick (from ceil(−0.3) = −0) into +0.
        (0..n as usize)
            .map(|k| value(first + k as f64) + 0.0)
            .filter(|v| v.is_finite())
            .collect()
    }
}

/// d3's `tickIncrement`: the 1-2-5 step giving about `count` ticks over `[lo, hi]`.
fn d3_step(lo: f64, hi: f64, count: usize) -> Option<TickStep> {
    let raw = (hi - lo) / count as f64;
    if !(raw > 0.0 && raw.is_finite()) {
        return None;
    }
    let power = raw.log10().floor() as i32;
    let error = raw / 10f64.powi(power);
    let mantissa = if error >= 50f64.sqrt() {
        10.0
    } else if error >= 10f64.sqrt() {
        5.0
    } else if error >= 2f64.sqrt() {
        2.0
    } else {
        1.0
    };
    Some(if mantissa == 10.0 {
        TickStep {
            mantissa: 1.0,
            power: power + 1,
        }
    } else {
        TickStep { mantissa, power }
    })
}

/// Sorted finite ends, or `None` when either is not finite.
pub(super) fn ordered(lo: f64, hi: f64) -> Option<(f64, f64)> {
    if !(lo.is_finite() && hi.is_finite()) {
        None
    } else if lo <= hi {
        Some((lo, hi))
    } else {
        Some((hi, lo))
    }
}

/// d3's `ticks(lo, hi, count)`: about `count` round values (multiples of 1, 2 or 5 times a
/// power of ten) inside `[lo, hi]`, ascending (a reversed range is sorted first). A degenerate
/// range gives the single value; a non-finite end or `count = 0` gives none.
pub fn nice_ticks(lo: f64, hi: f64, count: usize) -> Vec<f64> {
    let Some((lo, hi)) = ordered(lo, hi) else {
        return Vec::new();
    };
    if count == 0 {
        return Vec::new();
    }
    if lo == hi {
        return vec![lo];
    }
    d3_step(lo, hi, count.min(1000)).map_or_else(Vec::new, |step| step.ticks(lo, hi))
}

/// The step for an axis over `[lo, hi]` (ordered, finite): the spacing among 1, 2, 5 and 2.5
/// times a power of ten whose tick count is nearest to 4–6, preferring the rounder mantissa,
/// then a count nearer 5. With `integer`, only whole steps (for counts of records).
fn axis_step(lo: f64, hi: f64, integer: bool) -> Option<TickStep> {
    let span = hi - lo;
    if !(span > 0.0 && span.is_finite()) {
        return None;
    }
    let base = (span / 5.0).log10().floor() as i32;
    let mut best: Option<((usize, usize, usize), TickStep)> = None;
    for power in base - 1..=base + 1 {
        for (rank, mantissa) in [1.0, 2.0, 5.0, 2.5].into_iter().enumerate() {
            let step = TickStep { mantissa, power };
            let size = step.size();
            if integer && (size < 1.0 || size.fract() != 0.0) {
                continue;
            }
            let n = step.ticks(lo, hi).len();
            if n == 0 {
                continue;
            }
            let outside = if n < 4 { 4 - n } else { n.saturating_sub(6) };
            let key = (outside, rank, n.abs_diff(5));
            if best.as_ref().is_none_or(|(k, _)| key < *k) {
                best = Some((key, step));
            }
        }
    }
    match best {
        Some((_, step)) => Some(step),
        None if integer => Some(TickStep {
            mantissa: 1.0,
            power: 0,
        }),
        None => None,
    }
}

/// One tick of an axis: its data value and its label.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    pub value: f64,
    pub label: String,
}

fn labelled(values: Vec<f64>, step: TickStep) -> Vec<Tick> {
    let decimals = step.decimals();
    values
        .into_iter()
        .map(|value| Tick {
            value,
            label: display::trimmed(value, decimals),
        })
        .collect()
}

/// Ticks for an axis over `[lo, hi]`: 4–6 round values where the range allows (see
/// [`axis_step`]), labelled with the step's precision. A degenerate range gives one tick, a
/// non-finite end none.
pub fn axis_ticks(lo: f64, hi: f64) -> Vec<Tick> {
    let Some((lo, hi)) = ordered(lo, hi) else {
        return Vec::new();
    };
    if lo == hi {
        return vec![Tick {
            value: lo,
            label: display::number(lo),
        }];
    }
    match axis_step(lo, hi, false) {
        Some(step) => labelled(step.ticks(lo, hi), step),
        None => Vec::new(),
    }
}

/// A count axis from 0 up to at least `max`: whole-number ticks and the top of the domain,
/// rounded up to the last tick so the tallest bar sits under a labelled line. `max = 0` gives
/// the domain `[0, 1]` with the single tick 0.
pub fn count_axis(max: u64) -> (f64, Vec<Tick>) {
    let zero = || Tick {
        value: 0.0,
        label: "0".to_owned(),
    };
    if max == 0 {
        return (1.0, vec![zero()]);
    }
    let max = max as f64;
    let Some(step) = axis_step(0.0, max, true) else {
        return (max, vec![zero()]);
    };
    let top = (max / step.size()).ceil() * step.size();
    let top = if top.is_finite() && top >= max {
        top
    } else {
        max
    };
    (top, labelled(step.ticks(0.0, top), step))
}

/// A tick placed on an axis, in viewBox units.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedTick {
    pub pos: f64,
    pub label: String,
}

pub(super) fn place(ticks: Vec<Tick>, scale: &LinearScale) -> Vec<PlacedTick> {
    ticks
        .into_iter()
        .map(|t| PlacedTick {
            pos: scale.map(t.value),
            label: t.label,
        })
        .collect()
}

/// Ticks 0, 0.25, …, 1 of the unit axes.
pub(super) fn unit_ticks() -> Vec<Tick> {
    labelled(
        TickStep {
            mantissa: 2.5,
            power: -1,
        }
        .ticks(0.0, 1.0),
        TickStep {
            mantissa: 2.5,
            power: -1,
        },
    )
}
