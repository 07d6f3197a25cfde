//! Integration tests of the exchange crate: every format and encoding, a
//! corpus of bad files (each with its exact error and the database left as
//! it was), idempotent re-import, the round trip, templates, the error
//! workbook and the open-data package. Each runs on a fresh SQLite file and,
//! when `YUANJIANG_TEST_POSTGRES` is set, on a fresh PostgreSQL database.

mod assignments;
mod bad_files;
mod formats;
mod idempotence;
mod open_data;
mod regressions;
mod support;
