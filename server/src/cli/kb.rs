//! `mcp-train kb`: the knowledge base of a data directory from the command line — the same index
//! (DATA_DIR/knowledge.sqlite), query parser and explanation as the server's search box, the
//! HTTP API and the MCP tools.

use std::process::ExitCode;

use mcp_train::fs::registry;
use mcp_train::kb::{self, ExplainError, Explanation, KbError, KnowledgeBase};
use mcp_train_core::knowledge::{SearchParams, SearchQueryError, SearchResults};

use super::anomalies::{open_dir, store_failure};
use super::args::{KbArgs, KbCommand, KbSearchArgs};
use super::{Failure, Outcome};

pub fn run(args: KbArgs) -> Outcome {
    match args.command {
        KbCommand::Search(a) => search(a),
        KbCommand::Explain(a) => {
            let dir = registry::data_dir(a.data_dir.data_dir.as_deref());
            let store = open_dir(&dir)?;
            let explanation = kb::explain(&dir, &store, a.id).map_err(|e| match e {
                ExplainError::NotFound(_) => Failure::invalid(e),
                ExplainError::Store(e) => store_failure(e),
                ExplainError::Kb(e) => kb_failure(e),
            })?;
            if a.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&explanation).map_err(Failure::usage)?
                );
            } else {
                print_explanation(&explanation);
            }
            Ok(ExitCode::SUCCESS)
        }
        KbCommand::Rebuild(a) => {
            let dir = registry::data_dir(a.data_dir.data_dir.as_deref());
            let store = open_dir(&dir)?;
            let mut index = KnowledgeBase::open(&dir).map_err(kb_failure)?;
            let report = index.rebuild(&store).map_err(kb_failure)?;
            if a.json {
                println!(
                    "{}",
                    serde_json::to_string(&report).map_err(Failure::usage)?
                );
            } else {
                println!(
                    "rebuilt {}: {} documents ({} catalogue entries, {} models, {} anomalies, {} verdicts)",
                    index.path().display(),
                    report.documents,
                    report.catalogue,
                    report.models,
                    report.anomalies,
                    report.verdicts
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn kb_failure(e: KbError) -> Failure {
    Failure::usage(e)
}

fn search(a: KbSearchArgs) -> Outcome {
    let mut params = SearchParams {
        q: Some(a.query.join(" ")),
        ..SearchParams::default()
    };
    // The core names the parameter; the command line names its flag.
    let flag = |e: SearchQueryError| {
        let name = match e.param.as_str() {
            "q" => "WORDS".to_owned(),
            p => format!("--{}", p.replace('_', "-")),
        };
        Failure::invalid(anyhow::anyhow!("{name}: {}", e.message))
    };
    for kind in &a.kind {
        params.set("kind", kind).map_err(flag)?;
    }
    if let Some(log_type) = &a.log_type {
        params.set("log_type", log_type).map_err(flag)?;
    }
    params.set("limit", &a.limit).map_err(flag)?;
    let query = params.check().map_err(flag)?;
    let dir = registry::data_dir(a.data_dir.data_dir.as_deref());
    let store = open_dir(&dir)?;
    let results = SearchResults {
        results: kb::search(
            &dir,
            &registry::RegistryAt::Dir(dir.clone()),
            &store,
            &query,
        )
        .map_err(kb_failure)?,
    };
    if a.json {
        println!(
            "{}",
            serde_json::to_string(&results).map_err(Failure::usage)?
        );
        return Ok(ExitCode::SUCCESS);
    }
    if results.results.is_empty() {
        eprintln!("nothing found for {:?}", query.terms.join(" "));
    }
    for hit in &results.results {
        println!(
            "{:>3}. [{}] {}  ({} {}{})",
            hit.rank,
            hit.kind,
            hit.title,
            hit.source.kind,
            hit.source.id,
            hit.log_type
                .as_deref()
                .map(|t| format!(", {t}"))
                .unwrap_or_default()
        );
        println!("     {}", hit.snippet.replace('\n', " "));
    }
    Ok(ExitCode::SUCCESS)
}

fn print_explanation(e: &Explanation) {
    let a = &e.anomaly;
    println!(
        "anomaly {} ({}, score {:.1}, {}) by model {} at {}",
        a.id, a.log_type, a.score, a.status, a.model_version, a.timestamp
    );
    println!("  {}", a.message);
    println!("\n{}", e.summary);
    if !e.top_features.is_empty() {
        println!("\nfeatures that pushed it over:");
        for f in &e.top_features {
            let value = f
                .value
                .map(|v| format!("{v}"))
                .unwrap_or_else(|| "-".into());
            println!(
                "  {:<28} {:>+9.4}  value {value}  — {}",
                f.feature, f.contribution, f.meaning
            );
        }
    }
    if !e.events.is_empty() {
        println!("\nwhat the event means:");
        for m in &e.events {
            println!("  [{}] {} — {}", m.id, m.title, m.meaning);
            println!("      check: {}", m.what_to_check);
        }
    }
    if !e.similar.is_empty() {
        println!("\nsimilar past anomalies:");
        for s in &e.similar {
            let verdict = match (&s.verdict_by, &s.verdict_note) {
                (Some(by), Some(note)) => format!(" — {by}: {note}"),
                (Some(by), None) => format!(" — by {by}"),
                _ => String::new(),
            };
            println!(
                "  #{} {} (score {:.1}, similarity {:.2}){verdict}",
                s.id, s.status, s.score, s.similarity
            );
        }
    }
}
