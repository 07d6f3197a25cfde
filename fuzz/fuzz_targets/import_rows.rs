//! Fuzz target: see [`yuanjiang_fuzz::import_rows`].

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| yuanjiang_fuzz::import_rows(data));
