"""Arrow input (the Arrow PyCapsule interface): a pyarrow Table or RecordBatch, a Polars or pandas
DataFrame holding an export's records gives the same features, models and scores as the export's
bytes, and bad columns are refused naming the column and the record."""

import datetime as dt
import json

import numpy as np
import pyarrow as pa
import pytest

import mcp_train
from mcp_train import McpTrainError

EPOCH = 1_700_000_000


@pytest.fixture(scope="module")
def records(export):
    return json.loads(export.read_bytes())["data"]


@pytest.fixture(scope="module")
def table(records):
    """The export's records as a pyarrow Table (structured_data left out: not a column the core
    reads)."""
    names = ["id", "device_id", "device_ip", "timestamp", "log_level", "process_name", "message",
             "label"]
    return pa.table({n: [r[n] for r in records] for n in names})


@pytest.fixture(scope="module")
def model(export):
    return mcp_train.train(export, seed=5, n_estimators=50, now=EPOCH)


def _bits(values):
    return np.asarray(values, dtype=np.float64).view(np.uint64)


def test_a_table_scores_as_the_export_bit_for_bit(model, export, table):
    want = mcp_train.score(model, export)
    got = mcp_train.score(model, table)
    assert len(got["score"]) == 3000
    np.testing.assert_array_equal(_bits(got["score"]), _bits(want["score"]))
    np.testing.assert_array_equal(_bits(got["decision"]), _bits(want["decision"]))
    np.testing.assert_array_equal(got["is_anomaly"], want["is_anomaly"])
    np.testing.assert_array_equal(got["index"], want["index"])
    assert got["label"] == want["label"]
    assert got["timestamp"] == want["timestamp"]


def test_a_table_gives_the_exports_features_and_model(export, table):
    want = mcp_train.features(export)
    got = mcp_train.features(table)
    assert got["feature_names"] == want["feature_names"]
    np.testing.assert_array_equal(_bits(got["X"]), _bits(want["X"]))
    # The model's fitted state is the export's; only the lineage (the input's bytes) differs.
    ours = json.loads(mcp_train.train(table, seed=5, n_estimators=50, now=EPOCH))
    theirs = json.loads(mcp_train.train(export, seed=5, n_estimators=50, now=EPOCH))
    ours.pop("lineage"), theirs.pop("lineage")
    assert ours == theirs


def test_batches_streams_and_dataframes_read_alike(model, table):
    want = mcp_train.score(model, table)["score"]
    batches = table.to_batches(max_chunksize=700)
    assert len(batches) > 1
    inputs = {
        "RecordBatch": table.combine_chunks().to_batches()[0],
        "RecordBatchReader": pa.RecordBatchReader.from_batches(table.schema, batches),
        "chunked Table": pa.Table.from_batches(batches),
        "pandas": table.to_pandas(),
    }
    try:
        import polars as pl
    except ImportError:
        pl = None
    if pl is not None:
        inputs["polars"] = pl.from_arrow(table)  # string columns as Arrow string views
    for name, data in inputs.items():
        got = mcp_train.score(model, data)["score"]
        np.testing.assert_array_equal(_bits(got), _bits(want), err_msg=name)


def test_arrow_timestamps_and_dictionary_text_read_as_the_text(model, table):
    want = mcp_train.score(model, table)
    text = table.column("timestamp").to_pylist()
    instants = [dt.datetime.fromisoformat(t.replace("Z", "+00:00")) for t in text]
    for unit in ("us", "ns"):
        stamped = table.set_column(
            table.schema.get_field_index("timestamp"), "timestamp",
            pa.array(instants, pa.timestamp(unit, tz="UTC")),
        )
        stamped = stamped.set_column(
            stamped.schema.get_field_index("process_name"), "process_name",
            stamped.column("process_name").dictionary_encode(),
        )
        got = mcp_train.score(model, stamped)
        np.testing.assert_array_equal(_bits(got["score"]), _bits(want["score"]), err_msg=unit)
        assert got["timestamp"] == want["timestamp"]


def test_export_from_arrow_is_an_export_the_cli_reads(cli, model, table, tmp_path):
    path = tmp_path / "records.ndjson"
    path.write_bytes(mcp_train.export_from_arrow(table))
    model_path = tmp_path / "model.json"
    model_path.write_bytes(model)
    out = tmp_path / "scores.json"
    cli("score", model_path, path, "--out", out)
    cli_scores = [r["score"] for r in json.loads(out.read_text())]
    np.testing.assert_array_equal(_bits(mcp_train.score(model, table)["score"]), _bits(cli_scores))


def test_a_missing_column_is_named(model, table):
    with pytest.raises(McpTrainError, match=r'no column "message".*columns found: id, ') as e:
        mcp_train.score(model, table.drop_columns(["message"]))
    assert e.value.code == "invalid_export"


def test_a_null_names_its_record_and_column(model, table):
    messages = table.column("message").to_pylist()
    messages[17] = None
    bad = table.set_column(table.schema.get_field_index("message"), "message", pa.array(messages))
    with pytest.raises(McpTrainError, match=r'record 17: column "message" is null') as e:
        mcp_train.score(model, bad)
    assert e.value.code == "invalid_export"


def test_a_column_of_the_wrong_type_is_named(model, table):
    bad = table.set_column(
        table.schema.get_field_index("log_level"), "log_level", pa.array(range(3000))
    )
    with pytest.raises(McpTrainError, match=r'column "log_level": expected text, found Arrow type '
                                            r'Int64'):
        mcp_train.features(bad)
    labels = table.set_column(
        table.schema.get_field_index("label"), "label", pa.array(["0"] * 3000)
    )
    with pytest.raises(McpTrainError, match=r'column "label": expected 0/1 integers or booleans'):
        mcp_train.features(labels)


def test_a_bad_value_is_the_export_readers_error_with_its_record(model, table):
    times = table.column("timestamp").to_pylist()
    times[42] = "yesterday"
    bad = table.set_column(table.schema.get_field_index("timestamp"), "timestamp", pa.array(times))
    with pytest.raises(McpTrainError, match=r"42") as e:
        mcp_train.score(model, bad)
    assert "timestamp" in str(e.value)


def test_non_arrow_objects_are_refused_by_type():
    with pytest.raises(TypeError, match=r"expected Arrow data .* found list"):
        mcp_train.export_from_arrow([1, 2])
    with pytest.raises(TypeError, match=r"data: expected bytes, a path or Arrow data, found dict"):
        mcp_train.features({"message": ["x"]})
