use serde_json::json;

use super::*;
use crate::config::{AutoOr, Config, DetectorKind, MaxSamples};

fn params() -> TrainParams {
    let mut params = TrainParams::from_config(&Config::defaults());
    params.detector = DetectorKind::IsolationForest;
    params.seed = 42;
    params.contamination = AutoOr::Auto;
    params.n_estimators = 100;
    params.max_samples = MaxSamples::Auto;
    params.n_neighbors = 20;
    params.drop_invalid = false;
    params
}

fn failed_job() -> Job {
    Job {
        id: "5f0c".to_owned(),
        status: JobStatus::Failed,
        file_name: "export.json".to_owned(),
        size_bytes: 1234,
        created_at: "2024-06-01T12:00:00Z".to_owned(),
        started_at: Some("2024-06-01T12:00:01Z".to_owned()),
        finished_at: None,
        progress: JobProgress {
            stage: "fit".to_owned(),
            fraction: 0.42,
        },
        params: params(),
        records: 10,
        dropped: 1,
        model: None,
        error: Some(JobFailure {
            code: JobFailureCode::TrainingFailed,
            message: "too few rows".to_owned(),
        }),
    }
}

#[test]
fn a_job_serializes_to_the_documented_json() {
    assert_eq!(
        serde_json::to_string(&failed_job()).expect("serializes"),
        concat!(
            r#"{"id":"5f0c","status":"failed","file_name":"export.json","size_bytes":1234,"#,
            r#""created_at":"2024-06-01T12:00:00Z","started_at":"2024-06-01T12:00:01Z","#,
            r#""finished_at":null,"progress":{"stage":"fit","fraction":0.42},"#,
            r#""params":{"detector":"isolation_forest","seed":42,"contamination":"auto","#,
            r#""n_estimators":100,"max_samples":"auto","n_neighbors":20,"drop_invalid":false},"#,
            r#""records":10,"dropped":1,"model":null,"#,
            r#""error":{"code":"training_failed","message":"too few rows"}}"#
        )
    );
}

#[test]
fn a_job_reads_back_from_its_json() {
    let job = failed_job();
    let text = serde_json::to_string(&job).expect("serializes");
    assert_eq!(serde_json::from_str::<Job>(&text).expect("reads"), job);
    // As docs/API.md shows it, with whitespace and a running job.
    let json = r#"{ "id": "5f0c", "status": "running", "file_name": "export.json",
        "size_bytes": 1234, "created_at": "2024-06-01T12:00:00Z", "started_at": null,
        "finished_at": null, "progress": { "stage": "fit", "fraction": 0.42 },
        "params": { "detector": "isolation_forest", "seed": 42, "contamination": "auto",
          "n_estimators": 100, "max_samples": "auto", "n_neighbors": 20, "drop_invalid": false },
        "records": 10, "dropped": 0, "model": null, "error": null }"#;
    let job: Job = serde_json::from_str(json).expect("a job");
    assert_eq!(job.status, JobStatus::Running);
    assert!(!job.status.finished());
    assert_eq!(job.progress.fraction, 0.42);
    assert_eq!(job.params, params());
}

#[test]
fn statuses_and_failure_codes_are_the_wire_strings() {
    for status in JobStatus::ALL {
        let text = serde_json::to_string(&status).expect("serializes");
        assert_eq!(text, format!("\"{}\"", status.as_str()));
        assert_eq!(status.to_string(), status.as_str());
        assert_eq!(serde_json::from_str::<JobStatus>(&text).ok(), Some(status));
        assert_eq!(
            status.finished(),
            !matches!(status, JobStatus::Queued | JobStatus::Running)
        );
    }
    for (code, text) in [
        (JobFailureCode::InvalidExport, "invalid_export"),
        (JobFailureCode::TrainingFailed, "training_failed"),
        (JobFailureCode::Internal, "internal"),
    ] {
        assert_eq!(code.as_str(), text);
        assert_eq!(
            serde_json::to_string(&code).expect("serializes"),
            format!("\"{text}\"")
        );
        assert_eq!(
            serde_json::from_str::<JobFailureCode>(&format!("\"{text}\"")).ok(),
            Some(code)
        );
    }
    // "cancelled" is a status, never a failure code.
    assert!(serde_json::from_str::<JobFailureCode>("\"cancelled\"").is_err());
}

/// The body `GET /api/health` sent when it was built with `json!` (keys sorted by serde_json).
fn health_as_built_by_hand(storage: &Result<(usize, u64), &str>) -> String {
    let storage_json = match storage {
        Ok((models, bytes)) => json!({ "status": "ok", "models": models, "bytes": bytes }),
        Err(message) => json!({ "status": "unavailable", "message": message }),
    };
    json!({
        "status": if storage.is_ok() { "ok" } else { "degraded" },
        "version": "0.1.0",
        "storage": storage_json,
        "auth": { "writes": true, "reads": false },
        "limits": { "max_upload_mb": 1024, "max_export_mb": 512 },
    })
    .to_string()
}

#[test]
fn health_is_byte_for_byte_the_json_the_server_sent() {
    for storage in [Ok((3, 123_456)), Err("the registry cannot be read")] {
        let health = Health {
            auth: HealthAuth {
                reads: false,
                writes: true,
            },
            limits: HealthLimits {
                max_export_mb: 512,
                max_upload_mb: 1024,
            },
            status: if storage.is_ok() {
                HealthStatus::Ok
            } else {
                HealthStatus::Degraded
            },
            storage: match storage {
                Ok((models, bytes)) => HealthStorage::ok(models, bytes),
                Err(message) => HealthStorage::unavailable(message),
            },
            version: "0.1.0".to_owned(),
        };
        let text = serde_json::to_string(&health).expect("serializes");
        assert_eq!(text, health_as_built_by_hand(&storage));
        assert_eq!(
            serde_json::from_str::<Health>(&text).expect("reads"),
            health
        );
    }
    assert_eq!(
        health_as_built_by_hand(&Ok((3, 7))),
        concat!(
            r#"{"auth":{"reads":false,"writes":true},"limits":{"max_export_mb":512,"max_upload_mb":1024},"#,
            r#""status":"ok","storage":{"bytes":7,"models":3,"status":"ok"},"version":"0.1.0"}"#
        )
    );
}

#[test]
fn error_bodies_and_deployments_keep_their_shape() {
    let body = ErrorBody::new("conflict", "version 20240101_000000 holds another model");
    let text = serde_json::to_string(&body).expect("serializes");
    assert_eq!(
        text,
        json!({ "error": { "code": "conflict", "message": "version 20240101_000000 holds another model" } })
            .to_string()
    );
    assert_eq!(serde_json::from_str::<ErrorBody>(&text).ok(), Some(body));
    let deployment: Deployment = serde_json::from_value(json!({
        "model": record_json("deployed"), "previous": null, "changed": true
    }))
    .expect("reads");
    assert!(deployment.changed && deployment.previous.is_none());
    // The server sends lists and deployments through `serde_json::Value` (sorted keys), as when
    // it built them with `json!`.
    let sent = serde_json::to_value(&deployment).expect("serializes");
    let by_hand = json!({
        "model": deployment.model, "previous": deployment.previous, "changed": true
    });
    assert_eq!(sent.to_string(), by_hand.to_string());
    let list = JobList {
        jobs: vec![failed_job()],
    };
    let sent = serde_json::to_value(&list).expect("serializes");
    assert_eq!(sent.to_string(), json!({ "jobs": list.jobs }).to_string());
    assert_eq!(serde_json::from_value::<JobList>(sent).ok(), Some(list));
}

fn record_json(status: &str) -> serde_json::Value {
    json!({ "version": "20240101_000000", "status": status, "created_at": "2024-01-01T00:00:00Z",
        "registered_at": "2024-01-01T00:00:01Z", "deployed_at": "2024-01-02T00:00:00Z",
        "archived_at": null, "detector": "isolation_forest", "samples": 900, "features": 24,
        "size_bytes": 51234, "sha256": "ab", "lineage_file": "export.json",
        "metrics": { "anomaly_ratio": 0.1, "roc_auc": 0.93, "f1": 0.7 } })
}
