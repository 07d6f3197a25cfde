//! The exchange crate's error type: failures to run an import or export at
//! all (the database, the file system, a bad option). Problems with the
//! content of an imported file are not errors but [`crate::Issue`]s in the report.

use std::path::PathBuf;

use thiserror::Error;
use yuanjiang_domain::DomainError;
use yuanjiang_store::StoreError;

/// A failure of an import or export.
#[derive(Debug, Error)]
pub enum ExchangeError {
    /// The database failed, or refused a write.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Writing an xlsx file failed.
    #[error("xlsx: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    /// Writing CSV failed.
    #[error("csv: {0}")]
    Csv(#[from] csv::Error),
    /// Writing JSON failed.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// The thread reading an imported file panicked (a bug, not the file:
    /// a file's problems are issues).
    #[error("the file's reader stopped: {0}")]
    Reader(String),
    /// An option was invalid (a filter, a kind), with bilingual messages.
    #[error(transparent)]
    Invalid(#[from] DomainError),
}

impl ExchangeError {
    /// Wraps an I/O error with the file it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> ExchangeError {
        ExchangeError::Io {
            path: path.into(),
            source,
        }
    }
}
