"""A real MCP client for server/tests/mcp_clients.rs: the Python SDK (PyPI `mcp` 2.3.0) against
`mcp-train mcp` (stdio) or `/mcp` on `mcp-train serve` (streamable HTTP), in either protocol mode:
`auto` negotiates 2026-07-28 (stateless, `server/discover`), `legacy` forces 2025-11-25
(initialize + session).

    python mcp_client.py SCENARIO --mode auto|legacy
        (--stdio BIN --data-dir DIR | --url URL [--token T] [--host H]) [--export PATH]

Scenarios:
  tools     list the tools with their schemas and annotations
  workflow  register_dataset → validate_dataset → start_training (wait, progress) ×2 →
            compare_models → deploy_model → detect_anomalies → list_anomalies → explain_anomaly
  cancel    start_training with wait: true, cancel the call once it reports progress; then
            get_training_job says cancelled and list_models lists nothing
  refused   (HTTP) connect and list the tools; print how the server answered (401, 403, …)

Prints one JSON object on stdout (the Rust test asserts on it); a failed step raises, with the
tool's answer in the message, and exits non-zero.
"""

import argparse
import json
import sys
import time

import anyio
import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

# Distinct model versions (a version is the UTC second a model was created): 2026-06-01T00:00:00Z
# and a minute later.
CREATED_AT_MICROS = 1_780_272_000_000_000


# Every HTTP status the client received, in order.
STATUSES = []


async def record_status(response):
    STATUSES.append(response.status_code)


def connect(args):
    if args.stdio:
        server = StdioServerParameters(
            command=args.stdio, args=["mcp", "--data-dir", args.data_dir]
        )
        return Client(server, mode=args.mode, read_timeout_seconds=300)
    headers = {}
    if args.token:
        headers["Authorization"] = f"Bearer {args.token}"
    if args.host:
        headers["Host"] = args.host
    http = httpx2.AsyncClient(
        headers=headers,
        timeout=httpx2.Timeout(30, read=300),
        event_hooks={"response": [record_status]},
    )
    return Client(
        streamable_http_client(args.url, http_client=http),
        mode=args.mode,
        read_timeout_seconds=300,
    )


async def call(client, name, arguments, **kw):
    """Calls a tool that must succeed; returns its structured result."""
    result = await client.call_tool(name, arguments, **kw)
    if result.is_error:
        text = " ".join(getattr(c, "text", "") for c in result.content)
        raise AssertionError(f"{name}({json.dumps(arguments)}) failed: {text}")
    if not isinstance(result.structured_content, dict):
        raise AssertionError(f"{name} returned no structured content: {result}")
    return result.structured_content


async def tools(client):
    listed = await client.list_tools()
    return {
        "tools": [
            {
                "name": t.name,
                "description": t.description,
                "input_schema": t.input_schema,
                "output_schema": t.output_schema,
                "annotations": t.annotations.model_dump(by_alias=True, exclude_none=True)
                if t.annotations
                else None,
            }
            for t in listed.tools
        ]
    }


async def workflow(client, export):
    await client.list_tools()
    progress = []

    async def on_progress(value, total, message):
        progress.append({"progress": value, "total": total, "message": message})

    dataset = await call(client, "register_dataset", {"path": export})
    validation = await call(client, "validate_dataset", {"dataset": dataset["id"]})
    jobs = []
    for i, seed in enumerate([1, 2]):
        jobs.append(
            await call(
                client,
                "start_training",
                {
                    "dataset": dataset["id"],
                    "seed": seed,
                    "n_estimators": 50,
                    "created_at_micros": CREATED_AT_MICROS + i * 60_000_000,
                    "wait": True,
                },
                progress_callback=on_progress,
            )
        )
    versions = [j["model"]["version"] for j in jobs if j.get("model")]
    if len(versions) != 2:
        raise AssertionError(f"the jobs did not both register a model: {jobs}")
    compared = await call(client, "compare_models", {"versions": versions})
    deployed = await call(client, "deploy_model", {"version": versions[0]})
    detected = await call(
        client, "detect_anomalies", {"dataset": dataset["id"], "limit": 10}
    )
    anomalies = await call(client, "list_anomalies", {"limit": 10})
    if not anomalies.get("items"):
        raise AssertionError(f"list_anomalies listed nothing after detection: {detected}")
    first = anomalies["items"][0]["id"]
    explained = await call(client, "explain_anomaly", {"id": first})
    return {
        "dataset": dataset,
        "validation": validation,
        "jobs": jobs,
        "progress": progress,
        "compared": compared,
        "deployed": deployed,
        "detected": detected,
        "anomalies": anomalies,
        "explained": explained,
    }


async def cancel(client, export):
    await client.list_tools()
    dataset = await call(client, "register_dataset", {"path": export})
    progress = []
    finished = None
    # Cancelled from the progress callback once the job reports it is under way: the call is
    # abandoned (stdio: notifications/cancelled; HTTP: the response stream is closed).
    with anyio.move_on_after(120) as scope:

        async def on_progress(value, total, message):
            progress.append({"progress": value, "total": total, "message": message})
            scope.cancel()

        finished = await client.call_tool(
            "start_training",
            {"dataset": dataset["id"], "n_estimators": 10_000, "wait": True},
            progress_callback=on_progress,
        )
    if finished is not None:
        raise AssertionError(f"the training call ended before it was cancelled: {finished}")
    if not progress:
        raise AssertionError("no progress notification within 120 s")
    # The job is the one the dataset started; wait for it to stop.
    deadline = time.monotonic() + 60
    while True:
        jobs = await call(client, "list_training_jobs", {})
        if not jobs["items"]:
            raise AssertionError("list_training_jobs lists no job after the cancelled call")
        job = await call(client, "get_training_job", {"job": jobs["items"][0]["id"]})
        if job["status"] not in ("queued", "running"):
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"the job still runs 60 s after the call was cancelled: {job}")
        await anyio.sleep(0.2)
    models = await call(client, "list_models", {})
    return {"progress": progress, "job": job, "models": models}


async def refused(args):
    """Connects and lists the tools; reports whether that worked and every HTTP status the
    client received (the SDK reports a refused request as a generic MCPError)."""
    try:
        async with connect(args) as client:
            await client.list_tools()
        return {"connected": True, "statuses": STATUSES}
    except Exception as e:  # noqa: BLE001 - any failure to connect is the answer
        return {"connected": False, "statuses": STATUSES, "error": repr(e)[:300]}


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("scenario", choices=["tools", "workflow", "cancel", "refused"])
    p.add_argument("--mode", choices=["auto", "legacy"], required=True)
    p.add_argument("--stdio")
    p.add_argument("--data-dir")
    p.add_argument("--url")
    p.add_argument("--token")
    p.add_argument("--host")
    p.add_argument("--export")
    args = p.parse_args()
    if args.scenario == "refused":
        out = await refused(args)
    else:
        async with connect(args) as client:
            out = {"protocol_version": client.protocol_version}
            if args.scenario == "tools":
                out.update(await tools(client))
            elif args.scenario == "workflow":
                out.update(await workflow(client, args.export))
            else:
                out.update(await cancel(client, args.export))
    print(json.dumps(out))
    sys.stdout.flush()


if __name__ == "__main__":
    anyio.run(main)
