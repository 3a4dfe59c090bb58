#!/usr/bin/env python3
"""Writes core/tests/fixtures/sklearn_iforest.json: Isolation Forests fitted by scikit-learn.

The Rust test `core/tests/sklearn_exactness.rs` loads the fitted trees from this file, scores the
same rows and checks that `score_samples`, `decision_function` and `predict` agree with
scikit-learn to 1e-12 (and exactly for `predict`). Python is only needed to regenerate the file:

    pip install scikit-learn numpy
    python3 scripts/sklearn_iforest_fixture.py

Floats are written by Python's json module, which emits the shortest repr that round-trips, so
the Rust side reads back exactly the float64 values scikit-learn saw and produced.
"""

import json
import os
import sys

import numpy as np
import sklearn
from sklearn.ensemble import IsolationForest

OUT = os.path.normpath(
    os.path.join(
        os.path.dirname(os.path.abspath(__file__)),
        "..",
        "core",
        "tests",
        "fixtures",
        "sklearn_iforest.json",
    )
)

# Each config is fitted on the same data. Sizes are kept small so the fixture stays < 1 MB.
CONFIGS = [
    {
        "name": "auto_contamination_auto_max_samples",
        "n_estimators": 30,
        "max_samples": "auto",
        "contamination": "auto",
        "max_features": 1.0,
        "bootstrap": False,
        "random_state": 7,
    },
    {
        "name": "contamination_0.1_max_samples_64",
        "n_estimators": 50,
        "max_samples": 64,
        "contamination": 0.1,
        "max_features": 1.0,
        "bootstrap": False,
        "random_state": 11,
    },
    {
        # Exercises the mapping of per-tree feature subsets back to the original columns and
        # bootstrap leaves whose n_node_samples count distinct rows.
        "name": "contamination_0.05_feature_subsets_bootstrap",
        "n_estimators": 20,
        "max_samples": 0.4,
        "contamination": 0.05,
        "max_features": 0.6,
        "bootstrap": True,
        "random_state": 3,
    },
]


def dataset():
    """300 training rows x 5 features with a few far outliers, and 50 test rows."""
    rng = np.random.RandomState(20240601)
    n_train, n_features = 300, 5
    inliers = rng.randn(n_train - 12, n_features)
    inliers[:, 1] = 3.0 * inliers[:, 1] + 10.0
    # A discrete column, so that some nodes see it as constant.
    inliers[:, 4] = rng.randint(0, 3, size=n_train - 12).astype(np.float64)
    outliers = rng.uniform(-8.0, 8.0, size=(12, n_features))
    outliers[:, 4] = rng.randint(0, 3, size=12).astype(np.float64)
    train = np.vstack([inliers, outliers])
    train = train[rng.permutation(n_train)]

    fresh = rng.randn(30, n_features)
    fresh[:, 1] = 3.0 * fresh[:, 1] + 10.0
    fresh[:, 4] = rng.randint(0, 3, size=30).astype(np.float64)
    far = rng.uniform(-10.0, 10.0, size=(10, n_features))
    # Training rows again: their values sit exactly on the minima thresholds were drawn from.
    seen = train[rng.choice(n_train, size=10, replace=False)]
    test = np.vstack([fresh, far, seen])
    return train, test


def floats(a):
    return [float(v) for v in np.asarray(a, dtype=np.float64).ravel()]


def ints(a):
    return [int(v) for v in np.asarray(a).ravel()]


def tree_arrays(estimator, features):
    tree = estimator.tree_
    leaf = tree.children_left == -1
    # Trees index the columns of X[:, features]; map them back to the original columns.
    feature = np.where(leaf, tree.feature, np.asarray(features)[np.maximum(tree.feature, 0)])
    return {
        "children_left": ints(tree.children_left),
        "children_right": ints(tree.children_right),
        "feature": ints(feature),
        "threshold": floats(tree.threshold),
        "n_node_samples": ints(tree.n_node_samples),
    }


def main():
    train, test = dataset()
    cases = []
    for cfg in CONFIGS:
        params = {k: v for k, v in cfg.items() if k != "name"}
        forest = IsolationForest(**params).fit(train)
        cases.append(
            {
                "name": cfg["name"],
                "params": params,
                "max_samples_": int(forest.max_samples_),
                "offset_": float(forest.offset_),
                "trees": [
                    tree_arrays(e, f)
                    for e, f in zip(forest.estimators_, forest.estimators_features_)
                ],
                "train_score_samples": floats(forest.score_samples(train)),
                "score_samples": floats(forest.score_samples(test)),
                "decision_function": floats(forest.decision_function(test)),
                "predict": ints(forest.predict(test)),
            }
        )
    out = {
        "generator": "scripts/sklearn_iforest_fixture.py",
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "n_features": int(train.shape[1]),
        "train": [floats(r) for r in train],
        "test": [floats(r) for r in test],
        "cases": cases,
    }
    with open(OUT, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    size = os.path.getsize(OUT)
    print(f"wrote {OUT} ({size} bytes, scikit-learn {sklearn.__version__})")
    if size > 1_000_000:
        sys.exit("fixture is larger than 1 MB; reduce n_estimators or max_samples")


if __name__ == "__main__":
    main()
