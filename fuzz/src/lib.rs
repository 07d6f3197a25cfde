//! The harness of each fuzz target: one function per target, taking the raw
//! bytes the fuzzer made. The targets in `fuzz_targets/` call these, and so
//! does the plain test `tests/corpus.rs`, which replays every file of
//! `corpus/<target>/` and `regressions/<target>/` on stable Rust. Each
//! function must never panic, whatever the bytes: a panic is a finding.

#![forbid(unsafe_code)]

use std::collections::HashMap;

use yuanjiang_analytics::{EvaluationRequest, Method, Orientation, ahp, parse_units};
use yuanjiang_domain::codes;
use yuanjiang_exchange::{ImportOptions, Kind, Limits, parse_rows};
use yuanjiang_server::api::query;

/// The targets, by name, as `fuzz/run.sh` and the corpus test know them.
pub const TARGETS: [(&str, fn(&[u8])); 4] = [
    ("import_rows", import_rows),
    ("query_filters", query_filters),
    ("evaluation_input", evaluation_input),
    ("codes", codes),
];

/// Small limits, so that the fuzzer explores parsing rather than spending
/// its time on huge inputs (the limits themselves are checked too).
fn fuzz_limits() -> Limits {
    Limits {
        max_bytes: 1024 * 1024,
        max_rows: 2_000,
        max_cell_chars: 200,
        max_unpacked_bytes: 8 * 1024 * 1024,
    }
}

/// Import rows: the bytes as an uploaded file (CSV in UTF-8 or GBK, xlsx,
/// xls, ods, whatever `detect` finds), read and parsed as each importable
/// kind and as a workbook of all of them, exactly as `import` does before
/// it looks at the store.
pub fn import_rows(data: &[u8]) {
    let selections: [&[Kind]; 5] = [
        &[Kind::Projects],
        &[Kind::Transactions],
        &[Kind::Indicators],
        &[Kind::Assignments],
        &[
            Kind::Projects,
            Kind::Transactions,
            Kind::Indicators,
            Kind::Assignments,
        ],
    ];
    for kinds in selections {
        let options = ImportOptions {
            kinds: kinds.to_vec(),
            dry_run: true,
            viewer: None,
            actor: "fuzz".into(),
            file_name: "fuzz.csv".into(),
            limits: fuzz_limits(),
        };
        if let Ok(read) = parse_rows(data, &options) {
            // Whatever was read, its issues can be shown.
            for issue in &read.issues {
                let _ = format!("{issue:?}");
            }
        }
    }
}

/// The read API's query strings: the bytes as a URL query, decoded as
/// axum's `Query` extractor does, then every parser of `api::query`.
pub fn query_filters(data: &[u8]) {
    let Ok(params) = serde_urlencoded::from_bytes::<HashMap<String, String>>(data) else {
        return;
    };
    let _ = query::only(&params, &query::FILTER_PARAMS);
    let _ = query::filter(&params);
    let _ = query::paging(&params);
    let _ = query::dimensions(&params);
}

/// Evaluation input: sections separated by a line `---`: the units table
/// (CSV), then an AHP matrix (CSV), then one line each of cost indicators,
/// DEA inputs, DEA outputs and TOPSIS weights (comma-separated), then the
/// orientation. The first byte picks the method.
pub fn evaluation_input(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let mut sections = text.split("\n---\n");
    let units = sections.next().unwrap_or_default();
    let matrix = sections.next();
    let options = sections.next().unwrap_or_default();
    let orientation = sections.next().unwrap_or("input");

    if let Some(m) = matrix {
        if let Ok(parsed) = ahp::PairwiseMatrix::parse(m) {
            let _ = parsed.validate();
            let _ = ahp::analyse(&parsed);
        }
        let _ = ahp::consistent_weights(m);
    }
    let Ok(table) = parse_units(units) else {
        return;
    };
    let mut lines = options.lines();
    let list = |line: Option<&str>| -> Vec<String> {
        line.unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    };
    let method = Method::ALL[usize::from(pick) % Method::ALL.len()];
    let mut request = EvaluationRequest::new(method);
    request.cost = list(lines.next());
    request.inputs = list(lines.next());
    request.outputs = list(lines.next());
    let weights = list(lines.next());
    if !weights.is_empty() {
        request.weights = Some(
            weights
                .iter()
                .map(|w| w.parse::<f64>().unwrap_or(f64::NAN))
                .collect(),
        );
    }
    request.ahp_matrix = matrix.map(String::from);
    if let Ok(o) = Orientation::parse(orientation.trim()) {
        request.orientation = o;
    }
    // The request as sent, and as each method would accept it.
    let _ = yuanjiang_analytics::evaluate(&table, &request);
    let _ = table.directions(&request.cost);
    let _ = table.select(&request.inputs);
    let _ = Method::parse(orientation);
}

/// The code validators: the bytes (as UTF-8, lossily) as each kind of
/// official identifier, and split in two as a division and its ancestor.
pub fn codes(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = codes::validate_division_code(&text);
    let _ = codes::validate_xpcc_code(&text);
    let _ = codes::validate_credit_code(&text);
    let _ = codes::validate_id_number(&text);
    let _ = codes::credit_code_check_char(&text);
    let _ = codes::id_number_check_char(&text);
    let mid = text.len() / 2;
    if let (Some(a), Some(b)) = (text.get(..mid), text.get(mid..)) {
        let _ = codes::division_contains(a, b);
    }
}
