//! The columns of every exchanged table: one definition per column with its
//! storage key, zh-CN and English headers and what it holds. Imports match
//! headers against it (any of the three names, in any order), templates and
//! exports write it, so the three never disagree.

use yuanjiang_domain::{
    AssignmentCategory, AssignmentMode, Category, DeliveryMode, DomainError, FundType, ProjectKind,
    ProjectState,
};

/// What is exchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Projects (援疆项目), keyed by code.
    Projects,
    /// Fund transactions (资金), keyed by project, type, date and document number.
    Transactions,
    /// Indicators and their actual values (绩效指标), keyed by project, name and period.
    Indicators,
    /// Pairings (结对关系); export only.
    Pairings,
    /// Cadres' and professionals' postings (援疆干部人才), keyed by supporter,
    /// batch and ID number. They carry personal data.
    Assignments,
}

impl Kind {
    /// Kinds that can be imported, in the order they are written.
    pub const IMPORTABLE: [Kind; 4] = [
        Kind::Projects,
        Kind::Transactions,
        Kind::Indicators,
        Kind::Assignments,
    ];

    /// The key used on the command line and in the import history.
    pub fn key(self) -> &'static str {
        match self {
            Kind::Projects => "projects",
            Kind::Transactions => "transactions",
            Kind::Indicators => "indicators",
            Kind::Pairings => "pairings",
            Kind::Assignments => "assignments",
        }
    }

    /// The zh-CN name, also the sheet name in templates and exports.
    pub fn zh(self) -> &'static str {
        match self {
            Kind::Projects => "项目",
            Kind::Transactions => "资金",
            Kind::Indicators => "指标",
            Kind::Pairings => "结对关系",
            Kind::Assignments => "干部人才",
        }
    }

    /// Parses a key (`projects`) or zh-CN name (`项目`).
    pub fn parse(s: &str) -> Result<Kind, DomainError> {
        let t = s.trim();
        [
            Kind::Projects,
            Kind::Transactions,
            Kind::Indicators,
            Kind::Pairings,
            Kind::Assignments,
        ]
        .into_iter()
        .find(|k| k.key() == t || k.zh() == t)
        .ok_or_else(|| {
            DomainError::new(
                "invalid_kind",
                format!(
                    "数据类型“{t}”无效，可选值：projects、transactions、indicators、pairings、assignments"
                ),
                format!(
                    "kind \"{t}\" is invalid; expected one of: projects, transactions, indicators, pairings, assignments"
                ),
            )
        })
    }

    /// The columns of this kind, in file order.
    pub fn columns(self) -> &'static [Column] {
        match self {
            Kind::Projects => PROJECT_COLUMNS,
            Kind::Transactions => TRANSACTION_COLUMNS,
            Kind::Indicators => INDICATOR_COLUMNS,
            Kind::Pairings => PAIRING_COLUMNS,
            Kind::Assignments => ASSIGNMENT_COLUMNS,
        }
    }

    /// The position of the column with `key`.
    pub fn position(self, key: &str) -> Option<usize> {
        self.columns().iter().position(|c| c.key == key)
    }
}

/// What a column holds, which decides how a cell is read and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// Free text up to the cell limit.
    Text,
    /// An identifier (project code, division code…): text, kept as typed.
    Code,
    /// A date: `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYYMMDD` or a date cell.
    Date,
    /// Yuan with at most two decimals, stored as fen.
    Amount,
    /// Yes or no: 是/否, true/false, 1/0.
    Flag,
    /// A four-digit year.
    Year,
    /// A measured number (indicators), not money.
    Number,
    /// A period: `YYYY` or `YYYY-MM`.
    Period,
    /// A project category.
    Category,
    /// A delivery mode.
    DeliveryMode,
    /// Construction or not.
    ProjectKind,
    /// A lifecycle state.
    State,
    /// A fund transaction type.
    FundType,
    /// A pairing scope (export only).
    PairingScope,
    /// A batch number (第N批): a whole number from 1; blank for none.
    BatchNumber,
    /// A citizen ID number (GB 11643), personal data.
    IdNumber,
    /// A mobile phone number, personal data.
    Phone,
    /// What a person goes to Xinjiang as (cadre, teacher…).
    AssignmentCategory,
    /// Long-term, short-term or team.
    AssignmentMode,
}

impl ColumnType {
    /// The allowed values as (key, zh-CN, English), for closed vocabularies.
    pub fn choices(self) -> Option<Vec<(&'static str, &'static str, &'static str)>> {
        fn all<T: Copy>(
            values: &[T],
            f: impl Fn(T) -> (&'static str, &'static str, &'static str),
        ) -> Vec<(&'static str, &'static str, &'static str)> {
            values.iter().map(|v| f(*v)).collect()
        }
        match self {
            ColumnType::Category => Some(all(Category::ALL, |v| (v.key(), v.zh(), v.en()))),
            ColumnType::DeliveryMode => Some(all(DeliveryMode::ALL, |v| (v.key(), v.zh(), v.en()))),
            ColumnType::ProjectKind => Some(all(ProjectKind::ALL, |v| (v.key(), v.zh(), v.en()))),
            ColumnType::State => Some(all(ProjectState::ALL, |v| (v.key(), v.zh(), v.en()))),
            ColumnType::FundType => Some(all(FundType::ALL, |v| (v.key(), v.zh(), v.en()))),
            ColumnType::PairingScope => Some(all(yuanjiang_domain::PairingScope::ALL, |v| {
                (v.key(), v.zh(), v.en())
            })),
            ColumnType::AssignmentCategory => {
                Some(all(AssignmentCategory::ALL, |v| (v.key(), v.zh(), v.en())))
            }
            ColumnType::AssignmentMode => {
                Some(all(AssignmentMode::ALL, |v| (v.key(), v.zh(), v.en())))
            }
            ColumnType::Flag => Some(vec![("true", "是", "yes"), ("false", "否", "no")]),
            _ => None,
        }
    }

    /// What a cell must hold, in zh-CN and English, for error reports and notes.
    pub fn expected(self) -> (String, String) {
        let list = |sep: &str, zh: bool| {
            self.choices()
                .map(|c| {
                    c.iter()
                        .map(|(_, z, e)| if zh { *z } else { *e })
                        .collect::<Vec<_>>()
                        .join(sep)
                })
                .unwrap_or_default()
        };
        match self {
            ColumnType::Text => ("文本".into(), "text".into()),
            ColumnType::Code => ("代码（文本）".into(), "a code (text)".into()),
            ColumnType::Date => (
                "日期，格式 YYYY-MM-DD（也接受 YYYY/MM/DD 或日期单元格）".into(),
                "a date as YYYY-MM-DD (YYYY/MM/DD or a date cell also work)".into(),
            ),
            ColumnType::Amount => (
                "以元为单位的金额，最多两位小数，不能为负".into(),
                "an amount in yuan with at most two decimals, not negative".into(),
            ),
            ColumnType::Year => (
                "四位年份，如 2024".into(),
                "a four-digit year such as 2024".into(),
            ),
            ColumnType::Number => ("数值".into(), "a number".into()),
            ColumnType::Period => (
                "期间，格式 YYYY 或 YYYY-MM".into(),
                "a period as YYYY or YYYY-MM".into(),
            ),
            ColumnType::BatchNumber => (
                "批次编号，从1起的整数，如 11 或“第11批”；留空表示不属于任何批次".into(),
                "a batch number from 1, such as 11 or 第11批; blank for none".into(),
            ),
            ColumnType::IdNumber => (
                "18位居民身份证号码（GB 11643），最后一位为校验码（数字或X），单元格须为文本格式".into(),
                "an 18-character citizen ID number (GB 11643) ending in its check character (a digit or X), in a text cell".into(),
            ),
            ColumnType::Phone => (
                "以1开头的11位手机号码".into(),
                "an 11-digit mobile number starting with 1".into(),
            ),
            _ => (
                format!("以下之一：{}", list("、", true)),
                format!("one of: {}", list(", ", false)),
            ),
        }
    }
}

/// One column of an exchanged table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Storage key, also accepted as a header and used in JSON.
    pub key: &'static str,
    /// zh-CN header, as written in templates and exports.
    pub zh: &'static str,
    /// English header, for `--english` exports.
    pub en: &'static str,
    /// Other headers people use for it.
    pub aliases: &'static [&'static str],
    /// Whether every row needs a value (a missing optional value keeps the stored one).
    pub required: bool,
    /// What it holds.
    pub ty: ColumnType,
}

const fn col(
    key: &'static str,
    zh: &'static str,
    en: &'static str,
    aliases: &'static [&'static str],
    required: bool,
    ty: ColumnType,
) -> Column {
    Column {
        key,
        zh,
        en,
        aliases,
        required,
        ty,
    }
}

use ColumnType as T;

/// Columns of the projects table. The keys are the field names of `Project`.
pub const PROJECT_COLUMNS: &[Column] = &[
    col(
        "code",
        "项目编号",
        "project code",
        &["项目代码"],
        true,
        T::Code,
    ),
    col("name", "项目名称", "project name", &[], true, T::Text),
    col(
        "category",
        "项目类别",
        "category",
        &["类别"],
        true,
        T::Category,
    ),
    col(
        "delivery_mode",
        "建设方式",
        "delivery mode",
        &["实施方式"],
        true,
        T::DeliveryMode,
    ),
    col(
        "kind",
        "项目性质",
        "project kind",
        &[],
        true,
        T::ProjectKind,
    ),
    col("year", "计划年度", "plan year", &["年度"], true, T::Year),
    col(
        "in_plan",
        "规划内",
        "in plan",
        &["是否规划内"],
        false,
        T::Flag,
    ),
    col(
        "continued",
        "续建",
        "continued",
        &["是否续建"],
        false,
        T::Flag,
    ),
    col(
        "grassroots",
        "县及县以下",
        "grassroots",
        &["是否县及县以下", "基层"],
        false,
        T::Flag,
    ),
    col(
        "livelihood",
        "民生",
        "livelihood",
        &["是否民生"],
        false,
        T::Flag,
    ),
    col(
        "supporter_code",
        "支援方代码",
        "supporter code",
        &["supporter", "支援方"],
        true,
        T::Code,
    ),
    col(
        "recipient_code",
        "受援地代码",
        "recipient code",
        &["recipient", "受援地"],
        true,
        T::Code,
    ),
    col(
        "location_code",
        "项目地点代码",
        "location code",
        &["location", "项目地点"],
        true,
        T::Code,
    ),
    col(
        "planned_investment",
        "计划总投资（元）",
        "planned investment (yuan)",
        &[],
        true,
        T::Amount,
    ),
    col(
        "aid_funds",
        "援疆资金（元）",
        "aid funds (yuan)",
        &[],
        true,
        T::Amount,
    ),
    col(
        "matching_funds",
        "配套资金（元）",
        "matching funds (yuan)",
        &[],
        false,
        T::Amount,
    ),
    col(
        "start_date",
        "计划开工日期",
        "start date",
        &["开工日期"],
        true,
        T::Date,
    ),
    col(
        "end_date",
        "计划完工日期",
        "end date",
        &["完工日期"],
        true,
        T::Date,
    ),
    col("state", "项目状态", "state", &["状态"], true, T::State),
    col(
        "published",
        "是否公开",
        "published",
        &["公开"],
        false,
        T::Flag,
    ),
    col(
        "description",
        "项目简介",
        "description",
        &["简介", "项目描述"],
        false,
        T::Text,
    ),
];

/// Columns of the fund transactions table. The keys are the field names of `FundTransaction`.
pub const TRANSACTION_COLUMNS: &[Column] = &[
    col(
        "project_code",
        "项目编号",
        "project code",
        &["项目代码"],
        true,
        T::Code,
    ),
    col(
        "fund_type",
        "资金类型",
        "fund type",
        &["类型"],
        true,
        T::FundType,
    ),
    col(
        "amount",
        "金额（元）",
        "amount (yuan)",
        &[],
        true,
        T::Amount,
    ),
    col("date", "日期", "date", &["发生日期"], true, T::Date),
    col(
        "document_no",
        "文号",
        "document number",
        &["document no"],
        true,
        T::Code,
    ),
    col("note", "备注", "note", &[], false, T::Text),
];

/// Columns of the indicators table: one row per indicator and period.
pub const INDICATOR_COLUMNS: &[Column] = &[
    col(
        "project_code",
        "项目编号",
        "project code",
        &["项目代码"],
        true,
        T::Code,
    ),
    col(
        "name",
        "指标名称",
        "indicator",
        &["指标", "indicator name"],
        true,
        T::Text,
    ),
    col("unit", "计量单位", "unit", &["单位"], true, T::Text),
    col("baseline", "基期值", "baseline", &[], true, T::Number),
    col("target", "目标值", "target", &[], true, T::Number),
    col("period", "期间", "period", &[], false, T::Period),
    col("actual", "实际值", "actual", &[], false, T::Number),
];

/// Columns of the pairings table (export only).
pub const PAIRING_COLUMNS: &[Column] = &[
    col(
        "supporter_code",
        "支援方代码",
        "supporter code",
        &[],
        true,
        T::Code,
    ),
    col(
        "recipient_code",
        "受援地代码",
        "recipient code",
        &[],
        true,
        T::Code,
    ),
    col("scope", "结对范围", "scope", &[], true, T::PairingScope),
    col("valid_from", "起始日期", "valid from", &[], true, T::Date),
    col("valid_to", "终止日期", "valid to", &[], false, T::Date),
    col("confidence", "可信度", "confidence", &[], true, T::Text),
];

/// Columns of the assignments table. The keys are the field names of
/// `Assignment`; the natural key is supporter, batch and ID number.
pub const ASSIGNMENT_COLUMNS: &[Column] = &[
    col(
        "supporter_code",
        "支援方代码",
        "supporter code",
        &["supporter", "支援方", "派出方代码"],
        true,
        T::Code,
    ),
    col(
        "batch_number",
        "批次",
        "batch",
        &["批次编号", "batch number", "第几批"],
        false,
        T::BatchNumber,
    ),
    col("person_name", "姓名", "person name", &[], true, T::Text),
    col(
        "id_number",
        "身份证号码",
        "ID number",
        &["身份证号", "公民身份号码", "citizen ID number"],
        true,
        T::IdNumber,
    ),
    col(
        "phone",
        "手机号码",
        "phone",
        &["手机号", "联系电话", "mobile"],
        false,
        T::Phone,
    ),
    col(
        "category",
        "人员类别",
        "category",
        &["类别"],
        true,
        T::AssignmentCategory,
    ),
    col(
        "mode",
        "援疆方式",
        "mode",
        &["方式"],
        true,
        T::AssignmentMode,
    ),
    col(
        "recipient_code",
        "受援地代码",
        "recipient code",
        &["recipient", "受援地"],
        true,
        T::Code,
    ),
    col(
        "host_unit",
        "接收单位",
        "host unit",
        &["挂职单位", "工作单位"],
        true,
        T::Text,
    ),
    col(
        "post",
        "职务",
        "post",
        &["岗位", "挂任职务"],
        false,
        T::Text,
    ),
    col(
        "arrival_date",
        "到岗日期",
        "arrival date",
        &["进疆日期"],
        true,
        T::Date,
    ),
    col(
        "return_date",
        "返回日期",
        "return date",
        &["期满日期", "离疆日期"],
        true,
        T::Date,
    ),
    col(
        "appraisal",
        "考核结果",
        "appraisal",
        &["考核"],
        false,
        T::Text,
    ),
];

/// A header as compared: no spaces, underscores, hyphens or trailing `*`,
/// ASCII lower case, full-width brackets as ASCII, and a trailing unit
/// `(元)`/`(yuan)` dropped (amounts are always in yuan).
pub fn normalise_header(s: &str) -> String {
    let mut out: String = s
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '_' | '-' | '*' | '＊'))
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    for unit in ["(元)", "(yuan)"] {
        if let Some(stripped) = out.strip_suffix(unit) {
            out = stripped.to_owned();
        }
    }
    out
}

/// Whether a header names amounts in 万元 (ten thousand yuan): such a file
/// would be read 10,000 times too small, so it is refused.
pub fn header_in_wan_yuan(s: &str) -> bool {
    let n = normalise_header(s);
    n.contains("万元") || n.contains("10kyuan")
}

/// Headers that number rows for people and carry no data (序号, No.).
pub fn is_row_number_header(s: &str) -> bool {
    matches!(
        normalise_header(s).as_str(),
        "序号" | "#" | "no." | "no" | "行号" | "index"
    )
}

impl Column {
    /// Whether `header` names this column (key, zh-CN, English or an alias).
    pub fn matches(&self, header: &str) -> bool {
        let h = normalise_header(header);
        !h.is_empty()
            && (h == normalise_header(self.key)
                || h == normalise_header(self.zh)
                || h == normalise_header(self.en)
                || self.aliases.iter().any(|a| h == normalise_header(a)))
    }

    /// The header written in files: zh-CN, or English when asked.
    pub fn header(&self, english: bool) -> &'static str {
        if english { self.en } else { self.zh }
    }
}

/// The importable kind whose columns a header row names most, if it names
/// at least two of them.
pub fn classify(headers: &[String]) -> Option<Kind> {
    let mut best: Option<(Kind, usize)> = None;
    for kind in Kind::IMPORTABLE {
        let n = kind
            .columns()
            .iter()
            .filter(|c| headers.iter().any(|h| c.matches(h)))
            .count();
        if n >= 2 && best.is_none_or(|(_, m)| n > m) {
            best = Some((kind, n));
        }
    }
    best.map(|(k, _)| k)
}

/// The spreadsheet letter of a 0-based column: 0 → A, 26 → AA.
pub fn column_letter(index: u32) -> String {
    let mut n = index + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        out.push(char::from(b'A' + rem as u8));
        n = (n - 1) / 26;
    }
    out.iter().rev().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_match_in_any_language() {
        let c = &PROJECT_COLUMNS[13];
        assert_eq!(c.key, "planned_investment");
        for h in [
            "计划总投资（元）",
            "计划总投资(元)",
            "计划总投资",
            "planned_investment",
            "Planned Investment (yuan)",
            " 计划总投资（元）* ",
        ] {
            assert!(c.matches(h), "{h}");
        }
        assert!(!c.matches("援疆资金"));
        assert!(header_in_wan_yuan("计划总投资（万元）"));
        assert!(!header_in_wan_yuan("计划总投资（元）"));
    }

    #[test]
    fn classifies_and_letters() {
        let h = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            classify(&h(&["项目编号", "资金类型", "金额（元）"])),
            Some(Kind::Transactions)
        );
        assert_eq!(
            classify(&h(&["code", "name", "category"])),
            Some(Kind::Projects)
        );
        assert_eq!(classify(&h(&["说明", "Instructions"])), None);
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }
}
