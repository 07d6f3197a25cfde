//! The rates users report (DOMAIN.md, "Figures"). Amounts stay integer fen;
//! only the ratio is a float, rounded to four places for display.

use serde::Serialize;

use crate::{Fen, FundChain};

/// `num ÷ den`, or `None` when the denominator is zero.
pub fn ratio(num: i64, den: i64) -> Option<f64> {
    if den == 0 {
        None
    } else {
        // Round to 4 places so that the same figure prints the same everywhere.
        Some(((num as f64 / den as f64) * 10_000.0).round() / 10_000.0)
    }
}

/// The fund-chain rates of one slice of data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FundRates {
    /// 资金到疆率 = transferred ÷ plan (committed).
    pub arrival_rate: Option<f64>,
    /// 拨付率 = allocated (net of refunds) ÷ transferred.
    pub allocation_rate: Option<f64>,
    /// 支付率 = paid ÷ allocated (net).
    pub payment_rate: Option<f64>,
    /// 执行率 = expenditure ÷ plan (committed).
    pub execution_rate: Option<f64>,
}

impl FundRates {
    /// Computes the rates of a chain.
    pub fn of(chain: &FundChain) -> FundRates {
        let net: Fen = chain.net_allocated();
        FundRates {
            arrival_rate: ratio(chain.transferred.0, chain.committed.0),
            allocation_rate: ratio(net.0, chain.transferred.0),
            payment_rate: ratio(chain.paid.0, net.0),
            execution_rate: ratio(chain.spent.0, chain.committed.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_of_a_chain() {
        let chain = FundChain {
            committed: Fen(1000),
            transferred: Fen(800),
            allocated: Fen(700),
            refunded: Fen(100),
            paid: Fen(300),
            spent: Fen(200),
            carried_over: Fen(0),
        };
        let r = FundRates::of(&chain);
        assert_eq!(r.arrival_rate, Some(0.8));
        assert_eq!(r.allocation_rate, Some(0.75));
        assert_eq!(r.payment_rate, Some(0.5));
        assert_eq!(r.execution_rate, Some(0.2));
        assert_eq!(FundRates::of(&FundChain::default()).arrival_rate, None);
        assert_eq!(ratio(2, 3), Some(0.6667));
    }
}
