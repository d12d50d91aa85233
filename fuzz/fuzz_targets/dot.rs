//! Dot-stuffs arbitrary bodies in chunks and checks that the output never
//! contains the end-of-data sequence before its end, and that the message
//! size matches what a server receives. The first input byte sets the
//! output buffer size.
#![no_main]

use embedded_smtp::codec::{DotStuffer, message_size};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((&first, body)) = input.split_first() else {
        return;
    };
    let mut out = vec![0u8; usize::from(first % 32) + 3];
    let mut stuffer = DotStuffer::new();
    let mut wire = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let (consumed, written) = stuffer.encode(rest, &mut out);
        assert!(consumed > 0);
        wire.extend_from_slice(&out[..written]);
        rest = &rest[consumed..];
    }
    let mut tail = [0u8; DotStuffer::MAX_FINISH_LEN];
    let len = stuffer
        .finish(&mut tail)
        .expect("finish fits MAX_FINISH_LEN");
    wire.extend_from_slice(&tail[..len]);

    // The data, seen with a CRLF in front, ends only at the final ".\r\n".
    let mut framed = b"\r\n".to_vec();
    framed.extend_from_slice(&wire);
    let end = framed
        .windows(5)
        .position(|window| window == b"\r\n.\r\n")
        .expect("terminator present");
    assert_eq!(end + 5, framed.len());

    // Size: everything before the terminator minus one dot per stuffed line.
    let data = &wire[..wire.len() - 3];
    let stuffed = data
        .split(|&b| b == b'\n')
        .filter(|line| line.starts_with(b".."))
        .count();
    assert_eq!(message_size(body), (data.len() - stuffed) as u64);
});
