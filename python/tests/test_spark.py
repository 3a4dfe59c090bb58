"""mcp_train.spark on Apache Spark (PySpark, started here): per-site training of 3 sites into a
shared registry (a moto S3 bucket; a directory for the local-cluster run) and scoring that gives
`mcp-train score`'s scores on the same rows, bit for bit.

Slow (each session starts a JVM; local-cluster starts three): run only with MCP_TRAIN_SPARK=1,
which `scripts/py.sh spark` sets (it also installs PySpark and Java: scripts/tools.sh
ensure_spark)."""

import json
import os
import random
import sys

import numpy as np
import pytest

if os.environ.get("MCP_TRAIN_SPARK") != "1":
    pytest.skip(
        "Spark tests are slow (JVM start-up): set MCP_TRAIN_SPARK=1, or run scripts/py.sh spark",
        allow_module_level=True,
    )
try:
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F
    from pyspark.errors import PySparkException
except ImportError as e:  # the flag is set: a missing PySpark is a broken setup, not a skip
    raise RuntimeError(
        "MCP_TRAIN_SPARK=1 but pyspark is missing: run scripts/py.sh spark (ensure_spark)"
    ) from e

import mcp_train
from mcp_train import McpTrainError
from mcp_train.spark import score, site_location, site_registry, train_per_site

EPOCH = 1_700_000_000
SITES = {"paris-3": 11, "lyon-1": 12, "nice-2": 13}  # site -> synth seed
RECORDS = 1500
TRAIN = dict(seed=1, n_estimators=50, now=EPOCH)


@pytest.fixture(scope="module")
def fleet(cli, tmp_path_factory):
    """One export per site (`mcp-train synth`) and all their records, each with its site, in
    one NDJSON file in shuffled order: Spark must regroup and reorder them."""
    folder = tmp_path_factory.mktemp("fleet")
    exports, lines = {}, []
    for site, seed in SITES.items():
        path = folder / f"{site}.json"
        cli("synth", "--records", RECORDS, "--seed", seed, "--access-points", seed % 5 + 2,
            "--out", path)
        exports[site] = path
        for record in json.loads(path.read_bytes())["data"]:
            lines.append(json.dumps(dict(record, site=site)))
    random.Random(0).shuffle(lines)
    logs = folder / "fleet.ndjson"
    logs.write_text("\n".join(lines) + "\n")
    return exports, logs


def _session(master, app):
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    return (
        SparkSession.builder.master(master)
        .appName(app)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.pyspark.python", sys.executable)
        .config("spark.driver.host", "127.0.0.1")
        # Small Arrow batches: a site's rows span many batches, which scoring must gather.
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "400")
        .getOrCreate()
    )


@pytest.fixture(scope="module")
def spark(s3):
    """A local[2] session, started after the S3 environment is set so that its Python workers
    reach the bucket; stopped at the end."""
    session = _session("local[2]", "mcp-train-test")
    try:
        yield session
    finally:
        session.stop()


def _cli_scores(cli, model_bytes, export, folder, env=None):
    model = folder / "model.json"
    model.write_bytes(model_bytes)
    out = folder / "scores.json"
    cli("score", model, export, "--out", out, env=env)
    return json.loads(out.read_text())


def _bits(values):
    return np.asarray(values, dtype=np.float64).view(np.uint64)


def _check_fleet(cli, spark, fleet, registry, tmp_path, env=None):
    """Trains per site into `registry`, scores, and compares with the CLI, site by site."""
    exports, logs = fleet
    df = spark.read.json(str(logs))
    summary = train_per_site(df, registry=registry, order_col="id", **TRAIN)
    rows = {r["site"]: r for r in summary.collect()}
    assert sorted(rows) == sorted(SITES)
    for site, row in rows.items():
        assert (row["status"], row["log_type"], row["n_records"]) == ("deployed", "wifi", RECORDS)
        assert row["version"] == "20231114_221320"  # the models' creation time, EPOCH

    scored = score(df, registry=registry, order_col="id")
    assert scored.columns == df.columns + ["score", "decision", "is_anomaly"]
    result = scored.select("site", "id", "score", "decision", "is_anomaly").toPandas()
    assert len(result) == RECORDS * len(SITES)
    for site, export in exports.items():
        folder = tmp_path / site
        folder.mkdir()
        model, record = site_registry(registry, site).model("deployed")
        assert record["version"] == rows[site]["version"]
        # Spark trained what the CLI trains on the site's export (all but the input's lineage).
        cli_model = folder / "cli-model.json"
        cli("train", export, "--seed", 1, "--n-estimators", 50, "--out", cli_model,
            env={"SOURCE_DATE_EPOCH": str(EPOCH)})
        ours, theirs = json.loads(model), json.loads(cli_model.read_bytes())
        ours.pop("lineage"), theirs.pop("lineage")
        assert ours == theirs, site
        # Spark's scores of the site's rows are the CLI's, bit for bit.
        want = _cli_scores(cli, model, export, folder, env=env)
        got = result[result["site"] == site].sort_values("id")
        assert got["id"].tolist() == list(range(1, RECORDS + 1))
        np.testing.assert_array_equal(_bits(got["score"]), _bits([r["score"] for r in want]))
        np.testing.assert_array_equal(
            _bits(got["decision"]), _bits([r["decision"] for r in want])
        )
        assert got["is_anomaly"].tolist() == [r["is_anomaly"] for r in want]
        assert 0 < got["is_anomaly"].sum() < RECORDS
    return df


def test_per_site_training_and_scoring_equal_the_cli_on_s3(cli, spark, fleet, s3, tmp_path):
    registry = "s3://models/fleet"
    _check_fleet(cli, spark, fleet, registry, tmp_path, env=s3)
    # The CLI and servers see each site's registry where Spark wrote it.
    listed = json.loads(
        cli("models", "--registry", site_location(registry, "lyon-1"), "list", "--json",
            env=s3).stdout
    )
    assert [m["status"] for m in listed["models"]] == ["deployed"]


def test_training_again_archives_and_scoring_takes_the_new_model(spark, fleet, tmp_path):
    registry = tmp_path / "reg"
    df = spark.read.json(str(fleet[1])).filter(F.col("site") == "nice-2")
    first = train_per_site(df, registry=registry, order_col="id", seed=1, n_estimators=20,
                           now=EPOCH).collect()
    second = train_per_site(df, registry=registry, order_col="id", seed=2, n_estimators=20,
                            now=EPOCH).collect()
    assert (first[0]["version"], second[0]["version"]) == ("20231114_221320", "20231114_221321")
    statuses = {m["version"]: m["status"] for m in site_registry(registry, "nice-2").list()}
    assert statuses == {"20231114_221320": "archived", "20231114_221321": "deployed"}
    model, _ = site_registry(registry, "nice-2").model("deployed")
    table = df.sort("id").toArrow()
    want = mcp_train.score(model, table)["score"]
    got = score(df, registry=registry, order_col="id").sort("id").toArrow()
    np.testing.assert_array_equal(_bits(got.column("score")), _bits(want))


def _job_error(run):
    with pytest.raises(PySparkException) as e:
        run()
    return str(e.value)


def test_bad_rows_and_missing_models_fail_the_job_naming_the_site(spark, fleet, tmp_path):
    registry = tmp_path / "reg"
    df = spark.read.json(str(fleet[1])).filter(F.col("site") == "lyon-1")
    train_per_site(df, registry=registry, order_col="id", n_estimators=10, now=EPOCH)
    broken = df.withColumn(
        "message", F.when(F.col("id") == 5, F.lit(None)).otherwise(F.col("message"))
    )
    message = _job_error(lambda: score(broken, registry=registry, order_col="id").collect())
    assert "McpTrainError: site 'lyon-1': record 4: column \"message\" is null" in message
    elsewhere = df.withColumn("site", F.lit("rome-9"))
    message = _job_error(lambda: score(elsewhere, registry=registry).collect())
    assert "site 'rome-9': no deployed model in " in message
    nowhere = df.withColumn("site", F.lit(None).cast("string"))
    message = _job_error(lambda: score(nowhere, registry=registry).collect())
    assert "McpTrainError: a row has no site (null at row 0 of a batch)" in message
    alone = df.filter(F.col("id") == 1).withColumn("site", F.lit("solo"))
    message = _job_error(lambda: train_per_site(alone, registry=registry, now=EPOCH))
    assert "McpTrainError: site 'solo': need at least 2 rows to train, found 1" in message
    with pytest.raises(McpTrainError, match="no column 'process_name' in the DataFrame"):
        score(df.drop("process_name"), registry=registry)
    with pytest.raises(McpTrainError, match="site '../x': a site names a registry folder"):
        site_location(registry, "../x")


@pytest.fixture
def cluster(spark):
    """local-cluster[2,1,1024]: two executor JVMs, each with its own Python workers — the
    nearest thing to a cluster on one machine. The local[2] session stops first (one
    SparkContext per process), so this test comes last."""
    spark.stop()
    session = _session("local-cluster[2,1,1024]", "mcp-train-test-cluster")
    try:
        yield session
    finally:
        session.stop()


def test_on_a_local_cluster_scores_equal_the_cli(cli, cluster, fleet, tmp_path):
    assert cluster.sparkContext.master == "local-cluster[2,1,1024]"
    _check_fleet(cli, cluster, fleet, str(tmp_path / "registry"), tmp_path)
    workers = cluster.sparkContext._jsc.sc().getExecutorMemoryStatus().size()
    assert workers == 3  # the driver and two executors

