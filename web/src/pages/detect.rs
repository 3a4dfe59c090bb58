//! Detect: a raw log or an export and a model from this browser's registry; the anomalies the
//! model finds (time, score, reason), filterable, downloadable as NDJSON or CSV. The file is read
//! and scored in a worker of this tab; nothing is uploaded.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use mcp_train_core::agent::AGENTS;
use mcp_train_core::registry::{ModelRecord, ModelStatus};
use serde::Deserialize;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::File;

use crate::components::{FileDrop, ProgressBar};
use crate::detect::{self, Detection};
use crate::state::{AppState, Connection};
use crate::worker::client::{self, Canceller, Outcome};
use crate::worker::protocol::{Task, WorkerEvent};
use crate::{clock, download, format};

/// Bytes of a file read on the page to guess its log type.
const HEAD_BYTES: f64 = 64.0 * 1024.0;
/// Anomaly rows shown at most (the downloads hold every filtered one).
const ROWS_SHOWN: usize = 500;
/// Message characters shown in the table.
const MESSAGE_CHARS: usize = 120;
/// Anomalies sent to the server in one request (the server bounds a request's count).
const SAVE_BATCH: usize = 500;
/// Who the server records as having stored the anomalies saved from this page.
const SAVED_BY: &str = "web detect";

/// The one field of a `model.json` this page needs without reading the whole model.
#[derive(Deserialize)]
struct ModelHead {
    #[serde(default = "wifi")]
    log_type: String,
}

fn wifi() -> String {
    crate::detect::WIFI.to_owned()
}

#[derive(Debug, Clone, PartialEq)]
enum Run {
    Idle,
    Running { stage: String, fraction: f64 },
    Done(Arc<Detection>),
    Error(String),
}

#[component]
pub fn DetectPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let file = RwSignal::new_local(None::<File>);
    // The log type the file looks like, and the one chosen (None: the detected one).
    let detected = RwSignal::new(None::<String>);
    let chosen_type = RwSignal::new(None::<String>);
    let chosen_model = RwSignal::new(None::<String>);
    let run = RwSignal::new(Run::Idle);
    let running = StoredValue::new_local(None::<Canceller>);
    let text_filter = RwSignal::new(String::new());
    let min_strength = RwSignal::new(None::<f64>);
    let strength_error = RwSignal::new(None::<String>);

    // Every model with its log type, deployed first, then newest first.
    let models = Memo::new(move |_| {
        let mut typed: Vec<(ModelRecord, String)> = state.models.with(|models| {
            models
                .iter()
                .map(|m| {
                    let log_type = state
                        .model(&m.version)
                        .ok()
                        .and_then(|s| serde_json::from_slice::<ModelHead>(&s.bytes).ok())
                        .map_or_else(wifi, |h| h.log_type);
                    (m.clone(), log_type)
                })
                .collect()
        });
        typed.sort_by(|a, b| {
            let deployed = |m: &ModelRecord| m.status == ModelStatus::Deployed;
            deployed(&b.0)
                .cmp(&deployed(&a.0))
                .then_with(|| b.0.created_at.cmp(&a.0.created_at))
                .then_with(|| b.0.version.cmp(&a.0.version))
        });
        typed
    });
    let log_type = Memo::new(move |_| {
        chosen_type
            .get()
            .or_else(|| detected.get())
            .or_else(|| models.with(|m| m.first().map(|(_, t)| t.clone())))
            .unwrap_or_else(wifi)
    });
    let candidates = Memo::new(move |_| {
        let log_type = log_type.get();
        models.with(|m| {
            m.iter()
                .filter(|(_, t)| *t == log_type)
                .map(|(r, _)| r.clone())
                .collect::<Vec<_>>()
        })
    });
    let model = Memo::new(move |_| {
        let candidates = candidates.get();
        chosen_model
            .get()
            .filter(|v| candidates.iter().any(|m| &m.version == v))
            .or_else(|| candidates.first().map(|m| m.version.clone()))
    });

    let on_file = Callback::new(move |chosen: File| {
        if let Some(previous) = running.get_value() {
            previous.cancel();
        }
        file.set(Some(chosen.clone()));
        run.set(Run::Idle);
        detected.set(None);
        chosen_type.set(None);
        spawn_local(async move {
            let year = clock::current_year();
            if let Some(head) = read_head(&chosen).await {
                detected.set(detect::guess_log_type(&head, year).map(str::to_owned));
            }
        });
    });

    let start = move |_| {
        let (Some(input), Some(version)) = (file.get_untracked(), model.get_untracked()) else {
            return;
        };
        let stored = match state.model(&version) {
            Ok(stored) => stored,
            Err(e) => {
                run.set(Run::Error(e.to_string()));
                return;
            }
        };
        let blob = match download::blob(&stored.bytes) {
            Ok(blob) => blob,
            Err(e) => {
                run.set(Run::Error(format!(
                    "cannot hand the model to a worker: {e}"
                )));
                return;
            }
        };
        drop(stored);
        let task = Task::Detect {
            log_type: Some(log_type.get_untracked()),
            default_year: clock::current_year(),
        };
        run.set(Run::Running {
            stage: "read".to_owned(),
            fraction: 0.0,
        });
        spawn_local(async move {
            let outcome = client::run_with(
                &task,
                &input,
                Some(&blob),
                move |stage, fraction| {
                    run.set(Run::Running {
                        stage: stage.to_owned(),
                        fraction,
                    })
                },
                move |canceller| running.set_value(Some(canceller)),
            )
            .await;
            running.set_value(None);
            match outcome {
                Outcome::Done(WorkerEvent::Detected { detection }, _) => {
                    run.set(Run::Done(Arc::new(detection)))
                }
                Outcome::Done(WorkerEvent::Failed { message }, _) => run.set(Run::Error(message)),
                Outcome::Done(other, _) => {
                    run.set(Run::Error(format!("unexpected answer: {other:?}")))
                }
                Outcome::Cancelled => {}
            }
        });
    };
    let busy = move || run.with(|r| matches!(r, Run::Running { .. }));

    view! {
        <section data-testid="detect-page">
            <h1>"Detect"</h1>
            <p class="lede">
                "Choose a raw log or an export and a model from this browser's registry. The file is read and scored in a background worker of this tab; nothing is uploaded."
            </p>
            <div class="grid-2">
                <div class="card">
                    <h2>"1 · Log"</h2>
                    <FileDrop
                        label="a raw log (syslog lines) or an export"
                        accept=".log,.txt,.json,.ndjson,.jsonl,text/plain,application/json"
                        input_testid="detect-input"
                        zone_testid="detect-dropzone"
                        on_file=on_file
                    />
                    {move || {
                        file.get()
                            .map(|f| {
                                view! {
                                    <p class="muted">
                                        <strong>{f.name()}</strong>
                                        {format!(" · {}", format::bytes(f.size()))}
                                    </p>
                                }
                            })
                    }}
                    <LogTypeSelect detected=detected chosen=chosen_type value=log_type />
                </div>
                <div class="card">
                    <h2>"2 · Model"</h2>
                    <Show
                        when=move || candidates.with(|c| !c.is_empty())
                        fallback=move || {
                            view! {
                                <p class="muted" data-testid="detect-no-model">
                                    {move || format!("No {} model in this browser: train one on the Training page (or import one on Models).", log_type.get())}
                                </p>
                            }
                        }
                    >
                        <label>
                            "Model"
                            <select
                                name="model"
                                on:change=move |ev| chosen_model.set(Some(event_target_value(&ev)))
                            >
                                <For
                                    each=move || candidates.get()
                                    key=|m| m.version.clone()
                                    children=move |m: ModelRecord| {
                                        let version = m.version.clone();
                                        let selected = {
                                            let version = version.clone();
                                            move || model.get().as_deref() == Some(version.as_str())
                                        };
                                        view! {
                                            <option value=version.clone() selected=selected>
                                                {format!("{} · {} · {}", m.version, m.detector, m.status.as_str())}
                                            </option>
                                        }
                                    }
                                />
                            </select>
                        </label>
                    </Show>
                    <button
                        class="primary"
                        data-testid="run-detect"
                        disabled=move || file.with(Option::is_none) || model.with(Option::is_none) || busy()
                        on:click=start
                    >
                        "Detect"
                    </button>
                </div>
            </div>
            {move || match run.get() {
                Run::Idle => ().into_any(),
                Run::Running { stage, fraction } => {
                    let label = if stage == "read" { "Reading" } else { "Detecting" };
                    view! {
                        <div class="card" data-testid="detect-progress">
                            <ProgressBar fraction=fraction label=label.to_owned() />
                        </div>
                    }
                        .into_any()
                }
                Run::Error(message) => {
                    view! {
                        <div class="error-box" role="alert" data-testid="detect-error">
                            <strong>"Detection failed: "</strong>
                            {message}
                        </div>
                    }
                        .into_any()
                }
                Run::Done(detection) => {
                    view! {
                        <Results
                            detection=detection
                            text_filter=text_filter
                            min_strength=min_strength
                            strength_error=strength_error
                        />
                    }
                        .into_any()
                }
            }}
        </section>
    }
}

/// The log type select: every registered agent, the detected one marked.
#[component]
fn LogTypeSelect(
    detected: RwSignal<Option<String>>,
    chosen: RwSignal<Option<String>>,
    value: Memo<String>,
) -> impl IntoView {
    view! {
        <label>
            "Log type"
            <select name="log_type" on:change=move |ev| chosen.set(Some(event_target_value(&ev)))>
                {AGENTS
                    .iter()
                    .map(|a| {
                        let t = a.info().log_type;
                        view! {
                            <option value=t selected=move || value.get() == t>
                                {t}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </label>
        <p class="muted" data-testid="detected-log-type" data-log-type=move || detected.get().unwrap_or_default()>
            {move || match detected.get() {
                Some(t) => format!("Detected from the file: {t}"),
                None => "Log type: not detected from the file (choose one)".to_owned(),
            }}
        </p>
    }
}

#[component]
fn Results(
    detection: Arc<Detection>,
    text_filter: RwSignal<String>,
    min_strength: RwSignal<Option<f64>>,
    strength_error: RwSignal<Option<String>>,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let d = detection.clone();
    let shown = {
        let d = detection.clone();
        Memo::new(move |_| {
            let text = text_filter.get();
            let min = min_strength.get();
            d.anomalies
                .iter()
                .enumerate()
                .filter(|(_, a)| detect::matches(a, &text, min))
                .map(|(i, _)| i)
                .collect::<Vec<usize>>()
        })
    };
    let save = {
        let d = detection.clone();
        move |csv: bool| {
            let rows = shown.get_untracked();
            let anomalies = rows.iter().map(|&i| &d.anomalies[i]);
            let (name, mime, bytes) = if csv {
                (
                    format!("anomalies_{}.csv", d.model_version),
                    "text/csv",
                    detect::to_csv(anomalies).into_bytes(),
                )
            } else {
                (
                    format!("anomalies_{}.ndjson", d.model_version),
                    "application/x-ndjson",
                    detect::to_ndjson(anomalies),
                )
            };
            if let Err(e) = download::save(&name, mime, &bytes) {
                state.notify(e, true);
            }
        }
    };
    let save_csv = save.clone();
    let kind = match d.kind {
        detect::InputKind::Lines => "lines",
        detect::InputKind::Export => "records",
    };
    let mismatch = d.looks_like.clone().filter(|t| *t != d.log_type).map(|t| {
        view! {
            <p class="warn" data-testid="detect-type-mismatch">
                {format!("The file looks like {t} logs, the model reads {} logs.", d.log_type)}
            </p>
        }
    });
    let bad_lines = d.bad_lines.clone();
    let bad_count = d.bad;
    let rows_detection = detection.clone();
    // Saving the filtered anomalies to the connected server's store.
    let saving = RwSignal::new(false);
    let saved = RwSignal::new(None::<Result<u64, String>>);
    let save_to_server = {
        let d = detection.clone();
        move |_| {
            let server = match state.connected() {
                Ok(server) => server,
                Err(e) => return saved.set(Some(Err(e))),
            };
            let d = d.clone();
            let rows = shown.get_untracked();
            saving.set(true);
            saved.set(None);
            spawn_local(async move {
                let mut stored = 0u64;
                let mut outcome = Ok(());
                for batch in rows.chunks(SAVE_BATCH) {
                    let anomalies: Vec<&mcp_train_core::agent::Anomaly> =
                        batch.iter().map(|&i| &d.anomalies[i]).collect();
                    match server.save_anomalies(&anomalies, SAVED_BY).await {
                        Ok(answer) => stored += answer.stored,
                        Err(e) => {
                            outcome = Err(e);
                            break;
                        }
                    }
                }
                saving.set(false);
                saved.set(Some(match outcome {
                    Ok(()) => Ok(stored),
                    Err(e) if stored > 0 => Err(format!(
                        "{stored} anomalies were stored, then the server refused the rest: {e}"
                    )),
                    Err(e) => Err(format!("Nothing was stored: {e}")),
                }));
            });
        }
    };
    let with_server = move || state.server.with(|s| s.connection != Connection::Off);
    view! {
        <div class="card">
            <h2>"Anomalies"</h2>
            <table
                class="kv"
                data-testid="detect-summary"
                data-lines=d.lines.to_string()
                data-parsed=d.parsed.to_string()
                data-bad=d.bad.to_string()
                data-anomalies=d.anomalies.len().to_string()
                data-model=d.model_version.clone()
            >
                <tbody>
                    <tr><th>{format!("{} read", if kind == "lines" { "Lines" } else { "Records" })}</th><td>{format::count(d.lines as usize)}</td></tr>
                    <tr><th>"Parsed"</th><td>{format::count(d.parsed as usize)}</td></tr>
                    <tr><th>"Bad"</th><td>{format::count(d.bad as usize)}</td></tr>
                    <tr><th>"Anomalies"</th><td>{format::count(d.anomalies.len())}</td></tr>
                    <tr><th>"Model"</th><td><code>{d.model_version.clone()}</code>{format!(" · {} logs", d.log_type)}</td></tr>
                </tbody>
            </table>
            {mismatch}
            <Show when=move || bad_count != 0>
                <details class="issues" data-testid="detect-bad-lines">
                    <summary>{format!("{} bad {kind}", format::count(bad_count as usize))}</summary>
                    <ul>
                        {bad_lines
                            .iter()
                            .map(|b| {
                                view! {
                                    <li data-testid="bad-line">
                                        <code>{format!("{}:{}", b.line, b.column)}</code>
                                        " "
                                        {b.message.clone()}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </details>
            </Show>
            <div class="form filters">
                <label>
                    "Filter"
                    <input
                        type="search"
                        name="detect-filter"
                        placeholder="text in time, host, process, message or reason"
                        prop:value=move || text_filter.get()
                        on:input=move |ev| text_filter.set(event_target_value(&ev))
                    />
                </label>
                <label>
                    "Minimum strength (−decision)"
                    <input
                        type="text"
                        inputmode="decimal"
                        name="min-strength"
                        placeholder="e.g. 0.05"
                        on:change=move |ev| {
                            let text = event_target_value(&ev);
                            let text = text.trim();
                            if text.is_empty() {
                                min_strength.set(None);
                                strength_error.set(None);
                            } else {
                                match text.parse::<f64>() {
                                    Ok(v) if v.is_finite() => {
                                        min_strength.set(Some(v));
                                        strength_error.set(None);
                                    }
                                    _ => strength_error.set(Some(format!("not a number: {text}"))),
                                }
                            }
                        }
                    />
                    <Show when=move || strength_error.with(Option::is_some)>
                        <span class="field-error" role="alert">{move || strength_error.get().unwrap_or_default()}</span>
                    </Show>
                </label>
            </div>
            <p class="muted" data-testid="anomalies-shown" data-count=move || shown.with(Vec::len).to_string()>
                {move || {
                    let n = shown.with(Vec::len);
                    if n > ROWS_SHOWN {
                        format!("{} anomalies match; the first {ROWS_SHOWN} are shown (the downloads hold all {}).", format::count(n), format::count(n))
                    } else {
                        format!("{} anomalies match.", format::count(n))
                    }
                }}
            </p>
            <div class="actions">
                <button data-testid="download-ndjson" on:click=move |_| save(false)>"Download NDJSON"</button>
                <button data-testid="download-csv" on:click=move |_| save_csv(true)>"Download CSV"</button>
                <Show when=with_server>
                    <button
                        data-testid="save-to-server"
                        title="Store the anomalies that match the filters in the server's anomaly store"
                        disabled=move || saving.get() || shown.with(Vec::is_empty) || !state.server.with(|s| s.is_connected())
                        on:click=save_to_server.clone()
                    >
                        {move || if saving.get() { "Saving…" } else { "Save to server" }}
                    </button>
                </Show>
            </div>
            {move || saved.get().map(|outcome| match outcome {
                Ok(n) => view! {
                    <p class="ok-text" data-testid="saved-to-server" data-stored=n.to_string()>
                        {format!("{} anomalies stored on the server. ", format::count(usize::try_from(n).unwrap_or(usize::MAX)))}
                        <a href="#/anomalies" data-testid="saved-link">"Review them on the Anomalies page"</a>
                        "."
                    </p>
                }.into_any(),
                Err(e) => view! {
                    <div class="error-box" role="alert" data-testid="save-to-server-error">{e}</div>
                }.into_any(),
            })}
            <table class="table" data-testid="anomalies">
                <thead>
                    <tr>
                        <th scope="col">"Time"</th>
                        <th scope="col">"Score"</th>
                        <th scope="col">"Decision"</th>
                        <th scope="col">"Host / process"</th>
                        <th scope="col">"Message"</th>
                        <th scope="col">"Reason"</th>
                    </tr>
                </thead>
                <tbody>
                    {move || {
                        let d = rows_detection.clone();
                        shown
                            .get()
                            .into_iter()
                            .take(ROWS_SHOWN)
                            .map(|i| {
                                let a = &d.anomalies[i];
                                let e = &a.entry;
                                let message: String = e.message.chars().take(MESSAGE_CHARS).collect();
                                let cut = e.message.chars().count() > MESSAGE_CHARS;
                                let reason = a
                                    .contributions
                                    .iter()
                                    .map(|c| c.feature.clone())
                                    .collect::<Vec<_>>()
                                    .join(", ");
                                view! {
                                    <tr
                                        data-testid="anomaly-row"
                                        data-index=e.index.to_string()
                                        data-score=a.inference.score.to_string()
                                    >
                                        <td>{format::iso_time(&e.timestamp)}</td>
                                        <td>{format!("{:.4}", a.inference.score)}</td>
                                        <td>{format!("{:.4}", a.inference.decision)}</td>
                                        <td>{format!("{} / {}", e.host.as_deref().unwrap_or("–"), e.process)}</td>
                                        <td title=e.message.clone()>{message}{cut.then_some("…")}</td>
                                        <td data-testid="anomaly-reason">{reason}</td>
                                    </tr>
                                }
                            })
                            .collect_view()
                    }}
                </tbody>
            </table>
        </div>
    }
}

/// The first [`HEAD_BYTES`] of `file`.
async fn read_head(file: &File) -> Option<Vec<u8>> {
    let slice = file
        .slice_with_f64_and_f64(0.0, HEAD_BYTES.min(file.size()))
        .ok()?;
    let buffer = JsFuture::from(slice.array_buffer()).await.ok()?;
    let buffer: js_sys::ArrayBuffer = buffer.dyn_into().ok()?;
    Some(js_sys::Uint8Array::new(&buffer).to_vec())
}
