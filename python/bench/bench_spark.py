#!/usr/bin/env python3
"""Scoring through Spark local[2] with the wheel (mcp_train.spark.score) against the mcp-train CLI
on the same records.

    scripts/py.sh bench-spark [ROWS]   # release wheel and CLI; the Spark venv (ensure_spark)
    python bench_spark.py --rows 1000000 --sites 4 --cli target/release/mcp-train

The data: `mcp-train synth` exports, one per site (ROWS / SITES records each), written once more
as one Parquet file with a `site` column (not timed). Models: one per site, trained by the CLI
and registered in a directory registry per site (`<registry>/sites/<site>`, as train_per_site
lays it out). Then, one run each, wall clock (time.perf_counter):

- CLI: `mcp-train score MODEL EXPORT --out scores.csv`, site after site (one process at a time).
- wheel: `mcp_train.score(model, table)` per site on a pyarrow Table in this process (no Spark):
  what the Rust core costs from Arrow.
- Spark: `score(df, ...)` on the Parquet file, written back to Parquet: read, repartition by
  site, sort, Arrow batches to the Python workers, score, write. The session start is timed
  apart. Also `train_per_site` on the same DataFrame.

The anomaly counts of the CLI and of Spark are printed side by side (they must agree; the tests
check the scores bit for bit). The load average is printed too: rerun when the machine was busy.
"""

import argparse
import csv
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

import pyarrow as pa
import pyarrow.parquet as pq

import mcp_train
from mcp_train.spark import score, site_registry, train_per_site

EPOCH = 1_700_000_000
COLUMNS = ["id", "device_id", "timestamp", "log_level", "process_name", "message", "label"]


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def rate(rows, seconds):
    return f"{seconds:7.2f} s  {rows / seconds:>12,.0f} records/s"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sites", type=int, default=4)
    parser.add_argument("--cli", required=True, help="the mcp-train binary")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    per_site = args.rows // args.sites
    rows = per_site * args.sites
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-spark-"))
    try:
        run(args, per_site, rows, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def cli(args, *argv, env=None):
    done = subprocess.run([args.cli, "--quiet", *map(str, argv)], capture_output=True,
                          env=dict(os.environ, **(env or {})))
    if done.returncode != 0:
        sys.exit(f"mcp-train {' '.join(map(str, argv))}: {done.stderr.decode(errors='replace')}")


def run(args, per_site, rows, work):
    sites = [f"site-{i}" for i in range(args.sites)]
    registry = work / "registry"
    exports, tables = {}, []
    for i, site in enumerate(sites):
        export = work / f"{site}.json"
        cli(args, "synth", "--records", per_site, "--seed", i + 1, "--out", export)
        exports[site] = export
        records = json.loads(export.read_bytes())["data"]
        table = pa.table({c: [r[c] for r in records] for c in COLUMNS})
        tables.append(table.append_column("site", pa.array([site] * table.num_rows)))
        model = work / f"{site}.model.json"
        cli(args, "train", export, "--seed", 1, "--out", model,
            env={"SOURCE_DATE_EPOCH": str(EPOCH)})
        reg = site_registry(registry, site)
        reg.deploy(reg.register(model.read_bytes(), now=EPOCH)["version"], now=EPOCH)
    fleet = pa.concat_tables(tables)
    parquet = work / "fleet.parquet"
    pq.write_table(fleet, parquet)
    size = sum(e.stat().st_size for e in exports.values())
    print(
        f"{rows:,} records in {args.sites} sites ({size / 2**20:.0f} MiB of exports); "
        f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}; "
        f"Python {sys.version.split()[0]}, pyarrow {pa.__version__}, mcp_train {mcp_train.__version__}"
    )

    def cli_scores():
        anomalies = 0
        for site, export in exports.items():
            out = work / f"{site}.scores.csv"
            cli(args, "score", work / f"{site}.model.json", export, "--out", out)
            with open(out, newline="") as f:
                anomalies += sum(r["is_anomaly"] == "1" for r in csv.DictReader(f))
        return anomalies

    seconds, cli_anomalies = timed(cli_scores)
    print(f"CLI   mcp-train score, site after site:     {rate(rows, seconds)}")

    def wheel_scores():
        anomalies = 0
        for site, table in zip(sites, tables):
            data, _ = site_registry(registry, site).model("deployed")
            anomalies += int(mcp_train.score(data, table)["is_anomaly"].sum())
        return anomalies

    seconds, wheel_anomalies = timed(wheel_scores)
    print(f"wheel mcp_train.score(table), no Spark:     {rate(rows, seconds)}")

    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    seconds, spark = timed(
        lambda: SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "2g")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    print(f"Spark session start (local[2]):             {seconds:7.2f} s")
    try:
        df = spark.read.parquet(str(parquet))
        out = work / "scored.parquet"
        seconds, _ = timed(
            lambda: score(df, registry=str(registry), order_col="id")
            .write.mode("overwrite").parquet(str(out))
        )
        print(f"Spark score() read+shuffle+score+write:     {rate(rows, seconds)}")
        spark_anomalies = spark.read.parquet(str(out)).filter("is_anomaly").count()
        seconds, summary = timed(
            lambda: train_per_site(df, registry=str(work / "trained"), order_col="id", seed=1,
                                   now=EPOCH).collect()
        )
        print(f"Spark train_per_site ({len(summary)} models):             {rate(rows, seconds)}")
    finally:
        spark.stop()
    print(f"anomalies flagged: CLI {cli_anomalies:,}, wheel {wheel_anomalies:,}, "
          f"Spark {spark_anomalies:,}")
    if not cli_anomalies == wheel_anomalies == spark_anomalies:
        sys.exit("the anomaly counts differ")


if __name__ == "__main__":
    main()
