//! Evaluation from the database (综合效益评价): builds the standard indicator
//! table of units (supporters or prefectures) for a year, and keeps saved
//! runs with their frozen input table so that any run can be reproduced.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::FromRow;
use yuanjiang_domain::DomainError;

use crate::{Result, Store, on_pool};

/// What the units of an evaluation are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvaluationUnit {
    /// Each supporter (支援方).
    Supporter,
    /// Each prefecture or XPCC division (受援地州/师).
    Prefecture,
}

impl EvaluationUnit {
    /// Parses `supporter` or `prefecture`.
    pub fn parse(s: &str) -> Result<EvaluationUnit, DomainError> {
        match s.trim() {
            "supporter" => Ok(EvaluationUnit::Supporter),
            "prefecture" => Ok(EvaluationUnit::Prefecture),
            other => Err(DomainError::new(
                "invalid_evaluation_unit",
                format!("评价单元“{other}”无效，可选：supporter、prefecture"),
                format!("evaluation unit \"{other}\" is invalid; expected supporter or prefecture"),
            )),
        }
    }

    fn column(self) -> &'static str {
        match self {
            EvaluationUnit::Supporter => "supporter_code",
            EvaluationUnit::Prefecture => "prefecture_code",
        }
    }
}

/// The indicator system, in column order: inputs first, then outputs.
/// Each output sums the projects' reported values for the year (values are
/// cumulative per project, as reported).
pub const INDICATOR_SYSTEM: [(&str, &str); 8] = [
    (
        "funds_arrived_wan",
        "input: transfers to Xinjiang in the year, 万元",
    ),
    ("projects", "input: projects of the plan year"),
    (
        "cadre_person_years",
        "input: cadre and talent person-years served in the year",
    ),
    ("jobs", "output: 新增就业岗位 (人)"),
    ("school_places", "output: 新增学位 (个)"),
    ("hospital_beds", "output: 新增床位 (张)"),
    ("housing_units", "output: 安居房 (套)"),
    ("people_trained", "output: 培训人次 (人次)"),
];

const OUTPUT_INDICATORS: [&str; 5] = ["新增就业岗位", "新增学位", "新增床位", "安居房", "培训人次"];

/// A saved evaluation run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct EvaluationRun {
    /// Run id.
    pub id: i64,
    /// When it was run.
    pub created_at: DateTime<Utc>,
    /// Who ran it.
    pub actor: String,
    /// Method key.
    pub method: String,
    /// Parameters as JSON.
    pub params_json: String,
    /// The frozen input table (units CSV).
    pub snapshot: String,
    /// The result as JSON.
    pub result_json: String,
}

impl Store {
    /// The units CSV (`unit,<indicator>,…`) for `year`, one row per unit with
    /// any activity, in unit order. Deterministic for the same data.
    pub async fn evaluation_table(&self, unit: EvaluationUnit, year: i32) -> Result<String> {
        let col = unit.column();
        let mut rows: BTreeMap<String, [f64; 8]> = BTreeMap::new();
        let funds: Vec<(String, i64)> = on_pool!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {col}, CAST(SUM(amount) AS BIGINT) FROM fund_rollup_year \
                 WHERE year = $1 AND fund_type = 'transfer' GROUP BY {col}"
            )))
            .bind(year)
            .fetch_all(p)
            .await?
        });
        for (u, fen) in funds {
            // 万元 = 1,000,000 fen; the evaluation works in floats by nature.
            rows.entry(u).or_default()[0] = fen as f64 / 1_000_000.0;
        }
        let projects: Vec<(String, i64)> = on_pool!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {col}, COUNT(*) FROM projects WHERE year = $1 GROUP BY {col}"
            )))
            .bind(year)
            .fetch_all(p)
            .await?
        });
        for (u, n) in projects {
            rows.entry(u).or_default()[1] = n as f64;
        }
        let start = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MIN);
        let end = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(NaiveDate::MAX);
        // People belong to the supporter that sends them, or to the
        // prefecture of the unit that hosts them.
        let people_sql = match unit {
            EvaluationUnit::Supporter => {
                "SELECT a.supporter_code, a.arrival_date, a.return_date FROM assignments a \
                 WHERE a.arrival_date <= $1 AND a.return_date >= $2"
            }
            EvaluationUnit::Prefecture => {
                "SELECT r.prefecture_code, a.arrival_date, a.return_date FROM assignments a \
                 JOIN recipients r ON r.code = a.recipient_code \
                 WHERE a.arrival_date <= $1 AND a.return_date >= $2 AND r.prefecture_code IS NOT NULL"
            }
        };
        let people: Vec<(String, NaiveDate, NaiveDate)> = on_pool!(self, p => {
            sqlx::query_as(people_sql).bind(end).bind(start).fetch_all(p).await?
        });
        for (u, arrival, ret) in people {
            let from = arrival.max(start);
            let to = ret.min(end);
            let days = (to - from).num_days().max(0);
            rows.entry(u).or_default()[2] += days as f64 / 365.0;
        }
        let outputs: Vec<(String, String, f64)> = on_pool!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT p.{col}, i.name, SUM(v.actual) FROM indicator_values v \
                 JOIN indicators i ON i.id = v.indicator_id JOIN projects p ON p.id = i.project_id \
                 WHERE v.period = $1 AND i.name IN ('新增就业岗位', '新增学位', '新增床位', '安居房', '培训人次') \
                 GROUP BY p.{col}, i.name"
            )))
            .bind(year.to_string())
            .fetch_all(p)
            .await?
        });
        for (u, name, value) in outputs {
            if let Some(i) = OUTPUT_INDICATORS.iter().position(|n| *n == name) {
                rows.entry(u).or_default()[3 + i] = value;
            }
        }
        let mut csv = String::from("unit");
        for (name, _) in INDICATOR_SYSTEM {
            csv.push(',');
            csv.push_str(name);
        }
        csv.push('\n');
        for (u, values) in rows {
            csv.push_str(&u);
            for v in values {
                // Six decimals: enough for person-years, stable across backends.
                let _ = write!(csv, ",{v:.6}");
            }
            csv.push('\n');
        }
        Ok(csv)
    }

    /// Saves a run and returns its id.
    pub async fn save_evaluation(
        &self,
        actor: &str,
        method: &str,
        params_json: &str,
        snapshot: &str,
        result_json: &str,
    ) -> Result<i64> {
        let id: i64 = on_pool!(self, p => {
            sqlx::query_scalar(
                "INSERT INTO evaluation_runs (created_at, actor, method, params_json, snapshot, result_json) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(Utc::now())
            .bind(actor)
            .bind(method)
            .bind(params_json)
            .bind(snapshot)
            .bind(result_json)
            .fetch_one(p)
            .await?
        });
        Ok(id)
    }

    /// The latest saved runs, newest first.
    pub async fn evaluation_runs(&self, limit: u32) -> Result<Vec<EvaluationRun>> {
        let runs: Vec<EvaluationRun> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT id, created_at, actor, method, params_json, snapshot, result_json \
                 FROM evaluation_runs ORDER BY id DESC LIMIT $1",
            )
            .bind(i64::from(limit.clamp(1, 500)))
            .fetch_all(p)
            .await?
        });
        Ok(runs)
    }

    /// A saved run.
    pub async fn evaluation_run(&self, id: i64) -> Result<Option<EvaluationRun>> {
        let run: Option<EvaluationRun> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT id, created_at, actor, method, params_json, snapshot, result_json \
                 FROM evaluation_runs WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(p)
            .await?
        });
        Ok(run)
    }
}
