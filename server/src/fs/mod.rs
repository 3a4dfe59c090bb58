//! What touches the machine, so the core does not have to: the model registry in a data
//! directory ([`registry`]), configuration directories ([`config_dir`]) and the clock
//! ([`clock`]). The command line and the HTTP server both stand on this layer; neither borrows
//! it from the other.

pub mod clock;
pub mod config_dir;
/// The registry's stores live in their own crate, shared with the Python wheel.
pub use mcp_train_store::{object, registry};
