//! Fuzz target `handshake`: see `ternion_fuzz::handshake` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ternion_fuzz::handshake::check(data));
