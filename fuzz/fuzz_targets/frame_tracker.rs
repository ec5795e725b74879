//! Fuzz target: see `wsgate_fuzz::frame_tracker`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wsgate_fuzz::checks::frame_tracker(data));
