//! MCP resources: what an assistant reads rather than calls.
//!
//! ```text
//! mcp-train://models/{version}         model card (record, training, evaluation summary)
//! mcp-train://schemas/logs/{log_type}  the agent's description and log schema
//! mcp-train://schemas/features/{log_type}  the feature columns the agent extracts
//! mcp-train://jobs/{id}                a training job's report
//! mcp-train://docs/{name}              the documentation (api, protocol, deployment, mcp, …)
//! ```

use mcp_train_core::agent::{AgentDescription, AGENTS};
use mcp_train_core::registry::RegistryError;
use rmcp::model::{ErrorData, ReadResourceResult, Resource, ResourceContents, ResourceTemplate};
use serde_json::{json, Value};

use super::McpServer;
use crate::http::blocking;

const SCHEME: &str = "mcp-train://";
const JSON: &str = "application/json";
const MARKDOWN: &str = "text/markdown";

/// The documentation served as `mcp-train://docs/{name}`: name, title, text.
const DOCS: [(&str, &str, &str); 7] = [
    (
        "readme",
        "README: install, commands, quick start",
        include_str!("../../../README.md"),
    ),
    ("api", "The HTTP API", include_str!("../../../docs/API.md")),
    (
        "protocol",
        "The agent protocol",
        include_str!("../../../docs/protocol.md"),
    ),
    (
        "deployment",
        "Deploying mcp-train",
        include_str!("../../../docs/deployment.md"),
    ),
    (
        "notifications",
        "Notifications",
        include_str!("../../../docs/notifications.md"),
    ),
    (
        "package",
        "Deployment packages",
        include_str!("../../../docs/PACKAGE.md"),
    ),
    (
        "mcp",
        "The MCP server: connecting, tools, resources, prompts, security",
        include_str!("../../../docs/mcp.md"),
    ),
];

/// Most models and jobs `resources/list` names (the templates reach every one).
const LISTED: usize = 50;

/// The URI templates of the resources.
pub(super) fn templates() -> Vec<ResourceTemplate> {
    let template = |uri: &str, name: &str, description: &str, mime: &str| {
        ResourceTemplate::new(format!("{SCHEME}{uri}"), name)
            .with_description(description)
            .with_mime_type(mime)
    };
    vec![
        template(
            "models/{version}",
            "model_card",
            "A registered model's card: registry record (status, checksum, lineage), training parameters and data, evaluation metrics and top features.",
            JSON,
        ),
        template(
            "schemas/logs/{log_type}",
            "log_schema",
            "A log type's agent: programs, capabilities and the log schema its records follow.",
            JSON,
        ),
        template(
            "schemas/features/{log_type}",
            "feature_schema",
            "The feature columns a log type's agent extracts from records, in order.",
            JSON,
        ),
        template(
            "jobs/{id}",
            "training_job",
            "A training job's report: status, progress, parameters, the registered model or the error.",
            JSON,
        ),
        template(
            "docs/{name}",
            "docs",
            "mcp-train's documentation: readme, api, protocol, deployment, notifications, package.",
            MARKDOWN,
        ),
    ]
}

impl McpServer {
    /// Every concrete resource: the docs, each log type's schemas, the newest models and jobs.
    pub(super) async fn resource_list(&self) -> Result<Vec<Resource>, ErrorData> {
        let mut list = Vec::new();
        for (name, title, text) in DOCS {
            list.push(
                Resource::new(format!("{SCHEME}docs/{name}"), format!("docs/{name}"))
                    .with_title(title)
                    .with_mime_type(MARKDOWN)
                    .with_size(text.len() as u64),
            );
        }
        for agent in AGENTS {
            let t = agent.info().log_type;
            list.push(
                Resource::new(
                    format!("{SCHEME}schemas/logs/{t}"),
                    format!("schemas/logs/{t}"),
                )
                .with_title(format!("Log schema: {t}"))
                .with_mime_type(JSON),
            );
            list.push(
                Resource::new(
                    format!("{SCHEME}schemas/features/{t}"),
                    format!("schemas/features/{t}"),
                )
                .with_title(format!("Feature schema: {t}"))
                .with_mime_type(JSON),
            );
        }
        let at = self.state().registry.clone();
        let mut models = blocking(move || {
            at.open()
                .list()
                .map_err(|e| crate::http::ApiError::internal("cannot read the registry", &e))
        })
        .await
        .map_err(|e| ErrorData::internal_error(e.message, None))?;
        models.sort_by(|a, b| b.version.cmp(&a.version));
        for m in models.into_iter().take(LISTED) {
            list.push(
                Resource::new(
                    format!("{SCHEME}models/{}", m.version),
                    format!("models/{}", m.version),
                )
                .with_title(format!(
                    "Model {} ({}, {})",
                    m.version,
                    m.log_type,
                    m.status.as_str()
                ))
                .with_mime_type(JSON),
            );
        }
        for job in crate::http::jobs::all(self.state())
            .into_iter()
            .take(LISTED)
        {
            list.push(
                Resource::new(
                    format!("{SCHEME}jobs/{}", job.id),
                    format!("jobs/{}", job.id),
                )
                .with_title(format!(
                    "Training job {} ({})",
                    job.file_name,
                    job.status.as_str()
                ))
                .with_mime_type(JSON),
            );
        }
        Ok(list)
    }

    /// The resource `uri` names, or a not-found error saying which URIs exist.
    pub(super) async fn resource_read(&self, uri: &str) -> Result<ReadResourceResult, ErrorData> {
        let not_found = |what: String| resource_not_found(uri, what);
        let Some(path) = uri.strip_prefix(SCHEME) else {
            return Err(not_found(format!("{uri:?} is not an mcp-train:// URI")));
        };
        let (kind, rest) = path.split_once('/').unwrap_or((path, ""));
        let (text, mime) = match (kind, rest) {
            ("docs", name) => match DOCS.iter().find(|(n, _, _)| *n == name) {
                Some((_, _, text)) => ((*text).to_owned(), MARKDOWN),
                None => {
                    let names: Vec<&str> = DOCS.iter().map(|(n, _, _)| *n).collect();
                    return Err(not_found(format!(
                        "no document {name:?}: the documents are {}",
                        names.join(", ")
                    )));
                }
            },
            ("schemas", rest) => {
                let (which, log_type) = rest.split_once('/').unwrap_or((rest, ""));
                let agent = mcp_train_core::agent::agent(log_type)
                    .map_err(|e| not_found(format!("no schema for {log_type:?}: {e}")))?;
                let value = match which {
                    "logs" => AgentDescription::of(agent)
                        .map_err(|e| ErrorData::internal_error(e.to_string(), None))
                        .and_then(|d| {
                            serde_json::to_value(d)
                                .map_err(|e| ErrorData::internal_error(e.to_string(), None))
                        })?,
                    "features" => {
                        let config = self.state().config.clone();
                        tokio::task::spawn_blocking(move || feature_schema(agent, &config))
                            .await
                            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?
                    }
                    _ => {
                        return Err(not_found(format!(
                            "no schema kind {which:?}: use schemas/logs/{{log_type}} or schemas/features/{{log_type}}"
                        )))
                    }
                };
                (pretty(&value), JSON)
            }
            ("models", version) => (pretty(&self.model_card(uri, version).await?), JSON),
            ("jobs", id) => {
                let job = crate::http::jobs::get(self.state(), id).map_err(|e| {
                    not_found(format!(
                        "{} (jobs are kept in memory while the server runs)",
                        e.message
                    ))
                })?;
                (pretty(&serde_json::to_value(job).unwrap_or_default()), JSON)
            }
            _ => return Err(not_found(format!("no resource {uri:?}"))),
        };
        Ok(ReadResourceResult::new(vec![ResourceContents::text(
            text, uri,
        )
        .with_mime_type(mime)]))
    }

    /// A model's card: its record, training information and a bounded evaluation summary.
    async fn model_card(&self, uri: &str, version: &str) -> Result<Value, ErrorData> {
        let not_found = |what: String| resource_not_found(uri, what);
        let at = self.state().registry.clone();
        let v = version.to_owned();
        let stored = tokio::task::spawn_blocking(move || at.open().get(&v))
            .await
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        let stored = match stored {
            Ok(stored) => stored,
            Err(e @ RegistryError::NotFound { .. }) => {
                return Err(not_found(format!("{e} (list_models shows the versions)")))
            }
            Err(e) => {
                let valid = version.len() == 15
                    && version.bytes().enumerate().all(|(i, b)| {
                        if i == 8 {
                            b == b'_'
                        } else {
                            b.is_ascii_digit()
                        }
                    });
                if !valid {
                    return Err(not_found(format!(
                        "{version:?} is not a model version (YYYYMMDD_HHMMSS)"
                    )));
                }
                tracing::error!(version, error = %e, "cannot read a model for its card");
                return Err(ErrorData::internal_error("cannot read the model", None));
            }
        };
        let artifact = stored
            .artifact()
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        let mut evaluation = serde_json::to_value(&artifact.evaluation).unwrap_or_default();
        if let Some(e) = evaluation.as_object_mut() {
            // Curves and histograms are long; the card keeps the figures.
            for long in ["roc_curve", "pr_curve", "score_histogram"] {
                e.remove(long);
            }
            if let Some(Value::Array(features)) = e.get_mut("feature_importance") {
                features.truncate(20);
            }
        }
        Ok(json!({
            "record": stored.record,
            "log_type": artifact.log_type,
            "created_at": artifact.created_at,
            "generator": artifact.generator,
            "threshold": artifact.threshold,
            "training": artifact.training,
            "evaluation": evaluation,
        }))
    }
}

/// The feature columns `agent` extracts: fitted on a small synthetic sample of its log type
/// (the columns depend on the configuration, not on the data).
fn feature_schema(
    agent: &dyn mcp_train_core::agent::Agent,
    config: &mcp_train_core::config::Config,
) -> Value {
    let info = agent.info();
    let mut value = json!({
        "log_type": info.log_type,
        "feature_schema": info.feature_schema,
    });
    let sample = mcp_train_core::synth::SynthConfig {
        records: 500,
        ..Default::default()
    }
    .check();
    let mut bytes = Vec::new();
    let features = sample
        .ok()
        .and_then(|c| agent.synth(&c, &mut bytes).ok())
        .and_then(|_| {
            let parsed =
                mcp_train_core::export::parse_export(&bytes, &config.training.validation).ok()?;
            agent.fit(&parsed.export.records, config).ok()
        });
    if let Some(state) = features {
        value["features"] = json!(state.features);
    }
    value
}

/// The resource-not-found error, saying which URIs exist.
fn resource_not_found(uri: &str, what: String) -> ErrorData {
    ErrorData::resource_not_found(
        format!(
            "{what} (resources/list and resources/templates/list show what exists: \
             mcp-train://models/{{version}}, schemas/logs/{{log_type}}, \
             schemas/features/{{log_type}}, jobs/{{id}}, docs/{{name}})"
        ),
        Some(json!({ "uri": uri.chars().take(256).collect::<String>() })),
    )
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}
