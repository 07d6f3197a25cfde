//! Test support shared by the crates' integration tests: a fresh SQLite file
//! in a temporary directory, and a fresh PostgreSQL database when
//! `YUANJIANG_TEST_POSTGRES` names a server (otherwise a printed skip).

use std::path::Path;

use sqlx::Connection;

use crate::{DbSettings, Result, Store};

/// The environment variable naming the PostgreSQL server for tests.
pub const POSTGRES_ENV: &str = "YUANJIANG_TEST_POSTGRES";

/// Opens a new SQLite store in `dir`.
pub async fn sqlite_store(dir: &Path) -> Result<Store> {
    let url = format!("sqlite://{}", dir.join("test.db").display());
    Store::open(&DbSettings::from_url(&url)?).await
}

/// Creates a new, empty PostgreSQL database on the test server and returns
/// its URL, or `None` (after printing why) when no server is configured.
pub async fn postgres_url(test: &str) -> Result<Option<String>> {
    let Ok(admin) = std::env::var(POSTGRES_ENV) else {
        // Written to the real stderr, past the test harness's capture, so
        // that a skip is always visible.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED on PostgreSQL: {test}: {POSTGRES_ENV} is not set (set it to postgres://postgres@127.0.0.1/test to run it)"
        );
        return Ok(None);
    };
    let name = format!(
        "yj_{}_{}_{}",
        test.chars()
            .map(|c| if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            })
            .take(30)
            .collect::<String>(),
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    );
    let mut conn = sqlx::PgConnection::connect(&admin).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    Ok(Some(format!("{base}/{name}")))
}

/// The field key of PostgreSQL test stores: fixed, so that a test can
/// reopen its database, and never written to a key file in the source tree
/// (a PostgreSQL store's default key file is in the working directory).
pub const TEST_FIELD_KEY: &str = "5975616e6a69616e672074657374206b";

/// Opens (or reopens) the PostgreSQL test database at `url` with
/// [`TEST_FIELD_KEY`]; use it rather than `Store::open`, which would
/// create a key file in the working directory.
pub async fn open_postgres(url: &str) -> Result<Store> {
    let key = crate::FieldKey::from_hex(TEST_FIELD_KEY, "TEST_FIELD_KEY")?;
    Store::open_with_key(&DbSettings::from_url(url)?, key).await
}

/// Opens a store on a new PostgreSQL database, or `None` when skipped.
pub async fn postgres_store(test: &str) -> Result<Option<Store>> {
    match postgres_url(test).await? {
        Some(url) => Ok(Some(open_postgres(&url).await?)),
        None => Ok(None),
    }
}
