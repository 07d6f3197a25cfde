//! Sign-in and who is calling: the authentication layer, CSRF protection,
//! the login form, sign-out and `GET /api/v1/me`.
//!
//! [`authenticate`] runs on every request of the router. It resolves the
//! caller from `Authorization: Bearer <token>`, else from the `yj_session`
//! cookie, else the public, and refuses a credential that is present but no
//! longer good (401) rather than quietly treating the caller as the public.
//! Because a cookie is sent by the browser on its own, a state-changing
//! request authenticated by the cookie must also carry the session's CSRF
//! token (header `X-CSRF-Token` or form field `csrf_token`), else 403
//! `csrf_rejected`. A bearer token is never sent by the browser on its own,
//! so token requests need no CSRF token.
//!
//! The login form, which has no session yet, uses a double-submit cookie:
//! the form's hidden token must equal the `yj_login_csrf` cookie.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, LOCATION,
    RETRY_AFTER, SET_COOKIE, WWW_AUTHENTICATE, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use chrono::{DateTime, FixedOffset, Utc};
use serde::Deserialize;
use serde_json::json;
use yuanjiang_domain::{Principal, Viewer};
use yuanjiang_store::{AuditEntry, Login, Secret, Store};

use crate::{ApiError, AppState, MAX_BODY_BYTES};

/// The session cookie.
pub const SESSION_COOKIE: &str = "yj_session";
/// The double-submit cookie of the login form.
pub const LOGIN_CSRF_COOKIE: &str = "yj_login_csrf";
/// The header that carries the session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The form field that carries a CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";

/// Session cookie lifetime in the browser; the server ends the session
/// after 12 hours anyway (and after 30 idle minutes).
const SESSION_COOKIE_MAX_AGE: i64 = 12 * 3600;

/// Sign-in settings of a deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// Always mark cookies `Secure`. Without it they are `Secure` when the
    /// load balancer says the request came over TLS (`X-Forwarded-Proto: https`).
    pub secure_cookies: bool,
    /// Take the client address for the login rate limit from the last
    /// `X-Forwarded-For` entry (set this only behind a proxy that adds it;
    /// otherwise clients could pick their own address).
    pub trust_forwarded_for: bool,
    /// Login attempts allowed per client address per minute.
    pub login_attempts_per_minute: usize,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            secure_cookies: false,
            trust_forwarded_for: false,
            login_attempts_per_minute: 10,
        }
    }
}

/// The authentication layer's state: the store, the settings and the
/// login rate limiter. One `Arc`: the layer clones it for every request.
#[derive(Clone)]
pub struct Auth(Arc<AuthShared>);

struct AuthShared {
    store: Store,
    config: AuthConfig,
    limiter: LoginLimiter,
}

impl Auth {
    /// Builds the layer's state for one router.
    pub fn new(store: Store, config: AuthConfig) -> Auth {
        let limiter = LoginLimiter::new(config.login_attempts_per_minute, Duration::from_secs(60));
        Auth(Arc::new(AuthShared {
            store,
            config,
            limiter,
        }))
    }
}

/// Login attempts per client address in a sliding one-minute window.
///
/// Kept in memory rather than with tower_governor: the limit must apply to
/// one route only, answer with our own bilingual page, and work when the
/// peer address is absent (tests, Unix sockets); that is a few lines here.
/// With several app nodes each node counts on its own; the per-account
/// lock-out, which is in the database, is what bounds guessing overall.
struct LoginLimiter {
    per_window: usize,
    window: Duration,
    attempts: Mutex<HashMap<Option<IpAddr>, VecDeque<Instant>>>,
}

/// Addresses tracked before stale ones are swept out.
const LIMITER_SWEEP_AT: usize = 10_000;

impl LoginLimiter {
    fn new(per_window: usize, window: Duration) -> LoginLimiter {
        LoginLimiter {
            per_window,
            window,
            attempts: Mutex::new(HashMap::new()),
        }
    }

    /// Counts an attempt from `client`; `Err(wait)` if it is over the limit.
    fn check(&self, client: Option<IpAddr>, now: Instant) -> Result<(), Duration> {
        // A poisoned lock only means another request panicked mid-update;
        // the counts are still usable.
        let mut attempts = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        let window = self.window;
        if attempts.len() >= LIMITER_SWEEP_AT {
            attempts.retain(|_, q| q.back().is_some_and(|&t| now.duration_since(t) < window));
        }
        let queue = attempts.entry(client).or_default();
        while queue
            .front()
            .is_some_and(|&t| now.duration_since(t) >= window)
        {
            queue.pop_front();
        }
        if queue.len() >= self.per_window {
            let oldest = queue.front().copied().unwrap_or(now);
            return Err(window.saturating_sub(now.duration_since(oldest)));
        }
        queue.push_back(now);
        Ok(())
    }
}

/// How the caller proved who they are.
#[derive(Clone)]
pub enum Credential {
    /// Nothing: the public.
    Anonymous,
    /// An API token in the `Authorization` header.
    Token,
    /// The session cookie.
    Session {
        /// The session id from the cookie.
        id: Secret,
        /// The session's CSRF token.
        csrf_token: Secret,
    },
}

/// The caller as established by [`authenticate`], kept in the request's extensions.
#[derive(Clone)]
pub struct Authenticated {
    /// Who is calling.
    pub viewer: Viewer,
    /// How they proved it.
    pub credential: Credential,
}

/// The client's address as far as it is known, for the login rate limit.
#[derive(Debug, Clone, Copy)]
struct ClientAddr(Option<IpAddr>);

/// The routes of this module: the login form, sign-out and `/api/v1/me`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/api/v1/me", get(me))
}

/// Whether a request may change state (everything but GET, HEAD, OPTIONS, TRACE).
fn is_unsafe(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// A cookie's value from the request, if present and non-empty.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty())
        .map(|(_, v)| v.trim())
}

/// Whether the request reached the load balancer over TLS.
fn came_over_tls(headers: &HeaderMap, config: &AuthConfig) -> bool {
    config.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value with our fixed attributes.
fn set_cookie(
    name: &str,
    value: &str,
    path: &str,
    max_age: i64,
    same_site: &str,
    secure: bool,
) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!(
        "{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite={same_site}{secure}"
    );
    // Names and values are ours (hex), so the header is always valid.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Clears the session cookie in the browser.
fn clear_session_cookie(secure: bool) -> HeaderValue {
    set_cookie(SESSION_COOKIE, "", "/", 0, "Lax", secure)
}

fn unauthorized(code: &'static str, zh: &str, en: &str) -> ApiError {
    ApiError {
        status: StatusCode::UNAUTHORIZED,
        code,
        zh: zh.to_owned(),
        en: en.to_owned(),
        field: None,
    }
}

fn csrf_rejected() -> ApiError {
    ApiError {
        status: StatusCode::FORBIDDEN,
        code: "csrf_rejected",
        zh: "缺少或错误的 CSRF 令牌：请在 X-CSRF-Token 请求头或 csrf_token 表单字段中提交本会话的令牌（见 GET /api/v1/me）".into(),
        en: "missing or wrong CSRF token: send this session's token in the X-CSRF-Token header or the csrf_token form field (see GET /api/v1/me)".into(),
        field: None,
    }
}

/// The client address: the last `X-Forwarded-For` entry when configured to
/// trust it, else the peer of the connection.
fn client_addr(req: &Request, config: &AuthConfig) -> Option<IpAddr> {
    if config.trust_forwarded_for {
        let forwarded = req
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|v| v.trim().parse::<IpAddr>().ok())
            .next_back();
        if forwarded.is_some() {
            return forwarded;
        }
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// The authentication layer: establishes the caller of every request and
/// enforces CSRF on cookie-authenticated state-changing requests.
pub async fn authenticate(State(auth): State<Auth>, mut req: Request, next: Next) -> Response {
    let now = Utc::now();
    let secure = came_over_tls(req.headers(), &auth.0.config);
    let path = req.uri().path();
    // The login form has its own CSRF check and must work whatever stale
    // cookie the browser still holds; sign-out must too.
    let is_login = path == "/login";
    let is_logout = path == "/logout";
    let resolved = if is_login {
        Ok(Authenticated {
            viewer: Viewer::Public,
            credential: Credential::Anonymous,
        })
    } else {
        resolve(&auth.0.store, req.headers(), now).await
    };
    let authenticated = match resolved {
        Ok(a) => a,
        Err(Refusal::Stale) if is_logout => Authenticated {
            viewer: Viewer::Public,
            credential: Credential::Anonymous,
        },
        Err(Refusal::Stale) => {
            let e = unauthorized(
                "session_expired",
                "会话已过期或无效，请重新登录",
                "the session has expired or is invalid; please sign in again",
            );
            return ([(SET_COOKIE, clear_session_cookie(secure))], e).into_response();
        }
        Err(Refusal::BadToken) => {
            let e = unauthorized(
                "invalid_token",
                "API 令牌无效、已过期或已吊销",
                "the API token is invalid, expired or revoked",
            );
            return ([(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))], e).into_response();
        }
        Err(Refusal::Internal(e)) => return ApiError::from(e).into_response(),
    };
    if let Credential::Session { csrf_token, .. } = &authenticated.credential
        && is_unsafe(req.method())
    {
        let (passed, rebuilt) = check_csrf(req, csrf_token).await;
        if !passed {
            return csrf_rejected().into_response();
        }
        req = rebuilt;
    }
    let client = ClientAddr(client_addr(&req, &auth.0.config));
    req.extensions_mut().insert(client);
    req.extensions_mut().insert(authenticated);
    req.extensions_mut().insert(auth);
    next.run(req).await
}

/// Why a presented credential was refused.
enum Refusal {
    /// The session cookie names no live session.
    Stale,
    /// The bearer token is malformed, unknown, expired or revoked.
    BadToken,
    /// The store failed.
    Internal(yuanjiang_store::StoreError),
}

/// Resolves the caller from the bearer token, else the session cookie.
async fn resolve(
    store: &Store,
    headers: &HeaderMap,
    now: DateTime<Utc>,
) -> Result<Authenticated, Refusal> {
    if let Some(value) = headers.get(AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(Refusal::BadToken)?;
        let principal = store
            .token_principal(token, now)
            .await
            .map_err(Refusal::Internal)?
            .ok_or(Refusal::BadToken)?;
        return Ok(Authenticated {
            viewer: Viewer::User(principal),
            credential: Credential::Token,
        });
    }
    if let Some(id) = cookie(headers, SESSION_COOKIE) {
        let session = store
            .session(id, now)
            .await
            .map_err(Refusal::Internal)?
            .ok_or(Refusal::Stale)?;
        return Ok(Authenticated {
            viewer: Viewer::User(session.principal),
            credential: Credential::Session {
                id: Secret::new(id),
                csrf_token: session.csrf_token,
            },
        });
    }
    Ok(Authenticated {
        viewer: Viewer::Public,
        credential: Credential::Anonymous,
    })
}

/// Whether the request carries `expected` in the CSRF header or, for a
/// URL-encoded form, in the `csrf_token` field, or, for a multipart form,
/// in its first field `csrf_token`. Reading the body consumes it, so the
/// request is handed back rebuilt.
async fn check_csrf(req: Request, expected: &Secret) -> (bool, Request) {
    let header = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    if let Some(token) = header {
        return (expected.matches(token), req);
    }
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        return check_multipart_csrf(req, expected).await;
    }
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return (false, req);
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return (false, Request::from_parts(parts, Body::empty()));
    };
    let passed = form_field(&bytes, CSRF_FIELD).is_some_and(|t| expected.matches(&t));
    (passed, Request::from_parts(parts, Body::from(bytes)))
}

/// How much of a multipart body [`check_multipart_csrf`] reads to find its
/// first field: far more than a token needs, far less than an upload.
const MULTIPART_PEEK_BYTES: usize = 64 * 1024;

/// The CSRF check of an upload form, which without script cannot set the
/// header: the form's first field must be `csrf_token`. Only the start of
/// the body is read (up to [`MULTIPART_PEEK_BYTES`]); the chunks read are
/// put back in front of the rest, which streams on to the handler as sent,
/// so a 64 MB upload is never held here.
async fn check_multipart_csrf(req: Request, expected: &Secret) -> (bool, Request) {
    use futures_util::StreamExt;

    let (parts, body) = req.into_parts();
    let mut rest = body.into_data_stream();
    let mut head: Vec<Bytes> = Vec::new();
    let mut read = 0usize;
    let mut broken = false;
    while read < MULTIPART_PEEK_BYTES {
        match rest.next().await {
            Some(Ok(chunk)) => {
                read += chunk.len();
                head.push(chunk);
            }
            Some(Err(_)) => {
                broken = true;
                break;
            }
            None => break,
        }
    }
    let mut peek = Vec::with_capacity(read.min(MULTIPART_PEEK_BYTES));
    for chunk in &head {
        let room = MULTIPART_PEEK_BYTES - peek.len();
        peek.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    let passed = !broken && first_multipart_field_matches(&parts.headers, peek, expected).await;
    let rebuilt =
        futures_util::stream::iter(head.into_iter().map(Ok::<Bytes, axum::Error>)).chain(rest);
    (
        passed,
        Request::from_parts(parts, Body::from_stream(rebuilt)),
    )
}

/// Whether the multipart body starting with `peek` opens with the field
/// `csrf_token` holding `expected`.
async fn first_multipart_field_matches(
    headers: &HeaderMap,
    peek: Vec<u8>,
    expected: &Secret,
) -> bool {
    use axum::extract::{FromRequest, Multipart};

    let Some(content_type) = headers.get(CONTENT_TYPE) else {
        return false;
    };
    let Ok(probe) = Request::builder()
        .header(CONTENT_TYPE, content_type)
        .body(Body::from(peek))
    else {
        return false;
    };
    let Ok(mut form) = Multipart::from_request(probe, &()).await else {
        return false;
    };
    let Ok(Some(field)) = form.next_field().await else {
        return false;
    };
    if field.name() != Some(CSRF_FIELD) {
        return false;
    }
    field
        .text()
        .await
        .is_ok_and(|token| expected.matches(token.trim()))
}

/// A field of a URL-encoded form.
fn form_field(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// Reads the caller established by [`authenticate`]; an internal error if
/// the layer did not run, so that a route outside it fails closed.
pub(crate) fn caller_of(parts: &axum::http::request::Parts) -> Result<Viewer, ApiError> {
    parts
        .extensions
        .get::<Authenticated>()
        .map(|a| a.viewer.clone())
        .ok_or_else(|| ApiError::internal(&"authentication layer missing on this route"))
}

/// Escapes text for HTML content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A message on the login page: its stable code, and the text in both languages.
struct Notice {
    code: &'static str,
    zh: String,
    en: String,
}

/// The login page, zh-CN first, with no external asset.
fn login_html(username: &str, csrf_token: &str, notice: Option<&Notice>) -> String {
    let notice = notice.map_or_else(String::new, |n| {
        format!(
            r#"<p class="error" role="alert" data-code="{}">{}<br><span lang="en">{}</span></p>"#,
            escape_html(n.code),
            escape_html(&n.zh),
            escape_html(&n.en)
        )
    });
    format!(
        r#"<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>登录 Sign in · 援疆通 Yuanjiang</title>
<style>
body {{ font-family: system-ui, "PingFang SC", "Microsoft YaHei", sans-serif; margin: 0; background: #f4f6f8; color: #1d2733; }}
main {{ max-width: 22rem; margin: 8vh auto; padding: 1.5rem; background: #fff; border-radius: 8px; box-shadow: 0 1px 4px rgba(0,0,0,.12); }}
h1 {{ font-size: 1.4rem; margin: 0 0 1rem; }}
label {{ display: block; margin-top: .9rem; font-weight: 600; }}
label span, .note span, h1 span {{ font-weight: normal; color: #5b6773; }}
input {{ box-sizing: border-box; width: 100%; padding: .6rem; margin-top: .3rem; font-size: 1rem; border: 1px solid #b8c2cc; border-radius: 4px; }}
button {{ margin-top: 1.2rem; width: 100%; padding: .7rem; font-size: 1rem; color: #fff; background: #b3261e; border: 0; border-radius: 4px; }}
.error {{ padding: .6rem; background: #fdecea; border: 1px solid #f5c2bd; border-radius: 4px; }}
.note {{ font-size: .85rem; color: #5b6773; }}
</style>
</head>
<body>
<main>
<h1>援疆通 · 登录 <span lang="en">Yuanjiang · Sign in</span></h1>
{notice}
<form method="post" action="/login">
<input type="hidden" name="{CSRF_FIELD}" value="{csrf}">
<label for="username">用户名 <span lang="en">User name</span></label>
<input id="username" name="username" value="{username}" autocomplete="username" autocapitalize="none" required autofocus>
<label for="password">密码 <span lang="en">Password</span></label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">登录 <span lang="en">Sign in</span></button>
</form>
<p class="note">连续 5 次密码错误将锁定账号 15 分钟。<br><span lang="en">Five wrong passwords in a row lock the account for 15 minutes.</span></p>
</main>
</body>
</html>
"#,
        csrf = escape_html(csrf_token),
        username = escape_html(username),
    )
}

/// The login page as a response, with a fresh double-submit token in the
/// form and in its cookie.
fn login_page(
    status: StatusCode,
    username: &str,
    notice: Option<&Notice>,
    secure: bool,
) -> Response {
    let token = Secret::random();
    let mut response = (status, Html(login_html(username, token.expose(), notice))).into_response();
    let headers = response.headers_mut();
    headers.insert(
        SET_COOKIE,
        set_cookie(
            LOGIN_CSRF_COOKIE,
            token.expose(),
            "/login",
            3600,
            "Strict",
            secure,
        ),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// `GET /login`: the sign-in form.
async fn login_form(Extension(auth): Extension<Auth>, headers: HeaderMap) -> Response {
    login_page(
        StatusCode::OK,
        "",
        None,
        came_over_tls(&headers, &auth.0.config),
    )
}

/// The fields of the login form. No `Debug`: it holds the password.
#[derive(Deserialize, Default)]
#[serde(default)]
struct LoginForm {
    username: String,
    password: String,
    csrf_token: String,
}

/// A time in Beijing time (UTC+8), which Xinjiang's offices use, and in UTC.
fn both_times(t: DateTime<Utc>) -> (String, String) {
    let beijing = FixedOffset::east_opt(8 * 3600).map_or_else(
        || t.format("%Y-%m-%d %H:%M UTC").to_string(),
        |tz| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
    );
    (beijing, t.format("%Y-%m-%d %H:%M UTC").to_string())
}

/// `POST /login`: checks the form and, on success, starts a session and
/// redirects to `/`. Otherwise re-shows the form, keeping the user name.
async fn login(
    Extension(auth): Extension<Auth>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let secure = came_over_tls(&headers, &auth.0.config);
    if let Err(wait) = auth.0.limiter.check(client, Instant::now()) {
        let secs = wait.as_secs().max(1);
        tracing::warn!(?client, "login rate limit reached");
        let notice = Notice {
            code: "too_many_attempts",
            zh: format!("登录尝试过于频繁，请 {secs} 秒后再试"),
            en: format!("too many sign-in attempts; try again in {secs} s"),
        };
        let mut response = login_page(StatusCode::TOO_MANY_REQUESTS, "", Some(&notice), secure);
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs));
        return response;
    }
    let form: LoginForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let double_submit = cookie(&headers, LOGIN_CSRF_COOKIE);
    if form.csrf_token.is_empty()
        || !double_submit.is_some_and(|c| Secret::new(c).matches(&form.csrf_token))
    {
        let notice = Notice {
            code: "csrf_rejected",
            zh: "表单已失效，请重新登录".into(),
            en: "the form has expired; please sign in again".into(),
        };
        return login_page(StatusCode::FORBIDDEN, &form.username, Some(&notice), secure);
    }
    let password = Secret::new(form.password);
    let now = Utc::now();
    let outcome = match auth
        .0
        .store
        .verify_login(&form.username, &password, now)
        .await
    {
        Ok(o) => o,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let (status, notice, retry) = match outcome {
        Login::Success(user) => {
            return start_session(&auth, &headers, user.id, &user.principal, secure).await;
        }
        Login::Refused => (
            StatusCode::UNAUTHORIZED,
            Notice {
                code: "wrong_credentials",
                zh: "用户名或密码错误".into(),
                en: "wrong user name or password".into(),
            },
            None,
        ),
        Login::Locked { until } => {
            let (beijing, utc) = both_times(until);
            (
                StatusCode::LOCKED,
                Notice {
                    code: "account_locked",
                    zh: format!("密码错误次数过多，账号已锁定，请于北京时间 {beijing} 后再试"),
                    en: format!("too many wrong passwords: the account is locked until {utc}"),
                },
                Some((until - now).num_seconds().max(1)),
            )
        }
        Login::Disabled => (
            StatusCode::FORBIDDEN,
            Notice {
                code: "account_disabled",
                zh: "账号已停用，请联系系统管理员".into(),
                en: "the account is disabled; please contact the administrator".into(),
            },
            None,
        ),
    };
    let mut response = login_page(status, &form.username, Some(&notice), secure);
    if let Some(secs) = retry {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

/// Starts a session after a successful sign-in: the cookie, and a 303 to `/`.
async fn start_session(
    auth: &Auth,
    headers: &HeaderMap,
    user_id: i64,
    principal: &Principal,
    secure: bool,
) -> Response {
    // A session the browser still holds is ended, so signing in always
    // yields a fresh id (no session fixation).
    if let Some(old) = cookie(headers, SESSION_COOKIE)
        && let Err(e) = auth.0.store.delete_session(old).await
    {
        return ApiError::from(e).into_response();
    }
    let session = match auth.0.store.create_session(user_id, Utc::now()).await {
        Ok(s) => s,
        Err(e) => return ApiError::from(e).into_response(),
    };
    tracing::info!(user = ?principal.name, role = %principal.role, "signed in");
    let mut response = StatusCode::SEE_OTHER.into_response();
    let h = response.headers_mut();
    h.insert(LOCATION, HeaderValue::from_static("/"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.append(
        SET_COOKIE,
        set_cookie(
            SESSION_COOKIE,
            session.id.expose(),
            "/",
            SESSION_COOKIE_MAX_AGE,
            "Lax",
            secure,
        ),
    );
    h.append(
        SET_COOKIE,
        set_cookie(LOGIN_CSRF_COOKIE, "", "/login", 0, "Strict", secure),
    );
    response
}

/// `POST /logout`: ends the session (the layer has checked its CSRF token)
/// and clears the cookie; redirects to the login form.
async fn logout(
    Extension(auth): Extension<Auth>,
    Extension(caller): Extension<Authenticated>,
    headers: HeaderMap,
) -> Response {
    if let Credential::Session { id, .. } = &caller.credential {
        let name = caller.viewer.name();
        let ended = auth.0.store.delete_session(id.expose()).await;
        let recorded = match ended {
            Ok(()) => {
                let entry = AuditEntry {
                    actor: name,
                    action: "sign_out",
                    entity: "user",
                    entity_key: name,
                    before: None,
                    after: None,
                };
                auth.0.store.record_audit(&entry).await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = recorded {
            return ApiError::from(e).into_response();
        }
        tracing::info!(user = ?name, "signed out");
    }
    let secure = came_over_tls(&headers, &auth.0.config);
    let mut response = StatusCode::SEE_OTHER.into_response();
    let h = response.headers_mut();
    h.insert(LOCATION, HeaderValue::from_static("/login"));
    h.insert(SET_COOKIE, clear_session_cookie(secure));
    response
}

/// `GET /api/v1/me`: who is calling, how, and (for a session) the CSRF
/// token to send with state-changing requests.
async fn me(Extension(caller): Extension<Authenticated>) -> Response {
    let (via, csrf) = match &caller.credential {
        Credential::Anonymous => (None, None),
        Credential::Token => (Some("token"), None),
        Credential::Session { csrf_token, .. } => (Some("session"), Some(csrf_token.expose())),
    };
    let body = match &caller.viewer {
        Viewer::Public => json!({
            "authenticated": false,
            "name": "public",
            "role": "public",
            "role_label": {"zh-CN": "公众", "en": "public"},
            "scope": null,
            "via": null,
            "csrf_token": null,
        }),
        Viewer::User(p) => json!({
            "authenticated": true,
            "name": p.name,
            "role": p.role,
            "role_label": {"zh-CN": p.role.zh(), "en": p.role.en()},
            "scope": p.scope,
            "via": via,
            "csrf_token": csrf,
        }),
    };
    (
        [(CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(body),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_allows_the_quota_then_waits() {
        let limiter = LoginLimiter::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        let a: Option<IpAddr> = "10.0.0.1".parse().ok();
        let b: Option<IpAddr> = "10.0.0.2".parse().ok();
        for i in 0..3 {
            assert!(limiter.check(a, t0 + Duration::from_secs(i)).is_ok());
        }
        let wait = limiter.check(a, t0 + Duration::from_secs(10));
        assert_eq!(wait, Err(Duration::from_secs(50)));
        assert!(
            limiter.check(b, t0 + Duration::from_secs(10)).is_ok(),
            "per address"
        );
        assert!(
            limiter.check(a, t0 + Duration::from_secs(60)).is_ok(),
            "window slid"
        );
    }

    #[test]
    fn cookies_and_escaping() {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, HeaderValue::from_static("a=1; yj_session=abc ; b="));
        assert_eq!(cookie(&h, "yj_session"), Some("abc"));
        assert_eq!(cookie(&h, "b"), None);
        assert_eq!(cookie(&h, "c"), None);
        assert_eq!(
            escape_html(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn tls_detection() {
        let mut h = HeaderMap::new();
        let config = AuthConfig::default();
        assert!(!came_over_tls(&h, &config));
        h.insert("x-forwarded-proto", HeaderValue::from_static("HTTPS"));
        assert!(came_over_tls(&h, &config));
        let forced = AuthConfig {
            secure_cookies: true,
            ..AuthConfig::default()
        };
        assert!(came_over_tls(&HeaderMap::new(), &forced));
    }
}
