-- The audit trail and personal data at rest (PostgreSQL). Twin:
-- ../sqlite/0003_audit_personal_data.sql; keep the two in step.

-- Append-only, hash-chained audit trail (审计日志). Ids are assigned by the
-- application without gaps (last id + 1 under an advisory lock), so a gap
-- means a removed entry. `at` is UTC RFC 3339 text with microseconds,
-- identical on both backends, because the hash covers the stored text.
-- `hash` is SM3(prev_hash || canonical entry), lower-case hex; the first
-- entry's prev_hash is 64 zeros. See crates/store/src/audit.rs.
CREATE TABLE audit_log (
    id          BIGINT PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    entity      TEXT NOT NULL,
    entity_key  TEXT NOT NULL,
    before_json TEXT,
    after_json  TEXT,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_log_entity ON audit_log(entity, entity_key, id);
CREATE INDEX audit_log_actor ON audit_log(actor, id);

-- The application never changes or removes an entry; these triggers stop a
-- bug from doing so. Someone who drops them is caught by `yuanjiang audit verify`.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: entries cannot be changed or removed';
END;
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Personal data encrypted at rest with SM4-GCM ("v1:" + base64 of
-- nonce || ciphertext || tag). The plaintext columns id_number and phone
-- stay for old rows only: the store encrypts them on open and sets them NULL.
ALTER TABLE assignments ADD COLUMN id_number_enc TEXT;
ALTER TABLE assignments ADD COLUMN phone_enc TEXT;
CREATE INDEX assignments_recipient ON assignments(recipient_code, id);

-- Which field key encrypted this database: an SM3 fingerprint of the key,
-- so that opening it with another key fails at once instead of writing
-- values nobody can read later.
CREATE TABLE field_keys (
    version     INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL
);
