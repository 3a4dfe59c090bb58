//! What the server tests share: `mcp-train serve` as a child process on a loopback port, an HTTP
//! client that returns every status as a value, raw requests for what a well-behaved client
//! would never send, and the fixtures (exports, models) the tests upload.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{command, ok, run, Work};

/// How long a server may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running `mcp-train serve`, killed (SIGKILL) when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`, without the trailing slash.
    pub base: String,
    pub addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
}

/// The `index.html` the tests serve as the web app.
pub const INDEX_HTML: &str = "<!DOCTYPE html>\n<html><head><title>mcp-train test app</title></head>\n<body>mcp-train-test-app</body></html>\n";

/// A `dist/` folder with a tiny web app: `index.html` and `app.js`.
pub fn dist(work: &Work) -> PathBuf {
    let dir = work.path("dist");
    std::fs::create_dir_all(&dir).expect("creates dist");
    std::fs::write(dir.join("index.html"), INDEX_HTML).expect("writes index.html");
    std::fs::write(dir.join("app.js"), "console.log('mcp-train-test-js');\n")
        .expect("writes app.js");
    dir
}

impl Server {
    /// Starts `mcp-train serve` on `127.0.0.1:0` with this data directory and web app, plus
    /// `extra` arguments (`--token`, `--private`, `--config`, `--cors-origin`).
    pub fn start(data_dir: &Path, dist: &Path, extra: &[&str]) -> Server {
        Server::start_with_env(data_dir, dist, extra, &[])
    }

    /// [`Server::start`] with extra environment variables (secrets named by notifications.yaml).
    pub fn start_with_env(
        data_dir: &Path,
        dist: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Server {
        let data = data_dir.to_string_lossy().into_owned();
        let dist = dist.to_string_lossy().into_owned();
        let mut args = vec![
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--data-dir",
            &data,
            "--dist",
            &dist,
        ];
        args.extend_from_slice(extra);
        let mut child = command(&args, env)
            .env_remove("MCP_TRAIN_TOKEN")
            .env_remove("MCP_TRAIN_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawns mcp-train serve");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel::<String>();
        // Both pipes are drained for the whole life of the child (it logs a line per request:
        // a full pipe would block it); the first line naming the address is the signal.
        let out = child.stdout.take().expect("stdout is piped");
        let out_tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                let _ = out_tx.send(line);
            }
        });
        let err = child.stderr.take().expect("stderr is piped");
        let log = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                if let Ok(mut log) = log.lock() {
                    log.push_str(&line);
                    log.push('\n');
                }
            }
        });
        drop(tx);
        let deadline = Instant::now() + START_TIMEOUT;
        let addr = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(addr) = listening_address(&line) {
                        break addr;
                    }
                }
                Err(e) => {
                    let _ = child.kill();
                    let status = child.wait().ok();
                    std::thread::sleep(Duration::from_millis(100));
                    let log = stderr.lock().map(|s| s.clone()).unwrap_or_default();
                    panic!(
                        "mcp-train serve did not print `mcp-train is listening on http://…/` on \
                         stdout ({e}; exit {status:?}); stderr:\n{log}"
                    );
                }
            }
        };
        // Keep draining stdout after the address line.
        std::thread::spawn(move || while rx.recv().is_ok() {});
        Server {
            child,
            base: format!("http://{addr}"),
            addr,
            stderr,
        }
    }

    /// The URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// What the server wrote on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// `kill -9`, and waits for the process to be gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits up to `within` for the process to exit; its exit code, or `None`
    /// if it is still running then.
    pub fn terminate(&mut self, within: Duration) -> Option<i32> {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = std::time::Instant::now() + within;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status.code().unwrap_or(-1));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn get(&self, path: &str) -> Reply {
        call(agent().get(&self.url(path)), None)
    }
    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut req = agent().get(&self.url(path));
        for (k, v) in headers {
            req = req.set(k, v);
        }
        call(req, None)
    }
    pub fn post(&self, path: &str, body: &[u8]) -> Reply {
        call(agent().post(&self.url(path)), Some(body))
    }
    pub fn post_auth(&self, path: &str, body: &[u8], token: &str) -> Reply {
        let req = agent()
            .post(&self.url(path))
            .set("Authorization", &format!("Bearer {token}"));
        call(req, Some(body))
    }
    pub fn post_json(&self, path: &str, body: &Value) -> Reply {
        let req = agent()
            .post(&self.url(path))
            .set("Content-Type", "application/json");
        call(req, Some(body.to_string().as_bytes()))
    }
    pub fn delete(&self, path: &str) -> Reply {
        call(agent().delete(&self.url(path)), None)
    }
    /// A request with any method and headers.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Reply {
        let mut req = agent().request(method, &self.url(path));
        for (k, v) in headers {
            req = req.set(k, v);
        }
        call(req, body)
    }

    /// Follows `GET path` (an event stream) until `event: done`; returns every event as
    /// (name, data as JSON).
    pub fn events(&self, path: &str) -> Vec<(String, Value)> {
        let response = match agent().get(&self.url(path)).call() {
            Ok(r) => r,
            Err(ureq::Error::Status(code, r)) => {
                panic!("GET {path}: {code} {}", r.into_string().unwrap_or_default())
            }
            Err(e) => panic!("GET {path}: {e}"),
        };
        let content_type = response
            .header("content-type")
            .unwrap_or_default()
            .to_owned();
        assert!(
            content_type.starts_with("text/event-stream"),
            "GET {path}: Content-Type {content_type}"
        );
        let mut events = Vec::new();
        let mut name = String::from("message");
        let mut data = String::new();
        for line in BufReader::new(response.into_reader()).lines() {
            let line = line.expect("reads the event stream");
            if line.is_empty() {
                if !data.is_empty() {
                    let value: Value = serde_json::from_str(&data)
                        .unwrap_or_else(|e| panic!("event data is not JSON ({e}): {data}"));
                    let done = name == "done";
                    events.push((std::mem::replace(&mut name, "message".into()), value));
                    data.clear();
                    if done {
                        return events;
                    }
                }
                continue;
            }
            if let Some(v) = line.strip_prefix("event:") {
                name = v.trim().to_owned();
            } else if let Some(v) = line.strip_prefix("data:") {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(v.strip_prefix(' ').unwrap_or(v));
            }
        }
        panic!("GET {path}: the stream ended without `event: done`; got {events:?}");
    }

    /// Posts an export to `path` (`/api/training/jobs?…`), expects 202; returns the job's id.
    pub fn start_job(&self, path: &str, export: &[u8]) -> String {
        let r = self.post(path, export);
        assert_eq!(r.status, 202, "{}", r.text());
        r.json()["id"].as_str().expect("the job's id").to_owned()
    }

    /// Waits until the job has finished (completed, failed or cancelled); returns the job.
    pub fn finished_job(&self, id: &str, timeout: Duration) -> Value {
        self.wait_for_job(id, &["completed", "failed", "cancelled"], timeout)
    }

    /// Waits until the job's status is one of `statuses`; returns the job.
    pub fn wait_for_job(&self, id: &str, statuses: &[&str], timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let job = self.get(&format!("/api/training/jobs/{id}"));
            assert_eq!(job.status, 200, "{}", job.text());
            let job = job.json();
            if statuses.iter().any(|s| job["status"] == *s) {
                return job;
            }
            assert!(
                Instant::now() < deadline,
                "job {id} never reached {statuses:?}: {job}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The versions `GET /api/models` lists, in its order.
    pub fn versions(&self) -> Vec<String> {
        let list = self.get("/api/models");
        assert_eq!(list.status, 200, "{}", list.text());
        list.json()["models"]
            .as_array()
            .expect("models is an array")
            .iter()
            .map(|m| m["version"].as_str().expect("version").to_owned())
            .collect()
    }

    /// `GET /metrics` as text.
    pub fn metrics(&self) -> String {
        let m = self.get("/metrics");
        assert_eq!(m.status, 200, "{}", m.text());
        m.text()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `http://127.0.0.1:PORT` from the line the server prints once it listens.
fn listening_address(line: &str) -> Option<SocketAddr> {
    let rest = &line[line.find("listening on http://")? + "listening on http://".len()..];
    let end = rest.find('/').unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// One agent for everything (ureq pools connections per agent).
fn agent() -> ureq::Agent {
    static AGENT: std::sync::OnceLock<ureq::Agent> = std::sync::OnceLock::new();
    AGENT
        .get_or_init(|| {
            ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(120))
                .redirects(0)
                // A fresh connection per request: whether the server keeps a connection usable
                // after refusing a body is tested on its own (serve.rs), not in every test.
                .max_idle_connections(0)
                .build()
        })
        .clone()
}

/// A response, whatever its status.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    /// Names lowercased, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text()))
    }
    /// Asserts the documented error shape with this status and code.
    pub fn assert_error(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        let body = self.json();
        assert_eq!(body["error"]["code"], code, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{body}"
        );
        body
    }
}

fn reply(response: ureq::Response) -> Reply {
    let status = response.status();
    let headers = response
        .headers_names()
        .into_iter()
        .flat_map(|name| {
            response
                .all(&name)
                .into_iter()
                .map(|v| (name.to_ascii_lowercase(), v.to_owned()))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut body = Vec::new();
    response
        .into_reader()
        .take(1 << 30)
        .read_to_end(&mut body)
        .expect("reads the body");
    Reply {
        status,
        headers,
        body,
    }
}

/// Sends a request; any status is a [`Reply`], only a transport failure panics.
pub fn call(request: ureq::Request, body: Option<&[u8]>) -> Reply {
    match try_call(request, body) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    }
}

/// Sends a request; any status is a [`Reply`], a transport failure an `Err`.
pub fn try_call(request: ureq::Request, body: Option<&[u8]>) -> Result<Reply, String> {
    let what = format!("{} {}", request.method(), request.url());
    let result = match body {
        Some(b) => request.send_bytes(b),
        None => request.call(),
    };
    match result {
        Ok(r) | Err(ureq::Error::Status(_, r)) => Ok(reply(r)),
        Err(e) => Err(format!("{what}: {e}")),
    }
}

/// A POST whose body is sent chunked (ureq does so for a reader of unknown length).
pub fn post_chunked(server: &Server, path: &str, body: Vec<u8>) -> Result<Reply, String> {
    let request = agent().post(&server.url(path));
    match request.send(std::io::Cursor::new(body)) {
        Ok(r) | Err(ureq::Error::Status(_, r)) => Ok(reply(r)),
        Err(e) => Err(format!("POST {path} (chunked): {e}")),
    }
}

/// Sends `head` (request line and headers, without the blank line) and `body` on a fresh
/// connection, exactly as given, then reads the response until the server closes. A body the
/// server stops reading (an early 413) is abandoned, and the response read anyway.
pub fn raw(addr: SocketAddr, head: &str, body: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("read timeout");
    stream
        .set_write_timeout(Some(Duration::from_secs(10)))
        .expect("write timeout");
    let mut request = head.trim_end().lines().collect::<Vec<_>>().join("\r\n");
    request.push_str("\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .expect("writes the head");
    for chunk in body.chunks(64 * 1024) {
        if stream.write_all(chunk).is_err() {
            break;
        }
    }
    let mut bytes = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
            Err(e) => {
                assert!(
                    !bytes.is_empty(),
                    "no response to {}: {e}",
                    head.lines().next().unwrap_or_default()
                );
                break;
            }
        }
    }
    parse_response(&bytes)
        .unwrap_or_else(|| panic!("not an HTTP response: {}", String::from_utf8_lossy(&bytes)))
}

/// A raw `GET path` with no other header than `Host`.
pub fn raw_get(addr: SocketAddr, path: &str) -> Reply {
    raw(addr, &format!("GET {path} HTTP/1.1\nHost: {addr}"), &[])
}

fn parse_response(bytes: &[u8]) -> Option<Reply> {
    let split = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&bytes[..split]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = bytes[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Some(Reply {
        status,
        headers,
        body,
    })
}

fn dechunk(mut bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = bytes.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&bytes[..eol])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok())
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = eol + 2;
        let end = (start + size).min(bytes.len());
        out.extend_from_slice(&bytes[start..end]);
        bytes = &bytes[(end + 2).min(bytes.len())..];
    }
    out
}

/// The sum of the samples of metric `name` whose labels contain every one of `labels`
/// (`route="/api/models"`); `None` when there is none.
pub fn metric(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    let mut found = None;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (series, value) = match line.rsplit_once(' ') {
            Some(x) => x,
            None => continue,
        };
        let (metric_name, label_text) = match series.split_once('{') {
            Some((n, l)) => (n, l),
            None => (series, ""),
        };
        if metric_name != name || !labels.iter().all(|l| label_text.contains(l)) {
            continue;
        }
        if let Ok(v) = value.parse::<f64>() {
            *found.get_or_insert(0.0) += v;
        }
    }
    found
}

/// A small labelled export (`records` records), written to `work/name`; returns its path.
pub fn export(work: &Work, name: &str, records: usize, seed: u64) -> String {
    work.synth(name, &records.to_string(), &seed.to_string())
}

/// `mcp-train train export --seed seed` with `SOURCE_DATE_EPOCH=epoch`: the model.json bytes
/// (version = the UTC second of `epoch`).
pub fn train(work: &Work, export: &str, seed: u64, epoch: i64) -> Vec<u8> {
    let out = work.s(&format!("model_{epoch}_{seed}.json"));
    ok(&run(
        &[
            "train",
            export,
            "--seed",
            &seed.to_string(),
            "--out",
            &out,
            "--quiet",
        ],
        &[("SOURCE_DATE_EPOCH", &epoch.to_string())],
    ));
    std::fs::read(&out).expect("reads the model")
}

/// The `version` of a model.json.
pub fn version_of(model: &[u8]) -> String {
    let v: Value = serde_json::from_slice(model).expect("model.json is JSON");
    v["version"].as_str().expect("version").to_owned()
}

pub fn sha256(bytes: &[u8]) -> String {
    mcp_train_core::pipeline::sha256_hex(bytes)
}

/// Asserts a downloaded package verifies completely.
pub fn assert_package_verifies(zip: &[u8], version: &str) {
    let v = mcp_train_core::package::verify(zip)
        .unwrap_or_else(|e| panic!("package of {version} cannot be read: {e}"));
    assert!(v.ok, "package of {version}: {:?}", v.problems);
    assert_eq!(v.model_version.as_deref(), Some(version));
}

/// Every model the server lists is complete: its model.json has the recorded size and SHA-256
/// and its package verifies. Returns the versions.
pub fn assert_listed_models_are_complete(server: &Server) -> Vec<String> {
    let list = server.get("/api/models");
    assert_eq!(list.status, 200, "{}", list.text());
    let mut versions = Vec::new();
    for record in list.json()["models"].as_array().expect("models").clone() {
        let version = record["version"].as_str().expect("version").to_owned();
        let model = server.get(&format!("/api/models/{version}/model"));
        assert_eq!(model.status, 200, "{version}: {}", model.text());
        assert_eq!(record["sha256"], sha256(&model.body), "{version}");
        assert_eq!(record["size_bytes"], model.body.len(), "{version}");
        let package = server.get(&format!("/api/models/{version}/package"));
        assert_eq!(package.status, 200, "{version}: {}", package.text());
        assert_package_verifies(&package.body, &version);
        versions.push(version);
    }
    versions
}
