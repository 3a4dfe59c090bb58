//! Anomaly export jobs, without HTTP: the history table (`exports`, in the anomaly store), the
//! writer that streams a filtered selection of the store into a file in batches, the queue that
//! runs the server's jobs one at a time on a thread of its own, crash recovery and expiry.
//!
//! A job's file is written as `DATA_DIR/exports/<id>.<ext>.partial` through a hashing writer
//! (SHA-256 and byte count as it goes), fsynced, renamed to `<id>.<ext>` (and the directory
//! fsynced), and only then marked `completed` in the history, in one statement. So a crash
//! mid-export never leaves a half file listed as done: at the next start [`Exports::start`]
//! marks the jobs left `queued` or `running` as failed ("interrupted") and deletes the partial
//! files. Memory is bounded by [`BATCH`] rows whatever the size of the selection.
//!
//! The server's HTTP layer (`http::exports`) and `mcp-train anomalies export` both use
//! [`write_rows`]; the CLI records its run with [`History::insert`].

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use mcp_train_core::anomalies::{AnomalyFilter, ExportFormat, ExportJob, ExportStatus};
use mcp_train_core::anomaly_export::{ExportWriteError, ExportWriter};
use mcp_train_core::time::{format_iso8601, parse_iso8601};
use rusqlite::{params, OptionalExtension};
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use crate::store::{AnomalyStore, StoreError};

/// Rows read from the store and written per batch (the bound on an export's memory).
pub const BATCH: usize = 1000;
/// The folder of the data directory holding the server's export files.
pub const EXPORTS_DIR: &str = "exports";
/// What a file being written ends with.
pub const PARTIAL_SUFFIX: &str = ".partial";
/// How long a completed export's file is kept when nothing else is said.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(24 * 3600);
/// The shortest and longest retention `--export-retention` takes.
pub const RETENTION_BOUNDS: (Duration, Duration) =
    (Duration::from_secs(1), Duration::from_secs(366 * 24 * 3600));
/// Jobs that may wait for the export thread at once.
pub const MAX_QUEUED: usize = 16;
/// Entries `GET /api/exports` lists (newest first).
pub const HISTORY_LIMIT: usize = 200;
/// Jobs of this process kept in memory once finished (their history stays in the store).
const KEPT_FINISHED: usize = 50;
/// Least time between two progress updates (the end of every batch is a candidate).
const PROGRESS_INTERVAL: Duration = Duration::from_millis(200);
/// Why a job left queued or running at a start failed.
pub const INTERRUPTED: &str = "interrupted: the server stopped while the export was written";

/// The SQL of the store's migration that creates the export history (appended to
/// `store::migrations::MIGRATIONS`). Times are microseconds since the epoch.
pub const MIGRATION_SQL: &str = "
CREATE TABLE exports (
    id          TEXT    PRIMARY KEY,
    status      TEXT    NOT NULL,
    format      TEXT    NOT NULL,
    filter      TEXT    NOT NULL,           -- the AnomalyFilter JSON
    by          TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    started_at  INTEGER,
    finished_at INTEGER,
    rows        INTEGER NOT NULL DEFAULT 0,
    total       INTEGER,
    bytes       INTEGER NOT NULL DEFAULT 0,
    sha256      TEXT,
    file_name   TEXT,
    expires_at  INTEGER,
    error       TEXT
);
CREATE INDEX exports_by_created ON exports(created_at);
CREATE INDEX exports_by_status ON exports(status, expires_at);
";

/// Why an export or its history failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot {what} {}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Write(#[from] ExportWriteError),
    #[error("export {id} in the history is unreadable: {message}")]
    Corrupt { id: String, message: String },
    #[error("{0} export jobs are waiting already; try again when one has run")]
    Busy(usize),
    #[error("no randomness from the OS for an export id: {0}")]
    Random(String),
}

/// Reads a retention: a whole number with a unit, `s`, `m`, `h` or `d` (`90m`, `24h`, `7d`),
/// from 1 s to 366 days.
pub fn parse_retention(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{text:?} has no unit: expected e.g. 90m, 24h or 7d"))?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration: expected e.g. 90m, 24h or 7d"))?;
    let seconds = match unit {
        "s" => Some(number),
        "m" => number.checked_mul(60),
        "h" => number.checked_mul(3600),
        "d" => number.checked_mul(86_400),
        _ => None,
    }
    .ok_or_else(|| format!("{text:?}: the unit must be s, m, h or d"))?;
    let duration = Duration::from_secs(seconds);
    let (low, high) = RETENTION_BOUNDS;
    if duration < low || duration > high {
        return Err(format!("{text:?} is out of range: from 1s to 366d"));
    }
    Ok(duration)
}

/// A new job id: 32 random hex digits.
pub fn new_id() -> Result<String, ExportError> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).map_err(|e| ExportError::Random(e.to_string()))?;
    Ok(mcp_train_core::display::hex(&bytes))
}

/// The download's file name: `anomalies-YYYYMMDDTHHMMSSZ-<id prefix>.<ext>`.
pub fn download_name(id: &str, format: ExportFormat, created_micros: i64) -> String {
    let stamp: String = format_iso8601(created_micros)
        .chars()
        .take(19)
        .filter(|c| c.is_ascii_digit() || *c == 'T')
        .collect();
    let short: String = id.chars().take(8).collect();
    let kind = match format {
        ExportFormat::Ndjson | ExportFormat::Csv => "",
        ExportFormat::Ecs => "-ecs",
        ExportFormat::Ocsf => "-ocsf",
    };
    format!("anomalies{kind}-{stamp}Z-{short}.{}", format.extension())
}

/// Where the server keeps a job's file.
pub fn stored_path(data_dir: &Path, id: &str, format: ExportFormat) -> PathBuf {
    data_dir
        .join(EXPORTS_DIR)
        .join(format!("{id}.{}", format.extension()))
}

/// `path` with [`PARTIAL_SUFFIX`].
pub fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(PARTIAL_SUFFIX);
    PathBuf::from(name)
}

/// The wall clock in microseconds.
pub fn wall_micros() -> i64 {
    crate::fs::clock::now_micros()
}

/// A writer that hashes and counts what goes through it.
#[derive(Debug)]
pub struct HashingWriter<W: Write> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> HashingWriter<W> {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// Bytes written so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The output, and the SHA-256 (lowercase hex) and size of everything written.
    pub fn finish(self) -> (W, String, u64) {
        let digest = self.hasher.finalize();
        (
            self.inner,
            mcp_train_core::display::hex(&digest),
            self.bytes,
        )
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// What [`write_rows`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
    /// Stopped on request before the end.
    pub cancelled: bool,
}

/// Writes the anomalies `filter` selects, in id order, in `format` into `out`, [`BATCH`] rows
/// at a time; after every batch `report(rows, bytes)` is called and `cancel` is read (set: stop
/// there). Returns the output (flushed) and what was written.
pub fn write_rows<W: Write>(
    store: &AnomalyStore,
    filter: &AnomalyFilter,
    format: ExportFormat,
    out: W,
    cancel: &AtomicBool,
    report: &mut dyn FnMut(u64, u64),
) -> Result<(W, Written), ExportError> {
    let mut writer = ExportWriter::new(format, HashingWriter::new(out))?;
    let mut after = 0;
    let mut cancelled = false;
    loop {
        if cancel.load(Ordering::SeqCst) {
            cancelled = true;
            break;
        }
        let batch = store.scan(filter, after, BATCH)?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        for anomaly in &batch {
            writer.write(anomaly)?;
        }
        writer.flush().map_err(ExportWriteError::Io)?;
        report(writer.rows(), writer.get_ref().bytes());
        if batch.len() < BATCH {
            break;
        }
    }
    let rows = writer.rows();
    let hashing = writer.finish().map_err(ExportWriteError::Io)?;
    let (out, sha256, bytes) = hashing.finish();
    Ok((
        out,
        Written {
            rows,
            bytes,
            sha256,
            cancelled,
        },
    ))
}

/// Writes an export into `path` the safe way: `path.partial`, fsync, rename, fsync of the
/// folder. On an error or a cancel the partial file is removed and `path` is not created.
pub fn write_file(
    store: &AnomalyStore,
    filter: &AnomalyFilter,
    format: ExportFormat,
    path: &Path,
    cancel: &AtomicBool,
    report: &mut dyn FnMut(u64, u64),
) -> Result<Written, ExportError> {
    let partial = partial_path(path);
    let io_error = |what: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| ExportError::Io { what, path, source }
    };
    let result = (|| {
        let file = std::fs::File::create(&partial).map_err(io_error("create", &partial))?;
        let out = io::BufWriter::with_capacity(256 * 1024, file);
        let (out, written) = write_rows(store, filter, format, out, cancel, report)?;
        if written.cancelled {
            return Ok(written);
        }
        let file = out
            .into_inner()
            .map_err(|e| io_error("write", &partial)(e.into_error()))?;
        file.sync_all().map_err(io_error("sync", &partial))?;
        drop(file);
        std::fs::rename(&partial, path).map_err(io_error("rename", &partial))?;
        if let Some(dir) = path.parent() {
            sync_dir(dir).map_err(io_error("sync the folder", dir))?;
        }
        Ok(written)
    })();
    if !matches!(&result, Ok(w) if !w.cancelled) {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

/// Makes a rename in `dir` durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// One history row as read from SQLite.
struct RawJob {
    id: String,
    status: String,
    format: String,
    filter: String,
    by: String,
    created_at: i64,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    rows: i64,
    total: Option<i64>,
    bytes: i64,
    sha256: Option<String>,
    file_name: Option<String>,
    expires_at: Option<i64>,
    error: Option<String>,
}

const COLUMNS: &str = "id, status, format, filter, by, created_at, started_at, finished_at, \
     rows, total, bytes, sha256, file_name, expires_at, error";

fn raw(row: &rusqlite::Row<'_>) -> rusqlite::Result<RawJob> {
    Ok(RawJob {
        id: row.get(0)?,
        status: row.get(1)?,
        format: row.get(2)?,
        filter: row.get(3)?,
        by: row.get(4)?,
        created_at: row.get(5)?,
        started_at: row.get(6)?,
        finished_at: row.get(7)?,
        rows: row.get(8)?,
        total: row.get(9)?,
        bytes: row.get(10)?,
        sha256: row.get(11)?,
        file_name: row.get(12)?,
        expires_at: row.get(13)?,
        error: row.get(14)?,
    })
}

fn time_of(text: &Option<String>) -> Option<i64> {
    text.as_deref()
        .and_then(|t| parse_iso8601(t).ok())
        .map(|t| t.micros)
}

impl RawJob {
    fn job(self) -> Result<ExportJob, ExportError> {
        let corrupt = |message: String| ExportError::Corrupt {
            id: self.id.clone(),
            message,
        };
        let status: ExportStatus =
            serde_json::from_value(serde_json::Value::String(self.status.clone()))
                .map_err(|_| corrupt(format!("status {:?}", self.status)))?;
        let format = ExportFormat::parse(&self.format).map_err(|e| corrupt(e.to_string()))?;
        let filter: AnomalyFilter =
            serde_json::from_str(&self.filter).map_err(|e| corrupt(format!("filter: {e}")))?;
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(ExportJob {
            id: self.id,
            status,
            format,
            filter,
            by: self.by,
            created_at: format_iso8601(self.created_at),
            started_at: self.started_at.map(format_iso8601),
            finished_at: self.finished_at.map(format_iso8601),
            rows: count(self.rows),
            total: self.total.map(count),
            bytes: count(self.bytes),
            sha256: self.sha256,
            file_name: self.file_name,
            expires_at: self.expires_at.map(format_iso8601),
            error: self.error,
        })
    }
}

fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The export history: the `exports` table of the anomaly store.
#[derive(Debug, Clone)]
pub struct History {
    store: AnomalyStore,
}

impl History {
    pub fn new(store: AnomalyStore) -> History {
        History { store }
    }

    /// Adds a job.
    pub fn insert(&self, job: &ExportJob) -> Result<(), ExportError> {
        let filter = serde_json::to_string(&job.filter).map_err(|e| ExportError::Corrupt {
            id: job.id.clone(),
            message: e.to_string(),
        })?;
        let created = time_of(&Some(job.created_at.clone())).unwrap_or_else(wall_micros);
        self.store.with_connection(|conn| {
            conn.execute(
                &format!("INSERT INTO exports ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"),
                params![
                    job.id,
                    job.status.as_str(),
                    job.format.as_str(),
                    filter,
                    job.by,
                    created,
                    time_of(&job.started_at),
                    time_of(&job.finished_at),
                    signed(job.rows),
                    job.total.map(signed),
                    signed(job.bytes),
                    job.sha256,
                    job.file_name,
                    time_of(&job.expires_at),
                    job.error,
                ],
            )
        })?;
        Ok(())
    }

    /// Writes a job's changing columns (status, times, counts, result) in one statement.
    pub fn save(&self, job: &ExportJob) -> Result<(), ExportError> {
        self.store.with_connection(|conn| {
            conn.execute(
                "UPDATE exports SET status = ?2, started_at = ?3, finished_at = ?4, rows = ?5, \
                 total = ?6, bytes = ?7, sha256 = ?8, file_name = ?9, expires_at = ?10, \
                 error = ?11 WHERE id = ?1",
                params![
                    job.id,
                    job.status.as_str(),
                    time_of(&job.started_at),
                    time_of(&job.finished_at),
                    signed(job.rows),
                    job.total.map(signed),
                    signed(job.bytes),
                    job.sha256,
                    job.file_name,
                    time_of(&job.expires_at),
                    job.error,
                ],
            )
        })?;
        Ok(())
    }

    /// One job.
    pub fn get(&self, id: &str) -> Result<Option<ExportJob>, ExportError> {
        let raw = self.store.with_connection(|conn| {
            conn.query_row(
                &format!("SELECT {COLUMNS} FROM exports WHERE id = ?1"),
                [id],
                raw,
            )
            .optional()
        })?;
        raw.map(RawJob::job).transpose()
    }

    /// The newest `limit` jobs, newest first.
    pub fn list(&self, limit: usize) -> Result<Vec<ExportJob>, ExportError> {
        self.select(
            &format!(
                "SELECT {COLUMNS} FROM exports ORDER BY created_at DESC, rowid DESC LIMIT {limit}"
            ),
            None,
        )
    }

    fn select(&self, sql: &str, at: Option<i64>) -> Result<Vec<ExportJob>, ExportError> {
        let raws = self.store.with_connection(|conn| {
            let mut statement = conn.prepare(sql)?;
            let rows = match at {
                Some(at) => statement
                    .query_map([at], raw)?
                    .collect::<Result<Vec<_>, _>>()?,
                None => statement
                    .query_map([], raw)?
                    .collect::<Result<Vec<_>, _>>()?,
            };
            Ok(rows)
        })?;
        raws.into_iter().map(RawJob::job).collect()
    }

    /// Marks the jobs left queued or running (by a process that died) as failed; returns them.
    pub fn interrupt(&self, at: i64) -> Result<Vec<ExportJob>, ExportError> {
        let left = self.select(
            &format!("SELECT {COLUMNS} FROM exports WHERE status IN ('queued', 'running')"),
            None,
        )?;
        self.store.with_connection(|conn| {
            conn.execute(
                "UPDATE exports SET status = 'failed', finished_at = ?1, error = ?2 \
                 WHERE status IN ('queued', 'running')",
                params![at, INTERRUPTED],
            )
        })?;
        Ok(left)
    }

    /// Completed jobs whose file should be gone by `at`.
    pub fn due(&self, at: i64) -> Result<Vec<ExportJob>, ExportError> {
        self.select(
            &format!(
                "SELECT {COLUMNS} FROM exports WHERE status = 'completed' \
                 AND expires_at IS NOT NULL AND expires_at <= ?1"
            ),
            Some(at),
        )
    }
}

/// A job of this process: its cancel flag and its state, published to the event streams.
#[derive(Debug)]
pub struct Active {
    pub id: String,
    pub cancel: AtomicBool,
    pub state: watch::Sender<ExportJob>,
}

impl Active {
    pub fn snapshot(&self) -> ExportJob {
        self.state.borrow().clone()
    }
}

/// Called once a job has ended (completed, failed or cancelled). The server counts it in the
/// metrics and is where the "export finished" notification goes.
pub type OnFinished = Arc<dyn Fn(&ExportJob) + Send + Sync>;

/// What the export thread needs.
struct Worker {
    store: AnomalyStore,
    history: History,
    data_dir: PathBuf,
    retention: Duration,
    on_finished: OnFinished,
}

/// The server's export jobs: submitted jobs run one at a time on the `exports` thread, which also
/// deletes expired files.
pub struct Exports {
    history: History,
    data_dir: PathBuf,
    active: Arc<Mutex<Vec<Arc<Active>>>>,
    queue: Mutex<mpsc::Sender<Arc<Active>>>,
}

impl std::fmt::Debug for Exports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exports")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

/// How often the export thread looks for expired files: half the retention, from 200 ms to a
/// minute.
fn sweep_interval(retention: Duration) -> Duration {
    (retention / 2).clamp(Duration::from_millis(200), Duration::from_secs(60))
}

impl Exports {
    /// Recovers from a previous process (jobs left queued or running become failed, their
    /// partial files are deleted), expires what is due and starts the export thread, which ends
    /// when the value is dropped.
    pub fn start(
        store: AnomalyStore,
        data_dir: &Path,
        retention: Duration,
        on_finished: OnFinished,
    ) -> Result<Exports, ExportError> {
        let dir = data_dir.join(EXPORTS_DIR);
        std::fs::create_dir_all(&dir).map_err(|source| ExportError::Io {
            what: "create",
            path: dir.clone(),
            source,
        })?;
        let history = History::new(store.clone());
        let interrupted = history.interrupt(wall_micros())?;
        for job in &interrupted {
            tracing::warn!(export = %job.id, "export interrupted by a stop: marked failed");
        }
        remove_partials(&dir);
        let worker = Worker {
            store,
            history: history.clone(),
            data_dir: data_dir.to_path_buf(),
            retention,
            on_finished,
        };
        worker.sweep();
        let (send, receive) = mpsc::channel::<Arc<Active>>();
        let active: Arc<Mutex<Vec<Arc<Active>>>> = Arc::default();
        std::thread::Builder::new()
            .name("exports".to_owned())
            .spawn(move || worker.serve(&receive))
            .map_err(|source| ExportError::Io {
                what: "start the export thread for",
                path: dir,
                source,
            })?;
        Ok(Exports {
            history,
            data_dir: data_dir.to_path_buf(),
            active,
            queue: Mutex::new(send),
        })
    }

    fn actives(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Active>>> {
        self.active.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a job: recorded as `queued` in the history, then handed to the export thread.
    pub fn submit(
        &self,
        format: ExportFormat,
        filter: AnomalyFilter,
        by: String,
    ) -> Result<ExportJob, ExportError> {
        let waiting = self
            .actives()
            .iter()
            .filter(|a| !a.state.borrow().status.is_final())
            .count();
        if waiting >= MAX_QUEUED {
            return Err(ExportError::Busy(waiting));
        }
        let id = new_id()?;
        let created = wall_micros();
        let job = ExportJob {
            file_name: Some(download_name(&id, format, created)),
            id: id.clone(),
            status: ExportStatus::Queued,
            format,
            filter,
            by,
            created_at: format_iso8601(created),
            started_at: None,
            finished_at: None,
            rows: 0,
            total: None,
            bytes: 0,
            sha256: None,
            expires_at: None,
            error: None,
        };
        self.history.insert(&job)?;
        let active = Arc::new(Active {
            id,
            cancel: AtomicBool::new(false),
            state: watch::Sender::new(job.clone()),
        });
        {
            let mut actives = self.actives();
            actives.insert(0, active.clone());
            let mut finished = 0;
            actives.retain(|a| {
                if !a.state.borrow().status.is_final() {
                    return true;
                }
                finished += 1;
                finished <= KEPT_FINISHED
            });
        }
        let sent = self
            .queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(active.clone());
        if sent.is_err() {
            let mut failed = job.clone();
            failed.status = ExportStatus::Failed;
            failed.finished_at = Some(format_iso8601(wall_micros()));
            failed.error = Some("the export thread is gone".to_owned());
            self.history.save(&failed)?;
            active.state.send_replace(failed.clone());
            return Ok(failed);
        }
        Ok(job)
    }

    /// A job of this process (with live progress).
    pub fn active(&self, id: &str) -> Option<Arc<Active>> {
        self.actives().iter().find(|a| a.id == id).cloned()
    }

    /// A job: live while this process runs it, else from the history (which also knows when
    /// an ended job's file expired).
    pub fn get(&self, id: &str) -> Result<Option<ExportJob>, ExportError> {
        let live = self.active(id).map(|a| a.snapshot());
        if let Some(job) = &live {
            if !job.status.is_final() {
                return Ok(live);
            }
        }
        Ok(self.history.get(id)?.or(live))
    }

    /// The history, newest first, with live progress for this process's jobs.
    pub fn list(&self) -> Result<Vec<ExportJob>, ExportError> {
        let mut jobs = self.history.list(HISTORY_LIMIT)?;
        let actives = self.actives();
        for job in &mut jobs {
            if let Some(active) = actives.iter().find(|a| a.id == job.id) {
                let live = active.snapshot();
                if !live.status.is_final() {
                    *job = live;
                }
            }
        }
        Ok(jobs)
    }

    /// Asks a job to stop: a queued one is cancelled at once, a running one stops at its next
    /// batch (wait on its state for the end). `None`: no such job of this process.
    pub fn cancel(&self, id: &str) -> Result<Option<Arc<Active>>, ExportError> {
        let Some(active) = self.active(id) else {
            return Ok(None);
        };
        active.cancel.store(true, Ordering::SeqCst);
        let mut cancelled = None;
        active.state.send_if_modified(|job| {
            if job.status != ExportStatus::Queued {
                return false;
            }
            job.status = ExportStatus::Cancelled;
            job.finished_at = Some(format_iso8601(wall_micros()));
            cancelled = Some(job.clone());
            true
        });
        if let Some(job) = cancelled {
            self.history.save(&job)?;
        }
        Ok(Some(active))
    }

    /// Where a job's file is kept.
    pub fn path(&self, job: &ExportJob) -> PathBuf {
        stored_path(&self.data_dir, &job.id, job.format)
    }
}

/// Deletes every partial file in the exports folder (only the export thread writes there, and
/// at a start none runs yet).
fn remove_partials(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(PARTIAL_SUFFIX))
        {
            match std::fs::remove_file(&path) {
                Ok(()) => tracing::warn!(file = %path.display(), "deleted a partial export file"),
                Err(e) => {
                    tracing::warn!(file = %path.display(), error = %e, "cannot delete a partial export file")
                }
            }
        }
    }
}

impl Worker {
    fn serve(&self, queue: &mpsc::Receiver<Arc<Active>>) {
        let interval = sweep_interval(self.retention);
        let mut next_sweep = Instant::now() + interval;
        loop {
            let wait = next_sweep.saturating_duration_since(Instant::now());
            match queue.recv_timeout(wait) {
                Ok(active) => self.run(&active),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
            if Instant::now() >= next_sweep {
                self.sweep();
                next_sweep = Instant::now() + interval;
            }
        }
    }

    /// Deletes the files of completed jobs past their expiry; their entries become `expired`.
    fn sweep(&self) {
        let due = match self.history.due(wall_micros()) {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %chain(&e), "cannot read the export history for expiry");
                return;
            }
        };
        for mut job in due {
            let path = stored_path(&self.data_dir, &job.id, job.format);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(export = %job.id, error = %e, "cannot delete an expired export file");
                    continue;
                }
            }
            job.status = ExportStatus::Expired;
            if let Err(e) = self.history.save(&job) {
                tracing::warn!(export = %job.id, error = %chain(&e), "cannot mark an export expired");
            } else {
                tracing::info!(export = %job.id, "export expired: file deleted");
            }
        }
    }

    fn run(&self, active: &Active) {
        if active.snapshot().status.is_final() {
            return; // cancelled while queued
        }
        let started = wall_micros();
        let total = self.store.count(&active.snapshot().filter);
        active.state.send_modify(|job| {
            job.status = ExportStatus::Running;
            job.started_at = Some(format_iso8601(started));
            job.total = total.as_ref().ok().copied();
        });
        let job = active.snapshot();
        if let Err(e) = self.history.save(&job) {
            tracing::warn!(export = %job.id, error = %chain(&e), "cannot record an export's start");
        }
        let result = total.map_err(ExportError::from).and_then(|_| {
            let path = stored_path(&self.data_dir, &job.id, job.format);
            let mut last = Instant::now();
            let mut report = |rows: u64, bytes: u64| {
                active.state.send_modify(|job| {
                    job.rows = rows;
                    job.bytes = bytes;
                });
                if last.elapsed() >= PROGRESS_INTERVAL {
                    last = Instant::now();
                    let _ = self.history.save(&active.snapshot());
                }
            };
            write_file(
                &self.store,
                &job.filter,
                job.format,
                &path,
                &active.cancel,
                &mut report,
            )
        });
        let finished = wall_micros();
        let mut job = active.snapshot();
        job.finished_at = Some(format_iso8601(finished));
        match result {
            Ok(written) if written.cancelled => {
                job.status = ExportStatus::Cancelled;
                job.rows = written.rows;
                job.bytes = written.bytes;
            }
            Ok(written) => {
                job.status = ExportStatus::Completed;
                job.rows = written.rows;
                job.bytes = written.bytes;
                job.sha256 = Some(written.sha256);
                let keep = i64::try_from(self.retention.as_micros()).unwrap_or(i64::MAX);
                job.expires_at = Some(format_iso8601(finished.saturating_add(keep)));
            }
            Err(e) => {
                job.status = ExportStatus::Failed;
                job.error = Some(chain(&e));
            }
        }
        // The file is in place (completed) or gone (otherwise) before the history says so.
        if let Err(e) = self.history.save(&job) {
            tracing::error!(export = %job.id, error = %chain(&e), "cannot record the end of an export");
            if job.status == ExportStatus::Completed {
                let _ = std::fs::remove_file(stored_path(&self.data_dir, &job.id, job.format));
                job.status = ExportStatus::Failed;
                job.sha256 = None;
                job.expires_at = None;
                job.error = Some(format!("cannot record the export: {}", chain(&e)));
            }
        }
        tracing::info!(export = %job.id, status = job.status.as_str(), rows = job.rows, bytes = job.bytes, "export finished");
        active.state.send_replace(job.clone());
        (self.on_finished)(&job);
    }
}

/// An error and its causes, `: `-separated.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let next = cause.to_string();
        if !text.ends_with(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = cause.source();
    }
    text
}
