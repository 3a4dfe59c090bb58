//! Runs this tab's training jobs one at a time, each in its own worker, with a heartbeat that
//! tells other tabs the job is alive; a finished job's model goes into the registry.

use gloo_timers::callback::Interval;
use leptos::prelude::*;
use leptos::task::spawn_local;
use mcp_train_core::pipeline::ModelArtifact;
use web_sys::File;

use super::{AppState, Job, JobResult, JobStatus, Settings};
use crate::clock::now_micros;
use crate::worker::client::{self, Canceller, Outcome};
use crate::worker::protocol::{Task, WorkerEvent};

/// How often a running job is saved.
pub(super) const HEARTBEAT_MS: u32 = 3_000;

/// The job whose worker is (about to be) running.
#[derive(Debug)]
pub(super) struct RunningJob {
    pub(super) id: String,
    /// `None` until the worker has the task.
    pub(super) canceller: Option<Canceller>,
    /// A cancel that came before the worker existed.
    pub(super) cancel_requested: bool,
}

impl AppState {
    /// Saves this tab's running and queued jobs every few seconds, so other tabs see their
    /// progress and can tell a live job from one whose page is gone. Stops when the returned
    /// interval is dropped.
    fn heartbeat(self, id: String) -> Interval {
        Interval::new(HEARTBEAT_MS, move || {
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
        })
    }

    /// Starts the oldest pending job when none runs: one at a time, so a training has the
    /// machine's memory and a core to itself.
    pub(super) fn pump(self) {
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
