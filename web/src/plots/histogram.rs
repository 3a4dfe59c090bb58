//! The score histogram: bars from the evaluation's bins, the model's threshold as a line, the
//! layout in viewBox units, and the [`ScoreHistogram`] component.

use leptos::prelude::*;
use mcp_train_core::display;
use mcp_train_core::evaluate::Histogram;

use super::scale::{axis_ticks, count_axis, ordered, place, LinearScale, PlacedTick};
use super::{
    fmt_coord, Frame, COLOR_ANOMALY, COLOR_AXIS, COLOR_BAR, COLOR_GRID, COLOR_TEXT, COLOR_THRESHOLD,
};

/// The histogram's viewBox and plot area.
pub(super) const HISTOGRAM_FRAME: Frame = Frame {
    width: 640.0,
    height: 300.0,
    left: 60.0,
    right: 24.0,
    top: 28.0,
    bottom: 46.0,
};

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
            display::number(threshold),
            layout.anomalies
        )
    };
    format!(
        "Histogram of {} scores in {} bins from {} to {}{}",
        layout.total,
        layout.bars.len(),
        display::number(layout.domain.0),
        display::number(layout.domain.1),
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
                display::number(b.lo),
                display::number(b.hi),
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
            display::number(threshold)
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
