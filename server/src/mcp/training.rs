//! Tools of the `training` group.

use rmcp::tool_router;

use super::McpServer;

#[tool_router(router = training_tools, vis = "pub(super)", allow_empty)]
impl McpServer {}
