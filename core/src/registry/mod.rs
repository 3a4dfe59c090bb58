//! The model registry: versions, statuses and retention over a storage trait.
