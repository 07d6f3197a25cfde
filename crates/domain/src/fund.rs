//! Fund transactions (资金) and the chain rule: money cannot move further
//! down commitment → transfer → allocation → payment → expenditure than the
//! step before it allows, at any point in time.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{DomainError, Fen, vocabulary};

vocabulary! {
    /// Type of a fund transaction, in chain order.
    FundType, "invalid_fund_type", "资金类型", "fund type" {
        Commitment = ("commitment", "计划安排", "commitment"),
        Transfer = ("transfer", "资金到疆", "transfer"),
        Allocation = ("allocation", "拨付到项目", "allocation"),
        Payment = ("payment", "支付", "payment"),
        Expenditure = ("expenditure", "支出", "expenditure"),
        Refund = ("refund", "退回", "refund"),
        CarryOver = ("carry-over", "结转结余", "carry-over"),
    }
}

/// One movement of money on a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FundTransaction {
    /// Project code.
    pub project_code: String,
    /// Type.
    pub fund_type: FundType,
    /// Amount in fen; always positive.
    pub amount: Fen,
    /// Value date.
    pub date: NaiveDate,
    /// Document number (文号), part of the natural key.
    pub document_no: String,
    /// Note.
    pub note: String,
}

impl FundTransaction {
    /// Checks the transaction on its own: a positive amount and a document number.
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.amount.0 <= 0 {
            return Err(DomainError::new(
                "non_positive_amount",
                format!("金额应大于零，实际为{}元", self.amount),
                format!("amount must be greater than zero, got {} yuan", self.amount),
            ));
        }
        let len = crate::text::trim(&self.document_no).chars().count();
        if len == 0 || len > 100 {
            return Err(DomainError::new(
                "invalid_document_no",
                "文号不能为空且不超过100字",
                "document number must be 1 to 100 characters",
            ));
        }
        Ok(())
    }
}

/// Running totals of one project's fund chain.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FundChain {
    /// Committed (计划安排).
    pub committed: Fen,
    /// Transferred to Xinjiang (资金到疆).
    pub transferred: Fen,
    /// Allocated to the project (拨付到项目), gross of refunds.
    pub allocated: Fen,
    /// Paid (支付).
    pub paid: Fen,
    /// Spent (支出).
    pub spent: Fen,
    /// Refunded from the project (退回).
    pub refunded: Fen,
    /// Carried over (结转结余).
    pub carried_over: Fen,
}

/// Orders transactions as the chain must replay them: by date, then chain step.
pub fn chain_order(a: &FundTransaction, b: &FundTransaction) -> std::cmp::Ordering {
    (a.date, a.fund_type).cmp(&(b.date, b.fund_type))
}

impl FundChain {
    /// The running total of one step.
    pub fn total(&self, fund_type: FundType) -> Fen {
        match fund_type {
            FundType::Commitment => self.committed,
            FundType::Transfer => self.transferred,
            FundType::Allocation => self.allocated,
            FundType::Payment => self.paid,
            FundType::Expenditure => self.spent,
            FundType::Refund => self.refunded,
            FundType::CarryOver => self.carried_over,
        }
    }

    /// The running total of one step, for updating.
    pub fn total_mut(&mut self, fund_type: FundType) -> &mut Fen {
        match fund_type {
            FundType::Commitment => &mut self.committed,
            FundType::Transfer => &mut self.transferred,
            FundType::Allocation => &mut self.allocated,
            FundType::Payment => &mut self.paid,
            FundType::Expenditure => &mut self.spent,
            FundType::Refund => &mut self.refunded,
            FundType::CarryOver => &mut self.carried_over,
        }
    }

    /// Plain sums per step, without checking the chain: how stored figures
    /// are totalled, so a total always equals its transactions.
    pub fn sum<'a>(txns: impl IntoIterator<Item = &'a FundTransaction>) -> FundChain {
        let mut chain = FundChain::default();
        for t in txns {
            let total = chain.total_mut(t.fund_type);
            *total = Fen(total.0.saturating_add(t.amount.0));
        }
        chain
    }

    /// Adds the step totals of another chain.
    pub fn merge(&mut self, other: &FundChain) {
        for t in FundType::ALL {
            let add = other.total(*t);
            let total = self.total_mut(*t);
            *total = Fen(total.0.saturating_add(add.0));
        }
    }

    /// Allocation net of refunds: what the project really holds.
    pub fn net_allocated(&self) -> Fen {
        Fen(self.allocated.0 - self.refunded.0)
    }

    /// Applies one transaction, rejecting it if it would break the chain.
    /// `cap` is the project's aid-fund amount, which commitments may not exceed.
    pub fn apply(&mut self, fund_type: FundType, amount: Fen, cap: Fen) -> Result<(), DomainError> {
        if amount.0 <= 0 {
            return Err(DomainError::new(
                "non_positive_amount",
                "金额应大于零",
                "amount must be greater than zero",
            ));
        }
        let (total, limit, zh_above, en_above) = match fund_type {
            FundType::Commitment => (&mut self.committed, cap, "援疆资金", "the aid funds"),
            FundType::Transfer => (
                &mut self.transferred,
                self.committed,
                "计划安排",
                "commitments",
            ),
            FundType::Allocation => {
                // Refunded money can be allocated again, so the room is net.
                let room = Fen(self.transferred.0 + self.refunded.0);
                (&mut self.allocated, room, "到疆资金", "transfers")
            }
            FundType::Payment => {
                let net = self.net_allocated();
                (
                    &mut self.paid,
                    net,
                    "拨付资金（扣除退回）",
                    "allocations net of refunds",
                )
            }
            FundType::Expenditure => (&mut self.spent, self.paid, "支付", "payments"),
            FundType::Refund => {
                let unpaid = Fen(self.allocated.0 - self.paid.0);
                (
                    &mut self.refunded,
                    unpaid,
                    "已拨付未支付资金",
                    "allocated but unpaid funds",
                )
            }
            FundType::CarryOver => {
                let unspent = Fen(self.net_allocated().0 - self.spent.0);
                (
                    &mut self.carried_over,
                    unspent,
                    "未支出余额",
                    "the unspent balance",
                )
            }
        };
        let would_be = total.checked_add(amount);
        let exceeds = match would_be {
            None => true,
            Some(v) => v > limit,
        };
        if exceeds {
            return Err(DomainError::new(
                "fund_chain_broken",
                format!(
                    "{}金额{}元将使累计{}元超过{}累计{}元",
                    fund_type.zh(),
                    amount,
                    would_be.unwrap_or(Fen(i64::MAX)),
                    zh_above,
                    limit
                ),
                format!(
                    "{} of {} yuan would bring the total to {} yuan, above {} of {} yuan",
                    fund_type.en(),
                    amount,
                    would_be.unwrap_or(Fen(i64::MAX)),
                    en_above,
                    limit
                ),
            ));
        }
        if let Some(v) = would_be {
            *total = v;
        }
        Ok(())
    }

    /// Replays a project's transactions in chain order, failing at the first
    /// one that breaks the chain (returned with its index in the sorted order).
    pub fn replay<'a>(
        txns: impl IntoIterator<Item = &'a FundTransaction>,
        cap: Fen,
    ) -> Result<FundChain, (usize, DomainError)> {
        let mut sorted: Vec<&FundTransaction> = txns.into_iter().collect();
        sorted.sort_by(|a, b| chain_order(a, b));
        FundChain::replay_steps(sorted.iter().map(|t| (t.fund_type, t.amount)), cap)
    }

    /// Replays steps (type and amount) already in chain order, failing at
    /// the first that breaks the chain (returned with its index). For
    /// callers that keep only what the rule looks at, such as an import's
    /// checks of ten million rows.
    pub fn replay_steps(
        steps: impl IntoIterator<Item = (FundType, Fen)>,
        cap: Fen,
    ) -> Result<FundChain, (usize, DomainError)> {
        let mut chain = FundChain::default();
        for (i, (fund_type, amount)) in steps.into_iter().enumerate() {
            chain.apply(fund_type, amount, cap).map_err(|e| (i, e))?;
        }
        Ok(chain)
    }

    /// The chain's invariants, which every accepted sequence keeps.
    pub fn holds(&self, cap: Fen) -> bool {
        self.committed <= cap
            && self.transferred <= self.committed
            && self.net_allocated() <= self.transferred
            && self.paid <= self.net_allocated()
            && self.spent <= self.paid
            && self.refunded.0 >= 0
            // Carry-over is a record of a balance, bounded by what was ever allocated.
            && self.carried_over <= self.allocated
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn payment_cannot_exceed_allocation() {
        let cap = Fen(100_000);
        let mut c = FundChain::default();
        c.apply(FundType::Commitment, Fen(100_000), cap)
            .expect("commit");
        c.apply(FundType::Transfer, Fen(80_000), cap)
            .expect("transfer");
        c.apply(FundType::Allocation, Fen(50_000), cap)
            .expect("allocate");
        c.apply(FundType::Payment, Fen(50_000), cap).expect("pay");
        let err = c.apply(FundType::Payment, Fen(1), cap).expect_err("over");
        assert_eq!(err.code, "fund_chain_broken");
        assert!(err.zh.contains("支付金额0.01元"), "{}", err.zh);
        assert!(
            err.en
                .contains("above allocations net of refunds of 500.00 yuan"),
            "{}",
            err.en
        );
        assert_eq!(c.paid, Fen(50_000));
    }

    #[test]
    fn commitment_is_capped_by_aid_funds() {
        let mut c = FundChain::default();
        assert!(c.apply(FundType::Commitment, Fen(101), Fen(100)).is_err());
        assert_eq!(c.committed, Fen(0));
    }

    #[test]
    fn refund_frees_room_for_reallocation() {
        let cap = Fen(100);
        let mut c = FundChain::default();
        for (t, a) in [
            (FundType::Commitment, 100),
            (FundType::Transfer, 100),
            (FundType::Allocation, 100),
            (FundType::Payment, 60),
        ] {
            c.apply(t, Fen(a), cap).expect("ok");
        }
        assert!(c.apply(FundType::Refund, Fen(41), cap).is_err());
        c.apply(FundType::Refund, Fen(40), cap)
            .expect("refund unpaid");
        assert_eq!(c.net_allocated(), Fen(60));
        c.apply(FundType::Allocation, Fen(40), cap)
            .expect("re-allocate");
        assert!(c.holds(cap));
    }

    #[test]
    fn replay_sorts_by_date_then_step() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
        let t = |ty, a, date| FundTransaction {
            project_code: "P-1".into(),
            fund_type: ty,
            amount: Fen(a),
            date: d(date),
            document_no: "x".into(),
            note: String::new(),
        };
        let ok = [
            t(FundType::Payment, 10, "2024-03-01"),
            t(FundType::Transfer, 10, "2024-01-01"),
            t(FundType::Allocation, 10, "2024-01-01"),
            t(FundType::Commitment, 10, "2024-01-01"),
        ];
        assert_eq!(FundChain::replay(&ok, Fen(10)).map(|c| c.paid), Ok(Fen(10)));
        // A payment dated before its allocation breaks the chain at that date.
        let early = [
            t(FundType::Commitment, 10, "2024-01-01"),
            t(FundType::Transfer, 10, "2024-01-01"),
            t(FundType::Payment, 10, "2024-01-02"),
            t(FundType::Allocation, 10, "2024-01-03"),
        ];
        assert_eq!(
            FundChain::replay(&early, Fen(10)).map_err(|(i, _)| i),
            Err(2)
        );
    }

    proptest! {
        // Whatever sequence is attempted, the accepted part keeps every invariant.
        #[test]
        fn accepted_transactions_keep_the_chain(
            cap in 0i64..100_0000,
            ops in prop::collection::vec((0usize..7, 1i64..50_0000), 0..60),
        ) {
            let mut c = FundChain::default();
            for (t, a) in ops {
                let before = c;
                if c.apply(FundType::ALL[t], Fen(a), Fen(cap)).is_err() {
                    prop_assert_eq!(c, before);
                }
                prop_assert!(c.holds(Fen(cap)), "{:?}", c);
            }
        }
    }
}
