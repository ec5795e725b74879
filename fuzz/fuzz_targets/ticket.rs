//! Fuzz target: see `wsgate_fuzz::ticket`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wsgate_fuzz::checks::ticket(data));
