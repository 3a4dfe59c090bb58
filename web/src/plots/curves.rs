//! The ROC and precision–recall curves: points on the unit square, the polyline through them,
//! the legend with the area under the curve, and the [`CurvePlot`] component.

use leptos::prelude::*;
use mcp_train_core::evaluate::Curve;

use super::scale::{unit_ticks, LinearScale};
use super::{fmt_coord, Frame, COLOR_AXIS, COLOR_BAR, COLOR_DIAGONAL, COLOR_GRID, COLOR_TEXT};

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

/// The curves' (square) viewBox and plot area.
const CURVE_FRAME: Frame = Frame {
    width: 360.0,
    height: 360.0,
    left: 56.0,
    right: 16.0,
    top: 16.0,
    bottom: 56.0,
};

/// Which curve a [`CurvePlot`] draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CurveKind {
    /// ROC: x = false-positive rate, y = true-positive rate; the legend shows the AUC.
    Roc,
    /// Precision–recall: x = recall, y = precision; the legend shows the average precision.
    PrecisionRecall,
}

impl CurveKind {
    pub(super) fn test_id(self) -> &'static str {
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
