//! What imports and exports need from the store (crate `yuanjiang-exchange`
//! holds the formats and the rules): one write transaction per imported
//! file, in which the importer reads the stored records it checks against
//! and then writes by natural key; keyset-paged reads for exports, so that a
//! million rows stream in constant memory; and the import history.
//!
//! An import reads inside its own transaction so that what it checked is what
//! it writes over: SQLite's `BEGIN IMMEDIATE` holds the write lock from the
//! start, and on PostgreSQL the projects read are locked `FOR UPDATE` (an
//! API write to one of them waits, then finds the version moved on). Like
//! every write, it keeps the fund roll-ups in step in the same transaction.

use std::collections::HashMap;

use foldhash::{HashMap as FastMap, HashMapExt};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{FromRow, QueryBuilder};
use yuanjiang_domain::personnel::mask_id_number;
use yuanjiang_domain::{
    Assignment, AssignmentCategory, AssignmentMode, Category, Fen, FundTransaction, FundType,
    Pairing, Project, ProjectState,
};

use crate::audit::AuditEntry;
use crate::crypto::FieldKey;
use crate::parties::key;
use crate::personnel::{ID_NUMBER_COLUMN, PHONE_COLUMN, open_value};
use crate::projects::{PROJECT_COLUMNS, ProjectRecord, flag};
use crate::rollup::{Parts, RollupDelta, RollupRow, parts_of};
use crate::sql::{Param, Sql, bind_params};
use crate::{ProjectFilter, Result, Store, StoreError, Tx, on_pool, on_tx};

/// Keys per `IN (…)` list and rows per multi-row INSERT: well under both
/// backends' parameter limits.
const CHUNK: usize = 500;

/// A stored project as an import sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredProject {
    /// Row id.
    pub id: i64,
    /// Version for optimistic concurrency.
    pub row_version: i64,
    /// The project.
    pub project: Project,
}

/// A stored fund transaction as an import sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTransaction {
    /// Row id.
    pub id: i64,
    /// The project's row id.
    pub project_id: i64,
    /// Type.
    pub fund_type: FundType,
    /// Amount.
    pub amount: Fen,
    /// Value date.
    pub date: NaiveDate,
    /// Document number (文号).
    pub document_no: String,
    /// Note.
    pub note: String,
}

/// A stored indicator with its values, as an import sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredIndicator {
    /// Row id.
    pub id: i64,
    /// The project's row id.
    pub project_id: i64,
    /// Name.
    pub name: String,
    /// Unit of measure.
    pub unit: String,
    /// Baseline.
    pub baseline: f64,
    /// Target.
    pub target: f64,
    /// Actual values by period.
    pub values: Vec<(String, f64)>,
}

/// A stored assignment as an import sees it: in clear, for comparison
/// only; its `Debug` masks the ID number and shows no phone.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredAssignment {
    /// Row id.
    pub id: i64,
    /// Version for optimistic concurrency.
    pub row_version: i64,
    /// The assignment, its ID number and phone decrypted.
    pub assignment: Assignment,
}

impl std::fmt::Debug for StoredAssignment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let a = &self.assignment;
        f.debug_struct("StoredAssignment")
            .field("id", &self.id)
            .field("row_version", &self.row_version)
            .field("supporter_code", &a.supporter_code)
            .field("batch_number", &a.batch_number)
            .field("id_number", &a.id_number.as_deref().map(mask_id_number))
            .finish_non_exhaustive()
    }
}

/// A rotation batch as an import checks it: its term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchTerm {
    /// First day.
    pub start_date: NaiveDate,
    /// Last day.
    pub end_date: NaiveDate,
}

#[derive(FromRow)]
struct StoredAssignmentRecord {
    id: i64,
    row_version: i64,
    supporter_code: String,
    batch_number: Option<i32>,
    person_name: String,
    id_number: Option<String>,
    phone: Option<String>,
    id_number_enc: Option<String>,
    phone_enc: Option<String>,
    category: String,
    mode: String,
    recipient_code: String,
    host_unit: String,
    post: String,
    arrival_date: NaiveDate,
    return_date: NaiveDate,
    appraisal: Option<String>,
}

impl StoredAssignmentRecord {
    /// Decrypts the personal data the way every read does (`personnel::open_value`).
    fn into_stored(self, field_key: &FieldKey) -> Result<StoredAssignment> {
        Ok(StoredAssignment {
            id: self.id,
            row_version: self.row_version,
            assignment: Assignment {
                category: key(
                    "assignments.category",
                    &self.category,
                    AssignmentCategory::parse,
                )?,
                mode: key("assignments.mode", &self.mode, AssignmentMode::parse)?,
                id_number: open_value(
                    field_key,
                    ID_NUMBER_COLUMN,
                    self.id_number_enc.as_deref(),
                    self.id_number,
                )?,
                phone: open_value(
                    field_key,
                    PHONE_COLUMN,
                    self.phone_enc.as_deref(),
                    self.phone,
                )?,
                supporter_code: self.supporter_code,
                batch_number: self.batch_number.and_then(|n| u32::try_from(n).ok()),
                person_name: self.person_name,
                recipient_code: self.recipient_code,
                host_unit: self.host_unit,
                post: self.post,
                arrival_date: self.arrival_date,
                return_date: self.return_date,
                appraisal: self.appraisal,
            },
        })
    }
}

/// A new project to insert, with the prefecture it rolls up to.
#[derive(Debug, Clone, Copy)]
pub struct NewProject<'a> {
    /// The project.
    pub project: &'a Project,
    /// Its recipient's prefecture or XPCC division.
    pub prefecture_code: &'a str,
}

/// What one import did, for the import history and the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportRecord {
    /// Who imported (a user name, or `cli` for the command line without `--as`).
    pub actor: String,
    /// The file's name as given (without its directory).
    pub file_name: String,
    /// SM3 of the file's bytes, lower-case hex.
    pub file_sm3: String,
    /// The file's size.
    pub file_bytes: i64,
    /// `projects`, `transactions`, `indicators`, or several joined by `+`.
    pub kind: String,
    /// Data rows read.
    pub rows_read: i64,
    /// Records inserted.
    pub inserted: i64,
    /// Records changed in place.
    pub updated: i64,
    /// Records already as in the file.
    pub unchanged: i64,
}

/// One line of the import history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct ImportHistoryRow {
    /// Row id.
    pub id: i64,
    /// When the import was committed.
    pub imported_at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// File name.
    pub file_name: String,
    /// SM3 of the file's bytes.
    pub file_sm3: String,
    /// File size in bytes.
    pub file_bytes: i64,
    /// Kind of records.
    pub kind: String,
    /// Data rows read.
    pub rows_read: i64,
    /// Inserted.
    pub inserted: i64,
    /// Updated.
    pub updated: i64,
    /// Unchanged.
    pub unchanged: i64,
}

/// An indicator row for export: the definition and, if any, one period's value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndicatorExportRow {
    /// Project code.
    pub project_code: String,
    /// Indicator name.
    pub name: String,
    /// Unit of measure.
    pub unit: String,
    /// Baseline.
    pub baseline: f64,
    /// Target.
    pub target: f64,
    /// Period of the value (`YYYY` or `YYYY-MM`), if the row carries one.
    pub period: Option<String>,
    /// Actual value for the period.
    pub actual: Option<f64>,
}

/// Head-count of assignments in one group: the only view of people that
/// leaves the store for open data (no names, ID numbers or phones).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct AssignmentCount {
    /// Supporter code.
    pub supporter_code: String,
    /// Recipient code.
    pub recipient_code: String,
    /// Assignment category key.
    pub category: String,
    /// Year of arrival.
    pub year: i32,
    /// Number of assignments.
    pub people: i64,
}

#[derive(FromRow)]
struct TransactionRecord {
    id: i64,
    project_id: i64,
    fund_type: String,
    amount: i64,
    date: NaiveDate,
    document_no: String,
    note: String,
}

impl TransactionRecord {
    fn into_stored(self) -> Result<StoredTransaction> {
        Ok(StoredTransaction {
            fund_type: key(
                "fund_transactions.fund_type",
                &self.fund_type,
                FundType::parse,
            )?,
            id: self.id,
            project_id: self.project_id,
            amount: Fen(self.amount),
            date: self.date,
            document_no: self.document_no,
            note: self.note,
        })
    }
}

#[derive(FromRow)]
struct ExportTransactionRecord {
    id: i64,
    code: String,
    fund_type: String,
    amount: i64,
    date: NaiveDate,
    document_no: String,
    note: String,
}

#[derive(FromRow)]
struct IndicatorRecord {
    id: i64,
    project_id: i64,
    name: String,
    unit: String,
    baseline: f64,
    target: f64,
}

#[derive(FromRow)]
struct ExportIndicatorRecord {
    id: i64,
    code: String,
    name: String,
    unit: String,
    baseline: f64,
    target: f64,
    period: Option<String>,
    actual: Option<f64>,
}

/// The one write transaction of an import. Dropping it without
/// [`ImportTx::finish`] rolls everything back.
pub struct ImportTx {
    tx: Tx,
    /// Seals and opens personal data (assignments).
    field_key: FieldKey,
    /// Roll-up key parts of every project read or written, by row id.
    parts: FastMap<i64, Parts>,
    /// Roll-up changes, applied at [`ImportTx::finish`].
    delta: RollupDelta,
    /// The rows written ahead, counted for the roll-ups while SQLite
    /// inserted them; `None` once a batch had rows skipped as stored
    /// (which ones is not known: the checks then count them).
    ahead_delta: Option<RollupDelta>,
    /// Set once transactions are written ahead of the checks
    /// ([`ImportTx::write_ahead`]): the highest transaction id before them,
    /// so that [`ImportTx::transactions`] reads only what was stored.
    ahead_after: Option<i64>,
}

/// A project's row id, code and roll-up key, as `ImportTx::begin_write_ahead`
/// reads them: a JSON array each, in this order.
#[derive(Deserialize)]
struct ProjectKey {
    id: i64,
    code: String,
    supporter_code: String,
    recipient_code: String,
    prefecture_code: String,
    category: String,
    #[serde(deserialize_with = "flag")]
    grassroots: bool,
    #[serde(deserialize_with = "flag")]
    livelihood: bool,
    #[serde(deserialize_with = "flag")]
    published: bool,
}

/// One fund transaction with its project's row id, borrowed from wherever
/// it was read: what a SQLite batch insert encodes ([`AheadBatch`], and the
/// bulk loader's inserts).
#[derive(Debug, Clone, Copy)]
pub struct FundRow<'a> {
    /// The project's row id.
    pub project_id: i64,
    /// Fund type.
    pub fund_type: FundType,
    /// Amount.
    pub amount: Fen,
    /// Date.
    pub date: NaiveDate,
    /// Document number.
    pub document_no: &'a str,
    /// Note (empty for none).
    pub note: &'a str,
}

impl<'a> FundRow<'a> {
    /// A stored-to-be transaction of the project with row id `project_id`.
    pub fn of(project_id: i64, t: &'a FundTransaction) -> FundRow<'a> {
        FundRow {
            project_id,
            fund_type: t.fund_type,
            amount: t.amount,
            date: t.date,
            document_no: &t.document_no,
            note: &t.note,
        }
    }
}

/// Fund transactions encoded for [`ImportTx::write_ahead`]: built on the
/// thread that reads the file, while the connection's thread inserts the
/// batch before.
#[derive(Debug, Default)]
pub struct AheadBatch {
    values: crate::bulk::FundValues,
    /// What the roll-ups count of each row, in order.
    counted: Vec<RollupRow>,
}

impl AheadBatch {
    /// Encodes rows, borrowed from wherever they were read.
    pub fn encode<'a>(rows: impl Iterator<Item = FundRow<'a>>) -> Result<AheadBatch> {
        let mut counted = Vec::new();
        let values = crate::bulk::fund_values(rows.inspect(|r| {
            counted.push(RollupRow {
                project_id: r.project_id,
                fund_type: r.fund_type,
                date: r.date,
                amount: r.amount,
            });
        }))?;
        Ok(AheadBatch { values, counted })
    }
}

impl Store {
    /// Starts an import's transaction.
    pub async fn begin_import(&self) -> Result<ImportTx> {
        self.import_tx(self.begin().await?).await
    }

    /// Starts the transaction of an import that will write its rows ahead
    /// ([`ImportTx::begin_write_ahead`]): on a SQLite file opened for a bulk
    /// load, through the writer that skips the foreign-key look-ups (see
    /// `Store::unchecked_writer`); elsewhere as [`Store::begin_import`]. If
    /// the rows are not written ahead after all, the caller drops it and
    /// imports through [`Store::begin_import`].
    pub async fn begin_import_ahead(&self) -> Result<ImportTx> {
        let tx = match &self.unchecked_writer {
            Some(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            None => self.begin().await?,
        };
        self.import_tx(tx).await
    }

    async fn import_tx(&self, mut tx: Tx) -> Result<ImportTx> {
        set_sqlite_cache(&mut tx, IMPORT_CACHE).await?;
        Ok(ImportTx {
            tx,
            field_key: self.field_key.clone(),
            parts: FastMap::new(),
            delta: RollupDelta::default(),
            ahead_delta: None,
            ahead_after: None,
        })
    }

    /// A page of fund transactions of the projects matching `filter` (its
    /// `year` is the transaction's year, as in the fund statistics), in id
    /// order after `after_id`. Returns each with its id, the keyset cursor.
    pub async fn transactions_page(
        &self,
        filter: &ProjectFilter,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<(i64, FundTransaction)>> {
        let mut sql = Sql::new(
            "SELECT t.id, p.code, t.fund_type, t.amount, t.date, t.document_no, t.note \
             FROM fund_transactions t JOIN projects p ON p.id = t.project_id WHERE 1 = 1",
        );
        filter.push_conditions(&mut sql, "t.year");
        let n = sql.param(Param::I64(after_id));
        sql.push(&format!(" AND t.id > {n}"));
        let n = sql.param(Param::I64(i64::from(limit.max(1))));
        sql.push(&format!(" ORDER BY t.id LIMIT {n}"));
        let records: Vec<ExportTransactionRecord> = on_pool!(self, p => {
            bind_params!(sqlx::query_as(sql.text()), &sql.params).fetch_all(p).await?
        });
        records
            .into_iter()
            .map(|r| {
                Ok((
                    r.id,
                    FundTransaction {
                        fund_type: key(
                            "fund_transactions.fund_type",
                            &r.fund_type,
                            FundType::parse,
                        )?,
                        project_code: r.code,
                        amount: Fen(r.amount),
                        date: r.date,
                        document_no: r.document_no,
                        note: r.note,
                    },
                ))
            })
            .collect()
    }

    /// Counts the fund transactions [`Store::transactions_page`] would return.
    pub async fn count_transactions(&self, filter: &ProjectFilter) -> Result<i64> {
        let mut sql = Sql::new(
            "SELECT COUNT(*) FROM fund_transactions t JOIN projects p ON p.id = t.project_id WHERE 1 = 1",
        );
        filter.push_conditions(&mut sql, "t.year");
        let n: i64 = on_pool!(self, p => {
            bind_params!(sqlx::query_scalar(sql.text()), &sql.params).fetch_one(p).await?
        });
        Ok(n)
    }

    /// A page of indicator rows of the projects matching `filter`: the
    /// indicators with ids after `after_indicator` (at most `limit` of them),
    /// each with one row per value, or one row without a value. Returns the
    /// rows and the last indicator id, the keyset cursor (`None` when done).
    pub async fn indicators_page(
        &self,
        filter: &ProjectFilter,
        after_indicator: i64,
        limit: u32,
    ) -> Result<(Vec<IndicatorExportRow>, Option<i64>)> {
        let mut sql = Sql::new(
            "SELECT i.id, p.code, i.name, i.unit, i.baseline, i.target, v.period, v.actual \
             FROM indicators i JOIN projects p ON p.id = i.project_id \
             LEFT JOIN indicator_values v ON v.indicator_id = i.id WHERE i.id IN \
             (SELECT i.id FROM indicators i JOIN projects p ON p.id = i.project_id WHERE 1 = 1",
        );
        filter.push_conditions(&mut sql, "p.year");
        let n = sql.param(Param::I64(after_indicator));
        sql.push(&format!(" AND i.id > {n}"));
        let n = sql.param(Param::I64(i64::from(limit.max(1))));
        sql.push(&format!(
            " ORDER BY i.id LIMIT {n}) ORDER BY i.id, v.period"
        ));
        let records: Vec<ExportIndicatorRecord> = on_pool!(self, p => {
            bind_params!(sqlx::query_as(sql.text()), &sql.params).fetch_all(p).await?
        });
        let last = records.last().map(|r| r.id);
        let rows = records
            .into_iter()
            .map(|r| IndicatorExportRow {
                project_code: r.code,
                name: r.name,
                unit: r.unit,
                baseline: r.baseline,
                target: r.target,
                period: r.period,
                actual: r.actual,
            })
            .collect();
        Ok((rows, last))
    }

    /// Pairings, optionally only those of a supporter (and the supporters
    /// under it) or of a recipient (and the units under it).
    pub async fn pairings_filtered(
        &self,
        supporter: Option<&str>,
        recipient: Option<&str>,
    ) -> Result<Vec<Pairing>> {
        let parents: HashMap<String, Option<String>> = on_pool!(self, p => {
            sqlx::query_as::<_, (String, Option<String>)>("SELECT code, parent_code FROM supporters")
                .fetch_all(p)
                .await?
                .into_iter()
                .collect()
        });
        Ok(self
            .pairings()
            .await?
            .into_iter()
            .filter(|pr| {
                supporter.is_none_or(|s| {
                    pr.supporter_code == s
                        || parents.get(&pr.supporter_code).and_then(|x| x.as_deref()) == Some(s)
                })
            })
            .filter(|pr| recipient.is_none_or(|r| pr.recipient_code.starts_with(r)))
            .collect())
    }

    /// Head-counts of assignments by supporter, recipient, category and year of arrival.
    pub async fn assignment_counts(&self) -> Result<Vec<AssignmentCount>> {
        // The date is cast to text first: it is TEXT on SQLite and DATE on
        // PostgreSQL, whose text form is ISO (YYYY-MM-DD) as well.
        let rows: Vec<AssignmentCount> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT supporter_code, recipient_code, category, \
                 CAST(SUBSTR(CAST(arrival_date AS TEXT), 1, 4) AS INTEGER) AS year, COUNT(*) AS people \
                 FROM assignments GROUP BY supporter_code, recipient_code, category, \
                 CAST(SUBSTR(CAST(arrival_date AS TEXT), 1, 4) AS INTEGER) \
                 ORDER BY supporter_code, recipient_code, category, year",
            )
            .fetch_all(p)
            .await?
        });
        Ok(rows)
    }

    /// Row counts and sums that change with any write an import makes, to
    /// show that a refused import left the database as it was.
    pub async fn exchange_fingerprint(&self) -> Result<Vec<(&'static str, i64)>> {
        const QUERIES: [(&str, &str); 11] = [
            ("projects", "SELECT COUNT(*) FROM projects"),
            (
                "project_versions",
                "SELECT CAST(COALESCE(SUM(row_version), 0) AS BIGINT) FROM projects",
            ),
            ("project_states", "SELECT COUNT(*) FROM project_states"),
            (
                "fund_transactions",
                "SELECT COUNT(*) FROM fund_transactions",
            ),
            (
                "fund_amounts",
                "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM fund_transactions",
            ),
            ("indicators", "SELECT COUNT(*) FROM indicators"),
            ("indicator_values", "SELECT COUNT(*) FROM indicator_values"),
            ("assignments", "SELECT COUNT(*) FROM assignments"),
            (
                "assignment_versions",
                "SELECT CAST(COALESCE(SUM(row_version), 0) AS BIGINT) FROM assignments",
            ),
            ("import_history", "SELECT COUNT(*) FROM import_history"),
            ("audit_log", "SELECT COUNT(*) FROM audit_log"),
        ];
        let mut out = Vec::with_capacity(QUERIES.len());
        for (name, sql) in QUERIES {
            let n: i64 = on_pool!(self, p => {
                sqlx::query_scalar(sql).fetch_one(p).await?
            });
            out.push((name, n));
        }
        Ok(out)
    }

    /// How many imports have been committed (the import history's length).
    pub async fn import_count(&self) -> Result<i64> {
        let n: i64 = on_pool!(self, p => {
            sqlx::query_scalar("SELECT COUNT(*) FROM import_history").fetch_one(p).await?
        });
        Ok(n)
    }

    /// The most recent imports, newest first.
    pub async fn import_history(&self, limit: u32) -> Result<Vec<ImportHistoryRow>> {
        let rows: Vec<ImportHistoryRow> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT id, imported_at, actor, file_name, file_sm3, file_bytes, kind, rows_read, \
                 inserted, updated, unchanged FROM import_history ORDER BY id DESC LIMIT $1",
            )
            .bind(i64::from(limit.max(1)))
            .fetch_all(p)
            .await?
        });
        Ok(rows)
    }
}

impl ImportTx {
    /// Every supporter code with its parent's.
    pub async fn supporters(&mut self) -> Result<HashMap<String, Option<String>>> {
        let rows: Vec<(String, Option<String>)> = on_tx!(self.tx, t, Db => {
            sqlx::query_as("SELECT code, parent_code FROM supporters").fetch_all(&mut **t).await?
        });
        Ok(rows.into_iter().collect())
    }

    /// Every recipient code with the prefecture or XPCC division it rolls up
    /// to (`None` for the region itself, which cannot receive a project).
    pub async fn recipients(&mut self) -> Result<HashMap<String, Option<String>>> {
        let rows: Vec<(String, Option<String>)> = on_tx!(self.tx, t, Db => {
            sqlx::query_as("SELECT code, prefecture_code FROM recipients").fetch_all(&mut **t).await?
        });
        Ok(rows.into_iter().collect())
    }

    /// The stored projects among `codes` (locked on PostgreSQL until the end).
    pub async fn projects(&mut self, codes: &[&str]) -> Result<Vec<StoredProject>> {
        let mut out = Vec::new();
        for chunk in codes.chunks(CHUNK) {
            let records: Vec<ProjectRecord> = match &mut self.tx {
                // One JSON text a chunk: sqlx copies each value of each row
                // between threads, which took longer than SQLite's own reading
                // of every project (perf: malloc and futex wake-ups).
                Tx::Sqlite(t) => {
                    let mut qb = QueryBuilder::<sqlx::Sqlite>::new(format!(
                        "SELECT json_group_array(json_array({PROJECT_COLUMNS})) \
                         FROM projects p WHERE p.code IN ("
                    ));
                    let mut list = qb.separated(", ");
                    for c in chunk {
                        list.push_bind(*c);
                    }
                    qb.push(")");
                    let json: String = qb.build_query_scalar().fetch_one(&mut **t).await?;
                    serde_json::from_str(&json).map_err(|e| sqlx::Error::Decode(Box::new(e)))?
                }
                Tx::Postgres(t) => {
                    let mut qb = QueryBuilder::<sqlx::Postgres>::new(format!(
                        "SELECT {PROJECT_COLUMNS} FROM projects p WHERE p.code IN ("
                    ));
                    let mut list = qb.separated(", ");
                    for c in chunk {
                        list.push_bind(*c);
                    }
                    qb.push(") FOR UPDATE");
                    qb.build_query_as().fetch_all(&mut **t).await?
                }
            };
            for r in records {
                let row = r.into_row()?;
                self.parts
                    .insert(row.id, Parts::of(&row.project, &row.prefecture_code));
                out.push(StoredProject {
                    id: row.id,
                    row_version: row.row_version,
                    project: row.project,
                });
            }
        }
        Ok(out)
    }

    /// The stored transactions of the projects with these row ids, by project and date.
    pub async fn transactions(&mut self, project_ids: &[i64]) -> Result<Vec<StoredTransaction>> {
        let mut out = Vec::new();
        // Written ahead into an empty table: nothing was stored, and the
        // lookup would only walk the index entries just written.
        if self.ahead_after == Some(0) {
            return Ok(out);
        }
        for chunk in project_ids.chunks(CHUNK) {
            let records: Vec<TransactionRecord> = on_tx!(self.tx, t, Db => {
                let mut qb = QueryBuilder::<Db>::new(
                    "SELECT id, project_id, fund_type, amount, date, document_no, note \
                     FROM fund_transactions WHERE project_id IN (",
                );
                let mut list = qb.separated(", ");
                for id in chunk {
                    list.push_bind(*id);
                }
                qb.push(")");
                if let Some(last) = self.ahead_after {
                    qb.push(" AND id <= ").push_bind(last);
                }
                qb.push(" ORDER BY project_id, date, id");
                qb.build_query_as().fetch_all(&mut **t).await?
            });
            for r in records {
                out.push(r.into_stored()?);
            }
        }
        Ok(out)
    }

    /// The stored indicators, with their values, of the projects with these row ids.
    pub async fn indicators(&mut self, project_ids: &[i64]) -> Result<Vec<StoredIndicator>> {
        let mut out: Vec<StoredIndicator> = Vec::new();
        for chunk in project_ids.chunks(CHUNK) {
            let (records, values): (Vec<IndicatorRecord>, Vec<(i64, String, f64)>) = on_tx!(self.tx, t, Db => {
                let mut qb = QueryBuilder::<Db>::new(
                    "SELECT id, project_id, name, unit, baseline, target FROM indicators WHERE project_id IN (",
                );
                let mut list = qb.separated(", ");
                for id in chunk {
                    list.push_bind(*id);
                }
                qb.push(") ORDER BY id");
                let records = qb.build_query_as().fetch_all(&mut **t).await?;
                let mut qb = QueryBuilder::<Db>::new(
                    "SELECT v.indicator_id, v.period, v.actual FROM indicator_values v \
                     JOIN indicators i ON i.id = v.indicator_id WHERE i.project_id IN (",
                );
                let mut list = qb.separated(", ");
                for id in chunk {
                    list.push_bind(*id);
                }
                qb.push(") ORDER BY v.indicator_id, v.period");
                let values = qb.build_query_as().fetch_all(&mut **t).await?;
                (records, values)
            });
            let mut by_id: HashMap<i64, Vec<(String, f64)>> = HashMap::new();
            for (id, period, actual) in values {
                by_id.entry(id).or_default().push((period, actual));
            }
            out.extend(records.into_iter().map(|r| StoredIndicator {
                values: by_id.remove(&r.id).unwrap_or_default(),
                id: r.id,
                project_id: r.project_id,
                name: r.name,
                unit: r.unit,
                baseline: r.baseline,
                target: r.target,
            }));
        }
        Ok(out)
    }

    /// Inserts new projects, each with a first line of state history
    /// (who imported it and why); returns their row ids by code.
    pub async fn insert_projects(
        &mut self,
        projects: &[NewProject<'_>],
        actor: &str,
        reason: &str,
    ) -> Result<HashMap<String, i64>> {
        let mut ids = HashMap::with_capacity(projects.len());
        for chunk in projects.chunks(CHUNK) {
            let returned: Vec<(i64, String)> = on_tx!(self.tx, tx, Db => {
                let mut qb = QueryBuilder::<Db>::new(
                    "INSERT INTO projects (code, name, category, delivery_mode, kind, year, in_plan, continued, \
                     grassroots, livelihood, supporter_code, recipient_code, location_code, prefecture_code, \
                     planned_investment, aid_funds, matching_funds, start_date, end_date, state, published, description) ",
                );
                qb.push_values(chunk, |mut b, n| {
                    let p = n.project;
                    b.push_bind(p.code.clone())
                        .push_bind(p.name.clone())
                        .push_bind(p.category.key())
                        .push_bind(p.delivery_mode.key())
                        .push_bind(p.kind.key())
                        .push_bind(p.year)
                        .push_bind(p.in_plan)
                        .push_bind(p.continued)
                        .push_bind(p.grassroots)
                        .push_bind(p.livelihood)
                        .push_bind(p.supporter_code.clone())
                        .push_bind(p.recipient_code.clone())
                        .push_bind(p.location_code.clone())
                        .push_bind(n.prefecture_code.to_owned())
                        .push_bind(p.planned_investment.0)
                        .push_bind(p.aid_funds.0)
                        .push_bind(p.matching_funds.0)
                        .push_bind(p.start_date)
                        .push_bind(p.end_date)
                        .push_bind(p.state.key())
                        .push_bind(p.published)
                        .push_bind(p.description.clone());
                });
                qb.push(" RETURNING id, code");
                qb.build_query_as()
                    .fetch_all(&mut **tx)
                    .await
                    .map_err(|e| StoreError::unique(e, "project code"))?
            });
            ids.extend(returned.into_iter().map(|(id, code)| (code, id)));
        }
        let now = Utc::now();
        let mut history = Vec::with_capacity(projects.len());
        for n in projects {
            let id = ids
                .get(&n.project.code)
                .copied()
                .ok_or_else(|| StoreError::Corrupt {
                    column: "projects.code",
                    value: n.project.code.clone(),
                })?;
            self.parts
                .insert(id, Parts::of(n.project, n.prefecture_code));
            history.push((id, n.project.state));
        }
        for chunk in history.chunks(CHUNK) {
            on_tx!(self.tx, tx, Db => {
                let mut qb = QueryBuilder::<Db>::new(
                    "INSERT INTO project_states (project_id, from_state, to_state, changed_at, changed_by, reason) ",
                );
                qb.push_values(chunk, |mut b, (id, state)| {
                    b.push_bind(*id)
                        .push_bind(None::<String>)
                        .push_bind(state.key())
                        .push_bind(now)
                        .push_bind(actor.to_owned())
                        .push_bind(reason.to_owned());
                });
                qb.build().execute(&mut **tx).await?;
            });
        }
        Ok(ids)
    }

    /// Replaces a stored project's fields (its code stays) and moves its
    /// version on; a change of state adds a line of history.
    pub async fn update_project(
        &mut self,
        stored: &StoredProject,
        after: &Project,
        prefecture_code: &str,
        actor: &str,
        reason: &str,
    ) -> Result<()> {
        let changed: u64 = on_tx!(self.tx, t, Db => {
            sqlx::query(
                "UPDATE projects SET name = $1, category = $2, delivery_mode = $3, kind = $4, year = $5, \
                 in_plan = $6, continued = $7, grassroots = $8, livelihood = $9, supporter_code = $10, \
                 recipient_code = $11, location_code = $12, prefecture_code = $13, planned_investment = $14, \
                 aid_funds = $15, matching_funds = $16, start_date = $17, end_date = $18, state = $19, \
                 published = $20, description = $21, row_version = row_version + 1 \
                 WHERE id = $22 AND row_version = $23",
            )
            .bind(&after.name)
            .bind(after.category.key())
            .bind(after.delivery_mode.key())
            .bind(after.kind.key())
            .bind(after.year)
            .bind(after.in_plan)
            .bind(after.continued)
            .bind(after.grassroots)
            .bind(after.livelihood)
            .bind(&after.supporter_code)
            .bind(&after.recipient_code)
            .bind(&after.location_code)
            .bind(prefecture_code)
            .bind(after.planned_investment.0)
            .bind(after.aid_funds.0)
            .bind(after.matching_funds.0)
            .bind(after.start_date)
            .bind(after.end_date)
            .bind(after.state.key())
            .bind(after.published)
            .bind(&after.description)
            .bind(stored.id)
            .bind(stored.row_version)
            .execute(&mut **t)
            .await?
            .rows_affected()
        });
        if changed != 1 {
            return Err(StoreError::VersionMismatch {
                current: stored.row_version + 1,
            });
        }
        if after.state != stored.project.state {
            self.record_state(
                stored.id,
                Some(stored.project.state),
                after.state,
                actor,
                reason,
            )
            .await?;
        }
        // Its money moves with it in the roll-ups if a part of their key changed.
        let to = Parts::of(after, prefecture_code);
        if let Some(from) = self.parts.get(&stored.id).cloned()
            && from != to
        {
            let txns: Vec<FundTransaction> = self
                .transactions(&[stored.id])
                .await?
                .into_iter()
                .map(|t| bare(t.fund_type, t.amount, t.date))
                .collect();
            self.delta.reassign(&from, &to, &txns);
        }
        self.parts.insert(stored.id, to);
        Ok(())
    }

    async fn record_state(
        &mut self,
        id: i64,
        from: Option<ProjectState>,
        to: ProjectState,
        by: &str,
        reason: &str,
    ) -> Result<()> {
        on_tx!(self.tx, t, Db => {
            sqlx::query(
                "INSERT INTO project_states (project_id, from_state, to_state, changed_at, changed_by, reason) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(from.map(|s| s.key()))
            .bind(to.key())
            .bind(Utc::now())
            .bind(by)
            .bind(reason)
            .execute(&mut **t)
            .await?;
        });
        Ok(())
    }

    /// Starts writing transactions ahead of the checks (SQLite only, where
    /// this transaction is the one writer), for a file of `file_bytes`:
    /// records the highest stored id, so that [`ImportTx::transactions`]
    /// keeps reading only what was there, and loads every project's row
    /// id and roll-up key. Returns each project's code and row id, for the
    /// thread that reads the file to match its rows with; `None` on
    /// PostgreSQL, whose imports write after the checks, and for a file
    /// too small to repay loading every project.
    pub async fn begin_write_ahead(
        &mut self,
        file_bytes: usize,
    ) -> Result<Option<Vec<(String, i64)>>> {
        let Tx::Sqlite(t) = &mut self.tx else {
            return Ok(None);
        };
        // Loading a project's id costs about what writing ahead saves on a
        // third of a row (0.45 µs against 1–2 µs, xinjiang scale); a row
        // is about 100 bytes. So: at least 64 bytes of file per project.
        let projects: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM projects")
            .fetch_one(&mut **t)
            .await?;
        if (file_bytes as u64) < 64 * projects.unsigned_abs() {
            return Ok(None);
        }
        let last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM fund_transactions")
            .fetch_one(&mut **t)
            .await?;
        // Each project's roll-up key too, so that the rows are counted as
        // they are written; one JSON text, not a row each through sqlx.
        let json: String = sqlx::query_scalar(
            "SELECT json_group_array(json_array(id, code, supporter_code, recipient_code, \
             prefecture_code, category, grassroots, livelihood, published)) FROM projects",
        )
        .fetch_one(&mut **t)
        .await?;
        let rows: Vec<ProjectKey> =
            serde_json::from_str(&json).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        let mut ids = Vec::with_capacity(rows.len());
        for r in rows {
            let parts = Parts {
                supporter_code: r.supporter_code,
                recipient_code: r.recipient_code,
                prefecture_code: r.prefecture_code,
                category: key("projects.category", &r.category, Category::parse)?.key(),
                grassroots: r.grassroots,
                livelihood: r.livelihood,
                published: r.published,
            };
            self.parts.insert(r.id, parts);
            ids.push((r.code, r.id));
        }
        self.ahead_after = Some(last);
        self.ahead_delta = Some(RollupDelta::default());
        Ok(Some(ids))
    }

    /// Writes a batch of transactions before they are checked, skipping any
    /// whose natural key is already stored (those become corrections or stay
    /// unchanged); rows of projects not stored are left out of the batch
    /// (the checks report them). The import rolls back unless the checks
    /// pass and [`ImportTx::written_ahead`] then accounts for exactly these
    /// rows. Returns the rows written.
    pub async fn write_ahead(&mut self, batch: AheadBatch) -> Result<u64> {
        let Tx::Sqlite(t) = &mut self.tx else {
            return Err(StoreError::Corrupt {
                column: "fund_transactions",
                value: "written ahead outside SQLite".into(),
            });
        };
        let AheadBatch { values, counted } = batch;
        // Counted on this thread while SQLite inserts: the first statement
        // is sent before the count starts.
        let (written, counting) = tokio::join!(
            // Rows whose key is stored are skipped: they become corrections
            // or stay unchanged.
            crate::bulk::insert_fund_values(t, values, crate::bulk::OnStoredKey::Skip),
            async {
                match &mut self.ahead_delta {
                    Some(delta) => delta.add_rows(&self.parts, &counted),
                    None => Ok(()),
                }
            }
        );
        let written = written?;
        counting?;
        if written != counted.len() as u64 {
            self.ahead_delta = None;
        }
        Ok(written)
    }

    /// Adds to the roll-ups the rows written ahead as they were counted
    /// while written, if every one was written (`true`). Otherwise the
    /// caller counts them, once checked, with [`ImportTx::written_ahead`].
    pub fn count_written_ahead(&mut self) -> bool {
        match self.ahead_delta.take() {
            Some(delta) => {
                self.delta.merge(delta);
                true
            }
            None => false,
        }
    }

    /// Counts in the roll-ups the transactions written ahead, once checked
    /// (and those [`ImportTx::insert_transactions`] writes): each given with
    /// its project's row id.
    pub fn written_ahead(&mut self, rows: &[(i64, &FundTransaction)]) -> Result<()> {
        // Rows come grouped by project: one key lookup per run of a
        // project's rows, not one per row (perf: a tenth of the write phase).
        for run in rows.chunk_by(|a, b| a.0 == b.0) {
            let Some(&(id, _)) = run.first() else {
                continue;
            };
            let parts = parts_of(&self.parts, id)?;
            self.delta.add_run(parts, run.iter().map(|(_, t)| *t), 1);
        }
        Ok(())
    }

    /// Inserts fund transactions, each given with its project's row id.
    pub async fn insert_transactions(&mut self, rows: &[(i64, &FundTransaction)]) -> Result<()> {
        self.written_ahead(rows)?;
        crate::bulk::insert_fund_rows(&mut self.tx, rows)
            .await
            .map_err(|e| {
                StoreError::unique(e, "fund transaction (project, type, date, document number)")
            })?;
        Ok(())
    }

    /// Corrects a stored transaction's amount and, if given, its note (its natural key stays).
    pub async fn update_transaction(
        &mut self,
        id: i64,
        amount: Fen,
        note: Option<&str>,
    ) -> Result<()> {
        let before: Option<TransactionRecord> = on_tx!(self.tx, t, Db => {
            sqlx::query_as(
                "SELECT id, project_id, fund_type, amount, date, document_no, note \
                 FROM fund_transactions WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(&mut **t)
            .await?
        });
        let before = before.ok_or(StoreError::NotFound)?.into_stored()?;
        let parts = parts_of(&self.parts, before.project_id)?;
        self.delta.add(
            parts,
            &bare(before.fund_type, before.amount, before.date),
            -1,
        );
        self.delta
            .add(parts, &bare(before.fund_type, amount, before.date), 1);
        on_tx!(self.tx, t, Db => {
            sqlx::query(
                "UPDATE fund_transactions SET amount = $1, note = COALESCE($2, note), \
                 row_version = row_version + 1 WHERE id = $3",
            )
            .bind(amount.0)
            .bind(note)
            .bind(id)
            .execute(&mut **t)
            .await?;
        });
        Ok(())
    }

    /// Moves the versions of projects whose figures changed, so that an
    /// edit made against the old figures is refused instead of overwriting.
    pub async fn touch_projects(&mut self, ids: &[i64]) -> Result<()> {
        for chunk in ids.chunks(CHUNK) {
            on_tx!(self.tx, t, Db => {
                let mut qb = QueryBuilder::<Db>::new(
                    "UPDATE projects SET row_version = row_version + 1 WHERE id IN (",
                );
                let mut list = qb.separated(", ");
                for id in chunk {
                    list.push_bind(*id);
                }
                qb.push(")");
                qb.build().execute(&mut **t).await?;
            });
        }
        Ok(())
    }

    /// Defines or redefines an indicator on a project; returns its row id.
    pub async fn upsert_indicator(
        &mut self,
        project_id: i64,
        name: &str,
        unit: &str,
        baseline: f64,
        target: f64,
    ) -> Result<i64> {
        let id: i64 = on_tx!(self.tx, t, Db => {
            sqlx::query_scalar(
                "INSERT INTO indicators (project_id, name, unit, baseline, target) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (project_id, name) DO UPDATE SET unit = excluded.unit, \
                 baseline = excluded.baseline, target = excluded.target RETURNING id",
            )
            .bind(project_id)
            .bind(name)
            .bind(unit)
            .bind(baseline)
            .bind(target)
            .fetch_one(&mut **t)
            .await?
        });
        Ok(id)
    }

    /// Records or corrects an indicator's actual value for a period.
    pub async fn upsert_indicator_value(
        &mut self,
        indicator_id: i64,
        period: &str,
        actual: f64,
    ) -> Result<()> {
        on_tx!(self.tx, t, Db => {
            sqlx::query(
                "INSERT INTO indicator_values (indicator_id, period, actual) VALUES ($1, $2, $3) \
                 ON CONFLICT (indicator_id, period) DO UPDATE SET actual = excluded.actual, \
                 row_version = indicator_values.row_version + 1",
            )
            .bind(indicator_id)
            .bind(period)
            .bind(actual)
            .execute(&mut **t)
            .await?;
        });
        Ok(())
    }

    /// Every rotation batch, by supporter and number.
    pub async fn batches(&mut self) -> Result<HashMap<(String, u32), BatchTerm>> {
        let rows: Vec<(String, i32, NaiveDate, NaiveDate)> = on_tx!(self.tx, t, Db => {
            sqlx::query_as("SELECT supporter_code, number, start_date, end_date FROM batches")
                .fetch_all(&mut **t)
                .await?
        });
        Ok(rows
            .into_iter()
            .filter_map(|(s, n, start_date, end_date)| {
                let n = u32::try_from(n).ok()?;
                Some((
                    (s, n),
                    BatchTerm {
                        start_date,
                        end_date,
                    },
                ))
            })
            .collect())
    }

    /// The stored assignments of these supporters, their ID numbers and
    /// phones decrypted (locked on PostgreSQL until the end). ID numbers are
    /// sealed with a random nonce, so the natural key cannot be looked up in
    /// SQL: the importer matches on the decrypted values in memory.
    pub async fn assignments(&mut self, supporters: &[&str]) -> Result<Vec<StoredAssignment>> {
        let lock = matches!(self.tx, Tx::Postgres(_));
        let mut out = Vec::new();
        for chunk in supporters.chunks(CHUNK) {
            let records: Vec<StoredAssignmentRecord> = on_tx!(self.tx, t, Db => {
                let mut qb = QueryBuilder::<Db>::new(
                    "SELECT id, row_version, supporter_code, batch_number, person_name, id_number, phone, \
                     id_number_enc, phone_enc, category, mode, recipient_code, host_unit, post, \
                     arrival_date, return_date, appraisal FROM assignments WHERE supporter_code IN (",
                );
                let mut list = qb.separated(", ");
                for c in chunk {
                    list.push_bind(*c);
                }
                qb.push(") ORDER BY id");
                if lock {
                    qb.push(" FOR UPDATE");
                }
                qb.build_query_as().fetch_all(&mut **t).await?
            });
            for r in records {
                out.push(r.into_stored(&self.field_key)?);
            }
        }
        Ok(out)
    }

    /// Inserts an assignment through the API's own write (`writes::insert_assignment_row`):
    /// the ID number and phone are sealed exactly as there. Returns its id.
    pub async fn insert_assignment(&mut self, a: &Assignment) -> Result<i64> {
        crate::writes::insert_assignment_row(&mut self.tx, &self.field_key, a).await
    }

    /// Replaces a stored assignment's fields (`writes::update_assignment_row`)
    /// and moves its version on, refusing if it moved since it was read.
    pub async fn update_assignment(
        &mut self,
        stored: &StoredAssignment,
        a: &Assignment,
    ) -> Result<()> {
        let changed = crate::writes::update_assignment_row(
            &mut self.tx,
            &self.field_key,
            stored.id,
            stored.row_version,
            a,
        )
        .await?;
        if changed != 1 {
            return Err(StoreError::VersionMismatch {
                current: stored.row_version + 1,
            });
        }
        Ok(())
    }

    /// Records the import in the history and the audit trail, then commits
    /// everything at once. Returns the history row's id.
    pub async fn finish(mut self, record: &ImportRecord) -> Result<i64> {
        std::mem::take(&mut self.delta).apply(&mut self.tx).await?;
        let id: i64 = on_tx!(self.tx, t, Db => {
            sqlx::query_scalar(
                "INSERT INTO import_history (imported_at, actor, file_name, file_sm3, file_bytes, kind, \
                 rows_read, inserted, updated, unchanged) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            )
            .bind(Utc::now())
            .bind(&record.actor)
            .bind(&record.file_name)
            .bind(&record.file_sm3)
            .bind(record.file_bytes)
            .bind(&record.kind)
            .bind(record.rows_read)
            .bind(record.inserted)
            .bind(record.updated)
            .bind(record.unchanged)
            .fetch_one(&mut **t)
            .await?
        });
        let after = serde_json::to_value(record).unwrap_or(serde_json::Value::Null);
        self.tx
            .append_audit(&AuditEntry {
                actor: &record.actor,
                action: "import",
                entity: "import",
                entity_key: &id.to_string(),
                before: None,
                after: Some(&after),
            })
            .await?;
        // Back to the default before the connection returns to the pool;
        // the dirty pages stay until the commit writes them.
        set_sqlite_cache(&mut self.tx, DEFAULT_CACHE).await?;
        self.tx.commit().await?;
        Ok(id)
    }
}

/// Whether a statement failed on a constraint (a stored key), not on the
/// database itself.
pub(crate) fn is_constraint(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| !matches!(d.kind(), sqlx::error::ErrorKind::Other))
}

/// The page cache of an import's connection (256 MiB): a large import's pages
/// stay in memory until the commit instead of spilling to the WAL on the
/// way (perf showed SQLite's `pagerStress` in a million-row import).
const IMPORT_CACHE: &str = "PRAGMA cache_size = -262144";

/// SQLite's default page cache (2,000 KiB).
const DEFAULT_CACHE: &str = "PRAGMA cache_size = -2000";

async fn set_sqlite_cache(tx: &mut Tx, pragma: &'static str) -> Result<()> {
    if let Tx::Sqlite(t) = tx {
        sqlx::query(pragma).execute(&mut **t).await?;
    }
    Ok(())
}

/// A transaction with only what the roll-ups look at.
fn bare(fund_type: FundType, amount: Fen, date: NaiveDate) -> FundTransaction {
    FundTransaction {
        project_code: String::new(),
        fund_type,
        amount,
        date,
        document_no: String::new(),
        note: String::new(),
    }
}
