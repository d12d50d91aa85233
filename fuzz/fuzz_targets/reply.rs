//! Feeds arbitrary bytes to the reply parser the way the client session
//! does, once whole and once in chunks, and checks that both give the same
//! lines and the same error. The first input byte sets the chunk size.
#![no_main]

use embedded_smtp::codec::{ReplyError, ReplyParser, Status};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, PartialEq)]
struct Outcome {
    lines: Vec<(u16, bool, Vec<u8>)>,
    error: Option<ReplyError>,
}

fn feed(data: &[u8], chunk_len: usize) -> Outcome {
    let mut parser = ReplyParser::with_max_lines(8);
    let mut buffer = Vec::new();
    let mut lines = Vec::new();
    for chunk in data.chunks(chunk_len) {
        buffer.extend_from_slice(chunk);
        loop {
            match parser.parse_line(&buffer) {
                Ok(Status::Complete((line, consumed))) => {
                    assert!(consumed <= buffer.len());
                    assert!((200..=599).contains(&line.code.get()));
                    lines.push((line.code.get(), line.last, line.text.to_vec()));
                    let _ = line.text_after_enhanced();
                    buffer.drain(..consumed);
                }
                Ok(Status::Partial) => break,
                Err(error) => {
                    return Outcome {
                        lines,
                        error: Some(error),
                    };
                }
            }
        }
    }
    Outcome { lines, error: None }
}

fuzz_target!(|input: &[u8]| {
    let Some((&first, data)) = input.split_first() else {
        return;
    };
    let chunk_len = usize::from(first % 16) + 1;
    let whole = feed(data, data.len().max(1));
    let chunked = feed(data, chunk_len);
    assert_eq!(whole, chunked);
});
