//! `GET /api/v1/assignments`: cadres and professionals (援疆干部人才) within
//! the caller's scope. ID numbers and phones are in clear for the sending
//! front command and the region only, masked for everyone else; the public
//! gets 404. Answers are never cached, since they may hold personal data.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::HeaderValue;
use axum::http::header::CACHE_CONTROL;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use yuanjiang_domain::{DomainError, Viewer};
use yuanjiang_store::AssignmentFilter;

use super::query;
use crate::{ApiError, AppState, Caller};

fn batch(v: &str) -> Result<u32, ApiError> {
    v.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=1000).contains(n))
        .ok_or_else(|| {
            ApiError::bad_parameter(
                "batch",
                DomainError::new(
                    "invalid_batch_number",
                    format!("“{v}”应为1至1000的批次编号"),
                    format!("\"{v}\" should be a batch number from 1 to 1000"),
                ),
            )
        })
}

/// `GET /api/v1/assignments?supporter=&recipient=&batch=&limit=&cursor=`.
#[utoipa::path(get, path = "/api/v1/assignments", tag = "personnel", params(("supporter" = Option<String>, Query, description = "Supporter code"), ("recipient" = Option<String>, Query, description = "Recipient code"), ("batch" = Option<u32>, Query, description = "Batch number (批次)"), query::PagingParams), responses((status = 200, description = "`{items, next_cursor}`, personal data masked unless the role needs it"), (status = 400, description = "A bad field (code names it)", body = super::openapi::ErrorBody), (status = 404, description = "Absent, or out of the caller's scope", body = super::openapi::ErrorBody)))]
pub async fn assignments(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    if caller.0 == Viewer::Public {
        return Err(ApiError::not_found("页面", "page"));
    }
    query::only(
        &params,
        &["supporter", "recipient", "batch", "limit", "cursor"],
    )?;
    // The registry's parser checks the supporter and recipient codes.
    let codes = query::filter(&params)?;
    let filter = AssignmentFilter {
        supporter: codes.supporter,
        recipient: codes.recipient,
        batch: params.get("batch").map(|v| batch(v)).transpose()?,
    };
    let (limit, cursor) = query::paging(&params)?;
    let page = state
        .store
        .assignments(&filter, &caller.0, cursor, limit)
        .await?;
    Ok((
        [(CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(json!({"items": page.items, "next_cursor": page.next_cursor})),
    )
        .into_response())
}
