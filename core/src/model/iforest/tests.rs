use super::*;
use crate::model::test_support::{err, matrix, noise, ok};
use crate::model::OutlierDetector;
use rustc_hash::FxHashSet;

/// Two tight clusters of 200 rows each, then 5 far points (rows 400..405).
fn clusters_with_outliers() -> Vec<f64> {
    let mut data = Vec::new();
    for (i, v) in noise(400, 2, 1).chunks(2).enumerate() {
        let centre = if i < 200 { -5.0 } else { 5.0 };
        data.extend([centre + 0.5 * v[0], centre + 0.5 * v[1]]);
    }
    data.extend([0.0, 0.0, 20.0, -20.0, -15.0, 15.0, 30.0, 30.0, -5.0, 25.0]);
    data
}

/// The straightforward walk over scikit-learn's layout, for comparison with the fast path.
fn reference_score(forest: &IsolationForest, row: &[f64]) -> f64 {
    let mut sum = 0.0;
    for tree in forest.trees() {
        let (mut node, mut depth) = (0usize, 1u32);
        while !tree.is_leaf(node) {
            let v = tree::as_f32(row[tree.feature[node] as usize]);
            node = if v <= tree.threshold[node] {
                tree.children_left[node]
            } else {
                tree.children_right[node]
            } as usize;
            depth += 1;
        }
        sum += (f64::from(depth) + average_path_length(tree.n_node_samples[node])) - 1.0;
    }
    let denominator =
        forest.n_estimators() as f64 * average_path_length(forest.max_samples() as u64);
    -libm::exp2(-(sum / denominator))
}

#[test]
fn params_come_from_the_config_and_setters() {
    let p = IsolationForestParams::new()
        .n_estimators(7)
        .max_samples(MaxSamples::Count(32))
        .contamination(AutoOr::Value(0.2))
        .max_features(0.5)
        .bootstrap(true)
        .random_state(9);
    let config = p.config().clone();
    assert_eq!(config.n_estimators, 7);
    assert_eq!(IsolationForestParams::from(config.clone()), p);
    assert_eq!(ok(p.check()).config(), &config);
}

#[test]
fn bad_params_are_named_errors() {
    let cases = [
        (
            IsolationForestParams::new().n_estimators(0),
            "n_estimators: 0 must be at least 1",
        ),
        (
            IsolationForestParams::new().max_samples(MaxSamples::Count(0)),
            "max_samples: 0 must be at least 1",
        ),
        (
            IsolationForestParams::new().max_samples(MaxSamples::Fraction(1.5)),
            "max_samples: 1.5 is not a fraction in (0, 1]",
        ),
        (
            IsolationForestParams::new().contamination(AutoOr::Value(0.6)),
            "contamination: 0.6 is not \"auto\" or a fraction in (0, 0.5]",
        ),
        (
            IsolationForestParams::new().contamination(AutoOr::Value(0.0)),
            "contamination: 0 is not",
        ),
        (
            IsolationForestParams::new().contamination(AutoOr::Value(f64::NAN)),
            "contamination: NaN is not",
        ),
        (
            IsolationForestParams::new().max_features(0.0),
            "max_features: 0 is not a fraction in (0, 1]",
        ),
    ];
    for (params, expected) in cases {
        let e = err(params.check()).to_string();
        assert!(
            e.starts_with(expected),
            "{e:?} should start with {expected:?}"
        );
        let data = [1.0, 2.0];
        assert!(params.fit(matrix(&data, 1)).is_err());
    }
}

#[test]
fn max_samples_resolves_as_in_scikit_learn() {
    let resolve = |m, n| ok(IsolationForestParams::new().max_samples(m).check()).max_samples_for(n);
    assert_eq!(resolve(MaxSamples::Auto, 1000), Ok(256));
    assert_eq!(resolve(MaxSamples::Auto, 100), Ok(100));
    assert_eq!(resolve(MaxSamples::Count(64), 100), Ok(64));
    assert_eq!(resolve(MaxSamples::Count(500), 100), Ok(100));
    assert_eq!(resolve(MaxSamples::Fraction(0.4), 300), Ok(120));
    assert_eq!(resolve(MaxSamples::Fraction(0.999), 10), Ok(9));
    let e = err(resolve(MaxSamples::Fraction(0.001), 300));
    assert_eq!(e.to_string(), "max_samples: 0.001 of 300 rows is 0 rows");
}

#[test]
fn nan_and_float32_overflow_in_training_data_are_named_errors() {
    let e = err(Matrix::new(&[0.0, 1.0, f64::NAN, 2.0], 2));
    assert_eq!(e.to_string(), "non-finite value NaN at row 1, column 0");
    let data = [0.0, 1.0, 2.0, 1e300];
    let e = err(IsolationForestParams::new()
        .fit(matrix(&data, 2))
        .map(|_| ()));
    assert_eq!(
        e,
        ModelError::OutOfFloat32Range {
            row: 1,
            col: 1,
            value: 1e300
        }
    );
}

#[test]
fn scoring_checks_the_number_of_features_and_finiteness() {
    let data = noise(50, 3, 2);
    let forest = ok(IsolationForestParams::new()
        .n_estimators(5)
        .fit(matrix(&data, 3)));
    let wrong = [0.0; 8];
    assert_eq!(
        forest.score_samples(matrix(&wrong, 4)),
        Err(ModelError::FeatureCountMismatch {
            expected: 3,
            found: 4
        })
    );
    assert!(forest.score_row(&[0.0, 1.0]).is_err());
    assert!(matches!(
        forest.score_row(&[0.0, f64::INFINITY, 1.0]),
        Err(ModelError::NonFinite { col: 1, .. })
    ));
    let mut short = [0.0; 2];
    assert!(forest
        .score_samples_into(matrix(&data, 3), &mut short)
        .is_err());
}

#[test]
fn same_seed_gives_the_same_forest_and_another_seed_a_different_one() {
    let data = noise(300, 4, 3);
    let x = matrix(&data, 4);
    let fit = |seed| {
        let params = IsolationForestParams::new()
            .n_estimators(20)
            .contamination(AutoOr::Value(0.1))
            .random_state(seed);
        ok(serde_json::to_string(&ok(params.fit(x)))
            .map_err(|e| ModelError::InvalidModel(e.to_string())))
    };
    assert_eq!(fit(5), fit(5));
    assert_ne!(fit(5), fit(6));
}

#[test]
fn outliers_score_lower_than_inliers() {
    let data = clusters_with_outliers();
    let x = matrix(&data, 2);
    let forest = ok(IsolationForestParams::new().random_state(1).fit(x));
    let scores = ok(forest.score_samples(x));
    let worst_inlier = scores[..400].iter().copied().fold(f64::INFINITY, f64::min);
    for (i, s) in scores[400..].iter().enumerate() {
        assert!(
            *s < worst_inlier,
            "outlier {i} scored {s}, worst inlier {worst_inlier}"
        );
    }
    assert!(scores.iter().all(|s| (-1.0..0.0).contains(s)));
    let predicted = ok(forest.predict(x));
    assert!(predicted[400..].iter().all(|&p| p == -1));
    assert_eq!(ok(forest.is_anomaly(x))[400..], [true; 5]);
}

#[test]
fn constant_features_are_never_chosen() {
    // Column 1 is constant over all rows.
    let data: Vec<f64> = noise(200, 2, 4)
        .chunks(2)
        .flat_map(|r| [r[0], 42.0, r[1]])
        .collect();
    let forest = ok(IsolationForestParams::new()
        .n_estimators(50)
        .fit(matrix(&data, 3)));
    for tree in forest.trees() {
        for i in 0..tree.node_count() {
            assert_ne!(tree.is_leaf(i), (0..3).contains(&tree.feature[i]));
            assert_ne!(tree.feature[i], 1);
        }
    }
}

#[test]
fn feature_subsets_limit_the_columns_each_tree_splits_on() {
    let data = noise(200, 5, 5);
    let forest = ok(IsolationForestParams::new()
        .n_estimators(30)
        .max_features(0.5)
        .fit(matrix(&data, 5)));
    let mut all = FxHashSet::default();
    for tree in forest.trees() {
        let used: FxHashSet<i64> = tree.feature.iter().copied().filter(|&f| f >= 0).collect();
        assert!(used.len() <= 2, "int(0.5 * 5) = 2 features, got {used:?}");
        all.extend(used);
    }
    assert!(all.len() > 2, "different trees draw different features");
}

#[test]
fn bootstrap_trees_hold_distinct_rows() {
    let data = noise(300, 2, 6);
    let forest = ok(IsolationForestParams::new()
        .n_estimators(10)
        .max_samples(MaxSamples::Count(100))
        .bootstrap(true)
        .fit(matrix(&data, 2)));
    assert_eq!(forest.max_samples(), 100);
    for tree in forest.trees() {
        // 100 draws with replacement out of 300 rows: about 85 distinct.
        assert!(
            (60..100).contains(&tree.n_node_samples[0]),
            "{}",
            tree.n_node_samples[0]
        );
    }
}

#[test]
fn contamination_offset_flags_about_that_share_of_training_rows() {
    let data = noise(1000, 3, 7);
    let x = matrix(&data, 3);
    for contamination in [0.05, 0.1, 0.25] {
        let forest = ok(IsolationForestParams::new()
            .contamination(AutoOr::Value(contamination))
            .fit(x));
        let scores = ok(forest.score_samples(x));
        assert_eq!(
            Some(forest.offset()),
            percentile(&scores, 100.0 * contamination)
        );
        let flagged = ok(forest.is_anomaly(x)).iter().filter(|&&a| a).count();
        let expected = contamination * 1000.0;
        assert!(
            (flagged as f64 - expected).abs() <= 2.0,
            "{flagged} flagged for contamination {contamination}"
        );
    }
    let auto = ok(IsolationForestParams::new().n_estimators(3).fit(x));
    assert_eq!(auto.offset(), -0.5);
}

#[test]
fn decision_function_and_predict_follow_the_offset() {
    let data = clusters_with_outliers();
    let x = matrix(&data, 2);
    let forest = ok(IsolationForestParams::new()
        .contamination(AutoOr::Value(0.02))
        .fit(x));
    let scores = ok(forest.score_samples(x));
    let decision = ok(forest.decision_function(x));
    let predict = ok(forest.predict(x));
    for ((s, d), p) in scores.iter().zip(&decision).zip(&predict) {
        assert_eq!(*d, s - forest.offset());
        assert_eq!(*p, if *d < 0.0 { -1 } else { 1 });
    }
}

#[test]
fn fast_scoring_matches_a_plain_tree_walk() {
    let train = noise(500, 6, 8);
    let forest = ok(IsolationForestParams::new()
        .n_estimators(40)
        .max_features(0.7)
        .fit(matrix(&train, 6)));
    // Fresh rows, training rows (values equal to split minima) and a short last block.
    let mut rows = noise(37, 6, 9);
    rows.extend_from_slice(&train[..6 * 20]);
    rows.iter_mut().step_by(7).for_each(|v| *v *= 10.0);
    let x = matrix(&rows, 6);
    let scores = ok(forest.score_samples(x));
    for (i, row) in x.rows().enumerate() {
        assert_eq!(scores[i], reference_score(&forest, row), "row {i}");
        assert_eq!(ok(forest.score_row(row)), scores[i], "row {i}");
    }
}

#[test]
fn both_scoring_layouts_give_the_same_bits_at_every_depth() {
    // 1, 2, 3 and 5 samples make trees 0 to 3 deep; 1024 is the deepest complete layout, 2048
    // (11 deep) and 300 features fall back to the pointer layout.
    for (max_samples, n_cols) in [
        (1, 4),
        (2, 4),
        (3, 4),
        (5, 4),
        (256, 30),
        (1024, 3),
        (2048, 3),
        (256, 300),
    ] {
        let train = noise(2100, n_cols, max_samples);
        let forest = ok(IsolationForestParams::new()
            .n_estimators(12)
            .max_samples(MaxSamples::Count(max_samples))
            .random_state(max_samples)
            .fit(matrix(&train, n_cols)));
        let deep = max_samples > 1024 || n_cols > 256;
        assert_eq!(forest.complete.is_none(), deep, "{max_samples} samples");
        let mut pointers = forest.clone();
        pointers.complete = None;
        // Training rows (on split values), fresh rows, values beyond float32 and a short block.
        let mut rows = train[..n_cols * 700].to_vec();
        rows.extend(noise(301, n_cols, 99));
        rows.iter_mut().step_by(11).for_each(|v| *v *= 1e300);
        let x = matrix(&rows, n_cols);
        let fast = ok(forest.score_samples(x));
        let slow = ok(pointers.score_samples(x));
        for (i, (a, b)) in fast.iter().zip(&slow).enumerate() {
            assert_eq!(a.to_bits(), b.to_bits(), "{max_samples} samples, row {i}");
        }
        assert_eq!(ok(forest.score_row(x.rows().next().unwrap())), fast[0]);
    }
}

#[test]
fn a_single_training_row_scores_minus_one_half() {
    let data = [1.0, 2.0];
    let forest = ok(IsolationForestParams::new().fit(matrix(&data, 2)));
    assert_eq!(forest.max_samples(), 1);
    let other = [5.0, -3.0];
    assert_eq!(ok(forest.score_samples(matrix(&other, 2))), vec![-0.5]);
}

/// Whether this build's serde_json parses floats exactly (its `float_roundtrip` feature); by
/// default it may land one unit in the last place off.
fn json_floats_round_trip() -> bool {
    serde_json::from_str::<f64>("0.36035866877676836").ok() == Some(0.360_358_668_776_768_36)
}

fn within_one_ulp(a: f64, b: f64) -> bool {
    a == b || (a.to_bits() as i64 - b.to_bits() as i64).abs() <= 1
}

#[test]
fn serde_round_trip_keeps_the_forest_and_corruption_is_an_error() {
    let data = noise(200, 3, 10);
    let x = matrix(&data, 3);
    let forest = ok(IsolationForestParams::new()
        .n_estimators(10)
        .contamination(AutoOr::Value(0.1))
        .fit(x));
    let json = serde_json::to_string(&forest).unwrap_or_default();
    assert!(
        json.starts_with(r#"{"n_features":3,"max_samples":200,"offset":"#),
        "{}",
        &json[..80]
    );
    let back: IsolationForest = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
    if json_floats_round_trip() {
        assert!(back == forest, "the reloaded forest differs");
        assert_eq!(ok(back.score_samples(x)), ok(forest.score_samples(x)));
    } else {
        // Without serde_json's float_roundtrip feature only the floats may move, by one ulp.
        assert!(within_one_ulp(back.offset(), forest.offset()));
        for (a, b) in back.trees().iter().zip(forest.trees()) {
            assert_eq!(a.children_left, b.children_left);
            assert_eq!(a.children_right, b.children_right);
            assert_eq!(a.feature, b.feature);
            assert_eq!(a.n_node_samples, b.n_node_samples);
            assert!(a
                .threshold
                .iter()
                .zip(&b.threshold)
                .all(|(p, q)| within_one_ulp(*p, *q)));
        }
    }

    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
    value["trees"][3]["children_left"][0] = serde_json::json!(0);
    let e = serde_json::from_value::<IsolationForest>(value)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.to_string().contains("tree 3: node 0: child 0"), "{e}");

    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
    value["trees"][0]["feature"][0] = serde_json::json!(3);
    assert!(serde_json::from_value::<IsolationForest>(value).is_err());
}

#[test]
fn from_parts_rejects_inconsistent_forests() {
    let tree = IsolationTree {
        children_left: vec![1, -1, -1],
        children_right: vec![2, -1, -1],
        feature: vec![0, -2, -2],
        threshold: vec![0.5, -2.0, -2.0],
        n_node_samples: vec![4, 1, 3],
    };
    let forest = ok(IsolationForest::from_parts(vec![tree.clone()], 4, -0.5, 1));
    // Row 0.25 goes left: depth 1 + c(1); row 0.75 goes right: depth 1 + c(3).
    let c4 = average_path_length(4);
    let rows = [0.25, 0.75];
    let scores = ok(forest.score_samples(matrix(&rows, 1)));
    assert_eq!(scores[0], -libm::exp2(-(((2.0 + 0.0) - 1.0) / c4)));
    assert_eq!(
        scores[1],
        -libm::exp2(-(((2.0 + average_path_length(3)) - 1.0) / c4))
    );

    assert!(IsolationForest::from_parts(vec![], 4, -0.5, 1).is_err());
    assert!(IsolationForest::from_parts(vec![tree.clone()], 4, f64::NAN, 1).is_err());
    assert!(IsolationForest::from_parts(vec![tree.clone()], 0, -0.5, 1).is_err());
    assert!(IsolationForest::from_parts(vec![tree], 4, -0.5, 0).is_err());
}

#[test]
fn sampling_without_replacement_is_distinct_sorted_and_portable() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let s = sample_without_replacement(&mut rng, 1_000_000, 256);
    assert_eq!(s.len(), 256);
    assert!(s.windows(2).all(|w| w[0] < w[1]));
    assert!(s.iter().all(|&i| i < 1_000_000));
    assert_eq!(
        sample_without_replacement(&mut rng, 5, 9),
        vec![0, 1, 2, 3, 4]
    );
}

#[test]
fn float32_thresholds_make_the_same_decisions_as_float64_ones() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let mut thresholds: Vec<f64> = (0..2000)
        .map(|_| (rng.gen::<f64>() - 0.5) * libm::pow(10.0, f64::from(rng.gen_range(-40..40))))
        .collect();
    // Thresholds that are float32 values themselves (scikit-learn's `min` fallback), zero,
    // and thresholds beyond the float32 range.
    thresholds.extend(thresholds.clone().iter().map(|&t| f64::from(t as f32)));
    thresholds.extend([
        0.0,
        -0.0,
        1e-300,
        -1e-300,
        1e300,
        -1e300,
        f64::from(f32::MAX),
    ]);
    for t in thresholds {
        let t32 = f32_at_or_below(t);
        let near = t as f32;
        let mut probes = vec![near, t32, f32::INFINITY, f32::NEG_INFINITY, 0.0, -0.0];
        for step in 1..3u32 {
            if near.is_finite() {
                probes.push(f32::from_bits(near.to_bits().wrapping_add(step)));
                probes.push(f32::from_bits(near.to_bits().wrapping_sub(step)));
            }
        }
        for x in probes.into_iter().filter(|x| !x.is_nan()) {
            // scikit-learn sends x right when `x <= t` is false (x and t are never NaN here).
            let goes_left = f64::from(x) <= t;
            assert_eq!(x > t32, !goes_left, "x {x:e}, t {t:e}, t32 {t32:e}");
        }
    }
}

#[test]
fn parallel_scoring_is_bit_identical_to_one_thread() {
    let n_cols = 3;
    let data: Vec<f64> = (0..60_000 * n_cols)
        .map(|i| ((i * 7919) % 1000) as f64 / 100.0)
        .collect();
    let x = Matrix::new(&data, n_cols).unwrap();
    let forest = IsolationForestParams::new()
        .n_estimators(10)
        .random_state(3)
        .fit(x)
        .unwrap();
    let one = forest.score_samples(x).unwrap();
    let mut many = vec![0.0; one.len()];
    crate::model::score_in_parallel(&forest, x, &mut many).unwrap();
    assert!(one
        .iter()
        .zip(&many)
        .all(|(a, b)| a.to_bits() == b.to_bits()));
}
