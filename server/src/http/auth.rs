//! Bearer-token auth. With a token configured, every write (anything but GET, HEAD and OPTIONS)
//! to the API needs `Authorization: Bearer <token>`; with `--private`, reads of the API and the
//! metrics need it too. `/api/health` and the web app's files stay open, so a person can load
//! the app and enter the token.

use axum::extract::{Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::ApiError;
use super::AppState;

/// The configured token, kept as its SHA-256 so comparisons take the same time whatever the
/// length or content of what a client sends.
#[derive(Debug, Clone)]
pub struct Auth {
    token_sha256: Option<[u8; 32]>,
    private: bool,
}

impl Auth {
    pub fn new(token: Option<&str>, private: bool) -> Auth {
        Auth {
            // Trimmed like the presented token: a token read from a file keeps no newline.
            token_sha256: token.map(|t| Sha256::digest(t.trim().as_bytes()).into()),
            private,
        }
    }

    pub fn writes_protected(&self) -> bool {
        self.token_sha256.is_some()
    }

    pub fn reads_protected(&self) -> bool {
        self.token_sha256.is_some() && self.private
    }

    fn accepts(&self, presented: &[u8]) -> bool {
        match &self.token_sha256 {
            Some(expected) => {
                let presented: [u8; 32] = Sha256::digest(presented).into();
                bool::from(presented.ct_eq(expected))
            }
            None => true,
        }
    }

    fn needs_token(&self, method: &Method, path: &str) -> bool {
        if self.token_sha256.is_none() {
            return false;
        }
        // MCP reads and writes through the same requests: the token is always needed.
        if path == "/mcp" || path.starts_with("/mcp/") {
            return true;
        }
        let api = path.starts_with("/api/") || path == "/metrics";
        let read = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !read {
            return api;
        }
        self.private && api && path != "/api/health"
    }
}

pub async fn require_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let auth = &state.auth;
    if !auth.needs_token(request.method(), request.uri().path()) {
        return next.run(request).await;
    }
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            // The scheme is case-insensitive (RFC 9110 §11.1).
            let (scheme, token) = v.trim_start().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then_some(token.trim())
        });
    match presented {
        Some(token) if auth.accepts(token.as_bytes()) => next.run(request).await,
        Some(_) => ApiError::unauthorized("the bearer token is not valid").into_response(),
        None => {
            ApiError::unauthorized("this server needs a token: send Authorization: Bearer <token>")
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_need_the_token_and_reads_only_when_private() {
        let open = Auth::new(Some("s3cret"), false);
        assert!(open.needs_token(&Method::POST, "/api/models"));
        assert!(open.needs_token(&Method::DELETE, "/api/models/20240101_000000"));
        assert!(!open.needs_token(&Method::GET, "/api/models"));
        assert!(!open.needs_token(&Method::GET, "/metrics"));
        let private = Auth::new(Some("s3cret"), true);
        assert!(private.needs_token(&Method::GET, "/api/models"));
        assert!(private.needs_token(&Method::GET, "/metrics"));
        assert!(!private.needs_token(&Method::GET, "/api/health"));
        assert!(!private.needs_token(&Method::GET, "/index.html"));
        assert!(open.needs_token(&Method::GET, "/mcp"));
        assert!(open.needs_token(&Method::POST, "/mcp"));
        assert!(!Auth::new(None, true).needs_token(&Method::POST, "/api/models"));
    }

    #[test]
    fn only_the_exact_token_is_accepted() {
        let auth = Auth::new(Some("s3cret"), false);
        assert!(auth.accepts(b"s3cret"));
        assert!(!auth.accepts(b"s3cre"));
        assert!(!auth.accepts(b"s3cret "));
        assert!(!auth.accepts(b""));
    }
}
