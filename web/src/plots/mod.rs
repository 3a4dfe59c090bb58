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
//! The geometry lives in pure functions (scales, "nice" ticks, path strings, bar rectangles)
//! that are unit-tested natively: [`scale`] (scales and ticks), [`histogram`], [`curves`] and
//! [`importance`], one per plot with its component. Every number written into the SVG goes
//! through [`fmt_coord`] or a label formatter of `mcp_train_core::display`, which never print
//! `NaN` or `inf`; the layout functions drop non-finite data before it gets that far.

pub mod curves;
pub mod histogram;
pub mod importance;
pub mod scale;
#[cfg(test)]
mod tests;

pub use curves::{area_legend, curve_points, curve_summary, polyline_path, CurveKind, CurvePlot};
pub use histogram::{
    histogram_bars, histogram_domain, histogram_layout, histogram_summary, threshold_x,
    HistogramBar, HistogramLayout, ScoreHistogram, ThresholdPlacement,
};
pub use importance::{
    importance_rows, importance_summary, top_importances, truncate_label, FeatureImportanceChart,
    ImportanceRow,
};
pub use scale::{axis_ticks, count_axis, nice_ticks, LinearScale, PlacedTick, Tick, TickStep};

use mcp_train_core::display;

/// A coordinate for an SVG attribute: rounded to 2 decimals, trailing zeros trimmed, `-0`
/// written `0`. A non-finite value (which the layout functions never produce) is written `0`
/// rather than `NaN`.
pub fn fmt_coord(v: f64) -> String {
    let rounded = (v * 100.0).round() / 100.0;
    if !rounded.is_finite() {
        return "0".to_owned();
    }
    display::trimmed(rounded, 2)
}

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

// Default colours (presentation attributes; CSS classes override them).
const COLOR_BAR: &str = "#4c78a8";
const COLOR_ANOMALY: &str = "#e45756";
const COLOR_AXIS: &str = "#777";
const COLOR_GRID: &str = "#e4e4e4";
const COLOR_TEXT: &str = "#333";
const COLOR_THRESHOLD: &str = "#222";
const COLOR_DIAGONAL: &str = "#999";
