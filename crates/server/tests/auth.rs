//! Sign-in over HTTP: the login form, session cookies, API tokens, CSRF,
//! lock-out, the login rate limit and escaping, through the real router.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode, header};
use chrono::Utc;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use yuanjiang_domain::{Principal, Role};
use yuanjiang_server::auth::AuthConfig;
use yuanjiang_server::{AppState, app, app_with};
use yuanjiang_store::testing::{postgres_store, sqlite_store};
use yuanjiang_store::{Secret, Store};

const PASSWORD: &str = "Shanghai-31-ok";

/// An answer: status, headers and the body as text.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// The `Set-Cookie` header that sets `name`, if any.
    fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }

    /// The value a `Set-Cookie` gives `name`.
    fn cookie_value(&self, name: &str) -> String {
        let line = self
            .set_cookie(name)
            .unwrap_or_else(|| panic!("no {name} cookie"));
        let value = line.split(';').next().unwrap_or_default();
        value[name.len() + 1..].to_owned()
    }

    /// The hidden CSRF field of the login form.
    fn form_token(&self) -> String {
        let marker = r#"name="csrf_token" value=""#;
        let start = self.body.find(marker).expect("csrf field") + marker.len();
        let len = self.body[start..].find('"').expect("end of value");
        self.body[start..start + len].to_owned()
    }
}

async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn get(uri: &str) -> axum::http::request::Builder {
    Request::get(uri)
}

fn form(fields: &[(&str, &str)]) -> Body {
    Body::from(serde_urlencoded::to_string(fields).expect("form"))
}

fn login_request(cookie: &str, username: &str, password: &str, token: &str) -> Request<Body> {
    Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("yj_login_csrf={cookie}"))
        .body(form(&[
            ("username", username),
            ("password", password),
            ("csrf_token", token),
        ]))
        .expect("request")
}

/// Fetches the form and signs in; returns the answer to the POST.
async fn sign_in(app: &Router, username: &str, password: &str) -> Answer {
    let page = send(app, get("/login").body(Body::empty()).expect("request")).await;
    let token = page.form_token();
    send(app, login_request(&token, username, password, &token)).await
}

/// Signs in and returns the session cookie value.
async fn session_of(app: &Router, username: &str) -> String {
    let answer = sign_in(app, username, PASSWORD).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    answer.cookie_value("yj_session")
}

async fn me_with(app: &Router, name: &str, value: &str) -> Answer {
    send(
        app,
        get("/api/v1/me")
            .header(name, value)
            .body(Body::empty())
            .expect("request"),
    )
    .await
}

async fn add_user(store: &Store, name: &str, role: Role, scope: Option<&str>) {
    let principal = Principal {
        name: name.into(),
        role,
        scope: scope.map(str::to_owned),
    };
    store
        .create_user(&principal, &Secret::new(PASSWORD))
        .await
        .expect("user");
}

/// Runs a story on SQLite, and on PostgreSQL when configured.
async fn on_both<F, Fut>(name: &str, story: F)
where
    F: Fn(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("tempdir");
    story(sqlite_store(dir.path()).await.expect("sqlite store")).await;
    if let Some(pg) = postgres_store(name).await.expect("postgres store") {
        story(pg).await;
    }
}

#[tokio::test]
async fn the_login_form_is_plain_bilingual_html_with_a_double_submit_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = sqlite_store(dir.path()).await.expect("store");
    let app = app(AppState::new(store));
    let page = send(&app, get("/login").body(Body::empty()).expect("request")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(r#"<html lang="zh-CN">"#));
    assert!(page.body.contains(r#"name="username""#));
    assert!(page.body.contains(r#"name="password" type="password""#));
    assert!(
        page.body
            .contains(r#"<form method="post" action="/login">"#)
    );
    let zh = page.body.find("用户名").expect("zh label");
    let en = page.body.find("User name").expect("en label");
    assert!(zh < en, "zh-CN first");
    for external in ["http://", "https://", "<script", "<link"] {
        assert!(
            !page.body.contains(external),
            "no external asset: {external}"
        );
    }
    let token = page.form_token();
    assert_eq!(token.len(), 64);
    assert_eq!(page.cookie_value("yj_login_csrf"), token);
    let cookie = page.set_cookie("yj_login_csrf").expect("cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let csp = page.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("csp");
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(page.headers[header::CACHE_CONTROL], "no-store");

    // Each showing has its own token.
    let again = send(&app, get("/login").body(Body::empty()).expect("request")).await;
    assert_ne!(again.form_token(), token);
}

#[tokio::test]
async fn signing_in_sets_a_session_cookie_that_identifies_the_caller() {
    on_both("signing_in_sets_a_session_cookie", |store| async move {
        add_user(&store, "sh-officer", Role::Supporter, Some("31")).await;
        let app = app(AppState::new(store.clone()));

        let answer = sign_in(&app, "sh-officer", PASSWORD).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
        assert_eq!(answer.headers[header::LOCATION], "/");
        let cookie = answer.set_cookie("yj_session").expect("session cookie");
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/;"] {
            assert!(cookie.contains(attribute), "{attribute} in {cookie}");
        }
        assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
        let session = answer.cookie_value("yj_session");
        assert_eq!(session.len(), 64);
        assert_eq!(
            answer.cookie_value("yj_login_csrf"),
            "",
            "form token cleared"
        );

        let me = me_with(&app, "cookie", &format!("yj_session={session}")).await;
        assert_eq!(me.status, StatusCode::OK, "{}", me.body);
        let me = me.json();
        assert_eq!(me["authenticated"], true);
        assert_eq!(me["name"], "sh-officer");
        assert_eq!(me["role"], "supporter");
        assert_eq!(me["role_label"]["zh-CN"], "前方指挥部");
        assert_eq!(me["scope"], "31");
        assert_eq!(me["via"], "session");
        assert_eq!(me["csrf_token"].as_str().map(str::len), Some(64));

        // Anonymous callers are the public.
        let public = send(
            &app,
            get("/api/v1/me").body(Body::empty()).expect("request"),
        )
        .await;
        assert_eq!(public.status, StatusCode::OK);
        assert_eq!(public.json()["authenticated"], false);
        assert_eq!(public.json()["role"], "public");

        // Behind a TLS-terminating load balancer the cookie is Secure.
        let page = send(&app, get("/login").body(Body::empty()).expect("request")).await;
        let token = page.form_token();
        let mut request = login_request(&token, "sh-officer", PASSWORD, &token);
        request
            .headers_mut()
            .insert("x-forwarded-proto", "https".parse().expect("header"));
        let answer = send(&app, request).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER);
        let cookie = answer.set_cookie("yj_session").expect("cookie");
        assert!(cookie.ends_with("; Secure"), "{cookie}");
    })
    .await;
}

#[tokio::test]
async fn bearer_tokens_identify_the_caller_and_bad_credentials_get_401() {
    on_both("bearer_tokens_and_401", |store| async move {
        add_user(&store, "gd-officer", Role::Supporter, Some("44")).await;
        let now = Utc::now();
        let token = store
            .create_token("gd-officer", "ERP", None, now)
            .await
            .expect("token");
        let bearer = format!("Bearer {}", token.token.expose());
        let app = app(AppState::new(store.clone()));

        let me = me_with(&app, "authorization", &bearer).await;
        assert_eq!(me.status, StatusCode::OK, "{}", me.body);
        let me = me.json();
        assert_eq!(
            (me["name"].as_str(), me["via"].as_str()),
            (Some("gd-officer"), Some("token"))
        );
        assert_eq!(me["scope"], "44");
        assert_eq!(me["csrf_token"], Value::Null, "tokens need no CSRF token");

        store.revoke_token(token.id, now).await.expect("revoke");
        let bad_tokens = [
            bearer.clone(),
            "Bearer yj_0000".to_owned(),
            "Bearer ".to_owned(),
            "Basic Z2Q6cHc=".to_owned(),
        ];
        for value in bad_tokens {
            let answer = me_with(&app, "authorization", &value).await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{value}");
            let error = &answer.json()["error"];
            assert_eq!(error["code"], "invalid_token");
            assert!(
                error["message"]["zh-CN"]
                    .as_str()
                    .is_some_and(|m| m.contains("令牌"))
            );
            assert!(
                error["message"]["en"]
                    .as_str()
                    .is_some_and(|m| m.contains("token"))
            );
            assert_eq!(answer.headers[header::WWW_AUTHENTICATE], "Bearer");
        }

        // A stale session cookie is refused, not treated as the public,
        // and the browser is told to drop it.
        let stale = format!("yj_session={}", "ab".repeat(32));
        for uri in ["/api/v1/me", "/api/v1/projects", "/healthz"] {
            let answer = send(
                &app,
                get(uri)
                    .header("cookie", &stale)
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{uri}");
            assert_eq!(answer.json()["error"]["code"], "session_expired");
            let clear = answer.set_cookie("yj_session").expect("cleared");
            assert!(
                clear.starts_with("yj_session=;") && clear.contains("Max-Age=0"),
                "{clear}"
            );
        }
        // …but it does not stand in the way of signing in again.
        let page = send(
            &app,
            get("/login")
                .header("cookie", &stale)
                .body(Body::empty())
                .expect("request"),
        )
        .await;
        assert_eq!(page.status, StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn cookie_authenticated_writes_need_the_csrf_token_and_bearer_ones_do_not() {
    on_both("cookie_writes_need_csrf", |store| async move {
        add_user(&store, "kashgar-office", Role::Prefecture, Some("6531")).await;
        let app = app(AppState::new(store.clone()));
        let session = session_of(&app, "kashgar-office").await;
        let cookie = format!("yj_session={session}");
        let me = me_with(&app, "cookie", &cookie).await.json();
        let csrf = me["csrf_token"].as_str().expect("csrf").to_owned();

        // No token, or a wrong one: 403, and the session is untouched.
        let wrong = "0".repeat(64);
        for header_value in [None, Some(wrong.as_str()), Some("")] {
            let mut request = Request::post("/logout").header("cookie", &cookie);
            if let Some(v) = header_value {
                request = request.header("x-csrf-token", v);
            }
            let answer = send(&app, request.body(Body::empty()).expect("request")).await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{header_value:?}");
            let error = &answer.json()["error"];
            assert_eq!(error["code"], "csrf_rejected");
            assert!(
                error["message"]["zh-CN"]
                    .as_str()
                    .is_some_and(|m| m.contains("CSRF"))
            );
        }
        assert_eq!(
            me_with(&app, "cookie", &cookie).await.status,
            StatusCode::OK
        );

        // The layer guards every state-changing route, the API's writes too.
        for (method, uri) in [
            ("POST", "/api/v1/projects"),
            ("PUT", "/api/v1/projects/XJ-0001"),
            ("DELETE", "/api/v1/projects/XJ-0001"),
            ("POST", "/no/such/route"),
        ] {
            let request = Request::builder()
                .method(method)
                .uri(uri)
                .header("cookie", &cookie)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{}"))
                .expect("request");
            let answer = send(&app, request).await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{method} {uri}");
            assert_eq!(
                answer.json()["error"]["code"],
                "csrf_rejected",
                "{method} {uri}"
            );
        }

        // A bearer token carries no ambient authority: no CSRF token needed.
        let token = store
            .create_token("kashgar-office", "", None, Utc::now())
            .await
            .expect("token");
        let request = Request::post("/api/v1/projects")
            .header("authorization", format!("Bearer {}", token.token.expose()))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{}"))
            .expect("request");
        let answer = send(&app, request).await;
        assert_ne!(
            answer.json()["error"]["code"],
            "csrf_rejected",
            "{}",
            answer.body
        );
        assert_ne!(answer.status, StatusCode::UNAUTHORIZED);

        // With the header, the request passes and signs out.
        let answer = send(
            &app,
            Request::post("/logout")
                .header("cookie", &cookie)
                .header("x-csrf-token", &csrf)
                .body(Body::empty())
                .expect("request"),
        )
        .await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER);
        assert_eq!(answer.headers[header::LOCATION], "/login");
        assert!(
            answer
                .set_cookie("yj_session")
                .is_some_and(|c| c.contains("Max-Age=0"))
        );
        assert_eq!(
            me_with(&app, "cookie", &cookie).await.status,
            StatusCode::UNAUTHORIZED,
            "signed out"
        );

        // The form field works as well as the header (plain HTML forms).
        let session = session_of(&app, "kashgar-office").await;
        let cookie = format!("yj_session={session}");
        let csrf = me_with(&app, "cookie", &cookie).await.json()["csrf_token"]
            .as_str()
            .expect("csrf")
            .to_owned();
        let answer = send(
            &app,
            Request::post("/logout")
                .header("cookie", &cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(form(&[("csrf_token", &csrf)]))
                .expect("request"),
        )
        .await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
        assert_eq!(
            me_with(&app, "cookie", &cookie).await.status,
            StatusCode::UNAUTHORIZED
        );

        // Sign-outs are in the audit trail.
        let filter = yuanjiang_store::AuditFilter {
            actor: Some("kashgar-office".into()),
            ..Default::default()
        };
        let trail = store
            .audit_entries(&filter, None, 100)
            .await
            .expect("trail");
        let actions: Vec<&str> = trail.items.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["sign_in", "sign_out", "sign_in", "sign_out"]);
    })
    .await;
}

#[tokio::test]
async fn failed_sign_ins_reshow_the_form_escaped_then_lock() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = sqlite_store(dir.path()).await.expect("store");
    add_user(&store, "hotan-office", Role::Prefecture, Some("6532")).await;
    let app = app(AppState::new(store.clone()));

    // A hostile name comes back escaped, never as markup.
    let xss = "<script>alert(1)</script>";
    let answer = sign_in(&app, xss, "whatever-Pass1").await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(
        answer
            .body
            .contains(r#"value="&lt;script&gt;alert(1)&lt;/script&gt;""#)
    );
    assert!(!answer.body.contains(xss));
    assert!(answer.body.contains("用户名或密码错误"));
    assert!(answer.body.contains("wrong user name or password"));
    let quote = r#""><img src=x onerror=alert(1)>"#;
    let answer = sign_in(&app, quote, "whatever-Pass1").await;
    assert!(
        answer
            .body
            .contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;")
    );
    assert!(!answer.body.contains("<img"));

    // Four wrong passwords: 401 with the name kept; the fifth locks (423).
    for _ in 0..4 {
        let answer = sign_in(&app, "hotan-office", "Wrong-password-1").await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert!(answer.body.contains(r#"value="hotan-office""#));
        assert!(answer.body.contains(r#"data-code="wrong_credentials""#));
        assert!(answer.set_cookie("yj_session").is_none());
    }
    let answer = sign_in(&app, "hotan-office", "Wrong-password-1").await;
    assert_eq!(answer.status, StatusCode::LOCKED);
    // The sixth, with the right password, is refused too, with the unlock time.
    let answer = sign_in(&app, "hotan-office", PASSWORD).await;
    assert_eq!(answer.status, StatusCode::LOCKED);
    assert!(answer.set_cookie("yj_session").is_none());
    assert!(answer.body.contains(r#"data-code="account_locked""#));
    let until = store
        .user("hotan-office")
        .await
        .expect("read")
        .and_then(|u| u.locked_until)
        .expect("locked");
    let utc = until.format("%Y-%m-%d %H:%M UTC").to_string();
    assert!(answer.body.contains(&utc), "{utc} in {}", answer.body);
    assert!(answer.body.contains("北京时间"));
    let retry: i64 = answer.headers[header::RETRY_AFTER]
        .to_str()
        .expect("retry-after")
        .parse()
        .expect("seconds");
    assert!((890..=900).contains(&retry), "{retry}");

    // A disabled account is refused with the right password.
    add_user(&store, "retired", Role::Auditor, None).await;
    store.disable_user("retired").await.expect("disable");
    let answer = sign_in(&app, "retired", PASSWORD).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(answer.body.contains(r#"data-code="account_disabled""#));
    assert!(answer.set_cookie("yj_session").is_none());
}

#[tokio::test]
async fn login_needs_its_double_submit_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = sqlite_store(dir.path()).await.expect("store");
    add_user(&store, "admin", Role::Admin, None).await;
    let app = app(AppState::new(store));
    let page = send(&app, get("/login").body(Body::empty()).expect("request")).await;
    let token = page.form_token();
    let other = "f".repeat(64);
    for (cookie, field) in [
        ("", token.as_str()),
        (other.as_str(), token.as_str()),
        (token.as_str(), ""),
    ] {
        let answer = send(&app, login_request(cookie, "admin", PASSWORD, field)).await;
        assert_eq!(
            answer.status,
            StatusCode::FORBIDDEN,
            "cookie {cookie:?} field {field:?}"
        );
        assert!(answer.body.contains(r#"data-code="csrf_rejected""#));
        assert!(answer.set_cookie("yj_session").is_none());
        assert!(answer.body.contains(r#"value="admin""#), "name kept");
    }
    let answer = send(&app, login_request(&token, "admin", PASSWORD, &token)).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn login_attempts_are_rate_limited_per_client_address() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = sqlite_store(dir.path()).await.expect("store");
    let app = app(AppState::new(store.clone()));
    let attempt = |ip: &str| {
        let mut request = Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form(&[("username", "x"), ("password", "y")]))
            .expect("request");
        let addr: SocketAddr = format!("{ip}:40000").parse().expect("addr");
        request.extensions_mut().insert(ConnectInfo(addr));
        request
    };
    for i in 0..10 {
        let answer = send(&app, attempt("192.0.2.7")).await;
        assert_eq!(
            answer.status,
            StatusCode::FORBIDDEN,
            "attempt {i} (no form token)"
        );
    }
    let answer = send(&app, attempt("192.0.2.7")).await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(answer.body.contains(r#"data-code="too_many_attempts""#));
    assert!(answer.body.contains("登录尝试过于频繁"));
    let retry: u64 = answer.headers[header::RETRY_AFTER]
        .to_str()
        .expect("retry-after")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    // Another address is not held back.
    assert_eq!(
        send(&app, attempt("192.0.2.8")).await.status,
        StatusCode::FORBIDDEN
    );
    // The form itself is never limited.
    let page = send(&app, get("/login").body(Body::empty()).expect("request")).await;
    assert_eq!(page.status, StatusCode::OK);

    // Behind a proxy, the address is the last X-Forwarded-For entry, and
    // only when configured so.
    let config = AuthConfig {
        trust_forwarded_for: true,
        login_attempts_per_minute: 2,
        ..AuthConfig::default()
    };
    let proxied = app_with(AppState::new(store), config);
    let via = |client: &str| {
        let mut request = attempt("10.0.0.1");
        request.headers_mut().insert(
            "x-forwarded-for",
            format!("203.0.113.9, {client}").parse().expect("header"),
        );
        request
    };
    for _ in 0..2 {
        assert_eq!(
            send(&proxied, via("198.51.100.1")).await.status,
            StatusCode::FORBIDDEN
        );
    }
    assert_eq!(
        send(&proxied, via("198.51.100.1")).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        send(&proxied, via("198.51.100.2")).await.status,
        StatusCode::FORBIDDEN
    );
}
