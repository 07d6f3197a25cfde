//! Data exchange for Yuanjiang (援疆通): how reports (报表) move in and out.
//!
//! - [`import()`]: xlsx, xls, ods and CSV (UTF-8 with or without BOM, GBK,
//!   GB18030) with Chinese or English headers in any order; every row
//!   checked against the domain rules and the stored data; every problem
//!   reported with sheet, row, column and value in zh-CN and English; all
//!   or nothing in one transaction; idempotent by natural key.
//! - [`template`]: xlsx templates with drop-down lists and instructions.
//! - [`export`]: CSV (UTF-8 with BOM), xlsx and JSON, streamed by keyset
//!   paging with no row cap; exported projects and transactions import back unchanged.
//! - [`open_data`]: everything published, as CSV plus a Frictionless `datapackage.json`.
//!
//! The formats live here; the store only reads and writes by natural key.

#![forbid(unsafe_code)]

pub mod cell;
pub mod columns;
mod error;
mod errors_xlsx;
pub mod export;
pub mod import;
mod issue;
pub mod open_data;
mod parse;
pub mod read;
pub mod template;

/// The bytes of an imported file, shared with the thread that reads it.
pub use bytes::Bytes;
pub use columns::{Column, ColumnType, Kind};
pub use error::ExchangeError;
pub use errors_xlsx::write_error_workbook;
pub use export::{
    ExportFormat, ExportOptions, PeopleExport, PersonalDataExport, export, export_assignments,
    parse_assignment_filter, parse_filter,
};
pub use import::{
    Counts, ImportOptions, ImportReport, Progress, RowsRead, SheetSummary, import, parse_rows,
    sm3_hex,
};
pub use issue::{Issue, MAX_ISSUES};
pub use open_data::{OpenDataSummary, open_data};
pub use parse::PersonalColumn;
pub use read::{Format, Limits, TextEncoding};
pub use template::template;
