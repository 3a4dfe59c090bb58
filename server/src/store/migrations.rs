//! The anomaly store's schema, as an ordered list of migrations. The database's
//! `PRAGMA user_version` is the number of migrations applied; opening a store applies the rest,
//! each in its own transaction. Append new migrations at the end; never edit or reorder one that
//! has shipped.

/// One step of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// What it does, for error messages.
    pub name: &'static str,
    /// The SQL, run with `execute_batch` inside the migration's transaction.
    pub sql: &'static str,
}

/// Every migration, oldest first: migration `i` brings the schema to version `i + 1`.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        name: "anomalies and their audit trail",
        sql: "
CREATE TABLE anomalies (
    id            INTEGER PRIMARY KEY,
    detected_at   INTEGER NOT NULL,           -- microseconds since the epoch
    entry_time    INTEGER,                    -- the entry's timestamp, µs (NULL: unreadable)
    log_type      TEXT    NOT NULL,
    model_version TEXT    NOT NULL,
    device        TEXT,
    client        TEXT,
    score         REAL    NOT NULL,           -- risk score 0-100
    status        TEXT    NOT NULL,
    anomaly       TEXT    NOT NULL,           -- the Anomaly JSON
    updated_at    INTEGER NOT NULL
);
CREATE TABLE anomaly_events (
    id          INTEGER PRIMARY KEY,
    anomaly_id  INTEGER NOT NULL REFERENCES anomalies(id),
    at          INTEGER NOT NULL,
    by          TEXT    NOT NULL,
    from_status TEXT,
    to_status   TEXT    NOT NULL,
    note        TEXT
);
",
    },
    Migration {
        name: "indexes for the filters and the audit trail",
        sql: "
CREATE INDEX anomaly_events_by_anomaly ON anomaly_events(anomaly_id, id);
CREATE INDEX anomalies_by_log_type ON anomalies(log_type, id);
CREATE INDEX anomalies_by_status ON anomalies(status, id);
CREATE INDEX anomalies_by_model_version ON anomalies(model_version, id);
CREATE INDEX anomalies_by_device ON anomalies(device, id);
CREATE INDEX anomalies_by_client ON anomalies(client, id);
CREATE INDEX anomalies_by_entry_time ON anomalies(entry_time);
CREATE INDEX anomalies_by_score ON anomalies(score);
",
    },
    Migration {
        name: "export history",
        sql: crate::exports::MIGRATION_SQL,
    },
];
