//! Fuzz target: see [`yuanjiang_fuzz::query_filters`].

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| yuanjiang_fuzz::query_filters(data));
