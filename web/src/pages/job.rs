//! One job: its statistics, parameters, metrics and plots.

use leptos::prelude::*;
use leptos::task::spawn_local;
use mcp_train_core::config::{AutoOr, DetectorKind, MaxSamples};

use crate::components::{ProgressBar, StatusBadge};
use crate::format;
use crate::pages::training::JobsList;
use crate::plots::{CurveKind, CurvePlot, FeatureImportanceChart, ScoreHistogram};
use crate::state::{AppState, Job, JobResult, JobStatus};

#[component]
pub fn JobDetails(id: String) -> impl IntoView {
    let state = expect_context::<AppState>();
    let job = state.job(&id);
    view! {
        <section>
            <p><a href="#/training">"← Training"</a></p>
            {move || match job.get() {
                None if !state.loaded.get() => view! { <p class="muted">"Loading…"</p> }.into_any(),
                None => {
                    view! {
                        <h1>"Job not found"</h1>
                        <p>"No job " <code>{id.clone()}</code> " in this browser's history."</p>
                        <JobsList />
                    }
                        .into_any()
                }
                Some(job) => view! { <Details job=job /> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn Details(job: Job) -> impl IntoView {
    let state = expect_context::<AppState>();
    // A server job listed after a reload knows its model's version only: fetch the model.
    if job.server.is_some() && job.status == JobStatus::Completed && job.result.is_none() {
        let id = job.id.clone();
        spawn_local(async move {
            if let Err(e) = state.load_server_result(&id).await {
                state.notify(format!("The job's results are not shown: {e}"), true);
            }
        });
    }
    let status = job.status.as_str().to_owned();
    let id = job.id.clone();
    let p = &job.params;
    let mut params = vec![
        (
            "Detector",
            match p.detector {
                DetectorKind::IsolationForest => "Isolation Forest".to_owned(),
                DetectorKind::Lof => "Local Outlier Factor".to_owned(),
            },
        ),
        ("Seed", p.seed.to_string()),
        (
            "Contamination",
            match p.contamination {
                AutoOr::Auto => "auto".to_owned(),
                AutoOr::Value(v) => v.to_string(),
            },
        ),
    ];
    match p.detector {
        DetectorKind::IsolationForest => {
            params.push(("Trees", p.n_estimators.to_string()));
            params.push((
                "Samples per tree",
                match p.max_samples {
                    MaxSamples::Auto => "auto".to_owned(),
                    MaxSamples::Count(n) => n.to_string(),
                    MaxSamples::Fraction(f) => f.to_string(),
                },
            ));
        }
        DetectorKind::Lof => params.push(("Neighbours", p.n_neighbors.to_string())),
    }
    params.push((
        "Invalid records",
        if p.drop_invalid { "dropped" } else { "refused" }.to_owned(),
    ));
    let took = job
        .finished_micros
        .zip(job.started_micros)
        .map(|(f, s)| format::duration_ms((f - s) as f64 / 1000.0));
    let progress_job = job.id.clone();
    let progress = Signal::derive(move || {
        state.jobs.with(|jobs| {
            jobs.iter()
                .find(|j| j.id == progress_job)
                .map_or(0.0, |j| j.progress)
        })
    });
    let stage_job = job.id.clone();
    let stage = Signal::derive(move || {
        state.jobs.with(|jobs| {
            jobs.iter()
                .find(|j| j.id == stage_job)
                .map_or(String::new(), |j| j.stage.clone())
        })
    });
    view! {
        <div data-testid="job-details" data-status=status.clone()>
            <h1>
                "Training on " <code>{job.file_name.clone()}</code> " " <StatusBadge status=status.clone() />
            </h1>
            <p class="muted">
                {format!("{} · {} · started {}", id, format::bytes(job.file_size), format::time(job.created_micros))}
                {took.map(|t| format!(" · took {t}"))}
            </p>
            {job.status.is_active().then(|| {
                let cancel = job.id.clone();
                view! {
                    <div class="card">
                        <ProgressBar fraction=progress label=stage />
                        <button data-testid="cancel-job" on:click=move |_| state.cancel_job(&cancel)>"Cancel"</button>
                    </div>
                }
            })}
            {(job.status == JobStatus::Failed).then(|| view! {
                <div class="error-box" role="alert" data-testid="job-error">{job.error.clone().unwrap_or_default()}</div>
            })}
            <div class="grid-2">
                <div class="card">
                    <h2>"Parameters"</h2>
                    <table class="kv" data-testid="job-parameters">
                        <tbody>
                            {params.into_iter().map(|(k, v)| view! { <tr><th>{k}</th><td>{v}</td></tr> }).collect_view()}
                        </tbody>
                    </table>
                </div>
                {job.result.clone().map(|r| view! { <Statistics result=r /> })}
            </div>
            {job.result.map(|r| view! { <Results result=r /> })}
        </div>
    }
}

#[component]
fn Statistics(result: JobResult) -> impl IntoView {
    let t = &result.training;
    let s = &result.evaluation.score_stats;
    let mut rows = vec![
        ("Model", result.version.clone()),
        ("Training rows", format::count(t.samples)),
        ("Held-out rows", format::count(t.test_samples)),
        ("Features", t.features.to_string()),
        ("Dropped records", format::count(t.dropped_records)),
        (
            "Anomaly ratio",
            format::percent_with(result.evaluation.anomaly_ratio, 2),
        ),
        (
            "Threshold (offset)",
            format!("{:.6}", result.threshold.offset),
        ),
        (
            "Scores",
            format!(
                "mean {:.4} · sd {:.4} · min {:.4} · max {:.4}",
                s.mean, s.std, s.min, s.max
            ),
        ),
        ("Training time", format::duration_ms(t.duration_ms)),
    ];
    if let Some(summary) = &result.summary {
        rows.insert(1, ("Records", format::count(summary.records)));
        rows.push(("Validation warnings", format::count(result.warnings)));
    }
    let version = result.version.clone();
    view! {
        <div class="card">
            <h2>"Statistics"</h2>
            <table class="kv" data-testid="job-statistics">
                <tbody>
                    {rows.into_iter().map(|(k, v)| view! { <tr><th>{k}</th><td>{v}</td></tr> }).collect_view()}
                </tbody>
            </table>
            <p>
                <a data-testid="job-model-link" href=format!("#/models/{version}")>
                    {format!("Model {version} →")}
                </a>
            </p>
        </div>
    }
}

#[component]
fn Results(result: JobResult) -> impl IntoView {
    let e = result.evaluation;
    let metrics = e.metrics.clone().map(|m| {
        let c = &m.confusion_matrix;
        view! {
            <div class="card">
                <h2>"Metrics on held-out labelled records"</h2>
                <table class="kv" data-testid="job-metrics">
                    <tbody>
                        <tr><th>"Accuracy"</th><td>{format::metric(Some(m.accuracy))}</td></tr>
                        <tr><th>"Precision"</th><td>{format::metric(Some(m.precision))}</td></tr>
                        <tr><th>"Recall"</th><td>{format::metric(Some(m.recall))}</td></tr>
                        <tr><th>"F1"</th><td>{format::metric(Some(m.f1))}</td></tr>
                        <tr><th>"ROC AUC"</th><td>{format::metric(m.roc_auc)}</td></tr>
                        <tr><th>"Average precision"</th><td>{format::metric(m.average_precision)}</td></tr>
                        <tr>
                            <th>"Confusion"</th>
                            <td>{format!("TP {} · FP {} · FN {} · TN {}", c.true_positive, c.false_positive, c.false_negative, c.true_negative)}</td>
                        </tr>
                    </tbody>
                </table>
            </div>
        }
    });
    let checks = (!e.threshold_checks.is_empty()).then(|| {
        let rows = e
            .threshold_checks
            .iter()
            .map(|c| {
                let verdict = match c.passed {
                    Some(true) => "passed",
                    Some(false) => "failed",
                    None => "not measured",
                };
                view! {
                    <tr>
                        <th>{c.metric.clone()}</th>
                        <td>{format::metric(c.value)}</td>
                        <td>{format!("{} {}", c.comparison, c.threshold)}</td>
                        <td class=format!("check-{}", verdict.replace(' ', "-"))>{verdict}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <div class="card">
                <h2>"Threshold checks"</h2>
                <table class="table"><thead><tr><th>"Check"</th><th>"Actual"</th><th>"Required"</th><th>"Passed"</th></tr></thead><tbody>{rows}</tbody></table>
            </div>
        }
    });
    let auc = e.metrics.as_ref().and_then(|m| m.roc_auc);
    let ap = e.metrics.as_ref().and_then(|m| m.average_precision);
    view! {
        <div class="grid-2">
            {metrics}
            {checks}
        </div>
        <div class="plots">
            <div class="card">
                <h2>"Score distribution"</h2>
                <p class="muted">"Scores left of the threshold are anomalies."</p>
                <ScoreHistogram histogram=e.score_histogram.clone() threshold=result.threshold.offset />
            </div>
            <div class="card">
                <h2>"Feature importance"</h2>
                <FeatureImportanceChart items=e.feature_importance.clone() />
            </div>
        </div>
        <div class="grid-2">
            {e.roc_curve.clone().map(|c| view! {
                <div class="card"><h2>"ROC curve"</h2><CurvePlot curve=c kind=CurveKind::Roc area=auc /></div>
            })}
            {e.pr_curve.clone().map(|c| view! {
                <div class="card"><h2>"Precision–recall curve"</h2><CurvePlot curve=c kind=CurveKind::PrecisionRecall area=ap /></div>
            })}
        </div>
    }
}
