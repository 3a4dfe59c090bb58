//! The knowledge base: a full-text index (SQLite FTS5, `DATA_DIR/knowledge.sqlite`) over
//!
//! - the **catalogue** of log events ([`mcp_train_core::knowledge::Catalogue`]);
//! - the **registry**: each model's card, its evaluation and the training job that made it
//!   (from the model's lineage and training record);
//! - the **anomaly store**: every stored anomaly and every analyst's verdict (status change and
//!   note).
//!
//! It is kept current by [`KnowledgeBase::sync`], run before each search and after the
//! product's writes: an incremental pass driven by high-water marks — the catalogue's digest, a
//! digest per registry record, the highest anomaly id and audit-event id indexed — so data
//! written by another process (the CLI next to a running server) is indexed too. Each pass runs
//! in one immediate transaction that re-reads the marks, so concurrent passes (several requests,
//! or the CLI and the server) never index a thing twice. [`KnowledgeBase::rebuild`] drops
//! everything and indexes from scratch.
//!
//! Results are ranked by BM25 (titles weigh more than bodies) and cite their source: a
//! catalogue entry id, a model version or an anomaly id. User text never reaches FTS5's query
//! syntax: every word is quoted as a phrase ([`match_expression`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use mcp_train_core::agent::Anomaly;
use mcp_train_core::anomalies::{AnomalyFilter, StoredAnomaly};
use mcp_train_core::knowledge::{
    Catalogue, DocKind, SearchHit, SearchQuery, SourceRef, CATALOGUE_YAML,
};
use mcp_train_core::pipeline::{Detector, ModelArtifact};
use mcp_train_core::registry::ModelRecord;
use mcp_train_core::time::format_iso8601;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use sha2::{Digest, Sha256};

use crate::store::AnomalyStore;

mod explain;
pub use explain::{
    explain, AnomalySummary, EventMeaning, ExplainError, Explanation, FeatureReason, SimilarAnomaly,
};

/// The index's file name in the data directory.
pub const FILE_NAME: &str = "knowledge.sqlite";
/// The layout of the index's documents; a file of another layout is rebuilt.
const LAYOUT: &str = "1";
/// Anomalies read from the store per batch while syncing.
const BATCH: usize = 1000;
/// How long a connection waits for another writer.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest text indexed of one anomaly message or verdict note.
const MAX_TEXT: usize = 4000;

/// Why the knowledge base cannot do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum KbError {
    #[error("cannot open the knowledge base {}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("the knowledge base failed")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the knowledge base cannot read the anomaly store")]
    Store(#[from] crate::store::StoreError),
    #[error("the knowledge base cannot read the registry: {0}")]
    Registry(String),
}

/// What a sync or rebuild indexed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncReport {
    /// Catalogue entries (re)indexed (0 when the catalogue did not change).
    pub catalogue: usize,
    /// Models (re)indexed, each as a model, an evaluation and a job document.
    pub models: usize,
    /// Models no longer in the registry, removed.
    pub models_removed: usize,
    /// Anomalies indexed.
    pub anomalies: usize,
    /// Verdicts (status changes) indexed.
    pub verdicts: usize,
    /// Documents in the index afterwards.
    pub documents: usize,
}

/// The knowledge base of a data directory: one connection, opened per use (cheap; every
/// pass is its own transaction).
#[derive(Debug)]
pub struct KnowledgeBase {
    path: PathBuf,
    /// The registry whose models are indexed (the data directory's, unless another is given).
    registry: crate::fs::registry::RegistryAt,
    conn: Connection,
}

impl KnowledgeBase {
    /// Opens (creating it if needed) the knowledge base of `data_dir`. A file of another
    /// layout is emptied (the next sync fills it).
    pub fn open(data_dir: &Path) -> Result<KnowledgeBase, KbError> {
        let path = data_dir.join(FILE_NAME);
        let open_error = |source| KbError::Open {
            path: path.clone(),
            source,
        };
        if let Err(e) = std::fs::create_dir_all(data_dir) {
            return Err(open_error(rusqlite::Error::ToSqlConversionFailure(
                Box::new(e),
            )));
        }
        let conn = Connection::open(&path).map_err(open_error)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_error)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_error)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_error)?;
        let kb = KnowledgeBase {
            path,
            registry: crate::fs::registry::RegistryAt::Dir(data_dir.to_owned()),
            conn,
        };
        kb.create()?;
        Ok(kb)
    }

    /// Indexes the models of `registry` instead of the data directory's (a server whose
    /// registry is in object storage).
    pub fn with_registry(mut self, registry: &crate::fs::registry::RegistryAt) -> Self {
        self.registry = registry.clone();
        self
    }

    /// The SQLite file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn create(&self) -> Result<(), KbError> {
        self.conn.execute_batch(
            "BEGIN IMMEDIATE;
             CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS sources (key TEXT PRIMARY KEY, digest TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS owners (doc INTEGER PRIMARY KEY, owner TEXT NOT NULL);
             CREATE INDEX IF NOT EXISTS owners_by_owner ON owners(owner);
             CREATE VIRTUAL TABLE IF NOT EXISTS docs USING fts5(
                 title, body, kind UNINDEXED, source_kind UNINDEXED, source_id UNINDEXED,
                 log_type UNINDEXED, tokenize = 'porter unicode61');
             COMMIT;",
        )?;
        let layout: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'layout'", [], |r| {
                r.get(0)
            })
            .optional()?;
        if layout.as_deref() != Some(LAYOUT) {
            let tx = self.conn.unchecked_transaction()?;
            clear(&tx)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// Drops every document and indexes everything again.
    pub fn rebuild(&mut self, store: &AnomalyStore) -> Result<SyncReport, KbError> {
        {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            clear(&tx)?;
            tx.commit()?;
        }
        self.sync(store)
    }

    /// Indexes what changed since the last pass: the catalogue if its text changed, new,
    /// changed and removed models, new anomalies and new verdicts.
    pub fn sync(&mut self, store: &AnomalyStore) -> Result<SyncReport, KbError> {
        let registry = self.registry.open();
        let records = registry
            .list()
            .map_err(|e| KbError::Registry(e.to_string()))?;
        // The store's extent now; the pass indexes up to here (later rows wait for the next).
        let (max_anomaly, max_event) = store.with_connection(|c| {
            c.query_row(
                "SELECT (SELECT COALESCE(MAX(id), 0) FROM anomalies), \
                        (SELECT COALESCE(MAX(id), 0) FROM anomaly_events)",
                [],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
            )
        })?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut report = SyncReport::default();
        let catalogue_digest = hex_digest(CATALOGUE_YAML.as_bytes());
        if meta(&tx, "catalogue")?.as_deref() != Some(catalogue_digest.as_str()) {
            remove_owner(&tx, "catalogue")?;
            for entry in Catalogue::builtin().entries() {
                insert_doc(
                    &tx,
                    "catalogue",
                    &Doc {
                        kind: DocKind::Catalogue,
                        title: format!("{} — {}", entry.event, entry.title),
                        body: format!(
                            "{}\n{}\nWhat to check: {}\nFeatures: {}\nSource: {}",
                            entry.id,
                            entry.meaning,
                            entry.check,
                            entry.features.join(", "),
                            entry.source
                        ),
                        source: ("catalogue", entry.id.clone()),
                        log_type: Some(entry.log_type.clone()),
                    },
                )?;
                report.catalogue += 1;
            }
            set_meta(&tx, "catalogue", &catalogue_digest)?;
        }

        // Models: re-indexed when their record changes (status, deployment), removed when gone.
        let mut indexed: Vec<String> = {
            let mut stmt = tx.prepare("SELECT key FROM sources WHERE key LIKE 'model:%'")?;
            let keys = stmt.query_map([], |r| r.get::<_, String>(0))?;
            keys.collect::<Result<_, _>>()?
        };
        for record in &records {
            let key = format!("model:{}", record.version);
            indexed.retain(|k| k != &key);
            let digest = hex_digest(&serde_json::to_vec(record).unwrap_or_default());
            let known: Option<String> = tx
                .query_row("SELECT digest FROM sources WHERE key = ?", [&key], |r| {
                    r.get(0)
                })
                .optional()?;
            if known.as_deref() == Some(digest.as_str()) {
                continue;
            }
            remove_owner(&tx, &key)?;
            let artifact = registry
                .get(&record.version)
                .ok()
                .and_then(|m| m.artifact().ok());
            for doc in model_docs(record, artifact.as_ref()) {
                insert_doc(&tx, &key, &doc)?;
            }
            tx.execute(
                "INSERT OR REPLACE INTO sources (key, digest) VALUES (?, ?)",
                params![key, digest],
            )?;
            report.models += 1;
        }
        for key in indexed {
            remove_owner(&tx, &key)?;
            tx.execute("DELETE FROM sources WHERE key = ?", [&key])?;
            report.models_removed += 1;
        }

        // Anomalies and verdicts: append-only in the store, indexed above high-water marks. A
        // store that shrank below the marks was replaced: its documents go.
        let mut anomaly_mark = meta_i64(&tx, "anomaly_id")?;
        let mut event_mark = meta_i64(&tx, "event_id")?;
        if max_anomaly < anomaly_mark || max_event < event_mark {
            tx.execute(
                "DELETE FROM docs WHERE rowid IN \
                 (SELECT doc FROM owners WHERE owner LIKE 'anomaly:%')",
                [],
            )?;
            tx.execute("DELETE FROM owners WHERE owner LIKE 'anomaly:%'", [])?;
            anomaly_mark = 0;
            event_mark = 0;
        }
        while anomaly_mark < max_anomaly {
            let batch = store.scan(&AnomalyFilter::default(), anomaly_mark, BATCH)?;
            if batch.is_empty() {
                break;
            }
            for stored in &batch {
                if stored.id > max_anomaly {
                    break;
                }
                insert_doc(&tx, &format!("anomaly:{}", stored.id), &anomaly_doc(stored))?;
                report.anomalies += 1;
                anomaly_mark = stored.id;
            }
            if batch.last().is_some_and(|a| a.id > max_anomaly) {
                break;
            }
        }
        set_meta(&tx, "anomaly_id", &anomaly_mark.to_string())?;
        let verdicts = store.with_connection(|c| {
            let mut stmt = c.prepare(
                "SELECT e.id, e.anomaly_id, e.at, e.by, e.from_status, e.to_status, e.note, \
                        a.log_type, a.anomaly \
                 FROM anomaly_events e JOIN anomalies a ON a.id = e.anomaly_id \
                 WHERE e.id > ? AND e.id <= ? AND e.from_status IS NOT NULL ORDER BY e.id",
            )?;
            let rows = stmt.query_map([event_mark, max_event], |r| {
                Ok(Verdict {
                    anomaly_id: r.get(1)?,
                    at: r.get(2)?,
                    by: r.get(3)?,
                    from: r.get(4)?,
                    to: r.get(5)?,
                    note: r.get(6)?,
                    log_type: r.get(7)?,
                    anomaly: r.get(8)?,
                })
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })?;
        for verdict in &verdicts {
            insert_doc(
                &tx,
                &format!("anomaly:{}", verdict.anomaly_id),
                &verdict_doc(verdict),
            )?;
            report.verdicts += 1;
        }
        set_meta(&tx, "event_id", &max_event.max(event_mark).to_string())?;
        report.documents = tx.query_row("SELECT COUNT(*) FROM owners", [], |r| {
            r.get::<_, i64>(0).map(|n| n.max(0) as usize)
        })?;
        tx.commit()?;
        Ok(report)
    }

    /// The documents matching `query`, best first (BM25; titles weigh four times the body).
    pub fn search(&self, query: &SearchQuery) -> Result<Vec<SearchHit>, KbError> {
        let mut sql = String::from(
            "SELECT kind, title, snippet(docs, -1, '[', ']', '…', 24), source_kind, source_id, \
                    log_type, bm25(docs, 4.0, 1.0) AS score \
             FROM docs WHERE docs MATCH ?",
        );
        let mut values: Vec<rusqlite::types::Value> = vec![match_expression(&query.terms).into()];
        if !query.kinds.is_empty() {
            sql.push_str(" AND kind IN (");
            sql.push_str(&vec!["?"; query.kinds.len()].join(", "));
            sql.push(')');
            values.extend(query.kinds.iter().map(|k| k.as_str().to_owned().into()));
        }
        if let Some(log_type) = &query.log_type {
            sql.push_str(" AND log_type = ?");
            values.push(log_type.clone().into());
        }
        sql.push_str(" ORDER BY score LIMIT ?");
        values.push((query.limit as i64).into());
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(values), |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, f64>(6)?,
            ))
        })?;
        let mut hits = Vec::new();
        for row in rows {
            let (kind, title, snippet, source_kind, source_id, log_type, score) = row?;
            let Ok(kind) = DocKind::parse(&kind) else {
                continue;
            };
            hits.push(SearchHit {
                kind,
                title,
                snippet,
                source: SourceRef {
                    kind: source_kind,
                    id: source_id,
                },
                log_type,
                rank: hits.len() + 1,
                // SQLite's bm25 is lower-is-better; the wire says higher-is-better.
                score: -score,
            });
        }
        Ok(hits)
    }
}

/// The FTS5 expression for `terms`: each term a quoted phrase (quotes doubled), any may match.
/// Nothing of the user's text is read as FTS5 syntax (`NEAR`, `*`, `:`, `^`, parentheses).
pub fn match_expression(terms: &[String]) -> String {
    terms
        .iter()
        .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" OR ")
}

/// Opens the knowledge base of `data_dir`, brings it up to date and answers `query`: what every
/// surface calls.
pub fn search(
    data_dir: &Path,
    registry: &crate::fs::registry::RegistryAt,
    store: &AnomalyStore,
    query: &SearchQuery,
) -> Result<Vec<SearchHit>, KbError> {
    let mut kb = KnowledgeBase::open(data_dir)?.with_registry(registry);
    kb.sync(store)?;
    kb.search(query)
}

/// A document before it is indexed.
struct Doc {
    kind: DocKind,
    title: String,
    body: String,
    source: (&'static str, String),
    log_type: Option<String>,
}

struct Verdict {
    anomaly_id: i64,
    at: i64,
    by: String,
    from: Option<String>,
    to: String,
    note: Option<String>,
    log_type: String,
    anomaly: String,
}

fn clear(tx: &Connection) -> rusqlite::Result<()> {
    tx.execute_batch(
        "DELETE FROM docs; DELETE FROM owners; DELETE FROM sources; DELETE FROM meta;",
    )?;
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('layout', ?)",
        [LAYOUT],
    )?;
    Ok(())
}

fn meta(tx: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    tx.query_row("SELECT value FROM meta WHERE key = ?", [key], |r| r.get(0))
        .optional()
}

fn meta_i64(tx: &Connection, key: &str) -> rusqlite::Result<i64> {
    Ok(meta(tx, key)?.and_then(|v| v.parse().ok()).unwrap_or(0))
}

fn set_meta(tx: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
        [key, value],
    )?;
    Ok(())
}

fn remove_owner(tx: &Connection, owner: &str) -> rusqlite::Result<()> {
    tx.execute(
        "DELETE FROM docs WHERE rowid IN (SELECT doc FROM owners WHERE owner = ?)",
        [owner],
    )?;
    tx.execute("DELETE FROM owners WHERE owner = ?", [owner])?;
    Ok(())
}

fn insert_doc(tx: &Connection, owner: &str, doc: &Doc) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO docs (title, body, kind, source_kind, source_id, log_type) \
         VALUES (?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        doc.title,
        doc.body,
        doc.kind.as_str(),
        doc.source.0,
        doc.source.1,
        doc.log_type
    ])?;
    let rowid = tx.last_insert_rowid();
    tx.prepare_cached("INSERT INTO owners (doc, owner) VALUES (?, ?)")?
        .execute(params![rowid, owner])?;
    Ok(())
}

fn hex_digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `key value` lines of a JSON object's scalar leaves (nested keys joined with dots).
fn flatten(prefix: &str, value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        serde_json::Value::Array(items) if items.len() <= 16 => {
            for (i, v) in items.iter().enumerate() {
                flatten(&format!("{prefix}.{i}"), v, out);
            }
        }
        serde_json::Value::Array(_) | serde_json::Value::Null => {}
        scalar => {
            out.push_str(prefix);
            out.push(' ');
            out.push_str(&scalar.to_string());
            out.push('\n');
        }
    }
}

fn metric(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.3}"))
}

/// The model card, its evaluation and its training job.
fn model_docs(record: &ModelRecord, artifact: Option<&ModelArtifact>) -> Vec<Doc> {
    let v = &record.version;
    let source = || ("model", v.clone());
    let log_type = Some(record.log_type.clone());
    let mut docs = vec![Doc {
        kind: DocKind::Model,
        title: format!(
            "Model {v} ({} {}, {})",
            record.log_type,
            record.detector,
            record.status.as_str()
        ),
        body: format!(
            "model version {v}\nlog type {}\ndetector {}\nstatus {}\ncreated {}\nregistered {}\n\
             deployed {}\nsamples {}\nfeatures {}\ntrained on {}\nanomaly ratio {:.4}\n\
             ROC AUC {}\nF1 {}\nsha256 {}",
            record.log_type,
            record.detector,
            record.status.as_str(),
            record.created_at,
            record.registered_at,
            record.deployed_at.as_deref().unwrap_or("never"),
            record.samples,
            record.features,
            record.lineage_file,
            record.metrics.anomaly_ratio,
            metric(record.metrics.roc_auc),
            metric(record.metrics.f1),
            record.sha256,
        ),
        source: source(),
        log_type: log_type.clone(),
    }];
    let Some(artifact) = artifact else {
        return docs;
    };
    let mut evaluation = format!(
        "evaluation of model {v}\nanomaly ratio {:.4}\nthreshold {}\n",
        artifact.evaluation.anomaly_ratio,
        serde_json::to_string(&artifact.threshold).unwrap_or_default()
    );
    match &artifact.evaluation.metrics {
        Some(m) => {
            flatten(
                "metrics",
                &serde_json::to_value(m).unwrap_or_default(),
                &mut evaluation,
            );
        }
        None => evaluation.push_str("unlabelled data: no held-out metrics\n"),
    }
    docs.push(Doc {
        kind: DocKind::Evaluation,
        title: format!(
            "Evaluation of {v} ({}): ROC AUC {}, F1 {}",
            record.log_type,
            metric(record.metrics.roc_auc),
            metric(record.metrics.f1)
        ),
        body: evaluation,
        source: source(),
        log_type: log_type.clone(),
    });
    let params = match &artifact.detector {
        Detector::IsolationForest { params, .. } => serde_json::to_value(params),
        Detector::Lof { params, .. } => serde_json::to_value(params),
    }
    .unwrap_or_default();
    let mut job = format!(
        "training job of model {v}\ndetector {}\nfeatures {}\n",
        record.detector,
        artifact.input.feature_names().join(" ")
    );
    flatten(
        "training",
        &serde_json::to_value(&artifact.training).unwrap_or_default(),
        &mut job,
    );
    flatten("params", &params, &mut job);
    flatten(
        "lineage",
        &serde_json::to_value(&artifact.lineage).unwrap_or_default(),
        &mut job,
    );
    docs.push(Doc {
        kind: DocKind::Job,
        title: format!(
            "Training of {v} on {} ({} samples, {:.1} s)",
            artifact.lineage.file_name,
            artifact.training.samples,
            artifact.training.duration_ms / 1000.0
        ),
        body: job,
        source: source(),
        log_type,
    });
    docs
}

/// What an anomaly says, in words a search finds: the message and fields, the features that
/// pushed it over and the catalogue events its message shows.
fn anomaly_text(anomaly: &Anomaly) -> String {
    let catalogue = Catalogue::builtin();
    let entry = &anomaly.entry;
    let mut body = format!(
        "{}\nprocess {}\n",
        truncate(&entry.message, MAX_TEXT),
        entry.process
    );
    for (k, v) in entry.fields.iter().take(16) {
        body.push_str(&format!("{k} {}\n", truncate(v, 200)));
    }
    for c in &anomaly.contributions {
        let meaning = catalogue
            .feature_meaning(&entry.log_type, &c.feature)
            .unwrap_or_default();
        body.push_str(&format!("feature {} {meaning}\n", c.feature));
    }
    for e in catalogue.lookup(&entry.log_type, &entry.message) {
        body.push_str(&format!("event {} {}\n", e.event, e.title));
    }
    body
}

fn anomaly_doc(stored: &StoredAnomaly) -> Doc {
    let mut body = anomaly_text(&stored.anomaly);
    body.push_str(&format!(
        "model {}\ndetected {}\nentry time {}\n",
        stored.model_version, stored.detected_at, stored.anomaly.entry.timestamp
    ));
    if let Some(device) = &stored.device {
        body.push_str(&format!("device {device}\n"));
    }
    if let Some(client) = &stored.client {
        body.push_str(&format!("client {client}\n"));
    }
    let top = stored
        .anomaly
        .contributions
        .first()
        .map(|c| format!(", mostly {}", c.feature))
        .unwrap_or_default();
    Doc {
        kind: DocKind::Anomaly,
        title: format!(
            "Anomaly {}: {} score {:.0}{}{top}",
            stored.id,
            stored.log_type,
            stored.score,
            stored
                .device
                .as_deref()
                .map(|d| format!(" on {d}"))
                .unwrap_or_default()
        ),
        body,
        source: ("anomaly", stored.id.to_string()),
        log_type: Some(stored.log_type.clone()),
    }
}

fn verdict_doc(v: &Verdict) -> Doc {
    let mut body = format!(
        "{}\n{} → {} by {} at {}\n",
        truncate(v.note.as_deref().unwrap_or(""), MAX_TEXT),
        v.from.as_deref().unwrap_or("?"),
        v.to,
        v.by,
        format_iso8601(v.at)
    );
    if let Ok(anomaly) = serde_json::from_str::<Anomaly>(&v.anomaly) {
        body.push_str(&anomaly_text(&anomaly));
    }
    Doc {
        kind: DocKind::Verdict,
        title: format!("Verdict on anomaly {}: {} by {}", v.anomaly_id, v.to, v.by),
        body,
        source: ("anomaly", v.anomaly_id.to_string()),
        log_type: Some(v.log_type.clone()),
    }
}

#[cfg(test)]
mod tests;
