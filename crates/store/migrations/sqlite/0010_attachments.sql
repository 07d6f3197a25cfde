-- Attachments (SQLite). Twin: ../postgres/0010_attachments.sql; keep the two in step.

-- Approval documents, acceptance reports and photos (附件) on a project and
-- optionally on one of its approval steps. The bytes live on disk, stored by
-- the SM3 hash of their content (lower-case hex): rows that share content
-- share one file. media_type is what the content was recognised as, never
-- what the uploader's file name suggested.
CREATE TABLE attachments (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects(id),
    step_id     INTEGER REFERENCES approval_steps(id),
    -- approval_document, acceptance_report, photo or other.
    kind        TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    media_type  TEXT NOT NULL,
    size_bytes  INTEGER NOT NULL CHECK (size_bytes > 0),
    content_sm3 TEXT NOT NULL CHECK (length(content_sm3) = 64),
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL
);
CREATE INDEX attachments_project ON attachments(project_id, kind, id);
CREATE INDEX attachments_content ON attachments(content_sm3);
