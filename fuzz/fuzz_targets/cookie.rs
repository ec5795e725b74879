//! Fuzz target: see `wsgate_fuzz::cookie`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wsgate_fuzz::checks::cookie(data));
