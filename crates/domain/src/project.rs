//! Aid projects (援疆项目): their classification, amounts and the lifecycle
//! state machine. Every change of state goes through [`ProjectState::check_transition`].

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{DomainError, Fen, vocabulary};

vocabulary! {
    /// Project category (项目类别).
    Category, "invalid_category", "项目类别", "category" {
        IndustryEmployment = ("industry", "产业就业", "industry and employment"),
        Education = ("education", "教育", "education"),
        Health = ("health", "医疗卫生", "health"),
        Culture = ("culture", "文化润疆", "culture"),
        EthnicExchange = ("exchange", "交往交流交融", "ethnic exchange"),
        Housing = ("housing", "民生安居", "housing and livelihood"),
        Infrastructure = ("infrastructure", "基础设施", "infrastructure"),
        Talent = ("talent", "干部人才/智力援疆", "cadres, talent and know-how"),
        Science = ("science", "科技", "science and technology"),
        Other = ("other", "其他", "other"),
    }
}

vocabulary! {
    /// How a project is delivered (建设方式).
    DeliveryMode, "invalid_delivery_mode", "建设方式", "delivery mode" {
        Turnkey = ("turnkey", "交钥匙", "turnkey"),
        Cheque = ("cheque", "交支票", "cheque"),
        Joint = ("joint", "合作共建", "joint"),
    }
}

vocabulary! {
    /// Whether a project builds something or delivers a programme.
    ProjectKind, "invalid_project_kind", "项目性质", "project kind" {
        Construction = ("construction", "建设类", "construction"),
        NonConstruction = ("non-construction", "非建设类", "non-construction"),
    }
}

vocabulary! {
    /// Lifecycle state (项目状态).
    ProjectState, "invalid_project_state", "项目状态", "project state" {
        Proposed = ("proposed", "储备", "proposed"),
        PlanIssued = ("plan-issued", "计划下达", "plan issued"),
        Preparation = ("preparation", "前期", "preparation"),
        Tendering = ("tendering", "招投标", "tendering"),
        UnderConstruction = ("under-construction", "在建", "under construction"),
        Completed = ("completed", "竣工", "completed"),
        Accepted = ("accepted", "验收", "accepted"),
        HandedOver = ("handed-over", "移交", "handed over"),
        Operating = ("operating", "运营", "operating"),
        Closed = ("closed", "关闭", "closed"),
        Suspended = ("suspended", "暂停", "suspended"),
        Adjusted = ("adjusted", "调整", "adjusted"),
        Cancelled = ("cancelled", "取消", "cancelled"),
        Approved = ("approved", "已批准", "approved"),
        Implementing = ("implementing", "实施中", "implementing"),
        Done = ("done", "已完成", "done"),
        Evaluated = ("evaluated", "已评估", "evaluated"),
    }
}

impl ProjectState {
    /// States a project of `kind` may move to from `self`.
    pub fn next_states(self, kind: ProjectKind) -> &'static [ProjectState] {
        use ProjectState::*;
        match kind {
            ProjectKind::Construction => match self {
                Proposed => &[PlanIssued, Adjusted, Cancelled],
                PlanIssued => &[Preparation, Suspended, Adjusted, Cancelled],
                Preparation => &[Tendering, Suspended, Adjusted, Cancelled],
                Tendering => &[UnderConstruction, Suspended, Adjusted, Cancelled],
                UnderConstruction => &[Completed, Suspended, Adjusted],
                Completed => &[Accepted],
                Accepted => &[HandedOver],
                HandedOver => &[Operating, Closed],
                Operating => &[Closed],
                Suspended => &[Preparation, Tendering, UnderConstruction, Cancelled],
                Adjusted => &[PlanIssued, Cancelled],
                Closed | Cancelled | Approved | Implementing | Done | Evaluated => &[],
            },
            ProjectKind::NonConstruction => match self {
                Proposed => &[Approved, Adjusted, Cancelled],
                Approved => &[Implementing, Suspended, Adjusted, Cancelled],
                Implementing => &[Done, Suspended, Adjusted],
                Done => &[Evaluated],
                Suspended => &[Implementing, Cancelled],
                Adjusted => &[Approved, Cancelled],
                _ => &[],
            },
        }
    }

    /// Rejects a transition the lifecycle does not allow, saying which are allowed.
    pub fn check_transition(self, to: ProjectState, kind: ProjectKind) -> Result<(), DomainError> {
        let allowed = self.next_states(kind);
        if allowed.contains(&to) {
            return Ok(());
        }
        let zh: Vec<&str> = allowed.iter().map(|s| s.zh()).collect();
        let en: Vec<&str> = allowed.iter().map(|s| s.en()).collect();
        Err(DomainError::new(
            "illegal_transition",
            format!(
                "{}项目不能从“{}”变为“{}”；允许的下一状态：{}",
                kind.zh(),
                self.zh(),
                to.zh(),
                if zh.is_empty() {
                    "无（终态）".to_owned()
                } else {
                    zh.join("、")
                }
            ),
            format!(
                "a {} project cannot move from \"{}\" to \"{}\"; allowed next states: {}",
                kind.en(),
                self.en(),
                to.en(),
                if en.is_empty() {
                    "none (final state)".to_owned()
                } else {
                    en.join(", ")
                }
            ),
        ))
    }

    /// Whether a project of `kind` can ever be in this state.
    pub fn belongs_to(self, kind: ProjectKind) -> bool {
        self == ProjectState::Proposed
            || ProjectState::ALL
                .iter()
                .any(|s| s.next_states(kind).contains(&self))
    }

    /// Whether work has started (counts towards the start rate 开工率).
    pub fn is_started(self) -> bool {
        use ProjectState::*;
        matches!(
            self,
            UnderConstruction
                | Completed
                | Accepted
                | HandedOver
                | Operating
                | Closed
                | Implementing
                | Done
                | Evaluated
        )
    }

    /// Whether the project is finished (counts towards the completion rate 竣工率).
    pub fn is_completed(self) -> bool {
        use ProjectState::*;
        matches!(
            self,
            Completed | Accepted | HandedOver | Operating | Closed | Done | Evaluated
        )
    }

    /// Whether the project has passed acceptance (counts towards the acceptance rate 验收率).
    pub fn is_accepted(self) -> bool {
        use ProjectState::*;
        matches!(self, Accepted | HandedOver | Operating | Closed | Evaluated)
    }

    /// Whether the project counts as planned (计划内已下达) for the rates.
    pub fn is_planned(self) -> bool {
        !matches!(self, ProjectState::Proposed | ProjectState::Cancelled)
    }
}

/// An aid project (援疆项目).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    /// Natural key, e.g. `YJ2024-31-00017`.
    pub code: String,
    /// Chinese name, e.g. 疏附县职业技术学校实训楼建设项目.
    pub name: String,
    /// Category.
    pub category: Category,
    /// Delivery mode.
    pub delivery_mode: DeliveryMode,
    /// Construction or not, which chooses the lifecycle.
    pub kind: ProjectKind,
    /// Plan year (计划年度).
    pub year: i32,
    /// In the plan (规划内) or not.
    pub in_plan: bool,
    /// Continued from an earlier year (续建) rather than new (新建).
    pub continued: bool,
    /// County level and below (县及县以下), for the 80/80 rule.
    pub grassroots: bool,
    /// Livelihood (民生), for the 80/80 rule.
    pub livelihood: bool,
    /// Supporter code.
    pub supporter_code: String,
    /// Recipient unit code (prefecture, county or XPCC division).
    pub recipient_code: String,
    /// Where it is, down to a township (a recipient code).
    pub location_code: String,
    /// Planned total investment (计划总投资).
    pub planned_investment: Fen,
    /// Aid funds (援疆资金).
    pub aid_funds: Fen,
    /// Matching funds from the recipient side (配套资金).
    pub matching_funds: Fen,
    /// Planned start date.
    pub start_date: NaiveDate,
    /// Planned end date.
    pub end_date: NaiveDate,
    /// Lifecycle state.
    pub state: ProjectState,
    /// Published to the public portal.
    pub published: bool,
    /// Free-text description.
    pub description: String,
}

/// One recorded change of state: who, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateChange {
    /// State before; `None` for the creation of the project.
    pub from: Option<ProjectState>,
    /// State after.
    pub to: ProjectState,
    /// When.
    pub at: DateTime<Utc>,
    /// Who (user name or system).
    pub by: String,
    /// Why.
    pub reason: String,
}

/// A project with everything recorded on it, as written in one go by the
/// demo generator and by imports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectBundle {
    /// The project.
    pub project: Project,
    /// Its state history, oldest first, ending in `project.state`.
    pub history: Vec<StateChange>,
    /// Its fund transactions; they must replay under [`crate::FundChain`].
    pub transactions: Vec<crate::FundTransaction>,
    /// Its indicators with their actual values.
    pub indicators: Vec<(crate::Indicator, Vec<crate::IndicatorValue>)>,
}

/// Longest accepted project name, in characters.
pub const MAX_PROJECT_NAME_CHARS: usize = 200;

/// Checks a project code: 3–40 characters of A–Z, 0–9 and `-`.
pub fn validate_project_code(code: &str) -> Result<(), DomainError> {
    let ok = (3..=40).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(DomainError::new(
            "invalid_project_code",
            format!("项目编号“{code}”无效：应为3至40位大写字母、数字或“-”"),
            format!(
                "project code \"{code}\" is invalid: expected 3 to 40 upper-case letters, digits or \"-\""
            ),
        ))
    }
}

impl Project {
    /// Checks the project's own rules (not those that need other records).
    pub fn validate(&self) -> Result<(), DomainError> {
        validate_project_code(&self.code)?;
        let chars = self.name.trim().chars().count();
        if chars == 0 || chars > MAX_PROJECT_NAME_CHARS {
            return Err(DomainError::new(
                "invalid_project_name",
                format!("项目名称不能为空且不超过{MAX_PROJECT_NAME_CHARS}字"),
                format!("project name must be 1 to {MAX_PROJECT_NAME_CHARS} characters"),
            ));
        }
        for (amount, zh, en) in [
            (self.planned_investment, "计划总投资", "planned investment"),
            (self.aid_funds, "援疆资金", "aid funds"),
            (self.matching_funds, "配套资金", "matching funds"),
        ] {
            if amount.0 < 0 {
                return Err(DomainError::new(
                    "negative_amount",
                    format!("{zh}不能为负数"),
                    format!("{en} must not be negative"),
                ));
            }
        }
        let funded = self.aid_funds.checked_add(self.matching_funds);
        if funded.is_none_or(|f| f > self.planned_investment) {
            return Err(DomainError::new(
                "funds_exceed_investment",
                "援疆资金与配套资金之和不能超过计划总投资",
                "aid funds plus matching funds must not exceed the planned investment",
            ));
        }
        if self.end_date < self.start_date {
            return Err(DomainError::new(
                "end_before_start",
                "计划完工日期不能早于开工日期",
                "the planned end date must not be before the start date",
            ));
        }
        if !(2010..=2100).contains(&self.year) {
            return Err(DomainError::new(
                "invalid_year",
                format!("计划年度{}无效：应在2010年之后", self.year),
                format!("plan year {} is invalid: expected 2010 or later", self.year),
            ));
        }
        if !self.state.belongs_to(self.kind) {
            return Err(DomainError::new(
                "state_kind_mismatch",
                format!("“{}”不是{}项目的状态", self.state.zh(), self.kind.zh()),
                format!(
                    "\"{}\" is not a state of a {} project",
                    self.state.en(),
                    self.kind.en()
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn construction_happy_path_is_legal() {
        use ProjectState::*;
        let path = [
            Proposed,
            PlanIssued,
            Preparation,
            Tendering,
            UnderConstruction,
            Completed,
            Accepted,
            HandedOver,
            Operating,
            Closed,
        ];
        for w in path.windows(2) {
            assert_eq!(
                w[0].check_transition(w[1], ProjectKind::Construction),
                Ok(())
            );
        }
    }

    #[test]
    fn illegal_transition_names_the_allowed_ones() {
        let err = ProjectState::Proposed
            .check_transition(ProjectState::Completed, ProjectKind::Construction)
            .expect_err("skips the lifecycle");
        assert_eq!(err.code, "illegal_transition");
        assert!(err.zh.contains("储备") && err.zh.contains("竣工") && err.zh.contains("计划下达"));
        assert!(err.en.contains("plan issued"));
        let err = ProjectState::Closed
            .check_transition(ProjectState::Operating, ProjectKind::Construction)
            .expect_err("final");
        assert!(err.en.contains("final state"));
    }

    #[test]
    fn non_construction_uses_its_own_lifecycle() {
        use ProjectState::*;
        let k = ProjectKind::NonConstruction;
        assert_eq!(Proposed.check_transition(Approved, k), Ok(()));
        assert_eq!(Done.check_transition(Evaluated, k), Ok(()));
        assert!(Proposed.check_transition(PlanIssued, k).is_err());
        assert!(
            Proposed
                .check_transition(Approved, ProjectKind::Construction)
                .is_err()
        );
    }

    fn any_state() -> impl Strategy<Value = ProjectState> {
        prop::sample::select(ProjectState::ALL.to_vec())
    }

    proptest! {
        // Every walk from Proposed stays inside its kind's states, and
        // accepted implies completed implies started.
        #[test]
        fn random_walks_respect_the_machine(steps in prop::collection::vec(0usize..8, 0..30), construction in any::<bool>()) {
            let kind = if construction { ProjectKind::Construction } else { ProjectKind::NonConstruction };
            let mut s = ProjectState::Proposed;
            for pick in steps {
                let next = s.next_states(kind);
                if next.is_empty() { break; }
                let to = next[pick % next.len()];
                prop_assert_eq!(s.check_transition(to, kind), Ok(()));
                s = to;
                prop_assert!(!s.is_accepted() || s.is_completed());
                prop_assert!(!s.is_completed() || s.is_started());
            }
        }

        #[test]
        fn check_agrees_with_next_states(from in any_state(), to in any_state(), construction in any::<bool>()) {
            let kind = if construction { ProjectKind::Construction } else { ProjectKind::NonConstruction };
            prop_assert_eq!(from.check_transition(to, kind).is_ok(), from.next_states(kind).contains(&to));
        }
    }
}
