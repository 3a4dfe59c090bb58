//! # mcp-train-core
//!
//! The pure core of mcp-train: it validates JSON exports of WiFi access-point logs, extracts the
//! `wifi-v1` feature matrix, and generates realistic synthetic exports. It never touches the
//! clock, the file system or the network — bytes, seeds and timestamps come in as arguments — so
//! the same code runs natively and on `wasm32-unknown-unknown` with identical results.
//!
//! ```
//! use mcp_train_core::export::{parse_export, ValidateOptions};
//! use mcp_train_core::features::{extract, FeatureConfig};
//!
//! let bytes = br#"{"export_metadata": {"total_records": 1},
//!   "data": [{"timestamp": "2024-01-01T12:00:00Z", "log_level": "INFO",
//!             "process_name": "hostapd",
//!             "message": "wlan0: AP-STA-CONNECTED 00:11:22:33:44:55"}]}"#;
//! let parsed = parse_export(bytes, &ValidateOptions::default()).unwrap();
//! assert!(parsed.report.valid);
//! let features = extract(&parsed.export, &FeatureConfig::default(), None);
//! assert_eq!(features.n_rows(), 1);
//! let col = features.schema.index_of("is_connection_event").unwrap();
//! assert_eq!(features.row(0)[col], 1.0);
//! ```

pub mod api;
pub mod config;
pub mod evaluate;
pub mod export;
pub mod features;
pub mod model;
pub mod package;
pub mod pipeline;
pub mod registry;
pub mod synth;
pub mod time;
