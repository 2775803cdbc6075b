//! Fuzz target `frame_decoder`: see `ternion_fuzz::frame_decoder` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ternion_fuzz::frame_decoder::check(data));
