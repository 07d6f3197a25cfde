//! TOPSIS: ranks units by closeness to an ideal unit and distance from an
//! anti-ideal one.
//!
//! `r_ij = x_ij / √(Σ_i x_ij²)`, `v_ij = w_j r_ij`. The ideal takes each
//! indicator's best value (maximum for benefit, minimum for cost), the
//! anti-ideal its worst. `D⁺_i` and `D⁻_i` are Euclidean distances to them
//! and the score is `C_i = D⁻_i / (D⁺_i + D⁻_i)`, in [0, 1].
//!
//! `D⁺_i + D⁻_i = 0` means unit `i` equals both the ideal and the
//! anti-ideal on every weighted indicator, which can only happen when every
//! unit is identical on every weighted indicator. So the case never arises
//! for one unit alone: it is either all units, reported as
//! [`EvaluationError::AllUnitsIdentical`], or none.
//!
//! An indicator that is zero for every unit has `Σ x² = 0`; it then
//! contributes nothing (all `r_ij = 0`) instead of dividing by zero.

use crate::error::EvaluationError;
use crate::normalise;
use crate::table::{Direction, UnitTable};

/// Closeness coefficients `C_i`, one per unit, using `weights` (checked and
/// scaled to sum 1 first).
pub fn closeness(
    table: &UnitTable,
    directions: &[Direction],
    weights: &[f64],
) -> Result<Vec<f64>, EvaluationError> {
    let weights = normalise::check_weights(&table.indicators, weights)?;
    let n = table.unit_count();
    let mut to_ideal = vec![0.0; n];
    let mut to_anti_ideal = vec![0.0; n];
    for (j, &w) in weights.iter().enumerate() {
        let column = table.column(j);
        let norm = column.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm == 0.0 || w == 0.0 {
            continue;
        }
        let scale = w / norm;
        let weighted: Vec<f64> = column.iter().map(|x| x * scale).collect();
        let (lo, hi) = weighted
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        let (ideal, anti_ideal) = match directions.get(j).copied().unwrap_or(Direction::Benefit) {
            Direction::Benefit => (hi, lo),
            Direction::Cost => (lo, hi),
        };
        for (i, v) in weighted.into_iter().enumerate() {
            to_ideal[i] += (v - ideal) * (v - ideal);
            to_anti_ideal[i] += (v - anti_ideal) * (v - anti_ideal);
        }
    }
    let mut scores = Vec::with_capacity(n);
    for (plus, minus) in to_ideal.into_iter().zip(to_anti_ideal) {
        let (plus, minus) = (plus.sqrt(), minus.sqrt());
        let total = plus + minus;
        if total == 0.0 {
            return Err(EvaluationError::AllUnitsIdentical);
        }
        scores.push(minus / total);
    }
    Ok(scores)
}

/// Equal weights, `1/k` for each of `k` indicators: the default when none
/// are given.
pub fn equal_weights(indicators: usize) -> Vec<f64> {
    vec![1.0 / indicators as f64; indicators]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_units_are_an_error() {
        let table = UnitTable {
            indicators: vec!["a".into(), "b".into()],
            units: vec!["x".into(), "y".into()],
            values: vec![vec![1.0, 2.0], vec![1.0, 2.0]],
        };
        assert_eq!(
            closeness(&table, &[Direction::Benefit; 2], &equal_weights(2)),
            Err(EvaluationError::AllUnitsIdentical)
        );
    }

    #[test]
    fn a_zero_weight_indicator_is_ignored() {
        // The units differ only on "b", which has weight 0, so they are
        // identical as far as the ranking is concerned.
        let table = UnitTable {
            indicators: vec!["a".into(), "b".into()],
            units: vec!["x".into(), "y".into()],
            values: vec![vec![1.0, 2.0], vec![1.0, 3.0]],
        };
        assert_eq!(
            closeness(&table, &[Direction::Benefit; 2], &[1.0, 0.0]),
            Err(EvaluationError::AllUnitsIdentical)
        );
    }

    #[test]
    fn best_and_worst_of_two_score_one_and_zero() {
        let table = UnitTable {
            indicators: vec!["jobs".into(), "cost".into()],
            units: vec!["x".into(), "y".into()],
            values: vec![vec![10.0, 1.0], vec![5.0, 2.0]],
        };
        let c = closeness(
            &table,
            &[Direction::Benefit, Direction::Cost],
            &equal_weights(2),
        )
        .expect("distinct units");
        assert_eq!(c, [1.0, 0.0]);
    }
}
