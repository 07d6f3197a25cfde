//! Entropy weight method (熵权法): objective weights from how much each
//! indicator varies across units.
//!
//! After min-max normalisation (see [`crate::normalise::min_max`]),
//! `p_ij = x'_ij / Σ_i x'_ij`, `e_j = −(1/ln n) Σ_i p_ij ln p_ij` with
//! `0·ln 0 = 0`, and `w_j = (1 − e_j) / Σ_k (1 − e_k)`. An indicator on
//! which units differ a lot has low entropy and so a high weight.
//!
//! The entropy *score* of a unit is `Σ_j w_j x'_ij`, the weighted sum of its
//! normalised values.

use crate::error::EvaluationError;
use crate::normalise;
use crate::table::{Direction, UnitTable};

/// Entropy weights of a table's indicators (they sum to 1).
pub fn weights(table: &UnitTable, directions: &[Direction]) -> Result<Vec<f64>, EvaluationError> {
    let columns = normalise::min_max(table, directions)?;
    weights_of_normalised(&columns)
}

/// Entropy weights from already min-max-normalised columns (one `Vec` per
/// indicator, values in [0, 1], each column with a positive sum).
pub fn weights_of_normalised(columns: &[Vec<f64>]) -> Result<Vec<f64>, EvaluationError> {
    let n = columns.first().map_or(0, Vec::len);
    if n < 2 {
        return Err(EvaluationError::TooFewUnits { count: n });
    }
    let ln_n = (n as f64).ln();
    let divergence: Vec<f64> = columns
        .iter()
        .map(|column| {
            let total: f64 = column.iter().sum();
            let sum_p_ln_p: f64 = column
                .iter()
                .filter(|&&x| x > 0.0)
                .map(|&x| {
                    let p = x / total;
                    p * p.ln()
                })
                .sum();
            let entropy = -sum_p_ln_p / ln_n;
            1.0 - entropy
        })
        .collect();
    let total: f64 = divergence.iter().sum();
    // Min-max puts a 0 in every column, so no column is uniform and each
    // 1 − e_j is positive; the guard only turns a broken caller's input into
    // an error instead of NaN weights.
    if !(total > 0.0 && total.is_finite()) {
        return Err(EvaluationError::NonFiniteResult {
            detail: "entropy weights".to_string(),
        });
    }
    Ok(divergence.iter().map(|d| d / total).collect())
}

/// Entropy weights and each unit's score `Σ_j w_j x'_ij`.
pub fn weights_and_scores(
    table: &UnitTable,
    directions: &[Direction],
) -> Result<(Vec<f64>, Vec<f64>), EvaluationError> {
    let columns = normalise::min_max(table, directions)?;
    let weights = weights_of_normalised(&columns)?;
    let scores = normalise::weighted_sum(&columns, &weights);
    Ok((weights, scores))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_equally_spread_indicators_get_equal_weight() {
        // Both columns normalise to a permutation of {0, 0.5, 1}, so their
        // entropies, and hence weights, are equal.
        let table = UnitTable {
            indicators: vec!["a".into(), "b".into()],
            units: vec!["x".into(), "y".into(), "z".into()],
            values: vec![vec![1.0, 30.0], vec![2.0, 10.0], vec![3.0, 20.0]],
        };
        let w = weights(&table, &[Direction::Benefit, Direction::Cost]).expect("varied");
        assert!(
            (w[0] - 0.5).abs() < 1e-15 && (w[1] - 0.5).abs() < 1e-15,
            "{w:?}"
        );
    }
}
