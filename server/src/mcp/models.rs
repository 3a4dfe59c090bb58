//! Tools of the `models` group: the registry as the HTTP API and `mcp-train models` show it.

use mcp_train_core::registry::ModelRecord;
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};

use super::{McpServer, Page, PageArgs, ToolError};
use crate::http::blocking;

/// `list_models`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListModelsArgs {
    /// Only models of this log type (wifi, dns, firewall, …).
    #[serde(default)]
    pub log_type: Option<String>,
    #[serde(flatten)]
    pub page: PageArgs,
}

#[tool_router(router = model_tools, vis = "pub(super)")]
impl McpServer {
    #[tool(
        description = "List the registered models, newest first: version, log type, status \
                       (ready/deployed/archived), detector, headline metrics and checksum. Paged: \
                       pass next_cursor as cursor for more.",
        annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn list_models(
        &self,
        Parameters(args): Parameters<ListModelsArgs>,
    ) -> Result<Json<Page<ModelRecord>>, ToolError> {
        let data_dir = self.state().data_dir.clone();
        let log_type = args.log_type.clone();
        let models = blocking(move || {
            let registry = crate::fs::registry::open(&data_dir);
            let mut models = registry
                .list()
                .map_err(|e| crate::http::ApiError::internal("cannot read the registry", &e))?;
            if let Some(t) = &log_type {
                models.retain(|m| &m.log_type == t);
            }
            models.sort_by(|a, b| b.version.cmp(&a.version));
            Ok(models)
        })
        .await
        .map_err(ToolError::from)?;
        Ok(Json(args.page.page(models)?))
    }
}
