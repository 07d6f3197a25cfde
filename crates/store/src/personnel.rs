//! Cadres and professionals (援疆干部人才) as stored. Their ID numbers and
//! phones are encrypted at rest (see [`crate::crypto`]) and read back in
//! clear only for those the access rules allow, masked for everyone else.

use std::fmt;

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::FromRow;
use yuanjiang_domain::personnel::{mask_id_number, mask_phone};
use yuanjiang_domain::{Assignment, AssignmentCategory, AssignmentMode, Viewer};

use crate::audit::AuditEntry;
use crate::crypto::{CryptoError, FieldKey};
use crate::parties::key;
use crate::projects::Page;
use crate::sql::{Param, Sql, bind_params};
use crate::{Result, Scope, Store, on_pool, on_tx};

/// Associated data of encrypted ID numbers.
pub(crate) const ID_NUMBER_COLUMN: &str = "assignments.id_number";
/// Associated data of encrypted phones.
pub(crate) const PHONE_COLUMN: &str = "assignments.phone";

/// Largest page of assignments served at once.
pub const MAX_ASSIGNMENT_PAGE: u32 = 1000;

/// Legacy rows encrypted per transaction on open.
const ENCRYPT_BATCH: i64 = 1000;

/// Filters on assignments; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssignmentFilter {
    /// Sending supporter; includes the supporters under it.
    pub supporter: Option<String>,
    /// Recipient unit; includes everything under it.
    pub recipient: Option<String>,
    /// Batch number (第N批).
    pub batch: Option<u32>,
}

/// Whether a row's personal data is shown in clear or masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonalData {
    /// ID number and phone in clear: the sending front command, the region.
    Clear,
    /// Masked, e.g. `6501**********1234`.
    Masked,
}

/// A stored assignment as one viewer may see it.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct AssignmentRow {
    /// Row id (the paging cursor).
    pub id: i64,
    /// The assignment, its ID number and phone in clear or masked.
    #[serde(flatten)]
    pub assignment: Assignment,
    /// Which of the two.
    pub personal_data: PersonalData,
}

impl fmt::Debug for AssignmentRow {
    /// Never shows the ID number or phone, even when the row holds them in clear.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = &self.assignment;
        f.debug_struct("AssignmentRow")
            .field("id", &self.id)
            .field("supporter_code", &a.supporter_code)
            .field("batch_number", &a.batch_number)
            .field("recipient_code", &a.recipient_code)
            .field("category", &a.category)
            .field("id_number", &a.id_number.as_deref().map(mask_id_number))
            .field("phone", &a.phone.as_deref().map(mask_phone))
            .field("personal_data", &self.personal_data)
            .finish_non_exhaustive()
    }
}

#[derive(FromRow)]
struct AssignmentRecord {
    id: i64,
    supporter_code: String,
    supporter_parent: Option<String>,
    batch_number: Option<i32>,
    person_name: String,
    id_number: Option<String>,
    phone: Option<String>,
    id_number_enc: Option<String>,
    phone_enc: Option<String>,
    category: String,
    mode: String,
    recipient_code: String,
    host_unit: String,
    post: String,
    arrival_date: NaiveDate,
    return_date: NaiveDate,
    appraisal: Option<String>,
}

/// Encrypts an assignment's ID number and phone for storage.
pub(crate) fn seal(
    key: &FieldKey,
    a: &Assignment,
) -> Result<(Option<String>, Option<String>), CryptoError> {
    Ok((
        a.id_number
            .as_deref()
            .map(|v| key.encrypt(ID_NUMBER_COLUMN, v))
            .transpose()?,
        a.phone
            .as_deref()
            .map(|v| key.encrypt(PHONE_COLUMN, v))
            .transpose()?,
    ))
}

/// Decrypts a stored value, preferring the encrypted column; the plaintext
/// column is read only for rows written by an older version since open.
pub(crate) fn open_value(
    key: &FieldKey,
    column: &'static str,
    sealed: Option<&str>,
    plain: Option<String>,
) -> Result<Option<String>, CryptoError> {
    match sealed {
        Some(s) => key.decrypt(column, s).map(Some),
        None => Ok(plain),
    }
}

impl Store {
    /// A page of assignments matching `filter` that `viewer` may see, in id
    /// order after `after`. The public sees none; a front command sees the
    /// people it (or a supporter under it) sent; a prefecture office those
    /// posted under its unit; the region, auditors and administrators all.
    /// ID numbers and phones are in clear only where
    /// [`Viewer::may_see_personal_data`] allows, masked otherwise.
    pub async fn assignments(
        &self,
        filter: &AssignmentFilter,
        viewer: &Viewer,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Page<AssignmentRow>> {
        if *viewer == Viewer::Public {
            return Ok(Page {
                items: Vec::new(),
                next_cursor: None,
            });
        }
        let limit = limit.clamp(1, MAX_ASSIGNMENT_PAGE);
        let mut sql = Sql::new(
            "SELECT a.id, a.supporter_code, s.parent_code AS supporter_parent, a.batch_number, \
             a.person_name, a.id_number, a.phone, a.id_number_enc, a.phone_enc, a.category, a.mode, \
             a.recipient_code, a.host_unit, a.post, a.arrival_date, a.return_date, a.appraisal \
             FROM assignments a JOIN supporters s ON s.code = a.supporter_code WHERE 1 = 1",
        );
        let scope = match Scope::of(viewer) {
            Some(Scope::Supporter(s)) => (Some(s), None),
            Some(Scope::Recipient(r)) => (None, Some(r)),
            None => (None, None),
        };
        for supporter in [&filter.supporter, &scope.0].into_iter().flatten() {
            let n = sql.param(Param::Text(supporter.clone()));
            sql.push(&format!(
                " AND (a.supporter_code = {n} OR s.parent_code = {n})"
            ));
        }
        for recipient in [&filter.recipient, &scope.1].into_iter().flatten() {
            // Codes are validated before they get here, so they hold no wildcard.
            let n = sql.param(Param::Text(format!("{recipient}%")));
            sql.push(&format!(" AND a.recipient_code LIKE {n}"));
        }
        if let Some(batch) = filter.batch {
            let n = sql.param(Param::I32(i32::try_from(batch).unwrap_or(i32::MAX)));
            sql.push(&format!(" AND a.batch_number = {n}"));
        }
        if let Some(after) = after {
            let n = sql.param(Param::I64(after));
            sql.push(&format!(" AND a.id > {n}"));
        }
        let n = sql.param(Param::I64(i64::from(limit)));
        sql.push(&format!(" ORDER BY a.id LIMIT {n}"));
        let records: Vec<AssignmentRecord> = on_pool!(self, p => {
            bind_params!(sqlx::query_as(sql.text()), &sql.params).fetch_all(p).await?
        });
        let mut items = Vec::with_capacity(records.len());
        for r in records {
            let id_number = open_value(
                &self.field_key,
                ID_NUMBER_COLUMN,
                r.id_number_enc.as_deref(),
                r.id_number,
            )?;
            let phone = open_value(
                &self.field_key,
                PHONE_COLUMN,
                r.phone_enc.as_deref(),
                r.phone,
            )?;
            let clear =
                viewer.may_see_personal_data(&r.supporter_code, r.supporter_parent.as_deref());
            let (id_number, phone, personal_data) = if clear {
                (id_number, phone, PersonalData::Clear)
            } else {
                (
                    id_number.as_deref().map(mask_id_number),
                    phone.as_deref().map(mask_phone),
                    PersonalData::Masked,
                )
            };
            items.push(AssignmentRow {
                id: r.id,
                personal_data,
                assignment: Assignment {
                    category: key(
                        "assignments.category",
                        &r.category,
                        AssignmentCategory::parse,
                    )?,
                    mode: key("assignments.mode", &r.mode, AssignmentMode::parse)?,
                    supporter_code: r.supporter_code,
                    batch_number: r.batch_number.and_then(|n| u32::try_from(n).ok()),
                    person_name: r.person_name,
                    id_number,
                    phone,
                    recipient_code: r.recipient_code,
                    host_unit: r.host_unit,
                    post: r.post,
                    arrival_date: r.arrival_date,
                    return_date: r.return_date,
                    appraisal: r.appraisal,
                },
            });
        }
        let next_cursor = if items.len() == limit as usize {
            items.last().map(|r| r.id.to_string())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// Records the field key's fingerprint in a new database, or checks it
    /// against the recorded one, so that a lost or changed key stops the
    /// start instead of mixing values under two keys.
    pub(crate) async fn check_field_key(&self) -> Result<()> {
        let fingerprint = self.field_key.fingerprint();
        let stored: Option<String> = on_pool!(self, p => {
            sqlx::query("INSERT INTO field_keys (version, fingerprint) VALUES (1, $1) \
                         ON CONFLICT (version) DO NOTHING")
                .bind(&fingerprint)
                .execute(p)
                .await?;
            sqlx::query_scalar("SELECT fingerprint FROM field_keys WHERE version = 1")
                .fetch_optional(p)
                .await?
        });
        match stored {
            Some(s) if s != fingerprint => Err(CryptoError::WrongKey { stored: s }.into()),
            _ => Ok(()),
        }
    }

    /// Encrypts ID numbers and phones still stored in clear (rows written
    /// before encryption at rest) and clears the plaintext columns, a batch
    /// per transaction, each with an audit entry. Idempotent; returns the
    /// number of rows encrypted.
    pub(crate) async fn encrypt_plaintext_personal_data(&self) -> Result<u64> {
        let mut total = 0u64;
        loop {
            let mut txn = self.begin().await?;
            let rows: Vec<(i64, Option<String>, Option<String>)> = on_tx!(txn, tx, Db => {
                sqlx::query_as(
                    "SELECT id, id_number, phone FROM assignments \
                     WHERE id_number IS NOT NULL OR phone IS NOT NULL ORDER BY id LIMIT $1",
                )
                .bind(ENCRYPT_BATCH)
                .fetch_all(&mut **tx)
                .await?
            });
            if rows.is_empty() {
                return Ok(total);
            }
            for (id, id_number, phone) in &rows {
                let id_enc = id_number
                    .as_deref()
                    .map(|v| self.field_key.encrypt(ID_NUMBER_COLUMN, v))
                    .transpose()?;
                let phone_enc = phone
                    .as_deref()
                    .map(|v| self.field_key.encrypt(PHONE_COLUMN, v))
                    .transpose()?;
                on_tx!(txn, tx, Db => {
                    sqlx::query(
                        "UPDATE assignments SET id_number_enc = COALESCE($1, id_number_enc), \
                         phone_enc = COALESCE($2, phone_enc), id_number = NULL, phone = NULL \
                         WHERE id = $3",
                    )
                    .bind(id_enc)
                    .bind(phone_enc)
                    .bind(*id)
                    .execute(&mut **tx)
                    .await?;
                });
            }
            let after = serde_json::json!({
                "encrypted_rows": rows.len(),
                "first_id": rows.first().map(|r| r.0),
                "last_id": rows.last().map(|r| r.0),
            });
            txn.append_audit(&AuditEntry {
                actor: "system",
                action: "encrypt_personal_data",
                entity: "assignment",
                entity_key: "*",
                before: None,
                after: Some(&after),
            })
            .await?;
            txn.commit().await?;
            total += rows.len() as u64;
            tracing::info!(rows = rows.len(), "encrypted personal data left in clear");
        }
    }
}
