//! `mcp-train models …`: the model registry in a data directory.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use mcp_train::fs::clock;
use mcp_train::fs::config_dir::load_config;
use mcp_train::fs::registry::Store;
use mcp_train_core::package;
use mcp_train_core::pipeline::{Detector, InputSchema, ModelArtifact};
use mcp_train_core::registry::{ModelKey, ModelRecord, Registry, RegistryError, Transition};
use serde_json::json;

use super::args::{ModelsArgs, ModelsCommand};
use super::{render, Failure, Outcome};

pub fn run(args: ModelsArgs) -> Outcome {
    let dir = super::registry_at(args.registry.as_deref())?;
    let mut registry = dir.open();
    let fail = |e| Failure::registry(&dir, e);
    let json = args.json;
    let log_type = args.log_type.as_deref();
    match args.command {
        ModelsCommand::List => list(&registry, log_type, json).map_err(fail)?,
        ModelsCommand::Show { name } => show(&registry, &name, log_type, json).map_err(fail)?,
        ModelsCommand::Deployed => {
            let mut models = registry.deployed_models().map_err(fail)?;
            models.retain(|m| log_type.is_none_or(|t| m.log_type == t));
            if json {
                println!("{}", json!({ "deployed": models }));
            } else if models.is_empty() {
                println!("no model is deployed{}", for_log_type(log_type));
            } else {
                for m in &models {
                    println!(
                        "{}  {}  deployed {}",
                        m.log_type,
                        m.version,
                        m.deployed_at
                            .as_deref()
                            .map(to_the_second)
                            .unwrap_or_default()
                    );
                }
            }
        }
        ModelsCommand::Rollback { log_type } => {
            let now = clock::reproducible_now()?.micros;
            let change = registry.rollback(&log_type, now).map_err(fail)?;
            print_transition(&change, "rolled back to", json, None);
        }
        ModelsCommand::History => {
            let history = registry.history(log_type).map_err(fail)?;
            if json {
                println!("{}", json!({ "history": history }));
            } else if history.is_empty() {
                println!("no deployments yet{}", for_log_type(log_type));
            } else {
                for e in &history {
                    let previous = e
                        .previous
                        .as_deref()
                        .map(|p| format!(" (was {p})"))
                        .unwrap_or_default();
                    println!(
                        "{}  {:<8}  {:<8}  {}{previous}",
                        to_the_second(&e.at),
                        e.log_type,
                        e.action,
                        e.version
                    );
                }
            }
        }
        ModelsCommand::Deploy { name } => {
            let version = registry.resolve_in(&name, log_type).map_err(fail)?.version;
            let now = clock::reproducible_now()?.micros;
            // Build the package before the status changes, so a model that cannot be packaged
            // is never deployed.
            let stored = registry.get(&version).map_err(fail)?;
            let deployed_at = package::deploying_time(&stored.record, now)
                .map_err(|e| Failure::invalid(anyhow::anyhow!("model {version}: {e}")))?;
            let built = package::build(&stored.bytes, deployed_at)
                .with_context(|| format!("cannot package model {version}"))
                .map_err(Failure::invalid)?;
            let change = registry.deploy(&version, now).map_err(fail)?;
            let key = ModelKey::new(&change.model.log_type, &version);
            let path = registry
                .store()
                .write_package(&key, &built.bytes)
                .map_err(|e| fail(e.into()))?;
            print_transition(&change, "deployed", json, Some(&path));
        }
        ModelsCommand::Archive { name } => {
            let version = registry.resolve_in(&name, log_type).map_err(fail)?.version;
            let now = clock::reproducible_now()?.micros;
            let change = registry.archive(&version, now).map_err(fail)?;
            print_transition(&change, "archived", json, None);
        }
        ModelsCommand::Delete { name, force } => {
            let version = registry.resolve_in(&name, log_type).map_err(fail)?.version;
            let now = clock::reproducible_now()?.micros;
            let gone = registry.delete(&version, force, now).map_err(fail)?;
            if json {
                println!("{}", json!({ "deleted": gone }));
            } else {
                println!(
                    "deleted {} ({}, {}, {} bytes)",
                    gone.version,
                    gone.status,
                    gone.detector,
                    render::thousands(gone.size_bytes as usize)
                );
            }
        }
        ModelsCommand::Prune { keep, config } => {
            let keep = match keep {
                Some(n) => n,
                None => load_config(config.as_deref())?.training.registry.keep_last,
            };
            let keep = keep as usize;
            // Nothing to prune needs no lock (and creates no directory).
            let removed = if registry.list().map_err(fail)?.len() <= keep {
                Vec::new()
            } else {
                registry.prune(keep).map_err(fail)?
            };
            let remaining = registry.list().map_err(fail)?.len();
            if json {
                println!(
                    "{}",
                    json!({ "keep": keep, "deleted": removed, "remaining": remaining })
                );
            } else if removed.is_empty() {
                println!(
                    "nothing to prune: {remaining} models, keeping the newest {keep} and the deployed one"
                );
            } else {
                let versions: Vec<&str> = removed.iter().map(|m| m.version.as_str()).collect();
                println!(
                    "deleted {} models ({}); {remaining} remain",
                    removed.len(),
                    versions.join(", ")
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The metric that best tells models apart: ROC AUC, else F1, else the flagged share.
fn key_metric(m: &ModelRecord) -> String {
    match (m.metrics.roc_auc, m.metrics.f1) {
        (Some(auc), _) => format!("roc_auc {auc:.3}"),
        (None, Some(f1)) => format!("f1 {f1:.3}"),
        (None, None) => format!("flagged {:.1}%", m.metrics.anomaly_ratio * 100.0),
    }
}

/// `2024-01-01T12:00:00.123456Z` as `2024-01-01T12:00:00Z`, to keep the table narrow.
fn to_the_second(timestamp: &str) -> String {
    match timestamp.split_once('.') {
        Some((seconds, _)) => format!("{seconds}Z"),
        None => timestamp.to_owned(),
    }
}

/// ` for log type T`, or nothing.
fn for_log_type(log_type: Option<&str>) -> String {
    log_type
        .map(|t| format!(" for log type {t}"))
        .unwrap_or_default()
}

fn list(
    registry: &Registry<Store>,
    log_type: Option<&str>,
    json: bool,
) -> Result<(), RegistryError> {
    let models = match log_type {
        Some(t) => registry.list_of(t)?,
        None => registry.list()?,
    };
    let dir = registry.store().describe();
    if json {
        println!("{}", json!({ "registry": dir, "models": models }));
        return Ok(());
    }
    if models.is_empty() {
        println!("no models{} in {dir}", for_log_type(log_type));
        return Ok(());
    }
    let rows: Vec<[String; 7]> = models
        .iter()
        .map(|m| {
            [
                m.version.clone(),
                m.log_type.clone(),
                m.status.to_string(),
                m.detector.clone(),
                render::thousands(m.samples),
                to_the_second(&m.created_at),
                key_metric(m),
            ]
        })
        .collect();
    let header = [
        "VERSION",
        "LOG TYPE",
        "STATUS",
        "DETECTOR",
        "SAMPLES",
        "CREATED",
        "KEY METRIC",
    ];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    for row in std::iter::once(header.map(str::to_owned)).chain(rows) {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            // Numbers right-aligned, the rest left-aligned; no padding after the last column.
            let _ = match i {
                4 => write!(line, "{cell:>w$}  "),
                6 => write!(line, "{cell}"),
                _ => write!(line, "{cell:<w$}  "),
            };
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    print!("{text}");
    Ok(())
}

fn detector_params(detector: &Detector) -> serde_json::Value {
    match detector {
        Detector::IsolationForest { params, .. } => json!(params),
        Detector::Lof { params, .. } => json!(params),
    }
}

fn show(
    registry: &Registry<Store>,
    name: &str,
    log_type: Option<&str>,
    json: bool,
) -> Result<(), RegistryError> {
    let version = registry.resolve_in(name, log_type)?.version;
    let stored = registry.get(&version)?;
    let model: ModelArtifact = stored.artifact()?;
    let record = &stored.record;
    let path = registry
        .store()
        .model_location(&ModelKey::new(&record.log_type, &version));
    let e = &model.evaluation;
    let t = &model.training;
    let input = match &model.input {
        InputSchema::Export(schema) => json!({
            "kind": "export",
            "schema": schema.name,
            "extractor_version": schema.extractor_version,
            "features": schema.features,
        }),
        InputSchema::Agent(state) => json!({
            "kind": "agent",
            "log_type": state.log_type,
            "schema": state.schema,
            "features": state.features,
        }),
        InputSchema::FeaturesCsv { features } => {
            json!({ "kind": "features_csv", "features": features })
        }
    };
    if json {
        let summary = json!({
            "record": record,
            "file": path,
            "model": {
                "generator": model.generator,
                "log_type": model.log_type,
                "protocol_version": model.protocol_version,
                "input": input,
                "detector": model.detector.name(),
                "params": detector_params(&model.detector),
                "threshold": model.threshold,
                "training": model.training,
                "anomaly_ratio": e.anomaly_ratio,
                "score_stats": e.score_stats,
                "metrics": e.metrics,
                "threshold_checks": e.threshold_checks,
                "lineage": model.lineage,
            },
        });
        println!("{summary}");
        return Ok(());
    }
    let mut text = String::new();
    let _ = writeln!(text, "model      {} · {}", record.version, record.status);
    let _ = writeln!(
        text,
        "log type   {} (agent protocol {})",
        record.log_type, model.protocol_version
    );
    let mut when = format!(
        "created {} · registered {}",
        record.created_at, record.registered_at
    );
    if let Some(at) = &record.deployed_at {
        let _ = write!(when, " · deployed {at}");
    }
    if let Some(at) = &record.archived_at {
        let _ = write!(when, " · archived {at}");
    }
    let _ = writeln!(text, "dates      {when}");
    let _ = writeln!(
        text,
        "file       {} ({} bytes, sha256 {})",
        path,
        render::thousands(record.size_bytes as usize),
        record.sha256
    );
    let _ = writeln!(
        text,
        "detector   {} {}",
        model.detector.name(),
        detector_params(&model.detector)
    );
    let _ = writeln!(
        text,
        "training   {} rows × {} features · {} held out · seed {}",
        render::thousands(t.samples),
        t.features,
        render::thousands(t.test_samples),
        t.seed
    );
    let _ = writeln!(
        text,
        "threshold  offset {:.6} ({}) · {:.2}% of rows flagged as anomalies",
        model.threshold.offset,
        model.threshold.method,
        e.anomaly_ratio * 100.0
    );
    match &e.metrics {
        Some(m) => {
            let _ = writeln!(text, "metrics    {}", render::metrics_line(m));
        }
        None => {
            let _ = writeln!(text, "metrics    none (no labels: unsupervised training)");
        }
    }
    let l = &model.lineage;
    let _ = writeln!(
        text,
        "data       {} ({}, {} records, {} bytes, sha256 {})",
        l.file_name,
        l.source,
        render::thousands(l.records),
        render::thousands(l.size_bytes as usize),
        l.sha256
    );
    print!("{text}");
    Ok(())
}

fn print_transition(change: &Transition, verb: &str, json: bool, package: Option<&str>) {
    if json {
        println!(
            "{}",
            json!({
                "changed": change.changed(),
                "from": change.from,
                "model": change.model,
                "displaced": change.displaced,
                "package": package,
            })
        );
        return;
    }
    let m = &change.model;
    if !change.changed() {
        println!("{} is already {}", m.version, m.status);
        return;
    }
    println!("{verb} {} (was {})", m.version, change.from);
    if let Some(old) = &change.displaced {
        println!("archived {} (was deployed)", old.version);
    }
    if let Some(path) = package {
        println!("package {path}");
    }
}
