//! Store story tests: each story runs on a fresh SQLite file, and on a fresh
//! PostgreSQL database when `YUANJIANG_TEST_POSTGRES` is set.

mod attachments;
mod audit;
mod identity;
mod personal_data;
mod story;
mod writes;
