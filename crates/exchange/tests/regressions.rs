//! Inputs that once crashed a fuzz target (`fuzz/regressions/import_rows/`):
//! each must come back as a report, never a panic.

use yuanjiang_exchange::{ImportOptions, Kind, Limits, parse_rows};

#[test]
fn fuzzer_crashes_are_refused_as_unreadable_files() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions/import_rows");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("regressions dir") {
        let path = entry.expect("entry").path();
        let bytes = std::fs::read(&path).expect("read");
        let options = ImportOptions {
            kinds: Kind::IMPORTABLE.to_vec(),
            dry_run: true,
            viewer: None,
            actor: "fuzz".into(),
            file_name: path.display().to_string(),
            limits: Limits::default(),
        };
        let outcome = parse_rows(&bytes, &options);
        if path.ends_with("calamine-cell-ref-overflow") {
            // calamine overflows on its huge cell reference: refused whole.
            let issue = outcome.expect_err("refused");
            assert_eq!(issue.code, "unreadable_file", "{issue:?}");
        }
        seen += 1;
    }
    assert!(seen >= 1, "no regression inputs in {}", dir.display());
}
