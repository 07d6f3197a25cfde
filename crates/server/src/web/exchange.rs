//! The import, export and open-data pages.

use axum::Router;

use crate::AppState;

/// This module's words (key, zh-CN, English), looked up with the shared table.
pub(super) const WORDS: &[(&str, &str, &str)] = &[];

/// This module's page routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
}
