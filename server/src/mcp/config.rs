//! `mcp.yaml` in the configuration directory: which tool groups the MCP server offers, whether
//! it is read-only, and where on the server's side datasets may be registered from. Parsed and
//! bounded here only; `mcp-train mcp` and `mcp-train serve` flags override the file.
//!
//! ```yaml
//! version: 1
//! read_only: false            # true: only the tools annotated read-only are listed
//! disabled_groups: [training] # any of datasets, training, models, detection, knowledge
//! dataset_roots: [/var/log]   # register_dataset {path} only below these directories
//! ```

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The file in the configuration directory.
pub const MCP_FILE: &str = "mcp.yaml";
const MCP_VERSION: u32 = 1;

/// A group of tools, switched on or off together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ToolGroup {
    /// register, generate, validate and list datasets.
    Datasets,
    /// start, follow, list and cancel training jobs.
    Training,
    /// list, get, compare, evaluate, deploy, roll back, package and verify models.
    Models,
    /// run a detector over a dataset, list and triage anomalies, export them.
    Detection,
    /// explain anomalies, search the knowledge base.
    Knowledge,
}

impl ToolGroup {
    pub const ALL: [ToolGroup; 5] = [
        ToolGroup::Datasets,
        ToolGroup::Training,
        ToolGroup::Models,
        ToolGroup::Detection,
        ToolGroup::Knowledge,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ToolGroup::Datasets => "datasets",
            ToolGroup::Training => "training",
            ToolGroup::Models => "models",
            ToolGroup::Detection => "detection",
            ToolGroup::Knowledge => "knowledge",
        }
    }
}

impl std::str::FromStr for ToolGroup {
    type Err = String;
    fn from_str(s: &str) -> Result<ToolGroup, String> {
        ToolGroup::ALL
            .into_iter()
            .find(|g| g.as_str() == s.trim())
            .ok_or_else(|| {
                let names: Vec<&str> = ToolGroup::ALL.iter().map(|g| g.as_str()).collect();
                format!(
                    "{s:?} is not a tool group: expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// What the MCP server offers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct McpConfig {
    /// Only the tools annotated read-only are listed and callable.
    pub read_only: bool,
    /// Groups whose tools are left out.
    pub disabled_groups: BTreeSet<ToolGroup>,
    /// Directories below which `register_dataset {path}` may read files. Empty: `mcp-train mcp`
    /// (stdio, the user's own process) may read any path the user can; the HTTP server refuses
    /// paths and takes uploads only.
    pub dataset_roots: Vec<PathBuf>,
    /// The server speaks over stdio to the user's own process (`mcp-train mcp`), so
    /// `register_dataset {path}` may read any file the user can. Set by the command, never
    /// read from `mcp.yaml`.
    pub stdio: bool,
}

/// Why `mcp.yaml` was refused.
#[derive(Debug, thiserror::Error)]
pub enum McpConfigError {
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: u32,
    #[serde(default)]
    read_only: bool,
    #[serde(default)]
    disabled_groups: Vec<String>,
    #[serde(default)]
    dataset_roots: Vec<PathBuf>,
}

impl McpConfig {
    /// Parses `mcp.yaml`'s text; `path` names the file in errors.
    pub fn from_yaml(text: &str, path: &Path) -> Result<McpConfig, McpConfigError> {
        let invalid = |message: String| McpConfigError::Invalid {
            path: path.to_owned(),
            message,
        };
        let file: File = serde_saphyr::from_str(text).map_err(|e| {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("invalid YAML");
            invalid(first.strip_prefix("error: ").unwrap_or(first).to_owned())
        })?;
        if file.version != MCP_VERSION {
            return Err(invalid(format!(
                "version: {} is not supported (this build reads version {MCP_VERSION})",
                file.version
            )));
        }
        let mut disabled_groups = BTreeSet::new();
        for (i, name) in file.disabled_groups.iter().enumerate() {
            let group = name
                .parse()
                .map_err(|e| invalid(format!("disabled_groups[{i}]: {e}")))?;
            disabled_groups.insert(group);
        }
        for (i, root) in file.dataset_roots.iter().enumerate() {
            if !root.is_absolute() {
                return Err(invalid(format!(
                    "dataset_roots[{i}]: {} is not an absolute path",
                    root.display()
                )));
            }
        }
        Ok(McpConfig {
            read_only: file.read_only,
            disabled_groups,
            dataset_roots: file.dataset_roots,
            stdio: false,
        })
    }
}

/// `DIR/mcp.yaml`, or the defaults when there is no directory or no file.
pub fn load_mcp_config(dir: Option<&Path>) -> Result<McpConfig, McpConfigError> {
    let Some(dir) = dir else {
        return Ok(McpConfig::default());
    };
    let path = dir.join(MCP_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => McpConfig::from_yaml(&text, &path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(McpConfig::default()),
        Err(source) => Err(McpConfigError::Read { path, source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_and_read_only_are_read_and_bad_names_are_refused() {
        let path = Path::new("mcp.yaml");
        let c = McpConfig::from_yaml(
            "version: 1\nread_only: true\ndisabled_groups: [training, models]\n",
            path,
        )
        .expect("valid");
        assert!(c.read_only);
        assert_eq!(
            c.disabled_groups.into_iter().collect::<Vec<_>>(),
            [ToolGroup::Training, ToolGroup::Models]
        );
        let e = McpConfig::from_yaml("version: 1\ndisabled_groups: [trainin]\n", path)
            .expect_err("unknown group");
        assert!(e.to_string().contains("disabled_groups[0]"), "{e}");
        let e = McpConfig::from_yaml("version: 1\ndataset_roots: [logs]\n", path)
            .expect_err("relative root");
        assert!(e.to_string().contains("absolute"), "{e}");
        assert!(McpConfig::from_yaml("version: 2\n", path).is_err());
        assert!(McpConfig::from_yaml("version: 1\nreadonly: true\n", path).is_err());
    }
}
