#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| spotlint_fuzz::script(data));
