//! Maintained roll-ups of the fund chain. Every write that adds, changes or
//! moves money applies a [`RollupDelta`] in its own transaction, so the
//! roll-ups always equal the transactions they summarise; `check` proves it
//! by recomputing them. [`Source`] picks the roll-up a statistics query can
//! use, or the raw transactions when none covers it.

use std::collections::BTreeMap;

use foldhash::HashMap;

use chrono::NaiveDate;
use sqlx::QueryBuilder;
use yuanjiang_domain::{Fen, FundTransaction, FundType, Project};

use crate::{ProjectFilter, Result, StatDimension, StoreError, Tx, on_tx};

/// The project attributes that are part of a roll-up key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Parts {
    pub supporter_code: String,
    pub recipient_code: String,
    pub prefecture_code: String,
    pub category: &'static str,
    pub grassroots: bool,
    pub livelihood: bool,
    pub published: bool,
}

impl Parts {
    pub fn of(project: &Project, prefecture_code: &str) -> Parts {
        Parts {
            supporter_code: project.supporter_code.clone(),
            recipient_code: project.recipient_code.clone(),
            prefecture_code: prefecture_code.to_owned(),
            category: project.category.key(),
            grassroots: project.grassroots,
            livelihood: project.livelihood,
            published: project.published,
        }
    }
}

type YearKey<'p> = (&'p Parts, i32, FundType);
type MonthKey<'p> = (&'p str, &'p str, bool, i32, i32, FundType);
/// A month roll-up key's text parts: supporter, prefecture, published.
type MonthGroup<'p> = (&'p str, &'p str, bool);
/// A month roll-up key's time parts: year, month, fund type.
type MonthOf = (i32, i32, FundType);

/// One key's changes: (amount, count) per year and per month.
#[derive(Debug, Default)]
struct PartsDelta {
    year: HashMap<(i32, FundType), (i64, i64)>,
    month: HashMap<MonthOf, (i64, i64)>,
}

impl PartsDelta {
    fn add(&mut self, date: NaiveDate, fund_type: FundType, amount: Fen, sign: i64) {
        use chrono::Datelike;
        let year = date.year();
        let month = i32::try_from(date.month()).unwrap_or(0);
        let y = self.year.entry((year, fund_type)).or_default();
        y.0 += sign * amount.0;
        y.1 += sign;
        let m = self.month.entry((year, month, fund_type)).or_default();
        m.0 += sign * amount.0;
        m.1 += sign;
    }

    fn merge(&mut self, other: PartsDelta) {
        for (k, (amount, n)) in other.year {
            let y = self.year.entry(k).or_default();
            y.0 += amount;
            y.1 += n;
        }
        for (k, (amount, n)) in other.month {
            let m = self.month.entry(k).or_default();
            m.0 += amount;
            m.1 += n;
        }
    }
}

/// The roll-up key parts of a project read or written in an import,
/// borrowed (not cloned: this runs once per row of a large import).
pub(crate) fn parts_of(parts: &HashMap<i64, Parts>, project_id: i64) -> Result<&Parts> {
    parts.get(&project_id).ok_or_else(|| StoreError::Corrupt {
        column: "projects.id",
        value: project_id.to_string(),
    })
}

/// What the roll-ups count of one transaction added, with its project's row id.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RollupRow {
    pub project_id: i64,
    pub fund_type: FundType,
    pub date: NaiveDate,
    pub amount: Fen,
}

/// Changes to apply to both roll-ups, by project key. Kept per key and
/// merged into the month roll-up's coarser keys only when applied: a
/// million-row import otherwise cloned five strings per row.
#[derive(Debug, Default)]
pub(crate) struct RollupDelta {
    by_parts: HashMap<Parts, PartsDelta>,
    removes: bool,
}

impl RollupDelta {
    /// Adds (`sign` = 1) or removes (`sign` = -1) one transaction.
    pub fn add(&mut self, parts: &Parts, t: &FundTransaction, sign: i64) {
        self.add_run(parts, std::iter::once(t), sign);
    }

    /// Adds (or removes) transactions that share one key: a project's
    /// rows cost one key lookup, not one each.
    pub fn add_run<'t>(
        &mut self,
        parts: &Parts,
        txns: impl Iterator<Item = &'t FundTransaction>,
        sign: i64,
    ) {
        let Some(delta) = self.delta_of(parts) else {
            return;
        };
        for t in txns {
            delta.add(t.date, t.fund_type, t.amount, sign);
        }
        self.removes |= sign < 0;
    }

    /// Adds rows given with their projects' row ids, whose key parts
    /// `parts` holds; a project's rows come together (one lookup a run).
    pub fn add_rows(&mut self, parts: &HashMap<i64, Parts>, rows: &[RollupRow]) -> Result<()> {
        for run in rows.chunk_by(|a, b| a.project_id == b.project_id) {
            let Some(first) = run.first() else {
                continue;
            };
            let key = parts_of(parts, first.project_id)?;
            if let Some(delta) = self.delta_of(key) {
                for r in run {
                    delta.add(r.date, r.fund_type, r.amount, 1);
                }
            }
        }
        Ok(())
    }

    /// The changes kept for one key, added if new. The key is cloned only
    /// when it is new: `entry` would clone it on every call.
    fn delta_of(&mut self, parts: &Parts) -> Option<&mut PartsDelta> {
        if !self.by_parts.contains_key(parts) {
            self.by_parts.insert(parts.clone(), PartsDelta::default());
        }
        self.by_parts.get_mut(parts)
    }

    /// Adds another delta's changes to this one's.
    pub fn merge(&mut self, other: RollupDelta) {
        for (parts, delta) in other.by_parts {
            self.by_parts.entry(parts).or_default().merge(delta);
        }
        self.removes |= other.removes;
    }

    /// Moves a project's transactions from one key to another (when a
    /// project's supporter, recipient, category, flags or publication change).
    pub fn reassign(&mut self, from: &Parts, to: &Parts, txns: &[FundTransaction]) {
        if from == to {
            return;
        }
        for t in txns {
            self.add(from, t, -1);
            self.add(to, t, 1);
        }
    }

    /// Writes the changes inside `tx`.
    pub async fn apply(self, tx: &mut Tx) -> Result<()> {
        // Keys borrow the parts: a large import has a hundred thousand of them.
        // Both lists go in primary-key order: each upsert lands beside the
        // last in the key's index instead of anywhere in it, and
        // PostgreSQL's writers take the rows' locks in one order. The keys'
        // text parts are sorted once and each one's few years and months
        // after (callgrind: sorting every row by its eight fields was a
        // third of the import task's instructions).
        let mut parts: Vec<(&Parts, &PartsDelta)> = self.by_parts.iter().collect();
        parts.sort_unstable_by_key(|(p, _)| {
            (
                p.supporter_code.as_str(),
                p.recipient_code.as_str(),
                p.category,
                p.grassroots,
                p.livelihood,
                p.published,
            )
        });
        let mut year: Vec<(YearKey<'_>, (i64, i64))> = Vec::new();
        // Ordered by their text parts as they are filled (a few hundred groups).
        let mut months: BTreeMap<MonthGroup<'_>, HashMap<MonthOf, (i64, i64)>> = BTreeMap::new();
        for &(parts, delta) in &parts {
            let group = months
                .entry((
                    parts.supporter_code.as_str(),
                    parts.prefecture_code.as_str(),
                    parts.published,
                ))
                .or_default();
            for (&key, &(amount, n)) in &delta.month {
                let m = group.entry(key).or_default();
                m.0 += amount;
                m.1 += n;
            }
            let first = year.len();
            year.extend(
                delta
                    .year
                    .iter()
                    .filter(|(_, v)| **v != (0, 0))
                    .map(|(&(y, fund_type), &v)| ((parts, y, fund_type), v)),
            );
            year[first..].sort_unstable_by_key(|&((_, y, fund_type), _)| (y, fund_type.key()));
        }
        let mut month: Vec<(MonthKey<'_>, (i64, i64))> = Vec::new();
        for ((supporter, prefecture, published), by_month) in months {
            let first = month.len();
            month.extend(by_month.into_iter().filter(|(_, v)| *v != (0, 0)).map(
                |((y, m, fund_type), v)| ((supporter, prefecture, published, y, m, fund_type), v),
            ));
            month[first..]
                .sort_unstable_by_key(|&((.., y, m, fund_type), _)| (y, m, fund_type.key()));
        }
        if year.is_empty() && month.is_empty() {
            return Ok(());
        }
        // Bound values, ROLLUP_ROWS a statement, on both backends: on SQLite
        // this replaced one JSON array a batch when callgrind of an import
        // showed SQLite's JSON functions taking a tenth of its writer thread.
        // Full statements and single rows (a form's write) stay prepared on
        // the connection; an import's tail of another length is not kept.
        let keep = |rows: usize| rows == ROLLUP_ROWS || rows == 1;
        on_tx!(*tx, t, Db => {
            sqlx::query("UPDATE data_version SET version = version + 1 WHERE id = 1")
                .execute(&mut **t)
                .await?;
            for chunk in year.chunks(ROLLUP_ROWS) {
                let mut qb = QueryBuilder::<Db>::new(
                    "INSERT INTO fund_rollup_year (supporter_code, recipient_code, prefecture_code, category, \
                     grassroots, livelihood, published, year, fund_type, amount, n) ",
                );
                qb.push_values(chunk, |mut b, ((parts, year, fund_type), (amount, n))| {
                    b.push_bind(parts.supporter_code.as_str())
                        .push_bind(parts.recipient_code.as_str())
                        .push_bind(parts.prefecture_code.as_str())
                        .push_bind(parts.category)
                        .push_bind(parts.grassroots)
                        .push_bind(parts.livelihood)
                        .push_bind(parts.published)
                        .push_bind(*year)
                        .push_bind(fund_type.key())
                        .push_bind(*amount)
                        .push_bind(*n);
                });
                qb.push(YEAR_CONFLICT);
                qb.build().persistent(keep(chunk.len())).execute(&mut **t).await?;
            }
            for chunk in month.chunks(ROLLUP_ROWS) {
                let mut qb = QueryBuilder::<Db>::new(
                    "INSERT INTO fund_rollup_month (supporter_code, prefecture_code, published, year, month, fund_type, amount, n) ",
                );
                qb.push_values(
                    chunk,
                    |mut b,
                     (
                        (supporter, prefecture, published, year, month, fund_type),
                        (amount, n),
                    )| {
                        b.push_bind(*supporter)
                            .push_bind(*prefecture)
                            .push_bind(*published)
                            .push_bind(*year)
                            .push_bind(*month)
                            .push_bind(fund_type.key())
                            .push_bind(*amount)
                            .push_bind(*n);
                    },
                );
                qb.push(MONTH_CONFLICT);
                qb.build().persistent(keep(chunk.len())).execute(&mut **t).await?;
            }
        });
        if self.removes {
            // Keys whose last transaction moved away would otherwise show as zero rows.
            on_tx!(*tx, t, Db => {
                sqlx::query("DELETE FROM fund_rollup_year WHERE n = 0").execute(&mut **t).await?;
                sqlx::query("DELETE FROM fund_rollup_month WHERE n = 0").execute(&mut **t).await?;
            });
        }
        Ok(())
    }
}

/// Roll-up rows per upsert: 11 parameters a row, under both backends' limits.
const ROLLUP_ROWS: usize = 500;

const YEAR_CONFLICT: &str = " ON CONFLICT (supporter_code, recipient_code, category, grassroots, livelihood, published, year, fund_type) \
     DO UPDATE SET amount = fund_rollup_year.amount + excluded.amount, n = fund_rollup_year.n + excluded.n";
const MONTH_CONFLICT: &str = " ON CONFLICT (supporter_code, prefecture_code, published, year, month, fund_type) \
     DO UPDATE SET amount = fund_rollup_month.amount + excluded.amount, n = fund_rollup_month.n + excluded.n";

/// Where a statistics query reads from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `fund_rollup_year`.
    Year,
    /// `fund_rollup_month`.
    Month,
    /// The transactions themselves.
    Raw,
}

impl Source {
    /// The smallest source that holds every column the query needs.
    pub fn for_query(filter: &ProjectFilter, by: &[StatDimension]) -> Source {
        // Filters no roll-up keeps.
        if filter.state.is_some()
            || filter.in_plan.is_some()
            || filter.continued.is_some()
            || filter.as_of.is_some()
        {
            return Source::Raw;
        }
        let needs_month = by.contains(&StatDimension::Month);
        if !needs_month {
            return Source::Year;
        }
        let month_covers = by.iter().all(|d| {
            matches!(
                d,
                StatDimension::Supporter
                    | StatDimension::Prefecture
                    | StatDimension::Year
                    | StatDimension::Month
            )
        }) && filter.recipient.is_none()
            && filter.category.is_none()
            && filter.grassroots.is_none()
            && filter.livelihood.is_none()
            && filter.xpcc.is_none()
            && !matches!(filter.scope, Some(crate::Scope::Recipient(_)));
        if month_covers {
            Source::Month
        } else {
            Source::Raw
        }
    }
}
