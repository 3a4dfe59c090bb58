use super::*;
use mcp_train_core::agent::{InferenceResult, LogEntry};
use mcp_train_core::anomalies::AnomalyFilter;

fn anomaly(i: usize, log_type: &str, host: &str, client: &str, decision: f64) -> StoredAnomaly {
    let entry = LogEntry {
        index: i,
        timestamp: format_iso8601(1_767_225_600_000_000 + i as i64 * 1_000_000),
        log_type: log_type.to_owned(),
        host: Some(host.to_owned()),
        process: "dnsmasq".to_owned(),
        level: mcp_train_core::export::LogLevel::Info,
        message: format!("query {i}"),
        fields: vec![("client".to_owned(), format!("{client}/5353"))],
        label: None,
    };
    let anomaly = Anomaly {
        entry,
        agent: log_type.to_owned(),
        inference: InferenceResult {
            score: -0.5,
            decision,
            is_anomaly: true,
            model_version: "v1".to_owned(),
        },
        contributions: Vec::new(),
    };
    StoredAnomaly::new(anomaly, 1_767_300_000_000_000)
}

fn filter(pairs: &[(&str, &str)]) -> AnomalyFilter {
    AnomalyFilter::from_pairs(pairs.iter().copied()).unwrap()
}

#[test]
fn stores_lists_pages_and_filters() {
    let dir = tempfile::tempdir().unwrap();
    let store = AnomalyStore::open(dir.path()).unwrap();
    let mut batch: Vec<StoredAnomaly> = (0..25)
        .map(|i| {
            let log_type = if i % 2 == 0 { "dns" } else { "wifi" };
            anomaly(
                i,
                log_type,
                &format!("h{}", i % 3),
                "10.0.0.1",
                -0.01 * i as f64,
            )
        })
        .collect();
    store.insert(&mut batch, "test").unwrap();
    assert!(batch.windows(2).all(|w| w[0].id < w[1].id));
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .list(&AnomalyFilter::default(), cursor.as_deref(), 7)
            .unwrap();
        seen.extend(page.items.iter().map(|a| a.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut expected: Vec<i64> = batch.iter().map(|a| a.id).collect();
    expected.reverse();
    assert_eq!(seen, expected);
    let dns = filter(&[("log_type", "dns")]);
    assert_eq!(store.count(&dns).unwrap(), 13);
    let scanned = store.scan(&dns, 0, 100).unwrap();
    assert_eq!(scanned.len(), 13);
    assert!(scanned.iter().all(|a| dns.matches(a)));
    for pairs in [
        vec![("device", "h1")],
        vec![("client", "10.0.0.1"), ("log_type", "wifi")],
        vec![("min_score", "60")],
        vec![
            ("from", "2026-01-01T00:00:05Z"),
            ("to", "2026-01-01T00:00:10Z"),
        ],
        vec![("model_version", "v1"), ("status", "new")],
        vec![("status", "resolved")],
    ] {
        let f = filter(&pairs);
        let want: Vec<i64> = batch
            .iter()
            .filter(|a| f.matches(a))
            .map(|a| a.id)
            .collect();
        let mut got: Vec<i64> = store
            .scan(&f, 0, 1000)
            .unwrap()
            .iter()
            .map(|a| a.id)
            .collect();
        got.sort();
        assert_eq!(got, want, "{pairs:?}");
        assert_eq!(store.count(&f).unwrap(), want.len() as u64);
    }
    assert!(matches!(
        store.list(&dns, Some("bogus"), 5),
        Err(StoreError::Cursor(_))
    ));
    let stored = store.get(batch[3].id).unwrap().unwrap();
    assert_eq!(stored.anomaly, batch[3]);
    assert_eq!(stored.history.len(), 1);
    assert!(store.get(10_000).unwrap().is_none());
}

#[test]
fn lifecycle_is_audited_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let store = AnomalyStore::open(dir.path()).unwrap();
    let mut batch = vec![anomaly(0, "dns", "h", "c", -0.2)];
    store.insert(&mut batch, "detect").unwrap();
    let id = batch[0].id;
    let change = |status, note: Option<&str>| StatusChange {
        status,
        note: note.map(str::to_owned),
        by: Some("ana".to_owned()),
    };
    store
        .change_status(id, &change(AnomalyStatus::Acknowledged, None), 1)
        .unwrap();
    let detail = store
        .change_status(id, &change(AnomalyStatus::Resolved, Some("blocked")), 2)
        .unwrap();
    assert_eq!(detail.anomaly.status, AnomalyStatus::Resolved);
    let steps: Vec<_> = detail
        .history
        .iter()
        .map(|e| (e.from, e.to, e.by.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            (None, AnomalyStatus::New, "detect"),
            (Some(AnomalyStatus::New), AnomalyStatus::Acknowledged, "ana"),
            (
                Some(AnomalyStatus::Acknowledged),
                AnomalyStatus::Resolved,
                "ana"
            ),
        ]
    );
    assert_eq!(detail.history[2].note.as_deref(), Some("blocked"));
    assert!(matches!(
        store.change_status(id, &change(AnomalyStatus::Resolved, None), 3),
        Err(StoreError::InvalidTransition { .. })
    ));
    assert!(matches!(
        store.change_status(999, &change(AnomalyStatus::Resolved, None), 3),
        Err(StoreError::NotFound(999))
    ));
    assert_eq!(
        store.counts().unwrap(),
        [("dns".to_owned(), AnomalyStatus::Resolved, 1)]
    );
    assert!(store.bytes() > 0);
}

#[test]
fn an_older_schema_is_upgraded_and_a_newer_one_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        // Version 1: the tables without their indexes.
        let old = AnomalyStore::open_with(dir.path(), &MIGRATIONS[..1]).unwrap();
        old.insert(&mut [anomaly(0, "dns", "h", "c", -0.1)], "old")
            .unwrap();
        let version: i64 = old
            .with_connection(|c| c.pragma_query_value(None, "user_version", |r| r.get(0)))
            .unwrap();
        assert_eq!(version, 1);
    }
    let store = AnomalyStore::open(dir.path()).unwrap();
    let (version, indexes): (i64, i64) = store
        .with_connection(|c| {
            Ok((
                c.pragma_query_value(None, "user_version", |r| r.get(0))?,
                c.query_row(
                    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'anomalies_by_status'",
                    [],
                    |r| r.get(0),
                )?,
            ))
        })
        .unwrap();
    assert_eq!(version, MIGRATIONS.len() as i64);
    assert_eq!(indexes, 1);
    assert_eq!(store.count(&AnomalyFilter::default()).unwrap(), 1);
    store
        .with_connection(|c| c.pragma_update(None, "user_version", MIGRATIONS.len() as i64 + 1))
        .unwrap();
    drop(store);
    let err = AnomalyStore::open(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::NewerSchema { .. }));
    assert!(
        err.to_string().contains("newer than this build knows"),
        "{err}"
    );
}

#[test]
fn cursors_are_opaque_and_checked() {
    assert_eq!(decode_cursor(&encode_cursor(12345)).unwrap(), 12345);
    for bad in ["", "a1.", "a1.zz", "12", "a1.-5", "a1.0"] {
        assert!(decode_cursor(bad).is_err(), "{bad}");
    }
}
