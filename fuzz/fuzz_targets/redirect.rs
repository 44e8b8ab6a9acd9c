//! Fuzz target: [`token_inspector_fuzz::redirect`] on arbitrary input. Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| token_inspector_fuzz::redirect(data));
