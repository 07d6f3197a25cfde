//! Writes through the API: projects, state changes, fund transactions and
//! indicator values. Each write is one transaction that checks the domain
//! rules against the stored data, compares the caller's version with the
//! stored one (optimistic concurrency: nothing is silently overwritten), and
//! appends an audit entry before it commits.
//!
//! Who may write what is decided by the caller (the server) with
//! `Viewer::may`; the store enforces the data rules.

use chrono::{Datelike, NaiveDate, Utc};
use serde_json::json;
use yuanjiang_domain::{
    ApprovalStatus, DomainError, Fen, FundChain, FundTransaction, Indicator, Principal, Project,
    ProjectState,
};

use crate::audit::AuditEntry;
use crate::projects::{PROJECT_COLUMNS, ProjectRecord, TransactionRecord};
use crate::rollup::{Parts, RollupDelta};
use crate::{ProjectRow, Result, Store, StoreError, TransactionRow, Tx, on_tx};

/// Reads a project inside a transaction, by code.
pub(crate) async fn project_in(tx: &mut Tx, code: &str) -> Result<ProjectRow> {
    let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects p WHERE p.code = $1");
    let record: Option<ProjectRecord> = on_tx!(*tx, t, Db => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(code).fetch_optional(&mut **t).await?
    });
    record.ok_or(StoreError::NotFound)?.into_row()
}

/// Refuses a write made against an older version than the stored one.
pub(crate) fn check_version(stored: i64, expected: i64) -> Result<()> {
    if stored == expected {
        Ok(())
    } else {
        Err(StoreError::VersionMismatch { current: stored })
    }
}

/// The recipient's prefecture, after checking the supporter, recipient and
/// location exist and the location lies within the recipient.
async fn check_parties(tx: &mut Tx, project: &Project) -> Result<String> {
    let (supporters, recipient, location): (i64, Option<Option<String>>, i64) = on_tx!(*tx, t, Db => {
        let s: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM supporters WHERE code = $1")
            .bind(&project.supporter_code)
            .fetch_one(&mut **t)
            .await?;
        let r: Option<Option<String>> = sqlx::query_scalar("SELECT prefecture_code FROM recipients WHERE code = $1")
            .bind(&project.recipient_code)
            .fetch_optional(&mut **t)
            .await?;
        let l: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM recipients WHERE code = $1")
            .bind(&project.location_code)
            .fetch_one(&mut **t)
            .await?;
        (s, r, l)
    });
    if supporters == 0 {
        return Err(DomainError::new(
            "unknown_supporter",
            format!("支援方“{}”不存在", project.supporter_code),
            format!("supporter \"{}\" does not exist", project.supporter_code),
        )
        .into());
    }
    let Some(Some(prefecture)) = recipient else {
        return Err(DomainError::new(
            "unknown_recipient",
            format!("受援地“{}”不存在或不是可受援单位", project.recipient_code),
            format!(
                "recipient \"{}\" does not exist or cannot receive aid",
                project.recipient_code
            ),
        )
        .into());
    };
    if location == 0 || !project.location_code.starts_with(&project.recipient_code) {
        return Err(DomainError::new(
            "location_outside_recipient",
            format!(
                "项目地点“{}”不存在或不在受援地“{}”范围内",
                project.location_code, project.recipient_code
            ),
            format!(
                "location \"{}\" does not exist or is not within recipient \"{}\"",
                project.location_code, project.recipient_code
            ),
        )
        .into());
    }
    Ok(prefecture)
}

/// A project's stored transactions, inside a transaction.
pub(crate) async fn transactions_in(tx: &mut Tx, project_id: i64) -> Result<Vec<TransactionRow>> {
    let records: Vec<TransactionRecord> = on_tx!(*tx, t, Db => {
        sqlx::query_as(
            "SELECT t.id, t.row_version, p.code, t.fund_type, t.amount, t.date, t.document_no, t.note \
             FROM fund_transactions t JOIN projects p ON p.id = t.project_id \
             WHERE t.project_id = $1 ORDER BY t.date, t.id",
        )
        .bind(project_id)
        .fetch_all(&mut **t)
        .await?
    });
    records
        .into_iter()
        .map(TransactionRecord::into_row)
        .collect()
}

/// Replays a project's chain with `txns`, naming the transaction that breaks it.
fn replay(txns: &[FundTransaction], cap: Fen) -> Result<FundChain> {
    FundChain::replay(txns, cap).map_err(|(_, e)| StoreError::Rule(e))
}

/// Serialises a value for the audit trail.
fn audit_json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

impl Store {
    /// Creates a project as a draft (储备, not yet submitted or published).
    pub async fn create_project(&self, actor: &Principal, project: &Project) -> Result<ProjectRow> {
        let mut draft = project.clone();
        draft.state = ProjectState::Proposed;
        draft.published = false;
        draft.validate()?;
        let mut tx = self.begin().await?;
        let prefecture = check_parties(&mut tx, &draft).await?;
        let now = Utc::now();
        let id: i64 = on_tx!(tx, t, Db => {
            sqlx::query_scalar(
                "INSERT INTO projects (code, name, category, delivery_mode, kind, year, in_plan, continued, \
                 grassroots, livelihood, supporter_code, recipient_code, location_code, prefecture_code, \
                 planned_investment, aid_funds, matching_funds, start_date, end_date, state, published, \
                 description, approval, approval_since) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
                 $19, $20, $21, $22, $23, $24) RETURNING id",
            )
            .bind(&draft.code)
            .bind(&draft.name)
            .bind(draft.category.key())
            .bind(draft.delivery_mode.key())
            .bind(draft.kind.key())
            .bind(draft.year)
            .bind(draft.in_plan)
            .bind(draft.continued)
            .bind(draft.grassroots)
            .bind(draft.livelihood)
            .bind(&draft.supporter_code)
            .bind(&draft.recipient_code)
            .bind(&draft.location_code)
            .bind(&prefecture)
            .bind(draft.planned_investment.0)
            .bind(draft.aid_funds.0)
            .bind(draft.matching_funds.0)
            .bind(draft.start_date)
            .bind(draft.end_date)
            .bind(draft.state.key())
            .bind(draft.published)
            .bind(&draft.description)
            .bind(ApprovalStatus::Draft.key())
            .bind(now)
            .fetch_one(&mut **t)
            .await
            .map_err(|e| StoreError::unique(e, &format!("project {}", draft.code)))?
        });
        record_state(
            &mut tx,
            id,
            None,
            ProjectState::Proposed,
            &actor.name,
            "创建项目 / project created",
        )
        .await?;
        tx.append_audit(&AuditEntry {
            actor: &actor.name,
            action: "create",
            entity: "project",
            entity_key: &draft.code,
            before: None,
            after: Some(&audit_json(&draft)),
        })
        .await?;
        let row = project_in(&mut tx, &draft.code).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Replaces a project's editable fields. The state and approval status
    /// are not edited here; lowering the aid funds below what is committed is refused.
    pub async fn update_project(
        &self,
        actor: &Principal,
        code: &str,
        expected_version: i64,
        edit: &Project,
    ) -> Result<ProjectRow> {
        let mut tx = self.begin().await?;
        let before = project_in(&mut tx, code).await?;
        check_version(before.row_version, expected_version)?;
        let mut after = edit.clone();
        after.code = before.project.code.clone();
        after.state = before.project.state;
        after.validate()?;
        let prefecture = check_parties(&mut tx, &after).await?;
        let txns: Vec<FundTransaction> = transactions_in(&mut tx, before.id)
            .await?
            .into_iter()
            .map(|t| t.transaction)
            .collect();
        replay(&txns, after.aid_funds)?;
        let changed: u64 = on_tx!(tx, t, Db => {
            sqlx::query(
                "UPDATE projects SET name = $1, category = $2, delivery_mode = $3, kind = $4, year = $5, \
                 in_plan = $6, continued = $7, grassroots = $8, livelihood = $9, supporter_code = $10, \
                 recipient_code = $11, location_code = $12, prefecture_code = $13, planned_investment = $14, \
                 aid_funds = $15, matching_funds = $16, start_date = $17, end_date = $18, published = $19, \
                 description = $20, row_version = row_version + 1 WHERE id = $21 AND row_version = $22",
            )
            .bind(&after.name)
            .bind(after.category.key())
            .bind(after.delivery_mode.key())
            .bind(after.kind.key())
            .bind(after.year)
            .bind(after.in_plan)
            .bind(after.continued)
            .bind(after.grassroots)
            .bind(after.livelihood)
            .bind(&after.supporter_code)
            .bind(&after.recipient_code)
            .bind(&after.location_code)
            .bind(&prefecture)
            .bind(after.planned_investment.0)
            .bind(after.aid_funds.0)
            .bind(after.matching_funds.0)
            .bind(after.start_date)
            .bind(after.end_date)
            .bind(after.published)
            .bind(&after.description)
            .bind(before.id)
            .bind(expected_version)
            .execute(&mut **t)
            .await?
            .rows_affected()
        });
        if changed != 1 {
            return Err(StoreError::VersionMismatch {
                current: before.row_version,
            });
        }
        let mut delta = RollupDelta::default();
        delta.reassign(
            &Parts::of(&before.project, &before.prefecture_code),
            &Parts::of(&after, &prefecture),
            &txns,
        );
        delta.apply(&mut tx).await?;
        tx.append_audit(&AuditEntry {
            actor: &actor.name,
            action: "update",
            entity: "project",
            entity_key: code,
            before: Some(&audit_json(&before.project)),
            after: Some(&audit_json(&after)),
        })
        .await?;
        let row = project_in(&mut tx, code).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Moves a project along its lifecycle, recording who, when and why.
    pub async fn change_state(
        &self,
        actor: &Principal,
        code: &str,
        expected_version: i64,
        to: ProjectState,
        reason: &str,
    ) -> Result<ProjectRow> {
        let mut tx = self.begin().await?;
        let before = project_in(&mut tx, code).await?;
        check_version(before.row_version, expected_version)?;
        before
            .project
            .state
            .check_transition(to, before.project.kind)?;
        bump(&mut tx, before.id, expected_version, Some(to)).await?;
        record_state(
            &mut tx,
            before.id,
            Some(before.project.state),
            to,
            &actor.name,
            reason,
        )
        .await?;
        tx.append_audit(&AuditEntry {
            actor: &actor.name,
            action: "change_state",
            entity: "project",
            entity_key: code,
            before: Some(&json!({"state": before.project.state})),
            after: Some(&json!({"state": to, "reason": reason})),
        })
        .await?;
        let row = project_in(&mut tx, code).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Records a fund transaction on a project after replaying the project's
    /// chain with it.
    pub async fn add_transaction(
        &self,
        actor: &Principal,
        code: &str,
        txn: &FundTransaction,
    ) -> Result<TransactionRow> {
        txn.validate()?;
        let mut tx = self.begin().await?;
        // Lock the project row first (a no-op update locks it on PostgreSQL;
        // SQLite's write lock is already held), so that two payments cannot
        // both pass the chain check. Money does not move the project's
        // version: editing its fields and recording funds do not clash.
        lock_project(&mut tx, code).await?;
        let project = project_in(&mut tx, code).await?;
        let mut txns: Vec<FundTransaction> = transactions_in(&mut tx, project.id)
            .await?
            .into_iter()
            .map(|t| t.transaction)
            .collect();
        let mut new = txn.clone();
        new.project_code = project.project.code.clone();
        txns.push(new.clone());
        replay(&txns, project.project.aid_funds)?;
        let id: i64 = on_tx!(tx, t, Db => {
            sqlx::query_scalar(
                "INSERT INTO fund_transactions (project_id, fund_type, amount, date, year, month, document_no, note) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(project.id)
            .bind(new.fund_type.key())
            .bind(new.amount.0)
            .bind(new.date)
            .bind(new.date.year())
            .bind(month_of(new.date))
            .bind(&new.document_no)
            .bind(&new.note)
            .fetch_one(&mut **t)
            .await
            .map_err(|e| StoreError::unique(e, "fund transaction (project, type, date, document number)"))?
        });
        let mut delta = RollupDelta::default();
        delta.add(
            &Parts::of(&project.project, &project.prefecture_code),
            &new,
            1,
        );
        delta.apply(&mut tx).await?;
        tx.append_audit(&AuditEntry {
            actor: &actor.name,
            action: "create",
            entity: "fund_transaction",
            entity_key: &id.to_string(),
            before: None,
            after: Some(&audit_json(&new)),
        })
        .await?;
        tx.commit().await?;
        Ok(TransactionRow {
            id,
            row_version: 1,
            transaction: new,
        })
    }

    /// One fund transaction by id.
    pub async fn transaction(&self, id: i64) -> Result<Option<TransactionRow>> {
        let record: Option<TransactionRecord> = crate::on_pool!(self, p => {
            sqlx::query_as(
                "SELECT t.id, t.row_version, p.code, t.fund_type, t.amount, t.date, t.document_no, t.note \
                 FROM fund_transactions t JOIN projects p ON p.id = t.project_id WHERE t.id = $1",
            )
            .bind(id)
            .fetch_optional(p)
            .await?
        });
        record.map(TransactionRecord::into_row).transpose()
    }

    /// Corrects a fund transaction (amount, date, document number, note);
    /// its type and project stay. The chain is replayed with the correction.
    pub async fn update_transaction(
        &self,
        actor: &Principal,
        id: i64,
        expected_version: i64,
        edit: &FundTransaction,
    ) -> Result<TransactionRow> {
        edit.validate()?;
        let mut tx = self.begin().await?;
        let existing: Option<TransactionRecord> = on_tx!(tx, t, Db => {
            sqlx::query_as(
                "SELECT t.id, t.row_version, p.code, t.fund_type, t.amount, t.date, t.document_no, t.note \
                 FROM fund_transactions t JOIN projects p ON p.id = t.project_id WHERE t.id = $1",
            )
            .bind(id)
            .fetch_optional(&mut **t)
            .await?
        });
        let before = existing.ok_or(StoreError::NotFound)?.into_row()?;
        check_version(before.row_version, expected_version)?;
        lock_project(&mut tx, &before.transaction.project_code).await?;
        let project = project_in(&mut tx, &before.transaction.project_code).await?;
        let mut after = edit.clone();
        after.project_code = before.transaction.project_code.clone();
        after.fund_type = before.transaction.fund_type;
        let txns: Vec<FundTransaction> = transactions_in(&mut tx, project.id)
            .await?
            .into_iter()
            .map(|t| {
                if t.id == id {
                    after.clone()
                } else {
                    t.transaction
                }
            })
            .collect();
        replay(&txns, project.project.aid_funds)?;
        let changed: u64 = on_tx!(tx, t, Db => {
            sqlx::query(
                "UPDATE fund_transactions SET amount = $1, date = $2, year = $3, month = $4, document_no = $5, \
                 note = $6, row_version = row_version + 1 WHERE id = $7 AND row_version = $8",
            )
            .bind(after.amount.0)
            .bind(after.date)
            .bind(after.date.year())
            .bind(month_of(after.date))
            .bind(&after.document_no)
            .bind(&after.note)
            .bind(id)
            .bind(expected_version)
            .execute(&mut **t)
            .await
            .map_err(|e| StoreError::unique(e, "fund transaction (project, type, date, document number)"))?
            .rows_affected()
        });
        if changed != 1 {
            return Err(StoreError::VersionMismatch {
                current: before.row_version,
            });
        }
        let parts = Parts::of(&project.project, &project.prefecture_code);
        let mut delta = RollupDelta::default();
        delta.add(&parts, &before.transaction, -1);
        delta.add(&parts, &after, 1);
        delta.apply(&mut tx).await?;
        tx.append_audit(&AuditEntry {
            actor: &actor.name,
            action: "update",
            entity: "fund_transaction",
            entity_key: &id.to_string(),
            before: Some(&audit_json(&before.transaction)),
            after: Some(&audit_json(&after)),
        })
        .await?;
        tx.commit().await?;
        Ok(TransactionRow {
            id,
            row_version: before.row_version + 1,
            transaction: after,
        })
    }

    /// Defines or redefines an indicator on a project.
    pub async fn put_indicator(
        &self,
        actor: &Principal,
        code: &str,
        indicator: &Indicator,
    ) -> Result<()> {
        indicator.validate()?;
        let mut tx = self.begin().await?;
        let project = project_in(&mut tx, code).await?;
        on_tx!(tx, t, Db => {
            sqlx::query(
                "INSERT INTO indicators (project_id, name, unit, baseline, target) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (project_id, name) DO UPDATE SET unit = excluded.unit, \
                 baseline = excluded.baseline, target = excluded.target",
            )
            .bind(project.id)
            .bind(&indicator.name)
            .bind(&indicator.unit)
            .bind(indicator.baseline)
            .bind(indicator.target)
            .execute(&mut **t)
            .await?;
        });
        tx.append_audit(&AuditEntry {
            actor: &actor.name,
            action: "put",
            entity: "indicator",
            entity_key: &format!("{code}/{}", indicator.name),
            before: None,
            after: Some(&audit_json(indicator)),
        })
        .await?;
        tx.commit().await
    }

    /// Records an indicator's actual value for a period. Replacing an
    /// existing value needs its version (`expected_version`); a new one must not have one.
    /// Returns the new version.
    pub async fn put_indicator_value(
        &self,
        actor: &Principal,
        code: &str,
        name: &str,
        period: &str,
        actual: f64,
        expected_version: Option<i64>,
    ) -> Result<i64> {
        yuanjiang_domain::IndicatorValue {
            project_code: code.to_owned(),
            name: name.to_owned(),
            period: period.to_owned(),
            actual,
        }
        .validate()?;
        let mut tx = self.begin().await?;
        let project = project_in(&mut tx, code).await?;
        let indicator: Option<i64> = on_tx!(tx, t, Db => {
            sqlx::query_scalar("SELECT id FROM indicators WHERE project_id = $1 AND name = $2")
                .bind(project.id)
                .bind(name)
                .fetch_optional(&mut **t)
                .await?
        });
        let indicator = indicator.ok_or(StoreError::NotFound)?;
        let existing: Option<(i64, f64)> = on_tx!(tx, t, Db => {
            sqlx::query_as("SELECT row_version, actual FROM indicator_values WHERE indicator_id = $1 AND period = $2")
                .bind(indicator)
                .bind(period)
                .fetch_optional(&mut **t)
                .await?
        });
        let version = match (existing, expected_version) {
            (None, None) => {
                on_tx!(tx, t, Db => {
                    sqlx::query("INSERT INTO indicator_values (indicator_id, period, actual) VALUES ($1, $2, $3)")
                        .bind(indicator)
                        .bind(period)
                        .bind(actual)
                        .execute(&mut **t)
                        .await?;
                });
                1
            }
            (None, Some(_)) => return Err(StoreError::NotFound),
            (Some((current, _)), None) => return Err(StoreError::VersionRequired { current }),
            (Some((current, _)), Some(expected)) => {
                check_version(current, expected)?;
                on_tx!(tx, t, Db => {
                    sqlx::query(
                        "UPDATE indicator_values SET actual = $1, row_version = row_version + 1 \
                         WHERE indicator_id = $2 AND period = $3",
                    )
                    .bind(actual)
                    .bind(indicator)
                    .bind(period)
                    .execute(&mut **t)
                    .await?;
                });
                current + 1
            }
        };
        tx.append_audit(&AuditEntry {
            actor: &actor.name,
            action: "put",
            entity: "indicator_value",
            entity_key: &format!("{code}/{name}/{period}"),
            before: existing.map(|(_, a)| json!({"actual": a})).as_ref(),
            after: Some(&json!({"actual": actual})),
        })
        .await?;
        tx.commit().await?;
        Ok(version)
    }
}

fn month_of(date: NaiveDate) -> i32 {
    i32::try_from(date.month()).unwrap_or(0)
}

/// Takes the project's row lock for the rest of the transaction.
pub(crate) async fn lock_project(tx: &mut Tx, code: &str) -> Result<()> {
    let locked: u64 = on_tx!(*tx, t, Db => {
        sqlx::query("UPDATE projects SET id = id WHERE code = $1")
            .bind(code)
            .execute(&mut **t)
            .await?
            .rows_affected()
    });
    if locked == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

/// Moves the project's version on (and its state, if given), guarding
/// against a concurrent change since `expected`.
pub(crate) async fn bump(
    tx: &mut Tx,
    id: i64,
    expected: i64,
    state: Option<ProjectState>,
) -> Result<()> {
    let changed: u64 = on_tx!(*tx, t, Db => {
        sqlx::query(
            "UPDATE projects SET row_version = row_version + 1, state = COALESCE($1, state) \
             WHERE id = $2 AND row_version = $3",
        )
        .bind(state.map(|s| s.key()))
        .bind(id)
        .bind(expected)
        .execute(&mut **t)
        .await?
        .rows_affected()
    });
    if changed == 1 {
        Ok(())
    } else {
        Err(StoreError::VersionMismatch {
            current: expected + 1,
        })
    }
}

/// Appends a line to a project's state history.
pub(crate) async fn record_state(
    tx: &mut Tx,
    id: i64,
    from: Option<ProjectState>,
    to: ProjectState,
    by: &str,
    reason: &str,
) -> Result<()> {
    on_tx!(*tx, t, Db => {
        sqlx::query(
            "INSERT INTO project_states (project_id, from_state, to_state, changed_at, changed_by, reason) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(from.map(|s| s.key()))
        .bind(to.key())
        .bind(Utc::now())
        .bind(by)
        .bind(reason)
        .execute(&mut **t)
        .await?;
    });
    Ok(())
}

impl Store {
    /// Records a cadre's or professional's assignment; the ID number and
    /// phone are encrypted before they reach the database. Returns the id.
    pub async fn create_assignment(
        &self,
        actor: &Principal,
        a: &yuanjiang_domain::Assignment,
    ) -> Result<i64> {
        a.validate()?;
        let mut tx = self.begin().await?;
        let id = insert_assignment_row(&mut tx, &self.field_key, a).await?;
        tx.append_audit(&AuditEntry {
            actor: &actor.name,
            action: "create",
            entity: "assignment",
            entity_key: &id.to_string(),
            before: None,
            after: Some(&audit_json(a)),
        })
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The version, supporter and recipient of an assignment, for checks.
    pub async fn assignment_owner(&self, id: i64) -> Result<Option<(i64, String, String)>> {
        let row: Option<(i64, String, String)> = crate::on_pool!(self, p => {
            sqlx::query_as("SELECT row_version, supporter_code, recipient_code FROM assignments WHERE id = $1")
                .bind(id)
                .fetch_optional(p)
                .await?
        });
        Ok(row)
    }

    /// Replaces an assignment's fields, against the version the caller read.
    /// Returns the new version.
    pub async fn update_assignment(
        &self,
        actor: &Principal,
        id: i64,
        expected_version: i64,
        a: &yuanjiang_domain::Assignment,
    ) -> Result<i64> {
        a.validate()?;
        let mut tx = self.begin().await?;
        let changed =
            update_assignment_row(&mut tx, &self.field_key, id, expected_version, a).await?;
        if changed != 1 {
            let current: Option<i64> = on_tx!(tx, t, Db => {
                sqlx::query_scalar("SELECT row_version FROM assignments WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut **t)
                    .await?
            });
            return Err(match current {
                Some(current) => StoreError::VersionMismatch { current },
                None => StoreError::NotFound,
            });
        }
        tx.append_audit(&AuditEntry {
            actor: &actor.name,
            action: "update",
            entity: "assignment",
            entity_key: &id.to_string(),
            before: None,
            after: Some(&audit_json(a)),
        })
        .await?;
        tx.commit().await?;
        Ok(expected_version + 1)
    }
}

/// Inserts an assignment, its ID number and phone sealed with `key`
/// (`personnel::seal`); the one INSERT of assignments, shared by the API's
/// writes and imports. Returns the row id.
pub(crate) async fn insert_assignment_row(
    tx: &mut Tx,
    key: &crate::FieldKey,
    a: &yuanjiang_domain::Assignment,
) -> Result<i64> {
    let (id_enc, phone_enc) = crate::personnel::seal(key, a)?;
    let id: i64 = on_tx!(*tx, t, Db => {
        sqlx::query_scalar(
            "INSERT INTO assignments (supporter_code, batch_number, person_name, id_number_enc, phone_enc, \
             category, mode, recipient_code, host_unit, post, arrival_date, return_date, appraisal) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        )
        .bind(&a.supporter_code)
        .bind(a.batch_number.and_then(|n| i32::try_from(n).ok()))
        .bind(&a.person_name)
        .bind(id_enc)
        .bind(phone_enc)
        .bind(a.category.key())
        .bind(a.mode.key())
        .bind(&a.recipient_code)
        .bind(&a.host_unit)
        .bind(&a.post)
        .bind(a.arrival_date)
        .bind(a.return_date)
        .bind(&a.appraisal)
        .fetch_one(&mut **t)
        .await
        .map_err(|e| reference_error(e, "supporter or recipient of the assignment"))?
    });
    Ok(id)
}

/// Replaces an assignment's fields if its version is still
/// `expected_version`, sealing the ID number and phone with `key` and
/// clearing any legacy plaintext; moves the version on. Shared by the API's
/// writes and imports. Returns the rows changed (0 when the version moved).
pub(crate) async fn update_assignment_row(
    tx: &mut Tx,
    key: &crate::FieldKey,
    id: i64,
    expected_version: i64,
    a: &yuanjiang_domain::Assignment,
) -> Result<u64> {
    let (id_enc, phone_enc) = crate::personnel::seal(key, a)?;
    let changed: u64 = on_tx!(*tx, t, Db => {
        sqlx::query(
            "UPDATE assignments SET supporter_code = $1, batch_number = $2, person_name = $3, \
             id_number_enc = $4, phone_enc = $5, id_number = NULL, phone = NULL, category = $6, mode = $7, \
             recipient_code = $8, host_unit = $9, post = $10, arrival_date = $11, return_date = $12, \
             appraisal = $13, row_version = row_version + 1 WHERE id = $14 AND row_version = $15",
        )
        .bind(&a.supporter_code)
        .bind(a.batch_number.and_then(|n| i32::try_from(n).ok()))
        .bind(&a.person_name)
        .bind(id_enc)
        .bind(phone_enc)
        .bind(a.category.key())
        .bind(a.mode.key())
        .bind(&a.recipient_code)
        .bind(&a.host_unit)
        .bind(&a.post)
        .bind(a.arrival_date)
        .bind(a.return_date)
        .bind(&a.appraisal)
        .bind(id)
        .bind(expected_version)
        .execute(&mut **t)
        .await
        .map_err(|e| reference_error(e, "supporter or recipient of the assignment"))?
        .rows_affected()
    });
    Ok(changed)
}

/// A foreign-key failure named as a rule, so the client hears which reference is wrong.
fn reference_error(e: sqlx::Error, what: &str) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StoreError::Rule(DomainError::new(
                "unknown_reference",
                format!("引用的单位不存在：{what}"),
                format!("a referenced party does not exist: {what}"),
            ))
        }
        _ => StoreError::Database(e),
    }
}
