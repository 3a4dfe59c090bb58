use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::sync::OnceLock;

use super::*;
use crate::config::Config;
use crate::pipeline::{train, Hooks, TrainChoices, TrainInput};

const NOW: i64 = 1_704_067_200_000_000; // 2024-01-01T00:00:00Z
const SECOND: i64 = MICROS_PER_SECOND;

/// A small trained model, trained once.
fn base() -> &'static ModelArtifact {
    static BASE: OnceLock<ModelArtifact> = OnceLock::new();
    BASE.get_or_init(|| {
        let mut csv = String::from("a,b,label\n");
        for i in 0..60 {
            let outlier = i % 20 == 7;
            let (a, b) = if outlier {
                (50 + i, -40)
            } else {
                (i % 7, i % 5)
            };
            csv.push_str(&format!("{a},{b},{}\n", u8::from(outlier)));
        }
        let config = Config::defaults();
        let choices = TrainChoices {
            seed: Some(1),
            ..TrainChoices::default()
        };
        let options = choices
            .resolve(&config)
            .expect("parameters")
            .options(&config, NOW);
        let input = TrainInput::FeaturesCsv {
            bytes: csv.as_bytes(),
            file_name: "features.csv",
            label_column: None,
        };
        let mut progress = |_: &crate::pipeline::Progress| true;
        let hooks = Hooks {
            progress: &mut progress,
            elapsed_ms: &|| 0.0,
        };
        train(input, &options, hooks).expect("trains").artifact
    })
}

/// The model as if trained `seconds` after [`NOW`].
fn model(seconds: i64) -> ModelArtifact {
    let mut m = base().clone();
    m.version = version_string(NOW + seconds * SECOND);
    m.created_at = format_iso8601(NOW + seconds * SECOND);
    m
}

fn registry() -> Registry<MemoryStore> {
    Registry::new(MemoryStore::new())
}

/// Registers models trained at these offsets (seconds after [`NOW`]); returns their versions.
fn with_models(registry: &mut Registry<impl RegistryStore>, seconds: &[i64]) -> Vec<String> {
    seconds
        .iter()
        .map(|&s| {
            registry
                .register(model(s), NOW + 3600 * SECOND)
                .expect("registers")
                .version
        })
        .collect()
}

fn versions(records: &[ModelRecord]) -> Vec<&str> {
    records.iter().map(|m| m.version.as_str()).collect()
}

fn status(registry: &Registry<impl RegistryStore>, version: &str) -> ModelStatus {
    registry.record(version).expect("listed").status
}

/// Every listed model has its bytes, with the recorded hash, and loads; the lock is free.
fn assert_consistent(store: &MemoryStore) -> Vec<ModelRecord> {
    assert!(!store.is_locked(), "an operation left the lock held");
    let registry = Registry::new(store.clone());
    let list = registry.list().expect("index opens");
    for m in &list {
        let stored = registry.get(&m.version).expect("listed model is complete");
        let artifact = stored.artifact().expect("listed model loads");
        assert_eq!(artifact.version, m.version);
    }
    list
}

#[test]
fn register_stores_the_model_and_its_record() {
    let mut r = registry();
    let record = r.register(model(0), NOW + 5 * SECOND).expect("registers");
    assert_eq!(record.version, "20240101_000000");
    assert_eq!(record.status, ModelStatus::Ready);
    assert_eq!(record.created_at, "2024-01-01T00:00:00Z");
    assert_eq!(record.registered_at, "2024-01-01T00:00:05Z");
    assert_eq!(
        (record.deployed_at.as_ref(), record.archived_at.as_ref()),
        (None, None)
    );
    assert_eq!(record.detector, "isolation_forest");
    assert_eq!(record.features, 2);
    assert_eq!(record.samples, base().training.samples);
    assert_eq!(record.lineage_file, "features.csv");
    assert!(record.metrics.roc_auc.is_some() && record.metrics.f1.is_some());

    let stored = r.get(&record.version).expect("gets");
    assert_eq!(stored.bytes, model(0).to_json());
    assert_eq!(stored.record, record);
    assert_eq!(record.size_bytes, stored.bytes.len() as u64);
    assert_eq!(record.sha256, sha256_hex(&stored.bytes));
    assert_eq!(
        r.register_bytes(&model(9).to_json(), NOW)
            .expect("bytes")
            .version,
        "20240101_000009"
    );
}

#[test]
fn models_registered_in_the_same_second_get_the_next_free_seconds() {
    let mut r = registry();
    with_models(&mut r, &[1]);
    let got = with_models(&mut r, &[0, 0, 0, 0]);
    assert_eq!(
        got,
        [
            "20240101_000000",
            "20240101_000002",
            "20240101_000003",
            "20240101_000004"
        ]
    );
    // The stored model.json carries the version it is registered under.
    for v in &got {
        let stored = r.get(v).expect("gets");
        assert_eq!(&stored.artifact().expect("loads").version, v);
    }
    // Across midnight and the end of a year, the format holds.
    let mut r = registry();
    let mut late = model(0);
    late.version = "20231231_235959".to_owned();
    r.register(late.clone(), NOW).expect("first");
    assert_eq!(
        r.register(late, NOW).expect("second").version,
        "20240101_000000"
    );
}

#[test]
fn list_is_newest_first_and_latest_is_the_newest() {
    let mut r = registry();
    assert!(r.list().expect("empty registry lists").is_empty());
    assert_eq!(r.latest().expect("latest"), None);
    assert!(matches!(r.resolve("latest"), Err(RegistryError::Empty)));
    with_models(&mut r, &[20, 5, 90, 60]);
    assert_eq!(
        versions(&r.list().expect("lists")),
        [
            "20240101_000130",
            "20240101_000100",
            "20240101_000020",
            "20240101_000005"
        ]
    );
    assert_eq!(
        r.resolve("latest").expect("latest").version,
        "20240101_000130"
    );
}

#[test]
fn deploying_archives_the_previously_deployed_model() {
    let mut r = registry();
    let v = with_models(&mut r, &[0, 1, 2]);
    assert_eq!(r.deployed("wifi").expect("deployed"), None);
    assert!(matches!(
        r.resolve("deployed"),
        Err(RegistryError::NoneDeployed)
    ));

    let first = r.deploy(&v[0], NOW + 10 * SECOND).expect("deploys");
    assert!(first.changed());
    assert_eq!(
        (first.from, first.model.status),
        (ModelStatus::Ready, ModelStatus::Deployed)
    );
    assert_eq!(
        first.model.deployed_at.as_deref(),
        Some("2024-01-01T00:00:10Z")
    );
    assert_eq!(first.displaced, None);

    let second = r.deploy(&v[1], NOW + 20 * SECOND).expect("deploys");
    let displaced = second.displaced.expect("the first was deployed");
    assert_eq!(displaced.version, v[0]);
    assert_eq!(displaced.status, ModelStatus::Archived);
    assert_eq!(
        displaced.archived_at.as_deref(),
        Some("2024-01-01T00:00:20Z")
    );
    assert_eq!(status(&r, &v[0]), ModelStatus::Archived);
    assert_eq!(status(&r, &v[1]), ModelStatus::Deployed);
    assert_eq!(status(&r, &v[2]), ModelStatus::Ready);
    assert_eq!(r.resolve("deployed").expect("deployed").version, v[1]);

    // Deploying the deployed model changes nothing.
    let again = r.deploy(&v[1], NOW + 30 * SECOND).expect("deploys");
    assert!(!again.changed());
    assert_eq!(
        again.model.deployed_at.as_deref(),
        Some("2024-01-01T00:00:20Z")
    );
}

#[test]
fn rollback_redeploys_an_archived_model() {
    let mut r = registry();
    let v = with_models(&mut r, &[0, 1]);
    r.deploy(&v[0], NOW).expect("deploys");
    r.deploy(&v[1], NOW + SECOND).expect("deploys");
    let back = r.deploy(&v[0], NOW + 2 * SECOND).expect("rolls back");
    assert_eq!(back.from, ModelStatus::Archived);
    assert_eq!(back.model.status, ModelStatus::Deployed);
    assert_eq!(back.model.archived_at, None, "no longer archived");
    assert_eq!(back.displaced.map(|m| m.version), Some(v[1].clone()));
    let deployed: Vec<_> = r
        .list()
        .expect("lists")
        .into_iter()
        .filter(|m| m.status == ModelStatus::Deployed)
        .collect();
    assert_eq!(versions(&deployed), [v[0].as_str()]);
}

#[test]
fn archive_takes_ready_or_deployed_models() {
    let mut r = registry();
    let v = with_models(&mut r, &[0, 1]);
    r.deploy(&v[1], NOW).expect("deploys");
    let t = r.archive(&v[1], NOW + SECOND).expect("archives");
    assert_eq!(
        (t.from, t.model.status),
        (ModelStatus::Deployed, ModelStatus::Archived)
    );
    assert_eq!(
        r.deployed("wifi").expect("deployed"),
        None,
        "nothing deployed now"
    );
    let t = r.archive(&v[0], NOW + SECOND).expect("archives");
    assert_eq!(t.from, ModelStatus::Ready);
    let again = r.archive(&v[0], NOW + 9 * SECOND).expect("archives");
    assert!(!again.changed());
    assert_eq!(
        again.model.archived_at.as_deref(),
        Some("2024-01-01T00:00:01Z")
    );
}

#[test]
fn unknown_versions_are_named_in_the_error() {
    let mut r = registry();
    with_models(&mut r, &[0]);
    for result in [
        r.get("20990101_000000").map(|_| ()),
        r.deploy("20990101_000000", NOW).map(|_| ()),
        r.archive("20990101_000000", NOW).map(|_| ()),
        r.delete("20990101_000000", true, NOW).map(|_| ()),
        r.resolve("../etc/passwd").map(|_| ()),
    ] {
        let e = result.expect_err("unknown");
        assert!(matches!(e, RegistryError::NotFound { .. }), "{e:?}");
    }
    let e = r.deploy("20990101_000000", NOW).expect_err("unknown");
    assert_eq!(e.to_string(), "no model 20990101_000000 in the registry");
}

#[test]
fn deleting_the_deployed_model_is_refused_unless_forced() {
    let mut r = registry();
    let v = with_models(&mut r, &[0, 1]);
    r.deploy(&v[1], NOW).expect("deploys");
    let before = r.store().clone();
    let e = r.delete(&v[1], false, NOW).expect_err("refused");
    assert_eq!(
        e.to_string(),
        "refusing to delete model 20240101_000001: it is deployed"
    );
    assert_eq!(r.store(), &before, "nothing changed");

    let gone = r.delete(&v[1], true, NOW).expect("forced");
    assert_eq!(gone.version, v[1]);
    assert_eq!(r.deployed("wifi").expect("deployed"), None);
    let gone = r
        .delete(&v[0], false, NOW)
        .expect("ready models go without force");
    assert_eq!(gone.version, v[0]);
    assert!(r.list().expect("lists").is_empty());
    assert!(
        r.store().list_models().expect("lists").is_empty(),
        "bytes removed too"
    );
}

#[test]
fn prune_keeps_the_newest_and_never_the_deployed() {
    let mut r = registry();
    let v = with_models(&mut r, &[0, 1, 2, 3, 4, 5]);
    r.deploy(&v[1], NOW).expect("deploys");
    let removed = r.prune(3).expect("prunes");
    assert_eq!(versions(&removed), [v[2].as_str(), v[0].as_str()]);
    assert_eq!(
        versions(&r.list().expect("lists")),
        [v[5].as_str(), v[4].as_str(), v[3].as_str(), v[1].as_str()]
    );
    let mut stored = r.store().list_models().expect("lists");
    stored.sort();
    assert_eq!(
        stored,
        [&v[1], &v[3], &v[4], &v[5]].map(|v| ModelKey::new("wifi", v))
    );
    // Nothing to prune: nothing written.
    let before = r.store().clone();
    assert!(r.prune(10).expect("prunes").is_empty());
    assert_eq!(r.store(), &before);
    // Keeping none still keeps the deployed model.
    let removed = r.prune(0).expect("prunes");
    assert_eq!(removed.len(), 3);
    assert_eq!(versions(&r.list().expect("lists")), [v[1].as_str()]);
}

#[test]
fn index_file_has_the_documented_shape() {
    let mut r = registry();
    let v = with_models(&mut r, &[0]);
    r.deploy(&v[0], NOW).expect("deploys");
    let bytes = r.store().read_index().expect("reads").expect("written");
    let json: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    assert_eq!(json["format"], "mcp-train-registry");
    assert_eq!(json["format_version"], 2);
    let m = &json["models"][0];
    assert_eq!(m["version"], "20240101_000000");
    assert_eq!(m["status"], "deployed");
    assert_eq!(m["archived_at"], serde_json::Value::Null);
    for key in [
        "created_at",
        "registered_at",
        "deployed_at",
        "detector",
        "samples",
        "features",
        "size_bytes",
        "sha256",
        "lineage_file",
    ] {
        assert!(!m[key].is_null(), "{key} in {m}");
    }
    assert!(m["metrics"]["anomaly_ratio"].is_f64());
}

#[test]
fn a_corrupt_index_is_refused_and_never_overwritten() {
    let mut r = registry();
    let v = with_models(&mut r, &[0, 1]);
    let good = r.store().read_index().expect("reads").expect("written");
    let text = String::from_utf8(good.clone()).expect("utf-8");
    let cases: [(Vec<u8>, &str); 6] = [
        (
            b"{\"format\": \"mcp-train-registry\", \"forma".to_vec(),
            "not valid JSON",
        ),
        (b"[]".to_vec(), "not valid JSON"),
        (
            b"{\"format\": \"mcp-train-model\", \"format_version\": 1}".to_vec(),
            "format \"mcp-train-model\" is not \"mcp-train-registry\"",
        ),
        (
            text.replace("\"format_version\": 2", "\"format_version\": 3")
                .into_bytes(),
            "format_version 3 is not supported",
        ),
        (
            text.replace(&v[0], &v[1]).into_bytes(),
            "version 20240101_000001 is listed twice",
        ),
        (
            text.replace("\"ready\"", "\"deployed\"").into_bytes(),
            "more than one model is deployed",
        ),
    ];
    for (bytes, reason) in cases {
        r.store_mut().write_index(&bytes).expect("writes");
        let e = r.list().expect_err("refused");
        assert!(matches!(e, RegistryError::CorruptIndex { .. }), "{e:?}");
        assert!(
            e.to_string().starts_with("registry index is unusable: "),
            "{e}"
        );
        assert!(e.to_string().contains(reason), "{e} lacks {reason}");
        assert!(r.register(model(5), NOW).is_err());
        assert!(r.delete(&v[0], true, NOW).is_err());
        assert_eq!(
            r.store().read_index().expect("reads"),
            Some(bytes),
            "left as it was"
        );
        assert!(!r.store().is_locked());
    }
    let bad_version = text.replace(&v[0], "2024010_0000000").into_bytes();
    r.store_mut().write_index(&bad_version).expect("writes");
    let e = r.list().expect_err("refused");
    assert!(e.to_string().contains("is not YYYYMMDD_HHMMSS"), "{e}");
    r.store_mut().write_index(&good).expect("writes");
    assert_eq!(r.list().expect("lists").len(), 2);
}

#[test]
fn damaged_or_missing_model_bytes_are_reported() {
    let mut r = registry();
    let v = with_models(&mut r, &[0, 1]);
    let mut bytes = r.get(&v[0]).expect("gets").bytes;
    bytes[10] ^= 1;
    r.store_mut()
        .write_model(&ModelKey::new("wifi", &v[0]), &bytes)
        .expect("writes");
    let e = r.get(&v[0]).expect_err("damaged");
    assert!(matches!(e, RegistryError::CorruptModel { .. }), "{e:?}");
    assert!(
        e.to_string()
            .starts_with("model 20240101_000000 is damaged: "),
        "{e}"
    );
    r.store_mut()
        .remove_model(&ModelKey::new("wifi", &v[1]))
        .expect("removes");
    let e = r.get(&v[1]).expect_err("missing");
    assert!(e.to_string().contains("missing"), "{e}");
}

#[test]
fn invalid_models_are_refused() {
    let mut r = registry();
    let e = r.register_bytes(b"{}", NOW).expect_err("not a model");
    assert!(matches!(e, RegistryError::InvalidModel { .. }), "{e:?}");
    for version in [
        "latest",
        "2024-01-01",
        "20240231_000000",
        "20240101_240000",
        "../../x",
    ] {
        let mut m = model(0);
        m.version = version.to_owned();
        let e = r.register(m, NOW).expect_err("bad version");
        assert!(e.to_string().contains("is not YYYYMMDD_HHMMSS"), "{e}");
    }
    assert_eq!(r.store(), &MemoryStore::new(), "nothing written");
}

#[test]
fn versions_parse_back_to_their_instant() {
    assert_eq!(version_micros("20240101_000000"), Some(NOW));
    assert_eq!(
        version_micros("20240229_235959"),
        Some(NOW + (59 * 86_400 + 86_399) * SECOND)
    );
    for bad in [
        "20230229_000000",
        "20241301_000000",
        "20240101_006000",
        "20240101-000000",
        "2024010100000",
        "+2024101_000000",
    ] {
        assert_eq!(version_micros(bad), None, "{bad}");
    }
}

/// A store that fails the `n`th write (index, model or removal) as a crash would: a model write
/// leaves half its bytes behind.
#[derive(Debug)]
struct CrashingStore {
    inner: MemoryStore,
    writes_left: usize,
}

impl CrashingStore {
    fn tick(&mut self) -> Result<(), StorageError> {
        if self.writes_left == 0 {
            return Err(StorageError::new("crashed"));
        }
        self.writes_left -= 1;
        Ok(())
    }
}

impl RegistryStore for CrashingStore {
    fn read_index(&self) -> Result<Option<Vec<u8>>, StorageError> {
        self.inner.read_index()
    }
    fn write_index(&mut self, bytes: &[u8]) -> Result<(), StorageError> {
        self.tick()?;
        self.inner.write_index(bytes)
    }
    fn read_model(&self, key: &ModelKey) -> Result<Option<Vec<u8>>, StorageError> {
        self.inner.read_model(key)
    }
    fn write_model(&mut self, key: &ModelKey, bytes: &[u8]) -> Result<(), StorageError> {
        if let Err(e) = self.tick() {
            self.inner.write_model(key, &bytes[..bytes.len() / 2])?;
            return Err(e);
        }
        self.inner.write_model(key, bytes)
    }
    fn remove_model(&mut self, key: &ModelKey) -> Result<(), StorageError> {
        self.tick()?;
        self.inner.remove_model(key)
    }
    fn list_models(&self) -> Result<Vec<ModelKey>, StorageError> {
        self.inner.list_models()
    }
    fn lock(&mut self) -> Result<(), StorageError> {
        self.inner.lock()
    }
    fn unlock(&mut self) -> Result<(), StorageError> {
        self.inner.unlock()
    }
}

/// A session that writes in every way the registry can.
fn session(r: &mut Registry<impl RegistryStore>) -> Result<(), RegistryError> {
    for s in [0, 0, 1, 2, 0] {
        r.register(model(s), NOW)?;
    }
    r.deploy("20240101_000001", NOW)?;
    r.deploy("20240101_000000", NOW)?;
    r.archive("20240101_000002", NOW)?;
    r.delete("20240101_000003", false, NOW)?;
    r.delete("20240101_000000", true, NOW)?;
    r.prune(1)?;
    r.register(model(7), NOW)?;
    Ok(())
}

#[test]
fn a_crash_at_any_write_leaves_a_consistent_registry() {
    let mut complete = Registry::new(MemoryStore::new());
    session(&mut complete).expect("runs without crashing");
    let mut crashes = 0;
    for n in 0.. {
        let mut r = Registry::new(CrashingStore {
            inner: MemoryStore::new(),
            writes_left: n,
        });
        let outcome = session(&mut r);
        let mut store = r.into_store().inner;
        let listed = assert_consistent(&store);
        if outcome.is_ok() {
            assert_eq!(
                versions(&listed),
                versions(&complete.list().expect("lists"))
            );
            break;
        }
        crashes += 1;
        // The next write removes whatever the crash left unlisted.
        let mut after = Registry::new(store.clone());
        after
            .register(model(100), NOW)
            .expect("registers after the crash");
        store = after.into_store();
        let listed = assert_consistent(&store);
        let mut stored = store.list_models().expect("lists");
        stored.sort();
        let mut expected: Vec<ModelKey> = listed
            .iter()
            .map(|m| ModelKey::new(&m.log_type, &m.version))
            .collect();
        expected.sort();
        assert_eq!(stored, expected, "orphans removed after crash {n}");
    }
    assert!(crashes > 15, "the session writes more than {crashes} times");
}

#[test]
fn import_keeps_the_version_and_the_exact_bytes() {
    let mut r = registry();
    let bytes = model(5).to_json();
    let (record, new) = r.import(&bytes, NOW).expect("imports");
    assert!(new);
    assert_eq!(record.version, version_string(NOW + 5 * SECOND));
    assert_eq!(r.get(&record.version).expect("stored").bytes, bytes);
    // The same bytes again: the same record, nothing written.
    let (again, new) = r.import(&bytes, NOW + SECOND).expect("idempotent");
    assert!(!new);
    assert_eq!(again, record);
    // Other bytes under the same version are refused, and the first model stays.
    let mut other = model(5);
    other.lineage.file_name = "other.json".to_owned();
    let taken = r.import(&other.to_json(), NOW);
    assert!(
        matches!(taken, Err(RegistryError::VersionTaken { .. })),
        "{taken:?}"
    );
    assert_eq!(r.get(&record.version).expect("kept").bytes, bytes);
    assert!(matches!(
        r.import(b"{\"not\": \"a model\"}", NOW),
        Err(RegistryError::InvalidModel { .. })
    ));
    assert_consistent(r.store());
}

#[test]
fn deploy_expecting_refuses_when_another_model_is_deployed() {
    let mut r = registry();
    let v = with_models(&mut r, &[1, 2]);
    let stale = r.deploy_expecting(&v[0], NOW, Some(Some(&v[1])));
    assert!(
        matches!(stale, Err(RegistryError::Conflict { .. })),
        "{stale:?}"
    );
    assert_eq!(status(&r, &v[0]), ModelStatus::Ready);
    r.deploy_expecting(&v[0], NOW, Some(None))
        .expect("none was deployed");
    let conflict = r.deploy_expecting(&v[1], NOW, Some(None));
    assert!(conflict
        .is_err_and(|e| e.to_string() == format!("the deployed model is {}, not none", v[0])));
    let change = r
        .deploy_expecting(&v[1], NOW, Some(Some(&v[0])))
        .expect("expected the deployed one");
    assert_eq!(change.displaced.map(|m| m.version), Some(v[0].clone()));
    assert_consistent(r.store());
}

/// The model as if trained `seconds` after [`NOW`] for `log_type`.
fn model_of(log_type: &str, seconds: i64) -> ModelArtifact {
    let mut m = model(seconds);
    m.log_type = log_type.to_owned();
    m
}

fn actions(r: &Registry<impl RegistryStore>, log_type: Option<&str>) -> Vec<String> {
    r.history(log_type)
        .expect("history")
        .iter()
        .map(|e| format!("{} {} {}", e.action, e.log_type, e.version))
        .collect()
}

#[test]
fn one_model_is_deployed_per_log_type() {
    let mut r = registry();
    let wifi = r.register(model_of("wifi", 0), NOW).expect("registers");
    let dns = r.register(model_of("dns", 1), NOW).expect("registers");
    let dns2 = r.register(model_of("dns", 2), NOW).expect("registers");
    assert_eq!(dns.log_type, "dns");
    // Stored under the log type.
    let stored = r.store().list_models().expect("lists");
    assert!(
        stored.contains(&ModelKey::new("dns", &dns.version)),
        "{stored:?}"
    );
    assert!(
        stored.contains(&ModelKey::new("wifi", &wifi.version)),
        "{stored:?}"
    );

    r.deploy(&wifi.version, NOW).expect("deploys");
    let change = r.deploy(&dns.version, NOW).expect("deploys");
    assert_eq!(change.displaced, None, "the wifi model stays deployed");
    assert_eq!(status(&r, &wifi.version), ModelStatus::Deployed);
    let change = r.deploy(&dns2.version, NOW).expect("deploys");
    assert_eq!(
        change.displaced.map(|m| m.version),
        Some(dns.version.clone())
    );
    assert_eq!(status(&r, &wifi.version), ModelStatus::Deployed);
    assert_eq!(
        r.deployed("dns").expect("reads").map(|m| m.version),
        Some(dns2.version.clone())
    );
    assert_eq!(r.deployed("firewall").expect("reads"), None);
    assert_eq!(r.deployed_models().expect("reads").len(), 2);
    assert_eq!(r.list_of("dns").expect("lists").len(), 2);

    // `deployed` alone is ambiguous now; with a log type it is not.
    let e = r.resolve("deployed").expect_err("two log types");
    assert!(e.to_string().contains("dns, wifi"), "{e}");
    assert_eq!(
        r.resolve_in("deployed", Some("wifi")).expect("one").version,
        wifi.version
    );
    assert_eq!(
        r.resolve_in("latest", Some("wifi")).expect("one").version,
        wifi.version
    );
    assert!(r.resolve_in(&wifi.version, Some("dns")).is_err());

    // Versions stay unique across log types.
    let same_second = r.register(model_of("dns", 0), NOW).expect("registers");
    assert_eq!(same_second.version, version_string(NOW + 3 * SECOND));

    // Prune keeps the newest of each log type.
    let removed = r.prune(1).expect("prunes");
    assert_eq!(versions(&removed), [dns.version.as_str()]);
    assert_consistent(r.store());
}

#[test]
fn rollback_walks_back_through_the_deployments_of_one_log_type() {
    let mut r = registry();
    let v = with_models(&mut r, &[0, 1, 2]);
    let dns = r.register(model_of("dns", 10), NOW).expect("registers");
    let e = r.rollback("wifi", NOW).expect_err("nothing deployed yet");
    assert!(
        matches!(e, RegistryError::NothingToRollBack { .. }),
        "{e:?}"
    );
    assert_eq!(e.to_string(), "no earlier wifi model to roll back to");
    for (i, version) in v.iter().enumerate() {
        r.deploy(version, NOW + i as i64 * SECOND).expect("deploys");
    }
    r.deploy(&dns.version, NOW).expect("deploys");
    let back = r.rollback("wifi", NOW + 10 * SECOND).expect("rolls back");
    assert_eq!(back.model.version, v[1]);
    assert_eq!(back.displaced.map(|m| m.version), Some(v[2].clone()));
    let back = r.rollback("wifi", NOW + 11 * SECOND).expect("rolls back");
    assert_eq!(back.model.version, v[0]);
    assert!(r.rollback("wifi", NOW).is_err(), "nothing before the first");
    // The other log type was never touched.
    assert_eq!(status(&r, &dns.version), ModelStatus::Deployed);

    // After an undeploy, rollback brings the undeployed model back; deleted models are skipped.
    r.deploy(&v[2], NOW + 12 * SECOND).expect("deploys");
    r.deploy(&v[1], NOW + 13 * SECOND).expect("deploys");
    r.archive(&v[1], NOW + 14 * SECOND).expect("archives");
    assert_eq!(r.deployed("wifi").expect("reads"), None);
    let back = r.rollback("wifi", NOW + 15 * SECOND).expect("rolls back");
    assert_eq!(back.model.version, v[1]);
    r.delete(&v[2], false, NOW).expect("deletes");
    let back = r.rollback("wifi", NOW + 16 * SECOND).expect("rolls back");
    assert_eq!(back.model.version, v[0], "v2 is gone: back to v0");

    assert_eq!(
        actions(&r, Some("wifi")),
        [
            format!("rollback wifi {}", v[0]),
            format!("rollback wifi {}", v[1]),
            format!("undeploy wifi {}", v[1]),
            format!("deploy wifi {}", v[1]),
            format!("deploy wifi {}", v[2]),
            format!("rollback wifi {}", v[0]),
            format!("rollback wifi {}", v[1]),
            format!("deploy wifi {}", v[2]),
            format!("deploy wifi {}", v[1]),
            format!("deploy wifi {}", v[0]),
        ]
    );
    assert_eq!(
        actions(&r, Some("dns")),
        [format!("deploy dns {}", dns.version)]
    );
    let history = r.history(None).expect("history");
    assert_eq!(history[0].at, "2024-01-01T00:00:16Z");
    assert_eq!(history[0].previous.as_deref(), Some(v[1].as_str()));

    // A forced delete of a deployed model is an undeploy.
    r.delete(&dns.version, true, NOW + 20 * SECOND)
        .expect("forced");
    assert_eq!(
        actions(&r, Some("dns"))[0],
        format!("undeploy dns {}", dns.version)
    );
    assert_consistent(r.store());
}

#[test]
fn models_with_a_bad_log_type_are_refused() {
    let mut r = registry();
    for bad in ["", "DNS", "../x", "20240101_000000", "dns/x"] {
        let e = r.register(model_of(bad, 0), NOW).expect_err("bad log type");
        assert!(e.to_string().contains("is not a lowercase name"), "{e}");
    }
    assert_eq!(r.store(), &MemoryStore::new(), "nothing written");
}

/// A registry as a build before log types wrote it: a version 1 index and models stored under
/// their versions; `deployed` is deployed after `archived` was.
fn legacy_store() -> (MemoryStore, Vec<String>) {
    let mut r = registry();
    let v = with_models(&mut r, &[0, 1, 2]);
    r.deploy(&v[1], NOW + SECOND).expect("deploys");
    r.deploy(&v[2], NOW + 2 * SECOND).expect("deploys");
    let modern = r.into_store();
    let index = modern.read_index().expect("reads").expect("written");
    let mut json: serde_json::Value = serde_json::from_slice(&index).expect("json");
    json["format_version"] = 1.into();
    json.as_object_mut().expect("object").remove("history");
    for m in json["models"].as_array_mut().expect("models") {
        m.as_object_mut().expect("record").remove("log_type");
    }
    let mut legacy = MemoryStore::new();
    legacy
        .write_index(&serde_json::to_vec_pretty(&json).expect("json"))
        .expect("writes");
    for key in modern.list_models().expect("lists") {
        let bytes = modern.read_model(&key).expect("reads").expect("stored");
        legacy
            .write_model(&ModelKey::legacy(&key.version), &bytes)
            .expect("writes");
    }
    (legacy, v)
}

/// Every listed model is readable, and the registry's state is the legacy one's.
fn assert_legacy_content(store: &MemoryStore, v: &[String]) {
    let r = Registry::new(store.clone());
    let listed = assert_consistent(store);
    assert_eq!(versions(&listed), [&v[2], &v[1], &v[0]].map(String::as_str));
    assert!(listed.iter().all(|m| m.log_type == "wifi"));
    assert_eq!(
        r.deployed("wifi").expect("reads").map(|m| m.version),
        Some(v[2].clone())
    );
    assert_eq!(
        actions(&r, None),
        [
            format!("deploy wifi {}", v[2]),
            format!("deploy wifi {}", v[1])
        ]
    );
}

#[test]
fn a_registry_from_before_log_types_reads_and_migrates_in_place() {
    let (legacy, v) = legacy_store();
    // Read as it is, without a change.
    assert_legacy_content(&legacy, &v);
    let mut r = Registry::open(legacy).expect("opens and migrates");
    let store = r.store().clone();
    assert_legacy_content(&store, &v);
    let keys = store.list_models().expect("lists");
    assert_eq!(
        keys,
        [&v[0], &v[1], &v[2]].map(|v| ModelKey::new("wifi", v))
    );
    let index: serde_json::Value =
        serde_json::from_slice(&store.read_index().expect("reads").expect("written"))
            .expect("json");
    assert_eq!(index["format_version"], 2);
    assert_eq!(index["models"][0]["log_type"], "wifi");
    // Nothing more to do the second time.
    assert!(!r.migrate().expect("migrates"));
    // The rebuilt history rolls back to the model deployed before.
    assert_eq!(
        r.rollback("wifi", NOW).expect("rolls back").model.version,
        v[1]
    );
}

#[test]
fn a_crash_at_any_step_of_the_migration_leaves_a_registry_that_opens() {
    let (legacy, v) = legacy_store();
    let mut crashes = 0;
    for n in 0.. {
        // The store fails its `n`th write (a model copy, the index, a removal) as a crash would.
        let mut r = Registry::new(CrashingStore {
            inner: legacy.clone(),
            writes_left: n,
        });
        let outcome = r.migrate();
        let store = r.into_store().inner;
        let finished = store
            .list_models()
            .expect("lists")
            .iter()
            .all(|k| !k.is_legacy());
        // What the crash left opens with every model...
        assert_legacy_content(&store, &v);
        if outcome.is_ok() && finished {
            break;
        }
        crashes += 1;
        // ...and the next open finishes the migration.
        let done = Registry::open(store).expect("opens after the crash");
        let keys = done.store().list_models().expect("lists");
        assert!(
            keys.iter().all(|k| !k.is_legacy()),
            "after crash {n}: {keys:?}"
        );
        assert_legacy_content(done.store(), &v);
    }
    assert!(
        crashes >= 6,
        "the migration writes more than {crashes} times"
    );
}

// ---- Writers that compare-and-swap instead of locking (an object store) ----

/// What several [`CasStore`]s share: one bucket.
#[derive(Default)]
struct Bucket {
    index: Option<(Vec<u8>, u64)>,
    models: BTreeMap<ModelKey, Vec<u8>>,
    /// Keys stored long enough ago to be removable when unlisted.
    settled: BTreeSet<ModelKey>,
    etags: u64,
}

type Interference = Box<dyn FnMut(&Rc<RefCell<Bucket>>)>;

/// A store over a shared [`Bucket`] with an object store's guarantees: a conditional index
/// write, create-only models, no lock. `interfere` runs just before each index write is
/// checked, as another writer overtaking this one would.
struct CasStore {
    bucket: Rc<RefCell<Bucket>>,
    interfere: Option<Interference>,
}

impl CasStore {
    fn new(bucket: &Rc<RefCell<Bucket>>) -> Self {
        CasStore {
            bucket: bucket.clone(),
            interfere: None,
        }
    }
}

impl RegistryStore for CasStore {
    fn read_index(&self) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.bucket.borrow().index.as_ref().map(|(b, _)| b.clone()))
    }
    fn write_index(&mut self, _: &[u8]) -> Result<(), StorageError> {
        panic!("a compare-and-swap store is only written conditionally")
    }
    fn read_index_tagged(&self) -> Result<IndexRead, StorageError> {
        let bucket = self.bucket.borrow();
        Ok(IndexRead {
            bytes: bucket.index.as_ref().map(|(b, _)| b.clone()),
            tag: bucket.index.as_ref().map(|(_, t)| t.to_string()),
        })
    }
    fn replace_index(&mut self, bytes: &[u8], read: &IndexRead) -> Result<bool, StorageError> {
        if let Some(interfere) = &mut self.interfere {
            interfere(&self.bucket);
        }
        let mut bucket = self.bucket.borrow_mut();
        let current = bucket.index.as_ref().map(|(_, t)| t.to_string());
        if current != read.tag {
            return Ok(false);
        }
        bucket.etags += 1;
        let tag = bucket.etags;
        bucket.index = Some((bytes.to_vec(), tag));
        Ok(true)
    }
    fn read_model(&self, key: &ModelKey) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.bucket.borrow().models.get(key).cloned())
    }
    fn write_model(&mut self, _: &ModelKey, _: &[u8]) -> Result<(), StorageError> {
        panic!("a compare-and-swap store only creates models")
    }
    fn create_model(&mut self, key: &ModelKey, bytes: &[u8]) -> Result<bool, StorageError> {
        let mut bucket = self.bucket.borrow_mut();
        if bucket.models.contains_key(key) {
            return Ok(false);
        }
        bucket.models.insert(key.clone(), bytes.to_vec());
        Ok(true)
    }
    fn remove_model(&mut self, key: &ModelKey) -> Result<(), StorageError> {
        let mut bucket = self.bucket.borrow_mut();
        bucket.models.remove(key);
        bucket.settled.remove(key);
        Ok(())
    }
    fn list_models(&self) -> Result<Vec<ModelKey>, StorageError> {
        Ok(self.bucket.borrow().models.keys().cloned().collect())
    }
    fn list_removable_models(&self) -> Result<Vec<ModelKey>, StorageError> {
        Ok(self.bucket.borrow().settled.iter().cloned().collect())
    }
    fn lock(&mut self) -> Result<(), StorageError> {
        Ok(())
    }
    fn unlock(&mut self) -> Result<(), StorageError> {
        Ok(())
    }
}

/// A writer that, the first `times` times this one is about to write its index, makes its own
/// change `with` a second registry on the same bucket.
fn overtaken_by(
    times: usize,
    mut with: impl FnMut(&mut Registry<CasStore>) + 'static,
) -> Interference {
    let mut left = times;
    Box::new(move |bucket| {
        if left > 0 {
            left -= 1;
            with(&mut Registry::new(CasStore::new(bucket)));
        }
    })
}

fn cas_registry(bucket: &Rc<RefCell<Bucket>>) -> Registry<CasStore> {
    Registry::new(CasStore::new(bucket))
}

#[test]
fn a_registration_overtaken_by_another_is_applied_again_and_both_are_kept() {
    let bucket = Rc::new(RefCell::new(Bucket::default()));
    let mut a = cas_registry(&bucket);
    // B registers a model of the same second between A's read and A's write.
    a.store_mut().interfere = Some(overtaken_by(1, |b| {
        b.register(model(0), NOW).expect("B registers");
    }));
    let record = a
        .register(model(0), NOW)
        .expect("A registers after a retry");
    assert_eq!(record.version, "20240101_000001", "the next free second");
    let listed = a.list().unwrap();
    assert_eq!(versions(&listed), ["20240101_000001", "20240101_000000"]);
    let bucket = bucket.borrow();
    assert_eq!(
        bucket.models.len(),
        2,
        "one blob per listed model, no orphan"
    );
    for m in &listed {
        let bytes = &bucket.models[&ModelKey::new(&m.log_type, &m.version)];
        let stored = ModelArtifact::from_json(bytes).unwrap();
        assert_eq!(stored.version, m.version, "the blob says its own version");
    }
}

#[test]
fn two_deploys_racing_on_one_index_cannot_both_win() {
    let bucket = Rc::new(RefCell::new(Bucket::default()));
    let mut a = cas_registry(&bucket);
    let v = with_models(&mut a, &[0, 1]);
    let other = v[1].clone();
    a.store_mut().interfere = Some(overtaken_by(1, move |b| {
        b.deploy_expecting(&other, NOW, Some(None))
            .expect("B deploys first");
    }));
    let e = a.deploy_expecting(&v[0], NOW, Some(None)).unwrap_err();
    assert!(matches!(e, RegistryError::Conflict { .. }), "{e:?}");
    assert_eq!(
        versions(&a.deployed_models().unwrap()),
        [v[1].as_str()],
        "exactly one deployed: B's"
    );
    // Without an expectation, A's deploy is applied again on top of B's.
    a.store_mut().interfere = Some(overtaken_by(1, |b| {
        b.archive("20240101_000001", NOW).expect("B archives");
    }));
    let change = a.deploy(&v[0], NOW + SECOND).unwrap();
    assert_eq!(change.displaced, None, "B archived its model meanwhile");
    let history = a.history(None).unwrap();
    assert_eq!(history.len(), 3, "deploy, undeploy, deploy: {history:?}");
}

#[test]
fn a_model_another_writer_has_stored_but_not_listed_is_neither_removed_nor_overwritten() {
    let bucket = Rc::new(RefCell::new(Bucket::default()));
    // Another writer has stored its model and is about to list it.
    let theirs = model(0).to_json();
    let key = ModelKey::new("wifi", "20240101_000000");
    bucket
        .borrow_mut()
        .models
        .insert(key.clone(), theirs.clone());
    let mut a = cas_registry(&bucket);
    let mine = a.register(model(0), NOW).expect("registers");
    assert_eq!(
        mine.version, "20240101_000000",
        "same bytes: the same model"
    );
    let mut changed = model(0);
    changed.created_at = format_iso8601(NOW + 5 * SECOND);
    let other = a.register(changed, NOW).expect("registers");
    assert_eq!(other.version, "20240101_000001");
    // A change by A leaves an unlisted, unsettled blob alone; once settled, it goes.
    let stray = ModelKey::new("wifi", "20240101_000009");
    bucket.borrow_mut().models.insert(stray.clone(), theirs);
    a.deploy(&other.version, NOW).unwrap();
    assert!(
        bucket.borrow().models.contains_key(&stray),
        "still being listed, maybe"
    );
    bucket.borrow_mut().settled.insert(stray.clone());
    a.archive(&other.version, NOW).unwrap();
    assert!(
        !bucket.borrow().models.contains_key(&stray),
        "a settled orphan goes"
    );
    assert!(bucket.borrow().models.contains_key(&key));
}

#[test]
fn a_writer_overtaken_every_time_gives_up_with_the_registry_intact() {
    let bucket = Rc::new(RefCell::new(Bucket::default()));
    let mut a = cas_registry(&bucket);
    let v = with_models(&mut a, &[0]);
    let mut n = 0;
    a.store_mut().interfere = Some(overtaken_by(usize::MAX, move |b| {
        n += 1;
        b.register(model(100 + n), NOW).expect("B registers");
    }));
    let e = a.deploy(&v[0], NOW).unwrap_err();
    assert!(e.to_string().contains("attempts"), "{e}");
    a.store_mut().interfere = None;
    assert_eq!(a.list().unwrap().len(), 1 + MAX_ATTEMPTS);
    assert_eq!(status(&a, &v[0]), ModelStatus::Ready);
    assert_eq!(bucket.borrow().models.len(), 1 + MAX_ATTEMPTS, "no orphan");
}
