-- Accounts, sessions and API tokens (SQLite). Its twin is
-- ../postgres/0002_identity.sql; keep the two in step.
--
-- No secret is stored in the clear: passwords as argon2id PHC strings,
-- session ids and API tokens as SM3 hashes (hex). The session's CSRF token
-- is kept as is: it only works together with the session cookie, and the
-- server must hand it back to the page.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    -- A key of yuanjiang_domain::Role.
    role          TEXT NOT NULL,
    -- A supporter code for role supporter, a recipient code for role prefecture.
    scope         TEXT,
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    -- Consecutive failed sign-ins since the last success or lock.
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until  TEXT,
    created_at    TEXT NOT NULL
);

-- Server-side sessions, so that several app nodes behind a load balancer
-- share them.
CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    csrf_token   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    label      TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);
