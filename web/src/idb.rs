//! An async key → bytes store over IndexedDB, usable on the page and in a worker.
//!
//! One database, `"mcp-train"` (version 1), with one object store per [`StoreName`]. Keys are
//! strings; values are stored as `Uint8Array` copies of the caller's bytes. Every request and
//! transaction event is turned into a future by pointing its `onsuccess`/`onerror` (or
//! `oncomplete`/`onabort`) handlers at the `resolve`/`reject` functions of a `Promise`, so a normal
//! read or write allocates no Rust closure at all and leaks nothing.
//!
//! Errors are [`StorageError`]s whose `Display` text is meant for the user (a banner): lowercase,
//! specific, and saying what to do.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    DomException, Event, IdbDatabase, IdbFactory, IdbObjectStore, IdbOpenDbRequest, IdbRequest,
    IdbTransaction, StorageEstimate, StorageManager,
};

/// Name of the IndexedDB database.
pub const DATABASE_NAME: &str = "mcp-train";
/// Schema version of the database; [`Database::open`] creates any missing store on upgrade.
pub const DATABASE_VERSION: u32 = 1;

/// Object stores in the "mcp-train" database (version 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StoreName {
    /// Trained models (the registry).
    Registry,
    /// Training / verification jobs.
    Jobs,
    /// User settings.
    Settings,
}

impl StoreName {
    /// Every store, in schema order.
    pub const ALL: [StoreName; 3] = [StoreName::Registry, StoreName::Jobs, StoreName::Settings];

    /// The object store's name in IndexedDB.
    pub const fn as_str(self) -> &'static str {
        match self {
            StoreName::Registry => "registry",
            StoreName::Jobs => "jobs",
            StoreName::Settings => "settings",
        }
    }
}

impl fmt::Display for StoreName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One change in a write: `value: None` deletes the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    /// Store the key lives in.
    pub store: StoreName,
    /// The key.
    pub key: String,
    /// New value, or `None` to delete the key (deleting a missing key is not an error).
    pub value: Option<Vec<u8>>,
}

impl Write {
    /// A write that stores `value` under `key`.
    pub fn put(store: StoreName, key: impl Into<String>, value: Vec<u8>) -> Write {
        Write {
            store,
            key: key.into(),
            value: Some(value),
        }
    }

    /// A write that deletes `key`.
    pub fn delete(store: StoreName, key: impl Into<String>) -> Write {
        Write {
            store,
            key: key.into(),
            value: None,
        }
    }
}

/// Why a storage operation failed. `Display` is the text to show the user.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StorageError {
    /// IndexedDB is missing or refuses to open (private browsing, storage disabled, `file://`).
    #[error(
        "browser storage is unavailable (private browsing or storage disabled): models and jobs \
         will not survive a reload"
    )]
    Unavailable {
        /// What the browser said, for logs (not shown in the message).
        reason: String,
    },
    /// The upgrade is blocked by another tab that keeps an older version of the database open.
    #[error(
        "the database is held open by another mcp-train tab with an older version; close other \
         tabs and reload"
    )]
    Blocked,
    /// The origin's storage quota is exhausted; the write was not applied.
    #[error("browser storage is full: delete old models or jobs, or allow this site more storage")]
    QuotaExceeded,
    /// The stored database has a newer schema version than this build knows.
    #[error(
        "this page is an older version of mcp-train than the data stored in this browser; reload \
         to get the latest version (or close the tab that is running the older one)"
    )]
    NewerVersion,
    /// The connection was closed: another tab is upgrading the database, or the site's data was
    /// cleared.
    #[error(
        "the database was closed by another mcp-train tab (or this site's data was cleared); \
         reload this page"
    )]
    Closed,
    /// A stored entry is not a string key with a `Uint8Array` value.
    #[error(
        "store \"{store}\" holds an entry this app cannot read ({detail}); reload, and clear this \
         site's data if it keeps happening"
    )]
    BadEntry {
        /// Store holding the entry.
        store: StoreName,
        /// What is wrong with it.
        detail: String,
    },
    /// Any other failure, with the `DOMException` name and message.
    #[error("browser storage failed while {operation}: {name}: {message}; reload and try again")]
    Other {
        /// What was being done, e.g. `reading store "jobs"`.
        operation: String,
        /// The `DOMException` (or JS error) name, e.g. `DataError`.
        name: String,
        /// The browser's message.
        message: String,
    },
}

/// What a failing call was doing; it picks the error for ambiguous `DOMException` names and is
/// named in [`StorageError::Other`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Operation {
    Open,
    Read(StoreName),
    Write(Vec<StoreName>),
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operation::Open => f.write_str("opening the database"),
            Operation::Read(store) => write!(f, "reading store \"{store}\""),
            Operation::Write(stores) => {
                f.write_str(if stores.len() == 1 {
                    "writing to store "
                } else {
                    "writing to stores "
                })?;
                for (i, store) in stores.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "\"{store}\"")?;
                }
                Ok(())
            }
        }
    }
}

/// Maps a `DOMException` (name + message) raised while doing `operation` to a [`StorageError`].
pub(crate) fn classify(operation: &Operation, name: &str, message: &str) -> StorageError {
    match (operation, name) {
        (_, "QuotaExceededError") => StorageError::QuotaExceeded,
        (Operation::Open, "VersionError") => StorageError::NewerVersion,
        (Operation::Open, "SecurityError" | "InvalidStateError") => StorageError::Unavailable {
            reason: format!("{name}: {message}"),
        },
        // `transaction()` on a connection that is closing.
        (Operation::Read(_) | Operation::Write(_), "InvalidStateError") => StorageError::Closed,
        _ => StorageError::Other {
            operation: operation.to_string(),
            name: name.to_owned(),
            message: message.to_owned(),
        },
    }
}

/// The distinct stores `writes` touch, in schema order.
pub(crate) fn stores_touched(writes: &[Write]) -> Vec<StoreName> {
    StoreName::ALL
        .into_iter()
        .filter(|store| writes.iter().any(|w| w.store == *store))
        .collect()
}

/// Name and message of a thrown JS value (a `DOMException`, an `Error`, or anything else).
fn js_error_parts(error: &JsValue) -> (String, String) {
    if let Some(dom) = error.dyn_ref::<DomException>() {
        (dom.name(), dom.message())
    } else if let Some(error) = error.dyn_ref::<js_sys::Error>() {
        (String::from(error.name()), String::from(error.message()))
    } else if let Some(text) = error.as_string() {
        ("Error".to_owned(), text)
    } else {
        ("Error".to_owned(), format!("{error:?}"))
    }
}

fn classify_js(operation: &Operation, error: &JsValue) -> StorageError {
    let (name, message) = js_error_parts(error);
    classify(operation, &name, &message)
}

fn classify_dom(
    operation: &Operation,
    error: Option<DomException>,
    fallback: &str,
) -> StorageError {
    match error {
        Some(dom) => classify(operation, &dom.name(), &dom.message()),
        None => classify(operation, "AbortError", fallback),
    }
}

/// A future for a request: `Ok` on its `success` event, `Err(event)` on its `error` event.
/// Must be called before yielding to the event loop, i.e. right after the request is made.
fn settled(request: &IdbRequest) -> JsFuture {
    JsFuture::from(Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    }))
}

/// The request's result once `future` (from [`settled`]) resolves, or its error.
async fn result_of(
    request: &IdbRequest,
    future: JsFuture,
    operation: &Operation,
) -> Result<JsValue, StorageError> {
    match future.await {
        Ok(_) => request.result().map_err(|e| classify_js(operation, &e)),
        Err(_) => Err(classify_dom(
            operation,
            request.error().ok().flatten(),
            "the request failed",
        )),
    }
}

/// A future for a transaction: `Ok` on `complete`, `Err(event)` on `abort`.
fn finished(transaction: &IdbTransaction) -> JsFuture {
    JsFuture::from(Promise::new(&mut |resolve, reject| {
        transaction.set_oncomplete(Some(&resolve));
        transaction.set_onabort(Some(&reject));
    }))
}

/// `indexedDB` of the current global (window or worker), if there is a usable one.
fn factory() -> Result<IdbFactory, StorageError> {
    let unavailable = |reason: String| StorageError::Unavailable { reason };
    // Reading `indexedDB` itself throws SecurityError in some sandboxed contexts.
    let value = Reflect::get(&js_sys::global(), &JsValue::from_str("indexedDB")).map_err(|e| {
        let (name, message) = js_error_parts(&e);
        unavailable(format!("{name}: {message}"))
    })?;
    if value.is_undefined() || value.is_null() {
        return Err(unavailable("indexedDB is not defined".to_owned()));
    }
    value
        .dyn_into::<IdbFactory>()
        .map_err(|_| unavailable("indexedDB is not an IDBFactory".to_owned()))
}

/// Creates every store missing from the database being upgraded (`event` is `upgradeneeded`).
fn create_missing_stores(event: &Event) -> Result<(), StorageError> {
    let operation = Operation::Open;
    let db = event
        .target()
        .and_then(|target| target.dyn_into::<IdbOpenDbRequest>().ok())
        .ok_or_else(|| classify(&operation, "Error", "upgradeneeded without its request"))?
        .result()
        .map_err(|e| classify_js(&operation, &e))?
        .dyn_into::<IdbDatabase>()
        .map_err(|_| classify(&operation, "Error", "upgrade result is not a database"))?;
    let existing = db.object_store_names();
    for store in StoreName::ALL {
        if !existing.contains(store.as_str()) {
            db.create_object_store(store.as_str())
                .map_err(|e| classify_js(&operation, &e))?;
        }
    }
    Ok(())
}

/// A failure to inject into a write batch, so tests can check that a failed batch applies nothing.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InjectedFailure {
    /// A request that fails asynchronously (a second `add` of the same key: `ConstraintError`).
    FailingRequest,
    /// A call that throws synchronously (`put` with an object as key: `DataError`).
    ThrowingCall,
}

/// An open connection to the "mcp-train" database. Cheap to clone; the connection closes when the
/// last clone is dropped, or when another tab needs to upgrade the database.
#[derive(Debug, Clone)]
pub struct Database {
    inner: Rc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: IdbDatabase,
    closed: Rc<Cell<bool>>,
    // Kept alive for as long as the connection; unset from the database in `drop`.
    _on_version_change: Closure<dyn FnMut(Event)>,
    _on_close: Closure<dyn FnMut(Event)>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.db.set_onversionchange(None);
        self.db.set_onclose(None);
        self.db.close();
    }
}

impl Database {
    /// Opens (creating/upgrading) the database "mcp-train".
    pub async fn open() -> Result<Database, StorageError> {
        Database::open_named(DATABASE_NAME).await
    }

    /// Opens the database `name` with the same schema; tests use it to get fresh databases.
    #[doc(hidden)]
    pub async fn open_named(name: &str) -> Result<Database, StorageError> {
        let operation = Operation::Open;
        let request = factory()?
            .open_with_u32(name, DATABASE_VERSION)
            .map_err(|e| classify_js(&operation, &e))?;

        // The upgrade handler stays attached to the request (and owned by the JS GC): if the open
        // is blocked now but proceeds later, the stores must still be created. It runs once per
        // `open`, which a page or worker calls once.
        let upgrade_error: Rc<RefCell<Option<StorageError>>> = Rc::default();
        let slot = Rc::clone(&upgrade_error);
        let on_upgrade = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            if let Err(error) = create_missing_stores(&event) {
                *slot.borrow_mut() = Some(error);
                // Abort the upgrade so the open fails instead of leaving a store missing.
                if let Some(transaction) = event
                    .target()
                    .and_then(|target| target.dyn_into::<IdbOpenDbRequest>().ok())
                    .and_then(|request| request.transaction())
                {
                    let _ = transaction.abort();
                }
            }
        })
        .into_js_value();
        request.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));

        let opened = JsFuture::from(Promise::new(&mut |resolve, reject| {
            request.set_onsuccess(Some(&resolve));
            request.set_onerror(Some(&reject));
            request.set_onblocked(Some(&reject));
        }));
        match opened.await {
            Ok(_) => {
                let db = request
                    .result()
                    .map_err(|e| classify_js(&operation, &e))?
                    .dyn_into::<IdbDatabase>()
                    .map_err(|_| classify(&operation, "Error", "open result is not a database"))?;
                Ok(Database::from_connection(db))
            }
            Err(event) => {
                if let Some(error) = upgrade_error.borrow_mut().take() {
                    return Err(error);
                }
                let blocked = event
                    .dyn_ref::<Event>()
                    .is_some_and(|event| event.type_() == "blocked");
                if blocked {
                    // The open may still succeed once the other tab closes: close that connection
                    // at once, since nobody holds it and it would block the next upgrade.
                    let close = Closure::once_into_js(move |event: Event| {
                        if let Some(db) = event
                            .target()
                            .and_then(|target| target.dyn_into::<IdbOpenDbRequest>().ok())
                            .and_then(|request| request.result().ok())
                            .and_then(|result| result.dyn_into::<IdbDatabase>().ok())
                        {
                            db.close();
                        }
                    });
                    request.set_onsuccess(Some(close.unchecked_ref()));
                    return Err(StorageError::Blocked);
                }
                Err(classify_dom(
                    &operation,
                    request.error().ok().flatten(),
                    "the open request failed",
                ))
            }
        }
    }

    fn from_connection(db: IdbDatabase) -> Database {
        let closed = Rc::new(Cell::new(false));
        // Another tab wants to upgrade (or delete) the database: let it, and fail from now on.
        let flag = Rc::clone(&closed);
        let on_version_change = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            flag.set(true);
            if let Some(db) = event
                .target()
                .and_then(|target| target.dyn_into::<IdbDatabase>().ok())
            {
                db.close();
            }
        });
        // The browser closed the connection (site data cleared, disk error).
        let flag = Rc::clone(&closed);
        let on_close = Closure::<dyn FnMut(Event)>::new(move |_: Event| flag.set(true));
        db.set_onversionchange(Some(on_version_change.as_ref().unchecked_ref()));
        db.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Database {
            inner: Rc::new(Inner {
                db,
                closed,
                _on_version_change: on_version_change,
                _on_close: on_close,
            }),
        }
    }

    /// The connection, unless it has been closed.
    fn connection(&self) -> Result<&IdbDatabase, StorageError> {
        if self.inner.closed.get() {
            Err(StorageError::Closed)
        } else {
            Ok(&self.inner.db)
        }
    }

    /// A readonly transaction on `store` and the store itself.
    fn read(&self, store: StoreName) -> Result<IdbObjectStore, StorageError> {
        let operation = Operation::Read(store);
        let transaction = self
            .connection()?
            .transaction_with_str(store.as_str())
            .map_err(|e| classify_js(&operation, &e))?;
        transaction
            .object_store(store.as_str())
            .map_err(|e| classify_js(&operation, &e))
    }

    /// Every (key, value) of a store, keys ascending.
    pub async fn get_all(&self, store: StoreName) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        let operation = Operation::Read(store);
        let object_store = self.read(store)?;
        // Both requests run in one transaction, so they see the same snapshot, both in key order.
        let keys_request = object_store
            .get_all_keys()
            .map_err(|e| classify_js(&operation, &e))?;
        let keys_done = settled(&keys_request);
        let values_request = object_store
            .get_all()
            .map_err(|e| classify_js(&operation, &e))?;
        let values_done = settled(&values_request);
        let keys = result_of(&keys_request, keys_done, &operation).await?;
        let values = result_of(&values_request, values_done, &operation).await?;

        let bad = |detail: &str| StorageError::BadEntry {
            store,
            detail: detail.to_owned(),
        };
        let keys: Array = keys.dyn_into().map_err(|_| bad("keys are not a list"))?;
        let values: Array = values
            .dyn_into()
            .map_err(|_| bad("values are not a list"))?;
        if keys.length() != values.length() {
            return Err(bad("key and value counts differ"));
        }
        let mut entries = Vec::with_capacity(keys.length() as usize);
        for (key, value) in keys.iter().zip(values.iter()) {
            let key = key
                .as_string()
                .ok_or_else(|| bad("a key is not a string"))?;
            let value =
                bytes_of(&value).ok_or_else(|| bad(&format!("value of {key:?} is not bytes")))?;
            entries.push((key, value));
        }
        // IndexedDB orders strings by UTF-16 code units; make the order Rust's `str` order (they
        // differ only above U+FFFF). Already sorted in practice, so this is a linear pass.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(entries)
    }

    /// The value stored under `key`, or `None` when there is none.
    pub async fn get(&self, store: StoreName, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let operation = Operation::Read(store);
        let request = self
            .read(store)?
            .get(&JsValue::from_str(key))
            .map_err(|e| classify_js(&operation, &e))?;
        let done = settled(&request);
        let value = result_of(&request, done, &operation).await?;
        if value.is_undefined() {
            return Ok(None);
        }
        bytes_of(&value)
            .map(Some)
            .ok_or_else(|| StorageError::BadEntry {
                store,
                detail: format!("value of {key:?} is not bytes"),
            })
    }

    /// Applies all writes in ONE readwrite transaction over the stores they touch; resolves only
    /// when the transaction's `complete` fires (durable), errors if it aborts (nothing applied).
    ///
    /// The transaction asks for `durability: "strict"` (flushed to disk before `complete`) where
    /// the browser supports the option. Later writes to the same key win. An empty batch is `Ok`.
    pub async fn write(&self, writes: Vec<Write>) -> Result<(), StorageError> {
        self.write_inner(&writes, None).await
    }

    /// [`Database::write`] with a failure injected after the batch; for tests of atomicity.
    #[doc(hidden)]
    pub async fn write_with_injected_failure(
        &self,
        writes: Vec<Write>,
        failure: InjectedFailure,
    ) -> Result<(), StorageError> {
        self.write_inner(&writes, Some(failure)).await
    }

    async fn write_inner(
        &self,
        writes: &[Write],
        failure: Option<InjectedFailure>,
    ) -> Result<(), StorageError> {
        let mut stores = stores_touched(writes);
        if stores.is_empty() {
            match failure {
                None => return Ok(()),
                Some(_) => stores.push(StoreName::Registry),
            }
        }
        let operation = Operation::Write(stores.clone());
        let transaction = readwrite_transaction(self.connection()?, &stores)
            .map_err(|e| classify_js(&operation, &e))?;
        let done = finished(&transaction);
        if let Err(error) = queue_writes(&transaction, writes, failure) {
            // A call threw after earlier requests were queued: abort so none of them commits.
            let _ = transaction.abort();
            let _ = done.await;
            return Err(classify_js(&operation, &error));
        }
        match done.await {
            Ok(_) => Ok(()),
            Err(_) => Err(classify_dom(
                &operation,
                transaction.error(),
                "the transaction was aborted",
            )),
        }
    }
}

/// `db.transaction(stores, "readwrite", { durability: "strict" })`. Called through `Reflect`
/// because web-sys only exposes the options argument behind its unstable-API cfg; browsers that do
/// not know the option ignore it.
fn readwrite_transaction(
    db: &IdbDatabase,
    stores: &[StoreName],
) -> Result<IdbTransaction, JsValue> {
    let names: Array = stores
        .iter()
        .map(|store| JsValue::from_str(store.as_str()))
        .collect();
    let options = Object::new();
    Reflect::set(
        &options,
        &JsValue::from_str("durability"),
        &JsValue::from_str("strict"),
    )?;
    let transaction: Function = Reflect::get(db, &JsValue::from_str("transaction"))?.dyn_into()?;
    transaction
        .call3(db, &names, &JsValue::from_str("readwrite"), &options)?
        .dyn_into::<IdbTransaction>()
        .map_err(|_| js_sys::TypeError::new("transaction() did not return a transaction").into())
}

/// Queues every write (and the injected failure) on `transaction`; `Err` if a call threw.
fn queue_writes(
    transaction: &IdbTransaction,
    writes: &[Write],
    failure: Option<InjectedFailure>,
) -> Result<(), JsValue> {
    for write in writes {
        let store = transaction.object_store(write.store.as_str())?;
        let key = JsValue::from_str(&write.key);
        match &write.value {
            Some(bytes) => store.put_with_key(&Uint8Array::from(bytes.as_slice()), &key)?,
            None => store.delete(&key)?,
        };
    }
    if let Some(failure) = failure {
        let store = transaction.object_store(StoreName::Registry.as_str())?;
        let value = Uint8Array::new_with_length(0);
        match failure {
            InjectedFailure::FailingRequest => {
                let key = JsValue::from_str("\u{0}injected-failure");
                store.add_with_key(&value, &key)?;
                store.add_with_key(&value, &key)?;
            }
            InjectedFailure::ThrowingCall => {
                store.put_with_key(&value, &Object::new())?;
            }
        }
    }
    Ok(())
}

/// A copy of the bytes of a stored `Uint8Array`.
fn bytes_of(value: &JsValue) -> Option<Vec<u8>> {
    value.dyn_ref::<Uint8Array>().map(Uint8Array::to_vec)
}

/// Storage usage and quota in bytes from navigator.storage.estimate(), None when unavailable.
pub async fn estimate() -> Option<(f64, f64)> {
    let global = js_sys::global();
    let navigator = Reflect::get(&global, &JsValue::from_str("navigator")).ok()?;
    if navigator.is_undefined() || navigator.is_null() {
        return None;
    }
    let storage = Reflect::get(&navigator, &JsValue::from_str("storage")).ok()?;
    let storage: StorageManager = storage.dyn_into().ok()?;
    let estimate: StorageEstimate = JsFuture::from(storage.estimate().ok()?)
        .await
        .ok()?
        .unchecked_into();
    Some((estimate.get_usage()?, estimate.get_quota()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_names_are_the_schema_names() {
        let names: Vec<&str> = StoreName::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, ["registry", "jobs", "settings"]);
        assert_eq!(StoreName::Jobs.to_string(), "jobs");
    }

    #[test]
    fn stores_touched_are_distinct_and_in_schema_order() {
        let writes = vec![
            Write::put(StoreName::Settings, "a", vec![1]),
            Write::delete(StoreName::Registry, "b"),
            Write::put(StoreName::Settings, "c", vec![]),
        ];
        assert_eq!(
            stores_touched(&writes),
            [StoreName::Registry, StoreName::Settings]
        );
        assert!(stores_touched(&[]).is_empty());
    }

    #[test]
    fn operations_name_their_stores() {
        assert_eq!(Operation::Open.to_string(), "opening the database");
        assert_eq!(
            Operation::Read(StoreName::Jobs).to_string(),
            "reading store \"jobs\""
        );
        assert_eq!(
            Operation::Write(vec![StoreName::Registry]).to_string(),
            "writing to store \"registry\""
        );
        assert_eq!(
            Operation::Write(vec![StoreName::Registry, StoreName::Jobs]).to_string(),
            "writing to stores \"registry\", \"jobs\""
        );
    }

    #[test]
    fn quota_is_full_storage_for_every_operation() {
        for op in [
            Operation::Open,
            Operation::Read(StoreName::Registry),
            Operation::Write(vec![StoreName::Jobs]),
        ] {
            let error = classify(&op, "QuotaExceededError", "quota");
            assert_eq!(error, StorageError::QuotaExceeded);
            assert_eq!(
                error.to_string(),
                "browser storage is full: delete old models or jobs, or allow this site more \
                 storage"
            );
        }
    }

    #[test]
    fn refused_open_is_unavailable_storage() {
        for name in ["SecurityError", "InvalidStateError"] {
            let error = classify(&Operation::Open, name, "nope");
            assert_eq!(
                error,
                StorageError::Unavailable {
                    reason: format!("{name}: nope")
                }
            );
            assert_eq!(
                error.to_string(),
                "browser storage is unavailable (private browsing or storage disabled): models \
                 and jobs will not survive a reload"
            );
        }
    }

    #[test]
    fn version_error_on_open_means_this_app_is_older() {
        let error = classify(&Operation::Open, "VersionError", "v2 > v1");
        assert_eq!(error, StorageError::NewerVersion);
        assert!(error.to_string().contains("older version of mcp-train"));
    }

    #[test]
    fn invalid_state_after_open_is_a_closed_connection() {
        let error = classify(
            &Operation::Read(StoreName::Settings),
            "InvalidStateError",
            "The database connection is closing.",
        );
        assert_eq!(error, StorageError::Closed);
        assert!(error.to_string().contains("reload"));
    }

    #[test]
    fn other_errors_keep_name_message_and_operation() {
        let error = classify(
            &Operation::Write(vec![StoreName::Registry, StoreName::Jobs]),
            "ConstraintError",
            "Key already exists in the object store.",
        );
        assert_eq!(
            error.to_string(),
            "browser storage failed while writing to stores \"registry\", \"jobs\": \
             ConstraintError: Key already exists in the object store.; reload and try again"
        );
        // VersionError is only about the schema when opening.
        assert!(matches!(
            classify(&Operation::Read(StoreName::Jobs), "VersionError", "x"),
            StorageError::Other { .. }
        ));
    }

    #[test]
    fn messages_for_the_banner_are_lowercase() {
        let errors = [
            StorageError::Unavailable {
                reason: String::new(),
            },
            StorageError::Blocked,
            StorageError::QuotaExceeded,
            StorageError::NewerVersion,
            StorageError::Closed,
            StorageError::BadEntry {
                store: StoreName::Jobs,
                detail: "a key is not a string".to_owned(),
            },
        ];
        for error in errors {
            let text = error.to_string();
            assert!(text.starts_with(|c: char| c.is_lowercase()), "{text}");
        }
        assert_eq!(
            StorageError::Blocked.to_string(),
            "the database is held open by another mcp-train tab with an older version; close \
             other tabs and reload"
        );
    }
}
