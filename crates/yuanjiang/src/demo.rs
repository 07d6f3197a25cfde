//! `yuanjiang demo` and `serve --demo`: parse the options, show a progress
//! bar, and hand over to `yuanjiang_server::demo::load`.

use anyhow::bail;
use chrono::NaiveDate;
use indicatif::{ProgressBar, ProgressStyle};
use yuanjiang_demo::Scale;
use yuanjiang_store::{ProjectFilter, Store};

/// Loads the `small` demo data if the database holds no projects yet.
pub async fn load_if_empty(store: &Store) -> anyhow::Result<()> {
    if store.count_projects(&ProjectFilter::default()).await? > 0 {
        tracing::info!("database already holds projects; demo data not loaded");
        return Ok(());
    }
    generate(store, "small", 2010, today(), false).await
}

/// Today's date, the default end of the demo history.
pub fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

/// Generates demo data at `scale` from `seed`, with no event after `as_of`.
pub async fn generate(
    store: &Store,
    scale: &str,
    seed: u64,
    as_of: NaiveDate,
    progress: bool,
) -> anyhow::Result<()> {
    let Some(scale) = Scale::parse(scale) else {
        bail!("unknown scale {scale:?}: expected small, xinjiang or national");
    };
    let bar = if progress {
        ProgressBar::new(0)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} demo {pos}/{len} projects [{bar:40}] {percent}% {elapsed_precise} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let written = yuanjiang_server::demo::load(store, scale, seed, as_of, |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .await?;
    bar.finish_and_clear();
    tracing::info!(projects = written, "demo data written");
    Ok(())
}
