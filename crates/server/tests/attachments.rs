//! Attachments over HTTP: upload, list and download within the project's
//! scope (404 outside it and for the public), type by content, the size
//! limit, the download headers, the audit entry, the project page, and the
//! bulletin's "acceptance without documents" warning — on both backends.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use chrono::{TimeZone, Utc};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use yuanjiang_domain::{
    Category, DeliveryMode, Fen, MAX_ATTACHMENT_BYTES, Principal, Project, ProjectBundle,
    ProjectKind, ProjectState, Role, StateChange,
};
use yuanjiang_server::{AppState, app};
use yuanjiang_store::testing::{postgres_store, sqlite_store};
use yuanjiang_store::{AuditFilter, Secret, Store};

const PASSWORD: &str = "Xinjiang-2026!";
const CODE: &str = "YJ2025-44-96001";
const BOUNDARY: &str = "yj-attachment-test-boundary";
const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

fn pdf(text: &str) -> Vec<u8> {
    format!("%PDF-1.7\n% {text}\n%%EOF\n").into_bytes()
}

/// Writes a published, accepted Guangdong project in Shufu county (Kashgar).
async fn accepted_project(store: &Store) {
    let project = Project {
        code: CODE.into(),
        name: "疏附县人民医院门诊楼建设项目".into(),
        category: Category::Health,
        delivery_mode: DeliveryMode::Turnkey,
        kind: ProjectKind::Construction,
        year: 2025,
        in_plan: true,
        continued: false,
        grassroots: true,
        livelihood: true,
        supporter_code: "44".into(),
        recipient_code: "653121".into(),
        location_code: "653121".into(),
        planned_investment: Fen::from_yuan(30_000_000),
        aid_funds: Fen::from_yuan(25_000_000),
        matching_funds: Fen::from_yuan(5_000_000),
        start_date: chrono::NaiveDate::from_ymd_opt(2025, 3, 1).expect("date"),
        end_date: chrono::NaiveDate::from_ymd_opt(2026, 6, 30).expect("date"),
        state: ProjectState::Accepted,
        published: true,
        description: String::new(),
    };
    let bundle = ProjectBundle {
        project,
        history: vec![StateChange {
            from: Some(ProjectState::Completed),
            to: ProjectState::Accepted,
            at: Utc
                .with_ymd_and_hms(2026, 7, 10, 9, 0, 0)
                .single()
                .expect("time"),
            by: "gd".into(),
            reason: "竣工验收".into(),
        }],
        transactions: Vec::new(),
        indicators: Vec::new(),
    };
    let mut bulk = store.bulk().await.expect("bulk");
    bulk.insert_bundles(&[bundle]).await.expect("bundle");
    bulk.commit().await.expect("commit");
}

/// The cast: bearer tokens by name ("public" has none).
async fn tokens(store: &Store) -> Vec<(&'static str, Option<String>)> {
    let cast: [(&str, Role, Option<&str>); 6] = [
        ("region", Role::Region, None),
        ("auditor", Role::Auditor, None),
        ("gd", Role::Supporter, Some("44")),
        ("sh", Role::Supporter, Some("31")),
        ("kashgar", Role::Prefecture, Some("6531")),
        ("hotan", Role::Prefecture, Some("6532")),
    ];
    let mut out = vec![("public", None)];
    for (name, role, scope) in cast {
        let principal = Principal {
            name: name.into(),
            role,
            scope: scope.map(str::to_owned),
        };
        store
            .create_user(&principal, &Secret::new(PASSWORD))
            .await
            .expect("user");
        let token = store
            .create_token(name, "test", None, Utc::now())
            .await
            .expect("token");
        out.push((name, Some(token.token.expose().to_owned())));
    }
    out
}

fn token<'a>(cast: &'a [(&str, Option<String>)], name: &str) -> Option<&'a str> {
    cast.iter()
        .find(|(n, _)| *n == name)
        .and_then(|(_, t)| t.as_deref())
}

/// A multipart body of text fields and one file.
fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some((file_name, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    bytes: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
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
        .to_bytes()
        .to_vec();
    Answer {
        status,
        headers,
        bytes,
    }
}

async fn get(app: &Router, uri: &str, token: Option<&str>) -> Answer {
    let mut request = Request::get(uri);
    if let Some(t) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    send(app, request.body(Body::empty()).expect("request")).await
}

async fn upload(
    app: &Router,
    token: Option<&str>,
    kind: &str,
    file_name: &str,
    bytes: &[u8],
) -> Answer {
    let mut request = Request::post(format!("/api/v1/projects/{CODE}/attachments")).header(
        header::CONTENT_TYPE,
        format!("multipart/form-data; boundary={BOUNDARY}"),
    );
    if let Some(t) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let body = multipart(&[("kind", kind)], Some((file_name, bytes)));
    send(app, request.body(Body::from(body)).expect("request")).await
}

/// Runs `story` on SQLite and, when configured, PostgreSQL, each with its
/// attachment files in a temporary directory.
async fn on_both<F, Fut>(name: &str, story: F)
where
    F: Fn(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("tempdir");
    story(sqlite_store(dir.path()).await.expect("sqlite store")).await;
    if let Some(pg) = postgres_store(name).await.expect("postgres store") {
        let files = tempfile::tempdir().expect("tempdir");
        story(pg.with_attachment_dir(files.path())).await;
    }
}

#[tokio::test]
async fn uploads_lists_and_downloads_within_scope_only() {
    on_both("http_attachments_scope", |store| async move {
        accepted_project(&store).await;
        let cast = tokens(&store).await;
        let app = app(AppState::new(store.clone()));
        let t = |name| token(&cast, name);

        let report = pdf("竣工验收报告 第1页");
        let created = upload(&app, t("gd"), "acceptance_report", "验收报告.pdf", &report).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
        let body = created.json();
        let id = body["id"].as_i64().expect("id");
        assert_eq!(body["kind"], "acceptance_report");
        assert_eq!(body["file_name"], "验收报告.pdf");
        assert_eq!(body["media_type"], "application/pdf");
        assert_eq!(body["size_bytes"], report.len());
        assert_eq!(body["uploaded_by"], "gd");
        assert_eq!(body["project_code"], CODE);
        assert_eq!(body["href"], format!("/api/v1/attachments/{id}"));
        assert_eq!(
            created.header(header::LOCATION),
            format!("/api/v1/attachments/{id}")
        );

        // Who may upload: editors in scope (201); the rest 401, 403 or 404.
        let expected_upload = [
            ("public", 401),
            ("region", 403),
            ("auditor", 403),
            ("gd", 201),
            ("sh", 404),
            ("kashgar", 201),
            ("hotan", 404),
        ];
        for (name, status) in expected_upload {
            let a = upload(&app, t(name), "photo", "现场.png", PNG).await;
            assert_eq!(a.status.as_u16(), status, "upload as {name}: {}", a.text());
        }

        // Who may list and download: readers in scope, never the public.
        let expected_read = [
            ("public", 404),
            ("region", 200),
            ("auditor", 200),
            ("gd", 200),
            ("sh", 404),
            ("kashgar", 200),
            ("hotan", 404),
        ];
        for (name, status) in expected_read {
            let list = get(&app, &format!("/api/v1/projects/{CODE}/attachments"), t(name)).await;
            assert_eq!(list.status.as_u16(), status, "list as {name}");
            let file = get(&app, &format!("/api/v1/attachments/{id}"), t(name)).await;
            assert_eq!(file.status.as_u16(), status, "download as {name}");
            if status == 200 {
                assert_eq!(file.bytes, report, "download as {name} returns the exact bytes");
                let items = list.json()["items"].as_array().expect("items").clone();
                assert_eq!(items.len(), 3, "the report and two photos");
            } else {
                assert_eq!(list.json()["error"]["code"], "not_found");
                assert_eq!(file.json()["error"]["code"], "not_found");
            }
        }
        // The public sees the published project, but not its attachments.
        assert_eq!(get(&app, &format!("/api/v1/projects/{CODE}"), None).await.status, StatusCode::OK);

        let file = get(&app, &format!("/api/v1/attachments/{id}"), t("gd")).await;
        assert_eq!(file.header(header::CONTENT_TYPE), "application/pdf");
        assert_eq!(
            file.header(header::CONTENT_DISPOSITION),
            "attachment; filename=\"____.pdf\"; filename*=UTF-8''%E9%AA%8C%E6%94%B6%E6%8A%A5%E5%91%8A.pdf"
        );
        assert_eq!(file.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        assert_eq!(get(&app, "/api/v1/attachments/999999", t("gd")).await.status, StatusCode::NOT_FOUND);
        assert_eq!(get(&app, "/api/v1/attachments/abc", t("gd")).await.status, StatusCode::NOT_FOUND);

        // Every stored upload has its audit entry.
        let audit = store
            .audit_entries(
                &AuditFilter {
                    entity: Some("attachment".into()),
                    ..Default::default()
                },
                None,
                100,
            )
            .await
            .expect("audit");
        let actors: Vec<&str> = audit.items.iter().map(|e| e.actor.as_str()).collect();
        assert_eq!(actors, vec!["gd", "gd", "kashgar"]);
        assert_eq!(audit.items[0].entity_key, id.to_string());
    })
    .await;
}

#[tokio::test]
async fn type_by_content_size_limit_and_bad_forms() {
    on_both("http_attachments_checks", |store| async move {
        accepted_project(&store).await;
        let cast = tokens(&store).await;
        let app = app(AppState::new(store.clone()));
        let gd = token(&cast, "gd");

        // PNG bytes named .pdf are stored, and served, as PNG.
        let png = upload(&app, gd, "photo", "scan.pdf", PNG).await;
        assert_eq!(png.status, StatusCode::CREATED, "{}", png.text());
        assert_eq!(png.json()["media_type"], "image/png");
        assert_eq!(png.json()["file_name"], "scan.pdf.png");
        let id = png.json()["id"].as_i64().expect("id");
        let file = get(&app, &format!("/api/v1/attachments/{id}"), gd).await;
        assert_eq!(file.header(header::CONTENT_TYPE), "image/png");
        assert_eq!(file.bytes, PNG);

        let exe = upload(
            &app,
            gd,
            "approval_document",
            "批复.pdf",
            b"MZ\x90\0\x03\0\0\0\x04\0\0\0",
        )
        .await;
        assert_eq!(exe.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let e = exe.json();
        assert_eq!(e["error"]["code"], "attachment_type_not_allowed");
        assert_eq!(e["error"]["field"], "file");
        assert!(
            e["error"]["message"]["en"]
                .as_str()
                .expect("en")
                .contains("a Windows executable")
        );
        assert!(
            e["error"]["message"]["zh-CN"]
                .as_str()
                .expect("zh")
                .contains("Windows 可执行程序")
        );

        let random = upload(
            &app,
            gd,
            "other",
            "data.pdf",
            &[0x13, 0x9f, 0x00, 0xfe, 0x42, 0x88],
        )
        .await;
        assert_eq!(random.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert!(
            random.json()["error"]["message"]["en"]
                .as_str()
                .expect("en")
                .contains("unrecognised data")
        );

        let mut big = pdf("big");
        big.resize(MAX_ATTACHMENT_BYTES + 1, b' ');
        let large = upload(&app, gd, "other", "big.pdf", &big).await;
        assert_eq!(
            large.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{}",
            large.text()
        );
        assert_eq!(large.json()["error"]["code"], "attachment_too_large");
        assert_eq!(
            large.json()["error"]["message"]["en"],
            "the file is 20.0 MB, above the limit of 20 MB"
        );

        let bad_kind = upload(&app, gd, "invoice", "x.pdf", &pdf("x")).await;
        assert_eq!(bad_kind.status, StatusCode::BAD_REQUEST);
        assert_eq!(bad_kind.json()["error"]["field"], "kind");

        let no_file = send(
            &app,
            Request::post(format!("/api/v1/projects/{CODE}/attachments"))
                .header(
                    header::AUTHORIZATION,
                    format!("Bearer {}", gd.expect("token")),
                )
                .header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={BOUNDARY}"),
                )
                .body(Body::from(multipart(&[("kind", "photo")], None)))
                .expect("request"),
        )
        .await;
        assert_eq!(no_file.status, StatusCode::BAD_REQUEST);
        assert_eq!(no_file.json()["error"]["field"], "file");

        // Only the PNG was kept.
        let list = get(&app, &format!("/api/v1/projects/{CODE}/attachments"), gd).await;
        assert_eq!(list.json()["items"].as_array().map(Vec::len), Some(1));
    })
    .await;
}

/// A signed-in browser's cookie and CSRF token.
async fn session(store: &Store, name: &str, role: Role, scope: Option<&str>) -> (String, String) {
    let user = store
        .create_user(
            &Principal {
                name: name.into(),
                role,
                scope: scope.map(str::to_owned),
            },
            &Secret::new(PASSWORD),
        )
        .await
        .expect("user");
    let s = store
        .create_session(user.id, Utc::now())
        .await
        .expect("session");
    (
        format!("yj_session={}", s.id.expose()),
        s.csrf_token.expose().to_owned(),
    )
}

#[tokio::test]
async fn the_project_page_lists_attachments_and_offers_the_form_to_editors() {
    on_both("web_attachments", |store| async move {
        accepted_project(&store).await;
        let app = app(AppState::new(store.clone()));
        let (gd_cookie, gd_csrf) = session(&store, "gd-web", Role::Supporter, Some("44")).await;
        let (sh_cookie, _) = session(&store, "sh-web", Role::Supporter, Some("31")).await;
        let (kashgar_cookie, _) =
            session(&store, "kashgar-web", Role::Prefecture, Some("6531")).await;

        // The API with the session cookie needs the CSRF header.
        let post = |csrf: Option<&str>| {
            let mut r = Request::post(format!("/api/v1/projects/{CODE}/attachments"))
                .header(header::COOKIE, &gd_cookie)
                .header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={BOUNDARY}"),
                );
            if let Some(c) = csrf {
                r = r.header("x-csrf-token", c);
            }
            r.body(Body::from(multipart(
                &[("kind", "approval_document")],
                Some(("批复<img src=x>.pdf", &pdf("批复"))),
            )))
            .expect("request")
        };
        assert_eq!(send(&app, post(None)).await.status, StatusCode::FORBIDDEN);
        let created = send(&app, post(Some(&gd_csrf))).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
        let id = created.json()["id"].as_i64().expect("id");

        let page = |cookie: Option<String>| {
            let mut r = Request::get(format!("/projects/{CODE}"));
            if let Some(c) = cookie {
                r = r.header(header::COOKIE, c);
            }
            r.body(Body::empty()).expect("request")
        };
        let html = send(&app, page(Some(gd_cookie.clone()))).await;
        assert_eq!(html.status, StatusCode::OK);
        let text = html.text();
        assert!(
            text.contains("id=\"h-attachments\""),
            "the section is shown"
        );
        assert!(
            ["批复&lt;img src=x&gt;.pdf", "批复&#60;img src=x&#62;.pdf"]
                .iter()
                .any(|e| text.contains(e)),
            "names are escaped"
        );
        assert!(!text.contains("<img src=x>"), "never raw");
        assert!(text.contains(&format!("href=\"/attachments/{id}\"")));
        assert!(text.contains("批复文件"), "the kind's label");
        let form_at = text
            .find("action=\"/projects/YJ2025-44-96001/attachments\"")
            .expect("form");
        let form = &text[form_at..];
        assert!(form.contains("enctype=\"multipart/form-data\""));
        let first_input = &form[form.find("<input").expect("input")..];
        assert!(
            first_input.starts_with(&format!(
                "<input type=\"hidden\" name=\"csrf_token\" value=\"{gd_csrf}\">"
            )),
            "the CSRF token is the form's first field"
        );

        // A reader who may not edit sees the list but no form; the public sees neither.
        let (region_cookie, _) = session(&store, "region-web", Role::Region, None).await;
        let region = send(&app, page(Some(region_cookie))).await.text();
        assert!(region.contains("id=\"h-attachments\""));
        assert!(!region.contains("enctype=\"multipart/form-data\""));
        let kashgar = send(&app, page(Some(kashgar_cookie.clone()))).await.text();
        assert!(kashgar.contains("id=\"h-attachments\""));
        assert!(
            kashgar.contains("enctype=\"multipart/form-data\""),
            "the prefecture may edit"
        );
        let public = send(&app, page(None)).await;
        assert_eq!(public.status, StatusCode::OK, "the project is published");
        assert!(!public.text().contains("h-attachments"));
        assert!(!public.text().contains("/attachments/"));

        // The web download: the bytes for readers, 404 pages for the rest.
        let download = |cookie: Option<&str>| {
            let mut r = Request::get(format!("/attachments/{id}"));
            if let Some(c) = cookie {
                r = r.header(header::COOKIE, c);
            }
            r.body(Body::empty()).expect("request")
        };
        let file = send(&app, download(Some(&kashgar_cookie))).await;
        assert_eq!(file.status, StatusCode::OK);
        assert_eq!(file.bytes, pdf("批复"));
        assert_eq!(file.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        assert_eq!(
            send(&app, download(Some(&sh_cookie))).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            send(&app, download(None)).await.status,
            StatusCode::NOT_FOUND
        );

        // The web form: the CSRF token travels in the multipart body, and
        // without it nothing is stored.
        let forged = Request::post(format!("/projects/{CODE}/attachments"))
            .header(header::COOKIE, &gd_cookie)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(Body::from(multipart(
                &[("kind", "photo")],
                Some(("forged.png", PNG)),
            )))
            .expect("request");
        assert_eq!(send(&app, forged).await.status, StatusCode::FORBIDDEN);
        let web_upload = Request::post(format!("/projects/{CODE}/attachments"))
            .header(header::COOKIE, &gd_cookie)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(Body::from(multipart(
                &[("csrf_token", &gd_csrf), ("kind", "photo"), ("step", "")],
                Some(("现场.png", PNG)),
            )))
            .expect("request");
        let answer = send(&app, web_upload).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text());
        assert_eq!(
            answer.header(header::LOCATION),
            format!("/projects/{CODE}?saved=1#h-attachments")
        );
        let refused = Request::post(format!("/projects/{CODE}/attachments"))
            .header(header::COOKIE, &gd_cookie)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(Body::from(multipart(
                &[("csrf_token", &gd_csrf), ("kind", "photo")],
                Some(("setup.exe", b"MZ\x90\0\x03\0\0\0")),
            )))
            .expect("request");
        let answer = send(&app, refused).await;
        assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert!(
            answer.text().contains("Windows 可执行程序"),
            "the reason is on the page"
        );
    })
    .await;
}

#[tokio::test]
async fn the_bulletin_warns_of_acceptance_without_a_report() {
    use yuanjiang_server::bulletin::{BulletinKind, build};
    on_both("bulletin_acceptance_documents", |store| async move {
        accepted_project(&store).await;
        let cast = tokens(&store).await;
        let app = app(AppState::new(store.clone()));
        let today = Utc::now().date_naive();
        let before = build(&store, BulletinKind::Monthly, today, None)
            .await
            .expect("bulletin");
        let codes: Vec<&str> = before
            .accepted_without_report
            .iter()
            .map(|p| p.code.as_str())
            .collect();
        assert_eq!(codes, vec![CODE]);
        assert_eq!(
            before.accepted_without_report[0].amount,
            Fen::from_yuan(25_000_000)
        );
        let html = before.to_html();
        assert!(html.contains(
            "已验收但无验收报告的项目 Projects accepted without an acceptance report: 1"
        ));
        assert!(
            html.contains(&format!(
                "{CODE} 疏附县人民医院门诊楼建设项目 援疆资金 2500.00 万元"
            )),
            "{html}"
        );
        assert!(!before.to_xlsx().expect("xlsx").is_empty());

        let photo = upload(&app, token(&cast, "gd"), "photo", "现场.png", PNG).await;
        assert_eq!(photo.status, StatusCode::CREATED);
        let still = build(&store, BulletinKind::Monthly, today, None)
            .await
            .expect("bulletin");
        assert_eq!(
            still.accepted_without_report.len(),
            1,
            "a photo is not a report"
        );

        let report = upload(
            &app,
            token(&cast, "gd"),
            "acceptance_report",
            "验收报告.pdf",
            &pdf("验收"),
        )
        .await;
        assert_eq!(report.status, StatusCode::CREATED);
        let after = build(&store, BulletinKind::Monthly, today, None)
            .await
            .expect("bulletin");
        assert!(after.accepted_without_report.is_empty());
        assert!(
            after
                .to_html()
                .contains("Projects accepted without an acceptance report: 0")
        );
    })
    .await;
}
