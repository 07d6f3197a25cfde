//! `GET /api/v1/assignments` with real bearer tokens: scope per role, ID
//! numbers and phones in clear only for the sending front command and the
//! region, masked for the rest, 404 for the public, never cached.

use axum::http::{StatusCode, header};
use chrono::NaiveDate;
use serde_json::Value;
use yuanjiang_domain::codes::id_number_check_char;
use yuanjiang_domain::{Assignment, AssignmentCategory, AssignmentMode};
use yuanjiang_store::Store;
use yuanjiang_store::testing::{postgres_store, sqlite_store};

use crate::audit::{get_as, token, tokens};

fn person(
    supporter: &str,
    batch: u32,
    name: &str,
    id17: &str,
    phone: &str,
    recipient: &str,
) -> Assignment {
    let check = id_number_check_char(id17).expect("digits");
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
    Assignment {
        supporter_code: supporter.into(),
        batch_number: Some(batch),
        person_name: name.into(),
        id_number: Some(format!("{id17}{check}")),
        phone: Some(phone.into()),
        category: AssignmentCategory::Teacher,
        mode: AssignmentMode::Team,
        recipient_code: recipient.into(),
        host_unit: "第一中学".into(),
        post: "教师".into(),
        arrival_date: d("2025-08-20"),
        return_date: d("2026-07-10"),
        appraisal: None,
    }
}

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["person_name"].as_str().expect("name").to_owned())
        .collect()
}

async fn assignments_api(store: &Store) {
    let cast = tokens(store).await;
    let people = [
        person(
            "31",
            11,
            "张老师",
            "31010419800315123",
            "13812345678",
            "653125",
        ),
        person(
            "4403",
            10,
            "李老师",
            "44030519850620234",
            "13923456789",
            "653101",
        ),
        person(
            "44",
            10,
            "王老师",
            "44010619900101345",
            "13734567890",
            "653221",
        ),
    ];
    let mut bulk = store.bulk().await.expect("bulk");
    bulk.insert_assignments(&people).await.expect("insert");
    bulk.commit().await.expect("commit");
    let id_of = |i: usize| people[i].id_number.clone().expect("id");
    let masked_id = |i: usize| {
        let id = id_of(i);
        format!("{}**********{}", &id[..4], &id[14..])
    };

    let (status, _, _) = get_as(store, "/api/v1/assignments", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the public sees nobody");

    // (who, names seen, in clear?)
    let expected: [(&str, &[&str], bool); 7] = [
        ("region", &["张老师", "李老师", "王老师"], true),
        ("admin", &["张老师", "李老师", "王老师"], false),
        ("auditor", &["张老师", "李老师", "王老师"], false),
        ("sh", &["张老师"], true),
        ("gd", &["李老师", "王老师"], true),
        ("kashgar", &["张老师", "李老师"], false),
        ("hotan", &["王老师"], false),
    ];
    for (name, seen, clear) in expected {
        let (status, headers, page) =
            get_as(store, "/api/v1/assignments", token(&cast, name)).await;
        assert_eq!(status, StatusCode::OK, "{name}: {page}");
        assert_eq!(
            headers
                .get(header::CACHE_CONTROL)
                .and_then(|v| v.to_str().ok()),
            Some("no-store")
        );
        assert_eq!(names(&page), seen, "{name}");
        for item in page["items"].as_array().expect("items") {
            let i = people
                .iter()
                .position(|p| p.person_name == item["person_name"])
                .expect("known person");
            if clear {
                assert_eq!(item["personal_data"], "clear", "{name}");
                assert_eq!(item["id_number"], id_of(i).as_str(), "{name}");
                assert_eq!(item["phone"], people[i].phone.as_deref().expect("phone"));
            } else {
                assert_eq!(item["personal_data"], "masked", "{name}");
                assert_eq!(item["id_number"], masked_id(i).as_str(), "{name}");
                let phone = people[i].phone.as_deref().expect("phone");
                assert_eq!(
                    item["phone"],
                    format!("{}****{}", &phone[..3], &phone[7..]).as_str()
                );
            }
            assert_eq!(item["supporter_code"], people[i].supporter_code.as_str());
            assert_eq!(item["recipient_code"], people[i].recipient_code.as_str());
        }
    }

    let region = token(&cast, "region");
    let (_, _, page) = get_as(store, "/api/v1/assignments?supporter=44", region).await;
    assert_eq!(names(&page), ["李老师", "王老师"]);
    let (_, _, page) = get_as(store, "/api/v1/assignments?recipient=6531&batch=10", region).await;
    assert_eq!(names(&page), ["李老师"]);
    // A filter never widens the scope.
    let (_, _, page) = get_as(
        store,
        "/api/v1/assignments?supporter=31",
        token(&cast, "gd"),
    )
    .await;
    assert_eq!(names(&page), Vec::<String>::new());

    let (_, _, first) = get_as(store, "/api/v1/assignments?limit=2", region).await;
    assert_eq!(names(&first), ["张老师", "李老师"]);
    let cursor = first["next_cursor"].as_str().expect("cursor");
    let (_, _, rest) = get_as(
        store,
        &format!("/api/v1/assignments?limit=2&cursor={cursor}"),
        region,
    )
    .await;
    assert_eq!(names(&rest), ["王老师"]);
    assert_eq!(rest["next_cursor"], Value::Null);

    for (uri, field) in [
        ("/api/v1/assignments?batch=abc", "batch"),
        ("/api/v1/assignments?batch=0", "batch"),
        ("/api/v1/assignments?recipient=65%25", "recipient"),
        ("/api/v1/assignments?limit=5000", "limit"),
        ("/api/v1/assignments?name=x", "name"),
    ] {
        let (status, _, body) = get_as(store, uri, region).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(body["error"]["field"], field, "{uri}");
    }
}

#[tokio::test]
async fn assignments_api_on_sqlite() {
    let dir = tempfile::TempDir::new().expect("dir");
    assignments_api(&sqlite_store(dir.path()).await.expect("store")).await;
}

#[tokio::test]
async fn assignments_api_on_postgres() {
    if let Some(store) = postgres_store("server_assignments_api")
        .await
        .expect("postgres")
    {
        assignments_api(&store).await;
    }
}
