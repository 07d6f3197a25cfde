//! `yuanjiang evaluate`: comprehensive-benefit evaluation (综合效益评价) of a
//! units CSV with entropy, AHP, TOPSIS, entropy-TOPSIS or DEA.

use std::path::PathBuf;

use anyhow::Context;
use yuanjiang_analytics::{
    EvaluationRequest, EvaluationResult, Method, Orientation, evaluate, parse_units,
};

/// Options of `yuanjiang evaluate`.
#[derive(clap::Args)]
pub struct EvaluateArgs {
    /// Method: entropy, ahp, topsis, entropy-topsis, dea-ccr or dea-bcc.
    #[arg(long)]
    method: String,
    /// CSV with a header `unit,<indicator>,…` and one row per unit.
    #[arg(long)]
    input: PathBuf,
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
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs an evaluation and prints it; evaluation errors are bilingual.
pub fn run(args: &EvaluateArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.input)
        .with_context(|| format!("cannot read {}", args.input.display()))?;
    let bilingual = |e: yuanjiang_analytics::EvaluationError| {
        anyhow::anyhow!("{} / {} [{}]", e.zh(), e.en(), e.code())
    };
    let table = parse_units(&text).map_err(bilingual)?;
    let mut request = EvaluationRequest::new(Method::parse(&args.method).map_err(bilingual)?);
    request.cost = args.cost.clone();
    request.weights = args.weights.clone();
    request.inputs = args.inputs.clone();
    request.outputs = args.outputs.clone();
    request.orientation = Orientation::parse(&args.orientation).map_err(bilingual)?;
    if let Some(path) = &args.ahp_matrix {
        request.ahp_matrix = Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?,
        );
    }
    let result = evaluate(&table, &request).map_err(bilingual)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
        return Ok(());
    }
    match &result {
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
