-- Foundation schema (SQLite). Its twin is ../postgres/0001_foundation.sql;
-- keep the two in step. Money columns are INTEGER fen.

CREATE TABLE supporters (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    name_en     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    parent_code TEXT REFERENCES supporters(code)
);

CREATE TABLE recipients (
    code            TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    level           TEXT NOT NULL,
    parent_code     TEXT REFERENCES recipients(code),
    -- The prefecture or XPCC division the unit rolls up to (itself at that level).
    prefecture_code TEXT,
    southern_four   INTEGER NOT NULL DEFAULT 0 CHECK (southern_four IN (0, 1)),
    is_xpcc         INTEGER NOT NULL DEFAULT 0 CHECK (is_xpcc IN (0, 1))
);
CREATE INDEX recipients_parent ON recipients(parent_code);

CREATE TABLE pairings (
    id             INTEGER PRIMARY KEY,
    supporter_code TEXT NOT NULL REFERENCES supporters(code),
    recipient_code TEXT NOT NULL REFERENCES recipients(code),
    scope          TEXT NOT NULL,
    valid_from     TEXT NOT NULL,
    valid_to       TEXT,
    confidence     TEXT NOT NULL,
    UNIQUE (supporter_code, recipient_code, valid_from)
);

CREATE TABLE front_commands (
    id             INTEGER PRIMARY KEY,
    supporter_code TEXT NOT NULL REFERENCES supporters(code),
    level          TEXT NOT NULL,
    recipient_code TEXT NOT NULL REFERENCES recipients(code),
    name           TEXT NOT NULL UNIQUE
);

CREATE TABLE plans (
    id                INTEGER PRIMARY KEY,
    kind              TEXT NOT NULL,
    supporter_code    TEXT NOT NULL REFERENCES supporters(code),
    recipient_code    TEXT NOT NULL REFERENCES recipients(code),
    start_year        INTEGER NOT NULL,
    end_year          INTEGER NOT NULL,
    version           INTEGER NOT NULL,
    amount            INTEGER NOT NULL,
    grassroots_amount INTEGER NOT NULL,
    livelihood_amount INTEGER NOT NULL,
    note              TEXT NOT NULL DEFAULT '',
    UNIQUE (kind, supporter_code, recipient_code, start_year, version)
);

CREATE TABLE projects (
    id                 INTEGER PRIMARY KEY,
    code               TEXT NOT NULL UNIQUE,
    name               TEXT NOT NULL,
    category           TEXT NOT NULL,
    delivery_mode      TEXT NOT NULL,
    kind               TEXT NOT NULL,
    year               INTEGER NOT NULL,
    in_plan            INTEGER NOT NULL CHECK (in_plan IN (0, 1)),
    continued          INTEGER NOT NULL CHECK (continued IN (0, 1)),
    grassroots         INTEGER NOT NULL CHECK (grassroots IN (0, 1)),
    livelihood         INTEGER NOT NULL CHECK (livelihood IN (0, 1)),
    supporter_code     TEXT NOT NULL REFERENCES supporters(code),
    recipient_code     TEXT NOT NULL REFERENCES recipients(code),
    location_code      TEXT NOT NULL REFERENCES recipients(code),
    prefecture_code    TEXT NOT NULL,
    planned_investment INTEGER NOT NULL CHECK (planned_investment >= 0),
    aid_funds          INTEGER NOT NULL CHECK (aid_funds >= 0),
    matching_funds     INTEGER NOT NULL CHECK (matching_funds >= 0),
    start_date         TEXT NOT NULL,
    end_date           TEXT NOT NULL,
    state              TEXT NOT NULL,
    published          INTEGER NOT NULL CHECK (published IN (0, 1)),
    description        TEXT NOT NULL DEFAULT '',
    row_version        INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX projects_supporter ON projects(supporter_code, id);
CREATE INDEX projects_recipient ON projects(recipient_code, id);
CREATE INDEX projects_year ON projects(year, id);
CREATE INDEX projects_category ON projects(category, id);
CREATE INDEX projects_state ON projects(state, id);

CREATE TABLE project_states (
    id         INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    from_state TEXT,
    to_state   TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    reason     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX project_states_project ON project_states(project_id, id);

CREATE TABLE fund_transactions (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects(id),
    fund_type   TEXT NOT NULL,
    amount      INTEGER NOT NULL CHECK (amount > 0),
    date        TEXT NOT NULL,
    -- Derived from date at write time, so both backends group the same way.
    year        INTEGER NOT NULL,
    month       INTEGER NOT NULL,
    document_no TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    UNIQUE (project_id, fund_type, date, document_no)
);

CREATE TABLE batches (
    id             INTEGER PRIMARY KEY,
    supporter_code TEXT NOT NULL REFERENCES supporters(code),
    number         INTEGER NOT NULL,
    start_date     TEXT NOT NULL,
    end_date       TEXT NOT NULL,
    UNIQUE (supporter_code, number)
);

CREATE TABLE assignments (
    id             INTEGER PRIMARY KEY,
    supporter_code TEXT NOT NULL REFERENCES supporters(code),
    batch_number   INTEGER,
    person_name    TEXT NOT NULL,
    id_number      TEXT,
    phone          TEXT,
    category       TEXT NOT NULL,
    mode           TEXT NOT NULL,
    recipient_code TEXT NOT NULL REFERENCES recipients(code),
    host_unit      TEXT NOT NULL,
    post           TEXT NOT NULL,
    arrival_date   TEXT NOT NULL,
    return_date    TEXT NOT NULL,
    appraisal      TEXT
);
CREATE INDEX assignments_supporter ON assignments(supporter_code, batch_number);

CREATE TABLE indicators (
    id         INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    name       TEXT NOT NULL,
    unit       TEXT NOT NULL,
    baseline   REAL NOT NULL,
    target     REAL NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE indicator_values (
    id           INTEGER PRIMARY KEY,
    indicator_id INTEGER NOT NULL REFERENCES indicators(id),
    period       TEXT NOT NULL,
    actual       REAL NOT NULL,
    UNIQUE (indicator_id, period)
);
