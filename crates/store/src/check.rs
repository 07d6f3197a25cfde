//! `yuanjiang check`: recomputes what must hold in the stored data and
//! reports every breach. The fund chain of every project is replayed.

use serde::Serialize;
use sqlx::FromRow;
use yuanjiang_domain::{Fen, FundChain, FundTransaction, FundType};

use crate::parties::key;
use crate::{Result, Store, on_pool};

/// A project whose stored transactions break the fund chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainBreak {
    /// Project code.
    pub project_code: String,
    /// Stable error code.
    pub code: &'static str,
    /// Message in zh-CN.
    pub zh: String,
    /// Message in English.
    pub en: String,
}

/// The result of a check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// Projects checked.
    pub projects: i64,
    /// Transactions replayed.
    pub transactions: i64,
    /// Sum of all transaction amounts, in fen.
    pub total_amount: i64,
    /// Projects whose chain is broken.
    pub chain_breaks: Vec<ChainBreak>,
    /// Projects whose state is not one of their kind's states, or whose
    /// history does not end in their state.
    pub state_mismatches: Vec<String>,
    /// Backend-specific integrity check result (`ok` when sound).
    pub integrity: String,
    /// Roll-up rows that differ from a recomputation from the transactions
    /// (counted both ways: missing, extra or different).
    pub rollup_mismatches: i64,
}

impl CheckReport {
    /// Whether nothing is wrong.
    pub fn is_clean(&self) -> bool {
        self.chain_breaks.is_empty()
            && self.state_mismatches.is_empty()
            && self.integrity == "ok"
            && self.rollup_mismatches == 0
    }
}

#[derive(FromRow)]
struct ChainRecord {
    project_id: i64,
    code: String,
    aid_funds: i64,
    fund_type: String,
    amount: i64,
    date: chrono::NaiveDate,
}

/// The year roll-up recomputed from the transactions.
const YEAR_FROM_RAW: &str = "SELECT p.supporter_code, p.recipient_code, p.prefecture_code, p.category, \
     p.grassroots, p.livelihood, p.published, t.year, t.fund_type, CAST(SUM(t.amount) AS BIGINT), COUNT(*) \
     FROM fund_transactions t JOIN projects p ON p.id = t.project_id \
     GROUP BY p.supporter_code, p.recipient_code, p.prefecture_code, p.category, p.grassroots, \
     p.livelihood, p.published, t.year, t.fund_type";
const YEAR_STORED: &str = "SELECT supporter_code, recipient_code, prefecture_code, category, grassroots, \
     livelihood, published, year, fund_type, amount, n FROM fund_rollup_year";
/// The month roll-up recomputed from the transactions.
const MONTH_FROM_RAW: &str = "SELECT p.supporter_code, p.prefecture_code, p.published, t.year, t.month, \
     t.fund_type, CAST(SUM(t.amount) AS BIGINT), COUNT(*) \
     FROM fund_transactions t JOIN projects p ON p.id = t.project_id \
     GROUP BY p.supporter_code, p.prefecture_code, p.published, t.year, t.month, t.fund_type";
const MONTH_STORED: &str = "SELECT supporter_code, prefecture_code, published, year, month, fund_type, amount, n \
     FROM fund_rollup_month";

impl Store {
    /// Rows that differ between the roll-ups and their recomputation.
    pub async fn rollup_mismatches(&self) -> Result<i64> {
        let mut total = 0i64;
        for (a, b) in [
            (YEAR_FROM_RAW, YEAR_STORED),
            (YEAR_STORED, YEAR_FROM_RAW),
            (MONTH_FROM_RAW, MONTH_STORED),
            (MONTH_STORED, MONTH_FROM_RAW),
        ] {
            let sql = format!("SELECT COUNT(*) FROM ({a} EXCEPT {b}) AS d");
            let n: i64 = on_pool!(self, p => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(p).await?
            });
            total += n;
        }
        Ok(total)
    }

    /// Checks database integrity, every project's fund chain and state history.
    pub async fn check(&self) -> Result<CheckReport> {
        let integrity: String = match &self.pool {
            crate::Pool::Sqlite(p) => {
                let pages: String = sqlx::query_scalar("PRAGMA integrity_check")
                    .fetch_one(p)
                    .await?;
                // An import's rows written ahead skip SQLite's per-row look-up
                // (`Store::unchecked_writer`): this proves it was not needed.
                // Damaged pages are reported as they are, without a scan.
                if pages != "ok" {
                    pages
                } else {
                    let orphans: Vec<(String, i64, String)> = sqlx::query_as(
                        "SELECT \"table\", rowid, parent FROM pragma_foreign_key_check",
                    )
                    .fetch_all(p)
                    .await?;
                    match orphans.first() {
                        None => pages,
                        Some((table, rowid, parent)) => format!(
                            "{} rows refer to missing parents (first: {table} row {rowid}, in {parent})",
                            orphans.len()
                        ),
                    }
                }
            }
            // PostgreSQL checks pages itself; foreign keys and checks are enforced on write.
            crate::Pool::Postgres(p) => sqlx::query_scalar("SELECT 'ok'").fetch_one(p).await?,
        };
        let projects: i64 = on_pool!(self, p => {
            sqlx::query_scalar("SELECT COUNT(*) FROM projects").fetch_one(p).await?
        });
        // One ordered pass over all transactions, replaying each project's chain.
        let records: Vec<ChainRecord> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT t.project_id, p.code, p.aid_funds, t.fund_type, t.amount, t.date \
                 FROM fund_transactions t JOIN projects p ON p.id = t.project_id \
                 ORDER BY t.project_id, t.date, t.id",
            )
            .fetch_all(p)
            .await?
        });
        let mut report = CheckReport {
            projects,
            transactions: i64::try_from(records.len()).unwrap_or(i64::MAX),
            total_amount: 0,
            chain_breaks: Vec::new(),
            state_mismatches: Vec::new(),
            integrity,
            rollup_mismatches: 0,
        };
        let mut start = 0;
        while start < records.len() {
            let id = records[start].project_id;
            let end = records[start..]
                .iter()
                .position(|r| r.project_id != id)
                .map_or(records.len(), |n| start + n);
            let group = &records[start..end];
            let mut txns = Vec::with_capacity(group.len());
            for r in group {
                report.total_amount += r.amount;
                txns.push(FundTransaction {
                    project_code: r.code.clone(),
                    fund_type: key("fund_transactions.fund_type", &r.fund_type, FundType::parse)?,
                    amount: Fen(r.amount),
                    date: r.date,
                    document_no: String::new(),
                    note: String::new(),
                });
            }
            if let Err((_, e)) = FundChain::replay(&txns, Fen(group[0].aid_funds)) {
                report.chain_breaks.push(ChainBreak {
                    project_code: group[0].code.clone(),
                    code: e.code,
                    zh: e.zh,
                    en: e.en,
                });
            }
            start = end;
        }
        let mismatched: Vec<String> = on_pool!(self, p => {
            sqlx::query_scalar(
                "SELECT p.code FROM projects p WHERE p.state <> COALESCE(\
                 (SELECT s.to_state FROM project_states s WHERE s.project_id = p.id ORDER BY s.id DESC LIMIT 1), p.state) \
                 ORDER BY p.code",
            )
            .fetch_all(p)
            .await?
        });
        report.state_mismatches = mismatched;
        report.rollup_mismatches = self.rollup_mismatches().await?;
        Ok(report)
    }
}
