//! Reads for the web pages: the registry sorted by a chosen column with
//! keyset paging (optionally narrowed to search hits), projects counted by
//! state, prefecture or category, rotation batches, and assignments without
//! their personal data for the personnel overview. Each read applies the
//! same [`ProjectFilter`] and [`Scope`] as the API's reads.

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::{FromRow, Row};
use yuanjiang_domain::{AssignmentCategory, Batch, Fen, Plan, PlanKind, Viewer};

use crate::parties::key;
use crate::projects::{PROJECT_COLUMNS, ProjectRecord};
use crate::sql::{Param, Sql, bind_params};
use crate::{Page, ProjectFilter, ProjectRow, Result, Scope, Store, on_pool};

/// The column the registry is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RegistrySort {
    /// Most recently entered first (by row id).
    #[default]
    Newest,
    /// Project code.
    Code,
    /// Project name.
    Name,
    /// Plan year.
    Year,
    /// Planned total investment.
    Investment,
    /// Aid funds.
    AidFunds,
}

impl RegistrySort {
    /// Every sort, in menu order.
    pub const ALL: [RegistrySort; 6] = [
        RegistrySort::Newest,
        RegistrySort::Code,
        RegistrySort::Name,
        RegistrySort::Year,
        RegistrySort::Investment,
        RegistrySort::AidFunds,
    ];

    /// The name used in `?sort=`.
    pub fn key(self) -> &'static str {
        match self {
            RegistrySort::Newest => "newest",
            RegistrySort::Code => "code",
            RegistrySort::Name => "name",
            RegistrySort::Year => "year",
            RegistrySort::Investment => "investment",
            RegistrySort::AidFunds => "aid",
        }
    }

    /// Parses a `?sort=` name.
    pub fn parse(s: &str) -> Option<RegistrySort> {
        RegistrySort::ALL.into_iter().find(|k| k.key() == s)
    }

    fn column(self) -> &'static str {
        match self {
            RegistrySort::Newest => "p.id",
            RegistrySort::Code => "p.code",
            RegistrySort::Name => "p.name",
            RegistrySort::Year => "p.year",
            RegistrySort::Investment => "p.planned_investment",
            RegistrySort::AidFunds => "p.aid_funds",
        }
    }

    fn is_text(self) -> bool {
        matches!(self, RegistrySort::Code | RegistrySort::Name)
    }

    fn value(self, row: &ProjectRow) -> String {
        let p = &row.project;
        match self {
            RegistrySort::Newest => row.id.to_string(),
            RegistrySort::Code => p.code.clone(),
            RegistrySort::Name => p.name.clone(),
            RegistrySort::Year => p.year.to_string(),
            RegistrySort::Investment => p.planned_investment.0.to_string(),
            RegistrySort::AidFunds => p.aid_funds.0.to_string(),
        }
    }
}

/// One page request of the sorted registry.
#[derive(Debug, Clone, Default)]
pub struct RegistryQuery {
    /// Filters and scope, as for [`Store::projects`].
    pub filter: ProjectFilter,
    /// Only these codes (search hits), when given.
    pub only_codes: Option<Vec<String>>,
    /// Sort column.
    pub sort: RegistrySort,
    /// Largest first.
    pub descending: bool,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Page size (1–1000).
    pub limit: u32,
}

/// Projects counted by one property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectCountBy {
    /// Lifecycle state.
    State,
    /// Prefecture or XPCC division.
    Prefecture,
    /// Category.
    Category,
}

/// An assignment without its personal data, for overviews.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssignmentSummary {
    /// Sending supporter.
    pub supporter_code: String,
    /// Batch number.
    pub batch_number: Option<u32>,
    /// Category.
    pub category: AssignmentCategory,
    /// Recipient unit of the host unit.
    pub recipient_code: String,
    /// Host unit.
    pub host_unit: String,
    /// Arrival date.
    pub arrival_date: NaiveDate,
    /// Return date.
    pub return_date: NaiveDate,
}

#[derive(FromRow)]
struct SummaryRecord {
    supporter_code: String,
    batch_number: Option<i32>,
    category: String,
    recipient_code: String,
    host_unit: String,
    arrival_date: NaiveDate,
    return_date: NaiveDate,
}

#[derive(FromRow)]
struct PlanRecord {
    kind: String,
    supporter_code: String,
    recipient_code: String,
    start_year: i32,
    end_year: i32,
    version: i32,
    amount: i64,
    grassroots_amount: i64,
    livelihood_amount: i64,
    note: String,
}

#[derive(FromRow)]
struct BatchRecord {
    supporter_code: String,
    number: i32,
    start_date: NaiveDate,
    end_date: NaiveDate,
}

/// Splits a registry cursor `"<id>~<value>"`.
fn split_cursor(cursor: &str) -> Option<(i64, &str)> {
    let (id, value) = cursor.split_once('~')?;
    Some((id.parse().ok()?, value))
}

impl Store {
    /// A page of the registry in the requested order. The cursor names the
    /// last row's id and sort value, so paging stays stable and fast at any
    /// depth; an unreadable cursor starts from the top.
    pub async fn registry(&self, q: &RegistryQuery) -> Result<Page<ProjectRow>> {
        let limit = q.limit.clamp(1, 1000);
        let mut sql = Sql::new(&format!(
            "SELECT {PROJECT_COLUMNS} FROM projects p WHERE 1 = 1"
        ));
        q.filter.push_conditions(&mut sql, "p.year");
        if let Some(codes) = &q.only_codes {
            if codes.is_empty() {
                return Ok(Page {
                    items: Vec::new(),
                    next_cursor: None,
                });
            }
            let placeholders: Vec<String> = codes
                .iter()
                .map(|c| sql.param(Param::Text(c.clone())))
                .collect();
            sql.push(&format!(" AND p.code IN ({})", placeholders.join(", ")));
        }
        let column = q.sort.column();
        let (cmp, dir) = if q.descending {
            ("<", "DESC")
        } else {
            (">", "ASC")
        };
        if let Some((id, value)) = q.cursor.as_deref().and_then(split_cursor) {
            let id = sql.param(Param::I64(id));
            if q.sort == RegistrySort::Newest {
                sql.push(&format!(" AND p.id {cmp} {id}"));
            } else {
                let v = if q.sort.is_text() {
                    sql.param(Param::Text(value.to_owned()))
                } else {
                    sql.param(Param::I64(value.parse().unwrap_or(0)))
                };
                sql.push(&format!(
                    " AND ({column} {cmp} {v} OR ({column} = {v} AND p.id {cmp} {id}))"
                ));
            }
        }
        let n = sql.param(Param::I64(i64::from(limit)));
        if q.sort == RegistrySort::Newest {
            sql.push(&format!(" ORDER BY p.id {dir} LIMIT {n}"));
        } else {
            sql.push(&format!(" ORDER BY {column} {dir}, p.id {dir} LIMIT {n}"));
        }
        let records: Vec<ProjectRecord> = on_pool!(self, p => {
            bind_params!(sqlx::query_as(sql.text()), &sql.params).fetch_all(p).await?
        });
        let items = records
            .into_iter()
            .map(ProjectRecord::into_row)
            .collect::<Result<Vec<_>>>()?;
        let next_cursor = if items.len() == limit as usize {
            items
                .last()
                .map(|r| format!("{}~{}", r.id, q.sort.value(r)))
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// Projects matching `filter` counted by every combination of `by`, as
    /// (values in the order of `by`, count), sorted by the values. One scan
    /// serves several breakdowns: sum the rows over the values not needed.
    pub async fn count_projects_by(
        &self,
        filter: &ProjectFilter,
        by: &[ProjectCountBy],
    ) -> Result<Vec<(Vec<String>, i64)>> {
        let columns: Vec<String> = by
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let column = match b {
                    ProjectCountBy::State => "p.state",
                    ProjectCountBy::Prefecture => "p.prefecture_code",
                    ProjectCountBy::Category => "p.category",
                };
                format!("{column} AS k{i}")
            })
            .collect();
        let keys: Vec<String> = (0..by.len()).map(|i| format!("k{i}")).collect();
        let mut sql = Sql::new(&format!(
            "SELECT {}COUNT(*) AS n FROM projects p WHERE 1 = 1",
            columns.iter().map(|c| format!("{c}, ")).collect::<String>()
        ));
        filter.push_conditions(&mut sql, "p.year");
        if !keys.is_empty() {
            sql.push(&format!(
                " GROUP BY {keys} ORDER BY {keys}",
                keys = keys.join(", ")
            ));
        }
        let rows = on_pool!(self, p => {
            let rows = bind_params!(sqlx::query(sql.text()), &sql.params).fetch_all(p).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let mut values = Vec::with_capacity(by.len());
                for i in 0..by.len() {
                    values.push(row.try_get::<String, _>(i)?);
                }
                out.push((values, row.try_get::<i64, _>(by.len())?));
            }
            out
        });
        Ok(rows)
    }

    /// Plan versions (five-year and annual), optionally of one supporter
    /// (with those under it), one recipient (with everything under it) and
    /// covering one year; by supporter, recipient, start year and version.
    pub async fn plans(
        &self,
        supporter: Option<&str>,
        recipient: Option<&str>,
        year: Option<i32>,
    ) -> Result<Vec<Plan>> {
        let mut sql = Sql::new(
            "SELECT pl.kind, pl.supporter_code, pl.recipient_code, pl.start_year, pl.end_year, \
             pl.version, pl.amount, pl.grassroots_amount, pl.livelihood_amount, pl.note \
             FROM plans pl JOIN supporters s ON s.code = pl.supporter_code \
             JOIN recipients r ON r.code = pl.recipient_code WHERE 1 = 1",
        );
        if let Some(code) = supporter {
            let n = sql.param(Param::Text(code.to_owned()));
            sql.push(&format!(
                " AND (pl.supporter_code = {n} OR s.parent_code = {n})"
            ));
        }
        if let Some(code) = recipient {
            let n = sql.param(Param::Text(code.to_owned()));
            sql.push(&format!(
                " AND (pl.recipient_code = {n} OR r.parent_code = {n} OR r.prefecture_code = {n})"
            ));
        }
        if let Some(year) = year {
            let n = sql.param(Param::I32(year));
            sql.push(&format!(" AND pl.start_year <= {n} AND pl.end_year >= {n}"));
        }
        sql.push(
            " ORDER BY pl.supporter_code, pl.recipient_code, pl.kind, pl.start_year, pl.version",
        );
        let records: Vec<PlanRecord> = on_pool!(self, p => {
            bind_params!(sqlx::query_as(sql.text()), &sql.params).fetch_all(p).await?
        });
        records
            .into_iter()
            .map(|r| {
                Ok(Plan {
                    kind: PlanKind::parse(&r.kind)?,
                    supporter_code: r.supporter_code,
                    recipient_code: r.recipient_code,
                    start_year: r.start_year,
                    end_year: r.end_year,
                    version: u32::try_from(r.version).unwrap_or(0),
                    amount: Fen(r.amount),
                    grassroots_amount: Fen(r.grassroots_amount),
                    livelihood_amount: Fen(r.livelihood_amount),
                    note: r.note,
                })
            })
            .collect()
    }

    /// Rotation batches, by supporter and number; only `supporter`'s (and
    /// those of supporters under it) when given.
    pub async fn batches(&self, supporter: Option<&str>) -> Result<Vec<Batch>> {
        let mut sql = Sql::new(
            "SELECT b.supporter_code, b.number, b.start_date, b.end_date FROM batches b \
             JOIN supporters s ON s.code = b.supporter_code WHERE 1 = 1",
        );
        if let Some(code) = supporter {
            let n = sql.param(Param::Text(code.to_owned()));
            sql.push(&format!(
                " AND (b.supporter_code = {n} OR s.parent_code = {n})"
            ));
        }
        sql.push(" ORDER BY b.supporter_code, b.number");
        let records: Vec<BatchRecord> = on_pool!(self, p => {
            bind_params!(sqlx::query_as(sql.text()), &sql.params).fetch_all(p).await?
        });
        Ok(records
            .into_iter()
            .map(|r| Batch {
                supporter_code: r.supporter_code,
                number: u32::try_from(r.number).unwrap_or(0),
                start_date: r.start_date,
                end_date: r.end_date,
            })
            .collect())
    }

    /// Assignments in post on `on` or later, without personal data, that
    /// `viewer` may see (none for the public; a front command its own
    /// people; a recipient office those posted under it).
    pub async fn assignment_summaries(
        &self,
        viewer: &Viewer,
        on: NaiveDate,
    ) -> Result<Vec<AssignmentSummary>> {
        if *viewer == Viewer::Public {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(
            "SELECT a.supporter_code, a.batch_number, a.category, a.recipient_code, a.host_unit, \
             a.arrival_date, a.return_date FROM assignments a \
             JOIN supporters s ON s.code = a.supporter_code WHERE 1 = 1",
        );
        match Scope::of(viewer) {
            Some(Scope::Supporter(code)) => {
                let n = sql.param(Param::Text(code));
                sql.push(&format!(
                    " AND (a.supporter_code = {n} OR s.parent_code = {n})"
                ));
            }
            Some(Scope::Recipient(code)) => {
                let n = sql.param(Param::Text(format!("{code}%")));
                sql.push(&format!(" AND a.recipient_code LIKE {n}"));
            }
            None => {}
        }
        // The date is bound last, after the text parameters: `Param` has no dates.
        let on_n = format!("${}", sql.params.len() + 1);
        sql.push(&format!(
            " AND a.return_date >= {on_n} ORDER BY a.return_date, a.id"
        ));
        let records: Vec<SummaryRecord> = on_pool!(self, p => {
            bind_params!(sqlx::query_as(sql.text()), &sql.params).bind(on).fetch_all(p).await?
        });
        records
            .into_iter()
            .map(|r| {
                Ok(AssignmentSummary {
                    category: key(
                        "assignments.category",
                        &r.category,
                        AssignmentCategory::parse,
                    )?,
                    supporter_code: r.supporter_code,
                    batch_number: r.batch_number.and_then(|b| u32::try_from(b).ok()),
                    recipient_code: r.recipient_code,
                    host_unit: r.host_unit,
                    arrival_date: r.arrival_date,
                    return_date: r.return_date,
                })
            })
            .collect()
    }
}
