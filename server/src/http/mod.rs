//! WIP (issue 6 probe, not on main): `mcp-train serve` — axum app over the file-system registry.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tower_http::services::{ServeDir, ServeFile};

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    pub data_dir: PathBuf,
}

/// The whole app: the JSON API under `/api`, and `dist/` with a fallback to its index.html.
pub fn app(state: AppState, dist: PathBuf) -> Router {
    let spa = ServeDir::new(&dist).not_found_service(ServeFile::new(dist.join("index.html")));
    Router::new()
        .route("/api/health", get(health))
        .with_state(state)
        .fallback_service(spa)
}

async fn health(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Json<serde_json::Value> {
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "data_dir": state.data_dir.display().to_string(),
    }))
}

/// Serves until Ctrl-C.
pub fn serve(addr: SocketAddr, state: AppState, dist: PathBuf) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        eprintln!("mcp-train serving http://{}/", listener.local_addr()?);
        axum::serve(listener, app(state, dist))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        Ok(())
    })
}

/// `mcp-train serve`.
pub fn run(args: crate::cli::args::ServeArgs) -> crate::cli::Outcome {
    let dir = crate::registry::data_dir(args.data_dir.as_deref());
    serve(args.addr, AppState { data_dir: dir }, args.dist).map_err(crate::cli::Failure::usage)?;
    Ok(std::process::ExitCode::SUCCESS)
}
