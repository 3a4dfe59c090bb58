#!/usr/bin/env python3
"""Train one model per site and score every record, on Apache Spark (docs/spark.md).

    spark-submit spark_job.py --logs s3a://fleet-logs/2026/12/ --registry s3://mcp-models \\
        --alerts s3a://fleet-alerts/2026/12/ --order-col id --seed 1
    python spark_job.py --logs fleet.ndjson --registry ./registry --alerts ./alerts --local

The logs are export records (NDJSON, or Parquet with --parquet) with a site column. Each site's
model goes to `<registry>/sites/<site>` and is deployed; then every record is scored by its
site's deployed model and the anomalies are written as Parquet. Every executor needs the
mcp_train wheel and pyarrow. Object storage credentials come from the usual environment
(AWS_*, GOOGLE_*, AZURE_*): set them for the executors too (spark.executorEnv.*).
"""

import argparse

from pyspark.sql import SparkSession

from mcp_train.spark import score, train_per_site


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", required=True, help="export records with a site column")
    parser.add_argument("--parquet", action="store_true", help="the logs are Parquet")
    parser.add_argument("--registry", required=True, help="a directory or s3://, gs://, az://")
    parser.add_argument("--alerts", required=True, help="where the anomalies go (Parquet)")
    parser.add_argument("--site-col", default="site")
    parser.add_argument("--order-col", help="a column in input order (e.g. the export's id)")
    parser.add_argument("--detector", choices=["isolation_forest", "lof"])
    parser.add_argument("--seed", type=int)
    parser.add_argument("--skip-training", action="store_true",
                        help="score with the models deployed now")
    parser.add_argument("--local", action="store_true", help="run on local[2]")
    args = parser.parse_args()

    builder = SparkSession.builder.appName("mcp-train fleet")
    if args.local:
        builder = builder.master("local[2]").config("spark.ui.enabled", "false")
    spark = builder.getOrCreate()
    try:
        reader = spark.read.parquet if args.parquet else spark.read.json
        logs = reader(args.logs)
        if not args.skip_training:
            trained = train_per_site(
                logs,
                registry=args.registry,
                site_col=args.site_col,
                order_col=args.order_col,
                detector=args.detector,
                seed=args.seed,
            )
            trained.show(truncate=False)
        scored = score(
            logs, registry=args.registry, site_col=args.site_col, order_col=args.order_col
        )
        scored.filter("is_anomaly").write.mode("overwrite").parquet(args.alerts)
        flagged = spark.read.parquet(args.alerts).count()
        print(f"{flagged} anomalies written to {args.alerts}")
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
