#![no_main]
//! Fault plans decoded from bytes, run in the world and judged: see `procreg_fuzz::plan`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| procreg_fuzz::plan::run(data));
