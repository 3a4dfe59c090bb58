//! Request bodies streamed to a file under `<data dir>/uploads/`, counted against a size limit as
//! they arrive: a body over the limit is refused (413) as soon as it is known to be — from its
//! `Content-Length`, or when the count passes the limit — and never held in memory.
//!
//! A staged file is removed when its [`Staged`] is dropped. Files a killed process left behind are
//! named after that process (`<pid>-<random>.part`) and removed when the next server starts.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use super::error::{ApiError, ApiResult};

/// The staging directory, inside the data directory.
pub const UPLOADS_DIR: &str = "uploads";

/// A received body, on disk.
#[derive(Debug)]
pub struct Staged {
    pub path: PathBuf,
    pub size: u64,
}

impl Drop for Staged {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// What is being uploaded, for messages and limits.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub what: &'static str,
    pub mb: u64,
}

impl Limit {
    fn bytes(self) -> u64 {
        self.mb.saturating_mul(1024 * 1024)
    }
}

/// Streams `body` into a new file under `data_dir/uploads`. `counted` is told every chunk's size
/// (the upload-bytes metric).
pub async fn stage(
    data_dir: &Path,
    headers: &HeaderMap,
    body: Body,
    limit: Limit,
    counted: impl Fn(u64),
) -> ApiResult<Staged> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit.bytes()) {
        return Err(ApiError::too_large(limit.mb, limit.what));
    }
    let dir = data_dir.join(UPLOADS_DIR);
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| ApiError::internal("cannot create the uploads directory", &e))?;
    let path = dir.join(format!("{}-{}.part", std::process::id(), random_hex()?));
    let mut file = tokio::fs::File::create(&path)
        .await
        .map_err(|e| ApiError::internal("cannot stage the upload", &e))?;
    // From here on the file goes when `staged` is dropped, whatever happens.
    let mut staged = Staged { path, size: 0 };
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            tracing::info!(error = %e, "upload interrupted");
            ApiError::bad_request(format!("the {} upload was interrupted", limit.what))
        })?;
        counted(chunk.len() as u64);
        staged.size += chunk.len() as u64;
        if staged.size > limit.bytes() {
            return Err(ApiError::too_large(limit.mb, limit.what));
        }
        file.write_all(&chunk)
            .await
            .map_err(|e| ApiError::internal("cannot stage the upload", &e))?;
    }
    file.flush()
        .await
        .map_err(|e| ApiError::internal("cannot stage the upload", &e))?;
    if staged.size == 0 {
        return Err(ApiError::bad_request(format!(
            "the request body is empty: send the {} as the body",
            limit.what
        )));
    }
    Ok(staged)
}

/// 128 random bits as hex (job ids, staging names).
pub fn random_hex() -> ApiResult<String> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| ApiError::internal("no randomness from the OS", &e))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Removes staged files whose process is gone (killed mid-upload). Files of live processes —
/// another server on the same data directory — are left alone.
pub fn remove_abandoned(data_dir: &Path) {
    let Ok(entries) = fs::read_dir(data_dir.join(UPLOADS_DIR)) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_suffix(".part")
            .and_then(|n| n.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() || !process_alive(pid) {
            match fs::remove_file(entry.path()) {
                Ok(()) => tracing::info!(file = %name, "removed an abandoned upload"),
                Err(e) => {
                    tracing::warn!(file = %name, error = %e, "cannot remove an abandoned upload")
                }
            }
        }
    }
}

fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        // Without /proc, keep the file: a stale file costs disk space, a removed live one an upload.
        true
    }
}

/// Answers that leave part of a request body unread (a 401 before an upload, a 400 for a bad
/// parameter, a 413 from `Content-Length`) say `Connection: close`: the connection cannot carry
/// another request until the rest of the body is drained, so a client that reuses connections
/// must not send its next request on this one.
pub async fn close_if_unread(request: Request, next: Next) -> Response {
    let has_body = request.headers().contains_key(header::TRANSFER_ENCODING)
        || request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0");
    if !has_body {
        return next.run(request).await;
    }
    let finished = Arc::new(AtomicBool::new(false));
    let (parts, body) = request.into_parts();
    let flag = finished.clone();
    let tracked = futures_util::stream::unfold(
        (body.into_data_stream(), flag),
        |(mut data, flag)| async move {
            match data.next().await {
                Some(item) => Some((item, (data, flag))),
                None => {
                    flag.store(true, Ordering::SeqCst);
                    None
                }
            }
        },
    );
    let request = Request::from_parts(parts, Body::from_stream(tracked));
    let mut response = next.run(request).await;
    if !finished.load(Ordering::SeqCst) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
