//! Analytic hierarchy process (层次分析法): weights from an expert's
//! pairwise-comparison matrix, with Saaty's consistency check.
//!
//! The weights are the principal (Perron) eigenvector of the positive
//! reciprocal matrix `A`, found by power iteration until successive
//! iterates differ by less than 1e-12, and scaled to sum to 1. Then
//! `λmax = Σ_i (A w)_i`, `CI = (λmax − n)/(n − 1)` and `CR = CI/RI(n)` with
//! Saaty's random index. Judgements with `CR ≥ 0.1` are rejected. For
//! `n ≤ 2` every reciprocal matrix is consistent and `CR = 0`.

use serde::Serialize;

use crate::error::EvaluationError;

/// Saaty's random consistency index RI for n = 1..=15.
pub const RANDOM_INDEX: [f64; 15] = [
    0.0, 0.0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49, 1.51, 1.48, 1.56, 1.57, 1.59,
];

/// Largest matrix Saaty's RI table covers.
pub const MAX_CRITERIA: usize = RANDOM_INDEX.len();

/// Consistency ratios at or above this are rejected.
pub const MAX_CONSISTENCY_RATIO: f64 = 0.1;

/// How far `a_ij · a_ji` may stray from 1, so that judgements typed as
/// decimals (0.333333 for 1/3) are still accepted.
const RECIPROCAL_TOLERANCE: f64 = 1e-6;

/// Power iteration stops when no weight moves by more than this.
const CONVERGENCE: f64 = 1e-12;

/// Enough for any positive 15 × 15 matrix: convergence is geometric with
/// ratio |λ₂/λmax| < 1, and for judgement matrices it is far below 1.
const MAX_ITERATIONS: usize = 100_000;

/// A pairwise-comparison matrix: `values[i][j]` says how much more
/// important criterion `i` is than criterion `j`.
#[derive(Debug, Clone, PartialEq)]
pub struct PairwiseMatrix {
    /// Criterion names, when the CSV had a header row or a name column.
    pub names: Option<Vec<String>>,
    /// The judgements, row by row.
    pub values: Vec<Vec<f64>>,
}

/// The outcome of analysing a pairwise matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct AhpOutcome {
    /// Priority weights, summing to 1.
    pub weights: Vec<f64>,
    /// Consistency figures.
    pub consistency: Consistency,
}

/// Saaty's consistency figures for one matrix.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Consistency {
    /// Principal eigenvalue λmax.
    pub lambda_max: f64,
    /// Consistency index (λmax − n)/(n − 1).
    pub ci: f64,
    /// Consistency ratio CI/RI.
    pub cr: f64,
}

impl PairwiseMatrix {
    /// Parses CSV text, optionally with a header row and a first column of
    /// criterion names; cells may be decimals or fractions such as `1/3`.
    pub fn parse(text: &str) -> Result<PairwiseMatrix, EvaluationError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let mut rows: Vec<(u64, Vec<String>)> = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|err| EvaluationError::MalformedCsv {
                line: err.position().map_or(0, |p| p.line()),
                detail: err.to_string(),
            })?;
            if record.iter().all(str::is_empty) {
                continue;
            }
            let line = record.position().map_or(0, |p| p.line());
            rows.push((line, record.iter().map(str::to_string).collect()));
        }
        if rows.is_empty() {
            return Err(EvaluationError::AhpMatrixEmpty);
        }

        // A first row whose cells after the first are all non-numbers is a
        // header (its first cell may be a corner label or a name); a single
        // stray word among numbers is a typo, reported as a bad value.
        let is_word = |cell: &String| parse_judgement(cell).is_none();
        let first = &rows[0].1;
        let header = if (first.len() > 1 && first[1..].iter().all(is_word))
            || (first.len() == 1 && is_word(&first[0]))
        {
            Some(rows.remove(0).1)
        } else {
            None
        };
        if rows.is_empty() {
            return Err(EvaluationError::AhpMatrixEmpty);
        }
        // Likewise the first column holds names only if every row starts
        // with one.
        let named_rows = rows.iter().all(|(_, cells)| is_word(&cells[0]));

        let n = rows.len();
        let mut names = Vec::with_capacity(n);
        let mut values = Vec::with_capacity(n);
        for (row_index, (line, cells)) in rows.iter().enumerate() {
            let skip = usize::from(named_rows);
            if named_rows {
                names.push(cells[0].clone());
            }
            let body = &cells[skip..];
            if body.len() != n {
                return Err(EvaluationError::AhpNotSquare {
                    row: row_index + 1,
                    found: body.len(),
                    expected: n,
                });
            }
            let row = body
                .iter()
                .enumerate()
                .map(|(k, cell)| {
                    parse_judgement(cell).ok_or_else(|| EvaluationError::AhpBadValue {
                        line: *line,
                        position: k + skip + 1,
                        value: cell.clone(),
                    })
                })
                .collect::<Result<Vec<f64>, _>>()?;
            values.push(row);
        }

        let names = match header {
            None if named_rows => Some(names),
            None => None,
            Some(header) => {
                // The header may or may not have a corner cell.
                let header_names: Vec<String> = if header.len() == n + 1 {
                    header[1..].to_vec()
                } else if header.len() == n {
                    header
                } else {
                    return Err(EvaluationError::AhpHeaderLength {
                        found: header.len(),
                        expected: n,
                    });
                };
                if named_rows {
                    for (position, (h, r)) in header_names.iter().zip(&names).enumerate() {
                        if h != r {
                            return Err(EvaluationError::AhpHeaderMismatch {
                                position: position + 1,
                                header: h.clone(),
                                row: r.clone(),
                            });
                        }
                    }
                }
                Some(header_names)
            }
        };
        Ok(PairwiseMatrix { names, values })
    }

    /// Number of criteria.
    pub fn size(&self) -> usize {
        self.values.len()
    }

    /// Name of criterion `i`, or its 1-based position when unnamed.
    fn name(&self, i: usize) -> String {
        self.names
            .as_ref()
            .and_then(|names| names.get(i).cloned())
            .unwrap_or_else(|| (i + 1).to_string())
    }

    /// Checks the matrix is square, positive, reciprocal and at most 15 × 15.
    pub fn validate(&self) -> Result<(), EvaluationError> {
        let n = self.size();
        if n == 0 {
            return Err(EvaluationError::AhpMatrixEmpty);
        }
        if n > MAX_CRITERIA {
            return Err(EvaluationError::AhpTooLarge { size: n });
        }
        for (i, row) in self.values.iter().enumerate() {
            if row.len() != n {
                return Err(EvaluationError::AhpNotSquare {
                    row: i + 1,
                    found: row.len(),
                    expected: n,
                });
            }
        }
        for (i, row) in self.values.iter().enumerate() {
            for (j, &value) in row.iter().enumerate() {
                if !(value > 0.0 && value.is_finite()) {
                    return Err(EvaluationError::AhpNotPositive {
                        row: self.name(i),
                        column: self.name(j),
                        value,
                    });
                }
            }
        }
        for i in 0..n {
            // j = i checks the diagonal: a_ii² = 1 with a_ii > 0 forces 1.
            for j in i..n {
                let (value, mirror) = (self.values[i][j], self.values[j][i]);
                if (value * mirror - 1.0).abs() > RECIPROCAL_TOLERANCE {
                    return Err(EvaluationError::AhpNotReciprocal {
                        row: self.name(i),
                        column: self.name(j),
                        value,
                        mirror,
                        expected: 1.0 / value,
                    });
                }
            }
        }
        Ok(())
    }
}

/// A judgement cell: a decimal or a fraction `a/b`.
fn parse_judgement(cell: &str) -> Option<f64> {
    let value = match cell.split_once('/') {
        Some((num, den)) => {
            let num: f64 = num.trim().parse().ok()?;
            let den: f64 = den.trim().parse().ok()?;
            num / den
        }
        None => cell.parse().ok()?,
    };
    value.is_finite().then_some(value)
}

/// Weights and consistency of a valid pairwise matrix, without rejecting
/// inconsistent judgements (see [`AhpOutcome::require_consistent`]).
pub fn analyse(matrix: &PairwiseMatrix) -> Result<AhpOutcome, EvaluationError> {
    matrix.validate()?;
    let a = &matrix.values;
    let n = a.len();
    let mut w = vec![1.0 / n as f64; n];
    let mut lambda_max = f64::NAN;
    let mut converged = false;
    for _ in 0..MAX_ITERATIONS {
        let mut next: Vec<f64> = a
            .iter()
            .map(|row| row.iter().zip(&w).map(|(a_ij, w_j)| a_ij * w_j).sum())
            .collect();
        // With Σ w = 1, Σ (A w)_i tends to λmax as w tends to the Perron
        // vector, since then A w = λmax w.
        let total: f64 = next.iter().sum();
        for x in &mut next {
            *x /= total;
        }
        let change = next
            .iter()
            .zip(&w)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max);
        w = next;
        lambda_max = total;
        if change < CONVERGENCE {
            converged = true;
            break;
        }
    }
    if !converged || !lambda_max.is_finite() || w.iter().any(|x| !x.is_finite()) {
        return Err(EvaluationError::AhpNotConverged);
    }
    let consistency = if n <= 2 {
        Consistency {
            lambda_max,
            ci: 0.0,
            cr: 0.0,
        }
    } else {
        // λmax ≥ n holds for every positive reciprocal matrix (Saaty); a
        // value a hair below n is rounding, so CI is clamped at 0.
        let ci = ((lambda_max - n as f64) / (n as f64 - 1.0)).max(0.0);
        Consistency {
            lambda_max,
            ci,
            cr: ci / RANDOM_INDEX[n - 1],
        }
    };
    Ok(AhpOutcome {
        weights: w,
        consistency,
    })
}

impl AhpOutcome {
    /// Passes the outcome through if `CR < 0.1`, else an error showing CR.
    pub fn require_consistent(self) -> Result<AhpOutcome, EvaluationError> {
        if self.consistency.cr >= MAX_CONSISTENCY_RATIO {
            return Err(EvaluationError::AhpInconsistent {
                cr: self.consistency.cr,
            });
        }
        Ok(self)
    }
}

/// Parses, validates and analyses a matrix, rejecting `CR ≥ 0.1`.
pub fn consistent_weights(text: &str) -> Result<AhpOutcome, EvaluationError> {
    analyse(&PairwiseMatrix::parse(text)?)?.require_consistent()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_named_and_headed_matrices() {
        let plain = PairwiseMatrix::parse("1,3\n1/3,1\n").expect("plain");
        assert_eq!(plain.names, None);
        assert_eq!(plain.values, [vec![1.0, 3.0], vec![1.0 / 3.0, 1.0]]);

        let headed = PairwiseMatrix::parse(",jobs,cost\njobs,1,2\ncost,0.5,1\n").expect("headed");
        assert_eq!(headed.names, Some(vec!["jobs".into(), "cost".into()]));
        assert_eq!(headed.values, [vec![1.0, 2.0], vec![0.5, 1.0]]);

        let header_only = PairwiseMatrix::parse("jobs,cost\n1,2\n1/2,1\n").expect("header");
        assert_eq!(header_only.names, Some(vec!["jobs".into(), "cost".into()]));

        let rows_only = PairwiseMatrix::parse("jobs,1,2\ncost,1/2,1\n").expect("rows");
        assert_eq!(rows_only.names, Some(vec!["jobs".into(), "cost".into()]));
    }

    #[test]
    fn header_and_row_names_must_agree() {
        assert_eq!(
            PairwiseMatrix::parse(",a,b\na,1,2\nc,1/2,1\n"),
            Err(EvaluationError::AhpHeaderMismatch {
                position: 2,
                header: "b".into(),
                row: "c".into()
            })
        );
    }

    #[test]
    fn a_single_criterion_has_weight_one() {
        let outcome = analyse(&PairwiseMatrix {
            names: None,
            values: vec![vec![1.0]],
        })
        .expect("1 x 1");
        assert_eq!(outcome.weights, [1.0]);
        assert_eq!(outcome.consistency.cr, 0.0);
    }
}
