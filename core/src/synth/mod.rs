//! Synthetic exports.
