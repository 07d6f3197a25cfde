//! Who may see and do what: roles, their scopes, and the rules that every
//! route and page applies on the server. Pure, so the rules are tested
//! directly and the same rules serve the API, the pages and exports.

use serde::{Deserialize, Serialize};

use crate::codes::division_contains;
use crate::{DomainError, vocabulary};

vocabulary! {
    /// A user's role.
    Role, "invalid_role", "角色", "role" {
        Admin = ("admin", "系统管理员", "administrator"),
        Region = ("region", "自治区援疆办", "regional aid office"),
        Prefecture = ("prefecture", "受援地援疆办", "recipient office"),
        Supporter = ("supporter", "前方指挥部", "front command"),
        Auditor = ("auditor", "审计", "auditor"),
    }
}

/// An authenticated user as the rules see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// User name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// A recipient code for `prefecture`, a supporter code for `supporter`.
    pub scope: Option<String>,
}

/// Who is asking: the public, or a signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Viewer {
    /// An anonymous visitor: published records only.
    Public,
    /// A signed-in user or API client.
    User(Principal),
}

/// The parts of a record that decide who may see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner<'a> {
    /// Supporter that owns it.
    pub supporter_code: &'a str,
    /// Recipient unit it is for.
    pub recipient_code: &'a str,
    /// Published to the public.
    pub published: bool,
}

/// What a caller wants to do with a project-like record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read it.
    Read,
    /// Create or edit it, record its funds and indicator values, change its state.
    Edit,
    /// Submit a draft for review (supporter side).
    Submit,
    /// Review a submitted item (recipient side).
    Review,
    /// Approve or return a reviewed item (region).
    Approve,
}

/// Whether a supporter scope covers a supporter: itself, or a child whose
/// parent it is (Guangdong covers Shenzhen). `parent_of` looks parents up.
pub fn supporter_in_scope(scope: &str, supporter_code: &str, parent: Option<&str>) -> bool {
    scope == supporter_code || parent == Some(scope)
}

/// Whether a recipient scope covers a unit: the unit itself or anything under it.
pub fn recipient_in_scope(scope: &str, recipient_code: &str) -> bool {
    division_contains(scope, recipient_code)
}

impl Viewer {
    /// Whether the viewer may perform `action` on a record owned as `owner`.
    /// `supporter_parent` is the parent of the owner's supporter, if any.
    pub fn may(&self, action: Action, owner: Owner<'_>, supporter_parent: Option<&str>) -> bool {
        let Viewer::User(p) = self else {
            return action == Action::Read && owner.published;
        };
        let scope = p.scope.as_deref().unwrap_or("");
        let own_supporter = supporter_in_scope(scope, owner.supporter_code, supporter_parent);
        let own_recipient = recipient_in_scope(scope, owner.recipient_code);
        match (p.role, action) {
            (Role::Admin | Role::Region | Role::Auditor, Action::Read) => true,
            (Role::Region, Action::Approve) => true,
            (Role::Supporter, Action::Read | Action::Edit | Action::Submit) => own_supporter,
            (Role::Prefecture, Action::Read | Action::Edit | Action::Review) => own_recipient,
            _ => false,
        }
    }

    /// Whether the viewer may see personal data (ID numbers, phones) of
    /// people sent by `supporter_code`: the sending front command and the region.
    pub fn may_see_personal_data(
        &self,
        supporter_code: &str,
        supporter_parent: Option<&str>,
    ) -> bool {
        match self {
            Viewer::User(p) => match p.role {
                Role::Region => true,
                Role::Supporter => p
                    .scope
                    .as_deref()
                    .is_some_and(|s| supporter_in_scope(s, supporter_code, supporter_parent)),
                _ => false,
            },
            Viewer::Public => false,
        }
    }

    /// Whether the viewer may read the audit trail.
    pub fn may_read_audit(&self) -> bool {
        matches!(self, Viewer::User(p) if matches!(p.role, Role::Auditor | Role::Admin))
    }

    /// Whether the viewer reads across the whole programme: evaluations and
    /// everyone's import history (the region, auditors, administrators).
    pub fn sees_whole_programme(&self) -> bool {
        matches!(self, Viewer::User(p) if matches!(p.role, Role::Region | Role::Auditor | Role::Admin))
    }

    /// Whether the viewer may manage users and tokens.
    pub fn may_administer(&self) -> bool {
        matches!(self, Viewer::User(p) if p.role == Role::Admin)
    }

    /// The user name for the trail, or `public`.
    pub fn name(&self) -> &str {
        match self {
            Viewer::User(p) => &p.name,
            Viewer::Public => "public",
        }
    }
}

impl Principal {
    /// Checks that the scope fits the role: required for `prefecture` and
    /// `supporter`, absent for the others.
    pub fn validate(&self) -> Result<(), DomainError> {
        let needs_scope = matches!(self.role, Role::Prefecture | Role::Supporter);
        if needs_scope != self.scope.is_some() {
            return Err(DomainError::new(
                "invalid_scope",
                format!(
                    "角色“{}”{}",
                    self.role.zh(),
                    if needs_scope {
                        "必须指定范围代码"
                    } else {
                        "不能指定范围代码"
                    }
                ),
                format!(
                    "role \"{}\" {}",
                    self.role.en(),
                    if needs_scope {
                        "requires a scope code"
                    } else {
                        "takes no scope code"
                    }
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role, scope: Option<&str>) -> Viewer {
        Viewer::User(Principal {
            name: "u".into(),
            role,
            scope: scope.map(str::to_owned),
        })
    }

    const SHANGHAI_IN_KASHGAR: Owner<'static> = Owner {
        supporter_code: "31",
        recipient_code: "653125",
        published: false,
    };

    #[test]
    fn access_matrix() {
        use Action::*;
        let cases: [(Viewer, [bool; 5]); 9] = [
            (Viewer::Public, [false; 5]),
            (user(Role::Admin, None), [true, false, false, false, false]),
            (user(Role::Region, None), [true, false, false, false, true]),
            (
                user(Role::Auditor, None),
                [true, false, false, false, false],
            ),
            (
                user(Role::Supporter, Some("31")),
                [true, true, true, false, false],
            ),
            (user(Role::Supporter, Some("44")), [false; 5]),
            (
                user(Role::Prefecture, Some("6531")),
                [true, true, false, true, false],
            ),
            (
                user(Role::Prefecture, Some("653125")),
                [true, true, false, true, false],
            ),
            (user(Role::Prefecture, Some("6532")), [false; 5]),
        ];
        for (viewer, expected) in cases {
            for (action, want) in [Read, Edit, Submit, Review, Approve]
                .into_iter()
                .zip(expected)
            {
                assert_eq!(
                    viewer.may(action, SHANGHAI_IN_KASHGAR, None),
                    want,
                    "{viewer:?} {action:?}"
                );
            }
        }
        let published = Owner {
            published: true,
            ..SHANGHAI_IN_KASHGAR
        };
        assert!(Viewer::Public.may(Read, published, None));
        assert!(!Viewer::Public.may(Edit, published, None));
    }

    #[test]
    fn parent_supporter_covers_child() {
        let sz = Owner {
            supporter_code: "4403",
            recipient_code: "653101",
            published: false,
        };
        assert!(user(Role::Supporter, Some("44")).may(Action::Edit, sz, Some("44")));
        assert!(!user(Role::Supporter, Some("4403")).may(
            Action::Edit,
            Owner {
                supporter_code: "44",
                ..sz
            },
            None
        ));
    }

    #[test]
    fn personal_data_and_scope_rules() {
        assert!(user(Role::Supporter, Some("31")).may_see_personal_data("31", None));
        assert!(!user(Role::Supporter, Some("44")).may_see_personal_data("31", None));
        assert!(!user(Role::Auditor, None).may_see_personal_data("31", None));
        assert!(!Viewer::Public.may_see_personal_data("31", None));
        assert!(user(Role::Auditor, None).may_read_audit());
        assert!(!user(Role::Region, None).may_read_audit());
        let p = Principal {
            name: "x".into(),
            role: Role::Supporter,
            scope: None,
        };
        assert_eq!(p.validate().map_err(|e| e.code), Err("invalid_scope"));
    }
}
