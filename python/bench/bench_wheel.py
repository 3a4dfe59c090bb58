#!/usr/bin/env python3
"""The wheel's IsolationForest against scikit-learn's on the same numpy array.

    scripts/py.sh bench [ROWS]        # builds the release wheel, installs it in a fresh venv
    python bench_wheel.py --rows 1000000 --features 30

One run each, wall clock (time.perf_counter): fit and score_samples of
mcp_train.IsolationForest(random_state=0) and of sklearn.ensemble.IsolationForest(n_jobs=2,
random_state=0), both with 100 trees and max_samples "auto", on one C-contiguous float64 array
(standard Gaussian inliers, ~1% rows shifted by +/-3 per feature). Also the share of the 1% that
each flags among its lowest-scoring 1% (both should be high) and the load average, since the
machine may be shared: rerun when it was busy.
"""

import argparse
import os
import platform
import time

import numpy as np

import mcp_train


def data(rows, features, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, features))
    outliers = rng.random(rows) < 0.01
    X[outliers] += rng.choice([-3.0, 3.0], size=(int(outliers.sum()), features))
    return np.ascontiguousarray(X), outliers


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def caught(scores, outliers):
    lowest = np.argsort(scores)[: int(outliers.sum())]
    return outliers[lowest].mean()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import sklearn
    from sklearn.ensemble import IsolationForest as SkIsolationForest

    X, outliers = data(args.rows, args.features, args.seed)
    print(
        f"{args.rows:,} x {args.features} float64 ({X.nbytes / 2**20:.0f} MiB); "
        f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}; "
        f"Python {platform.python_version()}, numpy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}, mcp_train {mcp_train.__version__}"
    )

    ours = mcp_train.IsolationForest(random_state=0)
    ours_fit, _ = timed(lambda: ours.fit(X))
    ours_score, ours_scores = timed(lambda: ours.score_samples(X))

    theirs = SkIsolationForest(n_estimators=100, n_jobs=2, random_state=0)
    theirs_fit, _ = timed(lambda: theirs.fit(X))
    theirs_score, theirs_scores = timed(lambda: theirs.score_samples(X))

    ours_total = ours_fit + ours_score
    theirs_total = theirs_fit + theirs_score
    print(f"{'':34}{'fit s':>9}{'score s':>10}{'total s':>10}{'outliers caught':>17}")
    for name, fit, score, scores in [
        ("mcp_train.IsolationForest", ours_fit, ours_score, ours_scores),
        ("sklearn IsolationForest(n_jobs=2)", theirs_fit, theirs_score, theirs_scores),
    ]:
        print(
            f"{name:34}{fit:9.3f}{score:10.3f}{fit + score:10.3f}"
            f"{caught(scores, outliers):16.1%}"
        )
    print(
        f"speed-up fit + score_samples: {theirs_total / ours_total:.1f}x "
        f"(fit {theirs_fit / ours_fit:.1f}x, score_samples {theirs_score / ours_score:.1f}x); "
        f"load average now {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
