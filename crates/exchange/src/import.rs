//! An import from start to finish: read and type every row, check every
//! record against the stored data (parties, projects, the lifecycle, each
//! project's fund chain replayed with the stored and imported transactions,
//! the caller's scope), and only if nothing at all is wrong, write the whole
//! file in one transaction by natural key. A file with one bad row writes
//! nothing; the same file imported twice changes nothing the second time.
//!
//! Natural keys: a project by its code; a transaction by project, type, date
//! and document number (文号); an indicator by project and name, its value
//! by period; an assignment by supporter, batch (blank is a value of its
//! own) and ID number. A row whose key is stored is compared: equal is `unchanged`,
//! different is `updated` in place.
//!
//! Assignments carry personal data: ID numbers and phones are sealed by the
//! store's own assignment writes, and every issue shows them masked.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;

use foldhash::{HashMap as FastMap, HashMapExt, HashSet as FastSet, HashSetExt};

use bytes::Bytes;
use serde::Serialize;
use sm3::{Digest, Sm3};
use yuanjiang_domain::personnel::mask_id_number;
use yuanjiang_domain::{
    Action, Assignment, DomainError, Fen, FundChain, FundTransaction, Owner, Project, ProjectKind,
    ProjectState, Viewer,
};

use yuanjiang_store::exchange::{
    AheadBatch, FundRow, ImportRecord, ImportTx, NewProject, StoredAssignment, StoredProject,
    StoredTransaction,
};
use yuanjiang_store::{Store, StoreError};

use crate::columns::Kind;
use crate::error::ExchangeError;
use crate::issue::{Issue, Issues};
use crate::parse::{
    AheadSink, AssignmentIn, AssignmentKey, At, Collector, IndicatorIn, PersonalColumn, ProjectIn,
    SheetLayout, TxnIn, issue_at, mask_lookalikes,
};
use crate::read::{Format, Limits, detect, read};

/// Records written per statement batch between progress reports.
const WRITE_BATCH: usize = 10_000;

/// What to import and how.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Kinds to import: one, or several from the sheets of one workbook
    /// (then transactions may refer to projects in the same file).
    pub kinds: Vec<Kind>,
    /// Check everything and report, but write nothing.
    pub dry_run: bool,
    /// Whose scope applies (`Viewer::may(Action::Edit, …)` on every record);
    /// `None` for the operator of the command line, who may write anything.
    pub viewer: Option<Viewer>,
    /// Name recorded as the actor in the history and the audit trail.
    pub actor: String,
    /// The file's name, for the report, the history and CSV sheet names.
    pub file_name: String,
    /// Size, row and cell limits.
    pub limits: Limits,
}

/// Records inserted, updated in place and left unchanged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// New records.
    pub inserted: u64,
    /// Records changed in place.
    pub updated: u64,
    /// Records already as in the file.
    pub unchanged: u64,
}

impl Counts {
    fn add(&mut self, change: Change) {
        match change {
            Change::Insert => self.inserted += 1,
            Change::Update => self.updated += 1,
            Change::Unchanged => self.unchanged += 1,
        }
    }
}

/// A sheet that was imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SheetSummary {
    /// Sheet name (the file name for CSV).
    pub name: String,
    /// What it held.
    pub kind: &'static str,
    /// Data rows.
    pub rows: u64,
    /// The header row (1-based).
    pub header_row: u32,
    /// Columns (0-based) holding personal data, which the error workbook masks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub personal_columns: Vec<(u32, PersonalColumn)>,
}

/// The outcome of an import: what was read, what was (or would be) written,
/// and every problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// File name as given.
    pub file_name: String,
    /// SM3 of the file's bytes, lower-case hex.
    pub file_sm3: String,
    /// File size in bytes.
    pub file_bytes: u64,
    /// Format found, e.g. `xlsx` or `CSV (GBK/GB18030)`.
    pub format: Option<String>,
    /// Sheets imported.
    pub sheets: Vec<SheetSummary>,
    /// Counts per kind (`projects`, `transactions`, `indicators`, `assignments`).
    pub counts: BTreeMap<&'static str, Counts>,
    /// Every problem, by sheet, row and column.
    pub issues: Vec<Issue>,
    /// Problems past the first 100,000, counted only.
    pub suppressed: u64,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// The import history row, when written.
    pub import_id: Option<i64>,
}

impl ImportReport {
    /// Whether the file had no problem.
    pub fn is_ok(&self) -> bool {
        self.issues.is_empty() && self.suppressed == 0
    }

    /// Counts over all kinds.
    pub fn totals(&self) -> Counts {
        let mut t = Counts::default();
        for c in self.counts.values() {
            t.inserted += c.inserted;
            t.updated += c.updated;
            t.unchanged += c.unchanged;
        }
        t
    }
}

/// Where an import is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Reading rows.
    Reading {
        /// Rows read so far.
        rows: u64,
    },
    /// Checking against the database.
    Checking,
    /// Writing records.
    Writing {
        /// Written so far.
        done: u64,
        /// To write.
        total: u64,
    },
}

/// SM3 of some bytes as lower-case hex.
pub fn sm3_hex(bytes: &[u8]) -> String {
    let digest = Sm3::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A file's SM3, taken or being taken on a blocking thread.
enum Fingerprint {
    Taken(String),
    Taking(tokio::task::JoinHandle<String>, Bytes),
}

impl Fingerprint {
    fn start(file: Bytes) -> Fingerprint {
        let digest = tokio::task::spawn_blocking({
            let file = file.clone();
            move || sm3_hex(&file)
        });
        Fingerprint::Taking(digest, file)
    }

    /// The hex digest, waiting for it the first time if need be.
    async fn hex(&mut self) -> String {
        match self {
            Fingerprint::Taken(hex) => hex.clone(),
            Fingerprint::Taking(digest, file) => {
                // A thread that failed is made up for here.
                let hex = digest.await.unwrap_or_else(|_| sm3_hex(file));
                *self = Fingerprint::Taken(hex.clone());
                hex
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Insert,
    Update,
    Unchanged,
}

/// A project as it will stand after the import.
struct FinalProject {
    project: Project,
    prefecture: String,
    at: At,
    change: Change,
}

/// What the import will do to one transaction row: a byte a row, as a
/// national file has ten million (the stored row an update changes is kept
/// beside, in `Check::txn_updates`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TxnChange {
    Insert,
    Update,
    Unchanged,
}

/// Everything read from the file.
struct Read {
    sheets: Vec<SheetLayout>,
    issues: Issues,
    projects: Vec<ProjectIn>,
    transactions: Vec<TxnIn>,
    indicators: Vec<IndicatorIn>,
    assignments: Vec<AssignmentIn>,
    broken_projects: FastSet<String>,
    rows_read: u64,
}

/// Imports a file's bytes into the store (or only checks them, for a dry
/// run). Problems with the file come back in the report; `Err` means the
/// import could not be carried out (the database failed).
pub async fn import(
    store: &Store,
    file: Bytes,
    options: &ImportOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<ImportReport, ExchangeError> {
    let bytes: &[u8] = &file;
    let (mut fingerprint, read, ahead) =
        match begin_writing_ahead(store, bytes.len(), options).await? {
            Some((mut itx, ids)) => {
                let (read, written) =
                    read_writing_ahead(&mut itx, ids, file.clone(), options, progress).await?;
                // Both cores were busy while the file was written ahead; the
                // checks that follow leave one idle for the fingerprint.
                (Fingerprint::start(file.clone()), read, Some((itx, written)))
            }
            None => {
                // The file's fingerprint is taken on a second core while this one reads.
                let (file_sm3, read) = std::thread::scope(|scope| {
                    let digest = scope.spawn(|| sm3_hex(bytes));
                    let read = read_file(bytes, options, progress, None);
                    (digest.join().unwrap_or_else(|_| sm3_hex(bytes)), read)
                });
                (Fingerprint::Taken(file_sm3), read, None)
            }
        };
    let mut report = ImportReport {
        file_name: options.file_name.clone(),
        file_sm3: String::new(),
        file_bytes: bytes.len() as u64,
        format: None,
        sheets: Vec::new(),
        counts: BTreeMap::new(),
        issues: Vec::new(),
        suppressed: 0,
        dry_run: options.dry_run,
        import_id: None,
    };
    let outcome = check_and_write(
        store,
        options,
        read,
        ahead,
        &mut report,
        &mut fingerprint,
        progress,
    )
    .await;
    report.file_sm3 = fingerprint.hex().await;
    outcome.map(|()| report)
}

/// The part of [`import`] after the read: the checks and, if nothing is
/// wrong and this is no dry run, the writes. Fills in `report`.
async fn check_and_write(
    store: &Store,
    options: &ImportOptions,
    read: Result<(Format, Read), Issue>,
    ahead: Option<(ImportTx, u64)>,
    report: &mut ImportReport,
    fingerprint: &mut Fingerprint,
    progress: &mut dyn FnMut(Progress),
) -> Result<(), ExchangeError> {
    let read = match read {
        Ok((format, read)) => {
            report.format = Some(format.describe());
            read
        }
        Err(issue) => {
            report.issues.push(issue);
            return Ok(());
        }
    };
    report.sheets = read
        .sheets
        .iter()
        .map(|s| SheetSummary {
            name: s.name.clone(),
            kind: s.kind.key(),
            rows: s.rows,
            header_row: s.header_row,
            personal_columns: s.personal_columns(),
        })
        .collect();
    if read.sheets.is_empty() || read.sheets.iter().all(|s| s.rows == 0) {
        let mut issues = read.issues;
        mask_personal_data(&mut issues, &read.sheets);
        finish_issues(report, issues);
        return Ok(());
    }
    progress(Progress::Checking);
    // Dropped without a commit on every return below but the last: the
    // rows written ahead roll back with it.
    let mut check = Check::new(store, options, read, ahead).await?;
    check.projects();
    check.transactions().await?;
    check.indicators().await?;
    check.assignments().await?;
    report.counts = check.counts.clone();
    if !check.issues.is_empty() {
        let mut issues = std::mem::take(&mut check.issues);
        mask_personal_data(&mut issues, &check.read.sheets);
        finish_issues(report, issues);
        // Dropping the check drops its transaction: a rollback, though nothing was written.
        return Ok(());
    }
    if options.dry_run {
        return Ok(());
    }
    let mut kinds: Vec<&str> = report.sheets.iter().map(|s| s.kind).collect();
    kinds.dedup();
    let totals = report.totals();
    let record = ImportRecord {
        actor: options.actor.clone(),
        file_name: options.file_name.clone(),
        file_sm3: fingerprint.hex().await,
        file_bytes: i64::try_from(report.file_bytes).unwrap_or(i64::MAX),
        kind: kinds.join("+"),
        rows_read: i64::try_from(check.read.rows_read).unwrap_or(i64::MAX),
        inserted: i64::try_from(totals.inserted).unwrap_or(i64::MAX),
        updated: i64::try_from(totals.updated).unwrap_or(i64::MAX),
        unchanged: i64::try_from(totals.unchanged).unwrap_or(i64::MAX),
    };
    report.import_id = Some(check.write(&record, totals, progress).await?);
    Ok(())
}

/// The import's transaction, with every project's row id by code, if this
/// file is written while it is read (see `read_writing_ahead`): a large
/// file of transactions alone, on SQLite, not a dry run. Anything else is
/// read first.
async fn begin_writing_ahead(
    store: &Store,
    file_bytes: usize,
    options: &ImportOptions,
) -> Result<Option<(ImportTx, FastMap<String, i64>)>, ExchangeError> {
    if options.dry_run || options.kinds != [Kind::Transactions] {
        return Ok(None);
    }
    let mut itx = store.begin_import_ahead().await?;
    Ok(itx
        .begin_write_ahead(file_bytes)
        .await?
        .map(|ids| (itx, ids.into_iter().collect())))
}

/// Masks personal data in the issues of assignments sheets: the values of
/// the ID-number and phone columns, and anything elsewhere (a misnamed
/// column, a message quoting a cell) that looks like either. Reports are
/// printed, saved and passed around; the numbers stay in the file.
fn mask_personal_data(issues: &mut Issues, sheets: &[SheetLayout]) {
    let personal: Vec<(&str, Vec<(u32, PersonalColumn)>)> = sheets
        .iter()
        .filter(|s| s.kind == Kind::Assignments)
        .map(|s| (s.name.as_str(), s.personal_columns()))
        .collect();
    if personal.is_empty() {
        return;
    }
    for issue in &mut issues.list {
        let Some((_, columns)) = personal.iter().find(|(name, _)| *name == issue.sheet) else {
            continue;
        };
        let column = columns
            .iter()
            .find(|(c, _)| Some(*c) == issue.column)
            .map(|(_, what)| *what);
        if let Some(v) = issue.value.as_mut() {
            *v = match column {
                Some(what) => what.mask(v),
                None => mask_lookalikes(v),
            };
        }
        issue.zh = mask_lookalikes(&issue.zh);
        issue.en = mask_lookalikes(&issue.en);
    }
}

fn finish_issues(report: &mut ImportReport, mut issues: Issues) {
    issues.list.sort_by_key(Issue::sort_key);
    report.issues = issues.list;
    report.suppressed = issues.suppressed;
}

// The `Issue` is a refused file's one report, on the cold path.
#[allow(clippy::result_large_err)]
fn read_file<'a>(
    bytes: &[u8],
    options: &ImportOptions,
    progress: &mut dyn FnMut(Progress),
    ahead: Option<&'a mut AheadSink<'a>>,
) -> Result<(Format, Read), Issue> {
    // `read` checks it too; checking first avoids decoding a huge text twice.
    options.limits.check_size(bytes.len() as u64)?;
    let format = detect(bytes)?;
    let force = matches!(format, Format::Csv { .. }) && options.kinds.len() == 1;
    let mut on_rows = |rows| progress(Progress::Reading { rows });
    let mut collector = Collector::new(options.kinds.clone(), force, &mut on_rows);
    if let Some(ahead) = ahead {
        collector.write_ahead(ahead);
    }
    let format = read(bytes, &options.file_name, &options.limits, &mut collector)?;
    collector.finish();
    Ok((
        format,
        Read {
            sheets: std::mem::take(&mut collector.sheets),
            issues: std::mem::take(&mut collector.issues),
            projects: std::mem::take(&mut collector.projects),
            transactions: std::mem::take(&mut collector.transactions),
            indicators: std::mem::take(&mut collector.indicators),
            assignments: std::mem::take(&mut collector.assignments),
            broken_projects: std::mem::take(&mut collector.broken_projects),
            rows_read: collector.rows_read,
        },
    ))
}

/// What the thread reading a file sends while it reads.
enum Reading {
    Rows(u64),
    Ahead(Result<AheadBatch, StoreError>),
}

/// Reads a file of transactions on a blocking thread while this task
/// writes the rows read so far (`ImportTx::write_ahead`), so that
/// SQLite's inserts take the second core instead of following the read.
/// The checks come after, as for any file; if they fail, or anything
/// else does, the import's transaction rolls the rows back. Returns what
/// was read and how many rows were written ahead.
// The reading task returns `read_file`'s result, whose `Issue` is a
// refused file's one report, on the cold path.
#[allow(clippy::result_large_err)]
async fn read_writing_ahead(
    itx: &mut ImportTx,
    ids: FastMap<String, i64>,
    file: Bytes,
    options: &ImportOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<(Result<(Format, Read), Issue>, u64), ExchangeError> {
    let (sender, mut received) = tokio::sync::mpsc::channel::<Reading>(4);
    let reader = tokio::task::spawn_blocking({
        let (file, options) = (file.clone(), options.clone());
        move || read_giving_ahead(&file, &options, &ids, &sender)
    });
    let mut written = 0;
    let mut failed = None;
    // Drained to the end even after a failure, so the reader never waits.
    while let Some(message) = received.recv().await {
        match message {
            Reading::Rows(rows) => progress(Progress::Reading { rows }),
            Reading::Ahead(_) if failed.is_some() => {}
            Reading::Ahead(Ok(batch)) => match itx.write_ahead(batch).await {
                Ok(n) => written += n,
                Err(e) => failed = Some(e),
            },
            Reading::Ahead(Err(e)) => failed = Some(e),
        }
    }
    let read = reader.await.map_err(reader_failed)?;
    if let Some(e) = failed {
        return Err(e.into());
    }
    Ok((read, written))
}

/// The reading thread's part of [`read_writing_ahead`]: reads the file,
/// sending its progress and its accepted transactions, encoded, as it goes.
// The `Issue` is a refused file's one report, on the cold path.
#[allow(clippy::result_large_err)]
fn read_giving_ahead(
    file: &[u8],
    options: &ImportOptions,
    ids: &FastMap<String, i64>,
    sender: &tokio::sync::mpsc::Sender<Reading>,
) -> Result<(Format, Read), Issue> {
    let mut on_progress = |p: Progress| {
        if let Progress::Reading { rows } = p {
            // A closed channel means the import failed: read on, unheard.
            let _ = sender.blocking_send(Reading::Rows(rows));
        }
    };
    let mut on_rows = |rows: &[TxnIn]| {
        // Rows come grouped by project: the code is looked up once per run.
        let mut last: Option<(&str, Option<i64>)> = None;
        // Rows of projects not stored are left out: the checks report them.
        let batch = AheadBatch::encode(rows.iter().filter_map(|t| {
            let id = match last {
                Some((code, id)) if code == t.project => id,
                _ => {
                    let id = ids.get(&t.project).copied();
                    last = Some((&t.project, id));
                    id
                }
            };
            Some(FundRow {
                project_id: id?,
                fund_type: t.fund_type,
                amount: t.amount,
                date: t.date,
                document_no: &t.document_no,
                note: t.note.as_deref().unwrap_or_default(),
            })
        }));
        let _ = sender.blocking_send(Reading::Ahead(batch));
    };
    read_file(file, options, &mut on_progress, Some(&mut on_rows))
}

/// The reading thread panicked or was cancelled: the import stops (and
/// rolls back) with the cause.
fn reader_failed(e: tokio::task::JoinError) -> ExchangeError {
    ExchangeError::Reader(e.to_string())
}

/// What [`parse_rows`] found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowsRead {
    /// The file's format.
    pub format: Format,
    /// Rows read from every sheet.
    pub rows: u64,
    /// Records parsed, of every kind.
    pub records: usize,
    /// Problems found, personal data masked as in the report.
    pub issues: Vec<Issue>,
}

/// Reads and parses a file's rows as [`import`] does before it looks at the
/// store: the pure part, which the fuzz targets (`fuzz/`) drive with
/// arbitrary bytes. A file refused as a whole gives its one issue.
// The `Issue` is a refused file's one report, on the cold path.
#[allow(clippy::result_large_err)]
pub fn parse_rows(bytes: &[u8], options: &ImportOptions) -> Result<RowsRead, Issue> {
    let (format, mut read) = read_file(bytes, options, &mut |_| {}, None)?;
    mask_personal_data(&mut read.issues, &read.sheets);
    Ok(RowsRead {
        format,
        rows: read.rows_read,
        records: read.projects.len()
            + read.transactions.len()
            + read.indicators.len()
            + read.assignments.len(),
        issues: read.issues.list,
    })
}

/// Whether `to` can be reached from `from` along the lifecycle of `kind`.
fn reachable(from: ProjectState, to: ProjectState, kind: ProjectKind) -> bool {
    let mut seen = vec![from];
    let mut queue = vec![from];
    while let Some(s) = queue.pop() {
        if s == to {
            return true;
        }
        for n in s.next_states(kind) {
            if !seen.contains(n) {
                seen.push(*n);
                queue.push(*n);
            }
        }
    }
    false
}

/// The column a broken project rule is shown in.
fn project_rule_column(code: &str) -> &'static str {
    match code {
        "invalid_year" => "year",
        "funds_exceed_investment" => "aid_funds",
        "end_before_start" => "end_date",
        "state_kind_mismatch" => "state",
        "invalid_project_name" => "name",
        "negative_amount" => "planned_investment",
        _ => "code",
    }
}

/// The checks of one import and, when they pass, its writes.
struct Check<'a> {
    options: &'a ImportOptions,
    itx: ImportTx,
    read: Read,
    issues: Issues,
    counts: BTreeMap<&'static str, Counts>,
    supporters: HashMap<String, Option<String>>,
    recipients: HashMap<String, Option<String>>,
    // Looked up once per row of a large file: foldhash, not SipHash.
    stored: FastMap<String, StoredProject>,
    finals: FastMap<String, FinalProject>,
    txn_changes: Vec<TxnChange>,
    /// The rows that correct a stored transaction, with its row id, in row order.
    txn_updates: Vec<(usize, i64)>,
    /// Transactions written ahead while the file was read (SQLite, a file
    /// of transactions alone): the new ones are in the table already.
    written_ahead: Option<u64>,
    indicator_changes: Vec<Option<IndicatorChange>>,
    /// Stored assignments of the file's supporters, in clear.
    stored_assignments: Vec<StoredAssignment>,
    /// Per assignment row: the record as it will stand and what happens to it
    /// (absent: the row has a problem).
    assignment_changes: Vec<Option<(Assignment, AssignmentChange)>>,
}

/// What the import will do to one assignment row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AssignmentChange {
    Insert,
    /// Update the stored assignment at this index of `stored_assignments`.
    Update(usize),
    Unchanged,
}

/// The column a broken assignment rule is shown in.
fn assignment_rule_column(code: &str) -> &'static str {
    match code {
        "return_before_arrival" | "assignment_too_long" => "return_date",
        "invalid_id_number" => "id_number",
        "invalid_phone" => "phone",
        "missing_assignment_field" => "host_unit",
        _ => "person_name",
    }
}

/// What the import will do to one indicator row (absent: the row is not written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct IndicatorChange {
    /// The definition (unit, baseline, target) is new or different.
    definition: bool,
    /// The value for the period is new or different.
    value: bool,
}

impl<'a> Check<'a> {
    /// The checks of what was `read`, in the import's transaction: the one
    /// that wrote rows ahead, if any, with how many, else a new one.
    async fn new(
        store: &Store,
        options: &'a ImportOptions,
        mut read: Read,
        ahead: Option<(ImportTx, u64)>,
    ) -> Result<Check<'a>, ExchangeError> {
        let (mut itx, written_ahead) = match ahead {
            Some((itx, written)) => (itx, Some(written)),
            None => (store.begin_import().await?, None),
        };
        let supporters = itx.supporters().await?;
        let recipients = if read.projects.is_empty() && read.assignments.is_empty() {
            HashMap::new()
        } else {
            itx.recipients().await?
        };
        // A file's rows come grouped by project: dropping the runs as they
        // are collected leaves a sort of thousands of codes, not a list of
        // ten million.
        let mut codes: Vec<&str> = Vec::new();
        for code in read
            .projects
            .iter()
            .map(|p| p.code.as_str())
            .chain(read.transactions.iter().map(|t| t.project.as_str()))
            .chain(read.indicators.iter().map(|i| i.project.as_str()))
        {
            if codes.last() != Some(&code) {
                codes.push(code);
            }
        }
        codes.sort_unstable();
        codes.dedup();
        let stored = itx
            .projects(&codes)
            .await?
            .into_iter()
            .map(|s| (s.project.code.clone(), s))
            .collect();
        let issues = std::mem::take(&mut read.issues);
        Ok(Check {
            options,
            itx,
            read,
            issues,
            counts: BTreeMap::new(),
            supporters,
            recipients,
            stored,
            finals: FastMap::new(),
            txn_changes: Vec::new(),
            txn_updates: Vec::new(),
            written_ahead,
            indicator_changes: Vec::new(),
            stored_assignments: Vec::new(),
            assignment_changes: Vec::new(),
        })
    }

    fn issue(&mut self, at: At, key: &str, e: DomainError, value: Option<String>) {
        let issue = issue_at(&self.read.sheets, at, key, e, value);
        self.issues.push(issue);
    }

    /// Whether the caller may edit a record owned as `owner`.
    fn may_edit(&self, supporter: &str, recipient: &str, published: bool) -> bool {
        let Some(viewer) = &self.options.viewer else {
            return true;
        };
        let parent = self.supporters.get(supporter).and_then(|p| p.as_deref());
        viewer.may(
            Action::Edit,
            Owner {
                supporter_code: supporter,
                recipient_code: recipient,
                published,
            },
            parent,
        )
    }

    fn out_of_scope(code: &str) -> DomainError {
        DomainError::new(
            "out_of_scope",
            format!("无权修改项目“{code}”：它不在您的管辖范围内"),
            format!("you may not change project \"{code}\": it is outside your scope"),
        )
    }

    fn projects(&mut self) {
        let inputs = std::mem::take(&mut self.read.projects);
        let mut counts = Counts::default();
        for p in &inputs {
            let stored = self.stored.get(&p.code).map(|s| s.project.clone());
            let base = stored.as_ref();
            let project = Project {
                code: p.code.clone(),
                name: p.name.clone(),
                category: p.category,
                delivery_mode: p.delivery_mode,
                kind: p.kind,
                year: p.year,
                in_plan: p.in_plan.or(base.map(|b| b.in_plan)).unwrap_or(true),
                continued: p.continued.or(base.map(|b| b.continued)).unwrap_or(false),
                grassroots: p.grassroots.or(base.map(|b| b.grassroots)).unwrap_or(false),
                livelihood: p.livelihood.or(base.map(|b| b.livelihood)).unwrap_or(false),
                supporter_code: p.supporter.clone(),
                recipient_code: p.recipient.clone(),
                location_code: p.location.clone(),
                planned_investment: p.planned,
                aid_funds: p.aid,
                matching_funds: p
                    .matching
                    .or(base.map(|b| b.matching_funds))
                    .unwrap_or(Fen::ZERO),
                start_date: p.start,
                end_date: p.end,
                state: p.state,
                published: p.published.or(base.map(|b| b.published)).unwrap_or(false),
                description: p
                    .description
                    .clone()
                    .or(base.map(|b| b.description.clone()))
                    .unwrap_or_default(),
            };
            let mut ok = true;
            let mut problems: Vec<(&'static str, DomainError, Option<String>)> = Vec::new();
            if let Err(e) = project.validate() {
                problems.push((project_rule_column(e.code), e, None));
            }
            if !self.supporters.contains_key(&project.supporter_code) {
                problems.push((
                    "supporter_code",
                    DomainError::new(
                        "unknown_supporter",
                        format!("支援方“{}”不存在", project.supporter_code),
                        format!("supporter \"{}\" does not exist", project.supporter_code),
                    ),
                    Some(project.supporter_code.clone()),
                ));
            }
            let prefecture = match self.recipients.get(&project.recipient_code) {
                Some(Some(pref)) => pref.clone(),
                found => {
                    problems.push((
                        "recipient_code",
                        DomainError::new(
                            "unknown_recipient",
                            format!(
                                "受援地“{}”{}",
                                project.recipient_code,
                                if found.is_some() { "不是可受援单位（应为地州、县市或兵团师市）" } else { "不存在" }
                            ),
                            format!(
                                "recipient \"{}\" {}",
                                project.recipient_code,
                                if found.is_some() {
                                    "cannot receive aid (expected a prefecture, county or XPCC division)"
                                } else {
                                    "does not exist"
                                }
                            ),
                        ),
                        Some(project.recipient_code.clone()),
                    ));
                    String::new()
                }
            };
            if !self.recipients.contains_key(&project.location_code)
                || !project.location_code.starts_with(&project.recipient_code)
            {
                problems.push((
                    "location_code",
                    DomainError::new(
                        "location_outside_recipient",
                        format!(
                            "项目地点“{}”不存在或不在受援地“{}”范围内",
                            project.location_code, project.recipient_code
                        ),
                        format!(
                            "location \"{}\" does not exist or is not within recipient \"{}\"",
                            project.location_code, project.recipient_code
                        ),
                    ),
                    Some(project.location_code.clone()),
                ));
            }
            let scope_ok = self.may_edit(
                &project.supporter_code,
                &project.recipient_code,
                project.published,
            ) && base
                .is_none_or(|b| self.may_edit(&b.supporter_code, &b.recipient_code, b.published));
            if !scope_ok {
                problems.push(("supporter_code", Self::out_of_scope(&project.code), None));
            }
            if let Some(viewer) = &self.options.viewer {
                let newly_published = project.published && base.is_none_or(|b| !b.published);
                let parent = self
                    .supporters
                    .get(&project.supporter_code)
                    .and_then(|p| p.as_deref());
                let owner = Owner {
                    supporter_code: &project.supporter_code,
                    recipient_code: &project.recipient_code,
                    published: project.published,
                };
                if newly_published && !viewer.may(Action::Approve, owner, parent) {
                    problems.push((
                        "published",
                        DomainError::new(
                            "publish_needs_approval",
                            "公开项目须经自治区审批：请将“是否公开”填为“否”，项目批准后自动公开",
                            "publishing a project needs the region's approval: set published to no; approval publishes it",
                        ),
                        None,
                    ));
                }
            }
            if let Some(b) = base
                && b.state != project.state
                && !reachable(b.state, project.state, project.kind)
            {
                problems.push((
                    "state",
                    DomainError::new(
                        "state_unreachable",
                        format!(
                            "项目状态不能从“{}”变为“{}”：{}项目的生命周期不允许",
                            b.state.zh(),
                            project.state.zh(),
                            project.kind.zh()
                        ),
                        format!(
                            "the state cannot change from \"{}\" to \"{}\": the lifecycle of a {} project does not allow it",
                            b.state.en(),
                            project.state.en(),
                            project.kind.en()
                        ),
                    ),
                    None,
                ));
            }
            for (key, e, value) in problems {
                ok = false;
                let value = value.or_else(|| cell_value(&project, key));
                self.issue(p.at, key, e, value);
            }
            if !ok {
                self.read.broken_projects.insert(p.code.clone());
                continue;
            }
            let change = match base {
                None => Change::Insert,
                Some(b) if *b == project => Change::Unchanged,
                Some(_) => Change::Update,
            };
            counts.add(change);
            self.finals.insert(
                p.code.clone(),
                FinalProject {
                    project,
                    prefecture,
                    at: p.at,
                    change,
                },
            );
        }
        if !inputs.is_empty() {
            self.counts.insert(Kind::Projects.key(), counts);
        }
        self.read.projects = inputs;
    }

    /// The project a transaction or indicator row refers to, as it will
    /// stand: from the file if it is there, else as stored.
    fn target(&self, code: &str) -> Option<(&Project, Option<i64>)> {
        // One look-up of the stored project: this runs twice per project
        // of a file, and a national file has 400,000.
        let stored = self.stored.get(code);
        if let Some(f) = self.finals.get(code) {
            return Some((&f.project, stored.map(|s| s.id)));
        }
        if self.read.broken_projects.contains(code) {
            return None;
        }
        stored.map(|s| (&s.project, Some(s.id)))
    }

    /// Checks the rows that refer to a project: that it exists (a row of a
    /// project that is itself wrong is not reported again) and is in scope.
    fn check_reference(&mut self, at: At, code: &str) -> bool {
        if !self.finals.contains_key(code) && self.read.broken_projects.contains(code) {
            return false;
        }
        let scope = self
            .target(code)
            .map(|(p, _)| self.may_edit(&p.supporter_code, &p.recipient_code, p.published));
        match scope {
            None => {
                self.issue(
                    at,
                    "project_code",
                    DomainError::new(
                        "unknown_project",
                        format!("项目“{code}”不存在：请先导入该项目，或在同一文件的项目表中提供"),
                        format!("project \"{code}\" does not exist: import it first, or include it in the projects sheet of the same file"),
                    ),
                    Some(code.to_owned()),
                );
                false
            }
            Some(false) => {
                self.issue(
                    at,
                    "project_code",
                    Self::out_of_scope(code),
                    Some(code.to_owned()),
                );
                false
            }
            Some(true) => true,
        }
    }

    async fn transactions(&mut self) -> Result<(), ExchangeError> {
        let inputs = std::mem::take(&mut self.read.transactions);
        // Projects whose chain must be replayed: those with imported
        // transactions, and stored ones whose aid funds the file changes.
        // Each project's rows as the runs of rows that hold them: one range
        // for a file grouped by project, not a list of row numbers.
        let mut by_project: FastMap<String, Vec<Range<usize>>> = FastMap::new();
        // A file's rows come grouped by project: a run of one project's
        // rows is checked and filed once, not row by row (perf: the maps'
        // lookups were most of the checks of a million-row file).
        let mut run: Option<(&str, Range<usize>)> = None;
        for (i, t) in inputs.iter().enumerate() {
            if let Some((code, rows)) = &mut run
                && *code == t.project
            {
                rows.end = i + 1;
                continue;
            }
            if let Some((code, rows)) = run.take() {
                file_run(&mut by_project, code, rows);
            }
            // A row of a project that is missing or out of scope is
            // reported on its own, run or not.
            if self.check_reference(t.at, &t.project) {
                run = Some((&t.project, i..i + 1));
            }
        }
        if let Some((code, rows)) = run {
            file_run(&mut by_project, code, rows);
        }
        for (code, f) in &self.finals {
            if let Some(s) = self.stored.get(code)
                && s.project.aid_funds != f.project.aid_funds
            {
                by_project.entry(code.clone()).or_default();
            }
        }
        let mut ids: Vec<i64> = by_project
            .keys()
            .filter_map(|c| self.stored.get(c).map(|s| s.id))
            .collect();
        ids.sort_unstable();
        let mut stored_txns: FastMap<i64, Vec<StoredTransaction>> = FastMap::new();
        for t in self.itx.transactions(&ids).await? {
            stored_txns.entry(t.project_id).or_default().push(t);
        }
        let mut changes = vec![TxnChange::Unchanged; inputs.len()];
        let mut updates: Vec<(usize, i64)> = Vec::new();
        let mut counts = Counts::default();
        let mut codes: Vec<&String> = by_project.keys().collect();
        codes.sort();
        // Each project's chain as it will stand: date, step, amount and
        // the file's row, if from the file. Only what the chain rule looks
        // at, in one buffer reused from project to project.
        let mut chain: Vec<(
            chrono::NaiveDate,
            yuanjiang_domain::FundType,
            Fen,
            Option<usize>,
        )> = Vec::new();
        for code in codes {
            let rows = &by_project[code];
            let Some((project, id)) = self.target(code) else {
                continue;
            };
            let cap = project.aid_funds;
            let stored = id
                .and_then(|id| stored_txns.get(&id))
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let index: FastMap<(yuanjiang_domain::FundType, chrono::NaiveDate, &str), usize> =
                stored
                    .iter()
                    .enumerate()
                    .map(|(i, s)| ((s.fund_type, s.date, s.document_no.as_str()), i))
                    .collect();
            // The chain as it will stand: stored amounts, overridden by the file.
            let mut amounts: Vec<Fen> = stored.iter().map(|s| s.amount).collect();
            // The file's row that restates each stored transaction, if any.
            let mut from_file: Vec<Option<usize>> = vec![None; stored.len()];
            chain.clear();
            for r in rows.iter().cloned().flatten() {
                let t = &inputs[r];
                match index.get(&(t.fund_type, t.date, t.document_no.as_str())) {
                    Some(&si) => {
                        let s = &stored[si];
                        let note_same = t.note.as_ref().is_none_or(|n| *n == s.note);
                        changes[r] = if t.amount == s.amount && note_same {
                            TxnChange::Unchanged
                        } else {
                            updates.push((r, s.id));
                            TxnChange::Update
                        };
                        amounts[si] = t.amount;
                        from_file[si] = Some(r);
                    }
                    None => {
                        changes[r] = TxnChange::Insert;
                        chain.push((t.date, t.fund_type, t.amount, Some(r)));
                    }
                }
            }
            for (i, s) in stored.iter().enumerate() {
                chain.push((s.date, s.fund_type, amounts[i], from_file[i]));
            }
            // `chain_order` (date, then step; a stable sort, as `FundChain::replay`'s).
            chain.sort_by_key(|&(date, fund_type, ..)| (date, fund_type));
            let replayed = FundChain::replay_steps(chain.iter().map(|c| (c.1, c.2)), cap);
            if let Err((i, e)) = replayed {
                // The row to blame: the imported transaction that breaks the
                // chain; else (a stored one breaks) the project row that
                // lowered the aid funds, or the project's first imported row.
                let (at, key, value) = match chain.get(i).and_then(|c| c.3) {
                    Some(r) => (inputs[r].at, "amount", inputs[r].amount),
                    None => match self.finals.get(code) {
                        Some(f) if rows.is_empty() => (f.at, "aid_funds", cap),
                        _ => match rows.first().map(|run| run.start) {
                            Some(r) => (inputs[r].at, "amount", inputs[r].amount),
                            None => continue,
                        },
                    },
                };
                let value = Some(value.to_yuan_string());
                let e = DomainError::new(
                    e.code,
                    format!("项目“{code}”的资金链断裂：{}", e.zh),
                    format!("the fund chain of project \"{code}\" breaks: {}", e.en),
                );
                self.issue(at, key, e, value);
            }
            for r in rows.iter().cloned().flatten() {
                counts.add(match changes[r] {
                    TxnChange::Insert => Change::Insert,
                    TxnChange::Update => Change::Update,
                    TxnChange::Unchanged => Change::Unchanged,
                });
            }
        }
        if !inputs.is_empty() {
            self.counts.insert(Kind::Transactions.key(), counts);
        }
        self.read.transactions = inputs;
        self.txn_changes = changes;
        updates.sort_unstable();
        self.txn_updates = updates;
        Ok(())
    }

    async fn indicators(&mut self) -> Result<(), ExchangeError> {
        let inputs = std::mem::take(&mut self.read.indicators);
        let mut valid = vec![false; inputs.len()];
        let mut first_of: HashMap<(&str, &str), usize> = HashMap::new();
        for (i, ind) in inputs.iter().enumerate() {
            if !self.check_reference(ind.at, &ind.project) {
                continue;
            }
            if let Some(&f) = first_of.get(&(ind.project.as_str(), ind.name.as_str())) {
                let first = &inputs[f];
                let differs = [
                    ("unit", first.unit != ind.unit, ind.unit.clone()),
                    (
                        "baseline",
                        first.baseline != ind.baseline,
                        ind.baseline.to_string(),
                    ),
                    ("target", first.target != ind.target, ind.target.to_string()),
                ];
                if let Some((key, _, value)) = differs.into_iter().find(|d| d.1) {
                    let e = DomainError::new(
                        "inconsistent_indicator",
                        format!(
                            "指标“{}”的计量单位、基期值和目标值应与第{}行一致",
                            ind.name, first.at.row
                        ),
                        format!(
                            "indicator \"{}\" must have the same unit, baseline and target as row {}",
                            ind.name, first.at.row
                        ),
                    );
                    self.issue(ind.at, key, e, Some(value));
                    continue;
                }
            } else {
                first_of.insert((ind.project.as_str(), ind.name.as_str()), i);
            }
            valid[i] = true;
        }
        let mut ids: Vec<i64> = inputs
            .iter()
            .zip(&valid)
            .filter(|(_, v)| **v)
            .filter_map(|(i, _)| self.stored.get(&i.project).map(|s| s.id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let stored: HashMap<(i64, String), yuanjiang_store::exchange::StoredIndicator> = self
            .itx
            .indicators(&ids)
            .await?
            .into_iter()
            .map(|s| ((s.project_id, s.name.clone()), s))
            .collect();
        let mut counts = Counts::default();
        let mut changes = vec![None; inputs.len()];
        for (i, ind) in inputs.iter().enumerate() {
            if !valid[i] {
                continue;
            }
            let s = self
                .stored
                .get(&ind.project)
                .and_then(|p| stored.get(&(p.id, ind.name.clone())));
            let definition = s.is_none_or(|s| {
                s.unit != ind.unit || s.baseline != ind.baseline || s.target != ind.target
            });
            let stored_value = match (&ind.value, s) {
                (Some((period, _)), Some(s)) => {
                    s.values.iter().find(|v| v.0 == *period).map(|v| v.1)
                }
                _ => None,
            };
            let value = match &ind.value {
                Some((_, actual)) => stored_value != Some(*actual),
                None => false,
            };
            let is_new = s.is_none() || (ind.value.is_some() && stored_value.is_none());
            counts.add(if is_new {
                Change::Insert
            } else if definition || value {
                Change::Update
            } else {
                Change::Unchanged
            });
            changes[i] = Some(IndicatorChange { definition, value });
        }
        if !inputs.is_empty() {
            self.counts.insert(Kind::Indicators.key(), counts);
        }
        self.read.indicators = inputs;
        self.indicator_changes = changes;
        Ok(())
    }

    /// Checks every assignment row: supporter, recipient and batch exist,
    /// the arrival falls in the batch's term, the domain rules, the
    /// caller's scope (over the row and over the stored record it updates),
    /// and that the natural key names at most one stored record.
    async fn assignments(&mut self) -> Result<(), ExchangeError> {
        let inputs = std::mem::take(&mut self.read.assignments);
        if inputs.is_empty() {
            return Ok(());
        }
        let batches = self.itx.batches().await?;
        let mut valid = vec![false; inputs.len()];
        for (i, a) in inputs.iter().enumerate() {
            let mut problems: Vec<(&'static str, DomainError, Option<String>)> = Vec::new();
            let supporter_known = self.supporters.contains_key(&a.supporter);
            if !supporter_known {
                problems.push((
                    "supporter_code",
                    DomainError::new(
                        "unknown_supporter",
                        format!("支援方“{}”不存在", a.supporter),
                        format!("supporter \"{}\" does not exist", a.supporter),
                    ),
                    Some(a.supporter.clone()),
                ));
            }
            if !self.recipients.contains_key(&a.recipient) {
                problems.push((
                    "recipient_code",
                    DomainError::new(
                        "unknown_recipient",
                        format!("受援地“{}”不存在", a.recipient),
                        format!("recipient \"{}\" does not exist", a.recipient),
                    ),
                    Some(a.recipient.clone()),
                ));
            }
            if let (Some(n), true) = (a.batch, supporter_known) {
                match batches.get(&(a.supporter.clone(), n)) {
                    None => problems.push((
                        "batch_number",
                        DomainError::new(
                            "unknown_batch",
                            format!("支援方“{}”没有第{n}批：请填写已登记的批次，或留空", a.supporter),
                            format!(
                                "supporter \"{}\" has no batch {n}: expected a registered batch, or blank",
                                a.supporter
                            ),
                        ),
                        Some(n.to_string()),
                    )),
                    Some(term) if a.arrival < term.start_date || a.arrival > term.end_date => {
                        problems.push((
                            "arrival_date",
                            DomainError::new(
                                "arrival_outside_batch",
                                format!(
                                    "到岗日期不在第{n}批的期限（{} 至 {}）内",
                                    term.start_date, term.end_date
                                ),
                                format!(
                                    "the arrival date is outside batch {n}'s term: expected a date from {} to {}",
                                    term.start_date, term.end_date
                                ),
                            ),
                            Some(a.arrival.to_string()),
                        ));
                    }
                    Some(_) => {}
                }
            }
            if supporter_known && !self.may_edit(&a.supporter, &a.recipient, false) {
                problems.push((
                    "supporter_code",
                    assignment_out_of_scope(),
                    Some(a.supporter.clone()),
                ));
            }
            valid[i] = problems.is_empty();
            for (key, e, value) in problems {
                self.issue(a.at, key, e, value);
            }
        }
        let mut supporters: Vec<&str> = inputs
            .iter()
            .zip(&valid)
            .filter(|(_, v)| **v)
            .map(|(a, _)| a.supporter.as_str())
            .collect();
        supporters.sort_unstable();
        supporters.dedup();
        let stored = self.itx.assignments(&supporters).await?;
        let mut index: HashMap<AssignmentKey, Vec<usize>> = HashMap::new();
        for (k, s) in stored.iter().enumerate() {
            if let Some(id) = &s.assignment.id_number {
                index
                    .entry((
                        s.assignment.supporter_code.clone(),
                        s.assignment.batch_number,
                        id.to_ascii_uppercase(),
                    ))
                    .or_default()
                    .push(k);
            }
        }
        let mut counts = Counts::default();
        let mut changes = vec![None; inputs.len()];
        for (i, a) in inputs.iter().enumerate() {
            if !valid[i] {
                continue;
            }
            let key = (a.supporter.clone(), a.batch, a.id_number.clone());
            let found = match index.get(&key).map(Vec::as_slice) {
                None | Some([]) => None,
                Some([k]) => Some(*k),
                Some(many) => {
                    let e = DomainError::new(
                        "ambiguous_key",
                        format!(
                            "系统中已有{}条支援方、批次和身份证号码都与该行相同的记录，无法确定更新哪一条：请先在系统中合并重复记录",
                            many.len()
                        ),
                        format!(
                            "{} stored records have this row's supporter, batch and ID number, so it is not clear which to update: merge the duplicates first",
                            many.len()
                        ),
                    );
                    self.issue(a.at, "id_number", e, Some(mask_id_number(&a.id_number)));
                    continue;
                }
            };
            let base = found.map(|k| &stored[k].assignment);
            if let Some(b) = base
                && !self.may_edit(&b.supporter_code, &b.recipient_code, false)
            {
                // Said the same way as a row out of scope: it tells nothing about the stored record.
                self.issue(
                    a.at,
                    "supporter_code",
                    assignment_out_of_scope(),
                    Some(a.supporter.clone()),
                );
                continue;
            }
            let merged = Assignment {
                supporter_code: a.supporter.clone(),
                batch_number: a.batch,
                person_name: a.person_name.clone(),
                id_number: Some(a.id_number.clone()),
                phone: a
                    .phone
                    .clone()
                    .or_else(|| base.and_then(|b| b.phone.clone())),
                category: a.category,
                mode: a.mode,
                recipient_code: a.recipient.clone(),
                host_unit: a.host_unit.clone(),
                post: a
                    .post
                    .clone()
                    .or_else(|| base.map(|b| b.post.clone()))
                    .unwrap_or_default(),
                arrival_date: a.arrival,
                return_date: a.return_date,
                appraisal: a
                    .appraisal
                    .clone()
                    .or_else(|| base.and_then(|b| b.appraisal.clone())),
            };
            if let Err(e) = merged.validate() {
                let key = assignment_rule_column(e.code);
                let value = match key {
                    "return_date" => Some(a.return_date.to_string()),
                    _ => None,
                };
                self.issue(a.at, key, e, value);
                continue;
            }
            let change = match (found, base) {
                (Some(k), Some(b)) => {
                    let mut same = b.clone();
                    same.id_number = same.id_number.map(|v| v.to_ascii_uppercase());
                    if same == merged {
                        AssignmentChange::Unchanged
                    } else {
                        AssignmentChange::Update(k)
                    }
                }
                _ => AssignmentChange::Insert,
            };
            counts.add(match change {
                AssignmentChange::Insert => Change::Insert,
                AssignmentChange::Update(_) => Change::Update,
                AssignmentChange::Unchanged => Change::Unchanged,
            });
            changes[i] = Some((merged, change));
        }
        self.counts.insert(Kind::Assignments.key(), counts);
        self.read.assignments = inputs;
        self.stored_assignments = stored;
        self.assignment_changes = changes;
        Ok(())
    }

    /// Writes everything and commits; returns the import history row's id.
    async fn write(
        mut self,
        record: &ImportRecord,
        totals: Counts,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<i64, ExchangeError> {
        let total = totals.inserted + totals.updated;
        let mut done = 0u64;
        progress(Progress::Writing { done, total });
        let actor = self.options.actor.as_str();
        let reason = format!("导入 {0} / imported from {0}", self.options.file_name);

        // Projects, in file order so that ids follow the file.
        let new: Vec<NewProject<'_>> = self
            .read
            .projects
            .iter()
            .filter_map(|p| self.finals.get(&p.code))
            .filter(|f| f.change == Change::Insert)
            .map(|f| NewProject {
                project: &f.project,
                prefecture_code: &f.prefecture,
            })
            .collect();
        // Looked up once per row below: foldhash, not SipHash.
        let mut ids: FastMap<String, i64> = self
            .itx
            .insert_projects(&new, actor, &reason)
            .await?
            .into_iter()
            .collect();
        done += new.len() as u64;
        drop(new);
        ids.extend(self.stored.iter().map(|(c, s)| (c.clone(), s.id)));
        let mut bumped: HashSet<i64> = HashSet::new();
        for p in &self.read.projects {
            let (Some(f), Some(s)) = (self.finals.get(&p.code), self.stored.get(&p.code)) else {
                continue;
            };
            if f.change == Change::Update {
                self.itx
                    .update_project(s, &f.project, &f.prefecture, actor, &reason)
                    .await?;
                bumped.insert(s.id);
                done += 1;
            }
        }
        progress(Progress::Writing { done, total });

        // Transactions: new ones in batches, corrections one by one.
        let id_of = |code: &str| {
            ids.get(code)
                .copied()
                .ok_or_else(|| ExchangeError::Store(yuanjiang_store::StoreError::NotFound))
        };
        let mut touched: FastSet<i64> = FastSet::new();
        let changes = &self.txn_changes;
        let new_rows = || (0..changes.len()).filter(|&i| changes[i] == TxnChange::Insert);
        let new_count = new_rows().count();
        // Rows written ahead were counted for the roll-ups as they were
        // written, unless some were skipped as stored: then they are counted here.
        if self.itx.count_written_ahead() {
            let mut last: Option<&str> = None;
            for i in new_rows() {
                let code = self.read.transactions[i].project.as_str();
                if last != Some(code) {
                    touched.insert(id_of(code)?);
                    last = Some(code);
                }
            }
            done += new_count as u64;
            progress(Progress::Writing { done, total });
        } else {
            let inserts: Vec<usize> = new_rows().collect();
            for chunk in inserts.chunks(WRITE_BATCH) {
                let mut rows: Vec<(i64, FundTransaction)> = Vec::with_capacity(chunk.len());
                for &i in chunk {
                    // A new row is not looked at again: its strings move
                    // instead of being copied (a million rows in a large file).
                    let t = &mut self.read.transactions[i];
                    let id = id_of(&t.project)?;
                    touched.insert(id);
                    rows.push((
                        id,
                        FundTransaction {
                            project_code: std::mem::take(&mut t.project),
                            fund_type: t.fund_type,
                            amount: t.amount,
                            date: t.date,
                            document_no: std::mem::take(&mut t.document_no),
                            note: t.note.take().unwrap_or_default(),
                        },
                    ));
                }
                let refs: Vec<(i64, &FundTransaction)> =
                    rows.iter().map(|(id, t)| (*id, t)).collect();
                if self.written_ahead.is_some() {
                    self.itx.written_ahead(&refs)?;
                } else {
                    self.itx.insert_transactions(&refs).await?;
                }
                done += chunk.len() as u64;
                progress(Progress::Writing { done, total });
            }
        }
        // The rows written ahead are exactly the new ones, or the checks and
        // the table disagree: then nothing is kept.
        if let Some(written) = self.written_ahead
            && written != new_count as u64
        {
            return Err(ExchangeError::Store(StoreError::Corrupt {
                column: "fund_transactions",
                value: format!("{written} rows written ahead, {new_count} found new by the checks"),
            }));
        }
        for &(i, txn_id) in &self.txn_updates {
            let t = &self.read.transactions[i];
            self.itx
                .update_transaction(txn_id, t.amount, t.note.as_deref())
                .await?;
            touched.insert(id_of(&t.project)?);
            done += 1;
            if done.is_multiple_of(WRITE_BATCH as u64) {
                progress(Progress::Writing { done, total });
            }
        }
        // Stored projects whose figures changed move on a version (new
        // ones start at 1, updated ones moved already).
        let stored_ids: HashSet<i64> = self.stored.values().map(|s| s.id).collect();
        let mut touch: Vec<i64> = touched
            .into_iter()
            .filter(|id| stored_ids.contains(id) && !bumped.contains(id))
            .collect();
        touch.sort_unstable();
        self.itx.touch_projects(&touch).await?;

        // Indicators: each definition once, then the values.
        let mut indicator_ids: HashMap<(i64, String), i64> = HashMap::new();
        let stored_ids = {
            let pids: Vec<i64> = {
                let mut v: Vec<i64> = self
                    .read
                    .indicators
                    .iter()
                    .filter_map(|i| self.stored.get(&i.project).map(|s| s.id))
                    .collect();
                v.sort_unstable();
                v.dedup();
                v
            };
            self.itx.indicators(&pids).await?
        };
        for s in stored_ids {
            indicator_ids.insert((s.project_id, s.name), s.id);
        }
        let mut defined: HashSet<(i64, String)> = HashSet::new();
        for (i, change) in self.indicator_changes.iter().enumerate() {
            let Some(change) = change else { continue };
            let ind = &self.read.indicators[i];
            let pid = id_of(&ind.project)?;
            let key = (pid, ind.name.clone());
            if change.definition && defined.insert(key.clone()) {
                let id = self
                    .itx
                    .upsert_indicator(pid, &ind.name, &ind.unit, ind.baseline, ind.target)
                    .await?;
                indicator_ids.insert(key.clone(), id);
            }
            if let (true, Some((period, actual))) = (change.value, &ind.value) {
                let id = indicator_ids
                    .get(&key)
                    .copied()
                    .ok_or_else(|| ExchangeError::Store(yuanjiang_store::StoreError::NotFound))?;
                self.itx.upsert_indicator_value(id, period, *actual).await?;
            }
            if change.definition || change.value {
                done += 1;
            }
        }
        progress(Progress::Writing { done, total });

        // Assignments, in file order, through the store's own assignment writes.
        for (merged, change) in self.assignment_changes.iter().flatten() {
            match change {
                AssignmentChange::Insert => {
                    self.itx.insert_assignment(merged).await?;
                }
                AssignmentChange::Update(k) => {
                    self.itx
                        .update_assignment(&self.stored_assignments[*k], merged)
                        .await?;
                }
                AssignmentChange::Unchanged => continue,
            }
            done += 1;
            if done.is_multiple_of(WRITE_BATCH as u64) {
                progress(Progress::Writing { done, total });
            }
        }
        progress(Progress::Writing { done, total });
        // Freeing a large file's rows (a million records, three strings
        // each) took a third of a second after the commit; another core
        // does it while SQLite commits.
        let rows = std::mem::take(&mut self.read.transactions);
        if rows.len() >= WRITE_BATCH {
            tokio::task::spawn_blocking(move || drop(rows));
        }
        Ok(self.itx.finish(record).await?)
    }
}

/// A row that may not be written by the caller; it names neither the row's
/// nor any stored record's personal data.
fn assignment_out_of_scope() -> DomainError {
    DomainError::new(
        "out_of_scope",
        "无权导入或修改该干部人才记录：它不在您的管辖范围内",
        "you may not import or change this assignment: it is outside your scope",
    )
}

/// Files a run of one project's rows under its code; the code is cloned
/// once per project, not once per row.
fn file_run(by_project: &mut FastMap<String, Vec<Range<usize>>>, code: &str, rows: Range<usize>) {
    match by_project.get_mut(code) {
        Some(filed) => filed.push(rows),
        None => {
            by_project.insert(code.to_owned(), vec![rows]);
        }
    }
}

/// A project's value in a column, for the report.
fn cell_value(p: &Project, key: &str) -> Option<String> {
    Some(match key {
        "code" => p.code.clone(),
        "name" => p.name.clone(),
        "year" => p.year.to_string(),
        "aid_funds" => p.aid_funds.to_yuan_string(),
        "planned_investment" => p.planned_investment.to_yuan_string(),
        "end_date" => p.end_date.to_string(),
        "state" => p.state.zh().to_owned(),
        "published" => if p.published { "是" } else { "否" }.to_owned(),
        "supporter_code" => p.supporter_code.clone(),
        _ => return None,
    })
}
