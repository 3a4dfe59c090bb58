//! The app's state: the registry (an in-memory mirror persisted to IndexedDB), the training jobs
//! and the settings, shared by every page through Leptos context; with a server, also its shared
//! registry and its training jobs.
//!
//! Every registry change runs on a copy of the mirror; its difference is written to IndexedDB in
//! one transaction, and only when that commits does the mirror move on. So a full disk or a
//! blocked database leaves the app exactly as it was, with a message saying why.
//!
//! [`AppState`] is one `Copy` handle; its methods live beside what they manage:
//! - [`registry`]: the registry mirror and its IndexedDB diff;
//! - [`jobs`]: the job history (what a job is, queueing, cancelling, deleting, saving);
//! - [`queue`]: running this tab's jobs one at a time in workers, with a heartbeat;
//! - [`settings`]: the user's settings;
//! - [`tabs`]: telling other tabs of the app about changes;
//! - [`remote`]: the server connection, its shared registry and its training jobs.

pub mod jobs;
pub mod queue;
pub mod registry;
pub mod remote;
pub mod settings;
pub mod tabs;

use std::collections::{HashMap, HashSet};

use leptos::prelude::*;
use leptos::task::spawn_local;
use mcp_train_core::registry::{MemoryStore, ModelRecord};
use web_sys::File;

use crate::idb::{Database, Write};

pub use jobs::{Job, JobResult, JobStatus, ServerJobInfo};
pub use remote::{Connection, ServerStatus};
pub use settings::Settings;

/// Everything the pages share. `Copy`: every field is an arena handle.
#[derive(Debug, Clone, Copy)]
pub struct AppState {
    pub models: RwSignal<Vec<ModelRecord>>,
    pub jobs: RwSignal<Vec<Job>>,
    pub settings: RwSignal<Settings>,
    /// A problem with storage, shown in a banner until dismissed.
    pub storage_error: RwSignal<Option<String>>,
    /// The last outcome of an action, shown in the notice area.
    pub notice: RwSignal<Option<Notice>>,
    /// False until IndexedDB has been read (or found unusable).
    pub loaded: RwSignal<bool>,
    /// The connection to a server.
    pub server: RwSignal<ServerStatus>,
    /// The server's registry (empty without a server).
    pub shared: RwSignal<Vec<ModelRecord>>,
    db: StoredValue<Option<Database>, LocalStorage>,
    registry: StoredValue<MemoryStore, LocalStorage>,
    files: StoredValue<HashMap<String, File>, LocalStorage>,
    running: StoredValue<Option<queue::RunningJob>, LocalStorage>,
    channel: StoredValue<Option<web_sys::BroadcastChannel>, LocalStorage>,
    /// The API of the server that served this page, if one did.
    same_origin: StoredValue<Option<String>, LocalStorage>,
    /// Server jobs whose progress this tab follows.
    following: StoredValue<HashSet<String>, LocalStorage>,
    /// Counts connection attempts, so an answer to an older one is ignored.
    connection: StoredValue<u64, LocalStorage>,
}

/// A message for the user about what just happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
}

impl AppState {
    /// Creates the state and starts loading it from IndexedDB.
    pub fn load_new() -> AppState {
        let state = AppState {
            models: RwSignal::new(Vec::new()),
            jobs: RwSignal::new(Vec::new()),
            settings: RwSignal::new(Settings::default()),
            storage_error: RwSignal::new(None),
            notice: RwSignal::new(None),
            loaded: RwSignal::new(false),
            server: RwSignal::new(ServerStatus::default()),
            shared: RwSignal::new(Vec::new()),
            db: StoredValue::new_local(None),
            registry: StoredValue::new_local(MemoryStore::new()),
            files: StoredValue::new_local(HashMap::new()),
            running: StoredValue::new_local(None),
            channel: StoredValue::new_local(None),
            same_origin: StoredValue::new_local(crate::api_client::same_origin_api()),
            following: StoredValue::new_local(HashSet::new()),
            connection: StoredValue::new_local(0),
        };
        spawn_local(async move { state.load().await });
        state
    }

    async fn load(self) {
        match Database::open().await {
            Ok(db) => {
                if let Err(e) = self.load_from(&db).await {
                    self.storage_error.set(Some(e));
                }
                self.db.set_value(Some(db));
                self.listen_to_other_tabs();
            }
            Err(e) => self.storage_error.set(Some(e.to_string())),
        }
        self.loaded.set(true);
        // The settings may name a server; without one and without a same-origin server this
        // makes no request.
        self.connect();
    }

    async fn load_from(self, db: &Database) -> Result<(), String> {
        self.load_registry(db).await?;
        self.load_jobs(db).await?;
        self.load_settings(db).await
    }

    /// Shows a notice.
    pub fn notify(self, text: impl Into<String>, error: bool) {
        self.notice.set(Some(Notice {
            text: text.into(),
            error,
        }));
    }

    /// Writes to IndexedDB; without a database (private mode, blocked) nothing is written and the
    /// banner already says so.
    async fn persist(self, writes: Vec<Write>) -> Result<(), String> {
        let Some(db) = self.db.get_value() else {
            return Ok(());
        };
        db.write(writes).await.map_err(|e| e.to_string())?;
        self.announce();
        Ok(())
    }
}
