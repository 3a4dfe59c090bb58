"""Shared fixtures: the repository (fixtures, README), the CLI to compare with, a synthetic
export, an S3 server (moto). scripts/py.sh sets MCP_TRAIN_REPO and MCP_TRAIN_BIN."""

import os
import pathlib
import socket
import subprocess
import time
import urllib.request

import pytest

REPO = pathlib.Path(os.environ.get("MCP_TRAIN_REPO", pathlib.Path(__file__).resolve().parents[2]))


@pytest.fixture(scope="session")
def repo():
    return REPO


@pytest.fixture(scope="session")
def cli():
    """Runs the mcp-train CLI (MCP_TRAIN_BIN), returning stdout; a failure shows stderr."""
    binary = os.environ.get("MCP_TRAIN_BIN")
    if not binary or not os.access(binary, os.X_OK):
        pytest.fail("MCP_TRAIN_BIN must name the mcp-train binary (scripts/py.sh test sets it)")

    def run(*args, env=None, check=True):
        full_env = dict(os.environ, **(env or {}))
        done = subprocess.run(
            [binary, "--quiet", *map(str, args)], capture_output=True, env=full_env
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"mcp-train {' '.join(map(str, args))} exited {done.returncode}: "
                f"{done.stderr.decode(errors='replace')}"
            )
        return done

    return run


@pytest.fixture(scope="session")
def export(tmp_path_factory, cli):
    """A labelled WiFi export from `mcp-train synth` (3,000 records, 5% incidents)."""
    path = tmp_path_factory.mktemp("synth") / "export.json"
    cli("synth", "--records", "3000", "--seed", "7", "--out", path)
    return path


def _moto_server():
    path = os.environ.get("MCP_TRAIN_MOTO") or str(
        pathlib.Path.home() / ".cache/mcp-train/moto/bin/moto_server"
    )
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing: run `. scripts/tools.sh && ensure_moto`")
    return path


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """A bucket `models` on a moto S3 server; yields the environment a user would set."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "w")
    proc = subprocess.Popen([_moto_server(), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.time() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.time() < deadline, "moto_server did not start"
                time.sleep(0.1)
        urllib.request.urlopen(
            urllib.request.Request(f"http://127.0.0.1:{port}/models", method="PUT")
        ).read()
        env = {
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            "AWS_ALLOW_HTTP": "true",
        }
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        yield env
    finally:
        for k, v in locals().get("saved", {}).items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        proc.kill()
        proc.wait()
