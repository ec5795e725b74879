//! Fuzz target: see `wsgate_fuzz::http_head`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wsgate_fuzz::checks::http_head(data));
