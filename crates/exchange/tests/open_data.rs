//! The open-data package: published records only, no personal data, and a
//! datapackage.json that the `frictionless` Python package finds valid.

use chrono::NaiveDate;
use yuanjiang_domain::{Assignment, AssignmentCategory, AssignmentMode};
use yuanjiang_exchange::open_data;

use crate::support::*;

/// Whether `python3 -m frictionless` can run; if not, says so on the real
/// stderr (past the test harness's capture) so the skip is never silent.
fn frictionless_available() -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import frictionless"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: frictionless not installed (pip install frictionless): open-data package not validated"
        );
    }
    ok
}

#[tokio::test]
async fn the_open_data_package_is_valid_and_holds_only_published_records() {
    for db in stores("open_data").await {
        let person = Assignment {
            supporter_code: "31".into(),
            batch_number: None,
            person_name: "王秘密".into(),
            id_number: Some("11010519491231002X".into()),
            phone: Some("13912345678".into()),
            category: AssignmentCategory::Teacher,
            mode: AssignmentMode::ShortTerm,
            recipient_code: "653121".into(),
            host_unit: "疏附县第一中学".into(),
            post: "数学教师".into(),
            arrival_date: NaiveDate::from_ymd_opt(2024, 2, 20).expect("date"),
            return_date: NaiveDate::from_ymd_opt(2024, 12, 31).expect("date"),
            appraisal: None,
        };
        let mut bulk = db.store.bulk().await.expect("bulk");
        bulk.insert_assignments(&[
            person.clone(),
            Assignment {
                person_name: "李保密".into(),
                id_number: None,
                phone: None,
                ..person
            },
        ])
        .await
        .expect("assignments");
        bulk.commit().await.expect("commit");

        let dir = tempfile::TempDir::new().expect("dir");
        let summary = open_data(&db.store, dir.path(), &mut |_, _| {})
            .await
            .expect("open data");
        let rows: std::collections::HashMap<String, u64> = summary.files.into_iter().collect();
        assert_eq!(rows["projects.csv"], 1, "only the published project");
        assert_eq!(rows["fund_transactions.csv"], 4);
        assert_eq!(
            (rows["indicators.csv"], rows["indicator_values.csv"]),
            (1, 1)
        );
        assert_eq!(rows["assignment_counts.csv"], 1);
        let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).expect("read");
        let projects = read("projects.csv");
        assert!(projects.contains(P1) && !projects.contains(P2));
        assert!(
            projects.starts_with("code,name,category,"),
            "no BOM, English keys"
        );
        assert!(projects.contains(",education,turnkey,construction,2024,true,false,true,true,31,653121,653121,10000000.00,8000000.00,1000000.00,2024-03-01,2025-10-31,plan-issued,"));
        assert_eq!(
            read("assignment_counts.csv"),
            "supporter_code,recipient_code,category,year,people\n31,653121,teacher,2024,2\n"
        );
        for entry in std::fs::read_dir(dir.path()).expect("dir") {
            let text = std::fs::read_to_string(entry.expect("entry").path()).expect("read");
            for secret in [
                "王秘密",
                "李保密",
                "11010519491231002X",
                "13912345678",
                "数学教师",
                P2,
            ] {
                assert!(!text.contains(secret), "{secret} leaked");
            }
        }
        let package: serde_json::Value =
            serde_json::from_str(&read("datapackage.json")).expect("json");
        let names: Vec<&str> = package["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .filter_map(|r| r["name"].as_str())
            .collect();
        assert_eq!(
            names,
            [
                "supporters",
                "recipients",
                "pairings",
                "projects",
                "fund_transactions",
                "indicators",
                "indicator_values",
                "assignment_counts"
            ]
        );

        if frictionless_available() {
            let out = std::process::Command::new("python3")
                .args([
                    "-c",
                    "import sys, frictionless\n\
                     r = frictionless.validate(sys.argv[1])\n\
                     print('VALID' if r.valid else 'INVALID')\n\
                     [print(e) for e in r.flatten(['rowNumber', 'fieldName', 'type', 'note'])[:20]]",
                    &dir.path().join("datapackage.json").to_string_lossy(),
                ])
                .output()
                .expect("python3");
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                stdout.starts_with("VALID"),
                "{}: {stdout}\n{}",
                db.label,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}
