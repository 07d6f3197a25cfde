//! Fixtures: a store holding two projects (one published, one not), file
//! builders for every format, and `check`, which imports and compares the
//! issues found with the ones expected.

use chrono::{NaiveDate, TimeZone, Utc};
use rust_xlsxwriter::{Workbook, Worksheet};
use tempfile::TempDir;
use yuanjiang_domain::{
    Category, DeliveryMode, Fen, FundTransaction, FundType, Indicator, IndicatorValue, Project,
    ProjectBundle, ProjectKind, ProjectState, StateChange, Viewer,
};
use yuanjiang_exchange::{ImportOptions, ImportReport, Kind, Limits, import};
use yuanjiang_store::Store;
use yuanjiang_store::testing::{postgres_store, sqlite_store};

/// The published Shanghai project in Shufu county, with a fund chain.
pub const P1: &str = "YJ2024-31-00001";
/// The unpublished Guangdong project in Kashgar city, without transactions.
pub const P2: &str = "YJ2024-44-00001";

pub fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

/// One test database; the directory lives as long as the store.
pub struct Db {
    pub label: &'static str,
    pub store: Store,
    _dir: Option<TempDir>,
}

fn project(
    code: &str,
    supporter: &str,
    recipient: &str,
    state: ProjectState,
    published: bool,
) -> Project {
    Project {
        code: code.into(),
        name: format!("{code} 职业技术学校实训楼建设项目"),
        category: Category::Education,
        delivery_mode: DeliveryMode::Turnkey,
        kind: ProjectKind::Construction,
        year: 2024,
        in_plan: true,
        continued: false,
        grassroots: true,
        livelihood: true,
        supporter_code: supporter.into(),
        recipient_code: recipient.into(),
        location_code: recipient.into(),
        planned_investment: Fen(1_000_000_000),
        aid_funds: Fen(800_000_000),
        matching_funds: Fen(100_000_000),
        start_date: d("2024-03-01"),
        end_date: d("2025-10-31"),
        state,
        published,
        description: "实训楼一栋".into(),
    }
}

fn bundles() -> Vec<ProjectBundle> {
    let t = |fund_type, yuan: i64, date: &str, doc: &str| FundTransaction {
        project_code: P1.into(),
        fund_type,
        amount: Fen(yuan * 100),
        date: d(date),
        document_no: doc.into(),
        note: String::new(),
    };
    let history = |state| {
        vec![StateChange {
            from: None,
            to: state,
            at: Utc
                .with_ymd_and_hms(2024, 1, 5, 9, 0, 0)
                .single()
                .expect("time"),
            by: "officer".into(),
            reason: String::new(),
        }]
    };
    vec![
        ProjectBundle {
            project: project(P1, "31", "653121", ProjectState::PlanIssued, true),
            history: history(ProjectState::PlanIssued),
            transactions: vec![
                t(
                    FundType::Commitment,
                    5_000_000,
                    "2024-03-01",
                    "沪援〔2024〕1号",
                ),
                t(
                    FundType::Transfer,
                    3_000_000,
                    "2024-04-01",
                    "沪财援〔2024〕2号",
                ),
                t(
                    FundType::Allocation,
                    2_000_000,
                    "2024-05-01",
                    "沪援拨〔2024〕3号",
                ),
                t(
                    FundType::Payment,
                    1_500_000,
                    "2024-05-20",
                    "沪援付〔2024〕4号",
                ),
            ],
            indicators: vec![(
                Indicator {
                    project_code: P1.into(),
                    name: "新增就业岗位".into(),
                    unit: "人".into(),
                    baseline: 0.0,
                    target: 200.0,
                },
                vec![IndicatorValue {
                    project_code: P1.into(),
                    name: "新增就业岗位".into(),
                    period: "2024".into(),
                    actual: 50.5,
                }],
            )],
        },
        ProjectBundle {
            project: project(P2, "44", "653101", ProjectState::Proposed, false),
            history: history(ProjectState::Proposed),
            transactions: Vec::new(),
            indicators: Vec::new(),
        },
    ]
}

/// Writes the two fixture projects.
pub async fn seed(store: &Store) {
    let mut bulk = store.bulk().await.expect("bulk");
    bulk.insert_bundles(&bundles()).await.expect("bundles");
    bulk.commit().await.expect("commit");
}

/// A seeded SQLite store, and a seeded PostgreSQL one when configured.
pub async fn stores(test: &str) -> Vec<Db> {
    let dir = TempDir::new().expect("tempdir");
    let store = sqlite_store(dir.path()).await.expect("sqlite");
    seed(&store).await;
    let mut out = vec![Db {
        label: "sqlite",
        store,
        _dir: Some(dir),
    }];
    if let Some(store) = postgres_store(test).await.expect("postgres") {
        seed(&store).await;
        out.push(Db {
            label: "postgres",
            store,
            _dir: None,
        });
    }
    out
}

/// Import options for `kind` as the command line would set them.
pub fn options(kind: Kind, file_name: &str) -> ImportOptions {
    ImportOptions {
        kinds: vec![kind],
        dry_run: false,
        viewer: None,
        actor: "tester".into(),
        file_name: file_name.into(),
        limits: Limits::default(),
    }
}

/// Imports with `options`.
pub async fn run_with(store: &Store, bytes: &[u8], options: &ImportOptions) -> ImportReport {
    import(
        store,
        yuanjiang_exchange::Bytes::copy_from_slice(bytes),
        options,
        &mut |_| {},
    )
    .await
    .expect("import runs")
}

/// Imports `bytes` as `kind`.
pub async fn run(store: &Store, bytes: &[u8], kind: Kind, file_name: &str) -> ImportReport {
    run_with(store, bytes, &options(kind, file_name)).await
}

/// (code, row, column letter) of every issue, in report order.
pub fn found(report: &ImportReport) -> Vec<(&'static str, Option<u32>, Option<String>)> {
    report
        .issues
        .iter()
        .map(|i| (i.code, i.row, i.column_letter()))
        .collect()
}

/// Expected issues written compactly: ("code", row, "C") with 0 / "" for none.
pub fn expect(
    list: &[(&'static str, u32, &str)],
) -> Vec<(&'static str, Option<u32>, Option<String>)> {
    list.iter()
        .map(|(c, r, col)| {
            (
                *c,
                (*r > 0).then_some(*r),
                (!col.is_empty()).then(|| (*col).to_owned()),
            )
        })
        .collect()
}

/// Imports `bytes` and asserts exactly the `expected` issues, every one
/// with both messages, and that the database did not change.
pub async fn refused_with(
    db: &Db,
    bytes: &[u8],
    options: &ImportOptions,
    expected: &[(&'static str, u32, &str)],
) -> ImportReport {
    let before = db.store.exchange_fingerprint().await.expect("fingerprint");
    let report = run_with(&db.store, bytes, options).await;
    assert_eq!(
        found(&report),
        expect(expected),
        "{}: {:#?}",
        db.label,
        report.issues
    );
    for i in &report.issues {
        assert!(!i.zh.is_empty() && !i.en.is_empty(), "{i:?}");
    }
    assert_eq!(report.import_id, None);
    let after = db.store.exchange_fingerprint().await.expect("fingerprint");
    assert_eq!(before, after, "{}: the database changed", db.label);
    report
}

/// [`refused_with`] with the default options for `kind`.
pub async fn refused(
    db: &Db,
    bytes: &[u8],
    kind: Kind,
    expected: &[(&'static str, u32, &str)],
) -> ImportReport {
    refused_with(db, bytes, &options(kind, "bad.csv"), expected).await
}

/// An xlsx file built by `fill` on its first sheet, named `sheet`.
pub fn xlsx(sheet: &str, fill: impl FnOnce(&mut Worksheet)) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).expect("name");
    fill(ws);
    wb.save_to_buffer().expect("xlsx")
}

/// Writes rows of text into a sheet from row 0.
pub fn write_rows(ws: &mut Worksheet, rows: &[&[&str]]) {
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(r as u32, c as u16, *v).expect("write");
            }
        }
    }
}

/// A supporter user of `scope` as the rules see them.
pub fn supporter(scope: &str) -> Viewer {
    Viewer::User(yuanjiang_domain::Principal {
        name: format!("officer-{scope}"),
        role: yuanjiang_domain::Role::Supporter,
        scope: Some(scope.into()),
    })
}

/// The header of a transactions CSV, in Chinese.
pub const TXN_HEAD: &str = "项目编号,资金类型,金额（元）,日期,文号,备注";

/// The header of a projects CSV, in export order (columns A to U).
pub const PROJECT_HEAD: &str = "项目编号,项目名称,项目类别,建设方式,项目性质,计划年度,规划内,续建,县及县以下,民生,支援方代码,受援地代码,项目地点代码,计划总投资（元）,援疆资金（元）,配套资金（元）,计划开工日期,计划完工日期,项目状态,是否公开,项目简介";

/// A valid new project row (P3, Shanghai, Shufu county) with `state` and `name`.
pub fn project_row(code: &str, name: &str, state: &str) -> String {
    format!(
        "{code},{name},教育,交钥匙,建设类,2024,是,否,是,是,31,653121,653121100,2000000.00,1500000.00,0,2024-04-01,2025-06-30,{state},否,新建教学楼"
    )
}
