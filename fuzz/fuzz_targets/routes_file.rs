//! Fuzz target: see `wsgate_fuzz::routes_file`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wsgate_fuzz::checks::routes_file(data));
