//! Fuzz target: see [`yuanjiang_fuzz::evaluation_input`].

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| yuanjiang_fuzz::evaluation_input(data));
