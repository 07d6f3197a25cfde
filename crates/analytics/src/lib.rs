//! Comprehensive-benefit evaluation (综合效益评价) for Yuanjiang: scores and
//! ranks units (pairings, counties, supporters) against an indicator system.
//!
//! Methods, with the formulas in each module's documentation:
//! * [`entropy`] — entropy weight method (熵权法), objective weights;
//! * [`ahp`] — analytic hierarchy process (层次分析法), expert weights with a
//!   consistency check;
//! * [`topsis`] — closeness to the ideal unit, with given, equal or entropy
//!   weights;
//! * [`dea`] — data envelopment analysis, CCR and BCC, input- or
//!   output-oriented, one linear programme per unit.
//!
//! The library does no I/O: it parses text it is given ([`parse_units`],
//! [`ahp::PairwiseMatrix::parse`]) and returns plain values. The CLI and the
//! server call [`evaluate`] and serialise its [`EvaluationResult`] to JSON.
//! Every failure is an [`EvaluationError`] with a stable code and messages
//! in Chinese and English; no result ever contains NaN or infinity.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod ahp;
pub mod dea;
pub mod entropy;
mod error;
pub mod normalise;
pub mod rank;
mod report;
mod table;
pub mod topsis;

pub use dea::Orientation;
pub use error::EvaluationError;
pub use report::{DeaReport, DeaUnit, EvaluationResult, ScoreReport, UnitScore, Weights};
pub use table::{Direction, UnitTable, parse_units};

/// An evaluation method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Entropy weights; score `Σ w_j x'_ij` on min-max-normalised data.
    Entropy,
    /// AHP weights from a pairwise matrix; score as for entropy.
    Ahp,
    /// TOPSIS with given weights, or equal weights if none are given.
    Topsis,
    /// TOPSIS with entropy weights.
    EntropyTopsis,
    /// DEA under constant returns to scale.
    DeaCcr,
    /// DEA under variable returns to scale.
    DeaBcc,
}

impl Method {
    /// Every method, in the order the CLI lists them.
    pub const ALL: [Method; 6] = [
        Method::Entropy,
        Method::Ahp,
        Method::Topsis,
        Method::EntropyTopsis,
        Method::DeaCcr,
        Method::DeaBcc,
    ];

    /// Parses a method name such as `entropy-topsis`.
    pub fn parse(text: &str) -> Result<Method, EvaluationError> {
        let wanted = text.trim().to_ascii_lowercase();
        Method::ALL
            .into_iter()
            .find(|m| m.as_str() == wanted)
            .ok_or_else(|| EvaluationError::UnknownMethod {
                method: text.to_string(),
            })
    }

    /// The method's name in requests and results.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Entropy => "entropy",
            Method::Ahp => "ahp",
            Method::Topsis => "topsis",
            Method::EntropyTopsis => "entropy-topsis",
            Method::DeaCcr => "dea-ccr",
            Method::DeaBcc => "dea-bcc",
        }
    }

    /// True for the two DEA methods.
    pub fn is_dea(self) -> bool {
        matches!(self, Method::DeaCcr | Method::DeaBcc)
    }
}

impl std::str::FromStr for Method {
    type Err = EvaluationError;

    fn from_str(text: &str) -> Result<Method, EvaluationError> {
        Method::parse(text)
    }
}

/// What to evaluate and how; options a method does not use must be left
/// empty (they are refused rather than silently ignored).
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluationRequest {
    /// The method.
    pub method: Method,
    /// Cost-type indicators (less is better); the rest are benefit-type.
    /// Not for DEA.
    pub cost: Vec<String>,
    /// TOPSIS only: one weight per indicator, ≥ 0, scaled to sum 1.
    pub weights: Option<Vec<f64>>,
    /// AHP only: the pairwise-comparison matrix as CSV text.
    pub ahp_matrix: Option<String>,
    /// DEA only: input columns.
    pub inputs: Vec<String>,
    /// DEA only: output columns.
    pub outputs: Vec<String>,
    /// DEA only: orientation (input by default).
    pub orientation: Orientation,
}

impl EvaluationRequest {
    /// A request for `method` with every option empty.
    pub fn new(method: Method) -> EvaluationRequest {
        EvaluationRequest {
            method,
            cost: Vec::new(),
            weights: None,
            ahp_matrix: None,
            inputs: Vec::new(),
            outputs: Vec::new(),
            orientation: Orientation::Input,
        }
    }

    fn check_options(&self) -> Result<(), EvaluationError> {
        let method = self.method;
        let refuse = |option| EvaluationError::OptionNotApplicable {
            option,
            method: method.as_str(),
        };
        if self.weights.is_some() && method != Method::Topsis {
            return Err(refuse("weights"));
        }
        if self.ahp_matrix.is_some() && method != Method::Ahp {
            return Err(refuse("ahp_matrix"));
        }
        if method.is_dea() {
            if !self.cost.is_empty() {
                return Err(refuse("cost"));
            }
        } else {
            if !self.inputs.is_empty() {
                return Err(refuse("inputs"));
            }
            if !self.outputs.is_empty() {
                return Err(refuse("outputs"));
            }
            if self.orientation != Orientation::Input {
                return Err(refuse("orientation"));
            }
        }
        Ok(())
    }
}

/// Runs the requested method on a table: the one entry point for the CLI
/// and the server.
pub fn evaluate(
    table: &UnitTable,
    request: &EvaluationRequest,
) -> Result<EvaluationResult, EvaluationError> {
    table.validate()?;
    request.check_options()?;
    let directions = || table.directions(&request.cost);
    let result = match request.method {
        Method::DeaCcr | Method::DeaBcc => EvaluationResult::Dea(dea_report(table, request)?),
        Method::Entropy => {
            let (weights, scores) = entropy::weights_and_scores(table, &directions()?)?;
            score_report(table, request, weights, scores, None)
        }
        Method::Ahp => {
            let text = request
                .ahp_matrix
                .as_deref()
                .ok_or(EvaluationError::AhpMatrixMissing)?;
            let matrix = ahp::PairwiseMatrix::parse(text)?;
            // Matching criteria to indicators first: a matrix for the wrong
            // table should be reported as such, not as inconsistent.
            let columns_of_criteria = ahp_criteria_columns(table, &matrix)?;
            let outcome = ahp::analyse(&matrix)?.require_consistent()?;
            let mut weights = vec![0.0; table.indicators.len()];
            for (&j, &w) in columns_of_criteria.iter().zip(&outcome.weights) {
                weights[j] = w;
            }
            let columns = normalise::min_max(table, &directions()?)?;
            let scores = normalise::weighted_sum(&columns, &weights);
            score_report(table, request, weights, scores, Some(outcome.consistency))
        }
        Method::Topsis => {
            let weights = match &request.weights {
                Some(given) => normalise::check_weights(&table.indicators, given)?,
                None => topsis::equal_weights(table.indicators.len()),
            };
            let scores = topsis::closeness(table, &directions()?, &weights)?;
            score_report(table, request, weights, scores, None)
        }
        Method::EntropyTopsis => {
            let directions = directions()?;
            let weights = entropy::weights(table, &directions)?;
            let scores = topsis::closeness(table, &directions, &weights)?;
            score_report(table, request, weights, scores, None)
        }
    };
    result.ensure_finite()?;
    Ok(result)
}

fn score_report(
    table: &UnitTable,
    request: &EvaluationRequest,
    weights: Vec<f64>,
    scores: Vec<f64>,
    consistency: Option<ahp::Consistency>,
) -> EvaluationResult {
    let ranks = rank::competition_ranks(&scores);
    EvaluationResult::Scores(ScoreReport {
        method: request.method.as_str(),
        weights: Weights(table.indicators.iter().cloned().zip(weights).collect()),
        consistency,
        units: table
            .units
            .iter()
            .zip(scores)
            .zip(ranks)
            .map(|((unit, score), rank)| UnitScore {
                unit: unit.clone(),
                score,
                rank,
            })
            .collect(),
    })
}

/// The table column of each criterion of the matrix: by name when the
/// matrix names its criteria, else by position.
fn ahp_criteria_columns(
    table: &UnitTable,
    matrix: &ahp::PairwiseMatrix,
) -> Result<Vec<usize>, EvaluationError> {
    let k = table.indicators.len();
    if matrix.size() != k {
        return Err(EvaluationError::AhpSizeMismatch {
            matrix: matrix.size(),
            indicators: k,
        });
    }
    let Some(names) = &matrix.names else {
        return Ok((0..k).collect());
    };
    let mut seen = vec![false; k];
    names
        .iter()
        .map(|name| {
            let j = table
                .index_of(name)
                .map_err(|_| EvaluationError::AhpUnknownCriterion { name: name.clone() })?;
            if std::mem::replace(&mut seen[j], true) {
                return Err(EvaluationError::DuplicateColumn {
                    column: name.clone(),
                });
            }
            Ok(j)
        })
        .collect()
}

fn dea_report(
    table: &UnitTable,
    request: &EvaluationRequest,
) -> Result<DeaReport, EvaluationError> {
    let scores = dea::scores(
        table,
        &request.inputs,
        &request.outputs,
        request.orientation,
    )?;
    Ok(DeaReport {
        method: request.method.as_str(),
        orientation: request.orientation.as_str(),
        units: table
            .units
            .iter()
            .zip(scores)
            .map(|(unit, s)| DeaUnit {
                unit: unit.clone(),
                efficiency: if request.method == Method::DeaBcc {
                    s.bcc
                } else {
                    s.ccr
                },
                ccr: s.ccr,
                bcc: s.bcc,
                scale: s.scale,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_names_round_trip() {
        for m in Method::ALL {
            assert_eq!(Method::parse(m.as_str()), Ok(m));
        }
        assert_eq!(Method::parse(" Entropy-TOPSIS "), Ok(Method::EntropyTopsis));
        assert_eq!(
            Method::parse("vikor"),
            Err(EvaluationError::UnknownMethod {
                method: "vikor".into()
            })
        );
    }

    #[test]
    fn options_a_method_does_not_use_are_refused() {
        let table = parse_units("unit,a,b\nX,1,2\nY,2,1\n").expect("valid");
        let mut request = EvaluationRequest::new(Method::Entropy);
        request.weights = Some(vec![0.5, 0.5]);
        assert_eq!(
            evaluate(&table, &request),
            Err(EvaluationError::OptionNotApplicable {
                option: "weights",
                method: "entropy"
            })
        );
    }
}
