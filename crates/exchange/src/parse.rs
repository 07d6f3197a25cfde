//! From rows of cells to typed records: finds each sheet's kind and columns
//! from its header row, reads every cell of every row into the column's
//! type, and records every problem with its sheet, row and column. Nothing
//! here needs the database; the checks that do are in `import`.

use std::collections::HashSet;

use foldhash::{HashMap as FastMap, HashMapExt, HashSet as FastSet, HashSetExt};

use chrono::NaiveDate;
use yuanjiang_domain::codes::{validate_credit_code, validate_division_code, validate_xpcc_code};
use yuanjiang_domain::personnel::mask_id_number;
use yuanjiang_domain::project::{MAX_PROJECT_NAME_CHARS, validate_project_code};
use yuanjiang_domain::{
    AssignmentCategory, AssignmentMode, Category, DeliveryMode, DomainError, Fen, FundType,
    ProjectKind, ProjectState,
};

use crate::cell::{self, Cell};
use crate::columns::{
    Column, Kind, classify, column_letter, header_in_wan_yuan, is_row_number_header,
};
use crate::issue::{Issue, Issues};
use crate::read::{CellProblem, Sink};

/// Where a record came from: a sheet (index into [`Collector::sheets`]) and a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct At {
    pub sheet: u16,
    pub row: u32,
}

/// A sheet that holds records: its name, kind and where each column is.
#[derive(Debug, Clone)]
pub(crate) struct SheetLayout {
    pub name: String,
    pub kind: Kind,
    /// Column key → (0-based column, header as written). Looked up for
    /// every cell read: foldhash, not SipHash.
    pub columns: FastMap<&'static str, (u32, String)>,
    /// Data rows read.
    pub rows: u64,
    /// The header row's number (1-based, as Excel shows it).
    pub header_row: u32,
}

impl SheetLayout {
    /// The 0-based columns holding personal data (ID numbers, phones), which
    /// reports show masked.
    pub fn personal_columns(&self) -> Vec<(u32, PersonalColumn)> {
        if self.kind != Kind::Assignments {
            return Vec::new();
        }
        [
            ("id_number", PersonalColumn::IdNumber),
            ("phone", PersonalColumn::Phone),
        ]
        .into_iter()
        .filter_map(|(key, what)| self.columns.get(key).map(|(c, _)| (*c, what)))
        .collect()
    }
}

/// Which personal datum a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonalColumn {
    /// Citizen ID numbers.
    IdNumber,
    /// Mobile phones.
    Phone,
}

impl PersonalColumn {
    /// The value as reports show it.
    pub fn mask(self, value: &str) -> String {
        match self {
            PersonalColumn::IdNumber => mask_id_number(value),
            PersonalColumn::Phone => yuanjiang_domain::personnel::mask_phone(value),
        }
    }
}

/// Masks anything in an assignments sheet's text that looks like an ID
/// number (17 digits and a check character) or a mobile number (11 digits
/// from 1), wherever it stands: a misnamed column must not leak them either.
pub(crate) fn mask_lookalikes(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let mut out = String::with_capacity(value.len());
    let mut i = 0;
    while i < chars.len() {
        let run = chars[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if run == 0 {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let mut len = run;
        if run == 17 && chars.get(i + 17).is_some_and(|c| matches!(c, 'X' | 'x')) {
            len = 18;
        }
        let token: String = chars[i..i + len].iter().collect();
        if len == 18 {
            out.push_str(&mask_id_number(&token));
        } else if len == 11 && token.starts_with('1') {
            out.push_str(&yuanjiang_domain::personnel::mask_phone(&token));
        } else {
            out.push_str(&token);
        }
        i += len;
    }
    out
}

/// A project row as read.
#[derive(Debug, Clone)]
pub(crate) struct ProjectIn {
    pub at: At,
    pub code: String,
    pub name: String,
    pub category: Category,
    pub delivery_mode: DeliveryMode,
    pub kind: ProjectKind,
    pub year: i32,
    pub supporter: String,
    pub recipient: String,
    pub location: String,
    pub planned: Fen,
    pub aid: Fen,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub state: ProjectState,
    pub in_plan: Option<bool>,
    pub continued: Option<bool>,
    pub grassroots: Option<bool>,
    pub livelihood: Option<bool>,
    pub matching: Option<Fen>,
    pub published: Option<bool>,
    pub description: Option<String>,
}

/// A fund transaction row as read.
#[derive(Debug, Clone)]
pub(crate) struct TxnIn {
    pub at: At,
    pub project: String,
    pub fund_type: FundType,
    pub amount: Fen,
    pub date: NaiveDate,
    pub document_no: String,
    pub note: Option<String>,
}

/// An indicator row as read.
#[derive(Debug, Clone)]
pub(crate) struct IndicatorIn {
    pub at: At,
    pub project: String,
    pub name: String,
    pub unit: String,
    pub baseline: f64,
    pub target: f64,
    pub value: Option<(String, f64)>,
}

/// An assignment row as read. Its `Debug` masks the ID number and phone.
#[derive(Clone)]
pub(crate) struct AssignmentIn {
    pub at: At,
    pub supporter: String,
    pub batch: Option<u32>,
    pub person_name: String,
    /// Upper-case `X`, no spaces.
    pub id_number: String,
    pub phone: Option<String>,
    pub category: AssignmentCategory,
    pub mode: AssignmentMode,
    pub recipient: String,
    pub host_unit: String,
    pub post: Option<String>,
    pub arrival: NaiveDate,
    pub return_date: NaiveDate,
    pub appraisal: Option<String>,
}

impl std::fmt::Debug for AssignmentIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssignmentIn")
            .field("at", &self.at)
            .field("supporter", &self.supporter)
            .field("batch", &self.batch)
            .field("id_number", &mask_id_number(&self.id_number))
            .finish_non_exhaustive()
    }
}

/// Natural key of an assignment: supporter, batch (none is a value of its
/// own) and ID number.
pub(crate) type AssignmentKey = (String, Option<u32>, String);

/// Natural key of a transaction (project, type, date, document number),
/// borrowed from the row: hashed to find the rows read before it.
fn txn_key(t: &TxnIn) -> (&str, FundType, NaiveDate, &str) {
    (&t.project, t.fund_type, t.date, &t.document_no)
}

/// What the current sheet is doing.
enum SheetState {
    /// Waiting for the header row.
    Header,
    /// Reading records of this layout (index into `sheets`).
    Records(usize),
    /// Not a sheet of the selected kinds (instructions, say).
    Skipped,
}

/// Collects the records of every sheet of the selected kinds.
pub(crate) struct Collector<'p> {
    /// Kinds asked for.
    selected: Vec<Kind>,
    /// Whether sheets are taken as `selected[0]` whatever their headers (CSV).
    force_kind: bool,
    state: SheetState,
    current_name: String,
    /// The sheets used.
    pub sheets: Vec<SheetLayout>,
    /// Problems found.
    pub issues: Issues,
    /// Header problems of the first sheet against the selected kind, kept in
    /// case no sheet matches at all: they then say why.
    first_sheet_issues: Option<Vec<Issue>>,
    /// Columns with data but no header, already reported per sheet.
    headless: HashSet<u32>,
    pub projects: Vec<ProjectIn>,
    pub transactions: Vec<TxnIn>,
    pub indicators: Vec<IndicatorIn>,
    pub assignments: Vec<AssignmentIn>,
    /// Project codes whose rows could not be read: their transactions are
    /// not reported again as referring to an unknown project.
    pub broken_projects: FastSet<String>,
    project_keys: FastMap<String, At>,
    /// Each transaction read, by its natural key: indices into
    /// `transactions`, so that a million-row file keeps no second copy of
    /// its codes and document numbers.
    txn_keys: hashbrown::HashTable<usize>,
    /// The size of the CSV text read, if known (see `Sink::text_bytes`).
    text_bytes: usize,
    /// Hashes the keys of `txn_keys`.
    txn_hasher: foldhash::fast::RandomState,
    indicator_keys: FastMap<(String, String, Option<String>), At>,
    assignment_keys: FastMap<AssignmentKey, At>,
    /// Rows read, for progress.
    pub rows_read: u64,
    progress: &'p mut dyn FnMut(u64),
    /// Given the transactions accepted so far, a batch at a time, while the
    /// file is still being read (see [`Collector::write_ahead`]).
    ahead: Option<&'p mut AheadSink<'p>>,
    /// Transactions already given to `ahead`.
    ahead_given: usize,
}

/// Takes the transactions accepted so far, a batch at a time.
pub(crate) type AheadSink<'a> = dyn FnMut(&[TxnIn]) + 'a;

/// Transactions per batch given to [`Collector::write_ahead`]'s callback.
const AHEAD_BATCH: usize = 5_000;

impl<'p> Collector<'p> {
    /// A collector for `selected` kinds; `force_kind` for formats without
    /// sheets (CSV) when one kind was asked for.
    pub fn new(
        selected: Vec<Kind>,
        force_kind: bool,
        progress: &'p mut dyn FnMut(u64),
    ) -> Collector<'p> {
        Collector {
            selected,
            force_kind,
            state: SheetState::Header,
            current_name: String::new(),
            sheets: Vec::new(),
            issues: Issues::default(),
            first_sheet_issues: None,
            headless: HashSet::new(),
            projects: Vec::new(),
            transactions: Vec::new(),
            indicators: Vec::new(),
            assignments: Vec::new(),
            broken_projects: FastSet::new(),
            project_keys: FastMap::new(),
            txn_keys: hashbrown::HashTable::new(),
            text_bytes: 0,
            txn_hasher: foldhash::fast::RandomState::default(),
            indicator_keys: FastMap::new(),
            assignment_keys: FastMap::new(),
            rows_read: 0,
            progress,
            ahead: None,
            ahead_given: 0,
        }
    }

    /// Hands the accepted transactions to `ahead` in batches as they are
    /// read, the last batch at [`Collector::finish`], so that they can be
    /// written while the rest of the file is read.
    pub fn write_ahead(&mut self, ahead: &'p mut AheadSink<'p>) {
        self.ahead = Some(ahead);
    }

    fn give_ahead(&mut self, at_least: usize) {
        if let Some(ahead) = self.ahead.as_mut()
            && self.transactions.len() - self.ahead_given >= at_least.max(1)
        {
            ahead(&self.transactions[self.ahead_given..]);
            self.ahead_given = self.transactions.len();
        }
    }

    /// After reading: if no sheet matched, the reasons.
    pub fn finish(&mut self) {
        self.give_ahead(1);
        if self.sheets.is_empty() {
            match self.first_sheet_issues.take() {
                Some(issues) if !issues.is_empty() => {
                    for i in issues {
                        self.issues.push(i);
                    }
                }
                _ => {
                    let kinds: Vec<&str> = self.selected.iter().map(|k| k.zh()).collect();
                    let keys: Vec<&str> = self.selected.iter().map(|k| k.key()).collect();
                    self.issues.push(Issue::file(
                        "no_data",
                        format!("文件中没有“{}”数据：没有找到相应的表头", kinds.join("、")),
                        format!(
                            "the file holds no {} data: no sheet has their headers",
                            keys.join(", ")
                        ),
                    ));
                }
            }
        } else if self.sheets.iter().all(|s| s.rows == 0) && self.issues.is_empty() {
            self.issues.push(
                Issue::file(
                    "no_data_rows",
                    "文件只有表头，没有数据行",
                    "the file has a header row but no data rows",
                )
                .at_sheet(&self.sheets[0].name),
            );
        }
    }

    fn header(&mut self, number: u32, cells: &[Cell]) -> bool {
        let headers: Vec<String> = cells.iter().map(cell::text).collect();
        let kind = if self.force_kind {
            self.selected.first().copied()
        } else {
            classify(&headers).filter(|k| self.selected.contains(k))
        };
        let Some(kind) = kind else {
            if self.first_sheet_issues.is_none() && self.selected.len() == 1 {
                let (_, issues) = layout(&self.current_name, self.selected[0], number, &headers);
                self.first_sheet_issues = Some(issues);
            }
            self.state = SheetState::Skipped;
            return false;
        };
        let (sheet, issues) = layout(&self.current_name, kind, number, &headers);
        let fatal = issues.iter().any(|i| i.code == "missing_column");
        for i in issues {
            self.issues.push(i);
        }
        self.sheets.push(sheet);
        if fatal {
            // Rows cannot be read without a required column; the missing
            // column is the one error worth reading.
            self.state = SheetState::Skipped;
            return false;
        }
        self.state = SheetState::Records(self.sheets.len() - 1);
        true
    }

    fn record(&mut self, index: usize, number: u32, cells: &[Cell], problems: Vec<CellProblem>) {
        let sheet = &self.sheets[index];
        // A handful of columns: a scan, not a set built for every row.
        let mapped = |c: u32| sheet.columns.values().any(|(col, _)| *col == c);
        let header_of = |c: u32| {
            sheet
                .columns
                .values()
                .find(|(col, _)| *col == c)
                .map(|(_, h)| h.clone())
        };
        // Cells with a problem are reported here and not read again below.
        let mut bad_columns = HashSet::new();
        for p in problems {
            bad_columns.insert(p.column);
            let mut issue = Issue::file(p.code, p.zh, p.en)
                .at_sheet(&sheet.name)
                .at_row(number)
                .with_value(p.value);
            issue.column = Some(p.column);
            issue.header = header_of(p.column);
            self.issues.push(issue);
        }
        for (c, cell) in cells.iter().enumerate() {
            let c = c as u32;
            if !cell.is_blank() && !mapped(c) && self.headless.insert(c) {
                // Reported once per column: data in a column without a known header.
                self.issues.push(
                    Issue::file(
                        "cell_outside_table",
                        "该列没有可识别的表头，其中的数据无法导入",
                        "this column has no recognised header, so its data cannot be imported",
                    )
                    .at_sheet(&sheet.name)
                    .at_row(number)
                    .at_column(c, "")
                    .with_value(cell.display()),
                );
            }
        }
        let at = At {
            sheet: u16::try_from(index).unwrap_or(u16::MAX),
            row: number,
        };
        let kind = sheet.kind;
        let mut row = RowReader {
            sheet,
            at,
            cells,
            bad_columns: &bad_columns,
            issues: &mut self.issues,
            ok: true,
        };
        match kind {
            Kind::Projects => {
                let p = read_project(&mut row);
                let ok = row.ok;
                match p {
                    Some(p) if ok => self.add_project(p),
                    _ => {
                        if let Some(code) = row.peek_text("code") {
                            self.broken_projects.insert(code);
                        }
                    }
                }
            }
            Kind::Transactions => {
                if let Some(t) = read_transaction(&mut row).filter(|_| row.ok) {
                    self.add_transaction(t);
                }
            }
            Kind::Indicators => {
                if let Some(i) = read_indicator(&mut row).filter(|_| row.ok) {
                    self.add_indicator(i);
                }
            }
            Kind::Assignments => {
                if let Some(a) = read_assignment(&mut row).filter(|_| row.ok) {
                    self.add_assignment(a);
                }
            }
            Kind::Pairings => {}
        }
    }

    fn duplicate(&mut self, at: At, first: At, key_column: &str, what_zh: &str, what_en: &str) {
        let first_sheet = &self.sheets[first.sheet as usize].name;
        let same_sheet = first.sheet == at.sheet;
        let (wz, we) = if same_sheet {
            (format!("第{}行", first.row), format!("row {}", first.row))
        } else {
            (
                format!("工作表“{first_sheet}”第{}行", first.row),
                format!("sheet \"{first_sheet}\" row {}", first.row),
            )
        };
        let issue = issue_at(
            &self.sheets,
            at,
            key_column,
            DomainError::new(
                "duplicate_key",
                format!("与{wz}重复：{what_zh}相同的记录只能出现一次"),
                format!("duplicates {we}: a record with the same {what_en} may appear only once"),
            ),
            None,
        );
        self.issues.push(issue);
    }

    fn add_project(&mut self, p: ProjectIn) {
        if let Some(first) = self.project_keys.get(&p.code).copied() {
            self.duplicate(p.at, first, "code", "项目编号", "project code");
            return;
        }
        self.project_keys.insert(p.code.clone(), p.at);
        self.projects.push(p);
    }

    fn add_transaction(&mut self, t: TxnIn) {
        use std::hash::BuildHasher;
        if self.transactions.capacity() == 0 {
            // Reserved once instead of regrown: a regrowth at the end of a
            // national file copied a gigabyte of rows into fresh pages (a
            // tenth of the reading thread's page faults). Rows of the demo
            // export are 96 bytes; the vector is sized for rows of 64,
            // which costs address space only, as its pages are first
            // touched when rows are written. The key table is touched all
            // over, so it gets the closer estimate (its buckets leave an
            // eighth spare besides).
            let rows = self.text_bytes / 100;
            self.transactions.reserve(self.text_bytes / 64);
            let hasher = &self.txn_hasher;
            let stored = &self.transactions;
            self.txn_keys
                .reserve(rows, |&i| hasher.hash_one(txn_key(&stored[i])));
        }
        let hash = self.txn_hasher.hash_one(txn_key(&t));
        let rows = &self.transactions;
        let first = self
            .txn_keys
            .find(hash, |&i| txn_key(&rows[i]) == txn_key(&t))
            .map(|&i| rows[i].at);
        if let Some(first) = first {
            self.duplicate(
                t.at,
                first,
                "document_no",
                "项目编号、资金类型、日期和文号",
                "project code, fund type, date and document number",
            );
            return;
        }
        let hasher = &self.txn_hasher;
        self.txn_keys
            .insert_unique(hash, rows.len(), |&i| hasher.hash_one(txn_key(&rows[i])));
        self.transactions.push(t);
        self.give_ahead(AHEAD_BATCH);
    }

    fn add_assignment(&mut self, a: AssignmentIn) {
        let key = (a.supporter.clone(), a.batch, a.id_number.clone());
        if let Some(first) = self.assignment_keys.get(&key).copied() {
            self.duplicate(
                a.at,
                first,
                "id_number",
                "支援方、批次和身份证号码",
                "supporter, batch and ID number",
            );
            return;
        }
        self.assignment_keys.insert(key, a.at);
        self.assignments.push(a);
    }

    fn add_indicator(&mut self, i: IndicatorIn) {
        let key = (
            i.project.clone(),
            i.name.clone(),
            i.value.as_ref().map(|(p, _)| p.clone()),
        );
        if let Some(first) = self.indicator_keys.get(&key).copied() {
            self.duplicate(
                i.at,
                first,
                "name",
                "项目编号、指标名称和期间",
                "project code, indicator name and period",
            );
            return;
        }
        self.indicator_keys.insert(key, i.at);
        self.indicators.push(i);
    }
}

impl Sink for Collector<'_> {
    fn text_bytes(&mut self, bytes: usize) {
        self.text_bytes = bytes;
    }

    fn begin_sheet(&mut self, name: &str) {
        self.current_name = name.to_owned();
        self.state = SheetState::Header;
        self.headless.clear();
    }

    fn row(&mut self, number: u32, cells: &[Cell], problems: Vec<CellProblem>) -> bool {
        match self.state {
            SheetState::Header => {
                let go_on = self.header(number, cells);
                if go_on {
                    // Problems in the header row itself (a formula, say).
                    if let SheetState::Records(i) = self.state {
                        for p in problems {
                            let mut issue = Issue::file(p.code, p.zh, p.en)
                                .at_sheet(&self.sheets[i].name)
                                .at_row(number)
                                .with_value(p.value);
                            issue.column = Some(p.column);
                            self.issues.push(issue);
                        }
                    }
                }
                go_on
            }
            SheetState::Records(i) => {
                self.sheets[i].rows += 1;
                self.rows_read += 1;
                if self.rows_read.is_multiple_of(10_000) {
                    (self.progress)(self.rows_read);
                }
                self.record(i, number, cells, problems);
                true
            }
            SheetState::Skipped => false,
        }
    }

    fn end_sheet(&mut self) -> bool {
        let used = matches!(self.state, SheetState::Records(_));
        self.state = SheetState::Skipped;
        used
    }

    fn merged(&mut self, first: (u32, u32), last: (u32, u32)) {
        let Some(sheet) = self.sheets.last() else {
            return;
        };
        let range = format!(
            "{}{}:{}{}",
            column_letter(first.1),
            first.0 + 1,
            column_letter(last.1),
            last.0 + 1
        );
        let mut issue = Issue::file(
            "merged_cells",
            format!("合并单元格 {range}：请取消合并并在每个单元格中填写数据"),
            format!("merged cells {range}: unmerge them and fill in every cell"),
        )
        .at_sheet(&sheet.name)
        .at_row(first.0 + 1)
        .with_value(range);
        issue.column = Some(first.1);
        issue.header = sheet
            .columns
            .values()
            .find(|(c, _)| *c == first.1)
            .map(|(_, h)| h.clone());
        self.issues.push(issue);
    }
}

/// An issue at a record's cell.
pub(crate) fn issue_at(
    sheets: &[SheetLayout],
    at: At,
    key: &str,
    e: DomainError,
    value: Option<String>,
) -> Issue {
    let sheet = &sheets[at.sheet as usize];
    let mut issue = Issue::from_rule(e).at_sheet(&sheet.name).at_row(at.row);
    if let Some((col, header)) = sheet.columns.get(key) {
        issue = issue.at_column(*col, header);
    }
    if let Some(v) = value {
        issue = issue.with_value(v);
    }
    issue
}

/// Maps a header row onto `kind`'s columns, with the problems found.
fn layout(sheet: &str, kind: Kind, number: u32, headers: &[String]) -> (SheetLayout, Vec<Issue>) {
    let mut columns: FastMap<&'static str, (u32, String)> = FastMap::new();
    let mut issues = Vec::new();
    let at = |c: usize, h: &str, i: Issue| {
        i.at_sheet(sheet)
            .at_row(number)
            .at_column(c as u32, h)
            .with_value(h)
    };
    for (c, h) in headers.iter().enumerate() {
        if h.is_empty() || is_row_number_header(h) {
            continue;
        }
        if header_in_wan_yuan(h) {
            issues.push(at(c, h, Issue::file(
                "amount_in_wan_yuan",
                "金额列以万元为单位：请换算为元（援疆通中金额一律以元为单位，最多两位小数）",
                "the amounts in this column are in 万元 (10,000 yuan): convert them to yuan (amounts are always yuan with at most two decimals)",
            )));
            continue;
        }
        match kind.columns().iter().find(|col| col.matches(h)) {
            Some(col) if columns.contains_key(col.key) => {
                let first = columns
                    .get(col.key)
                    .map(|(c, _)| column_letter(*c))
                    .unwrap_or_default();
                issues.push(at(
                    c,
                    h,
                    Issue::file(
                        "duplicate_column",
                        format!("列“{}”出现了两次（另见{first}列）", col.zh),
                        format!(
                            "column \"{}\" appears twice (see also column {first})",
                            col.en
                        ),
                    ),
                ));
            }
            Some(col) => {
                columns.insert(col.key, (c as u32, h.clone()));
            }
            None => {
                let zh: Vec<&str> = kind.columns().iter().map(|c| c.zh).collect();
                let en: Vec<&str> = kind.columns().iter().map(|c| c.en).collect();
                issues.push(at(
                    c,
                    h,
                    Issue::file(
                        "unknown_column",
                        format!(
                            "无法识别的列名“{h}”；{}表可用的列：{}",
                            kind.zh(),
                            zh.join("、")
                        ),
                        format!(
                            "unknown column \"{h}\"; the {} columns are: {}",
                            kind.key(),
                            en.join(", ")
                        ),
                    ),
                ));
            }
        }
    }
    for col in kind.columns().iter().filter(|c| c.required) {
        if !columns.contains_key(col.key) {
            issues.push(
                Issue::file(
                    "missing_column",
                    format!(
                        "缺少必填列“{}”（也可写作“{}”或“{}”）",
                        col.zh, col.en, col.key
                    ),
                    format!(
                        "required column \"{}\" is missing (also accepted: \"{}\", \"{}\")",
                        col.en, col.zh, col.key
                    ),
                )
                .at_sheet(sheet)
                .at_row(number),
            );
        }
    }
    (
        SheetLayout {
            name: sheet.to_owned(),
            kind,
            columns,
            rows: 0,
            header_row: number,
        },
        issues,
    )
}

/// Reads one row's cells into typed values, recording each problem.
struct RowReader<'a> {
    sheet: &'a SheetLayout,
    at: At,
    cells: &'a [Cell],
    bad_columns: &'a HashSet<u32>,
    issues: &'a mut Issues,
    ok: bool,
}

impl<'a> RowReader<'a> {
    fn column(&self, key: &str) -> Option<&'static Column> {
        self.sheet.kind.columns().iter().find(|c| c.key == key)
    }

    fn cell(&self, key: &str) -> Option<(u32, &'a Cell)> {
        let (c, _) = self.sheet.columns.get(key)?;
        Some((*c, self.cells.get(*c as usize).unwrap_or(&Cell::Empty)))
    }

    fn peek_text(&self, key: &str) -> Option<String> {
        self.cell(key)
            .map(|(_, c)| cell::text(c))
            .filter(|t| !t.is_empty())
    }

    fn problem(&mut self, key: &str, e: DomainError, value: &Cell) {
        self.ok = false;
        let issue = issue_at(
            std::slice::from_ref(self.sheet),
            At {
                sheet: 0,
                ..self.at
            },
            key,
            e,
            Some(value.display()),
        );
        self.issues.push(issue);
    }

    /// A value that may be absent: `None` if the column is absent or the
    /// cell blank (or bad, which is recorded).
    fn opt<T>(&mut self, key: &str, read: impl Fn(&Cell) -> Result<T, DomainError>) -> Option<T> {
        let (c, cell) = self.cell(key)?;
        if cell.is_blank() {
            return None;
        }
        if self.bad_columns.contains(&c) {
            self.ok = false;
            return None;
        }
        if let Cell::Error(e) = cell {
            let e = DomainError::new(
                "cell_error",
                format!("单元格是错误值“{e}”"),
                format!("the cell holds the error value \"{e}\""),
            );
            self.problem(key, e, &cell.clone());
            return None;
        }
        match read(cell) {
            Ok(v) => Some(v),
            Err(e) => {
                let cell = cell.clone();
                let (zh, en) = self
                    .column(key)
                    .map(|c| c.ty.expected())
                    .unwrap_or_default();
                // Messages that already say what is expected keep to themselves.
                let e = if zh.is_empty() || e.en.contains("expected") {
                    e
                } else {
                    DomainError::new(
                        e.code,
                        format!("{}；应为{zh}", e.zh.trim_end_matches('。')),
                        format!("{}; expected {en}", e.en),
                    )
                };
                self.problem(key, e, &cell);
                None
            }
        }
    }

    /// A value every row needs: blank is a problem too.
    fn req<T>(&mut self, key: &str, read: impl Fn(&Cell) -> Result<T, DomainError>) -> Option<T> {
        let (c, cell) = self.cell(key)?;
        if cell.is_blank() && !self.bad_columns.contains(&c) {
            let (zh, en) = self
                .column(key)
                .map(|c| c.ty.expected())
                .unwrap_or_default();
            let (name_zh, name_en) = self.column(key).map(|c| (c.zh, c.en)).unwrap_or_default();
            self.problem(
                key,
                DomainError::new(
                    "missing_value",
                    format!("“{name_zh}”为必填项，不能为空；应为{zh}"),
                    format!("\"{name_en}\" is required and must not be blank; expected {en}"),
                ),
                &Cell::Empty,
            );
            return None;
        }
        self.opt(key, read)
    }
}

fn text_at_most(max: usize) -> impl Fn(&Cell) -> Result<String, DomainError> {
    move |c| {
        let t = cell::text(c);
        if cell::more_chars_than(&t, max) {
            Err(DomainError::new(
                "text_too_long",
                format!("文本超过{max}字"),
                format!("the text is longer than {max} characters"),
            ))
        } else {
            Ok(t)
        }
    }
}

fn project_code(c: &Cell) -> Result<String, DomainError> {
    let t = cell::text(c);
    validate_project_code(&t)?;
    Ok(t)
}

fn supporter_code(c: &Cell) -> Result<String, DomainError> {
    let t = cell::text(c);
    // Central bodies have 18-character credit codes, which may be all digits.
    if t.len() == 18 {
        validate_credit_code(&t)?;
    } else {
        validate_division_code(&t)?;
    }
    Ok(t)
}

fn recipient_code(c: &Cell) -> Result<String, DomainError> {
    let t = cell::text(c);
    if t.starts_with("XPCC") {
        validate_xpcc_code(&t)?;
    } else {
        validate_division_code(&t)?;
    }
    Ok(t)
}

fn vocab<T>(parse: fn(&str) -> Result<T, DomainError>) -> impl Fn(&Cell) -> Result<T, DomainError> {
    move |c| parse(&cell::text_ref(c))
}

fn read_project(r: &mut RowReader<'_>) -> Option<ProjectIn> {
    let code = r.req("code", project_code);
    let name = r.req("name", text_at_most(MAX_PROJECT_NAME_CHARS));
    let category = r.req("category", vocab(Category::parse));
    let delivery_mode = r.req("delivery_mode", vocab(DeliveryMode::parse));
    let kind = r.req("kind", vocab(ProjectKind::parse));
    let year = r.req("year", cell::year);
    let in_plan = r.opt("in_plan", cell::flag);
    let continued = r.opt("continued", cell::flag);
    let grassroots = r.opt("grassroots", cell::flag);
    let livelihood = r.opt("livelihood", cell::flag);
    let supporter = r.req("supporter_code", supporter_code);
    let recipient = r.req("recipient_code", recipient_code);
    let location = r.req("location_code", recipient_code);
    let planned = r.req("planned_investment", |c| cell::amount(c, true));
    let aid = r.req("aid_funds", |c| cell::amount(c, true));
    let matching = r.opt("matching_funds", |c| cell::amount(c, true));
    let start = r.req("start_date", cell::date);
    let end = r.req("end_date", cell::date);
    let state = r.req("state", vocab(ProjectState::parse));
    let published = r.opt("published", cell::flag);
    let description = r.opt("description", text_at_most(usize::MAX));
    Some(ProjectIn {
        at: r.at,
        code: code?,
        name: name?,
        category: category?,
        delivery_mode: delivery_mode?,
        kind: kind?,
        year: year?,
        supporter: supporter?,
        recipient: recipient?,
        location: location?,
        planned: planned?,
        aid: aid?,
        start: start?,
        end: end?,
        state: state?,
        in_plan,
        continued,
        grassroots,
        livelihood,
        matching,
        published,
        description,
    })
}

fn read_transaction(r: &mut RowReader<'_>) -> Option<TxnIn> {
    let project = r.req("project_code", project_code);
    let fund_type = r.req("fund_type", vocab(FundType::parse));
    let amount = r.req("amount", |c| cell::amount(c, false));
    let date = r.req("date", cell::date);
    let document_no = r.req("document_no", text_at_most(100));
    let note = r.opt("note", text_at_most(usize::MAX));
    Some(TxnIn {
        at: r.at,
        project: project?,
        fund_type: fund_type?,
        amount: amount?,
        date: date?,
        document_no: document_no?,
        note,
    })
}

fn read_indicator(r: &mut RowReader<'_>) -> Option<IndicatorIn> {
    let project = r.req("project_code", project_code);
    let name = r.req("name", text_at_most(200));
    let unit = r.req("unit", text_at_most(50));
    let baseline = r.req("baseline", cell::number);
    let target = r.req("target", cell::number);
    let period = r.opt("period", cell::period);
    let actual = r.opt("actual", cell::number);
    let value = match (period, actual) {
        (Some(p), Some(a)) => Some((p, a)),
        (None, None) => None,
        (Some(_), None) => {
            let cell = Cell::Empty;
            if r.ok {
                r.problem(
                    "actual",
                    DomainError::new(
                        "missing_value",
                        "填写了期间但没有实际值",
                        "a period is given without an actual value",
                    ),
                    &cell,
                );
            }
            None
        }
        (None, Some(_)) => {
            let cell = Cell::Empty;
            if r.ok {
                r.problem(
                    "period",
                    DomainError::new(
                        "missing_value",
                        "填写了实际值但没有期间（YYYY 或 YYYY-MM）",
                        "an actual value is given without a period (YYYY or YYYY-MM)",
                    ),
                    &cell,
                );
            }
            None
        }
    };
    Some(IndicatorIn {
        at: r.at,
        project: project?,
        name: name?,
        unit: unit?,
        baseline: baseline?,
        target: target?,
        value,
    })
}

fn read_assignment(r: &mut RowReader<'_>) -> Option<AssignmentIn> {
    let supporter = r.req("supporter_code", supporter_code);
    let batch = r.opt("batch_number", cell::batch_number);
    let person_name = r.req("person_name", text_at_most(100));
    let id_number = r.req("id_number", cell::id_number);
    let phone = r.opt("phone", cell::phone);
    let category = r.req("category", vocab(AssignmentCategory::parse));
    let mode = r.req("mode", vocab(AssignmentMode::parse));
    let recipient = r.req("recipient_code", recipient_code);
    let host_unit = r.req("host_unit", text_at_most(200));
    let post = r.opt("post", text_at_most(200));
    let arrival = r.req("arrival_date", cell::date);
    let return_date = r.req("return_date", cell::date);
    let appraisal = r.opt("appraisal", text_at_most(200));
    Some(AssignmentIn {
        at: r.at,
        supporter: supporter?,
        batch,
        person_name: person_name?,
        id_number: id_number?,
        phone,
        category: category?,
        mode: mode?,
        recipient: recipient?,
        host_unit: host_unit?,
        post,
        arrival: arrival?,
        return_date: return_date?,
        appraisal,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookalikes_are_masked() {
        assert_eq!(
            mask_lookalikes("张三 11010519491231002X 13812345678"),
            "张三 1101**********002X 138****5678"
        );
        assert_eq!(mask_lookalikes("沪援〔2024〕12号"), "沪援〔2024〕12号");
        assert_eq!(mask_lookalikes("653125"), "653125");
    }
}
