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
