//! MCP resources.
