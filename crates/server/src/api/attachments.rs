//! Attachments through the API: upload, list and download, within the record's scope.

use axum::Router;

use crate::AppState;

/// The attachment routes under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
}
