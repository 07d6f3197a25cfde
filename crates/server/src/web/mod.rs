//! The web pages: server-rendered HTML (askama templates in `templates/`)
//! for every role, zh-CN first with an English switch kept in the `lang`
//! cookie. Pages read through the same store calls and scope rules as the
//! JSON API, and write through the API's own write functions
//! (`api::writes::*_as`), so a page can never see or do more than the API.
//!
//! Everything the browser needs comes from this binary: one stylesheet and
//! an icon under `/assets/`, charts as inline SVG drawn here. There is no
//! script at all, so the strict Content-Security-Policy below allows none.

mod attachments;
pub(crate) mod charts;
mod dashboard;
mod evaluation;
mod exchange;
mod format;
mod forms;
pub mod i18n;
mod oversight;
mod people;
mod portal;
mod registry;

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, Query};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, LOCATION, REFERRER_POLICY,
    SET_COOKIE, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use yuanjiang_domain::{Role, Viewer};
use yuanjiang_store::StoreError;

use crate::auth::{Authenticated, Credential};
use crate::{ApiError, AppState};

pub use i18n::Lang;

/// The cookie that remembers the language.
pub const LANG_COOKIE: &str = "lang";

/// The Content-Security-Policy of every page: nothing but this server, no
/// inline script or style, no framing.
pub const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
     script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The page routes (merged into [`crate::app`] inside the authentication layer).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard::page))
        .route("/projects", get(registry::list))
        .route(
            "/projects/new",
            get(forms::new_project).post(forms::create_project),
        )
        .route("/projects/{code}", get(registry::project))
        .route(
            "/projects/{code}/edit",
            get(forms::edit_project).post(forms::update_project),
        )
        .route("/projects/{code}/state", post(forms::change_state))
        .route(
            "/projects/{code}/transactions",
            post(forms::add_transaction),
        )
        .route("/projects/{code}/approval", post(forms::take_step))
        .route("/inbox", get(forms::inbox))
        .route("/personnel", get(people::personnel))
        .route("/pairings", get(people::pairings))
        .route("/evaluation", get(evaluation::evaluation))
        .route("/audit", get(oversight::audit))
        .route(
            "/admin/users",
            get(oversight::users).post(oversight::create_user),
        )
        .route(
            "/admin/users/{name}/disable",
            axum::routing::post(oversight::disable_user),
        )
        .route("/public", get(portal::page))
        .route("/lang", get(switch_language))
        .route("/assets/{name}", get(asset))
        .route("/favicon.ico", get(favicon))
        .merge(exchange::routes())
        .merge(attachments::routes())
        .layer(axum::middleware::map_response(security_headers))
}

/// Adds the security headers to every page; pages are not cached (they
/// show what one user may see), assets set their own caching.
async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(CACHE_CONTROL) {
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Who is asking, in which language, with the session's CSRF token for forms.
pub struct Ctx {
    /// The page language.
    pub lang: Lang,
    /// The caller.
    pub viewer: Viewer,
    /// The session's CSRF token, for the forms of a signed-in user.
    pub csrf: String,
    /// The path and query of this request, to come back to after a switch.
    pub here: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let lang = parts
            .headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|c| c.trim().split_once('='))
            .find(|(k, _)| *k == LANG_COOKIE)
            .map_or(
                Lang::Zh,
                |(_, v)| if v.trim() == "en" { Lang::En } else { Lang::Zh },
            );
        let Some(auth) = parts.extensions.get::<Authenticated>() else {
            return Err(
                ApiError::internal(&"authentication layer missing on a page").into_response(),
            );
        };
        let csrf = match &auth.credential {
            Credential::Session { csrf_token, .. } => csrf_token.expose().to_owned(),
            _ => String::new(),
        };
        Ok(Ctx {
            lang,
            viewer: auth.viewer.clone(),
            csrf,
            here: parts
                .uri
                .path_and_query()
                .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned()),
        })
    }
}

/// A link in the navigation bar.
pub struct NavLink {
    /// Target.
    pub href: &'static str,
    /// Label.
    pub label: &'static str,
    /// Whether it is the current section.
    pub current: bool,
}

/// What every page shows around its content: title, navigation, the user,
/// the language switch.
pub struct Chrome {
    /// Page language.
    pub lang: Lang,
    /// The `<title>` and `<h1>`.
    pub title: String,
    /// Navigation links the viewer may use.
    pub nav: Vec<NavLink>,
    /// "name · role" of the signed-in user.
    pub user: Option<String>,
    /// CSRF token for forms.
    pub csrf: String,
    /// The link that switches language and comes back here.
    pub lang_href: String,
    /// The stylesheet URL, versioned for caching.
    pub css: String,
    /// The icon URL.
    pub icon: String,
}

impl Chrome {
    /// Builds the chrome of a page in section `current` titled `title_key`.
    pub fn new(ctx: &Ctx, current: &str, title: impl Into<String>) -> Chrome {
        let lang = ctx.lang;
        let mut nav = vec![("/", "nav.home"), ("/projects", "nav.projects")];
        if let Viewer::User(p) = &ctx.viewer {
            if matches!(p.role, Role::Supporter | Role::Prefecture | Role::Region) {
                nav.push(("/inbox", "nav.inbox"));
            }
            nav.push(("/personnel", "nav.personnel"));
            if exchange::may_import(&ctx.viewer) {
                nav.push(("/import", "nav.import"));
            }
        }
        nav.push(("/pairings", "nav.pairings"));
        if ctx.viewer.sees_whole_programme() {
            nav.push(("/evaluation", "nav.evaluation"));
        }
        if ctx.viewer.may_read_audit() {
            nav.push(("/audit", "nav.audit"));
        }
        if ctx.viewer.may_administer() {
            nav.push(("/admin/users", "nav.users"));
        }
        nav.push(("/public", "nav.public"));
        let user = match &ctx.viewer {
            Viewer::User(p) => Some(format!(
                "{} · {}",
                p.name,
                lang.pick(p.role.zh(), p.role.en())
            )),
            Viewer::Public => None,
        };
        let other = match lang {
            Lang::Zh => "en",
            Lang::En => "zh",
        };
        Chrome {
            lang,
            title: title.into(),
            nav: nav
                .into_iter()
                .map(|(href, key)| NavLink {
                    href,
                    label: lang.t(key),
                    current: href == current,
                })
                .collect(),
            user,
            csrf: ctx.csrf.clone(),
            lang_href: format!("/lang?to={other}&back={}", format::url_encode(&ctx.here)),
            css: format!("/assets/app.css?v={}", asset_version(CSS)),
            icon: format!("/assets/icon.svg?v={}", asset_version(ICON)),
        }
    }

    /// A word of the page's language (see [`i18n::WORDS`]).
    pub fn t(&self, key: &str) -> &'static str {
        self.lang.t(key)
    }
}

/// A page failure, shown as a page in the user's language.
#[derive(Debug)]
pub struct WebError {
    status: StatusCode,
    zh: String,
    en: String,
}

impl WebError {
    /// 404: absent, or outside the caller's scope (the two look the same).
    pub fn not_found() -> WebError {
        WebError {
            status: StatusCode::NOT_FOUND,
            zh: i18n::Lang::Zh.t("error.not_found").to_owned(),
            en: i18n::Lang::En.t("error.not_found").to_owned(),
        }
    }
}

impl From<ApiError> for WebError {
    fn from(e: ApiError) -> WebError {
        if e.status == StatusCode::NOT_FOUND {
            return WebError::not_found();
        }
        WebError {
            status: e.status,
            zh: e.zh,
            en: e.en,
        }
    }
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> WebError {
        ApiError::from(e).into()
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> WebError {
        ApiError::internal(&e).into()
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    c: Chrome,
    message: String,
    signed_in: bool,
}

impl Ctx {
    /// Turns a page result into a response; an error becomes an error page
    /// (or, for the public on a page that needs sign-in, the login form).
    pub fn respond(&self, result: Result<Response, WebError>) -> Response {
        let e = match result {
            Ok(r) => return r,
            Err(e) => e,
        };
        if e.status == StatusCode::UNAUTHORIZED && self.viewer == Viewer::Public {
            return redirect("/login");
        }
        let page = ErrorPage {
            c: Chrome::new(self, "", self.lang.t("error.title")),
            message: self.lang.pick(&e.zh, &e.en).to_owned(),
            signed_in: self.viewer != Viewer::Public,
        };
        match page.render() {
            Ok(html) => (e.status, Html(html)).into_response(),
            Err(err) => ApiError::internal(&err).into_response(),
        }
    }

    /// The signed-in principal, or 401 (which sends the public to the login form).
    pub fn principal(&self) -> Result<&yuanjiang_domain::Principal, WebError> {
        match &self.viewer {
            Viewer::User(p) => Ok(p),
            Viewer::Public => Err(WebError {
                status: StatusCode::UNAUTHORIZED,
                zh: Lang::Zh.t("error.login_required").to_owned(),
                en: Lang::En.t("error.login_required").to_owned(),
            }),
        }
    }

    /// The caller as the API functions take it.
    pub fn caller(&self) -> crate::Caller {
        crate::Caller(self.viewer.clone())
    }
}

/// Renders a template as a 200 page.
pub fn render<T: Template>(page: &T) -> Result<Response, WebError> {
    Ok(Html(page.render()?).into_response())
}

/// A 303 to `to` (after a form, so that reloading does not resubmit).
pub fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

/// Whether `back` is a path on this site (not `//host` or a full URL).
pub fn is_local_path(back: &str) -> bool {
    back.starts_with('/') && !back.starts_with("//") && !back.contains('\\')
}

/// `GET /lang?to=en&back=/projects`: remembers the language and goes back.
async fn switch_language(Query(q): Query<HashMap<String, String>>) -> Response {
    let lang = if q.get("to").map(String::as_str) == Some("en") {
        "en"
    } else {
        "zh"
    };
    let back = q
        .get("back")
        .filter(|b| is_local_path(b))
        .map_or("/", String::as_str);
    let mut r = redirect(back);
    let cookie = format!("{LANG_COOKIE}={lang}; Path=/; Max-Age=31536000; SameSite=Lax");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(SET_COOKIE, v);
    }
    r
}

const CSS: &[u8] = include_bytes!("../../assets/app.css");
const ICON: &[u8] = include_bytes!("../../assets/icon.svg");

/// A short content hash (FNV-1a), so that a changed asset gets a new URL
/// and an unchanged one can be cached for a year.
fn asset_version(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:08x}", h >> 32)
}

/// `GET /assets/{name}`: the stylesheet and icon, compiled into the binary.
async fn asset(axum::extract::Path(name): axum::extract::Path<String>, uri: Uri) -> Response {
    let (bytes, kind) = match name.as_str() {
        "app.css" => (CSS, "text/css; charset=utf-8"),
        "icon.svg" => (ICON, "image/svg+xml"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    // Versioned URLs never change; an unversioned one is revalidated.
    let cache = if uri.query().is_some_and(|q| q.starts_with("v=")) {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static(kind)),
            (CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        bytes,
    )
        .into_response()
}

/// `GET /favicon.ico`: the icon, for browsers that ask before reading the page.
async fn favicon() -> Response {
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static("image/svg+xml")),
            (
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            ),
        ],
        ICON,
    )
        .into_response()
}

/// Answers an unknown path: JSON under `/api/`, a page elsewhere.
pub async fn fallback(ctx: Ctx, uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return ApiError::not_found("页面", "page").into_response();
    }
    security_headers(ctx.respond(Err(WebError::not_found()))).await
}

/// Parses a form body into pairs; an unreadable body is empty.
pub fn form_pairs(body: &[u8]) -> HashMap<String, String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .unwrap_or_default()
        .into_iter()
        .collect()
}

/// The non-empty query parameters, as the registry and dashboard forms
/// send every field, filled or not.
pub fn filled(params: HashMap<String, String>) -> HashMap<String, String> {
    params
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .collect()
}
