//! Exports of any list, with the API's filters, as CSV (UTF-8 with BOM, so
//! that Excel and WPS open it right), xlsx or JSON. Rows are read from the
//! store a page at a time by keyset (`id > last`) and written at once, so a
//! million transactions export in constant memory and there is no row cap;
//! xlsx uses rust_xlsxwriter's constant-memory mode and rolls over to a new
//! sheet at Excel's 1,048,576-row limit.
//!
//! Files use the import's columns and spellings, so an exported projects,
//! transactions, indicators or assignments file imports back unchanged.
//!
//! Assignments carry personal data. Their ID numbers and phones are masked
//! (`6501**********1234`, `138****5678`) unless the export asks for them in
//! full, which only a user who may see them (`Viewer::may_see_personal_data`:
//! the region, or the sending front command for its own people) may do; a
//! masked file cannot be imported back, a full one can.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use yuanjiang_domain::codes::{validate_credit_code, validate_division_code, validate_xpcc_code};
use yuanjiang_domain::personnel::{mask_id_number, mask_phone};
use yuanjiang_domain::{
    Assignment, Category, DomainError, Fen, FundTransaction, Pairing, Principal, Project,
    ProjectState, Role, Viewer,
};
use yuanjiang_store::exchange::IndicatorExportRow;
use yuanjiang_store::{AssignmentFilter, MAX_ASSIGNMENT_PAGE, PersonalData, ProjectFilter, Store};

use crate::cell::float_text;
use crate::columns::{Column, Kind};
use crate::error::ExchangeError;

/// Rows fetched per page.
const PAGE: u32 = 5_000;

/// Excel's last row (1-based) on a sheet; a sheet holds the header and 1,048,575 rows.
pub const XLSX_MAX_ROWS: u32 = 1_048_576;

/// The file format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// UTF-8 CSV with a byte-order mark.
    Csv,
    /// Excel workbook.
    Xlsx,
    /// A JSON array of objects, amounts in fen.
    Json,
}

impl ExportFormat {
    /// Parses `csv`, `xlsx` or `json`.
    pub fn parse(s: &str) -> Result<ExportFormat, DomainError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(ExportFormat::Csv),
            "xlsx" => Ok(ExportFormat::Xlsx),
            "json" => Ok(ExportFormat::Json),
            other => Err(DomainError::new(
                "invalid_format",
                format!("格式“{other}”无效，可选值：csv、xlsx、json"),
                format!("format \"{other}\" is invalid; expected one of: csv, xlsx, json"),
            )),
        }
    }
}

/// What to export and how.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// Which list.
    pub what: Kind,
    /// File format.
    pub format: ExportFormat,
    /// Filters, with the caller's scope already applied.
    pub filter: ProjectFilter,
    /// English headers and vocabulary keys instead of Chinese headers and labels.
    pub english: bool,
}

/// How assignments are exported by [`export_assignments`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeopleExport {
    /// Whose view: the records they may read, and whether they may see
    /// personal data. `None` is the operator of the command line: every
    /// record, personal data masked.
    pub viewer: Option<Viewer>,
    /// Supporter, recipient and batch filters (see [`parse_assignment_filter`]).
    pub filter: AssignmentFilter,
    /// ID numbers and phones masked (the default) or in full.
    pub personal_data: PersonalDataExport,
}

/// Whether exported ID numbers and phones are masked or in full.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PersonalDataExport {
    /// `6501**********1234`, `138****5678`: for reading, not for re-import.
    #[default]
    Masked,
    /// In full, for a round trip: only for a viewer who may see them.
    Full,
}

impl PersonalDataExport {
    /// Parses `masked` or `full`.
    pub fn parse(s: &str) -> Result<PersonalDataExport, DomainError> {
        match s.trim() {
            "masked" => Ok(PersonalDataExport::Masked),
            "full" => Ok(PersonalDataExport::Full),
            other => Err(DomainError::new(
                "invalid_personal_data",
                format!("个人信息导出方式“{other}”无效，可选值：masked、full"),
                format!("personal data \"{other}\" is invalid; expected one of: masked, full"),
            )),
        }
    }
}

/// Parses the filters of an assignments export: `supporter` (with the
/// supporters under it), `recipient` (with everything under it), `batch`.
pub fn parse_assignment_filter(pairs: &[String]) -> Result<AssignmentFilter, DomainError> {
    let mut f = AssignmentFilter::default();
    let mut rest = Vec::new();
    for pair in pairs {
        match pair.split_once('=') {
            Some((name, v)) if name.trim() == "batch" => {
                let v = v.trim();
                f.batch = Some(v.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                    DomainError::new(
                        "invalid_filter",
                        format!("筛选条件 batch 的值“{v}”无效：应为从1起的整数"),
                        format!("filter batch: \"{v}\" is invalid: expected a whole number from 1"),
                    )
                })?);
            }
            _ => rest.push(pair.clone()),
        }
    }
    let common = parse_filter(Kind::Assignments, &rest)?;
    f.supporter = common.supporter;
    f.recipient = common.recipient;
    Ok(f)
}

/// Parses `name=value` filters with the API's names: `supporter`,
/// `recipient`, `category`, `state`, `year` (plan year; for transactions
/// the transaction's year, as in the fund statistics), `in_plan`,
/// `continued`, `grassroots`, `livelihood`, `xpcc`. Pairings take
/// `supporter` and `recipient` only.
pub fn parse_filter(what: Kind, pairs: &[String]) -> Result<ProjectFilter, DomainError> {
    let mut f = ProjectFilter::default();
    for pair in pairs {
        let (name, v) = pair.split_once('=').ok_or_else(|| {
            DomainError::new(
                "invalid_filter",
                format!("筛选条件“{pair}”应写作 名称=值"),
                format!("filter \"{pair}\" should be written name=value"),
            )
        })?;
        let (name, v) = (name.trim(), v.trim());
        let bad = |zh: &str, en: &str| {
            DomainError::new(
                "invalid_filter",
                format!("筛选条件 {name} 的值“{v}”无效：{zh}"),
                format!("filter {name}: \"{v}\" is invalid: {en}"),
            )
        };
        let flag = || match v {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            _ => Err(bad("应为 true 或 false", "expected true or false")),
        };
        let code = || {
            let checked = if v.starts_with("XPCC-") {
                validate_xpcc_code(v).map(|_| ())
            } else if v.len() == 18 {
                // Central bodies: credit codes, which may be all digits.
                validate_credit_code(v)
            } else {
                validate_division_code(v).map(|_| ())
            };
            checked.map(|()| v.to_owned())
        };
        let allowed_for_pairings = matches!(name, "supporter" | "recipient");
        if what == Kind::Pairings && !allowed_for_pairings {
            return Err(DomainError::new(
                "unknown_filter",
                format!("结对关系只能按 supporter、recipient 筛选，不能按 {name}"),
                format!("pairings can be filtered by supporter and recipient only, not {name}"),
            ));
        }
        if what == Kind::Assignments && !allowed_for_pairings {
            return Err(DomainError::new(
                "unknown_filter",
                format!("干部人才只能按 supporter、recipient、batch 筛选，不能按 {name}"),
                format!(
                    "assignments can be filtered by supporter, recipient and batch only, not {name}"
                ),
            ));
        }
        match name {
            "supporter" => f.supporter = Some(code()?),
            "recipient" => f.recipient = Some(code()?),
            "category" => f.category = Some(Category::parse(v)?),
            "state" => f.state = Some(ProjectState::parse(v)?),
            "year" => {
                f.year = Some(
                    v.parse::<i32>()
                        .ok()
                        .filter(|y| (2000..=2100).contains(y))
                        .ok_or_else(|| bad("应为四位年份", "expected a four-digit year"))?,
                );
            }
            "in_plan" => f.in_plan = Some(flag()?),
            "continued" => f.continued = Some(flag()?),
            "grassroots" => f.grassroots = Some(flag()?),
            "livelihood" => f.livelihood = Some(flag()?),
            "xpcc" => f.xpcc = Some(flag()?),
            _ => {
                return Err(DomainError::new(
                    "unknown_filter",
                    format!(
                        "未知筛选条件“{name}”，可用：supporter、recipient、category、state、year、in_plan、continued、grassroots、livelihood、xpcc"
                    ),
                    format!(
                        "unknown filter \"{name}\"; allowed: supporter, recipient, category, state, year, in_plan, continued, grassroots, livelihood, xpcc"
                    ),
                ));
            }
        }
    }
    Ok(f)
}

/// One value to write, typed so that each format writes it its own way.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// Nothing.
    Empty,
    /// Text (names, notes).
    Text(String),
    /// An identifier, written as text in every format.
    Code(String),
    /// Money: yuan text in CSV, a number in xlsx, fen in JSON.
    Amount(Fen),
    /// A date.
    Date(NaiveDate),
    /// A whole number.
    Int(i64),
    /// A measurement.
    Number(f64),
    /// Yes or no.
    Flag(bool),
    /// A vocabulary term: (key, zh-CN label).
    Term(&'static str, &'static str),
}

fn opt_date(d: Option<NaiveDate>) -> Value {
    d.map_or(Value::Empty, Value::Date)
}

/// A project's values in [`Kind::Projects`] column order.
pub(crate) fn project_values(p: &Project) -> Vec<Value> {
    vec![
        Value::Code(p.code.clone()),
        Value::Text(p.name.clone()),
        Value::Term(p.category.key(), p.category.zh()),
        Value::Term(p.delivery_mode.key(), p.delivery_mode.zh()),
        Value::Term(p.kind.key(), p.kind.zh()),
        Value::Int(i64::from(p.year)),
        Value::Flag(p.in_plan),
        Value::Flag(p.continued),
        Value::Flag(p.grassroots),
        Value::Flag(p.livelihood),
        Value::Code(p.supporter_code.clone()),
        Value::Code(p.recipient_code.clone()),
        Value::Code(p.location_code.clone()),
        Value::Amount(p.planned_investment),
        Value::Amount(p.aid_funds),
        Value::Amount(p.matching_funds),
        Value::Date(p.start_date),
        Value::Date(p.end_date),
        Value::Term(p.state.key(), p.state.zh()),
        Value::Flag(p.published),
        Value::Text(p.description.clone()),
    ]
}

/// A transaction's values in [`Kind::Transactions`] column order.
pub(crate) fn transaction_values(t: &FundTransaction) -> Vec<Value> {
    vec![
        Value::Code(t.project_code.clone()),
        Value::Term(t.fund_type.key(), t.fund_type.zh()),
        Value::Amount(t.amount),
        Value::Date(t.date),
        Value::Code(t.document_no.clone()),
        Value::Text(t.note.clone()),
    ]
}

/// An indicator row's values in [`Kind::Indicators`] column order.
pub(crate) fn indicator_values(i: &IndicatorExportRow) -> Vec<Value> {
    vec![
        Value::Code(i.project_code.clone()),
        Value::Text(i.name.clone()),
        Value::Text(i.unit.clone()),
        Value::Number(i.baseline),
        Value::Number(i.target),
        i.period.clone().map_or(Value::Empty, Value::Code),
        i.actual.map_or(Value::Empty, Value::Number),
    ]
}

/// A pairing's values in [`Kind::Pairings`] column order.
pub(crate) fn pairing_values(p: &Pairing) -> Vec<Value> {
    vec![
        Value::Code(p.supporter_code.clone()),
        Value::Code(p.recipient_code.clone()),
        Value::Term(p.scope.key(), p.scope.zh()),
        Value::Date(p.valid_from),
        opt_date(p.valid_to),
        Value::Text(p.confidence.clone()),
    ]
}

/// An assignment's values in [`Kind::Assignments`] column order, its ID
/// number and phone masked unless `full`.
pub(crate) fn assignment_values(a: &Assignment, full: bool) -> Vec<Value> {
    let personal = |v: &Option<String>, mask: fn(&str) -> String| match v {
        Some(v) if full => Value::Code(v.clone()),
        Some(v) => Value::Code(mask(v)),
        None => Value::Empty,
    };
    vec![
        Value::Code(a.supporter_code.clone()),
        a.batch_number
            .map_or(Value::Empty, |n| Value::Int(i64::from(n))),
        Value::Text(a.person_name.clone()),
        personal(&a.id_number, mask_id_number),
        personal(&a.phone, mask_phone),
        Value::Term(a.category.key(), a.category.zh()),
        Value::Term(a.mode.key(), a.mode.zh()),
        Value::Code(a.recipient_code.clone()),
        Value::Text(a.host_unit.clone()),
        Value::Text(a.post.clone()),
        Value::Date(a.arrival_date),
        Value::Date(a.return_date),
        a.appraisal.clone().map_or(Value::Empty, Value::Text),
    ]
}

/// Refuses an export of personal data in full to anyone who may not see it:
/// only the region and front commands ever may (the store then decides per
/// record, and the export stops if any record comes back masked).
fn check_full_personal_data(viewer: Option<&Viewer>) -> Result<(), DomainError> {
    match viewer {
        Some(Viewer::User(p)) if matches!(p.role, Role::Region | Role::Supporter) => Ok(()),
        _ => Err(personal_data_refused()),
    }
}

fn personal_data_refused() -> DomainError {
    DomainError::new(
        "personal_data_not_allowed",
        "只有自治区援疆办和派出干部人才的前方指挥部可以导出完整的身份证号码和手机号码：请用 --as 指定有权查看个人信息的账号，或导出脱敏数据",
        "only the regional aid office and the sending front command may export ID numbers and phones in full: name a user who may see them with --as, or export them masked",
    )
}

/// The command line's operator as the rules see them for assignments: reads
/// every record (as an auditor does) and sees personal data masked.
fn operator() -> Viewer {
    Viewer::User(Principal {
        name: "cli".into(),
        role: Role::Auditor,
        scope: None,
    })
}

/// How [`export`] exports assignments when given only a project filter:
/// masked, within the filter's scope (the public sees no people at all).
fn people_from(filter: &ProjectFilter) -> PeopleExport {
    let user = |role, scope: &str| {
        Viewer::User(Principal {
            name: "export".into(),
            role,
            scope: Some(scope.to_owned()),
        })
    };
    let viewer = if filter.published_only {
        Viewer::Public
    } else {
        match &filter.scope {
            Some(yuanjiang_store::Scope::Supporter(s)) => user(Role::Supporter, s),
            Some(yuanjiang_store::Scope::Recipient(r)) => user(Role::Prefecture, r),
            None => operator(),
        }
    };
    PeopleExport {
        viewer: Some(viewer),
        filter: AssignmentFilter {
            supporter: filter.supporter.clone(),
            recipient: filter.recipient.clone(),
            batch: None,
        },
        personal_data: PersonalDataExport::Masked,
    }
}

/// How CSV text is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CsvStyle {
    /// Start with a UTF-8 byte-order mark (for Excel and WPS).
    pub bom: bool,
    /// Chinese labels and 是/否 instead of keys and true/false.
    pub labels: bool,
    /// Prefix text starting with `=`, `+`, `-` or `@` with `'`, so that a
    /// spreadsheet never runs it as a formula (the import strips it again).
    pub guard_formulas: bool,
}

/// Writes rows to a CSV file.
pub(crate) struct CsvTable {
    writer: csv::Writer<BufWriter<File>>,
    style: CsvStyle,
    fields: Vec<String>,
}

impl CsvTable {
    /// Creates the file and writes the header.
    pub fn create(
        path: &Path,
        headers: &[&str],
        style: CsvStyle,
    ) -> Result<CsvTable, ExchangeError> {
        let file = File::create(path).map_err(|e| ExchangeError::io(path, e))?;
        let mut out = BufWriter::with_capacity(1 << 16, file);
        if style.bom {
            out.write_all(b"\xEF\xBB\xBF")
                .map_err(|e| ExchangeError::io(path, e))?;
        }
        let mut writer = csv::WriterBuilder::new().from_writer(out);
        writer.write_record(headers)?;
        Ok(CsvTable {
            writer,
            style,
            fields: Vec::new(),
        })
    }

    /// Writes one row.
    pub fn row(&mut self, values: &[Value]) -> Result<(), ExchangeError> {
        self.fields.clear();
        for v in values {
            let text = match v {
                Value::Empty => String::new(),
                Value::Text(s) | Value::Code(s) => {
                    if self.style.guard_formulas && s.starts_with(['=', '+', '-', '@']) {
                        format!("'{s}")
                    } else {
                        s.clone()
                    }
                }
                Value::Amount(f) => f.to_yuan_string(),
                Value::Date(d) => d.format("%Y-%m-%d").to_string(),
                Value::Int(i) => i.to_string(),
                Value::Number(f) => float_text(*f),
                Value::Flag(b) => match (self.style.labels, b) {
                    (true, true) => "是".into(),
                    (true, false) => "否".into(),
                    (false, b) => b.to_string(),
                },
                Value::Term(key, zh) => if self.style.labels { zh } else { key }.to_string(),
            };
            self.fields.push(text);
        }
        self.writer.write_record(&self.fields)?;
        Ok(())
    }

    /// Flushes the file.
    pub fn finish(mut self) -> Result<(), ExchangeError> {
        self.writer
            .flush()
            .map_err(|e| ExchangeError::io("csv", e))?;
        Ok(())
    }
}

/// Writes rows to an xlsx workbook in constant memory, a new sheet every
/// 1,048,575 rows.
struct XlsxTable {
    workbook: Workbook,
    sheet: usize,
    row: u32,
    base_name: String,
    headers: Vec<String>,
    labels: bool,
    header_format: Format,
    amount_format: Format,
    date_format: Format,
}

impl XlsxTable {
    fn create(base_name: &str, headers: &[&str], labels: bool) -> Result<XlsxTable, ExchangeError> {
        let mut table = XlsxTable {
            workbook: Workbook::new(),
            sheet: 0,
            row: 0,
            base_name: base_name.to_owned(),
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            labels,
            header_format: Format::new().set_bold(),
            amount_format: Format::new().set_num_format("#,##0.00"),
            date_format: Format::new().set_num_format("yyyy-mm-dd"),
        };
        table.new_sheet()?;
        Ok(table)
    }

    fn new_sheet(&mut self) -> Result<(), ExchangeError> {
        let n = self.workbook.worksheets().len();
        let name = if n == 0 {
            self.base_name.clone()
        } else {
            format!("{} ({})", self.base_name, n + 1)
        };
        let sheet = self.workbook.add_worksheet_with_constant_memory()?;
        sheet.set_name(name)?;
        sheet.set_freeze_panes(1, 0)?;
        for (c, h) in self.headers.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, h, &self.header_format)?;
            sheet.set_column_width(c as u16, 14)?;
        }
        self.sheet = n;
        self.row = 1;
        Ok(())
    }

    fn row(&mut self, values: &[Value]) -> Result<(), ExchangeError> {
        if self.row >= XLSX_MAX_ROWS {
            self.new_sheet()?;
        }
        let r = self.row;
        let labels = self.labels;
        let sheet = self.workbook.worksheet_from_index(self.sheet)?;
        for (c, v) in values.iter().enumerate() {
            let c = c as u16;
            match v {
                Value::Empty => {}
                Value::Text(s) | Value::Code(s) => {
                    sheet.write_string(r, c, s)?;
                }
                // Up to 15 significant digits a double holds the yuan value
                // exactly enough to read back to the same fen; beyond, text.
                Value::Amount(f) if f.0.unsigned_abs() < 1_000_000_000_000_000 => {
                    sheet.write_number_with_format(
                        r,
                        c,
                        f.0 as f64 / 100.0,
                        &self.amount_format,
                    )?;
                }
                Value::Amount(f) => {
                    sheet.write_string(r, c, f.to_yuan_string())?;
                }
                Value::Date(d) => {
                    let dt = ExcelDateTime::from_ymd(
                        u16::try_from(d.year()).unwrap_or(1900),
                        d.month() as u8,
                        d.day() as u8,
                    )?;
                    sheet.write_datetime_with_format(r, c, dt, &self.date_format)?;
                }
                Value::Int(i) => {
                    sheet.write_number(r, c, *i as f64)?;
                }
                Value::Number(f) => {
                    sheet.write_number(r, c, *f)?;
                }
                Value::Flag(b) => {
                    let text = match (labels, b) {
                        (true, true) => "是",
                        (true, false) => "否",
                        (false, true) => "true",
                        (false, false) => "false",
                    };
                    sheet.write_string(r, c, text)?;
                }
                Value::Term(key, zh) => {
                    sheet.write_string(r, c, if labels { *zh } else { *key })?;
                }
            }
        }
        self.row += 1;
        Ok(())
    }

    fn finish(mut self, path: &Path) -> Result<(), ExchangeError> {
        self.workbook.save(path)?;
        Ok(())
    }
}

/// Writes rows as a JSON array of objects, one per line.
struct JsonTable {
    out: BufWriter<File>,
    keys: Vec<&'static str>,
    first: bool,
}

impl JsonTable {
    fn create(path: &Path, columns: &[Column]) -> Result<JsonTable, ExchangeError> {
        let file = File::create(path).map_err(|e| ExchangeError::io(path, e))?;
        let mut out = BufWriter::with_capacity(1 << 16, file);
        out.write_all(b"[")
            .map_err(|e| ExchangeError::io(path, e))?;
        Ok(JsonTable {
            out,
            keys: columns.iter().map(|c| c.key).collect(),
            first: true,
        })
    }

    fn row(&mut self, values: &[Value]) -> Result<(), ExchangeError> {
        use serde_json::Value as J;
        let mut map = serde_json::Map::with_capacity(values.len());
        for (k, v) in self.keys.iter().zip(values) {
            let j = match v {
                Value::Empty => J::Null,
                Value::Text(s) | Value::Code(s) => J::String(s.clone()),
                Value::Amount(f) => J::from(f.0),
                Value::Date(d) => J::String(d.format("%Y-%m-%d").to_string()),
                Value::Int(i) => J::from(*i),
                Value::Number(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
                Value::Flag(b) => J::Bool(*b),
                Value::Term(key, _) => J::String((*key).to_owned()),
            };
            map.insert((*k).to_owned(), j);
        }
        let sep: &[u8] = if self.first { b"\n" } else { b",\n" };
        self.first = false;
        self.out
            .write_all(sep)
            .map_err(|e| ExchangeError::io("json", e))?;
        serde_json::to_writer(&mut self.out, &J::Object(map))?;
        Ok(())
    }

    fn finish(mut self) -> Result<(), ExchangeError> {
        self.out
            .write_all(b"\n]\n")
            .map_err(|e| ExchangeError::io("json", e))?;
        self.out.flush().map_err(|e| ExchangeError::io("json", e))?;
        Ok(())
    }
}

/// Any of the three writers.
enum Table {
    Csv(Box<CsvTable>),
    Xlsx(Box<XlsxTable>),
    Json(JsonTable),
}

impl Table {
    fn row(&mut self, values: &[Value]) -> Result<(), ExchangeError> {
        match self {
            Table::Csv(t) => t.row(values),
            Table::Xlsx(t) => t.row(values),
            Table::Json(t) => t.row(values),
        }
    }

    fn finish(self, path: &Path) -> Result<(), ExchangeError> {
        match self {
            Table::Csv(t) => t.finish(),
            Table::Xlsx(t) => t.finish(path),
            Table::Json(t) => t.finish(),
        }
    }
}

/// Exports the list to `path`; `progress(written, total)` is called after
/// each page (`total` is 0 when not known in advance). Returns the rows written.
/// Assignments come out masked, within the filter's scope; use
/// [`export_assignments`] to name the viewer and ask for personal data in full.
pub async fn export(
    store: &Store,
    options: &ExportOptions,
    path: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<u64, ExchangeError> {
    let people = people_from(&options.filter);
    export_with(store, options, &people, path, progress).await
}

/// Exports assignments (`options.what` must be [`Kind::Assignments`]) as
/// `people` says: whose view, which filters, masked or in full. In full
/// only for a viewer who may see personal data; anyone else is refused
/// before the file is created.
pub async fn export_assignments(
    store: &Store,
    options: &ExportOptions,
    people: &PeopleExport,
    path: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<u64, ExchangeError> {
    if options.what != Kind::Assignments {
        return Err(DomainError::new(
            "invalid_kind",
            format!(
                "export_assignments 只导出干部人才，不导出“{}”",
                options.what.zh()
            ),
            format!(
                "export_assignments exports assignments only, not {}",
                options.what.key()
            ),
        )
        .into());
    }
    export_with(store, options, people, path, progress).await
}

async fn export_with(
    store: &Store,
    options: &ExportOptions,
    people: &PeopleExport,
    path: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<u64, ExchangeError> {
    let kind = options.what;
    let full = people.personal_data == PersonalDataExport::Full;
    if kind == Kind::Assignments && full {
        // Before the file is created: a refused export leaves nothing behind.
        check_full_personal_data(people.viewer.as_ref())?;
    }
    let columns = kind.columns();
    let headers: Vec<&str> = columns.iter().map(|c| c.header(options.english)).collect();
    let labels = !options.english;
    let mut table = match options.format {
        ExportFormat::Csv => Table::Csv(Box::new(CsvTable::create(
            path,
            &headers,
            CsvStyle {
                bom: true,
                labels,
                guard_formulas: true,
            },
        )?)),
        ExportFormat::Xlsx => {
            let name = if options.english {
                kind.key()
            } else {
                kind.zh()
            };
            Table::Xlsx(Box::new(XlsxTable::create(name, &headers, labels)?))
        }
        ExportFormat::Json => Table::Json(JsonTable::create(path, columns)?),
    };
    let filter = &options.filter;
    let mut written = 0u64;
    match kind {
        Kind::Projects => {
            let total = u64::try_from(store.count_projects(filter).await?).unwrap_or(0);
            let mut cursor = None;
            loop {
                let page = store.projects(filter, cursor, 1000).await?;
                for row in &page.items {
                    table.row(&project_values(&row.project))?;
                }
                written += page.items.len() as u64;
                progress(written, total);
                match page.next_cursor.and_then(|c| c.parse().ok()) {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
        }
        Kind::Transactions => {
            let total = u64::try_from(store.count_transactions(filter).await?).unwrap_or(0);
            let mut after = 0;
            loop {
                let page = store.transactions_page(filter, after, PAGE).await?;
                for (_, t) in &page {
                    table.row(&transaction_values(t))?;
                }
                written += page.len() as u64;
                progress(written, total);
                match page.last() {
                    Some((id, _)) if page.len() == PAGE as usize => after = *id,
                    _ => break,
                }
            }
        }
        Kind::Indicators => {
            let mut after = 0;
            loop {
                let (rows, last) = store.indicators_page(filter, after, 1000).await?;
                for r in &rows {
                    table.row(&indicator_values(r))?;
                }
                written += rows.len() as u64;
                progress(written, 0);
                match last {
                    Some(id) => after = id,
                    None => break,
                }
            }
        }
        Kind::Assignments => {
            let viewer = people.viewer.clone().unwrap_or_else(operator);
            let mut cursor = None;
            loop {
                let page = store
                    .assignments(&people.filter, &viewer, cursor, MAX_ASSIGNMENT_PAGE)
                    .await?;
                for row in &page.items {
                    if full && row.personal_data != PersonalData::Clear {
                        drop(table);
                        let _ = std::fs::remove_file(path);
                        return Err(personal_data_refused().into());
                    }
                    table.row(&assignment_values(&row.assignment, full))?;
                }
                written += page.items.len() as u64;
                progress(written, 0);
                match page.next_cursor.and_then(|c| c.parse().ok()) {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
        }
        Kind::Pairings => {
            let pairings = store
                .pairings_filtered(filter.supporter.as_deref(), filter.recipient.as_deref())
                .await?;
            for p in &pairings {
                table.row(&pairing_values(p))?;
            }
            written = pairings.len() as u64;
            progress(written, written);
        }
    }
    table.finish(path)?;
    Ok(written)
}
