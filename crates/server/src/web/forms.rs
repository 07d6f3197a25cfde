//! The write forms: create and edit a project, change its state, record a
//! fund transaction, take an approval step, and `/inbox` 待办. Each form
//! posts `csrf_token` (checked by the authentication layer) and writes
//! through the API's own functions (`api::writes::*_as`), so the checks of
//! role, scope, version and domain rules are the API's. On an error the
//! form comes back with the message next to its field, in the user's
//! language, and with everything that was typed.

use std::collections::HashMap;
use std::str::FromStr;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Datelike, NaiveDate, Utc};
use yuanjiang_domain::{
    Action, ApprovalStep, Category, DeliveryMode, DomainError, Fen, FundTransaction, FundType,
    Owner, Project, ProjectKind, ProjectState, RecipientLevel, Role, Viewer,
};

use super::dashboard::{Opt, options};
use super::format::{self, Names, duration, wan};
use super::registry::{Feedback, project_page};
use super::{Chrome, Ctx, Lang, WebError, form_pairs, is_local_path, redirect, render};
use crate::{ApiError, AppState};

/// The form of a project, new or edited.
#[derive(Template)]
#[template(path = "project_form.html")]
struct ProjectForm {
    c: Chrome,
    action: String,
    is_edit: bool,
    version: i64,
    values: HashMap<String, String>,
    errors: HashMap<String, String>,
    global: Option<String>,
    categories: Vec<Opt>,
    modes: Vec<Opt>,
    kinds: Vec<Opt>,
    supporters: Vec<Opt>,
    recipients: Vec<Opt>,
    cancel_href: String,
}

impl ProjectForm {
    /// The value typed in field `k`.
    fn v(&self, k: &str) -> &str {
        self.values.get(k).map_or("", String::as_str)
    }

    /// The error of field `k`.
    fn err(&self, k: &str) -> Option<&str> {
        self.errors.get(k).map(String::as_str)
    }

    /// Whether checkbox `k` is ticked.
    fn checked(&self, k: &str) -> bool {
        self.v(k) == "true"
    }
}

/// The check-box fields of the project form.
const FLAGS: [&str; 4] = ["in_plan", "continued", "grassroots", "livelihood"];
/// The amount fields of the project form, in yuan.
const AMOUNTS: [&str; 3] = ["planned_investment", "aid_funds", "matching_funds"];

fn yuan_text(f: Fen) -> String {
    f.to_yuan_string()
}

/// The form's values of a stored project.
fn values_of(p: &Project) -> HashMap<String, String> {
    let mut v = HashMap::new();
    v.insert("code".into(), p.code.clone());
    v.insert("name".into(), p.name.clone());
    v.insert("category".into(), p.category.key().into());
    v.insert("delivery_mode".into(), p.delivery_mode.key().into());
    v.insert("kind".into(), p.kind.key().into());
    v.insert("year".into(), p.year.to_string());
    for (k, b) in FLAGS
        .iter()
        .zip([p.in_plan, p.continued, p.grassroots, p.livelihood])
    {
        v.insert((*k).into(), if b { "true" } else { "false" }.into());
    }
    v.insert("supporter_code".into(), p.supporter_code.clone());
    v.insert("recipient_code".into(), p.recipient_code.clone());
    v.insert("location_code".into(), p.location_code.clone());
    for (k, f) in AMOUNTS
        .iter()
        .zip([p.planned_investment, p.aid_funds, p.matching_funds])
    {
        v.insert((*k).into(), yuan_text(f));
    }
    v.insert("start_date".into(), p.start_date.to_string());
    v.insert("end_date".into(), p.end_date.to_string());
    v.insert("description".into(), p.description.clone());
    v
}

/// The value of `r`, or `None` with its error recorded against field `k`.
fn take<T>(
    errors: &mut HashMap<String, String>,
    k: &str,
    r: Result<T, DomainError>,
    lang: Lang,
) -> Option<T> {
    r.map_err(|e| {
        errors.insert(k.to_owned(), lang.pick(&e.zh, &e.en).to_owned());
    })
    .ok()
}

/// Parses the form into a project, or the errors by field.
fn parse_project(
    v: &HashMap<String, String>,
    lang: Lang,
    code: String,
    published: bool,
) -> Result<Project, HashMap<String, String>> {
    let mut errors = HashMap::new();
    let get = |k: &str| v.get(k).map_or("", |s| s.trim());
    let category = take(
        &mut errors,
        "category",
        Category::parse(get("category")),
        lang,
    );
    let delivery_mode = take(
        &mut errors,
        "delivery_mode",
        DeliveryMode::parse(get("delivery_mode")),
        lang,
    );
    let kind = take(&mut errors, "kind", ProjectKind::parse(get("kind")), lang);
    let amounts: Vec<Option<Fen>> = AMOUNTS
        .iter()
        .map(|k| take(&mut errors, k, Fen::from_str(get(k)), lang))
        .collect();
    let mut date = |k: &str| {
        let d = NaiveDate::parse_from_str(get(k), "%Y-%m-%d").ok();
        if d.is_none() {
            errors.insert(k.to_owned(), lang.t("form.bad_date").to_owned());
        }
        d
    };
    let start_date = date("start_date");
    let end_date = date("end_date");
    let year = get("year").parse::<i32>().ok();
    if year.is_none() {
        errors.insert("year".into(), lang.t("form.bad_year").to_owned());
    }
    for k in ["name", "supporter_code", "recipient_code"] {
        if get(k).is_empty() {
            errors.insert(k.into(), lang.t("form.required").to_owned());
        }
    }
    let (
        Some(category),
        Some(delivery_mode),
        Some(kind),
        Some(start_date),
        Some(end_date),
        Some(year),
    ) = (category, delivery_mode, kind, start_date, end_date, year)
    else {
        return Err(errors);
    };
    let [Some(planned), Some(aid), Some(matching)] = [amounts[0], amounts[1], amounts[2]] else {
        return Err(errors);
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let flag = |k: &str| get(k) == "true";
    let recipient = get("recipient_code").to_owned();
    let location = match get("location_code") {
        "" => recipient.clone(),
        l => l.to_owned(),
    };
    Ok(Project {
        code,
        name: get("name").to_owned(),
        category,
        delivery_mode,
        kind,
        year,
        in_plan: flag("in_plan"),
        continued: flag("continued"),
        grassroots: flag("grassroots"),
        livelihood: flag("livelihood"),
        supporter_code: get("supporter_code").to_owned(),
        recipient_code: recipient,
        location_code: location,
        planned_investment: planned,
        aid_funds: aid,
        matching_funds: matching,
        start_date,
        end_date,
        state: ProjectState::Proposed,
        published,
        description: v.get("description").cloned().unwrap_or_default(),
    })
}

/// The field a write error belongs next to; `None` for the form as a whole.
fn field_of(code: &str) -> Option<&'static str> {
    Some(match code {
        "invalid_project_code" | "duplicate" => "code",
        "invalid_project_name" => "name",
        "negative_amount" | "funds_exceed_investment" => "aid_funds",
        "end_before_start" => "end_date",
        "invalid_year" => "year",
        "unknown_supporter" | "forbidden" => "supporter_code",
        "unknown_recipient" => "recipient_code",
        "location_outside_recipient" => "location_code",
        "state_kind_mismatch" => "kind",
        _ => return None,
    })
}

async fn project_form(
    state: &AppState,
    ctx: &Ctx,
    edit: Option<(String, i64)>,
    values: HashMap<String, String>,
    errors: HashMap<String, String>,
    global: Option<String>,
) -> Result<Response, WebError> {
    let lang = ctx.lang;
    let principal = ctx.principal()?;
    let supporters = state.store.supporters().await?;
    let recipients = state.store.recipients(false).await?;
    let names = Names::new(&supporters, &recipients, lang);
    let scope = principal.scope.clone().unwrap_or_default();
    let own: Vec<(String, String)> = supporters
        .iter()
        .filter(|s| {
            principal.role != Role::Supporter
                || s.code == scope
                || s.parent_code.as_deref() == Some(scope.as_str())
                || values.get("supporter_code") == Some(&s.code)
        })
        .map(|s| (s.code.clone(), names.supporter(&s.code)))
        .collect();
    let pick = |k: &str| values.get(k);
    let vocab = |all: Vec<(String, String)>, k: &str| options(all, pick(k));
    let title = lang.t(if edit.is_some() {
        "form.edit.title"
    } else {
        "form.new.title"
    });
    let (action, version, cancel_href) = match &edit {
        Some((code, version)) => (
            format!("/projects/{}/edit", format::url_encode(code)),
            *version,
            format!("/projects/{}", format::url_encode(code)),
        ),
        None => ("/projects/new".to_owned(), 0, "/projects".to_owned()),
    };
    let status = if errors.is_empty() && global.is_none() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let form = ProjectForm {
        c: Chrome::new(ctx, "/projects", title),
        action,
        is_edit: edit.is_some(),
        version,
        errors,
        global,
        categories: vocab(
            Category::ALL
                .iter()
                .map(|c| (c.key().into(), lang.pick(c.zh(), c.en()).into()))
                .collect(),
            "category",
        ),
        modes: vocab(
            DeliveryMode::ALL
                .iter()
                .map(|c| (c.key().into(), lang.pick(c.zh(), c.en()).into()))
                .collect(),
            "delivery_mode",
        ),
        kinds: vocab(
            ProjectKind::ALL
                .iter()
                .map(|c| (c.key().into(), lang.pick(c.zh(), c.en()).into()))
                .collect(),
            "kind",
        ),
        supporters: vocab(own, "supporter_code"),
        recipients: vocab(
            recipients
                .iter()
                .filter(|r| r.level != RecipientLevel::Region && r.code != "6590")
                .map(|r| (r.code.clone(), format!("{} {}", r.code, r.name)))
                .collect(),
            "recipient_code",
        ),
        values,
        cancel_href,
    };
    let mut response = render(&form)?;
    *response.status_mut() = status;
    Ok(response)
}

/// Only a front command drafts projects (the API's rule for creation).
fn may_draft(ctx: &Ctx) -> Result<(), WebError> {
    match &ctx.viewer {
        Viewer::User(p) if p.role == Role::Supporter => Ok(()),
        Viewer::User(_) => Err(ApiError {
            status: StatusCode::FORBIDDEN,
            code: "forbidden",
            zh: "您的角色无权执行此操作".into(),
            en: "your role may not do this".into(),
            field: None,
        }
        .into()),
        Viewer::Public => ctx.principal().map(|_| ()),
    }
}

/// `GET /projects/new`: the empty form, with a suggested code.
pub async fn new_project(State(state): State<AppState>, ctx: Ctx) -> Response {
    let result = async {
        may_draft(&ctx)?;
        let scope = ctx.principal()?.scope.clone().unwrap_or_default();
        let now = Utc::now();
        let year = now.year();
        let mut v = HashMap::new();
        v.insert(
            "code".into(),
            format!("YJ{year}-{scope}-W{}", now.format("%m%d%H%M%S")),
        );
        v.insert("year".into(), year.to_string());
        v.insert("supporter_code".into(), scope);
        v.insert("kind".into(), "construction".into());
        v.insert("in_plan".into(), "true".into());
        v.insert("start_date".into(), now.date_naive().to_string());
        v.insert(
            "end_date".into(),
            now.date_naive()
                .with_year(year + 1)
                .unwrap_or(now.date_naive())
                .to_string(),
        );
        for k in AMOUNTS {
            v.insert(k.into(), "0.00".into());
        }
        project_form(&state, &ctx, None, v, HashMap::new(), None).await
    }
    .await;
    ctx.respond(result)
}

/// `POST /projects/new`: creates the draft, or shows the form again.
pub async fn create_project(State(state): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    let result = async {
        may_draft(&ctx)?;
        let values = form_pairs(&body);
        let code = values.get("code").map_or("", |c| c.trim()).to_owned();
        let project = match parse_project(&values, ctx.lang, code, false) {
            Ok(p) => p,
            Err(errors) => return project_form(&state, &ctx, None, values, errors, None).await,
        };
        match crate::api::writes::create_project_as(&state, &ctx.caller(), project).await {
            Ok(row) => Ok(redirect(&format!(
                "/projects/{}?saved=1",
                format::url_encode(&row.project.code)
            ))),
            Err(e) => {
                let (errors, global) = place_error(&e, ctx.lang);
                project_form(&state, &ctx, None, values, errors, global).await
            }
        }
    }
    .await;
    ctx.respond(result)
}

/// Puts an API error next to its field, or above the form.
fn place_error(e: &ApiError, lang: Lang) -> (HashMap<String, String>, Option<String>) {
    let message = lang.pick(&e.zh, &e.en).to_owned();
    match field_of(e.code) {
        Some(field) => (HashMap::from([(field.to_owned(), message)]), None),
        None if e.code == "version_mismatch" => {
            (HashMap::new(), Some(lang.t("form.stale").to_owned()))
        }
        None => (HashMap::new(), Some(message)),
    }
}

/// `GET /projects/{code}/edit`: the form with the stored values.
pub async fn edit_project(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> Response {
    let result = async {
        let row =
            crate::api::writes::authorised(&state, &ctx.caller(), &code, Action::Edit).await?;
        project_form(
            &state,
            &ctx,
            Some((code, row.row_version)),
            values_of(&row.project),
            HashMap::new(),
            None,
        )
        .await
    }
    .await;
    ctx.respond(result)
}

/// `POST /projects/{code}/edit`: saves against the version the form was
/// read at; a stale version keeps the input and says what happened.
pub async fn update_project(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    body: Bytes,
) -> Response {
    let result = async {
        let current =
            crate::api::writes::authorised(&state, &ctx.caller(), &code, Action::Edit).await?;
        let mut values = form_pairs(&body);
        values.insert("code".into(), code.clone());
        let expected: i64 = values
            .get("version")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let edit = match parse_project(&values, ctx.lang, code.clone(), current.project.published) {
            Ok(p) => p,
            Err(errors) => {
                return project_form(&state, &ctx, Some((code, expected)), values, errors, None)
                    .await;
            }
        };
        match crate::api::writes::update_project_as(&state, &ctx.caller(), &code, expected, edit)
            .await
        {
            Ok(row) => Ok(redirect(&format!(
                "/projects/{}?saved=1",
                format::url_encode(&row.project.code)
            ))),
            Err(e) => {
                let (errors, global) = place_error(&e, ctx.lang);
                // After a stale save, the form carries the current version,
                // so the user can check and resubmit what they typed.
                let version = if e.code == "version_mismatch" {
                    current.row_version
                } else {
                    expected
                };
                project_form(&state, &ctx, Some((code, version)), values, errors, global).await
            }
        }
    }
    .await;
    ctx.respond(result)
}

/// Where to go after a project-page form: `back` if it is a local path.
fn after(values: &HashMap<String, String>, code: &str) -> Response {
    match values.get("back").filter(|b| is_local_path(b)) {
        Some(back) => redirect(back),
        None => redirect(&format!("/projects/{}?saved=1", format::url_encode(code))),
    }
}

/// Shows the project page again with the form's error and input.
async fn again(
    state: &AppState,
    ctx: &Ctx,
    code: &str,
    form: &'static str,
    field: &str,
    e: &ApiError,
    values: HashMap<String, String>,
) -> Result<Response, WebError> {
    let message = if e.code == "version_mismatch" {
        ctx.lang.t("form.stale").to_owned()
    } else {
        ctx.lang.pick(&e.zh, &e.en).to_owned()
    };
    let fb = Feedback {
        form,
        field: field.to_owned(),
        message,
        values,
    };
    project_page(state, ctx, code, fb, false).await
}

/// `POST /projects/{code}/state`: a lifecycle change.
pub async fn change_state(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    body: Bytes,
) -> Response {
    let result = async {
        ctx.principal()?;
        let values = form_pairs(&body);
        let get = |k: &str| values.get(k).map_or("", |s| s.trim());
        let expected: i64 = get("version").parse().unwrap_or(0);
        let to = match ProjectState::parse(get("to")) {
            Ok(to) => to,
            Err(e) => {
                let e = ApiError::bad_parameter("to", e);
                return again(&state, &ctx, &code, "state", "to", &e, values).await;
            }
        };
        let reason = get("reason").to_owned();
        match crate::api::writes::change_state_as(
            &state,
            &ctx.caller(),
            &code,
            expected,
            to,
            &reason,
        )
        .await
        {
            Ok(_) => Ok(after(&values, &code)),
            Err(e) if e.status == StatusCode::NOT_FOUND => Err(e.into()),
            Err(e) => again(&state, &ctx, &code, "state", "to", &e, values).await,
        }
    }
    .await;
    ctx.respond(result)
}

/// `POST /projects/{code}/transactions`: records a fund transaction.
pub async fn add_transaction(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    body: Bytes,
) -> Response {
    let result = async {
        ctx.principal()?;
        let values = form_pairs(&body);
        let get = |k: &str| values.get(k).map_or("", |s| s.trim());
        let fund_type = match FundType::parse(get("fund_type")) {
            Ok(f) => f,
            Err(e) => {
                let e = ApiError::bad_parameter("fund_type", e);
                return again(&state, &ctx, &code, "txn", "fund_type", &e, values).await;
            }
        };
        let amount = match Fen::from_str(get("amount")) {
            Ok(a) => a,
            Err(e) => {
                let e = ApiError::bad_parameter("amount", e);
                return again(&state, &ctx, &code, "txn", "amount", &e, values).await;
            }
        };
        let Ok(date) = NaiveDate::parse_from_str(get("date"), "%Y-%m-%d") else {
            let e = ApiError::bad_parameter(
                "date",
                DomainError::new(
                    "invalid_date",
                    Lang::Zh.t("form.bad_date"),
                    Lang::En.t("form.bad_date"),
                ),
            );
            return again(&state, &ctx, &code, "txn", "date", &e, values).await;
        };
        let txn = FundTransaction {
            project_code: code.clone(),
            fund_type,
            amount,
            date,
            document_no: get("document_no").to_owned(),
            note: get("note").to_owned(),
        };
        match crate::api::writes::add_transaction_as(&state, &ctx.caller(), &code, txn).await {
            Ok(_) => Ok(after(&values, &code)),
            Err(e) if e.status == StatusCode::NOT_FOUND => Err(e.into()),
            Err(e) => {
                let field = match e.code {
                    "invalid_document_no" | "duplicate" => "document_no",
                    _ => "amount",
                };
                again(&state, &ctx, &code, "txn", field, &e, values).await
            }
        }
    }
    .await;
    ctx.respond(result)
}

/// `POST /projects/{code}/approval`: submit, review, approve or return.
pub async fn take_step(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    body: Bytes,
) -> Response {
    let result = async {
        ctx.principal()?;
        let values = form_pairs(&body);
        let get = |k: &str| values.get(k).map_or("", |s| s.trim());
        let expected: i64 = get("version").parse().unwrap_or(0);
        let step = match ApprovalStep::parse(get("step")) {
            Ok(s) => s,
            Err(e) => {
                let e = ApiError::bad_parameter("step", e);
                return again(&state, &ctx, &code, "step", "", &e, values).await;
            }
        };
        let comment = values.get("comment").cloned().unwrap_or_default();
        match crate::api::writes::take_step_as(
            &state,
            &ctx.caller(),
            &code,
            expected,
            step,
            &comment,
        )
        .await
        {
            Ok(_) => Ok(after(&values, &code)),
            Err(e) if e.status == StatusCode::NOT_FOUND => Err(e.into()),
            Err(e) => {
                let field = if e.code.starts_with("comment_") {
                    "comment"
                } else {
                    ""
                };
                again(&state, &ctx, &code, "step", field, &e, values).await
            }
        }
    }
    .await;
    ctx.respond(result)
}

/// An item of the inbox.
pub struct InboxRow {
    /// Code.
    pub code: String,
    /// Link to the project.
    pub href: String,
    /// Name.
    pub name: String,
    /// Supporter → recipient.
    pub parties: String,
    /// Approval status.
    pub status: &'static str,
    /// How long it has waited.
    pub waited: String,
    /// Aid funds in 万元.
    pub aid: String,
    /// Version for the step form.
    pub version: i64,
    /// Steps the viewer may take.
    pub steps: Vec<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    c: Chrome,
    rows: Vec<InboxRow>,
    has_inbox: bool,
}

/// `GET /inbox`: what waits for the signed-in user, oldest first.
pub async fn inbox(State(state): State<AppState>, ctx: Ctx) -> Response {
    let result = async {
        let lang = ctx.lang;
        let principal = ctx.principal()?;
        let has_inbox = matches!(
            principal.role,
            Role::Supporter | Role::Prefecture | Role::Region
        );
        let items = state.store.inbox(principal, 200).await?;
        let supporters = state.store.supporters().await?;
        let recipients = state.store.recipients(false).await?;
        let names = Names::new(&supporters, &recipients, lang);
        let parents: HashMap<&str, Option<&str>> = supporters
            .iter()
            .map(|s| (s.code.as_str(), s.parent_code.as_deref()))
            .collect();
        let now = Utc::now();
        let rows = items
            .iter()
            .map(|i| {
                let p = &i.project.project;
                let owner = Owner {
                    supporter_code: &p.supporter_code,
                    recipient_code: &p.recipient_code,
                    published: p.published,
                };
                let parent = parents.get(p.supporter_code.as_str()).copied().flatten();
                let steps = ApprovalStep::ALL
                    .iter()
                    .filter_map(|s| {
                        let (_, needed) = s.apply(i.project.approval).ok()?;
                        ctx.viewer
                            .may(needed, owner, parent)
                            .then(|| (s.key(), lang.pick(s.zh(), s.en())))
                    })
                    .collect();
                InboxRow {
                    href: format!("/projects/{}", format::url_encode(&p.code)),
                    code: p.code.clone(),
                    name: p.name.clone(),
                    parties: format!(
                        "{} → {}",
                        names.supporter(&p.supporter_code),
                        names.recipient(&p.recipient_code)
                    ),
                    status: lang.pick(i.project.approval.zh(), i.project.approval.en()),
                    waited: i.waiting_since.map_or_else(
                        || "—".to_owned(),
                        |s| duration((now - s).num_seconds(), lang),
                    ),
                    aid: wan(p.aid_funds),
                    version: i.project.row_version,
                    steps,
                }
            })
            .collect();
        render(&InboxPage {
            c: Chrome::new(&ctx, "/inbox", lang.t("inbox.title")),
            rows,
            has_inbox,
        })
    }
    .await;
    ctx.respond(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_form_names_each_field_and_a_good_one_parses() {
        let mut v: HashMap<String, String> = [
            ("name", "疏附县职业技术学校实训楼"),
            ("category", "education"),
            ("delivery_mode", "turnkey"),
            ("kind", "construction"),
            ("year", "2026"),
            ("supporter_code", "31"),
            ("recipient_code", "653121"),
            ("planned_investment", "1,000.00"),
            ("aid_funds", "800"),
            ("matching_funds", "x"),
            ("start_date", "2026-03-01"),
            ("end_date", "2026/12/31"),
            ("grassroots", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let errors = parse_project(&v, Lang::En, "YJ-1".into(), false).expect_err("bad");
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors["matching_funds"].contains("amount"));
        assert!(errors["end_date"].contains("YYYY-MM-DD"));
        v.insert("matching_funds".into(), "0".into());
        v.insert("end_date".into(), "2026-12-31".into());
        let p = parse_project(&v, Lang::Zh, "YJ-1".into(), false).expect("good");
        assert_eq!(p.planned_investment, Fen(100_000));
        assert_eq!(p.location_code, "653121");
        assert!(p.grassroots && !p.livelihood);
        assert_eq!(
            field_of("location_outside_recipient"),
            Some("location_code")
        );
    }
}
