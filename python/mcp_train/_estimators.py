"""IsolationForest and LocalOutlierFactor with scikit-learn's estimator API and semantics.

The fitting and scoring are mcp-train's core (Rust): a float64 C-contiguous array goes in without
a copy, scoring runs on all cores with the GIL released, and a forest given scikit-learn's trees
scores exactly as scikit-learn does. With scikit-learn installed the classes are BaseEstimators
(clone, pipelines, grid search, check_estimator); without it they keep the same API.
"""

import inspect
import numbers
import warnings

import numpy as np

from . import _mcp_train

try:  # scikit-learn is optional: the estimators follow its API either way.
    from sklearn.base import BaseEstimator as _Base
    from sklearn.base import OutlierMixin as _OutlierBase

    HAVE_SKLEARN = True
except ImportError:  # tests/test_without_sklearn.py runs this in a subprocess
    HAVE_SKLEARN = False

    class _Base:
        def __repr__(self):
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
            return f"{type(self).__name__}({args})"

    class _OutlierBase:
        _estimator_type = "outlier_detector"

        def fit_predict(self, X, y=None, **kwargs):
            return self.fit(X, **kwargs).predict(X)


class NotFittedError(ValueError, AttributeError):
    """Raised when an estimator is used before `fit` (scikit-learn's NotFittedError when it is
    installed)."""


if HAVE_SKLEARN:
    from sklearn.exceptions import NotFittedError  # noqa: F811


class _Params:
    """get_params / set_params from the `__init__` signature, as scikit-learn's."""

    @classmethod
    def _param_names(cls):
        signature = inspect.signature(cls.__init__)
        return sorted(p.name for p in signature.parameters.values() if p.name != "self")

    def get_params(self, deep=True):
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(
                    f"Invalid parameter {name!r} for estimator {type(self).__name__}. "
                    f"Valid parameters are: {valid!r}."
                )
            setattr(self, name, value)
        return self


def _invalid(message):
    """A McpTrainError for a parameter refused here (by type), with the core's code for it."""
    error = _mcp_train.McpTrainError(message)
    error.code = "invalid_parameter"
    return error


def _text(name, value):
    """A parameter as the text the core parses: ints as counts, floats as Python writes them
    (shortest round trip, so the core reads back the same double), strings as given. The core
    parses and range-checks it; anything else is refused here by type."""
    if isinstance(value, (bool, np.bool_)):
        raise _invalid(f"{name}: expected a number or \"auto\", found {value!r}")
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))
    if isinstance(value, str):
        return value
    raise _invalid(f"{name}: expected a number or \"auto\", found {value!r}")


def _seed(random_state):
    """scikit-learn's random_state: None draws from numpy's global generator, an int is the
    seed, a RandomState gives one draw."""
    if random_state is None:
        return str(int(np.random.randint(np.iinfo(np.int32).max)))
    if isinstance(random_state, np.random.RandomState):
        return str(int(random_state.randint(np.iinfo(np.int32).max)))
    return _text("random_state", random_state)


def _feature_names(X):
    """The column names of a DataFrame-like X when they are all strings, else None (as
    scikit-learn: names of mixed types are an error, non-string names are no names)."""
    columns = getattr(X, "columns", None)
    if columns is None:
        return None
    names = np.asarray(columns, dtype=object)
    is_str = [isinstance(n, str) for n in names]
    if names.size == 0 or not any(is_str):
        return None
    if not all(is_str):
        kinds = sorted({type(n).__name__ for n in names})
        raise TypeError(
            "Feature names are only supported if all input features have string names, but "
            f"your input has {kinds} as feature name / column name types. Convert the column "
            "names to strings, e.g. X.columns = X.columns.astype(str)."
        )
    return names


def _check_feature_names(X, estimator, reset):
    """feature_names_in_ on fit; on later calls the names must match, as in scikit-learn."""
    names = _feature_names(X)
    name = type(estimator).__name__
    if reset:
        if names is not None:
            estimator.feature_names_in_ = names
        elif hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
        return
    fitted = getattr(estimator, "feature_names_in_", None)
    if fitted is None and names is None:
        return
    if fitted is None:
        warnings.warn(f"X has feature names, but {name} was fitted without feature names")
        return
    if names is None:
        warnings.warn(
            f"X does not have valid feature names, but {name} was fitted with feature names"
        )
        return
    if len(fitted) != len(names) or (fitted != names).any():
        unseen = [n for n in names if n not in set(fitted)]
        missing = [n for n in fitted if n not in set(names)]
        message = "The feature names should match those that were passed during fit.\n"
        if unseen:
            message += "Feature names unseen at fit time:\n" + "".join(f"- {n}\n" for n in unseen)
        if missing:
            message += "Feature names seen at fit time, yet now missing:\n" + "".join(
                f"- {n}\n" for n in missing
            )
        if not unseen and not missing:
            message += "Feature names must be in the same order as they were in fit.\n"
        raise ValueError(message)


def _as_matrix(X, estimator, reset):
    """X as a float64 C-contiguous 2-D array: the caller's own memory when it already is one (no
    copy), else one conversion. Messages follow scikit-learn's."""
    name = type(estimator).__name__
    if hasattr(X, "tocsr") or hasattr(X, "toarray"):
        raise TypeError(
            f"{name} does not accept sparse input (a {type(X).__name__}); "
            "pass a dense array, e.g. X.toarray()"
        )
    array = np.asarray(X)
    if np.iscomplexobj(array):
        raise ValueError("Complex data not supported")
    if array.dtype.kind not in "biuf":
        # numpy's own TypeError / ValueError name the value that is not a number.
        array = array.astype(np.float64)
    if array.ndim != 2:
        raise ValueError(
            f"Expected 2D array, got {array.ndim}D array instead: shape {array.shape}. "
            "Reshape your data either using array.reshape(-1, 1) if your data has a single "
            "feature or array.reshape(1, -1) if it contains a single sample."
        )
    n_rows, n_cols = array.shape
    if n_rows == 0:
        raise ValueError(
            f"Found array with 0 sample(s) (shape={array.shape}) while a minimum of 1 is "
            f"required by {name}."
        )
    if n_cols == 0:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={array.shape}) while a minimum of 1 is "
            f"required by {name}."
        )
    _check_feature_names(X, estimator, reset)
    if reset:
        estimator.n_features_in_ = n_cols
    else:
        expected = estimator.n_features_in_
        if n_cols != expected:
            raise ValueError(
                f"X has {n_cols} features, but {name} is expecting {expected} features as input."
            )
    return np.ascontiguousarray(array, dtype=np.float64)


class _OutlierDetector(_Params, _OutlierBase, _Base):
    """What both detectors share: scores from the fitted core model."""

    def _check_fitted(self):
        if getattr(self, "_model", None) is None:
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )

    def _score_samples(self, X):
        self._check_fitted()
        return self._model.score_samples(_as_matrix(X, self, reset=False))

    def _decision_function(self, X):
        return self._score_samples(X) - self.offset_

    def _predict(self, X):
        return np.where(self._decision_function(X) < 0, -1, 1)

    def __sklearn_is_fitted__(self):
        return getattr(self, "_model", None) is not None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Like scikit-learn's own detectors: dense float input, no NaN.
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        return tags


class IsolationForest(_OutlierDetector):
    """Isolation Forest, as scikit-learn's `sklearn.ensemble.IsolationForest`.

    Parameters (names, defaults and meaning as scikit-learn's):
      n_estimators   trees, 1 to 10 000
      max_samples    "auto" (min(256, n_samples)), an int (rows per tree) or a float (a fraction)
      contamination  "auto" (offset_ = -0.5) or the share of anomalies in (0, 0.5]
      max_features   fraction of the features each tree draws, in (0, 1]
      bootstrap      draw each tree's rows with replacement
      random_state   None (numpy's global generator), an int seed or a numpy RandomState

    Fitted attributes: offset_, max_samples_, n_features_in_ (and feature_names_in_ when X is
    a DataFrame with string column names).

    There is no n_jobs: scoring always uses every core (up to 8 threads), and the scores do not
    depend on the number of threads.
    """

    def __init__(
        self,
        n_estimators=100,
        max_samples="auto",
        contamination="auto",
        max_features=1.0,
        bootstrap=False,
        random_state=None,
    ):
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.contamination = contamination
        self.max_features = max_features
        self.bootstrap = bootstrap
        self.random_state = random_state

    def fit(self, X, y=None):
        """Fits the forest on X (n_samples, n_features); y is ignored. (No sample_weight:
        the core's trees weigh every drawn row alike.)"""
        X = _as_matrix(X, self, reset=True)
        if isinstance(self.max_features, (bool, np.bool_)) or not isinstance(
            self.max_features, numbers.Real
        ):
            raise _invalid(
                f"max_features: expected a fraction in (0, 1], found {self.max_features!r}"
            )
        self._model = _mcp_train.IsolationForestModel.fit(
            X,
            n_estimators=_text("n_estimators", self.n_estimators),
            max_samples=_text("max_samples", self.max_samples),
            contamination=_text("contamination", self.contamination),
            max_features=float(self.max_features),
            bootstrap=bool(self.bootstrap),
            random_state=_seed(self.random_state),
        )
        self.offset_ = self._model.offset
        self.max_samples_ = self._model.max_samples
        return self

    def score_samples(self, X):
        """The anomaly score of each row, the opposite of the paper's: lower is more abnormal."""
        return self._score_samples(X)

    def decision_function(self, X):
        """score_samples(X) - offset_: negative for outliers."""
        return self._decision_function(X)

    def predict(self, X):
        """-1 for outliers, 1 for inliers."""
        return self._predict(X)

    def fit_predict(self, X, y=None, **kwargs):
        """fit(X).predict(X)."""
        return self.fit(X, y, **kwargs).predict(X)

    @classmethod
    def from_sklearn(cls, forest):
        """The forest of a fitted `sklearn.ensemble.IsolationForest`, tree for tree: it scores
        as scikit-learn does. Each tree's split features are mapped back to the original
        columns through `estimators_features_`."""
        import json

        trees = []
        for estimator, features in zip(forest.estimators_, forest.estimators_features_):
            tree = estimator.tree_
            mapped = [int(features[f]) if f >= 0 else int(f) for f in tree.feature]
            trees.append(
                {
                    "children_left": tree.children_left.tolist(),
                    "children_right": tree.children_right.tolist(),
                    "feature": mapped,
                    "threshold": tree.threshold.tolist(),
                    "n_node_samples": tree.n_node_samples.tolist(),
                }
            )
        return cls._from_parts(
            json.dumps(trees).encode(),
            forest.max_samples_,
            forest.offset_,
            forest.n_features_in_,
            params={
                "n_estimators": forest.n_estimators,
                "max_samples": forest.max_samples,
                "contamination": forest.contamination,
                "max_features": forest.max_features,
                "bootstrap": forest.bootstrap,
                "random_state": forest.random_state,
            },
        )

    @classmethod
    def from_trees(cls, trees, max_samples_, offset_, n_features_in_):
        """A forest from trees in scikit-learn's flat layout: a list of dicts with
        children_left, children_right, feature (original column), threshold and
        n_node_samples — the form of core/tests/fixtures/sklearn_iforest.json. Checked."""
        import json

        return cls._from_parts(json.dumps(trees).encode(), max_samples_, offset_, n_features_in_)

    @classmethod
    def _from_parts(cls, trees_json, max_samples_, offset_, n_features_in_, params=None):
        model = _mcp_train.IsolationForestModel.from_parts(
            trees_json, int(max_samples_), float(offset_), int(n_features_in_)
        )
        estimator = cls(**(params or {}))
        estimator._model = model
        estimator.offset_ = model.offset
        estimator.max_samples_ = model.max_samples
        estimator.n_features_in_ = model.n_features
        return estimator


class _NoveltyOnly:
    """A method available only when novelty=True, as scikit-learn's `available_if`: with
    novelty=False `hasattr` is False and a call says why."""

    def __init__(self, method, novelty):
        self.method = method
        self.novelty = novelty
        self.__doc__ = method.__doc__

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        if bool(instance.novelty) != self.novelty:
            if self.novelty:
                message = (
                    f"{self.name} is not available when novelty=False, use fit_predict if you "
                    "want to predict on training data. Use novelty=True if you want to use LOF "
                    f"for novelty detection and {self.name} on new unseen data."
                )
            else:
                message = (
                    "fit_predict is not available when novelty=True. Use novelty=False if you "
                    "want to predict on the training set."
                )
            raise AttributeError(message)
        return self.method.__get__(instance, owner)


class LocalOutlierFactor(_OutlierDetector):
    """Local Outlier Factor, as scikit-learn's `sklearn.neighbors.LocalOutlierFactor` with the
    default euclidean metric.

    Parameters:
      n_neighbors    neighbours per row, 1 to 10 000 (capped at n_samples - 1)
      contamination  "auto" (offset_ = -1.5) or the share of anomalies in (0, 0.5]
      novelty        False: outlier detection on the training set (fit_predict,
                     negative_outlier_factor_); True: score_samples, decision_function and
                     predict on new data — as in scikit-learn
      max_samples    None: keep every training row (scikit-learn's behaviour); an int: keep a
                     seeded subsample of that many rows (LOF costs O(n^2) to fit); only with
                     novelty=True
      random_state   seed of that subsample (None, int or RandomState)

    Fitted attributes: offset_, negative_outlier_factor_, n_neighbors_, n_samples_fit_,
    n_features_in_ (and feature_names_in_ for a DataFrame with string column names).
    """

    def __init__(
        self,
        n_neighbors=20,
        contamination="auto",
        novelty=False,
        max_samples=None,
        random_state=None,
    ):
        self.n_neighbors = n_neighbors
        self.contamination = contamination
        self.novelty = novelty
        self.max_samples = max_samples
        self.random_state = random_state

    def fit(self, X, y=None):
        """Fits on X (n_samples, n_features); y is ignored."""
        X = _as_matrix(X, self, reset=True)
        max_samples = self.max_samples
        if max_samples is not None:
            if isinstance(max_samples, (bool, np.bool_)) or not isinstance(
                max_samples, numbers.Integral
            ):
                raise _invalid(
                    f"max_samples: expected None or a whole number >= 2, found {max_samples!r}"
                )
            if not self.novelty and max_samples < X.shape[0]:
                raise _invalid(
                    f"max_samples: {max_samples} keeps fewer rows than the {X.shape[0]} "
                    "fitted, so fit_predict could not score every one; use novelty=True "
                    "or max_samples=None"
                )
            max_samples = max(int(max_samples), 0)
        if X.shape[0] < 2:
            # The core refuses this too; scikit-learn's words, which its checks look for.
            raise _invalid(
                f"LocalOutlierFactor needs at least 2 samples, found n_samples = {X.shape[0]}"
            )
        self._model = _mcp_train.LocalOutlierFactorModel.fit(
            X,
            n_neighbors=_text("n_neighbors", self.n_neighbors),
            contamination=_text("contamination", self.contamination),
            max_samples=max_samples,
            random_state=_seed(self.random_state),
        )
        self.offset_ = self._model.offset
        self.negative_outlier_factor_ = self._model.negative_outlier_factor
        self.n_neighbors_ = self._model.n_neighbors
        self.n_samples_fit_ = self._model.n_samples_fit
        return self

    def _fit_predict(self, X, y=None):
        """Fits on X and labels each training row: -1 outlier, 1 inlier (novelty=False)."""
        self.fit(X)
        return np.where(self.negative_outlier_factor_ < self.offset_, -1, 1)

    def _novelty_score_samples(self, X):
        """The opposite of the LOF of each row of new data: lower is more abnormal."""
        return self._score_samples(X)

    def _novelty_decision_function(self, X):
        """score_samples(X) - offset_: negative for outliers."""
        return self._decision_function(X)

    def _novelty_predict(self, X):
        """-1 for outliers, 1 for inliers, on new data."""
        return self._predict(X)

    fit_predict = _NoveltyOnly(_fit_predict, novelty=False)
    score_samples = _NoveltyOnly(_novelty_score_samples, novelty=True)
    decision_function = _NoveltyOnly(_novelty_decision_function, novelty=True)
    predict = _NoveltyOnly(_novelty_predict, novelty=True)
