//! The JSON API under `/api/v1`. Handlers parse and check the request,
//! ask the store, and shape the answer; amounts are integer fen.

pub mod attachments;
pub mod audit;
pub mod export;
pub mod openapi;
pub mod personnel;
/// Query-string parsing, public for the fuzz targets (`fuzz/`).
pub mod query;
pub mod records;
pub mod writes;

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Serialize;
use serde_json::{Map, Value, json};
use yuanjiang_domain::{Action, FundChain, FundRates, Owner, Viewer};
use yuanjiang_store::{ProjectFilter, Scope, StatDimension};

use crate::cache::{Asker, Cached, CachedOwner};
use crate::{ApiError, AppState, Caller};

pub use query::FILTER_PARAMS;

/// `GET /healthz`: 200 when the database answers, 503 otherwise. `search`
/// says whether this node's search index is built yet (`building` for a
/// while after start; the node serves everything else meanwhile).
#[utoipa::path(get, path = "/healthz", tag = "system", security(()), responses((status = 200, description = "The database answers: `{status: ok, search: ready|building}`"), (status = 503, description = "The database does not answer")))]
pub async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let search = if state.search.is_ready() {
        "ready"
    } else {
        "building"
    };
    match state.store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({"status": "ok", "search": search})),
        ),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable"})),
            )
        }
    }
}

/// Restricts a filter to what the caller may see.
pub(crate) fn scoped(mut filter: ProjectFilter, caller: &Caller) -> ProjectFilter {
    filter.published_only = caller.0 == Viewer::Public;
    filter.scope = Scope::of(&caller.0);
    filter
}

/// `GET /api/v1/projects`: the registry, filtered and cursor-paged.
#[utoipa::path(get, path = "/api/v1/projects", tag = "registry", params(query::FilterParams, query::PagingParams), responses((status = 200, description = "`{items, next_cursor}`: the projects the caller may see"), (status = 400, description = "A bad field (code names it)", body = openapi::ErrorBody)))]
pub async fn projects(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<HashMap<String, String>>,
) -> Result<axum::response::Response, ApiError> {
    let mut allowed = FILTER_PARAMS.to_vec();
    allowed.extend(["limit", "cursor"]);
    query::only(&params, &allowed)?;
    let filter = scoped(query::filter(&params)?, &caller);
    let (limit, cursor) = query::paging(&params)?;
    // The scoped filter decides the answer, so callers with the same scope
    // share it until the next write.
    let key = format!("projects:{filter:?}|{cursor:?}|{limit}");
    let cached = state
        .cache
        .get_or_build(&state.store, key, Asker::of(&caller.0), || async {
            let page = state.store.projects(&filter, cursor, limit).await?;
            let body = serde_json::to_vec(&json!({
                "items": page.items,
                "next_cursor": page.next_cursor,
            }))
            .map_err(|e| ApiError::internal(&e))?;
            Ok::<_, ApiError>(Cached {
                body: body.into(),
                etag: None,
                owner: None,
            })
        })
        .await?;
    Ok(json_body(cached.body.clone()))
}

/// A serialised JSON answer.
fn json_body(body: axum::body::Bytes) -> axum::response::Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// The fund chain as the API shows it: gross steps, refunds, and the rates.
fn chain_json(chain: &FundChain) -> Map<String, Value> {
    let rates = FundRates::of(chain);
    let mut m = Map::new();
    m.insert("planned".into(), json!(chain.committed));
    m.insert("transferred".into(), json!(chain.transferred));
    m.insert("allocated".into(), json!(chain.allocated));
    m.insert("paid".into(), json!(chain.paid));
    m.insert("spent".into(), json!(chain.spent));
    m.insert("refunded".into(), json!(chain.refunded));
    m.insert("carried_over".into(), json!(chain.carried_over));
    m.insert("arrival_rate".into(), json!(rates.arrival_rate));
    m.insert("allocation_rate".into(), json!(rates.allocation_rate));
    m.insert("payment_rate".into(), json!(rates.payment_rate));
    m.insert("execution_rate".into(), json!(rates.execution_rate));
    m
}

/// `GET /api/v1/projects/{code}`: one project with its transactions, fund
/// chain, state history and indicators.
#[utoipa::path(get, path = "/api/v1/projects/{code}", tag = "registry", params(("code" = String, Path, description = "Project code (项目编号)")), responses((status = 200, description = "The project with its transactions, fund chain and rates, history, indicators and approvals; ETag header"), (status = 404, description = "Absent, or out of the caller's scope", body = openapi::ErrorBody)))]
pub async fn project(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> Result<axum::response::Response, ApiError> {
    let not_found = || ApiError::not_found("项目", "project");
    let key = format!("project:{code}");
    let cached = state
        .cache
        .get_or_build(&state.store, key, Asker::of(&caller.0), || async {
            project_answer(&state, &code).await?.ok_or_else(not_found)
        })
        .await?;
    let Some(o) = &cached.owner else {
        return Err(not_found());
    };
    let owner = Owner {
        supporter_code: &o.supporter_code,
        recipient_code: &o.recipient_code,
        published: o.published,
    };
    if !caller.0.may(Action::Read, owner, o.parent.as_deref()) {
        // Out of scope answers exactly like absent, so nothing leaks.
        return Err(not_found());
    }
    let mut response = json_body(cached.body.clone());
    if let Some(etag) = &cached.etag {
        response
            .headers_mut()
            .insert(axum::http::header::ETAG, etag.clone());
    }
    Ok(response)
}

/// Builds the answer of `GET /api/v1/projects/{code}` for any caller who
/// may read it; `None` when there is no such project.
async fn project_answer(state: &AppState, code: &str) -> Result<Option<Cached>, ApiError> {
    let Some(row) = state.store.project(code).await? else {
        return Ok(None);
    };
    let parent = state
        .store
        .supporter_parent(&row.project.supporter_code)
        .await?;
    let transactions = state.store.project_transactions(row.id).await?;
    let txns: Vec<_> = transactions.iter().map(|t| t.transaction.clone()).collect();
    let chain = FundChain::sum(&txns);
    let history = state.store.project_history(row.id).await?;
    let indicators = state
        .store
        .project_indicators(row.id, &row.project.code)
        .await?;
    let indicators: Vec<Value> = indicators
        .into_iter()
        .map(|(i, values)| {
            json!({
                "name": i.name, "unit": i.unit, "baseline": i.baseline, "target": i.target,
                "values": values.into_iter().map(|v| json!({"period": v.period, "actual": v.actual})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let approvals = state.store.approval_steps(row.id).await?;
    let body = serde_json::to_vec(&json!({
        "project": row,
        "approvals": approvals,
        "fund_chain": chain_json(&chain),
        "transactions": transactions,
        "history": history,
        "indicators": indicators,
    }))
    .map_err(|e| ApiError::internal(&e))?;
    Ok(Some(Cached {
        body: body.into(),
        etag: Some(writes::etag(row.row_version)),
        owner: Some(CachedOwner {
            supporter_code: row.project.supporter_code.clone(),
            recipient_code: row.project.recipient_code.clone(),
            published: row.project.published,
            parent,
        }),
    }))
}

/// `GET /api/v1/parties`: supporters and recipient units (townships with `?townships=true`).
#[utoipa::path(get, path = "/api/v1/parties", tag = "reference", params(("townships" = Option<bool>, Query, description = "Include townships among the recipients")), responses((status = 200, description = "`{supporters, recipients}`"), (status = 400, description = "A bad parameter", body = openapi::ErrorBody)))]
pub async fn parties(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    query::only(&params, &["townships"])?;
    let townships = match params.get("townships").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::bad_parameter(
                "townships",
                yuanjiang_domain::DomainError::new(
                    "invalid_flag",
                    format!("“{other}”应为 true 或 false"),
                    format!("\"{other}\" should be true or false"),
                ),
            ));
        }
    };
    let supporters = state.store.supporters().await?;
    let recipients = state.store.recipients(townships).await?;
    Ok(Json(
        json!({ "supporters": supporters, "recipients": recipients }),
    ))
}

/// `GET /api/v1/pairings`: who supports whom, with validity periods.
#[utoipa::path(get, path = "/api/v1/pairings", tag = "reference", responses((status = 200, description = "`{items}`: who supports whom, with validity periods")))]
pub async fn pairings(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    query::only(&params, &[])?;
    let pairings = state.store.pairings().await?;
    Ok(Json(json!({ "items": pairings })))
}

#[derive(Serialize)]
struct StatsAnswer {
    by: Vec<StatDimension>,
    rows: Vec<Map<String, Value>>,
    total: Map<String, Value>,
}

/// `GET /api/v1/stats/funds?by=supporter,category,year`: the fund chain
/// and its rates by any combination of dimensions, with the grand total.
#[utoipa::path(get, path = "/api/v1/stats/funds", tag = "funds", params(query::FilterParams, ("by" = Option<String>, Query, description = "Comma-separated dimensions: supporter, recipient, level, category, year, month")), responses((status = 200, description = "`{by, rows, total}`: the fund chain and its rates per group, and the grand total"), (status = 400, description = "A bad field (code names it)", body = openapi::ErrorBody)))]
pub async fn fund_stats(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<HashMap<String, String>>,
) -> Result<axum::response::Response, ApiError> {
    let mut allowed = FILTER_PARAMS.to_vec();
    allowed.push("by");
    query::only(&params, &allowed)?;
    let filter = scoped(query::filter(&params)?, &caller);
    let by = query::dimensions(&params)?;
    // The serialised answer is kept per (scoped filter, dimensions) for the
    // current write version: dashboards ask the same questions again and
    // again, and building the JSON costs more than the roll-up query.
    let key = format!("stats:{filter:?}|{by:?}");
    let cached = state
        .cache
        .get_or_build(&state.store, key, Asker::of(&caller.0), || async {
            let body = stats_json(state.store.fund_stats(&filter, &by).await?, by)?;
            Ok::<_, ApiError>(Cached {
                body: axum::body::Bytes::from_owner(body),
                etag: None,
                owner: None,
            })
        })
        .await?;
    Ok(json_body(cached.body.clone()))
}

/// The statistics answer as JSON bytes.
fn stats_json(
    rows: Vec<yuanjiang_store::FundStatRow>,
    by: Vec<StatDimension>,
) -> Result<std::sync::Arc<[u8]>, ApiError> {
    let mut total_chain = FundChain::default();
    let mut total_count = 0i64;
    let rows: Vec<Map<String, Value>> = rows
        .into_iter()
        .map(|r| {
            total_chain.merge(&r.chain);
            total_count += r.transactions;
            let mut m = Map::new();
            for (d, v) in &r.key {
                let value = match d {
                    StatDimension::Year | StatDimension::Month => {
                        v.parse::<i64>().map_or_else(|_| json!(v), |n| json!(n))
                    }
                    _ => json!(v),
                };
                m.insert(d.key().to_owned(), value);
            }
            m.extend(chain_json(&r.chain));
            m.insert("transactions".into(), json!(r.transactions));
            m
        })
        .collect();
    let mut total = chain_json(&total_chain);
    total.insert("transactions".into(), json!(total_count));
    let bytes =
        serde_json::to_vec(&StatsAnswer { by, rows, total }).map_err(|e| ApiError::internal(&e))?;
    Ok(bytes.into())
}
