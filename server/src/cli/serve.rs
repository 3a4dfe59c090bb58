//! `mcp-train serve`: the flags become [`ServeSettings`], the server's errors become failures.
//! The server itself is the library's [`mcp_train::http`].

use std::process::ExitCode;

use mcp_train::fs::config_dir::load_config;
use mcp_train::http::{self, ServeError, ServeSettings, SettingsError};
use mcp_train::mcp::load_mcp_config;
use mcp_train::notify::load_notifications;

use super::args::ServeArgs;
use super::{Failure, Outcome};

pub fn run(args: ServeArgs) -> Outcome {
    init_logging();
    let settings = settings(args)?;
    http::serve(settings).map_err(failure)?;
    Ok(ExitCode::SUCCESS)
}

/// The settings the flags ask for, checked before anything is read or created.
fn settings(args: ServeArgs) -> Result<ServeSettings, Failure> {
    let (data_dir, registry) =
        super::data_dir_and_registry(args.data_dir.as_deref(), args.registry.as_deref())?;
    let mut settings = ServeSettings::new(data_dir);
    settings.registry = registry;
    settings.addr = args.addr;
    settings.dist = args.dist;
    settings.token = args.token;
    settings.private = args.private;
    settings.cors_origins = args.cors_origins;
    settings.export_retention = args.export_retention;
    settings.check().map_err(settings_failure)?;
    settings.config = load_config(args.config.as_deref())?;
    settings.notifications = load_notifications(args.config.as_deref())?;
    settings.allowed_hosts = args.allowed_hosts;
    settings.mcp = load_mcp_config(args.config.as_deref())?;
    settings.mcp.read_only |= args.mcp_read_only;
    Ok(settings)
}

/// Refused settings, said in terms of the flags that set them.
fn settings_failure(e: SettingsError) -> Failure {
    Failure::usage(match e {
        SettingsError::PrivateWithoutToken => {
            anyhow::anyhow!("--private needs a token (--token or MCP_TRAIN_TOKEN)")
        }
        SettingsError::EmptyToken => anyhow::anyhow!("the token is empty"),
        SettingsError::CorsOrigin { origin } => anyhow::anyhow!(
            "--cors-origin {origin:?}: expected an origin like https://app.example.com, or *"
        ),
    })
}

/// Every way the server fails to start or run is a usage or I/O error (exit 2).
fn failure(e: ServeError) -> Failure {
    match e {
        ServeError::Settings(e) => settings_failure(e),
        e => Failure::usage(e),
    }
}

/// Logs to stderr: text lines, or JSON lines with `MCP_TRAIN_LOG=json`; `RUST_LOG` filters.
pub(super) fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let json = std::env::var("MCP_TRAIN_LOG").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
