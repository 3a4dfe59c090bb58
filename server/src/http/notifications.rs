//! `/api/notifications/…`: the channels (no secrets), the dead-letter list, a test message.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::error::{ApiError, ApiResult};
use super::metrics::Metrics;
use super::AppState;
use crate::notify::{Observer, TestError};

/// The server's metrics hear every delivery outcome and the dead-letter count.
#[derive(Debug)]
pub struct MetricsObserver(pub std::sync::Arc<Metrics>);

impl Observer for MetricsObserver {
    fn attempt(&self, channel: &str, outcome: &'static str) {
        self.0.notification(channel, outcome);
    }
    fn dead_letters(&self, n: usize) {
        self.0.set_dead_letters(n);
    }
}

/// `GET /api/notifications/channels`.
pub async fn channels(State(state): State<AppState>) -> ApiResult<Response> {
    let config = state.notifier.config();
    Ok(Json(json!({
        "channels": state.notifier.channels(),
        "anomalies": {
            "window_seconds": config.window.as_secs(),
            "max_samples": config.max_samples,
        },
        "retry": {
            "max_attempts": config.retry.max_attempts,
            "initial_backoff_ms": config.retry.initial_backoff.as_millis() as u64,
            "max_backoff_ms": config.retry.max_backoff.as_millis() as u64,
            "max_retry_after_seconds": config.retry.max_retry_after.as_secs(),
            "timeout_seconds": config.retry.timeout.as_secs(),
        },
    }))
    .into_response())
}

#[derive(Debug, Deserialize)]
pub struct DeadLetterQuery {
    limit: Option<String>,
}

/// Most dead letters one answer lists.
const MAX_DEAD_LETTERS: usize = 1000;

/// `GET /api/notifications/dead-letters?limit=N`: newest first (default 100, at most 1000).
pub async fn dead_letters(
    State(state): State<AppState>,
    Query(q): Query<DeadLetterQuery>,
) -> ApiResult<Response> {
    let limit = match q.limit.as_deref() {
        None => 100,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_DEAD_LETTERS).contains(n))
            .ok_or_else(|| {
                ApiError::invalid_parameter(format!(
                    "limit: expected a whole number from 1 to {MAX_DEAD_LETTERS}"
                ))
            })?,
    };
    let notifier = state.notifier.clone();
    let page = super::blocking(move || {
        let Some(list) = notifier.dead_letters() else {
            return Ok(None);
        };
        list.read(limit)
            .map(Some)
            .map_err(|e| ApiError::internal("cannot read the dead-letter list", &e))
    })
    .await?;
    let page = page.unwrap_or(crate::notify::DeadLetterPage {
        total: 0,
        damaged: 0,
        items: Vec::new(),
    });
    Ok(Json(super::sorted_json(&page)?).into_response())
}

/// `POST /api/notifications/test/{channel}`: sends a test message now; 200 when delivered,
/// 502 `delivery_failed` with the cause, 404 `not_found`, 409 `channel_disabled`.
pub async fn test(
    State(state): State<AppState>,
    Path(channel): Path<String>,
) -> ApiResult<Response> {
    match state.notifier.test(&channel).await {
        Ok(outcome) => Ok(Json(json!({
            "channel": channel,
            "delivered": true,
            "attempts": outcome.attempts,
            "id": outcome.id,
        }))
        .into_response()),
        Err(e @ TestError::NoChannel(_)) => Err(ApiError::not_found(e.to_string())),
        Err(e @ TestError::Disabled(_)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "channel_disabled",
            e.to_string(),
        )),
        Err(e @ TestError::Failed { .. }) => Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            "delivery_failed",
            e.to_string(),
        )),
        Err(e @ TestError::Gone) => Err(ApiError::internal("cannot send the test", &e)),
    }
}
