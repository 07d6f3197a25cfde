//! `GET /api/v1/audit` and `/api/v1/audit/verify` through the real router
//! with real bearer tokens: auditors and administrators read the trail;
//! everyone else gets exactly the 404 of a route that does not exist.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use chrono::Utc;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;
use yuanjiang_domain::{Principal, Role};
use yuanjiang_server::{AppState, app};
use yuanjiang_store::testing::{postgres_store, sqlite_store};
use yuanjiang_store::{AuditEntry, Secret, Store};

const PASSWORD: &str = "Xinjiang-2026!";

/// Everyone the access tests need: name, role, scope.
pub const CAST: [(&str, Role, Option<&str>); 7] = [
    ("admin", Role::Admin, None),
    ("region", Role::Region, None),
    ("auditor", Role::Auditor, None),
    ("sh", Role::Supporter, Some("31")),
    ("gd", Role::Supporter, Some("44")),
    ("kashgar", Role::Prefecture, Some("6531")),
    ("hotan", Role::Prefecture, Some("6532")),
];

/// Creates the cast; returns a bearer token per name, and `public` without one.
pub async fn tokens(store: &Store) -> Vec<(&'static str, Option<String>)> {
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

/// The token of `name` in `cast`.
pub fn token<'a>(cast: &'a [(&str, Option<String>)], name: &str) -> Option<&'a str> {
    cast.iter()
        .find(|(n, _)| *n == name)
        .and_then(|(_, t)| t.as_deref())
}

/// GETs `uri` as the holder of `token`; status, headers and JSON body.
pub async fn get_as(
    store: &Store,
    uri: &str,
    token: Option<&str>,
) -> (StatusCode, HeaderMap, Value) {
    let mut req = Request::get(uri);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let response = app(AppState::new(store.clone()))
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (
        status,
        headers,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn audit_api(store: &Store) {
    let cast = tokens(store).await;
    for n in 1..=3 {
        let after = json!({"amount": n, "id_number": "650102199001011234"});
        store
            .record_audit(&AuditEntry {
                actor: "sh",
                action: "update",
                entity: "test_record",
                entity_key: &format!("R-{n}"),
                before: None,
                after: Some(&after),
            })
            .await
            .expect("append");
    }

    // Those who may not read it cannot tell it from a route that does not exist.
    let (status, _, absent) = get_as(store, "/api/v1/no-such-route", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for name in ["public", "region", "sh", "gd", "kashgar", "hotan"] {
        for uri in [
            "/api/v1/audit",
            "/api/v1/audit?entity=test_record",
            "/api/v1/audit?bogus=1",
            "/api/v1/audit/verify",
        ] {
            let (status, _, body) = get_as(store, uri, token(&cast, name)).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{name} {uri}");
            assert_eq!(body, absent, "{name} {uri}");
        }
    }

    for name in ["auditor", "admin"] {
        let t = token(&cast, name);
        let (status, _, page) = get_as(store, "/api/v1/audit?entity=test_record", t).await;
        assert_eq!(status, StatusCode::OK, "{name}: {page}");
        let items = page["items"].as_array().expect("items");
        assert_eq!(items.len(), 3);
        assert_eq!(items[0]["key"], "R-1");
        assert_eq!(items[0]["actor"], "sh");
        assert_eq!(items[0]["after"]["amount"], 1);
        assert_eq!(
            items[0]["after"]["id_number"], "6501**********1234",
            "personal data is masked in the trail"
        );
        assert_eq!(items[1]["prev_hash"], items[0]["hash"]);
        assert_eq!(items[0]["hash"].as_str().map(str::len), Some(64));

        let (_, _, one) = get_as(store, "/api/v1/audit?entity=test_record&key=R-2", t).await;
        assert_eq!(one["items"].as_array().map(Vec::len), Some(1));
        assert_eq!(one["items"][0]["after"]["amount"], 2);

        // Paging follows next_cursor to the end.
        let mut seen = Vec::new();
        let mut uri = "/api/v1/audit?actor=sh&limit=2".to_owned();
        loop {
            let (status, _, page) = get_as(store, &uri, t).await;
            assert_eq!(status, StatusCode::OK);
            for item in page["items"].as_array().expect("items") {
                seen.push(item["key"].as_str().expect("key").to_owned());
            }
            match page["next_cursor"].as_str() {
                Some(c) => uri = format!("/api/v1/audit?actor=sh&limit=2&cursor={c}"),
                None => break,
            }
        }
        assert_eq!(seen, ["R-1", "R-2", "R-3"]);

        let (status, _, bad) = get_as(store, "/api/v1/audit?bogus=1", t).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(bad["error"]["code"], "unknown_parameter");
        let (status, _, bad) = get_as(store, "/api/v1/audit?limit=0", t).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(bad["error"]["field"], "limit");
        let long = "x".repeat(201);
        let (status, _, bad) = get_as(store, &format!("/api/v1/audit?actor={long}"), t).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(bad["error"]["code"], "parameter_too_long");

        let (status, _, verdict) = get_as(store, "/api/v1/audit/verify", t).await;
        assert_eq!(status, StatusCode::OK, "{verdict}");
        assert_eq!(verdict["status"], "intact");
        let (_, _, all) = get_as(store, "/api/v1/audit?limit=1000", t).await;
        let all = all["items"].as_array().expect("items");
        assert_eq!(verdict["entries"].as_u64(), Some(all.len() as u64));
        assert_eq!(verdict["head"], all[all.len() - 1]["hash"]);
    }
}

#[tokio::test]
async fn audit_api_on_sqlite() {
    let dir = tempfile::TempDir::new().expect("dir");
    audit_api(&sqlite_store(dir.path()).await.expect("store")).await;
}

#[tokio::test]
async fn audit_api_on_postgres() {
    if let Some(store) = postgres_store("server_audit_api").await.expect("postgres") {
        audit_api(&store).await;
    }
}
