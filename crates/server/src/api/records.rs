//! The remaining records under `/api/v1`: plans with their 80/80 check,
//! rotation batches, saved evaluation runs and the import history. Each is
//! scoped like the pages that show it.

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use serde_json::{Value, json};
use yuanjiang_domain::{Action, Owner, Viewer};

use super::query;
use crate::{ApiError, AppState, Caller};

/// The routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/plans", get(plans))
        .route("/api/v1/batches", get(batches))
        .route("/api/v1/evaluations", get(evaluations))
        .route("/api/v1/evaluations/{id}", get(evaluation))
        .route("/api/v1/imports", get(imports))
}

fn hidden() -> ApiError {
    ApiError::not_found("页面", "page")
}

/// `GET /api/v1/plans`: plan versions the caller may see, each with its 80/80 check.
#[utoipa::path(
    get,
    path = "/api/v1/plans",
    tag = "reference",
    params(
        ("supporter" = Option<String>, Query, description = "Supporter code (with supporters under it)"),
        ("recipient" = Option<String>, Query, description = "Recipient code (with everything under it)"),
        ("year" = Option<i32>, Query, description = "Plans covering this year"),
    ),
    responses(
        (status = 200, description = "`{items}`: plans with `grassroots_share_ok` and `livelihood_share_ok` (the 80/80 rule); signed-in callers, within their scope"),
        (status = 400, description = "A bad parameter", body = super::openapi::ErrorBody),
        (status = 404, description = "The public", body = super::openapi::ErrorBody),
    )
)]
pub async fn plans(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    if caller.0 == Viewer::Public {
        return Err(hidden());
    }
    query::only(&params, &["supporter", "recipient", "year"])?;
    let filter = query::filter(&params)?;
    let plans = state
        .store
        .plans(
            filter.supporter.as_deref(),
            filter.recipient.as_deref(),
            filter.year,
        )
        .await?;
    let parents: HashMap<String, Option<String>> = state
        .store
        .supporters()
        .await?
        .into_iter()
        .map(|s| (s.code, s.parent_code))
        .collect();
    let items: Vec<Value> = plans
        .into_iter()
        .filter(|p| {
            let owner = Owner {
                supporter_code: &p.supporter_code,
                recipient_code: &p.recipient_code,
                published: false,
            };
            let parent = parents.get(&p.supporter_code).cloned().flatten();
            caller.0.may(Action::Read, owner, parent.as_deref())
        })
        .map(|p| {
            let check = p.eighty_eighty();
            let mut v = json!(p);
            v["grassroots_share_ok"] = json!(!check.grassroots_low);
            v["livelihood_share_ok"] = json!(!check.livelihood_low);
            v
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

/// `GET /api/v1/batches`: rotation batches (批次) with their terms.
#[utoipa::path(
    get,
    path = "/api/v1/batches",
    tag = "personnel",
    params(("supporter" = Option<String>, Query, description = "Supporter code (with supporters under it)")),
    responses(
        (status = 200, description = "`{items}`: supporter, number, start and end dates"),
        (status = 400, description = "A bad parameter", body = super::openapi::ErrorBody),
    )
)]
pub async fn batches(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    query::only(&params, &["supporter"])?;
    let filter = query::filter(&params)?;
    let items = state.store.batches(filter.supporter.as_deref()).await?;
    Ok(Json(json!({ "items": items })))
}

/// `GET /api/v1/evaluations`: saved evaluation runs, newest first, without their snapshots.
#[utoipa::path(
    get,
    path = "/api/v1/evaluations",
    tag = "oversight",
    responses(
        (status = 200, description = "`{items}`: id, when, who, method and parameters of each saved run; the region, auditors and administrators"),
        (status = 404, description = "Anyone else", body = super::openapi::ErrorBody),
    )
)]
pub async fn evaluations(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    if !caller.0.sees_whole_programme() {
        return Err(hidden());
    }
    query::only(&params, &[])?;
    let runs = state.store.evaluation_runs(200).await?;
    let items: Vec<Value> = runs
        .into_iter()
        .map(|r| {
            json!({
                "id": r.id, "created_at": r.created_at, "actor": r.actor, "method": r.method,
                "params": serde_json::from_str::<Value>(&r.params_json).unwrap_or(Value::Null),
            })
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

/// `GET /api/v1/evaluations/{id}`: one saved run with its frozen inputs and result.
#[utoipa::path(
    get,
    path = "/api/v1/evaluations/{id}",
    tag = "oversight",
    params(("id" = i64, Path, description = "Run id")),
    responses(
        (status = 200, description = "The run: method, parameters, the frozen units CSV (`snapshot`) and the result, so anyone can reproduce it"),
        (status = 404, description = "Absent, or not an analyst", body = super::openapi::ErrorBody),
    )
)]
pub async fn evaluation(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let absent = || ApiError::not_found("评价记录", "evaluation run");
    if !caller.0.sees_whole_programme() {
        return Err(absent());
    }
    let id: i64 = id.parse().map_err(|_| absent())?;
    let run = state.store.evaluation_run(id).await?.ok_or_else(absent)?;
    Ok(Json(json!({
        "id": run.id,
        "created_at": run.created_at,
        "actor": run.actor,
        "method": run.method,
        "params": serde_json::from_str::<Value>(&run.params_json).unwrap_or(Value::Null),
        "snapshot": run.snapshot,
        "result": serde_json::from_str::<Value>(&run.result_json).unwrap_or(Value::Null),
    })))
}

/// `GET /api/v1/imports`: the import history (who, when, which file by SM3, the counts).
#[utoipa::path(
    get,
    path = "/api/v1/imports",
    tag = "oversight",
    params(("limit" = Option<u32>, Query, description = "Newest N, 1–1000 (default 100)")),
    responses(
        (status = 200, description = "`{items}`: everyone's imports for the region, auditors and administrators; one's own for the others"),
        (status = 400, description = "A bad parameter", body = super::openapi::ErrorBody),
        (status = 404, description = "The public", body = super::openapi::ErrorBody),
    )
)]
pub async fn imports(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let Viewer::User(p) = &caller.0 else {
        return Err(hidden());
    };
    query::only(&params, &["limit"])?;
    let (limit, _) = query::paging(&params)?;
    let all = caller.0.sees_whole_programme();
    // Others see their own lines only; read more to fill their page.
    let read = if all { limit } else { 1000 };
    let rows = state.store.import_history(read).await?;
    let items: Vec<_> = rows
        .into_iter()
        .filter(|r| all || r.actor == p.name)
        .take(limit as usize)
        .collect();
    Ok(Json(json!({ "items": items })))
}
