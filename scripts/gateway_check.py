"""Checks mcp-train's /mcp through a real MCP gateway (IBM ContextForge, PyPI
`mcp-contextforge-gateway`), for scripts/test-gateway.sh, which starts both servers.

    python gateway_check.py --gateway URL --jwt JWT --mcp URL --token TOKEN --version V

1. POST /gateways without mcp-train's bearer token: the gateway must not get the tools (mcp-train
   answers 401), so nothing of mcp-train is listed.
2. POST /gateways with the token (auth_type bearer): the gateway connects over streamable HTTP
   and lists mcp-train's tools (the gateway prefixes them with the gateway's slug).
3. GET /tools: every tool of mcp-train is there, with its annotations, read-only ones marked.
4. POST /rpc tools/call list_models and search_knowledge: the relayed answers hold the model
   version the script registered and a catalogue entry.

Runs with the gateway's own venv python (it has httpx). Prints one line per check and exits
non-zero on the first failure.
"""

import argparse
import json
import sys

import httpx

# The tools mcp-train serves (server/src/mcp/*.rs, every `#[tool(`), all groups enabled.
EXPECTED_TOOLS = {
    "register_dataset", "generate_dataset", "validate_dataset", "list_datasets",
    "start_training", "get_training_job", "list_training_jobs", "cancel_training_job",
    "list_models", "get_model", "compare_models", "evaluate_model", "deploy_model",
    "rollback_model", "build_package", "verify_package",
    "detect_anomalies", "list_anomalies", "get_anomaly", "set_anomaly_status",
    "start_anomaly_export", "get_anomaly_export",
    "search_knowledge", "explain_anomaly",
}


class CheckFailed(Exception):
    pass


def check(ok, what, detail=""):
    if not ok:
        raise CheckFailed(f"{what}: {detail}")
    print(f"ok   {what}")


def tool_base_name(tool):
    """The name mcp-train gave a tool, whatever prefix the gateway added."""
    original = tool.get("originalName") or tool.get("original_name")
    if original:
        return original
    name = tool.get("name", "")
    for known in EXPECTED_TOOLS:
        if name.endswith(known):
            return known
    return name


def rpc_call(gw, name, arguments, request_id):
    r = gw.post(
        "/rpc",
        json={
            "jsonrpc": "2.0",
            "id": request_id,
            "method": "tools/call",
            "params": {"name": name, "arguments": arguments},
        },
    )
    check(r.status_code == 200, f"POST /rpc tools/call {name} answers 200", f"{r.status_code} {r.text[:500]}")
    body = r.json()
    check("error" not in body, f"tools/call {name} is not a JSON-RPC error", json.dumps(body)[:800])
    result = body.get("result", body)
    check(not result.get("isError"), f"tools/call {name} is not a tool error", json.dumps(result)[:800])
    structured = result.get("structuredContent")
    print(f"     relayed: {json.dumps(result.get('content'))[:160]}")
    check(isinstance(structured, dict), f"tools/call {name} relays structuredContent", json.dumps(result)[:800])
    return structured


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--gateway", required=True, help="the gateway's base URL")
    p.add_argument("--jwt", required=True, help="a JWT the gateway accepts")
    p.add_argument("--mcp", required=True, help="mcp-train's /mcp URL")
    p.add_argument("--token", required=True, help="mcp-train's bearer token")
    p.add_argument("--version", required=True, help="the model version registered in mcp-train")
    a = p.parse_args()

    gw = httpx.Client(
        base_url=a.gateway,
        headers={"Authorization": f"Bearer {a.jwt}"},
        timeout=httpx.Timeout(60),
    )

    # 1. Without mcp-train's token the gateway cannot reach the tools.
    r = gw.post(
        "/gateways",
        json={"name": "mcp-train-no-token", "url": a.mcp, "transport": "STREAMABLEHTTP"},
    )
    check(r.status_code >= 400 and "401" in r.text,
          "registering /mcp without the bearer token is refused (mcp-train answers 401)",
          f"{r.status_code} {r.text[:500]}")
    print(f"     {r.status_code} {r.text[:300]}")

    # 2. With the token it registers and discovers the tools.
    r = gw.post(
        "/gateways",
        json={
            "name": "mcp-train",
            "url": a.mcp,
            "transport": "STREAMABLEHTTP",
            "auth_type": "bearer",
            "auth_token": a.token,
        },
    )
    check(r.status_code in (200, 201), "POST /gateways registers mcp-train's /mcp",
          f"{r.status_code} {r.text[:800]}")
    gateway = r.json()
    print(f"     gateway id {gateway.get('id')} slug {gateway.get('slug')}")

    # 3. The tools as the gateway lists them.
    r = gw.get("/tools", params={"limit": 0, "include_inactive": "false"})
    check(r.status_code == 200, "GET /tools answers 200", f"{r.status_code} {r.text[:500]}")
    listed = r.json()
    if isinstance(listed, dict):
        listed = listed.get("items") or listed.get("tools") or []
    ours = [t for t in listed if t.get("gatewayId", t.get("gateway_id")) == gateway.get("id")]
    by_base = {tool_base_name(t): t for t in ours}
    missing = sorted(EXPECTED_TOOLS - set(by_base))
    check(not missing, f"the gateway lists all {len(EXPECTED_TOOLS)} mcp-train tools",
          f"missing {missing}; listed {sorted(t.get('name') for t in listed)}")
    print(f"     e.g. {by_base['list_models'].get('name')}, {by_base['search_knowledge'].get('name')}")
    annotations = by_base["list_models"].get("annotations") or {}
    check(annotations.get("readOnlyHint") is True, "list_models keeps its readOnlyHint through the gateway",
          json.dumps(annotations))
    annotations = by_base["deploy_model"].get("annotations") or {}
    check(annotations.get("destructiveHint") is True, "deploy_model keeps its destructiveHint through the gateway",
          json.dumps(annotations))

    # 4. Calls relayed to mcp-train.
    models = rpc_call(gw, by_base["list_models"]["name"], {"log_type": "wifi"}, 1)
    versions = [m.get("version") for m in models.get("items", [])]
    check(a.version in versions, f"list_models through the gateway lists model {a.version}",
          json.dumps(models)[:800])
    found = rpc_call(gw, by_base["search_knowledge"]["name"],
                     {"query": "AP-STA-POSSIBLE-PSK-MISMATCH", "limit": 3}, 2)
    sources = [r.get("source", {}).get("id") for r in found.get("results", [])]
    check("wifi/AP-STA-POSSIBLE-PSK-MISMATCH" in sources,
          "search_knowledge through the gateway finds the catalogue entry", json.dumps(found)[:800])
    missing = rpc_call_error(gw, by_base["get_model"]["name"], {"version": "20990101_000000"}, 3)
    print(f"     {json.dumps(missing)[:300]}")
    texts = " ".join(c.get("text", "") for c in missing.get("content", []))
    check(missing.get("isError") is True and texts.startswith("not_found:"),
          "an in-band tool error (get_model of a missing version) is relayed with isError",
          json.dumps(missing)[:800])


def rpc_call_error(gw, name, arguments, request_id):
    """Calls a tool that must fail in band; returns the tool result."""
    r = gw.post(
        "/rpc",
        json={
            "jsonrpc": "2.0",
            "id": request_id,
            "method": "tools/call",
            "params": {"name": name, "arguments": arguments},
        },
    )
    check(r.status_code == 200, f"POST /rpc tools/call {name} answers 200", f"{r.status_code} {r.text[:500]}")
    body = r.json()
    check("result" in body, f"tools/call {name} answers a tool result", json.dumps(body)[:800])
    return body["result"]


if __name__ == "__main__":
    try:
        main()
    except CheckFailed as e:
        print(f"FAIL {e}")
        sys.exit(1)
    except httpx.HTTPError as e:
        print(f"FAIL the gateway did not answer: {e!r}")
        sys.exit(1)
