#![no_main]
//! The Model against MemoryRegistry and FileRegistry: see `procreg_fuzz::differential`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| procreg_fuzz::model_ops(data));
