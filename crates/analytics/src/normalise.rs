//! Min-max normalisation, weight checking and weighted sums: the steps the
//! entropy and AHP scores share.
//!
//! Columns are handled as one `Vec<f64>` per indicator ("column-major")
//! because every step here walks one indicator over all units; with 100,000
//! units that keeps each pass on contiguous memory.

use crate::error::EvaluationError;
use crate::table::{Direction, UnitTable};

/// Min-max normalises every indicator to [0, 1], one `Vec` per indicator:
/// benefit `(x − min)/(max − min)`, cost `(max − x)/(max − min)`.
///
/// An indicator with `max = min` carries no information and would divide by
/// zero, so it is an error that names the indicator.
pub fn min_max(
    table: &UnitTable,
    directions: &[Direction],
) -> Result<Vec<Vec<f64>>, EvaluationError> {
    table
        .indicators
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let column = table.column(j);
            let (min, max) = column
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                    (lo.min(x), hi.max(x))
                });
            let range = max - min;
            // `range` can overflow to infinity for values near f64::MAX; the
            // finiteness check turns that into the same clear error rather
            // than a column of zeros.
            if !(range > 0.0 && range.is_finite()) {
                return Err(EvaluationError::ZeroVariance {
                    indicator: name.clone(),
                });
            }
            let direction = directions.get(j).copied().unwrap_or(Direction::Benefit);
            Ok(column
                .into_iter()
                .map(|x| match direction {
                    Direction::Benefit => (x - min) / range,
                    Direction::Cost => (max - x) / range,
                })
                .collect())
        })
        .collect()
}

/// Checks user weights (one per indicator, finite, ≥ 0, not all zero) and
/// scales them to sum to 1.
pub fn check_weights(indicators: &[String], weights: &[f64]) -> Result<Vec<f64>, EvaluationError> {
    if weights.len() != indicators.len() {
        return Err(EvaluationError::WeightCount {
            expected: indicators.len(),
            found: weights.len(),
        });
    }
    for (&value, name) in weights.iter().zip(indicators) {
        if !value.is_finite() || value < 0.0 {
            return Err(EvaluationError::InvalidWeight {
                indicator: name.clone(),
                value,
            });
        }
    }
    let total: f64 = weights.iter().sum();
    if !(total > 0.0 && total.is_finite()) {
        return Err(EvaluationError::ZeroWeights);
    }
    Ok(weights.iter().map(|w| w / total).collect())
}

/// Each unit's score `Σ_j w_j x'_ij` over normalised columns.
pub fn weighted_sum(columns: &[Vec<f64>], weights: &[f64]) -> Vec<f64> {
    let units = columns.first().map_or(0, Vec::len);
    let mut scores = vec![0.0; units];
    for (column, &w) in columns.iter().zip(weights) {
        for (score, &x) in scores.iter_mut().zip(column) {
            *score += w * x;
        }
    }
    scores
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(values: Vec<Vec<f64>>) -> UnitTable {
        UnitTable {
            indicators: (0..values[0].len()).map(|j| format!("x{j}")).collect(),
            units: (0..values.len()).map(|i| format!("u{i}")).collect(),
            values,
        }
    }

    #[test]
    fn benefit_and_cost_run_opposite_ways() {
        let t = table(vec![vec![1.0, 10.0], vec![2.0, 20.0], vec![5.0, 30.0]]);
        let columns = min_max(&t, &[Direction::Benefit, Direction::Cost]).expect("varied");
        assert_eq!(columns[0], [0.0, 0.25, 1.0]);
        assert_eq!(columns[1], [1.0, 0.5, 0.0]);
    }

    #[test]
    fn zero_variance_names_the_indicator() {
        let t = table(vec![vec![1.0, 7.0], vec![2.0, 7.0]]);
        assert_eq!(
            min_max(&t, &[Direction::Benefit; 2]),
            Err(EvaluationError::ZeroVariance {
                indicator: "x1".into()
            })
        );
    }

    #[test]
    fn weights_are_checked_and_scaled() {
        let names = vec!["a".to_string(), "b".to_string()];
        assert_eq!(check_weights(&names, &[1.0, 3.0]), Ok(vec![0.25, 0.75]));
        assert_eq!(
            check_weights(&names, &[1.0]),
            Err(EvaluationError::WeightCount {
                expected: 2,
                found: 1
            })
        );
        assert_eq!(
            check_weights(&names, &[1.0, -1.0]),
            Err(EvaluationError::InvalidWeight {
                indicator: "b".into(),
                value: -1.0
            })
        );
        assert_eq!(
            check_weights(&names, &[0.0, 0.0]),
            Err(EvaluationError::ZeroWeights)
        );
    }
}
