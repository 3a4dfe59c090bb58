use super::*;
use crate::model::test_support::{err, matrix, noise, ok};
use crate::model::OutlierDetector;

/// Scores computed the slow, obvious way: all distances, sorted by (distance², row).
fn reference_scores(train: &[f64], d: usize, k: usize, queries: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let n = train.len() / d;
    let dist2 = |a: &[f64], b: &[f64]| {
        let mut s = 0.0;
        for (x, y) in a.iter().zip(b) {
            s += (x - y) * (x - y);
        }
        s
    };
    let knn = |q: &[f64], skip: Option<usize>| {
        let mut all: Vec<(f64, usize)> = (0..n)
            .filter(|&i| Some(i) != skip)
            .map(|i| (dist2(q, &train[i * d..(i + 1) * d]), i))
            .collect();
        all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        all.truncate(k);
        all.into_iter()
            .map(|(s, i)| (libm::sqrt(s), i))
            .collect::<Vec<_>>()
    };
    let fit_nn: Vec<_> = (0..n)
        .map(|i| knn(&train[i * d..(i + 1) * d], Some(i)))
        .collect();
    let kdist: Vec<f64> = fit_nn.iter().map(|nn| nn[k - 1].0).collect();
    let lrd_of = |nn: &[(f64, usize)]| {
        let reach: Vec<f64> = nn.iter().map(|&(dd, j)| dd.max(kdist[j])).collect();
        1.0 / (numpy_sum(&reach) / k as f64 + 1e-10)
    };
    let lrd: Vec<f64> = fit_nn.iter().map(|nn| lrd_of(nn)).collect();
    let nof_of = |nn: &[(f64, usize)], own: f64| {
        let ratios: Vec<f64> = nn.iter().map(|&(_, j)| lrd[j] / own).collect();
        -(numpy_sum(&ratios) / k as f64)
    };
    let nof = fit_nn
        .iter()
        .zip(&lrd)
        .map(|(nn, &own)| nof_of(nn, own))
        .collect();
    let scores = queries
        .chunks_exact(d)
        .map(|q| {
            let nn = knn(q, None);
            nof_of(&nn, lrd_of(&nn))
        })
        .collect();
    (nof, scores)
}

/// A tight cluster of 100 rows around the origin and one far row (row 100).
fn cluster_and_outlier() -> Vec<f64> {
    let mut data: Vec<f64> = noise(100, 3, 5).iter().map(|v| 0.3 * v).collect();
    data.extend([6.0, -6.0, 6.0]);
    data
}

#[test]
fn params_come_from_the_config_and_setters() {
    let p = ok(LofParams::from(LofConfig {
        n_neighbors: 7,
        contamination: AutoOr::Value(0.1),
        random_state: 0,
    })
    .check());
    assert_eq!(p.n_neighbors(), 7);
    assert_eq!(p.contamination(), AutoOr::Value(0.1));
    assert_eq!(p.max_samples(), DEFAULT_MAX_SAMPLES);
    assert_eq!(p.random_state(), 0);
    let p = ok(LofParams::new()
        .n_neighbors(3)
        .contamination(AutoOr::Auto)
        .max_samples(50)
        .random_state(9)
        .check());
    assert_eq!(
        (p.n_neighbors(), p.max_samples(), p.random_state()),
        (3, 50, 9)
    );
    assert_eq!(ok(LofParams::new().check()).n_neighbors(), 20);
}

#[test]
fn bad_parameters_are_named_errors() {
    let name = |p: LofParams| match p.check() {
        Err(ModelError::InvalidParameter { name, .. }) => name,
        other => panic!("expected InvalidParameter, got {other:?}"),
    };
    assert_eq!(name(LofParams::new().n_neighbors(0)), "n_neighbors");
    for c in [0.0, -0.1, 0.51, f64::NAN] {
        assert_eq!(
            name(LofParams::new().contamination(AutoOr::Value(c))),
            "contamination"
        );
    }
    assert_eq!(name(LofParams::new().max_samples(1)), "max_samples");
    assert_eq!(
        err(LofParams::new().contamination(AutoOr::Value(0.7)).check()).to_string(),
        "contamination: 0.7 is not \"auto\" or a fraction in (0, 0.5]"
    );
}

#[test]
fn fewer_than_two_rows_is_an_error() {
    let e = err(LofParams::new().fit(matrix(&[1.0, 2.0], 2)));
    assert_eq!(
        e.to_string(),
        "n_samples: LOF needs at least 2 training rows, found 1"
    );
}

#[test]
fn nan_and_huge_values_are_named_errors() {
    assert!(matches!(
        Matrix::new(&[1.0, f64::NAN, 2.0, 3.0], 2),
        Err(ModelError::NonFinite { row: 0, col: 1, .. })
    ));
    let e = err(LofParams::new().fit(matrix(&[1.0, 2.0, 3.0, 1e200], 2)));
    assert!(
        e.to_string()
            .starts_with("x: value 1e200 at row 1, column 1"),
        "{e}"
    );
}

#[test]
fn n_neighbors_is_capped_at_n_minus_1() {
    let data = noise(6, 2, 1);
    let model = ok(LofParams::new().n_neighbors(50).fit(matrix(&data, 2)));
    assert_eq!(model.n_neighbors(), 5);
    assert_eq!(model.n_samples_fit(), 6);
    let (nof, scores) = reference_scores(&data, 2, 5, &data);
    assert_eq!(model.negative_outlier_factor(), nof.as_slice());
    assert_eq!(ok(model.score_samples(matrix(&data, 2))), scores);
    // Two rows: each is the other's only neighbour.
    let model = ok(LofParams::new().fit(matrix(&[0.0, 1.0], 1)));
    assert_eq!(model.n_neighbors(), 1);
    assert_eq!(model.negative_outlier_factor(), &[-1.0, -1.0]);
}

#[test]
fn matches_the_brute_force_reference_exactly() {
    let train = noise(300, 5, 2);
    let queries = noise(80, 5, 3);
    for k in [1, 4, 20] {
        let model = ok(LofParams::new()
            .n_neighbors(k as u32)
            .fit(matrix(&train, 5)));
        let (nof, scores) = reference_scores(&train, 5, k, &queries);
        assert_eq!(model.negative_outlier_factor(), nof.as_slice(), "k={k}");
        assert_eq!(
            ok(model.score_samples(matrix(&queries, 5))),
            scores,
            "k={k}"
        );
    }
}

#[test]
fn an_outlier_scores_lower_than_the_inliers() {
    let data = cluster_and_outlier();
    let model = ok(LofParams::new().fit(matrix(&data, 3)));
    let nof = model.negative_outlier_factor();
    let lowest = (0..nof.len()).min_by(|&a, &b| nof[a].total_cmp(&nof[b]));
    assert_eq!(lowest, Some(100));
    assert!(nof[100] < -1.5, "{}", nof[100]);

    // New rows: one inside the cluster, one far away.
    let new = [0.05, -0.1, 0.0, -7.0, 7.0, 0.0];
    let scores = ok(model.score_samples(matrix(&new, 3)));
    assert!(scores[1] < scores[0], "{scores:?}");
    assert!(scores[0] > -1.5 && scores[1] < -1.5, "{scores:?}");
    assert_eq!(ok(model.predict(matrix(&new, 3))), [1, -1]);
    assert_eq!(ok(model.is_anomaly(matrix(&new, 3))), [false, true]);
    let decision = ok(model.decision_function(matrix(&new, 3)));
    assert_eq!(decision, [scores[0] + 1.5, scores[1] + 1.5]);
}

#[test]
fn contamination_sets_the_offset_at_that_percentile_of_the_training_scores() {
    let data = cluster_and_outlier();
    let model = ok(LofParams::new()
        .contamination(AutoOr::Value(0.1))
        .fit(matrix(&data, 3)));
    assert_eq!(
        Some(model.offset()),
        percentile(model.negative_outlier_factor(), 10.0)
    );
    let auto = ok(LofParams::new().fit(matrix(&data, 3)));
    assert_eq!(auto.offset(), -1.5);
}

#[test]
fn duplicate_rows_give_finite_scores() {
    // 30 copies of one point and 30 of another: more duplicates than neighbours, so mean
    // reachability distances are 0 and only the 1e-10 keeps the densities finite.
    let mut data = vec![1.0; 2 * 30];
    data.extend(vec![-1.0; 2 * 30]);
    data.extend([0.0, 0.5]);
    let model = ok(LofParams::new().n_neighbors(10).fit(matrix(&data, 2)));
    assert!(model
        .negative_outlier_factor()
        .iter()
        .all(|v| v.is_finite()));
    assert_eq!(model.negative_outlier_factor()[0], -1.0);
    let new = [1.0, 1.0, 0.0, 0.0, 1.0, 1.0 + 1e-9];
    let scores = ok(model.score_samples(matrix(&new, 2)));
    assert!(scores.iter().all(|v| v.is_finite()), "{scores:?}");
    assert_eq!(scores[0], -1.0);
    assert!(scores[1] < -1e6 && scores[2] < -1.5, "{scores:?}");
}

#[test]
fn feature_count_mismatch_and_bad_buffers_are_errors() {
    let data = noise(20, 3, 4);
    let model = ok(LofParams::new().fit(matrix(&data, 3)));
    assert_eq!(
        err(model.score_samples(matrix(&[1.0, 2.0], 2))),
        ModelError::FeatureCountMismatch {
            expected: 3,
            found: 2
        }
    );
    let mut out = [0.0; 2];
    assert!(matches!(
        model.score_samples_into(matrix(&data, 3), &mut out),
        Err(ModelError::InvalidParameter { name: "out", .. })
    ));
}

#[test]
fn the_same_data_and_seed_give_the_same_model() {
    let data = noise(400, 4, 6);
    let fit = |seed| {
        let model = ok(LofParams::new()
            .max_samples(150)
            .random_state(seed)
            .fit(matrix(&data, 4)));
        serde_json::to_string(&model).unwrap_or_else(|e| panic!("{e}"))
    };
    assert_eq!(fit(3), fit(3));
    assert_ne!(fit(3), fit(4));
}

#[test]
fn max_samples_keeps_a_seeded_subsample_in_input_order() {
    let data = noise(500, 2, 7);
    let model = ok(LofParams::new()
        .max_samples(100)
        .random_state(11)
        .fit(matrix(&data, 2)));
    assert_eq!(model.n_samples_fit(), 100);
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let expected: Vec<f64> = sample_without_replacement(&mut rng, 500, 100)
        .into_iter()
        .flat_map(|i| data[2 * i..2 * i + 2].to_vec())
        .collect();
    assert_eq!(model.training_rows(), expected.as_slice());
    // Exactly max_samples rows: all kept, in order.
    let model = ok(LofParams::new().max_samples(500).fit(matrix(&data, 2)));
    assert_eq!(model.training_rows(), data.as_slice());
}

#[test]
fn serde_round_trip_is_exact() {
    let data = noise(120, 3, 8);
    let model = ok(LofParams::new()
        .n_neighbors(7)
        .contamination(AutoOr::Value(0.05))
        .fit(matrix(&data, 3)));
    let json = serde_json::to_string(&model).unwrap_or_else(|e| panic!("{e}"));
    let back: LocalOutlierFactor = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back, model);
    let queries = noise(30, 3, 9);
    assert_eq!(
        ok(back.score_samples(matrix(&queries, 3))),
        ok(model.score_samples(matrix(&queries, 3)))
    );
}

#[test]
fn corrupted_model_json_is_an_error() {
    let data = noise(20, 2, 10);
    let model = ok(LofParams::new().n_neighbors(5).fit(matrix(&data, 2)));
    let value = serde_json::to_value(&model).unwrap_or_else(|e| panic!("{e}"));
    let load = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut v = value.clone();
        edit(&mut v);
        serde_json::from_value::<LocalOutlierFactor>(v).map_err(|e| e.to_string())
    };
    assert!(load(&|_| {}).is_ok());
    type Edit<'a> = &'a dyn Fn(&mut serde_json::Value);
    let cases: [(&str, Edit); 10] = [
        ("training values", &|v| {
            if let Some(a) = v["train"].as_array_mut() {
                a.pop();
            }
        }),
        ("values of lrd", &|v| {
            if let Some(a) = v["lrd"].as_array_mut() {
                a.pop();
            }
        }),
        ("negative_outlier_factor", &|v| {
            if let Some(a) = v["negative_outlier_factor"].as_array_mut() {
                a.push(serde_json::json!(-1.0));
            }
        }),
        ("n_neighbors 20", &|v| {
            v["n_neighbors"] = serde_json::json!(20)
        }),
        ("n_neighbors 0", &|v| {
            v["n_neighbors"] = serde_json::json!(0)
        }),
        ("0 features", &|v| v["n_features"] = serde_json::json!(0)),
        ("lrd of training row 3", &|v| {
            v["lrd"][3] = serde_json::json!(-1.0)
        }),
        ("k_distance of training row 0", &|v| {
            v["k_distance"][0] = serde_json::json!(-0.5)
        }),
        ("0 training rows", &|v| {
            v["k_distance"] = serde_json::json!([]);
        }),
        ("unknown field", &|v| v["extra"] = serde_json::json!(1)),
    ];
    for (needle, edit) in cases {
        match load(edit) {
            Ok(_) => panic!("{needle}: loaded"),
            Err(e) => assert!(e.contains(needle), "{needle}: {e}"),
        }
    }
}

#[test]
fn numpy_sum_matches_numpy_pairwise_order() {
    // np.add.reduce of these values gives 1.0000000000000007 (pairwise), while a plain
    // left-to-right sum gives 1.0.
    let mut v = vec![1.0];
    v.extend([1.1e-16; 8]);
    let plain = v.iter().fold(0.0, |s, x| s + x);
    assert_eq!(plain, 1.0);
    assert_eq!(numpy_sum(&v), 1.0000000000000007);
    assert_eq!(numpy_sum(&[]), 0.0);
    assert_eq!(numpy_sum(&[0.5; 300]), 150.0);
}

#[test]
fn rows_too_large_for_distances_score_minus_infinity() {
    let data = noise(40, 2, 12);
    let model = ok(LofParams::new().fit(matrix(&data, 2)));
    let new = [1e300, -1e300, f64::MAX, 0.0, 0.1, 0.1];
    let scores = ok(model.score_samples(matrix(&new, 2)));
    assert_eq!(&scores[..2], &[f64::NEG_INFINITY; 2]);
    assert!(scores[2].is_finite());
    assert_eq!(ok(model.is_anomaly(matrix(&new, 2))), [true, true, false]);
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    /// Rows of `d` values: either on a coarse lattice (many ties and duplicates) or continuous.
    fn rows() -> impl Strategy<Value = (Vec<f64>, usize)> {
        (1usize..6, 2usize..70, any::<bool>()).prop_flat_map(|(d, n, lattice)| {
            let value = if lattice {
                (0i8..4).prop_map(|v| f64::from(v) * 0.5).boxed()
            } else {
                (-5.0f64..5.0).boxed()
            };
            (prop::collection::vec(value, n * d), Just(d))
        })
    }

    proptest! {
        #[test]
        fn fit_and_scores_match_the_brute_force_reference(
            (train, d) in rows(),
            k in 1u32..12,
            seed in any::<u64>(),
        ) {
            let model = ok(LofParams::new().n_neighbors(k).fit(matrix(&train, d)));
            let k = model.n_neighbors();
            let queries = noise(10, d, seed);
            let queries: Vec<f64> = queries.into_iter().chain(train.iter().copied()).collect();
            let (nof, scores) = reference_scores(&train, d, k, &queries);
            prop_assert_eq!(model.negative_outlier_factor(), nof.as_slice());
            prop_assert_eq!(ok(model.score_samples(matrix(&queries, d))), scores);
        }
    }
}
