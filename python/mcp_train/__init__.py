"""mcp-train for Python: anomaly detection on system logs.

- `IsolationForest` and `LocalOutlierFactor`: scikit-learn's estimators and semantics, fitted
  and scored by mcp-train's Rust core (numpy in without copies, the GIL released, scoring on
  all cores). A forest with scikit-learn's trees scores exactly as scikit-learn
  (`IsolationForest.from_sklearn`).
- The product functions — `validate`, `import_log`, `features`, `features_csv`, `train`,
  `score`, `score_file`, `evaluate`, `build_package`, `verify_package`, `detect` — do what the
  `mcp-train` command does and give the same bytes.
- Data comes as bytes, a path, or Arrow data — a pyarrow Table or RecordBatch, a Polars or
  pandas DataFrame, a DuckDB result: anything with `__arrow_c_stream__` / `__arrow_c_array__`,
  read in Rust (`export_from_arrow`).
- `mcp_train.spark`: per-site training and scoring on Apache Spark (`train_per_site`, `score`),
  imported on demand (pyspark is not needed otherwise).
- `Registry`: the model registry of the CLI and the server, in a directory or in object storage
  (`s3://`, `gs://`, `az://`), shared with every replica.

Every refusal of data, parameters or a model is a `McpTrainError` (a `ValueError`) whose `code`
says what kind of problem it is and whose message names the value and where it is.
"""

from ._mcp_train import McpTrainError, __version__
from ._estimators import IsolationForest, LocalOutlierFactor, NotFittedError
from ._registry import Registry
from ._product import (
    build_package,
    detect,
    evaluate,
    export_from_arrow,
    features,
    features_csv,
    import_log,
    score,
    score_file,
    train,
    validate,
    verify_package,
)

__all__ = [
    "IsolationForest",
    "LocalOutlierFactor",
    "McpTrainError",
    "NotFittedError",
    "Registry",
    "__version__",
    "build_package",
    "detect",
    "evaluate",
    "export_from_arrow",
    "features",
    "features_csv",
    "import_log",
    "score",
    "score_file",
    "train",
    "validate",
    "verify_package",
]
