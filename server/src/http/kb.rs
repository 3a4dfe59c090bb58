//! The knowledge base over HTTP: `GET /api/kb/search` (the web app's search box) and
//! `GET /api/anomalies/{id}/explanation`; the MCP tools `search_knowledge` and
//! `explain_anomaly` call the same functions.

use axum::extract::{Path, Query, State};
use axum::Json;
use mcp_train_core::knowledge::{SearchParams, SearchQuery, SearchQueryError, SearchResults};

use super::error::{error_chain, ApiError, ApiResult};
use super::{blocking, AppState};
use crate::kb::{ExplainError, Explanation, KbError};

impl From<KbError> for ApiError {
    fn from(e: KbError) -> Self {
        ApiError::internal("the knowledge base failed", &error_chain(&e))
    }
}

impl From<ExplainError> for ApiError {
    fn from(e: ExplainError) -> Self {
        match e {
            ExplainError::NotFound(_) => ApiError::not_found(e.to_string()),
            ExplainError::Kb(e) => e.into(),
            ExplainError::Store(e) => e.into(),
        }
    }
}

impl From<SearchQueryError> for ApiError {
    fn from(e: SearchQueryError) -> Self {
        ApiError::invalid_parameter(e.to_string())
    }
}

/// Brings the index up to date and answers `query` (every surface's search).
pub async fn search_query(state: &AppState, query: SearchQuery) -> ApiResult<SearchResults> {
    let data_dir = state.data_dir.clone();
    let registry = state.registry.clone();
    let store = state.anomalies.clone();
    blocking(move || {
        Ok(SearchResults {
            results: crate::kb::search(&data_dir, &registry, &store, &query)?,
        })
    })
    .await
}

/// `GET /api/kb/search?q=…&kind=…&log_type=…&limit=…`.
pub async fn search(
    State(state): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> ApiResult<Json<SearchResults>> {
    let query = SearchParams::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    Ok(Json(search_query(&state, query).await?))
}

/// Explains stored anomaly `id` (the explanation route and `explain_anomaly`).
pub async fn explanation_of(state: &AppState, id: i64) -> ApiResult<Explanation> {
    let id = super::anomalies::check_id(id).map_err(|()| {
        ApiError::invalid_parameter(format!("{id} is not an anomaly id (a positive integer)"))
    })?;
    let data_dir = state.data_dir.clone();
    let store = state.anomalies.clone();
    blocking(move || Ok(crate::kb::explain(&data_dir, &store, id)?)).await
}

/// `GET /api/anomalies/{id}/explanation`.
pub async fn explanation(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Explanation>> {
    let id = super::anomalies::parse_id(&id)?;
    Ok(Json(explanation_of(&state, id).await?))
}
