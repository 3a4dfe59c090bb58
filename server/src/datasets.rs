//! Datasets: exports and raw logs registered once and then named by a handle (`ds-…`), so MCP
//! tools pass a short id rather than megabytes of log. Each dataset is a directory
//! `DATA_DIR/datasets/<id>/` holding `data` (a copy of the bytes, so the handle always means the
//! same content) and `dataset.json` ([`Dataset`]). Registration writes `data` and
//! `dataset.json` to a temporary directory and renames it into place, so a dataset is either
//! whole or absent.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The directory of datasets inside the data directory.
pub const DATASETS_DIR: &str = "datasets";
const META_FILE: &str = "dataset.json";
const DATA_FILE: &str = "data";

/// What a dataset holds.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DatasetKind {
    /// A JSON export (the records and their labels), as `validate` and `train` read.
    Export,
    /// Raw log lines (syslog or the daemon's own format) or NDJSON records of one log type.
    Log,
}

/// A registered dataset.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Dataset {
    /// The handle: `ds-` and 16 hex digits.
    pub id: String,
    /// A name for people (the file name it came from, or the one given).
    pub name: String,
    pub kind: DatasetKind,
    /// The log type (wifi, dns, firewall, …) when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_type: Option<String>,
    /// Size of the data in bytes.
    pub bytes: u64,
    /// SHA-256 of the data (lowercase hex).
    pub sha256: String,
    /// When it was registered (ISO 8601 UTC).
    pub registered_at: String,
    /// Where it came from: `path:/var/log/x`, `upload:<id>`, `synth:seed=…`.
    pub source: String,
}

impl Dataset {
    /// The log type its data is read as: the one registered, else for a JSON export the
    /// export format's default, wifi (as training reads an export without a log type).
    pub fn reads_as(&self) -> Option<&str> {
        match (&self.log_type, self.kind) {
            (Some(t), _) => Some(t),
            (None, DatasetKind::Export) => Some(mcp_train_core::pipeline::WIFI_LOG_TYPE),
            (None, _) => None,
        }
    }
}

/// Why a dataset operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("no dataset {0:?} (list_datasets shows the registered ones)")]
    NotFound(String),
    #[error("{0:?} is not a dataset handle: expected ds- and 16 hex digits")]
    BadHandle(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> DatasetError {
    let what = what.into();
    move |source| DatasetError::Io { what, source }
}

/// The datasets of one data directory.
#[derive(Debug, Clone)]
pub struct Datasets {
    dir: PathBuf,
}

impl Datasets {
    pub fn open(data_dir: &Path) -> Datasets {
        Datasets {
            dir: data_dir.join(DATASETS_DIR),
        }
    }

    /// Registers `bytes` as a new dataset; `registered_at` is ISO 8601 UTC.
    pub fn add(
        &self,
        name: &str,
        kind: DatasetKind,
        log_type: Option<&str>,
        source: &str,
        registered_at: &str,
        bytes: &[u8],
    ) -> Result<Dataset, DatasetError> {
        std::fs::create_dir_all(&self.dir).map_err(io("cannot create the datasets directory"))?;
        let id = new_id()?;
        let dataset = Dataset {
            id: id.clone(),
            name: name.to_owned(),
            kind,
            log_type: log_type.map(str::to_owned),
            bytes: bytes.len() as u64,
            sha256: mcp_train_core::display::hex(&Sha256::digest(bytes)),
            registered_at: registered_at.to_owned(),
            source: source.to_owned(),
        };
        let tmp = self.dir.join(format!(".tmp-{id}"));
        std::fs::create_dir_all(&tmp).map_err(io("cannot create the dataset's directory"))?;
        let write = |file: &str, data: &[u8]| -> Result<(), DatasetError> {
            let mut f =
                std::fs::File::create(tmp.join(file)).map_err(io("cannot write the dataset"))?;
            f.write_all(data).map_err(io("cannot write the dataset"))?;
            f.sync_all().map_err(io("cannot write the dataset"))
        };
        let meta = serde_json::to_vec_pretty(&dataset)
            .map_err(|e| io("cannot write the dataset")(std::io::Error::other(e)))?;
        let written = write(DATA_FILE, bytes)
            .and_then(|()| write(META_FILE, &meta))
            .and_then(|()| {
                std::fs::rename(&tmp, self.dir.join(&id)).map_err(io("cannot register the dataset"))
            });
        if written.is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        written.map(|()| dataset)
    }

    /// The dataset `id` names.
    pub fn get(&self, id: &str) -> Result<Dataset, DatasetError> {
        check_handle(id)?;
        let text = match std::fs::read(self.dir.join(id).join(META_FILE)) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(DatasetError::NotFound(id.to_owned()))
            }
            Err(e) => return Err(io(format!("cannot read dataset {id}"))(e)),
        };
        serde_json::from_slice(&text)
            .map_err(|e| io(format!("cannot read dataset {id}"))(std::io::Error::other(e)))
    }

    /// The file holding the dataset's bytes.
    pub fn data_path(&self, id: &str) -> Result<PathBuf, DatasetError> {
        self.get(id)?;
        Ok(self.dir.join(id).join(DATA_FILE))
    }

    /// The dataset's bytes.
    pub fn read(&self, id: &str) -> Result<Vec<u8>, DatasetError> {
        let path = self.data_path(id)?;
        std::fs::read(&path).map_err(io(format!("cannot read dataset {id}")))
    }

    /// Every dataset, newest first (unreadable entries are skipped and logged).
    pub fn list(&self) -> Result<Vec<Dataset>, DatasetError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io("cannot list the datasets")(e)),
        };
        let mut all = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if check_handle(&name).is_err() {
                continue;
            }
            match self.get(&name) {
                Ok(d) => all.push(d),
                Err(e) => tracing::warn!(dataset = %name, error = %e, "skipping a dataset"),
            }
        }
        all.sort_by(|a, b| {
            b.registered_at
                .cmp(&a.registered_at)
                .then_with(|| b.id.cmp(&a.id))
        });
        Ok(all)
    }

    /// Removes a dataset.
    pub fn remove(&self, id: &str) -> Result<(), DatasetError> {
        self.get(id)?;
        std::fs::remove_dir_all(self.dir.join(id))
            .map_err(io(format!("cannot remove dataset {id}")))
    }
}

fn check_handle(id: &str) -> Result<(), DatasetError> {
    let ok = id.strip_prefix("ds-").is_some_and(|h| {
        h.len() == 16
            && h.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    });
    if ok {
        Ok(())
    } else {
        Err(DatasetError::BadHandle(id.chars().take(64).collect()))
    }
}

fn new_id() -> Result<String, DatasetError> {
    let mut bytes = [0u8; 8];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| io("no randomness from the OS")(std::io::Error::other(e.to_string())))?;
    Ok(format!("ds-{}", mcp_train_core::display::hex(&bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dataset_is_registered_read_listed_and_removed_by_its_handle() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sets = Datasets::open(dir.path());
        let d = sets
            .add(
                "a.log",
                DatasetKind::Log,
                Some("dns"),
                "upload:x",
                "2026-12-04T00:00:00Z",
                b"line\n",
            )
            .expect("added");
        assert!(d.id.starts_with("ds-") && d.id.len() == 19, "{}", d.id);
        assert_eq!(sets.get(&d.id).expect("get"), d);
        assert_eq!(sets.read(&d.id).expect("read"), b"line\n");
        assert_eq!(sets.list().expect("list"), vec![d.clone()]);
        assert!(matches!(
            sets.get("ds-0000000000000000"),
            Err(DatasetError::NotFound(_))
        ));
        assert!(matches!(
            sets.get("../etc"),
            Err(DatasetError::BadHandle(_))
        ));
        sets.remove(&d.id).expect("removed");
        assert!(sets.list().expect("list").is_empty());
    }
}
