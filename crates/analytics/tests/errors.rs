//! Every bad input is refused with a stable code and messages, in Chinese
//! and English, that point at the line, column, unit or value at fault.

use yuanjiang_analytics::{
    EvaluationError, EvaluationRequest, Method, Orientation, UnitTable, ahp, evaluate, parse_units,
};

use crate::util::{assert_error, request, run};

/// `(csv, code, fragments the messages must contain)`.
const PARSE_CASES: &[(&str, &str, &[&str])] = &[
    ("", "empty_input", &[]),
    ("county,a\nX,1\nY,2\n", "bad_header", &["county"]),
    ("unit,a,,b\nX,1,2,3\n", "blank_column_name", &["3"]),
    ("unit,a,a\nX,1,2\nY,2,3\n", "duplicate_column", &["\"a\""]),
    ("unit\nX\nY\n", "no_indicators", &[]),
    ("unit,a,b\nX,1,2\nY,3\n", "missing_value", &["3", "\"b\""]),
    ("unit,a,b\nX,1,2\nY,,3\n", "missing_value", &["3", "\"a\""]),
    ("unit,a\nX,1\nY,2,3\n", "extra_values", &["3"]),
    (
        "unit,a,b\nX,1,2\nY,3,12abc\n",
        "not_a_number",
        &["3", "\"b\"", "12abc"],
    ),
    ("unit,a\nX,1\nY,NaN\n", "non_finite", &["3", "\"a\"", "NaN"]),
    ("unit,a\nX,inf\nY,1\n", "non_finite", &["2", "\"a\"", "inf"]),
    ("unit,a\nX,1\nX,2\n", "duplicate_unit", &["3", "\"X\""]),
    ("unit,a\nX,1\n", "too_few_units", &["1"]),
    ("unit,a\n,1\nY,2\n", "missing_unit_name", &["2"]),
    // An unterminated quote runs to the end of the file, into one cell.
    (
        "unit,a,b\nX,1,2\nY,\"3,4\n",
        "not_a_number",
        &["3", "\"a\""],
    ),
];

#[test]
fn each_parse_problem_names_line_column_and_value() {
    for (csv, code, fragments) in PARSE_CASES {
        assert_error(parse_units(csv), code, fragments);
    }
}

#[test]
fn selecting_an_unknown_column_names_it() {
    let table = parse_units("unit,a\nX,1\nY,2\n").expect("valid");
    assert_error(table.select(&["jobs"]), "unknown_column", &["jobs"]);
    assert_error(
        run("unit,a\nX,1\nY,2\n", &request(Method::Entropy, &["jobs"])),
        "unknown_column",
        &["jobs"],
    );
}

#[test]
fn a_hand_built_table_is_checked_too() {
    let table = UnitTable {
        indicators: vec!["a".into()],
        units: vec!["X".into(), "Y".into()],
        values: vec![vec![1.0], vec![f64::NAN]],
    };
    assert_error(
        evaluate(&table, &EvaluationRequest::new(Method::Entropy)),
        "non_finite",
        &["\"a\""],
    );
    let ragged = UnitTable {
        values: vec![vec![1.0], vec![1.0, 2.0]],
        ..table
    };
    assert_error(
        evaluate(&ragged, &EvaluationRequest::new(Method::Topsis)),
        "inconsistent_table",
        &["\"Y\""],
    );
}

#[test]
fn method_and_option_problems() {
    assert_error(Method::parse("vikor"), "unknown_method", &["vikor"]);
    assert_error(
        Orientation::parse("sideways"),
        "unknown_orientation",
        &["sideways"],
    );
    let csv = "unit,a,b\nX,1,2\nY,2,1\n";
    let mut req = request(Method::Entropy, &[]);
    req.ahp_matrix = Some("1,2\n1/2,1\n".into());
    assert_error(
        run(csv, &req),
        "option_not_applicable",
        &["ahp_matrix", "entropy"],
    );
    let mut req = request(Method::DeaCcr, &["a"]);
    req.inputs = vec!["a".into()];
    req.outputs = vec!["b".into()];
    assert_error(
        run(csv, &req),
        "option_not_applicable",
        &["cost", "dea-ccr"],
    );
    let mut req = request(Method::Topsis, &[]);
    req.orientation = Orientation::Output;
    assert_error(run(csv, &req), "option_not_applicable", &["orientation"]);
}

#[test]
fn zero_variance_names_the_indicator_instead_of_returning_nan() {
    let csv = "unit,jobs,beds\nX,1,5\nY,2,5\nZ,3,5\n";
    for method in [Method::Entropy, Method::EntropyTopsis] {
        assert_error(
            run(csv, &request(method, &[])),
            "zero_variance",
            &["\"beds\""],
        );
    }
}

#[test]
fn topsis_weight_problems() {
    let csv = "unit,a,b\nX,1,2\nY,2,1\n";
    let with = |weights: Vec<f64>| {
        let mut req = request(Method::Topsis, &[]);
        req.weights = Some(weights);
        run(csv, &req)
    };
    assert_error(with(vec![1.0]), "weight_count", &["1", "2"]);
    assert_error(with(vec![1.0, -0.5]), "invalid_weight", &["\"b\"", "-0.5"]);
    assert_error(with(vec![1.0, f64::NAN]), "invalid_weight", &["\"b\""]);
    assert_error(with(vec![0.0, 0.0]), "zero_weights", &[]);
    assert_error(
        run("unit,a,b\nX,1,2\nY,1,2\n", &request(Method::Topsis, &[])),
        "all_units_identical",
        &[],
    );
}

#[test]
fn ahp_matrix_problems() {
    let csv = "unit,a,b,c\nX,1,2,3\nY,2,1,5\nZ,3,3,1\n";
    let with = |matrix: &str| {
        let mut req = request(Method::Ahp, &[]);
        req.ahp_matrix = Some(matrix.to_string());
        run(csv, &req)
    };
    assert_error(
        run(csv, &request(Method::Ahp, &[])),
        "ahp_matrix_missing",
        &[],
    );
    assert_error(with(""), "ahp_matrix_empty", &[]);
    assert_error(
        with("1,2,x\n1/2,1,1\n1,1,1\n"),
        "ahp_bad_value",
        &["1", "3", "x"],
    );
    assert_error(with("1,2,1/0\n1/2,1,1\n0,1,1\n"), "ahp_bad_value", &["1/0"]);
    assert_error(with("1,2\n1/2,1,1\n"), "ahp_not_square", &["2", "3"]);
    assert_error(
        with("a,b,c,d\n1,2\n1/2,1\n"),
        "ahp_header_length",
        &["4", "2"],
    );
    assert_error(
        with("1,2,0\n1/2,1,1\n1,1,1\n"),
        "ahp_not_positive",
        &["(1, 3)", "0"],
    );
    assert_error(
        with(",a,b,c\na,1,2,3\nb,1/2,1,1\nc,1/2,1,1\n"),
        "ahp_not_reciprocal",
        &["(a, c) = 3", "(c, a) = 0.5"],
    );
    assert_error(with("1,2\n1/2,1\n"), "ahp_size_mismatch", &["2", "3"]);
    assert_error(
        with(",a,b,d\na,1,1,1\nb,1,1,1\nd,1,1,1\n"),
        "ahp_unknown_criterion",
        &["\"d\""],
    );
    assert_error(
        with(",a,b,a\na,1,1,1\nb,1,1,1\na,1,1,1\n"),
        "duplicate_column",
        &["\"a\""],
    );
    let sixteen: String = (0..16).map(|_| vec!["1"; 16].join(",") + "\n").collect();
    assert_error(ahp::consistent_weights(&sixteen), "ahp_too_large", &["16"]);

    // a ≫ b ≫ c ≫ a: circular judgements. CR is shown to 4 decimals.
    let circular = "1,9,1/9\n1/9,1,9\n9,1/9,1\n";
    let err = with(circular).expect_err("inconsistent");
    let EvaluationError::AhpInconsistent { cr } = err else {
        panic!("expected ahp_inconsistent, got {err:?}");
    };
    assert!(cr >= 0.1, "CR {cr}");
    let shown = format!("CR = {cr:.4}");
    assert!(
        err.en().contains(&shown) && err.zh().contains(&shown),
        "{}",
        err.en()
    );
}

#[test]
fn dea_data_problems() {
    let dea = |csv: &str, inputs: &[&str], outputs: &[&str]| {
        let mut req = EvaluationRequest::new(Method::DeaBcc);
        req.inputs = inputs.iter().map(|s| s.to_string()).collect();
        req.outputs = outputs.iter().map(|s| s.to_string()).collect();
        run(csv, &req)
    };
    let good = "unit,funds,jobs\nX,1,2\nY,2,3\n";
    assert_error(dea(good, &[], &["jobs"]), "dea_no_inputs", &[]);
    assert_error(dea(good, &["funds"], &[]), "dea_no_outputs", &[]);
    assert_error(
        dea(good, &["money"], &["jobs"]),
        "unknown_column",
        &["money"],
    );
    assert_error(
        dea(good, &["funds"], &["jobs", "funds"]),
        "dea_column_in_both_roles",
        &["funds"],
    );
    assert_error(
        dea("unit,funds,jobs\nX,1,2\nY,2,-3\n", &["funds"], &["jobs"]),
        "dea_negative",
        &["\"Y\"", "\"jobs\"", "-3"],
    );
    assert_error(
        dea("unit,funds,jobs\nX,1,2\nY,0,3\n", &["funds"], &["jobs"]),
        "dea_no_positive_input",
        &["\"Y\""],
    );
    assert_error(
        dea("unit,funds,jobs\nX,0.5,0\nY,2,3\n", &["funds"], &["jobs"]),
        "dea_no_positive_output",
        &["\"X\""],
    );
}
