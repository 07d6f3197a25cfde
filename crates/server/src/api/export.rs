//! Export through the API: any list with the API's filters as CSV, xlsx or JSON.

use axum::Router;

use crate::AppState;

/// The export routes under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
}
