//! `yuanjiang evaluate`: comprehensive-benefit evaluation (综合效益评价) with
//! entropy, AHP, TOPSIS, entropy-TOPSIS or DEA, of a units CSV or of the
//! database's standard indicator table for a year. Runs can be saved with a
//! frozen copy of their input and reproduced later with `--rerun ID`.

use std::path::PathBuf;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use yuanjiang_analytics::{
    EvaluationError, EvaluationRequest, EvaluationResult, Method, Orientation, evaluate,
    parse_units,
};
use yuanjiang_store::{DEFAULT_DATABASE_URL, DbSettings, EvaluationUnit, Store};

/// Options of `yuanjiang evaluate`.
#[derive(clap::Args)]
pub struct EvaluateArgs {
    /// Method: entropy, ahp, topsis, entropy-topsis, dea-ccr or dea-bcc.
    #[arg(long, required_unless_present = "rerun")]
    method: Option<String>,
    /// CSV with a header `unit,<indicator>,…` and one row per unit.
    #[arg(long, conflicts_with_all = ["year", "rerun"], required_unless_present_any = ["year", "rerun"])]
    input: Option<PathBuf>,
    /// Evaluate the database's indicator table for this year instead of a CSV.
    #[arg(long)]
    year: Option<i32>,
    /// With --year: the units, supporter or prefecture.
    #[arg(long, default_value = "supporter")]
    unit: String,
    /// Cost-type indicators (less is better), comma-separated.
    #[arg(long, value_delimiter = ',')]
    cost: Vec<String>,
    /// TOPSIS weights, one per indicator, comma-separated.
    #[arg(long, value_delimiter = ',')]
    weights: Option<Vec<f64>>,
    /// AHP pairwise-comparison matrix as CSV (fractions like 1/3 allowed).
    #[arg(long)]
    ahp_matrix: Option<PathBuf>,
    /// DEA input columns, comma-separated.
    #[arg(long, value_delimiter = ',')]
    inputs: Vec<String>,
    /// DEA output columns, comma-separated.
    #[arg(long, value_delimiter = ',')]
    outputs: Vec<String>,
    /// DEA orientation: input or output.
    #[arg(long, default_value = "input")]
    orientation: String,
    /// Save the run (method, parameters, frozen input, result) in the database.
    #[arg(long)]
    save: bool,
    /// Reproduce saved run ID from its frozen input; exits 1 if the result differs.
    #[arg(long)]
    rerun: Option<i64>,
    /// Database URL, for --year, --save and --rerun.
    #[arg(long, env = "YUANJIANG_DB", default_value = DEFAULT_DATABASE_URL)]
    db: String,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

/// The parameters saved with a run: everything but the input table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Params {
    method: String,
    cost: Vec<String>,
    weights: Option<Vec<f64>>,
    ahp_matrix: Option<String>,
    inputs: Vec<String>,
    outputs: Vec<String>,
    orientation: String,
}

fn bilingual(e: EvaluationError) -> anyhow::Error {
    anyhow::anyhow!("{} / {} [{}]", e.zh(), e.en(), e.code())
}

/// Evaluates `table` (units CSV text) with `params`.
fn compute(table: &str, params: &Params) -> anyhow::Result<EvaluationResult> {
    let table = parse_units(table).map_err(bilingual)?;
    let mut request = EvaluationRequest::new(Method::parse(&params.method).map_err(bilingual)?);
    request.cost = params.cost.clone();
    request.weights = params.weights.clone();
    request.inputs = params.inputs.clone();
    request.outputs = params.outputs.clone();
    request.ahp_matrix = params.ahp_matrix.clone();
    request.orientation = Orientation::parse(&params.orientation).map_err(bilingual)?;
    evaluate(&table, &request).map_err(bilingual)
}

async fn open(db: &str) -> anyhow::Result<Store> {
    let settings = DbSettings::from_url(db)?;
    Store::open(&settings)
        .await
        .with_context(|| format!("cannot open database {}", settings.redacted()))
}

/// Runs an evaluation and prints it. Returns whether a rerun reproduced its result.
pub async fn run(args: &EvaluateArgs) -> anyhow::Result<bool> {
    if let Some(id) = args.rerun {
        let store = open(&args.db).await?;
        let Some(saved) = store.evaluation_run(id).await? else {
            bail!("evaluation run {id} does not exist / 评价记录 {id} 不存在");
        };
        let params: Params = serde_json::from_str(&saved.params_json)?;
        let result = compute(&saved.snapshot, &params)?;
        let again = serde_json::to_string(&result)?;
        print(&result, args.json)?;
        let same = again == saved.result_json;
        eprintln!(
            "{}",
            if same {
                format!("run {id} reproduced exactly / 评价记录 {id} 结果完全一致")
            } else {
                format!("run {id} did NOT reproduce / 评价记录 {id} 结果不一致")
            }
        );
        return Ok(same);
    }
    let Some(method) = &args.method else {
        bail!("--method is required");
    };
    let params = Params {
        method: method.clone(),
        cost: args.cost.clone(),
        weights: args.weights.clone(),
        ahp_matrix: match &args.ahp_matrix {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?,
            ),
            None => None,
        },
        inputs: args.inputs.clone(),
        outputs: args.outputs.clone(),
        orientation: args.orientation.clone(),
    };
    let (table, store) = match (&args.input, args.year) {
        (Some(path), _) => (
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?,
            None,
        ),
        (None, Some(year)) => {
            let store = open(&args.db).await?;
            let unit = EvaluationUnit::parse(&args.unit)
                .map_err(|e| anyhow::anyhow!("{} / {}", e.zh, e.en))?;
            (store.evaluation_table(unit, year).await?, Some(store))
        }
        (None, None) => bail!("give --input FILE or --year YEAR"),
    };
    let result = compute(&table, &params)?;
    print(&result, args.json)?;
    if args.save {
        let store = match store {
            Some(s) => s,
            None => open(&args.db).await?,
        };
        let id = store
            .save_evaluation(
                "cli",
                method,
                &serde_json::to_string(&params)?,
                &table,
                &serde_json::to_string(&result)?,
            )
            .await?;
        eprintln!("saved as run {id}; reproduce with: yuanjiang evaluate --rerun {id}");
    }
    Ok(true)
}

fn print(result: &EvaluationResult, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(result)?);
        return Ok(());
    }
    match result {
        EvaluationResult::Scores(report) => {
            println!("{:<6} {:<24} {:>10}", "rank", "unit", "score");
            for u in &report.units {
                println!("{:<6} {:<24} {:>10.6}", u.rank, u.unit, u.score);
            }
        }
        EvaluationResult::Dea(report) => {
            println!(
                "{:<24} {:>10} {:>10} {:>10} {:>10}",
                "unit", "efficiency", "ccr", "bcc", "scale"
            );
            for u in &report.units {
                println!(
                    "{:<24} {:>10.6} {:>10.6} {:>10.6} {:>10.6}",
                    u.unit, u.efficiency, u.ccr, u.bcc, u.scale
                );
            }
        }
    }
    Ok(())
}
