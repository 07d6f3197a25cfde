//! A cell as read from any format, and its exact conversion to the value a
//! column holds. Money never passes through floating point on its own: a
//! numeric cell holding yuan is written out in its shortest exact decimal
//! form and parsed as text, so `1234.56` is 123456 fen and `0.125` is refused.

use std::borrow::Cow;

use chrono::NaiveDate;
use yuanjiang_domain::text::trim;
use yuanjiang_domain::{DomainError, Fen};

/// One cell's content.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing.
    Empty,
    /// Text (CSV cells are always text).
    Text(String),
    /// A whole number.
    Int(i64),
    /// A number.
    Float(f64),
    /// TRUE or FALSE.
    Bool(bool),
    /// A date cell (time of day ignored only when it is midnight).
    Date(NaiveDate, bool),
    /// A spreadsheet error value such as `#DIV/0!`.
    Error(String),
}

impl Cell {
    /// Whether the cell holds nothing (or only spaces).
    pub fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            // `text::trim` answers from the end bytes for almost every cell.
            Cell::Text(s) => trim(s).is_empty(),
            _ => false,
        }
    }

    /// The cell as text, as a person would read it.
    pub fn display(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Int(i) => i.to_string(),
            Cell::Float(f) => float_text(*f),
            Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
            Cell::Date(d, _) => d.format("%Y-%m-%d").to_string(),
            Cell::Error(e) => e.clone(),
        }
    }

    /// Length in characters, for the cell limit.
    pub fn chars(&self) -> usize {
        match self {
            Cell::Text(s) | Cell::Error(s) => s.chars().count(),
            _ => 0,
        }
    }

    /// Whether the cell has more than `max` characters ([`more_chars_than`]).
    pub fn longer_than(&self, max: usize) -> bool {
        match self {
            Cell::Text(s) | Cell::Error(s) => more_chars_than(s, max),
            _ => false,
        }
    }
}

/// Whether `s` has more than `max` characters. Counted only when its bytes
/// are more: a character is at least one byte.
pub fn more_chars_than(s: &str, max: usize) -> bool {
    s.len() > max && s.chars().count() > max
}

/// The shortest decimal text that reads back as exactly this float. Rust
/// never writes an exponent here, so `1e15` is `1000000000000000`.
pub fn float_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

fn err(code: &'static str, zh: String, en: String) -> DomainError {
    DomainError::new(code, zh, en)
}

/// Reads text (codes, names, document numbers): trimmed; numbers as typed.
/// A `'` that exports put before text starting with `=`, `+`, `-` or `@`
/// (so that spreadsheets do not run it as a formula) is taken off again.
pub fn text(cell: &Cell) -> String {
    text_ref(cell).into_owned()
}

/// [`text`], borrowed from a text cell: a million-row file is read
/// without copying each cell twice.
pub fn text_ref(cell: &Cell) -> Cow<'_, str> {
    fn unquoted(s: &str) -> &str {
        let t = trim(s);
        match t.strip_prefix('\'') {
            Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
            _ => t,
        }
    }
    match cell {
        Cell::Text(s) => Cow::Borrowed(unquoted(s)),
        other => Cow::Owned(unquoted(&other.display()).to_owned()),
    }
}

/// Reads an amount in yuan. `allow_zero` is false for transactions, whose
/// amounts must be positive.
pub fn amount(cell: &Cell, allow_zero: bool) -> Result<Fen, DomainError> {
    let raw = match cell {
        Cell::Int(i) => Cow::Owned(i.to_string()),
        Cell::Float(f) if f.is_finite() => Cow::Owned(format!("{f}")),
        Cell::Text(s) => {
            let t = match trim(s) {
                t if t.starts_with(['¥', '￥']) => trim(t.trim_start_matches(['¥', '￥'])),
                t => t,
            };
            if t.contains([' ', '\u{a0}']) {
                Cow::Owned(t.replace([' ', '\u{a0}'], ""))
            } else {
                Cow::Borrowed(t)
            }
        }
        other => Cow::Owned(other.display()),
    };
    let fen: Fen = raw.parse().map_err(|_| {
        err(
            "invalid_amount",
            format!(
                "金额“{}”无效：应为以元为单位、最多两位小数的数字",
                cell.display()
            ),
            format!(
                "amount \"{}\" is invalid: expected a number of yuan with at most two decimals",
                cell.display()
            ),
        )
    })?;
    if fen.0 < 0 {
        return Err(err(
            "negative_amount",
            format!("金额“{}”为负数：金额不能为负", cell.display()),
            format!(
                "amount \"{}\" is negative: amounts must not be negative",
                cell.display()
            ),
        ));
    }
    if fen.0 == 0 && !allow_zero {
        return Err(err(
            "non_positive_amount",
            "金额应大于零".to_owned(),
            "amount must be greater than zero".to_owned(),
        ));
    }
    Ok(fen)
}

/// Reads a date: a date cell, `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYY.MM.DD`,
/// `YYYYMMDD` or `YYYY年M月D日`, with an optional midnight time after it.
pub fn date(cell: &Cell) -> Result<NaiveDate, DomainError> {
    let bad = || {
        err(
            "invalid_date",
            format!(
                "日期“{}”无效：应为 YYYY-MM-DD 格式的真实日期",
                cell.display()
            ),
            format!(
                "date \"{}\" is invalid: expected a real date as YYYY-MM-DD",
                cell.display()
            ),
        )
    };
    match cell {
        Cell::Date(d, midnight) if *midnight => Ok(*d),
        Cell::Int(i) if (10_000_101..=99_991_231).contains(i) => {
            eight_digits(&i.to_string()).ok_or_else(bad)
        }
        Cell::Text(s) => {
            let t = trim(s);
            // A time of day after the date is accepted only if it is midnight,
            // as spreadsheets write dates typed into date-time cells.
            let day = match t.split_once([' ', 'T']) {
                Some((d, time)) if time.trim_start_matches(['0', ':', '.']).is_empty() => d,
                Some(_) => return Err(bad()),
                None => t,
            };
            if day.len() == 8 && day.bytes().all(|b| b.is_ascii_digit()) {
                return eight_digits(day).ok_or_else(bad);
            }
            // The common `YYYY-MM-DD` without chrono's format parser, which
            // was a tenth of the time spent reading a large file.
            if let [y @ .., b'-', _, _, b'-', _, _] = day.as_bytes()
                && y.len() == 4
                && day.bytes().filter(u8::is_ascii_digit).count() == 8
            {
                return ymd(&day[0..4], &day[5..7], &day[8..10]).ok_or_else(bad);
            }
            let formats = ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日"];
            formats
                .iter()
                .find_map(|f| NaiveDate::parse_from_str(day, f).ok())
                // chrono takes more than four digits for %Y; years are four.
                .filter(|d| (1000..=9999).contains(&chrono::Datelike::year(d)))
                .ok_or_else(bad)
        }
        _ => Err(bad()),
    }
}

/// `YYYYMMDD` as a date.
fn eight_digits(s: &str) -> Option<NaiveDate> {
    ymd(s.get(0..4)?, s.get(4..6)?, s.get(6..8)?)
}

/// A date from its year, month and day digits.
fn ymd(y: &str, m: &str, d: &str) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// Reads yes or no: 是/否, true/false, yes/no, y/n, 1/0, √/×, or a TRUE/FALSE cell.
pub fn flag(cell: &Cell) -> Result<bool, DomainError> {
    let v = match cell {
        Cell::Bool(b) => Some(*b),
        Cell::Int(1) => Some(true),
        Cell::Int(0) => Some(false),
        Cell::Float(f) if *f == 1.0 => Some(true),
        Cell::Float(f) if *f == 0.0 => Some(false),
        Cell::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
            "是" | "true" | "yes" | "y" | "1" | "√" | "✓" => Some(true),
            "否" | "false" | "no" | "n" | "0" | "×" | "✗" => Some(false),
            _ => None,
        },
        _ => None,
    };
    v.ok_or_else(|| {
        err(
            "invalid_flag",
            format!("“{}”无效：应为“是”或“否”", cell.display()),
            format!(
                "\"{}\" is invalid: expected yes or no (是/否, true/false)",
                cell.display()
            ),
        )
    })
}

/// Reads a four-digit year.
pub fn year(cell: &Cell) -> Result<i32, DomainError> {
    let v = match cell {
        Cell::Int(i) => i32::try_from(*i).ok(),
        Cell::Float(f) if f.fract() == 0.0 && f.abs() < 1e6 => Some(*f as i32),
        Cell::Text(s) => s.trim().trim_end_matches('年').parse().ok(),
        _ => None,
    };
    v.filter(|y| (1000..=9999).contains(y)).ok_or_else(|| {
        err(
            "invalid_year",
            format!("年度“{}”无效：应为四位年份", cell.display()),
            format!(
                "year \"{}\" is invalid: expected a four-digit year",
                cell.display()
            ),
        )
    })
}

/// Reads a measured number (not money): finite, commas allowed.
pub fn number(cell: &Cell) -> Result<f64, DomainError> {
    let v = match cell {
        Cell::Int(i) => Some(*i as f64),
        Cell::Float(f) => Some(*f),
        Cell::Text(s) => s.trim().replace(',', "").parse::<f64>().ok(),
        _ => None,
    };
    v.filter(|f| f.is_finite()).ok_or_else(|| {
        err(
            "invalid_number",
            format!("“{}”无效：应为数值", cell.display()),
            format!("\"{}\" is invalid: expected a number", cell.display()),
        )
    })
}

/// Reads a period: `YYYY` or `YYYY-MM` (a year typed as a number works too).
pub fn period(cell: &Cell) -> Result<String, DomainError> {
    let t = text(cell);
    yuanjiang_domain::indicator::validate_period(&t)?;
    Ok(t)
}

/// Reads a citizen ID number (GB 11643) in its stored spelling: spaces
/// dropped, a final `x` as `X`. The value is never echoed in the message:
/// it is personal data. A number cell is refused, since a spreadsheet keeps
/// only 15 significant digits of a number and the last ones are lost.
pub fn id_number(cell: &Cell) -> Result<String, DomainError> {
    if matches!(cell, Cell::Float(_)) {
        return Err(err(
            "id_number_not_text",
            "身份证号码被存成了数字，末几位可能已经丢失：请把该列设为文本格式后重新填写".to_owned(),
            "the ID number is stored as a number, so its last digits may be lost: format the column as text and type it again".to_owned(),
        ));
    }
    let t: String = text(cell)
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| if c == 'x' { 'X' } else { c })
        .collect();
    if t.contains('*') {
        return Err(masked("身份证号码", "ID number"));
    }
    yuanjiang_domain::codes::validate_id_number(&t)?;
    Ok(t)
}

/// Reads a mobile number: 11 digits starting with 1, spaces and hyphens dropped.
pub fn phone(cell: &Cell) -> Result<String, DomainError> {
    let t: String = text(cell)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if t.contains('*') {
        return Err(masked("手机号码", "phone number"));
    }
    if t.len() == 11 && t.starts_with('1') && t.bytes().all(|b| b.is_ascii_digit()) {
        Ok(t)
    } else {
        Err(err(
            "invalid_phone",
            "手机号码无效".to_owned(),
            "the mobile number is invalid".to_owned(),
        ))
    }
}

/// A masked value read back: the file came from an export without full personal data.
fn masked(zh: &str, en: &str) -> DomainError {
    err(
        "masked_personal_data",
        format!(
            "{zh}已脱敏（含*号），无法导入：请使用有权查看个人信息的账号导出完整数据（--personal-data full），或填写完整号码"
        ),
        format!(
            "the {en} is masked (it holds *), so it cannot be imported: export with full personal data (--personal-data full) as a user who may see it, or type the full number; expected the full value"
        ),
    )
}

/// Reads a batch number: a whole number from 1, or `第N批`.
pub fn batch_number(cell: &Cell) -> Result<u32, DomainError> {
    let v = match cell {
        Cell::Int(i) => u32::try_from(*i).ok(),
        Cell::Float(f) if f.fract() == 0.0 && *f >= 0.0 && *f < 1e6 => Some(*f as u32),
        Cell::Text(s) => {
            let t = s.trim();
            let t = t.strip_prefix('第').unwrap_or(t);
            let t = t.strip_suffix('批').unwrap_or(t);
            t.trim().parse::<u32>().ok()
        }
        _ => None,
    };
    v.filter(|n| *n >= 1).ok_or_else(|| {
        err(
            "invalid_batch_number",
            format!("批次“{}”无效", cell.display()),
            format!("batch \"{}\" is invalid", cell.display()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_data_cells() {
        let t = |s: &str| Cell::Text(s.into());
        assert_eq!(
            id_number(&t(" 11010519491231002x ")),
            Ok("11010519491231002X".to_owned())
        );
        assert_eq!(
            id_number(&t("110105194912310021")).map_err(|e| e.code),
            Err("invalid_id_number")
        );
        assert_eq!(
            id_number(&t("1101**********002X")).map_err(|e| e.code),
            Err("masked_personal_data")
        );
        assert_eq!(
            id_number(&Cell::Float(110_105_194_912_310_020.0)).map_err(|e| e.code),
            Err("id_number_not_text")
        );
        assert_eq!(phone(&t("138-1234-5678")), Ok("13812345678".to_owned()));
        assert_eq!(
            phone(&Cell::Float(13_812_345_678.0)),
            Ok("13812345678".to_owned())
        );
        assert_eq!(
            phone(&t("2381234567")).map_err(|e| e.code),
            Err("invalid_phone")
        );
        assert_eq!(batch_number(&t("第11批")), Ok(11));
        assert_eq!(batch_number(&Cell::Float(7.0)), Ok(7));
        assert!(batch_number(&t("0")).is_err());
        assert!(batch_number(&t("十一")).is_err());
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn text_is_read_without_copies_and_counted_in_characters() {
        let t = |s: &str| Cell::Text(s.into());
        // A plain cell is borrowed, trimmed; an exported formula guard is taken off.
        assert!(matches!(
            text_ref(&t(" 湘财援〔2024〕1号 ")),
            Cow::Borrowed("湘财援〔2024〕1号")
        ));
        assert_eq!(text_ref(&t("'=SUM(A1)")), "=SUM(A1)");
        assert_eq!(text_ref(&t("'abc")), "'abc");
        assert_eq!(text_ref(&Cell::Int(42)), "42");
        // Blank: ASCII and ideographic spaces; a visible first byte is not.
        assert!(t(" \u{3000} ").is_blank());
        assert!(!t("\u{3000}援").is_blank());
        assert!(!t("a").is_blank());
        // Six bytes, two characters: the limit is in characters.
        assert!(!t("援疆").longer_than(2));
        assert!(t("援疆").longer_than(1));
        assert!(!Cell::Int(123_456).longer_than(1));
        // Amounts with spaces or a yuan sign, and without.
        assert_eq!(amount(&t(" ¥1 234.50 "), false), Ok(Fen(123_450)));
        assert_eq!(amount(&t("1234.5"), false), Ok(Fen(123_450)));
    }

    #[test]
    fn amounts_are_exact() {
        let t = |s: &str| Cell::Text(s.into());
        assert_eq!(amount(&t("1234.56"), true), Ok(Fen(123_456)));
        assert_eq!(amount(&t(" ¥1,234.5 "), true), Ok(Fen(123_450)));
        assert_eq!(amount(&Cell::Float(1234.56), true), Ok(Fen(123_456)));
        assert_eq!(
            amount(&Cell::Float(0.1 + 0.2), true).map_err(|e| e.code),
            Err("invalid_amount")
        );
        assert_eq!(
            amount(&Cell::Float(12.345), true).map_err(|e| e.code),
            Err("invalid_amount")
        );
        assert_eq!(amount(&Cell::Int(7), true), Ok(Fen(700)));
        assert_eq!(
            amount(&Cell::Float(1e15), true),
            Ok(Fen(100_000_000_000_000_000))
        );
        assert_eq!(
            amount(&t("-5"), true).map_err(|e| e.code),
            Err("negative_amount")
        );
        assert_eq!(
            amount(&t("0"), false).map_err(|e| e.code),
            Err("non_positive_amount")
        );
        assert_eq!(
            amount(&t("12元"), true).map_err(|e| e.code),
            Err("invalid_amount")
        );
        assert_eq!(
            amount(&Cell::Float(f64::NAN), true).map_err(|e| e.code),
            Err("invalid_amount")
        );
    }

    #[test]
    fn dates_in_the_usual_spellings() {
        for s in [
            "2024-03-01",
            "2024/3/1",
            "2024.03.01",
            "20240301",
            "2024年3月1日",
            "2024-03-01 00:00:00",
        ] {
            assert_eq!(date(&Cell::Text(s.into())), Ok(d("2024-03-01")), "{s}");
        }
        assert_eq!(
            date(&Cell::Date(d("2024-03-01"), true)),
            Ok(d("2024-03-01"))
        );
        assert_eq!(date(&Cell::Int(20_240_301)), Ok(d("2024-03-01")));
        for s in [
            "2024-02-30",
            "01/03/2024",
            "2024311",
            "2024-03-01 12:00",
            "x",
        ] {
            assert_eq!(
                date(&Cell::Text(s.into())).map_err(|e| e.code),
                Err("invalid_date"),
                "{s}"
            );
        }
        assert!(date(&Cell::Float(45_352.0)).is_err());
        assert!(date(&Cell::Date(d("2024-03-01"), false)).is_err());
    }

    #[test]
    fn flags_years_numbers() {
        assert_eq!(flag(&Cell::Text("是".into())), Ok(true));
        assert_eq!(flag(&Cell::Text("FALSE".into())), Ok(false));
        assert_eq!(flag(&Cell::Bool(true)), Ok(true));
        assert!(flag(&Cell::Text("maybe".into())).is_err());
        assert_eq!(year(&Cell::Float(2024.0)), Ok(2024));
        assert_eq!(year(&Cell::Text("2024年".into())), Ok(2024));
        assert!(year(&Cell::Text("24".into())).is_err());
        assert_eq!(number(&Cell::Text("1,200.5".into())), Ok(1200.5));
        assert!(number(&Cell::Text("inf".into())).is_err());
        assert_eq!(text(&Cell::Float(6531.0)), "6531");
        assert_eq!(text(&Cell::Text("'=1+1".into())), "=1+1");
        assert_eq!(text(&Cell::Text("'tis".into())), "'tis");
        assert_eq!(period(&Cell::Int(2024)), Ok("2024".to_owned()));
    }
}
