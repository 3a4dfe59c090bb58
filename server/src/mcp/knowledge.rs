//! Tools of the `knowledge` group.

use rmcp::tool_router;

use super::McpServer;

#[tool_router(router = knowledge_tools, vis = "pub(super)", allow_empty)]
impl McpServer {}
