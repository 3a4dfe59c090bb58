//! Tools of the `datasets` group: files registered once and named by a handle (`ds-…`), so the
//! other tools take a short id rather than log bytes. A dataset comes from a path on the
//! server's side (any path on stdio; on HTTP only below `dataset_roots`), from an upload
//! (`POST /api/uploads`), or from the synthetic generator of `mcp-train synth`.

use std::borrow::Cow;
use std::io::Write;
use std::path::{Path, PathBuf};

use mcp_train_core::agent::ParseContext;
use mcp_train_core::export::{looks_like_export, ValidateOptions, ValidationReport};
use mcp_train_core::pipeline::{validate_log, TrainError, ValidatedLog, WIFI_LOG_TYPE};
use mcp_train_core::synth::SynthConfig;
use mcp_train_core::time::{format_iso8601, parse_iso8601, CivilTime};
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};

use super::{McpServer, Page, PageArgs, ToolError};
use crate::datasets::{Dataset, DatasetError, DatasetKind, Datasets};
use crate::fs::clock::now_micros;
use crate::http::{blocking, ApiError};

impl From<DatasetError> for ToolError {
    fn from(e: DatasetError) -> ToolError {
        match e {
            DatasetError::NotFound(_) => ToolError::not_found(e.to_string()),
            DatasetError::BadHandle(_) => ToolError::invalid(format!("dataset: {e}")),
            DatasetError::Io { .. } => ApiError::internal("cannot use the datasets", &e).into(),
        }
    }
}

/// `register_dataset`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterDatasetArgs {
    /// A file on the server's side (an export or a raw log). Over stdio any path the user can
    /// read; over HTTP only below a directory listed in `dataset_roots` (mcp.yaml). Give this
    /// or `upload`.
    #[serde(default)]
    pub path: Option<String>,
    /// A handle (`up-…`) from `POST /api/uploads` (the file as the request body). Used once;
    /// expires an hour after the upload. Give this or `path`.
    #[serde(default)]
    pub upload: Option<String>,
    /// A name for people (default: the file name, or the upload handle).
    #[serde(default)]
    pub name: Option<String>,
    /// The log type (wifi, dns, firewall, syslog, …). Required for raw logs; for an export it
    /// is optional and checked.
    #[serde(default)]
    pub log_type: Option<String>,
}

/// `generate_dataset`: the options of `mcp-train synth`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateDatasetArgs {
    /// Log type to generate: wifi (default), dns, firewall or syslog.
    #[serde(default)]
    pub log_type: Option<String>,
    /// Seed: the same seed and options give the same bytes (default 42).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Number of records, 1 to 50 000 000 (default 10 000); the result must also fit the
    /// server's export size limit.
    #[serde(default)]
    pub records: Option<usize>,
    /// Days of traffic, 1 to 366 (default 7).
    #[serde(default)]
    pub days: Option<u32>,
    /// Share of records in injected incidents (label 1), 0 to 0.5 (default 0.05).
    #[serde(default)]
    pub anomaly_ratio: Option<f64>,
    /// Start of the span, ISO 8601 (default 2024-01-01T00:00:00Z).
    #[serde(default)]
    pub start: Option<String>,
    /// Access points, 1 to 64 (default 4).
    #[serde(default)]
    pub access_points: Option<usize>,
    /// Known client devices, 1 to 100 000 (default 60).
    #[serde(default)]
    pub clients: Option<usize>,
    /// A name for people (default: synth-<log type>-<seed>.json).
    #[serde(default)]
    pub name: Option<String>,
}

/// `validate_dataset`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidateDatasetArgs {
    /// The dataset handle (`ds-…`).
    pub dataset: String,
    /// Leave invalid records (bad lines) out and report them as dropped, as training with
    /// drop_invalid does (default: the server's configuration).
    #[serde(default)]
    pub drop_invalid: Option<bool>,
}

/// The report of `mcp-train validate --json`, with the dataset it is about.
#[derive(Debug, serde::Serialize)]
pub struct DatasetValidation {
    /// The dataset handle.
    pub dataset: String,
    /// The log type it was read as (the registered one, or the one recognised).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_type: Option<String>,
    #[serde(flatten)]
    pub report: ValidationReport,
}

impl schemars::JsonSchema for DatasetValidation {
    fn schema_name() -> Cow<'static, str> {
        "DatasetValidation".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "object",
            "description": "The validation report of `mcp-train validate --json`, with the dataset.",
            "required": ["dataset", "valid", "records_seen", "errors", "warnings", "summary"],
            "properties": {
                "dataset": { "type": "string", "description": "The dataset handle." },
                "log_type": { "type": "string", "description": "The log type it was read as." },
                "valid": { "type": "boolean", "description": "Usable for training." },
                "format": { "description": "The shape the data came in, when it could be read." },
                "records_seen": { "type": "integer", "minimum": 0 },
                "errors": { "type": "array", "items": { "type": "object" },
                    "description": "Problems that stop training, grouped by kind, with examples (record, line:column)." },
                "warnings": { "type": "array", "items": { "type": "object" } },
                "dropped": { "type": "object", "description": "Present when bad records were dropped on request." },
                "summary": { "type": "object", "description": "What the usable records hold." }
            }
        })
    }
}

#[tool_router(router = dataset_tools, vis = "pub(super)")]
impl McpServer {
    #[tool(
        description = "Register a dataset from a file: `path` (a file on the server's side; over \
                       HTTP only below the configured dataset_roots) or `upload` (a handle from \
                       POST /api/uploads). A JSON export becomes an export dataset; anything \
                       else is a raw log of `log_type` (required then). Returns the dataset \
                       (handle ds-…, kind, bytes, sha256). Next: validate_dataset, then \
                       start_training.",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn register_dataset(
        &self,
        Parameters(args): Parameters<RegisterDatasetArgs>,
    ) -> Result<Json<Dataset>, ToolError> {
        let max_mb = self.state().config.training.limits.max_export_mb;
        let (bytes, default_name, source) = match (&args.path, &args.upload) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(ToolError::invalid(
                    "give exactly one of path (a file on the server's side) and upload (a handle from POST /api/uploads)",
                ))
            }
            (Some(path), None) => {
                let path = self.dataset_path(path)?;
                let shown = path.display().to_string();
                let read = path.clone();
                let bytes = blocking(move || read_limited(&read, max_mb)).await?;
                let name = path
                    .file_name()
                    .map_or_else(|| shown.clone(), |n| n.to_string_lossy().into_owned());
                (bytes, name, format!("path:{shown}"))
            }
            (None, Some(upload)) => {
                let staged = self.state().uploads.take(upload)?;
                let bytes = blocking(move || {
                    std::fs::read(&staged.path)
                        .map_err(|e| ApiError::internal("cannot read the upload", &e))
                })
                .await?;
                (bytes, upload.clone(), format!("upload:{upload}"))
            }
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ToolError::invalid("the file is empty"));
        }
        let name = checked_name(args.name.as_deref(), default_name)?;
        let kind = if looks_like_export(&bytes) {
            DatasetKind::Export
        } else {
            DatasetKind::Log
        };
        let log_type = match (&args.log_type, kind) {
            (Some(t), _) => Some(check_log_type(t, kind)?),
            (None, DatasetKind::Log) => {
                return Err(ToolError::invalid(
                    "log_type: required for a raw log (wifi, dns, firewall, syslog, …; mcp-train agents list shows them)",
                ))
            }
            (None, DatasetKind::Export) => None,
        };
        let datasets = Datasets::open(&self.state().data_dir);
        let dataset = blocking(move || {
            let at = format_iso8601(now_micros());
            datasets
                .add(&name, kind, log_type.as_deref(), &source, &at, &bytes)
                .map_err(|e| ApiError::internal("cannot register the dataset", &e))
        })
        .await?;
        tracing::info!(dataset = %dataset.id, source = %dataset.source, "dataset registered");
        Ok(Json(dataset))
    }

    #[tool(
        description = "Generate a synthetic labelled export (the generator of `mcp-train synth`: \
                       realistic traffic with injected incidents; the same seed gives the same \
                       bytes) and register it. Returns the dataset (kind export). Next: \
                       validate_dataset or start_training.",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn generate_dataset(
        &self,
        Parameters(args): Parameters<GenerateDatasetArgs>,
    ) -> Result<Json<Dataset>, ToolError> {
        let defaults = SynthConfig::default();
        let log_type = args.log_type.unwrap_or_else(|| WIFI_LOG_TYPE.to_owned());
        let agent = mcp_train_core::agent::agent(&log_type)
            .map_err(|e| ToolError::invalid(format!("log_type: {e}")))?;
        let start_micros = match &args.start {
            Some(text) => {
                parse_iso8601(text)
                    .map_err(|e| ToolError::invalid(format!("start: {e}")))?
                    .micros
            }
            None => defaults.start_micros,
        };
        let config = SynthConfig {
            records: args.records.unwrap_or(defaults.records),
            anomaly_ratio: args.anomaly_ratio.unwrap_or(defaults.anomaly_ratio),
            seed: args.seed.unwrap_or(defaults.seed),
            start_micros,
            days: args.days.unwrap_or(defaults.days),
            access_points: args.access_points.unwrap_or(defaults.access_points),
            clients: args.clients.unwrap_or(defaults.clients),
        }
        .check()
        .map_err(|e| ToolError::invalid(e.to_string()))?;
        let seed = config.config().seed;
        let name = checked_name(
            args.name.as_deref(),
            format!("synth-{log_type}-{seed}.json"),
        )?;
        let max_mb = self.state().config.training.limits.max_export_mb;
        let datasets = Datasets::open(&self.state().data_dir);
        let dataset = blocking(move || {
            let mut out = Bounded {
                bytes: Vec::new(),
                limit: max_mb.saturating_mul(1024 * 1024),
            };
            if let Err(e) = agent.synth(&config, &mut out) {
                return Err(if e.kind() == std::io::ErrorKind::FileTooLarge {
                    ApiError::invalid_parameter(format!(
                        "the export would be larger than the server's limit of {max_mb} MB: ask for fewer records"
                    ))
                } else {
                    ApiError::internal("cannot generate the dataset", &e)
                });
            }
            let c = config.config();
            let source = format!(
                "synth:log_type={log_type},seed={},records={},days={},anomaly_ratio={}",
                c.seed, c.records, c.days, c.anomaly_ratio
            );
            let at = format_iso8601(now_micros());
            datasets
                .add(
                    &name,
                    DatasetKind::Export,
                    Some(&log_type),
                    &source,
                    &at,
                    &out.bytes,
                )
                .map_err(|e| ApiError::internal("cannot register the dataset", &e))
        })
        .await?;
        Ok(Json(dataset))
    }

    #[tool(
        description = "Validate and profile a dataset: the report of `mcp-train validate --json` \
                       (valid, records seen, errors and warnings grouped by kind with examples \
                       at record or line:column, what the usable records hold). A raw log is \
                       read through its log type's agent. Next: start_training when valid (or \
                       with drop_invalid).",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn validate_dataset(
        &self,
        Parameters(args): Parameters<ValidateDatasetArgs>,
    ) -> Result<Json<DatasetValidation>, ToolError> {
        let datasets = Datasets::open(&self.state().data_dir);
        let dataset = datasets.get(&args.dataset)?;
        let mut options = self.state().config.training.validation.clone();
        if let Some(drop) = args.drop_invalid {
            options.drop_invalid = drop;
        }
        let validation = {
            let _permit = self.state().heavy_work().await.map_err(ToolError::from)?;
            blocking(move || {
                let bytes = datasets
                    .read(&dataset.id)
                    .map_err(|e| ApiError::internal("cannot read the dataset", &e))?;
                let (log_type, report) = match read_dataset(&dataset, &bytes, &options)? {
                    Ok(log) => (Some(log.log_type), log.parsed.report),
                    Err(report) => (dataset.log_type.clone(), report),
                };
                Ok(DatasetValidation {
                    dataset: dataset.id,
                    log_type,
                    report,
                })
            })
            .await?
        };
        Ok(Json(validation))
    }

    #[tool(
        description = "List the registered datasets, newest first: handle, name, kind (export or \
                       log), log type, bytes, sha256, source. Paged: pass next_cursor as cursor \
                       for more. Next: validate_dataset or start_training with a handle.",
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn list_datasets(
        &self,
        Parameters(args): Parameters<PageArgs>,
    ) -> Result<Json<Page<Dataset>>, ToolError> {
        let datasets = Datasets::open(&self.state().data_dir);
        let all = blocking(move || {
            datasets
                .list()
                .map_err(|e| ApiError::internal("cannot list the datasets", &e))
        })
        .await?;
        Ok(Json(args.page(all)?))
    }
}

impl McpServer {
    /// The file `path` names, if this server may read it: on stdio any path; otherwise only one
    /// below a directory in `dataset_roots` (symbolic links resolved first).
    fn dataset_path(&self, path: &str) -> Result<PathBuf, ToolError> {
        let config = self.config();
        let given = Path::new(path);
        let upload_instead = "upload the file with POST /api/uploads and pass its handle as upload";
        if !config.stdio && config.dataset_roots.is_empty() {
            return Err(ToolError::invalid(format!(
                "path: this server reads no files on its side; {upload_instead}, or list a directory in dataset_roots in mcp.yaml"
            )));
        }
        if !config.stdio && !given.is_absolute() {
            return Err(ToolError::invalid(format!(
                "path: {path:?} is not an absolute path"
            )));
        }
        let real = given.canonicalize();
        if config.stdio {
            return real.map_err(|e| ToolError::not_found(format!("path: cannot read {path}: {e}")));
        }
        let roots: Vec<PathBuf> = config
            .dataset_roots
            .iter()
            .map(|r| r.canonicalize().unwrap_or_else(|_| r.clone()))
            .collect();
        let below = |p: &Path| roots.iter().any(|r| p.starts_with(r));
        match real {
            Ok(real) if below(&real) => Ok(real),
            Err(e) if below(given) => Err(ToolError::not_found(format!(
                "path: cannot read {path}: {e}"
            ))),
            _ => {
                let shown: Vec<String> = config
                    .dataset_roots
                    .iter()
                    .map(|r| r.display().to_string())
                    .collect();
                Err(ToolError::invalid(format!(
                    "path: {path} is not below a dataset root ({}); {upload_instead}, or add its directory to dataset_roots in mcp.yaml",
                    shown.join(", ")
                )))
            }
        }
    }
}

/// Reads a dataset as its log type (the registered one, else the one recognised): a raw log
/// through its agent (bad lines at line:column), an export against its log schema.
/// `Ok(Err(report))`: it cannot be read at all (the report says why).
pub(super) fn read_dataset<'a>(
    dataset: &Dataset,
    bytes: &'a [u8],
    options: &ValidateOptions,
) -> Result<Result<ValidatedLog<'a>, ValidationReport>, ApiError> {
    let mut schema_error = None;
    // A syslog timestamp without a year is read in the year the dataset was registered.
    let registered = parse_iso8601(&dataset.registered_at).map_or_else(|_| now_micros(), |t| t.micros);
    let context = ParseContext {
        default_year: CivilTime::from_micros(registered).year as i32,
    };
    let result = validate_log(
        bytes,
        dataset.log_type.as_deref(),
        &context,
        options,
        &mut |t| match crate::fs::config_dir::load_log_schema(None, t) {
            Ok(schema) => Some(schema),
            Err(e) => {
                schema_error = Some(e);
                None
            }
        },
    );
    if let Some(e) = schema_error {
        return Err(ApiError::invalid_parameter(format!("log_type: {e}")));
    }
    match result {
        Ok(log) => Ok(Ok(log)),
        Err(TrainError::Export(e)) => Ok(Err(ValidationReport::from_error(&e))),
        Err(e) => Err(ApiError::invalid_parameter(e.to_string())),
    }
}

/// A log type a dataset may be registered as: for a raw log one an agent reads; for an export
/// also the built-in wifi type (as `POST /api/training/jobs?log_type=` accepts).
fn check_log_type(log_type: &str, kind: DatasetKind) -> Result<String, ToolError> {
    let t = log_type.trim();
    if kind == DatasetKind::Export && t == WIFI_LOG_TYPE {
        return Ok(t.to_owned());
    }
    mcp_train_core::agent::agent(t).map_err(|e| ToolError::invalid(format!("log_type: {e}")))?;
    Ok(t.to_owned())
}

/// A dataset name: 1–255 characters, no control characters.
fn checked_name(given: Option<&str>, default: String) -> Result<String, ToolError> {
    let name = given.map_or(default, |n| n.trim().to_owned());
    if name.is_empty() || name.chars().count() > 255 || name.chars().any(char::is_control) {
        let shown: String = name.chars().take(64).collect();
        return Err(ToolError::invalid(format!(
            "name: expected 1–255 characters without control characters, found {shown:?}"
        )));
    }
    Ok(name)
}

/// A file's bytes, refused when larger than the server's export limit.
fn read_limited(path: &Path, max_mb: u64) -> Result<Vec<u8>, ApiError> {
    let shown = path.display();
    let size = std::fs::metadata(path)
        .map_err(|e| ApiError::not_found(format!("path: cannot read {shown}: {e}")))?
        .len();
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return Err(ApiError::invalid_parameter(format!(
            "path: {shown} is not a file"
        )));
    }
    if size > max_mb.saturating_mul(1024 * 1024) {
        return Err(ApiError::invalid_parameter(format!(
            "path: {shown} is larger than the server's limit of {max_mb} MB"
        )));
    }
    std::fs::read(path).map_err(|e| ApiError::not_found(format!("path: cannot read {shown}: {e}")))
}

/// A writer into memory that refuses to grow past `limit` bytes.
struct Bounded {
    bytes: Vec<u8>,
    limit: u64,
}

impl Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() as u64 + buf.len() as u64 > self.limit {
            return Err(std::io::Error::from(std::io::ErrorKind::FileTooLarge));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
