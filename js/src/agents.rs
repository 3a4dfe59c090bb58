//! The built-in agents: `listAgents` (as `mcp-train agents list --json`) and `synth` (as
//! `mcp-train synth`).

use js_sys::{Object, Reflect, Uint8Array};
use mcp_train_core::agent::log_schema::builtin_log_schema;
use mcp_train_core::agent::{agent, Agent, AGENTS};
use mcp_train_core::config::Config;
use mcp_train_core::export::{parse_export, ValidateOptions};
use mcp_train_core::synth::SynthConfig;
use serde::Deserialize;
use tsify::{Ts, Tsify};
use wasm_bindgen::prelude::*;

use crate::convert::{micros, required, to_js};
use crate::error::{js_error, Code};

/// What to generate; each option left out is `mcp-train synth`'s default.
#[derive(Debug, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SynthOptions {
    /// Records to write.
    pub records: usize,
    /// The log type: `wifi` (default), `dns`, `firewall` or `syslog`.
    #[tsify(optional)]
    pub log_type: Option<String>,
    /// Share of records in injected incidents (label 1), in [0, 0.5] (default 0.05).
    #[tsify(optional)]
    pub anomaly_ratio: Option<f64>,
    /// The generator's seed (default 42): the same options always give the same bytes.
    #[tsify(optional)]
    pub seed: Option<u64>,
    /// Start of the span, ISO 8601 (default `2024-01-01T00:00:00Z`).
    #[tsify(optional)]
    pub start: Option<String>,
    /// Length of the span in days (default 7).
    #[tsify(optional)]
    pub days: Option<u32>,
    /// Access points (default 4).
    #[tsify(optional)]
    pub access_points: Option<usize>,
    /// Known client devices (default 60).
    #[tsify(optional)]
    pub clients: Option<usize>,
}

#[wasm_bindgen(typescript_custom_section)]
const AGENTS_TS: &'static str = r#"
/** A synthetic export and what it holds. */
export interface Synthetic {
    /** The export's bytes (NDJSON). */
    bytes: Uint8Array;
    summary: SynthSummary;
}
"#;

/// A realistic synthetic export with labelled incidents, byte for byte what `mcp-train synth`
/// writes for the same options.
#[wasm_bindgen(unchecked_return_type = "Synthetic")]
pub fn synth(options: Ts<SynthOptions>) -> Result<JsValue, JsValue> {
    let options: SynthOptions = required(options, "options")?;
    let log_type = options.log_type.as_deref().unwrap_or("wifi");
    let agent =
        agent(log_type).map_err(|e| js_error(Code::UnsupportedLogType, format!("logType: {e}")))?;
    let defaults = SynthConfig::default();
    let config = SynthConfig {
        records: options.records,
        anomaly_ratio: options.anomaly_ratio.unwrap_or(defaults.anomaly_ratio),
        seed: options.seed.unwrap_or(defaults.seed),
        start_micros: micros(
            "start",
            options.start.as_deref().unwrap_or("2024-01-01T00:00:00Z"),
        )?,
        days: options.days.unwrap_or(defaults.days),
        access_points: options.access_points.unwrap_or(defaults.access_points),
        clients: options.clients.unwrap_or(defaults.clients),
    }
    .check()
    .map_err(|e| js_error(Code::InvalidArgument, e))?;
    let mut bytes = Vec::new();
    let summary = agent
        .synth(&config, &mut bytes)
        .map_err(|e| js_error(Code::InvalidArgument, format!("cannot generate: {e}")))?;
    let result = Object::new();
    let _ = Reflect::set(
        &result,
        &"bytes".into(),
        &Uint8Array::from(bytes.as_slice()),
    );
    let _ = Reflect::set(&result, &"summary".into(), &to_js(&summary)?);
    Ok(result.into())
}

/// The built-in agents: what each reads (log type, programs, protocol, feature schema), its
/// feature names and its built-in log schema, as `mcp-train agents list --json` lists them.
#[wasm_bindgen(js_name = listAgents, unchecked_return_type = "AgentDescription[]")]
pub fn list_agents() -> Result<JsValue, JsValue> {
    let mut entries = Vec::with_capacity(AGENTS.len());
    for &agent in AGENTS {
        let info = agent.info();
        let features = feature_names(agent).map_err(|e| {
            js_error(
                Code::UnsupportedLogType,
                format!("agent {}: cannot list its features: {e}", info.name),
            )
        })?;
        let log_schema = match builtin_log_schema(info.log_type) {
            Some(Ok(schema)) => {
                serde_json::to_value(schema).map_err(|e| js_error(Code::InvalidArgument, e))?
            }
            Some(Err(e)) => {
                return Err(js_error(
                    Code::UnsupportedLogType,
                    format!("agent {}: built-in log schema: {e}", info.name),
                ))
            }
            None => serde_json::Value::Null,
        };
        let mut entry =
            serde_json::to_value(info).map_err(|e| js_error(Code::InvalidArgument, e))?;
        if let Some(object) = entry.as_object_mut() {
            object.insert("feature_count".into(), features.len().into());
            object.insert("features".into(), features.into());
            object.insert("log_schema".into(), log_schema);
        }
        entries.push(entry);
    }
    to_js(&entries)
}

/// The agent's feature names under the built-in configuration: its feature state fitted on a
/// small synthetic sample of its own log type (the names do not depend on the sample), as the
/// CLI lists them.
fn feature_names(agent: &dyn Agent) -> Result<Vec<String>, String> {
    let config = SynthConfig {
        records: 500,
        seed: 1,
        ..SynthConfig::default()
    }
    .check()
    .map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    agent
        .synth(&config, &mut bytes)
        .map_err(|e| e.to_string())?;
    let export = parse_export(&bytes, &ValidateOptions::default())
        .and_then(|p| p.into_usable())
        .map_err(|e| e.to_string())?;
    let state = agent
        .fit(&export.records, &Config::defaults())
        .map_err(|e| e.to_string())?;
    Ok(state.features)
}
