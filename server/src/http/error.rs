//! API errors: a status, a stable code and a message for people, sent as
//! `{"error": {"code", "message"}}` ([`ErrorBody`]). Internal failures are logged in full and answered with a
//! generic message, so no path, OS error or stack detail reaches a client.

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use mcp_train_core::api::ErrorBody;
use mcp_train_core::registry::RegistryError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_parameter", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn too_large(limit_mb: u64, what: &str) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the {what} is larger than the {limit_mb} MiB limit (limits in training_config.yaml)"),
        )
    }

    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// An unexpected failure: logged with its cause, answered without it.
    pub fn internal(context: &str, cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "{context}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("{context}: internal error (see the server log)"),
        )
    }
}

/// Registry failures: unknown versions are 404, refused changes (and an ambiguous `deployed`,
/// or a rollback with nothing to go back to) 409, bad models 422, and a
/// damaged registry or failing disk 500 (details logged).
impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        match &e {
            RegistryError::NotFound { .. } | RegistryError::Empty | RegistryError::NoneDeployed => {
                ApiError::not_found(e.to_string())
            }
            RegistryError::Deployed { .. } => ApiError::conflict(format!(
                "{e} (deploy another model first, or delete with ?force=true)"
            )),
            RegistryError::VersionTaken { .. }
            | RegistryError::Conflict { .. }
            | RegistryError::AmbiguousDeployed { .. }
            | RegistryError::NothingToRollBack { .. } => ApiError::conflict(e.to_string()),
            RegistryError::InvalidModel { .. } => {
                ApiError::unprocessable("invalid_model", e.to_string())
            }
            RegistryError::CorruptIndex { .. }
            | RegistryError::CorruptModel { .. }
            | RegistryError::Storage(_) => {
                let cause = error_chain(&e);
                ApiError::internal("the registry failed", &cause)
            }
        }
    }
}

/// An error with its causes, outermost first.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(ErrorBody::new(self.code, self.message));
        let mut response = (self.status, body).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Gives every error under `/api` the JSON envelope, also those axum answers by itself (a path
/// segment or query string that does not parse, a method the route does not have, a JSON body
/// over its limit), which come as plain text or empty.
pub async fn json_errors(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api");
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    if !api || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let reason = status.canonical_reason().unwrap_or("error").to_lowercase();
    let (code, message) = match status {
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            format!("{method} is not allowed here (see /api/openapi.json)"),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", non_empty(text, reason)),
        s if s.is_server_error() => {
            tracing::error!(status = s.as_u16(), body = %text, "an error without details");
            ("internal", "internal error (see the server log)".to_owned())
        }
        _ => ("bad_request", non_empty(text, reason)),
    };
    let mut answer = ApiError::new(status, code, message).into_response();
    for name in [header::ALLOW, header::CONNECTION] {
        if let Some(v) = parts.headers.get(&name) {
            answer.headers_mut().insert(name, v.clone());
        }
    }
    answer
}

fn non_empty(text: String, otherwise: String) -> String {
    if text.is_empty() {
        otherwise
    } else {
        text.chars().take(300).collect()
    }
}
