//! The web pages over HTTP (tower `oneshot`): every page for every role,
//! scope (out of scope answers 404), escaping, the language switch, the
//! security headers, Chinese search, and the forms from draft to approval.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use chrono::Utc;
use http_body_util::BodyExt;
use tower::ServiceExt;
use yuanjiang_domain::{
    Category, DeliveryMode, Fen, Principal, Project, ProjectKind, ProjectState, Role,
};
use yuanjiang_server::{AppState, app};
use yuanjiang_store::testing::{postgres_store, sqlite_store};
use yuanjiang_store::{ProjectFilter, Secret, Store};

use crate::support::load_demo;

const PASSWORD: &str = "Yuanjiang@2010-web";

/// A signed-in browser: its cookie header and CSRF token.
struct Browser {
    cookie: String,
    csrf: String,
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
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

async fn page(app: &Router, who: Option<&Browser>, uri: &str) -> Answer {
    let mut request = Request::get(uri);
    if let Some(b) = who {
        request = request.header(header::COOKIE, &b.cookie);
    }
    send(app, request.body(Body::empty()).expect("request")).await
}

async fn post_form(app: &Router, who: &Browser, uri: &str, fields: &[(&str, &str)]) -> Answer {
    let mut all: Vec<(&str, &str)> = fields.to_vec();
    all.push(("csrf_token", &who.csrf));
    let body = serde_urlencoded::to_string(&all).expect("form");
    let request = Request::post(uri)
        .header(header::COOKIE, &who.cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .expect("request");
    send(app, request).await
}

/// Creates an account and a session for it, as signing in would.
async fn sign_in(store: &Store, name: &str, role: Role, scope: Option<&str>) -> Browser {
    let principal = Principal {
        name: name.into(),
        role,
        scope: scope.map(str::to_owned),
    };
    let user = store
        .create_user(&principal, &Secret::new(PASSWORD))
        .await
        .expect("user");
    let session = store
        .create_session(user.id, Utc::now())
        .await
        .expect("session");
    Browser {
        cookie: format!("yj_session={}", session.id.expose()),
        csrf: session.csrf_token.expose().to_owned(),
    }
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

struct Roles {
    region: Browser,
    auditor: Browser,
    admin: Browser,
    shanghai: Browser,
    guangdong: Browser,
    kashgar: Browser,
    hotan: Browser,
}

async fn roles(store: &Store) -> Roles {
    Roles {
        region: sign_in(store, "w-region", Role::Region, None).await,
        auditor: sign_in(store, "w-auditor", Role::Auditor, None).await,
        admin: sign_in(store, "w-admin", Role::Admin, None).await,
        shanghai: sign_in(store, "w-sh", Role::Supporter, Some("31")).await,
        guangdong: sign_in(store, "w-gd", Role::Supporter, Some("44")).await,
        kashgar: sign_in(store, "w-kashgar", Role::Prefecture, Some("6531")).await,
        hotan: sign_in(store, "w-hotan", Role::Prefecture, Some("6532")).await,
    }
}

/// An unpublished Shanghai project in Kashgar's Shufu county (653121).
async fn shanghai_draft(state: &AppState, code: &str, name: &str) -> String {
    let actor = Principal {
        name: "seed".into(),
        role: Role::Supporter,
        scope: Some("31".into()),
    };
    let date = |m| chrono::NaiveDate::from_ymd_opt(2026, m, 1).expect("date");
    let row = state
        .store
        .create_project(
            &actor,
            &Project {
                code: code.into(),
                name: name.into(),
                category: Category::Education,
                delivery_mode: DeliveryMode::Turnkey,
                kind: ProjectKind::Construction,
                year: 2026,
                in_plan: true,
                continued: false,
                grassroots: true,
                livelihood: true,
                supporter_code: "31".into(),
                recipient_code: "653121".into(),
                location_code: "653121".into(),
                planned_investment: Fen(500_000_000),
                aid_funds: Fen(400_000_000),
                matching_funds: Fen(0),
                start_date: date(3),
                end_date: date(12),
                state: ProjectState::Proposed,
                published: false,
                description: "实训楼及配套设施".into(),
            },
        )
        .await
        .expect("project");
    state.search.upsert(&row).expect("index");
    row.project.code
}

#[tokio::test]
async fn every_page_answers_each_role_by_its_scope() {
    on_both("web_every_page_by_role", |store| async move {
        load_demo(&store, 11).await;
        let state = AppState::new(store.clone());
        state.search.rebuild(&store).await.expect("index");
        let app = app(state.clone());
        let r = roles(&store).await;
        let draft = shanghai_draft(&state, "YJ2026-31-WEB01", "疏附县职业技术学校实训楼").await;
        let published = store
            .projects(
                &ProjectFilter {
                    published_only: true,
                    ..ProjectFilter::default()
                },
                None,
                1,
            )
            .await
            .expect("projects")
            .items[0]
            .project
            .code
            .clone();
        let all = [
            &r.region,
            &r.auditor,
            &r.admin,
            &r.shanghai,
            &r.guangdong,
            &r.kashgar,
            &r.hotan,
        ];
        // Pages everyone may open.
        for uri in [
            "/",
            "/projects",
            "/public",
            "/pairings",
            "/projects?q=%E5%96%80%E4%BB%80",
        ] {
            assert_eq!(
                page(&app, None, uri).await.status,
                StatusCode::OK,
                "public {uri}"
            );
            for b in all {
                let a = page(&app, Some(b), uri).await;
                assert_eq!(a.status, StatusCode::OK, "{uri}: {}", a.body);
            }
        }
        let published_uri = format!("/projects/{published}");
        assert_eq!(
            page(&app, None, &published_uri).await.status,
            StatusCode::OK
        );
        // Pages for the signed-in: the public is sent to the login form.
        for uri in ["/personnel", "/inbox", "/projects/new"] {
            let a = page(&app, None, uri).await;
            assert_eq!(a.status, StatusCode::SEE_OTHER, "{uri}");
            assert_eq!(a.headers[header::LOCATION], "/login");
        }
        for b in all {
            assert_eq!(
                page(&app, Some(b), "/personnel").await.status,
                StatusCode::OK
            );
            assert_eq!(page(&app, Some(b), "/inbox").await.status, StatusCode::OK);
        }
        // Drafting is the front command's.
        assert_eq!(
            page(&app, Some(&r.shanghai), "/projects/new").await.status,
            StatusCode::OK
        );
        assert_eq!(
            page(&app, Some(&r.kashgar), "/projects/new").await.status,
            StatusCode::FORBIDDEN
        );
        // The unpublished draft: its owner, its recipient and the region see
        // it; the public, another supporter and another prefecture get 404.
        let draft_uri = format!("/projects/{draft}");
        for (b, want) in [
            (Some(&r.shanghai), StatusCode::OK),
            (Some(&r.kashgar), StatusCode::OK),
            (Some(&r.region), StatusCode::OK),
            (Some(&r.auditor), StatusCode::OK),
            (None, StatusCode::NOT_FOUND),
            (Some(&r.guangdong), StatusCode::NOT_FOUND),
            (Some(&r.hotan), StatusCode::NOT_FOUND),
        ] {
            let a = page(&app, b, &draft_uri).await;
            assert_eq!(a.status, want, "{draft_uri}");
            if want == StatusCode::NOT_FOUND {
                assert!(a.body.contains("页面不存在，或您无权查看"), "{}", a.body);
                assert!(!a.body.contains("疏附县职业技术学校实训楼"));
            }
        }
        let edit_uri = format!("/projects/{draft}/edit");
        assert_eq!(
            page(&app, Some(&r.shanghai), &edit_uri).await.status,
            StatusCode::OK
        );
        assert_eq!(
            page(&app, Some(&r.guangdong), &edit_uri).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            page(&app, Some(&r.region), &edit_uri).await.status,
            StatusCode::FORBIDDEN
        );
        // Audit for auditors and admins; users for admins; 404 otherwise.
        for (b, audit, users) in [
            (&r.auditor, StatusCode::OK, StatusCode::NOT_FOUND),
            (&r.admin, StatusCode::OK, StatusCode::OK),
            (&r.region, StatusCode::NOT_FOUND, StatusCode::NOT_FOUND),
            (&r.shanghai, StatusCode::NOT_FOUND, StatusCode::NOT_FOUND),
        ] {
            assert_eq!(page(&app, Some(b), "/audit").await.status, audit);
            assert_eq!(page(&app, Some(b), "/admin/users").await.status, users);
        }
        let users = page(&app, Some(&r.admin), "/admin/users").await;
        assert!(users.body.contains("w-kashgar") && users.body.contains("喀什地区"));
        let audit = page(&app, Some(&r.auditor), "/audit?entity=project").await;
        assert!(
            audit.body.contains("YJ2026-31-WEB01"),
            "the draft's creation is in the trail"
        );
        // Unknown pages: an HTML 404 outside the API, JSON inside it.
        let a = page(&app, None, "/no/such/page").await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);
        assert!(
            a.headers[header::CONTENT_TYPE]
                .to_str()
                .expect("type")
                .starts_with("text/html")
        );
        let a = page(&app, None, "/api/v1/nothing").await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);
        assert!(a.body.contains("\"not_found\""));
    })
    .await;
}

#[tokio::test]
async fn personal_data_is_masked_on_the_personnel_page_except_for_the_sender() {
    on_both("web_personnel_masking", |store| async move {
        load_demo(&store, 12).await;
        let app = app(AppState::new(store.clone()));
        let r = roles(&store).await;
        let masked = page(&app, Some(&r.auditor), "/personnel").await;
        assert_eq!(masked.status, StatusCode::OK);
        assert!(
            masked.body.contains("个人信息已按规定脱敏"),
            "auditors see masked data"
        );
        assert!(
            masked.body.contains("**"),
            "masked ID numbers show asterisks"
        );
        let clear = page(&app, Some(&r.region), "/personnel").await;
        assert!(clear.body.contains("您有权查看完整个人信息"));
        assert!(clear.body.contains("轮换批次") && clear.body.contains("<svg"));
    })
    .await;
}

#[tokio::test]
async fn health_says_when_the_search_index_is_ready() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = sqlite_store(dir.path()).await.expect("store");
    let state = AppState::new(store.clone());
    let app = app(state.clone());
    let health = |body: &str| serde_json::from_str::<serde_json::Value>(body).expect("json");
    let before = page(&app, None, "/healthz").await;
    assert_eq!(before.status, StatusCode::OK);
    assert_eq!(health(&before.body)["search"], "building");
    // Until then the registry says so rather than searching.
    let registry = page(&app, None, "/projects?q=%E5%AD%A6%E6%A0%A1").await;
    assert!(registry.body.contains("索引"), "{}", registry.body);
    state.search.rebuild(&store).await.expect("index");
    let after = page(&app, None, "/healthz").await;
    assert_eq!(health(&after.body)["status"], "ok");
    assert_eq!(health(&after.body)["search"], "ready");
}

#[tokio::test]
async fn user_text_is_escaped_everywhere() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = sqlite_store(dir.path()).await.expect("store");
    let state = AppState::new(store.clone());
    state.search.rebuild(&store).await.expect("index");
    let app = app(state.clone());
    let sh = sign_in(&store, "w-sh", Role::Supporter, Some("31")).await;
    let code = shanghai_draft(
        &state,
        "YJ2026-31-XSS01",
        "<script>alert('x')</script>实训楼",
    )
    .await;
    for uri in [
        format!("/projects/{code}"),
        "/projects".to_owned(),
        "/projects?q=%E5%AE%9E%E8%AE%AD%E6%A5%BC".to_owned(),
        "/inbox".to_owned(),
        format!("/projects/{code}/edit"),
    ] {
        let a = page(&app, Some(&sh), &uri).await;
        assert_eq!(a.status, StatusCode::OK, "{uri}");
        assert!(
            a.body.contains("&#60;script&#62;") || a.body.contains("&lt;script&gt;"),
            "{uri} shows the name escaped"
        );
        assert!(
            !a.body.contains("<script"),
            "{uri} has no script element at all"
        );
    }
    // A query string is escaped too.
    let a = page(&app, Some(&sh), "/projects?q=%3Cscript%3E").await;
    assert!(!a.body.contains("<script"));
}

#[tokio::test]
async fn the_language_switch_is_remembered_and_every_page_sends_the_security_headers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = sqlite_store(dir.path()).await.expect("store");
    load_demo(&store, 13).await;
    let app = app(AppState::new(store.clone()));
    let zh = page(&app, None, "/").await;
    assert!(zh.body.contains(r#"<html lang="zh-CN">"#) && zh.body.contains("首页"));
    let switch = page(
        &app,
        None,
        "/lang?to=en&back=/projects%3Fcategory%3Deducation",
    )
    .await;
    assert_eq!(switch.status, StatusCode::SEE_OTHER);
    assert_eq!(
        switch.headers[header::LOCATION],
        "/projects?category=education"
    );
    let cookie = switch.headers[header::SET_COOKIE].to_str().expect("cookie");
    assert!(
        cookie.starts_with("lang=en;") && cookie.contains("Max-Age=31536000"),
        "{cookie}"
    );
    let request = Request::get("/")
        .header(header::COOKIE, "lang=en")
        .body(Body::empty())
        .expect("request");
    let en = send(&app, request).await;
    assert!(en.body.contains(r#"<html lang="en">"#) && en.body.contains("Dashboard"));
    assert!(en.body.contains("Arrival rate") && !en.body.contains("资金到疆率"));
    // Back to Chinese; a foreign `back` goes home instead.
    let back = page(&app, None, "/lang?to=zh&back=//evil.example/").await;
    assert_eq!(back.headers[header::LOCATION], "/");
    assert!(
        back.headers[header::SET_COOKIE]
            .to_str()
            .expect("cookie")
            .starts_with("lang=zh;")
    );

    for uri in ["/", "/projects", "/public", "/pairings", "/no/such/page"] {
        let a = page(&app, None, uri).await;
        let csp = a.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("csp");
        assert!(
            csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{uri}: {csp}"
        );
        assert!(!csp.contains("unsafe-inline"));
        assert_eq!(a.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(a.headers[header::REFERRER_POLICY], "same-origin");
        assert_eq!(a.headers[header::CACHE_CONTROL], "no-store");
        assert!(
            !a.body.contains("<script") && !a.body.contains("style=\""),
            "{uri}"
        );
        assert!(
            !a.body.contains("http://") || !a.body.contains("src=\"http"),
            "{uri}: no external asset"
        );
    }
    let home = page(&app, None, "/").await;
    let css = home
        .body
        .split("href=\"")
        .find_map(|s| s.strip_prefix("/assets/app.css"))
        .and_then(|s| s.split('"').next())
        .expect("stylesheet link");
    let a = page(&app, None, &format!("/assets/app.css{css}")).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(
        a.headers[header::CACHE_CONTROL]
            .to_str()
            .expect("cache")
            .contains("immutable")
    );
    assert!(a.body.contains("Noto Sans CJK SC"));
    assert_eq!(
        page(&app, None, "/assets/nothing.js").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn chinese_search_finds_projects_within_the_viewers_scope() {
    on_both("web_chinese_search", |store| async move {
        load_demo(&store, 14).await;
        let state = AppState::new(store.clone());
        let app = app(state.clone());
        let sh = sign_in(&store, "w-sh", Role::Supporter, Some("31")).await;
        let gd = sign_in(&store, "w-gd", Role::Supporter, Some("44")).await;
        // Before the index is built, the registry says so.
        let a = page(
            &app,
            Some(&sh),
            "/projects?q=%E8%81%8C%E4%B8%9A%E6%95%99%E8%82%B2",
        )
        .await;
        assert!(a.body.contains("搜索索引正在建立"));
        state.search.rebuild(&store).await.expect("index");
        shanghai_draft(&state, "YJ2026-31-SRCH1", "喀什职业教育实训基地").await;
        // 职业教育 (a word inside the name) and 喀什 (a place) both find it for its owner.
        for q in ["%E8%81%8C%E4%B8%9A%E6%95%99%E8%82%B2", "%E7%96%8F%E9%99%84"] {
            let a = page(&app, Some(&sh), &format!("/projects?q={q}")).await;
            assert!(a.body.contains("YJ2026-31-SRCH1"), "q={q}");
        }
        // Scope: not for another supporter, not for the public (unpublished).
        let a = page(
            &app,
            Some(&gd),
            "/projects?q=%E8%81%8C%E4%B8%9A%E6%95%99%E8%82%B2",
        )
        .await;
        assert!(!a.body.contains("YJ2026-31-SRCH1"));
        let a = page(
            &app,
            None,
            "/projects?q=%E8%81%8C%E4%B8%9A%E6%95%99%E8%82%B2",
        )
        .await;
        assert!(!a.body.contains("YJ2026-31-SRCH1"));
        // A place name finds demo projects there: every hit is in Kashgar.
        let hits = state
            .search
            .search("喀什", &yuanjiang_search::SearchFilter::default(), 50)
            .expect("search");
        assert!(!hits.is_empty());
        for code in hits {
            let row = store.project(&code).await.expect("read").expect("project");
            assert!(
                row.prefecture_code == "6531"
                    || row.project.name.contains("喀什")
                    || row.project.description.contains("喀什"),
                "{code} {}",
                row.project.name
            );
        }
    })
    .await;
}

fn location(a: &Answer) -> String {
    a.headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn version_in(body: &str) -> String {
    let marker = r#"name="version" value=""#;
    let start = body.find(marker).expect("version field") + marker.len();
    body[start..].split('"').next().expect("value").to_owned()
}

#[tokio::test]
async fn forms_take_a_project_from_draft_to_approval_and_keep_input_on_errors() {
    on_both("web_forms_story", |store| async move {
        load_demo(&store, 15).await;
        let state = AppState::new(store.clone());
        state.search.rebuild(&store).await.expect("index");
        let app = app(state.clone());
        let r = roles(&store).await;
        let fields = |amount: &'static str| {
            vec![
                ("code", "YJ2026-31-FORM1"),
                ("name", "疏附县中等职业教育实训中心"),
                ("category", "education"),
                ("delivery_mode", "turnkey"),
                ("kind", "construction"),
                ("year", "2026"),
                ("supporter_code", "31"),
                ("recipient_code", "653121"),
                ("location_code", ""),
                ("planned_investment", "1,000,000.00"),
                ("aid_funds", amount),
                ("matching_funds", "0"),
                ("start_date", "2026-03-01"),
                ("end_date", "2027-06-30"),
                ("grassroots", "true"),
                ("livelihood", "true"),
                ("description", "<b>实训</b>"),
            ]
        };
        // Without the CSRF token the layer refuses the form.
        let bare = Request::post("/projects/new")
            .header(header::COOKIE, &r.shanghai.cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("name=x"))
            .expect("request");
        assert_eq!(send(&app, bare).await.status, StatusCode::FORBIDDEN);
        // A bad amount: 422, the error next to the field, the input kept.
        let a = post_form(&app, &r.shanghai, "/projects/new", &fields("12.345")).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(a.body.contains("疏附县中等职业教育实训中心"), "input kept");
        assert!(
            a.body
                .contains(r#"id="p-aid" name="aid_funds" inputmode="decimal" value="12.345""#)
        );
        assert!(a.body.contains("金额“12.345”无效"), "{}", a.body);
        // A rule the store checks (aid above the investment) lands on its field.
        let a = post_form(&app, &r.shanghai, "/projects/new", &fields("2000000")).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(a.body.contains("援疆资金与配套资金之和不能超过计划总投资"));
        // Created.
        let a = post_form(&app, &r.shanghai, "/projects/new", &fields("800000")).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
        assert_eq!(location(&a), "/projects/YJ2026-31-FORM1?saved=1");
        let uri = "/projects/YJ2026-31-FORM1";
        let p = page(&app, Some(&r.shanghai), uri).await;
        assert!(
            p.body.contains("&#60;b&#62;实训&#60;/b&#62;")
                || p.body.contains("&lt;b&gt;实训&lt;/b&gt;")
        );
        // A stale edit keeps what was typed and says why.
        let stale = post_form(
            &app,
            &r.shanghai,
            "/projects/YJ2026-31-FORM1/edit",
            &[
                fields("800000"),
                vec![("version", "0"), ("name", "改过的名称")],
            ]
            .concat(),
        )
        .await;
        assert_eq!(stale.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(stale.body.contains("该项目已被他人修改") && stale.body.contains("改过的名称"));
        // A fund transaction that breaks the chain is refused next to the amount.
        let a = post_form(
            &app,
            &r.shanghai,
            "/projects/YJ2026-31-FORM1/transactions",
            &[
                ("fund_type", "payment"),
                ("amount", "100"),
                ("date", "2026-04-01"),
                ("document_no", "沪援〔2026〕1号"),
            ],
        )
        .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(a.body.contains(r#"value="沪援〔2026〕1号""#), "input kept");
        let a = post_form(
            &app,
            &r.shanghai,
            "/projects/YJ2026-31-FORM1/transactions",
            &[
                ("fund_type", "commitment"),
                ("amount", "800,000.00"),
                ("date", "2026-04-01"),
                ("document_no", "沪援〔2026〕1号"),
            ],
        )
        .await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
        let p = page(&app, Some(&r.shanghai), uri).await;
        assert!(p.body.contains("800,000.00"));
        // Submit (supporter), review (Kashgar, from the inbox), approve (region).
        let v = version_in(&p.body);
        let a = post_form(
            &app,
            &r.shanghai,
            &format!("{uri}/approval"),
            &[("step", "submit"), ("version", &v)],
        )
        .await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
        let inbox = page(&app, Some(&r.kashgar), "/inbox").await;
        assert!(inbox.body.contains("疏附县中等职业教育实训中心"));
        let v = version_in(
            inbox
                .body
                .split("YJ2026-31-FORM1/approval")
                .nth(1)
                .expect("form"),
        );
        // Hotan may not review Kashgar's project: 404.
        let a = post_form(
            &app,
            &r.hotan,
            &format!("{uri}/approval"),
            &[("step", "review"), ("version", &v)],
        )
        .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);
        // Returning needs a comment, shown next to it.
        let a = post_form(
            &app,
            &r.kashgar,
            &format!("{uri}/approval"),
            &[("step", "return"), ("version", &v)],
        )
        .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(a.body.contains("退回时必须填写意见"));
        let a = post_form(
            &app,
            &r.kashgar,
            &format!("{uri}/approval"),
            &[
                ("step", "review"),
                ("version", &v),
                ("comment", "同意"),
                ("back", "/inbox"),
            ],
        )
        .await;
        assert_eq!(location(&a), "/inbox");
        let p = page(&app, Some(&r.region), uri).await;
        let v = version_in(&p.body);
        let a = post_form(
            &app,
            &r.region,
            &format!("{uri}/approval"),
            &[("step", "approve"), ("version", &v), ("comment", "批准")],
        )
        .await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
        // Published now: the public sees it, finds it in Chinese, and on the portal.
        let p = page(&app, None, uri).await;
        assert_eq!(p.status, StatusCode::OK);
        assert!(p.body.contains("计划下达") && p.body.contains("同意") && p.body.contains("批准"));
        let a = page(
            &app,
            None,
            "/projects?q=%E8%81%8C%E4%B8%9A%E6%95%99%E8%82%B2",
        )
        .await;
        assert!(a.body.contains("YJ2026-31-FORM1"));
        let portal = page(&app, None, "/public").await;
        assert!(portal.body.contains("疏附县中等职业教育实训中心"));
        // A state change through the form.
        let v = version_in(&page(&app, Some(&r.shanghai), uri).await.body);
        let a = post_form(
            &app,
            &r.shanghai,
            &format!("{uri}/state"),
            &[
                ("to", "preparation"),
                ("version", &v),
                ("reason", "开始前期"),
            ],
        )
        .await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
        let a = post_form(
            &app,
            &r.shanghai,
            &format!("{uri}/state"),
            &[("to", "closed"), ("version", "99")],
        )
        .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    })
    .await;
}

#[tokio::test]
async fn dashboard_figures_agree_with_the_api_to_the_fen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = sqlite_store(dir.path()).await.expect("store");
    load_demo(&store, 16).await;
    let app = app(AppState::new(store.clone()));
    let region = sign_in(&store, "w-region", Role::Region, None).await;
    for (who, uri, api) in [
        (None, "/", "/api/v1/stats/funds"),
        (
            Some(&region),
            "/?year=2025",
            "/api/v1/stats/funds?year=2025",
        ),
        (
            Some(&region),
            "/?supporter=31&xpcc=false",
            "/api/v1/stats/funds?supporter=31&xpcc=false",
        ),
    ] {
        let a = page(&app, who, api).await;
        let json: serde_json::Value = serde_json::from_str(&a.body).expect("json");
        let planned = json["total"]["planned"].as_i64().expect("planned");
        let paid = json["total"]["paid"].as_i64().expect("paid");
        let dash = page(&app, who, uri).await;
        assert_eq!(dash.status, StatusCode::OK);
        for fen in [planned, paid] {
            let yuan = format!("{}.{:02}", fen / 100, fen % 100);
            let grouped: String = {
                let (int, frac) = yuan.split_once('.').expect("dot");
                let mut out = String::new();
                for (i, c) in int.chars().enumerate() {
                    if i > 0 && (int.len() - i) % 3 == 0 {
                        out.push(',');
                    }
                    out.push(c);
                }
                format!("{out}.{frac}")
            };
            assert!(
                dash.body.contains(&grouped),
                "{uri}: {grouped} not on the dashboard"
            );
        }
        assert!(dash.body.contains("<svg") && dash.body.contains("<title>"));
    }
}
