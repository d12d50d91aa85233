//! Message data encoding for the DATA phase: dot-stuffing (RFC 5321
//! section 4.5.2), CRLF line endings (section 2.3.8), the end-of-data line
//! (section 4.1.1.4) and the message size of RFC 1870 section 3.
//!
//! A bare CR or a bare LF in the body becomes CRLF, and a `.` at the start
//! of every line is doubled. Together these guarantee that no body can
//! contain the sequence CRLF `.` CRLF, so no body can end DATA early or
//! smuggle commands after it. Both [`DotStuffer`] and [`SizeCounter`] carry
//! their state across chunks, so a body may be streamed in any split.

use super::command::EncodeError;

/// Position in the output relative to line boundaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum LineState {
    /// At the start of a line, including the start of the body.
    #[default]
    LineStart,
    /// Inside a line.
    MidLine,
    /// After a CR that was already written. An LF completes it, and any
    /// other byte makes it a bare CR, which gets the missing LF.
    AfterCr,
}

/// Output bytes for one input byte.
struct Step {
    bytes: [u8; 3],
    len: usize,
    /// Whether the output contains a doubled dot, which the message size
    /// does not count.
    stuffed: bool,
    next: LineState,
}

impl Step {
    fn push(&mut self, byte: u8) {
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = byte;
            self.len += 1;
        }
    }

    fn output(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

/// Encodes one input byte: normalises line endings and stuffs dots.
fn step(state: LineState, byte: u8) -> Step {
    let mut step = Step {
        bytes: [0; 3],
        len: 0,
        stuffed: false,
        next: LineState::MidLine,
    };
    let mut state = state;
    if state == LineState::AfterCr {
        if byte == b'\n' {
            step.push(b'\n');
            step.next = LineState::LineStart;
            return step;
        }
        // The CR was bare: complete it, then treat the byte as the first of
        // a new line.
        step.push(b'\n');
        state = LineState::LineStart;
    }

    match (state, byte) {
        (_, b'\r') => {
            step.push(b'\r');
            step.next = LineState::AfterCr;
        }
        (_, b'\n') => {
            step.push(b'\r');
            step.push(b'\n');
            step.next = LineState::LineStart;
        }
        (LineState::LineStart, b'.') => {
            step.push(b'.');
            step.push(b'.');
            step.stuffed = true;
        }
        _ => step.push(byte),
    }
    step
}

/// Streaming encoder for the message data after the 354 reply to DATA.
///
/// Starts at the start of a line, so a body that begins with `.` is stuffed
/// too. Call [`encode`](Self::encode) for every chunk of the body and then
/// [`finish`](Self::finish) once for the end-of-data line.
#[derive(Debug, Clone, Default)]
pub struct DotStuffer {
    state: LineState,
}

impl DotStuffer {
    /// Maximum number of bytes that [`finish`](Self::finish) writes.
    pub const MAX_FINISH_LEN: usize = 5;

    /// Creates an encoder at the start of the body.
    pub const fn new() -> Self {
        Self {
            state: LineState::LineStart,
        }
    }

    /// Encodes as much of `input` as fits into `out` and returns
    /// `(consumed, written)`.
    ///
    /// Bare CR and bare LF become CRLF, and a `.` at the start of a line is
    /// doubled. The output of one input byte is never split: encoding stops
    /// before the first byte whose output (up to 3 bytes, for a bare CR
    /// followed by `.`) does not fit. With `out.len() >= 3` every call
    /// consumes at least one byte of a non-empty input.
    pub fn encode(&mut self, input: &[u8], out: &mut [u8]) -> (usize, usize) {
        let mut consumed = 0;
        let mut written = 0;
        for &byte in input {
            let step = step(self.state, byte);
            let output = step.output();
            let end = written + output.len();
            let Some(target) = out.get_mut(written..end) else {
                break;
            };
            target.copy_from_slice(output);
            written = end;
            consumed += 1;
            self.state = step.next;
        }
        (consumed, written)
    }

    /// Writes the end of the data and resets the encoder for the next
    /// message.
    ///
    /// Writes CRLF first when the last line is unterminated (or only LF when
    /// the body ended in CR), then the end-of-data line `.` CRLF: at most
    /// [`MAX_FINISH_LEN`](Self::MAX_FINISH_LEN) bytes. Returns
    /// [`EncodeError::BufferTooSmall`] without writing or changing state
    /// when `out` is too small.
    pub fn finish(&mut self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let tail: &[u8] = match self.state {
            LineState::LineStart => b".\r\n",
            LineState::MidLine => b"\r\n.\r\n",
            LineState::AfterCr => b"\n.\r\n",
        };
        let Some(target) = out.get_mut(..tail.len()) else {
            return Err(EncodeError::BufferTooSmall { needed: tail.len() });
        };
        target.copy_from_slice(tail);
        self.state = LineState::LineStart;
        Ok(tail.len())
    }
}

/// Returns the message size of `body` as RFC 1870 section 3 defines it, for
/// the MAIL parameter `SIZE`.
///
/// Counts the octets sent after the 354 reply once bare CR and bare LF are
/// sent as CRLF, including the CRLF that [`DotStuffer::finish`] adds to an
/// unterminated last line, but not the doubled dots or the final `.` CRLF.
pub fn message_size(body: &[u8]) -> u64 {
    let mut counter = SizeCounter::new();
    counter.update(body);
    counter.finish()
}

/// Streaming version of [`message_size`] for a body read in chunks.
#[derive(Debug, Clone, Default)]
pub struct SizeCounter {
    state: LineState,
    size: u64,
}

impl SizeCounter {
    /// Creates a counter for an empty body.
    pub const fn new() -> Self {
        Self {
            state: LineState::LineStart,
            size: 0,
        }
    }

    /// Adds the next chunk of the body.
    pub fn update(&mut self, chunk: &[u8]) {
        for &byte in chunk {
            let step = step(self.state, byte);
            let counted = if step.stuffed { step.len - 1 } else { step.len };
            self.size = self.size.saturating_add(counted as u64);
            self.state = step.next;
        }
    }

    /// Returns the size of the body so far, including the line ending that
    /// [`DotStuffer::finish`] would add to an unterminated last line.
    pub fn finish(&self) -> u64 {
        let pending = match self.state {
            LineState::LineStart => 0,
            LineState::MidLine => 2,
            LineState::AfterCr => 1,
        };
        self.size.saturating_add(pending)
    }
}

/// Returns whether `data` contains octets above 127, which need the
/// 8BITMIME extension (RFC 6152) or a 7-bit transfer encoding.
pub fn has_8bit(data: &[u8]) -> bool {
    !data.is_ascii()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::test_util::{XorShift, assert_same_at_every_split};
    use std::vec::Vec;

    /// Encodes `chunks` through a stuffer with an output buffer of
    /// `out_len` bytes, like a session that sends each filled buffer, and
    /// returns everything written including the end of data.
    fn stuff(chunks: &[&[u8]], out_len: usize) -> Vec<u8> {
        let mut stuffer = DotStuffer::new();
        let mut out = std::vec![0u8; out_len];
        let mut wire = Vec::new();
        for chunk in chunks {
            let mut rest = *chunk;
            while !rest.is_empty() {
                let (consumed, written) = stuffer.encode(rest, &mut out);
                assert!(consumed > 0, "no progress with {out_len} output bytes");
                wire.extend_from_slice(&out[..written]);
                rest = &rest[consumed..];
            }
        }
        let mut tail = [0u8; DotStuffer::MAX_FINISH_LEN];
        let len = stuffer.finish(&mut tail).unwrap();
        wire.extend_from_slice(&tail[..len]);
        wire
    }

    /// Reads `wire` the way an SMTP server does: the data ends at the first
    /// CRLF `.` CRLF, and a leading dot is removed from every line. Returns
    /// the data (with its final CRLF) and the bytes after the terminator.
    fn server_view(wire: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let mut data = Vec::new();
        let mut rest = wire;
        loop {
            let line_len = rest
                .windows(2)
                .position(|pair| pair == b"\r\n")
                .expect("wire ends before the terminator");
            let line = &rest[..line_len];
            rest = &rest[line_len + 2..];
            if line == b"." {
                return (data, rest.to_vec());
            }
            data.extend_from_slice(line.strip_prefix(b".").unwrap_or(line));
            data.extend_from_slice(b"\r\n");
        }
    }

    fn stuff_at_every_split(body: &[u8]) -> Vec<u8> {
        assert_same_at_every_split(body, |chunks| stuff(chunks, 64))
    }

    #[test]
    fn dot_line_inside_body_stuffed() {
        let body = b"a\r\n\r\n.\r\nMAIL FROM:<x@example.net>\r\n";
        let wire = stuff_at_every_split(body);
        assert_eq!(wire, b"a\r\n\r\n..\r\nMAIL FROM:<x@example.net>\r\n.\r\n");

        let (data, after) = server_view(&wire);
        assert_eq!(data, body);
        assert!(after.is_empty());
    }

    #[test]
    fn leading_dot_stuffed() {
        assert_eq!(stuff_at_every_split(b".\r\n"), b"..\r\n.\r\n");
        assert_eq!(stuff_at_every_split(b".hidden"), b"..hidden\r\n.\r\n");
        assert_eq!(stuff_at_every_split(b"..\r\n"), b"...\r\n.\r\n");
        assert_eq!(stuff_at_every_split(b"a.\r\n.b"), b"a.\r\n..b\r\n.\r\n");
    }

    #[test]
    fn bare_line_breaks_before_dot() {
        let wire = stuff_at_every_split(b"x\n.\r\nRSET\r\n");
        assert_eq!(wire, b"x\r\n..\r\nRSET\r\n.\r\n");
        let (data, after) = server_view(&wire);
        assert_eq!(data, b"x\r\n.\r\nRSET\r\n");
        assert!(after.is_empty());

        let wire = stuff_at_every_split(b"x\r.\r\n");
        assert_eq!(wire, b"x\r\n..\r\n.\r\n");
        let (data, after) = server_view(&wire);
        assert_eq!(data, b"x\r\n.\r\n");
        assert!(after.is_empty());

        assert_eq!(stuff_at_every_split(b"x\r\n.\n"), b"x\r\n..\r\n.\r\n");
        assert_eq!(stuff_at_every_split(b"x\n.\n"), b"x\r\n..\r\n.\r\n");
    }

    #[test]
    fn line_endings_normalised() {
        assert_eq!(
            stuff_at_every_split(b"a\rb\nc\r\n"),
            b"a\r\nb\r\nc\r\n.\r\n"
        );
        assert_eq!(stuff_at_every_split(b"\r\r\n"), b"\r\n\r\n.\r\n");
        assert_eq!(stuff_at_every_split(b"\n\n"), b"\r\n\r\n.\r\n");
        assert_eq!(stuff_at_every_split(b"\n\r"), b"\r\n\r\n.\r\n");
    }

    #[test]
    fn unterminated_last_line() {
        assert_eq!(stuff_at_every_split(b"abc"), b"abc\r\n.\r\n");
        assert_eq!(stuff_at_every_split(b"abc\r"), b"abc\r\n.\r\n");
        assert_eq!(stuff_at_every_split(b"\r"), b"\r\n.\r\n");
    }

    #[test]
    fn empty_body() {
        assert_eq!(stuff_at_every_split(b""), b".\r\n");
        assert_eq!(message_size(b""), 0);
    }

    #[test]
    fn every_output_size() {
        let body = b"a\r\n\r\n.\r\nx\r.y\n.\r\n\r.\rend";
        let expected = stuff(&[body], 64);
        for out_len in 3..=expected.len() + 1 {
            let wire = assert_same_at_every_split(body, |chunks| stuff(chunks, out_len));
            assert_eq!(wire, expected, "output buffer of {out_len} bytes");
        }
    }

    #[test]
    fn output_never_split() {
        let mut stuffer = DotStuffer::new();
        let mut out = [0u8; 2];
        assert_eq!(stuffer.encode(b"a\r.", &mut out), (2, 2));
        assert_eq!(&out, b"a\r");
        // A bare CR before a dot needs 3 bytes, which do not fit.
        assert_eq!(stuffer.encode(b".", &mut out), (0, 0));
        let mut out = [0u8; 3];
        assert_eq!(stuffer.encode(b".", &mut out), (1, 3));
        assert_eq!(&out, b"\n..");
    }

    #[test]
    fn finish_needs_room() {
        let mut stuffer = DotStuffer::new();
        let mut out = [0u8; 8];
        assert_eq!(stuffer.encode(b"abc", &mut out), (3, 3));

        let mut small = [0xAAu8; 4];
        assert_eq!(
            stuffer.finish(&mut small),
            Err(EncodeError::BufferTooSmall { needed: 5 })
        );
        assert_eq!(small, [0xAA; 4]);

        let mut tail = [0u8; DotStuffer::MAX_FINISH_LEN];
        assert_eq!(stuffer.finish(&mut tail), Ok(5));
        assert_eq!(&tail, b"\r\n.\r\n");

        // The encoder is ready for the next message.
        assert_eq!(stuffer.finish(&mut tail), Ok(3));
        assert_eq!(&tail[..3], b".\r\n");
    }

    #[test]
    fn size_counts_normalised_body() {
        let cases: &[(&[u8], u64)] = &[
            (b"", 0),
            (b"abc", 5),
            (b"abc\r\n", 5),
            (b"a\nb\n", 6),
            (b"a\rb\r", 6),
            (b".\r\n", 3),
            (b"..\r\n.x", 8),
            (b"\r", 2),
            (b"\r\r\n", 4),
        ];
        for &(body, expected) in cases {
            let size = assert_same_at_every_split(body, |chunks| {
                let mut counter = SizeCounter::new();
                for chunk in chunks {
                    counter.update(chunk);
                }
                counter.finish()
            });
            assert_eq!(size, expected, "body {body:?}");
            assert_eq!(message_size(body), expected, "body {body:?}");
        }
    }

    #[test]
    fn eight_bit_detection() {
        assert!(!has_8bit(b"plain ASCII\r\n\x7f"));
        assert!(has_8bit(b"caf\xc3\xa9"));
        assert!(has_8bit(b"\x80"));
        assert!(!has_8bit(b""));
    }

    #[test]
    fn random_bodies_never_end_early() {
        let alphabet = b"\r\n.a\xff";
        let mut rng = XorShift::new(0xd07);
        for _ in 0..3000 {
            let body = rng.bytes_from(alphabet, 24);
            let out_len = 3 + rng.below(8);
            let split_at = rng.below(body.len() + 1);
            let (head, tail) = body.split_at(split_at);
            let wire = stuff(&[head, tail], out_len);
            assert_eq!(wire, stuff(&[&body], 64), "body {body:?}");

            // Every CR is followed by LF and every LF preceded by CR.
            for (i, &byte) in wire.iter().enumerate() {
                if byte == b'\r' {
                    assert_eq!(wire.get(i + 1), Some(&b'\n'), "body {body:?}");
                }
                if byte == b'\n' {
                    let previous = i.checked_sub(1).map(|j| wire[j]);
                    assert_eq!(previous, Some(b'\r'), "body {body:?}");
                }
            }

            let (data, after) = server_view(&wire);
            assert!(after.is_empty(), "body {body:?} ended early");
            assert_eq!(message_size(&body), data.len() as u64, "body {body:?}");
        }
    }
}
