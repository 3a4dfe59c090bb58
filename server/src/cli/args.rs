//! The command-line surface: every flag, with its help text, in one place.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Train WiFi log anomaly-detection models and build verifiable deployment packages.
///
/// Exit codes: 0 success, 1 invalid input (export, model or package), 2 usage or I/O error.
#[derive(Debug, Parser)]
#[command(name = "mcp-train", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Hide progress bars (they are hidden anyway when stderr is not a terminal).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check an export and print the validation report.
    ///
    /// Exit 0 when the export is usable (warnings allowed), 1 when it is invalid, 2 on usage or
    /// I/O errors.
    Validate(ValidateArgs),
    /// Extract the wifi-v1 feature matrix of an export to CSV.
    Features(FeaturesArgs),
    /// Write a realistic synthetic export with labelled attack incidents.
    Synth(SynthArgs),
}

/// Options shared by commands that read an export.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The export: a JSON object with `data`, a JSON array of records, or NDJSON ("-" reads stdin).
    pub file: PathBuf,
    /// Leave out records with errors instead of refusing the export (the report says how many
    /// and why).
    #[arg(long)]
    pub drop_invalid: bool,
    /// Directory holding model_config.yaml and/or training_config.yaml (defaults are built in).
    #[arg(long, value_name = "DIR")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub export: ExportArgs,
    /// Print the full report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Examples shown per issue kind.
    #[arg(long, value_name = "N")]
    pub max_examples: Option<usize>,
}

#[derive(Debug, Args)]
pub struct FeaturesArgs {
    #[command(flatten)]
    pub export: ExportArgs,
    /// Where to write the CSV ("-" for stdout). The header is the feature names in schema order.
    #[arg(long, short, value_name = "FEATURES.csv")]
    pub out: PathBuf,
    /// Add a trailing `label` column (0/1, empty when a record has none).
    #[arg(long)]
    pub include_label: bool,
    /// Print a JSON summary (rows, columns, feature names) on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Number of records to write.
    #[arg(long, short = 'n', value_name = "N")]
    pub records: usize,
    /// Share of records that belong to injected incidents (label 1), in [0, 0.5].
    #[arg(long, default_value_t = 0.05, value_name = "R")]
    pub anomaly_ratio: f64,
    /// Seed: the same seed and options give the same bytes.
    #[arg(long, default_value_t = 42, value_name = "S")]
    pub seed: u64,
    /// Days of traffic the export spans.
    #[arg(long, default_value_t = 7, value_name = "D")]
    pub days: u32,
    /// Start of the export (ISO 8601).
    #[arg(long, default_value = "2024-01-01T00:00:00Z", value_name = "TIME")]
    pub start: String,
    /// Number of access points.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub access_points: usize,
    /// Number of known client devices.
    #[arg(long, default_value_t = 60, value_name = "N")]
    pub clients: usize,
    /// Where to write the export ("-" for stdout).
    #[arg(long, short, value_name = "FILE")]
    pub out: PathBuf,
    /// Print a JSON summary (records, anomalies, incidents) on stdout.
    #[arg(long)]
    pub json: bool,
}
