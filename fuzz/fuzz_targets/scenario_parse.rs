#![no_main]
//! Any text through the scenario parser and runner, which must never panic: see
//! `procreg_fuzz::scenario`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| procreg_fuzz::scenario::run(data));
