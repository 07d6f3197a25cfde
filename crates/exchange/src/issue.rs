//! One problem found in an imported file, located as the user sees it in
//! Excel (sheet, 1-based row with the header as row 1, column letter and
//! header text), with the offending value, a stable code and what was
//! expected in zh-CN and English.

use std::fmt;

use serde::Serialize;
use yuanjiang_domain::DomainError;

use crate::columns::column_letter;

/// Most issues kept in a report; past it they are only counted, so that a
/// million bad rows cannot exhaust memory.
pub const MAX_ISSUES: usize = 100_000;

/// A problem with an imported file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// Stable snake_case code, e.g. `invalid_amount`.
    pub code: &'static str,
    /// Sheet name (for CSV, the file name); empty for the file as a whole.
    pub sheet: String,
    /// Row as numbered in Excel (header = 1); `None` for the file or sheet as a whole.
    pub row: Option<u32>,
    /// 0-based column; `None` for the row as a whole.
    pub column: Option<u32>,
    /// The column's header as written in the file.
    pub header: Option<String>,
    /// The offending value as read.
    pub value: Option<String>,
    /// What is wrong and what was expected, in zh-CN.
    pub zh: String,
    /// What is wrong and what was expected, in English.
    pub en: String,
}

impl Issue {
    /// An issue with the whole file.
    pub fn file(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Issue {
        Issue {
            code,
            sheet: String::new(),
            row: None,
            column: None,
            header: None,
            value: None,
            zh: zh.into(),
            en: en.into(),
        }
    }

    /// An issue from a broken domain rule, with no location yet.
    pub fn from_rule(e: DomainError) -> Issue {
        Issue::file(e.code, e.zh, e.en)
    }

    /// Places the issue in a sheet.
    pub fn at_sheet(mut self, sheet: &str) -> Issue {
        self.sheet = sheet.to_owned();
        self
    }

    /// Places the issue in a row.
    pub fn at_row(mut self, row: u32) -> Issue {
        self.row = Some(row);
        self
    }

    /// Places the issue in a cell's column, with its header.
    pub fn at_column(mut self, column: u32, header: &str) -> Issue {
        self.column = Some(column);
        self.header = Some(header.to_owned());
        self
    }

    /// Records the offending value.
    pub fn with_value(mut self, value: impl Into<String>) -> Issue {
        self.value = Some(value.into());
        self
    }

    /// The column letter, e.g. `C`.
    pub fn column_letter(&self) -> Option<String> {
        self.column.map(column_letter)
    }

    /// The cell reference, e.g. `C5`, or the row (`第5行` style is left to
    /// the caller), or nothing.
    pub fn cell(&self) -> Option<String> {
        match (self.column, self.row) {
            (Some(c), Some(r)) => Some(format!("{}{r}", column_letter(c))),
            _ => None,
        }
    }

    /// Where, in zh-CN: `工作表“项目” 第5行 C列（项目类别）`.
    pub fn location_zh(&self) -> String {
        let mut parts = Vec::new();
        if !self.sheet.is_empty() {
            parts.push(format!("工作表“{}”", self.sheet));
        }
        if let Some(r) = self.row {
            parts.push(format!("第{r}行"));
        }
        if let Some(c) = self.column_letter() {
            match &self.header {
                Some(h) => parts.push(format!("{c}列（{h}）")),
                None => parts.push(format!("{c}列")),
            }
        }
        if parts.is_empty() {
            "文件".to_owned()
        } else {
            parts.join(" ")
        }
    }

    /// Where, in English: `sheet "项目", row 5, column C (项目类别)`.
    pub fn location_en(&self) -> String {
        let mut parts = Vec::new();
        if !self.sheet.is_empty() {
            parts.push(format!("sheet \"{}\"", self.sheet));
        }
        if let Some(r) = self.row {
            parts.push(format!("row {r}"));
        }
        if let Some(c) = self.column_letter() {
            match &self.header {
                Some(h) => parts.push(format!("column {c} ({h})")),
                None => parts.push(format!("column {c}")),
            }
        }
        if parts.is_empty() {
            "file".to_owned()
        } else {
            parts.join(", ")
        }
    }

    /// Sort key: file-level first, then by sheet and row, a whole row's
    /// problems before its cells', then by column.
    pub(crate) fn sort_key(&self) -> (bool, String, u32, bool, u32) {
        (
            self.row.is_some(),
            self.sheet.clone(),
            self.row.unwrap_or(0),
            self.column.is_some(),
            self.column.unwrap_or(0),
        )
    }
}

impl fmt::Display for Issue {
    /// One line per language: location, value, code and message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value_zh = self
            .value
            .as_ref()
            .map(|v| format!(" 值“{v}”"))
            .unwrap_or_default();
        let value_en = self
            .value
            .as_ref()
            .map(|v| format!(" value \"{v}\""))
            .unwrap_or_default();
        writeln!(
            f,
            "{}{value_zh} [{}]：{}",
            self.location_zh(),
            self.code,
            self.zh
        )?;
        write!(
            f,
            "  {}{value_en} [{}]: {}",
            self.location_en(),
            self.code,
            self.en
        )
    }
}

/// Collects issues up to [`MAX_ISSUES`], counting the rest.
#[derive(Debug, Clone, Default)]
pub(crate) struct Issues {
    pub list: Vec<Issue>,
    pub suppressed: u64,
}

impl Issues {
    pub fn push(&mut self, issue: Issue) {
        if self.list.len() < MAX_ISSUES {
            self.list.push(issue);
        } else {
            self.suppressed += 1;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty() && self.suppressed == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_both_languages_with_the_cell() {
        let i = Issue::file(
            "invalid_category",
            "项目类别“x”无效",
            "category \"x\" is invalid",
        )
        .at_sheet("项目")
        .at_row(5)
        .at_column(2, "项目类别")
        .with_value("x");
        assert_eq!(i.cell().as_deref(), Some("C5"));
        let text = i.to_string();
        assert_eq!(
            text,
            "工作表“项目” 第5行 C列（项目类别） 值“x” [invalid_category]：项目类别“x”无效\n  \
             sheet \"项目\", row 5, column C (项目类别) value \"x\" [invalid_category]: category \"x\" is invalid"
        );
    }
}
