-- Maintained roll-ups of the fund chain (PostgreSQL). Twin: ../sqlite/0006_rollups.sql.
-- Kept up to date in the same transaction as every write (see src/rollup.rs),
-- so dashboards sum a few thousand rows instead of every transaction.
-- `yuanjiang check` recomputes both from raw data and fails on a difference.

-- By year: every filter of the dashboard and the API except state, in-plan
-- and continued (those fall back to the transactions).
CREATE TABLE fund_rollup_year (
    supporter_code  TEXT NOT NULL,
    recipient_code  TEXT NOT NULL,
    prefecture_code TEXT NOT NULL,
    category        TEXT NOT NULL,
    grassroots      BOOLEAN NOT NULL,
    livelihood      BOOLEAN NOT NULL,
    published       BOOLEAN NOT NULL,
    year            INTEGER NOT NULL,
    fund_type       TEXT NOT NULL,
    amount          BIGINT NOT NULL,
    n               BIGINT NOT NULL,
    PRIMARY KEY (supporter_code, recipient_code, category, grassroots, livelihood, published, year, fund_type)
);

-- By month: supporter × prefecture, for monthly figures.
CREATE TABLE fund_rollup_month (
    supporter_code  TEXT NOT NULL,
    prefecture_code TEXT NOT NULL,
    published       BOOLEAN NOT NULL,
    year            INTEGER NOT NULL,
    month           INTEGER NOT NULL,
    fund_type       TEXT NOT NULL,
    amount          BIGINT NOT NULL,
    n               BIGINT NOT NULL,
    PRIMARY KEY (supporter_code, prefecture_code, published, year, month, fund_type)
);

INSERT INTO fund_rollup_year
SELECT p.supporter_code, p.recipient_code, p.prefecture_code, p.category, p.grassroots, p.livelihood,
       p.published, t.year, t.fund_type, CAST(SUM(t.amount) AS BIGINT), COUNT(*)
FROM fund_transactions t JOIN projects p ON p.id = t.project_id
GROUP BY p.supporter_code, p.recipient_code, p.prefecture_code, p.category, p.grassroots, p.livelihood,
         p.published, t.year, t.fund_type;

INSERT INTO fund_rollup_month
SELECT p.supporter_code, p.prefecture_code, p.published, t.year, t.month, t.fund_type, CAST(SUM(t.amount) AS BIGINT), COUNT(*)
FROM fund_transactions t JOIN projects p ON p.id = t.project_id
GROUP BY p.supporter_code, p.prefecture_code, p.published, t.year, t.month, t.fund_type;

-- Moves on with every change to the roll-ups, so that app nodes can tell
-- whether a cached figure is still current with one cheap read.
CREATE TABLE data_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO data_version (id, version) VALUES (1, 1);
