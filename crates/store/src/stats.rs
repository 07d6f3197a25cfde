//! Fund statistics: the fund chain summed over any combination of
//! dimensions. Every figure is a plain integer sum of transactions, so the
//! totals equal the transactions they come from, to the fen.

use std::collections::BTreeMap;

use serde::Serialize;
use yuanjiang_domain::{DomainError, Fen, FundChain, FundType};

use crate::parties::key;
use crate::rollup::Source;
use crate::sql::{Param, Sql, bind_params};
use crate::{ProjectFilter, Result, Store, on_pool};

/// A dimension that fund figures can be cut by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatDimension {
    /// The supporter.
    Supporter,
    /// The prefecture or XPCC division the project rolls up to.
    Prefecture,
    /// The project's recipient unit (prefecture, county or XPCC division).
    Recipient,
    /// The project category.
    Category,
    /// The transaction's year.
    Year,
    /// The transaction's month (1–12).
    Month,
}

impl StatDimension {
    /// Every dimension.
    pub const ALL: [StatDimension; 6] = [
        StatDimension::Supporter,
        StatDimension::Prefecture,
        StatDimension::Recipient,
        StatDimension::Category,
        StatDimension::Year,
        StatDimension::Month,
    ];

    /// The name used in `?by=`.
    pub fn key(self) -> &'static str {
        match self {
            StatDimension::Supporter => "supporter",
            StatDimension::Prefecture => "prefecture",
            StatDimension::Recipient => "recipient",
            StatDimension::Category => "category",
            StatDimension::Year => "year",
            StatDimension::Month => "month",
        }
    }

    /// Parses a name used in `?by=`.
    pub fn parse(s: &str) -> Result<StatDimension, DomainError> {
        StatDimension::ALL
            .into_iter()
            .find(|d| d.key() == s.trim())
            .ok_or_else(|| {
                let keys: Vec<&str> = StatDimension::ALL.iter().map(|d| d.key()).collect();
                DomainError::new(
                    "invalid_dimension",
                    format!("统计维度“{s}”无效，可选：{}", keys.join("、")),
                    format!(
                        "dimension \"{s}\" is invalid; expected one of: {}",
                        keys.join(", ")
                    ),
                )
            })
    }

    /// The column in `source` to group by; roll-ups are aliased `p` like
    /// projects.
    fn group_column(self, source: Source) -> &'static str {
        match (self, source) {
            (StatDimension::Supporter, _) => "p.supporter_code",
            (StatDimension::Prefecture, _) => "p.prefecture_code",
            (StatDimension::Recipient, _) => "p.recipient_code",
            (StatDimension::Category, _) => "p.category",
            (StatDimension::Year, Source::Raw) => "t.year",
            (StatDimension::Year, _) => "p.year",
            (StatDimension::Month, Source::Raw) => "t.month",
            (StatDimension::Month, _) => "p.month",
        }
    }

    /// The column in `source` as text, as the answer's keys are.
    fn column(self, source: Source) -> String {
        let column = self.group_column(source);
        match self {
            StatDimension::Year | StatDimension::Month => format!("CAST({column} AS TEXT)"),
            _ => column.to_owned(),
        }
    }
}

/// The fund chain of one combination of dimension values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FundStatRow {
    /// The dimension values, in the order asked for.
    pub key: Vec<(StatDimension, String)>,
    /// The summed chain.
    pub chain: FundChain,
    /// How many transactions were summed.
    pub transactions: i64,
}

impl Store {
    /// The fund chain by the given dimensions, over projects matching
    /// `filter` (whose `year` applies to the transaction year). With no
    /// dimensions, one row holds the grand total.
    pub async fn fund_stats(
        &self,
        filter: &ProjectFilter,
        by: &[StatDimension],
    ) -> Result<Vec<FundStatRow>> {
        // Figures are cached per query until the data version moves on;
        // reading the version is one indexed row, shared by all app nodes.
        let version = self.data_version().await?;
        let key = format!("{filter:?}|{by:?}");
        if let Some(rows) = self.stats_cache.get(&key, version) {
            return Ok(rows);
        }
        let rows = self
            .fund_stats_from(Source::for_query(filter, by), filter, by)
            .await?;
        self.stats_cache.put(key, version, rows.clone());
        Ok(rows)
    }

    /// The data version: moves on with every change to the fund figures.
    pub async fn data_version(&self) -> Result<i64> {
        let version: i64 = on_pool!(self, p => {
            sqlx::query_scalar("SELECT version FROM data_version WHERE id = 1").fetch_one(p).await?
        });
        Ok(version)
    }

    /// The write version: the number of the newest audit entry. Every write
    /// appends one in its own transaction, so a response built at this
    /// version stays right until it moves on, on every node sharing the
    /// database.
    pub async fn write_version(&self) -> Result<i64> {
        let version: i64 = on_pool!(self, p => {
            sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM audit_log").fetch_one(p).await?
        });
        Ok(version)
    }

    /// [`Store::fund_stats`] from a given source; `check` and tests compare sources.
    pub async fn fund_stats_from(
        &self,
        source: Source,
        filter: &ProjectFilter,
        by: &[StatDimension],
    ) -> Result<Vec<FundStatRow>> {
        let dims: String = by
            .iter()
            .enumerate()
            .map(|(i, d)| format!("{} AS d{i}, ", d.column(source)))
            .collect();
        // Grouped by the columns themselves, not the text they are shown
        // as, so that an index in the same order spares the sort.
        let group: String = by
            .iter()
            .map(|d| format!("{}, ", d.group_column(source)))
            .collect();
        let (from, fund_type, sums, year) = match source {
            Source::Raw => (
                "fund_transactions t JOIN projects p ON p.id = t.project_id",
                "t.fund_type",
                "CAST(SUM(t.amount) AS BIGINT) AS total, COUNT(*) AS n",
                "t.year",
            ),
            Source::Year => (
                "fund_rollup_year p",
                "p.fund_type",
                "CAST(SUM(p.amount) AS BIGINT) AS total, CAST(SUM(p.n) AS BIGINT) AS n",
                "p.year",
            ),
            Source::Month => (
                "fund_rollup_month p",
                "p.fund_type",
                "CAST(SUM(p.amount) AS BIGINT) AS total, CAST(SUM(p.n) AS BIGINT) AS n",
                "p.year",
            ),
        };
        let mut sql = Sql::new(&format!(
            "SELECT {dims}{fund_type} AS fund_type, {sums} FROM {from} WHERE 1 = 1"
        ));
        filter.push_conditions(&mut sql, year);
        if let (Some(day), Source::Raw) = (filter.as_of, source) {
            let n = sql.param(Param::Text(day.format("%Y-%m-%d").to_string()));
            // Dates compare as ISO text on SQLite; PostgreSQL casts the text.
            sql.push(&match self.backend() {
                crate::Backend::Sqlite => format!(" AND t.date <= {n}"),
                crate::Backend::Postgres => format!(" AND t.date <= CAST({n} AS DATE)"),
            });
        }
        sql.push(&format!(" GROUP BY {group}{fund_type}"));
        // The groups come back as one JSON array in one row: row by row,
        // each of a year's 1,500 groups was a hand-off between the SQLite
        // worker thread and the runtime, which cost more than the query.
        let cells: String = (0..by.len())
            .map(|i| format!("q.d{i}, "))
            .chain(["q.fund_type, q.total, q.n".to_owned()])
            .collect();
        let sql = match self.backend() {
            crate::Backend::Sqlite => sql.wrap(
                &format!("SELECT json_group_array(json_array({cells})) FROM ("),
                ") q",
            ),
            crate::Backend::Postgres => sql.wrap(
                &format!(
                    "SELECT COALESCE(json_agg(json_build_array({cells})), '[]'::json)::text FROM ("
                ),
                ") q",
            ),
        };
        let json: String = on_pool!(self, p => {
            bind_params!(sqlx::query_scalar(sql.text()), &sql.params).fetch_one(p).await?
        });
        let raw = groups(&json, by.len())?;
        let mut grouped: BTreeMap<Vec<String>, (FundChain, i64)> = BTreeMap::new();
        for (values, fund_type, total, n) in raw {
            let entry = grouped.entry(values).or_default();
            let fund_type = key("fund_transactions.fund_type", &fund_type, FundType::parse)?;
            *entry.0.total_mut(fund_type) = Fen(total);
            entry.1 += n;
        }
        if grouped.is_empty() && by.is_empty() {
            grouped.insert(Vec::new(), (FundChain::default(), 0));
        }
        Ok(grouped
            .into_iter()
            .map(|(values, (chain, transactions))| FundStatRow {
                key: by.iter().copied().zip(values).collect(),
                chain,
                transactions,
            })
            .collect())
    }
}

/// A cell of an aggregated group: a dimension value or fund type, or a sum.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum GroupCell {
    Sum(i64),
    Text(String),
}

/// One aggregated group: dimension values, fund type, total fen, transactions.
type Group = (Vec<String>, String, i64, i64);

/// The groups of [`Store::fund_stats_from`] from their JSON array: each
/// `[d0, …, fund_type, total, n]`.
fn groups(json: &str, dims: usize) -> Result<Vec<Group>> {
    let bad = |what: &str| crate::StoreError::Corrupt {
        column: "fund statistics (aggregated groups)",
        value: what.to_owned(),
    };
    let rows: Vec<Vec<GroupCell>> = serde_json::from_str(json).map_err(|e| bad(&e.to_string()))?;
    rows.into_iter()
        .map(|row| {
            let mut cells = row.into_iter();
            let text = |cells: &mut std::vec::IntoIter<GroupCell>| match cells.next() {
                Some(GroupCell::Text(t)) => Ok(t),
                _ => Err(bad("a text cell missing")),
            };
            let values = (0..dims)
                .map(|_| text(&mut cells))
                .collect::<Result<Vec<String>>>()?;
            let fund_type = text(&mut cells)?;
            match (cells.next(), cells.next()) {
                (Some(GroupCell::Sum(total)), Some(GroupCell::Sum(n))) => {
                    Ok((values, fund_type, total, n))
                }
                _ => Err(bad("a sum missing")),
            }
        })
        .collect()
}

/// Cached answers by query, each with the data version it was computed at.
type CachedAnswers = std::collections::HashMap<String, (i64, Vec<FundStatRow>)>;

/// Answers of recent statistics queries, valid for one data version.
#[derive(Clone, Default)]
pub(crate) struct StatsCache {
    entries: std::sync::Arc<std::sync::RwLock<CachedAnswers>>,
}

/// Distinct queries kept before the cache starts afresh.
const STATS_CACHE_ENTRIES: usize = 512;

impl StatsCache {
    fn get(&self, key: &str, version: i64) -> Option<Vec<FundStatRow>> {
        let entries = self.entries.read().ok()?;
        entries
            .get(key)
            .filter(|(v, _)| *v == version)
            .map(|(_, rows)| rows.clone())
    }

    fn put(&self, key: String, version: i64, rows: Vec<FundStatRow>) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= STATS_CACHE_ENTRIES {
                entries.clear();
            }
            entries.insert(key, (version, rows));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::groups;

    #[test]
    fn groups_read_back_from_their_json_and_refuse_a_broken_one() {
        let json =
            r#"[["31","education","payment",9823915945000,8],["44","health","transfer",1,1]]"#;
        let rows = groups(json, 2).expect("groups");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].0, ["31", "education"]);
        assert_eq!(rows[0].1, "payment");
        assert_eq!((rows[0].2, rows[0].3), (9_823_915_945_000, 8));
        assert_eq!(groups("[]", 3).expect("none"), []);
        // A sum where a dimension should be, a missing count, not JSON.
        assert!(groups(r#"[[31,"payment",1,1]]"#, 1).is_err());
        assert!(groups(r#"[["31","payment",1]]"#, 1).is_err());
        assert!(groups("not json", 1).is_err());
    }
}
