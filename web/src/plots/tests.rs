use super::histogram::HISTOGRAM_FRAME;
use super::importance::{IMPORTANCE_BAR_MAX, IMPORTANCE_PAD, IMPORTANCE_ROW};
use super::scale::unit_ticks;
use super::*;
use mcp_train_core::evaluate::{histogram, Curve, FeatureImportance, Histogram};

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
