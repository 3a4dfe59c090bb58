//! The feature-importance chart: the top features by importance as horizontal bars with their
//! shares, and the [`FeatureImportanceChart`] component.

use leptos::prelude::*;
use mcp_train_core::display;
use mcp_train_core::evaluate::FeatureImportance;

use super::scale::LinearScale;
use super::{fmt_coord, COLOR_AXIS, COLOR_BAR, COLOR_TEXT};

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
pub(super) const IMPORTANCE_ROW: f64 = 24.0;
const IMPORTANCE_BAR: f64 = 16.0;
pub(super) const IMPORTANCE_PAD: f64 = 8.0;
const IMPORTANCE_BAR_X: f64 = 208.0;
pub(super) const IMPORTANCE_BAR_MAX: f64 = 360.0;
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
            value: display::percent(item.importance),
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
