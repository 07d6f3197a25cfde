//! Worked examples with known answers.
//!
//! Published results are matched to the precision they were published at;
//! each method also has at least one case whose exact answer is derived by
//! hand (the derivation is in the comment) and matched to 1e-6 or better.

use yuanjiang_analytics::{EvaluationRequest, Method, Orientation, ahp};

use crate::util::{assert_close, dea, request, scores};

// ---------------------------------------------------------------- DEA ----

/// Hospital example of Cooper, Seiford & Tone, *Data Envelopment Analysis:
/// A Comprehensive Text with Models, Applications, References and
/// DEA-Solver Software*, 2nd ed., Springer 2007: 12 hospitals, inputs
/// doctors and nurses, outputs outpatients and inpatients (Table 1.5, used
/// again for the CCR model in chapter 3). The data were checked against two
/// independent transcriptions: the `CST22` data set of the CRAN package
/// qDEA (documented as "Cooper, Seiford, Tone 2006, Two Input Two Output
/// Example Data Table 1.5") and a GAMS CCR model of the same example.
const HOSPITALS: &str = "\
unit,doctors,nurses,outpatients,inpatients
A,20,151,100,90
B,19,131,150,50
C,25,160,160,55
D,27,168,180,72
E,22,158,94,66
F,55,255,230,90
G,33,235,220,88
H,31,206,152,80
I,30,244,190,100
J,50,268,250,100
K,53,306,260,147
L,38,284,250,120
";

/// Exact optimal values for the hospitals, as fractions. We derived them
/// independently of this crate's solver: each is the optimum of the
/// multiplier-form LP (CCR: max u·y_o s.t. v·x_o = 1, u·y_j ≤ v·x_j, u, v ≥
/// 0; BCC adds a free u₀, or v₀ for output orientation) found by
/// enumerating every vertex of its feasible region in exact rational
/// arithmetic. The CCR column agrees with the scores the book reports to 3–4
/// decimals for A–K (C 0.8827, E 0.7635, F 0.8348, G 0.9020, H 0.7963,
/// I 0.9604, J 0.8706, K 0.9551, the others 1); for L the exact score is
/// 619/646 = 0.9582.
///
/// Columns: unit, CCR (either orientation), BCC input, BCC output (1/φ).
const HOSPITAL_EXACT: [(&str, f64, f64, f64); 12] = [
    ("A", 1.0, 1.0, 1.0),
    ("B", 1.0, 1.0, 1.0),
    ("C", 4237.0 / 4800.0, 43.0 / 48.0, 2512.0 / 2717.0),
    ("D", 1.0, 1.0, 1.0),
    ("E", 258101.0 / 338050.0, 97.0 / 110.0, 462587.0 / 603400.0),
    ("F", 3193.0 / 3825.0, 1676.0 / 1785.0, 2300.0 / 2409.0),
    ("G", 46.0 / 51.0, 1.0, 1.0),
    (
        "H",
        177244.0 / 222575.0,
        6663527.0 / 8341575.0,
        1990253.0 / 2409765.0,
    ),
    ("I", 2449.0 / 2550.0, 371.0 / 375.0, 787.0 / 795.0),
    ("J", 175.0 / 201.0, 1.0, 1.0),
    ("K", 4871.0 / 5100.0, 1.0, 1.0),
    ("L", 619.0 / 646.0, 1.0, 1.0),
];

#[test]
fn dea_hospitals_match_the_book_and_exact_values() {
    let inputs = ["doctors", "nurses"];
    let outputs = ["outpatients", "inpatients"];
    for (orientation, bcc_column) in [(Orientation::Input, 2), (Orientation::Output, 3)] {
        let ccr = dea(HOSPITALS, Method::DeaCcr, &inputs, &outputs, orientation);
        let bcc = dea(HOSPITALS, Method::DeaBcc, &inputs, &outputs, orientation);
        for ((c, b), expected) in ccr.iter().zip(&bcc).zip(HOSPITAL_EXACT) {
            let (name, ccr_exact, bcc_in, bcc_out) = expected;
            let bcc_exact = if bcc_column == 2 { bcc_in } else { bcc_out };
            let what = format!("{name} {orientation:?}");
            assert_eq!(c.unit, name);
            assert_close(&format!("{what} CCR"), c.efficiency, ccr_exact, 1e-6);
            assert_close(&format!("{what} BCC"), b.efficiency, bcc_exact, 1e-6);
            assert_close(
                &format!("{what} scale"),
                c.scale,
                ccr_exact / bcc_exact,
                1e-6,
            );
            // Both reports carry all three figures, whichever model leads.
            assert_eq!((c.ccr, c.bcc), (b.ccr, b.bcc));
        }
    }
    // The book's published CCR scores, at their 4-decimal precision.
    let ccr = dea(
        HOSPITALS,
        Method::DeaCcr,
        &inputs,
        &outputs,
        Orientation::Input,
    );
    let published = [
        ("C", 0.8827),
        ("E", 0.7635),
        ("F", 0.8348),
        ("G", 0.9020),
        ("H", 0.7963),
        ("I", 0.9604),
        ("J", 0.8706),
        ("K", 0.9551),
    ];
    for (name, score) in published {
        let unit = ccr
            .iter()
            .find(|u| u.unit == name)
            .expect("hospital listed");
        assert_close(name, unit.efficiency, score, 5e-5);
    }
}

/// One-input one-output example of Cooper, Seiford & Tone (2007, Table 1.1,
/// branch stores: employees → sales), stores A–F as transcribed in qDEA's
/// `CST11` data set.
///
/// Exact scores by hand. CCR: efficiency is productivity y/x over the best
/// productivity, B's 3/3 = 1, so A 1/2, B 1, C 2/3, D 3/4, E 4/5, F 2/5.
/// BCC: the variable-returns frontier joins A(2,1), B(3,3), E(5,4) (slopes 2
/// then 1/2, so concave), with A, B and E efficient.
/// * Input-oriented, θ = frontier input at the unit's output ÷ its input:
///   C (3,2): frontier between A and B at y = 2 is x = 2.5, θ = 5/6;
///   D (4,3): B gives y = 3 with x = 3, θ = 3/4; F (5,2): θ = 2.5/5 = 1/2.
/// * Output-oriented, 1/φ = output ÷ frontier output at the unit's input:
///   C (3,2): B gives 3 at x = 3, so 2/3; D (4,3): between B and E at x = 4
///   the frontier gives 3.5, so 6/7; F (5,2): E gives 4, so 1/2.
#[test]
fn dea_stores_match_the_hand_derived_frontier() {
    let stores = "unit,employees,sales\nA,2,1\nB,3,3\nC,3,2\nD,4,3\nE,5,4\nF,5,2\n";
    let ccr = [0.5, 1.0, 2.0 / 3.0, 0.75, 0.8, 0.4];
    let bcc_input = [1.0, 1.0, 5.0 / 6.0, 0.75, 1.0, 0.5];
    let bcc_output = [1.0, 1.0, 2.0 / 3.0, 6.0 / 7.0, 1.0, 0.5];
    for (orientation, bcc) in [
        (Orientation::Input, bcc_input),
        (Orientation::Output, bcc_output),
    ] {
        let units = dea(
            stores,
            Method::DeaBcc,
            &["employees"],
            &["sales"],
            orientation,
        );
        for (i, unit) in units.iter().enumerate() {
            let what = format!("store {} {orientation:?}", unit.unit);
            assert_close(&format!("{what} CCR"), unit.ccr, ccr[i], 1e-9);
            assert_close(&format!("{what} BCC"), unit.bcc, bcc[i], 1e-9);
            assert_close(&format!("{what} efficiency"), unit.efficiency, bcc[i], 1e-9);
            assert_close(&format!("{what} scale"), unit.scale, ccr[i] / bcc[i], 1e-9);
        }
    }
}

// ------------------------------------------------------------- TOPSIS ----

/// Car example from R. Hodgett, "TOPSIS in Excel", used as the reference
/// test of the TOPSIS function of the CRAN package MCDA (Bigaret, Hodgett,
/// Meyer, Mironova, Olteanu), whose test asserts the closeness coefficients
/// rounded to 4 decimals: Corsa 0.4817, Clio 0.5182, Fiesta 0.1780, and for
/// Corsa and Clio alone on the first three criteria 0.4943 and 0.5057.
/// Weights 0.35, 0.25, 0.25, 0.15; price is a cost criterion.
#[test]
fn topsis_cars_match_the_mcda_reference() {
    let cars = "\
unit,price,economy,aesthetics,boot
Corsa,5490,51.4,8.5,285
Clio,6500,70.6,7,288
Fiesta,6489,54.3,7.5,290
";
    let mut req = request(Method::Topsis, &["price"]);
    req.weights = Some(vec![0.35, 0.25, 0.25, 0.15]);
    let report = scores(cars, &req);
    let want = [
        ("Corsa", 0.4817, 2),
        ("Clio", 0.5182, 1),
        ("Fiesta", 0.1780, 3),
    ];
    for (unit, (name, c, rank)) in report.units.iter().zip(want) {
        assert_eq!((unit.unit.as_str(), unit.rank), (name, rank));
        assert_close(name, unit.score, c, 5e-5);
    }

    let two_cars = "\
unit,price,economy,aesthetics
Corsa,5490,51.4,8.5
Clio,6500,70.6,7
";
    // The MCDA test passes these weights unscaled; TOPSIS closeness does not
    // change when all weights are multiplied by one factor.
    req.weights = Some(vec![0.35, 0.25, 0.25]);
    let report = scores(two_cars, &req);
    assert_close("Corsa", report.units[0].score, 0.4943, 5e-5);
    assert_close("Clio", report.units[1].score, 0.5057, 5e-5);
}

/// Hand-derived TOPSIS case. Columns a (benefit) = (3, 4, 0) and b (cost) =
/// (0, 3, 4) both have norm 5, so r_a = (0.6, 0.8, 0), r_b = (0, 0.6, 0.8);
/// with equal weights v_a = (0.3, 0.4, 0), v_b = (0, 0.3, 0.4). Ideal
/// (0.4, 0), anti-ideal (0, 0.4).
/// * u1 (0.3, 0): D⁺ = 0.1, D⁻ = √(0.09 + 0.16) = 0.5, C = 5/6;
/// * u2 (0.4, 0.3): D⁺ = 0.3, D⁻ = √0.17, C = √0.17 / (0.3 + √0.17);
/// * u3 (0, 0.4): D⁺ = 0.4√2, D⁻ = 0, C = 0.
#[test]
fn topsis_matches_a_hand_derived_case() {
    let csv = "unit,a,b\nu1,3,0\nu2,4,3\nu3,0,4\n";
    let report = scores(csv, &request(Method::Topsis, &["b"]));
    let root = 0.17f64.sqrt();
    let want = [5.0 / 6.0, root / (0.3 + root), 0.0];
    for (unit, c) in report.units.iter().zip(want) {
        assert_close(&unit.unit, unit.score, c, 1e-12);
    }
    assert_eq!(
        report.weights.0,
        [("a".to_string(), 0.5), ("b".to_string(), 0.5)]
    );
    assert_eq!(
        report.units.iter().map(|u| u.rank).collect::<Vec<_>>(),
        [1, 2, 3]
    );
}

// ---------------------------------------------------------------- AHP ----

/// Saaty's drinks example: T. L. Saaty, "Decision making with the analytic
/// hierarchy process", International Journal of Services Sciences 1(1),
/// 2008, pp. 83–98 (relative consumption of drinks in the US). The priority
/// vector and CR below are those asserted by the AHPy package's test suite
/// for this matrix (weights to 4 decimals, CR = 0.022 with Saaty's RI).
#[test]
fn ahp_drinks_match_saaty() {
    let matrix = "\
,coffee,wine,tea,beer,soda,milk,water
coffee,1,9,5,2,1,1,1/2
wine,1/9,1,1/3,1/9,1/9,1/9,1/9
tea,1/5,3,1,1/3,1/4,1/3,1/9
beer,1/2,9,3,1,1/2,1,1/3
soda,1,9,4,2,1,2,1/2
milk,1,9,3,1,1/2,1,1/3
water,2,9,9,3,2,3,1
";
    let outcome = ahp::consistent_weights(matrix).expect("Saaty's matrix is consistent enough");
    let want = [0.1775, 0.0191, 0.0418, 0.1164, 0.1896, 0.1288, 0.3268];
    for (got, want) in outcome.weights.iter().zip(want) {
        assert_close("drink weight", *got, want, 5e-5);
    }
    assert_close("CR", outcome.consistency.cr, 0.022, 5e-4);
    assert_close("weights sum", outcome.weights.iter().sum(), 1.0, 1e-12);
}

/// A perfectly consistent matrix a_ij = w_i / w_j has w as its principal
/// eigenvector, λmax = n and CR = 0 exactly.
#[test]
fn ahp_consistent_matrix_returns_its_generating_weights() {
    let w = [0.4, 0.3, 0.2, 0.06, 0.04];
    let text: String = w
        .iter()
        .map(|wi| {
            w.iter()
                .map(|wj| (wi / wj).to_string())
                .collect::<Vec<_>>()
                .join(",")
                + "\n"
        })
        .collect();
    let outcome = ahp::consistent_weights(&text).expect("consistent by construction");
    for (got, want) in outcome.weights.iter().zip(w) {
        assert_close("weight", *got, want, 1e-9);
    }
    assert_close("λmax", outcome.consistency.lambda_max, 5.0, 1e-9);
    assert_close("CR", outcome.consistency.cr, 0.0, 1e-9);
}

/// AHP as a scoring method: weights 2/3 and 1/3 from the matrix
/// [[1, 2], [1/2, 1]] (consistent), applied to min-max normalised data.
/// x (benefit) = (10, 20, 30) → (0, 0.5, 1); y (cost) = (5, 1, 3) →
/// (0, 1, 0.5). Scores: u1 0, u2 2/3·0.5 + 1/3·1 = 2/3, u3 2/3 + 1/6 = 5/6.
/// The matrix names its criteria in the opposite order to the table, to
/// show weights follow names.
#[test]
fn ahp_scores_follow_criterion_names() {
    let csv = "unit,x,y\nu1,10,5\nu2,20,1\nu3,30,3\n";
    let mut req = request(Method::Ahp, &["y"]);
    req.ahp_matrix = Some(",y,x\ny,1,1/2\nx,2,1\n".to_string());
    let report = scores(csv, &req);
    assert_close("w_x", report.weights.0[0].1, 2.0 / 3.0, 1e-12);
    assert_close("w_y", report.weights.0[1].1, 1.0 / 3.0, 1e-12);
    for (unit, want) in report.units.iter().zip([0.0, 2.0 / 3.0, 5.0 / 6.0]) {
        assert_close(&unit.unit, unit.score, want, 1e-12);
    }
    let consistency = report.consistency.expect("AHP reports consistency");
    assert_eq!((consistency.ci, consistency.cr), (0.0, 0.0));
}

// ------------------------------------------------------------ entropy ----

/// Hand-derived entropy case, 3 units × 2 indicators.
/// * a (benefit) = (1, 2, 3) → x' = (0, 1/2, 1), p = (0, 1/3, 2/3),
///   e_a = −(1/ln 3)(⅓ ln ⅓ + ⅔ ln ⅔) = 1 − 2 ln 2 / (3 ln 3).
/// * b (cost) = (10, 20, 20) → x' = (1, 0, 0), p = (1, 0, 0), e_b = 0.
///
/// So 1 − e_a = 2 ln 2 / (3 ln 3), 1 − e_b = 1, and
/// w_a = 2 ln 2 / (2 ln 2 + 3 ln 3) ≈ 0.29608, w_b = 3 ln 3 / (2 ln 2 + 3 ln 3)
/// ≈ 0.70392. Scores Σ w x': u1 = w_b, u2 = w_a / 2, u3 = w_a.
const ENTROPY_CASE: &str = "unit,a,b\nu1,1,10\nu2,2,20\nu3,3,20\n";

fn entropy_case_weights() -> (f64, f64) {
    let (l2, l3) = (2f64.ln(), 3f64.ln());
    let denominator = 2.0 * l2 + 3.0 * l3;
    (2.0 * l2 / denominator, 3.0 * l3 / denominator)
}

#[test]
fn entropy_matches_a_hand_derived_case() {
    let (wa, wb) = entropy_case_weights();
    let report = scores(ENTROPY_CASE, &request(Method::Entropy, &["b"]));
    assert_close("w_a", report.weights.0[0].1, wa, 1e-12);
    assert_close("w_b", report.weights.0[1].1, wb, 1e-12);
    for (unit, want) in report.units.iter().zip([wb, wa / 2.0, wa]) {
        assert_close(&unit.unit, unit.score, want, 1e-12);
    }
    assert_eq!(
        report.units.iter().map(|u| u.rank).collect::<Vec<_>>(),
        [1, 3, 2]
    );
}

/// Entropy-TOPSIS on the same case: TOPSIS with (w_a, w_b) on the raw data.
/// a has norm √14 and b norm 30, so v_a = w_a (1, 2, 3)/√14 and
/// v_b = w_b (1, 2, 2)/3. Ideal (3w_a/√14, w_b/3), anti-ideal
/// (w_a/√14, 2w_b/3). With α = w_a/√14 and β = w_b/3:
/// u1 (α, β): C = β / (2α + β); u2 (2α, 2β): C = α / (√(α² + β²) + α);
/// u3 (3α, 2β): C = 2α / (β + 2α).
#[test]
fn entropy_topsis_matches_a_hand_derived_case() {
    let (wa, wb) = entropy_case_weights();
    let (alpha, beta) = (wa / 14f64.sqrt(), wb / 3.0);
    let want = [
        beta / (2.0 * alpha + beta),
        alpha / ((alpha * alpha + beta * beta).sqrt() + alpha),
        2.0 * alpha / (beta + 2.0 * alpha),
    ];
    let report = scores(ENTROPY_CASE, &request(Method::EntropyTopsis, &["b"]));
    assert_close("w_a", report.weights.0[0].1, wa, 1e-12);
    for (unit, want) in report.units.iter().zip(want) {
        assert_close(&unit.unit, unit.score, want, 1e-12);
    }
}

// ------------------------------------------------------------- output ----

#[test]
fn json_shapes_match_the_contract() {
    let result = yuanjiang_analytics::evaluate(
        &yuanjiang_analytics::parse_units("unit,z,a\nu1,1,2\nu2,2,1\n").expect("valid"),
        &EvaluationRequest::new(Method::Entropy),
    )
    .expect("evaluable");
    // Checked on the text: serde_json::Value would sort the keys.
    let text = serde_json::to_string(&result).expect("serialisable");
    assert!(
        text.contains(r#""weights":{"z":0.5,"a":0.5}"#),
        "weights keep indicator order: {text}"
    );
    let report = serde_json::to_value(&result).expect("serialisable");
    assert_eq!(report["method"], "entropy");
    assert_eq!(report["units"][0]["unit"], "u1");
    assert_eq!(report["units"][0]["rank"], 1);
    assert!(report.get("consistency").is_none());

    let units = dea(
        "unit,x,y\nu1,1,1\nu2,2,1\n",
        Method::DeaCcr,
        &["x"],
        &["y"],
        Orientation::Output,
    );
    let dea_json = serde_json::to_value(&units[1]).expect("serialisable");
    for field in ["unit", "efficiency", "ccr", "bcc", "scale"] {
        assert!(dea_json.get(field).is_some(), "missing {field}");
    }
}
