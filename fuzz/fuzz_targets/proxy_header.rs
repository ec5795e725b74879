//! Fuzz target: see `wsgate_fuzz::proxy_header`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wsgate_fuzz::checks::proxy_header(data));
