-- Optimistic concurrency on assignments, which are now written through the API.
ALTER TABLE assignments ADD COLUMN row_version INTEGER NOT NULL DEFAULT 1;
