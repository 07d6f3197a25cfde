//! Importing the same file twice changes nothing; a corrected file updates
//! in place; exported files import back unchanged; every import is in the
//! history with its SM3 hash and in the audit trail.

use yuanjiang_domain::{Fen, ProjectState};
use yuanjiang_exchange::{Counts, ExportFormat, ExportOptions, Kind, export, sm3_hex};
use yuanjiang_store::ProjectFilter;

use crate::support::*;

fn counts(inserted: u64, updated: u64, unchanged: u64) -> Counts {
    Counts {
        inserted,
        updated,
        unchanged,
    }
}

#[tokio::test]
async fn reimport_changes_nothing_and_a_corrected_file_updates_in_place() {
    let code = "YJ2024-31-00500";
    let first = format!(
        "{PROJECT_HEAD}\n{}\n",
        project_row(code, "疏附县职业高中实训楼", "计划下达")
    );
    let corrected = format!(
        "{PROJECT_HEAD}\n{}\n",
        project_row(code, "疏附县职业高中实训楼（一期）", "在建")
    );
    let txns = format!(
        "{TXN_HEAD}\n{code},计划安排,1500000,2024-04-02,沪援〔2024〕500号,年度计划\n{code},资金到疆,1000000,2024-04-20,沪财援〔2024〕500号,\n"
    );
    let txns_fixed = txns.replace("1000000,2024-04-20", "1200000.10,2024-04-20");
    for db in stores("idempotent").await {
        let s = &db.store;
        let r = run(s, first.as_bytes(), Kind::Projects, "p.csv").await;
        assert_eq!(
            (r.is_ok(), r.counts["projects"]),
            (true, counts(1, 0, 0)),
            "{:#?}",
            r.issues
        );
        let before = s.exchange_fingerprint().await.expect("fp");
        let r = run(s, first.as_bytes(), Kind::Projects, "p.csv").await;
        assert_eq!(r.counts["projects"], counts(0, 0, 1));
        let after = s.exchange_fingerprint().await.expect("fp");
        // Only the history and the audit trail grew: one line each.
        let changed: Vec<_> = before
            .iter()
            .zip(&after)
            .filter(|(b, a)| b != a)
            .map(|(b, a)| (b.0, a.1 - b.1))
            .collect();
        assert_eq!(
            changed,
            vec![("import_history", 1), ("audit_log", 1)],
            "{}",
            db.label
        );

        let r = run(s, corrected.as_bytes(), Kind::Projects, "p2.csv").await;
        assert_eq!(r.counts["projects"], counts(0, 1, 0), "{:#?}", r.issues);
        let p = s.project(code).await.expect("read").expect("project");
        assert_eq!(
            (p.project.name.as_str(), p.project.state),
            (
                "疏附县职业高中实训楼（一期）",
                ProjectState::UnderConstruction
            )
        );
        assert_eq!(p.row_version, 2);
        let history = s.project_history(p.id).await.expect("history");
        let last = history.last().expect("history line");
        assert_eq!(
            (last.from, last.to, last.by.as_str()),
            (
                Some(ProjectState::PlanIssued),
                ProjectState::UnderConstruction,
                "tester"
            )
        );
        assert_eq!(history.len(), 2);

        let r = run(s, txns.as_bytes(), Kind::Transactions, "t.csv").await;
        assert_eq!(r.counts["transactions"], counts(2, 0, 0), "{:#?}", r.issues);
        let r = run(s, txns.as_bytes(), Kind::Transactions, "t.csv").await;
        assert_eq!(r.counts["transactions"], counts(0, 0, 2));
        let r = run(s, txns_fixed.as_bytes(), Kind::Transactions, "t2.csv").await;
        assert_eq!(r.counts["transactions"], counts(0, 1, 1), "{:#?}", r.issues);
        let amounts: Vec<(i64, String)> = s
            .project_transactions(p.id)
            .await
            .expect("txns")
            .into_iter()
            .map(|t| (t.transaction.amount.0, t.transaction.note))
            .collect();
        assert_eq!(
            amounts,
            vec![
                (150_000_000, "年度计划".to_owned()),
                (120_000_010, String::new())
            ]
        );
        // The project's version moved on with its figures.
        assert_eq!(
            s.project(code).await.expect("read").expect("p").row_version,
            4
        );

        // A category change moves the project's money in the fund roll-ups,
        // and a corrected amount changes them: `check` recomputes and agrees.
        let recategorised = corrected.replace(",教育,", ",医疗卫生,");
        let r = run(s, recategorised.as_bytes(), Kind::Projects, "p3.csv").await;
        assert_eq!(r.counts["projects"], counts(0, 1, 0), "{:#?}", r.issues);
        let check = s.check().await.expect("check");
        assert!(check.is_clean(), "{}: {check:?}", db.label);

        let history = s.import_history(10).await.expect("history");
        assert_eq!(history.len(), 7);
        assert_eq!(history[1].file_name, "t2.csv");
        assert_eq!(history[1].file_sm3, sm3_hex(txns_fixed.as_bytes()));
        assert_eq!(
            (
                history[1].inserted,
                history[1].updated,
                history[1].unchanged
            ),
            (0, 1, 1)
        );
        assert_eq!(
            history[5].file_sm3, history[6].file_sm3,
            "the same file, the same hash"
        );
        assert_eq!(history[1].actor, "tester");
        let audit = s
            .audit_entries(
                &yuanjiang_store::AuditFilter {
                    entity: Some("import".into()),
                    ..Default::default()
                },
                None,
                100,
            )
            .await
            .expect("audit");
        assert_eq!(audit.items.len(), 7);
        assert!(
            audit.items[5]
                .after_json
                .as_deref()
                .is_some_and(|j| j.contains("t2.csv"))
        );
    }
}

#[tokio::test]
async fn a_dry_run_checks_everything_and_writes_nothing() {
    for db in stores("dry_run").await {
        let file = format!(
            "{PROJECT_HEAD}\n{}\n",
            project_row("YJ2024-31-00600", "甲", "计划下达")
        );
        let mut opts = options(Kind::Projects, "p.csv");
        opts.dry_run = true;
        let before = db.store.exchange_fingerprint().await.expect("fp");
        let r = run_with(&db.store, file.as_bytes(), &opts).await;
        assert!(r.is_ok() && r.dry_run && r.import_id.is_none());
        assert_eq!(r.counts["projects"], counts(1, 0, 0));
        assert_eq!(db.store.exchange_fingerprint().await.expect("fp"), before);
    }
}

#[tokio::test]
async fn exported_files_import_back_unchanged() {
    for db in stores("round_trip").await {
        let dir = tempfile::TempDir::new().expect("dir");
        let s = &db.store;
        let before = s.exchange_fingerprint().await.expect("fp");
        let cases = [
            (Kind::Projects, ExportFormat::Csv, false, 2),
            (Kind::Projects, ExportFormat::Xlsx, false, 2),
            (Kind::Projects, ExportFormat::Csv, true, 2),
            (Kind::Transactions, ExportFormat::Csv, false, 4),
            (Kind::Transactions, ExportFormat::Xlsx, true, 4),
            (Kind::Indicators, ExportFormat::Csv, false, 1),
            (Kind::Indicators, ExportFormat::Xlsx, false, 1),
        ];
        for (i, (kind, format, english, rows)) in cases.into_iter().enumerate() {
            let ext = if format == ExportFormat::Csv {
                "csv"
            } else {
                "xlsx"
            };
            let path = dir.path().join(format!("{i}.{ext}"));
            let options = ExportOptions {
                what: kind,
                format,
                filter: ProjectFilter::default(),
                english,
            };
            let written = export(s, &options, &path, &mut |_, _| {})
                .await
                .expect("export");
            assert_eq!(written, rows);
            let bytes = std::fs::read(&path).expect("read");
            if format == ExportFormat::Csv {
                assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "CSV starts with a BOM");
            }
            let r = run(s, &bytes, kind, &format!("{i}.{ext}")).await;
            assert!(
                r.is_ok(),
                "{} {kind:?} {format:?}: {:#?}",
                db.label,
                r.issues
            );
            assert_eq!(
                r.counts[kind.key()],
                counts(0, 0, rows),
                "{kind:?} {format:?}"
            );
        }
        let after = s.exchange_fingerprint().await.expect("fp");
        let changed: Vec<&str> = before
            .iter()
            .zip(&after)
            .filter(|(b, a)| b != a)
            .map(|(b, _)| b.0)
            .collect();
        assert_eq!(changed, vec!["import_history", "audit_log"]);

        // Filters and JSON: the API's names; amounts in fen.
        let path = dir.path().join("t.json");
        let filter = yuanjiang_exchange::parse_filter(
            Kind::Transactions,
            &["supporter=31".into(), "year=2024".into()],
        )
        .expect("filter");
        let options = ExportOptions {
            what: Kind::Transactions,
            format: ExportFormat::Json,
            filter,
            english: false,
        };
        assert_eq!(
            export(s, &options, &path, &mut |_, _| {})
                .await
                .expect("export"),
            4
        );
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
        assert_eq!(json[0]["amount"], serde_json::json!(Fen(500_000_000).0));
        assert_eq!(json[0]["fund_type"], "commitment");
        let none = yuanjiang_exchange::parse_filter(
            Kind::Projects,
            &[
                "supporter=44".into(),
                "state=proposed".into(),
                "xpcc=false".into(),
            ],
        )
        .expect("filter");
        let options = ExportOptions {
            what: Kind::Projects,
            format: ExportFormat::Csv,
            filter: none,
            english: false,
        };
        assert_eq!(
            export(s, &options, &dir.path().join("p.csv"), &mut |_, _| {})
                .await
                .expect("export"),
            1
        );
        let bad = yuanjiang_exchange::parse_filter(Kind::Projects, &["colour=red".into()])
            .map_err(|e| e.code);
        assert_eq!(bad, Err("unknown_filter"));
        let bad = yuanjiang_exchange::parse_filter(Kind::Projects, &["year=20x4".into()])
            .map_err(|e| e.code);
        assert_eq!(bad, Err("invalid_filter"));
    }
}

/// A file of transactions alone is written while it is read (on SQLite):
/// a row that fails after whole batches were written leaves nothing, and
/// a file that mixes new rows with stored ones (one corrected) writes the
/// new rows once, corrects in place and counts each kind right.
#[tokio::test]
async fn a_large_transactions_file_is_all_or_nothing_and_counted_right() {
    // More rows than one batch written ahead (5,000), so that batches go
    // to the table before the bad row at the end is read.
    let rows: Vec<String> = (0..6_001)
        .map(|i| format!("{P1},资金到疆,0.01,2024-06-01,沪财援〔2024〕A{i}号,"))
        .collect();
    let file = |rows: &[String], last: &str| {
        let mut lines = vec![TXN_HEAD.to_owned()];
        lines.extend(rows.iter().cloned());
        lines.push(last.to_owned());
        lines.join("\n").into_bytes()
    };
    let bad_last = format!("{P1},资金到疆,1.001,2024-06-02,沪财援〔2024〕B号,");
    let good_last = format!("{P1},资金到疆,0.01,2024-06-02,沪财援〔2024〕B号,");
    for db in stores("written_ahead").await {
        let s = &db.store;
        let before = s.exchange_fingerprint().await.expect("fp");
        let all = ProjectFilter::default();
        let stored = s.count_transactions(&all).await.expect("count");
        let r = run(s, &file(&rows, &bad_last), Kind::Transactions, "t.csv").await;
        assert_eq!(r.import_id, None, "{}", db.label);
        assert_eq!(
            found(&r),
            expect(&[("invalid_amount", 6_003, "C")]),
            "{}",
            db.label
        );
        let after = s.exchange_fingerprint().await.expect("fp");
        assert_eq!(before, after, "{}: the refused file left rows", db.label);

        // The good file: every row new.
        let r = run(s, &file(&rows, &good_last), Kind::Transactions, "t.csv").await;
        assert!(r.is_ok(), "{}: {:#?}", db.label, r.issues);
        assert_eq!(
            r.counts["transactions"],
            counts(6_002, 0, 0),
            "{}",
            db.label
        );
        let now = s.count_transactions(&all).await.expect("count");
        assert_eq!(now, stored + 6_002, "{}", db.label);

        // Again, with one stored row corrected and one new row: one insert,
        // one update, the rest unchanged; no duplicates.
        let mut changed = rows.clone();
        changed[17] = changed[17].replace(",0.01,", ",0.02,");
        let newer = format!("{P1},资金到疆,0.01,2024-06-03,沪财援〔2024〕C号,");
        let mut with_new = file(&changed, &good_last);
        with_new.extend(format!("\n{newer}").into_bytes());
        let r = run(s, &with_new, Kind::Transactions, "t2.csv").await;
        assert!(r.is_ok(), "{}: {:#?}", db.label, r.issues);
        assert_eq!(
            r.counts["transactions"],
            counts(1, 1, 6_001),
            "{}",
            db.label
        );
        let last = s.count_transactions(&all).await.expect("count");
        assert_eq!(last, stored + 6_003, "{}", db.label);
        let checked = s.check().await.expect("check");
        assert!(checked.is_clean(), "{}: {checked:?}", db.label);
    }
}

/// A file is written ahead only on SQLite, and only when it is large beside
/// the projects whose ids writing ahead loads first: 64 bytes a project
/// (the fixture's two projects have ids 1 and 2).
#[tokio::test]
async fn only_a_file_large_beside_the_projects_is_written_ahead() {
    for db in stores("ahead_gate").await {
        let sqlite = db.label == "sqlite";
        for (bytes, expected) in [(0, false), (127, false), (128, sqlite), (1 << 20, sqlite)] {
            let mut itx = db.store.begin_import().await.expect("begin");
            let ahead = itx.begin_write_ahead(bytes).await.expect("ahead");
            assert_eq!(ahead.is_some(), expected, "{}: {bytes} bytes", db.label);
            // Writing ahead hands back every project's row id by code.
            if let Some(mut ids) = ahead {
                ids.sort_by_key(|(_, id)| *id);
                let ids: Vec<i64> = ids.iter().map(|(_, id)| *id).collect();
                assert_eq!(ids, [1, 2], "{}", db.label);
            }
        }
    }
}
