//! MCP prompts.
