-- Keep the SQLite and PostgreSQL versions of this migration in step.
-- Fund statistics for one year (the dashboard's usual question) read a
-- range of this index instead of the whole year roll-up; it carries the
-- columns those queries group by and sum, so the table is not touched.
CREATE INDEX fund_rollup_year_by_year
    ON fund_rollup_year (year, published, supporter_code, prefecture_code, category, fund_type, amount, n);
