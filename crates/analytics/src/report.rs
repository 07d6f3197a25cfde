//! What an evaluation returns, shaped for JSON.
//!
//! Field names are part of the CLI and API contract. Weights are a JSON
//! object in indicator order; serde_json's `preserve_order` feature is not
//! available to us, so [`Weights`] serialises its pairs as a map by hand.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use crate::ahp::Consistency;
use crate::error::EvaluationError;

/// Indicator weights in indicator order, serialised as `{name: weight}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Weights(pub Vec<(String, f64)>);

impl Serialize for Weights {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, weight) in &self.0 {
            map.serialize_entry(name, weight)?;
        }
        map.end()
    }
}

/// One unit's score and rank.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitScore {
    /// The unit's name.
    pub unit: String,
    /// The method's score (higher is better).
    pub score: f64,
    /// 1 for the best; ties share the lower number.
    pub rank: usize,
}

/// Result of a weighting or TOPSIS method.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreReport {
    /// `entropy`, `ahp`, `topsis` or `entropy-topsis`.
    pub method: &'static str,
    /// The weights used, summing to 1.
    pub weights: Weights,
    /// AHP only: λmax, CI and CR of the pairwise matrix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consistency: Option<Consistency>,
    /// Units in input order.
    pub units: Vec<UnitScore>,
}

/// One unit's DEA efficiencies.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeaUnit {
    /// The unit's name.
    pub unit: String,
    /// Efficiency under the requested model (`ccr` or `bcc`).
    pub efficiency: f64,
    /// CCR efficiency.
    pub ccr: f64,
    /// BCC efficiency.
    pub bcc: f64,
    /// Scale efficiency `ccr / bcc`.
    pub scale: f64,
}

/// Result of a DEA method.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeaReport {
    /// `dea-ccr` or `dea-bcc`.
    pub method: &'static str,
    /// `input` or `output`.
    pub orientation: &'static str,
    /// Units in input order.
    pub units: Vec<DeaUnit>,
}

/// The result of [`crate::evaluate`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum EvaluationResult {
    /// Entropy, AHP, TOPSIS or entropy-TOPSIS scores.
    Scores(ScoreReport),
    /// DEA efficiencies.
    Dea(DeaReport),
}

impl EvaluationResult {
    /// Refuses to hand out NaN or infinity anywhere in the result.
    pub(crate) fn ensure_finite(&self) -> Result<(), EvaluationError> {
        let bad = |what: &str, name: &str| EvaluationError::NonFiniteResult {
            detail: format!("{what} of \"{name}\""),
        };
        match self {
            EvaluationResult::Scores(report) => {
                for (name, w) in &report.weights.0 {
                    if !w.is_finite() {
                        return Err(bad("weight", name));
                    }
                }
                if let Some(c) = &report.consistency
                    && ![c.lambda_max, c.ci, c.cr].iter().all(|v| v.is_finite())
                {
                    return Err(EvaluationError::NonFiniteResult {
                        detail: "AHP consistency".to_string(),
                    });
                }
                for unit in &report.units {
                    if !unit.score.is_finite() {
                        return Err(bad("score", &unit.unit));
                    }
                }
            }
            EvaluationResult::Dea(report) => {
                for unit in &report.units {
                    if ![unit.efficiency, unit.ccr, unit.bcc, unit.scale]
                        .iter()
                        .all(|v| v.is_finite())
                    {
                        return Err(bad("efficiency", &unit.unit));
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_serialise_as_an_ordered_map() {
        let w = Weights(vec![("z".into(), 0.25), ("a".into(), 0.75)]);
        assert_eq!(
            serde_json::to_string(&w).expect("serialisable"),
            r#"{"z":0.25,"a":0.75}"#
        );
    }

    #[test]
    fn non_finite_scores_are_refused() {
        let result = EvaluationResult::Scores(ScoreReport {
            method: "entropy",
            weights: Weights(vec![("a".into(), 1.0)]),
            consistency: None,
            units: vec![UnitScore {
                unit: "x".into(),
                score: f64::NAN,
                rank: 1,
            }],
        });
        assert_eq!(
            result.ensure_finite(),
            Err(EvaluationError::NonFiniteResult {
                detail: "score of \"x\"".into()
            })
        );
    }
}
