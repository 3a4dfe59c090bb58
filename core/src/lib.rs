//! # mcp-train-core
//!
//! The pure core of mcp-train: everything that turns a JSON export of WiFi access-point logs into
//! an anomaly-detection model and ships that model as a verifiable deployment package. The
//! command line, the HTTP server and the web app (through a Web Worker) are thin surfaces over
//! this crate.
//!
//! It never touches the clock, the file system or the network — bytes, seeds and "now" come in as
//! arguments, storage sits behind a trait — so the same code runs natively and on
//! `wasm32-unknown-unknown`, with the same results bit for bit.
//!
//! # Modules, in pipeline order
//!
//! | module | what it does |
//! | --- | --- |
//! | [`export`] | parses and validates exports (JSON object, JSON array, NDJSON) in one streaming pass: `&[u8]` → [`Export`](export::Export) + a [`ValidationReport`](export::ValidationReport) whose errors and warnings name the record, field, line and column |
//! | [`features`] | the `wifi-v1` feature schema and its extraction: time, WiFi events, security, text, process and trailing-window columns, O(n) overall |
//! | [`synth`] | realistic synthetic exports with labelled attacks, the same bytes for the same seed |
//! | [`model`] | the detectors: a standard scaler, an Isolation Forest faithful to scikit-learn and LOF in novelty mode (parameters → `check` → fit → score) |
//! | [`evaluate`] | score statistics, the seeded stratified split, classification metrics, ROC and precision–recall curves, threshold checks, permutation feature importance |
//! | [`pipeline`] | the one path every surface uses: [`train`](pipeline::train) (export or features CSV + configuration + seed + "now" → [`ModelArtifact`](pipeline::ModelArtifact), the `model.json`), [`score`](pipeline::score) and [`evaluate`](pipeline::evaluate()) |
//! | [`registry`] | model versions, statuses (ready → deployed → archived) and retention over a [`RegistryStore`](registry::RegistryStore): files in the CLI and server, IndexedDB in the browser, [`MemoryStore`](registry::MemoryStore) in tests |
//! | [`package`] | deployment packages: [`build`](package::build) a deterministic ZIP (model, scaler, manifest with SHA-256s and self-test vectors, standard-library Python scripts) and [`verify`](package::verify) one from untrusted bytes |
//! | [`config`] | the YAML configuration (`config/model_config.yaml`, `config/training_config.yaml`), compiled in as the defaults and checked key by key |
//! | [`time`] | ISO 8601 parsing with precise reasons, formatting, calendar maths |
//!
//! [`parallel`] spreads the heavy stages (reading a features CSV, scoring) over the machine's
//! cores natively and runs them on the calling thread on wasm32, with the same results.
//!
//! Two small modules serve the surfaces: `api`, the wire types the server sends and the web app
//! reads (training jobs, health, the error body), and `display`, the number, byte and percentage
//! formatting every surface prints.
//!
//! # Train, then score
//!
//! A small labelled synthetic export stands in for a real one. With a fixed "now" and a stopwatch
//! that reads 0, the `model.json` bytes depend only on the export, the configuration and the seed.
//!
//! ```
//! use mcp_train_core::config::Config;
//! use mcp_train_core::export::ValidateOptions;
//! use mcp_train_core::pipeline::{self, Hooks, ScoreInput, TrainChoices, TrainInput};
//! use mcp_train_core::synth::{write_export, SynthConfig};
//!
//! let synth = SynthConfig { records: 800, anomaly_ratio: 0.05, seed: 7, ..SynthConfig::default() };
//! let mut export = Vec::new();
//! write_export(&synth.check().unwrap(), &mut export).unwrap();
//!
//! // What was chosen (here only the seed, which drives every random choice); the configuration
//! // gives the rest (the Isolation Forest, contamination "auto", …), checked in one place.
//! let config = Config::defaults();
//! let params = TrainChoices { seed: Some(7), ..TrainChoices::default() }.resolve(&config).unwrap();
//! // 2024-01-01T00:00:00Z: the model's version and creation time.
//! let options = params.options(&config, 1_704_067_200_000_000);
//! let input = TrainInput::Export { bytes: &export, file_name: "export.json", log_type: None };
//! let hooks = Hooks { progress: &mut |_| true, elapsed_ms: &|| 0.0 };
//! let trained = pipeline::train(input, &options, hooks).unwrap();
//! let model = trained.artifact;
//! assert_eq!(model.version, "20240101_000000");
//! // 20 % of the labelled rows were held out and measured.
//! let metrics = model.evaluation.metrics.as_ref().unwrap();
//! assert!(metrics.roc_auc.unwrap() > 0.5);
//!
//! // `model.json` is plain JSON and loads back to the same model.
//! let model_json = model.to_json();
//! let loaded = pipeline::ModelArtifact::from_json(&model_json).unwrap();
//! assert_eq!(loaded, model);
//!
//! // Score every record: lower scores are more anomalous; `decision < 0` flags a record.
//! let validate = ValidateOptions::default();
//! let scored = pipeline::score(&loaded, ScoreInput::Export { bytes: &export, options: &validate })
//!     .unwrap();
//! assert_eq!(scored.rows.len(), 800);
//! let flagged = scored.rows.iter().filter(|r| r.is_anomaly).count();
//! assert!(flagged > 0 && flagged < 800);
//! assert!(scored.rows.iter().all(|r| r.is_anomaly == (r.decision < 0.0)));
//! ```
//!
//! # Package, then verify
//!
//! A package is built in memory from the `model.json` bytes and a deployment time; the same
//! inputs always give the same ZIP bytes. Verifying checks every file's SHA-256, loads the model
//! and replays the self-test scores; any changed byte is caught and named.
//!
//! ```
//! # use mcp_train_core::{config::Config, pipeline::{self, Hooks, TrainChoices, TrainInput}};
//! # use mcp_train_core::synth::{write_export, SynthConfig};
//! # let synth = SynthConfig { records: 400, seed: 3, ..SynthConfig::default() };
//! # let mut export = Vec::new();
//! # write_export(&synth.check().unwrap(), &mut export).unwrap();
//! # let config = Config::defaults();
//! # let options = TrainChoices { seed: Some(3), ..TrainChoices::default() }
//! #     .resolve(&config).unwrap().options(&config, 1_704_067_200_000_000);
//! # let input = TrainInput::Export { bytes: &export, file_name: "export.json", log_type: None };
//! # let hooks = Hooks { progress: &mut |_| true, elapsed_ms: &|| 0.0 };
//! # let model_json = pipeline::train(input, &options, hooks).unwrap().artifact.to_json();
//! use mcp_train_core::package;
//!
//! // `model_json`: the bytes of a model.json, as trained above.
//! let deployed_at = 1_704_153_600_000_000; // 2024-01-02T00:00:00Z
//! let built = package::build(&model_json, deployed_at).unwrap();
//! assert_eq!(built.file_name, "model_20240101_000000_deployment.zip");
//! assert_eq!(package::build(&model_json, deployed_at).unwrap().bytes, built.bytes);
//!
//! let verdict = package::verify(&built.bytes).unwrap();
//! assert!(verdict.ok, "{:?}", verdict.problems);
//! assert_eq!(verdict.model_version.as_deref(), Some("20240101_000000"));
//! let self_test = verdict.self_test.unwrap();
//! assert_eq!(self_test.passed, self_test.vectors);
//!
//! // Change one byte of the model inside the package: verification fails and names the file.
//! let mut files: Vec<(String, Vec<u8>)> =
//!     package::zip::read_zip(&built.bytes, &package::PACKAGE_LIMITS)
//!         .unwrap()
//!         .into_iter()
//!         .map(|entry| (entry.name, entry.data))
//!         .collect();
//! let (_, model_bytes) = files.iter_mut().find(|(name, _)| name.ends_with("/model.json")).unwrap();
//! model_bytes.push(b'\n'); // still valid JSON, but not the bytes the manifest sealed
//! let verdict = package::verify_files(files);
//! assert!(!verdict.ok);
//! assert!(verdict.problems.iter().any(|p| p.file == "model.json"), "{:?}", verdict.problems);
//! ```
//!
//! # Optional features
//!
//! Both are off by default and native only in practice (the web app and the wasm32 build use
//! neither).
//!
//! - `ndarray`: a C-contiguous `ArrayView2<f64>` converts to a [`model::Matrix`] without a copy
//!   (`Matrix::try_from`; other layouts are refused), and
//!   `model::OutlierDetectorNdarray` gives every detector's scores,
//!   decisions and predictions as `Array1`.
//! - `linfa` (implies `ndarray`): linfa 0.8's traits, so the detectors and the scaler drop into
//!   code written for linfa. [`IsolationForestParams`](model::IsolationForestParams) and
//!   [`LofParams`](model::LofParams) are linfa `ParamGuard`s (checked into their `Valid…`
//!   forms) and `Fit` a `DatasetBase` of `f64` records (targets ignored) into the fitted models,
//!   which `Predict` scores (`Array1<f64>`, scikit-learn's `score_samples`) or anomaly labels
//!   (`Array1<bool>`); `StandardScaler::params()` fits a [`StandardScaler`](model::StandardScaler),
//!   a linfa `Transformer` of arrays and datasets. Fitting errors are a
//!   `model::LinfaError`. Because the detectors' own `fit` and the scaler's
//!   `transform` are inherent methods, call linfa's as `Fit::fit(&params, &dataset)` and
//!   `Transformer::transform(&scaler, x)` outside generic code.
//!
//! ndarray is only the container at the edge. Every sum, mean, variance, distance and
//! transcendental function (`exp2`, `ln`, …) stays on the core's own loops over row-major
//! slices and `libm`, in a fixed order, never ndarray's (or a BLAS's) reductions, whose order and
//! vectorisation differ between builds and platforms. So a model fitted or scored through
//! ndarray or linfa has the same bits as through [`model::Matrix`], natively and in wasm32.

#![warn(missing_docs)]

pub mod agent;
pub mod anomalies;
pub mod anomaly_export;
pub mod api;
pub mod config;
pub mod display;
pub mod evaluate;
pub mod export;
pub mod features;
pub mod knowledge;
pub mod model;
pub mod package;
pub mod parallel;
pub mod pipeline;
pub mod registry;
pub mod synth;
pub mod time;
