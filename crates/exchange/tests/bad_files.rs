//! The corpus of bad files: each is refused with its exact errors (code,
//! row and column), and the database is left exactly as it was.

use rust_xlsxwriter::Formula;
use yuanjiang_exchange::{Kind, Limits};

use crate::support::*;

fn csv(lines: &[&str]) -> Vec<u8> {
    let mut s = lines.join("\n");
    s.push('\n');
    s.into_bytes()
}

#[tokio::test]
async fn wrong_headers() {
    for db in stores("wrong_headers").await {
        let bytes = csv(&[
            "项目编号,类型X,金额（元）,日期,文号",
            &format!("{P1},x,1,2024-01-01,a"),
        ]);
        let r = refused(
            &db,
            &bytes,
            Kind::Transactions,
            &[("missing_column", 1, ""), ("unknown_column", 1, "B")],
        )
        .await;
        assert!(r.issues[0].zh.contains("资金类型"), "{}", r.issues[0].zh);
        // A workbook whose sheets have no known headers at all.
        let bytes = xlsx("Sheet1", |ws| write_rows(ws, &[&["甲", "乙"], &["1", "2"]]));
        let m = ("missing_column", 1, "");
        refused(
            &db,
            &bytes,
            Kind::Transactions,
            &[
                m,
                m,
                m,
                m,
                m,
                ("unknown_column", 1, "A"),
                ("unknown_column", 1, "B"),
            ],
        )
        .await;
        // Amounts in 万元 would be read 10,000 times too small.
        let bytes = csv(&[
            "项目编号,资金类型,金额（万元）,日期,文号",
            &format!("{P1},资金到疆,1,2024-06-01,a"),
        ]);
        refused(
            &db,
            &bytes,
            Kind::Transactions,
            &[("missing_column", 1, ""), ("amount_in_wan_yuan", 1, "C")],
        )
        .await;
    }
}

#[tokio::test]
async fn bad_codes_and_references() {
    for db in stores("bad_codes").await {
        let bytes = csv(&[
            TXN_HEAD,
            "yj2024-31-1,资金到疆,1,2024-06-01,a,",
            "YJ2024-31-09999,资金到疆,1,2024-06-01,a,",
            &format!("{P1},资金去向,1,2024-06-01,a,"),
        ]);
        refused(
            &db,
            &bytes,
            Kind::Transactions,
            &[
                ("invalid_project_code", 2, "A"),
                ("unknown_project", 3, "A"),
                ("invalid_fund_type", 4, "B"),
            ],
        )
        .await;
        let bytes = csv(&[
            PROJECT_HEAD,
            &project_row("YJ2024-31-00101", "甲", "计划下达").replace(",31,", ",3x,"),
            &project_row("YJ2024-31-00102", "乙", "计划下达")
                .replace(",653121,653121100,", ",659999,659999,"),
            &project_row("YJ2024-31-00103", "丙", "计划下达")
                .replace(",31,", ",36,")
                .replace("653121100", "653101"),
            &project_row("YJ2024-31-00104", "丁", "计划下达").replace(",31,", ",37,"),
        ]);
        // 37 (Shandong) exists; 3x is malformed; 659999 is well-formed but
        // unknown; 653101 is not inside 653121.
        refused(
            &db,
            &bytes,
            Kind::Projects,
            &[
                ("invalid_division_code", 2, "K"),
                ("unknown_recipient", 3, "L"),
                ("location_outside_recipient", 3, "M"),
                ("location_outside_recipient", 4, "M"),
            ],
        )
        .await;
    }
}

#[tokio::test]
async fn negative_non_numeric_and_too_precise_amounts() {
    for db in stores("bad_amounts").await {
        let bytes = csv(&[
            TXN_HEAD,
            &format!("{P1},资金到疆,-5,2024-06-01,a,"),
            &format!("{P1},资金到疆,abc,2024-06-02,b,"),
            &format!("{P1},资金到疆,1.234,2024-06-03,c,"),
            &format!("{P1},资金到疆,0,2024-06-04,d,"),
            &format!("{P1},资金到疆,12,2024-02-30,e,"),
            &format!("{P1},资金到疆,,2024-06-05,f,"),
            &format!("{P1},资金到疆,\"1,000.50\",2024-06-06,g,"),
        ]);
        let r = refused(
            &db,
            &bytes,
            Kind::Transactions,
            &[
                ("negative_amount", 2, "C"),
                ("invalid_amount", 3, "C"),
                ("invalid_amount", 4, "C"),
                ("non_positive_amount", 5, "C"),
                ("invalid_date", 6, "D"),
                ("missing_value", 7, "C"),
            ],
        )
        .await;
        assert_eq!(r.issues[1].value.as_deref(), Some("abc"));
        assert_eq!(r.issues[1].header.as_deref(), Some("金额（元）"));
        // The one good row (1,000.50) was not written either: all or nothing.
        assert_eq!(r.counts["transactions"].inserted, 1);
    }
}

#[tokio::test]
async fn fund_chain_breaks() {
    for db in stores("chain_breaks").await {
        // P1: allocated 2,000,000, paid 1,500,000: 500,000 more may be paid.
        let bytes = csv(&[
            TXN_HEAD,
            &format!("{P1},支付,400000,2024-06-01,沪援付〔2024〕5号,"),
            &format!("{P1},支付,100000.01,2024-06-02,沪援付〔2024〕6号,"),
        ]);
        let r = refused(
            &db,
            &bytes,
            Kind::Transactions,
            &[("fund_chain_broken", 3, "C")],
        )
        .await;
        assert!(
            r.issues[0].zh.contains("支付金额100000.01元"),
            "{}",
            r.issues[0].zh
        );
        // The same two payments with another project's row between them:
        // P1's rows are two runs of the file, and its chain is both.
        let bytes = csv(&[
            TXN_HEAD,
            &format!("{P1},支付,400000,2024-06-01,沪援付〔2024〕5号,"),
            &format!("{P2},计划安排,100,2024-06-01,粤援计〔2024〕1号,"),
            &format!("{P1},支付,100000.01,2024-06-02,沪援付〔2024〕6号,"),
        ]);
        refused(
            &db,
            &bytes,
            Kind::Transactions,
            &[("fund_chain_broken", 4, "C")],
        )
        .await;
        // Lowering the aid funds below what was committed (5,000,000) breaks it too.
        let p1 = format!(
            "{P1},{P1} 职业技术学校实训楼建设项目,教育,交钥匙,建设类,2024,是,否,是,是,31,653121,653121,10000000,4999999.99,1000000,2024-03-01,2025-10-31,计划下达,是,实训楼一栋"
        );
        refused(
            &db,
            &csv(&[PROJECT_HEAD, &p1]),
            Kind::Projects,
            &[("fund_chain_broken", 2, "O")],
        )
        .await;
        // Correcting a stored allocation below what was paid from it.
        let bytes = csv(&[
            TXN_HEAD,
            &format!("{P1},拨付到项目,1000000,2024-05-01,沪援拨〔2024〕3号,"),
        ]);
        refused(
            &db,
            &bytes,
            Kind::Transactions,
            &[("fund_chain_broken", 2, "C")],
        )
        .await;
    }
}

#[tokio::test]
async fn duplicate_keys() {
    for db in stores("duplicate_keys").await {
        let row = format!("{P1},资金到疆,1,2024-06-01,沪财援〔2024〕30号,");
        let r = refused(
            &db,
            &csv(&[TXN_HEAD, &row, &row]),
            Kind::Transactions,
            &[("duplicate_key", 3, "E")],
        )
        .await;
        assert!(r.issues[0].zh.contains("第2行"), "{}", r.issues[0].zh);
        let a = project_row("YJ2024-31-00201", "甲", "计划下达");
        let b = project_row("YJ2024-31-00201", "乙", "计划下达");
        refused(
            &db,
            &csv(&[PROJECT_HEAD, &a, &b]),
            Kind::Projects,
            &[("duplicate_key", 3, "A")],
        )
        .await;
    }
}

#[tokio::test]
async fn empty_truncated_and_oversized_files() {
    for db in stores("empty_truncated_oversized").await {
        refused(&db, b"", Kind::Transactions, &[("empty_file", 0, "")]).await;
        refused(
            &db,
            TXN_HEAD.as_bytes(),
            Kind::Transactions,
            &[("no_data_rows", 0, "")],
        )
        .await;
        refused(&db, b"\n\n  \n", Kind::Transactions, &[("no_data", 0, "")]).await;
        refused(
            &db,
            b"%PDF-1.7\n\x00\x01\x02",
            Kind::Transactions,
            &[("unsupported_format", 0, "")],
        )
        .await;
        let whole = xlsx("资金", |ws| {
            let head: Vec<&str> = TXN_HEAD.split(',').collect();
            write_rows(ws, &[&head, &[P1, "资金到疆", "1", "2024-06-01", "a", ""]]);
        });
        refused(
            &db,
            &whole[..whole.len() / 2],
            Kind::Transactions,
            &[("unreadable_file", 0, "")],
        )
        .await;
        let text = csv(&[TXN_HEAD, &format!("{P1},资金到疆,1,2024-06-01,沪财援")]);
        refused(
            &db,
            &text[..text.len() - 2],
            Kind::Transactions,
            &[("truncated_file", 0, "")],
        )
        .await;
        let rows: Vec<String> = (1..=3)
            .map(|i| format!("{P1},资金到疆,1,2024-06-0{i},doc{i},"))
            .collect();
        let mut lines = vec![TXN_HEAD];
        lines.extend(rows.iter().map(String::as_str));
        let bytes = csv(&lines);
        let mut opts = options(Kind::Transactions, "big.csv");
        opts.limits = Limits {
            max_bytes: 100,
            ..Limits::default()
        };
        let r = refused_with(&db, &bytes, &opts, &[("file_too_large", 0, "")]).await;
        assert!(
            r.issues[0].en.contains("above the limit"),
            "{}",
            r.issues[0].en
        );
        opts.limits = Limits {
            max_rows: 2,
            ..Limits::default()
        };
        refused_with(&db, &bytes, &opts, &[("too_many_rows", 0, "")]).await;
        opts.limits = Limits {
            max_cell_chars: 16,
            ..Limits::default()
        };
        let long = csv(&[
            TXN_HEAD,
            &format!("{P1},资金到疆,1,2024-06-01,doc,{}", "长备注".repeat(6)),
        ]);
        refused_with(&db, &long, &opts, &[("cell_too_long", 2, "F")]).await;
        // A zip bomb is refused from its directory, before anything is unpacked.
        opts.limits = Limits {
            max_unpacked_bytes: 1_000,
            ..Limits::default()
        };
        refused_with(&db, &whole, &opts, &[("file_too_large", 0, "")]).await;
    }
}

#[tokio::test]
async fn formula_and_merged_cells() {
    let head: Vec<&str> = TXN_HEAD.split(',').collect();
    let formula = xlsx("资金", |ws| {
        write_rows(
            ws,
            &[
                &head,
                &[P1, "资金到疆", "", "2024-06-01", "沪财援〔2024〕40号", ""],
            ],
        );
        ws.write_formula(1, 2, Formula::new("=1000+1").set_result("1001"))
            .expect("formula");
    });
    let merged = xlsx("资金", |ws| {
        write_rows(
            ws,
            &[
                &head,
                &[P1, "资金到疆", "1", "2024-06-01", "", ""],
                &[P1, "资金到疆", "2", "2024-06-02", "", ""],
            ],
        );
        ws.merge_range(
            1,
            4,
            2,
            4,
            "沪财援〔2024〕41号",
            &rust_xlsxwriter::Format::new(),
        )
        .expect("merge");
    });
    for db in stores("formula_and_merged").await {
        let r = refused(
            &db,
            &formula,
            Kind::Transactions,
            &[("formula_cell", 2, "C")],
        )
        .await;
        assert_eq!(r.issues[0].value.as_deref(), Some("=1000+1"));
        refused(
            &db,
            &merged,
            Kind::Transactions,
            &[("merged_cells", 2, "E"), ("missing_value", 3, "E")],
        )
        .await;
    }
}

#[tokio::test]
async fn lifecycle_and_scope() {
    for db in stores("lifecycle_and_scope").await {
        // P1 is plan-issued: it cannot go back to proposed.
        let p1 = format!(
            "{P1},{P1} 职业技术学校实训楼建设项目,教育,交钥匙,建设类,2024,是,否,是,是,31,653121,653121,10000000,8000000,1000000,2024-03-01,2025-10-31,储备,是,实训楼一栋"
        );
        let wrong_kind = project_row("YJ2024-31-00301", "甲", "实施中");
        refused(
            &db,
            &csv(&[PROJECT_HEAD, &p1, &wrong_kind]),
            Kind::Projects,
            &[
                ("state_unreachable", 2, "S"),
                ("state_kind_mismatch", 3, "S"),
            ],
        )
        .await;
        // Guangdong's officer may not record Shanghai's funds, nor publish.
        let txn = csv(&[
            TXN_HEAD,
            &format!("{P1},资金到疆,1,2024-06-01,沪财援〔2024〕50号,"),
        ]);
        let mut opts = options(Kind::Transactions, "t.csv");
        opts.viewer = Some(supporter("44"));
        refused_with(&db, &txn, &opts, &[("out_of_scope", 2, "A")]).await;
        opts.viewer = Some(supporter("31"));
        opts.dry_run = true;
        let r = run_with(&db.store, &txn, &opts).await;
        assert!(r.is_ok(), "{:#?}", r.issues);
        let mut opts = options(Kind::Projects, "p.csv");
        opts.viewer = Some(supporter("31"));
        let published =
            project_row("YJ2024-31-00302", "乙", "计划下达").replace(",否,新建", ",是,新建");
        let guangdong = project_row("YJ2024-44-00303", "丙", "计划下达").replace(",31,", ",44,");
        refused_with(
            &db,
            &csv(&[PROJECT_HEAD, &published, &guangdong]),
            &opts,
            &[("publish_needs_approval", 2, "T"), ("out_of_scope", 3, "K")],
        )
        .await;
    }
}

#[tokio::test]
async fn one_bad_row_writes_nothing_and_the_error_workbook_marks_it() {
    for db in stores("all_or_nothing").await {
        let good = format!("{P1},资金到疆,1,2024-06-01,沪财援〔2024〕60号,");
        let bad = format!("{P1},资金到疆,1.001,2024-06-02,沪财援〔2024〕61号,");
        let bytes = csv(&[TXN_HEAD, &good, &good.replace("60号", "62号"), &bad]);
        let r = refused(
            &db,
            &bytes,
            Kind::Transactions,
            &[("invalid_amount", 4, "C")],
        )
        .await;
        let dir = tempfile::TempDir::new().expect("dir");
        let path = dir.path().join("errors.xlsx");
        yuanjiang_exchange::write_error_workbook(&bytes, &r, &Limits::default(), &path)
            .expect("write");
        use calamine::Reader;
        let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&path).expect("open");
        assert_eq!(
            wb.sheet_names(),
            vec!["错误清单".to_owned(), "bad.csv".to_owned()]
        );
        let list = wb.worksheet_range("错误清单").expect("list");
        let row: Vec<String> = list
            .rows()
            .nth(1)
            .expect("row")
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(
            &row[..6],
            &["bad.csv", "4", "C", "金额（元）", "1.001", "invalid_amount"]
        );
        let copy = wb.worksheet_range("bad.csv").expect("copy");
        assert_eq!(
            copy.get_value((3, 2)).map(|c| c.to_string()),
            Some("1.001".into())
        );
        assert_eq!(
            copy.get_value((1, 4)).map(|c| c.to_string()),
            Some("沪财援〔2024〕60号".into())
        );
    }
}
