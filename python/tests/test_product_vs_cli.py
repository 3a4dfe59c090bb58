"""The product functions give what the mcp-train CLI gives on the same input: the same model
bytes, scores, reports, CSVs and package ZIPs."""

import json

import numpy as np
import pytest

import mcp_train
from mcp_train import McpTrainError

EPOCH = 1_700_000_000  # the model's creation time on both sides (SOURCE_DATE_EPOCH for the CLI)


@pytest.fixture(scope="session")
def cli_model(cli, export, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "model.json"
    cli("train", export, "--seed", "3", "--n-estimators", "60", "--out", out,
        env={"SOURCE_DATE_EPOCH": str(EPOCH)})
    return out


def test_train_gives_the_clis_model_bytes(cli_model, export):
    ours = mcp_train.train(export, seed=3, n_estimators=60, now=EPOCH)
    assert ours == cli_model.read_bytes()
    model = json.loads(ours)
    assert model["training"]["seed"] == 3


def test_train_reads_source_date_epoch_as_the_cli(cli_model, export, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    data = export.read_bytes()
    assert mcp_train.train(data, file_name="export.json", seed=3, n_estimators=60) == (
        cli_model.read_bytes()
    )


def test_score_equals_the_clis_scores(cli, cli_model, export, tmp_path):
    for fmt in ("csv", "json"):
        out = tmp_path / f"scores.{fmt}"
        cli("score", cli_model, export, "--out", out)
        assert mcp_train.score_file(cli_model, export, format=fmt) == out.read_bytes()
    only = tmp_path / "anomalies.csv"
    cli("score", cli_model, export, "--only-anomalies", "--out", only)
    assert mcp_train.score_file(cli_model, export, only_anomalies=True) == only.read_bytes()
    rows = mcp_train.score(cli_model, export)
    cli_rows = json.loads((tmp_path / "scores.json").read_text())
    assert len(rows["score"]) == len(cli_rows) == 3000
    np.testing.assert_array_equal(rows["score"], [r["score"] for r in cli_rows])
    np.testing.assert_array_equal(rows["decision"], [r["decision"] for r in cli_rows])
    np.testing.assert_array_equal(rows["is_anomaly"], [r["is_anomaly"] for r in cli_rows])
    assert rows["timestamp"] == [r["timestamp"] for r in cli_rows]


def test_a_features_csv_model_scores_as_the_cli(cli, export, tmp_path):
    csv = tmp_path / "features.csv"
    cli("features", export, "--include-label", "--out", csv)
    assert mcp_train.features_csv(export, include_label=True) == csv.read_bytes()
    model = tmp_path / "csv-model.json"
    cli("train", "--features-csv", csv, "--label-column", "label", "--model", "lof",
        "--out", model, env={"SOURCE_DATE_EPOCH": str(EPOCH)})
    ours = mcp_train.train(csv, features_csv=True, label_column="label", detector="lof", now=EPOCH)
    assert ours == model.read_bytes()
    scores = tmp_path / "scores.csv"
    cli("score", model, "--features-csv", csv, "--label-column", "label", "--out", scores)
    assert mcp_train.score_file(model, csv, label_column="label") == scores.read_bytes()


def test_features_as_arrays_match_the_csv(export):
    f = mcp_train.features(export)
    X = f["X"]
    assert X.dtype == np.float64 and X.flags.c_contiguous
    assert X.shape == (3000, len(f["feature_names"]))
    csv_rows = mcp_train.features_csv(export).decode().splitlines()
    assert csv_rows[0].split(",") == f["feature_names"]
    np.testing.assert_array_equal(X[5], [float(v) for v in csv_rows[6].split(",")])
    assert sum(1 for label in f["labels"] if label) > 0


def test_validate_is_the_clis_json_report(cli, export, tmp_path):
    cli_report = json.loads(cli("validate", export, "--json").stdout)
    assert mcp_train.validate(export) == cli_report
    assert cli_report["valid"] is True and cli_report["log_type"] == "wifi"
    bad = tmp_path / "bad.json"
    bad.write_text('{"data": [{"timestamp": "yesterday"}]}')
    cli_bad = json.loads(cli("validate", bad, "--json", check=False).stdout)
    ours = mcp_train.validate(bad)
    assert ours == cli_bad and ours["valid"] is False


def test_evaluate_is_the_clis_json(cli, cli_model, export):
    cli_result = json.loads(cli("evaluate", cli_model, export, "--json").stdout)
    assert mcp_train.evaluate(cli_model, export) == cli_result
    assert 0.0 <= cli_result["metrics"]["roc_auc"] <= 1.0


def test_packages_are_the_clis_bytes_and_verify_alike(cli, cli_model, tmp_path):
    zip_path = tmp_path / "package.zip"
    cli("package", cli_model, "--out", zip_path)
    name, ours = mcp_train.build_package(cli_model)
    assert ours == zip_path.read_bytes()
    assert name.startswith("model_") and name.endswith("_deployment.zip")
    stamped = tmp_path / "stamped.zip"
    cli("package", cli_model, "--timestamp", "2025-03-01T12:00:00Z", "--out", stamped)
    assert mcp_train.build_package(cli_model, timestamp="2025-03-01T12:00:00Z")[1] == (
        stamped.read_bytes()
    )
    verdict = mcp_train.verify_package(ours)
    assert verdict == json.loads(cli("verify", zip_path, "--json").stdout)
    assert verdict["ok"] is True
    tampered = bytearray(ours)
    tampered[len(tampered) // 2] ^= 0xFF
    try:
        assert mcp_train.verify_package(bytes(tampered))["ok"] is False
    except McpTrainError as e:  # a ZIP broken beyond reading is an error with a code
        assert e.code == "invalid_package"


RAW_LOG = (
    b"Dec  3 17:50:14 gw dnsmasq[811]: query[TXT] aGVsbG8gd29ybGQ.t.example.net from 192.168.1.66\n"
    b"Dec  3 17:50:15 gw dnsmasq[811]: query[A] example.org from 192.168.1.12\n"
)


def test_import_gives_the_clis_export(cli, tmp_path):
    log = tmp_path / "live.log"
    log.write_bytes(RAW_LOG)
    out = tmp_path / "live.json"
    cli("import", log, "--out", out)
    assert mcp_train.import_log(log) == out.read_bytes()
    assert mcp_train.validate(out.read_bytes())["log_type"] == "dns"
    with pytest.raises(McpTrainError, match="already an export") as raised:
        mcp_train.import_log(out.read_bytes())
    assert raised.value.code == "wrong_input"


def test_training_reports_progress_and_can_be_cancelled(export):
    seen = []
    mcp_train.train(export, n_estimators=20, now=EPOCH, progress=lambda s, f: seen.append((s, f)))
    stages = [s for s, _ in seen]
    assert stages[0] == "validate" and stages[-1] == "done"
    assert {"fit", "score", "evaluate"} <= set(stages)
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0

    with pytest.raises(McpTrainError, match="cancelled") as raised:
        mcp_train.train(export, now=EPOCH, progress=lambda s, f: s != "fit")
    assert raised.value.code == "cancelled"

    def broken(stage, fraction):
        raise RuntimeError("callback failed at " + stage)

    with pytest.raises(RuntimeError, match="callback failed at validate"):
        mcp_train.train(export, now=EPOCH, progress=broken)


@pytest.mark.parametrize(
    "kwargs, code, message",
    [
        ({"n_estimators": 0}, "invalid_parameter", "n_estimators: expected a whole number from 1 to 10000"),
        ({"detector": "svm"}, "invalid_parameter", "detector"),
        ({"contamination": 0.9}, "invalid_parameter", "contamination"),
        ({"seed": -1}, "invalid_parameter", "seed"),
    ],
)
def test_bad_training_parameters_are_named(export, kwargs, code, message):
    with pytest.raises(McpTrainError, match=message) as raised:
        mcp_train.train(export, now=EPOCH, **kwargs)
    assert raised.value.code == code


def test_bad_data_and_models_are_clear_errors(cli_model, export):
    with pytest.raises(McpTrainError) as raised:
        mcp_train.train(b'{"data": [', now=EPOCH)
    assert raised.value.code == "invalid_export"
    assert "line 1" in str(raised.value)
    with pytest.raises(McpTrainError) as raised:
        mcp_train.score(b'{"format": "something else"}', export)
    assert raised.value.code == "invalid_model_file"
    with pytest.raises(McpTrainError) as raised:
        mcp_train.score(cli_model, b"a,b\n1,2\n")
    assert raised.value.code in ("invalid_export", "unsupported_log")
    with pytest.raises(McpTrainError) as raised:
        mcp_train.build_package(b"not json")
    assert raised.value.code == "invalid_model_file"


def test_detect_writes_what_the_cli_writes(cli, export, tmp_path):
    dns = tmp_path / "dns.json"
    cli("synth", "--log-type", "dns", "--records", "1500", "--seed", "1", "--out", dns)
    model = tmp_path / "dns-model.json"
    cli("train", dns, "--n-estimators", "40", "--out", model,
        env={"SOURCE_DATE_EPOCH": str(EPOCH)})
    log = tmp_path / "live.log"
    log.write_bytes(RAW_LOG + b"not a dnsmasq line\n\xff\xfe bad bytes\n")
    for args, kwargs in [((), {}), (("--all",), {"all": True}),
                         (("--all", "--format", "ecs"), {"all": True, "format": "ecs"}),
                         (("--format", "ocsf"), {"format": "ocsf"})]:
        done = cli("detect", model, log, *args)
        ours = mcp_train.detect(model, log, **kwargs)
        assert ours["output"] == done.stdout, args
        counts = (f"detect: {ours['lines']} lines read, {ours['parsed']} parsed, "
                  f"{ours['bad']} bad, {ours['anomalies']} anomalies; model {ours['model_version']}")
        assert counts in done.stderr.decode(), (counts, done.stderr)
    everything = mcp_train.detect(model, log, all=True)
    assert everything["bad"] == 2 and len(everything["problems"]) == 2
    assert "line 4:1: not valid UTF-8" in everything["problems"]
    assert len(everything["reports"]) == everything["parsed"] == 2
    # A whole export: every record, in timestamp order, as the CLI.
    done = cli("detect", model, dns, "--all")
    ours = mcp_train.detect(model, dns, all=True)
    assert ours["output"] == done.stdout
    assert ours["parsed"] == 1500


def test_detect_refuses_a_csv_model_and_a_bad_format(export, tmp_path):
    csv = mcp_train.features_csv(export)
    model = mcp_train.train(csv, features_csv=True, now=EPOCH)
    with pytest.raises(McpTrainError, match="features CSV") as raised:
        mcp_train.detect(model, RAW_LOG)
    assert raised.value.code == "unsupported_model"
    with pytest.raises(McpTrainError, match="format"):
        mcp_train.detect(model, RAW_LOG, format="xml")
