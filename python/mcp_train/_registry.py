"""The model registry: the directory or object-store registry the CLI and `mcp-train serve` use,
so a Spark, Ray or Dask job registers and reads models where a team's servers see them."""

import json
import time

from . import _mcp_train
from ._product import _bytes


def _now_micros(now):
    if now is None:
        return time.time_ns() // 1000
    if hasattr(now, "timestamp"):
        return int(round(now.timestamp() * 1_000_000))
    return int(round(float(now) * 1_000_000))


class Registry:
    """A model registry at `location`: a directory (as `mcp-train models --registry DIR`) or
    object storage — `s3://bucket/prefix`, `gs://bucket/prefix`, `az://container/prefix` — with
    credentials from the usual environment (`AWS_ACCESS_KEY_ID`, `AWS_REGION`,
    `AWS_ENDPOINT_URL`, …). Several processes and servers may write at once: a directory is
    locked, object storage takes compare-and-swap; no change is lost.

    Records are dicts as `mcp-train models --json` prints them. A registry error is a
    `McpTrainError` with `code` "not_found", "conflict", "version_taken", "storage",
    "invalid_model" or "registry".
    """

    def __init__(self, location):
        self._inner = _mcp_train._Registry(str(location))

    @property
    def location(self):
        """The directory or URL."""
        return self._inner.location

    def __repr__(self):
        return f"Registry({self.location!r})"

    def list(self, log_type=None):
        """Every model's record, newest first (only `log_type`'s when given)."""
        return json.loads(self._inner.list(log_type))

    def deployed(self, log_type):
        """The record of the model deployed for `log_type`, or None."""
        record = self._inner.deployed(log_type)
        return None if record is None else json.loads(record)

    def model(self, name="deployed", log_type=None):
        """A model's `model.json` bytes and record: `name` is a version, "latest" or "deployed"
        (of `log_type`). The bytes go straight to `score`, `detect` or `IsolationForest`."""
        data, record = self._inner.model(name, log_type)
        return data, json.loads(record)

    def register(self, model, now=None):
        """Registers a model (`model.json` bytes or a path) with status ready; returns its
        record. The version moves on by a second when another model holds it."""
        return json.loads(self._inner.register(_bytes(model, "model"), _now_micros(now)))

    def deploy(self, version, expected=..., now=None):
        """Deploys `version`, archiving the model of its log type deployed until now; returns
        (record, archived record or None). With `expected` (a version, or None for "none
        deployed"), only if that is still the deployed model: otherwise McpTrainError "conflict",
        so two people deploying at once cannot both win."""
        check = expected is not ...
        record, displaced = self._inner.deploy(
            version, _now_micros(now), check, None if not check else expected
        )
        return json.loads(record), None if displaced is None else json.loads(displaced)
