//! Attachments: documents and photos on projects and approval steps.
//!
//! The bytes are stored on disk by content: `<dir>/<first two hex>/<sm3hex>`,
//! where `sm3hex` is the SM3 hash of the content. A file is written aside
//! and renamed into place, so it is never seen half-written; content that
//! is already there is not written again, so two rows with the same bytes
//! share one file. The row (and its audit entry) is committed after the
//! file is in place: a failed transaction can leave an unreferenced file,
//! never a row without its file. Reads check the content against its hash.
//!
//! The type is judged from the bytes (`FileType::detect`), never from the
//! name. Who may upload or read is decided by the caller (the server) with
//! `Viewer::may`, as for every other write.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;
use serde_json::json;
use sm3::{Digest, Sm3};
use yuanjiang_domain::attachment::{check_size, display_file_name};
use yuanjiang_domain::{ApprovalStep, AttachmentKind, DomainError, FileType, Principal};

use crate::audit::AuditEntry;
use crate::parties::key;
use crate::writes::project_in;
use crate::{Backend, DATA_DIR_ENV, DbSettings, Result, Store, StoreError, on_pool, on_tx};

/// Environment variable naming the directory of attachment files.
pub const ATTACHMENTS_DIR_ENV: &str = "YUANJIANG_ATTACHMENTS_DIR";

/// An attachment's record (the bytes are read with [`Store::attachment_content`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    /// Row id, the attachment's key in URLs.
    pub id: i64,
    /// The project it belongs to.
    pub project_code: String,
    /// The approval step it belongs to, if any.
    pub step_id: Option<i64>,
    /// What it is.
    pub kind: AttachmentKind,
    /// The file name as shown (made safe by `display_file_name`).
    pub file_name: String,
    /// The media type recognised from the content.
    pub media_type: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// SM3 of the content, lower-case hex: the file's name on disk.
    pub content_sm3: String,
    /// Who uploaded it.
    pub uploaded_by: String,
    /// When.
    pub uploaded_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct AttachmentRecord {
    id: i64,
    project_code: String,
    step_id: Option<i64>,
    kind: String,
    file_name: String,
    media_type: String,
    size_bytes: i64,
    content_sm3: String,
    uploaded_by: String,
    uploaded_at: DateTime<Utc>,
}

impl AttachmentRecord {
    fn into_attachment(self) -> Result<Attachment> {
        Ok(Attachment {
            id: self.id,
            project_code: self.project_code,
            step_id: self.step_id,
            kind: key("attachments.kind", &self.kind, AttachmentKind::parse)?,
            file_name: self.file_name,
            media_type: self.media_type,
            size_bytes: self.size_bytes,
            content_sm3: self.content_sm3,
            uploaded_by: self.uploaded_by,
            uploaded_at: self.uploaded_at,
        })
    }
}

const ATTACHMENT_COLUMNS: &str = "a.id, p.code AS project_code, a.step_id, a.kind, a.file_name, \
     a.media_type, a.size_bytes, a.content_sm3, a.uploaded_by, a.uploaded_at";

/// An approval step a file may be attached to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepRef {
    /// The step's row id.
    pub id: i64,
    /// What was done.
    pub step: ApprovalStep,
    /// Who did it.
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// The attachment directory for `settings` when none is configured:
/// `YUANJIANG_ATTACHMENTS_DIR` if set; else beside a SQLite file
/// (`path/x.db` → `path/x.attachments`); else `attachments` in the data
/// directory (`YUANJIANG_DATA_DIR`, or the working directory).
pub fn default_attachment_dir(settings: &DbSettings) -> PathBuf {
    if let Some(dir) = std::env::var_os(ATTACHMENTS_DIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if settings.backend() == Backend::Sqlite {
        let url = settings.url();
        let file = sqlx::sqlite::SqliteConnectOptions::from_str(url)
            .ok()
            .map(|o| o.get_filename().to_owned());
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        if let Some(file) = file.filter(|_| !in_memory)
            && let Some(stem) = file.file_stem().filter(|s| !s.is_empty())
        {
            let mut name = stem.to_owned();
            name.push(".attachments");
            return file.with_file_name(name);
        }
    }
    std::env::var_os(DATA_DIR_ENV)
        .filter(|d| !d.is_empty())
        .map_or_else(|| PathBuf::from("."), PathBuf::from)
        .join("attachments")
}

/// SM3 of `bytes`, lower-case hex.
fn sm3_hex(bytes: &[u8]) -> String {
    Sm3::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn file_error(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::File {
        path: path.to_owned(),
        source,
    }
}

/// The path of content `hex` under `dir`.
fn content_path(dir: &Path, hex: &str) -> PathBuf {
    dir.join(hex.get(..2).unwrap_or("00")).join(hex)
}

/// Creates `dir` and its parents, readable by the owner only on Unix
/// (documents may hold personal data).
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Writes `bytes` under `dir` by their SM3 unless already there; returns the hash.
fn put_content(dir: &Path, bytes: &[u8]) -> Result<String> {
    let hex = sm3_hex(bytes);
    let path = content_path(dir, &hex);
    let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if std::fs::metadata(&path).is_ok_and(|m| m.is_file() && m.len() == len)
        && std::fs::read(&path).is_ok_and(|stored| sm3_hex(&stored) == hex)
    {
        // The same content is stored already (a damaged copy is replaced below).
        return Ok(hex);
    }
    let sub = path.parent().unwrap_or(dir);
    create_private_dir(sub).map_err(|e| file_error(sub, e))?;
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).map_err(|_| StoreError::from(crate::CryptoError::Random))?;
    let tmp = sub.join(format!(
        ".{hex}.{}.{}.tmp",
        std::process::id(),
        suffix
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    ));
    let written = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        // Atomic on one file system: readers see the old state or the whole file.
        std::fs::rename(&tmp, &path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(file_error(&path, e));
    }
    Ok(hex)
}

/// Reads content `hex` of `size` bytes from `dir`, refusing it if it does
/// not match its hash.
fn get_content(dir: &Path, hex: &str, size: i64) -> Result<Vec<u8>> {
    let path = content_path(dir, hex);
    let bytes = std::fs::read(&path).map_err(|e| file_error(&path, e))?;
    if i64::try_from(bytes.len()).ok() != Some(size) || sm3_hex(&bytes) != hex {
        return Err(StoreError::Corrupt {
            column: "attachments.content_sm3",
            value: hex.to_owned(),
        });
    }
    Ok(bytes)
}

async fn blocking<T: Send + 'static>(
    dir: &Path,
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| file_error(dir, std::io::Error::other(e.to_string())))?
}

impl Store {
    /// The directory holding attachment files.
    pub fn attachment_dir(&self) -> &Path {
        &self.attachment_dir
    }

    /// This store with its attachment files in `dir` (created on the first
    /// upload) instead of the default of [`default_attachment_dir`].
    pub fn with_attachment_dir(mut self, dir: impl Into<PathBuf>) -> Store {
        self.attachment_dir = Arc::from(dir.into());
        self
    }

    /// Stores `content` as an attachment of project `code` (and of its
    /// approval step `step_id`), after checking its size and recognising
    /// its type from the bytes; records who uploaded it in the audit trail.
    /// The caller has checked that `actor` may edit the project.
    pub async fn add_attachment<C: AsRef<[u8]> + Send + 'static>(
        &self,
        actor: &Principal,
        code: &str,
        step_id: Option<i64>,
        kind: AttachmentKind,
        file_name: &str,
        content: C,
    ) -> Result<Attachment> {
        let bytes = content.as_ref();
        check_size(bytes.len())?;
        let ty = FileType::detect(bytes)?;
        let file_name = display_file_name(file_name, ty);
        let size_bytes = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        let dir = self.attachment_dir.clone();
        let content_sm3 =
            blocking(&dir.clone(), move || put_content(&dir, content.as_ref())).await?;

        let mut tx = self.begin().await?;
        let project = project_in(&mut tx, code).await?;
        if let Some(step) = step_id {
            let owner: Option<i64> = on_tx!(tx, t, Db => {
                sqlx::query_scalar("SELECT project_id FROM approval_steps WHERE id = $1")
                    .bind(step)
                    .fetch_optional(&mut **t)
                    .await?
            });
            if owner != Some(project.id) {
                return Err(DomainError::new(
                    "unknown_approval_step",
                    format!("项目 {code} 没有编号为 {step} 的审批步骤"),
                    format!("project {code} has no approval step {step}"),
                )
                .into());
            }
        }
        // Microseconds: what PostgreSQL keeps, so the row returned equals the row stored.
        let uploaded_at = Utc::now().trunc_subsecs(6);
        let id: i64 = on_tx!(tx, t, Db => {
            sqlx::query_scalar(
                "INSERT INTO attachments (project_id, step_id, kind, file_name, media_type, \
                 size_bytes, content_sm3, uploaded_by, uploaded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            )
            .bind(project.id)
            .bind(step_id)
            .bind(kind.key())
            .bind(&file_name)
            .bind(ty.media_type())
            .bind(size_bytes)
            .bind(&content_sm3)
            .bind(&actor.name)
            .bind(uploaded_at)
            .fetch_one(&mut **t)
            .await?
        });
        let attachment = Attachment {
            id,
            project_code: code.to_owned(),
            step_id,
            kind,
            file_name,
            media_type: ty.media_type().to_owned(),
            size_bytes,
            content_sm3,
            uploaded_by: actor.name.clone(),
            uploaded_at,
        };
        tx.append_audit(&AuditEntry {
            actor: &actor.name,
            action: "create",
            entity: "attachment",
            entity_key: &id.to_string(),
            before: None,
            after: Some(&json!({
                "project": attachment.project_code,
                "step_id": attachment.step_id,
                "kind": attachment.kind,
                "file_name": attachment.file_name,
                "media_type": attachment.media_type,
                "size_bytes": attachment.size_bytes,
                "content_sm3": attachment.content_sm3,
            })),
        })
        .await?;
        tx.commit().await?;
        Ok(attachment)
    }

    /// The attachments of a project (by row id), oldest first.
    pub async fn project_attachments(&self, project_id: i64) -> Result<Vec<Attachment>> {
        let sql = format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM attachments a JOIN projects p ON p.id = a.project_id \
             WHERE a.project_id = $1 ORDER BY a.id"
        );
        let records: Vec<AttachmentRecord> = on_pool!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(project_id).fetch_all(p).await?
        });
        records
            .into_iter()
            .map(AttachmentRecord::into_attachment)
            .collect()
    }

    /// One attachment's record; the caller checks the project's scope.
    pub async fn attachment(&self, id: i64) -> Result<Option<Attachment>> {
        let sql = format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM attachments a JOIN projects p ON p.id = a.project_id \
             WHERE a.id = $1"
        );
        let record: Option<AttachmentRecord> = on_pool!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?
        });
        record.map(AttachmentRecord::into_attachment).transpose()
    }

    /// The bytes of an attachment, checked against its SM3 and size.
    pub async fn attachment_content(&self, attachment: &Attachment) -> Result<Vec<u8>> {
        let dir = self.attachment_dir.clone();
        let hex = attachment.content_sm3.clone();
        let size = attachment.size_bytes;
        blocking(&dir.clone(), move || get_content(&dir, &hex, size)).await
    }

    /// The approval steps of a project (by row id) that a file may be
    /// attached to, oldest first.
    pub async fn attachable_steps(&self, project_id: i64) -> Result<Vec<StepRef>> {
        let rows: Vec<(i64, String, String, DateTime<Utc>)> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT id, step, actor, at FROM approval_steps WHERE project_id = $1 ORDER BY id",
            )
            .bind(project_id)
            .fetch_all(p)
            .await?
        });
        rows.into_iter()
            .map(|(id, step, actor, at)| {
                Ok(StepRef {
                    id,
                    step: key("approval_steps.step", &step, ApprovalStep::parse)?,
                    actor,
                    at,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_directory_is_beside_the_sqlite_file() {
        // Only meaningful when the variable is not set in the environment.
        if std::env::var_os(ATTACHMENTS_DIR_ENV).is_some() {
            return;
        }
        let s = DbSettings::from_url("sqlite:///srv/yj/data/main.db").expect("url");
        assert_eq!(
            default_attachment_dir(&s),
            PathBuf::from("/srv/yj/data/main.attachments")
        );
    }

    #[test]
    fn content_is_stored_once_by_its_hash_and_checked_on_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = put_content(dir.path(), b"%PDF-1.4 same").expect("first");
        let b = put_content(dir.path(), b"%PDF-1.4 same").expect("second");
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
        let path = dir.path().join(&a[..2]).join(&a);
        assert_eq!(std::fs::read(&path).expect("read"), b"%PDF-1.4 same");
        assert_eq!(
            std::fs::read_dir(dir.path().join(&a[..2]))
                .expect("dir")
                .count(),
            1
        );
        assert_eq!(
            get_content(dir.path(), &a, 13).expect("content"),
            b"%PDF-1.4 same"
        );
        std::fs::write(&path, b"%PDF-1.4 SAME").expect("tamper");
        assert!(matches!(
            get_content(dir.path(), &a, 13),
            Err(StoreError::Corrupt { .. })
        ));
    }
}
