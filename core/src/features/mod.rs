//! Feature extraction: from an [`Export`](crate::export::Export) to the `wifi-v1`
//! feature matrix.
//!
//! Records are sorted by timestamp (stable), then each becomes one row of features in six
//! groups — time, wifi_events, security, text, process, windows — each of which can be switched
//! off in [`FeatureConfig`]. [`schema`](FeatureSchema) documents every column; the column order
//! is part of the schema. Extraction scans each message once and runs in O(n) overall,
//! trailing windows included.
//!
//! The same row code also runs one record at a time: [`WifiStream`] keeps the window state
//! between records (bounded: the rows of the longest window) and gives, bit for bit, the rows
//! of [`extract`] — it is the `wifi` agent's streaming extractor.
//!
//! The process vocabulary of the training data is kept in the schema, so that `process_rank`
//! and `process_frequency` mean the same at inference time: pass it back to [`extract`].

mod config;
mod extract;
mod matrix;
mod schema;
mod stream;
pub(crate) mod text;
mod vocabulary;
mod windows;

pub use config::{
    FeatureConfig, FeatureConfigError, FeatureGroups, MAX_WINDOWS, MAX_WINDOW_MINUTES,
};
pub use extract::{extract, extract_records, extract_with_progress};
pub use matrix::FeatureMatrix;
pub use schema::{feature_names, FeatureSchema, EXTRACTOR_VERSION, SCHEMA_NAME};
pub use stream::WifiStream;
pub use vocabulary::{ProcessEntry, ProcessVocabulary};
