//! Feature extraction: from an [`Export`](crate::export::Export) to the `wifi-v1`
//! feature matrix.
//!
//! Records are sorted by timestamp (stable), then each becomes one row of features in six
//! groups — time, wifi_events, security, text, process, windows — each of which can be switched
//! off in [`FeatureConfig`]. [`schema`](FeatureSchema) documents every column; the column order
//! is part of the schema. Extraction scans each message once and runs in O(n) overall,
//! trailing windows included.
//!
//! The process vocabulary of the training data is kept in the schema, so that `process_rank`
//! and `process_frequency` mean the same at inference time: pass it back to [`extract`].

mod config;
mod extract;
mod matrix;
mod schema;
mod text;
mod vocabulary;
mod windows;

pub use config::{
    FeatureConfig, FeatureConfigError, FeatureGroups, MAX_WINDOWS, MAX_WINDOW_MINUTES,
};
pub use extract::{extract, extract_with_progress};
pub use matrix::FeatureMatrix;
pub use schema::{feature_names, FeatureSchema, EXTRACTOR_VERSION, SCHEMA_NAME};
pub use vocabulary::{ProcessEntry, ProcessVocabulary};
