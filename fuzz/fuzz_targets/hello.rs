//! Fuzz target `hello`: see `ternion_fuzz::hello` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ternion_fuzz::hello::check(data));
