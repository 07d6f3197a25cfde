//! The parties: supporters (支援方) on one side, recipient units (受援地) on
//! the other, and the front commands (前方指挥部) that supporters run in Xinjiang.

use serde::{Deserialize, Serialize};

use crate::codes::{
    DivisionGrain, validate_credit_code, validate_division_code, validate_xpcc_code,
};
use crate::{DomainError, vocabulary};

vocabulary! {
    /// What kind of body a supporter is.
    SupporterKind, "invalid_supporter_kind", "支援方类型", "supporter kind" {
        Province = ("province", "省", "province"),
        Municipality = ("municipality", "直辖市", "municipality"),
        PlanCity = ("plan-city", "计划单列市", "plan-city"),
        CentralDepartment = ("central-department", "中央和国家机关", "central department"),
        CentralSoe = ("central-soe", "中央企业", "central SOE"),
    }
}

/// A supporting party (支援方).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Supporter {
    /// GB/T 2260 code for provinces and cities (`31`, `4403`); the unified
    /// social credit code for central departments and SOEs.
    pub code: String,
    /// Official Chinese name.
    pub name: String,
    /// English name.
    pub name_en: String,
    /// Kind of body.
    pub kind: SupporterKind,
    /// Parent supporter (Shenzhen under Guangdong).
    pub parent_code: Option<String>,
}

impl Supporter {
    /// Checks the code against the rule for this kind.
    pub fn validate(&self) -> Result<(), DomainError> {
        match self.kind {
            SupporterKind::Province | SupporterKind::Municipality => {
                match validate_division_code(&self.code)? {
                    DivisionGrain::Province => Ok(()),
                    _ => Err(DomainError::new(
                        "supporter_code_kind_mismatch",
                        format!("省级支援方“{}”的代码应为两位", self.code),
                        format!(
                            "provincial supporter code \"{}\" must have two digits",
                            self.code
                        ),
                    )),
                }
            }
            SupporterKind::PlanCity => match validate_division_code(&self.code)? {
                DivisionGrain::Prefecture => Ok(()),
                _ => Err(DomainError::new(
                    "supporter_code_kind_mismatch",
                    format!("计划单列市“{}”的代码应为四位", self.code),
                    format!("plan-city code \"{}\" must have four digits", self.code),
                )),
            },
            SupporterKind::CentralDepartment | SupporterKind::CentralSoe => {
                validate_credit_code(&self.code)
            }
        }
    }
}

vocabulary! {
    /// Level of a recipient unit.
    RecipientLevel, "invalid_recipient_level", "受援地层级", "recipient level" {
        Region = ("region", "自治区", "region"),
        Prefecture = ("prefecture", "地州市", "prefecture"),
        County = ("county", "县市区", "county"),
        Township = ("township", "乡镇街道", "township"),
        XpccDivision = ("xpcc-division", "兵团师市", "XPCC division"),
        Regiment = ("regiment", "团场", "regiment"),
    }
}

impl RecipientLevel {
    /// Whether the unit belongs to the XPCC (兵团).
    pub fn is_xpcc(self) -> bool {
        matches!(
            self,
            RecipientLevel::XpccDivision | RecipientLevel::Regiment
        )
    }

    /// Whether funds spent here count as county level and below (基层) for the 80/80 rule.
    pub fn is_grassroots(self) -> bool {
        matches!(
            self,
            RecipientLevel::County | RecipientLevel::Township | RecipientLevel::Regiment
        )
    }
}

/// Prefecture codes of the four southern prefectures (南疆四地州).
pub const SOUTHERN_FOUR: [&str; 4] = ["6529", "6530", "6531", "6532"];

/// A recipient unit (受援地).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientUnit {
    /// GB/T 2260 code, or `XPCC-NN` / `XPCC-NN-NNN` for the Corps.
    pub code: String,
    /// Official Chinese name.
    pub name: String,
    /// Level.
    pub level: RecipientLevel,
    /// The unit above it (the county of a township, the division of a regiment).
    pub parent_code: Option<String>,
}

impl RecipientUnit {
    /// Checks that the code fits the level and sits under its parent.
    pub fn validate(&self) -> Result<(), DomainError> {
        let mismatch = || {
            DomainError::new(
                "recipient_code_level_mismatch",
                format!("受援地代码“{}”与层级“{}”不符", self.code, self.level.zh()),
                format!(
                    "recipient code \"{}\" does not fit level \"{}\"",
                    self.code,
                    self.level.en()
                ),
            )
        };
        let ok = match self.level {
            RecipientLevel::XpccDivision => !validate_xpcc_code(&self.code)?,
            RecipientLevel::Regiment => validate_xpcc_code(&self.code)?,
            level => {
                let grain = validate_division_code(&self.code)?;
                let xinjiang = self.code.starts_with("65");
                xinjiang
                    && matches!(
                        (level, grain),
                        (RecipientLevel::Region, DivisionGrain::Province)
                            | (RecipientLevel::Prefecture, DivisionGrain::Prefecture)
                            | (RecipientLevel::County, DivisionGrain::County)
                            | (RecipientLevel::Township, DivisionGrain::Township)
                    )
            }
        };
        if !ok {
            return Err(mismatch());
        }
        if let Some(parent) = &self.parent_code
            && !self.level.is_xpcc()
            && !crate::codes::division_contains(parent, &self.code)
        {
            return Err(DomainError::new(
                "recipient_parent_mismatch",
                format!("受援地“{}”不在上级“{parent}”之下", self.code),
                format!(
                    "recipient \"{}\" is not under its parent \"{parent}\"",
                    self.code
                ),
            ));
        }
        Ok(())
    }

    /// Whether the unit is in one of the four southern prefectures (南疆四地州).
    pub fn in_southern_four(&self) -> bool {
        SOUTHERN_FOUR.iter().any(|p| self.code.starts_with(p))
    }
}

vocabulary! {
    /// Level of a front command.
    CommandLevel, "invalid_command_level", "指挥部层级", "command level" {
        Headquarters = ("hq", "前方指挥部", "headquarters"),
        SubCommand = ("sub-command", "分指挥部", "sub-command"),
        WorkGroup = ("work-group", "工作组", "work group"),
    }
}

/// A supporter's front command (前方指挥部) or one of its sub-commands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrontCommand {
    /// Supporter that runs it.
    pub supporter_code: String,
    /// HQ, sub-command or work group.
    pub level: CommandLevel,
    /// Recipient unit it serves.
    pub recipient_code: String,
    /// Name, e.g. 上海市援疆前方指挥部.
    pub name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(code: &str, level: RecipientLevel, parent: Option<&str>) -> RecipientUnit {
        RecipientUnit {
            code: code.into(),
            name: "x".into(),
            level,
            parent_code: parent.map(str::to_owned),
        }
    }

    #[test]
    fn recipient_codes_fit_levels() {
        assert_eq!(
            unit("6531", RecipientLevel::Prefecture, Some("65")).validate(),
            Ok(())
        );
        assert_eq!(
            unit("653121", RecipientLevel::County, Some("6531")).validate(),
            Ok(())
        );
        assert_eq!(
            unit("XPCC-03", RecipientLevel::XpccDivision, None).validate(),
            Ok(())
        );
        assert!(
            unit("653121", RecipientLevel::Prefecture, None)
                .validate()
                .is_err()
        );
        assert!(
            unit("3101", RecipientLevel::Prefecture, None)
                .validate()
                .is_err()
        );
        assert!(
            unit("653121", RecipientLevel::County, Some("6532"))
                .validate()
                .is_err()
        );
        assert!(
            unit("XPCC-03-001", RecipientLevel::XpccDivision, None)
                .validate()
                .is_err()
        );
        assert!(unit("653121", RecipientLevel::County, None).in_southern_four());
        assert!(!unit("6505", RecipientLevel::Prefecture, None).in_southern_four());
    }

    #[test]
    fn supporter_codes_fit_kinds() {
        let s = |code: &str, kind| Supporter {
            code: code.into(),
            name: "x".into(),
            name_en: "x".into(),
            kind,
            parent_code: None,
        };
        assert_eq!(s("31", SupporterKind::Municipality).validate(), Ok(()));
        assert_eq!(s("4403", SupporterKind::PlanCity).validate(), Ok(()));
        assert_eq!(
            s("91110000802100433B", SupporterKind::CentralSoe).validate(),
            Ok(())
        );
        assert!(s("4403", SupporterKind::Province).validate().is_err());
        assert!(s("31", SupporterKind::CentralSoe).validate().is_err());
    }

    #[test]
    fn vocabulary_parses_keys_and_labels() {
        assert_eq!(RecipientLevel::parse("county"), Ok(RecipientLevel::County));
        assert_eq!(
            RecipientLevel::parse("兵团师市"),
            Ok(RecipientLevel::XpccDivision)
        );
        assert_eq!(
            RecipientLevel::parse("XPCC Division"),
            Ok(RecipientLevel::XpccDivision)
        );
        let err = RecipientLevel::parse("city").map_err(|e| e.code);
        assert_eq!(err, Err("invalid_recipient_level"));
    }
}
