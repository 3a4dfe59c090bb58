//! The command-line surface: every flag, with its help text, in one place.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use mcp_train_core::config::{AutoOr, Contamination, DetectorKind, MaxSamples};
use mcp_train_core::pipeline;

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
    /// Write the export (JSON) of a raw log: RFC 3164 or RFC 5424 syslog, or a daemon's own
    /// file format, read by the log type's agent.
    ///
    /// Bad lines are listed with line and column; the export is written only when every line
    /// reads, or with --drop-invalid without the bad ones. Exit 1 when lines are bad.
    Import(ImportArgs),
    /// Extract the wifi-v1 feature matrix of an export to CSV.
    Features(FeaturesArgs),
    /// Write a realistic synthetic export with labelled attack incidents.
    Synth(SynthArgs),
    /// Train an anomaly-detection model on an export (or a features CSV) and write model.json.
    Train(TrainArgs),
    /// Metrics of a model on a labelled export (or labelled features CSV).
    Evaluate(EvaluateArgs),
    /// Score every record of an export (or row of a features CSV) with a model.
    Score(ScoreArgs),
    /// The model registry: list, show, deploy, archive, delete and prune registered models.
    Models(ModelsArgs),
    /// Build the deployment package (model_<version>_deployment.zip) of a model.
    Package(PackageArgs),
    /// Check a deployment package (ZIP or unpacked folder): hashes, model, self-test scores.
    ///
    /// Exit 0 when it verifies, 1 when verification fails (the reasons are listed), 2 when the
    /// package cannot be read (not a ZIP, truncated, unsafe entries, too large).
    Verify(VerifyArgs),
    /// Detect anomalies in a log as it arrives: raw lines or NDJSON records in, one JSON
    /// object per anomaly out (every record with --all).
    ///
    /// MODEL is a model.json file or a registered version; with --log-type the registry's
    /// deployed model serves, reloaded when another is deployed. Bad lines are reported on
    /// stderr (line:column) and counted, never fatal. Exit 0 at the end of the input.
    Detect(DetectArgs),
    /// Serve the web app and the JSON API (shared registry, package downloads, server-side
    /// training). See docs/API.md.
    ///
    /// Prints the URL once listening; stops cleanly on Ctrl-C or SIGTERM.
    Serve(ServeArgs),
    /// The built-in agents: one per log type (`agents list`).
    Agents(AgentsArgs),
    /// Notification channels (config/notifications.yaml): list them, send a test message.
    Notify(NotifyArgs),
    /// The anomaly store: list stored anomalies with filters, show one with its audit trail,
    /// and review them (ack, resolve, false-positive, reopen).
    Anomalies(AnomaliesArgs),
    /// Serve the MCP tools, resources and prompts on stdin/stdout, for an AI assistant
    /// (Claude Desktop-style clients start this command). See docs/mcp.md.
    ///
    /// Logs go to stderr; stdout carries only the protocol. Ends when the client closes stdin.
    Mcp(McpArgs),
    /// Search the knowledge base (the log-event catalogue, model cards and evaluations, training
    /// jobs, anomalies and verdicts), explain an anomaly, or rebuild the index.
    ///
    /// The index is DATA_DIR/knowledge.sqlite, shared with the server's search box and MCP tools;
    /// every search first indexes what changed.
    Kb(KbArgs),
}

/// `mcp-train kb`.
#[derive(Debug, Args)]
pub struct KbArgs {
    #[command(subcommand)]
    pub command: KbCommand,
}

/// What to do with the knowledge base.
#[derive(Debug, Subcommand)]
pub enum KbCommand {
    /// Ranked results for some words, each citing its source (catalogue entry, model version,
    /// anomaly id).
    Search(KbSearchArgs),
    /// Why an anomaly was flagged: the features that mattered, what its event means, similar
    /// past anomalies and their verdicts.
    Explain(AnomalyShowArgs),
    /// Drop the index and build it again from the registry, the anomaly store and the catalogue.
    Rebuild(KbRebuildArgs),
}

/// `mcp-train kb search WORDS...`.
#[derive(Debug, Args)]
pub struct KbSearchArgs {
    /// What to look for: event names, reason codes, ports, MACs, feature names, versions.
    #[arg(required = true, value_name = "WORDS")]
    pub query: Vec<String>,
    /// Only this kind of document (catalogue, model, evaluation, job, anomaly, verdict);
    /// repeatable.
    #[arg(long, value_name = "KIND")]
    pub kind: Vec<String>,
    /// Only documents about this log type.
    #[arg(long, value_name = "TYPE")]
    pub log_type: Option<String>,
    /// Most results (1-100).
    #[arg(long, default_value = "10")]
    pub limit: String,
    #[command(flatten)]
    pub data_dir: DataDirArg,
    /// Print JSON (the answer of GET /api/kb/search).
    #[arg(long)]
    pub json: bool,
}

/// `mcp-train kb rebuild`.
#[derive(Debug, Args)]
pub struct KbRebuildArgs {
    #[command(flatten)]
    pub data_dir: DataDirArg,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `mcp-train mcp`.
#[derive(Debug, Args)]
pub struct McpArgs {
    /// The data directory: registry, anomaly store, datasets (default: $MCP_TRAIN_DATA, else
    /// ./mcp-train-data).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Where the model registry is: a directory (then also the data directory, unless
    /// --data-dir says otherwise) or object storage shared by several servers and CLIs
    /// (s3://bucket/prefix, gs://…, az://…; credentials from the usual AWS_*, GOOGLE_*, AZURE_*
    /// environment).
    #[arg(long, value_name = "DIR|URL")]
    pub registry: Option<PathBuf>,
    /// Directory holding training_config.yaml, notifications.yaml and mcp.yaml (tool groups,
    /// read-only mode, dataset roots).
    #[arg(long, value_name = "DIR")]
    pub config: Option<PathBuf>,
    /// Offer only the read-only tools (overrides mcp.yaml).
    #[arg(long)]
    pub read_only: bool,
}

/// `mcp-train anomalies`.
#[derive(Debug, Args)]
pub struct AnomaliesArgs {
    #[command(subcommand)]
    pub command: AnomaliesCommand,
}

/// What to do with stored anomalies.
#[derive(Debug, Subcommand)]
pub enum AnomaliesCommand {
    /// Stored anomalies, newest first, filtered; a page at a time (--cursor for the next).
    List(AnomalyListArgs),
    /// One anomaly with its audit trail.
    Show(AnomalyShowArgs),
    /// Acknowledge: someone is looking at it.
    Ack(AnomalyStatusArgs),
    /// Resolve: a real anomaly, dealt with.
    Resolve(AnomalyStatusArgs),
    /// Not an anomaly.
    FalsePositive(AnomalyStatusArgs),
    /// Reopen a verdict (back to acknowledged).
    Reopen(AnomalyStatusArgs),
    /// Write the anomalies a filter selects as NDJSON, CSV, ECS or OCSF (the writer of the
    /// server's export jobs), and record the export in the history (`GET /api/exports`).
    Export(Box<super::anomaly_export::ExportArgs>),
    /// Store N synthetic anomalies (benchmarks and tests).
    #[command(hide = true)]
    Seed(super::anomaly_export::SeedArgs),
}

/// Where the anomaly store is.
#[derive(Debug, Args)]
pub struct DataDirArg {
    /// Data directory (default: $MCP_TRAIN_DATA, else ./mcp-train-data).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// The filters of stored anomalies, read by `AnomalyFilter::set` (one parser for every surface).
#[derive(Debug, Args, Default)]
pub struct AnomalyFilterArgs {
    /// Entries logged at or after this time (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Entries logged before this time (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Only this log type.
    #[arg(long, value_name = "T")]
    pub log_type: Option<String>,
    /// Only anomalies flagged by this model version.
    #[arg(long, value_name = "VERSION")]
    pub model_version: Option<String>,
    /// Lowest risk score (0-100; 50 at the model's threshold).
    #[arg(long, value_name = "SCORE")]
    pub min_score: Option<String>,
    /// Only this status (new, acknowledged, resolved, false_positive).
    #[arg(long, value_name = "STATUS")]
    pub status: Option<String>,
    /// Only this source device (the entry's host).
    #[arg(long, value_name = "HOST")]
    pub device: Option<String>,
    /// Only this client.
    #[arg(long, value_name = "CLIENT")]
    pub client: Option<String>,
}

impl AnomalyFilterArgs {
    /// The flags as a filter; an unreadable one is named (`--min-score: …`).
    pub fn filter(
        &self,
    ) -> Result<mcp_train_core::anomalies::AnomalyFilter, mcp_train_core::anomalies::FilterError>
    {
        let mut filter = mcp_train_core::anomalies::AnomalyFilter::default();
        let flags = [
            ("from", &self.from),
            ("to", &self.to),
            ("log_type", &self.log_type),
            ("model_version", &self.model_version),
            ("min_score", &self.min_score),
            ("status", &self.status),
            ("device", &self.device),
            ("client", &self.client),
        ];
        let flag_error = |e: mcp_train_core::anomalies::FilterError| {
            mcp_train_core::anomalies::FilterError::new(
                format!("--{}", e.key.replace('_', "-")),
                e.message,
            )
        };
        for (key, value) in flags {
            if let Some(value) = value {
                filter.set(key, value).map_err(flag_error)?;
            }
        }
        filter.check().map_err(flag_error)?;
        Ok(filter)
    }
}

/// `mcp-train anomalies list`.
#[derive(Debug, Args)]
pub struct AnomalyListArgs {
    #[command(flatten)]
    pub data_dir: DataDirArg,
    #[command(flatten)]
    pub filter: AnomalyFilterArgs,
    /// Page size (1-1000).
    #[arg(long, value_name = "N", default_value = "50")]
    pub limit: String,
    /// Continue after a previous page (its next_cursor).
    #[arg(long, value_name = "CURSOR")]
    pub cursor: Option<String>,
    /// Print the page as JSON (`{"items", "next_cursor"}`).
    #[arg(long)]
    pub json: bool,
}

/// `mcp-train anomalies show ID`.
#[derive(Debug, Args)]
pub struct AnomalyShowArgs {
    /// The anomaly's id.
    pub id: i64,
    #[command(flatten)]
    pub data_dir: DataDirArg,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `mcp-train anomalies ack|resolve|false-positive|reopen ID...`.
#[derive(Debug, Args)]
pub struct AnomalyStatusArgs {
    /// The anomalies' ids.
    #[arg(required = true)]
    pub ids: Vec<i64>,
    /// Why (kept in the audit trail).
    #[arg(long)]
    pub note: Option<String>,
    /// Who (default: $USER, else $LOGNAME).
    #[arg(long)]
    pub by: Option<String>,
    #[command(flatten)]
    pub data_dir: DataDirArg,
    /// Print each anomaly (with its trail) as JSON, one per line.
    #[arg(long)]
    pub json: bool,
}

/// `mcp-train agents`.
#[derive(Debug, Args)]
pub struct AgentsArgs {
    #[command(subcommand)]
    pub command: AgentsCommand,
}

/// What to show about the agents.
#[derive(Debug, Subcommand)]
pub enum AgentsCommand {
    /// List the built-in agents: log type, protocol version, feature schema, stability,
    /// capabilities, the programs whose lines they read and their feature count.
    List {
        /// Print a JSON array instead (with each agent's log schema and feature names).
        #[arg(long)]
        json: bool,
    },
}

/// `mcp-train serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: std::net::SocketAddr,
    /// The data directory: registry, anomaly store, datasets (default: $MCP_TRAIN_DATA, else
    /// ./mcp-train-data).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Where the model registry is: a directory (then also the data directory, unless
    /// --data-dir says otherwise) or object storage shared by several servers and CLIs
    /// (s3://bucket/prefix, gs://…, az://…; credentials from the usual AWS_*, GOOGLE_*, AZURE_*
    /// environment).
    #[arg(long, value_name = "DIR|URL")]
    pub registry: Option<PathBuf>,
    /// The built web app (trunk build's output).
    #[arg(long, value_name = "DIR", default_value = "dist")]
    pub dist: PathBuf,
    /// Bearer token every write must carry (default: $MCP_TRAIN_TOKEN).
    #[arg(long, env = "MCP_TRAIN_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Reads need the token too (except /api/health).
    #[arg(long)]
    pub private: bool,
    /// An origin allowed to call the API from another site; repeatable; `*` allows any.
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    pub cors_origins: Vec<String>,
    /// Directory holding model_config.yaml and/or training_config.yaml (defaults are built in):
    /// training defaults and the upload limits.
    #[arg(long, value_name = "DIR")]
    pub config: Option<PathBuf>,
    /// How long a completed anomaly export's file is kept: a whole number with s, m, h or d
    /// (1s to 366d).
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = mcp_train::exports::parse_retention)]
    pub export_retention: std::time::Duration,
    /// A `Host` header /mcp accepts besides the loopback names and the listen address
    /// (e.g. mcp.example.com or mcp.example.com:8443); repeatable. Others get 403.
    #[arg(long = "allowed-host", value_name = "HOST")]
    pub allowed_hosts: Vec<String>,
    /// /mcp offers only the read-only tools (overrides mcp.yaml).
    #[arg(long)]
    pub mcp_read_only: bool,
}

/// Output format of `detect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DetectFormat {
    /// The protocol's Anomaly objects (entry, agent, inference, contributions).
    Ndjson,
    /// Elastic Common Schema alert documents.
    Ecs,
    /// OCSF 1.3 Detection Findings.
    Ocsf,
}

/// `mcp-train detect [MODEL | --registry DIR|URL --log-type T] [FILE|-]`.
#[derive(Debug, Args)]
pub struct DetectArgs {
    /// MODEL then FILE; with --log-type only FILE. MODEL: a model.json file or a registered
    /// version (`deployed`, `latest`, YYYYMMDD_HHMMSS). FILE: a raw log, NDJSON records or a
    /// JSON export ("-" or nothing reads stdin).
    #[arg(value_name = "MODEL|FILE", num_args = 0..=2)]
    pub inputs: Vec<PathBuf>,
    /// Registry: a directory (default: $MCP_TRAIN_DATA, else ./mcp-train-data) or object
    /// storage (s3://bucket/prefix, gs://…, az://…).
    #[arg(long, value_name = "DIR|URL")]
    pub registry: Option<PathBuf>,
    /// Serve the registry's deployed model for this log type, reloading it when another is
    /// deployed (a model that fails to load leaves the old one serving).
    #[arg(long, value_name = "T")]
    pub log_type: Option<String>,
    /// Keep reading the file as it grows, across rotation and truncation (like tail -F).
    #[arg(long)]
    pub follow: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "ndjson")]
    pub format: DetectFormat,
    /// Write every record's verdict, not only the anomalies.
    #[arg(long)]
    pub all: bool,
    /// Also store the anomalies found in the anomaly store of this data directory
    /// (DIR/anomalies.sqlite), in batches; they are still printed.
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
    #[command(flatten)]
    pub nats: NatsArgs,
}

/// `detect --nats URL`: log lines from a NATS JetStream stream instead of a file.
#[derive(Debug, Args)]
pub struct NatsArgs {
    /// Read log lines from NATS JetStream instead of a file: the server's URL
    /// (nats://HOST:PORT, with user:password@ or a token@ when it asks for one). Each message
    /// is a log line (or several, one per line). Without --follow, detect stops once the
    /// consumer has nothing left to deliver and nothing unacknowledged.
    #[arg(long, value_name = "URL")]
    pub nats: Option<String>,
    /// The JetStream stream holding the log lines; created over --nats-subject when missing.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "MCP_TRAIN_LOGS",
        requires = "nats"
    )]
    pub nats_stream: String,
    /// The subject(s) the log lines are published on (wildcards allowed): the consumer's filter.
    #[arg(
        long,
        value_name = "SUBJECT",
        default_value = "mcp-train.logs.>",
        requires = "nats"
    )]
    pub nats_subject: String,
    /// The durable consumer: detect workers with the same name share the stream, each message
    /// going to one of them; a message is acknowledged only once its verdicts are written,
    /// stored and published.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "mcp-train-detect",
        requires = "nats"
    )]
    pub nats_consumer: String,
    /// Seconds a delivered message may stay unacknowledged (a worker killed mid-way) before
    /// it is delivered again, to another worker. Used when the consumer is created.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, requires = "nats",
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub nats_ack_wait: u64,
    /// Also publish every anomaly (in --format) to this subject, through JetStream when a
    /// stream stores it (with Nats-Msg-Id "<stream>:<sequence>:<line>", so a redelivered
    /// line's anomaly is not stored twice).
    #[arg(long, value_name = "SUBJECT", requires = "nats")]
    pub nats_publish: Option<String>,
}

/// Output format of scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScoreFormat {
    Csv,
    Json,
}

impl ScoreFormat {
    /// The format of a scores file: `explicit`, else json for a `.json` name, else csv.
    pub fn of(path: &std::path::Path, explicit: Option<ScoreFormat>) -> ScoreFormat {
        explicit.unwrap_or_else(|| {
            if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"))
            {
                ScoreFormat::Json
            } else {
                ScoreFormat::Csv
            }
        })
    }

    /// The core's name for it.
    pub fn core(self) -> mcp_train_core::pipeline::ScoresFormat {
        match self {
            ScoreFormat::Json => mcp_train_core::pipeline::ScoresFormat::Json,
            ScoreFormat::Csv => mcp_train_core::pipeline::ScoresFormat::Csv,
        }
    }
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["file", "features_csv"])))]
pub struct TrainArgs {
    /// The export or raw log (syslog lines) to train on ("-" reads stdin).
    pub file: Option<PathBuf>,
    /// Train on your own features instead: a numeric CSV with a header row.
    #[arg(long, value_name = "FEATURES.csv", conflicts_with = "file")]
    pub features_csv: Option<PathBuf>,
    /// The log type of the export or raw log (wifi, dns, firewall, syslog); learned from the
    /// records' processes when not given.
    #[arg(long, value_name = "TYPE", conflicts_with = "features_csv")]
    pub log_type: Option<String>,
    /// The CSV column holding labels (0/1); by default a column named `label`, if any.
    #[arg(long, value_name = "NAME", requires = "features_csv")]
    pub label_column: Option<String>,
    /// Directory holding model_config.yaml and/or training_config.yaml (defaults are built in).
    #[arg(long, value_name = "DIR")]
    pub config: Option<PathBuf>,
    /// Detector: isolation_forest or lof (default: model.type in model_config.yaml).
    #[arg(long, value_name = "isolation_forest|lof", value_parser = pipeline::parse_detector)]
    pub model: Option<DetectorKind>,
    /// The run's one seed: the detector (forest trees, LOF subsample), the held-out split and
    /// feature importance (default: the detector's random_state in model_config.yaml).
    #[arg(long, value_name = "S", value_parser = pipeline::parse_seed)]
    pub seed: Option<u64>,
    /// "auto" or the expected share of anomalies in (0, 0.5].
    #[arg(long, value_name = "auto|F", value_parser = pipeline::parse_contamination)]
    pub contamination: Option<AutoOr<Contamination>>,
    /// Isolation Forest trees, 1 to 10000 (default: n_estimators in model_config.yaml).
    #[arg(long, value_name = "N", value_parser = pipeline::parse_n_estimators)]
    pub n_estimators: Option<u32>,
    /// Isolation Forest rows per tree: "auto" (min(256, rows)), a count ≥ 1 or a fraction in
    /// (0, 1] (default: max_samples in model_config.yaml).
    #[arg(long, value_name = "auto|N|F", value_parser = pipeline::parse_max_samples)]
    pub max_samples: Option<MaxSamples>,
    /// LOF neighbours, 1 to 10000 (default: n_neighbors in model_config.yaml).
    #[arg(long, value_name = "N", value_parser = pipeline::parse_n_neighbors)]
    pub n_neighbors: Option<u32>,
    /// Leave out invalid records instead of refusing the export.
    #[arg(long)]
    pub drop_invalid: bool,
    /// Analysts' verdicts from DIR's anomaly store: records confirmed as anomalies
    /// (resolved) are left out of the training set.
    #[arg(long, value_name = "DIR")]
    pub feedback: Option<PathBuf>,
    /// Where to write the model ("-" for stdout).
    #[arg(long, short, default_value = "model.json", value_name = "model.json")]
    pub out: PathBuf,
    /// Also write every training row's score there ("-" for stdout), the rows `mcp-train
    /// score` would write for this input with this model (csv, or json for a .json name),
    /// taken from the scoring pass training makes anyway: the data is not read twice. Records
    /// left out by --feedback are not scored.
    #[arg(long, value_name = "scores.csv|scores.json")]
    pub scores: Option<PathBuf>,
    /// Print the training summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Also register the model in the registry (status ready) and print its version.
    #[arg(long)]
    pub register: bool,
    /// Registry: a directory (default: $MCP_TRAIN_DATA, else ./mcp-train-data) or object
    /// storage (s3://bucket/prefix, gs://…, az://…).
    #[arg(long, value_name = "DIR|URL", requires = "register")]
    pub registry: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The model file (model.json).
    pub model: PathBuf,
    /// Labelled data: an export, or a features CSV for models trained on one ("-" reads stdin).
    pub file: PathBuf,
    /// The CSV column holding labels; by default a column named `label`.
    #[arg(long, value_name = "NAME")]
    pub label_column: Option<String>,
    /// Leave out invalid records instead of refusing the export.
    #[arg(long)]
    pub drop_invalid: bool,
    /// Analysts' verdicts from DIR's anomaly store as labels: resolved → anomaly,
    /// false_positive → normal (over the data's own labels).
    #[arg(long, value_name = "DIR")]
    pub feedback: Option<PathBuf>,
    /// Directory holding training_config.yaml (for the threshold checks).
    #[arg(long, value_name = "DIR")]
    pub config: Option<PathBuf>,
    /// Print the metrics as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["file", "features_csv"])))]
pub struct ScoreArgs {
    /// The model file (model.json).
    pub model: PathBuf,
    /// The data: an export, or a features CSV for models trained on one ("-" reads stdin).
    pub file: Option<PathBuf>,
    /// The data is a features CSV (same as giving it as FILE to a CSV-trained model).
    #[arg(long, value_name = "FEATURES.csv", conflicts_with = "file")]
    pub features_csv: Option<PathBuf>,
    /// The CSV column holding labels; by default a column named `label`.
    #[arg(long, value_name = "NAME")]
    pub label_column: Option<String>,
    /// Leave out invalid records instead of refusing the export.
    #[arg(long)]
    pub drop_invalid: bool,
    /// Where to write the scores ("-" for stdout).
    #[arg(
        long,
        short,
        default_value = "-",
        value_name = "scores.csv|scores.json"
    )]
    pub out: PathBuf,
    /// Output format (default: from the --out extension, else csv).
    #[arg(long, value_enum)]
    pub format: Option<ScoreFormat>,
    /// Only write the records flagged as anomalies.
    #[arg(long)]
    pub only_anomalies: bool,
}

#[derive(Debug, Args)]
pub struct PackageArgs {
    /// The model: a model.json file, or a registered version (`latest`, `deployed`).
    pub model: PathBuf,
    /// Registry for versions: a directory (default: $MCP_TRAIN_DATA, else ./mcp-train-data)
    /// or object storage (s3://bucket/prefix, gs://…, az://…).
    #[arg(long, value_name = "DIR|URL")]
    pub registry: Option<PathBuf>,
    /// Where to write the ZIP (default: model_<version>_deployment.zip in the current directory).
    #[arg(long, short, value_name = "FILE.zip")]
    pub out: Option<PathBuf>,
    /// The deployment timestamp written into the package (ISO 8601; default: when a registered
    /// model was deployed, else its creation time, so rebuilding gives identical bytes).
    #[arg(long, value_name = "TIME")]
    pub timestamp: Option<String>,
    /// Print what was written as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The package: model_<version>_deployment.zip, or the folder it was unpacked into.
    pub package: PathBuf,
    /// Print the verification as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// After a successful verification, unpack the ZIP into DIR/model_<version>_deployment/.
    #[arg(long, value_name = "DIR")]
    pub extract: Option<PathBuf>,
}

/// Options shared by commands that read an export.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The export (a JSON object with `data`, a JSON array of records, or NDJSON) or raw log
    /// text of a log type ("-" reads stdin).
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
    /// The log type (wifi, dns, firewall, syslog): its log schema checks an export, its agent
    /// reads raw log text. Recognised from the records' processes when not given.
    #[arg(long, value_name = "TYPE")]
    pub log_type: Option<String>,
    /// Print the full report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Examples shown per issue kind.
    #[arg(long, value_name = "N")]
    pub max_examples: Option<usize>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub log: ExportArgs,
    /// The log type (wifi, dns, firewall, syslog) whose agent reads the lines; recognised from
    /// the lines' processes when not given.
    #[arg(long, value_name = "TYPE")]
    pub log_type: Option<String>,
    /// Where to write the export ("-" for stdout).
    #[arg(long, short, value_name = "EXPORT.json", default_value = "-")]
    pub out: PathBuf,
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
    /// Log type to generate: wifi, dns, firewall or syslog (see `mcp-train agents list`).
    #[arg(long, default_value = "wifi", value_name = "TYPE")]
    pub log_type: String,
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

#[derive(Debug, Args)]
pub struct ModelsArgs {
    /// Registry: a directory (default: $MCP_TRAIN_DATA, else ./mcp-train-data) or object
    /// storage (s3://bucket/prefix, gs://…, az://…; credentials from the usual AWS_*,
    /// GOOGLE_*, AZURE_* environment).
    #[arg(long, value_name = "DIR|URL", global = true)]
    pub registry: Option<PathBuf>,
    /// Print the result as JSON on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// Only models of this log type (wifi, dns, firewall, syslog): for `list`, `history`,
    /// `deployed`, and the aliases `latest` / `deployed`.
    #[arg(long, value_name = "TYPE", global = true)]
    pub log_type: Option<String>,
    #[command(subcommand)]
    pub command: ModelsCommand,
}

/// What to do with the registry. VERSION is `YYYYMMDD_HHMMSS`, or `latest` / `deployed`.
#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// List the registered models, newest first.
    List,
    /// A model's record and summary.
    Show {
        /// The version, or `latest` or `deployed`.
        #[arg(value_name = "VERSION")]
        name: String,
    },
    /// The deployed model of each log type (or of --log-type).
    Deployed,
    /// Re-deploy the model of LOG_TYPE deployed before the current one.
    Rollback {
        /// The log type (wifi, dns, firewall, syslog).
        #[arg(value_name = "LOG_TYPE")]
        log_type: String,
    },
    /// The deployment history (deploy, rollback, undeploy), newest first.
    History,
    /// Deploy a model; the model of its log type deployed until now is archived.
    Deploy {
        /// The version, or `latest`.
        #[arg(value_name = "VERSION")]
        name: String,
    },
    /// Archive a ready or deployed model.
    Archive {
        /// The version, or `latest` or `deployed`.
        #[arg(value_name = "VERSION")]
        name: String,
    },
    /// Delete a model and its files (the deployed model only with --force).
    Delete {
        /// The version, or `latest` or `deployed`.
        #[arg(value_name = "VERSION")]
        name: String,
        /// Delete it even if it is deployed.
        #[arg(long)]
        force: bool,
    },
    /// Delete all but the newest N models of each log type (deployed models are always kept).
    Prune {
        /// Models to keep (default: registry.keep_last in training_config.yaml).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        keep: Option<u32>,
        /// Directory holding training_config.yaml (defaults are built in).
        #[arg(long, value_name = "DIR")]
        config: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct NotifyArgs {
    /// Directory holding notifications.yaml (the same --config DIR as `serve`).
    #[arg(long, value_name = "DIR", global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: NotifyCommand,
}

#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// List the channels: name, kind, enabled, events, destination (never a secret).
    Channels {
        /// Print them as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Send a test message through CHANNEL now, with the configured retries; exit 1 with the
    /// cause when it is not delivered.
    Test {
        /// The channel's name in notifications.yaml.
        channel: String,
    },
}
