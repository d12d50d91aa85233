//! Parses every line of arbitrary bytes as an EHLO keyword line and checks
//! the invariants of the resulting extension set.
#![no_main]

use embedded_smtp::codec::{Extension, Extensions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut extensions = Extensions::new();
    for line in data.split(|&b| b == b'\n') {
        extensions.parse_line(line);
    }
    if extensions.max_size().is_some() {
        assert!(extensions.contains(Extension::Size));
    }
    if !extensions.auth_mechanisms().is_empty() {
        assert!(extensions.contains(Extension::Auth));
    }
});
