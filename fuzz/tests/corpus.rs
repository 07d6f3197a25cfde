//! Replays every file of `corpus/<target>/` (the seeds and what the fuzzer
//! kept) and `regressions/<target>/` (inputs that once crashed) through the
//! target's harness, on stable Rust: a crash found by fuzzing stays fixed.

use std::path::Path;

#[test]
fn every_corpus_and_regression_file_runs_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (name, harness) in yuanjiang_fuzz::TARGETS {
        let mut replayed = 0;
        for dir in ["corpus", "regressions"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir).join(name)) else {
                continue;
            };
            for entry in entries {
                let path = entry.expect("directory entry").path();
                if !path.is_file() {
                    continue;
                }
                let data = std::fs::read(&path).expect("corpus file");
                let outcome = std::panic::catch_unwind(|| harness(&data));
                assert!(outcome.is_ok(), "{name} panicked on {}", path.display());
                replayed += 1;
            }
        }
        println!("{name}: {replayed} inputs replayed");
        assert!(replayed > 0, "{name} has no seed corpus");
    }
}
