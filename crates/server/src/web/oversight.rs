//! `/audit` 审计 for auditors (and administrators): the hash-chained audit
//! trail, filtered and paged; `/admin/users` for administrators: the
//! accounts with their role, scope and state. Both answer 404 to anyone
//! else, like any record outside the caller's scope.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use yuanjiang_store::AuditFilter;

use super::format::{self, Names};
use super::{Chrome, Ctx, WebError, filled, render};
use crate::AppState;

/// Audit entries per page.
const PAGE: u32 = 100;
/// Characters of a change shown before it is cut.
const CHANGE_CHARS: usize = 240;

/// An audit row.
pub struct AuditRow {
    /// Position in the chain.
    pub id: i64,
    /// When (UTC).
    pub at: String,
    /// Who.
    pub actor: String,
    /// What was done.
    pub action: String,
    /// Kind of record.
    pub entity: String,
    /// The record.
    pub key: String,
    /// The record after the change (cut).
    pub change: String,
    /// The start of the entry's hash.
    pub hash: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    c: Chrome,
    entity: String,
    key: String,
    actor: String,
    rows: Vec<AuditRow>,
    next_href: Option<String>,
}

fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(n).collect();
        out.push('…');
        out
    }
}

/// `GET /audit`: the audit trail, for those who may read it.
pub async fn audit(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let result = async {
        ctx.principal()?;
        if !ctx.viewer.may_read_audit() {
            return Err(WebError::not_found());
        }
        let params = filled(params);
        let get = |k: &str| params.get(k).cloned();
        let filter = AuditFilter {
            entity: get("entity"),
            entity_key: get("key"),
            actor: get("actor"),
        };
        let after = get("after").and_then(|a| a.parse::<i64>().ok());
        let page = state.store.audit_entries(&filter, after, PAGE).await?;
        let rows = page
            .items
            .iter()
            .map(|r| AuditRow {
                id: r.id,
                at: r.at.clone(),
                actor: r.actor.clone(),
                action: r.action.clone(),
                entity: r.entity.clone(),
                key: r.entity_key.clone(),
                change: cut(
                    r.after_json
                        .as_deref()
                        .or(r.before_json.as_deref())
                        .unwrap_or(""),
                    CHANGE_CHARS,
                ),
                hash: r.hash.chars().take(12).collect(),
            })
            .collect();
        let next_href = page.next_cursor.as_deref().map(|c| {
            let mut pairs: Vec<(&str, &str)> = ["entity", "key", "actor"]
                .into_iter()
                .filter_map(|k| params.get(k).map(|v| (k, v.as_str())))
                .collect();
            pairs.push(("after", c));
            format!("/audit?{}", format::query_string(pairs))
        });
        render(&AuditPage {
            c: Chrome::new(&ctx, "/audit", ctx.lang.t("audit.title")),
            entity: get("entity").unwrap_or_default(),
            key: get("key").unwrap_or_default(),
            actor: get("actor").unwrap_or_default(),
            rows,
            next_href,
        })
    }
    .await;
    ctx.respond(result)
}

/// An account row.
pub struct UserRow {
    /// User name.
    pub name: String,
    /// Role label.
    pub role: &'static str,
    /// Scope name, if any.
    pub scope: String,
    /// Active, disabled or locked.
    pub status: String,
    /// Created (UTC).
    pub created: String,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    c: Chrome,
    rows: Vec<UserRow>,
    /// A failed action's message, in the page language.
    error: Option<String>,
    /// The new-account form as last submitted (kept on an error).
    form: NewUserForm,
}

/// The new-account form.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct NewUserForm {
    /// Account name.
    #[serde(default)]
    pub name: String,
    /// Role key.
    #[serde(default)]
    pub role: String,
    /// Scope code (supporter or recipient).
    #[serde(default)]
    pub scope: String,
    /// Initial password (never re-shown).
    #[serde(default, skip_serializing)]
    pub password: String,
}

/// `POST /admin/users`: creates an account (administrators only).
pub async fn create_user(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::Form(form): axum::Form<NewUserForm>,
) -> Response {
    let outcome = async {
        ctx.principal()?;
        if !ctx.viewer.may_administer() {
            return Err(WebError::not_found());
        }
        let role = yuanjiang_domain::Role::parse(&form.role);
        let made = match role {
            Ok(role) => {
                let principal = yuanjiang_domain::Principal {
                    name: form.name.trim().to_owned(),
                    role,
                    scope: Some(form.scope.trim().to_owned()).filter(|s| !s.is_empty()),
                };
                state
                    .store
                    .create_user(
                        &principal,
                        &yuanjiang_store::Secret::new(form.password.clone()),
                    )
                    .await
                    .map(|_| ())
                    .map_err(|e| match e {
                        yuanjiang_store::StoreError::Rule(r) => {
                            ctx.lang.pick(&r.zh, &r.en).to_owned()
                        }
                        other => other.to_string(),
                    })
            }
            Err(e) => Err(ctx.lang.pick(&e.zh, &e.en).to_owned()),
        };
        Ok(made)
    }
    .await;
    match outcome {
        Ok(Ok(())) => axum::response::Redirect::to("/admin/users").into_response(),
        Ok(Err(message)) => {
            let mut kept = form.clone();
            kept.password.clear();
            users_page(state, ctx, Some(message), kept).await
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

/// `POST /admin/users/{name}/disable`: disables an account and ends its sessions.
pub async fn disable_user(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> Response {
    let result = async {
        ctx.principal()?;
        if !ctx.viewer.may_administer() {
            return Err(WebError::not_found());
        }
        state.store.disable_user(&name).await?;
        Ok(axum::response::Redirect::to("/admin/users").into_response())
    }
    .await;
    ctx.respond(result)
}

/// `GET /admin/users`: the accounts, for administrators.
pub async fn users(State(state): State<AppState>, ctx: Ctx) -> Response {
    users_page(state, ctx, None, NewUserForm::default()).await
}

async fn users_page(
    state: AppState,
    ctx: Ctx,
    error: Option<String>,
    form: NewUserForm,
) -> Response {
    let result = async {
        ctx.principal()?;
        if !ctx.viewer.may_administer() {
            return Err(WebError::not_found());
        }
        let lang = ctx.lang;
        let users = state.store.users().await?;
        let supporters = state.store.supporters().await?;
        let recipients = state.store.recipients(false).await?;
        let names = Names::new(&supporters, &recipients, lang);
        let now = chrono::Utc::now();
        let rows = users
            .iter()
            .map(|u| {
                let p = &u.principal;
                let scope = p
                    .scope
                    .as_deref()
                    .map_or_else(String::new, |s| match p.role {
                        yuanjiang_domain::Role::Supporter => format!("{s} {}", names.supporter(s)),
                        _ => format!("{s} {}", names.recipient(s)),
                    });
                let status = if u.disabled {
                    lang.t("users.disabled").to_owned()
                } else if let Some(until) = u.locked_until.filter(|t| *t > now) {
                    format!(
                        "{} {}",
                        lang.t("users.locked"),
                        until.format("%Y-%m-%d %H:%M UTC")
                    )
                } else {
                    lang.t("users.active").to_owned()
                };
                UserRow {
                    name: p.name.clone(),
                    role: lang.pick(p.role.zh(), p.role.en()),
                    scope,
                    status,
                    created: u.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                }
            })
            .collect();
        let status = if error.is_some() {
            axum::http::StatusCode::UNPROCESSABLE_ENTITY
        } else {
            axum::http::StatusCode::OK
        };
        render(&UsersPage {
            c: Chrome::new(&ctx, "/admin/users", lang.t("users.title")),
            rows,
            error: error.clone(),
            form: form.clone(),
        })
        .map(|mut r| {
            *r.status_mut() = status;
            r
        })
    }
    .await;
    ctx.respond(result)
}
