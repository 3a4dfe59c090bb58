#!/usr/bin/env python3
"""Benchmarks mcp-train's Isolation Forest against scikit-learn: speed and detection quality.

Needs Python >= 3.8 with numpy and scikit-learn, and a release build of mcp-train:

    pip install scikit-learn numpy
    cargo build --release -p mcp-train
    python3 scripts/bench_vs_sklearn.py                  # speed + quality (several minutes)
    python3 scripts/bench_vs_sklearn.py speed --rows 200000 --repeat 1
    python3 scripts/bench_vs_sklearn.py quality --seeds 0 1 2 3 4

Generated data goes to --workdir (default /tmp/bench-sklearn), never into the repository. The
report is printed; every figure also goes to --json-out (default WORKDIR/results.json).

speed
    A seeded matrix of --rows x --features (default 1,000,000 x 30; standard Gaussian inliers plus
    ~1% outliers shifted by +/-3 per feature) is written once as CSV (floats as Python repr, so
    they round-trip exactly). Wall clock (time.perf_counter), best of --repeat runs:
    (a) scikit-learn IsolationForest(n_estimators=100, n_jobs=2, random_state=0).fit(X) and
        .score_samples(X) on the numpy array already in memory (no CSV reading counted);
    (b) `mcp-train train --features-csv data.csv --out m.json` and
        `mcp-train score m.json --features-csv data.csv --out scores.csv` as subprocesses, which
        DO include reading/parsing the CSV (twice), writing model.json and the 1M-row scores CSV.
        `train` also scores every training row and computes permutation importance.
    The runs of (a) and (b) are interleaved so that load from other work hits both alike; an
    extra scikit-learn n_jobs=1 row is a single-thread reference (mcp-train uses one thread).
    The load average is printed and stored: rerun if the machine was busy.
    Also: `mcp-train train export_1m.json` end to end on `mcp-train synth --records 1000000
    --seed 1` (JSON parsing, validation, wifi-v1 features, 80/20 split, fit, evaluation).

quality
    For each dataset and each seed: scikit-learn IsolationForest(random_state=seed) fitted on all
    rows -> ROC AUC of -score_samples; `mcp-train train --seed seed` on the same rows as a CSV
    without labels, then `mcp-train score` on the labelled CSV -> ROC AUC of -score (computed with
    sklearn.metrics.roc_auc_score). Both sides see the same float64 values. Datasets (all bundled
    with scikit-learn, built with a fixed construction seed --data-seed, rows shuffled):
      breast_cancer  benign (357) = normal; 30 malignant drawn at random = anomalies (7.8%)
      wine           ODDS "wine" protocol: classes 1 and 2 (119) = normal; 10 of class 0 = anomalies
      digits         digit 0 (178) = normal; 18 drawn from digits 1-9 = anomalies (9.2%); 64 pixels,
                     some constant
      iris           setosa + versicolor (100) = normal; 10 virginica = anomalies (9.1%)
      synth          `mcp-train synth --records 20000 --seed 7` -> `mcp-train features
                     --include-label` (41 wifi-v1 features, ~5% labelled incident records)
    The target is |mean AUC difference| <= 0.02 per dataset.
"""

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import time

try:
    import numpy as np
    import sklearn
    from sklearn.ensemble import IsolationForest
    from sklearn.metrics import roc_auc_score
except ImportError as e:  # pragma: no cover
    sys.exit(f"error: {e}; install with: pip install scikit-learn numpy")

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
AUC_TOLERANCE = 0.02


# --------------------------------------------------------------------------------------------
# helpers


def log(msg=""):
    print(msg, flush=True)


def load_info():
    la = os.getloadavg()
    try:
        up = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        up = ""
    return {"loadavg": [round(x, 2) for x in la], "uptime": up}


def check_load(info, label):
    ncpu = os.cpu_count() or 1
    if info["loadavg"][0] > 0.5 * ncpu:
        log(
            f"  WARNING: load average {info['loadavg'][0]} before {label} on {ncpu} cores; "
            "other work is running, timings may be inflated"
        )


def run(cmd, capture=True):
    """Runs a command; returns (seconds, stdout). Raises with stderr on failure."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(
            f"command failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr.strip()}"
        )
    return dt, p.stdout


def write_csv(path, X, header, labels=None, chunk=20000):
    """Writes X (float64) as CSV with repr floats; `labels` appends an integer `label` column."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(",".join(header + (["label"] if labels is not None else [])) + "\n")
        for start in range(0, X.shape[0], chunk):
            rows = X[start : start + chunk].tolist()
            if labels is None:
                f.write("".join(",".join(map(repr, r)) + "\n" for r in rows))
            else:
                lab = labels[start : start + chunk].tolist()
                f.write(
                    "".join(
                        ",".join(map(repr, r)) + f",{int(y)}\n" for r, y in zip(rows, lab)
                    )
                )
    os.replace(tmp, path)


def read_scores(path, n):
    """Reads the `score` column of an mcp-train scores CSV, ordered by `index`."""
    scores = np.full(n, np.nan)
    labels = np.full(n, -1)
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            i = int(row["index"])
            scores[i] = float(row["score"])
            if row.get("label", "") != "":
                labels[i] = int(row["label"])
    if np.isnan(scores).any():
        raise RuntimeError(f"{path}: scores missing for some rows")
    return scores, labels


def mean_std(xs):
    xs = np.asarray(xs, dtype=float)
    return float(xs.mean()), float(xs.std(ddof=1)) if len(xs) > 1 else 0.0


# --------------------------------------------------------------------------------------------
# speed


def speed_dataset(n, d, seed, outlier_frac):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    n_out = int(round(n * outlier_frac))
    idx = rng.choice(n, size=n_out, replace=False)
    X[idx] += rng.choice([-3.0, 3.0], size=(n_out, d))
    y = np.zeros(n, dtype=int)
    y[idx] = 1
    return X, y


def bench_speed(args, binary, out):
    wd = args.workdir
    n, d = args.rows, args.features
    log(f"== speed: {n:,} rows x {d} features, best of {args.repeat} ==")
    t0 = time.perf_counter()
    X, y = speed_dataset(n, d, args.data_seed, args.outlier_frac)
    data_csv = os.path.join(wd, f"speed_{n}x{d}_s{args.data_seed}.csv")
    if os.path.exists(data_csv) and not args.regen:
        log(f"  reusing {data_csv} ({os.path.getsize(data_csv) / 1e6:,.0f} MB)")
    else:
        write_csv(data_csv, X, [f"f{j}" for j in range(d)])
        log(
            f"  wrote {data_csv} ({os.path.getsize(data_csv) / 1e6:,.0f} MB) "
            f"in {time.perf_counter() - t0:.1f} s"
        )
    res = {
        "rows": n,
        "features": d,
        "outliers": int(y.sum()),
        "csv_bytes": os.path.getsize(data_csv),
        "repeat": args.repeat,
        "n_jobs_sklearn": args.n_jobs,
    }

    # (a) scikit-learn in memory and (b) mcp-train as subprocesses (CSV in and out), interleaved
    # run by run so that load from other work on the machine hits both sides alike.
    model = os.path.join(wd, "speed_model.json")
    scores_csv = os.path.join(wd, "speed_scores.csv")

    def sklearn_run(n_jobs):
        t0 = time.perf_counter()
        clf = IsolationForest(n_estimators=100, n_jobs=n_jobs, random_state=0).fit(X)
        t1 = time.perf_counter()
        s = clf.score_samples(X)
        t2 = time.perf_counter()
        return {"fit": t1 - t0, "score": t2 - t1, "total": t2 - t0,
                "load1": round(os.getloadavg()[0], 2)}, s

    info = load_info()
    check_load(info, "the speed runs")
    sk_runs, sk1_runs, mc_runs = [], [], []
    sk_scores = None
    for r in range(args.repeat):
        run_sk, sk_scores = sklearn_run(args.n_jobs)
        sk_runs.append(run_sk)
        log(f"  sklearn n_jobs={args.n_jobs} run {r + 1}: fit {run_sk['fit']:6.2f} s  "
            f"score {run_sk['score']:6.2f} s  total {run_sk['total']:6.2f} s  "
            f"(load {run_sk['load1']})")
        if args.single_thread_ref and args.n_jobs != 1:
            run_sk1, _ = sklearn_run(1)
            sk1_runs.append(run_sk1)
            log(f"  sklearn n_jobs=1 run {r + 1}: fit {run_sk1['fit']:6.2f} s  "
                f"score {run_sk1['score']:6.2f} s  total {run_sk1['total']:6.2f} s  "
                f"(load {run_sk1['load1']})")
        t_train, stdout = run(
            [binary, "train", "--features-csv", data_csv, "--out", model, "--json", "--quiet"]
        )
        summary = json.loads(stdout)
        t_score, _ = run(
            [binary, "score", model, "--features-csv", data_csv, "--out", scores_csv, "--quiet"]
        )
        mc_runs.append(
            {
                "train": t_train,
                "train_pipeline_ms": summary.get("duration_ms"),
                "score": t_score,
                "total": t_train + t_score,
                "load1": round(os.getloadavg()[0], 2),
            }
        )
        log(
            f"  mcp-train         run {r + 1}: train {t_train:6.2f} s (pipeline "
            f"{summary.get('duration_ms', 0) / 1000:.2f} s)  score {t_score:6.2f} s  "
            f"total {t_train + t_score:6.2f} s  (load {mc_runs[-1]['load1']})"
        )
    res["load_before"] = info
    res["sklearn"] = {
        "runs": sk_runs,
        "best": min(sk_runs, key=lambda x: x["total"]),
        "auc": float(roc_auc_score(y, -sk_scores)),
    }
    if sk1_runs:
        res["sklearn_n_jobs_1"] = {"runs": sk1_runs, "best": min(sk1_runs, key=lambda x: x["total"])}
    mcp_scores, _ = read_scores(scores_csv, n)
    best = min(mc_runs, key=lambda x: x["total"])
    res["mcp_train"] = {
        "runs": mc_runs,
        "best": best,
        "auc": float(roc_auc_score(y, -mcp_scores)),
    }
    res["ratio_sklearn_over_mcp"] = res["sklearn"]["best"]["total"] / best["total"]

    # end to end on a 1M-record synthetic export
    if args.export_records > 0:
        export = os.path.join(wd, f"export_{args.export_records}.json")
        if args.export_records == 1_000_000:
            export = os.path.join(wd, "export_1m.json")
        if not os.path.exists(export) or args.regen:
            t, _ = run(
                [binary, "synth", "--records", str(args.export_records), "--seed", "1",
                 "--out", export, "--quiet"]
            )
            log(f"  synth {args.export_records:,} records -> {export} in {t:.1f} s (not timed below)")
        info = load_info()
        check_load(info, "export training")
        runs = []
        for r in range(args.repeat):
            t, stdout = run(
                [binary, "train", export, "--out", os.path.join(wd, "export_model.json"),
                 "--json", "--quiet"]
            )
            summary = json.loads(stdout)
            runs.append(
                {
                    "total": t,
                    "pipeline_ms": summary.get("duration_ms"),
                    "test_roc_auc": (summary.get("metrics") or {}).get("roc_auc"),
                }
            )
            log(f"  export train run {r + 1}: {t:6.2f} s (pipeline {summary.get('duration_ms', 0) / 1000:.2f} s)")
        res["export_train"] = {
            "records": args.export_records,
            "bytes": os.path.getsize(export),
            "runs": runs,
            "best": min(runs, key=lambda x: x["total"]),
            "load_before": info,
        }
    # (c) The same comparison without file I/O: mcp-train's scaler, forest fit and scoring on the
    # matrix in memory (core/benches/detector.rs), like scikit-learn's fit + score_samples above.
    env = dict(os.environ, MCP_TRAIN_BENCH_CSV=data_csv, MCP_TRAIN_BENCH_REPEAT=str(args.repeat))
    proc = subprocess.run(
        ["cargo", "bench", "-q", "-p", "mcp-train-core", "--bench", "detector"],
        cwd=REPO, env=env, capture_output=True, text=True,
    )
    lines = [l for l in proc.stdout.splitlines() if l.startswith("{")]
    if proc.returncode == 0 and lines:
        res["mcp_train_in_memory"] = json.loads(lines[-1])
        m = res["mcp_train_in_memory"]
        log(f"  mcp-train in memory: scaler {m['scaler_s']:.2f} s, fit {m['fit_s']:.3f} s, "
            f"score {m['score_s']:.2f} s ({m['threads']} threads)")
    else:
        log(f"  detector bench failed: {proc.stderr.strip()[-300:]}")
    res["load_after"] = load_info()
    out["speed"] = res
    return res


def report_speed(res):
    sk, mc = res["sklearn"]["best"], res["mcp_train"]["best"]
    log("")
    log(f"Speed: {res['rows']:,} x {res['features']} (CSV {res['csv_bytes'] / 1e6:,.0f} MB), best of {res['repeat']}")
    log(f"  {'':34} {'fit/train':>10} {'score':>10} {'total':>10}")
    log(f"  {'scikit-learn (in memory, n_jobs=' + str(res['n_jobs_sklearn']) + ')':34} "
        f"{sk['fit']:9.2f}s {sk['score']:9.2f}s {sk['total']:9.2f}s")
    if "sklearn_n_jobs_1" in res:
        s1 = res["sklearn_n_jobs_1"]["best"]
        log(f"  {'scikit-learn (in memory, n_jobs=1)':34} "
            f"{s1['fit']:9.2f}s {s1['score']:9.2f}s {s1['total']:9.2f}s")
    log(f"  {'mcp-train (CSV in/out, CLI)':34} "
        f"{mc['train']:9.2f}s {mc['score']:9.2f}s {mc['total']:9.2f}s")
    log(f"  ratio sklearn (n_jobs={res['n_jobs_sklearn']}) / mcp-train: "
        f"{res['ratio_sklearn_over_mcp']:.2f}x (> 1 means mcp-train is faster)")
    log("  (mcp-train times include reading and parsing the CSV in both commands, writing the")
    log("   model and the scores CSV; `train` also scores all rows and runs permutation importance)")
    if "mcp_train_in_memory" in res:
        m = res["mcp_train_in_memory"]
        forest = m["forest_total_s"]
        log(f"  {'mcp-train (in memory, forest only)':34} {m['fit_s']:9.2f}s {m['score_s']:9.2f}s {forest:9.2f}s")
        log(f"  ratio sklearn / mcp-train in memory: {sk['total'] / forest:.2f}x forest only, "
            f"{sk['total'] / (forest + m['scaler_s']):.2f}x with the standard scaler "
            f"({m['scaler_s']:.2f} s; scikit-learn's run has none)")
    log(f"  sanity ROC AUC on the 1% outliers: sklearn {res['sklearn']['auc']:.4f}, "
        f"mcp-train {res['mcp_train']['auc']:.4f}")
    if "export_train" in res:
        e = res["export_train"]
        b = e["best"]
        log(f"  mcp-train train on a {e['records']:,}-record export ({e['bytes'] / 1e6:,.0f} MB), "
            f"end to end: {b['total']:.2f} s (pipeline {b['pipeline_ms'] / 1000:.2f} s"
            + (f", test ROC AUC {b['test_roc_auc']:.4f}" if b.get("test_roc_auc") is not None else "")
            + ")")
    log(f"  load average before: {res['load_before']['loadavg']}, "
        f"after: {res['load_after']['loadavg']}")


# --------------------------------------------------------------------------------------------
# quality


def bundled_datasets(seed):
    """(name, X, y, description) for the bundled scikit-learn outlier-detection setups."""
    from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine

    rng = np.random.default_rng(seed)

    def build(X, normal_mask, anomaly_pool_mask, n_anom):
        normal = np.flatnonzero(normal_mask)
        anom = rng.choice(np.flatnonzero(anomaly_pool_mask), size=n_anom, replace=False)
        idx = np.concatenate([normal, anom])
        y = np.concatenate([np.zeros(len(normal), int), np.ones(n_anom, int)])
        perm = rng.permutation(len(idx))
        return X[idx[perm]].astype(np.float64), y[perm]

    out = []
    b = load_breast_cancer()
    X, y = build(b.data, b.target == 1, b.target == 0, 30)
    out.append(("breast_cancer", X, y, "benign=normal, 30 random malignant=anomalies"))
    w = load_wine()
    X, y = build(w.data, w.target != 0, w.target == 0, 10)
    out.append(("wine", X, y, "ODDS: classes 1,2=normal, 10 random of class 0=anomalies"))
    g = load_digits()
    X, y = build(g.data, g.target == 0, g.target != 0, 18)
    out.append(("digits", X, y, "digit 0=normal, 18 random of digits 1-9=anomalies"))
    i = load_iris()
    X, y = build(i.data, i.target != 2, i.target == 2, 10)
    out.append(("iris", X, y, "setosa+versicolor=normal, 10 random virginica=anomalies"))
    return out


def synth_dataset(args, binary):
    """Writes a synthetic export's labelled and label-less feature CSVs; returns (X, y, paths)."""
    wd = args.workdir
    export = os.path.join(wd, f"quality_synth_{args.synth_records}.json")
    labelled = os.path.join(wd, "quality_synth_labelled.csv")
    plain = os.path.join(wd, "quality_synth_nolabel.csv")
    run([binary, "synth", "--records", str(args.synth_records), "--seed", "7", "--out", export,
         "--quiet"])
    run([binary, "features", export, "--include-label", "--out", labelled, "--quiet"])
    # Drop the trailing label column textually so both CSVs carry the very same feature text.
    with open(labelled) as f, open(plain, "w") as g:
        header = f.readline().rstrip("\n").split(",")
        if header[-1] != "label":
            raise RuntimeError(f"{labelled}: last column is {header[-1]!r}, expected label")
        g.write(",".join(header[:-1]) + "\n")
        ys = []
        for line in f:
            head, _, lab = line.rstrip("\n").rpartition(",")
            g.write(head + "\n")
            ys.append(int(lab))
    X = np.loadtxt(plain, delimiter=",", skiprows=1, ndmin=2)
    return X, np.array(ys), labelled, plain


def bench_quality(args, binary, out):
    wd = args.workdir
    log(f"== quality: seeds {args.seeds} ==")
    info = load_info()
    sets = []
    for name, X, y, desc in bundled_datasets(args.data_seed):
        header = [f"f{j}" for j in range(X.shape[1])]
        labelled = os.path.join(wd, f"quality_{name}_labelled.csv")
        plain = os.path.join(wd, f"quality_{name}_nolabel.csv")
        write_csv(labelled, X, header, labels=y)
        write_csv(plain, X, header)
        sets.append((name, X, y, desc, labelled, plain))
    X, y, labelled, plain = synth_dataset(args, binary)
    sets.append(("synth", X, y, f"mcp-train synth --records {args.synth_records} --seed 7, "
                 "wifi-v1 features", labelled, plain))

    results = []
    for name, X, y, desc, labelled, plain in sets:
        sk_aucs, mc_aucs = [], []
        model = os.path.join(wd, f"quality_{name}_model.json")
        scores_csv = os.path.join(wd, f"quality_{name}_scores.csv")
        for seed in args.seeds:
            clf = IsolationForest(random_state=seed).fit(X)
            sk_aucs.append(float(roc_auc_score(y, -clf.score_samples(X))))
            run([binary, "train", "--features-csv", plain, "--seed", str(seed), "--out", model,
                 "--quiet"])
            run([binary, "score", model, "--features-csv", labelled, "--out", scores_csv,
                 "--quiet"])
            s, lab = read_scores(scores_csv, len(y))
            if not np.array_equal(lab, y):
                raise RuntimeError(f"{name}: labels in {scores_csv} differ from the dataset's")
            mc_aucs.append(float(roc_auc_score(y, -s)))
        sk_m, sk_s = mean_std(sk_aucs)
        mc_m, mc_s = mean_std(mc_aucs)
        r = {
            "dataset": name,
            "description": desc,
            "rows": int(X.shape[0]),
            "features": int(X.shape[1]),
            "anomalies": int(y.sum()),
            "sklearn_auc": sk_aucs,
            "mcp_train_auc": mc_aucs,
            "sklearn_mean": sk_m,
            "sklearn_std": sk_s,
            "mcp_train_mean": mc_m,
            "mcp_train_std": mc_s,
            "diff": mc_m - sk_m,
            # standard error of the difference of the two means (seed-to-seed noise)
            "diff_se": float(np.sqrt((sk_s ** 2 + mc_s ** 2) / len(args.seeds))),
            "within_tolerance": abs(mc_m - sk_m) <= AUC_TOLERANCE,
        }
        results.append(r)
        log(f"  {name:14} sklearn {sk_m:.4f}±{sk_s:.4f}  mcp-train {mc_m:.4f}±{mc_s:.4f}  "
            f"diff {mc_m - sk_m:+.4f}")
    out["quality"] = {"seeds": args.seeds, "tolerance": AUC_TOLERANCE, "datasets": results,
                      "load_before": info, "load_after": load_info()}
    return results


def report_quality(results, seeds):
    log("")
    log(f"Quality: ROC AUC of -score_samples, mean ± std (ddof=1) over seeds {seeds}")
    log(f"  {'dataset':14} {'rows':>6} {'feat':>4} {'anom':>5}  {'scikit-learn':>15}  "
        f"{'mcp-train':>15}  {'diff':>7} {'(se)':>8}  |diff|<={AUC_TOLERANCE}")
    for r in results:
        log(f"  {r['dataset']:14} {r['rows']:6d} {r['features']:4d} {r['anomalies']:5d}  "
            f"{r['sklearn_mean']:.4f}±{r['sklearn_std']:.4f}  "
            f"{r['mcp_train_mean']:.4f}±{r['mcp_train_std']:.4f}  {r['diff']:+.4f} "
            f"({r['diff_se']:.4f})  "
            f"{'yes' if r['within_tolerance'] else 'NO'}")
    log("  se = standard error of the difference of means, sqrt((std_a^2 + std_b^2) / seeds):")
    log("  a |diff| within ~2 se is seed noise, not a difference between the implementations.")
    for r in results:
        log(f"  {r['dataset']}: {r['description']}")


# --------------------------------------------------------------------------------------------


def main():
    p = argparse.ArgumentParser(
        description="Benchmark mcp-train's Isolation Forest against scikit-learn.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("mode", nargs="?", choices=["all", "speed", "quality"], default="all")
    p.add_argument("--bin", default=os.path.join(REPO, "target", "release", "mcp-train"),
                   help="the mcp-train binary")
    p.add_argument("--workdir", default="/tmp/bench-sklearn", help="where generated data goes")
    p.add_argument("--json-out", default=None, help="JSON results (default WORKDIR/results.json)")
    p.add_argument("--data-seed", type=int, default=0, help="seed of the dataset constructions")
    g = p.add_argument_group("speed")
    g.add_argument("--rows", type=int, default=1_000_000)
    g.add_argument("--features", type=int, default=30)
    g.add_argument("--outlier-frac", type=float, default=0.01)
    g.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    g.add_argument("--n-jobs", type=int, default=2, help="scikit-learn n_jobs")
    g.add_argument("--no-single-thread-ref", dest="single_thread_ref", action="store_false",
                   help="skip the extra scikit-learn n_jobs=1 reference runs")
    g.add_argument("--export-records", type=int, default=1_000_000,
                   help="records of the synthetic export trained end to end (0 skips it)")
    g.add_argument("--regen", action="store_true", help="rewrite cached CSV/export files")
    g = p.add_argument_group("quality")
    g.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    g.add_argument("--synth-records", type=int, default=20000)
    args = p.parse_args()

    binary = os.path.abspath(args.bin)
    if not os.access(binary, os.X_OK):
        sys.exit(f"error: {binary} not found; build it with: cargo build --release -p mcp-train")
    os.makedirs(args.workdir, exist_ok=True)
    json_out = args.json_out or os.path.join(args.workdir, "results.json")

    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
    out = {
        "meta": {
            "mcp_train": version,
            "sklearn": sklearn.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
            "machine": platform.platform(),
            "cpus": os.cpu_count(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "load_at_start": load_info(),
        }
    }
    log(f"{version} vs scikit-learn {sklearn.__version__} (numpy {np.__version__}), "
        f"{os.cpu_count()} CPUs; {out['meta']['load_at_start']['uptime']}")

    speed = quality = None
    if args.mode in ("all", "speed"):
        speed = bench_speed(args, binary, out)
    if args.mode in ("all", "quality"):
        quality = bench_quality(args, binary, out)

    log("")
    log("=" * 78)
    if speed:
        report_speed(speed)
    if quality:
        report_quality(quality, args.seeds)
    with open(json_out, "w") as f:
        json.dump(out, f, indent=2)
    log("")
    log(f"results written to {json_out}")


if __name__ == "__main__":
    main()
