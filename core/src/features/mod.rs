//! Feature extraction.
