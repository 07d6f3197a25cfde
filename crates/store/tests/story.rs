use chrono::{NaiveDate, TimeZone, Utc};
use yuanjiang_domain::{
    Category, DeliveryMode, Fen, FundTransaction, FundType, Indicator, IndicatorValue, Project,
    ProjectBundle, ProjectKind, ProjectState, StateChange,
};
use yuanjiang_store::testing::{postgres_store, sqlite_store};
use yuanjiang_store::{ProjectFilter, StatDimension, Store, StoreError};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn bundle(
    code: &str,
    supporter: &str,
    recipient: &str,
    location: &str,
    category: Category,
) -> ProjectBundle {
    let project = Project {
        code: code.into(),
        name: format!("{code}职业技术学校实训楼建设项目"),
        category,
        delivery_mode: DeliveryMode::Turnkey,
        kind: ProjectKind::Construction,
        year: 2024,
        in_plan: true,
        continued: false,
        grassroots: true,
        livelihood: true,
        supporter_code: supporter.into(),
        recipient_code: recipient.into(),
        location_code: location.into(),
        planned_investment: Fen(1_000_000_000),
        aid_funds: Fen(800_000_000),
        matching_funds: Fen(100_000_000),
        start_date: d("2024-03-01"),
        end_date: d("2025-10-31"),
        state: ProjectState::PlanIssued,
        published: true,
        description: String::new(),
    };
    let t = |fund_type, amount, date: &str, doc: &str| FundTransaction {
        project_code: code.into(),
        fund_type,
        amount: Fen(amount),
        date: d(date),
        document_no: doc.into(),
        note: String::new(),
    };
    ProjectBundle {
        history: vec![
            StateChange {
                from: None,
                to: ProjectState::Proposed,
                at: Utc
                    .with_ymd_and_hms(2023, 11, 1, 9, 0, 0)
                    .single()
                    .expect("time"),
                by: "officer".into(),
                reason: "立项".into(),
            },
            StateChange {
                from: Some(ProjectState::Proposed),
                to: ProjectState::PlanIssued,
                at: Utc
                    .with_ymd_and_hms(2024, 1, 10, 9, 0, 0)
                    .single()
                    .expect("time"),
                by: "region".into(),
                reason: "计划下达".into(),
            },
        ],
        transactions: vec![
            t(
                FundType::Commitment,
                800_000_000,
                "2024-01-10",
                "沪援〔2024〕1号",
            ),
            t(
                FundType::Transfer,
                600_000_000,
                "2024-02-10",
                "沪援〔2024〕2号",
            ),
            t(
                FundType::Allocation,
                500_000_000,
                "2024-03-10",
                "沪援〔2024〕3号",
            ),
            t(
                FundType::Payment,
                300_000_000,
                "2024-04-10",
                "沪援〔2024〕4号",
            ),
            t(
                FundType::Expenditure,
                250_000_000,
                "2024-05-10",
                "沪援〔2024〕5号",
            ),
        ],
        indicators: vec![(
            Indicator {
                project_code: code.into(),
                name: "新增学位".into(),
                unit: "个".into(),
                baseline: 0.0,
                target: 1200.0,
            },
            vec![IndicatorValue {
                project_code: code.into(),
                name: "新增学位".into(),
                period: "2024".into(),
                actual: 600.0,
            }],
        )],
        project,
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

#[tokio::test]
async fn reference_data_is_loaded_once() {
    on_both("reference_data_is_loaded_once", |store| async move {
        assert!(
            !store.load_reference_data().await.expect("second load"),
            "already loaded"
        );
        let supporters = store.supporters().await.expect("supporters");
        assert_eq!(supporters.len(), 32);
        assert!(
            supporters
                .iter()
                .any(|s| s.code == "4403" && s.parent_code.as_deref() == Some("44"))
        );
        let units = store.recipients(false).await.expect("recipients");
        assert_eq!(units.len(), 1 + 15 + 108 + 14);
        assert_eq!(
            store.recipients(true).await.expect("all").len(),
            1 + 15 + 108 + 14 + 1405
        );
        let pairings = store.pairings().await.expect("pairings");
        assert_eq!(pairings.len(), 58);
        let ended: Vec<_> = pairings.iter().filter(|p| p.valid_to.is_some()).collect();
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0].recipient_code, "6529");
    })
    .await;
}

#[tokio::test]
async fn bundles_write_atomically_and_read_back() {
    on_both("bundles_write_atomically", |store| async move {
        let a = bundle(
            "YJ2024-31-00001",
            "31",
            "653125",
            "653125",
            Category::Education,
        );
        let b = bundle(
            "YJ2024-44-00001",
            "44",
            "653121",
            "653121",
            Category::Health,
        );
        let sz = bundle(
            "YJ2024-4403-00001",
            "4403",
            "653101",
            "653101",
            Category::Education,
        );
        let xpcc = bundle(
            "YJ2024-44-00002",
            "44",
            "XPCC-03",
            "XPCC-03",
            Category::Housing,
        );
        let mut bulk = store.bulk().await.expect("bulk");
        bulk.insert_bundles(&[a.clone(), b.clone(), sz.clone(), xpcc.clone()])
            .await
            .expect("insert");
        bulk.commit().await.expect("commit");

        let row = store
            .project("YJ2024-31-00001")
            .await
            .expect("get")
            .expect("exists");
        assert_eq!(row.project, a.project);
        assert_eq!(row.prefecture_code, "6531");
        let txns = store.project_transactions(row.id).await.expect("txns");
        assert_eq!(
            txns.iter()
                .map(|t| t.transaction.clone())
                .collect::<Vec<_>>(),
            a.transactions
        );
        assert_eq!(
            store.project_history(row.id).await.expect("history"),
            a.history
        );
        let ind = store
            .project_indicators(row.id, &row.project.code)
            .await
            .expect("ind");
        assert_eq!(ind, a.indicators);

        // Filters: supporter includes children; recipient includes everything under it.
        let by = |f: ProjectFilter| {
            let store = store.clone();
            async move {
                store
                    .projects(&f, None, 100)
                    .await
                    .expect("list")
                    .items
                    .into_iter()
                    .map(|r| r.project.code)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            by(ProjectFilter {
                supporter: Some("44".into()),
                ..Default::default()
            })
            .await,
            vec!["YJ2024-44-00001", "YJ2024-4403-00001", "YJ2024-44-00002"]
        );
        assert_eq!(
            by(ProjectFilter {
                recipient: Some("6531".into()),
                ..Default::default()
            })
            .await
            .len(),
            3
        );
        assert_eq!(
            by(ProjectFilter {
                xpcc: Some(true),
                ..Default::default()
            })
            .await,
            vec!["YJ2024-44-00002"]
        );
        assert_eq!(
            by(ProjectFilter {
                category: Some(Category::Health),
                year: Some(2024),
                ..Default::default()
            })
            .await,
            vec!["YJ2024-44-00001"]
        );
        assert!(
            by(ProjectFilter {
                year: Some(2023),
                ..Default::default()
            })
            .await
            .is_empty()
        );

        // Cursor paging visits every project once.
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page = store
                .projects(&ProjectFilter::default(), cursor, 3)
                .await
                .expect("page");
            seen.extend(page.items.iter().map(|r| r.project.code.clone()));
            match page.next_cursor {
                Some(c) => cursor = Some(c.parse().expect("numeric cursor")),
                None => break,
            }
        }
        assert_eq!(seen.len(), 4);

        // A bundle that breaks the chain is rejected and nothing of it lands.
        let mut bad = bundle(
            "YJ2024-31-00009",
            "31",
            "653125",
            "653125",
            Category::Education,
        );
        bad.transactions[3].amount = Fen(900_000_000);
        let mut bulk = store.bulk().await.expect("bulk");
        let good = bundle(
            "YJ2024-31-00008",
            "31",
            "653125",
            "653125",
            Category::Education,
        );
        let err = bulk
            .insert_bundles(&[good, bad])
            .await
            .expect_err("chain broken");
        assert!(
            matches!(err, StoreError::Rule(ref e) if e.code == "fund_chain_broken"),
            "{err:?}"
        );
        drop(bulk);
        assert!(
            store
                .project("YJ2024-31-00008")
                .await
                .expect("get")
                .is_none()
        );

        // A duplicate code aborts the whole transaction.
        let mut bulk = store.bulk().await.expect("bulk");
        let dup = bulk.insert_bundles(std::slice::from_ref(&a)).await;
        assert!(dup.is_err());
        drop(bulk);
        assert_eq!(
            store
                .count_projects(&ProjectFilter::default())
                .await
                .expect("count"),
            4
        );

        let report = store.check().await.expect("check");
        assert!(report.is_clean(), "{report:?}");
        assert_eq!(report.transactions, 20);
    })
    .await;
}

#[tokio::test]
async fn fund_stats_equal_the_sum_of_transactions() {
    on_both("fund_stats_equal_sums", |store| async move {
        let mut bulk = store.bulk().await.expect("bulk");
        bulk.insert_bundles(&[
            bundle(
                "YJ2024-31-00001",
                "31",
                "653125",
                "653125",
                Category::Education,
            ),
            bundle(
                "YJ2024-31-00002",
                "31",
                "653125",
                "653125",
                Category::Health,
            ),
            bundle(
                "YJ2024-44-00001",
                "44",
                "653121",
                "653121",
                Category::Health,
            ),
        ])
        .await
        .expect("insert");
        bulk.commit().await.expect("commit");

        let total = store
            .fund_stats(&ProjectFilter::default(), &[])
            .await
            .expect("total");
        assert_eq!(total.len(), 1);
        assert_eq!(total[0].chain.committed, Fen(3 * 800_000_000));
        assert_eq!(total[0].chain.paid, Fen(3 * 300_000_000));
        assert_eq!(total[0].transactions, 15);

        let rows = store
            .fund_stats(
                &ProjectFilter::default(),
                &[
                    StatDimension::Supporter,
                    StatDimension::Category,
                    StatDimension::Year,
                ],
            )
            .await
            .expect("by");
        let keys: Vec<Vec<String>> = rows
            .iter()
            .map(|r| r.key.iter().map(|(_, v)| v.clone()).collect())
            .collect();
        assert_eq!(
            keys,
            vec![
                vec!["31".to_owned(), "education".into(), "2024".into()],
                vec!["31".to_owned(), "health".into(), "2024".into()],
                vec!["44".to_owned(), "health".into(), "2024".into()],
            ]
        );
        let sum: i64 = rows.iter().map(|r| r.chain.transferred.0).sum();
        assert_eq!(sum, total[0].chain.transferred.0);

        let kashgar = store
            .fund_stats(
                &ProjectFilter {
                    supporter: Some("44".into()),
                    ..Default::default()
                },
                &[StatDimension::Month],
            )
            .await
            .expect("months");
        assert_eq!(kashgar.len(), 5);
        assert_eq!(kashgar[0].key, vec![(StatDimension::Month, "1".to_owned())]);
        assert_eq!(kashgar[0].chain.committed, Fen(800_000_000));
    })
    .await;
}

/// `PRAGMA journal_mode` of the SQLite file at `path`, asked on a
/// connection of its own.
/// A SQLite file's settings in a directory of its own (kept while the
/// directory lives).
fn sqlite_file(
    name: &str,
) -> (
    tempfile::TempDir,
    std::path::PathBuf,
    yuanjiang_store::DbSettings,
) {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join(name);
    let settings = yuanjiang_store::DbSettings::from_url(&format!("sqlite://{}", path.display()))
        .expect("url");
    (dir, path, settings)
}

fn assert_foreign_key_refused(written: Result<u64, StoreError>) {
    assert!(
        matches!(&written, Err(StoreError::Database(e)) if e.to_string().contains("FOREIGN KEY")),
        "{written:?}"
    );
}

/// Rows written ahead by an import skip SQLite's foreign-key look-up only
/// on a file opened for a bulk load, and only on that import's own writer:
/// the same row for a project that does not exist is refused by a shared
/// store, and by the bulk store's ordinary writes.
#[tokio::test]
async fn only_a_bulk_loads_rows_written_ahead_skip_the_foreign_key_look_up() {
    use yuanjiang_store::exchange::{AheadBatch, FundRow};
    let (_dir, path, settings) = sqlite_file("fk.db");
    let orphan = || {
        AheadBatch::encode(std::iter::once(FundRow {
            project_id: 424_242,
            fund_type: FundType::Commitment,
            amount: Fen(100),
            date: d("2024-03-01"),
            document_no: "X〔2024〕1号",
            note: "",
        }))
        .expect("encode")
    };
    let shared = Store::open(&settings).await.expect("open");
    let mut itx = shared.begin_import_ahead().await.expect("begin");
    assert_foreign_key_refused(itx.write_ahead(orphan()).await);
    drop(itx);
    shared.close().await;

    let bulk = Store::open(&settings.clone().for_bulk_load())
        .await
        .expect("sole use");
    let mut itx = bulk.begin_import_ahead().await.expect("begin");
    assert_eq!(itx.write_ahead(orphan()).await.expect("unchecked"), 1);
    // Dropped uncommitted: the row goes with it.
    drop(itx);
    let mut itx = bulk.begin_import().await.expect("begin");
    assert_foreign_key_refused(itx.write_ahead(orphan()).await);
    drop(itx);
    bulk.close().await;
    let reopened = Store::open(&settings).await.expect("reopen");
    let report = reopened.check().await.expect("check");
    assert_eq!((report.transactions, report.integrity.as_str()), (0, "ok"));
    reopened.close().await;

    // Had such a row been committed, `check` would name it.
    {
        use sqlx::Connection;
        let mut conn = raw_connection(&path).await;
        sqlx::query("PRAGMA foreign_keys = OFF")
            .execute(&mut conn)
            .await
            .expect("pragma");
        sqlx::query(
            "INSERT INTO fund_transactions (project_id, fund_type, amount, date, year, month, \
             document_no) VALUES (424242, 'commitment', 100, '2024-03-01', 2024, 3, 'X')",
        )
        .execute(&mut conn)
        .await
        .expect("orphan");
        conn.close().await.expect("close");
    }
    let reopened = Store::open(&settings).await.expect("reopen");
    let report = reopened.check().await.expect("check");
    assert!(
        report
            .integrity
            .starts_with("1 rows refer to missing parents (first: fund_transactions"),
        "{}",
        report.integrity
    );
    assert!(!report.is_clean());
    reopened.close().await;
}

/// A plain connection to the file, outside any store.
async fn raw_connection(path: &std::path::Path) -> sqlx::SqliteConnection {
    use sqlx::Connection;
    sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("connect")
}

async fn journal_mode(path: &std::path::Path) -> String {
    use sqlx::Connection;
    let mut conn = raw_connection(path).await;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .expect("journal mode");
    conn.close().await.expect("close");
    mode
}

#[tokio::test]
async fn a_bulk_load_takes_a_rollback_journal_only_when_alone() {
    let (_dir, path, settings) = sqlite_file("bulk.db");
    let shared = Store::open(&settings).await.expect("open");
    assert_eq!(journal_mode(&path).await, "wal");
    // Another user has the file open (here the same process; a server in
    // another one is refused the same way): sole use is refused at once.
    let started = std::time::Instant::now();
    let refused = Store::open(&settings.clone().for_bulk_load()).await;
    assert!(
        matches!(refused, Err(StoreError::InUse)),
        "{:?}",
        refused.err()
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    shared.close().await;

    // The refused attempt's connection is closed by its own thread after
    // the error comes back; until it is, it holds the file open in WAL
    // mode too (seen when the whole suite loads both cores).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let bulk = loop {
        match Store::open(&settings.clone().for_bulk_load()).await {
            Err(StoreError::InUse) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            other => break other.expect("sole use"),
        }
    };
    assert_eq!(journal_mode(&path).await, "delete");
    let mut writes = bulk.bulk().await.expect("bulk");
    let a = bundle(
        "YJ2024-31-00001",
        "31",
        "653125",
        "653125",
        Category::Education,
    );
    writes
        .insert_bundles(std::slice::from_ref(&a))
        .await
        .expect("insert");
    writes.commit().await.expect("commit");
    bulk.close().await;
    // Left as the server expects it, with the load in it.
    assert_eq!(journal_mode(&path).await, "wal");
    let reopened = Store::open(&settings).await.expect("reopen");
    let row = reopened
        .project("YJ2024-31-00001")
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(row.project, a.project);
    let txns = reopened.project_transactions(row.id).await.expect("txns");
    assert_eq!(txns.len(), a.transactions.len());
    reopened.close().await;
}
