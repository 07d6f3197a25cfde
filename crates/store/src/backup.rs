//! Online backup and restore of the embedded SQLite database. `VACUUM INTO`
//! writes a consistent copy while writers continue (it reads one snapshot);
//! restore checks the copy before it replaces anything. PostgreSQL is backed
//! up with its own tools (`pg_dump`), as the README says.

use std::path::Path;

use yuanjiang_domain::DomainError;

use crate::{Backend, DbSettings, Result, Store, StoreError};

fn not_sqlite() -> StoreError {
    StoreError::Rule(DomainError::new(
        "backup_sqlite_only",
        "此命令只用于内嵌 SQLite 数据库；PostgreSQL 请使用 pg_dump / pg_restore",
        "this command is for the embedded SQLite database; for PostgreSQL use pg_dump / pg_restore",
    ))
}

impl Store {
    /// Writes a consistent copy of the database to `target` (which must not exist).
    pub async fn backup_to(&self, target: &Path) -> Result<()> {
        let crate::Pool::Sqlite(pool) = &self.pool else {
            return Err(not_sqlite());
        };
        if target.exists() {
            return Err(StoreError::Rule(DomainError::new(
                "backup_target_exists",
                format!("备份文件 {} 已存在，不会覆盖", target.display()),
                format!(
                    "backup file {} exists; it will not be overwritten",
                    target.display()
                ),
            )));
        }
        let path = target.to_string_lossy().to_string();
        sqlx::query("VACUUM INTO $1")
            .bind(path)
            .execute(pool)
            .await?;
        Ok(())
    }
}

/// Replaces the SQLite database of `settings` with the backup at `source`,
/// after checking the backup's integrity. Run it with the server stopped.
pub async fn restore_sqlite(settings: &DbSettings, source: &Path) -> Result<()> {
    if settings.backend() != Backend::Sqlite {
        return Err(not_sqlite());
    }
    let source_url = format!("sqlite://{}?mode=ro", source.display());
    let check = Store::open_read_only_check(&source_url).await?;
    if check != "ok" {
        return Err(StoreError::Rule(DomainError::new(
            "backup_corrupt",
            format!("备份文件未通过完整性检查：{check}"),
            format!("the backup fails its integrity check: {check}"),
        )));
    }
    let target = settings
        .url()
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    // Copy beside the target, then rename: the database is never half-written.
    let staging = format!("{target}.restoring");
    std::fs::copy(source, &staging).map_err(|e| io_error(&e))?;
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{target}{suffix}"));
    }
    std::fs::rename(&staging, &target).map_err(|e| io_error(&e))?;
    Ok(())
}

fn io_error(e: &std::io::Error) -> StoreError {
    StoreError::Rule(DomainError::new(
        "restore_io_failed",
        format!("恢复失败：{e}"),
        format!("restore failed: {e}"),
    ))
}

impl Store {
    /// `PRAGMA integrity_check` of a SQLite file opened read-only.
    async fn open_read_only_check(url: &str) -> Result<String> {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(url).await?;
        let result: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&mut conn)
            .await?;
        conn.close().await?;
        Ok(result)
    }
}
