//! Plans, batches, evaluation runs and the import history through the API,
//! and assignments exported with personal data masked per viewer.

use axum::http::StatusCode;
use serde_json::Value;
use yuanjiang_domain::Role;
use yuanjiang_store::Store;
use yuanjiang_store::testing::{postgres_store, sqlite_store};

use crate::support::{get_bytes, get_json, load_demo, token_for};

fn items(v: &Value) -> &Vec<Value> {
    v["items"].as_array().expect("items")
}

async fn records_story(store: &Store) {
    load_demo(store, 7).await;
    let region = token_for(store, "r1", Role::Region, None).await;
    let sh = token_for(store, "s1", Role::Supporter, Some("31")).await;
    let kashgar = token_for(store, "k1", Role::Prefecture, Some("6531")).await;

    // Plans: signed-in only, each within its scope, with the 80/80 check.
    let (status, _) = get_json(store, "/api/v1/plans", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, all) = get_json(store, "/api/v1/plans", Some(&region)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!items(&all).is_empty(), "the demo has plans");
    for p in items(&all) {
        let amount = p["amount"].as_i64().expect("amount");
        let grassroots = p["grassroots_amount"].as_i64().expect("grassroots");
        assert_eq!(
            p["grassroots_share_ok"].as_bool(),
            Some(grassroots * 100 >= amount * 80),
            "{p}"
        );
    }
    let (_, own) = get_json(store, "/api/v1/plans", Some(&sh)).await;
    let (_, filtered) = get_json(store, "/api/v1/plans?supporter=31", Some(&region)).await;
    assert!(!items(&own).is_empty());
    assert_eq!(
        items(&own),
        items(&filtered),
        "a front command sees its own plans"
    );
    let (_, prefecture) = get_json(store, "/api/v1/plans", Some(&kashgar)).await;
    assert!(!items(&prefecture).is_empty());
    assert!(
        items(&prefecture).iter().all(|p| p["recipient_code"]
            .as_str()
            .is_some_and(|c| c.starts_with("6531"))),
        "a prefecture office sees plans for its own units"
    );
    let (_, in_2024) = get_json(store, "/api/v1/plans?year=2024", Some(&region)).await;
    assert!(items(&in_2024).iter().all(|p| {
        p["start_year"].as_i64().is_some_and(|y| y <= 2024)
            && p["end_year"].as_i64().is_some_and(|y| y >= 2024)
    }));
    let (status, body) = get_json(store, "/api/v1/plans?year=20x4", Some(&region)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "year");

    // Batches are public facts.
    let (status, batches) = get_json(store, "/api/v1/batches?supporter=31", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!items(&batches).is_empty());
    assert!(items(&batches).iter().all(|b| b["supporter_code"] == "31"));

    // Evaluation runs: analysts only.
    let (status, runs) = get_json(store, "/api/v1/evaluations", Some(&region)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(items(&runs).len(), 0);
    let (status, _) = get_json(store, "/api/v1/evaluations", Some(&sh)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get_json(store, "/api/v1/evaluations/1", Some(&region)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Import history: signed-in only.
    let (status, history) = get_json(store, "/api/v1/imports", Some(&sh)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(items(&history).is_empty());
    let (status, _) = get_json(store, "/api/v1/imports", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Assignments export: the front command's own people, masked by
    // default, in full on request; the prefecture office may not ask for
    // full personal data; the public gets nothing.
    let (_, listed) = get_json(store, "/api/v1/assignments?limit=1000", Some(&sh)).await;
    let people = items(&listed).len();
    assert!(people > 0);
    let (status, masked) =
        get_bytes(store, "/api/v1/export/assignments?format=csv", Some(&sh)).await;
    assert_eq!(status, StatusCode::OK);
    let masked = String::from_utf8(masked).expect("utf-8");
    let rows: Vec<&str> = masked.lines().skip(1).collect();
    assert_eq!(rows.len(), people, "one row per assignment in scope");
    assert!(
        rows.iter().all(|r| r.contains("**********")),
        "ID numbers masked"
    );
    let (status, full) = get_bytes(
        store,
        "/api/v1/export/assignments?format=csv&personal_data=full",
        Some(&sh),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let full = String::from_utf8(full).expect("utf-8");
    assert_eq!(full.lines().count(), masked.lines().count());
    assert!(
        !full.contains("**********"),
        "in full for the sending front command"
    );
    let (status, _) = get_bytes(
        store,
        "/api/v1/export/assignments?personal_data=full",
        Some(&kashgar),
    )
    .await;
    assert!(status.is_client_error(), "{status}");
    let (status, _) = get_bytes(store, "/api/v1/export/assignments", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = get_json(store, "/api/v1/export/assignments?batch=x", Some(&sh)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "batch");
}

#[tokio::test]
async fn plans_batches_runs_imports_and_people_exports_on_both_backends() {
    let dir = tempfile::tempdir().expect("tempdir");
    records_story(&sqlite_store(dir.path()).await.expect("sqlite")).await;
    if let Some(store) = postgres_store("records_story").await.expect("postgres") {
        records_story(&store).await;
    }
}
