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
    /// A stored value could not be read back as its domain type.
    #[error("corrupt value in {column}: {value}")]
    Corrupt {
        /// Column.
        column: &'static str,
        /// Offending value.
        value: String,
    },
}
