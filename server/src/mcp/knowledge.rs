//! Tools of the `knowledge` group: `search_knowledge` (the knowledge base's full-text index,
//! as `mcp-train kb search` and `GET /api/kb/search`) and `explain_anomaly`.

use mcp_train_core::knowledge::{SearchParams, SearchResults};
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};

use super::{McpServer, ToolError};
use crate::kb::Explanation;

/// `search_knowledge`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchArgs {
    /// What to look for, in words: an event name (`AP-STA-POSSIBLE-PSK-MISMATCH`), a port
    /// (`DPT=445`), a client MAC, a feature, a model version. At most 500 bytes; every word is
    /// matched literally, documents matching more words rank higher.
    pub query: String,
    /// Only these kinds of document: `catalogue` (what a log event means), `model` (model
    /// cards), `evaluation`, `job` (training jobs), `anomaly`, `verdict` (analysts' reviews).
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Only documents about this log type (wifi, dns, firewall, …).
    #[serde(default)]
    pub log_type: Option<String>,
    /// Most results (1–100, default 10).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// `explain_anomaly`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExplainArgs {
    /// The stored anomaly's id (list_anomalies and detect_anomalies show them).
    pub id: i64,
}

#[tool_router(router = knowledge_tools, vis = "pub(super)")]
impl McpServer {
    #[tool(
        description = "Search the knowledge base: the catalogue of log events mcp-train's agents \
                       understand (what an event, reason code or dropped port means and what to \
                       check), model cards and evaluations, training jobs, stored anomalies and \
                       analysts' verdicts. Ranked best first (BM25); each result cites its \
                       source (catalogue entry id, model version or anomaly id) for get_model or \
                       get_anomaly.",
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn search_knowledge(
        &self,
        Parameters(args): Parameters<SearchArgs>,
    ) -> Result<Json<SearchResults>, ToolError> {
        let mut params = SearchParams {
            q: Some(args.query),
            ..SearchParams::default()
        };
        let set = |params: &mut SearchParams, key: &str, value: &str| {
            params
                .set(key, value)
                .map_err(|e| ToolError::invalid(e.to_string()))
        };
        for kind in &args.kinds {
            set(&mut params, "kind", kind)?;
        }
        if let Some(log_type) = &args.log_type {
            set(&mut params, "log_type", log_type)?;
        }
        if let Some(limit) = args.limit {
            set(&mut params, "limit", &limit.to_string())?;
        }
        let query = params
            .check()
            .map_err(|e| ToolError::invalid(e.to_string()))?;
        Ok(Json(
            crate::http::kb::search_query(self.state(), query).await?,
        ))
    }

    #[tool(
        description = "Explain a stored anomaly: the features that pushed it over (largest \
                       contribution first, with what each measures), what its log event means \
                       and what to check (catalogue entries), similar past anomalies and how \
                       analysts resolved them, and a short summary. Next: set_anomaly_status \
                       with your verdict.",
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn explain_anomaly(
        &self,
        Parameters(args): Parameters<ExplainArgs>,
    ) -> Result<Json<Explanation>, ToolError> {
        Ok(Json(
            crate::http::kb::explanation_of(self.state(), args.id).await?,
        ))
    }
}
