//! Fuzz target: see `wsgate_fuzz::first_message`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wsgate_fuzz::checks::first_message(data));
