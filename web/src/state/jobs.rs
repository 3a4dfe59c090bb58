//! The training jobs: what a job is and what it produced, and the history (queue, cancel,
//! delete, save) kept in IndexedDB; [`super::queue`] runs them.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use mcp_train_core::export::Summary;
use mcp_train_core::pipeline::{Evaluation, Lineage, ModelArtifact, Threshold, TrainingInfo};
use serde::{Deserialize, Serialize};
use web_sys::File;

use super::AppState;
use crate::clock::now_micros;
use crate::idb::{Database, StoreName, Write};
use crate::worker::protocol::TrainParams;

/// How old a running job's last save may be before other tabs consider its page gone (it saves
/// every [`super::queue::HEARTBEAT_MS`]).
const STALE_MICROS: i64 = 15_000_000;

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

impl AppState {
    /// Reads the job history. Jobs this tab runs or queues keep their live state. A job stored as
    /// waiting or running whose tab has stopped saying it is alive lost its file with that page:
    /// it is shown as interrupted (not written back, in case that tab is only slow).
    pub(super) async fn load_jobs(self, db: &Database) -> Result<(), String> {
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

    pub(super) fn update_job(self, id: &str, change: impl FnOnce(&mut Job)) -> Option<Job> {
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

    pub(super) async fn save_job(self, job: &Job) {
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
