//! Cadres and professionals (援疆干部人才): batches (批次) and assignments.
//! Personal data (ID number, phone) lives here only as validated values;
//! masking is a presentation rule provided by [`mask_id_number`] and [`mask_phone`].

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::codes::validate_id_number;
use crate::{DomainError, vocabulary};

/// A supporter's rotation batch, e.g. Shanghai's 11th batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// Supporter code.
    pub supporter_code: String,
    /// Number within the supporter (第N批).
    pub number: u32,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day.
    pub end_date: NaiveDate,
}

/// A cadre's term is three years; allow a quarter for hand-over.
pub const MAX_BATCH_DAYS: i64 = 3 * 366 + 92;

impl Batch {
    /// Checks the number and the term.
    pub fn validate(&self) -> Result<(), DomainError> {
        let days = (self.end_date - self.start_date).num_days();
        if self.number == 0 || days <= 0 || days > MAX_BATCH_DAYS {
            return Err(DomainError::new(
                "invalid_batch",
                "批次编号应从1开始，期限应为正且不超过三年零一季度",
                "batch numbers start at 1, and the term must be positive and at most three years and a quarter",
            ));
        }
        Ok(())
    }
}

vocabulary! {
    /// What a person goes to Xinjiang as.
    AssignmentCategory, "invalid_assignment_category", "人员类别", "assignment category" {
        Cadre = ("cadre", "干部", "cadre"),
        Teacher = ("teacher", "教师", "teacher"),
        Doctor = ("doctor", "医生", "doctor"),
        Technician = ("technician", "专业技术人员", "technician"),
        EnterpriseManager = ("enterprise-manager", "企业经营管理人员", "enterprise manager"),
    }
}

vocabulary! {
    /// How long and in what form.
    AssignmentMode, "invalid_assignment_mode", "援疆方式", "assignment mode" {
        LongTerm = ("long-term", "长期", "long-term"),
        ShortTerm = ("short-term", "短期", "short-term"),
        Team = ("team", "组团式", "team"),
    }
}

/// One person's posting. `Debug` masks the ID number and the phone, so
/// that a record logged or put in an error message does not carry them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// Supporter that sends the person.
    pub supporter_code: String,
    /// Batch number, where the person belongs to one.
    pub batch_number: Option<u32>,
    /// Name.
    pub person_name: String,
    /// Citizen ID number (sensitive).
    pub id_number: Option<String>,
    /// Mobile phone (sensitive).
    pub phone: Option<String>,
    /// Category.
    pub category: AssignmentCategory,
    /// Mode.
    pub mode: AssignmentMode,
    /// Recipient unit where the host unit is.
    pub recipient_code: String,
    /// Host unit (接收单位), e.g. 喀什地区第二人民医院.
    pub host_unit: String,
    /// Post held.
    pub post: String,
    /// Arrival date.
    pub arrival_date: NaiveDate,
    /// Return date (planned or actual).
    pub return_date: NaiveDate,
    /// Appraisal (考核), once given.
    pub appraisal: Option<String>,
}

impl std::fmt::Debug for Assignment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Assignment")
            .field("supporter_code", &self.supporter_code)
            .field("batch_number", &self.batch_number)
            .field("person_name", &self.person_name)
            .field("id_number", &self.id_number.as_deref().map(mask_id_number))
            .field("phone", &self.phone.as_deref().map(mask_phone))
            .field("category", &self.category)
            .field("mode", &self.mode)
            .field("recipient_code", &self.recipient_code)
            .field("host_unit", &self.host_unit)
            .field("post", &self.post)
            .field("arrival_date", &self.arrival_date)
            .field("return_date", &self.return_date)
            .field("appraisal", &self.appraisal)
            .finish()
    }
}

/// Short-term professionals serve at most a year and a half.
pub const MAX_SHORT_TERM_DAYS: i64 = 549;

impl Assignment {
    /// Checks dates, term length and personal-data formats.
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.person_name.trim().is_empty() || self.host_unit.trim().is_empty() {
            return Err(DomainError::new(
                "missing_assignment_field",
                "姓名和接收单位不能为空",
                "name and host unit are required",
            ));
        }
        let days = (self.return_date - self.arrival_date).num_days();
        if days <= 0 {
            return Err(DomainError::new(
                "return_before_arrival",
                "返回日期应晚于到岗日期",
                "the return date must be after the arrival date",
            ));
        }
        let max = match self.mode {
            AssignmentMode::LongTerm => MAX_BATCH_DAYS,
            AssignmentMode::ShortTerm | AssignmentMode::Team => MAX_SHORT_TERM_DAYS,
        };
        if days > max {
            return Err(DomainError::new(
                "assignment_too_long",
                format!("{}援疆期限不能超过{max}天，实际{days}天", self.mode.zh()),
                format!(
                    "a {} assignment cannot exceed {max} days; got {days}",
                    self.mode.en()
                ),
            ));
        }
        if let Some(id) = &self.id_number {
            validate_id_number(id)?;
        }
        if let Some(phone) = &self.phone
            && !(phone.len() == 11
                && phone.starts_with('1')
                && phone.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(DomainError::new(
                "invalid_phone",
                "手机号码应为以1开头的11位数字",
                "mobile number must be 11 digits starting with 1",
            ));
        }
        Ok(())
    }

    /// Person-years served in `[from, to]`, in thousandths of a year (exact integer).
    pub fn person_milliyears(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let start = self.arrival_date.max(from);
        let end = self.return_date.min(to);
        let days = (end - start).num_days().max(0);
        days * 1000 / 365
    }
}

/// Masks an ID number to its first four and last four characters.
pub fn mask_id_number(id: &str) -> String {
    mask(id, 4, 4)
}

/// Masks a phone number to its first three and last four digits.
pub fn mask_phone(phone: &str) -> String {
    mask(phone, 3, 4)
}

fn mask(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..head].iter().collect();
    out.extend(std::iter::repeat_n('*', chars.len() - head - tail));
    out.extend(&chars[chars.len() - tail..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    fn cadre() -> Assignment {
        Assignment {
            supporter_code: "31".into(),
            batch_number: Some(11),
            person_name: "张三".into(),
            id_number: Some("11010519491231002X".into()),
            phone: Some("13812345678".into()),
            category: AssignmentCategory::Cadre,
            mode: AssignmentMode::LongTerm,
            recipient_code: "653125".into(),
            host_unit: "莎车县人民政府".into(),
            post: "副县长".into(),
            arrival_date: d(2023, 2, 1),
            return_date: d(2026, 1, 31),
            appraisal: None,
        }
    }

    #[test]
    fn assignment_rules() {
        assert_eq!(cadre().validate(), Ok(()));
        let short = Assignment {
            mode: AssignmentMode::ShortTerm,
            ..cadre()
        };
        assert_eq!(
            short.validate().map_err(|e| e.code),
            Err("assignment_too_long")
        );
        let bad_phone = Assignment {
            phone: Some("23812345678".into()),
            ..cadre()
        };
        assert_eq!(
            bad_phone.validate().map_err(|e| e.code),
            Err("invalid_phone")
        );
        let bad_id = Assignment {
            id_number: Some("110105194912310021".into()),
            ..cadre()
        };
        assert_eq!(
            bad_id.validate().map_err(|e| e.code),
            Err("invalid_id_number")
        );
    }

    #[test]
    fn person_years_are_clipped_to_the_period() {
        let a = cadre();
        assert_eq!(
            a.person_milliyears(d(2024, 1, 1), d(2024, 12, 31)),
            1000 * 365 / 365
        );
        assert_eq!(a.person_milliyears(d(2027, 1, 1), d(2027, 12, 31)), 0);
    }

    #[test]
    fn debug_output_masks_the_id_number_and_phone() {
        let a = cadre();
        let id = a.id_number.clone().expect("cadre has an ID number");
        let phone = a.phone.clone().expect("cadre has a phone");
        let shown = format!("{a:?}");
        assert!(!shown.contains(&id), "{shown}");
        assert!(!shown.contains(&phone), "{shown}");
        assert!(shown.contains(&mask_id_number(&id)), "{shown}");
        assert!(shown.contains(&a.person_name), "{shown}");
    }

    #[test]
    fn masking() {
        assert_eq!(mask_id_number("650102199001011234"), "6501**********1234");
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("123"), "***");
    }
}
