//! Where an mcp-train model registry lives, for every native surface (the CLI, the server, the
//! Python wheel): the core's [`RegistryStore`](mcp_train_core::registry::RegistryStore) over a
//! data directory ([`registry::FsStore`]: a file lock and atomic renames) or over object storage
//! ([`object::ObjectRegistry`]: S3, GCS, Azure, compare-and-swap). [`registry::RegistryAt`]
//! turns a `--registry` value into either.

pub mod object;
pub mod registry;
