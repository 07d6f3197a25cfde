//! Fund statistics: the fund chain summed over any combination of
//! dimensions. Every figure is a plain integer sum of transactions, so the
//! totals equal the transactions they come from, to the fen.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::Row;
use yuanjiang_domain::{DomainError, Fen, FundChain, FundType};

use crate::parties::key;
use crate::sql::{Sql, bind_params};
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

    fn column(self) -> &'static str {
        match self {
            StatDimension::Supporter => "p.supporter_code",
            StatDimension::Prefecture => "p.prefecture_code",
            StatDimension::Recipient => "p.recipient_code",
            StatDimension::Category => "p.category",
            StatDimension::Year => "CAST(t.year AS TEXT)",
            StatDimension::Month => "CAST(t.month AS TEXT)",
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
        let dims: Vec<String> = by
            .iter()
            .enumerate()
            .map(|(i, d)| format!("{} AS d{i}", d.column()))
            .collect();
        let group: Vec<String> = (0..by.len()).map(|i| format!("d{i}")).collect();
        let mut sql = Sql::new(&format!(
            "SELECT {}t.fund_type, CAST(SUM(t.amount) AS BIGINT) AS total, COUNT(*) AS n \
             FROM fund_transactions t JOIN projects p ON p.id = t.project_id WHERE 1 = 1",
            dims.iter().map(|d| format!("{d}, ")).collect::<String>()
        ));
        filter.push_conditions(&mut sql, "t.year");
        sql.push(&format!(
            " GROUP BY {}t.fund_type",
            group.iter().map(|g| format!("{g}, ")).collect::<String>()
        ));
        let raw: Vec<(Vec<String>, String, i64, i64)> = on_pool!(self, p => {
            let rows = bind_params!(sqlx::query(sql.text()), &sql.params).fetch_all(p).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let mut values = Vec::with_capacity(by.len());
                for i in 0..by.len() {
                    values.push(row.try_get::<String, _>(i)?);
                }
                out.push((values, row.try_get::<String, _>(by.len())?, row.try_get::<i64, _>(by.len() + 1)?, row.try_get::<i64, _>(by.len() + 2)?));
            }
            out
        });
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
