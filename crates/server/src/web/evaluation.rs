//! `/evaluation` 综合效益评价: evaluates the database's indicator table for a
//! year (entropy, TOPSIS, entropy-TOPSIS, DEA) and shows saved runs: the
//! ranking, the weights and a chart. For the region, auditors and administrators.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde_json::Value;
use yuanjiang_analytics::{EvaluationRequest, EvaluationResult, Method, evaluate, parse_units};
use yuanjiang_store::EvaluationUnit;

use super::charts::{self, Bar};
use super::{Chrome, Ctx, WebError, render};
use crate::AppState;

/// DEA's inputs and outputs in the standard indicator system.
const DEA_INPUTS: [&str; 3] = ["funds_arrived_wan", "projects", "cadre_person_years"];
const DEA_OUTPUTS: [&str; 5] = [
    "jobs",
    "school_places",
    "hospital_beds",
    "housing_units",
    "people_trained",
];

/// One ranked unit as shown.
pub struct RankRow {
    /// Rank, 1 best.
    pub rank: String,
    /// Unit name.
    pub unit: String,
    /// Score or efficiency, six places.
    pub score: String,
}

/// A result as shown.
pub struct Shown {
    /// What was evaluated.
    pub title: String,
    /// Indicator weights (empty for DEA).
    pub weights: Vec<(String, String)>,
    /// The ranking.
    pub rows: Vec<RankRow>,
    /// Bar chart of the scores.
    pub chart: String,
}

/// A saved run in the list.
pub struct RunLink {
    /// Run id.
    pub id: i64,
    /// Method and when.
    pub label: String,
}

#[derive(Template)]
#[template(path = "evaluation.html")]
struct EvaluationPage {
    c: Chrome,
    runs: Vec<RunLink>,
    shown: Option<Shown>,
    error: Option<String>,
    year: String,
    unit: String,
    method: String,
    methods: Vec<&'static str>,
}

/// Turns a result (as JSON) into rows, weights and a chart.
fn show(title: String, result: &Value, names: &HashMap<String, String>) -> Shown {
    let name = |code: &str| names.get(code).cloned().unwrap_or_else(|| code.to_owned());
    let weights = result["weights"]
        .as_object()
        .map(|w| {
            w.iter()
                .map(|(k, v)| (k.clone(), format!("{:.4}", v.as_f64().unwrap_or(0.0))))
                .collect()
        })
        .unwrap_or_default();
    let dea = result["method"]
        .as_str()
        .is_some_and(|m| m.starts_with("dea"));
    let mut units: Vec<(String, f64, String)> = result["units"]
        .as_array()
        .map(|u| {
            u.iter()
                .map(|x| {
                    let score = if dea {
                        x["efficiency"].as_f64()
                    } else {
                        x["score"].as_f64()
                    }
                    .unwrap_or(0.0);
                    let rank = x["rank"]
                        .as_u64()
                        .map_or_else(String::new, |r| r.to_string());
                    (name(x["unit"].as_str().unwrap_or("")), score, rank)
                })
                .collect()
        })
        .unwrap_or_default();
    units.sort_by(|a, b| b.1.total_cmp(&a.1));
    let bars: Vec<Bar> = units
        .iter()
        .map(|(u, s, _)| Bar {
            label: u.clone(),
            // Scores lie in [0, 1]; the chart scales integers, so use millionths.
            value: (s * 1_000_000.0).round() as i64,
            text: format!("{s:.4}"),
            tooltip: format!("{u}：{s:.6}"),
        })
        .collect();
    let chart = charts::bars("chart-evaluation", &title, &bars);
    let rows = units
        .into_iter()
        .enumerate()
        .map(|(i, (unit, s, rank))| RankRow {
            rank: if rank.is_empty() {
                (i + 1).to_string()
            } else {
                rank
            },
            unit,
            score: format!("{s:.6}"),
        })
        .collect();
    Shown {
        title,
        weights,
        rows,
        chart,
    }
}

/// `GET /evaluation?year=&unit=&method=` or `?run=ID`.
pub async fn evaluation(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let result = async {
        if !ctx.viewer.sees_whole_programme() {
            return Err(WebError::not_found());
        }
        let lang = ctx.lang;
        let year = params.get("year").cloned().unwrap_or_else(|| "2024".into());
        let unit = params
            .get("unit")
            .cloned()
            .unwrap_or_else(|| "supporter".into());
        let method = params
            .get("method")
            .cloned()
            .unwrap_or_else(|| "entropy-topsis".into());
        let mut names: HashMap<String, String> = HashMap::new();
        for s in state.store.supporters().await? {
            names.insert(s.code, lang.pick(&s.name, &s.name_en).to_owned());
        }
        for r in state.store.recipients(false).await? {
            names.insert(r.code, r.name);
        }
        let (mut shown, mut error) = (None, None);
        if let Some(id) = params.get("run").and_then(|v| v.parse::<i64>().ok()) {
            let run = state
                .store
                .evaluation_run(id)
                .await?
                .ok_or_else(WebError::not_found)?;
            let value: Value = serde_json::from_str(&run.result_json).unwrap_or(Value::Null);
            shown = Some(show(
                format!(
                    "#{} {} · {}",
                    run.id,
                    run.method,
                    run.created_at.format("%Y-%m-%d %H:%M")
                ),
                &value,
                &names,
            ));
        } else if params.contains_key("year") {
            let computed = async {
                let y: i32 = year
                    .parse()
                    .map_err(|_| lang.pick("年份无效", "invalid year").to_owned())?;
                let u =
                    EvaluationUnit::parse(&unit).map_err(|e| lang.pick(&e.zh, &e.en).to_owned())?;
                let table = state
                    .store
                    .evaluation_table(u, y)
                    .await
                    .map_err(|e| e.to_string())?;
                let m =
                    Method::parse(&method).map_err(|e| lang.pick(&e.zh(), &e.en()).to_owned())?;
                let mut request = EvaluationRequest::new(m);
                if matches!(m, Method::DeaCcr | Method::DeaBcc) {
                    request.inputs = DEA_INPUTS.iter().map(|s| (*s).to_owned()).collect();
                    request.outputs = DEA_OUTPUTS.iter().map(|s| (*s).to_owned()).collect();
                } else {
                    request.cost = vec!["funds_arrived_wan".into()];
                }
                let parsed =
                    parse_units(&table).map_err(|e| lang.pick(&e.zh(), &e.en()).to_owned())?;
                let result: EvaluationResult = evaluate(&parsed, &request)
                    .map_err(|e| lang.pick(&e.zh(), &e.en()).to_owned())?;
                serde_json::to_value(&result).map_err(|e| e.to_string())
            }
            .await;
            match computed {
                Ok(value) => {
                    shown = Some(show(format!("{year} · {unit} · {method}"), &value, &names))
                }
                Err(message) => error = Some(message),
            }
        }
        let runs = state
            .store
            .evaluation_runs(50)
            .await?
            .into_iter()
            .map(|r| RunLink {
                id: r.id,
                label: format!(
                    "{} · {} · {}",
                    r.method,
                    r.actor,
                    r.created_at.format("%Y-%m-%d %H:%M")
                ),
            })
            .collect();
        render(&EvaluationPage {
            c: Chrome::new(
                &ctx,
                "/evaluation",
                lang.pick("综合效益评价", "Comprehensive-benefit evaluation"),
            ),
            runs,
            shown,
            error,
            year,
            unit,
            method,
            methods: Method::ALL
                .iter()
                .filter(|m| **m != Method::Ahp)
                .map(|m| m.as_str())
                .collect(),
        })
    }
    .await;
    ctx.respond(result)
}
