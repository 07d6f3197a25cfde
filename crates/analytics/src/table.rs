//! The unit × indicator table every method works on, and the parser for the
//! `units.csv` text analysts export from their spreadsheets.
//!
//! Parsing is strict on purpose: a silently skipped cell would change every
//! unit's score, so each problem is reported with its line, column and the
//! text found.

use std::collections::HashSet;

use crate::error::EvaluationError;

/// Whether more of an indicator is better or worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// More is better (jobs created, school places).
    Benefit,
    /// Less is better (cost per job, days to approve).
    Cost,
}

/// Units (rows) scored on indicators (columns); `values[i][j]` is unit `i`
/// on indicator `j`.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitTable {
    /// Indicator names, in column order.
    pub indicators: Vec<String>,
    /// Unit names, in row order.
    pub units: Vec<String>,
    /// One row per unit, one value per indicator.
    pub values: Vec<Vec<f64>>,
}

/// Parses `units.csv` text: a header `unit,<indicator>,…` and one row of
/// numbers per unit.
///
/// A UTF-8 byte-order mark (as Excel writes) is ignored, cells are trimmed
/// and blank lines are skipped.
pub fn parse_units(text: &str) -> Result<UnitTable, EvaluationError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut records = reader.records();

    let header = match records.next() {
        None => return Err(EvaluationError::EmptyInput),
        Some(record) => record.map_err(csv_error)?,
    };
    let first = header.get(0).unwrap_or("");
    if !first.eq_ignore_ascii_case("unit") {
        return Err(EvaluationError::BadHeader {
            found: first.to_string(),
        });
    }
    let mut indicators = Vec::with_capacity(header.len().saturating_sub(1));
    let mut seen = HashSet::new();
    for (position, name) in header.iter().enumerate().skip(1) {
        if name.is_empty() {
            return Err(EvaluationError::BlankColumnName {
                position: position + 1,
            });
        }
        if !seen.insert(name) || name.eq_ignore_ascii_case("unit") {
            return Err(EvaluationError::DuplicateColumn {
                column: name.to_string(),
            });
        }
        indicators.push(name.to_string());
    }
    if indicators.is_empty() {
        return Err(EvaluationError::NoIndicators);
    }

    let mut units = Vec::new();
    let mut values = Vec::new();
    let mut unit_names = HashSet::new();
    for record in records {
        let record = record.map_err(csv_error)?;
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(str::is_empty) {
            continue;
        }
        let unit = record.get(0).unwrap_or("");
        if unit.is_empty() {
            return Err(EvaluationError::MissingUnitName { line });
        }
        if record.len() > indicators.len() + 1 {
            return Err(EvaluationError::ExtraValues {
                line,
                found: record.len(),
                expected: indicators.len() + 1,
            });
        }
        let mut row = Vec::with_capacity(indicators.len());
        for (j, column) in indicators.iter().enumerate() {
            let cell = record.get(j + 1).unwrap_or("");
            row.push(parse_cell(cell, line, column)?);
        }
        if !unit_names.insert(unit.to_string()) {
            return Err(EvaluationError::DuplicateUnit {
                line,
                unit: unit.to_string(),
            });
        }
        units.push(unit.to_string());
        values.push(row);
    }
    if units.len() < 2 {
        return Err(EvaluationError::TooFewUnits { count: units.len() });
    }
    Ok(UnitTable {
        indicators,
        units,
        values,
    })
}

fn parse_cell(cell: &str, line: u64, column: &str) -> Result<f64, EvaluationError> {
    if cell.is_empty() {
        return Err(EvaluationError::MissingValue {
            line,
            column: column.to_string(),
        });
    }
    let value: f64 = cell.parse().map_err(|_| EvaluationError::NotANumber {
        line,
        column: column.to_string(),
        value: cell.to_string(),
    })?;
    // Rust's parser accepts "NaN" and "inf"; an evaluation can do nothing
    // sensible with them, so they are refused at the door.
    if !value.is_finite() {
        return Err(EvaluationError::NonFinite {
            line,
            column: column.to_string(),
            value: cell.to_string(),
        });
    }
    Ok(value)
}

fn csv_error(err: csv::Error) -> EvaluationError {
    let line = err.position().map_or(0, |p| p.line());
    EvaluationError::MalformedCsv {
        line,
        detail: err.to_string(),
    }
}

impl UnitTable {
    /// Number of units (rows).
    pub fn unit_count(&self) -> usize {
        self.units.len()
    }

    /// Position of the indicator called `name`.
    pub fn index_of(&self, name: &str) -> Result<usize, EvaluationError> {
        self.indicators
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| EvaluationError::UnknownColumn {
                column: name.to_string(),
            })
    }

    /// A table with only the named columns, in the order given.
    pub fn select<S: AsRef<str>>(&self, names: &[S]) -> Result<UnitTable, EvaluationError> {
        let indices = self.indices_of(names)?;
        if indices.is_empty() {
            return Err(EvaluationError::NoIndicators);
        }
        Ok(UnitTable {
            indicators: indices
                .iter()
                .map(|&j| self.indicators[j].clone())
                .collect(),
            units: self.units.clone(),
            values: self
                .values
                .iter()
                .map(|row| indices.iter().map(|&j| row[j]).collect())
                .collect(),
        })
    }

    /// Positions of the named columns; unknown or repeated names are errors.
    pub fn indices_of<S: AsRef<str>>(&self, names: &[S]) -> Result<Vec<usize>, EvaluationError> {
        let mut seen = HashSet::new();
        names
            .iter()
            .map(|name| {
                let name = name.as_ref();
                if !seen.insert(name) {
                    return Err(EvaluationError::DuplicateColumn {
                        column: name.to_string(),
                    });
                }
                self.index_of(name)
            })
            .collect()
    }

    /// One direction per indicator: `Cost` for those named in `cost`,
    /// `Benefit` for the rest.
    pub fn directions<S: AsRef<str>>(&self, cost: &[S]) -> Result<Vec<Direction>, EvaluationError> {
        let mut directions = vec![Direction::Benefit; self.indicators.len()];
        for j in self.indices_of(cost)? {
            directions[j] = Direction::Cost;
        }
        Ok(directions)
    }

    /// The values of indicator `j` for every unit, in unit order.
    pub fn column(&self, j: usize) -> Vec<f64> {
        self.values.iter().map(|row| row[j]).collect()
    }

    /// Checks what [`parse_units`] guarantees, for tables built by hand:
    /// at least one indicator, at least two units, unique names, rectangular
    /// finite values.
    pub fn validate(&self) -> Result<(), EvaluationError> {
        if self.indicators.is_empty() {
            return Err(EvaluationError::NoIndicators);
        }
        let mut seen = HashSet::new();
        for name in &self.indicators {
            if !seen.insert(name.as_str()) {
                return Err(EvaluationError::DuplicateColumn {
                    column: name.clone(),
                });
            }
        }
        if self.units.len() < 2 {
            return Err(EvaluationError::TooFewUnits {
                count: self.units.len(),
            });
        }
        if self.values.len() != self.units.len() {
            return Err(EvaluationError::InconsistentTable {
                detail: format!(
                    "{} units but {} rows of values",
                    self.units.len(),
                    self.values.len()
                ),
            });
        }
        let mut seen = HashSet::new();
        for (i, (unit, row)) in self.units.iter().zip(&self.values).enumerate() {
            // Line numbers as in the CSV file: the header is line 1.
            let line = i as u64 + 2;
            if !seen.insert(unit.as_str()) {
                return Err(EvaluationError::DuplicateUnit {
                    line,
                    unit: unit.clone(),
                });
            }
            if row.len() != self.indicators.len() {
                return Err(EvaluationError::InconsistentTable {
                    detail: format!(
                        "unit \"{unit}\" has {} values for {} indicators",
                        row.len(),
                        self.indicators.len()
                    ),
                });
            }
            for (value, column) in row.iter().zip(&self.indicators) {
                if !value.is_finite() {
                    return Err(EvaluationError::NonFinite {
                        line,
                        column: column.clone(),
                        value: value.to_string(),
                    });
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
    fn parses_header_units_and_values() {
        let table =
            parse_units("\u{feff}unit, jobs ,cost\nA,1,2.5\n\nB, 3 ,-4e1\n").expect("valid table");
        assert_eq!(table.indicators, ["jobs", "cost"]);
        assert_eq!(table.units, ["A", "B"]);
        assert_eq!(table.values, [vec![1.0, 2.5], vec![3.0, -40.0]]);
    }

    #[test]
    fn select_keeps_the_requested_order() {
        let table = parse_units("unit,a,b,c\nX,1,2,3\nY,4,5,6\n").expect("valid table");
        let picked = table.select(&["c", "a"]).expect("known columns");
        assert_eq!(picked.indicators, ["c", "a"]);
        assert_eq!(picked.values, [vec![3.0, 1.0], vec![6.0, 4.0]]);
        assert_eq!(
            table.select(&["d"]),
            Err(EvaluationError::UnknownColumn { column: "d".into() })
        );
    }

    #[test]
    fn line_numbers_count_the_header_as_line_one() {
        let err = parse_units("unit,a\nX,1\nY,oops\n").expect_err("bad cell");
        assert_eq!(
            err,
            EvaluationError::NotANumber {
                line: 3,
                column: "a".into(),
                value: "oops".into()
            }
        );
    }
}
