//! Integration tests of `yuanjiang-analytics`, one binary:
//! * `examples` — published and hand-derived worked examples, matched to
//!   their published precision or to 1e-6 against exact values;
//! * `properties` — invariants on random tables (proptest);
//! * `errors` — every bad-input case, with its code and messages.

mod errors;
mod examples;
mod properties;
mod util;
