//! Loads generated demo data through the store in one transaction, for
//! `yuanjiang demo`, `serve --demo` and tests. Generation runs on a blocking
//! thread and hands chunks over a small channel, so generating and writing
//! overlap.

use chrono::NaiveDate;
use yuanjiang_demo::{Generator, Scale};
use yuanjiang_domain::{DomainError, Reference};
use yuanjiang_store::{ProjectFilter, Store, StoreError};

/// Projects per chunk written.
const CHUNK: usize = 2_000;

/// Writes demo data at `scale` from `seed`, with no event after `as_of`,
/// into a database that holds no projects yet. `progress(written, total)`
/// is called after each chunk. Returns the number of projects written.
pub async fn load(
    store: &Store,
    scale: Scale,
    seed: u64,
    as_of: NaiveDate,
    mut progress: impl FnMut(u64, u64),
) -> Result<u64, StoreError> {
    if store.count_projects(&ProjectFilter::default()).await? > 0 {
        return Err(StoreError::Rule(DomainError::new(
            "database_not_empty",
            "数据库中已有项目；演示数据只能写入空数据库（请使用新的 --db）",
            "the database already holds projects; demo data goes into an empty database (use a new --db)",
        )));
    }
    let reference = Reference::load()?;
    let mut generator = Generator::new(scale, seed, &reference, as_of);
    let total = generator.total_projects();
    let extras = generator.extras();

    let (sender, mut receiver) = tokio::sync::mpsc::channel(2);
    let producer = tokio::task::spawn_blocking(move || {
        while let Some(chunk) = generator.next_chunk(CHUNK) {
            if sender.blocking_send(chunk).is_err() {
                break;
            }
        }
    });

    let mut bulk = store.bulk().await?;
    bulk.insert_supporters(&extras.supporters).await?;
    bulk.insert_pairings(&extras.pairings).await?;
    bulk.insert_front_commands(&extras.front_commands).await?;
    bulk.insert_plans(&extras.plans).await?;
    bulk.insert_batches(&extras.batches).await?;
    bulk.insert_assignments(&extras.assignments).await?;
    let mut written = 0u64;
    while let Some(chunk) = receiver.recv().await {
        bulk.insert_bundles(&chunk).await?;
        written += chunk.len() as u64;
        progress(written, total);
    }
    // The generator thread only ends by running out of chunks or by our
    // dropping the receiver; a panic there surfaces as a short count.
    if producer.await.is_err() || written != total {
        return Err(StoreError::Rule(DomainError::new(
            "demo_generation_failed",
            "演示数据生成中断",
            "demo data generation stopped early",
        )));
    }
    bulk.commit().await?;
    Ok(written)
}
