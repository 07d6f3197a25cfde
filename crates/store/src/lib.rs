//! Yuanjiang's store: one API over two backends. SQLite is the embedded
//! default (a file, WAL mode, foreign keys on); PostgreSQL is for production
//! and for several stateless app nodes. Migrations are embedded per backend
//! and applied on open; reference data is loaded on first open.
//!
//! Queries are written once where both dialects accept the same SQL (`$1`
//! placeholders work on both); [`on_pool!`] runs the same code on whichever
//! pool is open.

#![forbid(unsafe_code)]

mod attachments;
mod audit;
mod backup;
mod bulk;
mod check;
mod crypto;
mod error;
mod evaluation;
pub mod exchange;
mod identity;
mod measures;
mod parties;
mod personnel;
mod projects;
mod reference;
mod registry;
mod rollup;
mod settings;
mod sql;
mod stats;
pub mod testing;
mod workflow;
mod writes;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use attachments::{ATTACHMENTS_DIR_ENV, Attachment, StepRef, default_attachment_dir};
pub use audit::{
    AuditBreak, AuditEntry, AuditFilter, AuditRecord, AuditVerdict, BreakReason, GENESIS_HASH,
    MAX_AUDIT_PAGE,
};
pub use backup::restore_sqlite;
pub use bulk::Bulk;
pub use check::{ChainBreak, CheckReport};
pub use crypto::{CryptoError, DATA_DIR_ENV, FieldKey, KEY_ENV, KEY_FILE, KeySource};
pub use error::{StorageRefusal, StoreError};
pub use evaluation::{EvaluationRun, EvaluationUnit, INDICATOR_SYSTEM};
pub use identity::{
    DEMO_PASSWORD, LOCKOUT, Login, MAX_FAILED_LOGINS, NewSession, NewToken, SESSION_ABSOLUTE,
    SESSION_IDLE, Secret, Session, TokenInfo, User, check_password_policy, demo_accounts,
    validate_user_name,
};
pub use measures::{FlaggedProject, Measures};
pub use personnel::{AssignmentFilter, AssignmentRow, MAX_ASSIGNMENT_PAGE, PersonalData};
pub use projects::{Page, ProjectFilter, ProjectRow, Scope, TransactionRow};
pub use registry::{AssignmentSummary, ProjectCountBy, RegistryQuery, RegistrySort};
pub use rollup::Source;
pub use settings::{Backend, DEFAULT_DATABASE_URL, DbSettings};
pub use stats::{FundStatRow, StatDimension};
pub use workflow::{ApprovalRecord, InboxItem, MAX_COMMENT_CHARS};

/// Result of a store operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same block on whichever backend's pool is open. The block is
/// compiled once per backend, so it may use backend-specific types.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            $crate::Pool::Sqlite($pool) => $body,
            $crate::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// An open write transaction on either backend.
pub(crate) enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Runs the same block on whichever backend's open transaction, with `$db`
/// naming that backend's sqlx database type.
macro_rules! on_tx {
    ($txn:expr, $tx:ident, $db:ident => $body:expr) => {
        match &mut $txn {
            $crate::Tx::Sqlite($tx) => {
                #[allow(dead_code)]
                type $db = sqlx::Sqlite;
                $body
            }
            $crate::Tx::Postgres($tx) => {
                #[allow(dead_code)]
                type $db = sqlx::Postgres;
                $body
            }
        }
    };
}
pub(crate) use on_tx;

impl Tx {
    /// Makes the transaction's writes visible.
    pub(crate) async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

/// A handle on the database; cheap to clone, shared by all requests.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    /// Encrypts personal data at rest (see `crypto.rs`).
    field_key: FieldKey,
    /// Recent statistics answers, valid while the data version stands.
    stats_cache: stats::StatsCache,
    /// Where attachment files are stored (see `attachments.rs`).
    attachment_dir: std::sync::Arc<std::path::Path>,
    /// Write transactions come from a pool of their own: one connection on
    /// SQLite, which has one writer at a time, four on PostgreSQL, whose
    /// writes queue on the audit chain's advisory lock. Writers queue for
    /// it without holding a reading connection (under a 200-connection
    /// mixed load the shared pool filled with waiting writers and reads
    /// queued behind them).
    writers: Pool,
    /// The options to reopen a SQLite file opened for a bulk load with, so
    /// that [`Store::close`] leaves it in WAL mode again.
    wal_on_close: Option<SqliteConnectOptions>,
    /// On a SQLite file opened for a bulk load only: a writer whose
    /// connection does not look up each row's foreign keys, for an import
    /// whose rows are written ahead ([`Store::begin_import_ahead`]). Every
    /// such row's project id comes from the projects table read in the same
    /// write transaction, so the look-up (a tenth of SQLite's work in the
    /// import) could only ever succeed. No other write goes through it, and
    /// its connections never serve another pool.
    unchecked_writer: Option<SqlitePool>,
}

/// [`StoreError::InUse`] for a refused switch out of WAL mode (SQLite's
/// `SQLITE_BUSY`, answered at once while another process has the file open)
/// when sole use was asked for; else the error itself.
fn in_use_or(e: StoreError, sole: bool) -> StoreError {
    let busy = matches!(&e, StoreError::Database(sqlx::Error::Database(d))
        if d.code().as_deref() == Some("5"));
    if sole && busy { StoreError::InUse } else { e }
}

/// A pool of up to `max` SQLite connections.
async fn sqlite_pool(options: SqliteConnectOptions, max: u32) -> Result<SqlitePool> {
    Ok(SqlitePoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(10))
        // Writers queueing for the one writer is how SQLite works, not a
        // fault: only a wait near the time-out is worth a warning.
        .acquire_slow_threshold(Duration::from_secs(if max == 1 { 8 } else { 2 }))
        // A COMMIT refused for a full disk can leave the connection
        // counting a transaction that SQLite has already ended; handing it
        // out again would fail every later write on it. Such a connection
        // is closed (which ends any transaction) and replaced.
        .before_acquire(|conn, _| {
            Box::pin(async move { Ok(!sqlx::Connection::is_in_transaction(conn)) })
        })
        .connect_with(options)
        .await?)
}

impl Store {
    /// Opens the database named by `settings`, creating a SQLite file if it
    /// is absent, applies the migrations and loads reference data if the
    /// database is new. The field key comes from [`FieldKey::for_database`].
    pub async fn open(settings: &DbSettings) -> Result<Store> {
        let (field_key, source) = FieldKey::for_database(settings)?;
        tracing::info!(%source, fingerprint = %field_key.fingerprint(), "field key loaded");
        Store::open_with_key(settings, field_key).await
    }

    /// Opens the database like [`Store::open`] with the given field key,
    /// then checks the key against the database and encrypts any personal
    /// data still in clear.
    pub async fn open_with_key(settings: &DbSettings, field_key: FieldKey) -> Result<Store> {
        let mut wal_on_close = None;
        let mut unchecked_writer = None;
        let (pool, writers) = match settings.backend() {
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(settings.url())?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10));
                let (options, shared) = if settings.bulk_load() {
                    // A rollback journal needs a full sync for the same
                    // safety on power loss as the WAL at `NORMAL`.
                    let sole = options
                        .clone()
                        .journal_mode(SqliteJournalMode::Delete)
                        .synchronous(SqliteSynchronous::Full);
                    (sole, Some(options))
                } else {
                    (options, None)
                };
                let readers = sqlite_pool(options.clone(), 8)
                    .await
                    .map_err(|e| in_use_or(e, shared.is_some()))?;
                if shared.is_some() {
                    unchecked_writer =
                        Some(sqlite_pool(options.clone().foreign_keys(false), 1).await?);
                }
                let writer = sqlite_pool(options, 1).await?;
                wal_on_close = shared;
                (Pool::Sqlite(readers), Pool::Sqlite(writer))
            }
            Backend::Postgres => {
                let pool = |max: u32| {
                    PgPoolOptions::new()
                        .max_connections(max)
                        .acquire_timeout(Duration::from_secs(10))
                        .connect(settings.url())
                };
                let readers = pool(16).await?;
                let writers = pool(4).await?;
                (Pool::Postgres(readers), Pool::Postgres(writers))
            }
        };
        let store = Store {
            pool,
            field_key,
            stats_cache: stats::StatsCache::default(),
            attachment_dir: attachments::default_attachment_dir(settings).into(),
            writers,
            wal_on_close,
            unchecked_writer,
        };
        store.migrate().await?;
        store.load_reference_data().await?;
        store.check_field_key().await?;
        store.encrypt_plaintext_personal_data().await?;
        Ok(store)
    }

    /// Applies any migrations not yet applied.
    pub async fn migrate(&self) -> Result<()> {
        match &self.pool {
            Pool::Sqlite(p) => sqlx::migrate!("./migrations/sqlite").run(p).await?,
            Pool::Postgres(p) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a transaction that reads before it writes
    /// cannot fail half-way for lack of the lock.
    pub(crate) async fn begin(&self) -> Result<Tx> {
        Ok(match &self.writers {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// Which backend is open.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        match &self.writers {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
        if let Some(p) = &self.unchecked_writer {
            p.close().await;
        }
        on_pool!(self, p => p.close().await);
        if let Some(options) = &self.wal_on_close {
            // Back to the write-ahead log the server shares the file with;
            // any later open would switch it too, so a failure only waits.
            match sqlx::ConnectOptions::connect(options).await {
                Ok(conn) => drop(sqlx::Connection::close(conn).await),
                Err(e) => tracing::warn!(error = %e, "could not switch the database back to WAL"),
            }
        }
    }

    /// The connection pool's size and idle connections, for `/metrics`.
    pub fn pool_stats(&self) -> (u32, usize) {
        on_pool!(self, p => (p.size(), p.num_idle()))
    }

    /// Whether the store answers a trivial query (for `/healthz`).
    pub async fn ping(&self) -> Result<()> {
        on_pool!(self, p => sqlx::query("SELECT 1").execute(p).await.map(|_| ()))?;
        Ok(())
    }
}
