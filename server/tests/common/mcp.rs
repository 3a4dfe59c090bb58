//! MCP in-process: a real rmcp client connected to [`McpServer`] over an in-memory pipe, for the
//! tools' error paths (the real Python and TypeScript clients are in `mcp_clients`).

use std::path::Path;

use mcp_train::http::{AppState, ServeSettings};
use mcp_train::mcp::{McpConfig, McpServer};
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::{RoleClient, RunningService};
use rmcp::ServiceExt;
use serde_json::Value;

/// A client connected to an MCP server over `data_dir`; the server runs until it is dropped.
#[allow(dead_code)] // `state` is there for the tests that reach behind the tools.
pub struct Mcp {
    pub client: RunningService<RoleClient, ()>,
    pub state: AppState,
}

impl Mcp {
    /// The server over `data_dir` with `config` (groups, read-only mode), and a client on it.
    pub async fn start(data_dir: &Path, config: McpConfig) -> Mcp {
        let state = AppState::new(&ServeSettings::new(data_dir)).expect("the server state");
        let server = McpServer::new(state.clone(), config);
        let (client_io, server_io) = tokio::io::duplex(1 << 20);
        tokio::spawn(async move {
            if let Ok(running) = server.serve(server_io).await {
                let _ = running.waiting().await;
            }
        });
        let client = ().serve(client_io).await.expect("the client connects");
        Mcp { client, state }
    }

    /// The names of the tools the server lists.
    pub async fn tool_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .client
            .list_all_tools()
            .await
            .expect("tools/list")
            .into_iter()
            .map(|t| t.name.to_string())
            .collect();
        names.sort();
        names
    }

    /// Calls `name` with `arguments` (a JSON object); protocol errors fail the test.
    pub async fn call(&self, name: &str, arguments: Value) -> CallToolResult {
        let Value::Object(arguments) = arguments else {
            panic!("arguments must be a JSON object, not {arguments}");
        };
        let params = CallToolRequestParams::new(name.to_owned()).with_arguments(arguments);
        self.client
            .call_tool(params)
            .await
            .unwrap_or_else(|e| panic!("{name}: protocol error {e}"))
    }

    /// Calls `name` expecting success: its structured content.
    pub async fn ok(&self, name: &str, arguments: Value) -> Value {
        let result = self.call(name, arguments.clone()).await;
        assert_ne!(
            result.is_error,
            Some(true),
            "{name}({arguments}) failed: {}",
            text_of(&result)
        );
        let text = text_of(&result);
        result
            .structured_content
            .unwrap_or_else(|| panic!("{name}: no structured content: {text}"))
    }

    /// Calls `name` expecting an in-band error: its text (`code: message`), checked to start
    /// with `code`.
    pub async fn err(&self, name: &str, arguments: Value, code: &str) -> String {
        let result = self.call(name, arguments.clone()).await;
        let text = text_of(&result);
        assert_eq!(
            result.is_error,
            Some(true),
            "{name}({arguments}) should fail with {code}, answered {text}"
        );
        assert!(
            text.starts_with(&format!("{code}:")),
            "{name}({arguments}): expected {code}, got {text}"
        );
        text
    }
}

/// The text blocks of a result, joined.
pub fn text_of(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}
