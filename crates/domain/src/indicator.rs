//! Performance indicators (绩效指标): baseline, target and actual per period.
//! Indicator values are measurements (jobs, beds, scores), not money, so they
//! are `f64`; money never passes through here.

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// An indicator attached to a project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Indicator {
    /// Project code.
    pub project_code: String,
    /// Name, e.g. 新增就业岗位.
    pub name: String,
    /// Unit of measure, e.g. 人, 张, 套.
    pub unit: String,
    /// Value before the project.
    pub baseline: f64,
    /// Target value.
    pub target: f64,
}

/// An actual value for one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndicatorValue {
    /// Project code.
    pub project_code: String,
    /// Indicator name.
    pub name: String,
    /// `YYYY` for a year or `YYYY-MM` for a month.
    pub period: String,
    /// Measured value.
    pub actual: f64,
}

/// Checks a period string: `YYYY` or `YYYY-MM`.
pub fn validate_period(period: &str) -> Result<(), DomainError> {
    let ok = match period.split_once('-') {
        None => {
            period.len() == 4
                && period
                    .parse::<i32>()
                    .is_ok_and(|y| (2010..=2100).contains(&y))
        }
        Some((y, m)) => {
            y.len() == 4
                && m.len() == 2
                && y.parse::<i32>().is_ok_and(|y| (2010..=2100).contains(&y))
                && m.parse::<u32>().is_ok_and(|m| (1..=12).contains(&m))
        }
    };
    if ok {
        Ok(())
    } else {
        Err(DomainError::new(
            "invalid_period",
            format!("期间“{period}”无效：应为YYYY或YYYY-MM"),
            format!("period \"{period}\" is invalid: expected YYYY or YYYY-MM"),
        ))
    }
}

impl Indicator {
    /// Checks the name and that the numbers are finite.
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.name.trim().is_empty() || !self.baseline.is_finite() || !self.target.is_finite() {
            return Err(DomainError::new(
                "invalid_indicator",
                "指标名称不能为空，基期值和目标值应为有限数值",
                "indicator name is required, and baseline and target must be finite numbers",
            ));
        }
        Ok(())
    }
}

impl IndicatorValue {
    /// Checks the period and that the value is finite.
    pub fn validate(&self) -> Result<(), DomainError> {
        validate_period(&self.period)?;
        if !self.actual.is_finite() {
            return Err(DomainError::new(
                "invalid_indicator_value",
                "指标实际值应为有限数值",
                "the actual value must be a finite number",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods() {
        for good in ["2024", "2024-01", "2024-12"] {
            assert_eq!(validate_period(good), Ok(()), "{good}");
        }
        for bad in ["24", "2024-13", "2024-1", "1999", "abcd", "2024-00"] {
            assert!(validate_period(bad).is_err(), "{bad}");
        }
    }
}
