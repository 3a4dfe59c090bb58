//! The anomaly store: every anomaly `mcp-train detect --store` and the server's ingestion found,
//! with its review status and audit trail, in one SQLite file (`DATA_DIR/anomalies.sqlite`).
//!
//! - WAL mode with `synchronous=NORMAL`: readers never wait for the writer, and a crash loses
//!   at most the last transactions, never the file.
//! - Versioned schema: [`migrations::MIGRATIONS`] applied in order on open (`PRAGMA
//!   user_version`); a file written by a newer build is refused, never downgraded.
//! - One writer connection behind a mutex (inserts go in one transaction per batch, with cached
//!   prepared statements); reads take a connection of their own from a small pool, so a list
//!   never waits behind a big ingest.
//! - Lists are newest first with keyset pagination: the cursor is the last id seen, opaque to
//!   callers.
//!
//! The contract (filters, statuses, JSON) is [`mcp_train_core::anomalies`]; this module only
//! keeps it.

pub mod migrations;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use mcp_train_core::agent::Anomaly;
use mcp_train_core::anomalies::{
    AnomalyDetail, AnomalyEvent, AnomalyFilter, AnomalyPage, AnomalyStatus, StatusChange,
    StoredAnomaly,
};
use mcp_train_core::time::{format_iso8601, parse_iso8601};
use rusqlite::types::Value;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use migrations::{Migration, MIGRATIONS};

/// The store's file name in the data directory.
pub const FILE_NAME: &str = "anomalies.sqlite";
/// How long a connection waits for a lock held by another (process or connection).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Read connections kept open for reuse.
const READERS_KEPT: usize = 4;
/// What a cursor starts with (the format's version).
const CURSOR_PREFIX: &str = "a1.";

/// Why the store cannot do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the anomaly store {}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "the anomaly store {} has schema version {found}, newer than this build knows ({known}): \
         upgrade mcp-train, or restore a backup made by this version",
        path.display()
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        known: usize,
    },
    #[error("cannot migrate the anomaly store {} to version {version} ({name})", path.display())]
    Migration {
        path: PathBuf,
        version: usize,
        name: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    #[error("the anomaly store failed")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0:?} is not a cursor of this list (pass next_cursor as it was returned)")]
    Cursor(String),
    #[error("anomaly {0} does not exist")]
    NotFound(i64),
    #[error("anomaly {id} is {from}: it cannot become {to}")]
    InvalidTransition {
        id: i64,
        from: AnomalyStatus,
        to: AnomalyStatus,
    },
    #[error("anomaly {id} in the store is unreadable: {message}")]
    Corrupt { id: i64, message: String },
    #[error("cannot store an anomaly: {0}")]
    Invalid(String),
    #[error("the anomaly store's lock is poisoned (a thread panicked while writing)")]
    Poisoned,
}

/// The anomaly store of a data directory. Cheap to clone; clones share the connections.
#[derive(Clone)]
pub struct AnomalyStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for AnomalyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnomalyStore")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

/// Opens a connection with the store's settings.
fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.set_prepared_statement_cache_capacity(32);
    Ok(conn)
}

/// Brings `conn` to the schema of `migrations` (all of them, in order). Refuses a database
/// whose version is beyond the list.
pub fn migrate(
    conn: &mut Connection,
    path: &Path,
    migrations: &[Migration],
) -> Result<(), StoreError> {
    let found: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(|source| StoreError::Open {
            path: path.to_owned(),
            source,
        })?;
    if found < 0 || found as usize > migrations.len() {
        return Err(StoreError::NewerSchema {
            path: path.to_owned(),
            found,
            known: migrations.len(),
        });
    }
    for (i, migration) in migrations.iter().enumerate().skip(found as usize) {
        let version = i + 1;
        let failed = |source| StoreError::Migration {
            path: path.to_owned(),
            version,
            name: migration.name,
            source,
        };
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(failed)?;
        tx.execute_batch(migration.sql).map_err(failed)?;
        tx.pragma_update(None, "user_version", version as i64)
            .map_err(failed)?;
        tx.commit().map_err(failed)?;
    }
    Ok(())
}

/// The columns a stored anomaly is read from, in [`read_row`]'s order.
const COLUMNS: &str =
    "id, detected_at, log_type, model_version, device, client, score, status, anomaly";

fn read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<StoredAnomaly, StoreError>> {
    let id: i64 = row.get(0)?;
    let detected_at: i64 = row.get(1)?;
    let status: String = row.get(7)?;
    let json: String = row.get(8)?;
    let corrupt = |message: String| StoreError::Corrupt { id, message };
    let status = match AnomalyStatus::parse(&status) {
        Ok(status) => status,
        Err(e) => return Ok(Err(corrupt(e.to_string()))),
    };
    let anomaly: Anomaly = match serde_json::from_str(&json) {
        Ok(anomaly) => anomaly,
        Err(e) => return Ok(Err(corrupt(e.to_string()))),
    };
    Ok(Ok(StoredAnomaly {
        id,
        detected_at: format_iso8601(detected_at),
        status,
        score: row.get(6)?,
        log_type: row.get(2)?,
        model_version: row.get(3)?,
        device: row.get(4)?,
        client: row.get(5)?,
        anomaly,
    }))
}

/// The `WHERE` conditions and parameters of a filter (`1` when it selects everything).
fn where_clause(f: &AnomalyFilter) -> (Vec<&'static str>, Vec<Value>) {
    let mut conds = Vec::new();
    let mut values = Vec::new();
    let mut add = |cond: &'static str, value: Value| {
        conds.push(cond);
        values.push(value);
    };
    if let Some(from) = f.from {
        add("entry_time >= ?", Value::Integer(from));
    }
    if let Some(to) = f.to {
        add("entry_time < ?", Value::Integer(to));
    }
    if let Some(t) = &f.log_type {
        add("log_type = ?", Value::Text(t.clone()));
    }
    if let Some(v) = &f.model_version {
        add("model_version = ?", Value::Text(v.clone()));
    }
    if let Some(s) = f.min_score {
        add("score >= ?", Value::Real(s));
    }
    if let Some(s) = f.status {
        add("status = ?", Value::Text(s.as_str().to_owned()));
    }
    if let Some(d) = &f.device {
        add("device = ?", Value::Text(d.clone()));
    }
    if let Some(c) = &f.client {
        add("client = ?", Value::Text(c.clone()));
    }
    (conds, values)
}

/// The opaque cursor after `id`.
pub fn encode_cursor(id: i64) -> String {
    format!("{CURSOR_PREFIX}{id:x}")
}

/// The id a cursor stands for.
pub fn decode_cursor(cursor: &str) -> Result<i64, StoreError> {
    cursor
        .strip_prefix(CURSOR_PREFIX)
        .filter(|hex| !hex.is_empty() && hex.len() <= 16)
        .and_then(|hex| i64::from_str_radix(hex, 16).ok())
        .filter(|id| *id > 0)
        .ok_or_else(|| StoreError::Cursor(cursor.chars().take(64).collect()))
}

/// Microseconds of an RFC 3339 text, when it reads as one.
fn micros_of(text: &str) -> Option<i64> {
    parse_iso8601(text).ok().map(|t| t.micros)
}

impl AnomalyStore {
    /// Opens (creating it if needed) the store of `data_dir`, applying pending migrations.
    pub fn open(data_dir: &Path) -> Result<AnomalyStore, StoreError> {
        Self::open_with(data_dir, MIGRATIONS)
    }

    /// [`AnomalyStore::open`] with a given migration list (tests: an older schema).
    #[doc(hidden)]
    pub fn open_with(
        data_dir: &Path,
        migrations: &[Migration],
    ) -> Result<AnomalyStore, StoreError> {
        let path = data_dir.join(FILE_NAME);
        let open_error = |source| StoreError::Open {
            path: path.clone(),
            source,
        };
        if let Err(e) = std::fs::create_dir_all(data_dir) {
            return Err(open_error(rusqlite::Error::ToSqlConversionFailure(
                Box::new(e),
            )));
        }
        let mut writer = connect(&path).map_err(open_error)?;
        migrate(&mut writer, &path, migrations)?;
        Ok(AnomalyStore {
            inner: Arc::new(Inner {
                path,
                writer: Mutex::new(writer),
                readers: Mutex::new(Vec::new()),
            }),
        })
    }

    /// The SQLite file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    fn writer(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        self.inner.writer.lock().map_err(|_| StoreError::Poisoned)
    }

    /// Runs `f` on a read connection of its own (from the pool, or a new one).
    fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let pooled = self
            .inner
            .readers
            .lock()
            .map_err(|_| StoreError::Poisoned)?
            .pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => connect(&self.inner.path).map_err(|source| StoreError::Open {
                path: self.inner.path.clone(),
                source,
            })?,
        };
        let result = f(&conn);
        if let Ok(mut readers) = self.inner.readers.lock() {
            if readers.len() < READERS_KEPT {
                readers.push(conn);
            }
        }
        result
    }

    /// Stores `anomalies` in one transaction, each with status `new` and a `stored` event by
    /// `by`; fills in their ids (and sets their status to `new`).
    pub fn insert(&self, anomalies: &mut [StoredAnomaly], by: &str) -> Result<(), StoreError> {
        if anomalies.is_empty() {
            return Ok(());
        }
        let mut conn = self.writer()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO anomalies (detected_at, entry_time, log_type, model_version, device, \
                 client, score, status, anomaly, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )?;
            let mut event = tx.prepare_cached(
                "INSERT INTO anomaly_events (anomaly_id, at, by, from_status, to_status) \
                 VALUES (?, ?, ?, NULL, ?)",
            )?;
            for stored in anomalies.iter_mut() {
                let detected_at = micros_of(&stored.detected_at).ok_or_else(|| {
                    StoreError::Invalid(format!(
                        "detected_at {:?} is not an RFC 3339 time",
                        stored.detected_at
                    ))
                })?;
                if !stored.score.is_finite() {
                    return Err(StoreError::Invalid(format!(
                        "score {} is not a number",
                        stored.score
                    )));
                }
                let json = serde_json::to_string(&stored.anomaly)
                    .map_err(|e| StoreError::Invalid(e.to_string()))?;
                stored.status = AnomalyStatus::New;
                insert.execute(params![
                    detected_at,
                    micros_of(&stored.anomaly.entry.timestamp),
                    stored.log_type,
                    stored.model_version,
                    stored.device,
                    stored.client,
                    stored.score,
                    AnomalyStatus::New.as_str(),
                    json,
                    detected_at,
                ])?;
                stored.id = tx.last_insert_rowid();
                event.execute(params![
                    stored.id,
                    detected_at,
                    by,
                    AnomalyStatus::New.as_str()
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// A page of the anomalies `f` selects, newest first, after `cursor` (a previous page's
    /// `next_cursor`).
    pub fn list(
        &self,
        f: &AnomalyFilter,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<AnomalyPage, StoreError> {
        let before = cursor.map(decode_cursor).transpose()?;
        let limit = limit.max(1);
        let (mut conds, mut values) = where_clause(f);
        if let Some(before) = before {
            conds.push("id < ?");
            values.push(Value::Integer(before));
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM anomalies {} ORDER BY id DESC LIMIT {}",
            where_sql(&conds),
            limit + 1
        );
        let mut items = self.read(|conn| query(conn, &sql, values))?;
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|a| encode_cursor(a.id))
        } else {
            None
        };
        Ok(AnomalyPage { items, next_cursor })
    }

    /// The anomalies `f` selects with an id above `after_id`, oldest first, at most `limit`
    /// (exports walk the whole selection this way).
    pub fn scan(
        &self,
        f: &AnomalyFilter,
        after_id: i64,
        limit: usize,
    ) -> Result<Vec<StoredAnomaly>, StoreError> {
        let (mut conds, mut values) = where_clause(f);
        conds.push("id > ?");
        values.push(Value::Integer(after_id));
        let sql = format!(
            "SELECT {COLUMNS} FROM anomalies {} ORDER BY id ASC LIMIT {}",
            where_sql(&conds),
            limit.max(1)
        );
        self.read(|conn| query(conn, &sql, values))
    }

    /// How many anomalies `f` selects.
    pub fn count(&self, f: &AnomalyFilter) -> Result<u64, StoreError> {
        let (conds, values) = where_clause(f);
        let sql = format!("SELECT COUNT(*) FROM anomalies {}", where_sql(&conds));
        self.read(|conn| {
            let n: i64 =
                conn.query_row(&sql, rusqlite::params_from_iter(values), |row| row.get(0))?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }

    /// One anomaly with its audit trail.
    pub fn get(&self, id: i64) -> Result<Option<AnomalyDetail>, StoreError> {
        self.read(|conn| detail(conn, id))
    }

    /// Moves anomaly `id` to `change.status` (if its lifecycle allows), recording who, when
    /// and why; answers the anomaly with its whole trail.
    pub fn change_status(
        &self,
        id: i64,
        change: &StatusChange,
        at_micros: i64,
    ) -> Result<AnomalyDetail, StoreError> {
        change
            .check()
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let mut conn = self.writer()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let current: Option<String> = tx
            .query_row("SELECT status FROM anomalies WHERE id = ?", [id], |row| {
                row.get(0)
            })
            .optional()?;
        let current = current.ok_or(StoreError::NotFound(id))?;
        let from = AnomalyStatus::parse(&current).map_err(|e| StoreError::Corrupt {
            id,
            message: e.to_string(),
        })?;
        if !from.can_become(change.status) {
            return Err(StoreError::InvalidTransition {
                id,
                from,
                to: change.status,
            });
        }
        tx.execute(
            "UPDATE anomalies SET status = ?, updated_at = ? WHERE id = ?",
            params![change.status.as_str(), at_micros, id],
        )?;
        tx.execute(
            "INSERT INTO anomaly_events (anomaly_id, at, by, from_status, to_status, note) \
             VALUES (?, ?, ?, ?, ?, ?)",
            params![
                id,
                at_micros,
                change.by.as_deref().unwrap_or("api"),
                from.as_str(),
                change.status.as_str(),
                change.note
            ],
        )?;
        let detail = detail(&tx, id)?.ok_or(StoreError::NotFound(id))?;
        tx.commit()?;
        Ok(detail)
    }

    /// Anomalies per log type and status (the `mcp_train_anomalies` gauge, the summary).
    pub fn counts(&self) -> Result<Vec<(String, AnomalyStatus, u64)>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT log_type, status, COUNT(*) FROM anomalies GROUP BY log_type, status \
                 ORDER BY log_type, status",
            )?;
            let rows = stmt.query_map([], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, i64>(2)?,
                ))
            })?;
            let mut counts = Vec::new();
            for row in rows {
                let (log_type, status, n) = row?;
                let status = AnomalyStatus::parse(&status).map_err(|e| StoreError::Corrupt {
                    id: 0,
                    message: e.to_string(),
                })?;
                counts.push((log_type, status, u64::try_from(n).unwrap_or(0)));
            }
            counts.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
            Ok(counts)
        })
    }

    /// Bytes on disk: the database, its write-ahead log and shared-memory index.
    pub fn bytes(&self) -> u64 {
        let path = self.path().as_os_str();
        ["", "-wal", "-shm"]
            .iter()
            .filter_map(|suffix| {
                let mut name = path.to_owned();
                name.push(suffix);
                std::fs::metadata(PathBuf::from(name)).ok()
            })
            .map(|m| m.len())
            .sum()
    }

    /// Runs `f` on the writer connection (other tables in the same file, such as exports).
    pub fn with_connection<T>(
        &self,
        f: impl FnOnce(&mut rusqlite::Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let mut conn = self.writer()?;
        Ok(f(&mut conn)?)
    }
}

fn where_sql(conds: &[&str]) -> String {
    if conds.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conds.join(" AND "))
    }
}

fn query(
    conn: &Connection,
    sql: &str,
    values: Vec<Value>,
) -> Result<Vec<StoredAnomaly>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(values), read_row)?;
    let mut items = Vec::new();
    for row in rows {
        items.push(row??);
    }
    Ok(items)
}

fn detail(conn: &Connection, id: i64) -> Result<Option<AnomalyDetail>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM anomalies WHERE id = ?");
    let found = conn
        .prepare_cached(&sql)?
        .query_row([id], read_row)
        .optional()?;
    let Some(anomaly) = found.transpose()? else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached(
        "SELECT at, by, from_status, to_status, note FROM anomaly_events \
         WHERE anomaly_id = ? ORDER BY id",
    )?;
    let rows = stmt.query_map([id], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, Option<String>>(2)?,
            row.get::<_, String>(3)?,
            row.get::<_, Option<String>>(4)?,
        ))
    })?;
    let status = |text: &str| {
        AnomalyStatus::parse(text).map_err(|e| StoreError::Corrupt {
            id,
            message: e.to_string(),
        })
    };
    let mut history = Vec::new();
    for row in rows {
        let (at, by, from, to, note) = row?;
        history.push(AnomalyEvent {
            at: format_iso8601(at),
            by,
            from: from.as_deref().map(status).transpose()?,
            to: status(&to)?,
            note,
        });
    }
    Ok(Some(AnomalyDetail { anomaly, history }))
}

#[cfg(test)]
mod tests;
