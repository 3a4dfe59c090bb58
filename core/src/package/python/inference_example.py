#!/usr/bin/env python3
"""Score WiFi-log feature vectors with the mcp-train model in this deployment package.

Needs Python 3.8 or newer and nothing else: no third-party package. The scores are the ones
``mcp-train score`` computes, bit for bit: the same float operations in the same order, with
pure-Python ports of the two libm routines the Rust scorer calls (``log`` and ``exp2``), so
the platform's maths library plays no part.

As a library::

    from inference_example import ModelInference

    model = ModelInference()              # the folder holding this file; or ModelInference(path)
    model.feature_names                   # the features every row must have, in model order
    results = model.predict([{"hour_of_day": 13, "day_of_week": 2, ...}, ...])
    results[0]                            # {"score": -0.43, "decision": 0.07, "is_anomaly": False}
    model.score_samples(rows)             # just the scores
    model.predict_one(row)                # one dict in, one dict out

A row is a dict {feature name: number}. Every feature must be there (a missing one raises
``FeatureError`` naming the row and the feature; it is never taken as 0.0), every value must be
a finite number (not a string, not a bool), and keys that are not features are ignored. A row is
an anomaly when ``decision = score - threshold < 0``; lower scores are more abnormal.

From the command line::

    python3 inference_example.py features.csv          # CSV out: index,score,decision,is_anomaly
    python3 inference_example.py rows.json --json      # JSON list out
    mcp-train features export.json -o - | python3 inference_example.py
    python3 inference_example.py --package DIR rows.ndjson   # the model of another package folder

INPUT is a CSV file with a header row (as ``mcp-train features`` writes it; other columns are
ignored), a JSON file holding a list of feature dicts, or NDJSON (one dict per line). ``-`` or no
INPUT reads standard input; CSV or JSON is told by the first non-blank character. ``index`` is
the 0-based data row (``mcp-train score`` on an export counts records, dropped invalid ones
included, so the two agree when none was dropped); floats are printed with ``repr()``, so they
read back exactly, and compare value for value with ``mcp-train score``'s (which writes them
without exponents). In JSON output an infinite score, possible with LOF for absurdly large
values, is written as null, as ``mcp-train`` does. Errors go to standard error as one line, with
exit status 1.

Speed: Isolation Forest takes a fraction of a millisecond per row. LOF compares each row with
every training row the model keeps (at most 10,000), dropping a training row as soon as its
partial distance exceeds a bound on the k-th nearest: roughly 1 to 2 ms per row per thousand
training rows, so score large inputs in batches.
"""

import argparse
import csv
import heapq
import io
import json
import math
import numbers
import os
import struct
import sys
from itertools import compress
from operator import add, mul

__all__ = ["ModelInference", "PackageError", "FeatureError"]

MODEL_FORMAT = "mcp-train-model"
MODEL_FORMAT_VERSION = 1
MODEL_FILE = "model.json"
SCALER_FILE = "scaler.json"
MANIFEST_FILE = "deployment_manifest.json"

_INF = float("inf")


class PackageError(Exception):
    """A package file is missing, unreadable, malformed or disagrees with another one.

    ``file`` is the file at fault; the message starts with it.
    """

    def __init__(self, file, reason):
        Exception.__init__(self, "%s: %s" % (file, reason))
        self.file = file
        self.reason = reason


class FeatureError(ValueError):
    """A row cannot be scored: a feature is missing or a value is not a finite number.

    ``row`` is the 0-based index of the row at fault and ``features`` the features concerned.
    """

    def __init__(self, message, row=None, features=()):
        ValueError.__init__(self, message)
        self.row = row
        self.features = list(features)


# ---------------------------------------------------------------------------------------------
# Reading the package


def _reject_duplicate_keys(pairs):
    keys = set()
    for key, _ in pairs:
        if key in keys:
            raise ValueError("duplicate key %r" % key)
        keys.add(key)
    return dict(pairs)


def _read_json(folder, name):
    path = os.path.join(folder, name)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise PackageError(name, "cannot read %s: %s" % (path, e.strerror or e))
    try:
        return json.loads(data.decode("utf-8"), object_pairs_hook=_reject_duplicate_keys)
    except UnicodeDecodeError as e:
        raise PackageError(name, "not UTF-8 text: %s" % e)
    except ValueError as e:
        raise PackageError(name, "not valid JSON: %s" % e)


class _Fields:
    """Typed access to a JSON object; every error names the file and the key path."""

    def __init__(self, file, obj, path=""):
        self.file = file
        self.path = path
        if not isinstance(obj, dict):
            raise self.error("is not a JSON object")
        self.obj = obj

    def error(self, reason, key=None):
        where = self.path if key is None else (self.path + "." + key if self.path else key)
        return PackageError(self.file, (where + " " if where else "") + reason)

    def get(self, key):
        if key not in self.obj:
            raise self.error("is missing", key)
        return self.obj[key]

    def child(self, key):
        return _Fields(self.file, self.get(key), self.path + "." + key if self.path else key)

    def string(self, key):
        v = self.get(key)
        if not isinstance(v, str):
            raise self.error("is not a string", key)
        return v

    def integer(self, key, minimum=0):
        v = self.get(key)
        if not _is_int(v) or v < minimum:
            raise self.error("is not an integer >= %d" % minimum, key)
        return v

    def number(self, key):
        v = self.get(key)
        if not _is_finite(v):
            raise self.error("is not a finite number", key)
        return float(v)

    def numbers(self, key, length=None):
        v = self.get(key)
        if not isinstance(v, list):
            raise self.error("is not a list", key)
        for i, x in enumerate(v):
            if not _is_finite(x):
                raise self.error("[%d] is not a finite number" % i, key)
        if length is not None and len(v) != length:
            raise self.error("has %d values, expected %d" % (len(v), length), key)
        return [float(x) for x in v]

    def integers(self, key, length=None):
        v = self.get(key)
        if not isinstance(v, list):
            raise self.error("is not a list", key)
        for i, x in enumerate(v):
            if not _is_int(x):
                raise self.error("[%d] is not an integer" % i, key)
        if length is not None and len(v) != length:
            raise self.error("has %d values, expected %d" % (len(v), length), key)
        return v

    def names(self, key):
        v = self.get(key)
        if not isinstance(v, list) or not v or not all(isinstance(s, str) for s in v):
            raise self.error("is not a non-empty list of names", key)
        if len(set(v)) != len(v):
            dup = sorted({s for s in v if v.count(s) > 1})
            raise self.error("names a feature twice: %s" % ", ".join(dup), key)
        return list(v)


def _listing(names):
    """Names for an error message: all of them, or the first eight and a count."""
    if len(names) <= 8:
        return ", ".join(names)
    return "%s and %d more" % (", ".join(names[:8]), len(names) - 8)


def _show(v):
    """A value for an error message, cut short if long."""
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_finite(v):
    """Whether a JSON value is a finite number (an int too large for a float is not)."""
    if not _is_number(v):
        return False
    try:
        return math.isfinite(v)
    except OverflowError:
        return False


class ModelInference:
    """The model of a deployment package, ready to score feature dicts.

    ``package_dir`` is the unpacked package folder (default: the folder holding this file).
    Loading reads ``model.json``, ``scaler.json`` and ``deployment_manifest.json`` and checks
    that they agree; any problem raises ``PackageError`` naming the file. It does not check the
    files' hashes: ``validate_model.py`` does that.

    ``feature_names``, ``detector`` (``isolation_forest`` or ``lof``), ``threshold`` and
    ``model_version`` describe the model.
    """

    def __init__(self, package_dir=None):
        if package_dir is None:
            package_dir = os.path.dirname(os.path.abspath(__file__))
        self.package_dir = os.fspath(package_dir)
        model = _read_json(self.package_dir, MODEL_FILE)
        scaler = _read_json(self.package_dir, SCALER_FILE)
        manifest = _read_json(self.package_dir, MANIFEST_FILE)

        m = _Fields(MODEL_FILE, model)
        fmt = m.get("format")
        if fmt != MODEL_FORMAT:
            raise m.error("is %r, not %r" % (fmt, MODEL_FORMAT), "format")
        version = m.get("format_version")
        if not _is_int(version) or version != MODEL_FORMAT_VERSION:
            raise m.error(
                "is %r; this script reads version %d" % (version, MODEL_FORMAT_VERSION),
                "format_version",
            )
        self.model_version = m.string("version")
        names = m.child("input").names("features")
        n = len(names)
        model_scaler = m.child("scaler")
        mean = model_scaler.numbers("mean", n)
        scale = model_scaler.numbers("scale", n)
        for j, s in enumerate(scale):
            if not s > 0.0:
                raise model_scaler.error("[%d] is not positive" % j, "scale")
        threshold = m.child("threshold").number("offset")
        detector = m.child("detector")
        kind = detector.string("type")
        if kind == "isolation_forest":
            self._detector = _IsolationForest(detector.child("model"), n)
        elif kind == "lof":
            self._detector = _Lof(detector.child("model"), n)
        else:
            raise detector.error(
                "is %r; this script scores isolation_forest and lof" % kind, "type"
            )
        if self._detector.offset != threshold:
            raise m.error(
                "is %r but detector.model.offset is %r" % (threshold, self._detector.offset),
                "threshold.offset",
            )

        s = _Fields(SCALER_FILE, scaler)
        if s.get("type") != "standard_scaler":
            raise s.error("is %r, not 'standard_scaler'" % (s.get("type"),), "type")
        if s.names("features") != names:
            raise s.error("differ from model.json input.features", "features")
        if s.numbers("mean", n) != mean:
            raise s.error("differs from model.json scaler.mean", "mean")
        if s.numbers("scale", n) != scale:
            raise s.error("differs from model.json scaler.scale", "scale")

        c = _Fields(MANIFEST_FILE, manifest).child("inference_config")
        if c.names("feature_names") != names:
            raise c.error("differ from model.json input.features", "feature_names")
        if c.integer("n_features") != n:
            raise c.error("is %d, but model.json has %d features" % (c.get("n_features"), n),
                          "n_features")
        if c.number("threshold") != threshold:
            raise c.error(
                "is %r, but model.json threshold.offset is %r" % (c.get("threshold"), threshold),
                "threshold",
            )
        if c.string("detector") != kind:
            raise c.error("is %r, but model.json has %r" % (c.get("detector"), kind), "detector")
        if "decision_threshold" in c.obj and c.number("decision_threshold") != 0.0:
            raise c.error("is %r; decisions are compared with 0.0" % c.get("decision_threshold"),
                          "decision_threshold")

        self._names = names
        self._mean = mean
        self._scale = scale
        self._threshold = threshold
        self._kind = kind

    @property
    def feature_names(self):
        """The features every row must have, in model order (a new list)."""
        return list(self._names)

    @property
    def detector(self):
        """``isolation_forest`` or ``lof``."""
        return self._kind

    @property
    def threshold(self):
        """The score threshold: a row is an anomaly when its score is below it."""
        return self._threshold

    def score_samples(self, rows):
        """The score of each row (a list of feature dicts); lower is more abnormal."""
        return self._detector.score_rows(self._scaled_rows(rows))

    def predict(self, rows):
        """``{"score", "decision", "is_anomaly"}`` for each row (a list of feature dicts)."""
        threshold = self._threshold
        out = []
        for score in self.score_samples(rows):
            decision = score - threshold
            out.append({"score": score, "decision": decision, "is_anomaly": decision < 0.0})
        return out

    def predict_one(self, row):
        """``predict`` for one feature dict."""
        return self.predict([row])[0]

    def _scaled_rows(self, rows):
        if hasattr(rows, "keys") or isinstance(rows, (str, bytes)):
            raise TypeError("rows must be a list of feature dicts; use predict_one for one dict")
        names, mean, scale = self._names, self._mean, self._scale
        out = []
        for i, row in enumerate(rows):
            if not hasattr(row, "keys") or not hasattr(row, "__getitem__"):
                raise FeatureError(
                    "row %d is a %s, not a dict of feature values" % (i, type(row).__name__), i
                )
            missing = [f for f in names if f not in row]
            if missing:
                raise FeatureError(
                    "row %d: missing feature%s: %s"
                    % (i, "s" if len(missing) > 1 else "", _listing(missing)),
                    i,
                    missing,
                )
            scaled = []
            for f, m, s in zip(names, mean, scale):
                v = row[f]
                if isinstance(v, bool) or not isinstance(v, numbers.Real):
                    raise FeatureError(
                        "row %d, feature %s: %s is not a number" % (i, f, _show(v)), i, [f]
                    )
                try:
                    x = float(v)
                except (OverflowError, ValueError, TypeError):
                    x = _INF
                if not math.isfinite(x):
                    raise FeatureError(
                        "row %d, feature %s: %s is not a finite number" % (i, f, _show(v)), i, [f]
                    )
                y = (x - m) / s
                if not math.isfinite(y):
                    raise FeatureError(
                        "row %d, feature %s: %s is too large to scale" % (i, f, _show(v)), i, [f]
                    )
                scaled.append(y)
            out.append(scaled)
        return out


# ---------------------------------------------------------------------------------------------
# Isolation Forest: scikit-learn's score_samples, as mcp-train computes it


_EULER_GAMMA = 0.5772156649015329


def _average_path_length(n):
    """c(n) = 2(ln(n - 1) + gamma) - 2(n - 1)/n, c(2) = 1, c(n <= 1) = 0, in Rust's order."""
    if n <= 1:
        return 0.0
    if n == 2:
        return 1.0
    n = float(n)
    return 2.0 * (_libm_log(n - 1.0) + _EULER_GAMMA) - 2.0 * (n - 1.0) / n


_F32 = struct.Struct("<f")


def _to_f32(v):
    """``v`` rounded to the nearest float32 (as Rust's ``as f32``; overflow gives infinity)."""
    try:
        return _F32.unpack(_F32.pack(v))[0]
    except OverflowError:
        return math.copysign(_INF, v)


class _IsolationForest:
    def __init__(self, m, n_features):
        if m.integer("n_features", 1) != n_features:
            raise m.error("is %d, but input.features has %d" % (m.get("n_features"), n_features),
                          "n_features")
        max_samples = m.integer("max_samples", 1)
        self.offset = m.number("offset")
        trees = m.get("trees")
        if not isinstance(trees, list) or not trees:
            raise m.error("is not a non-empty list", "trees")
        self._trees = []
        for t in range(len(trees)):
            self._trees.append(self._tree(_Fields(m.file, trees[t], "%s.trees[%d]" % (m.path, t)),
                                          n_features))
        # n_trees * c(max_samples), as scikit-learn's denominator.
        self._denominator = float(len(self._trees)) * _average_path_length(max_samples)

    @staticmethod
    def _tree(t, n_features):
        left = t.integers("children_left")
        n = len(left)
        if n == 0:
            raise t.error("has no nodes")
        right = t.integers("children_right", n)
        feature = t.integers("feature", n)
        threshold = t.get("threshold")
        if not isinstance(threshold, list) or len(threshold) != n:
            raise t.error("is not a list of %d numbers" % n, "threshold")
        samples = t.integers("n_node_samples", n)
        depth = [0] * n
        parents = [0] * n
        for i in range(n):
            a, b = left[i], right[i]
            if a == -1 and b == -1:
                continue
            for c in (a, b):
                if not i < c < n:
                    raise t.error("node %d: child %d is not a later node" % (i, c))
            if a == b:
                raise t.error("node %d: both children are node %d" % (i, a))
            if not 0 <= feature[i] < n_features:
                raise t.error("node %d: feature %d is not one of the %d features"
                              % (i, feature[i], n_features))
            v = threshold[i]
            if not _is_finite(v):
                raise t.error("node %d: threshold %r is not a finite number" % (i, v))
            for c in (a, b):
                parents[c] += 1
                depth[c] = depth[i] + 1
        for i in range(1, n):
            if parents[i] != 1:
                raise t.error("node %d has %d parents" % (i, parents[i]))
        for i, s in enumerate(samples):
            if s < 0:
                raise t.error("node %d: n_node_samples %d is negative" % (i, s))
        # What reaching a leaf adds to a row's path sum, in scikit-learn's order:
        # (depth counted in nodes + c(n_node_samples)) - 1.
        cache = {}
        value = [0.0] * n
        for i in range(n):
            if left[i] == -1:
                c = cache.get(samples[i])
                if c is None:
                    c = cache[samples[i]] = _average_path_length(samples[i])
                value[i] = (float(depth[i] + 1) + c) - 1.0
        return (left, right, feature, [float(v) for v in threshold], value)

    def score_rows(self, rows):
        out = []
        trees = self._trees
        denominator = self._denominator
        for row in rows:
            # The trees see every value rounded to float32, as scikit-learn's do; a row goes
            # left when that value is <= the node's (float64) threshold.
            x = [_to_f32(v) for v in row]
            total = 0.0
            for left, right, feature, threshold, value in trees:
                i = 0
                nxt = left[0]
                while nxt != -1:
                    i = nxt if x[feature[i]] <= threshold[i] else right[i]
                    nxt = left[i]
                total += value[i]
            quotient = total / denominator if denominator != 0.0 else 1.0
            out.append(-_libm_exp2(-quotient))
        return out


# ---------------------------------------------------------------------------------------------
# LOF (novelty mode): scikit-learn's score_samples, as mcp-train computes it

_LRD_EPSILON = 1e-10
_MAX_ABS_VALUE = 1e100
# Features summed for every training row before the first check of which rows are too far,
# and between two later checks.
_STRIDE = 8
_PRUNE_EVERY = 4


def _numpy_sum(a):
    """numpy's pairwise summation (``pairwise_sum_DOUBLE``), as ``np.mean`` sums a row."""
    n = len(a)
    if n < 8:
        s = 0.0
        for v in a:
            s += v
        return s
    if n <= 128:
        r = a[:8]
        whole = n - n % 8
        for i in range(8, whole, 8):
            r[0] += a[i]
            r[1] += a[i + 1]
            r[2] += a[i + 2]
            r[3] += a[i + 3]
            r[4] += a[i + 4]
            r[5] += a[i + 5]
            r[6] += a[i + 6]
            r[7] += a[i + 7]
        s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for v in a[whole:]:
            s += v
        return s
    half = n // 2
    half -= half % 8
    return _numpy_sum(a[:half]) + _numpy_sum(a[half:])


class _Lof:
    def __init__(self, m, n_features):
        d = m.integer("n_features", 1)
        if d != n_features:
            raise m.error("is %d, but input.features has %d" % (d, n_features), "n_features")
        k_distance = m.numbers("k_distance")
        n_train = len(k_distance)
        if n_train < 2:
            raise m.error("has %d training rows; LOF needs at least 2" % n_train, "k_distance")
        k = m.integer("n_neighbors", 1)
        if k > n_train - 1:
            raise m.error("%d is more than the %d training rows less one" % (k, n_train),
                          "n_neighbors")
        train = m.numbers("train", n_train * d)
        for i, v in enumerate(train):
            if abs(v) > _MAX_ABS_VALUE:
                raise m.error("value %r at row %d, column %d is beyond +-1e100"
                              % (v, i // d, i % d), "train")
        lrd = m.numbers("lrd", n_train)
        for i in range(n_train):
            if k_distance[i] < 0.0:
                raise m.error("[%d] is negative" % i, "k_distance")
            if not lrd[i] > 0.0:
                raise m.error("[%d] is not positive" % i, "lrd")
        self.offset = m.number("offset")
        self._k = k
        self._n = n_train
        self._k_distance = k_distance
        self._lrd = lrd
        # Column by column: the feature's distinct training values, and for each training row the
        # position of its value among them. A query squares (q_j - value) once per distinct
        # value (most features take few values) and looks the squares up row by row.
        self._values = []
        self._codes = []
        for j in range(d):
            column = train[j::d]
            values = sorted(set(column))
            position = {v: i for i, v in enumerate(values)}
            self._values.append(values)
            self._codes.append([position[v] for v in column])

    def _nearest(self, q, seeds):
        """The k training rows nearest to ``q``: sorted (squared distance, row) pairs.

        The squared distance is sum((q_j - p_j)^2) over the features in order, from 0.0, as
        mcp-train (and scikit-learn's KDTree) sums it; ties go to the lower row index. Every
        row's sum is built up feature by feature, in that order, so it is the same float; rows
        are dropped once their partial sum exceeds ``worst``, the k-th smallest full sum of a
        few likely rows (``seeds``, and those with the smallest partial sums): partial sums
        only grow, and k rows are at ``worst`` or nearer, so no dropped row is among the k
        nearest.
        """
        k, n = self._k, self._n
        codes = self._codes
        d = len(codes)
        squares = []
        for qj, values in zip(q, self._values):
            t = [qj - v for v in values]
            squares.append(list(map(mul, t, t)))
        first = min(d, _STRIDE)
        acc = list(map(squares[0].__getitem__, codes[0]))
        for j in range(1, first):
            acc = list(map(add, acc, map(squares[j].__getitem__, codes[j])))
        likely = set(seeds)
        likely.update(heapq.nsmallest(2 * k, range(n), key=acc.__getitem__))
        full = []
        for i in likely:
            s = acc[i]
            for j in range(first, d):
                s += squares[j][codes[j][i]]
            full.append(s)
        worst = heapq.nsmallest(k, full)[-1]
        active = range(n)
        j = first
        while True:
            keep = list(map(worst.__ge__, acc))
            active = list(compress(active, keep))
            acc = list(compress(acc, keep))
            if j == d:
                return heapq.nsmallest(k, zip(acc, active))
            stop = min(d, j + _PRUNE_EVERY)
            while j < stop:
                rows_codes = map(codes[j].__getitem__, active)
                acc = list(map(add, acc, map(squares[j].__getitem__, rows_codes)))
                j += 1

    def score_rows(self, rows):
        k = self._k
        k_float = float(k)
        k_distance = self._k_distance
        lrd = self._lrd
        out = []
        seeds = []
        for q in rows:
            best = self._nearest(q, seeds)
            seeds = [i for _, i in best]
            # Reachability distance max(d, k_distance[neighbour]); local reachability density
            # 1 / (mean + 1e-10); score = -mean(lrd[neighbour] / own lrd).
            reach = [max(math.sqrt(d2), k_distance[i]) for d2, i in best]
            own = 1.0 / (_numpy_sum(reach) / k_float + _LRD_EPSILON)
            if own == 0.0:
                # Distances overflowed to infinity: the row is infinitely far from everything.
                out.append(-_INF)
                continue
            ratios = [lrd[i] / own for _, i in best]
            out.append(-(_numpy_sum(ratios) / k_float))
        return out


# ---------------------------------------------------------------------------------------------
# libm, as the Rust scorer calls it: ports of the `libm` crate's (FreeBSD msun's) log and exp2,
# so that scores agree bit for bit whatever maths library this Python was built with.

_F64 = struct.Struct("<d")
_U64 = struct.Struct("<Q")


def _bits(x):
    return _U64.unpack(_F64.pack(x))[0]


def _from_bits(u):
    return _F64.unpack(_U64.pack(u))[0]


_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01


def _libm_log(x):
    """The natural logarithm, as FreeBSD's e_log.c (the `libm` crate's `log`)."""
    ui = _bits(x)
    hx = ui >> 32
    k = 0
    if hx < 0x00100000 or hx >> 31:
        if (ui << 1) & 0xFFFFFFFFFFFFFFFF == 0:
            return -_INF
        if hx >> 31:
            return float("nan")
        k -= 54
        x *= 18014398509481984.0  # 2**54: subnormal, scale up
        ui = _bits(x)
        hx = ui >> 32
    elif hx >= 0x7FF00000:
        return x
    elif hx == 0x3FF00000 and ui & 0xFFFFFFFF == 0:
        return 0.0
    # Reduce x into [sqrt(2)/2, sqrt(2)].
    hx += 0x3FF00000 - 0x3FE6A09E
    k += (hx >> 20) - 0x3FF
    hx = (hx & 0x000FFFFF) + 0x3FE6A09E
    x = _from_bits((hx << 32) | (ui & 0xFFFFFFFF))
    f = x - 1.0
    hfsq = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (_LG2 + w * (_LG4 + w * _LG6))
    t2 = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
    r = t2 + t1
    dk = float(k)
    return s * (hfsq + r) + dk * _LN2_LO - hfsq + f + dk * _LN2_HI


_EXP2_REDUX = _from_bits(0x4338000000000000) / 256.0
_EXP2_P1 = _from_bits(0x3FE62E42FEFA39EF)
_EXP2_P2 = _from_bits(0x3FCEBFBDFF82C575)
_EXP2_P3 = _from_bits(0x3FAC6B08D704A0A6)
_EXP2_P4 = _from_bits(0x3F83B2AB88F70400)
_EXP2_P5 = _from_bits(0x3F55D88003875C74)


def _libm_exp2(x):
    """2**x, as FreeBSD's s_exp2.c (the `libm` crate's `exp2`)."""
    ui = _bits(x)
    ix = (ui >> 32) & 0x7FFFFFFF
    if ix >= 0x408FF000:
        # |x| >= 1022 or NaN
        if ix >= 0x40900000 and not ui >> 63:
            return x * _from_bits(0x7FE0000000000000)  # overflow (or NaN)
        if ix >= 0x7FF00000:
            return -1.0 / x  # -inf gives 0
        if ui >> 63 and x <= -1075.0:
            return 0.0
    elif ix < 0x3C900000:
        return 1.0 + x  # |x| < 2**-54
    # Reduce x: x = k/256 + i0/256 + z, |z| <= 1/512.
    ui = _bits(x + _EXP2_REDUX)
    i0 = ((ui & 0xFFFFFFFF) + 128) & 0xFFFFFFFF
    ku = i0 // 256 * 256
    ki = (ku - (1 << 32) if ku >= (1 << 31) else ku) // 256
    i0 %= 256
    uf = _from_bits(ui) - _EXP2_REDUX
    z = x - uf
    # r = exp2(y) = exp2t[i0] * p(z - eps[i0])
    t = _EXP2_TABLE[2 * i0]
    z -= _EXP2_TABLE[2 * i0 + 1]
    r = t + t * z * (_EXP2_P1 + z * (_EXP2_P2 + z * (_EXP2_P3 + z * (_EXP2_P4 + z * _EXP2_P5))))
    return math.ldexp(r, ki)


# ---------------------------------------------------------------------------------------------
# Command line


def _read_rows(data, source):
    """Feature dicts from CSV, a JSON list or NDJSON bytes, and the CSV header (else None)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ValueError("%s: not UTF-8 text: %s" % (source, e))
    first = text.lstrip()[:1]
    if not first:
        raise ValueError("%s: no data" % source)
    if first not in ("[", "{"):
        return _read_csv(text, source)
    try:
        value = json.loads(text)
    except ValueError as e:
        if first == "[":
            raise ValueError("%s: not valid JSON: %s" % (source, e))
        value = None
    if value is None:
        # NDJSON: one object per line.
        value = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    value.append(json.loads(line))
                except ValueError as e:
                    raise ValueError("%s: line %d is not valid JSON: %s" % (source, n, e))
    elif isinstance(value, dict):
        value = [value]
    return value, None


def _read_csv(text, source):
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    if len(set(header)) != len(header):
        twice = sorted({name for name in header if header.count(name) > 1})
        raise ValueError("%s: the header names %s twice" % (source, ", ".join(twice)))
    rows = []
    for line in reader:
        if not line:
            continue
        i = len(rows)
        if len(line) != len(header):
            raise ValueError("%s: row %d has %d fields, the header has %d"
                             % (source, i, len(line), len(header)))
        row = {}
        for name, cell in zip(header, line):
            try:
                row[name] = float(cell)
            except ValueError:
                row[name] = cell  # not a number: an error if it is a feature
        rows.append(row)
    return rows, header


def _format_float(x):
    return repr(float(x))


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise _UsageError(message)


def main(argv=None):
    parser = _Parser(
        prog="inference_example.py",
        description="Score feature vectors with this package's model; CSV (or JSON) on stdout.",
    )
    parser.add_argument("input", nargs="?", default="-", metavar="INPUT",
                        help="CSV with a header, a JSON list of feature dicts, or NDJSON "
                             "('-' or nothing: standard input)")
    parser.add_argument("--json", action="store_true", help="write a JSON list instead of CSV")
    parser.add_argument("--package", metavar="DIR", default=None,
                        help="the package folder (default: the folder holding this script)")
    try:
        args = parser.parse_args(argv)
        if sys.version_info < (3, 8):
            raise _UsageError("Python 3.8 or newer is needed, this is %d.%d"
                              % sys.version_info[:2])
        model = ModelInference(args.package)
        if args.input == "-":
            data = sys.stdin.buffer.read()
            source = "stdin"
        else:
            source = args.input
            try:
                with open(args.input, "rb") as f:
                    data = f.read()
            except OSError as e:
                raise ValueError("%s: cannot read: %s" % (source, e.strerror or e))
        rows, header = _read_rows(data, source)
        if header is not None:
            absent = [f for f in model.feature_names if f not in header]
            if absent:
                raise FeatureError(
                    "%s: no column for feature%s %s"
                    % (source, "s" if len(absent) > 1 else "", _listing(absent)),
                    None,
                    absent,
                )
        results = model.predict(rows)
    except (_UsageError, PackageError, ValueError, OSError) as e:
        sys.stderr.write("inference_example.py: error: %s\n" % e)
        return 1
    try:
        if args.json:
            listing = [
                {
                    "index": i,
                    "score": r["score"] if math.isfinite(r["score"]) else None,
                    "decision": r["decision"] if math.isfinite(r["decision"]) else None,
                    "is_anomaly": r["is_anomaly"],
                }
                for i, r in enumerate(results)
            ]
            sys.stdout.write(json.dumps(listing, allow_nan=False) + "\n")
        else:
            lines = ["index,score,decision,is_anomaly\n"]
            for i, r in enumerate(results):
                lines.append("%d,%s,%s,%d\n" % (i, _format_float(r["score"]),
                                                 _format_float(r["decision"]),
                                                 r["is_anomaly"]))
            sys.stdout.write("".join(lines))
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (say, `| head`): not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


# exp2(i/256 + eps) and eps for i in -128..127, from FreeBSD's s_exp2.c (as 64-bit patterns).
_EXP2_TABLE_BITS = """
    3fe6a09e667f3d5d 3d39880000000000 3fe6b052fa751744 3cd8000000000000
    3fe6c012750bd9fe bd28780000000000 3fe6cfdcddd476bf 3d1ec00000000000
    3fe6dfb23c651a29 bcd8000000000000 3fe6ef9298593ae3 bcbc000000000000
    3fe6ff7df9519386 bd2fd80000000000 3fe70f7466f42da3 bd2c880000000000
    3fe71f75e8ec5fc3 3d13c00000000000 3fe72f8286eacf05 bd38300000000000
    3fe73f9a48a58152 bd00c00000000000 3fe74fbd35d7ccfc 3d2f880000000000
    3fe75feb564267f1 3d03e00000000000 3fe77024b1ab6d48 bd27d00000000000
    3fe780694fde5d38 bcdd000000000000 3fe790b938ac1d00 3ce3000000000000
    3fe7a11473eb0178 bced000000000000 3fe7b17b0976d060 3d20400000000000
    3fe7c1ed0130c133 3ca0000000000000 3fe7d26a62ff8636 bd26900000000000
    3fe7e2f336cf4e3b bd02e00000000000 3fe7f3878491c3e8 bd24580000000000
    3fe80427543e1b4e 3d33000000000000 3fe814d2add1071a 3d0f000000000000
    3fe82589994ccd7e bd21c00000000000 3fe8364c1eb942d0 3d29d00000000000
    3fe8471a4623cab5 3d47100000000000 3fe857f4179f5bbc 3d22600000000000
    3fe868d99b4491af bd32c40000000000 3fe879cad931a395 bd23000000000000
    3fe88ac7d98a65b8 bd2a800000000000 3fe89bd0a4785800 bced000000000000
    3fe8ace5422aa223 3d33280000000000 3fe8be05bad619fa 3d42b40000000000
    3fe8cf3216b54383 bd2ed00000000000 3fe8e06a5e08664c bd20500000000000
    3fe8f1ae99157807 3d28280000000000 3fe902fed0282c0e bd1cb00000000000
    3fe9145b0b91ff96 bd05e00000000000 3fe925c353aa2ff9 3cf5400000000000
    3fe93737b0cdc64a 3d17200000000000 3fe948b82b5f98ae bd09000000000000
    3fe95a44cbc852cb 3d25680000000000 3fe96bdd9a766f21 bd36d00000000000
    3fe97d829fde4e2a bd01000000000000 3fe98f33e47a23a3 3d2d000000000000
    3fe9a0f170ca0604 bd38a40000000000 3fe9b2bb4d53ff89 3d355c0000000000
    3fe9c49182a3f15b 3d26b80000000000 3fe9d674194bb8c5 bcec000000000000
    3fe9e86319e3238e 3d17d00000000000 3fe9fa5e8d07f302 3d16400000000000
    3fea0c667b5de54d bcf5000000000000 3fea1e7aed8eb8f6 3d09e00000000000
    3fea309bec4a2e27 3d2ad80000000000 3fea42c980460a5d bd1af00000000000
    3fea5503b23e259b 3d0b600000000000 3fea674a8af46213 3d38880000000000
    3fea799e1330b3a7 3d11200000000000 3fea8bfe53c12e8d 3d06c00000000000
    3fea9e6b5579fcd2 bd29b80000000000 3feab0e521356fb8 3d2b700000000000
    3feac36bbfd3f381 3cd9000000000000 3fead5ff3a3c2780 3ce4000000000000
    3feae89f995ad2a3 bd2c900000000000 3feafb4ce622f367 3d16500000000000
    3feb0e07298db790 3d2fd40000000000 3feb20ce6c9a89a9 3d12700000000000
    3feb33a2b84f1a4b 3d4d470000000000 3feb468415b747e7 bd38380000000000
    3feb59728de5593a 3c98000000000000 3feb6c6e29f1c56a 3d0ad00000000000
    3feb7f76f2fb5e50 3cde800000000000 3feb928cf22749b2 bd04c00000000000
    3feba5b030a10603 bd0d700000000000 3febb8e0b79a6f66 3d0d900000000000
    3febcc1e904bc1ff 3d02a00000000000 3febdf69c3f3a16f bd1f780000000000
    3febf2c25bd71db8 bd10a00000000000 3fec06286141b2e9 bd11400000000000
    3fec199bdd8552e0 3d0be00000000000 3fec2d1cd9fa64ee bd09400000000000
    3fec40ab5fffd02f bd0ed00000000000 3fec544778fafd15 3d39660000000000
    3fec67f12e57d0cb bd1a100000000000 3fec7ba88988c1b6 bd58458000000000
    3fec8f6d9406e733 bd1a480000000000 3feca3405751c4df 3ccb000000000000
    3fecb720dcef9094 3d01400000000000 3feccb0f2e6d1689 3cf0200000000000
    3fecdf0b555dc412 3cf3600000000000 3fecf3155b5bab3b bd06900000000000
    3fed072d4a0789bc 3d09a00000000000 3fed1b532b08c8fa bd15e00000000000
    3fed2f87080d8a85 3d1d280000000000 3fed43c8eacaa203 3d01a00000000000
    3fed5818dcfba491 3cdf000000000000 3fed6c76e862e6a1 bd03a00000000000
    3fed80e316c9834e bd0cd80000000000 3fed955d71ff6090 3cf4c00000000000
    3feda9e603db32ae 3cff900000000000 3fedbe7cd63a8325 3ce9800000000000
    3fedd321f301b445 bcf5200000000000 3fede7d5641c05bf bd1d700000000000
    3fedfc97337b9aec bd16140000000000 3fee11676b197d5e 3d0b480000000000
    3fee264614f5a3e7 3d40ce0000000000 3fee3b333b16ee5c 3d0c680000000000
    3fee502ee78b3fb4 bd09300000000000 3fee653924676d68 bce5000000000000
    3fee7a51fbc74c44 bd07f80000000000 3fee8f7977cdb726 bcf3700000000000
    3feea4afa2a490e8 3ce5d00000000000 3feeb9f4867ccae4 3d161a0000000000
    3feecf482d8e680d 3cf5500000000000 3feee4aaa2188514 3cc6400000000000
    3feefa1bee615a13 bcee800000000000 3fef0f9c1cb64106 bcfa880000000000
    3fef252b376bb963 bd2c900000000000 3fef3ac948dd7275 3caa000000000000
    3fef50765b6e4524 bcf4f00000000000 3fef6632798844fd 3cca800000000000
    3fef7bfdad9cbe38 3cfabc0000000000 3fef91d802243c82 bcd4600000000000
    3fefa7c1819e908e bd0b0c0000000000 3fefbdba3692d511 bcc0e00000000000
    3fefd3c22b8f7194 bd10de8000000000 3fefe9d96b2a23ee 3cee430000000000
    3ff0000000000000 0000000000000000 3ff00b1afa5abcbe bcb3400000000000
    3ff0163da9fb3303 bd12170000000000 3ff02168143b0282 3cba400000000000
    3ff02c9a3e77806c 3cef980000000000 3ff037d42e11bbca bcc7400000000000
    3ff04315e86e7f89 3cd8300000000000 3ff04e5f72f65467 bd1a3f0000000000
    3ff059b0d315855a bd02840000000000 3ff0650a0e3c1f95 3cf1600000000000
    3ff0706b29ddf71a 3d15240000000000 3ff07bd42b72a82d bce9a00000000000
    3ff0874518759bd0 3ce6400000000000 3ff092bdf66607c8 bd00780000000000
    3ff09e3ecac6f383 bc98000000000000 3ff0a9c79b1f3930 3cffa00000000000
    3ff0b5586cf988fc bcfac80000000000 3ff0c0f145e46c8a 3cd9c00000000000
    3ff0cc922b724816 3d05200000000000 3ff0d83b23395dd8 bcfad00000000000
    3ff0e3ec32d3d1f3 3d1bac0000000000 3ff0efa55fdfa9a6 bd04e80000000000
    3ff0fb66affed2f0 bd0d300000000000 3ff1073028d7234b 3cf1500000000000
    3ff11301d0125b5b 3cec000000000000 3ff11edbab5e2af9 3d16bc0000000000
    3ff12abdc06c31d5 3ce8400000000000 3ff136a814f2047d bd0ed00000000000
    3ff1429aaea92de9 3ce8e00000000000 3ff14e95934f3138 3ceb400000000000
    3ff15a98c8a58e71 3d05300000000000 3ff166a45471c3df 3d03380000000000
    3ff172b83c7d5211 3d28d40000000000 3ff17ed48695bb9f bd05d00000000000
    3ff18af9388c8d93 bd1c880000000000 3ff1972658375d66 3d11f00000000000
    3ff1a35beb6fcba7 3d10480000000000 3ff1af99f81387e3 bd47390000000000
    3ff1bbe084045d54 3d24e40000000000 3ff1c82f95281c43 bd0a200000000000
    3ff1d4873168b9b2 3ce3800000000000 3ff1e0e75eb44031 3ceac00000000000
    3ff1ed5022fcd938 3d01900000000000 3ff1f9c18438cdf7 bd1b780000000000
    3ff2063b88628d8f 3d2d940000000000 3ff212be3578a81e 3cd8000000000000
    3ff21f49917ddd41 3d2b340000000000 3ff22bdda2791323 3d19f80000000000
    3ff2387a6e7561e7 bd19c80000000000 3ff2451ffb821427 3d02300000000000
    3ff251ce4fb2a602 bd13480000000000 3ff25e85711eceb0 3d12700000000000
    3ff26b4565e27d16 3d11d00000000000 3ff2780e341de00f 3d31ee0000000000
    3ff284dfe1f5633e bd14c00000000000 3ff291ba7591bb30 bd13d80000000000
    3ff29e9df51fdf09 3d08b00000000000 3ff2ab8a66d10e9b bd227c0000000000
    3ff2b87fd0dada3a 3d2a340000000000 3ff2c57e39771af9 bd10800000000000
    3ff2d285a6e402d9 bd0ed00000000000 3ff2df961f641579 bcf4200000000000
    3ff2ecafa93e2ecf bd24980000000000 3ff2f9d24abd8822 bd16300000000000
    3ff306fe0a31b625 bd32360000000000 3ff31432edeea50b bd70df8000000000
    3ff32170fc4cd7b8 bd22480000000000 3ff32eb83ba8e9a2 bd25980000000000
    3ff33c08b2641766 3d1ed00000000000 3ff3496266e3fa27 bcdc000000000000
    3ff356c55f929f0f bd30d80000000000 3ff36431a2de88b9 3d22c80000000000
    3ff371a7373aaa39 3d20600000000000 3ff37f26231e74fe bd16600000000000
    3ff38cae6d05d838 bd0ae00000000000 3ff39a401b713ec3 bd44720000000000
    3ff3a7db34e5a020 3d08200000000000 3ff3b57fbfec6e95 3d3e800000000000
    3ff3c32dc313a8f2 3cef800000000000 3ff3d0e544ede122 bd17a00000000000
    3ff3dea64c1234bb 3d26300000000000 3ff3ec70df1c4ecc bd48a60000000000
    3ff3fa4504ac7e8c bd3cdc0000000000 3ff40822c367a0bb 3d25b80000000000
    3ff4160a21f72e95 3d1ec00000000000 3ff423fb27094646 bd13600000000000
    3ff431f5d950a920 3d23980000000000 3ff43ffa3f84b9eb 3cfa000000000000
    3ff44e0860618919 bcf6c00000000000 3ff45c2042a7d201 bd0bc00000000000
    3ff46a41ed1d0016 bd12800000000000 3ff4786d668b3326 3d30e00000000000
    3ff486a2b5c13c00 bd2d400000000000 3ff494e1e192af04 3d0c200000000000
    3ff4a32af0d7d372 bd1e500000000000 3ff4b17dea6db801 3d07800000000000
    3ff4bfdad53629e1 bd13800000000000 3ff4ce41b817c132 3d00800000000000
    3ff4dcb299fddddb 3d2c700000000000 3ff4eb2d81d8ab96 bd1ce00000000000
    3ff4f9b2769d2d02 3d19200000000000 3ff508417f4531c1 bd08c00000000000
    3ff516daa2cf662a bcfa000000000000 3ff5257de83f51ea 3d4a080000000000
    3ff5342b569d4eda bd26d80000000000 3ff542e2f4f6ac1a bd32440000000000
    3ff551a4ca5d94db 3d483c0000000000 3ff56070dde9116b 3d24b00000000000
    3ff56f4736b529de 3d415a0000000000 3ff57e27dbe2c40e bd29e00000000000
    3ff58d12d497c76f bd23080000000000 3ff59c0827ff0b4c 3d4dec0000000000
    3ff5ab07dd485427 bcc4000000000000 3ff5ba11fba87af4 3d30080000000000
    3ff5c9268a59460b bd26c80000000000 3ff5d84590998e3f 3d469a0000000000
    3ff5e76f15ad20e1 bd1b400000000000 3ff5f6a320dcebca 3d17700000000000
    3ff605e1b976dcb8 3d26f80000000000 3ff6152ae6cdf715 3d01000000000000
    3ff6247eb03a5531 bd15d00000000000 3ff633dd1d1929b5 bd12d00000000000
    3ff6434634ccc313 bcea800000000000 3ff652b9febc8efa bd28600000000000
    3ff6623882553397 3d71fe0000000000 3ff671c1c708328e bd37200000000000
    3ff68155d44ca97e 3ce6800000000000 3ff690f4b19e9471 bd29780000000000
"""
_EXP2_TABLE = [_from_bits(int(word, 16)) for word in _EXP2_TABLE_BITS.split()]
if len(_EXP2_TABLE) != 512:
    raise ImportError("inference_example.py: the exp2 table is damaged")


if __name__ == "__main__":
    sys.exit(main())
