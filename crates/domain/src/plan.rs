//! Plans (规划/计划): five-year and annual, per supporter and recipient,
//! versioned so that adjustments (调整) keep the earlier versions, and the
//! pairings (结对关系) they rest on.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{DomainError, Fen, vocabulary};

vocabulary! {
    /// Scope of a pairing.
    PairingScope, "invalid_pairing_scope", "结对范围", "pairing scope" {
        Full = ("full", "全面对口支援", "full"),
        CadreOnly = ("cadre-only", "仅干部支援", "cadre only"),
    }
}

/// Who supports whom, and when (结对关系).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pairing {
    /// Supporter code.
    pub supporter_code: String,
    /// Recipient unit code.
    pub recipient_code: String,
    /// Full or cadre-only.
    pub scope: PairingScope,
    /// First day in force.
    pub valid_from: NaiveDate,
    /// Last day in force; `None` while it lasts.
    pub valid_to: Option<NaiveDate>,
    /// `reported` (found in published news) or `unverified`.
    pub confidence: String,
}

impl Pairing {
    /// Checks that the period is not reversed.
    pub fn validate(&self) -> Result<(), DomainError> {
        match self.valid_to {
            Some(to) if to < self.valid_from => Err(DomainError::new(
                "pairing_period_reversed",
                "结对关系的终止日期早于起始日期",
                "the pairing ends before it starts",
            )),
            _ => Ok(()),
        }
    }

    /// Whether the pairing is in force on `day`.
    pub fn is_active_on(&self, day: NaiveDate) -> bool {
        self.valid_from <= day && self.valid_to.is_none_or(|to| day <= to)
    }

    /// Whether two pairings of the same parties overlap in time.
    pub fn overlaps(&self, other: &Pairing) -> bool {
        self.supporter_code == other.supporter_code
            && self.recipient_code == other.recipient_code
            && self.valid_from <= other.valid_to.unwrap_or(NaiveDate::MAX)
            && other.valid_from <= self.valid_to.unwrap_or(NaiveDate::MAX)
    }
}

vocabulary! {
    /// Plan kind.
    PlanKind, "invalid_plan_kind", "规划类型", "plan kind" {
        FiveYear = ("five-year", "五年规划", "five-year plan"),
        Annual = ("annual", "年度计划", "annual plan"),
    }
}

/// A plan version for one supporter and recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Five-year or annual.
    pub kind: PlanKind,
    /// Supporter code.
    pub supporter_code: String,
    /// Recipient unit code.
    pub recipient_code: String,
    /// First year covered.
    pub start_year: i32,
    /// Last year covered.
    pub end_year: i32,
    /// Version, from 1; each adjustment (调整) adds one.
    pub version: u32,
    /// Planned aid funds.
    pub amount: Fen,
    /// Part for county level and below (基层).
    pub grassroots_amount: Fen,
    /// Part for livelihood (民生).
    pub livelihood_amount: Fen,
    /// Why this version exists.
    pub note: String,
}

/// The 80/80 thresholds, in per cent.
pub const EIGHTY_EIGHTY_PERCENT: i64 = 80;

/// A breach of the 80/80 rule found in a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EightyEightyCheck {
    /// Grassroots share breaks the rule.
    pub grassroots_low: bool,
    /// Livelihood share breaks the rule.
    pub livelihood_low: bool,
}

/// Whether `part` is at least 80% of `whole`, in exact integer arithmetic.
pub fn meets_eighty_percent(part: Fen, whole: Fen) -> bool {
    i128::from(part.0) * 100 >= i128::from(whole.0) * i128::from(EIGHTY_EIGHTY_PERCENT)
}

impl Plan {
    /// Checks the period against the kind, the version and the parts.
    pub fn validate(&self) -> Result<(), DomainError> {
        let period_ok = match self.kind {
            // The 12th five-year plan is 2011–2015; later ones follow every five years.
            PlanKind::FiveYear => {
                self.end_year == self.start_year + 4 && (self.start_year - 2011) % 5 == 0
            }
            PlanKind::Annual => self.start_year == self.end_year,
        };
        if !period_ok || self.start_year < 2010 {
            return Err(DomainError::new(
                "invalid_plan_period",
                format!(
                    "{}的期间{}–{}无效",
                    self.kind.zh(),
                    self.start_year,
                    self.end_year
                ),
                format!(
                    "period {}–{} is invalid for a {}",
                    self.start_year,
                    self.end_year,
                    self.kind.en()
                ),
            ));
        }
        if self.version == 0 {
            return Err(DomainError::new(
                "invalid_plan_version",
                "规划版本号从1开始",
                "plan versions start at 1",
            ));
        }
        if self.amount.0 < 0
            || self.grassroots_amount.0 < 0
            || self.livelihood_amount.0 < 0
            || self.grassroots_amount > self.amount
            || self.livelihood_amount > self.amount
        {
            return Err(DomainError::new(
                "invalid_plan_amounts",
                "规划金额不能为负，且基层和民生部分不能超过总额",
                "plan amounts must not be negative, and the grassroots and livelihood parts must not exceed the total",
            ));
        }
        Ok(())
    }

    /// The 80/80 rule applied to this plan.
    pub fn eighty_eighty(&self) -> EightyEightyCheck {
        EightyEightyCheck {
            grassroots_low: !meets_eighty_percent(self.grassroots_amount, self.amount),
            livelihood_low: !meets_eighty_percent(self.livelihood_amount, self.amount),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn pairing_periods() {
        let henan_aksu = Pairing {
            supporter_code: "41".into(),
            recipient_code: "6529".into(),
            scope: PairingScope::Full,
            valid_from: d(1997, 1, 1),
            valid_to: Some(d(2010, 5, 31)),
            confidence: "reported".into(),
        };
        assert!(henan_aksu.is_active_on(d(2005, 1, 1)));
        assert!(!henan_aksu.is_active_on(d(2011, 1, 1)));
        let reversed = Pairing {
            valid_to: Some(d(1990, 1, 1)),
            ..henan_aksu.clone()
        };
        assert_eq!(
            reversed.validate().map_err(|e| e.code),
            Err("pairing_period_reversed")
        );
        let later = Pairing {
            valid_from: d(2010, 6, 1),
            valid_to: None,
            ..henan_aksu.clone()
        };
        assert!(!henan_aksu.overlaps(&later));
    }

    #[test]
    fn plan_periods_and_eighty_eighty() {
        let p = Plan {
            kind: PlanKind::FiveYear,
            supporter_code: "31".into(),
            recipient_code: "653125".into(),
            start_year: 2021,
            end_year: 2025,
            version: 1,
            amount: Fen(1000),
            grassroots_amount: Fen(800),
            livelihood_amount: Fen(799),
            note: String::new(),
        };
        assert_eq!(p.validate(), Ok(()));
        assert_eq!(
            p.eighty_eighty(),
            EightyEightyCheck {
                grassroots_low: false,
                livelihood_low: true
            }
        );
        let bad = Plan {
            start_year: 2022,
            end_year: 2026,
            ..p.clone()
        };
        assert_eq!(
            bad.validate().map_err(|e| e.code),
            Err("invalid_plan_period")
        );
    }

    proptest! {
        #[test]
        fn eighty_percent_is_exact(part in 0i64..i64::MAX / 200, whole in 0i64..i64::MAX / 200) {
            let exact = part as i128 * 5 >= whole as i128 * 4;
            prop_assert_eq!(meets_eighty_percent(Fen(part), Fen(whole)), exact);
        }
    }
}
