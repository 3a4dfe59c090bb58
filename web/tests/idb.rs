//! `web::idb` against a real IndexedDB in headless Chromium (wasm-bindgen-test-runner).
//! Every test opens its own database, so they do not see each other's data.
#![cfg(target_arch = "wasm32")]

use js_sys::Promise;
use mcp_train_web::idb::{estimate, Database, InjectedFailure, StorageError, StoreName, Write};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{IdbDatabase, IdbFactory};

wasm_bindgen_test_configure!(run_in_browser);

async fn open(name: &str) -> Database {
    match Database::open_named(name).await {
        Ok(db) => db,
        Err(error) => panic!("opening {name}: {error}"),
    }
}

fn bytes(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

#[wasm_bindgen_test]
async fn batch_puts_and_deletes_then_reads_in_key_order() {
    let db = open("test-batch").await;
    assert_eq!(db.get_all(StoreName::Registry).await, Ok(vec![]));

    let big = bytes(1 << 20);
    db.write(vec![
        Write::put(StoreName::Registry, "m-b", vec![2]),
        Write::put(StoreName::Registry, "m-a", big.clone()),
        Write::put(StoreName::Registry, "m-c", vec![]),
        Write::put(StoreName::Jobs, "j-1", vec![9, 9]),
        Write::delete(StoreName::Registry, "m-c"),
        Write::delete(StoreName::Settings, "never-there"),
    ])
    .await
    .expect("first batch");

    assert_eq!(
        db.get_all(StoreName::Registry).await,
        Ok(vec![
            ("m-a".to_owned(), big.clone()),
            ("m-b".to_owned(), vec![2])
        ])
    );
    assert_eq!(
        db.get_all(StoreName::Jobs).await,
        Ok(vec![("j-1".to_owned(), vec![9, 9])])
    );
    assert_eq!(db.get_all(StoreName::Settings).await, Ok(vec![]));
    assert_eq!(db.get(StoreName::Registry, "m-b").await, Ok(Some(vec![2])));
    assert_eq!(db.get(StoreName::Registry, "m-c").await, Ok(None));
    assert_eq!(db.get(StoreName::Registry, "missing").await, Ok(None));
    // Same key in another store is another entry.
    assert_eq!(db.get(StoreName::Jobs, "m-b").await, Ok(None));

    // Overwrite, empty value, and an empty batch.
    db.write(vec![
        Write::put(StoreName::Registry, "m-b", vec![3]),
        Write::put(StoreName::Settings, "", vec![]),
    ])
    .await
    .expect("second batch");
    db.write(vec![]).await.expect("empty batch");
    assert_eq!(db.get(StoreName::Registry, "m-b").await, Ok(Some(vec![3])));
    assert_eq!(db.get(StoreName::Settings, "").await, Ok(Some(vec![])));

    // A second connection (a reload, or the worker) sees the same data.
    let again = open("test-batch").await;
    assert_eq!(again.get(StoreName::Registry, "m-a").await, Ok(Some(big)));
}

async fn assert_failed_batch_applies_nothing(name: &str, failure: InjectedFailure, expected: &str) {
    let db = open(name).await;
    db.write(vec![
        Write::put(StoreName::Registry, "kept", vec![1]),
        Write::put(StoreName::Jobs, "job", vec![2]),
    ])
    .await
    .expect("setup batch");

    let result = db
        .write_with_injected_failure(
            vec![
                Write::put(StoreName::Registry, "kept", vec![100]),
                Write::put(StoreName::Registry, "new", vec![101]),
                Write::delete(StoreName::Jobs, "job"),
            ],
            failure,
        )
        .await;
    match result {
        Err(StorageError::Other {
            operation, name, ..
        }) => {
            assert_eq!(name, expected);
            assert_eq!(operation, "writing to stores \"registry\", \"jobs\"");
        }
        other => panic!("expected a {expected} failure, got {other:?}"),
    }

    assert_eq!(
        db.get_all(StoreName::Registry).await,
        Ok(vec![("kept".to_owned(), vec![1])])
    );
    assert_eq!(db.get(StoreName::Jobs, "job").await, Ok(Some(vec![2])));
    // The connection is still usable after the aborted transaction.
    db.write(vec![Write::put(StoreName::Registry, "after", vec![5])])
        .await
        .expect("batch after the failure");
    assert_eq!(
        db.get(StoreName::Registry, "after").await,
        Ok(Some(vec![5]))
    );
}

#[wasm_bindgen_test]
async fn batch_with_a_failing_request_applies_nothing() {
    assert_failed_batch_applies_nothing(
        "test-abort-request",
        InjectedFailure::FailingRequest,
        "ConstraintError",
    )
    .await;
}

#[wasm_bindgen_test]
async fn batch_with_a_throwing_call_applies_nothing() {
    assert_failed_batch_applies_nothing(
        "test-abort-throw",
        InjectedFailure::ThrowingCall,
        "DataError",
    )
    .await;
}

/// Opens `name` at `version` with the raw API, like a newer build of the app in another tab.
async fn open_raw(name: &str, version: u32) -> IdbDatabase {
    let factory: IdbFactory = js_sys::Reflect::get(&js_sys::global(), &"indexedDB".into())
        .expect("indexedDB")
        .unchecked_into();
    let request = factory.open_with_u32(name, version).expect("open");
    JsFuture::from(Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
        request.set_onblocked(Some(&reject));
    }))
    .await
    .expect("raw open at the newer version");
    request
        .result()
        .expect("result")
        .unchecked_into::<IdbDatabase>()
}

#[wasm_bindgen_test]
async fn upgrade_in_another_tab_closes_this_connection_and_old_app_cannot_reopen() {
    let db = open("test-upgrade").await;
    db.write(vec![Write::put(StoreName::Settings, "k", vec![1])])
        .await
        .expect("write before the upgrade");

    // Not blocked: our connection closes itself on `versionchange`.
    let newer = open_raw("test-upgrade", 2).await;
    assert_eq!(newer.version(), 2.0);

    let error = db.get(StoreName::Settings, "k").await;
    assert_eq!(error, Err(StorageError::Closed));
    assert_eq!(
        db.write(vec![Write::delete(StoreName::Settings, "k")])
            .await,
        Err(StorageError::Closed)
    );
    newer.close();

    let reopened = Database::open_named("test-upgrade").await;
    match reopened {
        Err(error @ StorageError::NewerVersion) => {
            assert!(error.to_string().contains("older version of mcp-train"));
        }
        other => panic!("expected NewerVersion, got {other:?}"),
    }
}

#[wasm_bindgen_test]
async fn open_uses_the_app_database() {
    let db = Database::open().await.expect("open mcp-train");
    assert_eq!(db.get(StoreName::Settings, "no-such-key").await, Ok(None));
}

#[wasm_bindgen_test]
async fn estimate_reports_usage_and_quota() {
    let (usage, quota) = estimate().await.expect("navigator.storage.estimate()");
    assert!(usage >= 0.0, "usage {usage}");
    assert!(quota > 0.0, "quota {quota}");
}
