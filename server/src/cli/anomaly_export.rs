//! `mcp-train anomalies export` (the anomalies a filter selects, written in a format by the same
//! writer as the server's export jobs, recorded in the export history) and the hidden
//! `mcp-train anomalies seed` (synthetic stored anomalies, in big transactions, for benchmarks
//! and tests).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use clap::Args;
use mcp_train::exports::{self, History, Written};
use mcp_train::fs::registry;
use mcp_train::store::AnomalyStore;
use mcp_train_core::agent::{Anomaly, Contribution, InferenceResult, LogEntry};
use mcp_train_core::anomalies::{ExportFormat, ExportJob, ExportStatus, StoredAnomaly};
use mcp_train_core::export::LogLevel;
use mcp_train_core::time::format_iso8601;

use super::{Failure, Outcome};

/// `mcp-train anomalies export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// ndjson (stored anomaly JSON per line), csv, ecs or ocsf.
    #[arg(long, value_name = "F")]
    pub format: String,
    #[command(flatten)]
    pub filter: super::args::AnomalyFilterArgs,
    /// Write here (through FILE.partial, renamed when complete); stdout without it.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The data directory holding the anomaly store (default: $MCP_TRAIN_DATA, else
    /// ./mcp-train-data).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Who asks, for the export history (default: $USER, else $LOGNAME, else `cli`).
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
}

/// `mcp-train anomalies seed` (hidden): synthetic anomalies for benchmarks and tests.
#[derive(Debug, Args)]
pub struct SeedArgs {
    /// How many anomalies to store.
    #[arg(long, value_name = "N")]
    pub count: u64,
    /// The data directory holding the anomaly store.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Anomalies per transaction.
    #[arg(long, value_name = "N", default_value_t = 20_000)]
    pub batch: usize,
}

fn open(data_dir: Option<&std::path::Path>) -> Result<AnomalyStore, Failure> {
    let dir = registry::data_dir(data_dir);
    std::fs::create_dir_all(&dir).map_err(|e| {
        Failure::usage(anyhow::Error::new(e).context(format!("cannot create {}", dir.display())))
    })?;
    AnomalyStore::open(&dir).map_err(Failure::usage)
}

pub fn export(args: ExportArgs) -> Outcome {
    let format = ExportFormat::parse(&args.format)
        .map_err(|e| Failure::usage(anyhow::anyhow!("--format: {}", e.message)))?;
    let filter = args.filter.filter().map_err(Failure::usage)?;
    // An export changes nothing: without a name (no --by, USER or LOGNAME) it is the CLI's.
    let by = super::anomalies::who(args.by.clone()).unwrap_or_else(|_| "cli".to_owned());
    if by.len() > mcp_train_core::anomalies::MAX_BY_BYTES {
        return Err(Failure::usage(anyhow::anyhow!("--by: too long")));
    }
    let store = open(args.data_dir.as_deref())?;
    let history = History::new(store.clone());
    let id = exports::new_id().map_err(Failure::usage)?;
    let created = exports::wall_micros();
    let never = AtomicBool::new(false);
    let mut report = |_: u64, _: u64| {};
    let result = match &args.output {
        Some(path) => exports::write_file(&store, &filter, format, path, &never, &mut report),
        None => {
            let stdout = std::io::stdout().lock();
            exports::write_rows(
                &store,
                &filter,
                format,
                std::io::BufWriter::new(stdout),
                &never,
                &mut report,
            )
            .and_then(|(mut out, written)| {
                out.flush().map_err(|source| exports::ExportError::Io {
                    what: "write",
                    path: PathBuf::from("stdout"),
                    source,
                })?;
                Ok(written)
            })
        }
    };
    let finished = exports::wall_micros();
    let file_name = args
        .output
        .as_ref()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned());
    let mut job = ExportJob {
        id,
        status: ExportStatus::Completed,
        format,
        filter,
        by,
        created_at: format_iso8601(created),
        started_at: Some(format_iso8601(created)),
        finished_at: Some(format_iso8601(finished)),
        rows: 0,
        total: None,
        bytes: 0,
        sha256: None,
        file_name,
        expires_at: None,
        error: None,
    };
    match &result {
        Ok(Written {
            rows,
            bytes,
            sha256,
            ..
        }) => {
            job.rows = *rows;
            job.total = Some(*rows);
            job.bytes = *bytes;
            job.sha256 = Some(sha256.clone());
        }
        Err(e) => {
            job.status = ExportStatus::Failed;
            job.error = Some(exports::chain(e));
        }
    }
    history.insert(&job).map_err(Failure::usage)?;
    let written = result.map_err(Failure::usage)?;
    let to = args
        .output
        .as_ref()
        .map_or_else(|| "stdout".to_owned(), |p| p.display().to_string());
    eprintln!(
        "exported {} anomalies ({} bytes, sha256 {}) to {to}; history entry {}",
        written.rows, written.bytes, written.sha256, job.id
    );
    Ok(ExitCode::SUCCESS)
}

/// Synthetic anomaly `i`: log types, devices, clients, scores and times vary with `i`.
pub fn synthetic(i: u64) -> Anomaly {
    const TYPES: [&str; 3] = ["dns", "firewall", "syslog"];
    let log_type = TYPES[(i % 3) as usize];
    let t0 = 1_796_083_200_000_000_i64; // 2026-12-01T00:00:00Z
    let at = t0 + i64::try_from(i).unwrap_or(0) * 1_000_000;
    let client = format!("10.0.{}.{}", (i / 251) % 250, i % 251);
    let decision = -0.01 - ((i % 50) as f64) / 100.0;
    let fields = match log_type {
        "dns" => vec![
            ("client".to_owned(), format!("{client}/53011")),
            ("query_type".to_owned(), "TXT".to_owned()),
            ("name".to_owned(), format!("x{i}.example.test")),
        ],
        "firewall" => vec![
            ("src".to_owned(), client.clone()),
            ("dst".to_owned(), "10.0.0.1".to_owned()),
            ("proto".to_owned(), "TCP".to_owned()),
            ("dpt".to_owned(), format!("{}", 1 + i % 1024)),
        ],
        _ => vec![("client".to_owned(), client.clone())],
    };
    Anomaly {
        entry: LogEntry {
            index: usize::try_from(i).unwrap_or(usize::MAX),
            timestamp: format_iso8601(at),
            log_type: log_type.to_owned(),
            host: Some(format!("gw{}", i % 7)),
            process: "kernel".to_owned(),
            level: LogLevel::Warning,
            message: format!("synthetic {log_type} anomaly {i} from {client}, \"quoted\", a=b"),
            fields,
            label: Some(true),
        },
        agent: log_type.to_owned(),
        inference: InferenceResult {
            score: -0.5 + decision,
            decision,
            is_anomaly: true,
            model_version: format!("20261201_00000{}", i % 2),
        },
        contributions: vec![
            Contribution {
                feature: "rate_1m".to_owned(),
                value: (i % 97) as f64,
                contribution: 0.2,
            },
            Contribution {
                feature: "distinct_names_1m".to_owned(),
                value: (i % 13) as f64,
                contribution: 0.1,
            },
        ],
    }
}

pub fn seed(args: SeedArgs) -> Outcome {
    if args.batch == 0 || args.batch > 1_000_000 {
        return Err(Failure::usage(anyhow::anyhow!(
            "--batch: expected 1 to 1000000"
        )));
    }
    let store = open(args.data_dir.as_deref())?;
    let now = exports::wall_micros();
    let mut done = 0u64;
    while done < args.count {
        let n = (args.count - done).min(args.batch as u64);
        let mut rows: Vec<StoredAnomaly> = (done..done + n)
            .map(|i| StoredAnomaly::new(synthetic(i), now))
            .collect();
        store.insert(&mut rows, "seed").map_err(Failure::usage)?;
        done += n;
    }
    eprintln!("stored {done} synthetic anomalies");
    Ok(ExitCode::SUCCESS)
}
