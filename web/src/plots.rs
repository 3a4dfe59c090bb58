//! Plain-SVG plots of an evaluation: the score histogram with the model's threshold, the ROC and
//! precision–recall curves, and the feature-importance bars.
//!
//! No JavaScript library and no external asset: every plot is one `<svg>` sized by its `viewBox`
//! (so it scales with CSS `width: 100%`), with `role="img"`, an `aria-label` summarising it and a
//! `<title>` per bar or curve for hover text. Colours come from CSS classes (`plot`, `plot-axis`,
//! `plot-grid`, `plot-bar`, `plot-bar-anomaly`, `plot-threshold`, `plot-line`, `plot-diagonal`,
//! `plot-label`, …) so a stylesheet can theme them; each element also carries default
//! `fill`/`stroke` presentation attributes, which any CSS rule overrides, so the plots read well
//! without a stylesheet too.
//!
//! The geometry lives in pure functions (scales, "nice" ticks, path strings, bar rectangles,
//! number formatting) that are unit-tested natively. Every number written into the SVG goes
//! through [`fmt_coord`] or one of the label formatters, which never print `NaN` or `inf`; the
//! layout functions drop non-finite data before it gets that far.

use leptos::prelude::*;
use mcp_train_core::evaluate::{Curve, FeatureImportance, Histogram};

// ---------------------------------------------------------------------------------------------
// Number formatting
// ---------------------------------------------------------------------------------------------

/// A coordinate for an SVG attribute: rounded to 2 decimals, trailing zeros trimmed, `-0`
/// written `0`. A non-finite value (which the layout functions never produce) is written `0`
/// rather than `NaN`.
pub fn fmt_coord(v: f64) -> String {
    let rounded = (v * 100.0).round() / 100.0;
    if !rounded.is_finite() {
        return "0".to_owned();
    }
    trim_number(format!("{rounded:.2}"))
}

/// Removes trailing zeros after a decimal point (and the point itself when nothing is left
/// after it), and writes negative zero as `0`.
fn trim_number(s: String) -> String {
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

/// A tick label: `value` with `decimals` decimals (the step's precision), trailing zeros
/// trimmed, so ticks 0, 0.25, 0.5 read `0`, `0.25`, `0.5`. Non-finite → empty string.
pub fn format_tick(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return String::new();
    }
    trim_number(format!("{value:.decimals$}"))
}

/// A number for hover text and labels: 4 decimals (trimmed) in the usual range, scientific
/// notation for tiny or huge magnitudes, `n/a` when not finite.
pub fn format_value(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_owned();
    }
    let magnitude = v.abs();
    if v == 0.0 {
        "0".to_owned()
    } else if (1e-3..1e9).contains(&magnitude) {
        trim_number(format!("{v:.4}"))
    } else {
        format!("{v:.3e}")
    }
}

/// A share in `[0, 1]` as a percentage with one decimal: `0.3521` → `35.2%`.
pub fn format_percent(share: f64) -> String {
    let pct = share * 100.0;
    if !pct.is_finite() {
        return "n/a".to_owned();
    }
    let pct = format!("{pct:.1}");
    if pct == "-0.0" {
        "0.0%".to_owned()
    } else {
        format!("{pct}%")
    }
}

// ---------------------------------------------------------------------------------------------
// Scales and ticks
// ---------------------------------------------------------------------------------------------

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
fn ordered(lo: f64, hi: f64) -> Option<(f64, f64)> {
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
            label: format_tick(value, decimals),
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
            label: format_value(lo),
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

// ---------------------------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------------------------

/// SVG path data for a polyline through `points` (`M x,y L x,y …`). Points with a non-finite
/// coordinate are skipped; no usable point gives an empty string.
pub fn polyline_path(points: &[(f64, f64)]) -> String {
    let mut d = String::new();
    for &(x, y) in points
        .iter()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
    {
        d.push(if d.is_empty() { 'M' } else { 'L' });
        d.push_str(&fmt_coord(x));
        d.push(',');
        d.push_str(&fmt_coord(y));
    }
    d
}

/// The finite points of a curve, in order, clamped into the unit square (rates, precision and
/// recall all live in `[0, 1]`). Extra coordinates of the longer vector are ignored.
pub fn curve_points(curve: &Curve) -> Vec<(f64, f64)> {
    curve
        .x
        .iter()
        .zip(&curve.y)
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .map(|(&x, &y)| (x.clamp(0.0, 1.0), y.clamp(0.0, 1.0)))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Layout frames
// ---------------------------------------------------------------------------------------------

/// A viewBox and the plot area inside it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Frame {
    width: f64,
    height: f64,
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
}

impl Frame {
    /// Left edge of the plot area.
    fn x0(&self) -> f64 {
        self.left
    }
    /// Right edge of the plot area.
    fn x1(&self) -> f64 {
        self.width - self.right
    }
    /// Top edge of the plot area.
    fn y0(&self) -> f64 {
        self.top
    }
    /// Bottom edge of the plot area.
    fn y1(&self) -> f64 {
        self.height - self.bottom
    }
    fn view_box(&self) -> String {
        format!("0 0 {} {}", fmt_coord(self.width), fmt_coord(self.height))
    }
}

const HISTOGRAM_FRAME: Frame = Frame {
    width: 640.0,
    height: 300.0,
    left: 60.0,
    right: 24.0,
    top: 28.0,
    bottom: 46.0,
};

const CURVE_FRAME: Frame = Frame {
    width: 360.0,
    height: 360.0,
    left: 56.0,
    right: 16.0,
    top: 16.0,
    bottom: 56.0,
};

// Default colours (presentation attributes; CSS classes override them).
const COLOR_BAR: &str = "#4c78a8";
const COLOR_ANOMALY: &str = "#e45756";
const COLOR_AXIS: &str = "#777";
const COLOR_GRID: &str = "#e4e4e4";
const COLOR_TEXT: &str = "#333";
const COLOR_THRESHOLD: &str = "#222";
const COLOR_DIAGONAL: &str = "#999";

// ---------------------------------------------------------------------------------------------
// Histogram geometry
// ---------------------------------------------------------------------------------------------

/// The score range a histogram covers: its smallest and largest finite edges, or `v ± 0.5`
/// (numpy's convention) when they are equal. `None` when no edge is finite.
pub fn histogram_domain(histogram: &Histogram) -> Option<(f64, f64)> {
    let mut finite = histogram.edges.iter().copied().filter(|e| e.is_finite());
    let first = finite.next()?;
    let (lo, hi) = finite.fold((first, first), |(lo, hi), e| (lo.min(e), hi.max(e)));
    if lo == hi {
        Some((lo - 0.5, hi + 0.5))
    } else {
        Some((lo, hi))
    }
}

/// One histogram bar in viewBox units, with the bin it draws.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramBar {
    pub x: f64,
    pub width: f64,
    pub y: f64,
    pub height: f64,
    /// Bin edges (scores).
    pub lo: f64,
    pub hi: f64,
    pub count: u64,
    /// Every score in the bin is below the threshold, so the whole bin is flagged.
    pub anomaly: bool,
}

/// The bars of `histogram` under scales `x` (scores) and `y` (counts, 0 at the bottom): bar `i`
/// spans exactly `x(edges[i])..x(edges[i+1])`. Bins with a non-finite edge are skipped; extra
/// counts or edges beyond `counts.len() + 1` are ignored. When all edges are equal (every score
/// the same value `v`) there is one bar centred on `v`, `1 / bins` wide, holding every count.
///
/// A bar is an anomaly when the whole bin lies left of `threshold` (`score − offset < 0`): its
/// right edge is below the threshold, or equal to it for any bin but the last (whose right edge
/// is inclusive).
pub fn histogram_bars(
    histogram: &Histogram,
    threshold: f64,
    x: &LinearScale,
    y: &LinearScale,
) -> Vec<HistogramBar> {
    histogram_bins(histogram, threshold)
        .into_iter()
        .map(|bin| place_bin(bin, x, y))
        .collect()
}

/// One drawable bin in data units: `(lo, hi, count, anomaly)`.
type Bin = (f64, f64, u64, bool);

/// The bins [`histogram_bars`] draws, before scaling.
fn histogram_bins(histogram: &Histogram, threshold: f64) -> Vec<Bin> {
    let bins = histogram
        .counts
        .len()
        .min(histogram.edges.len().saturating_sub(1));
    if bins == 0 {
        return Vec::new();
    }
    let edges = &histogram.edges[..=bins];
    let counts = &histogram.counts[..bins];
    let first = edges[0];
    if first.is_finite() && edges.iter().all(|&e| e == first) {
        let total = counts.iter().fold(0u64, |sum, &c| sum.saturating_add(c));
        let half = 0.5 / bins as f64;
        return vec![(first - half, first + half, total, first < threshold)];
    }
    edges
        .windows(2)
        .zip(counts)
        .enumerate()
        .filter(|(_, (pair, _))| pair[0].is_finite() && pair[1].is_finite())
        .map(|(i, (pair, &count))| {
            let (lo, hi) = (pair[0], pair[1]);
            let right = lo.max(hi);
            let anomaly = right < threshold || (right == threshold && i + 1 < bins);
            (lo, hi, count, anomaly)
        })
        .collect()
}

/// A bin as a rectangle standing on `y(0)`.
fn place_bin((lo, hi, count, anomaly): Bin, x: &LinearScale, y: &LinearScale) -> HistogramBar {
    let (left, right) = (x.map(lo), x.map(hi));
    let (base, top) = (y.map(0.0), y.map(count as f64));
    HistogramBar {
        x: left.min(right),
        width: (right - left).abs(),
        y: top.min(base),
        height: (base - top).abs(),
        lo,
        hi,
        count,
        anomaly,
    }
}

/// Where the threshold falls relative to the plotted scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThresholdPlacement {
    /// Inside the histogram's range: the line is at the threshold.
    Inside,
    /// Below the lowest edge: the line is pinned to the left edge of the plot.
    LeftOfPlot,
    /// Above the highest edge: the line is pinned to the right edge of the plot.
    RightOfPlot,
}

/// The x of the threshold line for scores in `domain` drawn by `x`: the threshold's position
/// when inside the domain, else the nearest edge of the plot. `None` for a NaN threshold (an
/// infinite one is pinned to its side).
pub fn threshold_x(
    threshold: f64,
    domain: (f64, f64),
    x: &LinearScale,
) -> Option<(f64, ThresholdPlacement)> {
    if threshold.is_nan() {
        return None;
    }
    let (lo, hi) = ordered(domain.0, domain.1)?;
    Some(if threshold < lo {
        (x.map_clamped(lo), ThresholdPlacement::LeftOfPlot)
    } else if threshold > hi {
        (x.map_clamped(hi), ThresholdPlacement::RightOfPlot)
    } else {
        (x.map_clamped(threshold), ThresholdPlacement::Inside)
    })
}

/// A tick placed on an axis, in viewBox units.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedTick {
    pub pos: f64,
    pub label: String,
}

fn place(ticks: Vec<Tick>, scale: &LinearScale) -> Vec<PlacedTick> {
    ticks
        .into_iter()
        .map(|t| PlacedTick {
            pos: scale.map(t.value),
            label: t.label,
        })
        .collect()
}

/// Everything the histogram component draws.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramLayout {
    pub bars: Vec<HistogramBar>,
    pub x_ticks: Vec<PlacedTick>,
    pub y_ticks: Vec<PlacedTick>,
    pub threshold: Option<(f64, ThresholdPlacement)>,
    /// Records in the drawn bins.
    pub total: u64,
    /// Records in bins wholly left of the threshold.
    pub anomalies: u64,
    /// Score range on the x axis.
    pub domain: (f64, f64),
}

/// The `aria-label` of [`ScoreHistogram`].
pub fn histogram_summary(layout: &HistogramLayout, threshold: f64) -> String {
    if layout.total == 0 {
        return "Histogram of scores: no data".to_owned();
    }
    let threshold_part = if threshold.is_nan() {
        String::new()
    } else {
        format!(
            "; threshold {}, {} records in bins left of it (anomalies)",
            format_value(threshold),
            layout.anomalies
        )
    };
    format!(
        "Histogram of {} scores in {} bins from {} to {}{}",
        layout.total,
        layout.bars.len(),
        format_value(layout.domain.0),
        format_value(layout.domain.1),
        threshold_part
    )
}

/// Lays out [`ScoreHistogram`] in its viewBox.
pub fn histogram_layout(histogram: &Histogram, threshold: f64) -> HistogramLayout {
    histogram_layout_in(histogram, threshold, &HISTOGRAM_FRAME)
}

fn histogram_layout_in(histogram: &Histogram, threshold: f64, frame: &Frame) -> HistogramLayout {
    let domain = histogram_domain(histogram).unwrap_or((0.0, 1.0));
    let x = LinearScale::new(domain, (frame.x0(), frame.x1()));
    let bins = histogram_bins(histogram, threshold);
    let max_count = bins.iter().map(|bin| bin.2).max().unwrap_or(0);
    let (top, y_ticks) = count_axis(max_count);
    let y = LinearScale::new((0.0, top), (frame.y1(), frame.y0()));
    let bars: Vec<HistogramBar> = bins.into_iter().map(|bin| place_bin(bin, &x, &y)).collect();
    let total = bars.iter().fold(0u64, |s, b| s.saturating_add(b.count));
    let anomalies = bars
        .iter()
        .filter(|b| b.anomaly)
        .fold(0u64, |s, b| s.saturating_add(b.count));
    HistogramLayout {
        x_ticks: place(axis_ticks(domain.0, domain.1), &x),
        y_ticks: place(y_ticks, &y),
        threshold: threshold_x(threshold, domain, &x),
        bars,
        total,
        anomalies,
        domain,
    }
}

// ---------------------------------------------------------------------------------------------
// Feature-importance geometry
// ---------------------------------------------------------------------------------------------

/// The `top` features by importance, descending (ties by name); non-finite importances are
/// left out.
pub fn top_importances(items: &[FeatureImportance], top: usize) -> Vec<&FeatureImportance> {
    let mut sorted: Vec<&FeatureImportance> =
        items.iter().filter(|i| i.importance.is_finite()).collect();
    sorted.sort_by(|a, b| {
        b.importance
            .total_cmp(&a.importance)
            .then_with(|| a.feature.cmp(&b.feature))
    });
    sorted.truncate(top);
    sorted
}

/// `name` cut to at most `max_chars` characters, the last one an ellipsis when cut.
pub fn truncate_label(name: &str, max_chars: usize) -> String {
    if name.chars().count() <= max_chars {
        return name.to_owned();
    }
    let mut cut: String = name.chars().take(max_chars.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

const IMPORTANCE_WIDTH: f64 = 640.0;
const IMPORTANCE_ROW: f64 = 24.0;
const IMPORTANCE_BAR: f64 = 16.0;
const IMPORTANCE_PAD: f64 = 8.0;
const IMPORTANCE_BAR_X: f64 = 208.0;
const IMPORTANCE_BAR_MAX: f64 = 360.0;
const IMPORTANCE_LABEL_CHARS: usize = 30;

/// One row of the importance chart, in viewBox units.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportanceRow {
    pub feature: String,
    /// The feature name as drawn (truncated when long).
    pub label: String,
    /// `35.2%`.
    pub value: String,
    /// Top of the bar.
    pub y: f64,
    pub width: f64,
}

/// Rows of [`FeatureImportanceChart`]: the top `top` features, the largest bar full width and
/// the others in proportion (negative importances get no bar), plus the viewBox height.
pub fn importance_rows(items: &[FeatureImportance], top: usize) -> (Vec<ImportanceRow>, f64) {
    let chosen = top_importances(items, top);
    let max = chosen.iter().map(|i| i.importance).fold(0.0f64, f64::max);
    let scale = LinearScale::new(
        (0.0, if max > 0.0 { max } else { 1.0 }),
        (0.0, IMPORTANCE_BAR_MAX),
    );
    let rows: Vec<ImportanceRow> = chosen
        .into_iter()
        .enumerate()
        .map(|(k, item)| ImportanceRow {
            feature: item.feature.clone(),
            label: truncate_label(&item.feature, IMPORTANCE_LABEL_CHARS),
            value: format_percent(item.importance),
            y: IMPORTANCE_PAD + k as f64 * IMPORTANCE_ROW + (IMPORTANCE_ROW - IMPORTANCE_BAR) / 2.0,
            width: scale.map_clamped(item.importance),
        })
        .collect();
    let height = 2.0 * IMPORTANCE_PAD + rows.len().max(1) as f64 * IMPORTANCE_ROW;
    (rows, height)
}

/// The `aria-label` of [`FeatureImportanceChart`] showing `rows` out of `features`.
pub fn importance_summary(rows: &[ImportanceRow], features: usize) -> String {
    if rows.is_empty() {
        return "Feature importance: no data".to_owned();
    }
    let shown = rows
        .iter()
        .map(|r| format!("{} {}", r.feature, r.value))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "Feature importance, top {} of {features} features: {shown}",
        rows.len()
    )
}

// ---------------------------------------------------------------------------------------------
// Components
// ---------------------------------------------------------------------------------------------

/// The label text of the threshold line: an arrow shows which way the real threshold lies when
/// it is off the plotted range.
fn threshold_label(placement: ThresholdPlacement) -> &'static str {
    match placement {
        ThresholdPlacement::Inside => "threshold",
        ThresholdPlacement::LeftOfPlot => "◀ threshold",
        ThresholdPlacement::RightOfPlot => "threshold ▶",
    }
}

/// Text anchor keeping a label at `x` inside `[x0, x1]`.
fn anchor_near(x: f64, x0: f64, x1: f64) -> &'static str {
    if x - x0 < 40.0 {
        "start"
    } else if x1 - x < 40.0 {
        "end"
    } else {
        "middle"
    }
}

/// Histogram of raw scores (`score_samples`, lower = more anomalous) with the model's
/// threshold (`offset`) as a dashed vertical line; bins wholly left of it are drawn as
/// anomalies.
#[component]
pub fn ScoreHistogram(histogram: Histogram, threshold: f64) -> impl IntoView {
    let frame = HISTOGRAM_FRAME;
    let layout = histogram_layout_in(&histogram, threshold, &frame);
    let aria = histogram_summary(&layout, threshold);
    let (x0, x1, y0, y1) = (frame.x0(), frame.x1(), frame.y0(), frame.y1());

    let grid = layout
        .y_ticks
        .iter()
        .map(|t| {
            view! {
                <line class="plot-grid" stroke=COLOR_GRID x1=fmt_coord(x0) x2=fmt_coord(x1)
                    y1=fmt_coord(t.pos) y2=fmt_coord(t.pos)></line>
            }
        })
        .collect_view();
    let bars = layout
        .bars
        .iter()
        .filter(|b| b.count > 0)
        .map(|b| {
            // A hair of space between wide bars.
            let inset = if b.width > 4.0 { 0.5 } else { 0.0 };
            let (class, fill) = if b.anomaly {
                ("plot-bar plot-bar-anomaly", COLOR_ANOMALY)
            } else {
                ("plot-bar", COLOR_BAR)
            };
            let title = format!(
                "{} to {}: {} record{}{}",
                format_value(b.lo),
                format_value(b.hi),
                b.count,
                if b.count == 1 { "" } else { "s" },
                if b.anomaly { " (anomalies)" } else { "" }
            );
            view! {
                <g>
                    <title>{title}</title>
                    <rect class=class fill=fill x=fmt_coord(b.x + inset) y=fmt_coord(b.y)
                        width=fmt_coord(b.width - 2.0 * inset) height=fmt_coord(b.height)></rect>
                </g>
            }
        })
        .collect_view();
    let x_ticks = layout
        .x_ticks
        .iter()
        .map(|t| {
            view! {
                <line class="plot-axis" stroke=COLOR_AXIS x1=fmt_coord(t.pos) x2=fmt_coord(t.pos)
                    y1=fmt_coord(y1) y2=fmt_coord(y1 + 4.0)></line>
                <text class="plot-label plot-tick" fill=COLOR_TEXT text-anchor="middle"
                    x=fmt_coord(t.pos) y=fmt_coord(y1 + 17.0)>{t.label.clone()}</text>
            }
        })
        .collect_view();
    let y_ticks = layout
        .y_ticks
        .iter()
        .map(|t| {
            view! {
                <line class="plot-axis" stroke=COLOR_AXIS x1=fmt_coord(x0 - 4.0) x2=fmt_coord(x0)
                    y1=fmt_coord(t.pos) y2=fmt_coord(t.pos)></line>
                <text class="plot-label plot-tick" fill=COLOR_TEXT text-anchor="end"
                    x=fmt_coord(x0 - 7.0) y=fmt_coord(t.pos + 4.0)>{t.label.clone()}</text>
            }
        })
        .collect_view();
    let threshold_mark = layout.threshold.map(|(tx, placement)| {
        let title = format!(
            "threshold (offset) {}: scores left of it are anomalies",
            format_value(threshold)
        );
        view! {
            <g>
                <title>{title}</title>
                <line class="plot-threshold" stroke=COLOR_THRESHOLD stroke-width="1.5"
                    stroke-dasharray="5 4" x1=fmt_coord(tx) x2=fmt_coord(tx)
                    y1=fmt_coord(y0 - 4.0) y2=fmt_coord(y1)></line>
                <text class="plot-label plot-threshold-label" fill=COLOR_TEXT
                    text-anchor=anchor_near(tx, x0, x1) x=fmt_coord(tx) y=fmt_coord(y0 - 9.0)>
                    {threshold_label(placement)}
                </text>
            </g>
        }
    });
    let empty = (layout.total == 0).then(|| {
        view! {
            <text class="plot-label plot-empty" fill=COLOR_TEXT text-anchor="middle"
                x=fmt_coord((x0 + x1) / 2.0) y=fmt_coord((y0 + y1) / 2.0)>"no data"</text>
        }
    });

    view! {
        <svg data-testid="plot-histogram" class="plot plot-histogram" role="img" aria-label=aria
            viewBox=frame.view_box() font-family="sans-serif" font-size="11">
            {grid}
            {bars}
            <line class="plot-axis" stroke=COLOR_AXIS x1=fmt_coord(x0) x2=fmt_coord(x1)
                y1=fmt_coord(y1) y2=fmt_coord(y1)></line>
            <line class="plot-axis" stroke=COLOR_AXIS x1=fmt_coord(x0) x2=fmt_coord(x0)
                y1=fmt_coord(y0) y2=fmt_coord(y1)></line>
            {x_ticks}
            {y_ticks}
            {threshold_mark}
            {empty}
            <text class="plot-label plot-axis-title" fill=COLOR_TEXT text-anchor="middle"
                x=fmt_coord((x0 + x1) / 2.0) y=fmt_coord(frame.height - 8.0)>"score"</text>
            <text class="plot-label plot-axis-title" fill=COLOR_TEXT text-anchor="middle"
                transform=format!("rotate(-90) translate({} {})",
                    fmt_coord(-(y0 + y1) / 2.0), fmt_coord(16.0))>"records"</text>
        </svg>
    }
}

/// Which curve a [`CurvePlot`] draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CurveKind {
    /// ROC: x = false-positive rate, y = true-positive rate; the legend shows the AUC.
    Roc,
    /// Precision–recall: x = recall, y = precision; the legend shows the average precision.
    PrecisionRecall,
}

impl CurveKind {
    fn test_id(self) -> &'static str {
        match self {
            CurveKind::Roc => "plot-roc",
            CurveKind::PrecisionRecall => "plot-pr",
        }
    }
    fn name(self) -> &'static str {
        match self {
            CurveKind::Roc => "ROC curve",
            CurveKind::PrecisionRecall => "Precision–recall curve",
        }
    }
    fn axis_titles(self) -> (&'static str, &'static str) {
        match self {
            CurveKind::Roc => ("false-positive rate", "true-positive rate"),
            CurveKind::PrecisionRecall => ("recall", "precision"),
        }
    }
    fn area_name(self) -> &'static str {
        match self {
            CurveKind::Roc => "AUC",
            CurveKind::PrecisionRecall => "AP",
        }
    }
}

/// The legend of a curve: `AUC 0.934` / `AP 0.812`, or nothing without a finite area.
pub fn area_legend(kind: CurveKind, area: Option<f64>) -> Option<String> {
    area.filter(|a| a.is_finite())
        .map(|a| format!("{} {a:.3}", kind.area_name()))
}

/// The `aria-label` of [`CurvePlot`] for a curve of `points` points.
pub fn curve_summary(kind: CurveKind, points: usize, legend: Option<&str>) -> String {
    let (x_title, y_title) = kind.axis_titles();
    match (legend, points) {
        (_, 0) => format!("{}: no data", kind.name()),
        (Some(l), n) => format!(
            "{} ({y_title} against {x_title}), {l}, {n} points",
            kind.name()
        ),
        (None, n) => format!("{} ({y_title} against {x_title}), {n} points", kind.name()),
    }
}

/// Ticks 0, 0.25, …, 1 of the unit axes.
fn unit_ticks() -> Vec<Tick> {
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

/// A ROC or precision–recall curve on the unit square, with the chance diagonal for ROC and
/// the area under it (`AUC` / `AP`) as a legend when given.
#[component]
pub fn CurvePlot(
    curve: Curve,
    kind: CurveKind,
    #[prop(optional_no_strip)] area: Option<f64>,
) -> impl IntoView {
    let frame = CURVE_FRAME;
    let (x0, x1, y0, y1) = (frame.x0(), frame.x1(), frame.y0(), frame.y1());
    let x = LinearScale::new((0.0, 1.0), (x0, x1));
    let y = LinearScale::new((0.0, 1.0), (y1, y0));
    let points = curve_points(&curve);
    let pixels: Vec<(f64, f64)> = points
        .iter()
        .map(|&(px, py)| (x.map(px), y.map(py)))
        .collect();
    let legend = area_legend(kind, area);
    let (x_title, y_title) = kind.axis_titles();
    let summary = curve_summary(kind, points.len(), legend.as_deref());

    let grid = unit_ticks()
        .into_iter()
        .map(|t| {
            let (px, py) = (x.map(t.value), y.map(t.value));
            view! {
                <line class="plot-grid" stroke=COLOR_GRID x1=fmt_coord(px) x2=fmt_coord(px)
                    y1=fmt_coord(y0) y2=fmt_coord(y1)></line>
                <line class="plot-grid" stroke=COLOR_GRID x1=fmt_coord(x0) x2=fmt_coord(x1)
                    y1=fmt_coord(py) y2=fmt_coord(py)></line>
                <text class="plot-label plot-tick" fill=COLOR_TEXT text-anchor="middle"
                    x=fmt_coord(px) y=fmt_coord(y1 + 17.0)>{t.label.clone()}</text>
                <text class="plot-label plot-tick" fill=COLOR_TEXT text-anchor="end"
                    x=fmt_coord(x0 - 7.0) y=fmt_coord(py + 4.0)>{t.label}</text>
            }
        })
        .collect_view();
    let diagonal = (kind == CurveKind::Roc).then(|| {
        view! {
            <line class="plot-diagonal" stroke=COLOR_DIAGONAL stroke-dasharray="4 4"
                x1=fmt_coord(x0) y1=fmt_coord(y1) x2=fmt_coord(x1) y2=fmt_coord(y0)></line>
        }
    });
    let line = match pixels.as_slice() {
        [] => None,
        // A lone point would be an invisible zero-length path: draw it as a dot.
        [(px, py)] => Some(
            view! {
                <g>
                    <title>{summary.clone()}</title>
                    <circle class="plot-point" fill=COLOR_BAR r="3" cx=fmt_coord(*px)
                        cy=fmt_coord(*py)></circle>
                </g>
            }
            .into_any(),
        ),
        _ => Some(
            view! {
                <g>
                    <title>{summary.clone()}</title>
                    <path class="plot-line" fill="none" stroke=COLOR_BAR stroke-width="2"
                        stroke-linejoin="round" stroke-linecap="round"
                        d=polyline_path(&pixels)></path>
                </g>
            }
            .into_any(),
        ),
    };
    let empty = pixels.is_empty().then(|| {
        view! {
            <text class="plot-label plot-empty" fill=COLOR_TEXT text-anchor="middle"
                x=fmt_coord((x0 + x1) / 2.0) y=fmt_coord((y0 + y1) / 2.0)>"no data"</text>
        }
    });
    // ROC curves hug the top-left, precision–recall curves the top: the bottom-right corner
    // (ROC) or bottom-left corner (PR) is usually free.
    let legend = legend.map(|text| {
        let (lx, anchor) = match kind {
            CurveKind::Roc => (x1 - 8.0, "end"),
            CurveKind::PrecisionRecall => (x0 + 8.0, "start"),
        };
        view! {
            <text class="plot-label plot-legend" fill=COLOR_TEXT font-weight="bold"
                text-anchor=anchor x=fmt_coord(lx) y=fmt_coord(y1 - 10.0)>{text}</text>
        }
    });

    view! {
        <svg data-testid=kind.test_id() class="plot plot-curve" role="img" aria-label=summary
            viewBox=frame.view_box() font-family="sans-serif" font-size="11">
            {grid}
            <rect class="plot-axis" fill="none" stroke=COLOR_AXIS x=fmt_coord(x0) y=fmt_coord(y0)
                width=fmt_coord(x1 - x0) height=fmt_coord(y1 - y0)></rect>
            {diagonal}
            {line}
            {empty}
            {legend}
            <text class="plot-label plot-axis-title" fill=COLOR_TEXT text-anchor="middle"
                x=fmt_coord((x0 + x1) / 2.0) y=fmt_coord(frame.height - 14.0)>{x_title}</text>
            <text class="plot-label plot-axis-title" fill=COLOR_TEXT text-anchor="middle"
                transform=format!("rotate(-90) translate({} {})",
                    fmt_coord(-(y0 + y1) / 2.0), fmt_coord(16.0))>{y_title}</text>
        </svg>
    }
}

/// Horizontal bars of the `top` most important features (descending), with their names and
/// shares as percentages.
#[component]
pub fn FeatureImportanceChart(
    items: Vec<FeatureImportance>,
    #[prop(default = 10)] top: usize,
) -> impl IntoView {
    let (rows, height) = importance_rows(&items, top);
    let aria = importance_summary(&rows, items.len());
    let view_box = format!("0 0 {} {}", fmt_coord(IMPORTANCE_WIDTH), fmt_coord(height));
    let empty = rows.is_empty().then(|| {
        view! {
            <text class="plot-label plot-empty" fill=COLOR_TEXT text-anchor="middle"
                x=fmt_coord(IMPORTANCE_WIDTH / 2.0) y=fmt_coord(height / 2.0 + 4.0)>"no data"</text>
        }
    });
    let axis = (!rows.is_empty()).then(|| {
        view! {
            <line class="plot-axis" stroke=COLOR_AXIS x1=fmt_coord(IMPORTANCE_BAR_X)
                x2=fmt_coord(IMPORTANCE_BAR_X) y1=fmt_coord(IMPORTANCE_PAD)
                y2=fmt_coord(height - IMPORTANCE_PAD)></line>
        }
    });
    let bars = rows
        .into_iter()
        .map(|r| {
            let text_y = fmt_coord(r.y + IMPORTANCE_BAR / 2.0 + 4.0);
            let title = format!("{}: {}", r.feature, r.value);
            view! {
                <g>
                    <title>{title}</title>
                    <text class="plot-label" fill=COLOR_TEXT text-anchor="end"
                        x=fmt_coord(IMPORTANCE_BAR_X - 8.0) y=text_y.clone()>{r.label}</text>
                    <rect class="plot-bar" fill=COLOR_BAR x=fmt_coord(IMPORTANCE_BAR_X)
                        y=fmt_coord(r.y) width=fmt_coord(r.width)
                        height=fmt_coord(IMPORTANCE_BAR)></rect>
                    <text class="plot-label plot-value" fill=COLOR_TEXT text-anchor="start"
                        x=fmt_coord(IMPORTANCE_BAR_X + r.width + 6.0) y=text_y>{r.value}</text>
                </g>
            }
        })
        .collect_view();

    view! {
        <svg data-testid="plot-importance" class="plot plot-importance" role="img"
            aria-label=aria viewBox=view_box font-family="sans-serif" font-size="11">
            {bars}
            {axis}
            {empty}
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_train_core::evaluate::histogram;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    fn assert_all_close(got: &[f64], want: &[f64]) {
        assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
        for (g, w) in got.iter().zip(want) {
            assert!(close(*g, *w), "{got:?} vs {want:?}");
        }
    }

    fn values(ticks: &[Tick]) -> Vec<f64> {
        ticks.iter().map(|t| t.value).collect()
    }

    fn labels(ticks: &[Tick]) -> Vec<&str> {
        ticks.iter().map(|t| t.label.as_str()).collect()
    }

    // ---- formatting ----

    #[test]
    fn coordinates_are_rounded_trimmed_and_never_nan() {
        assert_eq!(fmt_coord(12.3456), "12.35");
        assert_eq!(fmt_coord(100.0), "100");
        assert_eq!(fmt_coord(10.5), "10.5");
        assert_eq!(fmt_coord(-3.0), "-3");
        assert_eq!(fmt_coord(-0.0), "0");
        assert_eq!(fmt_coord(-0.001), "0");
        assert_eq!(fmt_coord(f64::NAN), "0");
        assert_eq!(fmt_coord(f64::INFINITY), "0");
        assert_eq!(fmt_coord(f64::MAX), "0");
    }

    #[test]
    fn tick_labels_use_the_step_precision() {
        assert_eq!(format_tick(0.25, 2), "0.25");
        assert_eq!(format_tick(0.5, 2), "0.5");
        assert_eq!(format_tick(1.0, 2), "1");
        assert_eq!(format_tick(-0.55, 2), "-0.55");
        assert_eq!(format_tick(-0.0, 1), "0");
        assert_eq!(format_tick(2500.0, 0), "2500");
        assert_eq!(format_tick(f64::NAN, 2), "");
        assert_eq!(format_value(-0.512345), "-0.5123");
        assert_eq!(format_value(0.0), "0");
        assert_eq!(format_value(2.5e-5), "2.500e-5");
        assert_eq!(format_value(f64::NEG_INFINITY), "n/a");
        assert_eq!(format_percent(0.35214), "35.2%");
        assert_eq!(format_percent(1.0), "100.0%");
        assert_eq!(format_percent(-0.0001), "0.0%");
        assert_eq!(format_percent(f64::NAN), "n/a");
        assert_eq!(format_percent(f64::MAX), "n/a");
    }

    // ---- scales ----

    #[test]
    fn linear_scale_maps_ends_and_handles_degenerate_input() {
        let s = LinearScale::new((-1.0, 1.0), (0.0, 200.0));
        assert_eq!(s.map(-1.0), 0.0);
        assert_eq!(s.map(0.0), 100.0);
        assert_eq!(s.map(1.0), 200.0);
        assert_eq!(s.map(2.0), 300.0);
        assert_eq!(s.map_clamped(2.0), 200.0);
        assert_eq!(s.map_clamped(-5.0), 0.0);
        // Reversed range (a y axis): 0 at the bottom.
        let y = LinearScale::new((0.0, 10.0), (250.0, 50.0));
        assert_eq!(y.map(0.0), 250.0);
        assert_eq!(y.map(10.0), 50.0);
        assert_eq!(y.map(2.5), 200.0);
        assert_eq!(y.map_clamped(20.0), 50.0);
        // Degenerate domain, non-finite value or domain: the middle, never NaN.
        let flat = LinearScale::new((3.0, 3.0), (0.0, 100.0));
        assert_eq!(flat.map(3.0), 50.0);
        assert_eq!(s.map(f64::NAN), 100.0);
        assert_eq!(s.map(f64::INFINITY), 100.0);
        let bad = LinearScale::new((f64::NAN, 1.0), (0.0, 10.0));
        assert_eq!(bad.map(0.5), 5.0);
        let huge = LinearScale::new((-f64::MAX, f64::MAX), (0.0, 10.0));
        assert!(huge.map(0.0).is_finite());
    }

    // ---- ticks ----

    #[test]
    fn nice_ticks_follow_d3() {
        assert_all_close(&nice_ticks(0.0, 1.0, 5), &[0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_all_close(
            &nice_ticks(0.0, 10.0, 10),
            &(0..=10).map(f64::from).collect::<Vec<_>>(),
        );
        // d3: ticks(-0.62, -0.38, 5) steps by 0.05.
        assert_all_close(
            &nice_ticks(-0.62, -0.38, 5),
            &[-0.6, -0.55, -0.5, -0.45, -0.4],
        );
        // d3: ticks(0, 12345, 5) steps by 2000.
        assert_all_close(
            &nice_ticks(0.0, 12345.0, 5),
            &[0.0, 2000.0, 4000.0, 6000.0, 8000.0, 10000.0, 12000.0],
        );
        // Exact decimals, as d3 gets by dividing by the inverse step.
        let tenths = nice_ticks(0.0, 1.0, 10);
        assert_eq!(tenths[3], 0.3);
        assert_eq!(tenths[7], 0.7);
        // Reversed input comes back ascending; degenerate and invalid input.
        assert_all_close(&nice_ticks(1.0, 0.0, 5), &[0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(nice_ticks(0.5, 0.5, 5), vec![0.5]);
        assert!(nice_ticks(0.0, 1.0, 0).is_empty());
        assert!(nice_ticks(f64::NAN, 1.0, 5).is_empty());
        assert!(nice_ticks(0.0, f64::INFINITY, 5).is_empty());
    }

    #[test]
    fn axis_ticks_for_typical_ranges() {
        let scores = axis_ticks(-0.62, -0.38);
        assert_all_close(&values(&scores), &[-0.6, -0.55, -0.5, -0.45, -0.4]);
        assert_eq!(labels(&scores), ["-0.6", "-0.55", "-0.5", "-0.45", "-0.4"]);

        let unit = axis_ticks(0.0, 1.0);
        assert_all_close(&values(&unit), &[0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(labels(&unit), ["0", "0.2", "0.4", "0.6", "0.8", "1"]);

        // d3's 1-2-5 steps give 7 or 3 ticks here; the 2.5 step gives 5.
        let big = axis_ticks(0.0, 12345.0);
        assert_all_close(&values(&big), &[0.0, 2500.0, 5000.0, 7500.0, 10000.0]);
        assert_eq!(labels(&big), ["0", "2500", "5000", "7500", "10000"]);

        let small = axis_ticks(0.0, 0.9);
        assert_eq!(labels(&small), ["0", "0.2", "0.4", "0.6", "0.8"]);
    }

    #[test]
    fn axis_ticks_degenerate_and_non_finite() {
        let one = axis_ticks(-0.5, -0.5);
        assert_eq!(values(&one), [-0.5]);
        assert_eq!(labels(&one), ["-0.5"]);
        assert!(axis_ticks(f64::NAN, 1.0).is_empty());
        assert!(axis_ticks(0.0, f64::NAN).is_empty());
        assert!(axis_ticks(f64::NEG_INFINITY, 0.0).is_empty());
        // Reversed ends are sorted.
        assert_all_close(
            &values(&axis_ticks(1.0, 0.0)),
            &[0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
        );
    }

    #[test]
    fn axis_ticks_stay_inside_evenly_spaced_and_mostly_four_to_six() {
        let mut in_range = 0;
        let mut total = 0;
        for &(lo, span) in &[
            (-0.73, 0.31),
            (-0.5, 0.01),
            (0.0, 3.0),
            (-12.0, 40.0),
            (1e6, 7.5e5),
            (-0.001, 0.0023),
            (0.37, 0.19),
            (-3.3, 9.9),
            (100.0, 1.0),
            (-0.62, 0.24),
            (5.0, 55.0),
            (-1e-6, 3e-6),
        ] {
            let hi = lo + span;
            let ticks = values(&axis_ticks(lo, hi));
            total += 1;
            if (4..=6).contains(&ticks.len()) {
                in_range += 1;
            }
            assert!(ticks.len() >= 3, "{lo}..{hi}: {ticks:?}");
            assert!(ticks.len() <= 7, "{lo}..{hi}: {ticks:?}");
            let eps = span * 1e-6;
            assert!(
                ticks.iter().all(|t| *t >= lo - eps && *t <= hi + eps),
                "{ticks:?}"
            );
            let step = ticks[1] - ticks[0];
            assert!(step > 0.0);
            for pair in ticks.windows(2) {
                assert!(
                    ((pair[1] - pair[0]) - step).abs() < step * 1e-6,
                    "{ticks:?}"
                );
            }
        }
        assert!(in_range * 10 >= total * 9, "{in_range} of {total} in 4..=6");
    }

    #[test]
    fn count_axis_uses_whole_numbers_and_rounds_the_top_up() {
        assert_eq!(
            count_axis(0),
            (
                1.0,
                vec![Tick {
                    value: 0.0,
                    label: "0".into()
                }]
            )
        );
        let (top, ticks) = count_axis(7);
        assert_eq!(top, 8.0);
        assert_eq!(labels(&ticks), ["0", "2", "4", "6", "8"]);
        let (top, ticks) = count_axis(3);
        assert_eq!(top, 3.0);
        assert_eq!(labels(&ticks), ["0", "1", "2", "3"]);
        let (top, ticks) = count_axis(1);
        assert_eq!(top, 1.0);
        assert_eq!(labels(&ticks), ["0", "1"]);
        let (top, ticks) = count_axis(12345);
        assert!(top >= 12345.0);
        assert_eq!(ticks.last().map(|t| t.value), Some(top));
        for max in 1..200u64 {
            let (top, ticks) = count_axis(max);
            assert!(top >= max as f64);
            assert!(ticks
                .iter()
                .all(|t| t.value.fract() == 0.0 && !t.label.contains('.')));
        }
    }

    // ---- paths ----

    #[test]
    fn polyline_path_for_a_simple_curve() {
        assert_eq!(
            polyline_path(&[(0.0, 0.0), (10.5, 20.0), (30.0, 40.125)]),
            "M0,0L10.5,20L30,40.13"
        );
        // A non-finite point is skipped, the path continues.
        assert_eq!(
            polyline_path(&[
                (f64::NAN, 1.0),
                (1.0, 2.0),
                (3.0, f64::INFINITY),
                (4.0, 5.0)
            ]),
            "M1,2L4,5"
        );
        assert_eq!(polyline_path(&[]), "");
        assert_eq!(polyline_path(&[(f64::NAN, f64::NAN)]), "");
    }

    #[test]
    fn curve_points_drop_non_finite_and_clamp_to_the_unit_square() {
        let curve = Curve {
            x: vec![0.0, f64::NAN, 0.5, 1.2, 0.9],
            y: vec![0.0, 0.3, 0.7, 1.0],
        };
        assert_eq!(curve_points(&curve), [(0.0, 0.0), (0.5, 0.7), (1.0, 1.0)]);
        let empty = Curve {
            x: vec![],
            y: vec![],
        };
        assert!(curve_points(&empty).is_empty());
    }

    // ---- histogram ----

    fn scales(domain: (f64, f64), top: f64) -> (LinearScale, LinearScale) {
        (
            LinearScale::new(domain, (100.0, 500.0)),
            LinearScale::new((0.0, top), (300.0, 100.0)),
        )
    }

    #[test]
    fn histogram_bars_match_the_edges() {
        let h = Histogram {
            edges: vec![-0.6, -0.55, -0.5, -0.45, -0.4],
            counts: vec![2, 0, 5, 10],
        };
        let (x, y) = scales((-0.6, -0.4), 10.0);
        let bars = histogram_bars(&h, -0.49, &x, &y);
        assert_eq!(bars.len(), 4);
        for (i, bar) in bars.iter().enumerate() {
            assert!(close(bar.x, x.map(h.edges[i])), "{bar:?}");
            assert!(close(bar.x + bar.width, x.map(h.edges[i + 1])), "{bar:?}");
            assert!(close(bar.width, 100.0));
            assert_eq!(
                (bar.lo, bar.hi, bar.count),
                (h.edges[i], h.edges[i + 1], h.counts[i])
            );
            // Bars stand on the x axis.
            assert!(close(bar.y + bar.height, 300.0));
        }
        assert!(close(bars[3].height, 200.0));
        assert!(close(bars[2].height, 100.0));
        assert_eq!(bars[1].height, 0.0);
        // Only bins wholly left of -0.49 are anomalies.
        let flags: Vec<bool> = bars.iter().map(|b| b.anomaly).collect();
        assert_eq!(flags, [true, true, false, false]);
    }

    #[test]
    fn anomaly_flag_at_a_threshold_on_an_edge() {
        let h = Histogram {
            edges: vec![0.0, 1.0, 2.0],
            counts: vec![1, 1],
        };
        let (x, y) = scales((0.0, 2.0), 1.0);
        // Bin [0, 1) is all below 1: anomalies. The last bin includes its right edge 2, which
        // is not below a threshold of 2.
        let at_one: Vec<bool> = histogram_bars(&h, 1.0, &x, &y)
            .iter()
            .map(|b| b.anomaly)
            .collect();
        assert_eq!(at_one, [true, false]);
        let at_two: Vec<bool> = histogram_bars(&h, 2.0, &x, &y)
            .iter()
            .map(|b| b.anomaly)
            .collect();
        assert_eq!(at_two, [true, false]);
        let above: Vec<bool> = histogram_bars(&h, 2.5, &x, &y)
            .iter()
            .map(|b| b.anomaly)
            .collect();
        assert_eq!(above, [true, true]);
        let nan: Vec<bool> = histogram_bars(&h, f64::NAN, &x, &y)
            .iter()
            .map(|b| b.anomaly)
            .collect();
        assert_eq!(nan, [false, false]);
    }

    #[test]
    fn malformed_histograms_do_not_panic() {
        let (x, y) = scales((0.0, 3.0), 5.0);
        // Fewer edges than counts + 1, and a NaN edge.
        let h = Histogram {
            edges: vec![0.0, 1.0, f64::NAN, 3.0],
            counts: vec![1, 2, 3, 4, 5],
        };
        let bars = histogram_bars(&h, 0.5, &x, &y);
        assert_eq!(bars.iter().map(|b| b.count).collect::<Vec<_>>(), [1]);
        let none = Histogram {
            edges: vec![],
            counts: vec![],
        };
        assert!(histogram_bars(&none, 0.0, &x, &y).is_empty());
        let lone_edge = Histogram {
            edges: vec![1.0],
            counts: vec![3],
        };
        assert!(histogram_bars(&lone_edge, 0.0, &x, &y).is_empty());
        assert_eq!(histogram_domain(&none), None);
        assert_eq!(histogram_domain(&lone_edge), Some((0.5, 1.5)));
    }

    #[test]
    fn single_value_histogram_is_one_centred_bar() {
        let h = Histogram {
            edges: vec![-0.5; 5],
            counts: vec![0, 0, 3, 4],
        };
        assert_eq!(histogram_domain(&h), Some((-1.0, 0.0)));
        let (x, y) = scales((-1.0, 0.0), 7.0);
        let bars = histogram_bars(&h, -0.4, &x, &y);
        assert_eq!(bars.len(), 1);
        let bar = &bars[0];
        assert_eq!(bar.count, 7);
        assert!(close(bar.x + bar.width / 2.0, x.map(-0.5)));
        assert!(close(bar.width, 400.0 / 4.0));
        assert!(close(bar.height, 200.0));
        assert!(bar.anomaly, "-0.5 < -0.4");
        assert!(!histogram_bars(&h, -0.5, &x, &y)[0].anomaly);
        let layout = histogram_layout(&h, -0.4);
        assert_eq!(layout.total, 7);
        assert_eq!(layout.anomalies, 7);
        assert!(layout.bars[0].height > 0.0);
    }

    #[test]
    fn threshold_is_clamped_to_the_plot() {
        let x = LinearScale::new((-0.6, -0.4), (60.0, 616.0));
        let domain = (-0.6, -0.4);
        let (inside, p) = threshold_x(-0.5, domain, &x).unwrap();
        assert!(close(inside, 338.0));
        assert_eq!(p, ThresholdPlacement::Inside);
        assert_eq!(
            threshold_x(-0.9, domain, &x),
            Some((60.0, ThresholdPlacement::LeftOfPlot))
        );
        assert_eq!(
            threshold_x(0.3, domain, &x),
            Some((616.0, ThresholdPlacement::RightOfPlot))
        );
        assert_eq!(
            threshold_x(f64::NEG_INFINITY, domain, &x),
            Some((60.0, ThresholdPlacement::LeftOfPlot))
        );
        assert_eq!(threshold_x(f64::NAN, domain, &x), None);
        // On an edge counts as inside.
        assert_eq!(
            threshold_x(-0.4, domain, &x),
            Some((616.0, ThresholdPlacement::Inside))
        );
    }

    #[test]
    fn layout_of_a_core_histogram() {
        let scores: Vec<f64> = (0..1000)
            .map(|i| -0.62 + 0.24 * f64::from(i) / 999.0)
            .collect();
        let h = histogram(&scores, 20);
        let layout = histogram_layout(&h, -0.55);
        assert_eq!(layout.total, 1000);
        assert_eq!(layout.bars.len(), 20);
        assert!(close(layout.domain.0, -0.62) && close(layout.domain.1, -0.38));
        let xs: Vec<&str> = layout.x_ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(xs, ["-0.6", "-0.55", "-0.5", "-0.45", "-0.4"]);
        // Bars tile the plot from its left to its right edge.
        let frame = HISTOGRAM_FRAME;
        assert!(close(layout.bars[0].x, frame.x0()));
        let last = &layout.bars[19];
        assert!(close(last.x + last.width, frame.x1()));
        // The tallest bar reaches at most the top tick.
        let top_tick = layout
            .y_ticks
            .iter()
            .map(|t| t.pos)
            .fold(f64::INFINITY, f64::min);
        assert!(layout.bars.iter().all(|b| b.y >= top_tick - 1e-9));
        // Anomalies: the bins wholly below -0.55, i.e. scores in [-0.62, -0.55) minus the
        // straddling bin, all counted.
        let expected: u64 = layout
            .bars
            .iter()
            .filter(|b| b.hi <= -0.55)
            .map(|b| b.count)
            .sum();
        assert_eq!(layout.anomalies, expected);
        assert!(layout.anomalies > 0 && layout.anomalies < 1000);
        assert_eq!(
            layout.threshold.map(|t| t.1),
            Some(ThresholdPlacement::Inside)
        );
    }

    #[test]
    fn layout_of_an_empty_histogram() {
        let h = histogram(&[], 10);
        let layout = histogram_layout(&h, -0.5);
        assert_eq!(layout.total, 0);
        assert!(layout.bars.iter().all(|b| b.height == 0.0));
        assert_eq!(layout.domain, (0.0, 1.0));
        assert_eq!(
            layout.threshold.map(|t| t.1),
            Some(ThresholdPlacement::LeftOfPlot)
        );
    }

    // ---- importance ----

    fn fi(feature: &str, importance: f64) -> FeatureImportance {
        FeatureImportance {
            feature: feature.to_owned(),
            importance,
        }
    }

    #[test]
    fn importance_rows_are_sorted_cut_and_scaled() {
        let items = vec![
            fi("b", 0.1),
            fi("a", 0.4),
            fi("nan", f64::NAN),
            fi("c", 0.2),
            fi("d", 0.2),
            fi("e", 0.1),
        ];
        let top: Vec<&str> = top_importances(&items, 3)
            .iter()
            .map(|i| i.feature.as_str())
            .collect();
        assert_eq!(top, ["a", "c", "d"]);
        let (rows, height) = importance_rows(&items, 10);
        let names: Vec<&str> = rows.iter().map(|r| r.feature.as_str()).collect();
        assert_eq!(names, ["a", "c", "d", "b", "e"]);
        assert_eq!(rows[0].value, "40.0%");
        assert!(close(rows[0].width, IMPORTANCE_BAR_MAX));
        assert!(close(rows[1].width, IMPORTANCE_BAR_MAX / 2.0));
        assert!(rows.windows(2).all(|w| w[1].y > w[0].y));
        assert!(close(height, 2.0 * IMPORTANCE_PAD + 5.0 * IMPORTANCE_ROW));
        let (none, _) = importance_rows(&items, 0);
        assert!(none.is_empty());
        // All zero: no division by zero.
        let (zeros, _) = importance_rows(&[fi("x", 0.0), fi("y", 0.0)], 10);
        assert!(zeros.iter().all(|r| r.width == 0.0 && r.value == "0.0%"));
    }

    #[test]
    fn long_labels_are_truncated() {
        assert_eq!(truncate_label("short", 30), "short");
        let long = "a_really_long_feature_name_that_keeps_going";
        let cut = truncate_label(long, 10);
        assert_eq!(cut, "a_really_…");
        assert_eq!(cut.chars().count(), 10);
        assert_eq!(truncate_label("ééééé", 3), "éé…");
    }

    // ---- summaries and finiteness ----
    //
    // The components themselves are not rendered here: tachys renders views to HTML only with
    // the `ssr` feature, which this crate does not enable. They draw the layouts below, and every
    // number they print goes through `fmt_coord` or a formatter tested above.

    #[test]
    fn summaries_describe_the_plots() {
        let scores: Vec<f64> = (0..200)
            .map(|i| -0.6 + 0.2 * f64::from(i) / 199.0)
            .collect();
        let h = histogram(&scores, 10);
        let layout = histogram_layout(&h, -0.55);
        let text = histogram_summary(&layout, -0.55);
        assert!(
            text.starts_with("Histogram of 200 scores in 10 bins from -0.6 to -0.4"),
            "{text}"
        );
        assert!(
            text.contains(&format!("threshold -0.55, {} records", layout.anomalies)),
            "{text}"
        );
        assert_eq!(
            histogram_summary(&histogram_layout(&histogram(&[], 10), 0.0), 0.0),
            "Histogram of scores: no data"
        );
        assert!(!histogram_summary(&layout, f64::NAN).contains("threshold"));

        assert_eq!(
            area_legend(CurveKind::Roc, Some(0.9344)).as_deref(),
            Some("AUC 0.934")
        );
        assert_eq!(
            area_legend(CurveKind::PrecisionRecall, Some(0.8121)).as_deref(),
            Some("AP 0.812")
        );
        assert_eq!(area_legend(CurveKind::Roc, Some(f64::NAN)), None);
        assert_eq!(area_legend(CurveKind::Roc, None), None);
        assert_eq!(
            curve_summary(CurveKind::Roc, 57, Some("AUC 0.934")),
            "ROC curve (true-positive rate against false-positive rate), AUC 0.934, 57 points"
        );
        assert_eq!(
            curve_summary(CurveKind::PrecisionRecall, 3, None),
            "Precision–recall curve (precision against recall), 3 points"
        );
        assert_eq!(
            curve_summary(CurveKind::Roc, 0, Some("AUC 0.5")),
            "ROC curve: no data"
        );
        assert_eq!(CurveKind::Roc.test_id(), "plot-roc");
        assert_eq!(CurveKind::PrecisionRecall.test_id(), "plot-pr");

        let items = vec![fi("a", 0.75), fi("b", 0.25), fi("c", 0.0)];
        let (rows, _) = importance_rows(&items, 2);
        assert_eq!(
            importance_summary(&rows, items.len()),
            "Feature importance, top 2 of 3 features: a 75.0%, b 25.0%"
        );
        assert_eq!(importance_summary(&[], 0), "Feature importance: no data");
    }

    #[test]
    fn unit_ticks_are_quarters() {
        let ticks = unit_ticks();
        assert_eq!(values(&ticks), [0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(labels(&ticks), ["0", "0.25", "0.5", "0.75", "1"]);
    }

    fn assert_layout_finite(layout: &HistogramLayout) {
        for b in &layout.bars {
            for v in [b.x, b.width, b.y, b.height] {
                assert!(v.is_finite() && v >= 0.0, "{b:?}");
            }
        }
        for t in layout.x_ticks.iter().chain(&layout.y_ticks) {
            assert!(t.pos.is_finite(), "{t:?}");
            assert!(
                !t.label.contains("NaN") && !t.label.contains("inf"),
                "{t:?}"
            );
        }
        if let Some((x, _)) = layout.threshold {
            let frame = HISTOGRAM_FRAME;
            assert!(x >= frame.x0() && x <= frame.x1(), "{x}");
        }
        assert!(layout.domain.0.is_finite() && layout.domain.1.is_finite());
    }

    #[test]
    fn pathological_inputs_give_finite_layouts() {
        let huge = Histogram {
            edges: vec![-f64::MAX, 0.0, f64::MAX],
            counts: vec![u64::MAX, u64::MAX],
        };
        let cases = [
            (histogram(&[], 10), -0.5),
            (histogram(&[-0.5; 9], 10), f64::NAN),
            (
                Histogram {
                    edges: vec![-0.5; 4],
                    counts: vec![1, 2, 3],
                },
                f64::INFINITY,
            ),
            (
                Histogram {
                    edges: vec![f64::NAN, 1.0],
                    counts: vec![3],
                },
                0.0,
            ),
            (
                Histogram {
                    edges: vec![f64::INFINITY, 1.0, 2.0],
                    counts: vec![3, 4],
                },
                1.5,
            ),
            (
                Histogram {
                    edges: vec![],
                    counts: vec![],
                },
                f64::NEG_INFINITY,
            ),
            (huge, 0.0),
            (histogram(&[1e-300, 2e-300, 3e-300], 3), 0.0),
        ];
        for (h, t) in cases {
            let layout = histogram_layout(&h, t);
            assert_layout_finite(&layout);
            let summary = histogram_summary(&layout, t);
            assert!(!summary.contains("NaN"), "{summary}");
        }

        let (rows, height) = importance_rows(
            &[
                fi("x", f64::INFINITY),
                fi("y", -0.5),
                fi("z", f64::MAX),
                fi("w", 1e-300),
            ],
            10,
        );
        assert!(height.is_finite());
        for r in &rows {
            assert!(
                r.y.is_finite() && r.width.is_finite() && r.width >= 0.0,
                "{r:?}"
            );
            assert!(r.width <= IMPORTANCE_BAR_MAX);
            assert!(
                !r.value.contains("NaN") && !r.value.contains("inf"),
                "{r:?}"
            );
        }
        assert_eq!(rows.len(), 3, "the infinite importance is left out");
    }
}
