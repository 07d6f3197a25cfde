//! Data exchange over HTTP: the CSRF check of multipart forms, the import
//! page (dry run, problems, commit, scope, history, templates, limits), the
//! export API in every format against the API's own list, and the
//! open-data zip of the public portal.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Read};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use chrono::{NaiveDate, Utc};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use yuanjiang_domain::{
    Category, DeliveryMode, Fen, Principal, Project, ProjectKind, ProjectState, Role,
};
use yuanjiang_server::{AppState, app};
use yuanjiang_store::testing::{postgres_store, sqlite_store};
use yuanjiang_store::{Secret, Store};

use crate::support::load_demo;

const PASSWORD: &str = "Yuanjiang@2010-exchange";

/// A signed-in browser: its cookie header and CSRF token.
struct Browser {
    cookie: String,
    csrf: String,
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

async fn get(app: &Router, who: Option<&Browser>, uri: &str) -> Answer {
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

/// One part of a multipart form: name, file name, content.
type Part<'a> = (&'a str, Option<&'a str>, &'a [u8]);

const BOUNDARY: &str = "----yuanjiang-test-boundary-7MA4YWxk";

fn multipart(parts: &[Part<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, file_name, content) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match file_name {
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn post_multipart(app: &Router, who: &Browser, uri: &str, body: Vec<u8>) -> Answer {
    let request = Request::post(uri)
        .header(header::COOKIE, &who.cookie)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header(header::CONTENT_LENGTH, body.len())
        .body(Body::from(body))
        .expect("request");
    send(app, request).await
}

/// Uploads `file` for a dry run, the token first as the page's form sends it.
async fn upload(app: &Router, who: &Browser, kind: &str, name: &str, file: &[u8]) -> Answer {
    let body = multipart(&[
        ("csrf_token", None, who.csrf.as_bytes()),
        ("kind", None, kind.as_bytes()),
        ("file", Some(name), file),
    ]);
    post_multipart(app, who, "/import", body).await
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
    } else {
        eprintln!("SKIPPED PostgreSQL for {name}: YUANJIANG_TEST_POSTGRES is not set");
    }
}

/// The value of an upload id in a report page's commit form or error link.
fn upload_id(page: &str) -> String {
    let at = page
        .find("name=\"upload\" value=\"")
        .map(|i| i + "name=\"upload\" value=\"".len())
        .or_else(|| {
            page.find("/import/errors/")
                .map(|i| i + "/import/errors/".len())
        })
        .expect("an upload id on the page");
    page[at..at + 64].to_owned()
}

/// Every project code the API lists for `who` (all pages).
async fn api_codes(app: &Router, who: Option<&Browser>, query: &str) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut uri = format!("/api/v1/projects?limit=1000{query}");
        if let Some(c) = &cursor {
            uri.push_str(&format!("&cursor={c}"));
        }
        let a = get(app, who, &uri).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text());
        let page: Value = serde_json::from_slice(&a.body).expect("json");
        for item in page["items"].as_array().expect("items") {
            out.insert(
                item["code"].as_str().expect("code").to_owned(),
                item.clone(),
            );
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    out
}

/// A Shanghai project in Shufu county as a CSV row with English headers.
fn project_csv(rows: &[(&str, &str, &str)]) -> Vec<u8> {
    let mut text = String::from(
        "project code,project name,category,delivery mode,project kind,plan year,in plan,continued,grassroots,livelihood,supporter code,recipient code,location code,planned investment (yuan),aid funds (yuan),matching funds (yuan),start date,end date,state,published,description\r\n",
    );
    for (code, supporter, aid) in rows {
        text.push_str(&format!(
            "{code},{code} 职业学校实训楼,education,turnkey,construction,2026,yes,no,yes,yes,{supporter},653121,653121,5000000.00,{aid},0,2026-03-01,2026-12-31,proposed,no,实训楼\r\n"
        ));
    }
    text.into_bytes()
}

#[tokio::test]
async fn multipart_forms_need_the_csrf_token_as_their_first_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = sqlite_store(dir.path()).await.expect("store");
    let app = app(AppState::new(store.clone()));
    let sh = sign_in(&store, "x-sh", Role::Supporter, Some("31")).await;
    let file = project_csv(&[("YJ2026-31-CSRF1", "31", "4000000")]);

    let without = multipart(&[("kind", None, b"projects"), ("file", Some("p.csv"), &file)]);
    let a = post_multipart(&app, &sh, "/import", without).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text());
    assert!(a.text().contains("csrf_rejected"), "{}", a.text());

    let wrong = multipart(&[
        ("csrf_token", None, b"0123456789abcdef"),
        ("kind", None, b"projects"),
        ("file", Some("p.csv"), &file),
    ]);
    assert_eq!(
        post_multipart(&app, &sh, "/import", wrong).await.status,
        StatusCode::FORBIDDEN
    );

    // The right token, but after the file: the layer reads only the start.
    let late = multipart(&[
        ("kind", None, b"projects"),
        ("file", Some("p.csv"), &file),
        ("csrf_token", None, sh.csrf.as_bytes()),
    ]);
    assert_eq!(
        post_multipart(&app, &sh, "/import", late).await.status,
        StatusCode::FORBIDDEN
    );

    // First, it passes, and the handler still reads the whole form.
    let a = upload(&app, &sh, "projects", "p.csv", &file).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert!(a.text().contains("YJ2026-31-CSRF1") || a.text().contains("p.csv"));
    assert!(a.text().contains("/import/commit"), "{}", a.text());

    // A bearer token needs no CSRF token, multipart or not.
    let token = store
        .create_token("x-sh", "test", None, Utc::now())
        .await
        .expect("token");
    let body = multipart(&[("kind", None, b"projects"), ("file", Some("p.csv"), &file)]);
    let request = Request::post("/import")
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", token.token.expose()),
        )
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Body::from(body))
        .expect("request");
    assert_eq!(send(&app, request).await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_upload_is_checked_in_a_dry_run_then_committed_once() {
    on_both("exchange_web_import", |store| async move {
        load_demo(&store, 7).await;
        let app = app(AppState::new(store.clone()));
        let sh = sign_in(&store, "i-sh", Role::Supporter, Some("31")).await;
        let gd = sign_in(&store, "i-gd", Role::Supporter, Some("44")).await;
        let region = sign_in(&store, "i-region", Role::Region, None).await;

        // The page: the form for a supporter, with the token first; none for the region.
        let a = get(&app, Some(&sh), "/import").await;
        assert_eq!(a.status, StatusCode::OK);
        let page = a.text();
        let form = &page[page.find("enctype=\"multipart/form-data\"").expect("form")..];
        let first_input = &form[form.find("<input").expect("input")..];
        assert!(first_input.starts_with("<input type=\"hidden\" name=\"csrf_token\""));
        assert!(
            page.contains("href=\"/import\""),
            "nav link for a supporter"
        );
        assert!(page.contains("/import/template/projects"));
        let a = get(&app, Some(&region), "/import").await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(!a.text().contains("multipart/form-data"));
        assert!(
            !a.text().contains("href=\"/import\""),
            "no nav link for the region"
        );
        assert_eq!(
            get(&app, None, "/import").await.status,
            StatusCode::SEE_OTHER,
            "the public is sent to sign in"
        );

        // Dry run: one new project, nothing written.
        let file = project_csv(&[("YJ2026-31-WEB01", "31", "4000000.00")]);
        let a = upload(&app, &sh, "projects", "新项目.csv", &file).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text());
        let page = a.text();
        assert!(page.contains("新项目.csv"));
        assert!(page.contains("CSV (UTF-8)"), "{page}");
        let counts = &page[page.find("id=\"counts\"").expect("counts")..];
        assert!(
            counts.contains(
                "<td class=\"num\">1</td><td class=\"num\">0</td><td class=\"num\">0</td>"
            ),
            "would insert 1: {counts}"
        );
        let id = upload_id(&page);
        assert!(
            !api_codes(&app, Some(&sh), "")
                .await
                .contains_key("YJ2026-31-WEB01"),
            "a dry run writes nothing"
        );

        // Someone else cannot commit it.
        let a = post_form(&app, &gd, "/import/commit", &[("upload", &id)]).await;
        assert_eq!(a.status, StatusCode::GONE);

        // The commit: written, with its history id.
        let a = post_form(&app, &sh, "/import/commit", &[("upload", &id)]).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text());
        let page = a.text();
        let at = page.find("id=\"import-id\">").expect("import id") + "id=\"import-id\">".len();
        let import_id: i64 = page[at..page[at..].find('<').expect("end") + at]
            .parse()
            .expect("number");
        let stored = api_codes(&app, Some(&sh), "").await;
        let p = stored.get("YJ2026-31-WEB01").expect("imported");
        assert_eq!(p["aid_funds"], 400_000_000, "4,000,000.00 yuan in fen");
        let history = store.import_history(5).await.expect("history");
        assert_eq!(history[0].id, import_id);
        assert_eq!(history[0].actor, "i-sh");
        assert_eq!(history[0].inserted, 1);
        let a = get(&app, Some(&sh), "/import").await;
        assert!(a.text().contains("新项目.csv"), "the history shows it");
        let a = get(&app, Some(&gd), "/import").await;
        assert!(!a.text().contains("新项目.csv"), "not another office's");
        let a = get(&app, Some(&region), "/import").await;
        assert!(a.text().contains("新项目.csv"), "the region sees all");
        // /metrics counts it: this node's commits (the counters are the
        // process's, shared with other tests) and the history's length.
        let admin = sign_in(&store, "i-admin", Role::Admin, None).await;
        let metrics = get(&app, Some(&admin), "/metrics").await.text();
        let value = |name: &str| -> u64 {
            metrics
                .lines()
                .find_map(|l| l.strip_prefix(name).map(str::trim))
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name} missing:\n{metrics}"))
        };
        assert_eq!(value("yuanjiang_import_history_entries "), 1);
        assert!(value("yuanjiang_imports_total{outcome=\"committed\"}") >= 1);
        assert!(value("yuanjiang_imports_total{outcome=\"checked\"}") >= 1);
        assert!(value("yuanjiang_import_rows_total{change=\"inserted\"}") >= 1);

        // The upload is gone once imported: a second click imports nothing.
        let a = post_form(&app, &sh, "/import/commit", &[("upload", &id)]).await;
        assert_eq!(a.status, StatusCode::GONE);
        assert!(a.text().contains("过期"), "{}", a.text());
        assert_eq!(store.import_history(5).await.expect("h")[0].id, import_id);

        // The same file again: unchanged.
        let a = upload(&app, &sh, "projects", "新项目.csv", &file).await;
        let counts = a.text();
        let counts = &counts[counts.find("id=\"counts\"").expect("counts")..];
        assert!(
            counts.contains(
                "<td class=\"num\">0</td><td class=\"num\">0</td><td class=\"num\">1</td>"
            ),
            "{counts}"
        );

        // Problems: every one listed with its place, nothing to commit,
        // the error workbook downloadable by its owner only.
        let bad = project_csv(&[
            ("YJ2026-31-WEB02", "31", "-5"),
            ("YJ2026-44-WEB03", "44", "100"),
        ]);
        let a = upload(&app, &sh, "projects", "bad.csv", &bad).await;
        assert_eq!(a.status, StatusCode::OK);
        let page = a.text();
        assert!(!page.contains("/import/commit"), "no commit with problems");
        let problems = &page[page.find("id=\"problems\"").expect("problems")..];
        assert!(problems.contains("<code>out_of_scope</code>"), "{problems}");
        assert!(problems.contains("-5"), "the bad value is shown");
        assert!(problems.contains("无权修改项目"), "zh message: {problems}");
        let id = upload_id(&page);
        let a = get(&app, Some(&sh), &format!("/import/errors/{id}")).await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(a.body.starts_with(b"PK"), "an xlsx");
        let disposition = a.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .expect("ascii");
        assert!(disposition.starts_with("attachment;"), "{disposition}");
        assert!(disposition.contains("filename*=UTF-8''"), "{disposition}");
        let mut book: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(Cursor::new(a.body.clone())).expect("xlsx");
        let sheets = calamine::Reader::sheet_names(&book);
        assert_eq!(sheets[0], "错误清单");
        let list = calamine::Reader::worksheet_range(&mut book, "错误清单").expect("sheet");
        let codes: Vec<String> = list.rows().skip(1).map(|r| r[5].to_string()).collect();
        assert!(codes.iter().any(|c| c == "out_of_scope"), "{codes:?}");
        assert_eq!(
            get(&app, Some(&gd), &format!("/import/errors/{id}"))
                .await
                .status,
            StatusCode::GONE
        );
        let a = post_form(&app, &sh, "/import/commit", &[("upload", &id)]).await;
        assert_eq!(a.status, StatusCode::CONFLICT);
        assert!(
            !api_codes(&app, Some(&region), "")
                .await
                .contains_key("YJ2026-31-WEB02"),
            "nothing of a bad file is written"
        );

        // In English, the messages are English.
        let en = Browser {
            cookie: format!("{}; lang=en", sh.cookie),
            csrf: sh.csrf.clone(),
        };
        let a = upload(&app, &en, "projects", "bad.csv", &bad).await;
        assert!(a.text().contains("outside your scope"), "{}", a.text());

        // The region may not import (its role edits nothing).
        let a = upload(&app, &region, "projects", "p.csv", &file).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN);
        // A file that is missing, or of an unknown kind.
        let a = upload(&app, &sh, "projects", "empty.csv", b"").await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
        assert!(a.text().contains("请选择要上传的文件"));
        let a = upload(&app, &sh, "pairings", "p.csv", &file).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);

        // Templates.
        let a = get(&app, Some(&sh), "/import/template/transactions").await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(a.body.starts_with(b"PK"));
        let book: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(Cursor::new(a.body.clone())).expect("template");
        assert!(calamine::Reader::sheet_names(&book).contains(&"资金".to_owned()));
        assert_eq!(
            get(&app, Some(&sh), "/import/template/nothing")
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    })
    .await;
}

#[tokio::test]
async fn an_oversized_upload_gets_a_bilingual_413() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = sqlite_store(dir.path()).await.expect("store");
    let app = app(AppState::new(store.clone()));
    let sh = sign_in(&store, "o-sh", Role::Supporter, Some("31")).await;
    // Over the import's 63 MB but under the 64 MB request limit, so that
    // the page itself answers.
    let big = vec![b'a'; 63 * 1024 * 1024 + 10];
    let a = upload(&app, &sh, "projects", "big.csv", &big).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", a.text());
    assert!(a.text().contains("超过上限"), "{}", a.text());
    let en = Browser {
        cookie: format!("{}; lang=en", sh.cookie),
        csrf: sh.csrf.clone(),
    };
    let a = upload(&app, &en, "projects", "big.csv", &big).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(a.text().contains("above the limit"), "{}", a.text());
    assert!(
        store.import_history(5).await.expect("history").is_empty(),
        "nothing recorded"
    );
}

/// The data rows of a CSV export, checking the BOM.
fn csv_rows(body: &[u8]) -> Vec<csv::StringRecord> {
    assert!(body.starts_with(b"\xEF\xBB\xBF"), "UTF-8 with BOM");
    csv::Reader::from_reader(&body[3..])
        .records()
        .map(|r| r.expect("record"))
        .collect()
}

#[tokio::test]
async fn exports_hold_the_api_list_in_every_format_within_the_scope() {
    on_both("exchange_web_export", |store| async move {
        load_demo(&store, 3).await;
        let app = app(AppState::new(store.clone()));
        let sh = sign_in(&store, "e-sh", Role::Supporter, Some("31")).await;
        let region = sign_in(&store, "e-region", Role::Region, None).await;

        let listed = api_codes(&app, Some(&sh), "").await;
        assert!(!listed.is_empty());
        let everything = api_codes(&app, Some(&region), "").await;
        assert!(everything.len() > listed.len(), "the supporter sees a part");

        // CSV, with Chinese headers; code and aid funds (yuan) per row.
        let a = get(&app, Some(&sh), "/api/v1/export/projects?format=csv").await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text());
        assert_eq!(a.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
        let disposition = a.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .expect("ascii");
        assert!(
            disposition.contains("filename=\"yuanjiang-projects-")
                && disposition
                    .contains("filename*=UTF-8''%E6%8F%B4%E7%96%86%E9%80%9A-%E9%A1%B9%E7%9B%AE-"),
            "{disposition}"
        );
        let rows = csv_rows(&a.body);
        let from_csv: BTreeMap<String, String> = rows
            .iter()
            .map(|r| (r[0].to_owned(), r[14].to_owned()))
            .collect();
        assert_eq!(rows.len(), listed.len());
        assert_eq!(
            from_csv.keys().collect::<Vec<_>>(),
            listed.keys().collect::<Vec<_>>()
        );
        for (code, aid) in &from_csv {
            let fen = listed[code]["aid_funds"].as_i64().expect("fen");
            let yuan: Fen = aid.parse().expect("yuan");
            assert_eq!(yuan.0, fen, "{code}");
        }

        // JSON: amounts in fen.
        let a = get(&app, Some(&sh), "/api/v1/export/projects?format=json").await;
        assert_eq!(a.status, StatusCode::OK);
        let items: Vec<Value> = serde_json::from_slice(&a.body).expect("json");
        let from_json: BTreeMap<String, (i64, String)> = items
            .iter()
            .map(|i| {
                (
                    i["code"].as_str().expect("code").to_owned(),
                    (
                        i["aid_funds"].as_i64().expect("fen"),
                        i["name"].as_str().expect("name").to_owned(),
                    ),
                )
            })
            .collect();
        let expected: BTreeMap<String, (i64, String)> = listed
            .iter()
            .map(|(c, p)| {
                (
                    c.clone(),
                    (
                        p["aid_funds"].as_i64().expect("fen"),
                        p["name"].as_str().expect("name").to_owned(),
                    ),
                )
            })
            .collect();
        assert_eq!(from_json, expected);

        // xlsx, with English headers.
        let a = get(
            &app,
            Some(&sh),
            "/api/v1/export/projects?format=xlsx&lang=en",
        )
        .await;
        assert_eq!(a.status, StatusCode::OK);
        let mut book: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(Cursor::new(a.body.clone())).expect("xlsx");
        let range = calamine::Reader::worksheet_range(&mut book, "projects").expect("sheet");
        let mut rows = range.rows();
        assert_eq!(rows.next().expect("header")[0].to_string(), "project code");
        let from_xlsx: BTreeSet<String> = rows.map(|r| r[0].to_string()).collect();
        assert_eq!(from_xlsx, listed.keys().cloned().collect::<BTreeSet<_>>());

        // A filter narrows it as on the API.
        let some_year = listed.values().next().expect("one")["year"]
            .as_i64()
            .expect("year");
        let filtered = api_codes(&app, Some(&sh), &format!("&year={some_year}")).await;
        let a = get(
            &app,
            Some(&sh),
            &format!("/api/v1/export/projects?format=csv&year={some_year}"),
        )
        .await;
        let codes: BTreeSet<String> = csv_rows(&a.body).iter().map(|r| r[0].to_owned()).collect();
        assert_eq!(codes, filtered.keys().cloned().collect::<BTreeSet<_>>());

        // Transactions: the supporter's own equal the region's for supporter 31.
        let a = get(&app, Some(&sh), "/api/v1/export/transactions?format=json").await;
        assert_eq!(a.status, StatusCode::OK);
        let mine: Vec<Value> = serde_json::from_slice(&a.body).expect("json");
        assert!(!mine.is_empty());
        assert!(
            mine.iter()
                .all(|t| listed.contains_key(t["project_code"].as_str().expect("code"))),
            "only the supporter's projects"
        );
        let a = get(
            &app,
            Some(&region),
            "/api/v1/export/transactions?format=json&supporter=31",
        )
        .await;
        let theirs: Vec<Value> = serde_json::from_slice(&a.body).expect("json");
        assert_eq!(mine, theirs);
        let total: i64 = mine
            .iter()
            .map(|t| t["amount"].as_i64().expect("fen"))
            .sum();
        assert!(total > 0);
        let a = get(&app, Some(&sh), "/api/v1/export/transactions?format=csv").await;
        assert_eq!(csv_rows(&a.body).len(), mine.len());

        // Indicators and pairings answer too.
        let a = get(&app, Some(&sh), "/api/v1/export/indicators?format=csv").await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(
            csv_rows(&a.body).iter().all(|r| listed.contains_key(&r[0])),
            "indicators within scope"
        );
        let a = get(
            &app,
            None,
            "/api/v1/export/pairings?format=json&supporter=31",
        )
        .await;
        assert_eq!(a.status, StatusCode::OK);
        let pairings: Vec<Value> = serde_json::from_slice(&a.body).expect("json");
        assert!(!pairings.is_empty());
        assert!(pairings.iter().all(|p| p["supporter_code"] == "31"));

        // The public gets published projects only.
        let public = api_codes(&app, None, "").await;
        let a = get(&app, None, "/api/v1/export/projects?format=json").await;
        let items: Vec<Value> = serde_json::from_slice(&a.body).expect("json");
        assert_eq!(items.len(), public.len());
        assert!(items.iter().all(|i| i["published"] == true));

        // Bad requests name the parameter.
        let a = get(&app, Some(&sh), "/api/v1/export/projects?format=pdf").await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
        assert!(a.text().contains("\"field\":\"format\""), "{}", a.text());
        let a = get(&app, Some(&sh), "/api/v1/export/batches").await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
        let a = get(&app, Some(&sh), "/api/v1/export/pairings?year=2024").await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);

        // The project list links to the downloads with its filters.
        let a = get(&app, Some(&sh), "/projects?year=2024&category=education").await;
        let page = a.text();
        assert!(
            page.contains(
                "/api/v1/export/projects?format=csv&#38;category=education&#38;year=2024"
            ),
            "{page}"
        );
        assert!(page.contains(
            "/api/v1/export/transactions?format=xlsx&#38;category=education&#38;year=2024"
        ));
    })
    .await;
}

/// The files of a zip and their contents.
fn unzip(bytes: &[u8]) -> BTreeMap<String, String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("zip");
    let mut out = BTreeMap::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).expect("entry");
        let name = file.name().expect("name").into_owned();
        let mut text = String::new();
        file.read_to_string(&mut text).expect("utf-8");
        out.insert(name, text);
    }
    out
}

/// The project codes in the package's projects file.
fn package_codes(files: &BTreeMap<String, String>) -> BTreeSet<String> {
    let (_, projects) = files
        .iter()
        .find(|(name, _)| name.starts_with("projects"))
        .expect("a projects file");
    let text = projects.trim_start_matches('\u{feff}');
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.expect("record")[0].to_owned())
        .collect()
}

#[tokio::test]
async fn the_open_data_zip_holds_published_projects_and_follows_changes() {
    on_both("exchange_web_open_data", |store| async move {
        load_demo(&store, 5).await;
        let app = app(AppState::new(store.clone()));

        let a = get(&app, None, "/public").await;
        assert!(a.text().contains("href=\"/open-data.zip\""));

        let a = get(&app, None, "/open-data.zip").await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.headers[header::CONTENT_TYPE], "application/zip");
        let files = unzip(&a.body);
        let package: Value =
            serde_json::from_str(&files["datapackage.json"]).expect("datapackage.json");
        for resource in package["resources"].as_array().expect("resources") {
            let path = resource["path"].as_str().expect("path");
            assert!(files.contains_key(path), "{path} is in the zip");
        }
        let published: BTreeSet<String> = api_codes(&app, None, "").await.into_keys().collect();
        assert!(!published.is_empty());
        assert_eq!(package_codes(&files), published, "published projects only");
        assert!(
            !files.values().any(|t| t.contains("id_number")),
            "no personal data"
        );

        // Unchanged data: the same package again.
        let again = get(&app, None, "/open-data.zip").await;
        assert_eq!(again.body, a.body);

        // Publishing a project moves no money (the data version stays), yet
        // the next download has it; withdrawing it takes it out again.
        let region = Principal {
            name: "seed".into(),
            role: Role::Region,
            scope: None,
        };
        let version = store.data_version().await.expect("version");
        let date = |m| NaiveDate::from_ymd_opt(2026, m, 1).expect("date");
        let mut project = Project {
            code: "YJ2026-31-OPEN1".into(),
            name: "公开的新项目".into(),
            category: Category::Health,
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
            planned_investment: Fen(100_000_000),
            aid_funds: Fen(80_000_000),
            matching_funds: Fen(0),
            start_date: date(3),
            end_date: date(12),
            state: ProjectState::Proposed,
            published: true,
            description: String::new(),
        };
        let row = store
            .create_project(&region, &project)
            .await
            .expect("create");
        assert!(!row.project.published, "created as a draft");
        let files = unzip(&get(&app, None, "/open-data.zip").await.body);
        assert!(!package_codes(&files).contains("YJ2026-31-OPEN1"));
        let row = store
            .update_project(&region, "YJ2026-31-OPEN1", row.row_version, &project)
            .await
            .expect("publish");
        assert!(row.project.published);
        assert_eq!(store.data_version().await.expect("version"), version);
        let files = unzip(&get(&app, None, "/open-data.zip").await.body);
        assert!(package_codes(&files).contains("YJ2026-31-OPEN1"));

        project.published = false;
        store
            .update_project(&region, "YJ2026-31-OPEN1", row.row_version, &project)
            .await
            .expect("withdraw");
        let files = unzip(&get(&app, None, "/open-data.zip").await.body);
        assert!(!package_codes(&files).contains("YJ2026-31-OPEN1"));
        assert_eq!(package_codes(&files), published);
    })
    .await;
}
