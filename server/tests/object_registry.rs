//! The registry on object storage against a real S3-compatible server (moto, started here on
//! loopback): two `mcp-train serve` replicas and the CLI on one bucket, racing deploys and
//! registrations, and `kill -9` in the middle of writes.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common;

use common::server::{assert_listed_models_are_complete, dist, export, train, version_of, Server};
use common::{ok, run, stdout_json, Work};

/// moto's `moto_server` (`MCP_TRAIN_MOTO`, else ~/.cache/mcp-train/moto).
fn moto_server() -> PathBuf {
    let path = std::env::var_os("MCP_TRAIN_MOTO")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/mcp-train/moto/bin/moto_server")
        });
    assert!(
        path.is_file(),
        "{} is missing: run `. scripts/tools.sh && ensure_moto`",
        path.display()
    );
    path
}

/// A moto S3 server on a loopback port with one bucket, killed when dropped.
struct S3 {
    child: Child,
    endpoint: String,
    bucket: String,
}

impl S3 {
    fn start(work: &Work, bucket: &str) -> S3 {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = std::fs::File::create(work.path("moto.log")).expect("creates the log");
        let child = Command::new(moto_server())
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("starts moto_server");
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not start");
            thread::sleep(Duration::from_millis(100));
        }
        let endpoint = format!("http://127.0.0.1:{port}");
        // Create the bucket (moto takes unsigned requests).
        let created = ureq::put(&format!("{endpoint}/{bucket}")).call();
        assert!(created.is_ok(), "creates the bucket: {created:?}");
        S3 {
            child,
            endpoint,
            bucket: bucket.to_owned(),
        }
    }

    /// The environment an AWS user would set for this endpoint.
    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", "test".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".to_owned()),
        ]
    }

    fn url(&self, prefix: &str) -> String {
        format!("s3://{}/{prefix}", self.bucket)
    }

    /// The keys stored under `prefix`, straight from the S3 API.
    fn keys(&self, prefix: &str) -> Vec<String> {
        let body = ureq::get(&format!(
            "{}/{}?list-type=2&prefix={prefix}",
            self.endpoint, self.bucket
        ))
        .call()
        .expect("lists the bucket")
        .into_string()
        .expect("a listing");
        body.split("<Key>")
            .skip(1)
            .filter_map(|s| s.split("</Key>").next())
            .map(str::to_owned)
            .collect()
    }

    /// An object's bytes, read with credentials (moto refuses anonymous reads of objects).
    fn object(&self, key: &str) -> Vec<u8> {
        use object_store::ObjectStoreExt;
        let store = object_store::aws::AmazonS3Builder::new()
            .with_endpoint(&self.endpoint)
            .with_allow_http(true)
            .with_bucket_name(&self.bucket)
            .with_region("us-east-1")
            .with_access_key_id("test")
            .with_secret_access_key("test")
            .build()
            .expect("an S3 client");
        let path = object_store::path::Path::from(key);
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(async { store.get(&path).await?.bytes().await })
            .unwrap_or_else(|e| panic!("reads {key}: {e}"))
            .to_vec()
    }
}

impl Drop for S3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn env_refs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// A replica of `mcp-train serve` with its own data directory, on the bucket's registry.
fn replica(work: &Work, name: &str, s3: &S3, registry: &str) -> Server {
    let env = s3.env();
    Server::start_with_env(
        &work.path(name),
        &dist(work),
        &["--registry", registry],
        &env_refs(&env),
    )
}

/// The model as if trained `seconds` (< 40) later: another version, another blob.
fn later(model: &[u8], seconds: u64) -> Vec<u8> {
    let version = version_of(model);
    let (day, time) = version.split_once('_').expect("as the test set it up");
    let time: u64 = time.parse().expect("as the test set it up");
    assert!(time % 100 + seconds < 60, "stays in the minute");
    let other = format!("{day}_{:06}", time + seconds);
    String::from_utf8(model.to_vec())
        .expect("as the test set it up")
        .replace(&version, &other)
        .into_bytes()
}

/// `mcp-train models --registry URL … --json`.
fn models_json(s3: &S3, registry: &str, args: &[&str]) -> Value {
    let env = s3.env();
    let mut all = vec!["models", "--registry", registry, "--json"];
    all.extend_from_slice(args);
    stdout_json(&run(&all, &env_refs(&env)))
}

#[test]
fn two_replicas_and_the_cli_share_one_registry_in_a_bucket() {
    let w = Work::new();
    let s3 = S3::start(&w, "fleet");
    let registry = s3.url("team/models");
    let a = replica(&w, "a", &s3, &registry);
    let b = replica(&w, "b", &s3, &registry);
    let e = export(&w, "e.json", 1500, 3);

    // A model uploaded to one replica is listed by the other, and by the CLI.
    let first = train(&w, &e, 1, 1_700_000_000);
    let up = a.post("/api/models", &first);
    assert_eq!(up.status, 201, "{}", up.text());
    assert_eq!(b.versions(), [version_of(&first)]);
    let listed = models_json(&s3, &registry, &["list"]);
    assert_eq!(listed["registry"], registry);
    assert_eq!(listed["models"][0]["version"], version_of(&first));

    // The CLI registers a second one (same second: the next free one); both replicas see it.
    let env = s3.env();
    let out = ok(&run(
        &[
            "train",
            &e,
            "--seed",
            "2",
            "--out",
            &w.s("m2.json"),
            "--quiet",
            "--register",
            "--registry",
            &registry,
        ],
        &[env_refs(&env), vec![("SOURCE_DATE_EPOCH", "1700000000")]].concat(),
    ));
    let second = std::fs::read(w.path("m2.json")).expect("as the test set it up");
    assert_eq!(version_of(&second), "20231114_221321", "{out}");
    assert_eq!(a.versions(), b.versions());
    assert_eq!(a.versions().len(), 2);

    // Deployed through B: A serves it as deployed, packaged; the CLI agrees.
    let v2 = version_of(&second);
    let deploy = b.post_json(&format!("/api/models/{v2}/deploy"), &json!({}));
    assert_eq!(deploy.status, 200, "{}", deploy.text());
    let deployed = a.get("/api/models/deployed");
    assert_eq!(deployed.json()["version"], v2, "{}", deployed.text());
    let cli = models_json(&s3, &registry, &["deployed"]);
    assert_eq!(cli["deployed"][0]["version"], v2, "{cli}");
    assert_listed_models_are_complete(&a);
    assert_listed_models_are_complete(&b);

    // The bytes in the bucket are the model's, under the documented layout.
    let keys = s3.keys("team/models/");
    assert!(
        keys.contains(&"team/models/registry.json".to_owned()),
        "{keys:?}"
    );
    let blob = format!("team/models/models/wifi/{v2}/model.json");
    assert_eq!(s3.object(&blob), second);

    // `models deploy` from the CLI writes the package beside the blob; `detect --registry`
    // serves the deployed model from the bucket.
    let v1 = version_of(&first);
    let deployed = models_json(&s3, &registry, &["deploy", &v1]);
    let package = deployed["package"]
        .as_str()
        .expect("package URL")
        .to_owned();
    assert_eq!(
        package,
        format!("{registry}/models/wifi/{v1}/model_{v1}_deployment.zip")
    );
    let zip = s3.object(&format!(
        "team/models/models/wifi/{v1}/model_{v1}_deployment.zip"
    ));
    common::server::assert_package_verifies(&zip, &v1);
    let detect = ok(&run(
        &["detect", "--registry", &registry, "--log-type", "wifi", &e],
        &env_refs(&env),
    ));
    assert!(detect.lines().count() > 100, "{detect}");
    assert_eq!(b.get("/api/models/deployed").json()["version"], v1);

    // A bucket that does not exist is a clear error naming it, not a crash.
    let missing = run(
        &["models", "--registry", "s3://no-such-bucket/x", "list"],
        &env_refs(&env),
    );
    let (code, message) = common::failure(&missing);
    assert_ne!(code, 0);
    assert!(message.contains("s3://no-such-bucket/x"), "{message}");
}

#[test]
fn racing_deploys_from_two_replicas_have_exactly_one_winner_and_no_registration_is_lost() {
    let w = Work::new();
    let s3 = S3::start(&w, "race");
    let registry = s3.url("r");
    let servers = Arc::new([
        replica(&w, "a", &s3, &registry),
        replica(&w, "b", &s3, &registry),
    ]);
    let e = export(&w, "e.json", 1200, 4);
    let model = train(&w, &e, 1, 1_700_000_000);
    let models: Arc<Vec<Vec<u8>>> = Arc::new((0..8).map(|i| later(&model, i)).collect());

    // Eight uploads at once, four per replica: eight registrations, each blob whole.
    let start = Arc::new(Barrier::new(8));
    let uploads: Vec<_> = (0..8)
        .map(|i| {
            let (servers, models, start) = (servers.clone(), models.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                let up = servers[i % 2].post("/api/models", &models[i]);
                assert_eq!(up.status, 201, "{}", up.text());
                up.json()["version"]
                    .as_str()
                    .expect("as the test set it up")
                    .to_owned()
            })
        })
        .collect();
    let mut versions: Vec<String> = uploads
        .into_iter()
        .map(|t| t.join().expect("as the test set it up"))
        .collect();
    versions.sort();
    versions.dedup();
    assert_eq!(versions.len(), 8, "every registration kept: {versions:?}");
    assert_eq!(servers[0].versions().len(), 8);
    assert_listed_models_are_complete(&servers[1]);

    // Rounds of two deploys at once, one per replica, each expecting the model deployed now:
    // exactly one wins, the other is told who did.
    let mut expected: Option<String> = None;
    for round in 0..3 {
        let start = Arc::new(Barrier::new(2));
        let racers: Vec<_> = (0..2)
            .map(|i| {
                let (servers, start) = (servers.clone(), start.clone());
                let version = versions[round * 2 + i].clone();
                let body = json!({ "expected_deployed": expected });
                thread::spawn(move || {
                    start.wait();
                    let reply =
                        servers[i].post_json(&format!("/api/models/{version}/deploy"), &body);
                    (version, reply.status, reply.text())
                })
            })
            .collect();
        let results: Vec<_> = racers
            .into_iter()
            .map(|t| t.join().expect("as the test set it up"))
            .collect();
        let winners: Vec<_> = results.iter().filter(|r| r.1 == 200).collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        let loser = results
            .iter()
            .find(|r| r.1 != 200)
            .expect("as the test set it up");
        assert_eq!(loser.1, 409, "round {round}: {results:?}");
        let winner = winners[0].0.clone();
        for s in servers.iter() {
            let deployed = s.get("/api/models/deployed").json();
            assert_eq!(deployed["version"], winner.as_str());
        }
        expected = Some(winner);
    }
    let history = servers[1].get("/api/models/history").json();
    let deploys = history["history"]
        .as_array()
        .map(|events| events.iter().filter(|e| e["action"] == "deploy").count());
    assert_eq!(deploys, Some(3), "{history}");
}

#[test]
fn a_replica_killed_mid_write_leaves_a_registry_the_other_keeps_using() {
    let w = Work::new();
    let s3 = S3::start(&w, "crash");
    let registry = s3.url("k");
    let mut a = replica(&w, "a", &s3, &registry);
    let b = replica(&w, "b", &s3, &registry);
    let e = export(&w, "e.json", 1500, 5);
    let model = train(&w, &e, 1, 1_700_000_000);

    // A takes uploads and deploys as fast as it can; it is killed (SIGKILL) in the middle.
    let base = a.base.clone();
    let writer = {
        let model = model.clone();
        thread::spawn(move || {
            let mut done = 0;
            for i in 0..30 {
                let up = common::server::try_call(
                    ureq::post(&format!("{base}/api/models"))
                        .set("Content-Type", "application/json"),
                    Some(later(&model, i).as_slice()),
                );
                let Ok(up) = up else { break };
                if up.status != 201 {
                    break;
                }
                let version = up.json()["version"]
                    .as_str()
                    .expect("as the test set it up")
                    .to_owned();
                let _ = common::server::try_call(
                    ureq::post(&format!("{base}/api/models/{version}/deploy"))
                        .set("Content-Type", "application/json"),
                    Some(b"{}"),
                );
                done += 1;
            }
            done
        })
    };
    thread::sleep(Duration::from_millis(1500));
    a.kill();
    let done = writer.join().expect("as the test set it up");
    assert!(done > 0, "A wrote before it was killed");

    // B lists only whole models, one deployed, and keeps registering and deploying.
    let before = assert_listed_models_are_complete(&b);
    assert!(
        before.len() >= done,
        "{} listed, {done} acknowledged",
        before.len()
    );
    let deployed = b.get("/api/models/deployed");
    assert_eq!(deployed.status, 200, "{}", deployed.text());
    let up = b.post("/api/models", &later(&model, 35));
    assert_eq!(up.status, 201, "{}", up.text());
    let version = up.json()["version"]
        .as_str()
        .expect("as the test set it up")
        .to_owned();
    let deploy = b.post_json(&format!("/api/models/{version}/deploy"), &json!({}));
    assert_eq!(deploy.status, 200, "{}", deploy.text());
    assert_eq!(
        assert_listed_models_are_complete(&b).len(),
        before.len() + 1
    );

    // The index in the bucket is whole JSON, and every blob it lists is there.
    let index: Value = serde_json::from_slice(&s3.object("k/registry.json")).expect("JSON");
    let keys = s3.keys("k/models/");
    for m in index["models"].as_array().expect("as the test set it up") {
        let key = format!(
            "k/models/wifi/{}/model.json",
            m["version"].as_str().expect("as the test set it up")
        );
        assert!(keys.contains(&key), "{key} listed but not stored");
    }
}
