"""mcp_train.Registry: the CLI's registry from Python, in a directory and in object storage (a
real S3 server, moto, started here on loopback: MCP_TRAIN_MOTO or ~/.cache/mcp-train/moto)."""

import json
import threading

import pytest

import mcp_train


@pytest.fixture(scope="module")
def model(export):
    return mcp_train.train(export, seed=1, now=1_700_000_000)


def _cli_json(cli, *args, env=None):
    return json.loads(cli(*args, "--json", env=env).stdout)


def test_a_directory_registry_is_the_clis(tmp_path, cli, model):
    registry = mcp_train.Registry(tmp_path / "reg")
    record = registry.register(model, now=1_700_000_100)
    assert record["version"] == "20231114_221320"
    assert record["status"] == "ready"
    listed = _cli_json(cli, "models", "--registry", tmp_path / "reg", "list")
    assert [m["version"] for m in listed["models"]] == [record["version"]]
    cli("models", "--registry", tmp_path / "reg", "deploy", record["version"])
    deployed = registry.deployed("wifi")
    assert deployed["version"] == record["version"]
    data, stored = registry.model("deployed", log_type="wifi")
    assert data == model
    assert stored["sha256"] == deployed["sha256"]


def test_an_s3_registry_is_shared_with_the_cli(s3, cli, model, export):
    url = "s3://models/team"
    registry = mcp_train.Registry(url)
    assert registry.location == url
    assert registry.list() == []
    first = registry.register(model)
    second = registry.register(model)
    assert second["version"] == "20231114_221321", "the next free second"
    listed = _cli_json(cli, "models", "--registry", url, "list", env=s3)
    assert [m["version"] for m in listed["models"]] == [second["version"], first["version"]]

    record, displaced = registry.deploy(first["version"], expected=None)
    assert record["status"] == "deployed" and displaced is None
    with pytest.raises(mcp_train.McpTrainError) as e:
        registry.deploy(second["version"], expected=None)
    assert e.value.code == "conflict"
    record, displaced = registry.deploy(second["version"], expected=first["version"])
    assert displaced["version"] == first["version"]

    # The deployed model read back is the registered bytes (its version moved on a second) and
    # scores exactly as the model trained.
    data, _ = registry.model("deployed", log_type="wifi")
    assert data == model.replace(b"20231114_221320", b"20231114_221321")
    shown = _cli_json(cli, "models", "--registry", url, "deployed", env=s3)
    assert shown["deployed"][0]["version"] == second["version"]
    assert list(mcp_train.score(data, export)["score"]) == list(
        mcp_train.score(model, export)["score"]
    )

    with pytest.raises(mcp_train.McpTrainError) as e:
        registry.model("20990101_000000")
    assert e.value.code == "not_found"


def test_registrations_from_many_threads_all_land(s3, model):
    registry = mcp_train.Registry("s3://models/threads")
    versions, errors = [], []

    def register():
        try:
            versions.append(registry.register(model)["version"])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=register) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(set(versions)) == 6
    assert sorted(m["version"] for m in registry.list()) == sorted(versions)


def test_a_missing_bucket_is_an_error_naming_it(s3):
    with pytest.raises(mcp_train.McpTrainError) as e:
        mcp_train.Registry("s3://no-such-bucket/x").list()
    assert e.value.code == "storage"
    assert "s3://no-such-bucket/x" in str(e.value)
