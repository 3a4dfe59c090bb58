//! `GET /api/openapi.json`: the API described in OpenAPI 3.1 (docs/API.md is the guide).

use axum::Json;
use mcp_train_core::anomalies::{
    AnomalyStatus, ExportFormat, ExportStatus, MAX_BY_BYTES, MAX_FILTER_TEXT,
};
use mcp_train_core::config::DetectorKind;
use mcp_train_core::model::{N_ESTIMATORS_MAX, N_NEIGHBORS_MAX};
use mcp_train_core::pipeline::TRAIN_PARAMETERS;
use serde_json::{json, Value};

/// The training parameters in [`TRAIN_PARAMETERS`] order: name, description and schema, with the
/// bounds the core's parsers and checks enforce (its constants, so the two cannot disagree).
fn train_parameters() -> [(&'static str, &'static str, Value); 7] {
    let detectors: Vec<&str> = DetectorKind::ALL.iter().map(|k| k.as_str()).collect();
    [
        ("detector", "The detector.", json!({ "enum": detectors })),
        (
            "seed",
            "The run's one seed: the detector (forest trees, LOF subsample), the held-out split and feature importance.",
            json!({ "type": "integer", "minimum": 0 }),
        ),
        (
            "contamination",
            "\"auto\" or a fraction in (0, 0.5].",
            json!({ "oneOf": [{ "const": "auto" },
                { "type": "number", "exclusiveMinimum": 0, "maximum": 0.5 }] }),
        ),
        (
            "n_estimators",
            "Isolation Forest trees.",
            json!({ "type": "integer", "minimum": 1, "maximum": N_ESTIMATORS_MAX }),
        ),
        (
            "max_samples",
            "Isolation Forest rows per tree: \"auto\" (min(256, rows)), a count or a fraction in (0, 1] (`1` is one row, `1.0` every row).",
            // anyOf, not oneOf: 1 is both an integer ≥ 1 and a number in (0, 1].
            json!({ "anyOf": [{ "const": "auto" }, { "type": "integer", "minimum": 1 },
                { "type": "number", "exclusiveMinimum": 0, "maximum": 1 }] }),
        ),
        (
            "n_neighbors",
            "LOF neighbours.",
            json!({ "type": "integer", "minimum": 1, "maximum": N_NEIGHBORS_MAX }),
        ),
        ("drop_invalid", "Leave out invalid records.", json!({ "type": "boolean" })),
    ]
}

fn error_response(description: &str) -> Value {
    json!({ "description": description,
            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
}

fn json_response(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn version_parameter() -> Value {
    json!({ "name": "version", "in": "path", "required": true,
            "description": "A model version, YYYYMMDD_HHMMSS.",
            "schema": { "type": "string", "pattern": "^[0-9]{8}_[0-9]{6}$" } })
}

fn id_parameter() -> Value {
    json!({ "name": "id", "in": "path", "required": true, "description": "A job id (32 hex digits).",
            "schema": { "type": "string", "pattern": "^[0-9a-f]{32}$" } })
}

fn query(name: &str, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema })
}

/// Errors every write can answer, on top of its own.
fn with_common(mut responses: Value, write: bool) -> Value {
    if let Some(map) = responses.as_object_mut() {
        map.insert(
            "500".into(),
            error_response("Internal error (details are in the server log)."),
        );
        map.insert(
            "401".into(),
            error_response(if write {
                "A token is needed (or the one sent is wrong)."
            } else {
                "With --private: a token is needed (or the one sent is wrong)."
            }),
        );
        map.entry("400")
            .or_insert_with(|| error_response("A request that cannot be read (`bad_request`)."));
        map.insert(
            "405".into(),
            error_response("Another method is needed (`method_not_allowed`)."),
        );
    }
    responses
}

pub fn spec() -> Value {
    let record = reference("ModelRecord");
    let job = reference("Job");
    let bad_version = error_response("Not a version (YYYYMMDD_HHMMSS): `invalid_version`.");
    let not_found = error_response("No such model.");
    let params_schema: serde_json::Map<String, Value> = train_parameters()
        .into_iter()
        .map(|(name, _, schema)| (name.to_owned(), schema))
        .collect();
    let mut job_query = vec![query(
        "file_name",
        "Recorded as the model's lineage.",
        json!({ "type": "string" }),
    )];
    job_query.extend(
        train_parameters()
            .into_iter()
            .map(|(name, description, schema)| {
                query(
                    name,
                    &format!("{description} Default: the server's configuration."),
                    schema,
                )
            }),
    );
    job_query.push(query(
        "created_at_micros",
        "The model's creation time (µs since 1970); makes the model reproducible.",
        json!({ "type": "integer" }),
    ));
    let export_job = reference("ExportJob");
    let export_id = json!({ "name": "id", "in": "path", "required": true,
        "description": "An export id (32 hex digits).",
        "schema": { "type": "string" } });
    let export_formats: Vec<&str> = ExportFormat::ALL.iter().map(|f| f.as_str()).collect();
    let export_statuses = [
        ExportStatus::Queued,
        ExportStatus::Running,
        ExportStatus::Completed,
        ExportStatus::Failed,
        ExportStatus::Cancelled,
        ExportStatus::Expired,
    ]
    .map(ExportStatus::as_str);
    let anomaly_statuses = AnomalyStatus::ALL.map(AnomalyStatus::as_str);
    let mut spec = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "mcp-train",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Shared model registry, deployment packages and server-side training for mcp-train. Errors are {\"error\": {\"code\", \"message\"}}. With a token, writes need `Authorization: Bearer <token>` (reads too with --private)."
        },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": {
                "Error": { "type": "object", "required": ["error"], "properties": { "error": {
                    "type": "object", "required": ["code", "message"],
                    "properties": { "code": { "type": "string" }, "message": { "type": "string" } } } } },
                "ModelRecord": { "type": "object",
                    "required": ["version", "status", "created_at", "registered_at", "detector", "samples", "features", "size_bytes", "sha256", "lineage_file", "metrics"],
                    "properties": {
                        "version": { "type": "string" },
                        "log_type": { "type": "string" },
                        "status": { "enum": ["ready", "deployed", "archived"] },
                        "created_at": { "type": "string", "format": "date-time" },
                        "registered_at": { "type": "string", "format": "date-time" },
                        "deployed_at": { "type": ["string", "null"], "format": "date-time" },
                        "archived_at": { "type": ["string", "null"], "format": "date-time" },
                        "detector": { "enum": ["isolation_forest", "lof"] },
                        "samples": { "type": "integer" }, "features": { "type": "integer" },
                        "size_bytes": { "type": "integer" }, "sha256": { "type": "string" },
                        "lineage_file": { "type": "string" },
                        "metrics": { "type": "object", "properties": {
                            "anomaly_ratio": { "type": "number" },
                            "roc_auc": { "type": ["number", "null"] },
                            "f1": { "type": ["number", "null"] } } } } },
                "AnomalyFilter": { "type": "object", "additionalProperties": false,
                    "description": "Which stored anomalies: every key narrows (see docs/API.md).",
                    "properties": {
                        "from": { "type": "string", "description": "Entries logged at or after (RFC 3339)." },
                        "to": { "type": "string", "description": "Entries logged before (RFC 3339)." },
                        "log_type": { "type": "string", "maxLength": MAX_FILTER_TEXT },
                        "model_version": { "type": "string", "maxLength": MAX_FILTER_TEXT },
                        "min_score": { "type": "number", "minimum": 0, "maximum": 100 },
                        "status": { "enum": anomaly_statuses },
                        "device": { "type": "string", "maxLength": MAX_FILTER_TEXT },
                        "client": { "type": "string", "maxLength": MAX_FILTER_TEXT } } },
                "ExportRequest": { "type": "object", "required": ["format"], "additionalProperties": false,
                    "properties": {
                        "format": { "enum": export_formats },
                        "filter": { "$ref": "#/components/schemas/AnomalyFilter" },
                        "by": { "type": "string", "minLength": 1, "maxLength": MAX_BY_BYTES } } },
                "ExportJob": { "type": "object",
                    "required": ["id", "status", "format", "filter", "by", "created_at", "rows", "bytes"],
                    "properties": {
                        "id": { "type": "string", "pattern": "^[0-9a-f]{32}$" },
                        "status": { "enum": export_statuses },
                        "format": { "enum": export_formats },
                        "filter": { "$ref": "#/components/schemas/AnomalyFilter" },
                        "by": { "type": "string" },
                        "created_at": { "type": "string", "format": "date-time" },
                        "started_at": { "type": "string", "format": "date-time" },
                        "finished_at": { "type": "string", "format": "date-time" },
                        "rows": { "type": "integer", "minimum": 0 },
                        "total": { "type": "integer", "minimum": 0 },
                        "bytes": { "type": "integer", "minimum": 0 },
                        "sha256": { "type": "string", "pattern": "^[0-9a-f]{64}$" },
                        "file_name": { "type": "string" },
                        "expires_at": { "type": "string", "format": "date-time" },
                        "error": { "type": "string" } } },
                "TrainParams": { "type": "object", "required": TRAIN_PARAMETERS,
                    "properties": params_schema },
                "Job": { "type": "object",
                    "required": ["id", "status", "file_name", "size_bytes", "created_at", "progress", "params", "records", "dropped"],
                    "properties": {
                        "id": { "type": "string" },
                        "status": { "enum": ["queued", "running", "completed", "failed", "cancelled"] },
                        "file_name": { "type": "string" }, "size_bytes": { "type": "integer" },
                        "created_at": { "type": "string", "format": "date-time" },
                        "started_at": { "type": ["string", "null"], "format": "date-time" },
                        "finished_at": { "type": ["string", "null"], "format": "date-time" },
                        "progress": { "type": "object", "properties": {
                            "stage": { "type": "string" }, "fraction": { "type": "number" } } },
                        "params": { "$ref": "#/components/schemas/TrainParams" },
                        "records": { "type": "integer" }, "dropped": { "type": "integer" },
                        "model": { "oneOf": [{ "$ref": "#/components/schemas/ModelRecord" }, { "type": "null" }] },
                        "error": { "oneOf": [{ "type": "object", "properties": {
                            "code": { "type": "string" }, "message": { "type": "string" } } }, { "type": "null" }] } } }
            }
        },
        "security": [{}, { "bearer": [] }],
        "paths": {
            "/api/health": { "get": { "summary": "Version, storage status, auth and limits (always open).",
                "responses": { "200": json_response("The server's state.", json!({ "type": "object" })) } } },
            "/api/openapi.json": { "get": { "summary": "This document.",
                "responses": { "200": json_response("OpenAPI 3.1.", json!({ "type": "object" })) } } },
            "/api/models": {
                "get": { "summary": "Registered models, newest first.",
                    "parameters": [query("status", "Only models with this status.", json!({ "enum": ["ready", "deployed", "archived"] })),
                        query("log_type", "Only models of this log type (wifi, dns, firewall, syslog).", json!({ "type": "string" }))],
                    "responses": with_common(json!({
                        "200": json_response("The models.", json!({ "type": "object", "properties": { "models": { "type": "array", "items": record } } })),
                        "400": error_response("Unknown status or malformed log type: `invalid_parameter`.") }), false) },
                "post": { "summary": "Upload a model.json or a deployment ZIP (verified before it is stored); the version is kept.",
                    "requestBody": { "required": true, "content": {
                        "application/json": { "schema": { "type": "object" } },
                        "application/zip": { "schema": { "type": "string", "format": "binary" } } } },
                    "responses": with_common(json!({
                        "201": json_response("Registered.", record.clone()),
                        "200": json_response("Already registered with the same bytes.", record.clone()),
                        "409": error_response("The version is registered with other bytes."),
                        "413": error_response("Larger than limits.max_upload_mb."),
                        "422": error_response("Not a loadable model (`invalid_model`) or a package that does not verify (`invalid_package`).") }), true) } },
            "/api/models/latest": { "get": { "summary": "The newest model (of log_type, when given).",
                "parameters": [query("log_type", "Only models of this log type.", json!({ "type": "string" }))],
                "responses": with_common(json!({ "200": json_response("The model.", record.clone()),
                    "400": error_response("Malformed log type: `invalid_parameter`."),
                    "404": error_response("The registry is empty.") }), false) } },
            "/api/models/deployed": { "get": { "summary": "The deployed model of log_type (without it: the only deployed model).",
                "parameters": [query("log_type", "The log type.", json!({ "type": "string" }))],
                "responses": with_common(json!({ "200": json_response("The model.", record.clone()),
                    "400": error_response("Malformed log type: `invalid_parameter`."),
                    "404": error_response("No model is deployed."),
                    "409": error_response("Models of several log types are deployed and no log_type was given.") }), false) } },
            "/api/models/history": { "get": { "summary": "Deployments, rollbacks and undeployments, newest first.",
                "parameters": [query("log_type", "Only events of this log type.", json!({ "type": "string" }))],
                "responses": with_common(json!({
                    "200": json_response("The history.", json!({ "type": "object", "properties": { "history": { "type": "array", "items": {
                        "type": "object", "required": ["at", "log_type", "action", "version"], "properties": {
                            "at": { "type": "string", "format": "date-time" }, "log_type": { "type": "string" },
                            "action": { "enum": ["deploy", "rollback", "undeploy"] }, "version": { "type": "string" },
                            "previous": { "type": ["string", "null"] } } } } } })),
                    "400": error_response("Malformed log type: `invalid_parameter`.") }), false) } },
            "/api/models/rollback/{log_type}": {
                "parameters": [{ "name": "log_type", "in": "path", "required": true, "schema": { "type": "string" } }],
                "post": { "summary": "Re-deploy the model of this log type deployed before the current one.",
                    "responses": with_common(json!({
                        "200": json_response("Rolled back.", json!({ "type": "object", "properties": {
                            "model": record, "previous": { "oneOf": [record, { "type": "null" }] }, "changed": { "type": "boolean" } } })),
                        "400": error_response("Malformed log type: `invalid_parameter`."),
                        "409": error_response("No earlier model of this log type to roll back to.") }), true) } },
            "/api/models/{version}": {
                "parameters": [version_parameter()],
                "get": { "summary": "One model's record.",
                    "responses": with_common(json!({ "200": json_response("The model.", record.clone()), "400": bad_version, "404": not_found }), false) },
                "delete": { "summary": "Delete a model (the deployed one only with force=true).",
                    "parameters": [query("force", "Also delete the deployed model.", json!({ "type": "boolean" }))],
                    "responses": with_common(json!({
                        "200": json_response("Deleted.", json!({ "type": "object", "properties": { "deleted": record } })),
                        "400": bad_version, "404": not_found,
                        "409": error_response("The model is deployed and force is not set.") }), true) } },
            "/api/models/{version}/model": { "parameters": [version_parameter()],
                "get": { "summary": "The model.json bytes (ETag: their SHA-256).",
                    "responses": with_common(json!({ "200": { "description": "model.json",
                        "content": { "application/json": { "schema": { "type": "object" } } } },
                        "304": { "description": "Not modified (If-None-Match)." }, "400": bad_version, "404": not_found }), false) } },
            "/api/models/{version}/package": { "parameters": [version_parameter()],
                "get": { "summary": "The deployment package ZIP (ETag: its SHA-256; Content-Length).",
                    "responses": with_common(json!({ "200": { "description": "model_<version>_deployment.zip",
                        "content": { "application/zip": { "schema": { "type": "string", "format": "binary" } } } },
                        "304": { "description": "Not modified (If-None-Match)." }, "400": bad_version, "404": not_found }), false) } },
            "/api/models/{version}/deploy": { "parameters": [version_parameter()],
                "post": { "summary": "Deploy a model (the deployed one is archived); optional precondition on the deployed model.",
                    "requestBody": { "required": false, "content": { "application/json": { "schema": {
                        "type": "object", "properties": { "expected_deployed": { "type": ["string", "null"] } } } } } },
                    "responses": with_common(json!({
                        "200": json_response("Deployed.", json!({ "type": "object", "properties": {
                            "model": record, "previous": { "oneOf": [record, { "type": "null" }] }, "changed": { "type": "boolean" } } })),
                        "400": bad_version, "404": not_found,
                        "409": error_response("The deployed model is not the expected one."),
                        "422": error_response("The model cannot be packaged.") }), true) } },
            "/api/training/jobs": {
                "get": { "summary": "This process's training jobs, newest first.",
                    "responses": with_common(json!({ "200": json_response("The jobs.", json!({ "type": "object", "properties": { "jobs": { "type": "array", "items": job } } })) }), false) },
                "post": { "summary": "Upload an export (the body) and train on it; validated before the job is accepted.",
                    "parameters": job_query,
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "string", "format": "binary" } },
                        "application/x-ndjson": { "schema": { "type": "string", "format": "binary" } } } },
                    "responses": with_common(json!({
                        "202": json_response("Accepted.", job.clone()),
                        "503": error_response("Too many jobs wait already (`busy`, with Retry-After)."),
                        "400": error_response("A bad parameter: `invalid_parameter`."),
                        "413": error_response("Larger than limits.max_export_mb."),
                        "422": error_response("The export is invalid: `invalid_export`, naming where.") }), true) } },
            "/api/training/jobs/{id}": { "parameters": [id_parameter()],
                "get": { "summary": "One job.", "responses": with_common(json!({ "200": json_response("The job.", job.clone()), "404": error_response("No such job.") }), false) },
                "delete": { "summary": "Cancel a queued or running job; remove a finished one from the list.",
                    "responses": with_common(json!({ "200": json_response("The job (cancelled, or finished and removed).", job.clone()),
                        "202": json_response("Cancelled, but not stopped yet.", job.clone()),
                        "404": error_response("No such job.") }), true) } },
            "/api/training/jobs/{id}/events": { "parameters": [id_parameter()],
                "get": { "summary": "Server-sent events: `progress` (the job) while it runs, then `done` (the job).",
                    "responses": with_common(json!({ "200": { "description": "An event stream.", "content": { "text/event-stream": { "schema": { "type": "string" } } } },
                        "404": error_response("No such job.") }), false) } },
            "/api/exports": {
                "get": { "summary": "The export history, newest first (the last 200).",
                    "responses": with_common(json!({ "200": json_response("The history.", json!({ "type": "object", "required": ["items"],
                        "properties": { "items": { "type": "array", "items": export_job } } })) }), false) },
                "post": { "summary": "Start an anomaly export job (NDJSON, CSV, ECS or OCSF) of what the filter selects.",
                    "requestBody": { "required": true, "content": { "application/json": { "schema": reference("ExportRequest") } } },
                    "responses": with_common(json!({
                        "202": json_response("Accepted (queued); `Location` is the job.", export_job.clone()),
                        "400": error_response("Not an export request, or a bad filter (the message names the key): `bad_request`."),
                        "503": error_response("Too many exports waiting: `busy`.") }), true) } },
            "/api/exports/{id}": { "parameters": [export_id.clone()],
                "get": { "summary": "An export job (live progress while it runs).",
                    "responses": with_common(json!({ "200": json_response("The job.", export_job.clone()),
                        "404": error_response("No such export.") }), false) } },
            "/api/exports/{id}/events": { "parameters": [export_id.clone()],
                "get": { "summary": "Server-sent events: `progress` (the job) while it is queued or running, then `done` (the job).",
                    "responses": with_common(json!({ "200": { "description": "An event stream.", "content": { "text/event-stream": { "schema": { "type": "string" } } } },
                        "404": error_response("No such export.") }), false) } },
            "/api/exports/{id}/cancel": { "parameters": [export_id.clone()],
                "post": { "summary": "Cancel a queued or running export (it stops at its next batch; its partial file is deleted).",
                    "responses": with_common(json!({ "200": json_response("Stopped.", export_job.clone()),
                        "202": json_response("Asked to stop; not stopped within 30 s.", export_job.clone()),
                        "404": error_response("No such export."),
                        "409": error_response("The export has ended: `not_running`.") }), true) } },
            "/api/exports/{id}/download": { "parameters": [export_id],
                "get": { "summary": "The file of a completed export: Content-Disposition, Content-Length, ETag \"sha256-<hex>\" and Repr-Digest (sha-256).",
                    "responses": with_common(json!({
                        "200": { "description": "The file.", "content": {
                            "application/x-ndjson": { "schema": { "type": "string" } },
                            "text/csv": { "schema": { "type": "string" } } } },
                        "304": { "description": "Not modified (If-None-Match)." },
                        "404": error_response("No such export."),
                        "409": error_response("Not completed (queued, running, failed or cancelled): `not_ready`."),
                        "410": error_response("Completed, but its file has expired: `expired`.") }), false) } },
            "/metrics": { "get": { "summary": "Prometheus metrics: requests, latencies, upload bytes, jobs, models, storage bytes.",
                "responses": { "200": { "description": "OpenMetrics text (Prometheus scrapes it).", "content": { "application/openmetrics-text": { "schema": { "type": "string" } } } } } } }
        }
    });
    let (kb_schemas, kb_paths) = knowledge_section();
    for (section, extra) in [
        ("/components/schemas", anomaly_schemas()),
        ("/paths", anomaly_paths()),
        ("/components/schemas", kb_schemas),
        ("/paths", kb_paths),
    ] {
        if let (Some(map), Value::Object(extra)) = (
            spec.pointer_mut(section).and_then(Value::as_object_mut),
            extra,
        ) {
            map.extend(extra);
        }
    }
    notification_paths(&mut spec);
    spec
}

/// `/api/notifications/…` (apart: one `json!` that deep passes the macro recursion limit).
fn notification_paths(spec: &mut Value) {
    let channel = json!({ "type": "object", "required": ["name", "kind", "enabled", "events", "min_score", "rate_limit"], "properties": {
        "name": { "type": "string" }, "kind": { "enum": ["webhook", "slack", "email"] }, "enabled": { "type": "boolean" },
        "events": { "type": "array", "items": { "type": "string" } }, "min_score": { "type": "number" },
        "rate_limit": { "type": "object", "properties": { "max_messages": { "type": "integer" }, "window_seconds": { "type": "integer" } } },
        "destination": { "type": "string" } } });
    let channels = json!({ "type": "object", "required": ["channels", "anomalies", "retry"], "properties": {
        "channels": { "type": "array", "items": channel },
        "anomalies": { "type": "object" }, "retry": { "type": "object" } } });
    let letter = json!({ "type": "object", "required": ["id", "at", "channel", "channel_kind", "event", "attempts", "error", "title", "data"], "properties": {
        "id": { "type": "string" }, "at": { "type": "string", "format": "date-time" }, "channel": { "type": "string" },
        "channel_kind": { "type": "string" }, "event": { "type": "string" }, "attempts": { "type": "integer" },
        "error": { "type": "string" }, "title": { "type": "string" }, "data": {} } });
    let letters = json!({ "type": "object", "required": ["total", "damaged", "items"], "properties": {
        "total": { "type": "integer" }, "damaged": { "type": "integer" }, "items": { "type": "array", "items": letter } } });
    let delivered = json!({ "type": "object", "properties": {
        "channel": { "type": "string" }, "delivered": { "type": "boolean" }, "attempts": { "type": "integer" }, "id": { "type": "string" } } });
    let paths = [
        (
            "/api/notifications/channels",
            json!({ "get": {
            "summary": "The notification channels of notifications.yaml (no secrets, no URL paths) and the grouping and retry settings.",
            "responses": with_common(json!({ "200": json_response("The channels.", channels) }), false) } }),
        ),
        (
            "/api/notifications/dead-letters",
            json!({ "get": {
            "summary": "Messages not delivered after every retry, newest first.",
            "parameters": [query("limit", "At most this many (1 to 1000, default 100).", json!({ "type": "integer", "minimum": 1, "maximum": 1000 }))],
            "responses": with_common(json!({ "200": json_response("The dead letters.", letters),
                "400": error_response("A bad limit: `invalid_parameter`.") }), false) } }),
        ),
        (
            "/api/notifications/test/{channel}",
            json!({
            "parameters": [{ "name": "channel", "in": "path", "required": true, "schema": { "type": "string" } }],
            "post": { "summary": "Send a test message through a channel now (with the configured retries).",
                "responses": with_common(json!({
                    "200": json_response("Delivered.", delivered),
                    "404": error_response("No such channel."),
                    "409": error_response("The channel is disabled: `channel_disabled`."),
                    "502": error_response("Not delivered: `delivery_failed`, with the last error.") }), true) } }),
        ),
    ];
    if let Some(map) = spec["paths"].as_object_mut() {
        for (path, item) in paths {
            map.insert(path.to_owned(), item);
        }
    }
}

/// The knowledge base's reads (`/api/kb/search`, `/api/anomalies/{id}/explanation`): their
/// response schemas are generated from the wire types, the query bounds are core's.
fn knowledge_section() -> (Value, Value) {
    use mcp_train_core::knowledge::{
        DocKind, SearchResults, DEFAULT_RESULTS, MAX_QUERY_BYTES, MAX_RESULTS,
    };
    let mut generator = schemars::generate::SchemaSettings::draft2020_12()
        .with(|s| s.definitions_path = "/components/schemas".into())
        .into_generator();
    let results = generator.subschema_for::<SearchResults>().to_value();
    let explanation = generator
        .subschema_for::<crate::kb::Explanation>()
        .to_value();
    let schemas = Value::Object(generator.take_definitions(true).into_iter().collect());
    let kinds = DocKind::ALL.map(DocKind::as_str);
    let paths = json!({
        "/api/kb/search": {
            "get": { "summary": "Search the knowledge base (BM25, best first; each result cites its source). Brings the index up to date first.",
                "parameters": [
                    { "name": "q", "in": "query", "required": true, "description": "The words to look for, each matched literally.",
                      "schema": { "type": "string", "minLength": 1, "maxLength": MAX_QUERY_BYTES } },
                    query("kind", "Only documents of this kind (repeatable).", json!({ "enum": kinds })),
                    query("log_type", "Only documents about this log type.", json!({ "type": "string" })),
                    query("limit", &format!("At most this many results (default {DEFAULT_RESULTS})."),
                        json!({ "type": "integer", "minimum": 1, "maximum": MAX_RESULTS })) ],
                "responses": with_common(json!({
                    "200": json_response("The ranked results.", results),
                    "400": error_response("A query without words, an unknown kind or key, or a limit out of range: `invalid_parameter`, naming the key.") }), false) } },
        "/api/anomalies/{id}/explanation": {
            "parameters": [{ "name": "id", "in": "path", "required": true,
                "description": "An anomaly id (a positive integer).", "schema": { "type": "string", "pattern": "^[1-9][0-9]*$" } }],
            "get": { "summary": "Why a stored anomaly was flagged: the features that pushed it over, what its log event means and what to check, similar past anomalies and their verdicts.",
                "responses": with_common(json!({
                    "200": json_response("The explanation.", explanation),
                    "400": error_response("Not an id: `invalid_parameter`."),
                    "404": error_response("No such anomaly.") }), false) } }
    });
    (schemas, paths)
}

pub async fn document() -> Json<Value> {
    Json(spec())
}

/// The anomaly store's schemas (`/api/logs`, `/api/anomalies…`).
fn anomaly_schemas() -> Value {
    let status = json!({ "enum": ["new", "acknowledged", "resolved", "false_positive"] });
    json!({
        "StoredAnomaly": { "type": "object",
            "required": ["id", "detected_at", "status", "score", "log_type", "model_version", "anomaly"],
            "properties": {
                "id": { "type": "integer", "minimum": 1 },
                "detected_at": { "type": "string", "format": "date-time" },
                "status": status,
                "score": { "type": "number", "minimum": 0, "maximum": 100 },
                "log_type": { "type": "string" }, "model_version": { "type": "string" },
                "device": { "type": "string" }, "client": { "type": "string" },
                "anomaly": { "type": "object", "required": ["entry", "agent", "inference", "contributions"] } } },
        "AnomalyEvent": { "type": "object", "required": ["at", "by", "from", "to"],
            "properties": {
                "at": { "type": "string", "format": "date-time" }, "by": { "type": "string" },
                "from": { "oneOf": [status, { "type": "null" }] }, "to": status,
                "note": { "type": "string" } } },
        "AnomalyDetail": { "allOf": [{ "$ref": "#/components/schemas/StoredAnomaly" },
            { "type": "object", "required": ["history"], "properties": {
                "history": { "type": "array", "items": { "$ref": "#/components/schemas/AnomalyEvent" } } } }] },
        "AnomalyPage": { "type": "object", "required": ["items"], "properties": {
            "items": { "type": "array", "items": { "$ref": "#/components/schemas/StoredAnomaly" } },
            "next_cursor": { "type": "string" } } },
        "IngestReport": { "type": "object",
            "required": ["log_type", "model_version", "lines", "scored", "invalid", "anomalies", "errors"],
            "properties": {
                "log_type": { "type": "string" }, "model_version": { "type": "string" },
                "lines": { "type": "integer", "minimum": 0 }, "scored": { "type": "integer", "minimum": 0 },
                "invalid": { "type": "integer", "minimum": 0 }, "anomalies": { "type": "integer", "minimum": 0 },
                "errors": { "type": "array", "items": { "type": "object", "required": ["line", "column", "message"],
                    "properties": { "line": { "type": "integer", "minimum": 1 }, "column": { "type": "integer", "minimum": 1 },
                        "message": { "type": "string" } } } } } }
    })
}

/// The anomaly store's paths.
fn anomaly_paths() -> Value {
    let detail = reference("AnomalyDetail");
    let anomaly_id = json!({ "name": "id", "in": "path", "required": true,
        "description": "An anomaly id (a positive integer).", "schema": { "type": "string", "pattern": "^[1-9][0-9]*$" } });
    let mut filters: Vec<Value> = vec![
        query(
            "from",
            "Entry time from (RFC 3339, inclusive).",
            json!({ "type": "string" }),
        ),
        query(
            "to",
            "Entry time to (RFC 3339, exclusive).",
            json!({ "type": "string" }),
        ),
        query("log_type", "Log type, exact.", json!({ "type": "string" })),
        query(
            "model_version",
            "Model version that flagged it, exact.",
            json!({ "type": "string" }),
        ),
        query(
            "min_score",
            "Lowest risk score.",
            json!({ "type": "number", "minimum": 0, "maximum": 100 }),
        ),
        query(
            "status",
            "Status.",
            json!({ "enum": ["new", "acknowledged", "resolved", "false_positive"] }),
        ),
        query(
            "device",
            "Source device (the entry's host), exact.",
            json!({ "type": "string" }),
        ),
        query(
            "client",
            "Client the entry names, exact.",
            json!({ "type": "string" }),
        ),
    ];
    filters.push(query(
        "cursor",
        "A previous page's next_cursor.",
        json!({ "type": "string" }),
    ));
    filters.push(query(
        "limit",
        "Page size.",
        json!({ "type": "integer", "minimum": 1, "maximum": mcp_train_core::anomalies::MAX_PAGE_SIZE }),
    ));
    json!({
        "/api/logs/{log_type}": {
            "parameters": [{ "name": "log_type", "in": "path", "required": true, "description": "wifi, dns, firewall or syslog.", "schema": { "type": "string" } }],
            "post": { "summary": "Ingest a log (raw lines or NDJSON records, streamed): scored with the deployed model of the log type; anomalies are stored.",
                "parameters": [query("device", "Host of entries whose lines name none.", json!({ "type": "string" }))],
                "requestBody": { "required": true, "content": {
                    "text/plain": { "schema": { "type": "string" } },
                    "application/x-ndjson": { "schema": { "type": "string" } } } },
                "responses": with_common(json!({
                    "200": json_response("What was read, scored, refused and stored.", reference("IngestReport")),
                    "400": error_response("Unknown log type (`invalid_parameter`), or the body was cut off (`bad_request`)."),
                    "404": error_response("No model is deployed for the log type: `no_deployed_model`."),
                    "422": error_response("The deployed model cannot detect: `invalid_model`.") }), true) } },
        "/api/anomalies": {
            "get": { "summary": "Stored anomalies, newest first, filtered, with cursor pagination.",
                "parameters": filters,
                "responses": with_common(json!({
                    "200": json_response("A page.", reference("AnomalyPage")),
                    "400": error_response("A filter, cursor or limit that cannot be read: `invalid_parameter`.") }), false) },
            "post": { "summary": "Store anomalies found elsewhere (the web app's Detect page).",
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["anomalies"],
                    "properties": { "anomalies": { "type": "array", "maxItems": super::anomalies::MAX_POSTED_ANOMALIES, "items": { "type": "object" } },
                        "by": { "type": "string" } } } } } },
                "responses": with_common(json!({
                    "201": json_response("Stored.", json!({ "type": "object", "required": ["stored", "ids"], "properties": {
                        "stored": { "type": "integer" }, "ids": { "type": "array", "items": { "type": "integer" } } } })),
                    "400": error_response("Too many anomalies, or one that cannot be stored: `invalid_parameter`.") }), true) } },
        "/api/anomalies/summary": {
            "get": { "summary": "Stored anomalies per log type and status.",
                "responses": with_common(json!({
                    "200": json_response("The counts.", json!({ "type": "object", "required": ["counts"], "properties": { "counts": { "type": "array", "items": {
                        "type": "object", "required": ["log_type", "status", "count"], "properties": {
                            "log_type": { "type": "string" }, "status": { "type": "string" }, "count": { "type": "integer" } } } } } })) }), false) } },
        "/api/anomalies/{id}": { "parameters": [anomaly_id.clone()],
            "get": { "summary": "One anomaly and its audit trail.",
                "responses": with_common(json!({
                    "200": json_response("The anomaly.", detail.clone()),
                    "400": error_response("Not an id: `invalid_parameter`."),
                    "404": error_response("No such anomaly.") }), false) } },
        "/api/anomalies/{id}/status": { "parameters": [anomaly_id],
            "post": { "summary": "Move an anomaly through its review (new → acknowledged → resolved | false_positive; verdicts reopen to acknowledged).",
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["status"],
                    "properties": { "status": { "enum": ["acknowledged", "resolved", "false_positive", "new"] },
                        "note": { "type": "string" }, "by": { "type": "string" } } } } } },
                "responses": with_common(json!({
                    "200": json_response("The anomaly with its trail.", detail),
                    "400": error_response("Not an id, or a note or name too long: `invalid_parameter`."),
                    "404": error_response("No such anomaly."),
                    "409": error_response("The lifecycle does not allow it: `invalid_transition`.") }), true) } }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_train_core::pipeline::TrainChoices;

    #[test]
    fn parameter_bounds_are_the_parsers_bounds() {
        let spec = spec();
        let schema = &spec["components"]["schemas"]["TrainParams"];
        let query = &spec["paths"]["/api/training/jobs"]["post"]["parameters"];
        for name in TRAIN_PARAMETERS {
            assert!(
                schema["properties"][name].is_object(),
                "{name} in TrainParams"
            );
            let listed = query
                .as_array()
                .into_iter()
                .flatten()
                .any(|p| p["name"] == name);
            assert!(listed, "{name} is not a query parameter");
        }
        let mut choices = TrainChoices::default();
        for name in ["n_estimators", "n_neighbors"] {
            let max = schema["properties"][name]["maximum"]
                .as_u64()
                .unwrap_or_default();
            assert_eq!(schema["properties"][name]["minimum"], 1, "{name}");
            assert!(choices.set(name, &max.to_string()).is_ok(), "{name} {max}");
            assert!(
                choices.set(name, &(max + 1).to_string()).is_err(),
                "{name} {max}+1"
            );
            assert!(choices.set(name, "0").is_err(), "{name} 0");
        }
        let detectors = schema["properties"]["detector"]["enum"].as_array().cloned();
        for d in detectors.unwrap_or_default() {
            assert!(choices
                .set("detector", d.as_str().unwrap_or_default())
                .is_ok());
        }
    }

    #[test]
    fn every_route_of_the_guide_is_described() {
        let spec = spec();
        let guide = include_str!("../../../docs/API.md");
        let paths = spec["paths"].as_object().map(|p| p.len()).unwrap_or(0);
        assert_eq!(paths, 30);
        for path in spec["paths"].as_object().into_iter().flat_map(|p| p.keys()) {
            assert!(
                guide.contains(path.as_str()),
                "{path} is not in docs/API.md"
            );
        }
    }
}
