//! The MCP tool set in-process: groups, read-only mode, paging and in-band errors shared by
//! every tool.

use mcp_train::mcp::{McpConfig, ToolGroup};
use serde_json::json;

use crate::common::mcp::Mcp;
use crate::common::Work;

#[tokio::test]
async fn read_only_mode_and_disabled_groups_leave_tools_out() {
    let work = Work::new();
    let all = Mcp::start(&work.path("data"), McpConfig::default()).await;
    let names = all.tool_names().await;
    assert!(names.contains(&"list_models".to_owned()), "{names:?}");
    let tools = all.client.list_all_tools().await.expect("tools/list");
    for tool in &tools {
        assert!(
            tool.description.as_deref().is_some_and(|d| d.len() > 20),
            "{} needs a description",
            tool.name
        );
        assert!(
            tool.annotations.is_some(),
            "{} needs annotations",
            tool.name
        );
        assert!(
            tool.output_schema.is_some(),
            "{} needs an output schema",
            tool.name
        );
    }
    let read_only = Mcp::start(
        &work.path("data"),
        McpConfig {
            read_only: true,
            ..McpConfig::default()
        },
    )
    .await;
    let ro = read_only.client.list_all_tools().await.expect("tools/list");
    assert!(!ro.is_empty());
    assert!(ro.iter().all(mcp_train::mcp::is_read_only));
    let mut no_models = McpConfig::default();
    no_models.disabled_groups.insert(ToolGroup::Models);
    let without = Mcp::start(&work.path("data"), no_models).await;
    assert!(!without
        .tool_names()
        .await
        .contains(&"list_models".to_owned()));
    // A tool left out cannot be called either.
    let r = without
        .client
        .call_tool(rmcp::model::CallToolRequestParams::new("list_models"))
        .await;
    assert!(r.is_err() || r.is_ok_and(|r| r.is_error == Some(true)));
}

#[tokio::test]
async fn paging_and_argument_errors_are_answered_in_band() {
    let work = Work::new();
    let mcp = Mcp::start(&work.path("data"), McpConfig::default()).await;
    let page = mcp.ok("list_models", json!({})).await;
    assert_eq!(page["total"], 0);
    mcp.err("list_models", json!({"limit": 0}), "invalid_parameter")
        .await;
    mcp.err("list_models", json!({"limit": 101}), "invalid_parameter")
        .await;
    mcp.err(
        "list_models",
        json!({"cursor": "nonsense"}),
        "invalid_parameter",
    )
    .await;
    let unknown = mcp.call("list_models", json!({"colour": "red"})).await;
    assert_eq!(unknown.is_error, Some(true));
}
