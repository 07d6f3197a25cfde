//! Every format with its encodings imports the same way.

use rust_xlsxwriter::{ExcelDateTime, Format};
use yuanjiang_domain::{Fen, FundType};
use yuanjiang_exchange::{Counts, Kind, template};

use crate::support::*;

async fn stored_txn(db: &Db, doc: &str) -> Option<(FundType, Fen, String, String)> {
    let p = db.store.project(P1).await.expect("read").expect("P1");
    db.store
        .project_transactions(p.id)
        .await
        .expect("read")
        .into_iter()
        .map(|t| t.transaction)
        .find(|t| t.document_no == doc)
        .map(|t| (t.fund_type, t.amount, t.date.to_string(), t.note))
}

#[tokio::test]
async fn csv_in_every_encoding() {
    for db in stores("csv_in_every_encoding").await {
        // Each encoding carries a note only it (or Unicode) can hold.
        let cases: [(&str, &str, &str); 4] = [
            ("UTF-8", "沪财援〔2024〕11号", "维吾尔族学生 𠀀"),
            ("UTF-8 with BOM", "沪财援〔2024〕12号", "喀什·疏附"),
            ("GBK/GB18030", "沪财援〔2024〕13号", "资金到疆（GBK）"),
            ("GB18030 only", "沪财援〔2024〕14号", "生僻字𠀀𠀁"),
        ];
        for (i, (label, doc, note)) in cases.iter().enumerate() {
            let text = format!(
                "{TXN_HEAD}\r\n{P1},资金到疆,100.5,2024-06-0{},{doc},{note}\r\n",
                i + 1
            );
            let bytes: Vec<u8> = match i {
                0 => text.clone().into_bytes(),
                1 => [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
                2 => encoding_rs::GBK.encode(&text).0.into_owned(),
                _ => encoding_rs::GB18030.encode(&text).0.into_owned(),
            };
            if i == 3 {
                // These characters are outside GBK: only GB18030 can carry them.
                assert!(std::str::from_utf8(&bytes).is_err());
            }
            let report = run(&db.store, &bytes, Kind::Transactions, "t.csv").await;
            assert!(report.is_ok(), "{} {label}: {:#?}", db.label, report.issues);
            let expected_format = match i {
                0 => "CSV (UTF-8)",
                1 => "CSV (UTF-8 with BOM)",
                _ => "CSV (GBK/GB18030)",
            };
            assert_eq!(report.format.as_deref(), Some(expected_format), "{label}");
            assert_eq!(
                report.counts.get("transactions"),
                Some(&Counts {
                    inserted: 1,
                    updated: 0,
                    unchanged: 0
                })
            );
            assert_eq!(
                stored_txn(&db, doc).await,
                Some((
                    FundType::Transfer,
                    Fen(10_050),
                    format!("2024-06-0{}", i + 1),
                    (*note).to_owned()
                )),
                "{} {label}",
                db.label
            );
        }
    }
}

#[tokio::test]
async fn xlsx_with_english_headers_in_any_order_and_typed_cells() {
    for db in stores("xlsx_english_any_order").await {
        let bytes = xlsx("anything", |ws| {
            let date = Format::new().set_num_format("yyyy-mm-dd");
            write_rows(
                ws,
                &[&[
                    "Date",
                    "amount (yuan)",
                    "document_no",
                    "Fund Type",
                    "project code",
                    "备注",
                ]],
            );
            ws.write_datetime_with_format(
                1,
                0,
                ExcelDateTime::from_ymd(2024, 7, 1).expect("date"),
                &date,
            )
            .expect("date");
            ws.write_number(1, 1, 1234.56).expect("n");
            ws.write_string(1, 2, "沪财援〔2024〕20号").expect("s");
            ws.write_string(1, 3, "transfer").expect("s");
            ws.write_string(1, 4, P1).expect("s");
            // A whole number of yuan typed as a number, a date typed as text.
            ws.write_string(2, 0, "2024/07/02").expect("s");
            ws.write_number(2, 1, 700.0).expect("n");
            ws.write_string(2, 2, "沪财援〔2024〕21号").expect("s");
            ws.write_string(2, 3, "资金到疆").expect("s");
            ws.write_string(2, 4, P1).expect("s");
        });
        let report = run(&db.store, &bytes, Kind::Transactions, "t.xlsx").await;
        assert!(report.is_ok(), "{}: {:#?}", db.label, report.issues);
        assert_eq!(report.format.as_deref(), Some("xlsx"));
        assert_eq!(report.counts["transactions"].inserted, 2);
        assert_eq!(
            stored_txn(&db, "沪财援〔2024〕20号").await,
            Some((
                FundType::Transfer,
                Fen(123_456),
                "2024-07-01".into(),
                String::new()
            ))
        );
        assert_eq!(
            stored_txn(&db, "沪财援〔2024〕21号")
                .await
                .map(|t| (t.1, t.2)),
            Some((Fen(70_000), "2024-07-02".into()))
        );
    }
}

#[tokio::test]
async fn xls_and_ods_hold_the_same_rows() {
    // Written by tests/fixtures/make_fixtures.py: the same two transactions.
    let xls = include_bytes!("fixtures/transactions.xls");
    let ods = include_bytes!("fixtures/transactions.ods");
    for db in stores("xls_and_ods").await {
        let report = run(&db.store, xls, Kind::Transactions, "transactions.xls").await;
        assert!(report.is_ok(), "{}: {:#?}", db.label, report.issues);
        assert_eq!(report.format.as_deref(), Some("xls"));
        assert_eq!(
            report.counts["transactions"],
            Counts {
                inserted: 2,
                updated: 0,
                unchanged: 0
            }
        );
        assert_eq!(
            stored_txn(&db, "沪财援〔2024〕8号").await,
            Some((
                FundType::Transfer,
                Fen(100_000_050),
                "2024-06-01".into(),
                "xls/ods fixture".into()
            ))
        );
        assert_eq!(
            stored_txn(&db, "沪援拨〔2024〕9号")
                .await
                .map(|t| (t.0, t.1, t.2)),
            Some((FundType::Allocation, Fen(50_000_000), "2024-06-15".into()))
        );
        // The ods file holds the same records: nothing changes.
        let report = run(&db.store, ods, Kind::Transactions, "transactions.ods").await;
        assert!(report.is_ok(), "{}: {:#?}", db.label, report.issues);
        assert_eq!(report.format.as_deref(), Some("ods"));
        assert_eq!(
            report.counts["transactions"],
            Counts {
                inserted: 0,
                updated: 0,
                unchanged: 2
            }
        );
    }
}

#[tokio::test]
async fn a_filled_in_template_imports() {
    let empty = template(Kind::Projects)
        .expect("template")
        .save_to_buffer()
        .expect("xlsx");
    let mut wb = template(Kind::Projects).expect("template");
    let row = project_row("YJ2024-31-00077", "疏附县第二中学教学楼", "计划下达");
    let ws = wb.worksheet_from_index(0).expect("sheet");
    for (c, v) in row.split(',').enumerate() {
        ws.write_string(1, c as u16, v).expect("write");
    }
    let filled = wb.save_to_buffer().expect("xlsx");
    for db in stores("filled_template").await {
        refused(&db, &empty, Kind::Projects, &[("no_data_rows", 0, "")]).await;
        let report = run(&db.store, &filled, Kind::Projects, "模板.xlsx").await;
        assert!(report.is_ok(), "{}: {:#?}", db.label, report.issues);
        // The instructions sheet is skipped by itself.
        assert_eq!(report.sheets.len(), 1);
        assert_eq!(
            (report.sheets[0].name.as_str(), report.sheets[0].rows),
            ("项目", 1)
        );
        let p = db
            .store
            .project("YJ2024-31-00077")
            .await
            .expect("read")
            .expect("imported");
        assert_eq!(p.project.name, "疏附县第二中学教学楼");
        assert_eq!(p.project.aid_funds, Fen(150_000_000));
        assert_eq!(p.prefecture_code, "6531");
    }
}

#[tokio::test]
async fn one_workbook_with_projects_and_their_transactions() {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let head: Vec<&str> = PROJECT_HEAD.split(',').collect();
    let row = project_row("YJ2024-31-00088", "疏附县托克扎克镇卫生院", "计划下达");
    let row: Vec<&str> = row.split(',').collect();
    let ws = wb.add_worksheet();
    ws.set_name("项目").expect("name");
    write_rows(ws, &[&head, &row]);
    let ws = wb.add_worksheet();
    ws.set_name("资金").expect("name");
    let txn_head: Vec<&str> = TXN_HEAD.split(',').collect();
    write_rows(
        ws,
        &[
            &txn_head,
            &[
                "YJ2024-31-00088",
                "计划安排",
                "1500000",
                "2024-04-02",
                "沪援〔2024〕88号",
                "",
            ],
            &[
                "YJ2024-31-00088",
                "资金到疆",
                "1000000",
                "2024-04-20",
                "沪财援〔2024〕88号",
                "",
            ],
        ],
    );
    let bytes = wb.save_to_buffer().expect("xlsx");
    for db in stores("projects_and_transactions").await {
        let mut opts = options(Kind::Projects, "both.xlsx");
        opts.kinds = Kind::IMPORTABLE.to_vec();
        let report = run_with(&db.store, &bytes, &opts).await;
        assert!(report.is_ok(), "{}: {:#?}", db.label, report.issues);
        assert_eq!(report.counts["projects"].inserted, 1);
        assert_eq!(report.counts["transactions"].inserted, 2);
        let p = db
            .store
            .project("YJ2024-31-00088")
            .await
            .expect("read")
            .expect("project");
        let txns = db.store.project_transactions(p.id).await.expect("txns");
        assert_eq!(
            txns.iter().map(|t| t.transaction.amount.0).sum::<i64>(),
            250_000_000
        );
        // A transaction for a project that is nowhere is still refused.
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        write_rows(
            ws,
            &[
                &txn_head,
                &["YJ2024-31-09999", "计划安排", "1", "2024-04-02", "x", ""],
            ],
        );
        let bytes = wb.save_to_buffer().expect("xlsx");
        refused_with(&db, &bytes, &opts, &[("unknown_project", 2, "A")]).await;
    }
}
