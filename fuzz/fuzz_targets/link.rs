//! Fuzz target `link`: see `ternion_fuzz::link` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ternion_fuzz::link::check(data));
