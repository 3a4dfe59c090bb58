//! `POST /api/uploads` and `GET /api/datasets`: how a file reaches the MCP tools over HTTP. The
//! body of an upload is staged (size-limited like an export) and named by a handle
//! (`up-` + 32 hex digits) that `register_dataset {upload}` turns into a dataset; a handle is
//! used once, and one left unused expires an hour after it was made (its file is removed).

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use sha2::{Digest, Sha256};

use super::error::{ApiError, ApiResult};
use super::upload::{self, Limit, Staged};
use super::{blocking, AppState};

/// How long a staged upload waits to be registered.
pub const UPLOAD_TTL: Duration = Duration::from_secs(60 * 60);

/// The answer to `POST /api/uploads`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UploadReceipt {
    /// The handle to pass to `register_dataset` as `upload`.
    pub upload: String,
    pub bytes: u64,
    /// SHA-256 of the body (lowercase hex).
    pub sha256: String,
}

/// Uploads staged and not yet registered, by handle.
#[derive(Debug, Default)]
pub struct Uploads {
    staged: Mutex<HashMap<String, (Staged, Instant)>>,
}

impl Uploads {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Staged, Instant)>> {
        self.staged.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets (and so removes the files of) uploads older than [`UPLOAD_TTL`].
    fn expire(&self) {
        self.lock().retain(|_, (_, at)| at.elapsed() < UPLOAD_TTL);
    }

    fn insert(&self, id: String, staged: Staged) {
        self.expire();
        self.lock().insert(id, (staged, Instant::now()));
    }

    /// The upload `id` names, taken: a handle is used once.
    pub(crate) fn take(&self, id: &str) -> ApiResult<Staged> {
        self.expire();
        self.lock().remove(id).map(|(s, _)| s).ok_or_else(|| {
            let shown: String = id.chars().take(64).collect();
            ApiError::not_found(format!(
                "no upload {shown:?}: a handle from POST /api/uploads is used once and expires after an hour (upload the file again)"
            ))
        })
    }
}

/// `POST /api/uploads`: the body staged; 201 with its handle, size and SHA-256.
pub async fn upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let limit = Limit {
        what: "upload",
        mb: state.config.training.limits.max_export_mb,
    };
    let staged = upload::stage(&state, "/api/uploads", limit, &headers, body).await?;
    let path = staged.path.clone();
    let sha256 = blocking(move || {
        let internal = |e: std::io::Error| ApiError::internal("cannot read the upload", &e);
        let mut file = std::fs::File::open(&path).map_err(internal)?;
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; 1 << 16];
        loop {
            let n = file.read(&mut buffer).map_err(internal)?;
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
        }
        Ok(mcp_train_core::display::hex(&hasher.finalize()))
    })
    .await?;
    let receipt = UploadReceipt {
        upload: format!("up-{}", upload::random_hex()?),
        bytes: staged.size,
        sha256,
    };
    state.uploads.insert(receipt.upload.clone(), staged);
    // The handle expires even if nothing else is uploaded or registered meanwhile.
    let uploads = Arc::clone(&state.uploads);
    tokio::spawn(async move {
        tokio::time::sleep(UPLOAD_TTL).await;
        uploads.expire();
    });
    tracing::info!(upload = %receipt.upload, bytes = receipt.bytes, "upload staged");
    Ok((StatusCode::CREATED, Json(receipt)).into_response())
}

/// `GET /api/datasets`: the registered datasets, newest first.
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    let data_dir = state.data_dir.clone();
    let datasets = blocking(move || {
        crate::datasets::Datasets::open(&data_dir)
            .list()
            .map_err(|e| ApiError::internal("cannot list the datasets", &e))
    })
    .await?;
    Ok(Json(serde_json::json!({ "datasets": datasets })))
}
