//! Fuzz target: see [`yuanjiang_fuzz::codes`].

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| yuanjiang_fuzz::codes(data));
