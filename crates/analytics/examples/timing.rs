//! Times the two workloads the evaluation library has targets for:
//! DEA (CCR and BCC) on 1,000 units with 3 inputs and 4 outputs (≤ 2 s), and
//! entropy-TOPSIS on 100,000 units (≤ 1 s).
//!
//! Run in release: `cargo run --release -p yuanjiang-analytics --example timing`.
//! Data come from a fixed-seed generator, so runs are comparable.

use std::time::Instant;

use yuanjiang_analytics::{EvaluationRequest, EvaluationResult, Method, Orientation, parse_units};

/// A small linear congruential generator: enough for test data, and keeps
/// the example free of extra dependencies.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `units` rows of random values. With `correlated`, a common size factor
/// scales each row, as county size scales both funds and results; without
/// it, columns are independent.
fn csv(units: usize, columns: &[&str], correlated: bool, rng: &mut Lcg) -> String {
    let mut text = format!("unit,{}\n", columns.join(","));
    for i in 0..units {
        text.push_str(&format!("u{i}"));
        let size = if correlated {
            1.0 + 9.0 * rng.next()
        } else {
            1.0
        };
        for _ in columns {
            text.push_str(&format!(",{:.3}", size * (0.5 + rng.next())));
        }
        text.push('\n');
    }
    text
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = Lcg(20_240_601);

    let columns = [
        "funds", "cadres", "projects", "jobs", "income", "places", "beds",
    ];
    for (correlated, orientation) in [
        (true, Orientation::Input),
        (true, Orientation::Output),
        (false, Orientation::Input),
        (false, Orientation::Output),
    ] {
        let table = parse_units(&csv(1_000, &columns, correlated, &mut rng))?;
        let mut request = EvaluationRequest::new(Method::DeaBcc);
        request.inputs = columns[..3].iter().map(|s| s.to_string()).collect();
        request.outputs = columns[3..].iter().map(|s| s.to_string()).collect();
        request.orientation = orientation;
        let start = Instant::now();
        let result = yuanjiang_analytics::evaluate(&table, &request)?;
        let elapsed = start.elapsed();
        let frontier = match &result {
            EvaluationResult::Dea(report) => {
                report.units.iter().filter(|u| u.ccr >= 1.0 - 1e-9).count()
            }
            EvaluationResult::Scores(_) => 0,
        };
        println!(
            "DEA CCR+BCC, 1,000 units, 3 inputs, 4 outputs, {} data, {} orientation: {:.3} s ({frontier} CCR-efficient)",
            if correlated {
                "correlated"
            } else {
                "independent"
            },
            orientation.as_str(),
            elapsed.as_secs_f64()
        );
    }

    let columns = ["jobs", "income", "places", "beds", "trips", "cost"];
    let text = csv(100_000, &columns, true, &mut rng);
    let start = Instant::now();
    let table = parse_units(&text)?;
    let parsed = start.elapsed();
    let mut request = EvaluationRequest::new(Method::EntropyTopsis);
    request.cost = vec!["cost".to_string()];
    let start = Instant::now();
    yuanjiang_analytics::evaluate(&table, &request)?;
    println!(
        "entropy-TOPSIS, 100,000 units, 6 indicators: {:.3} s (+ {:.3} s parsing the CSV)",
        start.elapsed().as_secs_f64(),
        parsed.as_secs_f64()
    );
    Ok(())
}
