//! Helpers shared by the test modules: run a request on CSV text and compare
//! numbers with a stated tolerance.

use yuanjiang_analytics::{
    DeaUnit, EvaluationError, EvaluationRequest, EvaluationResult, Method, Orientation,
    ScoreReport, evaluate, parse_units,
};

/// Parses `csv` and runs `request`, returning the result or the error.
pub fn run(csv: &str, request: &EvaluationRequest) -> Result<EvaluationResult, EvaluationError> {
    evaluate(&parse_units(csv)?, request)
}

/// A scoring result, failing the test on an error or a DEA result.
pub fn scores(csv: &str, request: &EvaluationRequest) -> ScoreReport {
    match run(csv, request) {
        Ok(EvaluationResult::Scores(report)) => report,
        other => panic!("expected scores, got {other:?}"),
    }
}

/// DEA units for `method` in `orientation`, failing the test on an error.
pub fn dea(
    csv: &str,
    method: Method,
    inputs: &[&str],
    outputs: &[&str],
    orientation: Orientation,
) -> Vec<DeaUnit> {
    let mut request = EvaluationRequest::new(method);
    request.inputs = inputs.iter().map(|s| s.to_string()).collect();
    request.outputs = outputs.iter().map(|s| s.to_string()).collect();
    request.orientation = orientation;
    match run(csv, &request) {
        Ok(EvaluationResult::Dea(report)) => report.units,
        other => panic!("expected DEA units, got {other:?}"),
    }
}

/// Asserts `got` is within `tolerance` of `want`, naming `what` on failure.
pub fn assert_close(what: &str, got: f64, want: f64, tolerance: f64) {
    assert!(
        (got - want).abs() <= tolerance,
        "{what}: got {got}, want {want} (tolerance {tolerance})"
    );
}

/// Asserts a result is the error with `code`, and that both messages
/// mention every fragment (line numbers, names, values).
pub fn assert_error<T: std::fmt::Debug>(
    result: Result<T, EvaluationError>,
    code: &str,
    fragments: &[&str],
) {
    let err = result.expect_err("expected an error");
    assert_eq!(err.code(), code, "{err:?}");
    for fragment in fragments {
        assert!(
            err.en().contains(fragment),
            "en {:?} lacks {fragment:?}",
            err.en()
        );
        assert!(
            err.zh().contains(fragment),
            "zh {:?} lacks {fragment:?}",
            err.zh()
        );
    }
}

/// A request for `method` with the given cost indicators.
pub fn request(method: Method, cost: &[&str]) -> EvaluationRequest {
    let mut request = EvaluationRequest::new(method);
    request.cost = cost.iter().map(|s| s.to_string()).collect();
    request
}
