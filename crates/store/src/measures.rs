//! One definition of every reported figure (DOMAIN.md, "Figures"): the fund
//! chain and its rates, the start, completion and acceptance rates, the 80/80
//! shares, project counts and person-years. The API, the dashboard and the
//! bulletins take their figures from here or from `fund_stats`, which this
//! builds on, so a figure agrees to the fen wherever it appears.

use chrono::NaiveDate;
use serde::Serialize;
use yuanjiang_domain::plan::meets_eighty_percent;
use yuanjiang_domain::rates::ratio;
use yuanjiang_domain::{Fen, FundChain, FundRates, ProjectState};

use crate::parties::key;
use crate::sql::{Sql, bind_params};
use crate::{ProjectFilter, Result, Store, on_pool};

/// Every figure of one slice of data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measures {
    /// The fund chain, summed from transactions.
    pub chain: FundChain,
    /// Arrival, allocation, payment and execution rates.
    pub rates: FundRates,
    /// Projects in the slice.
    pub projects: i64,
    /// Planned projects (past 储备, not cancelled): the rates' denominator.
    pub planned: i64,
    /// Started (开工).
    pub started: i64,
    /// Completed (竣工).
    pub completed: i64,
    /// Accepted (验收).
    pub accepted: i64,
    /// 开工率 = started ÷ planned.
    pub start_rate: Option<f64>,
    /// 竣工率 = completed ÷ planned.
    pub completion_rate: Option<f64>,
    /// 验收率 = accepted ÷ planned.
    pub acceptance_rate: Option<f64>,
    /// Committed funds at county level and below (基层).
    pub grassroots_committed: Fen,
    /// Committed funds for livelihood (民生).
    pub livelihood_committed: Fen,
    /// Grassroots share of committed funds.
    pub grassroots_share: Option<f64>,
    /// Livelihood share of committed funds.
    pub livelihood_share: Option<f64>,
    /// Whether the grassroots share meets 80%.
    pub grassroots_ok: bool,
    /// Whether the livelihood share meets 80%.
    pub livelihood_ok: bool,
    /// Cadre and talent person-years served in the year filtered on (or in
    /// all years), in thousandths of a year, for the supporter filtered on.
    pub person_milliyears: i64,
}

impl Store {
    /// The figures of the projects matching `filter` (`year` is the
    /// transaction year for money and the plan year for project counts),
    /// counting only transactions dated on or before `as_of` when given.
    pub async fn measures(
        &self,
        filter: &ProjectFilter,
        as_of: Option<NaiveDate>,
    ) -> Result<Measures> {
        let chain = self.chain_as_of(filter, as_of).await?;
        let grassroots = self
            .chain_as_of(
                &ProjectFilter {
                    grassroots: Some(true),
                    ..filter.clone()
                },
                as_of,
            )
            .await?;
        let livelihood = self
            .chain_as_of(
                &ProjectFilter {
                    livelihood: Some(true),
                    ..filter.clone()
                },
                as_of,
            )
            .await?;

        let mut sql = Sql::new("SELECT p.state, COUNT(*) FROM projects p WHERE 1 = 1");
        filter.push_conditions(&mut sql, "p.year");
        sql.push(" GROUP BY p.state");
        let by_state: Vec<(String, i64)> = on_pool!(self, p => {
            bind_params!(sqlx::query_as(sql.text()), &sql.params).fetch_all(p).await?
        });
        let (mut projects, mut planned, mut started, mut completed, mut accepted) = (0, 0, 0, 0, 0);
        for (state, n) in by_state {
            let state = key("projects.state", &state, ProjectState::parse)?;
            projects += n;
            if state.is_planned() {
                planned += n;
                started += if state.is_started() { n } else { 0 };
                completed += if state.is_completed() { n } else { 0 };
                accepted += if state.is_accepted() { n } else { 0 };
            }
        }

        let person_milliyears = self.person_milliyears(filter, as_of).await?;
        Ok(Measures {
            rates: FundRates::of(&chain),
            projects,
            planned,
            started,
            completed,
            accepted,
            start_rate: ratio(started, planned),
            completion_rate: ratio(completed, planned),
            acceptance_rate: ratio(accepted, planned),
            grassroots_committed: grassroots.committed,
            livelihood_committed: livelihood.committed,
            grassroots_share: ratio(grassroots.committed.0, chain.committed.0),
            livelihood_share: ratio(livelihood.committed.0, chain.committed.0),
            grassroots_ok: meets_eighty_percent(grassroots.committed, chain.committed),
            livelihood_ok: meets_eighty_percent(livelihood.committed, chain.committed),
            person_milliyears,
            chain,
        })
    }

    /// The summed chain, from the roll-ups when no date limit applies.
    async fn chain_as_of(
        &self,
        filter: &ProjectFilter,
        as_of: Option<NaiveDate>,
    ) -> Result<FundChain> {
        let filter = ProjectFilter {
            as_of: as_of.or(filter.as_of),
            ..filter.clone()
        };
        let rows = self.fund_stats(&filter, &[]).await?;
        Ok(rows.first().map(|r| r.chain).unwrap_or_default())
    }

    /// Person-years of people sent by the filtered supporter (all when
    /// none), within the filtered year or up to `as_of`.
    async fn person_milliyears(
        &self,
        filter: &ProjectFilter,
        as_of: Option<NaiveDate>,
    ) -> Result<i64> {
        let to = match (filter.year, as_of) {
            (Some(y), Some(d)) => NaiveDate::from_ymd_opt(y, 12, 31).unwrap_or(d).min(d),
            (Some(y), None) => NaiveDate::from_ymd_opt(y, 12, 31).unwrap_or(NaiveDate::MAX),
            (None, Some(d)) => d,
            (None, None) => chrono::Utc::now().date_naive(),
        };
        let from = filter
            .year
            .and_then(|y| NaiveDate::from_ymd_opt(y, 1, 1))
            .unwrap_or(NaiveDate::MIN);
        let supporter = match (&filter.supporter, &filter.scope) {
            (Some(s), _) | (None, Some(crate::Scope::Supporter(s))) => Some(s.clone()),
            _ => None,
        };
        let rows: Vec<(NaiveDate, NaiveDate)> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT arrival_date, return_date FROM assignments \
                 WHERE ($1 IS NULL OR supporter_code = $1 OR supporter_code IN \
                 (SELECT code FROM supporters WHERE parent_code = $1))",
            )
            .bind(supporter)
            .fetch_all(p)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(a, r)| {
                let start = a.max(from);
                let end = r.min(to);
                (end - start).num_days().max(0) * 1000 / 365
            })
            .sum())
    }
}

/// A project a bulletin warns about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlaggedProject {
    /// Project code.
    pub code: String,
    /// Project name.
    pub name: String,
    /// Supporter code.
    pub supporter_code: String,
    /// The amount that raised the flag, in fen: paid, the idle balance, or
    /// (acceptance without documents) the project's aid funds.
    pub amount: Fen,
    /// The last payment or expenditure on or before the as-of day, if any.
    pub last_activity: Option<NaiveDate>,
}

#[derive(sqlx::FromRow)]
struct FlagRecord {
    code: String,
    name: String,
    supporter_code: String,
    state: String,
    allocated: i64,
    refunded: i64,
    paid: i64,
    last_paid: Option<NaiveDate>,
    last_allocated: Option<NaiveDate>,
}

impl Store {
    /// Per-project sums up to `as_of`, for the bulletin's warnings.
    async fn flag_records(
        &self,
        filter: &ProjectFilter,
        as_of: NaiveDate,
    ) -> Result<Vec<FlagRecord>> {
        let mut sql = Sql::new(
            "SELECT p.code, p.name, p.supporter_code, p.state, \
             CAST(SUM(CASE WHEN t.fund_type = 'allocation' THEN t.amount ELSE 0 END) AS BIGINT) AS allocated, \
             CAST(SUM(CASE WHEN t.fund_type = 'refund' THEN t.amount ELSE 0 END) AS BIGINT) AS refunded, \
             CAST(SUM(CASE WHEN t.fund_type = 'payment' THEN t.amount ELSE 0 END) AS BIGINT) AS paid, \
             MAX(CASE WHEN t.fund_type IN ('payment', 'expenditure') THEN t.date END) AS last_paid, \
             MAX(CASE WHEN t.fund_type = 'allocation' THEN t.date END) AS last_allocated \
             FROM projects p JOIN fund_transactions t ON t.project_id = p.id WHERE 1 = 1",
        );
        let unbounded = ProjectFilter {
            year: None,
            as_of: None,
            ..filter.clone()
        };
        unbounded.push_conditions(&mut sql, "t.year");
        let n = sql.param(crate::sql::Param::Text(
            as_of.format("%Y-%m-%d").to_string(),
        ));
        sql.push(&match self.backend() {
            crate::Backend::Sqlite => format!(" AND t.date <= {n}"),
            crate::Backend::Postgres => format!(" AND t.date <= CAST({n} AS DATE)"),
        });
        sql.push(" GROUP BY p.id, p.code, p.name, p.supporter_code, p.state ORDER BY p.code");
        let rows: Vec<FlagRecord> = on_pool!(self, p => {
            bind_params!(sqlx::query_as(sql.text()), &sql.params).fetch_all(p).await?
        });
        Ok(rows)
    }

    /// Projects with payments but no progress: paid while still before
    /// construction (储备, 计划下达, 前期, 招投标).
    pub async fn paid_without_progress(
        &self,
        filter: &ProjectFilter,
        as_of: NaiveDate,
    ) -> Result<Vec<FlaggedProject>> {
        let mut out = Vec::new();
        for r in self.flag_records(filter, as_of).await? {
            let state = key("projects.state", &r.state, ProjectState::parse)?;
            let before_works = matches!(
                state,
                ProjectState::Proposed
                    | ProjectState::PlanIssued
                    | ProjectState::Preparation
                    | ProjectState::Tendering
            );
            if before_works && r.paid > 0 {
                out.push(FlaggedProject {
                    code: r.code,
                    name: r.name,
                    supporter_code: r.supporter_code,
                    amount: Fen(r.paid),
                    last_activity: r.last_paid,
                });
            }
        }
        Ok(out)
    }

    /// Projects holding allocated but unpaid funds with no payment or
    /// expenditure (nor new allocation) for more than six months before `as_of`.
    pub async fn idle_funds(
        &self,
        filter: &ProjectFilter,
        as_of: NaiveDate,
    ) -> Result<Vec<FlaggedProject>> {
        let cutoff = as_of
            .checked_sub_months(chrono::Months::new(6))
            .unwrap_or(as_of);
        let mut out = Vec::new();
        for r in self.flag_records(filter, as_of).await? {
            let balance = r.allocated - r.refunded - r.paid;
            let last = r.last_paid.max(r.last_allocated);
            if balance > 0 && last.is_some_and(|d| d < cutoff) {
                out.push(FlaggedProject {
                    code: r.code,
                    name: r.name,
                    supporter_code: r.supporter_code,
                    amount: Fen(balance),
                    last_activity: last,
                });
            }
        }
        Ok(out)
    }

    /// Acceptance without documents (验收无文件): projects that have passed
    /// acceptance (验收 and every state after it, as counted by the
    /// acceptance rate) without an acceptance report (验收报告) uploaded by
    /// the end of `as_of` (UTC). The project's state is its current one.
    pub async fn accepted_without_report(
        &self,
        filter: &ProjectFilter,
        as_of: NaiveDate,
    ) -> Result<Vec<FlaggedProject>> {
        let mut sql = Sql::new(
            "SELECT p.code, p.name, p.supporter_code, p.aid_funds FROM projects p WHERE p.state IN (",
        );
        let accepted: Vec<String> = ProjectState::ALL
            .iter()
            .filter(|s| s.is_accepted())
            .map(|s| sql.param(crate::sql::Param::Text(s.key().to_owned())))
            .collect();
        sql.push(&accepted.join(", "));
        sql.push(")");
        let unbounded = ProjectFilter {
            year: None,
            as_of: None,
            ..filter.clone()
        };
        unbounded.push_conditions(&mut sql, "p.year");
        let report = sql.param(crate::sql::Param::Text(
            yuanjiang_domain::AttachmentKind::AcceptanceReport
                .key()
                .to_owned(),
        ));
        let next_day = as_of.succ_opt().unwrap_or(as_of);
        let cutoff = match self.backend() {
            // Stored as RFC 3339 text: every instant of `as_of` sorts before the next day.
            crate::Backend::Sqlite => sql.param(crate::sql::Param::Text(
                next_day.format("%Y-%m-%d").to_string(),
            )),
            crate::Backend::Postgres => {
                let n = sql.param(crate::sql::Param::Text(
                    next_day.format("%Y-%m-%dT00:00:00Z").to_string(),
                ));
                format!("CAST({n} AS TIMESTAMPTZ)")
            }
        };
        sql.push(&format!(
            " AND NOT EXISTS (SELECT 1 FROM attachments a WHERE a.project_id = p.id \
             AND a.kind = {report} AND a.uploaded_at < {cutoff}) ORDER BY p.code"
        ));
        let rows: Vec<(String, String, String, i64)> = on_pool!(self, p => {
            bind_params!(sqlx::query_as(sql.text()), &sql.params).fetch_all(p).await?
        });
        Ok(rows
            .into_iter()
            .map(|(code, name, supporter_code, aid)| FlaggedProject {
                code,
                name,
                supporter_code,
                amount: Fen(aid),
                last_activity: None,
            })
            .collect())
    }
}
