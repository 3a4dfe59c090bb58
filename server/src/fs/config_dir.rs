//! A configuration directory: `model_config.yaml` and/or `training_config.yaml`, each file
//! replacing the built-in default of the same name (`--config DIR` on the command line, the
//! server's settings).

use std::io;
use std::path::{Path, PathBuf};

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
