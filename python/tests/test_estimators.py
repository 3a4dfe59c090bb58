"""The estimators' scikit-learn API: fit, scores, params, pickling, numpy in and out, and
clear errors (McpTrainError with a code, never a Rust panic) on bad input."""

import pickle

import numpy as np
import pytest

import mcp_train
from mcp_train import IsolationForest, LocalOutlierFactor, McpTrainError


@pytest.fixture
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(500, 4))
    X[:10] += 6.0  # ten rows far from the rest
    return X


def test_isolation_forest_flags_the_far_rows(data):
    forest = IsolationForest(random_state=1, contamination=0.02).fit(data)
    labels = forest.predict(data)
    assert set(np.unique(labels)) == {-1, 1}
    assert (labels[:10] == -1).all()
    assert forest.n_features_in_ == 4
    assert forest.max_samples_ == 256
    scores = forest.score_samples(data)
    np.testing.assert_array_equal(forest.decision_function(data), scores - forest.offset_)
    np.testing.assert_array_equal(forest.fit_predict(data), labels)


def test_contamination_auto_gives_scikit_learns_offset(data):
    assert IsolationForest(random_state=0).fit(data).offset_ == -0.5
    assert LocalOutlierFactor().fit(data).offset_ == -1.5


def test_the_same_seed_gives_the_same_forest_and_another_seed_another(data):
    a = IsolationForest(random_state=3).fit(data).score_samples(data)
    b = IsolationForest(random_state=3).fit(data).score_samples(data)
    c = IsolationForest(random_state=4).fit(data).score_samples(data)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_scores_come_back_as_float64_arrays_the_caller_owns(data):
    scores = IsolationForest(random_state=0).fit(data).score_samples(data)
    assert isinstance(scores, np.ndarray) and scores.dtype == np.float64
    assert scores.shape == (500,)
    scores[0] = 1.0  # writable: a new array, not a view of the model


def test_other_dtypes_and_layouts_are_converted(data):
    forest = IsolationForest(random_state=0).fit(data)
    expected = forest.score_samples(data)
    np.testing.assert_array_equal(forest.score_samples(np.asfortranarray(data)), expected)
    np.testing.assert_array_equal(forest.score_samples(data.tolist()), expected)
    strided = np.repeat(data, 2, axis=0)[::2]
    np.testing.assert_array_equal(forest.score_samples(strided), expected)
    as32 = data.astype(np.float32)
    np.testing.assert_array_equal(
        forest.score_samples(as32), forest.score_samples(as32.astype(np.float64))
    )


def test_params_round_trip_and_unknown_params_are_refused():
    forest = IsolationForest(n_estimators=50, max_samples=0.5)
    params = forest.get_params()
    assert params["n_estimators"] == 50 and params["max_samples"] == 0.5
    assert set(params) == {
        "n_estimators", "max_samples", "contamination", "max_features", "bootstrap", "random_state"
    }
    forest.set_params(n_estimators=7)
    assert forest.n_estimators == 7
    with pytest.raises(ValueError, match="Invalid parameter 'trees'"):
        forest.set_params(trees=3)
    assert set(LocalOutlierFactor().get_params()) == {
        "n_neighbors", "contamination", "novelty", "max_samples", "random_state"
    }


@pytest.mark.parametrize(
    "estimator",
    [IsolationForest(random_state=2, contamination=0.1), LocalOutlierFactor(novelty=True)],
    ids=["iforest", "lof"],
)
def test_pickled_models_score_identically(data, estimator):
    estimator.fit(data)
    restored = pickle.loads(pickle.dumps(estimator))
    np.testing.assert_array_equal(restored.score_samples(data), estimator.score_samples(data))
    assert restored.offset_ == estimator.offset_
    assert restored.get_params() == estimator.get_params()


def test_lof_outlier_mode_labels_training_rows(data):
    lof = LocalOutlierFactor(n_neighbors=15, contamination=0.02)
    labels = lof.fit_predict(data)
    assert (labels[:10] == -1).all()
    assert lof.n_neighbors_ == 15 and lof.n_samples_fit_ == 500
    np.testing.assert_array_equal(labels, np.where(lof.negative_outlier_factor_ < lof.offset_, -1, 1))
    assert not hasattr(lof, "score_samples")  # as scikit-learn: novelty=True only
    with pytest.raises(AttributeError, match="novelty=False"):
        lof.predict(data)


def test_lof_novelty_mode_scores_new_rows(data):
    lof = LocalOutlierFactor(novelty=True).fit(data[10:])
    far = np.full((1, 4), 8.0)
    assert lof.predict(far)[0] == -1
    assert not hasattr(lof, "fit_predict")


def test_lof_max_samples_keeps_a_seeded_subsample(data):
    lof = LocalOutlierFactor(novelty=True, max_samples=100, random_state=5).fit(data)
    assert lof.n_samples_fit_ == 100
    with pytest.raises(McpTrainError, match="novelty=True"):
        LocalOutlierFactor(max_samples=100).fit(data)


def test_unfitted_estimators_say_so(data):
    with pytest.raises(mcp_train.NotFittedError, match="not fitted"):
        IsolationForest().score_samples(data)


@pytest.mark.parametrize(
    "bad, code, message",
    [
        (np.array([[1.0, np.nan], [0.0, 1.0]]), "non_finite", "non-finite value NaN at row 0, column 1"),
        (np.array([[1.0, 2.0], [np.inf, 1.0]]), "non_finite", "non-finite value inf at row 1, column 0"),
        (np.array([[1.0, 2.0], [0.0, 1e39]]), "out_of_range", "row 1, column 1"),
    ],
)
def test_bad_values_are_named_with_row_and_column(bad, code, message):
    with pytest.raises(McpTrainError, match=message) as raised:
        IsolationForest().fit(bad)
    assert raised.value.code == code
    assert isinstance(raised.value, ValueError)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"n_estimators": 0}, "n_estimators: expected a whole number from 1 to 10000, found \"0\""),
        ({"n_estimators": -3}, "n_estimators: expected a whole number from 1 to 10000"),
        ({"n_estimators": 10_001}, "n_estimators"),
        ({"n_estimators": "many"}, "n_estimators"),
        ({"n_estimators": True}, "n_estimators"),
        ({"max_samples": 0}, "max_samples"),
        ({"max_samples": 1.5}, "max_samples"),
        ({"max_samples": "some"}, "max_samples"),
        ({"contamination": 0.7}, "contamination"),
        ({"contamination": -0.1}, "contamination"),
        ({"max_features": 0.0}, "max_features: 0 is not a fraction in \\(0, 1\\]"),
        ({"max_features": "all"}, "max_features"),
        ({"random_state": -1}, "random_state"),
        ({"random_state": 1.5}, "random_state"),
    ],
)
def test_bad_parameters_are_named(data, params, message):
    with pytest.raises(McpTrainError, match=message) as raised:
        IsolationForest(**params).fit(data)
    assert raised.value.code == "invalid_parameter"


@pytest.mark.parametrize(
    "params, message",
    [({"n_neighbors": 0}, "n_neighbors"), ({"contamination": 0.6}, "contamination"),
     ({"max_samples": 1, "novelty": True}, "max_samples: 1 must be at least 2")],
)
def test_bad_lof_parameters_are_named(data, params, message):
    with pytest.raises(McpTrainError, match=message):
        LocalOutlierFactor(**params).fit(data)


def test_wrong_feature_count_is_named(data):
    forest = IsolationForest(random_state=0).fit(data)
    with pytest.raises(ValueError, match="X has 3 features, but IsolationForest is expecting 4"):
        forest.predict(data[:, :3])


def test_a_corrupted_model_is_an_error_not_a_crash(data):
    forest = IsolationForest(random_state=0, n_estimators=3).fit(data)
    state = forest._model.to_json()
    broken = state.replace(b'"children_left":[1', b'"children_left":[7', 1)
    with pytest.raises(McpTrainError, match="invalid model") as raised:
        mcp_train._mcp_train.IsolationForestModel.from_json(broken)
    assert raised.value.code == "invalid_model"
    with pytest.raises(McpTrainError):
        mcp_train._mcp_train.LocalOutlierFactorModel.from_json(b"{}")


def test_a_c_contiguous_float64_array_is_not_copied():
    """numpy allocations are traced by tracemalloc: scoring a C-contiguous float64 array
    allocates nothing near its size, while a Fortran-ordered one (the control) is copied once."""
    import tracemalloc

    X = np.random.default_rng(0).standard_normal((100_000, 30))  # 24 MB
    forest = IsolationForest(n_estimators=10, random_state=0).fit(X)
    F = np.asfortranarray(X)

    def peak(work):
        tracemalloc.start()
        try:
            work()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    assert peak(lambda: forest.score_samples(X)) < X.nbytes / 10
    assert peak(lambda: forest.fit(X)) < X.nbytes / 10
    assert peak(lambda: forest.score_samples(F)) >= X.nbytes


def test_dataframe_column_names_are_kept_and_checked(data):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(data, columns=["a", "b", "c", "d"])
    forest = IsolationForest(random_state=0).fit(frame)
    assert forest.feature_names_in_.tolist() == ["a", "b", "c", "d"]
    plain = IsolationForest(random_state=0).fit(data)
    np.testing.assert_array_equal(forest.score_samples(frame), plain.score_samples(data))
    with pytest.raises(ValueError, match="Feature names must be in the same order"):
        forest.predict(frame[["b", "a", "c", "d"]])
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        forest.predict(data)
    assert not hasattr(plain, "feature_names_in_")
