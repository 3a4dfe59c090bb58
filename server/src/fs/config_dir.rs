//! A configuration directory: `model_config.yaml` and/or `training_config.yaml`, each file
//! replacing the built-in default of the same name (`--config DIR` on the command line, the
//! server's settings).

use std::io;
use std::path::{Path, PathBuf};

use mcp_train_core::agent::log_schema::{
    builtin_log_schema_yaml, log_schema_file_name, LOG_SCHEMA_DIR,
};
use mcp_train_core::agent::{LogSchema, LogSchemaError};
use mcp_train_core::config::{
    Config, ConfigError, DEFAULT_MODEL_CONFIG, DEFAULT_TRAINING_CONFIG, MODEL_CONFIG_FILE,
    TRAINING_CONFIG_FILE,
};

/// Why a configuration directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigDirError {
    #[error("config directory {} does not exist", dir.display())]
    Missing { dir: PathBuf },
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A file that does not parse or holds a bad value; the message names the file and key.
    #[error("config {}/{error}", dir.display())]
    Invalid { dir: PathBuf, error: ConfigError },
    /// A log schema that does not parse or check; the message names the file, line and field.
    #[error("log schema {}: {error}", path.display())]
    LogSchema {
        path: PathBuf,
        error: LogSchemaError,
    },
    #[error("no log schema for log type \"{log_type}\"")]
    NoLogSchema { log_type: String },
}

/// The log schema of `log_type`: `DIR/log_schemas/<log_type>.yaml` when the configuration
/// directory has one (an updated schema takes effect with no new build), else the built-in one.
pub fn load_log_schema(dir: Option<&Path>, log_type: &str) -> Result<LogSchema, ConfigDirError> {
    let builtin = || {
        builtin_log_schema_yaml(log_type).ok_or_else(|| ConfigDirError::NoLogSchema {
            log_type: log_type.to_owned(),
        })
    };
    let (text, path) = match dir {
        Some(dir) if !dir.is_dir() => {
            return Err(ConfigDirError::Missing {
                dir: dir.to_owned(),
            })
        }
        Some(dir) => {
            let path = dir
                .join(LOG_SCHEMA_DIR)
                .join(log_schema_file_name(log_type));
            match std::fs::read_to_string(&path) {
                Ok(text) => (text, path),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    (builtin()?.to_owned(), PathBuf::from("(built in)"))
                }
                Err(source) => return Err(ConfigDirError::Read { path, source }),
            }
        }
        None => (builtin()?.to_owned(), PathBuf::from("(built in)")),
    };
    let schema = LogSchema::from_yaml(&text).map_err(|error| ConfigDirError::LogSchema {
        path: path.clone(),
        error,
    })?;
    if schema.log_type() != log_type {
        return Err(ConfigDirError::LogSchema {
            path,
            error: LogSchemaError {
                line: None,
                field: None,
                message: format!(
                    "the file is for log type \"{}\", not \"{log_type}\"",
                    schema.log_type()
                ),
            },
        });
    }
    Ok(schema)
}

/// Loads the configuration: files in `dir` override the built-in defaults, file by file; no
/// directory means the defaults.
pub fn load_config(dir: Option<&Path>) -> Result<Config, ConfigDirError> {
    let Some(dir) = dir else {
        return Ok(Config::defaults());
    };
    if !dir.is_dir() {
        return Err(ConfigDirError::Missing {
            dir: dir.to_owned(),
        });
    }
    let read = |name: &str, default: &str| -> Result<String, ConfigDirError> {
        let path = dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(text),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(default.to_owned()),
            Err(source) => Err(ConfigDirError::Read { path, source }),
        }
    };
    let model = read(MODEL_CONFIG_FILE, DEFAULT_MODEL_CONFIG)?;
    let training = read(TRAINING_CONFIG_FILE, DEFAULT_TRAINING_CONFIG)?;
    Config::from_yaml(&model, &training).map_err(|error| ConfigDirError::Invalid {
        dir: dir.to_owned(),
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_directory_is_the_defaults_and_a_file_overrides_its_own_part() {
        assert_eq!(load_config(None).ok(), Some(Config::defaults()));
        let dir = tempfile::tempdir().expect("tempdir");
        // An empty directory: still the defaults.
        assert_eq!(load_config(Some(dir.path())).ok(), Some(Config::defaults()));
        let training = DEFAULT_TRAINING_CONFIG.replace("keep_last: 10", "keep_last: 3");
        assert_ne!(
            training, DEFAULT_TRAINING_CONFIG,
            "the default names keep_last"
        );
        std::fs::write(dir.path().join(TRAINING_CONFIG_FILE), training).expect("writes");
        let config = load_config(Some(dir.path())).expect("loads");
        assert_eq!(config.training.registry.keep_last, 3);
        assert_eq!(config.model, Config::defaults().model);
    }

    #[test]
    fn a_log_schema_in_the_directory_replaces_the_built_in_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let builtin = load_log_schema(None, "dns").expect("built in");
        assert_eq!(builtin.schema_version(), "1.0.0");
        // No log_schemas/ directory: the built-in schema.
        assert_eq!(load_log_schema(Some(dir.path()), "dns").ok(), Some(builtin));
        let schemas = dir.path().join(LOG_SCHEMA_DIR);
        std::fs::create_dir(&schemas).expect("mkdir");
        let updated = builtin_log_schema_yaml("dns").unwrap_or_default().replacen(
            "schema_version: 1.0.0",
            "schema_version: 1.1.0",
            1,
        );
        std::fs::write(schemas.join("dns.yaml"), &updated).expect("writes");
        let schema = load_log_schema(Some(dir.path()), "dns").expect("loads");
        assert_eq!(schema.schema_version(), "1.1.0");
        // A broken file names itself and the line.
        std::fs::write(
            schemas.join("dns.yaml"),
            updated.replacen("type: ip", "type: ipv9", 1),
        )
        .expect("writes");
        let e = load_log_schema(Some(dir.path()), "dns")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.starts_with(&format!(
                "log schema {}: line ",
                schemas.join("dns.yaml").display()
            )),
            "{e}"
        );
        assert!(e.contains("ipv9"), "{e}");
        // A file for another log type is refused.
        std::fs::write(schemas.join("wifi.yaml"), &updated).expect("writes");
        let e = load_log_schema(Some(dir.path()), "wifi")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("for log type \"dns\", not \"wifi\""), "{e}");
        assert!(matches!(
            load_log_schema(None, "netflow"),
            Err(ConfigDirError::NoLogSchema { .. })
        ));
    }

    #[test]
    fn errors_name_the_directory_and_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("nope");
        let e = load_config(Some(&missing)).err().map(|e| e.to_string());
        assert_eq!(
            e,
            Some(format!(
                "config directory {} does not exist",
                missing.display()
            ))
        );
        std::fs::write(dir.path().join(MODEL_CONFIG_FILE), "model: [").expect("writes");
        let e = load_config(Some(dir.path()))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.starts_with(&format!(
                "config {}/{MODEL_CONFIG_FILE}: ",
                dir.path().display()
            )),
            "{e}"
        );
    }
}
