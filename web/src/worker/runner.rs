//! The worker side, the code the `worker` binary runs: reads the blob it is given, runs one task
//! on the core, posts progress and the result. A worker runs one task and is then terminated by
//! the page, which frees its memory (a wasm memory never shrinks) and makes cancelling immediate.

use js_sys::{Array, Object, Reflect, Uint8Array};
use mcp_train_core::export::{parse_export, ValidateOptions};
use mcp_train_core::package;
use mcp_train_core::pipeline::{self, Hooks, Progress, TrainError, TrainInput};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, DedicatedWorkerGlobalScope, FileReaderSync, MessageEvent};

use super::protocol::{Task, WorkerEvent};
use crate::clock::Stopwatch;
use crate::js_error::js_error;

/// Bytes read from the blob at a time: big enough to be quick, small enough that the JS copy of
/// a chunk is never a second copy of the file.
const READ_CHUNK: f64 = 8.0 * 1024.0 * 1024.0;
/// The share of a training's progress bar that reading the file takes.
const READ_SHARE: f64 = 0.1;

/// Installs the message handler and says it is ready; called by the `worker` binary's `main`.
pub fn start() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(|event: MessageEvent| {
        let (event, bytes) = match handle(&event.data()) {
            Ok(done) => done,
            Err(message) => (WorkerEvent::Failed { message }, None),
        };
        post(&event, bytes);
    });
    scope.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    handler.forget();
    post(&WorkerEvent::Ready, None);
}

fn handle(data: &JsValue) -> Result<(WorkerEvent, Option<Vec<u8>>), String> {
    let task = Reflect::get(data, &"task".into())
        .ok()
        .and_then(|t| t.as_string())
        .ok_or("the page sent a message without a task")?;
    let task: Task = serde_json::from_str(&task).map_err(|e| format!("unreadable task: {e}"))?;
    let blob: Blob = Reflect::get(data, &"blob".into())
        .ok()
        .and_then(|b| b.dyn_into().ok())
        .ok_or("the page sent a task without a file")?;
    // A detection's model comes in a second blob.
    let model: Option<Blob> = Reflect::get(data, &"model".into())
        .ok()
        .and_then(|b| b.dyn_into().ok());
    if matches!(
        task,
        Task::Validate { .. } | Task::Train { .. } | Task::Detect { .. }
    ) {
        let limit_mb = mcp_train_core::config::Config::defaults()
            .training
            .limits
            .max_export_mb;
        let size_mib = blob.size() / (1024.0 * 1024.0);
        if size_mib > limit_mb as f64 {
            return Err(format!(
                "the file is {size_mib:.1} MiB, more than the limit of {limit_mb} MiB (limits.max_export_mb in training_config.yaml); train it with the mcp-train CLI"
            ));
        }
    }
    let read_share = match task {
        Task::Train { .. } => READ_SHARE,
        _ => 0.5,
    };
    let bytes = read_blob(&blob, |done| progress("read", done * read_share))?;
    Ok(match task {
        Task::Validate { drop_invalid } => {
            progress("validate", read_share);
            let options = ValidateOptions {
                drop_invalid,
                ..mcp_train_core::config::Config::defaults()
                    .training
                    .validation
            };
            match parse_export(&bytes, &options) {
                Ok(parsed) => (
                    WorkerEvent::Validated {
                        report: parsed.report,
                    },
                    None,
                ),
                Err(e) => (
                    WorkerEvent::Failed {
                        message: e.to_string(),
                    },
                    None,
                ),
            }
        }
        Task::Train {
            params,
            file_name,
            now_micros,
            frozen,
        } => {
            let options = params.to_options(now_micros);
            let stopwatch = Stopwatch::start(frozen);
            let clock = move || stopwatch.elapsed_ms();
            let mut report_progress = |p: &Progress| {
                progress(
                    p.stage.as_str(),
                    READ_SHARE + (1.0 - READ_SHARE) * p.fraction,
                );
                true
            };
            let trained = pipeline::train(
                TrainInput::Export {
                    bytes: &bytes,
                    file_name: &file_name,
                    log_type: None,
                },
                &options,
                Hooks {
                    progress: &mut report_progress,
                    elapsed_ms: &clock,
                },
            );
            drop(bytes);
            match trained {
                Ok(trained) => (
                    WorkerEvent::Trained {
                        version: trained.artifact.version.clone(),
                        report: trained.report,
                    },
                    Some(trained.artifact.to_json()),
                ),
                Err(TrainError::Cancelled) => (
                    WorkerEvent::Failed {
                        message: "cancelled".to_owned(),
                    },
                    None,
                ),
                Err(e) => (
                    WorkerEvent::Failed {
                        message: e.to_string(),
                    },
                    None,
                ),
            }
        }
        Task::Package { deployed_micros } => {
            progress("package", 0.5);
            match package::build(&bytes, deployed_micros) {
                Ok(built) => (
                    WorkerEvent::Packaged {
                        file_name: built.file_name,
                    },
                    Some(built.bytes),
                ),
                Err(e) => (
                    WorkerEvent::Failed {
                        message: format!("cannot build the package: {e}"),
                    },
                    None,
                ),
            }
        }
        Task::Detect {
            log_type,
            default_year,
        } => {
            let model = model.ok_or("the page sent a detection without a model")?;
            let model = read_blob(&model, |_| {})?;
            progress("detect", 0.5);
            match crate::detect::detect(&model, &bytes, log_type.as_deref(), default_year) {
                Ok(detection) => (WorkerEvent::Detected { detection }, None),
                Err(message) => (WorkerEvent::Failed { message }, None),
            }
        }
        Task::Verify => {
            progress("verify", 0.5);
            match package::verify(&bytes) {
                Ok(verification) => (WorkerEvent::Verified { verification }, None),
                Err(e) => (
                    WorkerEvent::Failed {
                        message: format!("not a deployment package: {e}"),
                    },
                    None,
                ),
            }
        }
    })
}

/// Reads a blob into one `Vec`, chunk by chunk, so the file is in memory once (in the wasm heap)
/// and never also whole on the JS side.
fn read_blob(blob: &Blob, mut progress: impl FnMut(f64)) -> Result<Vec<u8>, String> {
    let size = blob.size();
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(size as usize).map_err(|_| {
        format!(
            "the file ({}) does not fit in this tab's memory; train it with the mcp-train CLI",
            mcp_train_core::display::bytes(size)
        )
    })?;
    let reader =
        FileReaderSync::new().map_err(|e| format!("cannot read files here: {}", js_error(&e)))?;
    let mut start = 0.0;
    while start < size {
        let end = (start + READ_CHUNK).min(size);
        let chunk = blob
            .slice_with_f64_and_f64(start, end)
            .and_then(|slice| reader.read_as_array_buffer(&slice))
            .map_err(|e| format!("cannot read the file: {}", js_error(&e)))?;
        let chunk = Uint8Array::new(&chunk);
        let at = bytes.len();
        bytes.resize(at + chunk.length() as usize, 0);
        chunk.copy_to(&mut bytes[at..]);
        start = end;
        progress(start / size);
    }
    Ok(bytes)
}

fn progress(stage: &str, fraction: f64) {
    post(
        &WorkerEvent::Progress {
            stage: stage.to_owned(),
            fraction,
        },
        None,
    );
}

fn post(event: &WorkerEvent, bytes: Option<Vec<u8>>) {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let message = Object::new();
    let json = serde_json::to_string(event).unwrap_or_else(|e| {
        format!(r#"{{"event":"failed","message":"cannot encode the worker's answer: {e}"}}"#)
    });
    let _ = Reflect::set(&message, &"event".into(), &json.into());
    let posted = match bytes {
        Some(bytes) => {
            let array = Uint8Array::from(bytes.as_slice());
            drop(bytes);
            let _ = Reflect::set(&message, &"bytes".into(), &array);
            scope.post_message_with_transfer(&message, &Array::of1(&array.buffer()))
        }
        None => scope.post_message(&message),
    };
    if let Err(e) = posted {
        web_sys::console::error_1(&e);
    }
}
