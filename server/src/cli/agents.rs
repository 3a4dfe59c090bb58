//! `mcp-train agents list`: the built-in agents of this build.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use mcp_train_core::agent::{Agent, Capability, AGENTS};
use mcp_train_core::config::Config;
use mcp_train_core::export::{parse_export, ValidateOptions};
use mcp_train_core::synth::SynthConfig;
use serde_json::{json, Value};

use super::args::{AgentsArgs, AgentsCommand};
use super::{Failure, Outcome};

pub fn run(args: AgentsArgs) -> Outcome {
    match args.command {
        AgentsCommand::List { json } => list(json),
    }
}

fn list(json: bool) -> Outcome {
    let mut described = Vec::with_capacity(AGENTS.len());
    for &agent in AGENTS {
        let name = agent.info().name;
        let features = feature_names(agent)
            .with_context(|| format!("agent {name}: cannot list its features"))
            .map_err(Failure::invalid)?;
        described.push((agent, features));
    }
    if json {
        let mut entries = Vec::with_capacity(described.len());
        for (agent, features) in &described {
            let info = agent.info();
            let log_schema = log_schema(*agent)
                .with_context(|| format!("agent {}: built-in log schema", info.name))
                .map_err(Failure::invalid)?;
            let mut entry = json!(info);
            if let Some(object) = entry.as_object_mut() {
                object.insert("feature_count".into(), json!(features.len()));
                object.insert("features".into(), json!(features));
                object.insert("log_schema".into(), log_schema);
            }
            entries.push(entry);
        }
        println!("{}", Value::Array(entries));
        return Ok(ExitCode::SUCCESS);
    }

    let header = [
        "NAME",
        "LOG TYPE",
        "PROTOCOL",
        "FEATURE SCHEMA",
        "STABILITY",
        "CAPABILITIES",
        "PROGRAMS",
        "FEATURES",
    ]
    .map(str::to_owned);
    let rows = described.iter().map(|(agent, features)| {
        let info = agent.info();
        [
            info.name.to_owned(),
            info.log_type.to_owned(),
            info.protocol_version.to_owned(),
            info.feature_schema.to_owned(),
            info.stability.as_str().to_owned(),
            info.capabilities
                .iter()
                .map(|&c| capability_name(c))
                .collect::<Vec<_>>()
                .join(","),
            info.programs.join(","),
            features.len().to_string(),
        ]
    });
    let rows: Vec<[String; 8]> = std::iter::once(header).chain(rows).collect();
    let mut widths = [0usize; 8];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    for row in &rows {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            // The feature count right-aligned, the rest left-aligned.
            let _ = if i == 7 {
                write!(line, "{cell:>w$}")
            } else {
                write!(line, "{cell:<w$}  ")
            };
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

/// The capability as it is spelled in JSON (`raw_lines`, …).
fn capability_name(capability: Capability) -> String {
    match serde_json::to_value(capability) {
        Ok(Value::String(name)) => name,
        _ => format!("{capability:?}"),
    }
}

/// The agent's built-in log schema, YAML read into JSON.
fn log_schema(agent: &dyn Agent) -> anyhow::Result<Value> {
    serde_saphyr::from_str(agent.log_schema_yaml())
        .map_err(|e| anyhow::anyhow!("{}", e.to_string().lines().next().unwrap_or("invalid YAML")))
}

/// The agent's feature names under the default configuration: its feature state fitted on a
/// small synthetic sample of its own log type (the names do not depend on the sample).
fn feature_names(agent: &dyn Agent) -> anyhow::Result<Vec<String>> {
    let config = SynthConfig {
        records: 500,
        seed: 1,
        ..SynthConfig::default()
    }
    .check()?;
    let mut bytes = Vec::new();
    agent.synth(&config, &mut bytes)?;
    let export = parse_export(&bytes, &ValidateOptions::default())?.into_usable()?;
    let state = agent.fit(&export.records, &Config::defaults())?;
    Ok(state.features)
}
