//! Which deployment time a package records — one rule for the CLI, the server and the web app, so
//! the same model packages to the same bytes from each of them.

use crate::pipeline::ModelArtifact;
use crate::registry::{ModelRecord, ModelStatus};
use crate::time::{parse_iso8601, TimestampError};

/// The model a package is built from: one in a registry (its record knows its times), or a bare
/// `model.json` (`mcp-train package model.json`).
#[derive(Debug, Clone, Copy)]
pub enum PackagedModel<'a> {
    /// A model in a registry; its record gives `deployed_at` and `created_at`.
    Registered(&'a ModelRecord),
    /// A bare `model.json`; its own `created_at` is the only time it has.
    File(&'a ModelArtifact),
}

/// A time in a record or model that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {source}")]
pub struct DeploymentTimeError {
    /// `deployed_at` or `created_at`.
    pub field: &'static str,
    /// Why the time does not parse.
    pub source: TimestampError,
}

/// The deployment time (microseconds since the epoch, UTC) a package of `model` records:
///
/// 1. `explicit`, when the caller names one (`mcp-train package --timestamp`);
/// 2. else, for a registered model that has been deployed, its last deployment (`deployed_at`;
///    an archived model keeps the time of the deployment that ended), so the package matches the
///    one written when it was deployed;
/// 3. else the model's creation time (`created_at`), which every copy of the model shares.
///
/// A model never deployed therefore packages to the same bytes wherever it is packaged, whenever
/// it was registered.
pub fn deployment_time(
    model: PackagedModel<'_>,
    explicit: Option<i64>,
) -> Result<i64, DeploymentTimeError> {
    if let Some(at) = explicit {
        return Ok(at);
    }
    let parse = |field: &'static str, text: &str| {
        parse_iso8601(text)
            .map(|t| t.micros)
            .map_err(|source| DeploymentTimeError { field, source })
    };
    match model {
        PackagedModel::Registered(record) => match &record.deployed_at {
            Some(deployed) => parse("deployed_at", deployed),
            None => parse("created_at", &record.created_at),
        },
        PackagedModel::File(artifact) => parse("created_at", &artifact.created_at),
    }
}

/// The deployment time of the package built to deploy `record` at `now`: its current one when it
/// is deployed already (deploying it again changes nothing), else `now`.
pub fn deploying_time(record: &ModelRecord, now: i64) -> Result<i64, DeploymentTimeError> {
    if record.status == ModelStatus::Deployed {
        deployment_time(PackagedModel::Registered(record), None)
    } else {
        Ok(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::build;
    use crate::registry::{MemoryStore, Registry};
    use crate::time::format_iso8601;

    const CREATED: i64 = 1_704_067_200_000_000; // 2024-01-01T00:00:00Z, the test model's
    const HOUR: i64 = 3_600_000_000;

    fn model() -> (Vec<u8>, ModelArtifact) {
        let bytes = super::super::tests::forest().to_vec();
        let artifact = ModelArtifact::from_json(&bytes).expect("loads");
        (bytes, artifact)
    }

    #[test]
    fn an_undeployed_model_records_its_creation_time_wherever_it_is_registered() {
        let (bytes, artifact) = model();
        assert_eq!(
            deployment_time(PackagedModel::File(&artifact), None),
            Ok(CREATED)
        );
        // Two registries that registered the model at different times (the CLI's, a server's,
        // a browser's) package it to one byte string, the same as the bare file's.
        let mut packages = Vec::new();
        for registered in [CREATED + HOUR, CREATED + 5 * HOUR] {
            let mut registry = Registry::new(MemoryStore::new());
            let record = registry
                .register_bytes(&bytes, registered)
                .expect("registers");
            let at = deployment_time(PackagedModel::Registered(&record), None).expect("time");
            assert_eq!(at, CREATED);
            packages.push(build(&bytes, at).expect("builds").bytes);
        }
        let file = deployment_time(PackagedModel::File(&artifact), None).expect("time");
        packages.push(build(&bytes, file).expect("builds").bytes);
        assert!(packages.windows(2).all(|w| w[0] == w[1]));
    }

    #[test]
    fn a_deployed_or_archived_model_records_its_last_deployment_and_explicit_wins() {
        let (bytes, artifact) = model();
        let mut registry = Registry::new(MemoryStore::new());
        let record = registry.register_bytes(&bytes, CREATED).expect("registers");
        let deployed = registry
            .deploy(&record.version, CREATED + 2 * HOUR)
            .expect("deploys")
            .model;
        let at = deployment_time(PackagedModel::Registered(&deployed), None);
        assert_eq!(at, Ok(CREATED + 2 * HOUR));
        // Deploying it again changes nothing, so neither does its package.
        assert_eq!(deploying_time(&deployed, CREATED + 9 * HOUR), at);
        assert_eq!(
            deploying_time(&record, CREATED + 9 * HOUR),
            Ok(CREATED + 9 * HOUR)
        );
        let archived = registry
            .archive(&record.version, CREATED + 3 * HOUR)
            .expect("archives")
            .model;
        assert_eq!(
            deployment_time(PackagedModel::Registered(&archived), None),
            Ok(CREATED + 2 * HOUR)
        );
        for model in [
            PackagedModel::Registered(&archived),
            PackagedModel::File(&artifact),
        ] {
            assert_eq!(deployment_time(model, Some(42)), Ok(42));
        }
    }

    #[test]
    fn an_unreadable_time_names_its_field() {
        let (_, artifact) = model();
        let mut broken = artifact.clone();
        broken.created_at = "yesterday".to_owned();
        let e = deployment_time(PackagedModel::File(&broken), None).expect_err("unreadable");
        assert_eq!(e.field, "created_at");
        assert!(e.to_string().starts_with("created_at: "), "{e}");
        assert_eq!(format_iso8601(CREATED), artifact.created_at);
    }
}
