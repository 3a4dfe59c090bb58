//! The training runner: one thread per process trains the accepted jobs one at a time, in order,
//! publishing each job's progress through its `watch` channel; a model that trains is registered.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use mcp_train_core::api::{Job, JobFailure, JobFailureCode, JobProgress, JobStatus};
use mcp_train_core::config::Config;
use mcp_train_core::pipeline::{self, Hooks, Progress, TrainError, TrainInput};
use mcp_train_core::registry::ModelRecord;
use mcp_train_core::time::format_iso8601;
use tokio::sync::watch;

use crate::fs::clock::{now_micros, Stopwatch};
use crate::http::error::{error_chain, ApiError, ApiResult};
use crate::http::upload::Staged;
use crate::notify::Event;

/// Least time between two progress updates of a job (stage changes are always published).
const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

/// A job and what its runner needs.
#[derive(Debug)]
pub(super) struct Handle {
    pub(super) id: String,
    pub(super) cancel: AtomicBool,
    pub(super) state: watch::Sender<Job>,
    /// The export, until the runner takes it (or the job is cancelled while queued).
    pub(super) export: Mutex<Option<Staged>>,
    /// The model's creation time, when the client fixed it (reproducible models).
    pub(super) created_at_micros: Option<i64>,
    /// The export's log type, when the client named it (otherwise learned from the records).
    pub(super) log_type: Option<String>,
}

impl Handle {
    pub(super) fn snapshot(&self) -> Job {
        self.state.borrow().clone()
    }

    pub(super) fn update(&self, f: impl FnOnce(&mut Job)) {
        self.state.send_modify(f);
    }

    pub(super) fn take_export(&self) -> Option<Staged> {
        self.export.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// The jobs of this process and the queue of its runner.
#[derive(Debug)]
pub struct Jobs {
    /// Newest first.
    list: Mutex<Vec<Arc<Handle>>>,
    queue: Mutex<mpsc::Sender<Arc<Handle>>>,
}

impl Jobs {
    /// Starts the runner thread, which trains with `config` and registers models in `registry`.
    /// The notifier hears when a job completes or fails.
    pub fn start(
        registry: crate::fs::registry::RegistryAt,
        config: Config,
        notifier: crate::notify::Notifier,
    ) -> std::io::Result<Jobs> {
        let (send, receive) = mpsc::channel::<Arc<Handle>>();
        std::thread::Builder::new()
            .name("training".to_owned())
            .spawn(move || {
                for handle in receive {
                    run(&handle, &registry, &config, &notifier);
                }
            })?;
        Ok(Jobs {
            list: Mutex::new(Vec::new()),
            queue: Mutex::new(send),
        })
    }

    pub(super) fn handles(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Handle>>> {
        self.list.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn find(&self, id: &str) -> ApiResult<Arc<Handle>> {
        self.handles()
            .iter()
            .find(|h| h.id == id)
            .cloned()
            .ok_or_else(|| {
                let shown: String = id.chars().take(64).collect();
                ApiError::not_found(format!("no training job {shown:?}"))
            })
    }

    /// Hands a job to the runner.
    pub(super) fn enqueue(&self, handle: Arc<Handle>) -> ApiResult<()> {
        self.queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(handle)
            .map_err(|e| ApiError::internal("the training thread is gone", &e))
    }

    /// Jobs by status, for the metrics.
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut counts: BTreeMap<&'static str, usize> = JobStatus::ALL
            .into_iter()
            .map(|s| (s.as_str(), 0))
            .collect();
        for h in self.handles().iter() {
            *counts.entry(h.state.borrow().status.as_str()).or_default() += 1;
        }
        counts
    }
}

/// How a training that did not register a model ended.
enum Stopped {
    /// The job was cancelled: its status says so, it carries no error.
    Cancelled,
    Failed(JobFailure),
}

/// Trains one job, publishing its progress; registers the model when it succeeds.
fn run(
    handle: &Handle,
    registry: &crate::fs::registry::RegistryAt,
    config: &Config,
    notifier: &crate::notify::Notifier,
) {
    // Taking the export is what starts the job: a cancel that took it first has marked the job
    // cancelled, and it stays so.
    let Some(export) = handle.take_export() else {
        return;
    };
    let started = Instant::now();
    handle.update(|j| {
        j.status = JobStatus::Running;
        j.started_at = Some(format_iso8601(now_micros()));
    });
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        train(handle, export, registry, config, started)
    }))
    .unwrap_or_else(|_| {
        Err(Stopped::Failed(JobFailure {
            code: JobFailureCode::Internal,
            message: "training failed: internal error (see the server log)".to_owned(),
        }))
    });
    let finished = format_iso8601(now_micros());
    let seconds = started.elapsed().as_secs_f64();
    handle.update(|j| {
        j.finished_at = Some(finished);
        match outcome {
            Ok(record) => {
                j.status = JobStatus::Completed;
                j.progress.fraction = 1.0;
                j.progress.stage = "done".to_owned();
                j.model = Some(record);
            }
            Err(Stopped::Cancelled) => j.status = JobStatus::Cancelled,
            Err(Stopped::Failed(failure)) => {
                j.status = JobStatus::Failed;
                j.error = Some(failure);
            }
        }
    });
    let job = handle.snapshot();
    tracing::info!(
        job = %job.id,
        status = job.status.as_str(),
        model = job.model.as_ref().map(|m| m.version.as_str()),
        seconds,
        "training job finished"
    );
    let event = match (&job.status, &job.model, &job.error) {
        (JobStatus::Completed, Some(model), _) => Some(Event::TrainingCompleted {
            job_id: job.id.clone(),
            file_name: job.file_name.clone(),
            version: model.version.clone(),
            log_type: model.log_type.clone(),
            detector: model.detector.clone(),
            samples: model.samples,
            seconds,
        }),
        (JobStatus::Failed, _, Some(failure)) => Some(Event::TrainingFailed {
            job_id: job.id.clone(),
            file_name: job.file_name.clone(),
            code: failure.code.as_str().to_owned(),
            message: failure.message.clone(),
            seconds,
        }),
        _ => None,
    };
    if let Some(event) = event {
        notifier.event(event);
    }
}

fn train(
    handle: &Handle,
    staged: Staged,
    registry: &crate::fs::registry::RegistryAt,
    config: &Config,
    started: Instant,
) -> Result<ModelRecord, Stopped> {
    let internal = |context: &str, cause: &dyn std::fmt::Display| {
        tracing::error!(job = %handle.id, error = %cause, "{context}");
        Stopped::Failed(JobFailure {
            code: JobFailureCode::Internal,
            message: format!("{context}: internal error (see the server log)"),
        })
    };
    let bytes = std::fs::read(&staged.path).map_err(|e| internal("cannot read the export", &e))?;
    drop(staged);
    let job = handle.snapshot();
    let frozen = handle.created_at_micros.is_some();
    let now = handle.created_at_micros.unwrap_or_else(now_micros);
    let options = job.params.options(config, now);
    let mut last = (String::new(), Instant::now());
    let mut on_progress = |p: &Progress| {
        if handle.cancel.load(Ordering::SeqCst) {
            return false;
        }
        let stage = p.stage.as_str();
        if stage != last.0 || last.1.elapsed() >= PROGRESS_INTERVAL {
            last = (stage.to_owned(), Instant::now());
            let fraction = p.fraction;
            handle.update(|j| {
                j.progress = JobProgress {
                    stage: stage.to_owned(),
                    fraction,
                }
            });
        }
        true
    };
    let stopwatch = Stopwatch::started_at(started, frozen);
    let clock = || stopwatch.elapsed_ms();
    let input = TrainInput::Export {
        bytes: &bytes,
        file_name: &job.file_name,
        log_type: handle.log_type.as_deref(),
    };
    let trained = pipeline::train(
        input,
        &options,
        Hooks {
            progress: &mut on_progress,
            elapsed_ms: &clock,
        },
    );
    drop(bytes);
    let trained = match trained {
        Ok(t) => t,
        Err(TrainError::Cancelled) => return Err(Stopped::Cancelled),
        Err(e) => {
            let code = match e {
                TrainError::Export(_) => JobFailureCode::InvalidExport,
                _ => JobFailureCode::TrainingFailed,
            };
            return Err(Stopped::Failed(JobFailure {
                code,
                message: e.to_string(),
            }));
        }
    };
    if handle.cancel.load(Ordering::SeqCst) {
        return Err(Stopped::Cancelled);
    }
    registry
        .open()
        .register(trained.artifact, now_micros())
        .map_err(|e| internal("cannot register the model", &error_chain(&e)))
}
