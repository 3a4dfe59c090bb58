use super::*;
use crate::config::{ContaminationError, DEFAULT_MODEL_CONFIG, DEFAULT_TRAINING_CONFIG};

fn contamination(v: f64) -> AutoOr<Contamination> {
    AutoOr::Value(Contamination::try_from(v).expect("in range"))
}

#[test]
fn default_parameters_train_like_the_cli_without_flags_but_the_seed() {
    let config = Config::defaults();
    let params = TrainParams::from_config(&config);
    let options = params.to_options(7);
    // Applying the configuration's own parameters changes nothing.
    assert_eq!(options.config, config);
    assert_eq!(
        options.config.model.model.kind,
        DetectorKind::IsolationForest
    );
    assert_eq!(
        params.seed,
        config.model.model.isolation_forest.random_state
    );
    assert_eq!(options.now_micros, 7);
}

#[test]
fn edited_parameters_reach_the_options() {
    let mut params = TrainParams::from_config(&Config::defaults());
    params.detector = DetectorKind::Lof;
    params.n_neighbors = 7;
    params.seed = 3;
    let options = params.to_options(0);
    let model = &options.config.model.model;
    assert_eq!(model.kind, DetectorKind::Lof);
    assert_eq!(model.lof.n_neighbors, 7);
    // The seed drives the detector and the evaluation split.
    assert_eq!(model.lof.random_state, 3);
    assert_eq!(options.config.training.evaluation.random_state, 3);
    assert_eq!(model.lof.contamination, params.contamination.to_f64());
}

#[test]
fn apply_writes_every_parameter() {
    let params = TrainParams {
        detector: DetectorKind::IsolationForest,
        seed: 9,
        contamination: contamination(0.2),
        n_estimators: 7,
        max_samples: MaxSamples::Fraction(0.5),
        n_neighbors: 11,
        drop_invalid: true,
    };
    let mut config = Config::defaults();
    config.model.model.kind = DetectorKind::Lof;
    params.apply(&mut config);
    let model = &config.model.model;
    assert_eq!(model.kind, DetectorKind::IsolationForest);
    assert_eq!(model.isolation_forest.n_estimators, 7);
    assert_eq!(
        model.isolation_forest.max_samples,
        MaxSamples::Fraction(0.5)
    );
    assert_eq!(model.isolation_forest.contamination, AutoOr::Value(0.2));
    assert_eq!(model.isolation_forest.random_state, 9);
    assert_eq!(model.lof.n_neighbors, 11);
    assert_eq!(config.training.evaluation.random_state, 9);
    assert!(config.training.validation.drop_invalid);
    // And reading them back gives the same parameters.
    assert_eq!(TrainParams::from_config(&config), params);
}

#[test]
fn the_wire_shape_of_parameters_is_unchanged() {
    let params = TrainParams::from_config(&Config::defaults());
    assert_eq!(
        serde_json::to_string(&params).expect("json"),
        r#"{"detector":"isolation_forest","seed":42,"contamination":"auto","n_estimators":100,"max_samples":"auto","n_neighbors":20,"drop_invalid":false}"#
    );
    let edited = TrainParams {
        contamination: contamination(0.1),
        max_samples: MaxSamples::Fraction(0.5),
        ..params
    };
    let json = serde_json::to_string(&edited).expect("json");
    assert!(json.contains(r#""contamination":0.1,"#), "{json}");
    assert!(json.contains(r#""max_samples":0.5,"#), "{json}");
    let back: TrainParams = serde_json::from_str(&json).expect("reads back");
    assert_eq!(back, edited);
    // A stored contamination out of range is refused, not trained with.
    let bad = json.replace(r#""contamination":0.1"#, r#""contamination":0.9"#);
    assert!(serde_json::from_str::<TrainParams>(&bad).is_err());
}

#[test]
fn text_forms_round_trip() {
    for kind in DetectorKind::ALL {
        assert_eq!(kind.to_string().parse::<DetectorKind>(), Ok(kind));
        assert_eq!(kind.to_string(), kind.as_str());
    }
    for c in [AutoOr::Auto, contamination(0.5), contamination(0.01)] {
        assert_eq!(c.to_string().parse::<AutoOr<Contamination>>(), Ok(c));
    }
    for m in [
        MaxSamples::Auto,
        MaxSamples::Count(1),
        MaxSamples::Count(256),
        MaxSamples::Fraction(1.0),
        MaxSamples::Fraction(0.25),
    ] {
        assert_eq!(m.to_string().parse::<MaxSamples>(), Ok(m), "{m}");
    }
    assert_eq!(MaxSamples::Fraction(1.0).to_string(), "1.0");
    assert_eq!("AUTO".parse::<AutoOr<Contamination>>(), Ok(AutoOr::Auto));
    assert_eq!(" Auto ".parse::<MaxSamples>(), Ok(MaxSamples::Auto));
}

#[test]
fn bad_texts_say_what_was_expected() {
    let e = "forest".parse::<DetectorKind>().unwrap_err();
    assert_eq!(
        e.to_string(),
        "expected isolation_forest or lof, found \"forest\""
    );
    for text in ["0", "0.51", "-0.1", "NaN", "lots", ""] {
        let e = text.parse::<AutoOr<Contamination>>().unwrap_err();
        assert_eq!(e.expected, Contamination::EXPECTED, "{text}");
    }
    for text in ["0", "1.5", "-1", "0.0", "many"] {
        assert!(text.parse::<MaxSamples>().is_err(), "{text}");
    }
    assert_eq!(Contamination::try_from(0.7), Err(ContaminationError(0.7)));
    assert_eq!(
        ContaminationError(0.7).to_string(),
        "0.7 is not \"auto\" or a fraction in (0, 0.5]"
    );
}

#[test]
fn counts_are_bounded_by_the_detectors_constants() {
    let mut choices = TrainChoices::default();
    for (name, max) in [
        ("n_estimators", N_ESTIMATORS_MAX),
        ("n_neighbors", N_NEIGHBORS_MAX),
    ] {
        choices
            .set(name, &max.to_string())
            .expect("the largest value");
        choices.set(name, "1").expect("the smallest value");
        for bad in ["0", &(max + 1).to_string(), "-1", "many", "1.5"] {
            let e = choices.set(name, bad).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("{name}: expected a whole number from 1 to {max}, found {bad:?}")
            );
        }
    }
    assert_eq!(N_NEIGHBORS_MAX, 10_000);
    assert_eq!(N_ESTIMATORS_MAX, 10_000);
}

#[test]
fn n_neighbors_above_the_bound_is_refused_everywhere_in_the_core() {
    // The parameters' own check.
    let params = TrainParams {
        n_neighbors: 10_001,
        ..TrainParams::from_config(&Config::defaults())
    };
    assert_eq!(
        params.check().map_err(|e| e.to_string()),
        Err("n_neighbors: 10001 is out of range 1..=10000".to_owned())
    );
    // The detector's.
    assert!(LofParams::new().n_neighbors(10_001).check().is_err());
    assert!(LofParams::new().n_neighbors(10_000).check().is_ok());
    // The configuration file.
    let yaml = DEFAULT_MODEL_CONFIG.replacen("n_neighbors: 20", "n_neighbors: 10001", 1);
    let e = Config::from_yaml(&yaml, DEFAULT_TRAINING_CONFIG)
        .map(|_| ())
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("model.lof.n_neighbors: 10001 is out of range"),
        "{e}"
    );
    // The form's and the API's per-name parser.
    assert!(TrainChoices::default().set("n_neighbors", "10001").is_err());
}

#[test]
fn unknown_names_are_refused() {
    let e = TrainChoices::default().set("trees", "5").unwrap_err();
    assert_eq!(e, ParamError::Unknown("trees".to_owned()));
    assert_eq!(e.to_string(), "unknown parameter \"trees\"");
}

#[test]
fn choices_fill_in_from_the_configuration() {
    let mut config = Config::defaults();
    config.model.model.isolation_forest.n_estimators = 7;
    config.model.model.lof.contamination = AutoOr::Value(0.05);
    config.model.model.lof.random_state = 99;
    let mut choices = TrainChoices::default();
    choices.set("seed", "5").expect("a seed");
    let params = choices.resolve(&config).expect("resolves");
    assert_eq!(params.n_estimators, 7);
    assert_eq!(params.seed, 5);
    assert_eq!(params.detector, DetectorKind::IsolationForest);

    // A detector chosen alone takes its own contamination and seed from the configuration.
    let mut choices = TrainChoices::default();
    choices.set("detector", "lof").expect("a detector");
    let params = choices.resolve(&config).expect("resolves");
    assert_eq!(params.contamination, contamination(0.05));
    assert_eq!(params.seed, 99);
    assert_eq!(params.n_estimators, 7);
}

#[test]
fn chosen_pairs_read_back_to_the_same_choices() {
    let mut choices = TrainChoices::default();
    assert!(choices.to_pairs().is_empty());
    choices.set("seed", "5").expect("seed");
    assert_eq!(choices.to_pairs(), vec![("seed", "5".to_owned())]);

    let all = TrainChoices::from(&TrainParams {
        detector: DetectorKind::Lof,
        seed: 1,
        contamination: contamination(0.1),
        n_estimators: 3,
        max_samples: MaxSamples::Fraction(1.0),
        n_neighbors: 4,
        drop_invalid: true,
    });
    let pairs = all.to_pairs();
    assert_eq!(
        pairs.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        TRAIN_PARAMETERS
    );
    let mut back = TrainChoices::default();
    for (name, value) in &pairs {
        back.set(name, value).expect("parses back");
    }
    assert_eq!(back, all);
}
