//! `GET /api/v1/audit` and `GET /api/v1/audit/verify`: the audit trail, for
//! auditors and administrators only. Everyone else gets the same 404 as a
//! route that does not exist, so the trail's existence does not leak.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use serde_json::{Value, json};
use yuanjiang_domain::DomainError;
use yuanjiang_store::{AuditFilter, AuditRecord, AuditVerdict};

use super::query;
use crate::{ApiError, AppState, Caller};

/// Longest accepted value of a text filter.
const MAX_FILTER_CHARS: usize = 200;

/// The answer for callers who may not read the trail: that of an unknown route.
fn hidden() -> ApiError {
    ApiError::not_found("页面", "page")
}

fn text(params: &HashMap<String, String>, name: &str) -> Result<Option<String>, ApiError> {
    match params.get(name).map(|v| v.trim()) {
        None | Some("") => Ok(None),
        Some(v) if v.chars().count() <= MAX_FILTER_CHARS => Ok(Some(v.to_owned())),
        Some(_) => Err(ApiError::bad_parameter(
            name,
            DomainError::new(
                "parameter_too_long",
                format!("不能超过{MAX_FILTER_CHARS}个字符"),
                format!("must be at most {MAX_FILTER_CHARS} characters"),
            ),
        )),
    }
}

/// One entry as the API shows it: `before`/`after` as JSON, and the stored
/// text of both too, since the hash covers exactly that text.
fn entry_json(r: AuditRecord) -> Value {
    let parsed = |text: &Option<String>| {
        text.as_deref()
            .map(|t| serde_json::from_str::<Value>(t).unwrap_or_else(|_| Value::String(t.into())))
    };
    json!({
        "id": r.id,
        "at": r.at,
        "actor": r.actor,
        "action": r.action,
        "entity": r.entity,
        "key": r.entity_key,
        "before": parsed(&r.before_json),
        "after": parsed(&r.after_json),
        "before_json": r.before_json,
        "after_json": r.after_json,
        "prev_hash": r.prev_hash,
        "hash": r.hash,
    })
}

/// `GET /api/v1/audit?entity=&key=&actor=&limit=&cursor=`: entries in chain
/// order, filtered and cursor-paged.
#[utoipa::path(get, path = "/api/v1/audit", tag = "oversight", params(("entity" = Option<String>, Query, description = "Entity, e.g. project"), ("key" = Option<String>, Query, description = "The entity's key"), ("actor" = Option<String>, Query, description = "Who"), query::PagingParams), responses((status = 200, description = "`{items, next_cursor}`, newest first; auditors and administrators only"), (status = 400, description = "A bad field (code names it)", body = super::openapi::ErrorBody), (status = 404, description = "Absent, or out of the caller's scope", body = super::openapi::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    if !caller.0.may_read_audit() {
        return Err(hidden());
    }
    query::only(&params, &["entity", "key", "actor", "limit", "cursor"])?;
    let filter = AuditFilter {
        entity: text(&params, "entity")?,
        entity_key: text(&params, "key")?,
        actor: text(&params, "actor")?,
    };
    let (limit, cursor) = query::paging(&params)?;
    let page = state.store.audit_entries(&filter, cursor, limit).await?;
    Ok(Json(json!({
        "items": page.items.into_iter().map(entry_json).collect::<Vec<_>>(),
        "next_cursor": page.next_cursor,
    })))
}

/// `GET /api/v1/audit/verify`: checks the whole chain, as `yuanjiang audit
/// verify` does, and answers the first bad entry or the count and head hash.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "oversight", responses((status = 200, description = "`intact` with the count and head hash, or `broken` with the first bad entry"), (status = 404, description = "Absent, or out of the caller's scope", body = super::openapi::ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    if !caller.0.may_read_audit() {
        return Err(hidden());
    }
    query::only(&params, &[])?;
    Ok(Json(match state.store.verify_audit().await? {
        AuditVerdict::Intact { entries, head } => {
            json!({"status": "intact", "entries": entries, "head": head})
        }
        AuditVerdict::Broken(b) => json!({
            "status": "broken",
            "id": b.id,
            "code": b.code(),
            "verified": b.verified,
            "message": {"zh-CN": b.zh(), "en": b.en()},
        }),
    }))
}
