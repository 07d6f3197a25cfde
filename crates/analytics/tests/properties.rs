//! Invariants that must hold for any table, checked on random ones.

use proptest::prelude::*;
use yuanjiang_analytics::{
    EvaluationRequest, EvaluationResult, Method, Orientation, UnitTable, evaluate,
};

/// A table of `units × indicators` values drawn from a few integers, so that
/// ties and constant columns (the awkward cases) are common.
fn table(max_units: usize, max_indicators: usize) -> impl Strategy<Value = UnitTable> {
    (2..=max_units, 1..=max_indicators).prop_flat_map(|(n, k)| {
        proptest::collection::vec(proptest::collection::vec(-3i32..=6, k), n).prop_map(
            move |rows| UnitTable {
                indicators: (0..k).map(|j| format!("x{j}")).collect(),
                units: (0..n).map(|i| format!("u{i}")).collect(),
                values: rows
                    .into_iter()
                    .map(|r| r.into_iter().map(f64::from).collect())
                    .collect(),
            },
        )
    })
}

/// Strictly positive DEA data with 1–3 inputs and 1–3 outputs.
fn dea_table() -> impl Strategy<Value = (UnitTable, usize)> {
    (2usize..=20, 1usize..=3, 1usize..=3).prop_flat_map(|(n, m, s)| {
        proptest::collection::vec(proptest::collection::vec(0.1f64..1000.0, m + s), n).prop_map(
            move |rows| {
                let table = UnitTable {
                    indicators: (0..m + s).map(|j| format!("c{j}")).collect(),
                    units: (0..n).map(|i| format!("u{i}")).collect(),
                    values: rows,
                };
                (table, m)
            },
        )
    })
}

fn check_scores(result: &EvaluationResult) -> Result<(), TestCaseError> {
    let EvaluationResult::Scores(report) = result else {
        return Err(TestCaseError::fail("expected scores"));
    };
    let total: f64 = report.weights.0.iter().map(|(_, w)| w).sum();
    prop_assert!((total - 1.0).abs() < 1e-9, "weights sum to {total}");
    for (_, w) in &report.weights.0 {
        prop_assert!(w.is_finite() && *w >= 0.0, "weight {w}");
    }
    for unit in &report.units {
        prop_assert!(
            (0.0..=1.0 + 1e-12).contains(&unit.score),
            "score {}",
            unit.score
        );
        // Competition ranking: rank − 1 units scored strictly higher.
        let higher = report.units.iter().filter(|u| u.score > unit.score).count();
        prop_assert_eq!(unit.rank, higher + 1);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn scoring_methods_give_unit_interval_scores(
        table in table(12, 5),
        cost_mask in proptest::collection::vec(any::<bool>(), 5),
    ) {
        let cost: Vec<String> = table
            .indicators
            .iter()
            .zip(&cost_mask)
            .filter(|(_, c)| **c)
            .map(|(name, _)| name.clone())
            .collect();
        let constant_column = (0..table.indicators.len())
            .any(|j| table.values.iter().all(|r| r[j] == table.values[0][j]));
        let all_identical = table.values.iter().all(|r| r == &table.values[0]);
        for method in [Method::Entropy, Method::Topsis, Method::EntropyTopsis] {
            let mut request = EvaluationRequest::new(method);
            request.cost = cost.clone();
            match evaluate(&table, &request) {
                Ok(result) => {
                    check_scores(&result)?;
                    // Serialising must not fail (serde_json refuses NaN only
                    // by writing null, so check the text for it too).
                    let text = serde_json::to_string(&result).expect("serialisable");
                    prop_assert!(!text.contains("null"), "{}", text);
                }
                Err(err) => {
                    // The only refusals allowed for valid tables.
                    let expected = match err.code() {
                        "zero_variance" => constant_column && method != Method::Topsis,
                        "all_units_identical" => all_identical,
                        _ => false,
                    };
                    prop_assert!(expected, "{method:?}: unexpected {err:?}");
                }
            }
        }
    }

    #[test]
    fn ahp_weights_of_consistent_matrices_sum_to_one(
        raw in proptest::collection::vec(0.05f64..1.0, 1..=15),
    ) {
        let text: String = raw
            .iter()
            .map(|wi| raw.iter().map(|wj| (wi / wj).to_string()).collect::<Vec<_>>().join(",") + "\n")
            .collect();
        let outcome = yuanjiang_analytics::ahp::consistent_weights(&text).expect("consistent");
        let total: f64 = raw.iter().sum();
        prop_assert!((outcome.weights.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        for (w, r) in outcome.weights.iter().zip(&raw) {
            prop_assert!((w - r / total).abs() < 1e-9, "{} vs {}", w, r / total);
        }
        prop_assert!(outcome.consistency.cr.abs() < 1e-9);
    }
}

proptest! {
    // Each case solves a few hundred small programmes; 64 cases keep the
    // suite quick on two cores.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn dea_efficiencies_are_bounded_and_ordered((table, m) in dea_table()) {
        let inputs: Vec<String> = table.indicators[..m].to_vec();
        let outputs: Vec<String> = table.indicators[m..].to_vec();
        let mut ccr_by_orientation = Vec::new();
        for orientation in [Orientation::Input, Orientation::Output] {
            let mut request = EvaluationRequest::new(Method::DeaBcc);
            request.inputs = inputs.clone();
            request.outputs = outputs.clone();
            request.orientation = orientation;
            let result = evaluate(&table, &request).expect("positive data are valid");
            let EvaluationResult::Dea(report) = result else {
                return Err(TestCaseError::fail("expected DEA"));
            };
            for u in &report.units {
                for v in [u.efficiency, u.ccr, u.bcc, u.scale] {
                    prop_assert!(v.is_finite() && v > 0.0 && v <= 1.0 + 1e-9, "{u:?}");
                }
                prop_assert!(u.bcc >= u.ccr - 1e-9, "BCC below CCR: {u:?}");
                prop_assert!((u.scale - u.ccr / u.bcc).abs() < 1e-9, "{u:?}");
                prop_assert_eq!(u.efficiency, u.bcc);
            }
            // Some unit always defines the frontier, under both models.
            let best_ccr = report.units.iter().map(|u| u.ccr).fold(0.0, f64::max);
            let best_bcc = report.units.iter().map(|u| u.bcc).fold(0.0, f64::max);
            prop_assert!(best_ccr >= 1.0 - 1e-9 && best_bcc >= 1.0 - 1e-9);
            ccr_by_orientation.push(report.units.iter().map(|u| u.ccr).collect::<Vec<_>>());
        }
        // Under constant returns θ* = 1/φ*: both orientations agree.
        for (a, b) in ccr_by_orientation[0].iter().zip(&ccr_by_orientation[1]) {
            prop_assert!((a - b).abs() < 1e-7, "input {a} vs output {b}");
        }
    }
}
