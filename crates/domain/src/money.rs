//! Money as integer fen (分). Never floating point: every total is an exact
//! sum of `i64` amounts, so a figure agrees to the fen wherever it appears.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// An amount of money in fen (1 yuan = 100 fen).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Fen(pub i64);

impl Fen {
    /// Zero fen.
    pub const ZERO: Fen = Fen(0);

    /// Whole yuan to fen.
    pub const fn from_yuan(yuan: i64) -> Fen {
        Fen(yuan * 100)
    }

    /// Adds, failing instead of wrapping on overflow.
    pub fn checked_add(self, other: Fen) -> Option<Fen> {
        self.0.checked_add(other.0).map(Fen)
    }

    /// Subtracts, failing instead of wrapping on overflow.
    pub fn checked_sub(self, other: Fen) -> Option<Fen> {
        self.0.checked_sub(other.0).map(Fen)
    }

    /// The amount as a decimal yuan string with two places, e.g. `1234.50`.
    pub fn to_yuan_string(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }

    /// The amount in 万元 (ten-thousand yuan) with two places, for reports.
    pub fn to_wan_yuan_string(self) -> String {
        // 1 万元 = 1,000,000 fen; round half away from zero on the integer.
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let hundredths = (abs + 5_000) / 10_000;
        format!("{sign}{}.{:02}", hundredths / 100, hundredths % 100)
    }
}

impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_yuan_string())
    }
}

impl FromStr for Fen {
    type Err = DomainError;

    /// Parses a yuan amount such as `12`, `12.3`, `-12.34` or `1,234.56`
    /// exactly, without going through floating point.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            DomainError::new(
                "invalid_amount",
                format!("金额“{s}”无效：应为以元为单位、最多两位小数的数字"),
                format!(
                    "amount \"{s}\" is invalid: expected a number of yuan with at most two decimals"
                ),
            )
        };
        // Thousands separators are rare: copied out only when present.
        let trimmed = crate::text::trim(s);
        let cleaned: std::borrow::Cow<'_, str> = if trimmed.contains(',') {
            trimmed.replace(',', "").into()
        } else {
            trimmed.into()
        };
        let (negative, digits) = match cleaned.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, &*cleaned),
        };
        let (whole, frac) = match digits.split_once('.') {
            Some((w, f)) => (w, f),
            None => (digits, ""),
        };
        if whole.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || frac.len() > 2
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let whole: i64 = whole.parse().map_err(|_| bad())?;
        let frac_fen: i64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().map_err(|_| bad())? * 10,
            _ => frac.parse().map_err(|_| bad())?,
        };
        let fen = whole
            .checked_mul(100)
            .and_then(|v| v.checked_add(frac_fen))
            .ok_or_else(bad)?;
        Ok(Fen(if negative { -fen } else { fen }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_yuan_exactly() {
        assert_eq!("12".parse::<Fen>(), Ok(Fen(1200)));
        assert_eq!("12.3".parse::<Fen>(), Ok(Fen(1230)));
        assert_eq!("-0.07".parse::<Fen>(), Ok(Fen(-7)));
        assert_eq!("1,234.56".parse::<Fen>(), Ok(Fen(123_456)));
        assert_eq!("0.1".parse::<Fen>().map(|f| f.0 + Fen(20).0), Ok(30));
        for bad in ["", "abc", "1.234", "1e5", "--1", ".5", "1.-2"] {
            assert_eq!(
                bad.parse::<Fen>().map_err(|e| e.code),
                Err("invalid_amount"),
                "{bad}"
            );
        }
    }

    #[test]
    fn formats_yuan_and_wan() {
        assert_eq!(Fen(123_456).to_yuan_string(), "1234.56");
        assert_eq!(Fen(-5).to_yuan_string(), "-0.05");
        assert_eq!(Fen(1_234_567_890).to_wan_yuan_string(), "1234.57");
    }

    proptest! {
        #[test]
        fn yuan_string_round_trips(v in -1_000_000_000_000i64..1_000_000_000_000) {
            let f = Fen(v);
            prop_assert_eq!(f.to_yuan_string().parse::<Fen>(), Ok(f));
        }
    }
}
