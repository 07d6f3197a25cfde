-- Writes and the approval workflow (SQLite). Twin: ../postgres/0004_workflow.sql.

-- Approval status of a project (不见面审批): draft → submitted → reviewed →
-- approved, or returned to the supporter with a comment. Projects that were
-- loaded before the workflow existed count as approved.
ALTER TABLE projects ADD COLUMN approval TEXT NOT NULL DEFAULT 'approved';
CREATE INDEX projects_approval ON projects(approval, id);

-- Each step: who, when, with what comment, and how long the item waited.
CREATE TABLE approval_steps (
    id             INTEGER PRIMARY KEY,
    project_id     INTEGER NOT NULL REFERENCES projects(id),
    step           TEXT NOT NULL,
    from_status    TEXT NOT NULL,
    to_status      TEXT NOT NULL,
    actor          TEXT NOT NULL,
    actor_role     TEXT NOT NULL,
    at             TEXT NOT NULL,
    comment        TEXT NOT NULL DEFAULT '',
    waited_seconds INTEGER NOT NULL
);
CREATE INDEX approval_steps_project ON approval_steps(project_id, id);

-- When the project last changed approval status, for "how long it waited".
ALTER TABLE projects ADD COLUMN approval_since TEXT;

-- Optimistic concurrency on the other editable records.
ALTER TABLE fund_transactions ADD COLUMN row_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE indicator_values ADD COLUMN row_version INTEGER NOT NULL DEFAULT 1;
