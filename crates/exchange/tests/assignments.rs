//! Assignments (援疆干部人才): a good file imports with its ID numbers and
//! phones sealed; the same file again changes nothing; a corrected file
//! updates in place; bad rows each get their exact error, with personal data
//! masked in the report and the database unchanged; exported files import
//! back unchanged for a user who may see personal data; GBK CSV works.

use std::io::Cursor;

use calamine::Reader;
use yuanjiang_domain::codes::id_number_check_char;
use yuanjiang_domain::personnel::mask_id_number;
use yuanjiang_domain::{AssignmentCategory, Batch, Principal, Role, Viewer};
use yuanjiang_exchange::{
    Counts, ExportFormat, ExportOptions, Kind, Limits, PeopleExport, PersonalDataExport,
    export_assignments, template, write_error_workbook,
};
use yuanjiang_store::{AssignmentFilter, PersonalData, ProjectFilter, Store};

use crate::support::*;

/// The header, in column order A to M.
const HEAD: &str = "支援方代码,批次,姓名,身份证号码,手机号码,人员类别,援疆方式,受援地代码,接收单位,职务,到岗日期,返回日期,考核结果";

/// A valid ID number from its first 17 digits.
fn id(first17: &str) -> String {
    let check = id_number_check_char(first17).expect("17 digits");
    format!("{first17}{check}")
}

fn ids() -> [String; 4] {
    [
        id("31010419800101123"),
        id("31011519850505234"),
        id("31010119900909345"),
        id("44030519820202456"),
    ]
}

/// Four people: three sent by Shanghai (two in its 11th batch, one in
/// none), one by Guangdong (10th batch).
fn good_rows() -> Vec<String> {
    let [a, b, c, d] = ids();
    vec![
        format!(
            "31,11,张伟,{a},13812345678,干部,长期,653121,疏附县人民政府,副县长,2023-02-10,2026-01-20,"
        ),
        format!(
            "31,第11批,李娜,{b},139-1234-5678,教师,短期,653121,疏附县第一中学,数学教师,2023-09-01,2024-07-10,优秀"
        ),
        format!("31,,王芳,{c},,医生,组团式,653101,喀什市人民医院,主治医师,2024-03-01,2024-12-31,"),
        format!(
            "44,10,陈杰,{d},13712345678,专业技术人员,长期,653101,喀什市住房和城乡建设局,高级工程师,2022-09-01,2025-07-01,"
        ),
    ]
}

fn file(rows: &[String]) -> String {
    format!("{HEAD}\n{}\n", rows.join("\n"))
}

fn counts(inserted: u64, updated: u64, unchanged: u64) -> Counts {
    Counts {
        inserted,
        updated,
        unchanged,
    }
}

fn user(role: Role, scope: Option<&str>) -> Viewer {
    Viewer::User(Principal {
        name: format!("{role:?}").to_lowercase(),
        role,
        scope: scope.map(str::to_owned),
    })
}

/// The fixture stores with Shanghai's 11th and Guangdong's 10th batch.
async fn people_stores(test: &str) -> Vec<Db> {
    let dbs = stores(test).await;
    for db in &dbs {
        let mut bulk = db.store.bulk().await.expect("bulk");
        bulk.insert_batches(&[
            Batch {
                supporter_code: "31".into(),
                number: 11,
                start_date: d("2023-02-01"),
                end_date: d("2026-01-31"),
            },
            Batch {
                supporter_code: "44".into(),
                number: 10,
                start_date: d("2022-08-01"),
                end_date: d("2025-07-31"),
            },
        ])
        .await
        .expect("batches");
        bulk.commit().await.expect("commit");
    }
    dbs
}

/// Every stored assignment as `viewer` sees it: (name, ID number, phone, post, version).
async fn people(
    store: &Store,
    viewer: &Viewer,
) -> Vec<(String, Option<String>, Option<String>, String, i64)> {
    let page = store
        .assignments(&AssignmentFilter::default(), viewer, None, 1000)
        .await
        .expect("assignments");
    let mut out = Vec::new();
    for row in page.items {
        let (version, _, _) = store
            .assignment_owner(row.id)
            .await
            .expect("owner")
            .expect("stored");
        let a = row.assignment;
        out.push((a.person_name, a.id_number, a.phone, a.post, version));
    }
    out
}

#[tokio::test]
async fn assignments_import_once_then_change_nothing_then_update_in_place() {
    let [a, b, c, d] = ids();
    let rows = good_rows();
    let first = file(&rows);
    let mut fixed = rows.clone();
    // A new post and phone for 李娜; the others as they were.
    fixed[1] = fixed[1]
        .replace("139-1234-5678", "13900001111")
        .replace("数学教师", "教研室主任");
    let corrected = file(&fixed);
    let region = user(Role::Region, None);
    for db in people_stores("assignments_idempotent").await {
        let s = &db.store;
        let r = run(s, first.as_bytes(), Kind::Assignments, "people.csv").await;
        assert!(r.is_ok(), "{}: {:#?}", db.label, r.issues);
        assert_eq!(r.counts["assignments"], counts(4, 0, 0));
        let stored = people(s, &region).await;
        assert_eq!(
            stored,
            vec![
                (
                    "张伟".into(),
                    Some(a.clone()),
                    Some("13812345678".into()),
                    "副县长".into(),
                    1
                ),
                (
                    "李娜".into(),
                    Some(b.clone()),
                    Some("13912345678".into()),
                    "数学教师".into(),
                    1
                ),
                ("王芳".into(), Some(c.clone()), None, "主治医师".into(), 1),
                (
                    "陈杰".into(),
                    Some(d.clone()),
                    Some("13712345678".into()),
                    "高级工程师".into(),
                    1
                ),
            ],
            "{}",
            db.label
        );
        // Sealed as the API seals them: masked for an auditor, in clear for the region.
        let audited = people(s, &user(Role::Auditor, None)).await;
        assert_eq!(audited[0].1.as_deref(), Some(mask_id_number(&a).as_str()));
        assert_eq!(audited[0].2.as_deref(), Some("138****5678"));

        let before = s.exchange_fingerprint().await.expect("fp");
        let r = run(s, first.as_bytes(), Kind::Assignments, "people.csv").await;
        assert_eq!(r.counts["assignments"], counts(0, 0, 4), "{:#?}", r.issues);
        let after = s.exchange_fingerprint().await.expect("fp");
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

        let r = run(s, corrected.as_bytes(), Kind::Assignments, "people2.csv").await;
        assert_eq!(r.counts["assignments"], counts(0, 1, 3), "{:#?}", r.issues);
        let stored = people(s, &region).await;
        assert_eq!(
            stored[1],
            (
                "李娜".into(),
                Some(b.clone()),
                Some("13900001111".into()),
                "教研室主任".into(),
                2
            )
        );
        assert_eq!(stored.iter().map(|p| p.4).collect::<Vec<_>>(), [1, 2, 1, 1]);

        // Shufu county's office may not pull Kashgar city's doctor over to itself:
        // the stored record is outside its scope, though the row is not.
        let mut as_shufu = options(Kind::Assignments, "move.csv");
        as_shufu.viewer = Some(user(Role::Prefecture, Some("653121")));
        let moved = rows[2].replace("653101", "653121");
        refused_with(
            &db,
            file(&[moved]).as_bytes(),
            &as_shufu,
            &[("out_of_scope", 2, "A")],
        )
        .await;
        // Its own people pass; the rest of the file is out of its scope, so
        // nothing is written.
        let r = run_with(s, corrected.as_bytes(), &as_shufu).await;
        assert_eq!(
            r.issues.iter().map(|i| (i.code, i.row)).collect::<Vec<_>>(),
            vec![("out_of_scope", Some(4)), ("out_of_scope", Some(5))]
        );
        assert_eq!(
            (r.counts.get("assignments"), r.import_id),
            (Some(&counts(0, 0, 2)), None)
        );

        // A blank optional cell keeps the stored value.
        let blank_phone = file(&[fixed[1].replace("13900001111", "")]);
        let r = run(s, blank_phone.as_bytes(), Kind::Assignments, "p3.csv").await;
        assert_eq!(r.counts["assignments"], counts(0, 0, 1), "{:#?}", r.issues);

        let history = s.import_history(10).await.expect("history");
        assert_eq!(history[1].kind, "assignments");
        assert_eq!(
            (
                history[1].inserted,
                history[1].updated,
                history[1].unchanged
            ),
            (0, 1, 3)
        );
        // The audit trail never holds the numbers.
        let audit = s
            .audit_entries(&yuanjiang_store::AuditFilter::default(), None, 100)
            .await
            .expect("audit");
        for e in &audit.items {
            let text = format!("{:?} {:?}", e.before_json, e.after_json);
            assert!(
                !text.contains(&a) && !text.contains("13812345678"),
                "{text}"
            );
        }
    }
}

#[tokio::test]
async fn bad_assignment_rows_each_get_their_exact_error() {
    let [a, ..] = ids();
    let rows = good_rows();
    let bad_check = {
        let last = a.chars().last().expect("char");
        let other = if last == '0' { '1' } else { '0' };
        format!("{}{other}", &a[..17])
    };
    for db in people_stores("assignments_bad_rows").await {
        let r = refused(
            &db,
            file(&[rows[0].replace(&a, &bad_check)]).as_bytes(),
            Kind::Assignments,
            &[("invalid_id_number", 2, "D")],
        )
        .await;
        // Shown masked, everywhere in the report.
        assert_eq!(r.issues[0].value, Some(mask_id_number(&bad_check)));
        assert!(r.issues[0].en.contains("check digit"), "{}", r.issues[0].en);
        let text = format!(
            "{} {}",
            r.issues[0],
            serde_json::to_string(&r).expect("json")
        );
        assert!(!text.contains(&bad_check), "{text}");

        refused(
            &db,
            file(&[rows[0].replacen("31,", "3205,", 1)]).as_bytes(),
            Kind::Assignments,
            &[("unknown_supporter", 2, "A")],
        )
        .await;

        let mut as_shanghai = options(Kind::Assignments, "gd.csv");
        as_shanghai.viewer = Some(supporter("31"));
        refused_with(
            &db,
            file(&rows[..]).as_bytes(),
            &as_shanghai,
            &[("out_of_scope", 5, "A")],
        )
        .await;

        let again = rows[0].replace("张伟", "张卫");
        refused(
            &db,
            file(&[rows[0].clone(), again]).as_bytes(),
            Kind::Assignments,
            &[("duplicate_key", 3, "D")],
        )
        .await;

        refused(
            &db,
            file(&[rows[0].replacen(",11,", ",12,", 1)]).as_bytes(),
            Kind::Assignments,
            &[("unknown_batch", 2, "B")],
        )
        .await;
        refused(
            &db,
            file(&[rows[0].replace("2023-02-10", "2022-12-01")]).as_bytes(),
            Kind::Assignments,
            &[("arrival_outside_batch", 2, "K")],
        )
        .await;
        refused(
            &db,
            file(&[rows[1]
                .replace("短期", "长期")
                .replace("2024-07-10", "2023-08-01")])
            .as_bytes(),
            Kind::Assignments,
            &[("return_before_arrival", 2, "L")],
        )
        .await;
        refused(
            &db,
            file(&[rows[0].replace(&a, &mask_id_number(&a))]).as_bytes(),
            Kind::Assignments,
            &[("masked_personal_data", 2, "D")],
        )
        .await;
        // Every problem of a file at once, the good rows not written either.
        refused(
            &db,
            file(&[
                rows[0].clone(),
                rows[1]
                    .replace("13912345678", "2391234567")
                    .replace("139-1234-5678", "2391234567"),
                rows[2].replace("医生", "护工"),
            ])
            .as_bytes(),
            Kind::Assignments,
            &[
                ("invalid_phone", 3, "E"),
                ("invalid_assignment_category", 4, "F"),
            ],
        )
        .await;
    }
}

#[tokio::test]
async fn the_error_workbook_masks_personal_data() {
    let [a, ..] = ids();
    let bad = file(&[good_rows()[0].replace("干部", "官员")]);
    let dbs = people_stores("assignments_error_workbook").await;
    let db = &dbs[0];
    let r = refused(
        db,
        bad.as_bytes(),
        Kind::Assignments,
        &[("invalid_assignment_category", 2, "F")],
    )
    .await;
    let dir = tempfile::TempDir::new().expect("dir");
    let path = dir.path().join("errors.xlsx");
    write_error_workbook(bad.as_bytes(), &r, &Limits::default(), &path).expect("workbook");
    let bytes = std::fs::read(&path).expect("read");
    let mut wb = calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).expect("open");
    let mut cells = Vec::new();
    for name in wb.sheet_names() {
        let range = wb.worksheet_range(&name).expect("sheet");
        cells.extend(range.rows().flatten().map(|c| c.to_string()));
    }
    assert!(cells.contains(&mask_id_number(&a)), "{cells:?}");
    assert!(cells.contains(&"138****5678".to_owned()), "{cells:?}");
    assert!(
        !cells
            .iter()
            .any(|c| c.contains(&a) || c.contains("13812345678")),
        "{cells:?}"
    );
    // The rest of the row is copied as it was.
    assert!(cells.contains(&"疏附县人民政府".to_owned()));
}

#[tokio::test]
async fn exported_assignments_import_back_unchanged_for_those_who_may_see_them() {
    let [a, ..] = ids();
    let region = user(Role::Region, None);
    for db in people_stores("assignments_round_trip").await {
        let s = &db.store;
        let r = run(s, file(&good_rows()).as_bytes(), Kind::Assignments, "p.csv").await;
        assert!(r.is_ok(), "{:#?}", r.issues);
        let dir = tempfile::TempDir::new().expect("dir");
        let before = s.exchange_fingerprint().await.expect("fp");
        let full = |viewer: Option<Viewer>| PeopleExport {
            viewer,
            filter: AssignmentFilter::default(),
            personal_data: PersonalDataExport::Full,
        };
        // The region may see everyone's personal data but edits nothing: the
        // operator imports its export. Shanghai's front command sees, and may
        // re-import, its own three.
        let cases = [
            (ExportFormat::Csv, false, Some(region.clone()), None, 4),
            (ExportFormat::Xlsx, false, Some(region.clone()), None, 4),
            (ExportFormat::Csv, true, Some(region.clone()), None, 4),
            (
                ExportFormat::Xlsx,
                false,
                Some(supporter("31")),
                Some(supporter("31")),
                3,
            ),
        ];
        for (i, (format, english, viewer, importer, rows)) in cases.into_iter().enumerate() {
            let ext = if format == ExportFormat::Csv {
                "csv"
            } else {
                "xlsx"
            };
            let path = dir.path().join(format!("{i}.{ext}"));
            let options = ExportOptions {
                what: Kind::Assignments,
                format,
                filter: ProjectFilter::default(),
                english,
            };
            let written =
                export_assignments(s, &options, &full(viewer.clone()), &path, &mut |_, _| {})
                    .await
                    .expect("export");
            assert_eq!(written, rows);
            let bytes = std::fs::read(&path).expect("read");
            let mut opts = options_for(importer);
            opts.file_name = format!("{i}.{ext}");
            let r = run_with(s, &bytes, &opts).await;
            assert!(r.is_ok(), "{} {format:?}: {:#?}", db.label, r.issues);
            assert_eq!(r.counts["assignments"], counts(0, 0, rows), "{format:?}");
        }
        let after = s.exchange_fingerprint().await.expect("fp");
        let changed: Vec<&str> = before
            .iter()
            .zip(&after)
            .filter(|(b, a)| b != a)
            .map(|(b, _)| b.0)
            .collect();
        assert_eq!(changed, vec!["import_history", "audit_log"]);

        // Masked by default: no full number in the file, and it cannot go back in.
        let path = dir.path().join("masked.csv");
        let options = ExportOptions {
            what: Kind::Assignments,
            format: ExportFormat::Csv,
            filter: ProjectFilter::default(),
            english: false,
        };
        let masked = PeopleExport {
            viewer: Some(region.clone()),
            ..PeopleExport::default()
        };
        export_assignments(s, &options, &masked, &path, &mut |_, _| {})
            .await
            .expect("export");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(
            text.contains(&mask_id_number(&a)) && !text.contains(&a),
            "{text}"
        );
        assert!(text.contains("138****5678") && !text.contains("13812345678"));
        refused(
            &db,
            text.as_bytes(),
            Kind::Assignments,
            &[
                ("masked_personal_data", 2, "D"),
                ("masked_personal_data", 2, "E"),
                ("masked_personal_data", 3, "D"),
                ("masked_personal_data", 3, "E"),
                ("masked_personal_data", 4, "D"),
                ("masked_personal_data", 5, "D"),
                ("masked_personal_data", 5, "E"),
            ],
        )
        .await;

        // In full only for those who may see it: never an auditor, nor the operator without --as.
        for viewer in [
            Some(user(Role::Auditor, None)),
            Some(user(Role::Prefecture, Some("6531"))),
            None,
        ] {
            let path = dir.path().join("refused.csv");
            let e = export_assignments(s, &options, &full(viewer), &path, &mut |_, _| {})
                .await
                .expect_err("refused");
            assert!(
                matches!(&e, yuanjiang_exchange::ExchangeError::Invalid(d) if d.code == "personal_data_not_allowed"),
                "{e:?}"
            );
            assert!(!path.exists(), "a refused export leaves no file");
        }
        // The plain export is masked and scoped: Guangdong's office sees only its own person.
        let scoped = ProjectFilter {
            scope: yuanjiang_store::Scope::of(&supporter("44")),
            ..ProjectFilter::default()
        };
        let path = dir.path().join("gd.json");
        let options = ExportOptions {
            what: Kind::Assignments,
            format: ExportFormat::Json,
            filter: scoped,
            english: false,
        };
        let n = yuanjiang_exchange::export(s, &options, &path, &mut |_, _| {})
            .await
            .expect("export");
        assert_eq!(n, 1);
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
        assert_eq!(json[0]["person_name"], "陈杰");
        assert_eq!(json[0]["id_number"], mask_id_number(&ids()[3]));
        assert_eq!(json[0]["category"], AssignmentCategory::Technician.key());
        // Rows come back in clear only where the store allows it.
        let page = s
            .assignments(&AssignmentFilter::default(), &supporter("44"), None, 10)
            .await
            .expect("read");
        assert_eq!(page.items[0].personal_data, PersonalData::Clear);
    }
}

/// Import options for assignments as `viewer` (the operator when `None`).
fn options_for(viewer: Option<Viewer>) -> yuanjiang_exchange::ImportOptions {
    let mut o = options(Kind::Assignments, "people.csv");
    o.viewer = viewer;
    o
}

#[tokio::test]
async fn gbk_csv_and_a_filled_in_template_import() {
    let [a, ..] = ids();
    let gbk = encoding_rs::GBK.encode(&file(&good_rows())).0.into_owned();
    let mut wb = template(Kind::Assignments).expect("template");
    let ws = wb.worksheet_from_index(0).expect("sheet");
    for (c, v) in good_rows()[0].split(',').enumerate() {
        ws.write_string(1, c as u16, v).expect("write");
    }
    let filled = wb.save_to_buffer().expect("xlsx");
    for db in people_stores("assignments_gbk").await {
        let r = run(&db.store, &gbk, Kind::Assignments, "干部人才.csv").await;
        assert!(r.is_ok(), "{}: {:#?}", db.label, r.issues);
        assert_eq!(r.format.as_deref(), Some("CSV (GBK/GB18030)"));
        assert_eq!(r.counts["assignments"], counts(4, 0, 0));
        let stored = people(&db.store, &user(Role::Region, None)).await;
        assert_eq!(stored[0].0, "张伟");
        assert_eq!(stored[0].1.as_deref(), Some(a.as_str()));
        let r = run(&db.store, &filled, Kind::Assignments, "模板.xlsx").await;
        assert!(r.is_ok(), "{}: {:#?}", db.label, r.issues);
        assert_eq!((r.sheets.len(), r.sheets[0].name.as_str()), (1, "干部人才"));
        assert_eq!(r.counts["assignments"], counts(0, 0, 1));
    }
}
