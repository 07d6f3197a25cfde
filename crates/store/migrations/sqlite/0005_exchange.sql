-- Data exchange (SQLite). Twin: ../postgres/0005_exchange.sql; keep the two in step.

-- Every committed import (导入记录): who, when, which file (its name and the
-- SM3 hash of its bytes, lower-case hex), what kind of records, and what it
-- did to them. Dry runs and refused files write nothing, so they are absent.
CREATE TABLE import_history (
    id          INTEGER PRIMARY KEY,
    imported_at TEXT NOT NULL,
    actor       TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    file_sm3    TEXT NOT NULL,
    file_bytes  INTEGER NOT NULL,
    -- projects, transactions, indicators, or several joined by '+'.
    kind        TEXT NOT NULL,
    rows_read   INTEGER NOT NULL,
    inserted    INTEGER NOT NULL,
    updated     INTEGER NOT NULL,
    unchanged   INTEGER NOT NULL
);
CREATE INDEX import_history_file ON import_history(file_sm3);
