"""scikit-learn's own numbers through Python: the fixtures core/tests/sklearn_exactness.rs and
sklearn_lof_exactness.rs check in Rust (written by scripts/sklearn_iforest_fixture.py and
sklearn_lof_fixture.py), with the same tolerances, and forests scikit-learn fits here."""

import json

import numpy as np
import pytest

from mcp_train import IsolationForest, LocalOutlierFactor

IFOREST_TOLERANCE = 1e-12
LOF_TOLERANCE = 1e-10


def load(repo, name):
    with open(repo / "core" / "tests" / "fixtures" / name) as f:
        return json.load(f)


def test_scikit_learn_forests_score_identically(repo):
    fixture = load(repo, "sklearn_iforest.json")
    train = np.array(fixture["train"])
    test = np.array(fixture["test"])
    assert len(fixture["cases"]) == 3
    for case in fixture["cases"]:
        forest = IsolationForest.from_trees(
            case["trees"], case["max_samples_"], case["offset_"], fixture["n_features"]
        )
        name = case["name"]
        np.testing.assert_allclose(
            forest.score_samples(test), case["score_samples"], rtol=0, atol=IFOREST_TOLERANCE,
            err_msg=name,
        )
        np.testing.assert_allclose(
            forest.score_samples(train), case["train_score_samples"], rtol=0,
            atol=IFOREST_TOLERANCE, err_msg=name,
        )
        np.testing.assert_allclose(
            forest.decision_function(test), case["decision_function"], rtol=0,
            atol=IFOREST_TOLERANCE, err_msg=name,
        )
        np.testing.assert_array_equal(forest.predict(test), case["predict"], err_msg=name)


def test_scikit_learn_lof_fits_are_reproduced(repo):
    fixture = load(repo, "sklearn_lof.json")
    train = np.array(fixture["train"])
    test = np.array(fixture["test"])
    assert len(fixture["cases"]) == 3
    for case in fixture["cases"]:
        name = case["name"]
        lof = LocalOutlierFactor(novelty=True, **case["params"]).fit(train)
        assert lof.n_neighbors_ == case["n_neighbors_"], name
        np.testing.assert_allclose(
            lof.negative_outlier_factor_, case["negative_outlier_factor_"], rtol=0,
            atol=LOF_TOLERANCE, err_msg=name,
        )
        assert abs(lof.offset_ - case["offset_"]) <= LOF_TOLERANCE, name
        np.testing.assert_allclose(
            lof.score_samples(test), case["score_samples"], rtol=0, atol=LOF_TOLERANCE,
            err_msg=name,
        )
        np.testing.assert_allclose(
            lof.decision_function(test), case["decision_function"], rtol=0,
            atol=LOF_TOLERANCE, err_msg=name,
        )
        np.testing.assert_array_equal(lof.predict(test), case["predict"], err_msg=name)
        if case["fit_method"] == "kd_tree":  # the same sums in the same order: the same floats
            np.testing.assert_array_equal(lof.score_samples(test), case["score_samples"])
        outliers = LocalOutlierFactor(**case["params"]).fit_predict(train)
        expected = np.where(np.array(case["negative_outlier_factor_"]) < case["offset_"], -1, 1)
        np.testing.assert_array_equal(outliers, expected, err_msg=name)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"contamination": 0.1, "max_samples": 100},
        {"max_features": 0.5, "bootstrap": True, "n_estimators": 40},
    ],
    ids=["defaults", "contamination_max_samples", "max_features_bootstrap"],
)
def test_forests_scikit_learn_fits_now_score_as_in_scikit_learn(params):
    sklearn_ensemble = pytest.importorskip("sklearn.ensemble")
    rng = np.random.RandomState(11)
    X = np.vstack([rng.normal(size=(600, 6)), rng.uniform(-6, 6, size=(20, 6))])
    theirs = sklearn_ensemble.IsolationForest(random_state=3, **params).fit(X)
    ours = IsolationForest.from_sklearn(theirs)
    assert ours.get_params()["n_estimators"] == theirs.n_estimators
    assert ours.offset_ == theirs.offset_
    new = rng.normal(scale=2.0, size=(300, 6))
    np.testing.assert_allclose(
        ours.score_samples(new), theirs.score_samples(new), rtol=0, atol=IFOREST_TOLERANCE
    )
    np.testing.assert_array_equal(ours.predict(new), theirs.predict(new))
