//! Which database to use, chosen by URL scheme: `sqlite://PATH` (the
//! embedded default) or `postgres://…`; a plain file path is a SQLite file.
//! `Debug` hides the password so the URL can be logged.

use std::fmt;

use crate::StoreError;

/// The default database: a SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://yuanjiang.db";

/// Which backend a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// A parsed database URL.
#[derive(Clone, PartialEq, Eq)]
pub struct DbSettings {
    url: String,
    backend: Backend,
    bulk_load: bool,
}

impl DbSettings {
    /// Parses a URL, choosing the backend by its scheme. A value with no
    /// scheme at all (`/srv/yj/data.db`, `data.db`) is taken as the path
    /// of a SQLite file, as people type it.
    pub fn from_url(url: &str) -> Result<DbSettings, StoreError> {
        if !url.is_empty() && !url.contains("://") && !url.starts_with("sqlite:") {
            return Ok(DbSettings {
                url: format!("sqlite://{url}"),
                backend: Backend::Sqlite,
                bulk_load: false,
            });
        }
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::BadUrl(redact(url)));
        };
        Ok(DbSettings {
            url: url.to_owned(),
            backend,
            bulk_load: false,
        })
    }

    /// The same database, opened by a caller that means to be its only user
    /// while it loads a large file (`yuanjiang import`). On SQLite the store
    /// then writes through a rollback journal instead of the write-ahead log:
    /// the pages a load appends are written once, not to the log and again
    /// when it is checkpointed into the file. Opening fails with
    /// [`StoreError::InUse`] while another process has the file open; the
    /// caller then opens it as usual. PostgreSQL ignores it.
    pub fn for_bulk_load(mut self) -> DbSettings {
        self.bulk_load = true;
        self
    }

    /// Whether [`DbSettings::for_bulk_load`] asked for sole use.
    pub fn bulk_load(&self) -> bool {
        self.bulk_load
    }

    /// The backend the URL selects.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The full URL, password included: pass it to the driver, never to a log.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URL with any password replaced by `***`.
    pub fn redacted(&self) -> String {
        redact(&self.url)
    }
}

impl fmt::Debug for DbSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbSettings")
            .field("url", &self.redacted())
            .field("backend", &self.backend)
            .field("bulk_load", &self.bulk_load)
            .finish()
    }
}

fn redact(url: &str) -> String {
    // scheme://user:password@host → scheme://user:***@host
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((auth, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chooses_backend_and_hides_password() {
        let s = DbSettings::from_url("postgres://app:s3cret@db:5432/yj").expect("pg");
        assert_eq!(s.backend(), Backend::Postgres);
        assert_eq!(s.redacted(), "postgres://app:***@db:5432/yj");
        assert!(!format!("{s:?}").contains("s3cret"));
        let s = DbSettings::from_url(DEFAULT_DATABASE_URL).expect("sqlite");
        assert_eq!(s.backend(), Backend::Sqlite);
        assert!(matches!(
            DbSettings::from_url("mysql://x"),
            Err(StoreError::BadUrl(_))
        ));
        assert!(matches!(
            DbSettings::from_url(""),
            Err(StoreError::BadUrl(_))
        ));
    }

    #[test]
    fn a_plain_path_is_a_sqlite_file() {
        let s = DbSettings::from_url("/srv/yj/data.db").expect("absolute path");
        assert_eq!(s.backend(), Backend::Sqlite);
        assert_eq!(s.url(), "sqlite:///srv/yj/data.db");
        let s = DbSettings::from_url("data.db").expect("relative path");
        assert_eq!(s.url(), "sqlite://data.db");
    }
}
