//! `mcp-train mcp`: the MCP server on stdin/stdout over a data directory — the same tools as
//! `/mcp` on `mcp-train serve`, on the same [`AppState`] (training thread, anomaly store,
//! exports), without listening anywhere.

use std::process::ExitCode;

use mcp_train::fs::config_dir::load_config;
use mcp_train::http::{AppState, ServeSettings};
use mcp_train::mcp::{load_mcp_config, serve_stdio, McpServer};
use mcp_train::notify::load_notifications;

use super::args::McpArgs;
use super::Outcome;

pub fn run(args: McpArgs) -> Outcome {
    // stdout is the protocol's: logs go to stderr only.
    super::serve::init_logging();
    let (data_dir, registry) =
        super::data_dir_and_registry(args.data_dir.as_deref(), args.registry.as_deref())?;
    let mut settings = ServeSettings::new(data_dir);
    settings.registry = registry;
    settings.config = load_config(args.config.as_deref())?;
    settings.notifications = load_notifications(args.config.as_deref())?;
    let mut mcp = load_mcp_config(args.config.as_deref())?;
    mcp.read_only |= args.read_only;
    mcp.stdio = true;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let state = AppState::new(&settings)?;
        tracing::info!(data_dir = %settings.data_dir.display(), read_only = mcp.read_only, "MCP on stdio");
        serve_stdio(McpServer::new(state, mcp)).await?;
        anyhow::Ok(())
    })?;
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    Ok(ExitCode::SUCCESS)
}
