//! `mcp-train notify channels|test`: the channels of `notifications.yaml`, and a test message
//! through one of them (the same delivery, retries included, as the server's).

use std::process::ExitCode;
use std::sync::Arc;

use mcp_train::notify::{load_notifications, NoObserver, Notifier, TestError};

use super::args::{NotifyArgs, NotifyCommand};
use super::{Failure, Outcome};

pub fn run(args: NotifyArgs) -> Outcome {
    // Retries are logged (warn) on stderr.
    super::serve::init_logging();
    let config = load_notifications(args.config.as_deref())?;
    if config.channels.is_empty() {
        let place = match &args.config {
            Some(dir) => format!("{}/notifications.yaml", dir.display()),
            None => "no --config DIR given".to_owned(),
        };
        return Err(Failure::usage(anyhow::anyhow!(
            "no notification channels ({place})"
        )));
    }
    let notifier = Notifier::start(config, None, Arc::new(NoObserver))?;
    match args.command {
        NotifyCommand::Channels { json } => {
            let channels = notifier.channels();
            if json {
                println!("{}", serde_json::to_string_pretty(&channels)?);
            } else {
                for c in channels {
                    println!(
                        "{:<20} {:<8} {:<9} {}{}",
                        c.name,
                        c.kind,
                        if c.enabled { "enabled" } else { "disabled" },
                        c.events.join(","),
                        c.destination
                            .map(|d| format!("  → {d}"))
                            .unwrap_or_default()
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        NotifyCommand::Test { channel } => match notifier.test_blocking(&channel) {
            Ok(outcome) => {
                println!(
                    "delivered a test message through {channel} ({} attempt{}, id {})",
                    outcome.attempts,
                    if outcome.attempts == 1 { "" } else { "s" },
                    outcome.id
                );
                Ok(ExitCode::SUCCESS)
            }
            Err(e @ (TestError::NoChannel(_) | TestError::Disabled(_))) => Err(Failure::usage(e)),
            Err(e) => Err(Failure::invalid(e)),
        },
    }
}
