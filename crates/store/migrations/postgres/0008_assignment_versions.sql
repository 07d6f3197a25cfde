-- Optimistic concurrency on assignments, which are now written through the API.
ALTER TABLE assignments ADD COLUMN row_version BIGINT NOT NULL DEFAULT 1;
