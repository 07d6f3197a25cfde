//! Reads of projects: the filtered, cursor-paged registry and one project
//! with its transactions, state history and indicators.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use sqlx::FromRow;
use yuanjiang_domain::{
    ApprovalStatus, Category, DeliveryMode, Fen, FundTransaction, FundType, Indicator,
    IndicatorValue, Project, ProjectKind, ProjectState, StateChange,
};

use crate::parties::key;
use crate::sql::{Param, Sql, bind_params};
use crate::{Result, Store, on_pool};

/// Filters on the project registry; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectFilter {
    /// Supporter code; includes supporters under it (Shenzhen under Guangdong).
    pub supporter: Option<String>,
    /// Recipient code; includes everything under it (`6531` is all of Kashgar).
    pub recipient: Option<String>,
    /// Category.
    pub category: Option<Category>,
    /// Lifecycle state.
    pub state: Option<ProjectState>,
    /// Plan year for the registry; transaction year for fund statistics.
    pub year: Option<i32>,
    /// In the plan (规划内).
    pub in_plan: Option<bool>,
    /// Continued (续建).
    pub continued: Option<bool>,
    /// County level and below (基层).
    pub grassroots: Option<bool>,
    /// Livelihood (民生).
    pub livelihood: Option<bool>,
    /// XPCC only (`true`) or without XPCC (`false`).
    pub xpcc: Option<bool>,
    /// Only projects published to the public.
    pub published_only: bool,
    /// The caller's scope, ANDed with the filters above.
    pub scope: Option<Scope>,
    /// Count only transactions dated on or before this day (statistics only;
    /// the registry ignores it).
    pub as_of: Option<chrono::NaiveDate>,
}

/// The part of the data a caller's role lets them see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// A supporter and the supporters under it.
    Supporter(String),
    /// A recipient unit and everything under it.
    Recipient(String),
}

impl Scope {
    /// The scope of a viewer's role; `None` for roles that see everything
    /// (and for the public, who are limited by `published_only` instead).
    pub fn of(viewer: &yuanjiang_domain::Viewer) -> Option<Scope> {
        use yuanjiang_domain::{Role, Viewer};
        match viewer {
            Viewer::User(p) => match (p.role, &p.scope) {
                (Role::Supporter, Some(s)) => Some(Scope::Supporter(s.clone())),
                (Role::Prefecture, Some(s)) => Some(Scope::Recipient(s.clone())),
                // A scoped role without a scope sees nothing (never everything).
                (Role::Supporter | Role::Prefecture, None) => Some(Scope::Recipient("-".into())),
                _ => None,
            },
            Viewer::Public => None,
        }
    }
}

impl ProjectFilter {
    /// Appends ` AND …` conditions on the projects table aliased `p`.
    /// `year_column` says which column the year filter applies to.
    pub(crate) fn push_conditions(&self, sql: &mut Sql, year_column: &str) {
        if let Some(s) = &self.supporter {
            let n = sql.param(Param::Text(s.clone()));
            sql.push(&format!(
                " AND (p.supporter_code = {n} OR p.supporter_code IN \
                 (SELECT code FROM supporters WHERE parent_code = {n}))"
            ));
        }
        if let Some(r) = &self.recipient {
            // Codes are validated before they get here, so they hold no wildcard.
            let n = sql.param(Param::Text(format!("{r}%")));
            sql.push(&format!(" AND p.recipient_code LIKE {n}"));
        }
        if let Some(c) = self.category {
            let n = sql.param(Param::Text(c.key().to_owned()));
            sql.push(&format!(" AND p.category = {n}"));
        }
        if let Some(s) = self.state {
            let n = sql.param(Param::Text(s.key().to_owned()));
            sql.push(&format!(" AND p.state = {n}"));
        }
        if let Some(y) = self.year {
            let n = sql.param(Param::I32(y));
            sql.push(&format!(" AND {year_column} = {n}"));
        }
        for (value, column) in [
            (self.in_plan, "p.in_plan"),
            (self.continued, "p.continued"),
            (self.grassroots, "p.grassroots"),
            (self.livelihood, "p.livelihood"),
        ] {
            if let Some(v) = value {
                let n = sql.param(Param::Bool(v));
                sql.push(&format!(" AND {column} = {n}"));
            }
        }
        match self.xpcc {
            Some(true) => sql.push(" AND p.recipient_code LIKE 'XPCC-%'"),
            Some(false) => sql.push(" AND p.recipient_code NOT LIKE 'XPCC-%'"),
            None => sql,
        };
        if self.published_only {
            sql.push(" AND p.published = TRUE");
        }
        match &self.scope {
            Some(Scope::Supporter(s)) => {
                let n = sql.param(Param::Text(s.clone()));
                sql.push(&format!(
                    " AND (p.supporter_code = {n} OR p.supporter_code IN \
                     (SELECT code FROM supporters WHERE parent_code = {n}))"
                ));
            }
            Some(Scope::Recipient(r)) => {
                let n = sql.param(Param::Text(format!("{r}%")));
                sql.push(&format!(" AND p.recipient_code LIKE {n}"));
            }
            None => {}
        }
    }
}

/// A page of results and the cursor for the next one.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    /// Items on this page.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// A stored project with its row identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectRow {
    /// Row id (internal; the code is the public key).
    #[serde(skip)]
    pub id: i64,
    /// Version for optimistic concurrency.
    pub row_version: i64,
    /// The prefecture or XPCC division the project rolls up to.
    pub prefecture_code: String,
    /// Where it stands in the approval workflow.
    pub approval: ApprovalStatus,
    /// The project.
    #[serde(flatten)]
    pub project: Project,
}

/// A stored fund transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransactionRow {
    /// Row id.
    pub id: i64,
    /// Version for optimistic concurrency.
    pub row_version: i64,
    /// The transaction.
    #[serde(flatten)]
    pub transaction: FundTransaction,
}

pub(crate) const PROJECT_COLUMNS: &str = "p.id, p.code, p.name, p.category, p.delivery_mode, p.kind, p.year, \
     p.in_plan, p.continued, p.grassroots, p.livelihood, p.supporter_code, p.recipient_code, \
     p.location_code, p.prefecture_code, p.planned_investment, p.aid_funds, p.matching_funds, \
     p.start_date, p.end_date, p.state, p.published, p.description, p.row_version, p.approval";

/// A project row. Also read from a JSON array of [`PROJECT_COLUMNS`] in
/// their order (see `ImportTx::projects`), where SQLite writes flags as 0 or 1.
#[derive(FromRow, Deserialize)]
pub(crate) struct ProjectRecord {
    id: i64,
    code: String,
    name: String,
    category: String,
    delivery_mode: String,
    kind: String,
    year: i32,
    #[serde(deserialize_with = "flag")]
    in_plan: bool,
    #[serde(deserialize_with = "flag")]
    continued: bool,
    #[serde(deserialize_with = "flag")]
    grassroots: bool,
    #[serde(deserialize_with = "flag")]
    livelihood: bool,
    supporter_code: String,
    recipient_code: String,
    location_code: String,
    prefecture_code: String,
    planned_investment: i64,
    aid_funds: i64,
    matching_funds: i64,
    start_date: NaiveDate,
    end_date: NaiveDate,
    state: String,
    #[serde(deserialize_with = "flag")]
    published: bool,
    description: String,
    row_version: i64,
    approval: String,
}

/// A flag as SQLite's JSON functions write it: 0 or 1.
pub(crate) fn flag<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<bool, D::Error> {
    match u8::deserialize(d)? {
        0 => Ok(false),
        1 => Ok(true),
        n => Err(serde::de::Error::invalid_value(
            serde::de::Unexpected::Unsigned(u64::from(n)),
            &"0 or 1",
        )),
    }
}

impl ProjectRecord {
    pub(crate) fn into_row(self) -> Result<ProjectRow> {
        Ok(ProjectRow {
            id: self.id,
            row_version: self.row_version,
            prefecture_code: self.prefecture_code,
            approval: key("projects.approval", &self.approval, ApprovalStatus::parse)?,
            project: Project {
                category: key("projects.category", &self.category, Category::parse)?,
                delivery_mode: key(
                    "projects.delivery_mode",
                    &self.delivery_mode,
                    DeliveryMode::parse,
                )?,
                kind: key("projects.kind", &self.kind, ProjectKind::parse)?,
                state: key("projects.state", &self.state, ProjectState::parse)?,
                code: self.code,
                name: self.name,
                year: self.year,
                in_plan: self.in_plan,
                continued: self.continued,
                grassroots: self.grassroots,
                livelihood: self.livelihood,
                supporter_code: self.supporter_code,
                recipient_code: self.recipient_code,
                location_code: self.location_code,
                planned_investment: Fen(self.planned_investment),
                aid_funds: Fen(self.aid_funds),
                matching_funds: Fen(self.matching_funds),
                start_date: self.start_date,
                end_date: self.end_date,
                published: self.published,
                description: self.description,
            },
        })
    }
}

#[derive(FromRow)]
pub(crate) struct TransactionRecord {
    id: i64,
    row_version: i64,
    code: String,
    fund_type: String,
    amount: i64,
    date: NaiveDate,
    document_no: String,
    note: String,
}

impl TransactionRecord {
    pub(crate) fn into_row(self) -> Result<TransactionRow> {
        Ok(TransactionRow {
            id: self.id,
            row_version: self.row_version,
            transaction: FundTransaction {
                fund_type: key(
                    "fund_transactions.fund_type",
                    &self.fund_type,
                    FundType::parse,
                )?,
                project_code: self.code,
                amount: Fen(self.amount),
                date: self.date,
                document_no: self.document_no,
                note: self.note,
            },
        })
    }
}

#[derive(FromRow)]
struct StateRecord {
    from_state: Option<String>,
    to_state: String,
    changed_at: DateTime<Utc>,
    changed_by: String,
    reason: String,
}

#[derive(FromRow)]
struct IndicatorRecord {
    id: i64,
    name: String,
    unit: String,
    baseline: f64,
    target: f64,
}

#[derive(FromRow)]
struct IndicatorValueRecord {
    indicator_id: i64,
    period: String,
    actual: f64,
}

/// Largest page the registry serves at once; paging has no overall cap.
pub const MAX_PAGE_SIZE: u32 = 1000;

impl Store {
    /// A page of projects matching `filter`, in id order, after `cursor`.
    pub async fn projects(
        &self,
        filter: &ProjectFilter,
        cursor: Option<i64>,
        limit: u32,
    ) -> Result<Page<ProjectRow>> {
        let limit = limit.clamp(1, MAX_PAGE_SIZE);
        let mut sql = Sql::new(&format!(
            "SELECT {PROJECT_COLUMNS} FROM projects p WHERE 1 = 1"
        ));
        filter.push_conditions(&mut sql, "p.year");
        if let Some(after) = cursor {
            let n = sql.param(Param::I64(after));
            sql.push(&format!(" AND p.id > {n}"));
        }
        let n = sql.param(Param::I64(i64::from(limit)));
        sql.push(&format!(" ORDER BY p.id LIMIT {n}"));
        let records: Vec<ProjectRecord> = on_pool!(self, p => {
            bind_params!(sqlx::query_as(sql.text()), &sql.params).fetch_all(p).await?
        });
        let items = records
            .into_iter()
            .map(ProjectRecord::into_row)
            .collect::<Result<Vec<_>>>()?;
        let next_cursor = if items.len() == limit as usize {
            items.last().map(|r| r.id.to_string())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// Counts projects matching `filter`.
    pub async fn count_projects(&self, filter: &ProjectFilter) -> Result<i64> {
        let mut sql = Sql::new("SELECT COUNT(*) FROM projects p WHERE 1 = 1");
        filter.push_conditions(&mut sql, "p.year");
        let n: i64 = on_pool!(self, p => {
            bind_params!(sqlx::query_scalar(sql.text()), &sql.params).fetch_one(p).await?
        });
        Ok(n)
    }

    /// One project by its code.
    pub async fn project(&self, code: &str) -> Result<Option<ProjectRow>> {
        let sql = Sql::new(&format!(
            "SELECT {PROJECT_COLUMNS} FROM projects p WHERE p.code = $1"
        ));
        let record: Option<ProjectRecord> = on_pool!(self, p => {
            sqlx::query_as(sql.text()).bind(code).fetch_optional(p).await?
        });
        record.map(ProjectRecord::into_row).transpose()
    }

    /// A project's fund transactions in chain order.
    pub async fn project_transactions(&self, project_id: i64) -> Result<Vec<TransactionRow>> {
        let records: Vec<TransactionRecord> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT t.id, t.row_version, p.code, t.fund_type, t.amount, t.date, t.document_no, t.note \
                 FROM fund_transactions t JOIN projects p ON p.id = t.project_id \
                 WHERE t.project_id = $1 ORDER BY t.date, t.id",
            )
            .bind(project_id)
            .fetch_all(p)
            .await?
        });
        records
            .into_iter()
            .map(TransactionRecord::into_row)
            .collect()
    }

    /// A project's state history, oldest first.
    pub async fn project_history(&self, project_id: i64) -> Result<Vec<StateChange>> {
        let records: Vec<StateRecord> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT from_state, to_state, changed_at, changed_by, reason \
                 FROM project_states WHERE project_id = $1 ORDER BY id",
            )
            .bind(project_id)
            .fetch_all(p)
            .await?
        });
        records
            .into_iter()
            .map(|r| {
                Ok(StateChange {
                    from: r
                        .from_state
                        .as_deref()
                        .map(|s| key("project_states.from_state", s, ProjectState::parse))
                        .transpose()?,
                    to: key("project_states.to_state", &r.to_state, ProjectState::parse)?,
                    at: r.changed_at,
                    by: r.changed_by,
                    reason: r.reason,
                })
            })
            .collect()
    }

    /// A project's indicators with their values, by name and period.
    pub async fn project_indicators(
        &self,
        project_id: i64,
        project_code: &str,
    ) -> Result<Vec<(Indicator, Vec<IndicatorValue>)>> {
        let (indicators, values): (Vec<IndicatorRecord>, Vec<IndicatorValueRecord>) = on_pool!(self, p => {
            let indicators = sqlx::query_as(
                "SELECT id, name, unit, baseline, target FROM indicators WHERE project_id = $1 ORDER BY name",
            )
            .bind(project_id)
            .fetch_all(p)
            .await?;
            let values = sqlx::query_as(
                "SELECT v.indicator_id, v.period, v.actual FROM indicator_values v \
                 JOIN indicators i ON i.id = v.indicator_id WHERE i.project_id = $1 ORDER BY v.period",
            )
            .bind(project_id)
            .fetch_all(p)
            .await?;
            (indicators, values)
        });
        Ok(indicators
            .into_iter()
            .map(|i| {
                let vals = values
                    .iter()
                    .filter(|v| v.indicator_id == i.id)
                    .map(|v| IndicatorValue {
                        project_code: project_code.to_owned(),
                        name: i.name.clone(),
                        period: v.period.clone(),
                        actual: v.actual,
                    })
                    .collect();
                (
                    Indicator {
                        project_code: project_code.to_owned(),
                        name: i.name,
                        unit: i.unit,
                        baseline: i.baseline,
                        target: i.target,
                    },
                    vals,
                )
            })
            .collect())
    }
}
