"""Fleet-scale training and scoring on Apache Spark: one model per site, trained and scored by
the Rust core inside Spark's Python workers, kept in the shared registry.

    from mcp_train.spark import train_per_site, score
    logs = spark.read.json("s3a://fleet-logs/2026/12/")         # export records + a site column
    trained = train_per_site(logs, registry="s3://mcp-models", order_col="id", seed=1)
    scored = score(logs, registry="s3://mcp-models", order_col="id")
    scored.filter("is_anomaly").write.parquet("s3a://fleet-alerts/2026/12/")

- **Per-site registries.** Site `S`'s models live in the registry at `<registry>/sites/S`
  (`site_registry`): a registry of its own, as `mcp-train models --registry` and
  `mcp-train serve --registry` read it, with the usual log types and one deployed model per log
  type. The models themselves are untouched `model.json` files, so a site's model scores in the
  CLI, the server and the deployment package as it does here.
- **Whole sites, in order.** The features of a record look back over trailing time windows
  (5, 15 and 60 minutes) of its log, and training takes its scaler, process vocabulary and
  contamination offset over every row. So a site's rows must be seen together, in order:
  training gets each site as one group (`groupBy(site).applyInArrow`), scoring repartitions by
  site and sorts within partitions (`repartition(site)`, `sortWithinPartitions(site, order)`)
  before `mapInArrow`, and gathers each site's batches before scoring them. A site must fit in
  one Python worker's memory, as `applyInArrow`'s groups must.
- **Order.** The core orders records by timestamp, ties kept in input order. Give `order_col`
  (a column that sorts rows into input order: an export's `id`, or `monotonically_increasing_id()`
  taken when reading) to reproduce `mcp-train` bit for bit when timestamps repeat; without it
  rows are sorted by `timestamp` and ties come in Spark's order.
- **Arrow in Rust.** Batches go to the core through the Arrow PyCapsule interface: no per-row
  Python work. The columns are the export's fields (`timestamp`, `message`, `process_name`,
  `log_level`, optional `label`, `is_anomaly`, `device_id`); others are carried through.

pyspark and pyarrow are imported when these functions are called: `import mcp_train` does not
need them.
"""

import datetime as _dt
import os
import re
import uuid
from typing import Iterator, Tuple

from ._mcp_train import McpTrainError
from ._product import _error
from ._product import score as _score
from ._product import train as _train
from ._registry import Registry

__all__ = ["score", "site_location", "site_registry", "train_per_site"]

# A site names a folder or object prefix: letters, digits, '.', '_' and '-', not '.' or '..'.
_SITE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z")

# The export fields the core reads (see `export_from_arrow`).
_REQUIRED = ("timestamp", "message", "process_name", "log_level")
_OPTIONAL = ("label", "is_anomaly", "device_id", "hostname", "host")

_SCORE_COLUMNS = ("score", "decision", "is_anomaly")

# model.json bytes per (job, registry, site, model, log type), kept for the life of a Python
# worker: each site's model is read once per worker and job, not once per batch.
_MODELS = {}


def site_location(registry, site):
    """Where site `site`'s registry is: `<registry>/sites/<site>` (a directory or a URL)."""
    text = str(site)
    if not _SITE.match(text):
        raise _error(
            "invalid_parameter",
            f"site {text!r}: a site names a registry folder, so it must be 1-128 letters, digits, "
            "'.', '_' or '-', starting with a letter or digit",
        )
    root = os.fspath(registry)
    if "://" in root:
        return f"{root.rstrip('/')}/sites/{text}"
    return os.path.join(root, "sites", text)


def site_registry(registry, site):
    """The `Registry` of site `site`: `Registry(site_location(registry, site))`."""
    return Registry(site_location(registry, site))


def _check_columns(df, site_col, order_col):
    missing = [c for c in (site_col, *_REQUIRED) if c not in df.columns]
    if order_col is not None and order_col not in df.columns:
        missing.append(order_col)
    if missing:
        raise _error(
            "invalid_export",
            f"no column {missing[0]!r} in the DataFrame (columns: {', '.join(df.columns)}); "
            f"rows need {site_col!r} and the export fields {', '.join(_REQUIRED)}",
        )


def _seconds(now):
    if now is None:
        return None
    if isinstance(now, _dt.datetime):
        if now.tzinfo is None:
            now = now.replace(tzinfo=_dt.timezone.utc)
        return now.timestamp()
    return now


def train_per_site(
    df,
    *,
    registry,
    site_col="site",
    order_col=None,
    detector=None,
    seed=None,
    contamination=None,
    n_estimators=None,
    max_samples=None,
    n_neighbors=None,
    drop_invalid=None,
    deploy=True,
    now=None,
):
    """Trains one model per site of `df` and registers it (deployed, unless `deploy=False`) in
    the site's registry (`site_registry(registry, site)`); returns a DataFrame with one row per
    site: the site, the model's `version`, `log_type`, `status`, `detector`, `n_records` (rows
    of the site) and `samples` (rows the detector was fitted on).

    Each site is one `groupBy(site_col).applyInArrow` group, sorted by `order_col` when given,
    and trained by the Rust core as `mcp-train train` trains an export of the same records. The
    training parameters are `mcp_train.train`'s. `now` (datetime or seconds) is every model's
    creation time, which makes the models reproducible (the CLI's SOURCE_DATE_EPOCH); without
    it each model takes its worker's clock.

    Runs at once (the summary is collected to the driver, one row per site), so models are
    registered once — not again each time the result is used. A task Spark retries after its
    model was registered registers it again, under the next free version."""
    import pyarrow as pa
    from pyspark.sql import types as T

    _check_columns(df, site_col, order_col)
    location = os.fspath(registry)
    now_seconds = _seconds(now)
    choices = {
        "detector": detector,
        "seed": seed,
        "contamination": contamination,
        "n_estimators": n_estimators,
        "max_samples": max_samples,
        "n_neighbors": n_neighbors,
        "drop_invalid": drop_invalid,
    }
    wanted = [site_col] + [c for c in (*_REQUIRED, *_OPTIONAL) if c in df.columns]
    if order_col is not None and order_col not in wanted:
        wanted.append(order_col)
    schema = T.StructType(
        [
            T.StructField(site_col, T.StringType()),
            T.StructField("version", T.StringType()),
            T.StructField("log_type", T.StringType()),
            T.StructField("status", T.StringType()),
            T.StructField("detector", T.StringType()),
            T.StructField("n_records", T.LongType()),
            T.StructField("samples", T.LongType()),
        ]
    )

    # Full type hints: pyspark 4.3's applyInArrow fails without them (UnboundLocalError). The
    # work is in a module-level function: cloudpickle ships this closure by value, and the
    # names it uses would be copies in the worker (an `except McpTrainError` that never
    # matches); a module-level function runs in the module the worker imports.
    def fit_site(key: Tuple[pa.Scalar, ...], table: pa.Table) -> pa.Table:
        return _fit_site(
            key[0].as_py(), table, location, site_col, order_col, choices, deploy, now_seconds
        )

    rows = df.select(*wanted).groupBy(site_col).applyInArrow(fit_site, schema).collect()
    return df.sparkSession.createDataFrame(rows, schema)


def _fit_site(site, table, location, site_col, order_col, choices, deploy, now_seconds):
    """Trains, registers and (with `deploy`) deploys the model of one site's rows; its summary
    row as a one-row table."""
    import pyarrow as pa

    if site is None:
        raise _error(
            "invalid_export",
            f"column {site_col!r} is null in {table.num_rows} rows; every row needs a site",
        )
    where = site_registry(location, site)
    if order_col is not None:
        table = table.sort_by([(order_col, "ascending")])
    try:
        model = _train(table, file_name=f"{site}.arrow", now=now_seconds, **choices)
    except McpTrainError as e:
        # `from None`: Spark's simplified traceback shows the first exception of a chain only;
        # this message carries the cause's.
        raise _error(getattr(e, "code", "invalid_export"), f"site {str(site)!r}: {e}") from None
    record = where.register(model, now=now_seconds)
    if deploy:
        record, _ = where.deploy(record["version"], now=now_seconds)
    return pa.table(
        {
            site_col: [str(site)],
            "version": [record["version"]],
            "log_type": [record["log_type"]],
            "status": [record["status"]],
            "detector": [record["detector"]],
            "n_records": pa.array([table.num_rows], pa.int64()),
            "samples": pa.array([record["samples"]], pa.int64()),
        }
    )


def score(
    df,
    *,
    registry,
    site_col="site",
    order_col=None,
    model="deployed",
    log_type=None,
    partitions=None,
):
    """`df` with the columns `score`, `decision` and `is_anomaly` added, each row scored by its
    site's model (`model`: "deployed", "latest" or a version, in the site's registry; of
    `log_type` when the site has several). Lazy, like any DataFrame.

    Rows are repartitioned by site (`partitions` partitions, default
    `spark.sql.shuffle.partitions`) and sorted within partitions by site and `order_col` (else
    `timestamp`), then each site's rows are scored together by the Rust core as
    `mcp-train score` scores the same records in a file — bit for bit. The result comes in that
    order. A site without such a model fails the job with McpTrainError naming the site; an
    error in a record names the site and the record's position among the site's rows (in
    order)."""
    import pyarrow as pa
    from pyspark.sql import types as T

    _check_columns(df, site_col, order_col)
    taken = [c for c in _SCORE_COLUMNS if c in df.columns]
    if taken:
        raise _error(
            "invalid_parameter",
            f"the DataFrame already has a column {taken[0]!r}; score() adds score, decision "
            "and is_anomaly (rename or drop it first)",
        )
    schema = T.StructType(
        df.schema.fields
        + [
            T.StructField("score", T.DoubleType()),
            T.StructField("decision", T.DoubleType()),
            T.StructField("is_anomaly", T.BooleanType()),
        ]
    )
    location = os.fspath(registry)
    job = uuid.uuid4().hex
    n = partitions or int(df.sparkSession.conf.get("spark.sql.shuffle.partitions"))
    arranged = df.repartition(n, site_col).sortWithinPartitions(site_col, order_col or "timestamp")

    def score_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        return _score_sites(batches, location, site_col, model, log_type, job)

    return arranged.mapInArrow(score_batches, schema)


def _site_runs(column):
    """(start, length, site) of each run of equal sites in an Arrow column."""
    import pyarrow.compute as pc

    n = len(column)
    if n == 0:
        return []
    if column.null_count:
        first = pc.indices_nonzero(pc.is_null(column))[0].as_py()
        raise _error("invalid_export", f"a row has no site (null at row {first} of a batch)")
    starts = [0]
    if n > 1:
        changed = pc.not_equal(column.slice(1), column.slice(0, n - 1))
        starts += [i + 1 for i in pc.indices_nonzero(changed).to_pylist()]
    ends = starts[1:] + [n]
    return [(s, e - s, column[s].as_py()) for s, e in zip(starts, ends)]


def _score_sites(batches, location, site_col, model, log_type, job):
    """Scores a partition sorted by site: each site's rows, gathered across batches, at once."""
    pending, current, done = [], None, set()
    for batch in batches:
        for start, length, site in _site_runs(batch.column(site_col)):
            if pending and site != current:
                yield from _score_site(current, pending, location, model, log_type, job)
                done.add(current)
                pending = []
            if site in done:
                # Sorted partitions keep a site's rows together; scoring half a site would
                # change the features of its windows.
                raise _error(
                    "internal",
                    f"site {str(site)!r}: its rows are not together in the partition",
                )
            current = site
            pending.append(batch.slice(start, length))
    if pending:
        yield from _score_site(current, pending, location, model, log_type, job)


def _site_model(location, site, model, log_type, job):
    key = (job, location, site, model, log_type)
    if key not in _MODELS:
        try:
            data, _ = site_registry(location, site).model(model, log_type)
        except McpTrainError as e:
            raise _error(
                getattr(e, "code", "registry"),
                f"site {str(site)!r}: no {model} model in {site_location(location, site)}: {e}",
            ) from None
        _MODELS[key] = data
    return _MODELS[key]


def _score_site(site, batches, location, model, log_type, job):
    import numpy as np
    import pyarrow as pa

    table = pa.Table.from_batches(batches)
    data = _site_model(location, site, model, log_type, job)
    try:
        scored = _score(data, table)
    except McpTrainError as e:
        raise _error(getattr(e, "code", "invalid_export"), f"site {str(site)!r}: {e}") from None
    # The core gives rows in timestamp order, each with its record index: put them back in
    # row order. Every record is scored (bad ones fail above), so the indexes are 0..n.
    index = scored["index"]
    n = table.num_rows
    if len(index) != n or not np.array_equal(np.sort(index), np.arange(n)):
        raise _error("internal", f"site {str(site)!r}: {len(index)} scores for {n} rows")
    columns = {}
    for name in _SCORE_COLUMNS:
        values = np.empty(n, dtype=scored[name].dtype)
        values[index] = scored[name]
        columns[name] = values
    out = (
        table.append_column("score", pa.array(columns["score"], pa.float64()))
        .append_column("decision", pa.array(columns["decision"], pa.float64()))
        .append_column("is_anomaly", pa.array(columns["is_anomaly"], pa.bool_()))
    )
    yield from out.to_batches()
