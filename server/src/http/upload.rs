//! Request bodies streamed to a file under `<data dir>/uploads/`, counted against a size limit as
//! they arrive: a body over the limit is refused (413) as soon as it is known to be — from its
//! `Content-Length`, or when the count passes the limit — and never held in memory.
//!
//! Each server process stages into a directory of its own, `uploads/<pid>-<random>/`, holding a
//! lock file it keeps locked while it lives. A staged file is removed when its [`Staged`] is
//! dropped; the directory of a process that was killed is removed by the next server to start —
//! it can take that lock — while the directories of live servers sharing the data directory
//! (whatever their pid namespace) stay locked and untouched.

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
use super::AppState;

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

/// Streams `body` into a new file in this process's staging directory, counting its bytes in
/// the upload metric of `route`.
pub async fn stage(
    state: &AppState,
    route: &'static str,
    limit: Limit,
    headers: &HeaderMap,
    body: Body,
) -> ApiResult<Staged> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit.bytes()) {
        return Err(ApiError::too_large(limit.mb, limit.what));
    }
    let path = state.staging.dir.join(format!("{}.part", random_hex()?));
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
        state.metrics.uploaded(route, chunk.len() as u64);
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

/// `bytes` staged like an upload (blocking: call it on the blocking pool), for work that takes a
/// staged file, e.g. a training job from a registered dataset.
pub(crate) fn stage_bytes(state: &AppState, bytes: &[u8]) -> ApiResult<Staged> {
    let path = state.staging.dir.join(format!("{}.part", random_hex()?));
    let staged = Staged {
        path,
        size: bytes.len() as u64,
    };
    fs::write(&staged.path, bytes).map_err(|e| ApiError::internal("cannot stage the data", &e))?;
    Ok(staged)
}

/// 128 random bits as hex (job ids, staging names).
pub fn random_hex() -> ApiResult<String> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| ApiError::internal("no randomness from the OS", &e))?;
    Ok(mcp_train_core::display::hex(&bytes))
}

/// The lock file inside a process's staging directory.
const LOCK_FILE: &str = ".lock";

/// This process's staging directory, locked for as long as the value lives.
#[derive(Debug)]
pub struct Staging {
    dir: PathBuf,
    _lock: fs::File,
}

impl Staging {
    /// Removes the staging directories of processes that are gone, then makes and locks this
    /// process's own.
    pub fn open(data_dir: &Path) -> std::io::Result<Staging> {
        let root = data_dir.join(UPLOADS_DIR);
        fs::create_dir_all(&root)?;
        remove_abandoned(&root);
        let mut bytes = [0u8; 8];
        getrandom::getrandom(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
        let suffix = mcp_train_core::display::hex(&bytes);
        let dir = root.join(format!("{}-{suffix}", std::process::id()));
        fs::create_dir(&dir)?;
        let lock = fs::File::create(dir.join(LOCK_FILE))?;
        lock.lock()?;
        Ok(Staging { dir, _lock: lock })
    }
}

/// Removes every staging directory under `root` whose lock is free: its process is gone (the OS
/// releases a dead process's locks), so what it staged can never be used.
fn remove_abandoned(root: &Path) {
    let Ok(entries) = fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let lock = fs::OpenOptions::new()
            .write(true)
            .open(path.join(LOCK_FILE));
        let abandoned = match &lock {
            Ok(lock) => lock.try_lock().is_ok(),
            // No lock file: a process killed before it made one — or one starting right now,
            // so only when the directory is not brand new.
            Err(e) => {
                e.kind() == std::io::ErrorKind::NotFound
                    && entry
                        .metadata()
                        .and_then(|m| m.modified())
                        .is_ok_and(|t| t.elapsed().is_ok_and(|age| age.as_secs() > 60))
            }
        };
        if abandoned {
            let name = entry.file_name().to_string_lossy().into_owned();
            match fs::remove_dir_all(&path) {
                Ok(()) => tracing::info!(dir = %name, "removed the uploads of a stopped server"),
                Err(e) => {
                    tracing::warn!(dir = %name, error = %e, "cannot remove the uploads of a stopped server")
                }
            }
        }
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
