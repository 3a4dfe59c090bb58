//! Tools of the `datasets` group.

use rmcp::tool_router;

use super::McpServer;

#[tool_router(router = dataset_tools, vis = "pub(super)", allow_empty)]
impl McpServer {}
