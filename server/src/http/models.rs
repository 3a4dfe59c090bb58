//! `/api/models`: the shared registry — list, read, upload, deploy, delete — and the model and
//! package downloads. Registry calls touch the disk and may wait for another process's lock, so
//! they run on the blocking pool.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use mcp_train_core::api::{Deployment, ModelList};
use mcp_train_core::package::{self, zip, PackagedModel, MODEL_FILE, PACKAGE_LIMITS};
use mcp_train_core::pipeline::sha256_hex;
use mcp_train_core::registry::{
    is_valid_log_type, is_valid_version, ModelRecord, ModelStatus, Registry,
};
use serde::Deserialize;
use serde_json::json;

use super::error::{ApiError, ApiResult};
use super::upload::{self, Limit};
use super::{blocking, AppState};
use crate::fs::clock::now_micros;
use crate::fs::registry::Store;

/// Refuses anything but `YYYYMMDD_HHMMSS` before any file is touched.
pub fn check_version(version: &str) -> ApiResult<()> {
    if is_valid_version(version) {
        Ok(())
    } else {
        let shown: String = version.chars().take(64).collect();
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_version",
            format!("{shown:?} is not a model version (YYYYMMDD_HHMMSS)"),
        ))
    }
}

/// Runs `f` on the registry on the blocking pool.
pub async fn with_registry<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut Registry<Store>) -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    let at = state.registry.clone();
    blocking(move || f(&mut at.open())).await
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    log_type: Option<String>,
}

/// Refuses a log type that could not name one, before any file is touched.
pub fn check_log_type(log_type: Option<&str>) -> ApiResult<()> {
    match log_type {
        Some(t) if !is_valid_log_type(t) => Err(ApiError::invalid_parameter(format!(
            "log_type must be a lowercase name such as wifi or dns, not {:?}",
            t.chars().take(64).collect::<String>()
        ))),
        _ => Ok(()),
    }
}

/// `?log_type=`: the models of one log type.
#[derive(Debug, Deserialize)]
pub struct LogTypeQuery {
    log_type: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Response> {
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(
            [
                ModelStatus::Ready,
                ModelStatus::Deployed,
                ModelStatus::Archived,
            ]
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                ApiError::invalid_parameter(format!(
                    "status must be ready, deployed or archived, not {s:?}"
                ))
            })?,
        ),
    };
    check_log_type(q.log_type.as_deref())?;
    let models = with_registry(&state, |r| Ok(r.list()?)).await?;
    let models: Vec<ModelRecord> = models
        .into_iter()
        .filter(|m| status.is_none_or(|s| m.status == s))
        .filter(|m| q.log_type.as_deref().is_none_or(|t| m.log_type == t))
        .collect();
    Ok(Json(super::sorted_json(&ModelList { models })?).into_response())
}

pub async fn latest(
    State(state): State<AppState>,
    Query(q): Query<LogTypeQuery>,
) -> ApiResult<Json<ModelRecord>> {
    check_log_type(q.log_type.as_deref())?;
    let latest = with_registry(&state, move |r| {
        Ok(r.resolve_in("latest", q.log_type.as_deref())?)
    })
    .await?;
    Ok(Json(latest))
}

/// The deployed model (of `?log_type=`; without it, the only deployed model, 409 when several
/// log types have one).
pub async fn deployed(
    State(state): State<AppState>,
    Query(q): Query<LogTypeQuery>,
) -> ApiResult<Json<ModelRecord>> {
    check_log_type(q.log_type.as_deref())?;
    let deployed = with_registry(&state, move |r| {
        Ok(r.resolve_in("deployed", q.log_type.as_deref())?)
    })
    .await?;
    Ok(Json(deployed))
}

/// `GET /api/models/history`: deployments, rollbacks and undeployments, newest first.
pub async fn history(
    State(state): State<AppState>,
    Query(q): Query<LogTypeQuery>,
) -> ApiResult<Response> {
    check_log_type(q.log_type.as_deref())?;
    let history = with_registry(&state, move |r| Ok(r.history(q.log_type.as_deref())?)).await?;
    Ok(Json(json!({ "history": history })).into_response())
}

/// `POST /api/models/rollback/{log_type}`: re-deploys the model of that log type deployed
/// before the current one; 409 when there is none.
pub async fn rollback(
    State(state): State<AppState>,
    Path(log_type): Path<String>,
) -> ApiResult<Response> {
    let answer = roll_back(&state, log_type).await?;
    Ok(Json(super::sorted_json(&answer)?).into_response())
}

/// Re-deploys the model of `log_type` deployed before the current one (the rollback route and
/// the `rollback_model` tool); notifies when anything changed.
pub async fn roll_back(state: &AppState, log_type: String) -> ApiResult<Deployment> {
    check_log_type(Some(&log_type))?;
    let at = now_micros();
    let change = with_registry(state, move |r| {
        let target = r.rollback_target(&log_type)?.ok_or_else(|| {
            mcp_train_core::registry::RegistryError::NothingToRollBack {
                log_type: log_type.clone(),
            }
        })?;
        // As for a deploy: a model that cannot be packaged is never deployed.
        let stored = r.get(&target.version)?;
        build_package(&stored.bytes, at, &target.version)?;
        Ok(r.rollback(&log_type, at)?)
    })
    .await?;
    let answer = Deployment {
        changed: change.changed(),
        model: change.model,
        previous: change.displaced,
    };
    if answer.changed {
        state.notifier.event(crate::notify::Event::ModelRolledBack {
            log_type: answer.model.log_type.clone(),
            version: answer.model.version.clone(),
            previous: answer.previous.as_ref().map(|p| p.version.clone()),
        });
    }
    Ok(answer)
}

pub async fn show(
    State(state): State<AppState>,
    Path(version): Path<String>,
) -> ApiResult<Json<ModelRecord>> {
    check_version(&version)?;
    Ok(Json(
        with_registry(&state, move |r| Ok(r.record(&version)?)).await?,
    ))
}

/// The quoted ETag of some bytes.
fn etag(sha256: &str) -> String {
    format!("\"{sha256}\"")
}

/// Whether the request's `If-None-Match` names `etag`.
fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',').any(|t| {
                // If-None-Match compares weakly: W/"x" names the same bytes as "x".
                let t = t.trim();
                t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag
            })
        })
}

/// A download: the bytes with their type, name, length and ETag (304 when the client has them).
fn download(
    headers: &HeaderMap,
    bytes: Bytes,
    sha256: &str,
    kind: &'static str,
    name: &str,
) -> Response {
    let tag = etag(sha256);
    let mut response = if not_modified(headers, &tag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let length = bytes.len();
        let mut r = Body::from(bytes).into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
        r.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(length));
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
            r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
        }
        r
    };
    if let Ok(v) = HeaderValue::from_str(&tag) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

pub async fn model_file(
    State(state): State<AppState>,
    Path(version): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    check_version(&version)?;
    let stored = with_registry(&state, move |r| Ok(r.get(&version)?)).await?;
    let name = format!("model_{}.json", stored.record.version);
    Ok(download(
        &headers,
        Bytes::from(stored.bytes),
        &stored.record.sha256,
        "application/json",
        &name,
    ))
}

/// A built package, shared by every request for it.
#[derive(Debug)]
pub struct Package {
    bytes: Bytes,
    sha256: String,
}

impl Package {
    /// The ZIP's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// SHA-256 of the ZIP, lowercase hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
}

/// What a package is built from: version, model SHA-256, deployment time.
type PackageKey = (String, String, i64);

/// Packages by (version, model SHA-256, deployment time): the same model and time always give
/// the same bytes, so a package is built once and served many times. A few recent ones are kept.
#[derive(Debug, Default)]
pub struct PackageCache {
    entries: Mutex<VecDeque<(PackageKey, Arc<Package>)>>,
}

const CACHED_PACKAGES: usize = 16;

impl PackageCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(PackageKey, Arc<Package>)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn get(&self, key: &PackageKey) -> Option<Arc<Package>> {
        self.lock()
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, p)| p.clone())
    }

    fn put(&self, key: PackageKey, package: Arc<Package>) {
        let mut entries = self.lock();
        if entries.iter().any(|(k, _)| *k == key) {
            return;
        }
        if entries.len() >= CACHED_PACKAGES {
            entries.pop_front();
        }
        entries.push_back((key, package));
    }
}

/// When a model's package says it was deployed ([`package::deployment_time`]: its last
/// deployment, else its creation).
fn package_time(record: &ModelRecord) -> ApiResult<i64> {
    package::deployment_time(PackagedModel::Registered(record), None).map_err(|e| {
        ApiError::internal(
            "the registry holds an unreadable time",
            &format!("model {}: {e}", record.version),
        )
    })
}

fn build_package(model_json: &[u8], at: i64, version: &str) -> ApiResult<Package> {
    let built = package::build(model_json, at).map_err(|e| {
        ApiError::unprocessable(
            "invalid_model",
            format!("model {version} cannot be packaged: {e}"),
        )
    })?;
    Ok(Package {
        sha256: sha256_hex(&built.bytes),
        bytes: Bytes::from(built.bytes),
    })
}

pub async fn package_file(
    State(state): State<AppState>,
    Path(version): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (record, package) = package_of(&state, version).await?;
    let name = format!("{}.zip", package::folder_name(&record.version));
    Ok(download(
        &headers,
        package.bytes.clone(),
        &package.sha256,
        "application/zip",
        &name,
    ))
}

/// The deployment package of model `version` as `GET /api/models/{version}/package` serves it
/// (built once per model and deployment time, then cached), and the model's record.
pub async fn package_of(
    state: &AppState,
    version: String,
) -> ApiResult<(ModelRecord, Arc<Package>)> {
    check_version(&version)?;
    let record = with_registry(state, {
        let version = version.clone();
        move |r| Ok(r.record(&version)?)
    })
    .await?;
    let at = package_time(&record)?;
    let key = (record.version.clone(), record.sha256.clone(), at);
    let package = match state.packages.get(&key) {
        Some(p) => p,
        None => {
            let built = with_registry(state, move |r| {
                let stored = r.get(&version)?;
                build_package(&stored.bytes, at, &version)
            })
            .await?;
            let built = Arc::new(built);
            state.packages.put(key, built.clone());
            built
        }
    };
    Ok((record, package))
}

/// The `model.json` inside an uploaded package, once the package verifies completely.
fn model_from_package(zip_bytes: &[u8]) -> ApiResult<Vec<u8>> {
    let invalid = |message: String| ApiError::unprocessable("invalid_package", message);
    let verification = package::verify(zip_bytes)
        .map_err(|e| invalid(format!("the package cannot be read: {e}")))?;
    if !verification.ok {
        let problems: Vec<String> = verification
            .problems
            .iter()
            .take(10)
            .map(|p| format!("{}: {}", p.file, p.message))
            .collect();
        return Err(invalid(format!(
            "the package does not verify: {}",
            problems.join("; ")
        )));
    }
    let entries = zip::read_zip(zip_bytes, &PACKAGE_LIMITS)
        .map_err(|e| invalid(format!("the package cannot be read: {e}")))?;
    entries
        .into_iter()
        .find(|e| e.name == MODEL_FILE || e.name.ends_with(&format!("/{MODEL_FILE}")))
        .map(|e| e.data)
        .ok_or_else(|| invalid(format!("the package holds no {MODEL_FILE}")))
}

pub async fn upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let limit = Limit {
        what: "model or package",
        mb: state.config.training.limits.max_upload_mb,
    };
    let staged = upload::stage(&state, "/api/models", limit, &headers, body).await?;
    let at = now_micros();
    let _permit = state.heavy_work().await?;
    let (record, created) = with_registry(&state, move |r| {
        let bytes = std::fs::read(&staged.path)
            .map_err(|e| ApiError::internal("cannot read the staged upload", &e))?;
        drop(staged);
        let model = if bytes.starts_with(b"PK\x03\x04") {
            model_from_package(&bytes)?
        } else {
            bytes
        };
        Ok(r.import(&model, at)?)
    })
    .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut response = (status, Json(&record)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/models/{}", record.version)) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeployRequest {
    /// Present (possibly null): the version the client believes is deployed.
    #[serde(default, deserialize_with = "present")]
    expected_deployed: Option<Option<String>>,
}

/// Tells a field given as `null` (`Some(None)`) from a missing one (`None`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

pub async fn deploy(
    State(state): State<AppState>,
    Path(version): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    check_version(&version)?;
    let request: DeployRequest = if body.iter().all(u8::is_ascii_whitespace) {
        DeployRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request(format!(
                "the body must be {{\"expected_deployed\": \"<version>\" | null}}: {e}"
            ))
        })?
    };
    let answer = deploy_version(&state, version, request.expected_deployed).await?;
    Ok(Json(super::sorted_json(&answer)?).into_response())
}

/// Deploys model `version` (the deploy route and the `deploy_model` tool): its package is built
/// first, so a model that cannot be packaged is never deployed; `expected_deployed`, when
/// given, must name the model deployed now (409 otherwise). Notifies when anything changed.
pub async fn deploy_version(
    state: &AppState,
    version: String,
    expected_deployed: Option<Option<String>>,
) -> ApiResult<Deployment> {
    check_version(&version)?;
    if let Some(Some(expected)) = &expected_deployed {
        check_version(expected)?;
    }
    let at = now_micros();
    let cache = state.packages.clone();
    let change = with_registry(state, move |r| {
        // The package is built before the status changes, so a model that cannot be packaged
        // is never deployed.
        let stored = r.get(&version)?;
        let package = build_package(&stored.bytes, at, &version)?;
        let expected = expected_deployed.as_ref().map(|e| e.as_deref());
        let change = r.deploy_expecting(&version, at, expected)?;
        let deployed_at = package_time(&change.model)?;
        if deployed_at == at {
            cache.put(
                (version.clone(), stored.record.sha256.clone(), at),
                Arc::new(package),
            );
        }
        Ok(change)
    })
    .await?;
    let answer = Deployment {
        changed: change.changed(),
        model: change.model,
        previous: change.displaced,
    };
    if answer.changed {
        state.notifier.event(crate::notify::Event::ModelDeployed {
            log_type: answer.model.log_type.clone(),
            version: answer.model.version.clone(),
            previous: answer.previous.as_ref().map(|p| p.version.clone()),
        });
    }
    Ok(answer)
}

#[derive(Debug, Deserialize)]
pub struct DeleteQuery {
    #[serde(default)]
    force: Option<String>,
}

pub async fn delete(
    State(state): State<AppState>,
    Path(version): Path<String>,
    Query(q): Query<DeleteQuery>,
) -> ApiResult<Response> {
    check_version(&version)?;
    let force = match q.force.as_deref() {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") | Some("") => true,
        Some(other) => {
            return Err(ApiError::invalid_parameter(format!(
                "force must be true or false, not {other:?}"
            )))
        }
    };
    let at = now_micros();
    let gone = with_registry(&state, move |r| Ok(r.delete(&version, force, at)?)).await?;
    Ok(Json(json!({ "deleted": gone })).into_response())
}
