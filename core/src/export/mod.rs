//! Export parsing and validation (SPEC §2).

mod record;

pub use record::{Export, ExportFormat, ExportMetadata, LogLevel, Record};
