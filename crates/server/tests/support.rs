//! Builds a store with seeded `small` demo data and sends requests to the app.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::NaiveDate;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use yuanjiang_demo::Scale;
use yuanjiang_server::{AppState, app};
use yuanjiang_store::Store;

/// The fixed "today" of test data, so answers do not change from day to day.
pub fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 29).expect("date")
}

/// Writes the `small` demo data for `seed` into `store`.
pub async fn load_demo(store: &Store, seed: u64) {
    let written = yuanjiang_server::demo::load(store, Scale::Small, seed, as_of(), |_, _| {})
        .await
        .expect("demo data");
    assert!(written > 0);
}

/// GETs `uri` and returns the status and the JSON body.
pub async fn get(store: &Store, uri: &str) -> (StatusCode, Value) {
    let response = app(AppState::new(store.clone()))
        .oneshot(Request::get(uri).body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, json)
}

/// Creates a user with `role` and `scope` and returns a bearer token for it.
pub async fn token_for(
    store: &Store,
    name: &str,
    role: yuanjiang_domain::Role,
    scope: Option<&str>,
) -> String {
    let principal = yuanjiang_domain::Principal {
        name: name.into(),
        role,
        scope: scope.map(str::to_owned),
    };
    store
        .create_user(&principal, &yuanjiang_store::Secret::new("Xinjiang-2026!"))
        .await
        .expect("user");
    store
        .create_token(name, "test", None, chrono::Utc::now())
        .await
        .expect("token")
        .token
        .expose()
        .to_owned()
}

/// GETs `uri` with an optional bearer token; returns the status and the raw body.
pub async fn get_bytes(store: &Store, uri: &str, token: Option<&str>) -> (StatusCode, Vec<u8>) {
    let mut request = Request::get(uri);
    if let Some(t) = token {
        request = request.header(axum::http::header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let response = app(AppState::new(store.clone()))
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, bytes.to_vec())
}

/// [`get_bytes`] as JSON.
pub async fn get_json(store: &Store, uri: &str, token: Option<&str>) -> (StatusCode, Value) {
    let (status, bytes) = get_bytes(store, uri, token).await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}
