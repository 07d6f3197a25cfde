//! Writes through the HTTP API: the access matrix (every write route × every
//! role × in and out of scope), If-Match (412/428), the approval workflow with
//! three users, and hostile strings stored and returned harmlessly.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::Utc;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;
use yuanjiang_domain::{Principal, Role};
use yuanjiang_server::{AppState, app};
use yuanjiang_store::testing::{postgres_store, sqlite_store};
use yuanjiang_store::{Secret, Store};

const PASSWORD: &str = "Xinjiang-2026!";

/// The test's cast: name, role, scope.
const CAST: [(&str, Role, Option<&str>); 7] = [
    ("admin", Role::Admin, None),
    ("region", Role::Region, None),
    ("auditor", Role::Auditor, None),
    ("gd", Role::Supporter, Some("44")),
    ("sh", Role::Supporter, Some("31")),
    ("kashgar", Role::Prefecture, Some("6531")),
    ("hotan", Role::Prefecture, Some("6532")),
];

/// Creates the cast and returns a bearer token per name ("public" has none).
async fn tokens(store: &Store) -> Vec<(&'static str, Option<String>)> {
    let mut out = vec![("public", None)];
    for (name, role, scope) in CAST {
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

async fn send(
    store: &Store,
    method: &str,
    uri: &str,
    token: Option<&str>,
    if_match: Option<String>,
    body: Option<Value>,
) -> (StatusCode, Value, Option<String>) {
    send_to(
        &AppState::new(store.clone()),
        method,
        uri,
        token,
        if_match,
        body,
    )
    .await
}

/// [`send`] to an app with the given state, so that requests share its caches.
async fn send_to(
    state: &AppState,
    method: &str,
    uri: &str,
    token: Option<&str>,
    if_match: Option<String>,
    body: Option<Value>,
) -> (StatusCode, Value, Option<String>) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    if let Some(v) = if_match {
        req = req.header(header::IF_MATCH, v);
    }
    let req = match body {
        Some(b) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .expect("request");
    let response = app(state.clone()).oneshot(req).await.expect("response");
    let status = response.status();
    let etag = response
        .headers()
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        etag,
    )
}

fn project_json(code: &str, name: &str) -> Value {
    json!({
        "code": code, "name": name, "category": "education", "delivery_mode": "turnkey",
        "kind": "construction", "year": 2026, "in_plan": true, "continued": false,
        "grassroots": true, "livelihood": true, "supporter_code": "44",
        "recipient_code": "653121", "location_code": "653121",
        "planned_investment": 1_200_000_000i64, "aid_funds": 1_000_000_000i64,
        "matching_funds": 200_000_000i64, "start_date": "2026-03-01", "end_date": "2027-08-31",
        "description": "疏附县"
    })
}

async fn version(store: &Store, code: &str) -> String {
    let row = store.project(code).await.expect("get").expect("exists");
    format!("\"v{}\"", row.row_version)
}

/// Every write route for every role, in and out of scope, on a fresh draft each time.
async fn access_matrix(store: &Store) {
    let cast = tokens(store).await;
    let gd_token = cast
        .iter()
        .find(|(n, _)| *n == "gd")
        .and_then(|(_, t)| t.clone());
    // Expected status per name, in the order of `cast`:
    // public, admin, region, auditor, gd, sh, kashgar, hotan.
    let routes: [(&str, &str, [u16; 8]); 6] = [
        ("GET", "", [404, 200, 200, 200, 200, 404, 200, 404]),
        ("PUT", "", [401, 403, 403, 403, 200, 404, 200, 404]),
        ("POST", "/state", [401, 403, 403, 403, 200, 404, 200, 404]),
        (
            "POST",
            "/transactions",
            [401, 403, 403, 403, 201, 404, 201, 404],
        ),
        (
            "POST",
            "/approval",
            [401, 403, 403, 403, 200, 404, 403, 404],
        ),
        (
            "PUT",
            "/indicators/新增学位",
            [401, 403, 403, 403, 200, 404, 200, 404],
        ),
    ];
    let mut n = 0;
    for (method, suffix, expected) in routes {
        for ((name, token), want) in cast.iter().zip(expected) {
            n += 1;
            let code = format!("YJ2026-44-7{n:04}");
            let (status, _, _) = send(
                store,
                "POST",
                "/api/v1/projects",
                gd_token.as_deref(),
                None,
                Some(project_json(&code, "矩阵测试项目")),
            )
            .await;
            assert_eq!(status, StatusCode::CREATED);
            let uri = format!("/api/v1/projects/{code}{suffix}");
            let body = match suffix {
                "" if method == "PUT" => Some(project_json(&code, "改名")),
                "/state" => Some(json!({"to": "plan-issued", "reason": "计划下达"})),
                "/transactions" => Some(
                    json!({"fund_type": "commitment", "amount": 100_000_000, "date": "2026-03-01", "document_no": "粤援〔2026〕9号"}),
                ),
                "/approval" => Some(json!({"step": "submit", "comment": "请审核"})),
                "/indicators/新增学位" => {
                    Some(json!({"unit": "个", "baseline": 0.0, "target": 1200.0}))
                }
                _ => None,
            };
            let uri = uri.replace("新增学位", "%E6%96%B0%E5%A2%9E%E5%AD%A6%E4%BD%8D");
            let (status, body, _) = send(
                store,
                method,
                &uri,
                token.as_deref(),
                Some(version(store, &code).await),
                body,
            )
            .await;
            assert_eq!(status.as_u16(), want, "{method} {uri} as {name}: {body}");
        }
    }
    // Inbox: signed-in users only.
    for (name, token) in &cast {
        let (status, _, _) =
            send(store, "GET", "/api/v1/inbox", token.as_deref(), None, None).await;
        assert_eq!(
            status,
            if token.is_some() {
                StatusCode::OK
            } else {
                StatusCode::UNAUTHORIZED
            },
            "inbox as {name}"
        );
    }
}

async fn workflow_and_concurrency(store: &Store) {
    let cast = tokens(store).await;
    let token = |who: &str| {
        cast.iter()
            .find(|(n, _)| *n == who)
            .and_then(|(_, t)| t.clone())
    };
    let (gd, kashgar, region) = (token("gd"), token("kashgar"), token("region"));
    let hostile = "<script>alert('x')</script>'; DROP TABLE projects; --";
    let (status, created, etag) = send(
        store,
        "POST",
        "/api/v1/projects",
        gd.as_deref(),
        None,
        Some(project_json("YJ2026-44-80001", hostile)),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["name"], hostile, "stored verbatim; JSON escapes it");
    assert_eq!(etag.as_deref(), Some("\"v1\""));

    // 428 without If-Match, 412 with a stale one.
    let uri = "/api/v1/projects/YJ2026-44-80001";
    let (status, body, _) = send(
        store,
        "PUT",
        uri,
        gd.as_deref(),
        None,
        Some(project_json("YJ2026-44-80001", "甲")),
    )
    .await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED, "{body}");
    assert_eq!(body["error"]["code"], "precondition_required");
    let (status, _, etag2) = send(
        store,
        "PUT",
        uri,
        gd.as_deref(),
        etag.clone(),
        Some(project_json("YJ2026-44-80001", "甲")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body, _) = send(
        store,
        "PUT",
        uri,
        kashgar.as_deref(),
        etag.clone(),
        Some(project_json("YJ2026-44-80001", "乙")),
    )
    .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{body}");
    assert!(
        body["error"]["message"]["zh-CN"]
            .as_str()
            .is_some_and(|m| m.contains("v2"))
    );
    let (_, got, etag_get) = send(store, "GET", uri, gd.as_deref(), None, None).await;
    assert_eq!(
        got["project"]["name"], "甲",
        "the stale write changed nothing"
    );
    assert_eq!(etag_get, etag2);

    // Lifecycle and chain errors are bilingual 422s.
    let (status, body, _) = send(
        store,
        "POST",
        &format!("{uri}/state"),
        gd.as_deref(),
        etag_get.clone(),
        Some(json!({"to": "completed"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["code"], "illegal_transition");
    let (status, body, _) = send(
        store,
        "POST",
        &format!("{uri}/transactions"),
        gd.as_deref(),
        None,
        Some(
            json!({"fund_type": "payment", "amount": 1, "date": "2026-03-01", "document_no": "x"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["code"], "fund_chain_broken");
    let (status, body, _) = send(store, "POST", &format!("{uri}/transactions"), gd.as_deref(), None,
        Some(json!({"fund_type": "payment", "amount": "lots", "date": "2026-03-01", "document_no": "x"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "invalid_body");

    // Three users walk the workflow; the inbox follows the item.
    let step = |who: Option<String>, step: &'static str, comment: &'static str| {
        let store = store.clone();
        async move {
            let v = version(&store, "YJ2026-44-80001").await;
            send(
                &store,
                "POST",
                "/api/v1/projects/YJ2026-44-80001/approval",
                who.as_deref(),
                Some(v),
                Some(json!({"step": step, "comment": comment})),
            )
            .await
        }
    };
    let inbox_codes = |who: Option<String>| {
        let store = store.clone();
        async move {
            let (_, body, _) =
                send(&store, "GET", "/api/v1/inbox", who.as_deref(), None, None).await;
            body["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|i| i["project"]["code"].as_str().unwrap_or("").to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(inbox_codes(gd.clone()).await, vec!["YJ2026-44-80001"]);
    assert_eq!(step(gd.clone(), "submit", "请审核").await.0, StatusCode::OK);
    assert_eq!(inbox_codes(kashgar.clone()).await, vec!["YJ2026-44-80001"]);
    assert_eq!(
        step(region.clone(), "approve", "").await.0,
        StatusCode::CONFLICT,
        "not reviewed yet"
    );
    assert_eq!(
        step(kashgar.clone(), "review", "同意").await.0,
        StatusCode::OK
    );
    assert_eq!(inbox_codes(region.clone()).await, vec!["YJ2026-44-80001"]);
    let (status, approved, _) = step(region.clone(), "approve", "批准").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            approved["approval"].as_str(),
            approved["state"].as_str(),
            approved["published"].as_bool()
        ),
        (Some("approved"), Some("plan-issued"), Some(true))
    );
    let (_, public_view, _) = send(store, "GET", uri, None, None, None).await;
    assert_eq!(
        public_view["project"]["name"], "甲",
        "approved projects are public"
    );
    let steps: Vec<&str> = public_view["approvals"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s["actor"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(steps, vec!["gd", "kashgar", "region"]);
    let report = store.check().await.expect("check");
    assert!(
        report.is_clean(),
        "roll-ups, chain and history still reconcile: {report:?}"
    );
}

#[tokio::test]
async fn write_access_matrix_on_both_backends() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = sqlite_store(dir.path()).await.expect("sqlite");
    access_matrix(&sqlite).await;
    if let Some(pg) = postgres_store("write_access_matrix")
        .await
        .expect("postgres")
    {
        access_matrix(&pg).await;
    }
}

#[tokio::test]
async fn workflow_versions_and_hostile_input_on_both_backends() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = sqlite_store(dir.path()).await.expect("sqlite");
    workflow_and_concurrency(&sqlite).await;
    if let Some(pg) = postgres_store("workflow_versions").await.expect("postgres") {
        workflow_and_concurrency(&pg).await;
    }
}

async fn assignment_story(store: &Store) {
    let cast = tokens(store).await;
    let token = |who: &str| {
        cast.iter()
            .find(|(n, _)| *n == who)
            .and_then(|(_, t)| t.clone())
    };
    let person = |name: &str| {
        json!({
            "supporter_code": "44", "batch_number": 11, "person_name": name,
            "id_number": "11010519491231002X", "phone": "13812345678", "category": "doctor",
            "mode": "short-term", "recipient_code": "653121", "host_unit": "疏附县人民医院",
            "post": "主治医师", "arrival_date": "2026-03-01", "return_date": "2026-12-31"
        })
    };
    let (status, _, _) = send(
        store,
        "POST",
        "/api/v1/assignments",
        None,
        None,
        Some(person("李医生")),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = send(
        store,
        "POST",
        "/api/v1/assignments",
        token("auditor").as_deref(),
        None,
        Some(person("李医生")),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "auditors write nothing");
    let (status, _, _) = send(
        store,
        "POST",
        "/api/v1/assignments",
        token("sh").as_deref(),
        None,
        Some(person("李医生")),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "out of scope");
    let mut bad = person("李医生");
    bad["id_number"] = json!("110105194912310021");
    let (status, body, _) = send(
        store,
        "POST",
        "/api/v1/assignments",
        token("gd").as_deref(),
        None,
        Some(bad),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_id_number"))
    );
    let (status, created, etag) = send(
        store,
        "POST",
        "/api/v1/assignments",
        token("gd").as_deref(),
        None,
        Some(person("李医生")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let uri = format!("/api/v1/assignments/{}", created["id"]);
    let (_, own, _) = send(store, "GET", &uri, token("gd").as_deref(), None, None).await;
    assert_eq!(
        own["id_number"], "11010519491231002X",
        "the sending front command sees it in clear"
    );
    let (_, host, _) = send(store, "GET", &uri, token("kashgar").as_deref(), None, None).await;
    assert_eq!(
        host["id_number"], "1101**********002X",
        "the host office sees it masked"
    );
    assert_eq!(host["phone"], "138****5678");
    let (status, _, _) = send(store, "GET", &uri, token("hotan").as_deref(), None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = send(
        store,
        "PUT",
        &uri,
        token("gd").as_deref(),
        None,
        Some(person("李医生")),
    )
    .await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED);
    let (status, _, etag2) = send(
        store,
        "PUT",
        &uri,
        token("gd").as_deref(),
        etag.clone(),
        Some(person("李主任")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(etag2.as_deref(), Some("\"v2\""));
    let (status, _, _) = send(
        store,
        "PUT",
        &uri,
        token("kashgar").as_deref(),
        etag,
        Some(person("王")),
    )
    .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    let (_, now, _) = send(store, "GET", &uri, token("region").as_deref(), None, None).await;
    assert_eq!(now["person_name"], "李主任");
}

#[tokio::test]
async fn assignments_are_written_scoped_versioned_and_masked_on_both_backends() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = sqlite_store(dir.path()).await.expect("sqlite");
    assignment_story(&sqlite).await;
    if let Some(pg) = postgres_store("assignment_writes").await.expect("postgres") {
        assignment_story(&pg).await;
    }
}

#[tokio::test]
async fn metrics_count_requests_for_admins_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = sqlite_store(dir.path()).await.expect("sqlite");
    let cast = tokens(&store).await;
    let token = |who: &str| {
        cast.iter()
            .find(|(n, _)| *n == who)
            .and_then(|(_, t)| t.clone())
    };
    for _ in 0..3 {
        send(&store, "GET", "/api/v1/pairings", None, None, None).await;
    }
    let (status, _, _) = send(
        &store,
        "GET",
        "/metrics",
        token("gd").as_deref(),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let response = app(AppState::new(store.clone()))
        .oneshot(
            Request::get("/metrics")
                .header(
                    header::AUTHORIZATION,
                    format!("Bearer {}", token("admin").unwrap_or_default()),
                )
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    let text = String::from_utf8(
        response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec(),
    )
    .expect("utf-8");
    let line = text
        .lines()
        .find(|l| l.starts_with("yuanjiang_http_requests_total{method=\"GET\",route=\"/api/v1/pairings\",status=\"2xx\"}"))
        .unwrap_or_else(|| panic!("{text}"));
    let n: u64 = line
        .rsplit(' ')
        .next()
        .and_then(|v| v.parse().ok())
        .expect("count");
    assert!(n >= 3, "{line}");
    assert!(text.contains("yuanjiang_db_pool_connections{state=\"open\"}"));
}

/// Many clients edit the same project and post transactions at once. Every
/// write lands or is refused with 412; afterwards the stored state equals the
/// replay of the accepted writes. `YUANJIANG_STRESS_CLIENTS` and
/// `YUANJIANG_STRESS_SECONDS` scale it up (the full run: 50 clients, 60 s).
async fn no_lost_updates(store: &Store) {
    let clients: usize = std::env::var("YUANJIANG_STRESS_CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let seconds: u64 = std::env::var("YUANJIANG_STRESS_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    let cast = tokens(store).await;
    let gd = cast
        .iter()
        .find(|(n, _)| *n == "gd")
        .and_then(|(_, t)| t.clone());
    let code = "YJ2026-44-60001";
    let (status, _, _) = send(
        store,
        "POST",
        "/api/v1/projects",
        gd.as_deref(),
        None,
        Some(project_json(code, "并发")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let store = store.clone();
        let gd = gd.clone();
        tasks.push(tokio::spawn(async move {
            let (mut puts, mut refused, mut posted, mut amount) = (Vec::new(), 0u64, 0u64, 0i64);
            let mut i = 0;
            while std::time::Instant::now() < deadline {
                i += 1;
                let (_, _, etag) = send(&store, "GET", &format!("/api/v1/projects/{code}"), gd.as_deref(), None, None).await;
                let name = format!("并发-{c}-{i}");
                let (status, body, etag2) = send(&store, "PUT", &format!("/api/v1/projects/{code}"), gd.as_deref(), etag, Some(project_json(code, &name))).await;
                match status {
                    StatusCode::OK => puts.push((etag2, name)),
                    StatusCode::PRECONDITION_FAILED => refused += 1,
                    other => panic!("PUT answered {other}: {body}"),
                }
                let txn = json!({"fund_type": "commitment", "amount": 100 + c as i64, "date": "2026-03-01", "document_no": format!("并发〔{c}〕{i}号")});
                let (status, body, _) = send(&store, "POST", &format!("/api/v1/projects/{code}/transactions"), gd.as_deref(), None, Some(txn)).await;
                match status {
                    StatusCode::CREATED => { posted += 1; amount += 100 + c as i64; }
                    other => panic!("POST answered {other}: {body}"),
                }
            }
            (puts, refused, posted, amount)
        }));
    }
    let (mut puts, mut refused, mut posted, mut amount) = (Vec::new(), 0, 0, 0);
    for t in tasks {
        let (p, r, n, a) = t.await.expect("client");
        puts.extend(p);
        refused += r;
        posted += n;
        amount += a;
    }
    let row = store.project(code).await.expect("get").expect("exists");
    assert_eq!(
        row.row_version as u64,
        1 + puts.len() as u64,
        "every accepted edit moved the version once"
    );
    let last = puts
        .iter()
        .max_by_key(|(etag, _)| {
            etag.clone()
                .unwrap_or_default()
                .trim_matches('"')
                .trim_start_matches('v')
                .parse::<i64>()
                .unwrap_or(0)
        })
        .expect("some PUT landed");
    assert_eq!(
        row.project.name, last.1,
        "the stored name is the last accepted write"
    );
    let txns = store.project_transactions(row.id).await.expect("txns");
    assert_eq!(txns.len() as u64, posted);
    assert_eq!(
        txns.iter().map(|t| t.transaction.amount.0).sum::<i64>(),
        amount
    );
    assert!(store.check().await.expect("check").is_clean());
    eprintln!(
        "no lost updates: {} PUTs landed, {refused} refused with 412, {posted} transactions",
        puts.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_lose_nothing_on_both_backends() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = sqlite_store(dir.path()).await.expect("sqlite");
    no_lost_updates(&sqlite).await;
    if let Some(pg) = postgres_store("no_lost_updates").await.expect("postgres") {
        no_lost_updates(&pg).await;
    }
}

#[tokio::test]
async fn admins_create_and_disable_accounts_from_the_page() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = sqlite_store(dir.path()).await.expect("sqlite");
    let cast = tokens(&store).await;
    let token = |who: &str| {
        cast.iter()
            .find(|(n, _)| *n == who)
            .and_then(|(_, t)| t.clone())
            .unwrap_or_default()
    };
    let post = |who: String, uri: &'static str, form: &'static str| {
        let store = store.clone();
        async move {
            let response = app(AppState::new(store))
                .oneshot(
                    Request::post(uri)
                        .header(header::AUTHORIZATION, format!("Bearer {who}"))
                        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                        .body(Body::from(form))
                        .expect("request"),
                )
                .await
                .expect("response");
            let status = response.status();
            let body = String::from_utf8_lossy(
                &response
                    .into_body()
                    .collect()
                    .await
                    .expect("body")
                    .to_bytes(),
            )
            .to_string();
            (status, body)
        }
    };
    let (status, _) = post(
        token("gd"),
        "/admin/users",
        "name=x1&role=auditor&scope=&password=Xinjiang-2026!",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "only administrators");
    let (status, body) = post(
        token("admin"),
        "/admin/users",
        "name=weak-one&role=auditor&scope=&password=short",
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("role=\"alert\"") && body.contains("value=\"weak-one\""),
        "message shown, input kept"
    );
    assert!(!body.contains("short\""), "the password is never re-shown");
    let (status, _) = post(
        token("admin"),
        "/admin/users",
        "name=aksu-office&role=prefecture&scope=6529&password=Xinjiang-2026!",
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let made = store
        .user("aksu-office")
        .await
        .expect("user")
        .expect("created");
    assert_eq!(made.principal.scope.as_deref(), Some("6529"));
    let (status, _) = post(token("admin"), "/admin/users/aksu-office/disable", "").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        store
            .user("aksu-office")
            .await
            .expect("user")
            .expect("exists")
            .disabled
    );
}

/// One app serving many requests keeps the project answer between them:
/// it must follow every write and still check each caller's scope.
async fn cached_answers_follow_writes(store: &Store) {
    let cast = tokens(store).await;
    let token = |name: &str| {
        cast.iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, t)| t.clone())
    };
    let (gd, sh) = (token("gd"), token("sh"));
    let state = AppState::new(store.clone());
    let (status, _, _) = send_to(
        &state,
        "POST",
        "/api/v1/projects",
        gd.as_deref(),
        None,
        Some(project_json("YJ2026-44-77001", "缓存校验项目")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let uri = "/api/v1/projects/YJ2026-44-77001";
    let (status, first, etag) = send_to(&state, "GET", uri, gd.as_deref(), None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first["transactions"].as_array().map(Vec::len), Some(0));
    assert_eq!(etag.as_deref(), Some("\"v1\""));
    // The cached answer is not served out of scope, nor to the public.
    let (status, _, _) = send_to(&state, "GET", uri, sh.as_deref(), None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = send_to(&state, "GET", uri, None, None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let stats = "/api/v1/stats/funds?supporter=44";
    let (_, before, _) = send_to(&state, "GET", stats, gd.as_deref(), None, None).await;
    let planned_before = before["total"]["planned"].as_i64().expect("planned");
    // A write moves the answer on: the new transaction and the new name show.
    let (status, _, _) = send_to(
        &state,
        "POST",
        &format!("{uri}/transactions"),
        gd.as_deref(),
        None,
        Some(json!({"fund_type": "commitment", "amount": 123_456, "date": "2026-03-01", "document_no": "粤援〔2026〕77号"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, after, _) = send_to(&state, "GET", uri, gd.as_deref(), None, None).await;
    assert_eq!(after["transactions"].as_array().map(Vec::len), Some(1));
    assert_eq!(after["fund_chain"]["planned"], 123_456);
    let (_, stats_after, _) = send_to(&state, "GET", stats, gd.as_deref(), None, None).await;
    assert_eq!(
        stats_after["total"]["planned"].as_i64(),
        Some(planned_before + 123_456),
        "the statistics follow the write on the same node"
    );
    let mut edited = project_json("YJ2026-44-77001", "改名后的项目");
    edited["code"] = Value::Null;
    let (status, _, _) = send_to(&state, "PUT", uri, gd.as_deref(), etag, Some(edited)).await;
    assert_eq!(status, StatusCode::OK);
    let (_, renamed, etag) = send_to(&state, "GET", uri, gd.as_deref(), None, None).await;
    assert_eq!(renamed["project"]["name"], "改名后的项目");
    assert_eq!(etag.as_deref(), Some("\"v2\""));
}

#[tokio::test]
async fn cached_answers_follow_writes_on_both_backends() {
    let dir = tempfile::tempdir().expect("tempdir");
    cached_answers_follow_writes(&sqlite_store(dir.path()).await.expect("sqlite")).await;
    if let Some(store) = postgres_store("cached_answers_follow_writes")
        .await
        .expect("postgres")
    {
        cached_answers_follow_writes(&store).await;
    }
}
