"""Shared fixtures: the repository (fixtures, README), the CLI to compare with, a synthetic
export. scripts/py.sh sets MCP_TRAIN_REPO and MCP_TRAIN_BIN."""

import os
import pathlib
import subprocess

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
