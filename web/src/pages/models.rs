//! Models: the registry in this browser, the one shared on a server beside it, deployment
//! packages, and package verification.

use leptos::prelude::*;
use leptos::task::spawn_local;
use mcp_train_core::package::{self, PackagedModel, Verification};
use mcp_train_core::registry::{ModelRecord, ModelStatus};
use web_sys::{Blob, File};

use crate::components::{FileDrop, ProgressBar, StatusBadge};
use crate::download;
use crate::format;
use crate::state::{AppState, Connection, Settings};
use crate::worker::client::{self, Outcome};
use crate::worker::protocol::{Task, WorkerEvent};

#[component]
pub fn Models() -> impl IntoView {
    let state = expect_context::<AppState>();
    let with_server = move || state.server.with(|s| s.connection != Connection::Off);
    view! {
        <section data-testid="models-page">
            <h1>"Models"</h1>
            <p class="lede">
                "Models trained in this browser (and, with a server, the ones shared there). Deploying one builds its deployment package — model, scaler, manifest with every file's SHA-256 and self-test scores, Python validation scripts — and downloads it."
            </p>
            <div class:models-split=with_server>
            <div class="card" data-testid="local-models">
                <Show when=with_server>
                    <h2>"In this browser"</h2>
                </Show>
                <Show
                    when=move || state.models.with(|m| !m.is_empty())
                    fallback=|| view! {
                        <p class="muted">"No models yet. " <a href="#/training">"Train one"</a> "."</p>
                    }
                >
                    <table class="table" data-testid="models">
                        <thead>
                            <tr>
                                <th scope="col">"Version"</th>
                                <th scope="col">"Log type"</th>
                                <th scope="col">"Status"</th>
                                <th scope="col">"Detector"</th>
                                <th scope="col" class="col-extra">"Rows × features"</th>
                                <th scope="col">"Anomaly ratio"</th>
                                <th scope="col">"ROC AUC"</th>
                                <th scope="col" class="col-extra">"Size"</th>
                                <th scope="col"><span class="sr-only">"Actions"</span></th>
                            </tr>
                        </thead>
                        <tbody>
                            <For
                                each=move || state.models.get()
                                key=|m| (m.version.clone(), m.status)
                                children=move |m: ModelRecord| view! { <ModelRow record=m /> }
                            />
                        </tbody>
                    </table>
                </Show>
            </div>
            <Show when=with_server>
                <SharedModels />
            </Show>
            </div>
            <VerifyPackage />
        </section>
    }
}

#[component]
fn ModelRow(record: ModelRecord) -> impl IntoView {
    let state = expect_context::<AppState>();
    let busy = RwSignal::new(None::<String>);
    let confirm = RwSignal::new(false);
    let version = record.version.clone();
    let status = record.status.as_str().to_owned();
    let status_badge = status.clone();
    let deployed = record.status == ModelStatus::Deployed;
    let metrics = record.metrics.clone();
    let (v1, v2, v3, v4) = (
        version.clone(),
        version.clone(),
        version.clone(),
        version.clone(),
    );
    let connected = move || state.server.with(|s| s.is_connected());
    view! {
        <tr data-testid="model-row" data-version=version.clone() data-status=status.clone()>
            <td><a data-testid="model-link" href=format!("#/models/{version}")><code>{version.clone()}</code></a></td>
            <td data-testid="model-log-type">{record.log_type.clone()}</td>
            <td><StatusBadge status=status_badge /></td>
            <td>{record.detector.clone()}</td>
            <td class="col-extra">{format!("{} × {}", format::count(record.samples), record.features)}</td>
            <td>{format!("{:.2}%", metrics.anomaly_ratio * 100.0)}</td>
            <td>{format::metric(metrics.roc_auc)}</td>
            <td class="col-extra">{format::bytes(record.size_bytes as f64)}</td>
            <td class="actions">
                <Show when=move || busy.with(Option::is_some)>
                    <span class="muted" role="status">{move || busy.get().unwrap_or_default()}</span>
                </Show>
                <button data-testid="download-model" on:click=move |_| download_model(state, &v1)>
                    "model.json"
                </button>
                <Show when=connected>
                    {
                        let v4 = v4.clone();
                        view! {
                            <button data-testid="share-model" title="Upload this model to the server"
                                disabled=move || busy.with(Option::is_some)
                                on:click=move |_| share(state, v4.clone(), busy)>
                                "Share"
                            </button>
                        }
                    }
                </Show>
                {
                    let v2 = v2.clone();
                    view! {
                        <button data-testid="download-package" title="Build and download the deployment package without deploying"
                            disabled=move || busy.with(Option::is_some)
                            on:click=move |_| package(state, v2.clone(), busy, PackageAction::Download)>
                            "Package"
                        </button>
                    }
                }
                <Show when=move || !deployed>
                    {
                        let v2 = v2.clone();
                        view! {
                            <button class="primary" data-testid="deploy" disabled=move || busy.with(Option::is_some)
                                on:click=move |_| package(state, v2.clone(), busy, PackageAction::Deploy)>
                                "Deploy"
                            </button>
                        }
                    }
                </Show>
                <Show
                    when=move || confirm.get()
                    fallback=move || view! {
                        <button class="link danger" data-testid="delete-model" on:click=move |_| confirm.set(true)>
                            "Delete"
                        </button>
                    }
                >
                    {
                        let v3 = v3.clone();
                        view! {
                            <button class="danger" data-testid="confirm-delete"
                                on:click=move |_| delete(state, v3.clone(), deployed)>
                                {if deployed { "Delete deployed model" } else { "Confirm delete" }}
                            </button>
                            <button class="link" on:click=move |_| confirm.set(false)>"Keep"</button>
                        }
                    }
                </Show>
            </td>
        </tr>
    }
}

fn download_model(state: AppState, version: &str) {
    match state.model(version) {
        Ok(stored) => {
            if let Err(e) = download::save(
                &format!("model_{version}.json"),
                "application/json",
                &stored.bytes,
            ) {
                state.notify(e, true);
            }
        }
        Err(e) => state.notify(format!("cannot read model {version}: {e}"), true),
    }
}

fn share(state: AppState, version: String, busy: RwSignal<Option<String>>) {
    busy.set(Some("Sharing…".to_owned()));
    spawn_local(async move {
        let shared = state.share(&version).await;
        busy.set(None);
        match shared {
            Ok(record) => state.notify(
                format!("Model {} is shared on the server.", record.version),
                false,
            ),
            Err(e) => state.notify(format!("Model {version} was not shared: {e}"), true),
        }
    });
}

fn delete(state: AppState, version: String, force: bool) {
    spawn_local(async move {
        let at = crate::clock::now_micros();
        match state
            .change_registry(|r| r.delete(&version, force, at))
            .await
        {
            Ok(_) => state.notify(format!("Deleted model {version}."), false),
            Err(e) => state.notify(format!("Model {version} was not deleted: {e}"), true),
        }
    });
}

/// What a row's package button does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PackageAction {
    /// Builds and downloads the package; the model stays as it is.
    Download,
    /// Builds the package, marks the model deployed, and downloads it.
    Deploy,
}

/// The deployment time the package of `record` records. A download takes the time every surface
/// gives ([`package::deployment_time`]: the model's deployment if it has been deployed, else its
/// creation), so a model packages here to the same bytes as with `mcp-train package` or from a
/// server; a deployment records `now` (settings' clock), unless the model is deployed already.
fn package_time(record: &ModelRecord, action: PackageAction, now: i64) -> Result<i64, String> {
    match action {
        PackageAction::Download => {
            package::deployment_time(PackagedModel::Registered(record), None)
        }
        PackageAction::Deploy => package::deploying_time(record, now),
    }
    .map_err(|e| format!("model {}: {e}", record.version))
}

/// Builds the package in a worker, then (when deploying, and unless it is deployed already)
/// marks the model deployed — a model that cannot be packaged is never deployed — and downloads
/// the ZIP.
fn package(
    state: AppState,
    version: String,
    busy: RwSignal<Option<String>>,
    action: PackageAction,
) {
    let stored = match state.model(&version) {
        Ok(s) => s,
        Err(e) => return state.notify(format!("cannot read model {version}: {e}"), true),
    };
    let already =
        action == PackageAction::Download || stored.record.status == ModelStatus::Deployed;
    let now = state.settings.with_untracked(Settings::now).0;
    let at = match package_time(&stored.record, action, now) {
        Ok(at) => at,
        Err(e) => return state.notify(format!("cannot package {e}"), true),
    };
    let blob = match download::blob(&stored.bytes) {
        Ok(b) => b,
        Err(e) => return state.notify(format!("cannot package model {version}: {e}"), true),
    };
    busy.set(Some("Building package…".to_owned()));
    spawn_local(async move {
        let outcome = client::run(
            &Task::Package {
                deployed_micros: at,
            },
            &blob,
            |_, _| {},
            |_| {},
        )
        .await;
        let result = match outcome {
            Outcome::Done(WorkerEvent::Packaged { file_name }, Some(zip)) => {
                let deployed = if already {
                    Ok(())
                } else {
                    state
                        .change_registry(|r| r.deploy(&version, at))
                        .await
                        .map(|_| ())
                };
                deployed.and_then(|()| {
                    download::save(&file_name, "application/zip", &zip).map(|()| file_name)
                })
            }
            Outcome::Done(WorkerEvent::Failed { message }, _) => Err(message),
            Outcome::Done(other, _) => Err(format!("unexpected answer: {other:?}")),
            Outcome::Cancelled => Err("cancelled".to_owned()),
        };
        busy.set(None);
        match result {
            Ok(file_name) if already => state.notify(format!("Downloaded {file_name}."), false),
            Ok(file_name) => state.notify(
                format!("Model {version} is deployed; downloaded {file_name}."),
                false,
            ),
            Err(e) if action == PackageAction::Download => {
                state.notify(format!("Model {version} was not packaged: {e}"), true)
            }
            Err(e) => state.notify(format!("Model {version} was not deployed: {e}"), true),
        }
    });
}

/// The server's registry, beside this browser's.
#[component]
fn SharedModels() -> impl IntoView {
    let state = expect_context::<AppState>();
    let api = move || state.server.with(|s| s.api.clone().unwrap_or_default());
    let connection = move || state.server.with(|s| s.connection);
    view! {
        <div class="card" data-testid="shared-models">
            <h2>"On the server"</h2>
            <p class="muted server-url"><code>{api}</code></p>
            {move || match connection() {
                Connection::Connected => ().into_any(),
                Connection::Connecting | Connection::Off => {
                    view! { <p class="muted">"Connecting…"</p> }.into_any()
                }
                Connection::Error => view! {
                    <div class="error-box" role="alert">
                        {move || state.server.with(|s| s.message.clone())}
                        " " <a href="#/settings">"Settings"</a>
                    </div>
                }.into_any(),
            }}
            <Show when=move || connection() == Connection::Connected>
                <Show
                    when=move || state.shared.with(|m| !m.is_empty())
                    fallback=|| view! {
                        <p class="muted">"No shared models yet: share one from this browser, or train on the server."</p>
                    }
                >
                    <table class="table">
                        <thead>
                            <tr>
                                <th scope="col">"Version"</th>
                                <th scope="col">"Status"</th>
                                <th scope="col">"Detector"</th>
                                <th scope="col">"ROC AUC"</th>
                                <th scope="col"><span class="sr-only">"Actions"</span></th>
                            </tr>
                        </thead>
                        <tbody>
                            <For
                                each=move || state.shared.get()
                                key=|m| (m.version.clone(), m.status)
                                children=move |m: ModelRecord| view! { <SharedModelRow record=m /> }
                            />
                        </tbody>
                    </table>
                </Show>
            </Show>
        </div>
    }
}

#[component]
fn SharedModelRow(record: ModelRecord) -> impl IntoView {
    let state = expect_context::<AppState>();
    let busy = RwSignal::new(None::<String>);
    let version = record.version.clone();
    let status = record.status.as_str().to_owned();
    let deployed = record.status == ModelStatus::Deployed;
    let local = {
        let version = version.clone();
        Memo::new(move |_| {
            state
                .models
                .with(|m| m.iter().any(|r| r.version == version))
        })
    };
    let idle = move || busy.with(Option::is_none);
    let (v1, v2, v3, v4) = (
        version.clone(),
        version.clone(),
        version.clone(),
        version.clone(),
    );
    view! {
        <tr
            data-testid="shared-model-row"
            data-version=version.clone()
            data-status=status.clone()
            data-local=move || local.get().to_string()
        >
            <td><code>{version.clone()}</code></td>
            <td><StatusBadge status=status.clone() /></td>
            <td>{record.detector.clone()}</td>
            <td>{format::metric(record.metrics.roc_auc)}</td>
            <td class="actions">
                <Show when=move || busy.with(Option::is_some)>
                    <span class="muted" role="status">{move || busy.get().unwrap_or_default()}</span>
                </Show>
                <button data-testid="download-shared-package" disabled=move || !idle()
                    on:click=move |_| download_shared(state, v1.clone(), busy, true)>
                    "Package"
                </button>
                <button data-testid="download-shared-model" disabled=move || !idle()
                    on:click=move |_| download_shared(state, v2.clone(), busy, false)>
                    "model.json"
                </button>
                {(!deployed).then(|| view! {
                    <button class="primary" data-testid="deploy-shared" disabled=move || !idle()
                        on:click=move |_| deploy_shared(state, v3.clone(), busy)>
                        "Deploy"
                    </button>
                })}
                <Show when=move || !local.get()>
                    {
                        let v4 = v4.clone();
                        view! {
                            <button data-testid="import-shared" title="Copy into this browser's models"
                                disabled=move || !idle()
                                on:click=move |_| import_shared(state, v4.clone(), busy)>
                                "Import"
                            </button>
                        }
                    }
                </Show>
            </td>
        </tr>
    }
}

/// Downloads a shared model's deployment package (`package`) or `model.json` from the server.
fn download_shared(
    state: AppState,
    version: String,
    busy: RwSignal<Option<String>>,
    package: bool,
) {
    busy.set(Some("Downloading…".to_owned()));
    spawn_local(async move {
        let fetched = state.fetch_shared(&version, package).await;
        busy.set(None);
        let (file_name, mime) = if package {
            (format!("model_{version}_deployment.zip"), "application/zip")
        } else {
            (format!("model_{version}.json"), "application/json")
        };
        match fetched.and_then(|bytes| download::save(&file_name, mime, &bytes)) {
            Ok(()) => state.notify(format!("Downloaded {file_name} from the server."), false),
            Err(e) => state.notify(format!("{file_name} was not downloaded: {e}"), true),
        }
    });
}

fn deploy_shared(state: AppState, version: String, busy: RwSignal<Option<String>>) {
    busy.set(Some("Deploying…".to_owned()));
    spawn_local(async move {
        let deployed = state.deploy_shared(&version).await;
        busy.set(None);
        match deployed {
            Ok(d) => {
                let previous = d
                    .previous
                    .map(|p| format!("; {} is archived", p.version))
                    .unwrap_or_default();
                state.notify(
                    format!(
                        "Model {} is deployed on the server{previous}.",
                        d.model.version
                    ),
                    false,
                )
            }
            Err(e) => state.notify(
                format!("Model {version} was not deployed on the server: {e}"),
                true,
            ),
        }
    });
}

fn import_shared(state: AppState, version: String, busy: RwSignal<Option<String>>) {
    busy.set(Some("Importing…".to_owned()));
    spawn_local(async move {
        let imported = state.import_shared(&version).await;
        busy.set(None);
        match imported {
            Ok(record) => state.notify(
                format!("Model {} is now also in this browser.", record.version),
                false,
            ),
            Err(e) => state.notify(format!("Model {version} was not imported: {e}"), true),
        }
    });
}

/// Checks a deployment package dropped in: every file's hash, the manifest seal, the model, and
/// the self-test scores.
#[component]
fn VerifyPackage() -> impl IntoView {
    let result = RwSignal::new(None::<Result<(String, Verification), String>>);
    let working = RwSignal::new(false);
    let on_file = Callback::new(move |file: File| {
        working.set(true);
        result.set(None);
        let name = file.name();
        spawn_local(async move {
            let blob: &Blob = &file;
            let outcome = client::run(&Task::Verify, blob, |_, _| {}, |_| {}).await;
            working.set(false);
            result.set(Some(match outcome {
                Outcome::Done(WorkerEvent::Verified { verification }, _) => {
                    Ok((name, verification))
                }
                Outcome::Done(WorkerEvent::Failed { message }, _) => Err(message),
                Outcome::Done(other, _) => Err(format!("unexpected answer: {other:?}")),
                Outcome::Cancelled => Err("cancelled".to_owned()),
            }));
        });
    });
    view! {
        <div class="card">
            <h2>"Verify a package"</h2>
            <p class="muted">"Checks every file against the manifest's SHA-256, the manifest's own seal, that the model loads, and that it reproduces the embedded self-test scores."</p>
            <FileDrop
                label="a deployment package (.zip)"
                accept=".zip,application/zip"
                input_testid="verify-input"
                zone_testid="verify-dropzone"
                on_file=on_file
            />
            <Show when=move || working.get()>
                <ProgressBar fraction=0.5 label="Verifying".to_owned() />
            </Show>
            {move || result.get().map(|r| match r {
                Err(message) => view! {
                    <div class="error-box" role="alert" data-testid="verify-result" data-ok="false">{message}</div>
                }.into_any(),
                Ok((name, v)) => view! { <VerificationView name=name verification=v /> }.into_any(),
            })}
        </div>
    }
}

#[component]
fn VerificationView(name: String, verification: Verification) -> impl IntoView {
    let v = verification;
    let headline = if v.ok {
        format!("{name}: verified — every file matches and the self-test passes.")
    } else {
        format!(
            "{name}: NOT verified — {} problem{}.",
            v.problems.len(),
            if v.problems.len() == 1 { "" } else { "s" }
        )
    };
    let self_test_text = v.self_test.as_ref().map_or_else(
        || "not run".to_owned(),
        |t| {
            format!(
                "{}/{} vectors match (largest difference {:e}, tolerance {:e})",
                t.passed, t.vectors, t.max_difference, t.tolerance
            )
        },
    );
    let problems = v
        .problems
        .iter()
        .map(|p| view! { <li>{p.to_string()}</li> })
        .collect_view();
    let files = v
        .files
        .iter()
        .map(|f| {
            let status = serde_json::to_value(f.status)
                .ok()
                .and_then(|s| s.as_str().map(str::to_owned))
                .unwrap_or_default();
            let badge = status.clone();
            view! {
                <tr data-testid="verify-file" data-name=f.name.clone() data-status=status.clone()>
                    <td><code>{f.name.clone()}</code></td>
                    <td><StatusBadge status=badge /></td>
                    <td>{f.size_bytes.map(|s| format::bytes(s as f64))}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="report" data-testid="verify-result" data-ok=if v.ok { "true" } else { "false" }>
            <p class=if v.ok { "verdict ok" } else { "verdict bad" }>{headline}</p>
            <table class="kv">
                <tbody>
                    <tr><th>"Model version"</th><td>{v.model_version.clone().unwrap_or_else(|| "unknown".to_owned())}</td></tr>
                    <tr><th>"Model loads"</th><td>{if v.model_loads { "yes" } else { "no" }}</td></tr>
                    <tr><th>"Self-test"</th><td>{self_test_text}</td></tr>
                </tbody>
            </table>
            {(!v.problems.is_empty()).then(|| view! { <ul class="problems">{problems}</ul> })}
            <table class="table">
                <thead><tr><th>"File"</th><th>"Status"</th><th>"Size"</th></tr></thead>
                <tbody>{files}</tbody>
            </table>
        </div>
    }
}

#[component]
pub fn ModelDetails(version: String) -> impl IntoView {
    let state = expect_context::<AppState>();
    let stored = {
        let version = version.clone();
        Memo::new(move |_| {
            state.models.track();
            state.model(&version).map_err(|e| e.to_string())
        })
    };
    view! {
        <section data-testid="model-details">
            <p><a href="#/models">"← Models"</a></p>
            <h1>"Model " <code>{version.clone()}</code></h1>
            {move || match stored.get() {
                Err(e) if !state.loaded.get() => { let _ = e; view! { <p class="muted">"Loading…"</p> }.into_any() }
                Err(e) => match state.shared.with(|m| m.iter().find(|r| r.version == version).cloned()) {
                    // Only on the server (a model trained there): what its record says.
                    Some(r) => view! {
                        <div class="card">
                            <p class="muted">"This model is on the server only; import it from the models list to see everything about it here."</p>
                            <table class="kv"><tbody>
                                <tr><th>"Status on the server"</th><td>{r.status.as_str()}</td></tr>
                                <tr><th>"Detector"</th><td>{r.detector.clone()}</td></tr>
                                <tr><th>"Created"</th><td>{format::iso_time(&r.created_at)}</td></tr>
                                <tr><th>"Training rows"</th><td>{format::count(r.samples)}</td></tr>
                                <tr><th>"Features"</th><td>{r.features}</td></tr>
                                <tr><th>"Anomaly ratio"</th><td>{format!("{:.2}%", r.metrics.anomaly_ratio * 100.0)}</td></tr>
                                <tr><th>"ROC AUC"</th><td>{format::metric(r.metrics.roc_auc)}</td></tr>
                                <tr><th>"Trained on"</th><td>{r.lineage_file.clone()}</td></tr>
                                <tr><th>"model.json SHA-256"</th><td>{r.sha256.clone()}</td></tr>
                            </tbody></table>
                        </div>
                    }.into_any(),
                    None => view! { <div class="error-box" role="alert">{e}</div> }.into_any(),
                },
                Ok(stored) => {
                    let r = stored.record.clone();
                    let card = stored.artifact().ok().map(|a| {
                        let rows = vec![
                            ("Status", r.status.as_str().to_owned()),
                            ("Detector", a.detector.name().to_owned()),
                            ("Created", format::iso_time(&a.created_at)),
                            ("Registered", format::iso_time(&r.registered_at)),
                            ("Deployed", r.deployed_at.as_deref().map(format::iso_time).unwrap_or_else(|| "—".to_owned())),
                            ("Training rows", format::count(a.training.samples)),
                            ("Features", a.training.features.to_string()),
                            ("Seed", a.training.seed.to_string()),
                            ("Threshold (offset)", format!("{:.6}", a.threshold.offset)),
                            ("Anomaly ratio", format!("{:.2}%", a.evaluation.anomaly_ratio * 100.0)),
                            ("Trained on", format!("{} ({}, {} records)", a.lineage.file_name, format::bytes(a.lineage.size_bytes as f64), format::count(a.lineage.records))),
                            ("Export SHA-256", a.lineage.sha256.clone()),
                            ("model.json SHA-256", r.sha256.clone()),
                            ("Size", format::bytes(r.size_bytes as f64)),
                            ("Generator", a.generator.clone()),
                        ];
                        let features = a.input.feature_names().join(", ");
                        view! {
                            <div class="card">
                                <table class="kv"><tbody>
                                    {rows.into_iter().map(|(k, v)| view! { <tr><th>{k}</th><td>{v}</td></tr> }).collect_view()}
                                    <tr><th>"Feature schema"</th><td class="wrap">{features}</td></tr>
                                </tbody></table>
                            </div>
                        }
                    });
                    card.into_any()
                }
            }}
            <p><a href="#/models">"Download, deploy or delete it from the models list."</a></p>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_735_689_600_000_000; // 2025-01-01T00:00:00Z

    fn record(status: &str, deployed_at: Option<&str>) -> ModelRecord {
        serde_json::from_value(serde_json::json!({
            "version": "20240601_120000", "status": status,
            "created_at": "2024-06-01T12:00:00Z", "registered_at": "2024-07-01T00:00:00Z",
            "deployed_at": deployed_at, "archived_at": null, "detector": "isolation_forest",
            "samples": 900, "features": 24, "size_bytes": 1, "sha256": "00",
            "lineage_file": "export.json", "metrics": { "anomaly_ratio": 0.1 }
        }))
        .expect("a record")
    }

    #[test]
    fn a_package_download_records_what_the_cli_and_the_server_record() {
        let created = 1_717_243_200_000_000; // 2024-06-01T12:00:00Z
        let deployed = 1_719_792_000_000_000; // 2024-07-01T00:00:00Z
        let ready = record("ready", None);
        // Not deployed: its creation, not the browser's registration time or clock.
        assert_eq!(
            package_time(&ready, PackageAction::Download, NOW),
            Ok(created)
        );
        assert_eq!(package_time(&ready, PackageAction::Deploy, NOW), Ok(NOW));
        let live = record("deployed", Some("2024-07-01T00:00:00Z"));
        for action in [PackageAction::Download, PackageAction::Deploy] {
            assert_eq!(package_time(&live, action, NOW), Ok(deployed));
        }
        let archived = record("archived", Some("2024-07-01T00:00:00Z"));
        assert_eq!(
            package_time(&archived, PackageAction::Download, NOW),
            Ok(deployed)
        );
        assert_eq!(package_time(&archived, PackageAction::Deploy, NOW), Ok(NOW));
        let broken = record("deployed", Some("last week"));
        let e = package_time(&broken, PackageAction::Download, NOW).expect_err("unreadable");
        assert!(e.starts_with("model 20240601_120000: deployed_at: "), "{e}");
    }
}
