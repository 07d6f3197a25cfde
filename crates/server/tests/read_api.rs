use std::collections::BTreeSet;

use axum::http::StatusCode;
use serde_json::Value;
use yuanjiang_store::testing::{postgres_store, sqlite_store};

use crate::support::{get, load_demo};

const SEED: u64 = 7;

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

/// Every endpoint of the read API, with the figures checked against each other.
async fn read_api_story(store: &yuanjiang_store::Store) -> Vec<Value> {
    let mut answers = Vec::new();

    let (status, health) = get(store, "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["status"], "ok");

    let (status, parties) = get(store, "/api/v1/parties").await;
    assert_eq!(status, StatusCode::OK);
    let supporters = parties["supporters"].as_array().expect("supporters");
    assert!(
        supporters
            .iter()
            .any(|s| s["code"] == "31" && s["name"] == "上海市")
    );
    assert!(
        supporters.iter().any(|s| s["kind"] == "central-soe"),
        "demo adds central SOEs"
    );
    answers.push(parties);

    let (status, pairings) = get(store, "/api/v1/pairings").await;
    assert_eq!(status, StatusCode::OK);
    let items = pairings["items"].as_array().expect("items");
    assert!(
        items.len() > 58,
        "reference pairings plus the central bodies'"
    );
    assert!(items.iter().any(|p| p["confidence"] == "demo"));
    answers.push(pairings);

    // Page through the whole public registry.
    let mut codes = Vec::new();
    let mut uri = "/api/v1/projects?limit=50".to_owned();
    loop {
        let (status, page) = get(store, &uri).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for p in page["items"].as_array().expect("items") {
            assert_eq!(
                p["published"], true,
                "the public sees published projects only"
            );
            codes.push(p["code"].as_str().expect("code").to_owned());
        }
        answers.push(page.clone());
        match page["next_cursor"].as_str() {
            Some(c) => uri = format!("/api/v1/projects?limit=50&cursor={c}"),
            None => break,
        }
    }
    assert!(
        codes.len() > 100,
        "small demo publishes most projects: {}",
        codes.len()
    );
    assert_eq!(
        codes.iter().collect::<BTreeSet<_>>().len(),
        codes.len(),
        "no duplicates across pages"
    );

    // Filters narrow the list, and `recipient=6531` covers all of Kashgar.
    let (_, kashgar) = get(store, "/api/v1/projects?recipient=6531&limit=1000").await;
    let kashgar = kashgar["items"].as_array().expect("items").clone();
    assert!(!kashgar.is_empty());
    assert!(kashgar.iter().all(|p| {
        p["recipient_code"]
            .as_str()
            .expect("code")
            .starts_with("6531")
    }));
    let (_, shanghai_edu) = get(
        store,
        "/api/v1/projects?supporter=31&category=education&limit=1000",
    )
    .await;
    for p in shanghai_edu["items"].as_array().expect("items") {
        assert_eq!(
            (p["supporter_code"].as_str(), p["category"].as_str()),
            (Some("31"), Some("education"))
        );
    }

    // One project: its chain equals the sums of its transactions.
    let (status, detail) = get(store, &format!("/api/v1/projects/{}", codes[0])).await;
    assert_eq!(status, StatusCode::OK);
    for (step, fund_type) in [
        ("planned", "commitment"),
        ("transferred", "transfer"),
        ("allocated", "allocation"),
        ("paid", "payment"),
        ("spent", "expenditure"),
    ] {
        let sum: i64 = detail["transactions"]
            .as_array()
            .expect("txns")
            .iter()
            .filter(|t| t["fund_type"] == fund_type)
            .map(|t| int(&t["amount"]))
            .sum();
        assert_eq!(int(&detail["fund_chain"][step]), sum, "{step}");
    }
    assert_eq!(detail["history"][0]["to"], "proposed");
    answers.push(detail);

    // Stats: each cut's rows add up to the same total, which equals the sum
    // over all public projects' transactions.
    let (status, total) = get(store, "/api/v1/stats/funds").await;
    assert_eq!(status, StatusCode::OK);
    let grand = total["total"].clone();
    let (_, by3) = get(store, "/api/v1/stats/funds?by=supporter,category,year").await;
    let (_, by_pref) = get(store, "/api/v1/stats/funds?by=prefecture,month").await;
    for cut in [&by3, &by_pref] {
        assert_eq!(cut["total"], grand);
        for step in ["planned", "transferred", "allocated", "paid", "spent"] {
            let sum: i64 = cut["rows"]
                .as_array()
                .expect("rows")
                .iter()
                .map(|r| int(&r[step]))
                .sum();
            assert_eq!(sum, int(&grand[step]), "{step}");
        }
    }
    let mut from_projects = 0i64;
    for code in &codes {
        let (_, d) = get(store, &format!("/api/v1/projects/{code}")).await;
        from_projects += int(&d["fund_chain"]["paid"]);
    }
    assert_eq!(
        from_projects,
        int(&grand["paid"]),
        "stats equal the sum over projects"
    );
    let row = &by3["rows"][0];
    assert!(row["supporter"].is_string() && row["category"].is_string() && row["year"].is_i64());
    assert!(int(&grand["planned"]) > 0);
    let rate = grand["arrival_rate"].as_f64().expect("rate");
    assert!((0.0..=1.0).contains(&rate));
    answers.extend([total, by3, by_pref]);
    answers
}

#[tokio::test]
async fn read_api_answers_identically_on_both_backends() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = sqlite_store(dir.path()).await.expect("sqlite");
    load_demo(&sqlite, SEED).await;
    let sqlite_answers = read_api_story(&sqlite).await;
    if let Some(pg) = postgres_store("read_api_identical")
        .await
        .expect("postgres")
    {
        load_demo(&pg, SEED).await;
        let pg_answers = read_api_story(&pg).await;
        assert_eq!(sqlite_answers.len(), pg_answers.len());
        for (s, p) in sqlite_answers.iter().zip(&pg_answers) {
            assert_eq!(s, p, "SQLite and PostgreSQL disagree");
        }
    }
}

#[tokio::test]
async fn bad_requests_name_the_parameter() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = sqlite_store(dir.path()).await.expect("sqlite");
    for (uri, field, code) in [
        ("/api/v1/projects?year=20x4", "year", "invalid_year"),
        (
            "/api/v1/projects?category=spaceflight",
            "category",
            "invalid_category",
        ),
        (
            "/api/v1/projects?state=finished",
            "state",
            "invalid_project_state",
        ),
        (
            "/api/v1/projects?recipient=9999",
            "recipient",
            "invalid_division_code",
        ),
        (
            "/api/v1/projects?recipient=XPCC-99",
            "recipient",
            "invalid_xpcc_code",
        ),
        (
            "/api/v1/projects?supporter=31%25",
            "supporter",
            "invalid_credit_code",
        ),
        (
            "/api/v1/projects?grassroots=maybe",
            "grassroots",
            "invalid_flag",
        ),
        ("/api/v1/projects?limit=0", "limit", "invalid_limit"),
        ("/api/v1/projects?cursor=abc", "cursor", "invalid_cursor"),
        (
            "/api/v1/projects?catgory=education",
            "catgory",
            "unknown_parameter",
        ),
        (
            "/api/v1/stats/funds?by=supporter,colour",
            "by",
            "invalid_dimension",
        ),
    ] {
        let (status, body) = get(&store, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(body["error"]["field"], field, "{uri}");
        assert_eq!(body["error"]["code"], code, "{uri}");
        assert!(
            body["error"]["message"]["zh-CN"]
                .as_str()
                .is_some_and(|m| m.contains(field)),
            "{uri}"
        );
        assert!(
            body["error"]["message"]["en"]
                .as_str()
                .is_some_and(|m| m.contains(field)),
            "{uri}"
        );
    }
    let (status, body) = get(&store, "/api/v1/projects/NOPE-1").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
}

/// The maintained roll-ups give exactly the figures of the raw transactions,
/// for every cut a dashboard asks for, before and after writes.
async fn rollups_story(store: &yuanjiang_store::Store) {
    use yuanjiang_store::{ProjectFilter, Scope, Source, StatDimension as D};
    let cuts: Vec<(ProjectFilter, Vec<D>)> = vec![
        (ProjectFilter::default(), vec![]),
        (
            ProjectFilter::default(),
            vec![D::Supporter, D::Category, D::Year],
        ),
        (
            ProjectFilter {
                year: Some(2024),
                ..Default::default()
            },
            vec![D::Prefecture, D::Month],
        ),
        (
            ProjectFilter {
                published_only: true,
                ..Default::default()
            },
            vec![D::Recipient],
        ),
        (
            ProjectFilter {
                supporter: Some("44".into()),
                grassroots: Some(true),
                ..Default::default()
            },
            vec![D::Year],
        ),
        (
            ProjectFilter {
                xpcc: Some(false),
                recipient: Some("6531".into()),
                ..Default::default()
            },
            vec![D::Category],
        ),
        (
            ProjectFilter {
                scope: Some(Scope::Supporter("31".into())),
                ..Default::default()
            },
            vec![D::Month, D::Supporter],
        ),
    ];
    for (filter, by) in &cuts {
        let source = Source::for_query(filter, by);
        assert_ne!(
            source,
            Source::Raw,
            "{filter:?} {by:?} should use a roll-up"
        );
        let fast = store.fund_stats(filter, by).await.expect("rollup");
        let raw = store
            .fund_stats_from(Source::Raw, filter, by)
            .await
            .expect("raw");
        assert_eq!(fast, raw, "{source:?} {filter:?} {by:?}");
    }
    let state = ProjectFilter {
        state: Some(yuanjiang_domain::ProjectState::Operating),
        ..Default::default()
    };
    assert_eq!(Source::for_query(&state, &[]), Source::Raw);
    assert_eq!(store.rollup_mismatches().await.expect("check"), 0);
}

#[tokio::test]
async fn rollups_equal_raw_figures_on_both_backends() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = sqlite_store(dir.path()).await.expect("sqlite");
    load_demo(&sqlite, SEED).await;
    rollups_story(&sqlite).await;
    if let Some(pg) = postgres_store("rollups_equal_raw").await.expect("postgres") {
        load_demo(&pg, SEED).await;
        rollups_story(&pg).await;
    }
}

/// The bulletin's figures are the API's figures: a year's annual report
/// equals `/stats/funds?year=` for that year, and its tables add up.
#[tokio::test]
async fn bulletin_figures_agree_with_the_api() {
    use yuanjiang_server::bulletin::{BulletinKind, build};
    let dir = tempfile::tempdir().expect("tempdir");
    let store = sqlite_store(dir.path()).await.expect("sqlite");
    load_demo(&store, SEED).await;
    let as_of = chrono::NaiveDate::from_ymd_opt(2024, 12, 31).expect("date");
    let report = build(&store, BulletinKind::Annual, as_of, None)
        .await
        .expect("bulletin");
    let api = store
        .fund_stats(
            &yuanjiang_store::ProjectFilter {
                year: Some(2024),
                ..Default::default()
            },
            &[],
        )
        .await
        .expect("stats");
    assert_eq!(report.summary.chain, api[0].chain);
    for table in [
        &report.by_supporter,
        &report.by_prefecture,
        &report.by_category,
    ] {
        let paid: i64 = table.iter().map(|r| r.chain.paid.0).sum();
        assert_eq!(paid, report.summary.chain.paid.0);
    }
    assert!(report.summary.chain.committed.0 > 0);
    let monthly = build(
        &store,
        BulletinKind::Monthly,
        chrono::NaiveDate::from_ymd_opt(2024, 6, 30).expect("date"),
        Some("31".into()),
    )
    .await
    .expect("monthly");
    assert!(monthly.summary.chain.committed <= report.summary.chain.committed);
    assert!(monthly.by_supporter.iter().all(|r| r.code == "31"));
    let html = monthly.to_html();
    assert!(html.contains("月报") && !html.contains("<script"));
    assert_eq!(&monthly.to_xlsx().expect("xlsx")[..2], b"PK");
}

#[tokio::test]
async fn an_all_digit_credit_code_is_a_supporter_code() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = sqlite_store(dir.path()).await.expect("sqlite");
    // State Grid's code in the demo data is 18 digits with a digit check character.
    let (status, body) = get(&store, "/api/v1/projects?supporter=911100007109312304").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = get(&store, "/api/v1/projects?supporter=911100007109312305").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "invalid_credit_code");
}

#[tokio::test]
async fn evaluation_page_ranks_units_for_analysts_only() {
    use axum::body::Body;
    use axum::http::{Request, header};
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    use yuanjiang_domain::{Principal, Role};
    let dir = tempfile::tempdir().expect("tempdir");
    let store = sqlite_store(dir.path()).await.expect("sqlite");
    load_demo(&store, SEED).await;
    let mut tokens = Vec::new();
    for (name, role, scope) in [
        ("analyst", Role::Region, None),
        ("sh", Role::Supporter, Some("31")),
    ] {
        let p = Principal {
            name: name.into(),
            role,
            scope: scope.map(str::to_owned),
        };
        store
            .create_user(&p, &yuanjiang_store::Secret::new("Xinjiang-2026!"))
            .await
            .expect("user");
        tokens.push(
            store
                .create_token(name, "t", None, chrono::Utc::now())
                .await
                .expect("token")
                .token
                .expose()
                .to_owned(),
        );
    }
    let page = |token: String, uri: &'static str| {
        let store = store.clone();
        async move {
            let response = yuanjiang_server::app(yuanjiang_server::AppState::new(store))
                .oneshot(
                    Request::get(uri)
                        .header(header::AUTHORIZATION, format!("Bearer {token}"))
                        .body(Body::empty())
                        .expect("req"),
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
    let (status, html) = page(
        tokens[0].clone(),
        "/evaluation?year=2024&unit=supporter&method=entropy-topsis",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("排名") && html.contains("上海市") && html.contains("<svg"),
        "{}",
        &html[..html.len().min(400)]
    );
    assert!(html.contains("funds_arrived_wan"), "weights are shown");
    let (status, html) = page(
        tokens[0].clone(),
        "/evaluation?year=2024&unit=prefecture&method=dea-bcc",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("排名") || html.contains("role=\"alert\""),
        "a DEA result or a clear error"
    );
    let (status, _) = page(tokens[1].clone(), "/evaluation").await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "front commands do not see the evaluation page"
    );
}
