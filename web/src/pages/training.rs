//! Training: choose an export, read its validation report, set parameters, start; follow jobs.

use leptos::prelude::*;
use leptos::task::spawn_local;
use mcp_train_core::config::{Config, DetectorKind};
use mcp_train_core::export::{IssueGroup, ValidationReport};
use web_sys::File;

use crate::components::{FileDrop, ProgressBar, StatusBadge};
use crate::format;
use crate::state::{AppState, Connection, Job, JobStatus};
use crate::worker::client::{self, Canceller, Outcome};
use crate::worker::protocol::{Task, TrainParams, WorkerEvent};
use mcp_train_core::pipeline::{ParamError, TrainChoices};

/// Where the chosen file is.
#[derive(Debug, Clone)]
enum Check {
    Idle,
    Reading { stage: String, fraction: f64 },
    Report(Box<ValidationReport>),
    Error(String),
}

#[component]
pub fn Training() -> impl IntoView {
    let state = expect_context::<AppState>();
    let file = RwSignal::new_local(None::<File>);
    let check = RwSignal::new(Check::Idle);
    // The log type chosen for the export (None: the one its processes point at).
    let chosen_type = RwSignal::new(None::<String>);
    let detected_type = Memo::new(move |_| {
        check.with(|c| match c {
            Check::Report(r) => crate::detect::log_type_of_processes(
                r.summary
                    .processes
                    .iter()
                    .map(|p| (p.name.as_str(), p.count)),
            )
            .map(str::to_owned),
            _ => None,
        })
    });
    let log_type = Memo::new(move |_| {
        chosen_type
            .get()
            .or_else(|| detected_type.get())
            .unwrap_or_else(|| crate::detect::WIFI.to_owned())
    });
    let validation = StoredValue::new_local(None::<Canceller>);
    // What the person chose in the form; the rest comes from the configuration: the built-in
    // one when training here, the server's when training there.
    let choices = RwSignal::new(TrainChoices::default());
    let params = resolved(choices);

    let validate = move |chosen: File, drop_invalid: bool| {
        if let Some(previous) = validation.get_value() {
            previous.cancel();
        }
        file.set(Some(chosen.clone()));
        chosen_type.set(None);
        check.set(Check::Reading {
            stage: "read".to_owned(),
            fraction: 0.0,
        });
        spawn_local(async move {
            let outcome = client::run(
                &Task::Validate { drop_invalid },
                &chosen,
                move |stage, fraction| {
                    check.set(Check::Reading {
                        stage: stage.to_owned(),
                        fraction,
                    })
                },
                move |canceller| validation.set_value(Some(canceller)),
            )
            .await;
            match outcome {
                Outcome::Done(WorkerEvent::Validated { report }, _) => {
                    check.set(Check::Report(Box::new(report)))
                }
                Outcome::Done(WorkerEvent::Failed { message }, _) => {
                    check.set(Check::Error(message))
                }
                Outcome::Done(other, _) => {
                    check.set(Check::Error(format!("unexpected answer: {other:?}")))
                }
                // A newer file replaced this one; its own run reports.
                Outcome::Cancelled => {}
            }
        });
    };
    let on_file = Callback::new(move |chosen: File| {
        validate(chosen, params.with_untracked(|p| p.drop_invalid));
    });
    let usable = move || check.with(|c| matches!(c, Check::Report(r) if r.valid));
    let start = move |_| {
        if let Some(chosen) = file.get_untracked() {
            state.start_job(chosen, params.get_untracked());
            state.notify("Training queued: follow it in the jobs list below.", false);
        }
    };
    let connected = move || state.server.with(|s| s.is_connected());
    let uploading = RwSignal::new(false);
    let start_on_server = move |_| {
        let Some(chosen) = file.get_untracked() else {
            return;
        };
        uploading.set(true);
        state.notify(format!("Uploading {} to the server…", chosen.name()), false);
        spawn_local(async move {
            let started = state
                .start_server_job(chosen, choices.get_untracked())
                .await;
            uploading.set(false);
            match started {
                Ok(()) => state.notify(
                    "Training on the server: follow it in the jobs list below.",
                    false,
                ),
                Err(e) => state.notify(format!("Training on the server did not start: {e}"), true),
            }
        });
    };

    view! {
        <section data-testid="training-page">
            <h1>"Training"</h1>
            <p class="lede">
                "Choose an export of your access points' logs. It is read and validated in a background worker of this tab; nothing is uploaded unless you choose Train on server."
            </p>
            <div class="grid-2">
                <div class="card">
                    <h2>"1 · Export"</h2>
                    <FileDrop
                        label="an export (JSON, JSON array or NDJSON)"
                        accept=".json,.ndjson,.jsonl,application/json"
                        input_testid="export-input"
                        zone_testid="dropzone"
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
                    {move || match check.get() {
                        Check::Idle => ().into_any(),
                        Check::Reading { stage, fraction } => {
                            let label = if stage == "read" { "Reading" } else { "Validating" };
                            view! {
                                <div data-testid="validation-progress">
                                    <ProgressBar fraction=fraction label=label.to_owned() />
                                </div>
                            }
                                .into_any()
                        }
                        Check::Error(message) => {
                            view! {
                                <div class="error-box" role="alert" data-testid="file-error">
                                    <strong>"This file cannot be used: "</strong>
                                    {message}
                                </div>
                            }
                                .into_any()
                        }
                        Check::Report(report) => view! { <Report report=*report /> }.into_any(),
                    }}
                    <Show when=move || check.with(|c| matches!(c, Check::Report(_)))>
                        <TrainLogType detected=detected_type chosen=chosen_type value=log_type />
                    </Show>
                </div>
                <div class="card">
                    <h2>"2 · Parameters"</h2>
                    <ParamsForm choices=choices params=params />
                    <label class="check">
                        <input
                            type="checkbox"
                            name="drop_invalid"
                            prop:checked=move || params.with(|p| p.drop_invalid)
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                choices.update(|c| c.drop_invalid = Some(on));
                                if let Some(f) = file.get_untracked() {
                                    validate(f, on);
                                }
                            }
                        />
                        " Drop invalid records instead of refusing the export"
                    </label>
                    <button
                        class="primary"
                        data-testid="start-training"
                        disabled=move || !usable()
                        on:click=start
                    >
                        "Start training"
                    </button>
                    <Show when=move || state.server.with(|s| s.connection != Connection::Off)>
                        <button
                            class="train-on-server"
                            data-testid="train-on-server"
                            title="Upload the export and train on the server; the model is shared there"
                            disabled=move || !usable() || !connected() || uploading.get()
                            on:click=start_on_server
                        >
                            {move || if uploading.get() { "Uploading…" } else { "Train on server" }}
                        </button>
                    </Show>
                    <Show when=move || !usable()>
                        <p class="muted">"Choose a valid export to start."</p>
                    </Show>
                </div>
            </div>
            <JobsList />
        </section>
    }
}

/// The log type of the export: detected from its processes, and a select of the registered
/// agents to change it. Training in this build reads every export as wifi logs (the pipeline's
/// only log type here), which the page says when another one is chosen.
#[component]
fn TrainLogType(
    detected: Memo<Option<String>>,
    chosen: RwSignal<Option<String>>,
    value: Memo<String>,
) -> impl IntoView {
    let wifi = crate::detect::WIFI;
    view! {
        <label>
            "Log type"
            <select name="log_type" on:change=move |ev| chosen.set(Some(event_target_value(&ev)))>
                {mcp_train_core::agent::AGENTS
                    .iter()
                    .map(|a| {
                        let t = a.info().log_type;
                        view! { <option value=t selected=move || value.get() == t>{t}</option> }
                    })
                    .collect_view()}
            </select>
        </label>
        <p
            class="muted"
            data-testid="training-log-type"
            data-log-type=move || detected.get().unwrap_or_default()
        >
            {move || match detected.get() {
                Some(t) => format!("Detected from the export's processes: {t}"),
                None => "No process of a known log type: choose the log type".to_owned(),
            }}
        </p>
        <Show when=move || value.get() != wifi>
            <p class="warn">"Training in this browser reads exports as wifi logs; train other log types with the mcp-train CLI."</p>
        </Show>
    }
}

/// The validation report of the chosen export.
#[component]
fn Report(report: ValidationReport) -> impl IntoView {
    let s = &report.summary;
    let range = s
        .time_range
        .as_ref()
        .map(|r| {
            format!(
                "{} → {}",
                format::iso_time(&r.start),
                format::iso_time(&r.end)
            )
        })
        .unwrap_or_else(|| "n/a".to_owned());
    let verdict = if report.valid {
        format!("Ready to train: {} records", format::count(s.records))
    } else {
        format!(
            "Not usable: {} error{}",
            format::count(report.error_count()),
            if report.error_count() == 1 { "" } else { "s" }
        )
    };
    let dropped = report.dropped.as_ref().map(|d| {
        view! { <p class="warn">{format!("{} invalid records will be dropped.", format::count(d.count))}</p> }
    });
    let processes = s
        .processes
        .iter()
        .take(6)
        .map(|p| format!("{} {:.0}%", p.name, p.share * 100.0))
        .collect::<Vec<_>>()
        .join(" · ");
    let levels = s
        .levels
        .iter()
        .map(|p| format!("{} {}", p.name, format::count(p.count)))
        .collect::<Vec<_>>()
        .join(" · ");
    let errors = report.errors.clone();
    let warnings = report.warnings.clone();
    view! {
        <div
            class="report"
            data-testid="validation-report"
            data-valid=if report.valid { "true" } else { "false" }
        >
            <p class=if report.valid { "verdict ok" } else { "verdict bad" }>{verdict}</p>
            {dropped}
            <table class="kv">
                <tbody>
                    <tr><th>"Records read"</th><td>{format::count(report.records_seen)}</td></tr>
                    <tr><th>"Usable records"</th><td>{format::count(s.records)}</td></tr>
                    <tr><th>"Time range"</th><td>{range}</td></tr>
                    <tr><th>"WiFi share"</th><td>{format!("{:.1}%", s.wifi_share * 100.0)}</td></tr>
                    <tr>
                        <th>"Labelled"</th>
                        <td>{format!("{} ({} anomalies)", format::count(s.labelled), format::count(s.anomalies))}</td>
                    </tr>
                    <tr><th>"Processes"</th><td>{processes}</td></tr>
                    <tr><th>"Levels"</th><td>{levels}</td></tr>
                </tbody>
            </table>
            <Show when={
                let n = errors.len();
                move || n > 0
            }>
                <IssueGroups groups=errors.clone() title="Errors" testid="validation-errors" />
            </Show>
            <Show when={
                let n = warnings.len();
                move || n > 0
            }>
                <IssueGroups groups=warnings.clone() title="Warnings" testid="validation-warnings" />
            </Show>
        </div>
    }
}

#[component]
fn IssueGroups(
    groups: Vec<IssueGroup>,
    title: &'static str,
    testid: &'static str,
) -> impl IntoView {
    view! {
        <div class="issues" data-testid=testid>
            <h3>{title}</h3>
            {groups
                .into_iter()
                .map(|g| {
                    let examples = g
                        .examples
                        .iter()
                        .map(|e| view! { <li><code>{e.location()}</code> " " {e.message.clone()}</li> })
                        .collect_view();
                    view! {
                        <details>
                            <summary>
                                <strong>{format::count(g.count)}</strong>
                                {format!(" × {}", g.description)}
                            </summary>
                            <ul>{examples}</ul>
                        </details>
                    }
                })
                .collect_view()}
        </div>
    }
}

/// The parameters `choices` give over the built-in configuration (what a local job trains with).
fn resolved(choices: RwSignal<TrainChoices>) -> Memo<TrainParams> {
    let defaults = StoredValue::new(Config::defaults());
    Memo::new(move |_| {
        defaults.with_value(|config| {
            choices.with(|c| {
                // Every choice was parsed and range-checked by `TrainChoices::set`, so this
                // resolves; should it not, the configuration's own parameters apply.
                c.resolve(config)
                    .unwrap_or_else(|_| TrainParams::from_config(config))
            })
        })
    })
}

/// The training parameters, prefilled from the configuration defaults. Each field is parsed
/// and range-checked by the core's parser for its name (the API's and the CLI's too).
#[component]
fn ParamsForm(choices: RwSignal<TrainChoices>, params: Memo<TrainParams>) -> impl IntoView {
    let shown = move |f: fn(&TrainParams) -> String| Signal::derive(move || params.with(f));
    view! {
        <div class="form">
            <label>
                "Detector"
                <select
                    name="detector"
                    on:change=move |ev| {
                        let text = event_target_value(&ev);
                        choices.update(|c| {
                            if c.set("detector", &text).is_ok() {
                                // A new detector starts from its own contamination.
                                c.contamination = None;
                            }
                        });
                    }
                >
                    {DetectorKind::ALL
                        .into_iter()
                        .map(|kind| {
                            view! {
                                <option
                                    value=kind.as_str()
                                    selected=move || params.with(|p| p.detector == kind)
                                >
                                    {detector_label(kind)}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <ParamField choices=choices name="seed" label="Seed" value=shown(|p| p.seed.to_string()) />
            <ParamField
                choices=choices
                name="contamination"
                label="Contamination"
                value=shown(|p| p.contamination.to_string())
            />
            <Show when=move || params.with(|p| p.detector == DetectorKind::IsolationForest)>
                <ParamField
                    choices=choices
                    name="n_estimators"
                    label="Trees"
                    value=shown(|p| p.n_estimators.to_string())
                />
                <ParamField
                    choices=choices
                    name="max_samples"
                    label="Samples per tree"
                    value=shown(|p| p.max_samples.to_string())
                />
            </Show>
            <Show when=move || params.with(|p| p.detector == DetectorKind::Lof)>
                <ParamField
                    choices=choices
                    name="n_neighbors"
                    label="Neighbours"
                    value=shown(|p| p.n_neighbors.to_string())
                />
            </Show>
        </div>
    }
}

fn detector_label(kind: DetectorKind) -> &'static str {
    match kind {
        DetectorKind::IsolationForest => "Isolation Forest",
        DetectorKind::Lof => "Local Outlier Factor",
    }
}

/// A text field for the training parameter `name`: a valid value becomes a choice; otherwise
/// it says what is wrong.
#[component]
fn ParamField(
    choices: RwSignal<TrainChoices>,
    name: &'static str,
    label: &'static str,
    value: Signal<String>,
) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    view! {
        <label>
            {label}
            <input
                type="text"
                name=name
                inputmode="decimal"
                prop:value=value
                aria-invalid=move || error.with(|e| e.is_some().to_string())
                on:change=move |ev| {
                    let text = event_target_value(&ev);
                    match choices.try_update(|c| c.set(name, &text)) {
                        Some(Err(e)) => error.set(Some(format!("{label}: {}", field_error(&e)))),
                        _ => error.set(None),
                    }
                }
            />
            <Show when=move || error.with(Option::is_some)>
                <span class="field-error" role="alert">{move || error.get().unwrap_or_default()}</span>
            </Show>
        </label>
    }
}

/// The message of a refused value, without the parameter's name (the label says it).
fn field_error(e: &ParamError) -> String {
    match e {
        ParamError::Invalid { error, .. } => error.to_string(),
        other => other.to_string(),
    }
}

/// Every job, newest first.
#[component]
pub fn JobsList() -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        <div class="card">
            <h2>"Jobs"</h2>
            <Show
                when=move || state.jobs.with(|j| !j.is_empty())
                fallback=|| view! { <p class="muted">"No training yet."</p> }
            >
                <table class="table" data-testid="jobs">
                    <thead>
                        <tr>
                            <th scope="col">"Started"</th>
                            <th scope="col">"Export"</th>
                            <th scope="col">"Detector"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col">"Progress"</th>
                            <th scope="col"><span class="sr-only">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        <For
                            each=move || state.jobs.get()
                            key=|job| job.id.clone()
                            children=move |job: Job| view! { <JobRow id=job.id /> }
                        />
                    </tbody>
                </table>
            </Show>
        </div>
    }
}

#[component]
fn JobRow(id: String) -> impl IntoView {
    let state = expect_context::<AppState>();
    let job = state.job(&id);
    let status = Signal::derive(move || {
        job.with(|j| j.as_ref().map_or("", |j| j.status.as_str()).to_owned())
    });
    let href = format!("#/jobs/{id}");
    let cancel_id = id.clone();
    let delete_id = id.clone();
    let location = move || job.with(|j| j.as_ref().map_or("local", Job::location));
    view! {
        <tr data-testid="job-row" data-job-id=id.clone() data-status=status data-location=location>
            <td>{move || job.with(|j| j.as_ref().map(|j| format::time(j.created_micros)))}</td>
            <td>
                <a data-testid="job-link" href=href>
                    {move || job.with(|j| j.as_ref().map(|j| j.file_name.clone()))}
                </a>
                <Show when=move || location() == "server">
                    " " <span class="badge badge-server" title="Runs on the server">"server"</span>
                </Show>
            </td>
            <td>
                {move || job.with(|j| j.as_ref().map(|j| match j.params.detector {
                    DetectorKind::IsolationForest => "Isolation Forest",
                    DetectorKind::Lof => "LOF",
                }))}
            </td>
            <td><StatusBadge status=status /></td>
            <td>
                {move || job.get().map(|j| match j.status {
                    JobStatus::Pending | JobStatus::Running => {
                        view! { <ProgressBar fraction=j.progress label=j.stage.clone() /> }.into_any()
                    }
                    JobStatus::Completed => {
                        let took = j.finished_micros.zip(j.started_micros)
                            .map(|(f, s)| format::duration_ms((f - s) as f64 / 1000.0))
                            .unwrap_or_default();
                        let version = j.model_version().unwrap_or_default().to_owned();
                        view! {
                            <span class="muted">
                                "model " <code data-testid="job-model-version">{version}</code> {format!(" · {took}")}
                            </span>
                        }.into_any()
                    }
                    JobStatus::Failed => {
                        view! { <span class="error-text" data-testid="job-error">{j.error.clone().unwrap_or_default()}</span> }
                            .into_any()
                    }
                    JobStatus::Cancelled => view! { <span class="muted">"cancelled"</span> }.into_any(),
                })}
            </td>
            <td class="actions">
                {move || {
                    let active = job.with(|j| j.as_ref().is_some_and(|j| j.status.is_active()));
                    let cancel_id = cancel_id.clone();
                    let delete_id = delete_id.clone();
                    if active {
                        view! {
                            <button data-testid="cancel-job" on:click=move |_| state.cancel_job(&cancel_id)>
                                "Cancel"
                            </button>
                        }
                            .into_any()
                    } else {
                        view! {
                            <button class="link" title="Remove from the history (the model stays)"
                                data-testid="delete-job" on:click=move |_| state.delete_job(&delete_id)>
                                "Remove"
                            </button>
                        }
                            .into_any()
                    }
                }}
            </td>
        </tr>
    }
}
