//! Training: choose an export, read its validation report, set parameters, start; follow jobs.

use leptos::prelude::*;
use leptos::task::spawn_local;
use mcp_train_core::config::{AutoOr, Config, DetectorKind, MaxSamples};
use mcp_train_core::export::{IssueGroup, ValidationReport};
use web_sys::File;

use crate::components::{FileDrop, ProgressBar, StatusBadge};
use crate::format;
use crate::state::{AppState, Connection, Job, JobStatus};
use crate::worker::client::{self, Canceller, Outcome};
use crate::worker::protocol::{Task, TrainParams, WorkerEvent};

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
    let validation = StoredValue::new_local(None::<Canceller>);
    let params = RwSignal::new(TrainParams::from_config(&Config::defaults()));

    let validate = move |chosen: File, drop_invalid: bool| {
        if let Some(previous) = validation.get_value() {
            previous.cancel();
        }
        file.set(Some(chosen.clone()));
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
            let started = state.start_server_job(chosen, params.get_untracked()).await;
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
                </div>
                <div class="card">
                    <h2>"2 · Parameters"</h2>
                    <ParamsForm params=params />
                    <label class="check">
                        <input
                            type="checkbox"
                            name="drop_invalid"
                            prop:checked=move || params.with(|p| p.drop_invalid)
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                params.update(|p| p.drop_invalid = on);
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

/// The training parameters, prefilled from the configuration defaults.
#[component]
fn ParamsForm(params: RwSignal<TrainParams>) -> impl IntoView {
    view! {
        <div class="form">
            <label>
                "Detector"
                <select
                    name="detector"
                    on:change=move |ev| {
                        let kind = if event_target_value(&ev) == "lof" {
                            DetectorKind::Lof
                        } else {
                            DetectorKind::IsolationForest
                        };
                        let defaults = Config::defaults();
                        params.update(|p| {
                            p.detector = kind;
                            p.contamination = match kind {
                                DetectorKind::IsolationForest => {
                                    defaults.model.model.isolation_forest.contamination
                                }
                                DetectorKind::Lof => defaults.model.model.lof.contamination,
                            };
                        });
                    }
                >
                    <option
                        value="isolation_forest"
                        selected=move || params.with(|p| p.detector == DetectorKind::IsolationForest)
                    >
                        "Isolation Forest"
                    </option>
                    <option value="lof" selected=move || params.with(|p| p.detector == DetectorKind::Lof)>
                        "Local Outlier Factor"
                    </option>
                </select>
            </label>
            <NumberField
                name="seed"
                label="Seed"
                value=Signal::derive(move || params.with(|p| p.seed.to_string()))
                parse={|t| t.trim().parse::<u64>().map_err(|_| "a whole number ≥ 0".to_owned())}
                apply={move |v| params.update(|p| p.seed = v)}
            />
            <NumberField
                name="contamination"
                label="Contamination"
                value=Signal::derive(move || params.with(|p| match p.contamination {
                    AutoOr::Auto => "auto".to_owned(),
                    AutoOr::Value(v) => v.to_string(),
                }))
                parse={|t| {
                    let t = t.trim();
                    if t.eq_ignore_ascii_case("auto") {
                        return Ok(AutoOr::Auto);
                    }
                    match t.parse::<f64>() {
                        Ok(v) if v > 0.0 && v <= 0.5 => Ok(AutoOr::Value(v)),
                        _ => Err("\"auto\" or a fraction in (0, 0.5]".to_owned()),
                    }
                }}
                apply={move |v| params.update(|p| p.contamination = v)}
            />
            <Show when=move || params.with(|p| p.detector == DetectorKind::IsolationForest)>
                <NumberField
                    name="n_estimators"
                    label="Trees"
                    value=Signal::derive(move || params.with(|p| p.n_estimators.to_string()))
                    parse={|t| match t.trim().parse::<u32>() {
                        Ok(n) if (1..=10_000).contains(&n) => Ok(n),
                        _ => Err("a whole number from 1 to 10000".to_owned()),
                    }}
                    apply={move |v| params.update(|p| p.n_estimators = v)}
                />
                <NumberField
                    name="max_samples"
                    label="Samples per tree"
                    value=Signal::derive(move || params.with(|p| match p.max_samples {
                        MaxSamples::Auto => "auto".to_owned(),
                        MaxSamples::Count(n) => n.to_string(),
                        MaxSamples::Fraction(f) => f.to_string(),
                    }))
                    parse={|t| {
                        let t = t.trim();
                        if t.eq_ignore_ascii_case("auto") {
                            return Ok(MaxSamples::Auto);
                        }
                        if let Ok(n) = t.parse::<u64>() {
                            if n >= 1 {
                                return Ok(MaxSamples::Count(n));
                            }
                        }
                        match t.parse::<f64>() {
                            Ok(f) if f > 0.0 && f <= 1.0 => Ok(MaxSamples::Fraction(f)),
                            _ => Err("\"auto\", a count ≥ 1 or a fraction in (0, 1]".to_owned()),
                        }
                    }}
                    apply={move |v| params.update(|p| p.max_samples = v)}
                />
            </Show>
            <Show when=move || params.with(|p| p.detector == DetectorKind::Lof)>
                <NumberField
                    name="n_neighbors"
                    label="Neighbours"
                    value=Signal::derive(move || params.with(|p| p.n_neighbors.to_string()))
                    parse={|t| match t.trim().parse::<u32>() {
                        Ok(n) if n >= 1 => Ok(n),
                        _ => Err("a whole number ≥ 1".to_owned()),
                    }}
                    apply={move |v| params.update(|p| p.n_neighbors = v)}
                />
            </Show>
        </div>
    }
}

/// A text field that checks its value and says what is wrong.
#[component]
fn NumberField<T, P, A>(
    name: &'static str,
    label: &'static str,
    value: Signal<String>,
    parse: P,
    apply: A,
) -> impl IntoView
where
    T: 'static,
    P: Fn(&str) -> Result<T, String> + 'static,
    A: Fn(T) + 'static,
{
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
                on:change=move |ev| match parse(&event_target_value(&ev)) {
                    Ok(v) => {
                        error.set(None);
                        apply(v);
                    }
                    Err(e) => error.set(Some(format!("{label}: expected {e}"))),
                }
            />
            <Show when=move || error.with(Option::is_some)>
                <span class="field-error" role="alert">{move || error.get().unwrap_or_default()}</span>
            </Show>
        </label>
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
