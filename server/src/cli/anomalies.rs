//! `mcp-train anomalies`: the anomaly store of a data directory from the command line — list
//! with filters and cursor pagination, show one with its audit trail, and review.

use std::path::Path;
use std::process::ExitCode;

use mcp_train::fs::clock::now_micros;
use mcp_train::fs::registry;
use mcp_train::store::{AnomalyStore, StoreError};
use mcp_train_core::anomalies::{
    page_size, AnomalyDetail, AnomalyFilter, AnomalyStatus, Feedback, StatusChange, StoredAnomaly,
};

use super::args::{AnomaliesArgs, AnomaliesCommand, AnomalyStatusArgs, DataDirArg};
use super::{Failure, Outcome};

pub fn run(args: AnomaliesArgs) -> Outcome {
    match args.command {
        AnomaliesCommand::List(a) => {
            let filter = a.filter.filter().map_err(Failure::usage)?;
            let limit = page_size(Some(&a.limit))
                .map_err(|e| Failure::usage(anyhow::anyhow!("--limit: {}", e.message)))?;
            let store = open(&a.data_dir)?;
            let page = store
                .list(&filter, a.cursor.as_deref(), limit)
                .map_err(store_failure)?;
            if a.json {
                println!("{}", serde_json::to_string(&page).map_err(Failure::usage)?);
            } else {
                print_table(&page.items);
                match &page.next_cursor {
                    Some(cursor) => eprintln!("more: --cursor {cursor}"),
                    None => eprintln!("{} shown; no more", page.items.len()),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        AnomaliesCommand::Show(a) => {
            let store = open(&a.data_dir)?;
            let detail = store
                .get(a.id)
                .map_err(store_failure)?
                .ok_or_else(|| store_failure(StoreError::NotFound(a.id)))?;
            if a.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&detail).map_err(Failure::usage)?
                );
            } else {
                print_detail(&detail);
            }
            Ok(ExitCode::SUCCESS)
        }
        AnomaliesCommand::Ack(a) => change(a, AnomalyStatus::Acknowledged),
        AnomaliesCommand::Resolve(a) => change(a, AnomalyStatus::Resolved),
        AnomaliesCommand::FalsePositive(a) => change(a, AnomalyStatus::FalsePositive),
        AnomaliesCommand::Reopen(a) => change(a, AnomalyStatus::Acknowledged),
        AnomaliesCommand::Export(a) => super::anomaly_export::export(*a),
        AnomaliesCommand::Seed(a) => super::anomaly_export::seed(a),
    }
}

/// The store of `--data-dir` (default as `serve`).
pub fn open(arg: &DataDirArg) -> Result<AnomalyStore, Failure> {
    let dir = registry::data_dir(arg.data_dir.as_deref());
    open_dir(&dir)
}

/// The store of a data directory.
pub(super) fn open_dir(dir: &Path) -> Result<AnomalyStore, Failure> {
    AnomalyStore::open(dir).map_err(store_failure)
}

/// `--feedback DIR`: the verdicts (resolved, false_positive) in DIR's anomaly store, the one
/// place `train` and `evaluate` read them.
pub fn load_feedback(dir: &Path) -> Result<Feedback, Failure> {
    if !dir.join(mcp_train::store::FILE_NAME).is_file() {
        return Err(Failure::usage(anyhow::anyhow!(
            "--feedback {}: no anomaly store there ({} is missing)",
            dir.display(),
            mcp_train::store::FILE_NAME
        )));
    }
    let store = open_dir(dir)?;
    let mut feedback = Feedback::default();
    for status in [AnomalyStatus::Resolved, AnomalyStatus::FalsePositive] {
        let filter = AnomalyFilter {
            status: Some(status),
            ..AnomalyFilter::default()
        };
        let mut after = 0;
        loop {
            let batch = store.scan(&filter, after, 1000).map_err(store_failure)?;
            let Some(last) = batch.last() else { break };
            after = last.id;
            for anomaly in &batch {
                feedback.add(anomaly);
            }
        }
    }
    Ok(feedback)
}

/// Store errors: what the user asked for is wrong (exit 1), or the store failed (exit 2).
pub(super) fn store_failure(e: StoreError) -> Failure {
    match e {
        StoreError::NotFound(_)
        | StoreError::InvalidTransition { .. }
        | StoreError::Cursor(_)
        | StoreError::Invalid(_)
        | StoreError::NewerSchema { .. } => Failure::invalid(e),
        _ => Failure::usage(e),
    }
}

/// Who made a change: `--by`, else `$USER`, else `$LOGNAME`.
pub(super) fn who(by: Option<String>) -> Result<String, Failure> {
    let by = by
        .or_else(|| std::env::var("USER").ok().filter(|u| !u.trim().is_empty()))
        .or_else(|| {
            std::env::var("LOGNAME")
                .ok()
                .filter(|u| !u.trim().is_empty())
        })
        .ok_or_else(|| {
            Failure::usage(anyhow::anyhow!(
                "who is making this change? give --by NAME (neither USER nor LOGNAME is set)"
            ))
        })?;
    Ok(by)
}

fn change(args: AnomalyStatusArgs, status: AnomalyStatus) -> Outcome {
    let change = StatusChange {
        status,
        note: args.note,
        by: Some(who(args.by)?),
    };
    change
        .check()
        .map_err(|e| Failure::usage(anyhow::anyhow!("--{}: {}", e.key, e.message)))?;
    let store = open(&args.data_dir)?;
    let mut failed = None;
    for id in args.ids {
        match store.change_status(id, &change, now_micros()) {
            Ok(detail) => {
                if args.json {
                    println!(
                        "{}",
                        serde_json::to_string(&detail).map_err(Failure::usage)?
                    );
                } else {
                    let from = detail
                        .history
                        .last()
                        .and_then(|e| e.from)
                        .map_or("?", AnomalyStatus::as_str);
                    println!("anomaly {id}: {from} -> {}", detail.anomaly.status);
                }
            }
            Err(e) => {
                eprintln!("anomaly {id}: {e}");
                failed = Some(store_failure(e));
            }
        }
    }
    match failed {
        Some(failure) => Err(failure),
        None => Ok(ExitCode::SUCCESS),
    }
}

fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        let mut clipped: String = text.chars().take(width.saturating_sub(1)).collect();
        clipped.push('…');
        clipped
    }
}

fn print_table(items: &[StoredAnomaly]) {
    println!(
        "{:>8}  {:<27}  {:<8}  {:<14}  {:>5}  {:<15}  {:<15}  MESSAGE",
        "ID", "ENTRY TIME", "TYPE", "STATUS", "SCORE", "DEVICE", "CLIENT"
    );
    for a in items {
        println!(
            "{:>8}  {:<27}  {:<8}  {:<14}  {:>5.1}  {:<15}  {:<15}  {}",
            a.id,
            clip(&a.anomaly.entry.timestamp, 27),
            clip(&a.log_type, 8),
            a.status.as_str(),
            a.score,
            clip(a.device.as_deref().unwrap_or("-"), 15),
            clip(a.client.as_deref().unwrap_or("-"), 15),
            clip(&a.anomaly.entry.message, 60)
        );
    }
}

fn print_detail(d: &AnomalyDetail) {
    let a = &d.anomaly;
    let e = &a.anomaly.entry;
    println!("anomaly     {}", a.id);
    println!("status      {}", a.status);
    println!("score       {:.1} (model {})", a.score, a.model_version);
    println!("log type    {}", a.log_type);
    println!("entry time  {}", e.timestamp);
    println!("device      {}", a.device.as_deref().unwrap_or("-"));
    println!("client      {}", a.client.as_deref().unwrap_or("-"));
    println!("process     {}", e.process);
    println!("message     {}", e.message);
    println!("detected    {}", a.detected_at);
    for c in &a.anomaly.contributions {
        println!(
            "because     {} = {} (+{:.4})",
            c.feature, c.value, c.contribution
        );
    }
    println!("history");
    for ev in &d.history {
        let from = ev.from.map_or("-", AnomalyStatus::as_str);
        let note = ev
            .note
            .as_deref()
            .map(|n| format!("  \"{n}\""))
            .unwrap_or_default();
        println!("  {}  {:<12} {from} -> {}{note}", ev.at, ev.by, ev.to);
    }
}
