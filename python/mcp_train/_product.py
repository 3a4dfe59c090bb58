"""mcp-train's product functions: what the `mcp-train` CLI does, on bytes or files, giving the
same bytes. Each is the core call the CLI makes, with the built-in configuration; the clock is
read here (the core has none) and can be given for reproducible output.
"""

import datetime as _dt
import json
import os

from . import _mcp_train


def _is_arrow(data):
    """Whether `data` speaks the Arrow PyCapsule interface (a pyarrow Table or RecordBatch, a
    Polars or pandas DataFrame, a DuckDB result, …)."""
    kind = type(data)
    return hasattr(kind, "__arrow_c_stream__") or hasattr(kind, "__arrow_c_array__")


def export_from_arrow(data):
    """The NDJSON export (bytes) of Arrow data: anything with `__arrow_c_stream__` or
    `__arrow_c_array__` — a pyarrow Table or RecordBatch, a Polars or pandas DataFrame, a DuckDB
    result. One record per row, in row order, from the columns `timestamp` (ISO 8601 text or an
    Arrow timestamp), `message`, `process_name`, `log_level` and, when present, `label`,
    `is_anomaly`, `device_id`, `hostname`, `host`; other columns are left out. Read in Rust, no
    per-row Python work. Every product function takes Arrow data this way, so a table gives the
    same features, models and scores as the same records in a file."""
    if not _is_arrow(data):
        raise TypeError(
            "data: expected Arrow data (an object with __arrow_c_stream__ or __arrow_c_array__), "
            f"found {type(data).__name__}"
        )
    return _mcp_train.export_from_arrow(data)


def _bytes(data, what):
    """bytes, a str path or a path-like object (read whole), as the CLI's file arguments; Arrow
    data as its NDJSON export (`export_from_arrow`)."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    if _is_arrow(data):
        return _mcp_train.export_from_arrow(data)
    if isinstance(data, (str, os.PathLike)):
        with open(data, "rb") as f:
            return f.read()
    raise TypeError(
        f"{what}: expected bytes, a path or Arrow data, found {type(data).__name__}"
    )


def _name(data, default):
    if isinstance(data, (str, os.PathLike)):
        return os.fspath(data)
    return default


def _year(data, year):
    """The year of RFC 3164 timestamps that carry none: given, else the file's modification
    year (as the CLI), else this year (UTC)."""
    if year is not None:
        return int(year)
    if isinstance(data, (str, os.PathLike)):
        mtime = os.stat(data).st_mtime
        return _dt.datetime.fromtimestamp(mtime, _dt.timezone.utc).year
    return _dt.datetime.now(_dt.timezone.utc).year


def _micros(when, what):
    """datetime (naive = UTC), seconds since the epoch (int/float) or ISO 8601 text ->
    microseconds since the epoch."""
    if isinstance(when, str):
        text = when.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            when = _dt.datetime.fromisoformat(text)
        except ValueError as e:
            raise _error("invalid_parameter", f"{what}: {e}") from e
    if isinstance(when, _dt.datetime):
        if when.tzinfo is None:
            when = when.replace(tzinfo=_dt.timezone.utc)
        delta = when - _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    if isinstance(when, (int, float)) and not isinstance(when, bool):
        return int(round(when * 1_000_000))
    raise TypeError(f"{what}: expected a datetime, seconds or ISO 8601 text, found {when!r}")


def _error(code, message):
    error = _mcp_train.McpTrainError(message)
    error.code = code
    return error


def validate(data, *, log_type=None, drop_invalid=False, max_examples=None, year=None):
    """`mcp-train validate --json`: the validation report of an export or raw log (bytes or a
    path), as a dict with "valid", "errors", "warnings", … and "log_type"."""
    raw = _bytes(data, "data")
    report = _mcp_train.validate(
        raw,
        log_type=log_type,
        drop_invalid=drop_invalid,
        max_examples=max_examples,
        year=_year(data, year),
    )
    return json.loads(report)


def import_log(data, *, source=None, log_type=None, drop_invalid=False, year=None):
    """`mcp-train import`: the export (bytes) of a raw log. `source` names the log in the
    export's metadata (default: the path given, else "stdin", as the CLI)."""
    raw = _bytes(data, "data")
    return _mcp_train.import_log(
        raw,
        source=source if source is not None else _name(data, "stdin"),
        log_type=log_type,
        drop_invalid=drop_invalid,
        year=_year(data, year),
    )


def features(data, *, drop_invalid=False):
    """`mcp-train features` as arrays: a dict with "X" (float64, n_rows x n_features),
    "feature_names", "record_index" and "labels" (True/False/None per row)."""
    X, names, index, labels = _mcp_train.features(_bytes(data, "data"), drop_invalid=drop_invalid)
    return {"X": X, "feature_names": names, "record_index": index, "labels": labels}


def features_csv(data, *, drop_invalid=False, include_label=False):
    """`mcp-train features --out FILE`: the CSV's bytes."""
    return _mcp_train.features_csv(
        _bytes(data, "data"), drop_invalid=drop_invalid, include_label=include_label
    )


_CHOICES = ("detector", "seed", "contamination", "n_estimators", "max_samples", "n_neighbors")


def _choice_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def train(
    data,
    *,
    features_csv=False,
    label_column=None,
    log_type=None,
    detector=None,
    seed=None,
    contamination=None,
    n_estimators=None,
    max_samples=None,
    n_neighbors=None,
    drop_invalid=None,
    now=None,
    file_name=None,
    year=None,
    progress=None,
):
    """`mcp-train train`: the model file's bytes (model.json), trained on an export, raw log or
    (features_csv=True) a features CSV — bytes or a path.

    The parameters are the CLI's flags; None leaves one to the built-in configuration. The core
    parses and range-checks them (an error names the parameter). `now` is the model's creation
    time (datetime, seconds or ISO 8601 text): given, or taken from SOURCE_DATE_EPOCH as the CLI
    does, the run is reproducible (duration recorded as 0) and the bytes equal the CLI's.
    `progress(stage, fraction)` is called as training goes (from the training thread, with the
    GIL held for the call only); returning False cancels with McpTrainError code "cancelled".
    """
    raw = _bytes(data, "data")
    values = {
        "detector": detector,
        "seed": seed,
        "contamination": contamination,
        "n_estimators": n_estimators,
        "max_samples": max_samples,
        "n_neighbors": n_neighbors,
        "drop_invalid": drop_invalid,
    }
    choices = [(k, _choice_text(v)) for k, v in values.items() if v is not None]
    frozen = now is not None
    if now is None and os.environ.get("SOURCE_DATE_EPOCH") is not None:
        text = os.environ["SOURCE_DATE_EPOCH"]
        try:
            now = int(text.strip())
        except ValueError as e:
            raise _error(
                "invalid_parameter",
                f"SOURCE_DATE_EPOCH: expected whole seconds since 1970, found {text!r}"
            ) from e
        frozen = True
    now_micros = _micros(now, "now") if now is not None else _micros(_dt.datetime.now(_dt.timezone.utc), "now")
    if file_name is None:
        file_name = os.path.basename(_name(data, "arrow" if _is_arrow(data) else "stdin"))
    if progress is not None and not callable(progress):
        raise TypeError(f"progress: expected a callable, found {type(progress).__name__}")
    return _mcp_train.train(
        raw,
        file_name=file_name,
        features_csv=bool(features_csv),
        label_column=label_column,
        log_type=log_type,
        choices=choices,
        now_micros=now_micros,
        frozen_clock=frozen,
        year=_year(data, year),
        progress=progress,
    )


def score(model, data, *, drop_invalid=False, label_column=None, year=None):
    """`mcp-train score` as arrays: a dict with "index" (record or CSV row), "timestamp",
    "score", "decision", "is_anomaly" and "label", one entry per scored row. `model` is the
    model file (bytes or path)."""
    index, timestamp, scores, decision, is_anomaly, label = _mcp_train.score(
        _bytes(model, "model"),
        _bytes(data, "data"),
        drop_invalid=drop_invalid,
        label_column=label_column,
        year=_year(data, year),
    )
    return {
        "index": index,
        "timestamp": timestamp,
        "score": scores,
        "decision": decision,
        "is_anomaly": is_anomaly,
        "label": label,
    }


def score_file(
    model, data, *, format="csv", only_anomalies=False, drop_invalid=False, label_column=None, year=None
):
    """`mcp-train score --out scores.csv` (or .json): the bytes the CLI writes."""
    return _mcp_train.score_file(
        _bytes(model, "model"),
        _bytes(data, "data"),
        format=format,
        only_anomalies=only_anomalies,
        drop_invalid=drop_invalid,
        label_column=label_column,
        year=_year(data, year),
    )


def evaluate(model, data, *, drop_invalid=False, label_column=None, year=None):
    """`mcp-train evaluate --json`: the model's metrics on labelled data, as a dict."""
    result = _mcp_train.evaluate(
        _bytes(model, "model"),
        _bytes(data, "data"),
        drop_invalid=drop_invalid,
        label_column=label_column,
        year=_year(data, year),
    )
    return json.loads(result)


def build_package(model, *, timestamp=None):
    """`mcp-train package`: (file name, ZIP bytes) of the deployment package of a model file.
    The deployment time is `timestamp` when given, else the model's creation time, so the same
    model gives the same bytes."""
    micros = _micros(timestamp, "timestamp") if timestamp is not None else None
    name, zip_bytes = _mcp_train.build_package(_bytes(model, "model"), timestamp_micros=micros)
    return name, zip_bytes


def verify_package(package):
    """`mcp-train verify --json`: the verdict on a package (ZIP bytes or path), as a dict
    with "ok", "problems", "files", "self_test", …"""
    return json.loads(_mcp_train.verify_package(_bytes(package, "package")))


def detect(model, data, *, all=False, format="ndjson", year=None):
    """`mcp-train detect MODEL FILE` (no --follow): what it writes and what it counts.

    Returns a dict: "output" (the bytes detect writes on stdout: one JSON object per anomaly,
    per record with all=True, in format "ndjson", "ecs" or "ocsf"), "reports" (those objects,
    parsed), and the counts of its closing line — "lines", "parsed", "bad", "anomalies",
    "model_version" — with "problems" naming each bad line (line:column: message). Raw log
    lines and NDJSON records are read line by line; a whole JSON export in timestamp order."""
    output, summary = _mcp_train.detect(
        _bytes(model, "model"), _bytes(data, "data"), all=all, format=format, year=_year(data, year)
    )
    result = json.loads(summary)
    result["output"] = output
    result["reports"] = [json.loads(line) for line in output.splitlines() if line]
    return result
