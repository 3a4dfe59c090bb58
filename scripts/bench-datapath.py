#!/usr/bin/env python3
"""The data path end to end, side by side: mcp-train's CLI against scikit-learn done the usual way.

    cargo build --release -p mcp-train
    scripts/py.sh build release          # or any Python with numpy, pandas and scikit-learn
    ~/.cache/mcp-train/wheel-venv/bin/python scripts/bench-datapath.py
    ... scripts/bench-datapath.py --rows 200000 --repeat 1 --export-records 0    # quick look
    ... scripts/bench-datapath.py --browser      # also the web app against the CLI (bench-web.sh)

In one run, on the same files, best of --repeat (the two sides interleaved run by run, so load
from other work hits both alike):

1. A seeded --rows x --features CSV (standard Gaussian inliers, ~1% outliers shifted by +/-3; floats
   as Python repr, which round-trip exactly), written once to --workdir.
   - scikit-learn: `pandas.read_csv` -> `IsolationForest(n_estimators=100, n_jobs=2,
     random_state=0).fit` -> `score_samples` -> the scores written with `DataFrame.to_csv`,
     timed stage by stage inside this Python process (its start-up and imports are not counted).
   - mcp-train: `train --features-csv data.csv --out model.json` (read, hash, fit, score every
     training row, statistics, permutation importance, model file) and `score model.json
     --features-csv data.csv --out scores.csv` (read, score, write), each a whole process; and
     the same job in one process, `train ... --scores scores.csv`, whose file is checked to be
     the one `score` wrote.
2. export -> model: `mcp-train train export.json` on `mcp-train synth --records --export-records`
   (read, parse, validate, wifi-v1 features, split, fit, score, evaluate, model file).
3. With --browser: scripts/bench-web.sh on an export of --export-records records (the web app in
   headless Chromium against the CLI on the same export; it builds what it needs).

The table is printed at the end; every figure also goes to WORKDIR/datapath.json.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_vs_sklearn as common  # noqa: E402  (numpy, scikit-learn; exits with a hint without)

try:
    import pandas as pd
except ImportError as e:  # pragma: no cover
    sys.exit(f"error: {e}; install with: pip install pandas (or use scripts/py.sh's venv)")

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.ensemble import IsolationForest  # noqa: E402

log = common.log
REPO = common.REPO


def target_dir():
    return os.environ.get("CARGO_TARGET_DIR") or os.path.join(REPO, "target")


def sklearn_run(csv_path, scores_path, n_jobs):
    t = [time.perf_counter()]
    X = pd.read_csv(csv_path).to_numpy(dtype=np.float64)
    t.append(time.perf_counter())
    clf = IsolationForest(n_estimators=100, n_jobs=n_jobs, random_state=0).fit(X)
    t.append(time.perf_counter())
    s = clf.score_samples(X)
    t.append(time.perf_counter())
    pd.DataFrame({"score": s}).to_csv(scores_path, index=False)
    t.append(time.perf_counter())
    names = ["read_csv", "fit", "score_samples", "to_csv"]
    run = {name: t[i + 1] - t[i] for i, name in enumerate(names)}
    run["total"] = t[-1] - t[0]
    return run


def cli_run(binary, csv_path, model, scores):
    train, _ = common.run([binary, "train", "--features-csv", csv_path, "--out", model, "--quiet"])
    score, _ = common.run([binary, "score", model, "--features-csv", csv_path, "--out", scores])
    # The same job in one process: train writes the training rows' scores itself.
    kept = scores + ".train"
    one_pass, _ = common.run([binary, "train", "--features-csv", csv_path, "--out", model,
                              "--scores", kept, "--quiet"])
    with open(kept, "rb") as a, open(scores, "rb") as b:
        if a.read() != b.read():
            sys.exit(f"error: {kept} (train --scores) differs from {scores} (score)")
    return {"train": train, "score": score, "total": train + score, "train_scores": one_pass}


def best(runs, key="total"):
    return min(runs, key=lambda r: r[key])


def bench_csv(args, binary, out):
    n, d = args.rows, args.features
    X, _ = common.speed_dataset(n, d, args.data_seed, 0.01)
    csv_path = os.path.join(args.workdir, f"data_{n}x{d}_s{args.data_seed}.csv")
    if not os.path.exists(csv_path):
        log(f"writing {csv_path} ...")
        common.write_csv(csv_path, X, [f"f{j}" for j in range(d)])
    del X
    size = os.path.getsize(csv_path)
    log(f"== CSV {n:,} x {d} ({size / 1e6:,.0f} MB), best of {args.repeat} ==")
    model = os.path.join(args.workdir, "model.json")
    scores = os.path.join(args.workdir, "scores.csv")
    sk_scores = os.path.join(args.workdir, "sklearn_scores.csv")
    sk_runs, cli_runs = [], []
    for r in range(args.repeat):
        common.check_load(common.load_info(), f"run {r + 1}")
        cli_runs.append(cli_run(binary, csv_path, model, scores))
        log(f"  run {r + 1}: mcp-train train {cli_runs[-1]['train']:.2f} s + score "
            f"{cli_runs[-1]['score']:.2f} s; train --scores {cli_runs[-1]['train_scores']:.2f} s")
        sk_runs.append(sklearn_run(csv_path, sk_scores, args.n_jobs))
        log(f"  run {r + 1}: scikit-learn + pandas {sk_runs[-1]['total']:.2f} s ("
            + ", ".join(f"{k} {v:.2f}" for k, v in sk_runs[-1].items() if k != "total") + ")")
    res = {"rows": n, "features": d, "csv_bytes": size, "sklearn": best(sk_runs),
           "cli": best(cli_runs), "sklearn_runs": sk_runs, "cli_runs": cli_runs}
    out["csv"] = res
    return res


def bench_export(args, binary, out):
    n = args.export_records
    export = os.path.join(args.workdir, f"export_{n}.json")
    if not os.path.exists(export):
        log(f"writing {export} ...")
        common.run([binary, "synth", "--records", str(n), "--seed", "1", "--out", export])
    size = os.path.getsize(export)
    log(f"== export -> model: {n:,} records ({size / 1e6:,.0f} MB), best of {args.repeat} ==")
    runs = []
    for r in range(args.repeat):
        t, _ = common.run([binary, "train", export, "--out",
                           os.path.join(args.workdir, "export_model.json"), "--quiet"])
        runs.append(t)
        log(f"  run {r + 1}: {t:.2f} s")
    res = {"records": n, "bytes": size, "train": min(runs), "runs": runs}
    out["export"] = res
    return res


def bench_browser(args, out):
    log(f"== browser vs CLI: {args.export_records:,} records (scripts/bench-web.sh) ==")
    env = dict(os.environ, BENCH_SIZES=str(args.export_records), BENCH_RUNS=str(args.repeat))
    p = subprocess.run(["bash", os.path.join(REPO, "scripts", "bench-web.sh")], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = [l for l in p.stdout.splitlines() if l.startswith("|")]
    out["browser"] = {"exit": p.returncode, "table": lines}
    if p.returncode != 0:
        log(p.stdout[-3000:])
        log(f"  bench-web.sh failed ({p.returncode})")
    return lines


def report(csv_res, export_res, browser_lines):
    log("")
    log("=" * 78)
    if csv_res:
        sk, cli = csv_res["sklearn"], csv_res["cli"]
        mb = csv_res["csv_bytes"] / 1e6
        log(f"{csv_res['rows']:,} x {csv_res['features']} CSV ({mb:,.0f} MB): train + score, "
            "seconds (best run)")
        log("")
        log(f"| | scikit-learn {sklearn.__version__} + pandas {pd.__version__} | mcp-train CLI |")
        log("|---|---:|---:|")
        log(f"| read + fit + score (train) | {sk['read_csv']:.2f} + {sk['fit']:.2f} "
            f"(read_csv + fit) | {cli['train']:.2f} (`train`) |")
        log(f"| score + write (score) | {sk['score_samples']:.2f} + {sk['to_csv']:.2f} "
            f"(score_samples + to_csv) | {cli['score']:.2f} (`score`, reads the CSV again) |")
        log(f"| total | {sk['total']:.2f} | {cli['total']:.2f} |")
        log(f"| speed-up | | {sk['total'] / cli['total']:.1f}x |")
        one = min(r["train_scores"] for r in csv_res["cli_runs"])
        log(f"| one pass: `train --scores` (same scores file, byte for byte) | {sk['total']:.2f} "
            f"| {one:.2f} → {sk['total'] / one:.1f}x |")
        log(f"| CSV read, MB/s | {mb / sk['read_csv']:,.0f} (read_csv) | "
            "see `cargo bench --bench pipeline` features_csv |")
    if export_res:
        log("")
        log(f"export -> model: `mcp-train train` on {export_res['records']:,} records "
            f"({export_res['bytes'] / 1e6:,.0f} MB): {export_res['train']:.2f} s "
            f"({export_res['bytes'] / 1e6 / export_res['train']:,.0f} MB/s, "
            f"{export_res['records'] / export_res['train'] / 1e6:.2f} M records/s end to end)")
    if browser_lines:
        log("")
        log("browser vs CLI on the same export:")
        for l in browser_lines:
            log(l)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--bin", default=os.path.join(target_dir(), "release", "mcp-train"))
    p.add_argument("--workdir", default="/tmp/bench-datapath")
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--features", type=int, default=30)
    p.add_argument("--data-seed", type=int, default=0)
    p.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    p.add_argument("--n-jobs", type=int, default=2, help="scikit-learn n_jobs")
    p.add_argument("--export-records", type=int, default=1_000_000,
                   help="records of the synthetic export trained end to end (0 skips it)")
    p.add_argument("--browser", action="store_true",
                   help="also the web app against the CLI on that export (scripts/bench-web.sh)")
    args = p.parse_args()
    binary = os.path.abspath(args.bin)
    if not os.access(binary, os.X_OK):
        sys.exit(f"error: {binary} not found; build it with: cargo build --release -p mcp-train")
    os.makedirs(args.workdir, exist_ok=True)
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
    out = {"meta": {"mcp_train": version, "sklearn": sklearn.__version__,
                    "pandas": pd.__version__, "numpy": np.__version__,
                    "python": platform.python_version(), "cpus": os.cpu_count(),
                    "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "load_at_start": common.load_info()}}
    log(f"{version} vs scikit-learn {sklearn.__version__} + pandas {pd.__version__}, "
        f"{os.cpu_count()} CPUs; {out['meta']['load_at_start']['uptime']}")
    csv_res = bench_csv(args, binary, out) if args.rows > 0 else None
    export_res = bench_export(args, binary, out) if args.export_records > 0 else None
    browser = bench_browser(args, out) if args.browser and args.export_records > 0 else None
    report(csv_res, export_res, browser)
    path = os.path.join(args.workdir, "datapath.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=2)
    log(f"\nresults written to {path}")


if __name__ == "__main__":
    main()
