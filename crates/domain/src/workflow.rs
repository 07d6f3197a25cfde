//! The online approval workflow (不见面审批): a supporter drafts a project and
//! submits it; the recipient prefecture reviews it; the region approves it or
//! returns it with a comment. Which step may follow which, and who may take
//! it, is decided here.

use crate::{Action, DomainError, vocabulary};

vocabulary! {
    /// Where a project stands in the approval workflow.
    ApprovalStatus, "invalid_approval_status", "审批状态", "approval status" {
        Draft = ("draft", "草稿", "draft"),
        Submitted = ("submitted", "已提交待审核", "submitted"),
        Reviewed = ("reviewed", "已审核待审批", "reviewed"),
        Approved = ("approved", "已批准", "approved"),
        Returned = ("returned", "已退回", "returned"),
    }
}

vocabulary! {
    /// A step someone takes in the workflow.
    ApprovalStep, "invalid_approval_step", "审批操作", "approval step" {
        Submit = ("submit", "提交", "submit"),
        Review = ("review", "审核通过", "review"),
        Approve = ("approve", "批准", "approve"),
        Return = ("return", "退回", "return"),
    }
}

impl ApprovalStep {
    /// The status the step leads to from `from`, and the permission it
    /// needs, or an error naming what is allowed.
    pub fn apply(self, from: ApprovalStatus) -> Result<(ApprovalStatus, Action), DomainError> {
        use ApprovalStatus::*;
        let next = match (self, from) {
            (ApprovalStep::Submit, Draft | Returned) => Some((Submitted, Action::Submit)),
            (ApprovalStep::Review, Submitted) => Some((Reviewed, Action::Review)),
            (ApprovalStep::Approve, Reviewed) => Some((Approved, Action::Approve)),
            // The prefecture returns what it reviews; the region what it approves.
            (ApprovalStep::Return, Submitted) => Some((Returned, Action::Review)),
            (ApprovalStep::Return, Reviewed) => Some((Returned, Action::Approve)),
            _ => None,
        };
        next.ok_or_else(|| {
            DomainError::new(
                "illegal_approval_step",
                format!("“{}”状态的项目不能执行“{}”", from.zh(), self.zh()),
                format!("a project that is {} cannot be {}ed", from.en(), self.en()),
            )
        })
    }

    /// The step that acts on items in `status`, for the inbox.
    pub fn waiting_for(status: ApprovalStatus) -> Option<Action> {
        match status {
            ApprovalStatus::Draft | ApprovalStatus::Returned => Some(Action::Submit),
            ApprovalStatus::Submitted => Some(Action::Review),
            ApprovalStatus::Reviewed => Some(Action::Approve),
            ApprovalStatus::Approved => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_happy_path_and_returns() {
        use ApprovalStatus::*;
        assert_eq!(
            ApprovalStep::Submit.apply(Draft),
            Ok((Submitted, Action::Submit))
        );
        assert_eq!(
            ApprovalStep::Review.apply(Submitted),
            Ok((Reviewed, Action::Review))
        );
        assert_eq!(
            ApprovalStep::Approve.apply(Reviewed),
            Ok((Approved, Action::Approve))
        );
        assert_eq!(
            ApprovalStep::Return.apply(Reviewed),
            Ok((Returned, Action::Approve))
        );
        assert_eq!(
            ApprovalStep::Return.apply(Submitted),
            Ok((Returned, Action::Review))
        );
        assert_eq!(
            ApprovalStep::Submit.apply(Returned),
            Ok((Submitted, Action::Submit))
        );
        for (step, from) in [
            (ApprovalStep::Approve, Submitted),
            (ApprovalStep::Approve, Draft),
            (ApprovalStep::Submit, Approved),
            (ApprovalStep::Return, Approved),
            (ApprovalStep::Review, Draft),
        ] {
            let err = step.apply(from).expect_err("illegal");
            assert_eq!(err.code, "illegal_approval_step");
            assert!(err.zh.contains(from.zh()) && err.zh.contains(step.zh()));
        }
    }
}
