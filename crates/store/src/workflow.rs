//! The approval workflow in the store (不见面审批): taking a step, the
//! record of steps with how long each item waited, and the inbox.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use sqlx::FromRow;
use yuanjiang_domain::{ApprovalStatus, ApprovalStep, Principal, ProjectKind, ProjectState, Role};

use crate::audit::AuditEntry;
use crate::parties::key;
use crate::projects::{PROJECT_COLUMNS, ProjectRecord};
use crate::rollup::{Parts, RollupDelta};
use crate::sql::{Param, Sql, bind_params};
use crate::writes::{check_version, project_in, record_state, transactions_in};
use crate::{ProjectRow, Result, Store, StoreError, on_pool, on_tx};

/// One step taken on a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalRecord {
    /// What was done.
    pub step: ApprovalStep,
    /// Status before.
    pub from: ApprovalStatus,
    /// Status after.
    pub to: ApprovalStatus,
    /// Who.
    pub actor: String,
    /// In which role.
    pub actor_role: String,
    /// When.
    pub at: DateTime<Utc>,
    /// The comment given.
    pub comment: String,
    /// How long the item had waited for this step, in seconds.
    pub waited_seconds: i64,
}

#[derive(FromRow)]
struct StepRecord {
    step: String,
    from_status: String,
    to_status: String,
    actor: String,
    actor_role: String,
    at: DateTime<Utc>,
    comment: String,
    waited_seconds: i64,
}

/// An item waiting for the caller, with when it started waiting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InboxItem {
    /// The project.
    pub project: ProjectRow,
    /// Since when it has waited in its current status.
    pub waiting_since: Option<DateTime<Utc>>,
}

#[derive(FromRow)]
struct InboxRecord {
    #[sqlx(flatten)]
    project: ProjectRecord,
    approval_since: Option<DateTime<Utc>>,
}

/// Longest comment kept, in characters.
pub const MAX_COMMENT_CHARS: usize = 2000;

impl Store {
    /// Takes an approval step on a project. The caller has checked that the
    /// actor may take the step (`ApprovalStep::apply` says which permission).
    /// Approval issues the plan (储备 → 计划下达, or → 已批准 for
    /// non-construction projects) and publishes the project.
    pub async fn take_step(
        &self,
        actor: &Principal,
        code: &str,
        expected_version: i64,
        step: ApprovalStep,
        comment: &str,
    ) -> Result<ProjectRow> {
        if comment.chars().count() > MAX_COMMENT_CHARS {
            return Err(yuanjiang_domain::DomainError::new(
                "comment_too_long",
                format!("意见不能超过{MAX_COMMENT_CHARS}字"),
                format!("the comment must not exceed {MAX_COMMENT_CHARS} characters"),
            )
            .into());
        }
        if step == ApprovalStep::Return && comment.trim().is_empty() {
            return Err(yuanjiang_domain::DomainError::new(
                "comment_required",
                "退回时必须填写意见",
                "a comment is required when returning a project",
            )
            .into());
        }
        let mut tx = self.begin().await?;
        let before = project_in(&mut tx, code).await?;
        check_version(before.row_version, expected_version)?;
        let (to, _) = step.apply(before.approval)?;
        let since: Option<DateTime<Utc>> = on_tx!(tx, t, Db => {
            sqlx::query_scalar("SELECT approval_since FROM projects WHERE id = $1")
                .bind(before.id)
                .fetch_one(&mut **t)
                .await?
        });
        let now = Utc::now();
        let waited = since.map_or(0, |s| (now - s).num_seconds().max(0));
        let issue_plan =
            step == ApprovalStep::Approve && before.project.state == ProjectState::Proposed;
        let new_state = issue_plan.then_some(match before.project.kind {
            ProjectKind::Construction => ProjectState::PlanIssued,
            ProjectKind::NonConstruction => ProjectState::Approved,
        });
        let changed: u64 = on_tx!(tx, t, Db => {
            sqlx::query(
                "UPDATE projects SET approval = $1, approval_since = $2, row_version = row_version + 1, \
                 state = COALESCE($3, state), published = (published OR $4) \
                 WHERE id = $5 AND row_version = $6",
            )
            .bind(to.key())
            .bind(now)
            .bind(new_state.map(|s| s.key()))
            .bind(step == ApprovalStep::Approve)
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
        if step == ApprovalStep::Approve && !before.project.published {
            // Publishing moves the project's money into the public roll-up keys.
            let txns: Vec<_> = transactions_in(&mut tx, before.id)
                .await?
                .into_iter()
                .map(|t| t.transaction)
                .collect();
            let mut published = before.project.clone();
            published.published = true;
            let mut delta = RollupDelta::default();
            delta.reassign(
                &Parts::of(&before.project, &before.prefecture_code),
                &Parts::of(&published, &before.prefecture_code),
                &txns,
            );
            delta.apply(&mut tx).await?;
        }
        if let Some(state) = new_state {
            record_state(
                &mut tx,
                before.id,
                Some(before.project.state),
                state,
                &actor.name,
                "审批通过，计划下达 / approved, plan issued",
            )
            .await?;
        }
        on_tx!(tx, t, Db => {
            sqlx::query(
                "INSERT INTO approval_steps (project_id, step, from_status, to_status, actor, actor_role, at, comment, waited_seconds) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(before.id)
            .bind(step.key())
            .bind(before.approval.key())
            .bind(to.key())
            .bind(&actor.name)
            .bind(actor.role.key())
            .bind(now)
            .bind(comment)
            .bind(waited)
            .execute(&mut **t)
            .await?;
        });
        tx.append_audit(&AuditEntry {
            actor: &actor.name,
            action: step.key(),
            entity: "project",
            entity_key: code,
            before: Some(&json!({"approval": before.approval, "state": before.project.state})),
            after: Some(&json!({"approval": to, "state": new_state.unwrap_or(before.project.state), "comment": comment})),
        })
        .await?;
        let row = project_in(&mut tx, code).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// The approval steps taken on a project, oldest first.
    pub async fn approval_steps(&self, project_id: i64) -> Result<Vec<ApprovalRecord>> {
        let records: Vec<StepRecord> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT step, from_status, to_status, actor, actor_role, at, comment, waited_seconds \
                 FROM approval_steps WHERE project_id = $1 ORDER BY id",
            )
            .bind(project_id)
            .fetch_all(p)
            .await?
        });
        records
            .into_iter()
            .map(|r| {
                Ok(ApprovalRecord {
                    step: key("approval_steps.step", &r.step, ApprovalStep::parse)?,
                    from: key(
                        "approval_steps.from_status",
                        &r.from_status,
                        ApprovalStatus::parse,
                    )?,
                    to: key(
                        "approval_steps.to_status",
                        &r.to_status,
                        ApprovalStatus::parse,
                    )?,
                    actor: r.actor,
                    actor_role: r.actor_role,
                    at: r.at,
                    comment: r.comment,
                    waited_seconds: r.waited_seconds,
                })
            })
            .collect()
    }

    /// What waits for `actor`: drafts and returned items for a front command,
    /// submitted items for a recipient office, reviewed items for the region;
    /// oldest first, at most `limit`.
    pub async fn inbox(&self, actor: &Principal, limit: u32) -> Result<Vec<InboxItem>> {
        let mut sql = Sql::new(&format!(
            "SELECT {PROJECT_COLUMNS}, p.approval_since FROM projects p WHERE "
        ));
        let scope = actor.scope.clone().unwrap_or_default();
        match actor.role {
            Role::Supporter => {
                let n = sql.param(Param::Text(scope));
                sql.push(&format!(
                    "p.approval IN ('draft', 'returned') AND (p.supporter_code = {n} OR p.supporter_code IN \
                     (SELECT code FROM supporters WHERE parent_code = {n}))"
                ));
            }
            Role::Prefecture => {
                let n = sql.param(Param::Text(format!("{scope}%")));
                sql.push(&format!(
                    "p.approval = 'submitted' AND p.recipient_code LIKE {n}"
                ));
            }
            Role::Region => {
                sql.push("p.approval = 'reviewed'");
            }
            Role::Admin | Role::Auditor => return Ok(Vec::new()),
        }
        let n = sql.param(Param::I64(i64::from(limit.clamp(1, 1000))));
        sql.push(&format!(" ORDER BY p.approval_since, p.id LIMIT {n}"));
        let records: Vec<InboxRecord> = on_pool!(self, p => {
            bind_params!(sqlx::query_as(sql.text()), &sql.params).fetch_all(p).await?
        });
        records
            .into_iter()
            .map(|r| {
                Ok(InboxItem {
                    project: r.project.into_row()?,
                    waiting_since: r.approval_since,
                })
            })
            .collect()
    }
}
