//! The page side of the worker protocol, the worker's client: run one task in a fresh worker,
//! follow its progress, cancel it by terminating the worker.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, ErrorEvent, MessageEvent, Worker};

use super::protocol::{Task, WorkerEvent, WORKER_SCRIPT};
use crate::js_error::js_error;

/// How a task ended.
// One per task, moved once: boxing the report would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Outcome {
    /// The worker's answer (never `Progress`) and the bytes that came with it.
    Done(WorkerEvent, Option<Vec<u8>>),
    /// [`Canceller::cancel`] stopped it.
    Cancelled,
}

/// Stops a running task at once: its worker is terminated mid-computation.
#[derive(Debug, Clone)]
pub struct Canceller {
    worker: Worker,
    settle: Rc<RefCell<Option<Function>>>,
}

impl Canceller {
    pub fn cancel(&self) {
        self.worker.terminate();
        if let Some(resolve) = self.settle.borrow_mut().take() {
            let _ = resolve.call1(&JsValue::NULL, &JsValue::from_str("cancelled"));
        }
    }
}

/// A worker started ahead of the next task, and whether it has said it is ready.
struct Spare {
    worker: Worker,
    ready: Rc<Cell<bool>>,
    /// The worker failed to start (a task then starts a new one, and sees why).
    broken: Rc<Cell<bool>>,
    /// Listen until a task takes the worker over.
    _on_ready: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(ErrorEvent)>,
}

thread_local! {
    static SPARE: RefCell<Option<Spare>> = const { RefCell::new(None) };
}

fn new_worker() -> Result<Worker, String> {
    Worker::new_with_options(WORKER_SCRIPT, &web_sys::WorkerOptions::new())
        .map_err(|e| format!("cannot start a worker: {}", js_error(&e)))
}

/// Starts a worker for the next task unless one is waiting, so a task does not wait for the
/// worker's wasm to load (a few hundred milliseconds).
pub fn prepare_spare() {
    SPARE.with(|spare| {
        if spare.borrow().is_some() {
            return;
        }
        let Ok(worker) = new_worker() else { return };
        let ready = Rc::new(Cell::new(false));
        let on_ready = {
            let ready = ready.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |_: MessageEvent| ready.set(true))
        };
        let broken = Rc::new(Cell::new(false));
        let on_error = {
            let broken = broken.clone();
            Closure::<dyn FnMut(ErrorEvent)>::new(move |_: ErrorEvent| broken.set(true))
        };
        worker.set_onmessage(Some(on_ready.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        *spare.borrow_mut() = Some(Spare {
            worker,
            ready,
            broken,
            _on_ready: on_ready,
            _on_error: on_error,
        });
    });
}

/// Runs `task` on `blob` in a fresh worker (the spare one when it is there). `on_progress(stage, fraction)` follows it;
/// `on_start` receives the means to cancel it.
pub async fn run(
    task: &Task,
    blob: &Blob,
    on_progress: impl Fn(&str, f64) + 'static,
    on_start: impl FnOnce(Canceller),
) -> Outcome {
    run_with(task, blob, None, on_progress, on_start).await
}

/// [`run`] with a second blob, `model` (a detection's `model.json`), sent along.
pub async fn run_with(
    task: &Task,
    blob: &Blob,
    model: Option<&Blob>,
    on_progress: impl Fn(&str, f64) + 'static,
    on_start: impl FnOnce(Canceller),
) -> Outcome {
    let model = model.cloned();
    let failed = |message: String| Outcome::Done(WorkerEvent::Failed { message }, None);
    let spare = SPARE
        .with(|spare| spare.borrow_mut().take())
        .filter(|spare| {
            if spare.broken.get() {
                spare.worker.terminate();
            }
            !spare.broken.get()
        });
    let (worker, ready) = match spare {
        Some(spare) => {
            spare.worker.set_onmessage(None);
            spare.worker.set_onerror(None);
            (spare.worker.clone(), spare.ready.get())
        }
        None => match new_worker() {
            Ok(w) => (w, false),
            Err(e) => return failed(e),
        },
    };
    // The next task starts on a worker whose wasm is already loaded.
    prepare_spare();
    let settle: Rc<RefCell<Option<Function>>> = Rc::default();
    let promise = {
        let settle = settle.clone();
        Promise::new(&mut move |resolve, _reject| {
            *settle.borrow_mut() = Some(resolve);
        })
    };
    let finish = {
        let settle = settle.clone();
        move |value: &JsValue| {
            if let Some(resolve) = settle.borrow_mut().take() {
                let _ = resolve.call1(&JsValue::NULL, value);
            }
        }
    };
    let task_json = serde_json::to_string(task).unwrap_or_default();
    let send = {
        let finish = finish.clone();
        let worker = worker.clone();
        let blob = blob.clone();
        move || {
            let message = Object::new();
            let _ = Reflect::set(&message, &"task".into(), &task_json.clone().into());
            let _ = Reflect::set(&message, &"blob".into(), &blob);
            if let Some(model) = &model {
                let _ = Reflect::set(&message, &"model".into(), model);
            }
            if let Err(e) = worker.post_message(&message) {
                finish(&failed_answer(format!(
                    "cannot send the file to the worker: {}",
                    js_error(&e)
                )));
            }
        }
    };
    if ready {
        send();
    }
    let on_message = {
        let finish = finish.clone();
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let data = event.data();
            let parsed = Reflect::get(&data, &"event".into())
                .ok()
                .and_then(|e| e.as_string())
                .and_then(|json| serde_json::from_str::<WorkerEvent>(&json).ok());
            match parsed {
                Some(WorkerEvent::Ready) => send(),
                Some(WorkerEvent::Progress { stage, fraction }) => on_progress(&stage, fraction),
                _ => finish(&data),
            }
        })
    };
    let on_error = {
        let finish = finish.clone();
        Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
            event.prevent_default();
            let answer = failed_answer(format!("the worker stopped: {}", event.message()));
            finish(&answer);
        })
    };
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));

    on_start(Canceller {
        worker: worker.clone(),
        settle,
    });
    let answer = JsFuture::from(promise).await.unwrap_or(JsValue::NULL);
    worker.terminate();
    drop((on_message, on_error));
    if answer.as_string().as_deref() == Some("cancelled") {
        return Outcome::Cancelled;
    }
    let event = Reflect::get(&answer, &"event".into())
        .ok()
        .and_then(|e| e.as_string())
        .and_then(|json| serde_json::from_str::<WorkerEvent>(&json).ok());
    let bytes = Reflect::get(&answer, &"bytes".into())
        .ok()
        .and_then(|b| b.dyn_into::<Uint8Array>().ok())
        .map(|b| b.to_vec());
    match event {
        Some(event) => Outcome::Done(event, bytes),
        None => failed("the worker sent an unreadable answer".to_owned()),
    }
}

/// A worker-style answer saying the task failed.
fn failed_answer(message: String) -> JsValue {
    let answer = Object::new();
    let json = serde_json::to_string(&WorkerEvent::Failed { message }).unwrap_or_default();
    let _ = Reflect::set(&answer, &"event".into(), &json.into());
    answer.into()
}
