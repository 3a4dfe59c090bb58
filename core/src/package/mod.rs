//! Deployment packages: `model_<version>_deployment.zip`, built in memory with deterministic
//! bytes, and verified (hashes, loadable model, self-test scores) safely from untrusted bytes.

pub mod zip;
