//! The audit trail (审计日志): an append-only log of every write, each entry
//! chained to the one before by an SM3 hash, so that changing, removing or
//! inserting an entry is found by [`Store::verify_audit`].
//!
//! Writes append their entry with [`Tx::append_audit`] inside their own
//! transaction, so an entry exists exactly when its write was committed.
//!
//! The hash of entry `n` is `SM3(prev_hash ‖ enc(id) ‖ enc(at) ‖ enc(actor) ‖
//! enc(action) ‖ enc(entity) ‖ enc(entity_key) ‖ enc(before_json) ‖
//! enc(after_json))` in lower-case hex, where `prev_hash` is the previous
//! entry's hash as 64 hex characters (64 zeros for the first entry), `enc` of
//! a text is its UTF-8 byte length in decimal, `:`, then its bytes, and `enc`
//! of NULL is `-`; `id` is encoded as its decimal text. Length prefixes keep
//! fields from shifting into each other. Every input is the stored text, so
//! anyone can recompute the chain from the table alone, on either backend.
//!
//! Ids have no gaps: an append takes the database's write lock (SQLite's
//! `BEGIN IMMEDIATE`; an advisory lock on PostgreSQL) and uses the last id
//! plus one, so two writers never chain to the same predecessor and a
//! missing id means a removed entry.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::Utc;
use serde::Serialize;
use serde_json::Value;
use sm3::{Digest, Sm3};
use sqlx::FromRow;
use yuanjiang_domain::personnel::{mask_id_number, mask_phone};

use crate::projects::Page;
use crate::sql::{Param, Sql, bind_params};
use crate::{Result, Store, Tx, on_pool, on_tx};

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Entries read per query when verifying, so that memory stays bounded
/// however long the trail is.
const VERIFY_PAGE: i64 = 10_000;

/// Largest page [`Store::audit_entries`] serves at once.
pub const MAX_AUDIT_PAGE: u32 = 1000;

/// Key of the PostgreSQL advisory lock that serialises appends ("YJaudit!").
const AUDIT_LOCK_KEY: i64 = 0x594a_6175_6469_7421;

/// One write to record: who did what to which record, and the record
/// before and after (absent for creation and removal respectively).
///
/// Personal data (`id_number`, `phone`) and secrets (`password`, `token`,
/// `secret` keys) in `before`/`after` are masked before they are stored:
/// the trail is readable by auditors, who may not see them in clear.
#[derive(Clone, Copy)]
pub struct AuditEntry<'a> {
    /// User name of whoever made the change (`system` for the platform itself).
    pub actor: &'a str,
    /// What was done, e.g. `create`, `update`, `change_state`.
    pub action: &'a str,
    /// Kind of record, e.g. `project`, `fund_transaction`.
    pub entity: &'a str,
    /// The record's key, e.g. a project code.
    pub entity_key: &'a str,
    /// The record before the change.
    pub before: Option<&'a Value>,
    /// The record after the change.
    pub after: Option<&'a Value>,
}

/// A stored audit entry, every column as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct AuditRecord {
    /// Position in the chain, from 1, without gaps.
    pub id: i64,
    /// When, UTC RFC 3339 with microseconds (`2026-11-29T08:15:00.123456Z`).
    pub at: String,
    /// Who.
    pub actor: String,
    /// What was done.
    pub action: String,
    /// Kind of record.
    pub entity: String,
    /// The record's key.
    pub entity_key: String,
    /// The record before, as JSON text.
    pub before_json: Option<String>,
    /// The record after, as JSON text.
    pub after_json: Option<String>,
    /// The previous entry's hash.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

impl AuditRecord {
    /// The hash this entry should have, given its stored `prev_hash`.
    pub fn expected_hash(&self) -> String {
        entry_hash(
            &self.prev_hash,
            self.id,
            &self.at,
            [
                Some(self.actor.as_str()),
                Some(&self.action),
                Some(&self.entity),
                Some(&self.entity_key),
                self.before_json.as_deref(),
                self.after_json.as_deref(),
            ],
        )
    }
}

/// Filters on the audit trail; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Kind of record, e.g. `project`.
    pub entity: Option<String>,
    /// The record's key (with `entity`, one record's history).
    pub entity_key: Option<String>,
    /// Who made the changes.
    pub actor: Option<String>,
}

/// The result of [`Store::verify_audit`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum AuditVerdict {
    /// Every entry hashes right and links to the one before.
    Intact {
        /// Number of entries.
        entries: u64,
        /// The last entry's hash ([`GENESIS_HASH`] when empty). Recording it
        /// elsewhere (in the monthly bulletin, say) also anchors the entries
        /// so far against a rewrite of the whole chain or of its end.
        head: String,
    },
    /// The first bad entry.
    Broken(AuditBreak),
}

/// Where and how the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditBreak {
    /// The first bad entry (for a removal: the first missing id).
    pub id: i64,
    /// What is wrong with it.
    pub reason: BreakReason,
    /// Entries before it that verified.
    pub verified: u64,
}

/// What is wrong with an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BreakReason {
    /// Its content does not hash to its stored hash: it was changed.
    Changed,
    /// Its `prev_hash` is not the previous entry's hash: an entry before it
    /// was removed, inserted or rewritten.
    Relinked,
    /// The id is absent: entries were removed up to `next_present`.
    Missing {
        /// The next id present.
        next_present: i64,
    },
    /// The id is out of sequence (before the first entry or repeated): the
    /// entry was inserted.
    Inserted,
}

impl AuditBreak {
    /// Stable code of the break.
    pub fn code(&self) -> &'static str {
        match self.reason {
            BreakReason::Changed => "audit_entry_changed",
            BreakReason::Relinked => "audit_chain_relinked",
            BreakReason::Missing { .. } => "audit_entry_missing",
            BreakReason::Inserted => "audit_entry_inserted",
        }
    }

    /// What is wrong, in Chinese.
    pub fn zh(&self) -> String {
        let id = self.id;
        match self.reason {
            BreakReason::Changed => {
                format!("第 {id} 条审计记录的内容与其哈希值不符：该记录已被修改")
            }
            BreakReason::Relinked => format!(
                "第 {id} 条审计记录的前序哈希值与第 {} 条不符：其前的记录被删除、插入或改写",
                id - 1
            ),
            BreakReason::Missing { next_present } => {
                format!("第 {id} 条审计记录缺失（下一条为第 {next_present} 条）：记录已被删除")
            }
            BreakReason::Inserted => {
                format!("第 {id} 条审计记录的编号不在序列中：该记录系插入")
            }
        }
    }

    /// What is wrong, in English.
    pub fn en(&self) -> String {
        let id = self.id;
        match self.reason {
            BreakReason::Changed => {
                format!("audit entry {id} does not match its hash: it was changed")
            }
            BreakReason::Relinked => format!(
                "audit entry {id} does not link to entry {}: an entry before it was removed, inserted or rewritten",
                id - 1
            ),
            BreakReason::Missing { next_present } => format!(
                "audit entry {id} is missing (the next is {next_present}): entries were removed"
            ),
            BreakReason::Inserted => {
                format!("audit entry {id} is out of sequence: it was inserted")
            }
        }
    }
}

/// The current time as stored in `audit_log.at`: UTC, microseconds, `Z`.
fn now_text() -> String {
    Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// SM3 over `prev_hash` and the length-prefixed fields (see the module doc).
fn entry_hash(prev_hash: &str, id: i64, at: &str, rest: [Option<&str>; 6]) -> String {
    let mut h = Sm3::new();
    h.update(prev_hash.as_bytes());
    let mut field = |value: Option<&str>| match value {
        Some(v) => {
            h.update(v.len().to_string().as_bytes());
            h.update(b":");
            h.update(v.as_bytes());
        }
        None => h.update(b"-"),
    };
    field(Some(&id.to_string()));
    field(Some(at));
    for value in rest {
        field(value);
    }
    let digest = h.finalize();
    let mut hex = String::with_capacity(64);
    for b in digest {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

/// Masks personal data and secrets anywhere in a JSON value.
fn redact(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let lower = k.to_ascii_lowercase();
                    let v = match (lower.as_str(), v) {
                        ("id_number", Value::String(s)) => Value::String(mask_id_number(s)),
                        ("phone", Value::String(s)) => Value::String(mask_phone(s)),
                        (key, Value::Null) if is_secret(key) => Value::Null,
                        (key, _) if is_secret(key) => Value::String("***".into()),
                        _ => redact(v),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

fn is_secret(key: &str) -> bool {
    ["password", "token", "secret"]
        .iter()
        .any(|s| key.contains(s))
}

impl Tx {
    /// Appends an entry to the audit trail inside this transaction: it
    /// becomes visible, chained to the last entry, when the transaction
    /// commits, and vanishes with it on rollback.
    ///
    /// On PostgreSQL this takes a transaction-scoped advisory lock that is
    /// held until commit, serialising appends; call it late in the
    /// transaction, and only in READ COMMITTED transactions (the default),
    /// so that the last entry read is the last committed one. Should two
    /// writers ever read the same last entry, the second insert fails on the
    /// primary key instead of forking the chain.
    pub(crate) async fn append_audit(&mut self, entry: &AuditEntry<'_>) -> Result<()> {
        let before = entry.before.map(|v| redact(v).to_string());
        let after = entry.after.map(|v| redact(v).to_string());
        let at = now_text();
        if let Tx::Postgres(tx) = self {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(AUDIT_LOCK_KEY)
                .execute(&mut **tx)
                .await?;
        }
        on_tx!(*self, tx, Db => {
            let last: Option<(i64, String)> =
                sqlx::query_as("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")
                    .fetch_optional(&mut **tx)
                    .await?;
            let (id, prev_hash) = match last {
                Some((id, hash)) => (id + 1, hash),
                None => (1, GENESIS_HASH.to_owned()),
            };
            let hash = entry_hash(
                &prev_hash,
                id,
                &at,
                [
                    Some(entry.actor),
                    Some(entry.action),
                    Some(entry.entity),
                    Some(entry.entity_key),
                    before.as_deref(),
                    after.as_deref(),
                ],
            );
            sqlx::query(
                "INSERT INTO audit_log (id, at, actor, action, entity, entity_key, \
                 before_json, after_json, prev_hash, hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(id)
            .bind(&at)
            .bind(entry.actor)
            .bind(entry.action)
            .bind(entry.entity)
            .bind(entry.entity_key)
            .bind(before.as_deref())
            .bind(after.as_deref())
            .bind(&prev_hash)
            .bind(&hash)
            .execute(&mut **tx)
            .await?;
        });
        Ok(())
    }
}

/// What a bulk write wrote, by table, for its one audit entry.
#[derive(Debug, Clone, Default)]
pub(crate) struct BulkSummary {
    written: BTreeMap<&'static str, u64>,
}

impl BulkSummary {
    /// Counts `n` rows written to `table`.
    pub(crate) fn add(&mut self, table: &'static str, n: usize) {
        *self.written.entry(table).or_default() += n as u64;
    }

    /// Appends one `bulk_load` entry with the counts, unless nothing was written.
    pub(crate) async fn append_to(&self, tx: &mut Tx) -> Result<()> {
        if self.written.values().all(|&n| n == 0) {
            return Ok(());
        }
        let after = serde_json::json!({ "written": self.written });
        tx.append_audit(&AuditEntry {
            actor: "system",
            action: "bulk_load",
            entity: "database",
            entity_key: "bulk",
            before: None,
            after: Some(&after),
        })
        .await
    }
}

const AUDIT_COLUMNS: &str =
    "id, at, actor, action, entity, entity_key, before_json, after_json, prev_hash, hash";

impl Store {
    /// Records an event that has no write of its own (a sign-in, an
    /// export, a change of user) in its own transaction. Writes record
    /// theirs with [`Tx::append_audit`] inside their transaction instead.
    pub async fn record_audit(&self, entry: &AuditEntry<'_>) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.append_audit(entry).await?;
        tx.commit().await
    }

    /// A page of audit entries matching `filter`, in chain order, after the
    /// entry `after_id`.
    pub async fn audit_entries(
        &self,
        filter: &AuditFilter,
        after_id: Option<i64>,
        limit: u32,
    ) -> Result<Page<AuditRecord>> {
        let limit = limit.clamp(1, MAX_AUDIT_PAGE);
        let mut sql = Sql::new(&format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE 1 = 1"
        ));
        for (value, column) in [
            (&filter.entity, "entity"),
            (&filter.entity_key, "entity_key"),
            (&filter.actor, "actor"),
        ] {
            if let Some(v) = value {
                let n = sql.param(Param::Text(v.clone()));
                sql.push(&format!(" AND {column} = {n}"));
            }
        }
        if let Some(after) = after_id {
            let n = sql.param(Param::I64(after));
            sql.push(&format!(" AND id > {n}"));
        }
        let n = sql.param(Param::I64(i64::from(limit)));
        sql.push(&format!(" ORDER BY id LIMIT {n}"));
        let items: Vec<AuditRecord> = on_pool!(self, p => {
            bind_params!(sqlx::query_as(sql.text()), &sql.params).fetch_all(p).await?
        });
        let next_cursor = if items.len() == limit as usize {
            items.last().map(|r| r.id.to_string())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// Checks the whole chain in id order and returns the first bad entry,
    /// or the count and head hash when intact. Reads [`VERIFY_PAGE`] entries
    /// at a time, so memory stays bounded for millions of entries.
    pub async fn verify_audit(&self) -> Result<AuditVerdict> {
        let mut verified = 0u64;
        // The paging cursor starts below any id, so that an entry forged
        // with an id of 0 or less is read (and refused) too.
        let mut cursor = i64::MIN;
        let mut last_id = 0i64;
        let mut last_hash = GENESIS_HASH.to_owned();
        loop {
            let page: Vec<AuditRecord> = on_pool!(self, p => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2"
                )))
                .bind(cursor)
                .bind(VERIFY_PAGE)
                .fetch_all(p)
                .await?
            });
            let full = page.len() as i64 == VERIFY_PAGE;
            for record in page {
                if let Some(reason) = check_link(&record, last_id, &last_hash) {
                    let id = match reason {
                        BreakReason::Missing { .. } => last_id + 1,
                        _ => record.id,
                    };
                    return Ok(AuditVerdict::Broken(AuditBreak {
                        id,
                        reason,
                        verified,
                    }));
                }
                verified += 1;
                last_id = record.id;
                cursor = record.id;
                last_hash = record.hash;
            }
            if !full {
                return Ok(AuditVerdict::Intact {
                    entries: verified,
                    head: last_hash,
                });
            }
        }
    }
}

/// Checks one entry against the one before it (`prev_id` 0 and the
/// genesis hash for the first): its id in sequence, its own hash, then the link.
fn check_link(record: &AuditRecord, prev_id: i64, prev_hash: &str) -> Option<BreakReason> {
    if record.id > prev_id + 1 {
        return Some(BreakReason::Missing {
            next_present: record.id,
        });
    }
    if record.id < prev_id + 1 {
        return Some(BreakReason::Inserted);
    }
    if record.expected_hash() != record.hash {
        return Some(BreakReason::Changed);
    }
    if record.prev_hash != prev_hash {
        return Some(BreakReason::Relinked);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: i64, prev_hash: &str, after: Option<&str>) -> AuditRecord {
        let mut r = AuditRecord {
            id,
            at: "2026-11-29T08:15:00.123456Z".into(),
            actor: "sh-officer".into(),
            action: "update".into(),
            entity: "project".into(),
            entity_key: "P-31-2024-0001".into(),
            before_json: None,
            after_json: after.map(str::to_owned),
            prev_hash: prev_hash.into(),
            hash: String::new(),
        };
        r.hash = r.expected_hash();
        r
    }

    #[test]
    fn hash_is_sm3_over_length_prefixed_fields() {
        // SM3("abc") from GB/T 32905-2016, appendix A.
        let mut h = Sm3::new();
        h.update(b"abc");
        let digest: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            digest,
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
        // The encoding spelled out in the module doc, hashed independently.
        let r = record(1, GENESIS_HASH, Some("{\"a\":1}"));
        let mut h = Sm3::new();
        h.update(
            format!(
                "{GENESIS_HASH}1:127:2026-11-29T08:15:00.123456Z10:sh-officer6:update7:project\
                 14:P-31-2024-0001-7:{{\"a\":1}}"
            )
            .as_bytes(),
        );
        let by_hand: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(r.hash, by_hand);
        assert_eq!(r.hash.len(), 64);
    }

    #[test]
    fn fields_cannot_shift_into_each_other() {
        let a = entry_hash(
            GENESIS_HASH,
            1,
            "t",
            [Some("ab"), Some("c"), Some("x"), Some("y"), None, None],
        );
        let b = entry_hash(
            GENESIS_HASH,
            1,
            "t",
            [Some("a"), Some("bc"), Some("x"), Some("y"), None, None],
        );
        let c = entry_hash(
            GENESIS_HASH,
            1,
            "t",
            [Some("ab"), Some("c"), Some("x"), Some("y"), Some(""), None],
        );
        assert_ne!(a, b);
        assert_ne!(a, c, "NULL differs from the empty text");
    }

    #[test]
    fn check_link_names_each_kind_of_break() {
        let one = record(1, GENESIS_HASH, None);
        assert_eq!(check_link(&one, 0, GENESIS_HASH), None);
        let two = record(2, &one.hash, Some("{}"));
        assert_eq!(check_link(&two, 1, &one.hash), None);
        let mut changed = two.clone();
        changed.after_json = Some("{\"amount\":1}".into());
        assert_eq!(
            check_link(&changed, 1, &one.hash),
            Some(BreakReason::Changed)
        );
        assert_eq!(
            check_link(&two, 0, GENESIS_HASH),
            Some(BreakReason::Missing { next_present: 2 })
        );
        let forged = record(2, GENESIS_HASH, Some("{}"));
        assert_eq!(
            check_link(&forged, 1, &one.hash),
            Some(BreakReason::Relinked)
        );
        let before_first = record(0, GENESIS_HASH, None);
        assert_eq!(
            check_link(&before_first, 0, GENESIS_HASH),
            Some(BreakReason::Inserted)
        );
    }

    #[test]
    fn personal_data_and_secrets_are_masked() {
        let v = serde_json::json!({
            "person_name": "张三",
            "id_number": "650102199001011234",
            "nested": [{"phone": "13812345678", "password_hash": "$argon2id$x", "token": null}],
        });
        let r = redact(&v);
        assert_eq!(r["id_number"], "6501**********1234");
        assert_eq!(r["nested"][0]["phone"], "138****5678");
        assert_eq!(r["nested"][0]["password_hash"], "***");
        assert_eq!(r["nested"][0]["token"], Value::Null);
        assert_eq!(r["person_name"], "张三");
    }

    #[test]
    fn messages_are_bilingual_and_name_the_entry() {
        let b = AuditBreak {
            id: 3,
            reason: BreakReason::Missing { next_present: 5 },
            verified: 2,
        };
        assert_eq!(b.code(), "audit_entry_missing");
        assert!(b.zh().contains("第 3 条") && b.zh().contains("第 5 条"));
        assert!(b.en().contains("entry 3 is missing (the next is 5)"));
    }
}
