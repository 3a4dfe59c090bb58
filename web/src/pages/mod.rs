//! One module per page.

pub mod anomalies;
pub mod dashboard;
pub mod detect;
pub mod job;
pub mod knowledge;
pub mod models;
pub mod settings;
pub mod training;
