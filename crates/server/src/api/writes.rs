//! Writes through the API: projects, state changes, fund transactions,
//! indicators and approval steps. Every handler checks the caller's role and
//! scope on the server (out-of-scope records answer 404, like absent ones),
//! and every update carries the version it read (`If-Match`): a stale one
//! answers 412, a missing one 428.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use yuanjiang_domain::{
    Action, ApprovalStep, Category, DeliveryMode, DomainError, Fen, FundTransaction, FundType,
    Indicator, Owner, Principal, Project, ProjectKind, ProjectState, Viewer,
};
use yuanjiang_store::ProjectRow;

use crate::{ApiError, AppState, Caller};

/// A JSON body whose rejection is a bilingual [`ApiError`], not plain text.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(crate::listen::request_too_large())
            }
            Err(rejection) => {
                let detail = match &rejection {
                    JsonRejection::JsonDataError(e) => e.body_text(),
                    JsonRejection::JsonSyntaxError(e) => e.body_text(),
                    other => other.body_text(),
                };
                Err(ApiError {
                    status: StatusCode::BAD_REQUEST,
                    code: "invalid_body",
                    zh: format!("请求体不是有效的JSON或字段有误：{detail}"),
                    en: format!("the request body is not valid JSON or has a bad field: {detail}"),
                    field: None,
                })
            }
        }
    }
}

/// The signed-in principal; the public may not write.
pub(crate) fn principal(caller: &Caller) -> Result<&Principal, ApiError> {
    match &caller.0 {
        Viewer::User(p) => Ok(p),
        Viewer::Public => Err(ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: "login_required",
            zh: "请先登录".into(),
            en: "please sign in first".into(),
            field: None,
        }),
    }
}

fn forbidden() -> ApiError {
    ApiError {
        status: StatusCode::FORBIDDEN,
        code: "forbidden",
        zh: "您的角色无权执行此操作".into(),
        en: "your role may not do this".into(),
        field: None,
    }
}

fn not_found() -> ApiError {
    ApiError::not_found("项目", "project")
}

/// The `ETag` of a record version.
pub fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"v{version}\"")).unwrap_or(HeaderValue::from_static("\"v0\""))
}

/// The version named by `If-Match`: 428 when absent, 400 when unreadable.
fn if_match(headers: &HeaderMap) -> Result<i64, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Err(ApiError {
            status: StatusCode::PRECONDITION_REQUIRED,
            code: "precondition_required",
            zh: "更新必须带 If-Match 请求头（取自 GET 返回的 ETag），以免覆盖他人的修改".into(),
            en: "an update must send If-Match (the ETag from GET), so that nobody's change is overwritten".into(),
            field: Some("If-Match".into()),
        });
    };
    value
        .to_str()
        .ok()
        .map(|v| v.trim().trim_start_matches("W/").trim_matches('"'))
        .and_then(|v| v.strip_prefix('v'))
        .and_then(|v| v.parse::<i64>().ok())
        .ok_or_else(|| ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_if_match",
            zh: "If-Match 的值无效：应为 GET 返回的 ETag，如 \"v3\"".into(),
            en: "If-Match is invalid: expected the ETag from GET, such as \"v3\"".into(),
            field: Some("If-Match".into()),
        })
}

/// Loads a project and checks the caller may take `action` on it:
/// 404 if they may not even see it, 403 if they see it but may not act.
pub(crate) async fn authorised(
    state: &AppState,
    caller: &Caller,
    code: &str,
    action: Action,
) -> Result<ProjectRow, ApiError> {
    let row = state.store.project(code).await?.ok_or_else(not_found)?;
    let owner = Owner {
        supporter_code: &row.project.supporter_code,
        recipient_code: &row.project.recipient_code,
        published: row.project.published,
    };
    permit(state, caller, owner, action, not_found).await?;
    Ok(row)
}

/// The one scope check of every write: 404 (`absent`) when the caller may
/// not even see the record, so nothing leaks; 403 when they see it but may
/// not take `action`.
async fn permit(
    state: &AppState,
    caller: &Caller,
    owner: Owner<'_>,
    action: Action,
    absent: fn() -> ApiError,
) -> Result<(), ApiError> {
    let parent = state.store.supporter_parent(owner.supporter_code).await?;
    if !caller.0.may(Action::Read, owner, parent.as_deref()) {
        return Err(absent());
    }
    if !caller.0.may(action, owner, parent.as_deref()) {
        return Err(forbidden());
    }
    Ok(())
}

/// A project as clients send it; amounts in fen.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectBody {
    /// Code; required on create, ignored on update (the path names it).
    #[serde(default)]
    code: Option<String>,
    name: String,
    #[schema(schema_with = super::openapi::category)]
    category: Category,
    #[schema(schema_with = super::openapi::delivery_mode)]
    delivery_mode: DeliveryMode,
    #[schema(schema_with = super::openapi::project_kind)]
    kind: ProjectKind,
    year: i32,
    in_plan: bool,
    continued: bool,
    grassroots: bool,
    livelihood: bool,
    supporter_code: String,
    recipient_code: String,
    location_code: String,
    planned_investment: i64,
    aid_funds: i64,
    matching_funds: i64,
    start_date: NaiveDate,
    end_date: NaiveDate,
    #[serde(default)]
    published: bool,
    #[serde(default)]
    description: String,
}

impl ProjectBody {
    fn into_project(self, code: String) -> Project {
        Project {
            code,
            name: self.name,
            category: self.category,
            delivery_mode: self.delivery_mode,
            kind: self.kind,
            year: self.year,
            in_plan: self.in_plan,
            continued: self.continued,
            grassroots: self.grassroots,
            livelihood: self.livelihood,
            supporter_code: self.supporter_code,
            recipient_code: self.recipient_code,
            location_code: self.location_code,
            planned_investment: Fen(self.planned_investment),
            aid_funds: Fen(self.aid_funds),
            matching_funds: Fen(self.matching_funds),
            start_date: self.start_date,
            end_date: self.end_date,
            state: ProjectState::Proposed,
            published: self.published,
            description: self.description,
        }
    }
}

fn with_etag(status: StatusCode, version: i64, body: Value) -> Response {
    (status, [(header::ETAG, etag(version))], Json(body)).into_response()
}

/// `POST /api/v1/projects`: a front command drafts a project.
#[utoipa::path(post, path = "/api/v1/projects", tag = "registry", request_body = ProjectBody, responses((status = 201, description = "The draft project, with its ETag"), (status = 400, description = "A bad field (code names it)", body = super::openapi::ErrorBody), (status = 401, description = "Not signed in", body = super::openapi::ErrorBody), (status = 403, description = "In scope but without the permission", body = super::openapi::ErrorBody), (status = 409, description = "The rule forbids it now (lifecycle, fund chain, duplicate)", body = super::openapi::ErrorBody)))]
pub async fn create_project(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<ProjectBody>,
) -> Result<Response, ApiError> {
    let code = body.code.clone().unwrap_or_default();
    let row = create_project_as(&state, &caller, body.into_project(code)).await?;
    let location = format!("/api/v1/projects/{}", row.project.code);
    let mut response = with_etag(StatusCode::CREATED, row.row_version, json!(row));
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// Keeps the search index in step with a write that has committed; a
/// failure is logged, as the write itself stands.
fn reindex(state: &AppState, row: &ProjectRow) {
    if let Err(e) = state.search.upsert(row) {
        tracing::error!(error = %e, code = %row.project.code, "search index not updated");
    }
}

/// Creates a draft project for `caller` (API and pages alike).
pub(crate) async fn create_project_as(
    state: &AppState,
    caller: &Caller,
    project: Project,
) -> Result<ProjectRow, ApiError> {
    let actor = principal(caller)?;
    let parent = state
        .store
        .supporter_parent(&project.supporter_code)
        .await?;
    let owner = Owner {
        supporter_code: &project.supporter_code,
        recipient_code: &project.recipient_code,
        published: false,
    };
    // Drafting is the supporter side's step (Submit is theirs alone).
    if !caller.0.may(Action::Submit, owner, parent.as_deref()) {
        return Err(forbidden());
    }
    let row = state.store.create_project(actor, &project).await?;
    reindex(state, &row);
    Ok(row)
}

/// `PUT /api/v1/projects/{code}`: replaces the editable fields.
#[utoipa::path(put, path = "/api/v1/projects/{code}", tag = "registry", params(("code" = String, Path, description = "Project code (项目编号)"), ("If-Match" = String, Header, description = "The ETag of the version read")), request_body = ProjectBody, responses((status = 200, description = "The project, with its new ETag"), (status = 400, description = "A bad field (code names it)", body = super::openapi::ErrorBody), (status = 401, description = "Not signed in", body = super::openapi::ErrorBody), (status = 403, description = "In scope but without the permission", body = super::openapi::ErrorBody), (status = 404, description = "Absent, or out of the caller's scope", body = super::openapi::ErrorBody), (status = 412, description = "If-Match does not match the current version", body = super::openapi::ErrorBody), (status = 409, description = "The rule forbids it now (lifecycle, fund chain, duplicate)", body = super::openapi::ErrorBody)))]
pub async fn update_project(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    headers: HeaderMap,
    Body(body): Body<ProjectBody>,
) -> Result<Response, ApiError> {
    principal(&caller)?;
    authorised(&state, &caller, &code, Action::Edit).await?;
    let expected = if_match(&headers)?;
    let row = update_project_as(
        &state,
        &caller,
        &code,
        expected,
        body.into_project(code.clone()),
    )
    .await?;
    Ok(with_etag(StatusCode::OK, row.row_version, json!(row)))
}

/// Replaces a project's editable fields for `caller`, against version `expected`.
pub(crate) async fn update_project_as(
    state: &AppState,
    caller: &Caller,
    code: &str,
    expected: i64,
    edit: Project,
) -> Result<ProjectRow, ApiError> {
    let actor = principal(caller)?;
    authorised(state, caller, code, Action::Edit).await?;
    // The edit may not move the project out of the caller's scope.
    let parent = state.store.supporter_parent(&edit.supporter_code).await?;
    let owner = Owner {
        supporter_code: &edit.supporter_code,
        recipient_code: &edit.recipient_code,
        published: edit.published,
    };
    if !caller.0.may(Action::Edit, owner, parent.as_deref()) {
        return Err(forbidden());
    }
    let row = state
        .store
        .update_project(actor, code, expected, &edit)
        .await?;
    reindex(state, &row);
    Ok(row)
}

/// A lifecycle change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StateBody {
    #[schema(schema_with = super::openapi::project_state)]
    to: ProjectState,
    #[serde(default)]
    reason: String,
}

/// `POST /api/v1/projects/{code}/state`: moves the project along its lifecycle.
#[utoipa::path(post, path = "/api/v1/projects/{code}/state", tag = "registry", params(("code" = String, Path, description = "Project code (项目编号)"), ("If-Match" = String, Header, description = "The ETag of the version read")), request_body = StateBody, responses((status = 200, description = "The project in its new state"), (status = 400, description = "A bad field (code names it)", body = super::openapi::ErrorBody), (status = 401, description = "Not signed in", body = super::openapi::ErrorBody), (status = 403, description = "In scope but without the permission", body = super::openapi::ErrorBody), (status = 404, description = "Absent, or out of the caller's scope", body = super::openapi::ErrorBody), (status = 412, description = "If-Match does not match the current version", body = super::openapi::ErrorBody), (status = 409, description = "The rule forbids it now (lifecycle, fund chain, duplicate)", body = super::openapi::ErrorBody)))]
pub async fn change_state(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    headers: HeaderMap,
    Body(body): Body<StateBody>,
) -> Result<Response, ApiError> {
    principal(&caller)?;
    authorised(&state, &caller, &code, Action::Edit).await?;
    let expected = if_match(&headers)?;
    let row = change_state_as(&state, &caller, &code, expected, body.to, &body.reason).await?;
    Ok(with_etag(StatusCode::OK, row.row_version, json!(row)))
}

/// Moves a project along its lifecycle for `caller`, against version `expected`.
pub(crate) async fn change_state_as(
    state: &AppState,
    caller: &Caller,
    code: &str,
    expected: i64,
    to: ProjectState,
    reason: &str,
) -> Result<ProjectRow, ApiError> {
    let actor = principal(caller)?;
    authorised(state, caller, code, Action::Edit).await?;
    let row = state
        .store
        .change_state(actor, code, expected, to, reason)
        .await?;
    reindex(state, &row);
    Ok(row)
}

/// A fund transaction as clients send it; the amount in fen.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransactionBody {
    #[schema(schema_with = super::openapi::fund_type)]
    fund_type: FundType,
    amount: i64,
    date: NaiveDate,
    document_no: String,
    #[serde(default)]
    note: String,
}

impl TransactionBody {
    fn into_transaction(self, project_code: String) -> FundTransaction {
        FundTransaction {
            project_code,
            fund_type: self.fund_type,
            amount: Fen(self.amount),
            date: self.date,
            document_no: self.document_no,
            note: self.note,
        }
    }
}

/// `POST /api/v1/projects/{code}/transactions`: records a fund transaction.
#[utoipa::path(post, path = "/api/v1/projects/{code}/transactions", tag = "funds", params(("code" = String, Path, description = "Project code (项目编号)")), request_body = TransactionBody, responses((status = 201, description = "The stored transaction, with its ETag"), (status = 400, description = "A bad field (code names it)", body = super::openapi::ErrorBody), (status = 401, description = "Not signed in", body = super::openapi::ErrorBody), (status = 403, description = "In scope but without the permission", body = super::openapi::ErrorBody), (status = 404, description = "Absent, or out of the caller's scope", body = super::openapi::ErrorBody), (status = 409, description = "The rule forbids it now (lifecycle, fund chain, duplicate)", body = super::openapi::ErrorBody)))]
pub async fn add_transaction(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Body(body): Body<TransactionBody>,
) -> Result<Response, ApiError> {
    let row =
        add_transaction_as(&state, &caller, &code, body.into_transaction(code.clone())).await?;
    Ok(with_etag(StatusCode::CREATED, row.row_version, json!(row)))
}

/// Records a fund transaction on a project for `caller`.
pub(crate) async fn add_transaction_as(
    state: &AppState,
    caller: &Caller,
    code: &str,
    txn: FundTransaction,
) -> Result<yuanjiang_store::TransactionRow, ApiError> {
    let actor = principal(caller)?;
    authorised(state, caller, code, Action::Edit).await?;
    Ok(state.store.add_transaction(actor, code, &txn).await?)
}

fn parse_id(id: &str) -> Result<i64, ApiError> {
    id.parse()
        .map_err(|_| ApiError::not_found("资金记录", "fund transaction"))
}

/// `GET /api/v1/transactions/{id}`: one transaction with its `ETag`.
#[utoipa::path(get, path = "/api/v1/transactions/{id}", tag = "funds", params(("id" = i64, Path, description = "Transaction id")), responses((status = 200, description = "The transaction, with its ETag"), (status = 404, description = "Absent, or out of the caller's scope", body = super::openapi::ErrorBody)))]
pub async fn get_transaction(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let row = state
        .store
        .transaction(id)
        .await?
        .ok_or_else(|| ApiError::not_found("资金记录", "fund transaction"))?;
    authorised(&state, &caller, &row.transaction.project_code, Action::Read)
        .await
        .map_err(|_| ApiError::not_found("资金记录", "fund transaction"))?;
    Ok(with_etag(StatusCode::OK, row.row_version, json!(row)))
}

/// `PUT /api/v1/transactions/{id}`: corrects a transaction (not its type).
#[utoipa::path(put, path = "/api/v1/transactions/{id}", tag = "funds", params(("id" = i64, Path, description = "Transaction id"), ("If-Match" = String, Header, description = "The ETag of the version read")), request_body = TransactionBody, responses((status = 200, description = "The corrected transaction"), (status = 400, description = "A bad field (code names it)", body = super::openapi::ErrorBody), (status = 401, description = "Not signed in", body = super::openapi::ErrorBody), (status = 403, description = "In scope but without the permission", body = super::openapi::ErrorBody), (status = 404, description = "Absent, or out of the caller's scope", body = super::openapi::ErrorBody), (status = 412, description = "If-Match does not match the current version", body = super::openapi::ErrorBody), (status = 409, description = "The rule forbids it now (lifecycle, fund chain, duplicate)", body = super::openapi::ErrorBody)))]
pub async fn update_transaction(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    Body(body): Body<TransactionBody>,
) -> Result<Response, ApiError> {
    let actor = principal(&caller)?;
    let id = parse_id(&id)?;
    let stored = state
        .store
        .transaction(id)
        .await?
        .ok_or_else(|| ApiError::not_found("资金记录", "fund transaction"))?;
    authorised(
        &state,
        &caller,
        &stored.transaction.project_code,
        Action::Edit,
    )
    .await?;
    let expected = if_match(&headers)?;
    if body.fund_type != stored.transaction.fund_type {
        return Err(ApiError::bad_parameter(
            "fund_type",
            DomainError::new(
                "fund_type_immutable",
                "资金类型不能修改；请录入相反的交易（如退回）",
                "the fund type cannot change; record an opposite transaction (such as a refund) instead",
            ),
        ));
    }
    let edit = body.into_transaction(stored.transaction.project_code.clone());
    let row = state
        .store
        .update_transaction(actor, id, expected, &edit)
        .await?;
    Ok(with_etag(StatusCode::OK, row.row_version, json!(row)))
}

/// An indicator definition.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorBody {
    unit: String,
    baseline: f64,
    target: f64,
}

/// `PUT /api/v1/projects/{code}/indicators/{name}`: defines an indicator.
#[utoipa::path(put, path = "/api/v1/projects/{code}/indicators/{name}", tag = "registry", params(("code" = String, Path, description = "Project code (项目编号)"), ("name" = String, Path, description = "Indicator name (指标名称)")), request_body = IndicatorBody, responses((status = 200, description = "The indicator"), (status = 400, description = "A bad field (code names it)", body = super::openapi::ErrorBody), (status = 401, description = "Not signed in", body = super::openapi::ErrorBody), (status = 403, description = "In scope but without the permission", body = super::openapi::ErrorBody), (status = 404, description = "Absent, or out of the caller's scope", body = super::openapi::ErrorBody)))]
pub async fn put_indicator(
    State(state): State<AppState>,
    caller: Caller,
    Path((code, name)): Path<(String, String)>,
    Body(body): Body<IndicatorBody>,
) -> Result<Response, ApiError> {
    let actor = principal(&caller)?;
    authorised(&state, &caller, &code, Action::Edit).await?;
    let indicator = Indicator {
        project_code: code.clone(),
        name,
        unit: body.unit,
        baseline: body.baseline,
        target: body.target,
    };
    state.store.put_indicator(actor, &code, &indicator).await?;
    Ok((StatusCode::OK, Json(json!(indicator))).into_response())
}

/// An indicator's actual value.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValueBody {
    actual: f64,
}

/// `PUT /api/v1/projects/{code}/indicators/{name}/values/{period}`: records
/// an actual value; replacing one needs `If-Match`.
#[utoipa::path(put, path = "/api/v1/projects/{code}/indicators/{name}/values/{period}", tag = "registry", params(("code" = String, Path, description = "Project code (项目编号)"), ("name" = String, Path, description = "Indicator name"), ("period" = String, Path, description = "Period, e.g. 2025 or 2025-06"), ("If-Match" = Option<String>, Header, description = "Needed to replace a stored value")), request_body = ValueBody, responses((status = 201, description = "Recorded"), (status = 200, description = "Replaced"), (status = 400, description = "A bad field (code names it)", body = super::openapi::ErrorBody), (status = 401, description = "Not signed in", body = super::openapi::ErrorBody), (status = 403, description = "In scope but without the permission", body = super::openapi::ErrorBody), (status = 404, description = "Absent, or out of the caller's scope", body = super::openapi::ErrorBody), (status = 412, description = "If-Match does not match the current version", body = super::openapi::ErrorBody)))]
pub async fn put_indicator_value(
    State(state): State<AppState>,
    caller: Caller,
    Path((code, name, period)): Path<(String, String, String)>,
    headers: HeaderMap,
    Body(body): Body<ValueBody>,
) -> Result<Response, ApiError> {
    let actor = principal(&caller)?;
    authorised(&state, &caller, &code, Action::Edit).await?;
    let expected = match headers.get(header::IF_MATCH) {
        Some(_) => Some(if_match(&headers)?),
        None => None,
    };
    let version = state
        .store
        .put_indicator_value(actor, &code, &name, &period, body.actual, expected)
        .await?;
    let status = if expected.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(with_etag(
        status,
        version,
        json!({"name": name, "period": period, "actual": body.actual}),
    ))
}

/// An approval step.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepBody {
    #[schema(schema_with = super::openapi::approval_step)]
    step: ApprovalStep,
    #[serde(default)]
    comment: String,
}

/// `POST /api/v1/projects/{code}/approval`: submit, review, approve or return.
#[utoipa::path(post, path = "/api/v1/projects/{code}/approval", tag = "workflow", params(("code" = String, Path, description = "Project code (项目编号)"), ("If-Match" = String, Header, description = "The ETag of the version read")), request_body = StepBody, responses((status = 200, description = "The project after the step"), (status = 400, description = "A bad field (code names it)", body = super::openapi::ErrorBody), (status = 401, description = "Not signed in", body = super::openapi::ErrorBody), (status = 403, description = "In scope but without the permission", body = super::openapi::ErrorBody), (status = 404, description = "Absent, or out of the caller's scope", body = super::openapi::ErrorBody), (status = 412, description = "If-Match does not match the current version", body = super::openapi::ErrorBody), (status = 409, description = "The rule forbids it now (lifecycle, fund chain, duplicate)", body = super::openapi::ErrorBody)))]
pub async fn take_step(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    headers: HeaderMap,
    Body(body): Body<StepBody>,
) -> Result<Response, ApiError> {
    step_allowed(&state, &caller, &code, body.step).await?;
    let expected = if_match(&headers)?;
    let row = take_step_as(&state, &caller, &code, expected, body.step, &body.comment).await?;
    Ok(with_etag(StatusCode::OK, row.row_version, json!(row)))
}

/// Checks that `caller` may take `step` on the project now: 404 out of
/// scope, 409 when the step does not apply, 403 without the permission.
async fn step_allowed(
    state: &AppState,
    caller: &Caller,
    code: &str,
    step: ApprovalStep,
) -> Result<(), ApiError> {
    principal(caller)?;
    let current = authorised(state, caller, code, Action::Read).await?;
    let (_, needed) = step.apply(current.approval).map_err(|e| ApiError {
        status: StatusCode::CONFLICT,
        code: e.code,
        zh: e.zh,
        en: e.en,
        field: Some("step".into()),
    })?;
    authorised(state, caller, code, needed).await?;
    Ok(())
}

/// Takes an approval step for `caller`, against version `expected`.
pub(crate) async fn take_step_as(
    state: &AppState,
    caller: &Caller,
    code: &str,
    expected: i64,
    step: ApprovalStep,
    comment: &str,
) -> Result<ProjectRow, ApiError> {
    step_allowed(state, caller, code, step).await?;
    let actor = principal(caller)?;
    let row = state
        .store
        .take_step(actor, code, expected, step, comment)
        .await?;
    reindex(state, &row);
    Ok(row)
}

/// `GET /api/v1/inbox`: what waits for the caller, oldest first.
#[utoipa::path(get, path = "/api/v1/inbox", tag = "workflow", responses((status = 200, description = "What waits for the caller, oldest first"), (status = 401, description = "Not signed in", body = super::openapi::ErrorBody)))]
pub async fn inbox(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let actor = principal(&caller)?;
    let items = state.store.inbox(actor, 500).await?;
    let now = chrono::Utc::now();
    let items: Vec<Value> = items
        .into_iter()
        .map(|i| {
            json!({
                "project": i.project,
                "waiting_since": i.waiting_since,
                "waiting_seconds": i.waiting_since.map(|s| (now - s).num_seconds().max(0)),
                "next_step": yuanjiang_domain::ApprovalStep::waiting_for(i.project.approval).map(|a| format!("{a:?}").to_lowercase()),
            })
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

/// An assignment as clients send it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentBody {
    supporter_code: String,
    #[serde(default)]
    batch_number: Option<u32>,
    person_name: String,
    #[serde(default)]
    id_number: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[schema(schema_with = super::openapi::assignment_category)]
    category: yuanjiang_domain::AssignmentCategory,
    #[schema(schema_with = super::openapi::assignment_mode)]
    mode: yuanjiang_domain::AssignmentMode,
    recipient_code: String,
    host_unit: String,
    #[serde(default)]
    post: String,
    arrival_date: NaiveDate,
    return_date: NaiveDate,
    #[serde(default)]
    appraisal: Option<String>,
}

impl AssignmentBody {
    fn into_assignment(self) -> yuanjiang_domain::Assignment {
        yuanjiang_domain::Assignment {
            supporter_code: self.supporter_code,
            batch_number: self.batch_number,
            person_name: self.person_name,
            id_number: self.id_number,
            phone: self.phone,
            category: self.category,
            mode: self.mode,
            recipient_code: self.recipient_code,
            host_unit: self.host_unit,
            post: self.post,
            arrival_date: self.arrival_date,
            return_date: self.return_date,
            appraisal: self.appraisal,
        }
    }
}

fn assignment_not_found() -> ApiError {
    ApiError::not_found("援疆干部人才记录", "assignment")
}

/// Checks `action` on an assignment owned by (supporter, recipient).
async fn may_on_assignment(
    state: &AppState,
    caller: &Caller,
    supporter: &str,
    recipient: &str,
    action: Action,
) -> Result<(), ApiError> {
    let owner = Owner {
        supporter_code: supporter,
        recipient_code: recipient,
        published: false,
    };
    permit(state, caller, owner, action, assignment_not_found).await
}

/// `POST /api/v1/assignments`: records a cadre's or professional's posting.
#[utoipa::path(post, path = "/api/v1/assignments", tag = "personnel", request_body = AssignmentBody, responses((status = 201, description = "The new assignment's id"), (status = 400, description = "A bad field (code names it)", body = super::openapi::ErrorBody), (status = 401, description = "Not signed in", body = super::openapi::ErrorBody), (status = 403, description = "In scope but without the permission", body = super::openapi::ErrorBody), (status = 404, description = "Absent, or out of the caller's scope", body = super::openapi::ErrorBody)))]
pub async fn create_assignment(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<AssignmentBody>,
) -> Result<Response, ApiError> {
    let actor = principal(&caller)?;
    let a = body.into_assignment();
    may_on_assignment(
        &state,
        &caller,
        &a.supporter_code,
        &a.recipient_code,
        Action::Edit,
    )
    .await?;
    let id = state.store.create_assignment(actor, &a).await?;
    Ok(with_etag(StatusCode::CREATED, 1, json!({"id": id})))
}

/// `GET /api/v1/assignments/{id}`: one assignment, masked as the caller's role requires.
#[utoipa::path(get, path = "/api/v1/assignments/{id}", tag = "personnel", params(("id" = i64, Path, description = "Assignment id")), responses((status = 200, description = "The assignment, personal data masked unless the role needs it"), (status = 404, description = "Absent, or out of the caller's scope", body = super::openapi::ErrorBody)))]
pub async fn get_assignment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id: i64 = id.parse().map_err(|_| assignment_not_found())?;
    let (version, supporter, recipient) = state
        .store
        .assignment_owner(id)
        .await?
        .ok_or_else(assignment_not_found)?;
    may_on_assignment(&state, &caller, &supporter, &recipient, Action::Read).await?;
    let page = state
        .store
        .assignments(&Default::default(), &caller.0, Some(id - 1), 1)
        .await?;
    let row = page
        .items
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(assignment_not_found)?;
    Ok(with_etag(StatusCode::OK, version, json!(row)))
}

/// `PUT /api/v1/assignments/{id}`: replaces an assignment (`If-Match` required).
#[utoipa::path(put, path = "/api/v1/assignments/{id}", tag = "personnel", params(("id" = i64, Path, description = "Assignment id"), ("If-Match" = String, Header, description = "The ETag of the version read")), request_body = AssignmentBody, responses((status = 200, description = "Updated"), (status = 400, description = "A bad field (code names it)", body = super::openapi::ErrorBody), (status = 401, description = "Not signed in", body = super::openapi::ErrorBody), (status = 403, description = "In scope but without the permission", body = super::openapi::ErrorBody), (status = 404, description = "Absent, or out of the caller's scope", body = super::openapi::ErrorBody), (status = 412, description = "If-Match does not match the current version", body = super::openapi::ErrorBody)))]
pub async fn update_assignment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    Body(body): Body<AssignmentBody>,
) -> Result<Response, ApiError> {
    let actor = principal(&caller)?;
    let id: i64 = id.parse().map_err(|_| assignment_not_found())?;
    let (_, supporter, recipient) = state
        .store
        .assignment_owner(id)
        .await?
        .ok_or_else(assignment_not_found)?;
    may_on_assignment(&state, &caller, &supporter, &recipient, Action::Edit).await?;
    let expected = if_match(&headers)?;
    let a = body.into_assignment();
    // The edit may not move the person out of the caller's scope.
    may_on_assignment(
        &state,
        &caller,
        &a.supporter_code,
        &a.recipient_code,
        Action::Edit,
    )
    .await?;
    let version = state
        .store
        .update_assignment(actor, id, expected, &a)
        .await?;
    Ok(with_etag(StatusCode::OK, version, json!({"id": id})))
}
