//! The store's error type. The database's own message is kept as the cause
//! for the log; callers show users only the kind of failure.

use thiserror::Error;
use yuanjiang_domain::DomainError;

/// A failure of the store.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database URL is not one we can use.
    #[error("unsupported database URL: {0}")]
    BadUrl(String),
    /// The database answered with an error, or could not be reached.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Stored data broke a domain rule, or a write would.
    #[error(transparent)]
    Rule(#[from] DomainError),
    /// The record does not exist.
    #[error("not found")]
    NotFound,
    /// The caller edited an older version than the one stored (HTTP 412).
    #[error("version mismatch: stored version is {current}")]
    VersionMismatch {
        /// The version now stored.
        current: i64,
    },
    /// The write replaces an existing record but named no version (HTTP 428).
    #[error("version required: stored version is {current}")]
    VersionRequired {
        /// The version now stored.
        current: i64,
    },
    /// A record with the same natural key exists already (HTTP 409).
    #[error("duplicate: {0}")]
    Duplicate(String),
    /// Password hashing failed (the cause is for the log only).
    #[error("cryptographic operation failed: {0}")]
    Crypto(String),
    /// The field key is unusable, or personal data did not decrypt.
    #[error(transparent)]
    FieldCrypto(#[from] crate::CryptoError),
    /// An attachment file could not be written or read (the cause is for the log only).
    #[error("attachment file {path}: {source}")]
    File {
        /// The file or directory.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A stored value could not be read back as its domain type.
    #[error("corrupt value in {column}: {value}")]
    Corrupt {
        /// Column.
        column: &'static str,
        /// Offending value.
        value: String,
    },
    /// Sole use was asked for ([`crate::DbSettings::for_bulk_load`]) while
    /// another process has the SQLite file open.
    #[error("the database is open in another process")]
    InUse,
}

impl StoreError {
    /// Maps a unique-constraint violation to [`StoreError::Duplicate`], naming what clashed.
    pub(crate) fn unique(e: sqlx::Error, what: &str) -> StoreError {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Duplicate(what.to_owned())
            }
            _ => StoreError::Database(e),
        }
    }
}

/// Why the database refused to store anything, when it is the storage's
/// fault rather than the request's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageRefusal {
    /// The disk (or the database's quota) is full.
    Full,
    /// The database file or server is read-only.
    ReadOnly,
}

impl StoreError {
    /// A full disk or a read-only database behind this error, if that is what it is.
    pub fn storage_refusal(&self) -> Option<StorageRefusal> {
        let StoreError::Database(sqlx::Error::Database(db)) = self else {
            return None;
        };
        let code = db.code().unwrap_or_default();
        let message = db.message().to_ascii_lowercase();
        // SQLite: SQLITE_FULL (13) and SQLITE_READONLY (8) with their
        // extended codes; PostgreSQL: disk_full (53100) and
        // read_only_sql_transaction (25006).
        let primary = code.parse::<i64>().map_or(-1, |c| c & 0xff);
        if primary == 13 || code == "53100" || message.contains("disk is full") {
            Some(StorageRefusal::Full)
        } else if primary == 8 || code == "25006" || message.contains("readonly") {
            Some(StorageRefusal::ReadOnly)
        } else {
            None
        }
    }
}
