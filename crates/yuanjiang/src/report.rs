//! `yuanjiang report`: the monthly bulletin or the annual report, as xlsx
//! or print-ready HTML (chosen by the output file's extension).

use std::path::PathBuf;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use yuanjiang_server::bulletin::{BulletinKind, build};
use yuanjiang_store::{DEFAULT_DATABASE_URL, DbSettings, Store};

/// Options of `yuanjiang report`.
#[derive(clap::Args)]
pub struct ReportArgs {
    /// monthly (月报) or annual (年报).
    #[arg(long, value_parser = ["monthly", "annual"])]
    kind: String,
    /// The as-of day (YYYY-MM-DD): figures count transactions up to it.
    #[arg(long)]
    as_of: NaiveDate,
    /// Report on one supporter (code) instead of the whole programme.
    #[arg(long)]
    supporter: Option<String>,
    /// Output file: .xlsx for the workbook, .html for the print page.
    #[arg(short = 'o', long)]
    output: PathBuf,
    /// Database URL.
    #[arg(long, env = "YUANJIANG_DB", default_value = DEFAULT_DATABASE_URL)]
    db: String,
}

/// Builds and writes the report.
pub async fn run(args: &ReportArgs) -> anyhow::Result<()> {
    let settings = DbSettings::from_url(&args.db)?;
    let store = Store::open(&settings)
        .await
        .with_context(|| format!("cannot open database {}", settings.redacted()))?;
    let kind = if args.kind == "annual" {
        BulletinKind::Annual
    } else {
        BulletinKind::Monthly
    };
    let started = std::time::Instant::now();
    let bulletin = build(&store, kind, args.as_of, args.supporter.clone()).await?;
    let bytes = match args.output.extension().and_then(|e| e.to_str()) {
        Some("xlsx") => bulletin.to_xlsx()?,
        Some("html" | "htm") => bulletin.to_html().into_bytes(),
        _ => bail!("the output file must end in .xlsx or .html"),
    };
    std::fs::write(&args.output, bytes)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    eprintln!(
        "{} written in {:.2} s ({} warnings: 80/80 {}, paid without progress {}, \
         accepted without a report {}, idle funds {})",
        args.output.display(),
        started.elapsed().as_secs_f64(),
        bulletin.eighty_eighty.len()
            + bulletin.paid_without_progress.len()
            + bulletin.accepted_without_report.len()
            + bulletin.idle_funds.len(),
        bulletin.eighty_eighty.len(),
        bulletin.paid_without_progress.len(),
        bulletin.accepted_without_report.len(),
        bulletin.idle_funds.len()
    );
    store.close().await;
    Ok(())
}
