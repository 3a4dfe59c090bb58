#!/usr/bin/env python3
"""Writes core/tests/fixtures/sklearn_lof.json: Local Outlier Factors fitted by scikit-learn.

The Rust test `core/tests/sklearn_lof_exactness.rs` fits our LOF on the same training rows and
checks that `negative_outlier_factor_`, `offset_`, `score_samples` and `decision_function` agree
with scikit-learn to 1e-10, and `predict` exactly. Python is only needed to regenerate the file:

    pip install scikit-learn numpy
    python3 scripts/sklearn_lof_fixture.py

The values are continuous random numbers, so no two distances tie and the neighbour sets are
unambiguous. Floats are written by Python's json module (shortest round-tripping repr), so the
Rust side reads back exactly the float64 values scikit-learn saw and produced.
"""

import json
import os
import sys
import warnings

import numpy as np
import sklearn
from sklearn.neighbors import LocalOutlierFactor

OUT = os.path.normpath(
    os.path.join(
        os.path.dirname(os.path.abspath(__file__)),
        "..",
        "core",
        "tests",
        "fixtures",
        "sklearn_lof.json",
    )
)

# Each config is fitted on the same data.
CONFIGS = [
    {"name": "default_auto", "n_neighbors": 20, "contamination": "auto"},
    {"name": "k10_contamination_0.1", "n_neighbors": 10, "contamination": 0.1},
    # More neighbours than rows: scikit-learn warns and uses n_samples - 1 (and, as k is over
    # half the rows, brute force instead of a k-d tree).
    {"name": "k500_capped_contamination_0.05", "n_neighbors": 500, "contamination": 0.05},
]


def dataset():
    """200 training rows x 4 features (two clusters and a few far rows), and 60 test rows."""
    rng = np.random.RandomState(20240917)
    n_features = 4
    a = rng.randn(120, n_features)
    b = 0.5 * rng.randn(72, n_features) + np.array([4.0, -3.0, 1.0, 2.0])
    far = rng.uniform(-9.0, 9.0, size=(8, n_features))
    train = np.vstack([a, b, far])
    train = train[rng.permutation(len(train))]

    fresh_a = rng.randn(25, n_features)
    fresh_b = 0.5 * rng.randn(15, n_features) + np.array([4.0, -3.0, 1.0, 2.0])
    fresh_far = rng.uniform(-12.0, 12.0, size=(12, n_features))
    # Training rows again: as new data they count themselves as a neighbour at distance 0.
    seen = train[rng.choice(len(train), size=8, replace=False)]
    test = np.vstack([fresh_a, fresh_b, fresh_far, seen])
    return train, test


def floats(a):
    return [float(v) for v in np.asarray(a, dtype=np.float64).ravel()]


def ints(a):
    return [int(v) for v in np.asarray(a).ravel()]


def main():
    train, test = dataset()
    cases = []
    for cfg in CONFIGS:
        params = {k: v for k, v in cfg.items() if k != "name"}
        lof = LocalOutlierFactor(novelty=True, **params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            lof.fit(train)
        cases.append(
            {
                "name": cfg["name"],
                "params": params,
                "fit_method": lof._fit_method,
                "n_neighbors_": int(lof.n_neighbors_),
                "offset_": float(lof.offset_),
                "negative_outlier_factor_": floats(lof.negative_outlier_factor_),
                "score_samples": floats(lof.score_samples(test)),
                "decision_function": floats(lof.decision_function(test)),
                "predict": ints(lof.predict(test)),
            }
        )
    out = {
        "generator": "scripts/sklearn_lof_fixture.py",
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
    if size > 300_000:
        sys.exit("fixture is larger than 300 KB; use fewer rows")


if __name__ == "__main__":
    main()
