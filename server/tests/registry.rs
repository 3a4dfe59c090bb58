//! End-to-end tests of the model registry: `mcp-train train --register` and `mcp-train models`,
//! run as a person runs them, and writers killed mid-write or racing each other.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use mcp_train_core::registry::{ModelStatus, RegistryStore};
use serde_json::Value;

// The file-system store itself, so the tests can open the registry as the binary does, and
// child processes can hammer it faster than whole `train` runs would.
use mcp_train::fs::registry;

use crate::common;

use common::{command, failure, ok, run, stdout_json, text, Work};

/// The registry tests' inputs.
trait Inputs {
    fn export(&self) -> String;
    fn features(&self) -> String;
}

impl Inputs for Work {
    /// A small labelled export (300 records: training takes a fraction of a second).
    fn export(&self) -> String {
        let name = "export.json";
        ok(&run(
            &[
                "synth",
                "-n",
                "300",
                "--anomaly-ratio",
                "0.08",
                "--out",
                &self.s(name),
            ],
            &[],
        ));
        self.s(name)
    }
    /// A tiny labelled features CSV (40 rows, 2 columns): the smallest model worth storing.
    fn features(&self) -> String {
        let mut csv = String::from("a,b,label\n");
        for i in 0..40u32 {
            let outlier = i % 13 == 5;
            let a = if outlier {
                9.0 + f64::from(i) / 40.0
            } else {
                f64::from(i % 7) / 7.0
            };
            let b = f64::from((i * 37) % 11) / 11.0;
            csv.push_str(&format!("{a},{b},{}\n", u8::from(outlier)));
        }
        std::fs::write(self.path("features.csv"), csv).expect("writes");
        self.s("features.csv")
    }
}

/// `train INPUT… --register` into `registry` with the clock frozen at 2023-11-14T22:13:20Z
/// (plus `later` seconds); returns the registered version.
fn train_register(input: &[&str], out: &str, registry: &str, later: i64) -> String {
    let mut args = vec!["train"];
    args.extend(input);
    args.extend(["--out", out, "--register", "--registry", registry, "--json"]);
    let epoch = (1_700_000_000 + later).to_string();
    let summary = stdout_json(&run(&args, &[("SOURCE_DATE_EPOCH", &epoch)]));
    summary["registered"]["record"]["version"]
        .as_str()
        .expect("registered version")
        .to_owned()
}

fn models(registry: &str, args: &[&str]) -> Output {
    let mut all = vec!["models", "--registry", registry];
    all.extend(args);
    run(&all, &[])
}

/// Versions and statuses from `models list --json`.
fn listed(registry: &str) -> Vec<(String, String)> {
    let list = stdout_json(&models(registry, &["list", "--json"]));
    list["models"]
        .as_array()
        .expect("models array")
        .iter()
        .map(|m| {
            (
                m["version"].as_str().unwrap_or_default().to_owned(),
                m["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn sha256(path: &Path) -> String {
    mcp_train_core::registry::sha256_hex(&std::fs::read(path).expect("reads"))
}

#[test]
fn trainings_in_the_same_second_register_distinct_versions() {
    let w = Work::new();
    let export = w.export();
    let reg = w.s("data");
    let a = train_register(&[&export], &w.s("a.json"), &reg, 0);
    let b = train_register(&[&export], &w.s("b.json"), &reg, 0);
    assert_eq!(
        (a.as_str(), b.as_str()),
        ("20231114_221320", "20231114_221321")
    );

    // --out holds exactly the registry's bytes, version included.
    let b_out: Value =
        serde_json::from_slice(&std::fs::read(w.path("b.json")).expect("b")).expect("json");
    assert_eq!(b_out["version"], b);
    let stored = w.path("data/models/wifi/20231114_221321/model.json");
    assert_eq!(sha256(&w.path("b.json")), sha256(&stored));
    assert_eq!(
        sha256(&w.path("a.json")),
        sha256(&w.path("data/models/wifi/20231114_221320/model.json"))
    );

    // The text summary says where it went and why the version moved.
    let o = run(
        &[
            "train",
            &export,
            "--out",
            &w.s("c.json"),
            "--register",
            "--registry",
            &reg,
        ],
        &[("SOURCE_DATE_EPOCH", "1700000000")],
    );
    ok(&o);
    let summary = text(&o.stderr);
    assert!(
        summary.contains("wrote model 20231114_221322 to "),
        "{summary}"
    );
    assert!(
        summary.contains(&format!(
            "registered model 20231114_221322 in {reg} (status ready); 20231114_221320 was taken"
        )),
        "{summary}"
    );
    assert_eq!(
        listed(&reg),
        [
            ("20231114_221322".to_owned(), "ready".to_owned()),
            ("20231114_221321".to_owned(), "ready".to_owned()),
            ("20231114_221320".to_owned(), "ready".to_owned()),
        ]
    );
    // Without --register nothing is registered; --registry alone is a usage error.
    ok(&run(
        &["train", &export, "--out", &w.s("d.json")],
        &[("MCP_TRAIN_DATA", &reg)],
    ));
    assert_eq!(listed(&reg).len(), 3);
    let o = run(&["train", &export, "--registry", &reg], &[]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn list_show_deploy_archive_delete_and_prune() {
    let w = Work::new();
    let features = w.features();
    let reg = w.s("data");
    let v: Vec<String> = (0..4)
        .map(|i| {
            train_register(
                &["--features-csv", &features],
                &w.s(&format!("m{i}.json")),
                &reg,
                0,
            )
        })
        .collect();

    // list: a table, newest first.
    let table = ok(&models(&reg, &["list"]));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0],
        "VERSION          LOG TYPE  STATUS  DETECTOR          SAMPLES  CREATED               KEY METRIC"
    );
    assert!(
        lines[1].starts_with(
            "20231114_221323  wifi      ready   isolation_forest       32  2023-11-14T22:13:20Z  roc_auc "
        ),
        "{table}"
    );
    assert_eq!(lines.len(), 5, "{table}");

    // list --json: the registry and every record.
    let list = stdout_json(&models(&reg, &["list", "--json"]));
    assert_eq!(list["registry"], reg);
    let first = &list["models"][0];
    assert_eq!(first["version"], v[3]);
    for key in [
        "status",
        "created_at",
        "registered_at",
        "detector",
        "samples",
        "features",
        "size_bytes",
        "sha256",
        "lineage_file",
        "metrics",
    ] {
        assert!(!first[key].is_null(), "{key} in {first}");
    }
    assert_eq!(first["lineage_file"], "features.csv");
    assert_eq!(first["deployed_at"], Value::Null);

    // deploy, then deploy another: the first is archived.
    // Each deployment also writes the package beside the model.
    let package = |v: &str| {
        format!(
            "package {}\n",
            Path::new(&reg)
                .join("models")
                .join("wifi")
                .join(v)
                .join(format!("model_{v}_deployment.zip"))
                .display()
        )
    };
    assert_eq!(
        ok(&models(&reg, &["deploy", &v[0]])),
        format!("deployed {} (was ready)\n{}", v[0], package(&v[0]))
    );
    let out = ok(&models(&reg, &["deploy", "latest"]));
    assert_eq!(
        out,
        format!(
            "deployed {} (was ready)\narchived {} (was deployed)\n{}",
            v[3],
            v[0],
            package(&v[3])
        )
    );
    assert_eq!(
        ok(&models(&reg, &["deploy", &v[3]])),
        format!("{} is already deployed\n", v[3])
    );
    let change = stdout_json(&models(&reg, &["deploy", &v[0], "--json"]));
    assert_eq!(change["changed"], true);
    assert_eq!(change["from"], "archived");
    assert_eq!(change["model"]["status"], "deployed");
    assert_eq!(change["displaced"]["version"], v[3]);
    assert_eq!(change["displaced"]["status"], "archived");

    // show, by version and by alias.
    let show = ok(&models(&reg, &["show", "deployed"]));
    assert!(
        show.starts_with(&format!("model      {} · deployed\n", v[0])),
        "{show}"
    );
    assert!(
        show.contains("training   32 rows × 2 features · 8 held out · seed 42"),
        "{show}"
    );
    assert!(
        show.contains("data       features.csv (features_csv, 40 records"),
        "{show}"
    );
    let show = stdout_json(&models(&reg, &["show", &v[1], "--json"]));
    assert_eq!(show["record"]["version"], v[1]);
    assert_eq!(show["record"]["status"], "ready");
    let file = show["file"].as_str().expect("file");
    assert_eq!(
        sha256(Path::new(file)),
        show["record"]["sha256"].as_str().expect("sha")
    );
    assert_eq!(show["model"]["detector"], "isolation_forest");
    assert_eq!(show["model"]["params"]["n_estimators"], 100);
    assert_eq!(
        show["model"]["input"]["features"],
        serde_json::json!(["a", "b"])
    );
    assert!(show["model"]["metrics"]["roc_auc"].is_f64());
    assert!(show["model"].get("trees").is_none());

    // archive a ready model; archiving twice changes nothing.
    assert_eq!(
        ok(&models(&reg, &["archive", &v[2]])),
        format!("archived {} (was ready)\n", v[2])
    );
    assert_eq!(
        ok(&models(&reg, &["archive", &v[2]])),
        format!("{} is already archived\n", v[2])
    );

    // delete: the deployed model is refused, then forced.
    let (code, line) = failure(&models(&reg, &["delete", &v[0]]));
    assert_eq!(code, 1);
    assert_eq!(
        line,
        format!("error: refusing to delete model {}: it is deployed (deploy another model or archive it first, or use --force)", v[0])
    );
    assert!(w
        .path(&format!("data/models/wifi/{}/model.json", v[0]))
        .is_file());
    let gone = stdout_json(&models(&reg, &["delete", "deployed", "--force", "--json"]));
    assert_eq!(gone["deleted"]["version"], v[0]);
    assert!(
        !w.path(&format!("data/models/wifi/{}", v[0])).exists(),
        "files removed"
    );
    assert_eq!(
        ok(&models(&reg, &["delete", &v[1]]))
            .split(' ')
            .take(2)
            .collect::<Vec<_>>(),
        ["deleted", v[1].as_str()]
    );
    assert_eq!(listed(&reg).len(), 2);

    // prune: the default comes from training_config.yaml, and the deployed model stays.
    ok(&models(&reg, &["deploy", &v[2]]));
    let config = w.path("config");
    std::fs::create_dir(&config).expect("mkdir");
    std::fs::write(
        config.join("training_config.yaml"),
        mcp_train_core::config::DEFAULT_TRAINING_CONFIG.replace("keep_last: 10", "keep_last: 1"),
    )
    .expect("writes");
    assert_eq!(
        ok(&models(&reg, &["prune"])),
        "nothing to prune: 2 models, keeping the newest 10 and the deployed one\n"
    );
    let pruned = ok(&models(
        &reg,
        &["prune", "--config", &config.to_string_lossy()],
    ));
    assert_eq!(
        pruned,
        "nothing to prune: 2 models, keeping the newest 1 and the deployed one\n"
    );
    // A model trained a minute later is the newest: prune keeps it and the deployed one.
    let newest = train_register(&["--features-csv", &features], &w.s("m4.json"), &reg, 60);
    assert_eq!(newest, "20231114_221420");
    let pruned = stdout_json(&models(&reg, &["prune", "--keep", "1", "--json"]));
    assert_eq!(pruned["deleted"][0]["version"], v[3]);
    assert_eq!(pruned["remaining"], 2);
    let left = listed(&reg);
    assert_eq!(left[1], (v[2].clone(), "deployed".to_owned()));
    // clap's usage errors are several lines, and exit 2.
    assert_eq!(
        models(&reg, &["prune", "--keep", "0"]).status.code(),
        Some(2)
    );
}

#[test]
fn unknown_versions_and_empty_registries() {
    let w = Work::new();
    let reg = w.s("nothing-here");
    assert_eq!(
        ok(&models(&reg, &["list"])),
        format!("no models in {reg}\n")
    );
    assert_eq!(listed(&reg), []);
    for args in [
        &["show", "20240101_000000"][..],
        &["deploy", "20240101_000000"],
        &["archive", "latest"],
        &["delete", "deployed", "--force"],
        &["show", "../../etc/passwd"],
    ] {
        let (code, line) = failure(&models(&reg, args));
        assert_eq!(code, 1, "{args:?}");
        assert!(line.contains(&format!("({reg})")), "{line}");
    }
    let (_, line) = failure(&models(&reg, &["show", "20240101_000000"]));
    assert_eq!(
        line,
        format!("error: no model 20240101_000000 in the registry ({reg})")
    );
    assert!(!w.path("nothing-here").exists(), "reading creates nothing");
    let o = run(&["models", "list", "--no-such-flag"], &[]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn mcp_train_data_picks_the_registry_and_the_flag_wins() {
    let w = Work::new();
    let features = w.features();
    let env_reg = w.s("from-env");
    let o = run(
        &[
            "train",
            "--features-csv",
            &features,
            "--out",
            &w.s("m.json"),
            "--register",
        ],
        &[("MCP_TRAIN_DATA", &env_reg)],
    );
    ok(&o);
    assert!(w.path("from-env/registry.json").is_file());
    let list = stdout_json(&run(
        &["models", "list", "--json"],
        &[("MCP_TRAIN_DATA", &env_reg)],
    ));
    assert_eq!(list["models"].as_array().map(Vec::len), Some(1));
    let flag = w.s("from-flag");
    let list = stdout_json(&run(
        &["models", "list", "--json", "--registry", &flag],
        &[("MCP_TRAIN_DATA", &env_reg)],
    ));
    assert_eq!(list["registry"], flag);
    assert_eq!(list["models"].as_array().map(Vec::len), Some(0));
    // Without either: ./mcp-train-data.
    let o = command(&["models", "list", "--json"], &[])
        .current_dir(w.path(""))
        .output()
        .expect("runs");
    assert_eq!(stdout_json(&o)["registry"], "mcp-train-data");
}

#[test]
fn a_corrupt_registry_json_is_a_one_line_error_and_left_alone() {
    let w = Work::new();
    let features = w.features();
    let reg = w.s("data");
    train_register(&["--features-csv", &features], &w.s("m.json"), &reg, 0);
    let index = w.path("data/registry.json");
    let cases = [
        (
            "{\"format\": \"mcp-train-registry\", \"format_ver",
            "not valid JSON: EOF while parsing",
        ),
        (
            "{\"format\": \"something-else\", \"format_version\": 1, \"models\": []}",
            "format \"something-else\" is not \"mcp-train-registry\"",
        ),
        (
            "{\"format\": \"mcp-train-registry\", \"format_version\": 7, \"models\": []}",
            "format_version 7 is not supported (this build reads versions 1 and 2)",
        ),
    ];
    for (bytes, reason) in cases {
        std::fs::write(&index, bytes).expect("writes");
        for args in [
            &["list"][..],
            &["show", "latest"],
            &["prune", "--keep", "1"],
            &["deploy", "latest"],
        ] {
            let (code, line) = failure(&models(&reg, args));
            assert_eq!(code, 1, "{args:?}");
            let expected = format!(
                "error: {}: registry index is unusable: {reason}",
                index.display()
            );
            assert!(line.starts_with(&expected), "{line}\nexpected {expected}");
        }
        let o = run(
            &[
                "train",
                "--features-csv",
                &features,
                "--out",
                &w.s("n.json"),
                "--register",
                "--registry",
                &reg,
            ],
            &[],
        );
        assert_eq!(failure(&o).0, 1);
        assert_eq!(
            std::fs::read(&index).expect("reads"),
            bytes.as_bytes(),
            "never overwritten"
        );
    }
}

/// Opens the registry with the file-system store and checks it the hard way: the index parses,
/// every listed model's file exists, matches its recorded SHA-256 and loads, and at most one is
/// deployed. Returns the listed versions.
fn check_registry(dir: &Path) -> Vec<String> {
    let registry = registry::open(dir);
    let list = registry.list().expect("the index opens");
    let mut deployed = 0;
    for m in &list {
        let stored = registry
            .get(&m.version)
            .expect("a listed model is complete");
        let key = mcp_train_core::registry::ModelKey::new(&m.log_type, &m.version);
        assert_eq!(
            sha256(Path::new(&registry.store().model_location(&key))),
            m.sha256
        );
        let artifact = stored.artifact().expect("a listed model loads");
        assert_eq!(artifact.version, m.version);
        deployed += usize::from(m.status == ModelStatus::Deployed);
    }
    assert!(deployed <= 1);
    list.into_iter().map(|m| m.version).collect()
}

/// Temporary files anywhere under `dir`.
fn temporaries(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.to_string_lossy().ends_with(".tmp") {
                found.push(path);
            }
        }
    }
    found
}

const CHILD_ENV: &str = "MCP_TRAIN_TEST_WRITER";

/// Not a test of its own: the body of the writer processes that the crash and concurrency tests
/// start by running this test binary again with `MCP_TRAIN_TEST_WRITER=<dir>|<model>|<count>`.
/// It registers the model `count` times (0: until killed), and in the endless mode also deploys,
/// archives and prunes, so that a kill can land in every kind of write.
#[test]
fn writer_process() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let parts: Vec<&str> = spec.split('|').collect();
    let (dir, model, count) = (Path::new(parts[0]), parts[1], parts[2]);
    let count: u64 = count.parse().expect("count");
    let bytes = std::fs::read(model).expect("model");
    let mut registry = registry::open(dir);
    let at = 1_700_000_000_000_000;
    for i in 1.. {
        let record = registry.register_bytes(&bytes, at).expect("registers");
        if count > 0 {
            if i >= count {
                break;
            }
            continue;
        }
        if i % 3 == 0 {
            registry.deploy(&record.version, at).expect("deploys");
        }
        if i % 4 == 0 {
            registry.archive(&record.version, at).expect("archives");
        }
        if i % 5 == 0 {
            registry.prune(4).expect("prunes");
        }
    }
}

fn spawn_writer(dir: &Path, model: &Path, count: u64) -> Child {
    Command::new(std::env::current_exe().expect("test binary"))
        .args([
            // Its name in the one test binary (tests/tests.rs).
            "registry::writer_process",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(
            CHILD_ENV,
            format!("{}|{}|{count}", dir.display(), model.display()),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts a writer")
}

/// A model trained on the tiny features CSV, written to `model.json` in `w`.
fn tiny_model(w: &Work) -> PathBuf {
    let features = w.features();
    let model = w.path("model.json");
    ok(&run(
        &[
            "train",
            "--features-csv",
            &features,
            "--out",
            &model.to_string_lossy(),
        ],
        &[],
    ));
    model
}

#[test]
fn writers_killed_mid_write_leave_a_registry_that_opens() {
    let w = Work::new();
    let model = tiny_model(&w);
    let dir = w.path("data");
    let mut registered = 0;
    for round in 0..10u64 {
        let mut child = spawn_writer(&dir, &model, 0);
        // Staggered, so the kills land at different points of the write sequence.
        std::thread::sleep(Duration::from_millis(40 + round * 17));
        child.kill().expect("SIGKILL");
        let o = child.wait_with_output().expect("waits");
        assert!(!o.status.success(), "the writer ran until killed");
        assert!(!text(&o.stderr).contains("panicked"), "{}", text(&o.stderr));
        let versions = check_registry(&dir);
        // The binary opens it too.
        assert_eq!(listed(&dir.to_string_lossy()).len(), versions.len());
        registered = registered.max(versions.len());
    }
    assert!(registered > 0, "the writers got to register something");

    // The next change clears whatever the kills left behind: unlisted model directories and
    // temporary files.
    let mut registry = registry::open(&dir);
    registry
        .register_bytes(&std::fs::read(&model).expect("model"), 0)
        .expect("registers after the crashes");
    let listed: BTreeSet<String> = check_registry(&dir).into_iter().collect();
    let stored: BTreeSet<String> = registry
        .store()
        .list_models()
        .expect("lists")
        .into_iter()
        .map(|k| k.version)
        .collect();
    assert_eq!(stored, listed);
    assert_eq!(temporaries(&dir), Vec::<PathBuf>::new());
}

#[test]
fn concurrent_writers_lose_nothing() {
    let w = Work::new();
    let model = tiny_model(&w);
    let dir = w.path("data");

    // Two processes register 15 models each, all trained "in the same second".
    const N: usize = 15;
    let started = Instant::now();
    let writers = [
        spawn_writer(&dir, &model, N as u64),
        spawn_writer(&dir, &model, N as u64),
    ];
    for child in writers {
        let o = child.wait_with_output().expect("waits");
        assert!(o.status.success(), "{}", text(&o.stderr));
    }
    let versions = check_registry(&dir);
    assert_eq!(versions.len(), 2 * N, "after {:?}", started.elapsed());
    assert_eq!(versions.iter().collect::<BTreeSet<_>>().len(), 2 * N);

    // And the real thing: three `train --register` at once, in the same frozen second.
    let reg = w.s("trained");
    let features = w.s("features.csv"); // written by tiny_model
    let children: Vec<Child> = (0..3)
        .map(|i| {
            command(
                &[
                    "train",
                    "--features-csv",
                    &features,
                    "--out",
                    &w.s(&format!("t{i}.json")),
                    "--register",
                    "--registry",
                    &reg,
                ],
                &[("SOURCE_DATE_EPOCH", "1700000000")],
            )
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starts")
        })
        .collect();
    for child in children {
        let o = child.wait_with_output().expect("waits");
        assert!(o.status.success(), "{}", text(&o.stderr));
    }
    let mut versions = check_registry(Path::new(&reg));
    versions.sort();
    assert_eq!(
        versions,
        ["20231114_221320", "20231114_221321", "20231114_221322"]
    );
}
