//! MCP (Model Context Protocol): the tools, resources and prompts an AI assistant drives
//! mcp-train with, on the official Rust SDK (`rmcp`). One tool set, two transports:
//!
//! - `mcp-train mcp` — stdio, over a data directory ([`serve_stdio`]);
//! - `/mcp` on `mcp-train serve` — streamable HTTP behind the server's bearer token, allowed hosts
//!   and origins, ended when the server stops ([`http_service`]).
//!
//! Both serve the 2026-07-28 (stateless) and 2025-11-25 (session) protocol revisions; which one
//! is the client's choice. Tools come in groups ([`ToolGroup`], one file each); a group can be
//! switched off and a read-only mode keeps only the tools annotated read-only ([`McpConfig`],
//! `mcp.yaml` in the configuration directory).
//!
//! Conventions every tool follows (docs/mcp.md lists the tools):
//! - input and output are typed: `Parameters<Args>` → input schema, a return type spelled
//!   `Result<Json<Out>, ToolError>` → output schema and `structuredContent` (the `#[tool]` macro
//!   reads the type as written: an alias hides the schema); `Out` is a JSON object;
//! - errors the model can act on are answered in band (`isError: true`, text
//!   `code: message`, see [`ToolError`]), never as protocol errors;
//! - data travels by handle (dataset ids, model versions, job ids, anomaly ids), never as log
//!   bytes in arguments; lists are bounded and paged with an opaque cursor ([`Page`]);
//! - every tool carries read-only / destructive / idempotent hints.
//!
//! Everything runs on the same [`AppState`] as the HTTP API, so a tool does what the matching
//! endpoint or command does.

mod config;
mod datasets;
mod detection;
mod knowledge;
mod models;
mod prompts;
mod resources;
mod training;

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::{prompt_handler, tool_handler, ServerHandler};

pub use config::{load_mcp_config, McpConfig, McpConfigError, ToolGroup, MCP_FILE};

use crate::http::AppState;

/// An error the model can correct: a stable code (`not_found`, `invalid_parameter`,
/// `conflict`, `read_only`, …, the HTTP API's codes) and a message saying what was wrong and
/// what to do. Sent in band: a tool result with `isError: true` and the text `code: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolError {
    pub code: &'static str,
    pub message: String,
}

impl ToolError {
    pub fn new(code: &'static str, message: impl Into<String>) -> ToolError {
        ToolError {
            code,
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> ToolError {
        ToolError::new("not_found", message)
    }

    pub fn invalid(message: impl Into<String>) -> ToolError {
        ToolError::new("invalid_parameter", message)
    }

    pub fn conflict(message: impl Into<String>) -> ToolError {
        ToolError::new("conflict", message)
    }
}

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl rmcp::model::IntoContents for ToolError {
    fn into_contents(self) -> Vec<ContentBlock> {
        vec![ContentBlock::text(self.to_string())]
    }
}

/// The HTTP API's errors keep their code and message (internal ones are already generic).
impl From<crate::http::ApiError> for ToolError {
    fn from(e: crate::http::ApiError) -> ToolError {
        ToolError {
            code: e.code,
            message: e.message,
        }
    }
}

/// Most items a list tool returns at once, and the default.
pub const MAX_PAGE: usize = 100;
pub const DEFAULT_PAGE: usize = 20;

/// Paging of list tools: `limit` (1–[`MAX_PAGE`], default [`DEFAULT_PAGE`]) and the opaque
/// `cursor` a previous page returned as `next_cursor`.
#[derive(Debug, Clone, Default, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PageArgs {
    /// How many items to return (1–100, default 20).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page; omit for the first page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// One page of `items` out of a list ordered by the caller, and the cursor of the next page.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// How many items the whole list holds.
    pub total: usize,
}

impl PageArgs {
    /// The page of `all` these arguments ask for; the cursor is the offset of the next item,
    /// so it stays valid while the list only grows at its end.
    pub fn page<T>(&self, all: Vec<T>) -> Result<Page<T>, ToolError> {
        let limit = match self.limit {
            None => DEFAULT_PAGE,
            Some(n) if (1..=MAX_PAGE as u32).contains(&n) => n as usize,
            Some(n) => {
                return Err(ToolError::invalid(format!(
                    "limit: {n} is not in 1..={MAX_PAGE}"
                )))
            }
        };
        let start = match self.cursor.as_deref() {
            None | Some("") => 0,
            Some(c) => c
                .strip_prefix("o")
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|&n| n <= all.len())
                .ok_or_else(|| {
                    ToolError::invalid(format!(
                        "cursor: {c:?} is not a cursor this list gave (start again without one)"
                    ))
                })?,
        };
        let total = all.len();
        let end = (start + limit).min(total);
        let next_cursor = (end < total).then(|| format!("o{end}"));
        let items = all.into_iter().skip(start).take(end - start).collect();
        Ok(Page {
            items,
            next_cursor,
            total,
        })
    }
}

/// The MCP server: the tools of the enabled groups over one [`AppState`]. Cheap to clone (one
/// per HTTP session or stateless request).
#[derive(Debug, Clone)]
pub struct McpServer {
    state: AppState,
    config: Arc<McpConfig>,
    tools: Arc<ToolRouter<McpServer>>,
}

impl McpServer {
    /// The server over `state` with the tools `config` enables.
    pub fn new(state: AppState, config: McpConfig) -> McpServer {
        let mut tools = ToolRouter::new();
        for group in ToolGroup::ALL {
            if config.disabled_groups.contains(&group) {
                continue;
            }
            tools.merge(match group {
                ToolGroup::Datasets => Self::dataset_tools(),
                ToolGroup::Training => Self::training_tools(),
                ToolGroup::Models => Self::model_tools(),
                ToolGroup::Detection => Self::detection_tools(),
                ToolGroup::Knowledge => Self::knowledge_tools(),
            });
        }
        if config.read_only {
            let writers: Vec<String> = tools
                .list_all()
                .into_iter()
                .filter(|t| !is_read_only(t))
                .map(|t| t.name.to_string())
                .collect();
            for name in writers {
                tools.remove_route(&name);
            }
        }
        McpServer {
            state,
            config: Arc::new(config),
            tools: Arc::new(tools),
        }
    }

    /// The tools this server lists (after groups and read-only mode).
    pub fn tools(&self) -> Vec<rmcp::model::Tool> {
        self.tools.list_all()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn config(&self) -> &McpConfig {
        &self.config
    }
}

/// A tool is read-only when it says so; no hint counts as a write.
pub fn is_read_only(tool: &rmcp::model::Tool) -> bool {
    tool.annotations
        .as_ref()
        .and_then(|a| a.read_only_hint)
        .unwrap_or(false)
}

const INSTRUCTIONS: &str = "mcp-train turns network device logs (hostapd/wpa_supplicant WiFi, \
dnsmasq DNS, firewall) into anomaly-detection models and runs them. Typical flow: register_dataset \
(or generate_dataset) → validate_dataset → start_training (wait: true for progress) → \
compare_models → deploy_model → detect_anomalies → list_anomalies → explain_anomaly → \
set_anomaly_status. Data is passed by handle (dataset ids, model versions, job and anomaly ids). \
search_knowledge explains log events (e.g. AP-STA-POSSIBLE-PSK-MISMATCH, NXDOMAIN bursts, DPT=445 \
drops) and finds past anomalies and analysts' verdicts.";

#[tool_handler(router = self.tools)]
#[prompt_handler(router = Self::prompts())]
impl ServerHandler for McpServer {
    async fn list_resources(
        &self,
        _request: Option<rmcp::model::PaginatedRequestParams>,
        _context: rmcp::service::RequestContext<rmcp::RoleServer>,
    ) -> Result<rmcp::model::ListResourcesResult, rmcp::ErrorData> {
        Ok(rmcp::model::ListResourcesResult::with_all_items(
            self.resource_list().await?,
        ))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<rmcp::model::PaginatedRequestParams>,
        _context: rmcp::service::RequestContext<rmcp::RoleServer>,
    ) -> Result<rmcp::model::ListResourceTemplatesResult, rmcp::ErrorData> {
        Ok(rmcp::model::ListResourceTemplatesResult::with_all_items(
            resources::templates(),
        ))
    }

    async fn read_resource(
        &self,
        request: rmcp::model::ReadResourceRequestParams,
        _context: rmcp::service::RequestContext<rmcp::RoleServer>,
    ) -> Result<rmcp::model::ReadResourceResponse, rmcp::ErrorData> {
        Ok(self.resource_read(&request.uri).await?.into())
    }

    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .enable_prompts()
                .build(),
        )
        .with_server_info(Implementation::new("mcp-train", env!("CARGO_PKG_VERSION")))
        .with_instructions(INSTRUCTIONS.to_owned())
    }
}

/// `mcp-train mcp`: serves the tools on stdin/stdout until the client closes the stream.
pub async fn serve_stdio(server: McpServer) -> std::io::Result<()> {
    use rmcp::ServiceExt;
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(std::io::Error::other)?;
    running.waiting().await.map_err(std::io::Error::other)?;
    Ok(())
}

/// `/mcp` on `mcp-train serve`: streamable HTTP over `server`, accepting `Host` headers in
/// `allowed_hosts` and browser `Origin`s in `allowed_origins` (none: no origin check beyond
/// CORS), ending every stream when `stop` is cancelled.
pub fn http_service(
    server: McpServer,
    allowed_hosts: Vec<String>,
    allowed_origins: Vec<String>,
    stop: tokio_util::sync::CancellationToken,
) -> rmcp::transport::streamable_http_server::StreamableHttpService<
    McpServer,
    rmcp::transport::streamable_http_server::session::local::LocalSessionManager,
> {
    use rmcp::transport::streamable_http_server::{
        session::local::LocalSessionManager, StreamableHttpServerConfig, StreamableHttpService,
    };
    let mut config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(allowed_hosts)
        .with_cancellation_token(stop);
    if !allowed_origins.is_empty() && !allowed_origins.iter().any(|o| o == "*") {
        config = config.with_allowed_origins(allowed_origins);
    }
    StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(LocalSessionManager::default()),
        config,
    )
}
