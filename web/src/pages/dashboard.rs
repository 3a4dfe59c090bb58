//! Dashboard: what is in this browser at a glance.

use leptos::prelude::*;
use mcp_train_core::registry::ModelStatus;

use crate::components::StatusBadge;
use crate::format;
use crate::state::{AppState, JobStatus};

#[component]
pub fn Dashboard() -> impl IntoView {
    let state = expect_context::<AppState>();
    let count = move |status: ModelStatus| {
        state
            .models
            .with(|m| m.iter().filter(|r| r.status == status).count())
    };
    let active_jobs = move || {
        state
            .jobs
            .with(|j| j.iter().filter(|j| j.status.is_active()).count())
    };
    let deployed = move || {
        state.models.with(|m| {
            m.iter()
                .find(|r| r.status == ModelStatus::Deployed)
                .cloned()
        })
    };
    view! {
        <section data-testid="dashboard-page">
            <h1>"Dashboard"</h1>
            <p class="lede">
                "Train anomaly-detection models on your WiFi access points' logs and download verified deployment packages — all inside this browser tab."
            </p>
            <div class="stats">
                <a class="stat" href="#/models">
                    <span class="stat-value" data-testid="count-models">{move || state.models.with(Vec::len)}</span>
                    <span class="stat-label">"models"</span>
                    <span class="muted">{move || format!("{} ready · {} deployed · {} archived",
                        count(ModelStatus::Ready), count(ModelStatus::Deployed), count(ModelStatus::Archived))}</span>
                </a>
                <a class="stat" href="#/training">
                    <span class="stat-value" data-testid="count-jobs">{move || state.jobs.with(Vec::len)}</span>
                    <span class="stat-label">"training jobs"</span>
                    <span class="muted">{move || format!("{} running or waiting", active_jobs())}</span>
                </a>
                <div class="stat" data-testid="deployed-model">
                    {move || match deployed() {
                        Some(r) => view! {
                            <span class="stat-value small"><a href=format!("#/models/{}", r.version)><code>{r.version.clone()}</code></a></span>
                            <span class="stat-label">"deployed model"</span>
                            <span class="muted">{format!("{} · since {}", r.detector,
                                r.deployed_at.as_deref().map(format::iso_time).unwrap_or_default())}</span>
                        }.into_any(),
                        None => view! {
                            <span class="stat-value small">"none"</span>
                            <span class="stat-label">"deployed model"</span>
                            <span class="muted">"Deploy one from " <a href="#/models">"Models"</a> "."</span>
                        }.into_any(),
                    }}
                </div>
            </div>
            <div class="card">
                <h2>"Recent jobs"</h2>
                <Show
                    when=move || state.jobs.with(|j| !j.is_empty())
                    fallback=|| view! {
                        <p>"No training yet. " <a class="button primary" href="#/training">"Start with an export"</a></p>
                    }
                >
                    <table class="table">
                        <thead><tr><th>"Started"</th><th>"Export"</th><th>"Status"</th><th>"Result"</th></tr></thead>
                        <tbody>
                            {move || state.jobs.with(|jobs| jobs.iter().take(5).map(|j| {
                                let result = match j.status {
                                    JobStatus::Completed => j.result.as_ref().map(|r| format!("model {}", r.version)).unwrap_or_default(),
                                    JobStatus::Failed => j.error.clone().unwrap_or_default(),
                                    JobStatus::Pending | JobStatus::Running => format!("{} · {}", j.stage, format::percent_with(j.progress, 0)),
                                    JobStatus::Cancelled => String::new(),
                                };
                                view! {
                                    <tr>
                                        <td>{format::time(j.created_micros)}</td>
                                        <td><a href=format!("#/jobs/{}", j.id)>{j.file_name.clone()}</a></td>
                                        <td><StatusBadge status=j.status.as_str().to_owned() /></td>
                                        <td class="muted">{result}</td>
                                    </tr>
                                }
                            }).collect_view())}
                        </tbody>
                    </table>
                </Show>
            </div>
        </section>
    }
}
