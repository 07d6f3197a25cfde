//! The pure domain core of Yuanjiang (援疆通): the parties, plans, projects,
//! funds, people and indicators of paired assistance to Xinjiang, with the
//! rules that govern them. It does no I/O and cannot fail for I/O reasons;
//! every rule violation is a [`DomainError`] with a stable code and zh-CN and
//! English messages.

#![forbid(unsafe_code)]

pub mod access;
pub mod attachment;
pub mod codes;
mod error;
pub mod fund;
pub mod indicator;
mod money;
pub mod party;
pub mod personnel;
pub mod plan;
pub mod project;
pub mod rates;
pub mod reference;
pub mod text;
mod vocab;
pub mod workflow;

pub use access::{Action, Owner, Principal, Role, Viewer};
pub use attachment::{AttachmentKind, FileType, MAX_ATTACHMENT_BYTES};
pub use error::DomainError;
pub use fund::{FundChain, FundTransaction, FundType};
pub use indicator::{Indicator, IndicatorValue};
pub use money::Fen;
pub use party::{
    CommandLevel, FrontCommand, RecipientLevel, RecipientUnit, Supporter, SupporterKind,
};
pub use personnel::{Assignment, AssignmentCategory, AssignmentMode, Batch};
pub use plan::{Pairing, PairingScope, Plan, PlanKind};
pub use project::{
    Category, DeliveryMode, Project, ProjectBundle, ProjectKind, ProjectState, StateChange,
};
pub use rates::FundRates;
pub use reference::Reference;
pub use workflow::{ApprovalStatus, ApprovalStep};
