//! Tools of the `detection` group.

use rmcp::tool_router;

use super::McpServer;

#[tool_router(router = detection_tools, vis = "pub(super)", allow_empty)]
impl McpServer {}
