//! `/api/exports`: anomaly export jobs over HTTP. The jobs themselves (history, writer, queue,
//! recovery, expiry) are [`crate::exports`]; this is the JSON, the event stream and the download.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::stream::{self, Stream};
use mcp_train_core::anomalies::{
    AnomalyFilter, ExportFormat, ExportJob, ExportRequest, ExportStatus, MAX_BY_BYTES,
};
use tokio::io::AsyncReadExt;

use super::error::{ApiError, ApiResult};
use super::{blocking, AppState};
use crate::exports::{chain, ExportError};

/// The routes, merged into the app's router.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/exports", get(list).post(create))
        .route("/api/exports/{id}", get(show))
        .route("/api/exports/{id}/events", get(events))
        .route("/api/exports/{id}/cancel", post(cancel))
        .route("/api/exports/{id}/download", get(download))
}

fn api_error(e: ExportError) -> ApiError {
    match e {
        ExportError::Busy(_) => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", e.to_string())
        }
        e => ApiError::internal("the export failed", &chain(&e)),
    }
}

fn not_found(id: &str) -> ApiError {
    let shown: String = id.chars().take(64).collect();
    ApiError::not_found(format!("no export {shown:?}"))
}

/// Reads the request body: an [`ExportRequest`], the name of who asked checked.
fn request(body: &[u8]) -> ApiResult<ExportRequest> {
    let request: ExportRequest = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body is not an export request ({{\"format\": \"ndjson|csv|ecs|ocsf\", \"filter\": {{…}}, \"by\": \"…\"}}): {e}"
        ))
    })?;
    match request.by.as_deref() {
        Some(by) if by.trim().is_empty() => Err(ApiError::bad_request("by: empty")),
        Some(by) if by.len() > MAX_BY_BYTES => Err(ApiError::bad_request(format!(
            "by: longer than {MAX_BY_BYTES} bytes"
        ))),
        _ => Ok(request),
    }
}

/// Queues an export job (`POST /api/exports`, the `start_anomaly_export` tool).
pub async fn start(
    state: &AppState,
    format: ExportFormat,
    filter: AnomalyFilter,
    by: String,
) -> ApiResult<ExportJob> {
    let exports = state.exports.clone();
    let job = blocking(move || exports.submit(format, filter, by).map_err(api_error)).await?;
    tracing::info!(export = %job.id, format = job.format.as_str(), by = %job.by, "export accepted");
    Ok(job)
}

pub async fn create(State(state): State<AppState>, body: Bytes) -> ApiResult<Response> {
    let request = request(&body)?;
    let by = request.by.unwrap_or_else(|| "api".to_owned());
    let job = start(&state, request.format, request.filter, by).await?;
    let mut response = (StatusCode::ACCEPTED, Json(&job)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/exports/{}", job.id)) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

pub async fn list(State(state): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    let exports = state.exports.clone();
    let items = blocking(move || exports.list().map_err(api_error)).await?;
    Ok(Json(serde_json::json!({ "items": items })))
}

/// The export job `id` (404 `not_found` when there is none).
pub async fn find(state: &AppState, id: &str) -> ApiResult<ExportJob> {
    let exports = state.exports.clone();
    let key = id.to_owned();
    blocking(move || exports.get(&key).map_err(api_error))
        .await?
        .ok_or_else(|| not_found(id))
}

pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<ExportJob>> {
    Ok(Json(find(&state, &id).await?))
}

/// Cancels a queued or running job and answers it once it has stopped (202 if it has not
/// within 30 s); 409 `not_running` for a job that has ended.
pub async fn cancel(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let job = find(&state, &id).await?;
    if job.status.is_final() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_running",
            format!(
                "export {id} has ended ({}): nothing to cancel",
                job.status.as_str()
            ),
        ));
    }
    let exports = state.exports.clone();
    let key = id.clone();
    let Some(active) = blocking(move || exports.cancel(&key).map_err(api_error)).await? else {
        return Err(not_found(&id));
    };
    let mut changes = active.state.subscribe();
    let stopped = tokio::time::timeout(
        Duration::from_secs(30),
        changes.wait_for(|j| j.status.is_final()),
    )
    .await;
    let job = active.snapshot();
    if stopped.is_err() {
        return Ok((StatusCode::ACCEPTED, Json(job)).into_response());
    }
    Ok(Json(job).into_response())
}

/// Server-sent events: the job as `progress` events, then `done` once it has ended (a job that
/// has ended already gives one `done`).
pub async fn events(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let job = find(&state, &id).await?;
    let receiver = state
        .exports
        .active(&id)
        .map(|a| a.state.subscribe())
        .unwrap_or_else(|| tokio::sync::watch::channel(job).1);
    Ok(super::state_events(&state, receiver, |j: &ExportJob| {
        j.status.is_final()
    }))
}

/// The file of a completed export, streamed: `Content-Disposition`, `Content-Length`, the
/// SHA-256 as the `ETag` and as `Repr-Digest` (RFC 9530). 409 `not_ready` before completion,
/// 410 `expired` once the file is gone.
pub async fn download(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let job = find(&state, &id).await?;
    let gone = || {
        ApiError::new(
            StatusCode::GONE,
            "expired",
            format!("export {id} has expired: its file was deleted"),
        )
    };
    match job.status {
        ExportStatus::Completed => {}
        ExportStatus::Expired => return Err(gone()),
        other => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "not_ready",
                format!(
                    "export {id} is {}: only a completed export can be downloaded",
                    other.as_str()
                ),
            ))
        }
    }
    let path = state.exports.path(&job);
    let file = match tokio::fs::File::open(&path).await {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(gone()),
        Err(e) => return Err(ApiError::internal("cannot open the export", &e)),
    };
    let length = file
        .metadata()
        .await
        .map_err(|e| ApiError::internal("cannot read the export", &e))?
        .len();
    let sha256 = job.sha256.clone().unwrap_or_default();
    let tag = format!("\"sha256-{sha256}\"");
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag))
    {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(v) = HeaderValue::from_str(&tag) {
            response.headers_mut().insert(header::ETAG, v);
        }
        return Ok(response);
    }
    let chunks = stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buffer = vec![0u8; 64 * 1024];
        match file.read(&mut buffer).await {
            Ok(0) => None,
            Ok(n) => {
                buffer.truncate(n);
                Some((Ok::<_, std::io::Error>(Bytes::from(buffer)), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    let mut response = Body::from_stream(chunks).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(job.format.media_type()),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    let name = job
        .file_name
        .clone()
        .unwrap_or_else(|| format!("{id}.{}", job.format.extension()));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&tag) {
        h.insert(header::ETAG, v);
    }
    if let Some(digest) = hex_to_base64(&sha256) {
        if let Ok(v) = HeaderValue::from_str(&format!("sha-256=:{digest}:")) {
            h.insert("repr-digest", v);
        }
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// Standard base64 of the bytes a hex string spells (`None` if it is not hex).
fn hex_to_base64(hex: &str) -> Option<String> {
    if !hex.len().is_multiple_of(2) || hex.is_empty() {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect();
    let bytes = bytes?;
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::hex_to_base64;

    #[test]
    fn base64_of_hex() {
        assert_eq!(hex_to_base64("666f6f").as_deref(), Some("Zm9v"));
        assert_eq!(hex_to_base64("666f").as_deref(), Some("Zm8="));
        assert_eq!(hex_to_base64("66").as_deref(), Some("Zg=="));
        assert_eq!(hex_to_base64("6g"), None);
    }
}
