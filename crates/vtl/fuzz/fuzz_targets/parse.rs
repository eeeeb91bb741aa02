#![no_main]
//! Parsing arbitrary input must never panic.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = portico_vtl::Template::parse(s);
    }
});
