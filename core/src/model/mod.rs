//! Detectors: a [`StandardScaler`] and an [`IsolationForest`] faithful to scikit-learn.
//!
//! Every model follows the same path: parameters → [`IsolationForestParams::check`] → fit → a
//! fitted model that scores rows. Feature matrices are row-major `&[f64]` viewed through a
//! [`Matrix`], whose constructor rejects empty, ragged and non-finite input once, so the fitting
//! and scoring loops need no further checks.
//!
//! The same data, parameters and seed give the same bits on every platform (native and
//! `wasm32-unknown-unknown`): randomness comes from a seeded ChaCha8 generator drawn only through
//! fixed-width integers and `f64`, and transcendental maths goes through `libm`.
//!
//! ```
//! use mcp_train_core::model::{IsolationForestParams, Matrix, StandardScaler};
//!
//! // Two features; the last row is far from the others.
//! let rows = [0.0, 1.0, 0.1, 1.1, -0.1, 0.9, 0.05, 1.05, -0.05, 0.95, 8.0, -7.0];
//! let x = Matrix::new(&rows, 2).unwrap();
//! let scaler = StandardScaler::fit(x).unwrap();
//! let scaled = scaler.transform(x).unwrap();
//! let scaled = Matrix::new(&scaled, 2).unwrap();
//!
//! let forest = IsolationForestParams::new().random_state(7).fit(scaled).unwrap();
//! let scores = forest.score_samples(scaled).unwrap();
//! let lowest = (0..scores.len()).min_by(|&a, &b| scores[a].total_cmp(&scores[b]));
//! assert_eq!(lowest, Some(5));
//! ```

mod error;
pub mod iforest;
pub mod lof;
mod matrix;
mod percentile;
mod scaler;

pub use error::ModelError;
pub use iforest::{
    average_path_length, max_depth, IsolationForest, IsolationForestParams, IsolationTree,
    ValidIsolationForestParams,
};
pub use lof::{LocalOutlierFactor, LofParams, ValidLofParams};
pub use matrix::Matrix;
pub use percentile::percentile;
pub use scaler::StandardScaler;
