//! Streaming decoder for the DATA phase (RFC 5321 section 4.5.2): removes
//! the dot added for transparency and finds the end of data.
//!
//! Only CRLF `.` CRLF ends the data. A bare LF or bare CR never ends a line,
//! so none of the bare-LF end-of-data variants (`\n.\n`, `\n.\r\n`,
//! `\r\n.\n`) can end a message early or start a second one out of the
//! first one's data (SMTP smuggling). The decoder records bare line feeds,
//! bare carriage returns and text lines over the limit. The caller decides
//! what to do with the message after the end of data.

use core::fmt;

/// Maximum length of a text line including CRLF, not counting a leading
/// dot added for transparency (RFC 5321 section 4.5.3.1.6).
pub const MAX_TEXT_LINE: usize = 1000;

/// What the decoder does with a bare LF or bare CR in the data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum BareLineEndings {
    /// Record it as a violation: the message must be rejected
    /// (RFC 5321 section 2.3.8 allows CR and LF only as CRLF).
    #[default]
    Reject,
    /// Keep it as a data byte. It still never ends a line, so a dot after
    /// it is ordinary data and is not removed.
    Keep,
}

/// Violation found in the data, reported once the end of data is seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DataError {
    /// A LF not preceded by CR, with [`BareLineEndings::Reject`].
    BareLf,
    /// A CR not followed by LF, with [`BareLineEndings::Reject`].
    BareCr,
    /// A text line longer than the configured limit.
    LineTooLong,
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BareLf => f.write_str("bare LF in message data"),
            Self::BareCr => f.write_str("bare CR in message data"),
            Self::LineTooLong => f.write_str("text line too long in message data"),
        }
    }
}

impl core::error::Error for DataError {}

/// Result of one [`Unstuffer::decode`] call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decoded<'a> {
    /// Bytes of input consumed.
    pub consumed: usize,
    /// Message data decoded by this call, possibly empty. It borrows from
    /// the input, except for a CR held back from an earlier call.
    pub data: &'a [u8],
    /// True once CRLF `.` CRLF has been consumed: the data has ended.
    pub end: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// At the start of a line.
    LineStart,
    /// Inside a line.
    Text,
    /// After a CR inside a line (already passed on as data).
    Cr,
    /// After a dot at the start of a line (held back).
    Dot,
    /// After `.` CR at the start of a line (both held back).
    DotCr,
    /// After CRLF `.` CRLF.
    End,
}

/// Streaming DATA decoder that carries its state across input chunks.
#[derive(Clone, Debug)]
pub struct Unstuffer {
    state: State,
    bare: BareLineEndings,
    max_line: usize,
    line_len: usize,
    error: Option<DataError>,
}

impl Unstuffer {
    /// Creates a decoder positioned at the start of the data, which is the
    /// start of a line. `max_line` is the longest text line accepted,
    /// including CRLF.
    pub const fn new(bare: BareLineEndings, max_line: usize) -> Self {
        Self {
            state: State::LineStart,
            bare,
            max_line,
            line_len: 0,
            error: None,
        }
    }

    /// Returns the first violation seen so far.
    pub fn error(&self) -> Option<DataError> {
        self.error
    }

    /// Returns true once the end of data has been consumed.
    pub fn is_end(&self) -> bool {
        self.state == State::End
    }

    /// Decodes from the start of `input` until one span of data is complete,
    /// the end of data is reached or the input runs out.
    ///
    /// Call again with the rest of the input while `consumed` is below its
    /// length and `end` is false. A call may consume nothing yet return a
    /// held-back CR as data. After the end, nothing more is consumed.
    pub fn decode<'a>(&mut self, input: &'a [u8]) -> Decoded<'a> {
        let mut span_start = 0;
        let mut i = 0;
        while let Some(&b) = input.get(i) {
            match self.state {
                State::End => break,
                State::LineStart if b == b'.' => {
                    // The dot is removed: it either ends the data or was
                    // added for transparency. Data before it is returned
                    // first so that the span stays contiguous.
                    if i > span_start {
                        return self.span(input, span_start, i, false);
                    }
                    self.state = State::Dot;
                    i += 1;
                    span_start = i;
                    continue;
                }
                State::Dot if b == b'\r' => {
                    self.state = State::DotCr;
                    i += 1;
                    span_start = i;
                    continue;
                }
                State::DotCr if b == b'\n' => {
                    self.state = State::End;
                    return Decoded {
                        consumed: i + 1,
                        data: &[],
                        end: true,
                    };
                }
                State::DotCr => {
                    // `.` CR then another byte: the dot was stuffing and the
                    // CR is a bare CR, returned before the byte is looked at.
                    self.bare_line_ending(DataError::BareCr);
                    self.count_line_octets(1);
                    self.state = State::Text;
                    return Decoded {
                        consumed: i,
                        data: b"\r",
                        end: false,
                    };
                }
                State::LineStart | State::Text | State::Dot => self.text_byte(b),
                State::Cr => {
                    if b == b'\n' {
                        self.state = State::LineStart;
                        self.line_len = 0;
                    } else {
                        self.bare_line_ending(DataError::BareCr);
                        self.text_byte(b);
                    }
                }
            }
            i += 1;
        }
        self.span(input, span_start, i, false)
    }

    fn span<'a>(&mut self, input: &'a [u8], start: usize, end: usize, done: bool) -> Decoded<'a> {
        Decoded {
            consumed: end,
            data: input.get(start..end).unwrap_or(&[]),
            end: done,
        }
    }

    /// Handles a byte inside a line (not a CR that completes CRLF).
    fn text_byte(&mut self, b: u8) {
        self.count_line_octets(1);
        self.state = match b {
            b'\r' => State::Cr,
            b'\n' => {
                // A bare LF is never a line end.
                self.bare_line_ending(DataError::BareLf);
                State::Text
            }
            _ => State::Text,
        };
    }

    fn count_line_octets(&mut self, n: usize) {
        self.line_len = self.line_len.saturating_add(n);
        // The CRLF counts, and its LF is not counted here, so the line
        // exceeds the limit once the text before LF reaches it.
        if self.line_len >= self.max_line && self.error.is_none() {
            self.error = Some(DataError::LineTooLong);
        }
    }

    fn bare_line_ending(&mut self, error: DataError) {
        if self.bare == BareLineEndings::Reject && self.error.is_none() {
            self.error = Some(error);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// Decodes `input` fed in the given pieces and returns the data, the
    /// number of input bytes consumed and the violation.
    fn decode_pieces(
        pieces: &[&[u8]],
        bare: BareLineEndings,
        max_line: usize,
    ) -> (Vec<u8>, usize, bool, Option<DataError>) {
        let mut decoder = Unstuffer::new(bare, max_line);
        let mut data = Vec::new();
        let mut consumed_total = 0;
        'pieces: for piece in pieces {
            let mut rest = *piece;
            loop {
                let decoded = decoder.decode(rest);
                data.extend_from_slice(decoded.data);
                consumed_total += decoded.consumed;
                rest = &rest[decoded.consumed..];
                if decoded.end {
                    break 'pieces;
                }
                if rest.is_empty() && decoded.data.is_empty() {
                    break;
                }
                if rest.is_empty() && decoded.consumed > 0 {
                    break;
                }
            }
        }
        (data, consumed_total, decoder.is_end(), decoder.error())
    }

    /// Checks that every split into two pieces and one byte per piece give
    /// the result of the whole input.
    fn check_all_splits(
        input: &[u8],
        bare: BareLineEndings,
        max_line: usize,
    ) -> (Vec<u8>, usize, bool, Option<DataError>) {
        let whole = decode_pieces(&[input], bare, max_line);
        for split in 0..=input.len() {
            let (a, b) = input.split_at(split);
            assert_eq!(
                decode_pieces(&[a, b], bare, max_line),
                whole,
                "split at {split}"
            );
        }
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(
            decode_pieces(&bytes, bare, max_line),
            whole,
            "one byte per read"
        );
        whole
    }

    fn strict(input: &[u8]) -> (Vec<u8>, usize, bool, Option<DataError>) {
        check_all_splits(input, BareLineEndings::Reject, MAX_TEXT_LINE)
    }

    fn keep(input: &[u8]) -> (Vec<u8>, usize, bool, Option<DataError>) {
        check_all_splits(input, BareLineEndings::Keep, MAX_TEXT_LINE)
    }

    #[test]
    fn plain_message() {
        let input = b"Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n";
        let (data, consumed, end, error) = strict(input);
        assert_eq!(data, b"Subject: x\r\n\r\nbody\r\n");
        assert_eq!(consumed, input.len() - 6);
        assert!(end);
        assert_eq!(error, None);
    }

    #[test]
    fn empty_message() {
        let (data, consumed, end, error) = strict(b".\r\n");
        assert_eq!(data, b"");
        assert_eq!(consumed, 3);
        assert!(end);
        assert_eq!(error, None);
    }

    #[test]
    fn leading_dots_removed() {
        let (data, _, end, error) = strict(b"..\r\n..hidden\r\na.b\r\n...\r\n.\r\n");
        assert_eq!(data, b".\r\n.hidden\r\na.b\r\n..\r\n");
        assert!(end);
        assert_eq!(error, None);
    }

    #[test]
    fn dot_with_text_is_stuffing() {
        let (data, _, end, _) = strict(b".x\r\n.\r\n");
        assert_eq!(data, b"x\r\n");
        assert!(end);
    }

    #[test]
    fn unterminated_input_is_not_end() {
        let (data, consumed, end, _) = strict(b"a\r\n.");
        assert_eq!(data, b"a\r\n");
        assert_eq!(consumed, 4);
        assert!(!end);
        let (_, _, end, _) = strict(b"a\r\n.\r");
        assert!(!end);
    }

    #[test]
    fn smuggled_terminators_do_not_end_data() {
        for input in [
            &b"hi\n.\r\nMAIL FROM:<x@a>\r\n"[..],
            b"hi\r\n.\nMAIL FROM:<x@a>\r\n",
            b"hi\n.\nMAIL FROM:<x@a>\r\n",
            b"hi\r.\rMAIL FROM:<x@a>\r\n",
            b"hi\r.\r\nMAIL FROM:<x@a>\r\n",
        ] {
            let (_, consumed, end, error) = strict(input);
            assert!(!end, "{input:?}");
            assert_eq!(consumed, input.len(), "{input:?}");
            assert!(
                matches!(error, Some(DataError::BareLf | DataError::BareCr)),
                "{input:?}"
            );
        }
    }

    #[test]
    fn bare_lf_kept_as_data() {
        let input = b"hi\n.\r\nMAIL FROM:<x@a>\r\n.\r\n";
        let (data, consumed, end, error) = keep(input);
        assert_eq!(data, b"hi\n.\r\nMAIL FROM:<x@a>\r\n");
        assert_eq!(consumed, input.len());
        assert!(end);
        assert_eq!(error, None);
    }

    #[test]
    fn dot_then_bare_lf_kept() {
        let (data, _, end, error) = keep(b"a\r\n.\n.\r\n");
        assert_eq!(data, b"a\r\n\n.\r\n");
        assert!(!end);
        assert_eq!(error, None);
        let (data, _, end, _) = keep(b"a\r\n.\n\r\n.\r\n");
        assert_eq!(data, b"a\r\n\n\r\n");
        assert!(end);
    }

    #[test]
    fn dot_cr_then_text_is_bare_cr() {
        let (data, _, end, error) = keep(b".\rx\r\n.\r\n");
        assert_eq!(data, b"\rx\r\n");
        assert!(end);
        assert_eq!(error, None);
        let (_, _, _, error) = strict(b".\rx\r\n.\r\n");
        assert_eq!(error, Some(DataError::BareCr));
        let (data, _, end, _) = keep(b".\r.\r\n.\r\n");
        assert_eq!(data, b"\r.\r\n");
        assert!(end);
    }

    #[test]
    fn bare_lf_reported() {
        let (data, _, end, error) = strict(b"a\nb\r\n.\r\n");
        assert_eq!(data, b"a\nb\r\n");
        assert!(end);
        assert_eq!(error, Some(DataError::BareLf));
    }

    #[test]
    fn bare_cr_reported() {
        let (_, _, end, error) = strict(b"a\rb\r\n.\r\n");
        assert!(end);
        assert_eq!(error, Some(DataError::BareCr));
    }

    #[test]
    fn line_limit_counts_crlf_not_stuffing() {
        let max = 10;
        // 8 text octets + CRLF = 10: at the limit.
        let at_limit = b"12345678\r\n..2345678\r\n.\r\n";
        let (_, _, end, error) = check_all_splits(at_limit, BareLineEndings::Reject, max);
        assert!(end);
        assert_eq!(error, None);
        let over = b"123456789\r\n.\r\n";
        let (_, _, end, error) = check_all_splits(over, BareLineEndings::Reject, max);
        assert!(end);
        assert_eq!(error, Some(DataError::LineTooLong));
    }

    #[test]
    fn long_line_read_to_terminator() {
        let mut input = std::vec![b'x'; 5000];
        input.extend_from_slice(b"\r\n.\r\n");
        let mut decoder = Unstuffer::new(BareLineEndings::Reject, MAX_TEXT_LINE);
        let mut total = 0;
        let mut rest = &input[..];
        while !decoder.is_end() {
            let decoded = decoder.decode(rest);
            total += decoded.data.len();
            rest = &rest[decoded.consumed..];
        }
        assert_eq!(total, 5002);
        assert_eq!(decoder.error(), Some(DataError::LineTooLong));
    }

    #[test]
    fn nothing_consumed_after_end() {
        let mut decoder = Unstuffer::new(BareLineEndings::Reject, MAX_TEXT_LINE);
        let decoded = decoder.decode(b".\r\nQUIT\r\n");
        assert_eq!(decoded.consumed, 3);
        assert!(decoded.end);
        let decoded = decoder.decode(b"QUIT\r\n");
        assert_eq!(decoded.consumed, 0);
        assert_eq!(decoded.data, b"");
    }
}
