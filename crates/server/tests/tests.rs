//! Server tests: HTTP requests through the real router (tower `oneshot`)
//! over a real store with seeded demo data, on SQLite and on PostgreSQL
//! when `YUANJIANG_TEST_POSTGRES` is set.

mod attachments;
mod audit;
mod auth;
mod exchange_web;
mod hostile;
mod personnel;
mod read_api;
mod records;
mod support;
mod web;
mod writes;
