//! Streaming quoted-printable encoder for text bodies (RFC 2045 section 6.7).

/// Maximum length of an encoded line, soft-break `=` included (RFC 2045 section 6.7,
/// rule 5).
const MAX_LINE_LEN: usize = 76;

/// Maximum output of one input byte: the pending byte's soft break
/// (`=\r\n`), its escape (`=XX`), then the hard line break.
const MAX_STEP_LEN: usize = 8;

/// Streaming quoted-printable encoder (RFC 2045 section 6.7) for text.
///
/// - Input lines may end in CRLF, bare LF or bare CR. Each becomes a CRLF
///   hard line break.
/// - Soft line breaks (`=` CRLF) keep every output line at or below 76
///   characters.
/// - `=`, bytes of 0x80 and above, and controls other than HTAB are written
///   as `=XX`. So is the last space or HTAB before a line break, so no line
///   ends in whitespace that a relay could strip.
/// - A `.` at the start of an output line is written as `=2E`, so the
///   encoded body never needs dot-stuffing and never ends DATA early.
///
/// The encoder holds back the last input byte until the next byte shows
/// whether a line break follows, so the output lags the input by at most one byte until
/// [`finish`](Self::finish). Any chunking of the input and any sizes of the
/// output buffers give the same bytes.
#[derive(Debug, Clone)]
pub struct QuotedPrintableEncoder {
    /// Characters already written on the current output line.
    column: usize,
    /// Last input byte, not encoded yet because its encoding depends on
    /// whether a line break follows.
    pending: Option<u8>,
    /// The previous input byte was a CR, already written as CRLF, so an LF
    /// now belongs to that line break.
    after_cr: bool,
    /// Encoded bytes that did not fit into the caller's buffer yet.
    staged: [u8; 2 * MAX_STEP_LEN],
    staged_start: usize,
    staged_end: usize,
}

impl Default for QuotedPrintableEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl QuotedPrintableEncoder {
    /// Smallest output buffer with which [`encode`](Self::encode) makes
    /// progress. Output that does not fit is kept and written by the next
    /// call, so one byte is enough.
    pub const MIN_OUT: usize = 1;

    /// Maximum number of bytes [`finish`](Self::finish) writes: output left over from
    /// the last `encode` call plus the held-back byte, a soft break and the
    /// final CRLF.
    pub const MAX_FINISH_LEN: usize = 2 * MAX_STEP_LEN - 1;

    /// Creates an encoder at the start of a body.
    pub const fn new() -> Self {
        Self {
            column: 0,
            pending: None,
            after_cr: false,
            staged: [0; 2 * MAX_STEP_LEN],
            staged_start: 0,
            staged_end: 0,
        }
    }

    /// Encodes as much of `input` as fits into `out`.
    ///
    /// Returns `(consumed, written)`. Makes progress whenever `input` is not
    /// empty and `out.len() >= Self::MIN_OUT`: it consumes input, writes
    /// output, or both.
    pub fn encode(&mut self, input: &[u8], out: &mut [u8]) -> (usize, usize) {
        let mut written = self.drain(out);
        let mut consumed = 0;
        for &byte in input {
            if written >= out.len() {
                break;
            }
            self.push_byte(byte);
            consumed += 1;
            written += self.drain(out.get_mut(written..).unwrap_or_default());
        }
        (consumed, written)
    }

    /// Flushes the held-back byte and writes a final CRLF if the last line
    /// is unterminated. An empty body stays empty.
    ///
    /// Returns the number of bytes written. With `out.len() >=
    /// Self::MAX_FINISH_LEN` one call writes everything. With a smaller
    /// buffer, call again until it returns 0.
    pub fn finish(&mut self, out: &mut [u8]) -> usize {
        self.staged
            .copy_within(self.staged_start..self.staged_end, 0);
        self.staged_end -= self.staged_start;
        self.staged_start = 0;

        self.flush_pending();
        if self.column > 0 {
            self.stage(b"\r\n");
            self.column = 0;
        }
        self.after_cr = false;
        self.drain(out)
    }

    fn push_byte(&mut self, byte: u8) {
        if self.after_cr {
            self.after_cr = false;
            if byte == b'\n' {
                return;
            }
        }
        match byte {
            b'\r' | b'\n' => {
                self.flush_pending();
                self.stage(b"\r\n");
                self.column = 0;
                self.after_cr = byte == b'\r';
            }
            _ => {
                if let Some(previous) = self.pending.replace(byte) {
                    self.write_unit(previous, false);
                }
            }
        }
    }

    /// Encodes the held-back byte as the last one before a line break.
    fn flush_pending(&mut self) {
        if let Some(byte) = self.pending.take() {
            self.write_unit(byte, true);
        }
    }

    /// Stages one input byte, preceded by a soft line break when it does not
    /// fit on the current line. A byte that ends its line may use column 76
    /// because no soft break has to follow it.
    fn write_unit(&mut self, byte: u8, ends_line: bool) {
        let limit = if ends_line {
            MAX_LINE_LEN
        } else {
            MAX_LINE_LEN - 1
        };
        if self.column + self.unit_len(byte, ends_line) > limit {
            self.stage(b"=\r\n");
            self.column = 0;
        }
        if self.unit_len(byte, ends_line) == 1 {
            self.stage(&[byte]);
            self.column += 1;
        } else {
            let hex = b"0123456789ABCDEF";
            let escape = [
                b'=',
                hex[usize::from(byte >> 4)],
                hex[usize::from(byte & 0x0f)],
            ];
            self.stage(&escape);
            self.column += 3;
        }
    }

    /// Returns 1 when `byte` is written literally at the current column and
    /// 3 when it needs `=XX`.
    fn unit_len(&self, byte: u8, ends_line: bool) -> usize {
        let literal = match byte {
            b'=' => false,
            b'.' => self.column > 0,
            b' ' | b'\t' => !ends_line,
            33..=126 => true,
            _ => false,
        };
        if literal { 1 } else { 3 }
    }

    fn stage(&mut self, bytes: &[u8]) {
        let end = self.staged_end + bytes.len();
        // Never fails: callers stage at most MAX_STEP_LEN bytes per input
        // byte into a buffer emptied before each byte, or MAX_FINISH_LEN in
        // total from `finish`.
        if let Some(slot) = self.staged.get_mut(self.staged_end..end) {
            slot.copy_from_slice(bytes);
            self.staged_end = end;
        }
    }

    fn drain(&mut self, out: &mut [u8]) -> usize {
        let staged = self
            .staged
            .get(self.staged_start..self.staged_end)
            .unwrap_or_default();
        let n = staged.len().min(out.len());
        if let (Some(dst), Some(src)) = (out.get_mut(..n), staged.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.staged_start += n;
        if self.staged_start == self.staged_end {
            self.staged_start = 0;
            self.staged_end = 0;
        }
        n
    }
}

/// Exact length the encoder produces for `body`, [`finish`] included (dry
/// run), for the SIZE parameter of MAIL FROM.
///
/// [`finish`]: QuotedPrintableEncoder::finish
pub fn quoted_printable_len(body: &[u8]) -> u64 {
    let mut encoder = QuotedPrintableEncoder::new();
    let mut scratch = [0u8; 64];
    let mut total = 0u64;
    let mut rest = body;
    while !rest.is_empty() {
        let (consumed, written) = encoder.encode(rest, &mut scratch);
        total += written as u64;
        rest = rest.get(consumed..).unwrap_or_default();
    }
    loop {
        let written = encoder.finish(&mut scratch);
        if written == 0 {
            return total;
        }
        total += written as u64;
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use crate::codec::message::test_support::{
        Rng, decode_quoted_printable, normalize_line_endings,
    };
    use std::vec::Vec;

    /// Encodes `chunks` one after another with `out` buffers of `out_size`
    /// bytes, then finishes.
    fn encode_chunks(chunks: &[&[u8]], out_size: usize) -> Vec<u8> {
        let mut encoder = QuotedPrintableEncoder::new();
        let mut encoded = Vec::new();
        let mut out = std::vec![0u8; out_size];
        for chunk in chunks {
            let mut rest = *chunk;
            loop {
                let (consumed, written) = encoder.encode(rest, &mut out);
                assert!(
                    consumed > 0 || written > 0 || rest.is_empty(),
                    "no progress"
                );
                encoded.extend_from_slice(&out[..written]);
                rest = &rest[consumed..];
                if rest.is_empty() && written < out_size {
                    break;
                }
            }
        }
        loop {
            let written = encoder.finish(&mut out);
            if written == 0 {
                break;
            }
            encoded.extend_from_slice(&out[..written]);
        }
        encoded
    }

    fn encode(body: &[u8]) -> Vec<u8> {
        encode_chunks(&[body], 4096)
    }

    /// Checks that every split of `body` into two chunks, one byte at a time
    /// feeding, and several output sizes give the same bytes, that the
    /// output decodes back to the input, and that the dry-run length
    /// matches.
    fn check_streaming(body: &[u8]) -> Vec<u8> {
        let whole = encode(body);
        assert_eq!(quoted_printable_len(body), whole.len() as u64);
        match decode_quoted_printable(&whole) {
            Ok(decoded) => assert_eq!(decoded, normalize_line_endings(body)),
            Err(reason) => panic!(
                "{reason}: {:?}",
                std::string::String::from_utf8_lossy(&whole)
            ),
        }
        for out_size in [QuotedPrintableEncoder::MIN_OUT, 2, 3, 5, 8, 13, 64] {
            for split in 0..=body.len() {
                let (first, second) = body.split_at(split);
                assert_eq!(
                    encode_chunks(&[first, second], out_size),
                    whole,
                    "split {split}, out {out_size}"
                );
            }
            let bytes: Vec<&[u8]> = body.chunks(1).collect();
            assert_eq!(
                encode_chunks(&bytes, out_size),
                whole,
                "bytewise, out {out_size}"
            );
        }
        whole
    }

    // Expected output from Python 3 `email.quoprimime.body_encode(text,
    // maxlinelen=76, eol="\r\n")` with the bytes decoded as Latin-1.
    #[test]
    fn qp_matches_python_fixtures() {
        let a73 = "a".repeat(73);
        let a74 = "a".repeat(74);
        let a75 = "a".repeat(75);
        let cases: Vec<(Vec<u8>, std::string::String)> = std::vec![
            (b"Hello, World!\r\n".to_vec(), "Hello, World!\r\n".into()),
            (b"a=b\r\n".to_vec(), "a=3Db\r\n".into()),
            (
                b"trailing space \r\nnext\t\r\n".to_vec(),
                "trailing space=20\r\nnext=09\r\n".into()
            ),
            (
                [&[b'x'; 100][..], b"\r\n"].concat(),
                std::format!("{}=\r\n{}\r\n", "x".repeat(75), "x".repeat(25))
            ),
            (
                ["é".repeat(40).as_bytes(), b"\r\n"].concat(),
                std::format!(
                    "{0}=C3=\r\n=A9{0}=\r\n{0}=C3=\r\n=A9=C3=A9=C3=A9\r\n",
                    "=C3=A9".repeat(12)
                )
            ),
            (
                std::format!("{a73}=bbbbbbbbbb\r\n").into_bytes(),
                std::format!("{a73}=\r\n=3Dbbbbbbbbbb\r\n")
            ),
            (
                std::format!("{a74}=\r\n").into_bytes(),
                std::format!("{a74}=\r\n=3D\r\n")
            ),
            (
                [&[b'a'; 76][..], b"\r\n"].concat(),
                std::format!("{}\r\n", "a".repeat(76))
            ),
            (
                [&[b'a'; 77][..], b"\r\n"].concat(),
                std::format!("{a75}=\r\naa\r\n")
            ),
            (
                "Grüße aus Köln\r\n".as_bytes().to_vec(),
                "Gr=C3=BC=C3=9Fe aus K=C3=B6ln\r\n".into()
            ),
            (
                b"two  spaces  \r\n\r\n".to_vec(),
                "two  spaces =20\r\n\r\n".into()
            ),
            (
                std::format!("{a73} \r\n").into_bytes(),
                std::format!("{a73}=20\r\n")
            ),
            (
                std::format!("{a75} \r\n").into_bytes(),
                std::format!("{a75}=\r\n=20\r\n")
            ),
            (b"ctl\x01\x7f\x00\r\n".to_vec(), "ctl=01=7F=00\r\n".into()),
            (
                [&[b'a'; 150][..], b"\r\n"].concat(),
                std::format!("{a75}=\r\n{a75}\r\n")
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(
                std::string::String::from_utf8(check_streaming(&body)).unwrap(),
                expected
            );
        }
    }

    #[test]
    fn qp_trailing_space_with_one_column_left() {
        // Python writes "a"*74 + " =" CRLF CRLF here: a literal space kept
        // by a soft break and an empty line. This encoder escapes the space
        // on the next line instead; both decode to the same text.
        let body = std::format!("{} \r\n", "a".repeat(74));
        let encoded = check_streaming(body.as_bytes());
        assert_eq!(
            encoded,
            std::format!("{}=\r\n=20\r\n", "a".repeat(74)).into_bytes()
        );
    }

    #[test]
    fn qp_encodes_leading_dot() {
        assert_eq!(check_streaming(b"."), b"=2E\r\n");
        assert_eq!(check_streaming(b".\r\n"), b"=2E\r\n");
        assert_eq!(check_streaming(b".hidden\n..x"), b"=2Ehidden\r\n=2E.x\r\n");
        assert_eq!(check_streaming(b"a.b\r.\r\n"), b"a.b\r\n=2E\r\n");
        // A dot that starts the line after a soft break is encoded too.
        let body = std::format!("{}.b\r\n", "a".repeat(75));
        let expected = std::format!("{}=\r\n=2Eb\r\n", "a".repeat(75));
        assert_eq!(check_streaming(body.as_bytes()), expected.into_bytes());
    }

    #[test]
    fn qp_normalizes_line_endings() {
        assert_eq!(check_streaming(b"a\nb\rc\r\nd"), b"a\r\nb\r\nc\r\nd\r\n");
        assert_eq!(check_streaming(b"\r\r\n\n"), b"\r\n\r\n\r\n");
        assert_eq!(check_streaming(b"x \r"), b"x=20\r\n");
        assert_eq!(check_streaming(b"x\t\n"), b"x=09\r\n");
    }

    #[test]
    fn qp_empty_and_unterminated_bodies() {
        assert_eq!(check_streaming(b""), b"");
        assert_eq!(check_streaming(b"no newline"), b"no newline\r\n");
        assert_eq!(check_streaming(b"space "), b"space=20\r\n");
        assert_eq!(check_streaming(b"\r\n"), b"\r\n");
    }

    #[test]
    fn qp_finish_resumes_with_small_buffers() {
        let body = std::format!("{}\u{e9}", "a".repeat(74));
        let whole = encode(body.as_bytes());
        for out_size in 1..=QuotedPrintableEncoder::MAX_FINISH_LEN + 1 {
            assert_eq!(
                encode_chunks(&[body.as_bytes()], out_size),
                whole,
                "out {out_size}"
            );
        }
        // Output left over from `encode` plus the flush fit in
        // MAX_FINISH_LEN bytes, so one finish call writes everything.
        let mut encoder = QuotedPrintableEncoder::new();
        let mut out = [0u8; 78];
        let (consumed, written) = encoder.encode(body.as_bytes(), &mut out);
        assert_eq!((consumed, written), (body.len(), 78));
        let mut tail = [0u8; QuotedPrintableEncoder::MAX_FINISH_LEN];
        let n = encoder.finish(&mut tail);
        assert_eq!(&tail[..n], &whole[78..]);
        assert_eq!(encoder.finish(&mut tail), 0);
    }

    #[test]
    fn qp_round_trip_varied_inputs() {
        let inputs: Vec<Vec<u8>> = std::vec![
            b"plain ASCII text".to_vec(),
            "UTF-8: äöü € 😀 日本語".repeat(8).into_bytes(),
            std::format!("{}é{}", "a".repeat(73), "b".repeat(80)).into_bytes(),
            b"trailing   \r\nspaces\t \t\n".to_vec(),
            b".\r\n..\r\n.a\n.".to_vec(),
            b"bare\nLF\nand\rCR\r".to_vec(),
            b"=== equals =3D ==\r\n".to_vec(),
            (0u8..=255).collect(),
            std::vec![b' '; 200],
            std::vec![b'='; 100],
        ];
        for input in inputs {
            check_streaming(&input);
        }
    }

    #[test]
    fn qp_random_inputs_round_trip() {
        const ALPHABET: &[u8] = b"ab .=\t\r\n\x00\xc3\xa9\xff~";
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        for _ in 0..300 {
            let len = rng.below(200);
            let body: Vec<u8> = (0..len)
                .map(|_| ALPHABET[rng.below(ALPHABET.len())])
                .collect();
            let whole = encode(&body);
            assert_eq!(
                decode_quoted_printable(&whole).unwrap(),
                normalize_line_endings(&body)
            );
            assert_eq!(quoted_printable_len(&body), whole.len() as u64);
            let split = rng.below(body.len() + 1);
            let out_size = 1 + rng.below(20);
            let (first, second) = body.split_at(split);
            assert_eq!(encode_chunks(&[first, second], out_size), whole);
        }
    }

    #[test]
    fn qp_empty_out_makes_no_progress() {
        let mut encoder = QuotedPrintableEncoder::new();
        assert_eq!(encoder.encode(b"abc", &mut []), (0, 0));
        assert_eq!(encoder.finish(&mut []), 0);
        assert_eq!(encode(b"abc"), b"abc\r\n");
    }
}
