//! Subcommands and the plumbing they share.

mod agents;
mod anomalies;
mod anomaly_export;
mod args;
mod detect;
mod features;
mod input;
mod kb;
mod mcp;
mod models;
mod notify;
mod package;
mod progress;
mod render;
mod serve;
mod synth;
mod train;
mod validate;

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use mcp_train::fs::registry::{RegistryAt, INDEX_FILE};
use mcp_train_core::registry::RegistryError;

use args::{Cli, Command};

/// A failure with its exit code: 1 for invalid input, 2 for usage and I/O problems.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub error: anyhow::Error,
}

impl Failure {
    /// The input (export, model, package) is invalid.
    pub fn invalid(error: impl Into<anyhow::Error>) -> Self {
        Failure {
            code: 1,
            error: error.into(),
        }
    }

    /// The command could not run: bad arguments, unreadable or unwritable files.
    pub fn usage(error: impl Into<anyhow::Error>) -> Self {
        Failure {
            code: 2,
            error: error.into(),
        }
    }

    /// A registry error in the data directory `dir`: storage problems are I/O errors (2);
    /// everything else — an unknown version, a refused deletion, a damaged registry — is
    /// invalid input (1).
    pub fn registry(at: &RegistryAt, e: RegistryError) -> Self {
        match e {
            RegistryError::Storage(_) => Failure::usage(e),
            RegistryError::Deployed { .. } => Failure::invalid(anyhow::anyhow!(
                "{e} (deploy another model or archive it first, or use --force)"
            )),
            RegistryError::CorruptIndex { .. } => Failure::invalid(
                anyhow::Error::new(e).context(format!("{}/{INDEX_FILE}", at.describe())),
            ),
            RegistryError::NotFound { .. } | RegistryError::Empty | RegistryError::NoneDeployed => {
                Failure::invalid(anyhow::anyhow!("{e} ({})", at.describe()))
            }
            _ => Failure::invalid(e),
        }
    }
}

/// The registry a `--registry` value names: a directory (none: the default data directory) or
/// object storage (`s3://bucket/prefix`, `gs://…`, `az://…`).
pub fn registry_at(flag: Option<&Path>) -> Result<RegistryAt, Failure> {
    RegistryAt::from_flag(flag).map_err(Failure::usage)
}

/// The data directory and, when elsewhere, the registry, from `--data-dir` and `--registry`
/// (`serve`, `mcp`): a registry directory given alone is the data directory too.
pub fn data_dir_and_registry(
    data_dir: Option<&Path>,
    registry: Option<&Path>,
) -> Result<(PathBuf, Option<RegistryAt>), Failure> {
    match (data_dir, registry_at(registry)?) {
        (_, at @ RegistryAt::Object(_)) => {
            Ok((mcp_train::fs::registry::data_dir(data_dir), Some(at)))
        }
        (None, RegistryAt::Dir(dir)) => Ok((dir, None)),
        (Some(data), RegistryAt::Dir(dir)) => Ok((
            data.to_owned(),
            registry.is_some().then_some(RegistryAt::Dir(dir)),
        )),
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line: the causes joined, outermost first.
        let mut first = true;
        for cause in self.error.chain() {
            if !first {
                f.write_str(": ")?;
            }
            first = false;
            let text = cause.to_string();
            f.write_str(text.lines().next().unwrap_or_default())?;
        }
        Ok(())
    }
}

/// I/O and argument errors convert to usage failures by default; commands mark invalid input.
impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure::usage(error)
    }
}

pub type Outcome = Result<ExitCode, Failure>;

/// Parses the arguments and runs the command.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // A refused flag value (the core's parsers say why) fails in one line, as every
        // failure does.
        Err(e) if e.kind() == clap::error::ErrorKind::ValueValidation => {
            let text = e.to_string();
            eprintln!("{}", text.lines().next().unwrap_or("error: invalid value"));
            return ExitCode::from(2);
        }
        Err(e) => e.exit(),
    };
    let quiet = cli.quiet;
    let result = match cli.command {
        Command::Validate(a) => validate::run(a, quiet),
        Command::Import(a) => validate::import(a, quiet),
        Command::Features(a) => features::run(a, quiet),
        Command::Synth(a) => synth::run(a, quiet),
        Command::Train(a) => train::train(a, quiet),
        Command::Evaluate(a) => train::evaluate(a, quiet),
        Command::Score(a) => train::score(a, quiet),
        Command::Models(a) => models::run(a),
        Command::Package(a) => package::package(a),
        Command::Verify(a) => package::verify(a),
        Command::Detect(a) => detect::run(a),
        Command::Serve(a) => serve::run(a),
        Command::Agents(a) => agents::run(a),
        Command::Notify(a) => notify::run(a),
        Command::Anomalies(a) => anomalies::run(a),
        Command::Mcp(a) => mcp::run(a),
        Command::Kb(a) => kb::run(a),
    };
    match result {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("error: {failure}");
            ExitCode::from(failure.code)
        }
    }
}
