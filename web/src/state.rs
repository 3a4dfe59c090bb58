//! The app's state: the registry (an in-memory mirror persisted to IndexedDB), the training jobs
//! and the settings, shared by every page through Leptos context; with a server, also its shared
//! registry and its training jobs (see [`remote`]).
//!
//! Every registry change runs on a copy of the mirror; its difference is written to IndexedDB in
//! one transaction, and only when that commits does the mirror move on. So a full disk or a
//! blocked database leaves the app exactly as it was, with a message saying why.

mod remote;

use std::collections::{HashMap, HashSet};

use leptos::prelude::*;
use leptos::task::spawn_local;
use mcp_train_core::export::Summary;
use mcp_train_core::pipeline::{Evaluation, Lineage, ModelArtifact, Threshold, TrainingInfo};
use mcp_train_core::registry::{
    MemoryStore, ModelRecord, Registry, RegistryError, RegistryStore, StoredModel,
};
use mcp_train_core::time::parse_iso8601;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use web_sys::File;

use crate::client::{self, Canceller, Outcome};
use crate::idb::{Database, StoreName, Write};
use crate::protocol::{Task, TrainParams, WorkerEvent};

pub use remote::{Connection, ServerStatus};

/// The registry's index key in the `registry` object store; models sit under `model/<version>`.
const INDEX_KEY: &str = "registry.json";
const MODEL_PREFIX: &str = "model/";
const SETTINGS_KEY: &str = "settings";
/// The BroadcastChannel tabs of the app announce their changes on.
const CHANNEL: &str = "mcp-train";

/// Where a training job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Pending,
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Running => "running",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }

    pub fn is_active(self) -> bool {
        matches!(self, JobStatus::Pending | JobStatus::Running)
    }
}

/// What a completed job produced; kept with the job, so its page outlives the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobResult {
    pub version: String,
    pub detector: String,
    pub training: TrainingInfo,
    pub threshold: Threshold,
    pub evaluation: Evaluation,
    pub lineage: Lineage,
    pub summary: Option<Summary>,
    pub warnings: usize,
}

/// One training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: String,
    pub file_name: String,
    pub file_size: f64,
    pub created_micros: i64,
    pub started_micros: Option<i64>,
    pub finished_micros: Option<i64>,
    pub params: TrainParams,
    pub status: JobStatus,
    pub stage: String,
    pub progress: f64,
    pub error: Option<String>,
    pub result: Option<JobResult>,
    /// When the tab running it last said it was alive (microseconds since the epoch).
    #[serde(default)]
    pub heartbeat_micros: i64,
    /// Set for a job that runs on a server rather than in this browser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerJobInfo>,
}

/// What a job running on a server adds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerJobInfo {
    /// The API of the server that runs it.
    pub api: String,
    /// The version of the model it registered there, once completed.
    pub model_version: Option<String>,
}

impl Job {
    /// `local` or `server`: where it runs.
    pub fn location(&self) -> &'static str {
        if self.server.is_some() {
            "server"
        } else {
            "local"
        }
    }

    /// The version of the model it produced, once completed.
    pub fn model_version(&self) -> Option<&str> {
        self.result
            .as_ref()
            .map(|r| r.version.as_str())
            .or_else(|| {
                self.server
                    .as_ref()
                    .and_then(|s| s.model_version.as_deref())
            })
    }
}

/// The user's settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// A fixed creation/deployment time (ISO 8601) for reproducible models, or empty.
    pub fixed_time: String,
    /// A server to share models with and train on (its address or its API's), or empty: the
    /// server that served this page, if one did.
    pub server_url: String,
    /// The server's token, sent as `Authorization: Bearer`; empty for none.
    pub server_token: String,
}

impl Settings {
    /// "Now" for a new model or deployment, and whether it is fixed.
    pub fn now(&self) -> (i64, bool) {
        match parse_iso8601(self.fixed_time.trim()) {
            Ok(t) if !self.fixed_time.trim().is_empty() => (t.micros, true),
            _ => (now_micros(), false),
        }
    }
}

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
    running: StoredValue<Option<RunningJob>, LocalStorage>,
    channel: StoredValue<Option<web_sys::BroadcastChannel>, LocalStorage>,
    /// The API of the server that served this page, if one did.
    same_origin: StoredValue<Option<String>, LocalStorage>,
    /// Server jobs whose progress this tab follows.
    following: StoredValue<HashSet<String>, LocalStorage>,
    /// Counts connection attempts, so an answer to an older one is ignored.
    connection: StoredValue<u64, LocalStorage>,
}

/// How often a running job is saved, and how old its last save may be before other tabs
/// consider its page gone.
const HEARTBEAT_MS: i32 = 3_000;
const STALE_MICROS: i64 = 15_000_000;

/// Keeps a job's heartbeat going; dropping it stops the timer.
struct Heartbeat {
    handle: Option<i32>,
    _beat: Closure<dyn FnMut()>,
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        if let (Some(window), Some(handle)) = (web_sys::window(), self.handle) {
            window.clear_interval_with_handle(handle);
        }
    }
}

/// The job whose worker is (about to be) running.
#[derive(Debug)]
struct RunningJob {
    id: String,
    /// `None` until the worker has the task.
    canceller: Option<Canceller>,
    /// A cancel that came before the worker existed.
    cancel_requested: bool,
}

/// A message for the user about what just happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
}

pub fn now_micros() -> i64 {
    (js_sys::Date::now() * 1000.0) as i64
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
        if let Some(bytes) = db
            .get(StoreName::Settings, SETTINGS_KEY)
            .await
            .map_err(|e| e.to_string())?
        {
            if let Ok(settings) = serde_json::from_slice(&bytes) {
                self.settings.set(settings);
            }
        }
        Ok(())
    }

    async fn load_registry(self, db: &Database) -> Result<(), String> {
        let mut store = MemoryStore::new();
        for (key, value) in db
            .get_all(StoreName::Registry)
            .await
            .map_err(|e| e.to_string())?
        {
            let written = if key == INDEX_KEY {
                store.write_index(&value)
            } else if let Some(version) = key.strip_prefix(MODEL_PREFIX) {
                store.write_model(version, &value)
            } else {
                Ok(())
            };
            written.map_err(|e| e.to_string())?;
        }
        let models = Registry::new(store.clone())
            .list()
            .map_err(|e| format!("the stored registry cannot be read: {e}"))?;
        self.registry.set_value(store);
        self.models.set(models);
        Ok(())
    }

    /// Reads the job history. Jobs this tab runs or queues keep their live state. A job stored as
    /// waiting or running whose tab has stopped saying it is alive lost its file with that page:
    /// it is shown as interrupted (not written back, in case that tab is only slow).
    async fn load_jobs(self, db: &Database) -> Result<(), String> {
        // This tab's own queued and running jobs are the ones whose files it holds.
        let own: Vec<String> = self.files.with_value(|f| f.keys().cloned().collect());
        let mine: HashMap<String, Job> = self.jobs.with_untracked(|jobs| {
            jobs.iter()
                .filter(|j| own.contains(&j.id))
                .map(|j| (j.id.clone(), j.clone()))
                .collect()
        });
        let mut jobs = Vec::new();
        for (key, value) in db
            .get_all(StoreName::Jobs)
            .await
            .map_err(|e| e.to_string())?
        {
            match serde_json::from_slice::<Job>(&value) {
                Ok(job) if mine.contains_key(&job.id) => {}
                Ok(mut job) => {
                    if job.status.is_active() && now_micros() - job.heartbeat_micros > STALE_MICROS
                    {
                        job.status = JobStatus::Failed;
                        job.error = Some(
                            "interrupted: the page that ran it was closed or reloaded before it finished; start it again"
                                .to_owned(),
                        );
                    }
                    jobs.push(job);
                }
                Err(e) => web_sys::console::warn_1(
                    &format!("skipping stored job {key}: unreadable ({e})").into(),
                ),
            }
        }
        jobs.extend(mine.into_values());
        // Server jobs are not stored: they come from the server.
        jobs.extend(self.jobs.with_untracked(|jobs| {
            jobs.iter()
                .filter(|j| j.server.is_some())
                .cloned()
                .collect::<Vec<_>>()
        }));
        jobs.sort_by_key(|j| std::cmp::Reverse(j.created_micros));
        self.jobs.set(jobs);
        Ok(())
    }

    /// Other tabs of the app say when they change the registry or the jobs; this tab then
    /// re-reads them, so two tabs never work from stale copies for long.
    fn listen_to_other_tabs(self) {
        let Ok(channel) = web_sys::BroadcastChannel::new(CHANNEL) else {
            return;
        };
        let on_message = Closure::<dyn FnMut()>::new(move || {
            spawn_local(async move {
                let Some(db) = self.db.get_value() else {
                    return;
                };
                if let Err(e) = self.load_registry(&db).await {
                    self.storage_error.set(Some(e));
                }
                if let Err(e) = self.load_jobs(&db).await {
                    self.storage_error.set(Some(e));
                }
            });
        });
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        // Both live as long as the page.
        on_message.forget();
        self.channel.set_value(Some(channel));
    }

    /// Tells the other tabs that the stored state changed.
    fn announce(self) {
        self.channel.with_value(|c| {
            if let Some(channel) = c {
                let _ = channel.post_message(&JsValue::from_str("changed"));
            }
        });
    }

    /// Shows a notice.
    pub fn notify(self, text: impl Into<String>, error: bool) {
        self.notice.set(Some(Notice {
            text: text.into(),
            error,
        }));
    }

    // ---- settings ----

    pub fn save_settings(self, settings: Settings) {
        self.settings.set(settings.clone());
        spawn_local(async move {
            let bytes = serde_json::to_vec(&settings).unwrap_or_default();
            let write = Write {
                store: StoreName::Settings,
                key: SETTINGS_KEY.to_owned(),
                value: Some(bytes),
            };
            if let Err(e) = self.persist(vec![write]).await {
                self.notify(format!("settings not saved: {e}"), true);
            }
        });
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

    // ---- registry ----

    /// A model's record and bytes.
    pub fn model(self, version: &str) -> Result<StoredModel, RegistryError> {
        self.registry
            .with_value(|store| Registry::new(store.clone()).get(version))
    }

    /// Runs a registry change on a copy of the mirror, persists the difference, then adopts it.
    pub async fn change_registry<T>(
        self,
        change: impl FnOnce(&mut Registry<MemoryStore>) -> Result<T, RegistryError>,
    ) -> Result<T, String> {
        let before = self.registry.get_value();
        let mut registry = Registry::new(before.clone());
        let out = change(&mut registry).map_err(|e| e.to_string())?;
        let after = registry.into_store();
        let writes = diff(&before, &after).map_err(|e| e.to_string())?;
        self.persist(writes).await?;
        let models = Registry::new(after.clone())
            .list()
            .map_err(|e| e.to_string())?;
        self.registry.set_value(after);
        self.models.set(models);
        Ok(out)
    }

    // ---- jobs ----

    /// Queues a training job on `file`.
    pub fn start_job(self, file: File, params: TrainParams) {
        let now = now_micros();
        let job = Job {
            id: format!("job-{now}"),
            file_name: file.name(),
            file_size: file.size(),
            created_micros: now,
            started_micros: None,
            finished_micros: None,
            params,
            status: JobStatus::Pending,
            stage: "queued".to_owned(),
            progress: 0.0,
            error: None,
            result: None,
            heartbeat_micros: now,
            server: None,
        };
        self.files
            .update_value(|files| drop(files.insert(job.id.clone(), file)));
        self.jobs.update(|jobs| jobs.insert(0, job.clone()));
        spawn_local(async move {
            self.save_job(&job).await;
            self.pump();
        });
    }

    /// Cancels a pending or running job.
    pub fn cancel_job(self, id: &str) {
        if self.is_server_job(id) {
            return self.cancel_server_job(id);
        }
        let mut is_running = false;
        let mut canceller = None;
        self.running.update_value(|running| {
            if let Some(run) = running.as_mut().filter(|r| r.id == id) {
                is_running = true;
                canceller = run.canceller.clone();
                run.cancel_requested = true;
            }
        });
        match (is_running, canceller) {
            // The run's own task records the cancellation when its worker is gone.
            (true, Some(canceller)) => canceller.cancel(),
            // Its worker is starting: `on_start` sees the request and cancels at once.
            (true, None) => {}
            (false, _) => {
                self.files.update_value(|files| drop(files.remove(id)));
                if let Some(job) = self.update_job(id, |job| {
                    if job.status == JobStatus::Pending {
                        job.status = JobStatus::Cancelled;
                        job.finished_micros = Some(now_micros());
                    }
                }) {
                    spawn_local(async move { self.save_job(&job).await });
                }
            }
        }
    }

    /// One job, following its changes (`None` once it is gone).
    pub fn job(self, id: &str) -> Memo<Option<Job>> {
        let id = id.to_owned();
        Memo::new(move |_| {
            self.jobs
                .with(|jobs| jobs.iter().find(|j| j.id == id).cloned())
        })
    }

    /// Deletes a finished job from the history.
    pub fn delete_job(self, id: &str) {
        if self.is_server_job(id) {
            return self.delete_server_job(id);
        }
        self.jobs.update(|jobs| jobs.retain(|j| j.id != id));
        let key = id.to_owned();
        spawn_local(async move {
            let write = Write {
                store: StoreName::Jobs,
                key,
                value: None,
            };
            if let Err(e) = self.persist(vec![write]).await {
                self.notify(format!("the job was not deleted from storage: {e}"), true);
            }
        });
    }

    fn update_job(self, id: &str, change: impl FnOnce(&mut Job)) -> Option<Job> {
        let mut changed = None;
        self.jobs.update(|jobs| {
            if let Some(job) = jobs.iter_mut().find(|j| j.id == id) {
                change(job);
                changed = Some(job.clone());
            }
        });
        changed
    }

    fn is_server_job(self, id: &str) -> bool {
        self.jobs
            .with_untracked(|jobs| jobs.iter().any(|j| j.id == id && j.server.is_some()))
    }

    async fn save_job(self, job: &Job) {
        if job.server.is_some() {
            return;
        }
        let write = Write {
            store: StoreName::Jobs,
            key: job.id.clone(),
            value: Some(serde_json::to_vec(job).unwrap_or_default()),
        };
        if let Err(e) = self.persist(vec![write]).await {
            self.storage_error
                .set(Some(format!("the job history could not be saved: {e}")));
        }
    }

    /// Saves this tab's running and queued jobs every few seconds, so other tabs see their
    /// progress and can tell a live job from one whose page is gone. Stops when the returned guard is dropped.
    fn heartbeat(self, id: String) -> Heartbeat {
        let beat = Closure::<dyn FnMut()>::new(move || {
            // The running job and the ones this tab has queued (it holds their files).
            let mut ids: Vec<String> = self.files.with_value(|f| f.keys().cloned().collect());
            if !ids.contains(&id) {
                ids.push(id.clone());
            }
            for id in ids {
                if let Some(job) = self.update_job(&id, |job| job.heartbeat_micros = now_micros()) {
                    spawn_local(async move { self.save_job(&job).await });
                }
            }
        });
        let handle = web_sys::window().and_then(|w| {
            w.set_interval_with_callback_and_timeout_and_arguments_0(
                beat.as_ref().unchecked_ref(),
                HEARTBEAT_MS,
            )
            .ok()
        });
        Heartbeat {
            handle,
            _beat: beat,
        }
    }

    /// Starts the oldest pending job when none runs: one at a time, so a training has the
    /// machine's memory and a core to itself.
    fn pump(self) {
        if self.running.with_value(Option::is_some) {
            return;
        }
        let next = self.jobs.with_untracked(|jobs| {
            jobs.iter()
                .rev()
                .find(|j| j.status == JobStatus::Pending)
                .map(|j| j.id.clone())
        });
        let Some(id) = next else { return };
        let Some(file) = self.files.with_value(|files| files.get(&id).cloned()) else {
            return;
        };
        spawn_local(async move { self.run_job(id, file).await });
    }

    async fn run_job(self, id: String, file: File) {
        let Some(job) = self.update_job(&id, |job| {
            job.status = JobStatus::Running;
            job.started_micros = Some(now_micros());
            job.stage = "read".to_owned();
        }) else {
            return;
        };
        // Mark as running before the first await, so `pump` never starts a second one.
        self.running.set_value(Some(RunningJob {
            id: id.clone(),
            canceller: None,
            cancel_requested: false,
        }));
        self.save_job(&job).await;
        let (now, frozen) = self.settings.with_untracked(Settings::now);
        let task = Task::Train {
            params: job.params.clone(),
            file_name: job.file_name.clone(),
            now_micros: now,
            frozen,
        };
        let heartbeat = self.heartbeat(id.clone());
        let progress_id = id.clone();
        let start_id = id.clone();
        let outcome = client::run(
            &task,
            &file,
            move |stage, fraction| {
                self.update_job(&progress_id, |job| {
                    job.stage = stage.to_owned();
                    job.progress = fraction;
                });
            },
            move |canceller| {
                let mut cancel_now = false;
                self.running.update_value(|running| {
                    if let Some(run) = running.as_mut().filter(|r| r.id == start_id) {
                        cancel_now = run.cancel_requested;
                        run.canceller = Some(canceller.clone());
                    }
                });
                if cancel_now {
                    canceller.cancel();
                }
            },
        )
        .await;
        drop(heartbeat);
        let finished = match outcome {
            Outcome::Cancelled => self.finish(&id, JobStatus::Cancelled, None, None),
            Outcome::Done(WorkerEvent::Trained { report, .. }, Some(bytes)) => {
                match self.register(bytes, report.as_ref()).await {
                    Ok(result) => self.finish(&id, JobStatus::Completed, None, Some(result)),
                    Err(e) => self.finish(&id, JobStatus::Failed, Some(e), None),
                }
            }
            Outcome::Done(WorkerEvent::Failed { message }, _) => {
                self.finish(&id, JobStatus::Failed, Some(message), None)
            }
            Outcome::Done(other, _) => self.finish(
                &id,
                JobStatus::Failed,
                Some(format!("the worker answered unexpectedly: {other:?}")),
                None,
            ),
        };
        self.files.update_value(|files| drop(files.remove(&id)));
        self.running.set_value(None);
        if let Some(job) = finished {
            self.save_job(&job).await;
        }
        self.pump();
    }

    fn finish(
        self,
        id: &str,
        status: JobStatus,
        error: Option<String>,
        result: Option<JobResult>,
    ) -> Option<Job> {
        self.update_job(id, |job| {
            job.status = status;
            job.error = error;
            job.finished_micros = Some(now_micros());
            if status == JobStatus::Completed {
                job.progress = 1.0;
                job.stage = "done".to_owned();
            }
            job.result = result;
        })
    }

    /// Registers a trained model and sums up what its job shows.
    async fn register(
        self,
        bytes: Vec<u8>,
        report: Option<&mcp_train_core::export::ValidationReport>,
    ) -> Result<JobResult, String> {
        let artifact = ModelArtifact::from_json(&bytes).map_err(|e| e.to_string())?;
        let (now, _) = self.settings.with_untracked(Settings::now);
        let record = self
            .change_registry(move |registry| registry.register_bytes(&bytes, now))
            .await
            .map_err(|e| format!("the model could not be saved: {e}"))?;
        Ok(JobResult::new(record.version, artifact, report))
    }
}

impl JobResult {
    /// What a job that produced `artifact`, registered as `version`, shows.
    pub fn new(
        version: String,
        artifact: ModelArtifact,
        report: Option<&mcp_train_core::export::ValidationReport>,
    ) -> JobResult {
        JobResult {
            version,
            detector: artifact.detector.name().to_owned(),
            training: artifact.training,
            threshold: artifact.threshold,
            evaluation: artifact.evaluation,
            lineage: artifact.lineage,
            summary: report.map(|r| r.summary.clone()),
            warnings: report.map_or(0, |r| r.warning_count()),
        }
    }
}

/// The IndexedDB writes that turn `before` into `after`.
fn diff(before: &MemoryStore, after: &MemoryStore) -> Result<Vec<Write>, RegistryError> {
    let mut writes = Vec::new();
    let old_versions = before.list_models()?;
    let new_versions = after.list_models()?;
    for version in &new_versions {
        let bytes = after.read_model(version)?;
        if bytes != before.read_model(version)? {
            writes.push(Write {
                store: StoreName::Registry,
                key: format!("{MODEL_PREFIX}{version}"),
                value: bytes,
            });
        }
    }
    for version in old_versions.iter().filter(|v| !new_versions.contains(v)) {
        writes.push(Write {
            store: StoreName::Registry,
            key: format!("{MODEL_PREFIX}{version}"),
            value: None,
        });
    }
    let index = after.read_index()?;
    if index != before.read_index()? {
        writes.push(Write {
            store: StoreName::Registry,
            key: INDEX_KEY.to_owned(),
            value: index,
        });
    }
    Ok(writes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_diff_writes_new_models_the_index_and_deletes_removed_ones() {
        let mut before = MemoryStore::new();
        before.write_model("20240101_000000", b"old").ok();
        before.write_model("20240102_000000", b"kept").ok();
        before.write_index(b"i1").ok();
        let mut after = before.clone();
        after.remove_model("20240101_000000").ok();
        after.write_model("20240103_000000", b"new").ok();
        after.write_index(b"i2").ok();
        let writes = diff(&before, &after).unwrap_or_default();
        let keys: Vec<(String, Option<Vec<u8>>)> =
            writes.into_iter().map(|w| (w.key, w.value)).collect();
        assert_eq!(
            keys,
            vec![
                ("model/20240103_000000".to_owned(), Some(b"new".to_vec())),
                ("model/20240101_000000".to_owned(), None),
                ("registry.json".to_owned(), Some(b"i2".to_vec())),
            ]
        );
        assert!(diff(&after, &after).unwrap_or_default().is_empty());
    }

    #[test]
    fn settings_saved_before_the_server_fields_still_load() {
        let settings: Settings =
            serde_json::from_str(r#"{"fixed_time":"2024-06-01T12:00:00Z"}"#).unwrap_or_default();
        assert_eq!(settings.fixed_time, "2024-06-01T12:00:00Z");
        assert_eq!(settings.server_url, "");
        assert_eq!(settings.server_token, "");
    }

    #[test]
    fn a_fixed_time_setting_freezes_now() {
        let settings = Settings {
            fixed_time: "2024-06-01T12:00:00Z".to_owned(),
            ..Settings::default()
        };
        assert_eq!(settings.now(), (1_717_243_200_000_000, true));
    }
}
