//! Yuanjiang's HTTP server: the JSON API under `/api/v1` and `/healthz`.
//! [`app`] builds the router; the binary only binds it to an address.

#![forbid(unsafe_code)]

pub mod api;
pub mod demo;
mod error;

use std::time::Duration;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::routing::get;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use yuanjiang_domain::Viewer;
use yuanjiang_store::Store;

pub use error::ApiError;

/// Shared state of every request.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
}

/// Who is calling, as established from the request. Until accounts exist
/// every caller is the public, which sees published records only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller(pub Viewer);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(_parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Caller(Viewer::Public))
    }
}

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Builds the application router.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(api::healthz))
        .route("/api/v1/projects", get(api::projects))
        .route("/api/v1/projects/{code}", get(api::project))
        .route("/api/v1/parties", get(api::parties))
        .route("/api/v1/pairings", get(api::pairings))
        .route("/api/v1/stats/funds", get(api::fund_stats))
        .fallback(|| async { ApiError::not_found("页面", "page") })
        .with_state(state)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
}
