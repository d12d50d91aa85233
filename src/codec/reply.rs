//! Server reply parsing: RFC 5321 section 4.2 (reply lines and multi-line
//! replies), section 4.2.1 (meaning of the reply code digits) and RFC 3463
//! section 2 (enhanced status codes at the start of the text).
//!
//! A reply is one or more lines `ddd-text` ending with a line `ddd text` or a
//! bare `ddd`. Every line of one reply carries the same code. The text may be
//! empty and is not required to be UTF-8.
//!
//! [`ReplyParser`] is a streaming parser: it returns one line per call and
//! remembers how far it has already searched for the line feed, so feeding a
//! line one byte at a time costs time linear in its length.

use core::fmt;

use super::Status;

/// Default maximum number of lines in one reply.
///
/// An EHLO reply has one line per extension, and RFC 5321 with its
/// extensions defines far fewer than this many keywords.
pub const MAX_REPLY_LINES: usize = 128;

/// Three-digit SMTP reply code (RFC 5321 section 4.2).
///
/// Always within `200..=599`, with a second digit in `0..=5` (the categories
/// RFC 5321 section 4.2.1 defines).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ReplyCode(u16);

impl ReplyCode {
    /// `250`: requested action completed.
    pub const OK: Self = Self(250);
    /// `220`: service ready (greeting, reply to STARTTLS).
    pub const SERVICE_READY: Self = Self(220);
    /// `221`: service closing the transmission channel (reply to QUIT).
    pub const CLOSING: Self = Self(221);
    /// `235`: authentication succeeded (RFC 4954 section 6).
    pub const AUTH_SUCCEEDED: Self = Self(235);
    /// `334`: server challenge during AUTH (RFC 4954 section 4).
    pub const AUTH_CONTINUE: Self = Self(334);
    /// `354`: start mail input (reply to DATA).
    pub const START_MAIL_INPUT: Self = Self(354);
    /// `421`: service not available, the server closes the connection.
    pub const SERVICE_NOT_AVAILABLE: Self = Self(421);

    /// Returns the code when it is a valid reply code: `200..=599` with a
    /// second digit in `0..=5`.
    pub const fn new(code: u16) -> Option<Self> {
        let first = code / 100;
        let second = code / 10 % 10;
        if first >= 2 && first <= 5 && second <= 5 {
            Some(Self(code))
        } else {
            None
        }
    }

    /// Returns the numeric code.
    pub const fn get(self) -> u16 {
        self.0
    }

    /// Returns whether the code is `2yz`: the command succeeded.
    pub const fn is_positive_completion(self) -> bool {
        self.0 / 100 == 2
    }

    /// Returns whether the code is `3yz`: the server waits for more input.
    pub const fn is_intermediate(self) -> bool {
        self.0 / 100 == 3
    }

    /// Returns whether the code is `4yz`: a transient failure, the same
    /// command may succeed later.
    pub const fn is_transient(self) -> bool {
        self.0 / 100 == 4
    }

    /// Returns whether the code is `5yz`: a permanent failure.
    pub const fn is_permanent(self) -> bool {
        self.0 / 100 == 5
    }

    /// Returns the first digit (2 to 5).
    const fn class(self) -> u8 {
        (self.0 / 100) as u8
    }
}

impl fmt::Display for ReplyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Enhanced mail system status code `class.subject.detail` (RFC 3463
/// section 2), such as `5.1.1` for an unknown mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EnhancedCode {
    /// 2 (success), 4 (persistent transient failure) or 5 (permanent failure).
    pub class: u8,
    /// Subject, `0..=999`.
    pub subject: u16,
    /// Detail, `0..=999`.
    pub detail: u16,
}

impl EnhancedCode {
    /// Parses an enhanced code at the start of `text`.
    ///
    /// Returns the code and the length of the prefix to strip, which covers
    /// the code and the spaces after it. The code must be followed by a
    /// space or the end of the text.
    fn parse_prefix(text: &[u8]) -> Option<(Self, usize)> {
        let (class, rest) = split_number(text)?;
        let rest = rest.strip_prefix(b".")?;
        let (subject, rest) = split_number(rest)?;
        let rest = rest.strip_prefix(b".")?;
        let (detail, rest) = split_number(rest)?;
        if !(rest.is_empty() || rest.first() == Some(&b' ')) {
            return None;
        }
        if !matches!(class, 2 | 4 | 5) {
            return None;
        }

        let spaces = rest.iter().take_while(|&&b| b == b' ').count();
        let prefix_len = text.len() - rest.len() + spaces;
        let code = Self {
            class: class as u8,
            subject,
            detail,
        };
        Some((code, prefix_len))
    }
}

/// Splits 1 to 3 leading decimal digits off `input` (RFC 3463 `1*3digit`).
fn split_number(input: &[u8]) -> Option<(u16, &[u8])> {
    let digits = input
        .iter()
        .take(3)
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 || input.get(digits).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let (number, rest) = input.split_at(digits);
    let value = number
        .iter()
        .fold(0u16, |acc, &b| acc * 10 + u16::from(b - b'0'));
    Some((value, rest))
}

impl fmt::Display for EnhancedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

/// One parsed reply line, borrowing its text from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ReplyLine<'a> {
    /// Reply code of the line.
    pub code: ReplyCode,
    /// Whether this is the last line of the reply: the separator after the
    /// code was a space, or the line was the code alone.
    pub last: bool,
    /// Text after `ddd ` or `ddd-`, without the line ending. May be empty
    /// and may be invalid UTF-8.
    pub text: &'a [u8],
    /// Enhanced status code at the start of the text, present only when its
    /// class equals the first digit of `code` (RFC 3463 section 2).
    pub enhanced: Option<EnhancedCode>,
}

impl<'a> ReplyLine<'a> {
    /// Returns the text without the enhanced status code and the spaces
    /// after it, or the whole text when `enhanced` is `None`.
    pub fn text_after_enhanced(&self) -> &'a [u8] {
        if self.enhanced.is_none() {
            return self.text;
        }
        match EnhancedCode::parse_prefix(self.text) {
            Some((_, prefix_len)) => self.text.get(prefix_len..).unwrap_or_default(),
            None => self.text,
        }
    }
}

/// Error from [`ReplyParser::parse_line`]. The parser is reset afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ReplyError {
    /// The line does not start with a valid three-digit reply code followed
    /// by a space, a hyphen or the line end.
    Malformed,
    /// A line of a multi-line reply carries a different code than the first
    /// line (RFC 5321 section 4.2.1 requires the same code on every line).
    CodeMismatch {
        /// Code of the first line of the reply.
        first: ReplyCode,
        /// Code of the line that differs.
        line: ReplyCode,
    },
    /// The reply has more lines than the parser's limit.
    TooManyLines {
        /// The configured maximum number of lines.
        max: usize,
    },
}

impl fmt::Display for ReplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed => f.write_str(
                "malformed reply line: expected a reply code 200 to 599 \
                 followed by a space, a hyphen or the line end",
            ),
            Self::CodeMismatch { first, line } => write!(
                f,
                "reply line has code {line} but the reply started with code {first}"
            ),
            Self::TooManyLines { max } => write!(f, "reply has more than {max} lines"),
        }
    }
}

impl core::error::Error for ReplyError {}

/// Streaming parser for server replies, one line per call.
///
/// The caller keeps the received bytes in its own buffer. It passes the
/// buffer from the first unconsumed byte on, removes the consumed bytes
/// after each complete line, and after [`Status::Partial`] calls again with
/// the same start and newly read bytes appended.
#[derive(Debug, Clone)]
pub struct ReplyParser {
    /// Code of the first line of the reply in progress.
    first_code: Option<ReplyCode>,
    /// Number of complete lines of the reply in progress.
    lines: usize,
    /// Number of bytes of the current line already searched for LF.
    scanned: usize,
    /// Maximum number of lines in one reply.
    max_lines: usize,
    /// Total bytes searched for LF, to test that parsing stays linear.
    #[cfg(test)]
    searched_bytes: usize,
}

impl Default for ReplyParser {
    fn default() -> Self {
        Self::new()
    }
}

impl ReplyParser {
    /// Creates a parser that accepts up to [`MAX_REPLY_LINES`] lines per
    /// reply.
    pub const fn new() -> Self {
        Self::with_max_lines(MAX_REPLY_LINES)
    }

    /// Creates a parser that accepts up to `max_lines` lines per reply.
    /// A limit of 0 rejects every reply.
    pub const fn with_max_lines(max_lines: usize) -> Self {
        Self {
            first_code: None,
            lines: 0,
            scanned: 0,
            max_lines,
            #[cfg(test)]
            searched_bytes: 0,
        }
    }

    /// Parses the next reply line from `input`.
    ///
    /// `input` starts at the first unconsumed byte of the current line. The
    /// caller removes consumed bytes and appends newly read ones. After
    /// `Partial`, the next call must pass the same start with more bytes
    /// appended, because bytes searched on an earlier call are not searched
    /// again.
    ///
    /// Returns `Complete((line, consumed))` once a whole line is present,
    /// where `consumed` includes the line ending. Lines end in CRLF; a bare
    /// LF is accepted as well. Returns `Partial` when the line feed has not
    /// arrived yet. A malformed code is reported as soon as the first four
    /// bytes show it, without waiting for the line end.
    ///
    /// After the last line of a reply the parser is ready for the next
    /// reply. After an error it is reset.
    pub fn parse_line<'a>(
        &mut self,
        input: &'a [u8],
    ) -> Result<Status<(ReplyLine<'a>, usize)>, ReplyError> {
        let result = self.parse_line_inner(input);
        if result.is_err() {
            self.reset();
        }
        result
    }

    fn parse_line_inner<'a>(
        &mut self,
        input: &'a [u8],
    ) -> Result<Status<(ReplyLine<'a>, usize)>, ReplyError> {
        // A caller that passes less input than before breaks the contract.
        // Search from the start of what is there instead of indexing past
        // its end.
        let start = self.scanned.min(input.len());
        let unsearched = input.get(start..).unwrap_or_default();
        #[cfg(test)]
        {
            self.searched_bytes += unsearched.len();
        }

        let Some(offset) = unsearched.iter().position(|&b| b == b'\n') else {
            check_code_prefix(input)?;
            self.scanned = input.len();
            return Ok(Status::Partial);
        };
        let lf = start + offset;
        let consumed = lf + 1;
        self.scanned = 0;

        let content = input.get(..lf).unwrap_or_default();
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        let line = parse_content(content)?;

        if let Some(first) = self.first_code
            && first != line.code
        {
            debug!("reply code {} after {}", line.code.get(), first.get());
            return Err(ReplyError::CodeMismatch {
                first,
                line: line.code,
            });
        }
        let lines = self.lines.saturating_add(1);
        if lines > self.max_lines {
            debug!("reply exceeds {} lines", self.max_lines);
            return Err(ReplyError::TooManyLines {
                max: self.max_lines,
            });
        }

        if line.last {
            self.reset();
        } else {
            self.first_code = Some(line.code);
            self.lines = lines;
        }
        Ok(Status::Complete((line, consumed)))
    }

    /// Forgets the reply in progress, keeping the line limit.
    pub fn reset(&mut self) {
        self.first_code = None;
        self.lines = 0;
        self.scanned = 0;
    }

    /// Returns whether a reply is in progress: a line of it was returned or
    /// bytes of a line were seen, and its last line has not been returned.
    pub fn in_progress(&self) -> bool {
        self.first_code.is_some() || self.scanned > 0
    }
}

/// Rejects a line early when its first bytes already cannot start a reply
/// line. Accepts any prefix that a valid line could still continue.
fn check_code_prefix(input: &[u8]) -> Result<(), ReplyError> {
    let valid = input.iter().take(4).enumerate().all(|(i, &b)| match i {
        0 => matches!(b, b'2'..=b'5'),
        1 => matches!(b, b'0'..=b'5'),
        2 => b.is_ascii_digit(),
        _ => matches!(b, b' ' | b'-' | b'\r'),
    });
    if valid {
        Ok(())
    } else {
        debug!(
            "malformed reply start {}",
            crate::fmt::Bytes(input.get(..4).unwrap_or(input))
        );
        Err(ReplyError::Malformed)
    }
}

/// Parses a line without its line ending.
fn parse_content(content: &[u8]) -> Result<ReplyLine<'_>, ReplyError> {
    let malformed = || {
        debug!("malformed reply line {}", crate::fmt::Bytes(content));
        ReplyError::Malformed
    };

    let (digits, rest) = content.split_at_checked(3).ok_or_else(malformed)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return Err(malformed());
    }
    let value = digits
        .iter()
        .fold(0u16, |acc, &b| acc * 10 + u16::from(b - b'0'));
    let code = ReplyCode::new(value).ok_or_else(malformed)?;

    // RFC 5321 section 4.2: "ddd" alone, "ddd SP text" or "ddd-text".
    let (last, text) = match rest.split_first() {
        None => (true, rest),
        Some((b' ', text)) => (true, text),
        Some((b'-', text)) => (false, text),
        Some(_) => return Err(malformed()),
    };

    let enhanced = EnhancedCode::parse_prefix(text)
        .map(|(enhanced, _)| enhanced)
        .filter(|enhanced| enhanced.class == code.class());
    Ok(ReplyLine {
        code,
        last,
        text,
        enhanced,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::test_util::{XorShift, assert_same_at_every_split};
    use std::vec::Vec;

    /// Owned copy of a reply line, so results outlive the caller's buffer.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct OwnedLine {
        code: u16,
        last: bool,
        text: Vec<u8>,
        enhanced: Option<EnhancedCode>,
    }

    /// Outcome of feeding a byte stream through the parser like a session
    /// does: the lines returned, the error if any, and the bytes left in the
    /// buffer. After an error the leftover is cleared, because a malformed
    /// line may be reported before all of it has arrived.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Outcome {
        lines: Vec<OwnedLine>,
        error: Option<ReplyError>,
        leftover: Vec<u8>,
    }

    /// Feeds `chunks` like a caller: append each chunk to a buffer, take
    /// every complete line, drop the consumed bytes, stop at the first error.
    fn feed(parser: &mut ReplyParser, chunks: &[&[u8]]) -> Outcome {
        let mut buffer = Vec::new();
        let mut lines = Vec::new();
        for chunk in chunks {
            buffer.extend_from_slice(chunk);
            loop {
                match parser.parse_line(&buffer) {
                    Ok(Status::Complete((line, consumed))) => {
                        lines.push(OwnedLine {
                            code: line.code.get(),
                            last: line.last,
                            text: line.text.to_vec(),
                            enhanced: line.enhanced,
                        });
                        buffer.drain(..consumed);
                    }
                    Ok(Status::Partial) => break,
                    Err(error) => {
                        return Outcome {
                            lines,
                            error: Some(error),
                            leftover: Vec::new(),
                        };
                    }
                }
            }
        }
        Outcome {
            lines,
            error: None,
            leftover: buffer,
        }
    }

    fn feed_at_every_split(input: &[u8]) -> Outcome {
        assert_same_at_every_split(input, |chunks| feed(&mut ReplyParser::new(), chunks))
    }

    fn line(code: u16, last: bool, text: &[u8]) -> OwnedLine {
        OwnedLine {
            code,
            last,
            text: text.to_vec(),
            enhanced: None,
        }
    }

    #[test]
    fn reply_code_ranges() {
        assert_eq!(ReplyCode::new(250), Some(ReplyCode::OK));
        assert_eq!(ReplyCode::new(199), None);
        assert_eq!(ReplyCode::new(600), None);
        assert_eq!(ReplyCode::new(260), None);
        assert_eq!(ReplyCode::new(0), None);
        assert!(ReplyCode::new(259).is_some());
        assert!(ReplyCode::OK.is_positive_completion());
        assert!(ReplyCode::START_MAIL_INPUT.is_intermediate());
        assert!(ReplyCode::SERVICE_NOT_AVAILABLE.is_transient());
        assert!(ReplyCode::new(550).unwrap().is_permanent());
        assert_eq!(std::format!("{}", ReplyCode::CLOSING), "221");
    }

    #[test]
    fn single_line_reply() {
        let outcome = feed_at_every_split(b"250 OK\r\n");
        assert_eq!(outcome.lines, [line(250, true, b"OK")]);
        assert_eq!(outcome.error, None);
        assert!(outcome.leftover.is_empty());
    }

    #[test]
    fn bare_code_lines() {
        // RFC 5321 section 4.2 lets the text be omitted.
        for (input, code) in [(&b"220\r\n"[..], 220), (b"250\r\n", 250), (b"334\r\n", 334)] {
            let outcome = feed_at_every_split(input);
            assert_eq!(outcome.lines, [line(code, true, b"")]);
            assert_eq!(outcome.error, None);
        }
    }

    #[test]
    fn short_and_garbage_lines_rejected() {
        for input in [
            &b"25\r\n"[..],
            b"2\r\n",
            b"\r\n",
            b"\n",
            b"abc def\r\n",
            b"250x\r\n",
            b"150 old\r\n",
            b"650 no\r\n",
            b"2a0 x\r\n",
            b"270 x\r\n",
        ] {
            let outcome = feed_at_every_split(input);
            assert_eq!(outcome.lines, [], "input {input:?}");
            assert_eq!(
                outcome.error,
                Some(ReplyError::Malformed),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn garbage_rejected_before_line_end() {
        let mut parser = ReplyParser::new();
        assert_eq!(
            parser.parse_line(b"HTTP/1.1 400"),
            Err(ReplyError::Malformed)
        );
        assert_eq!(parser.parse_line(b"250x"), Err(ReplyError::Malformed));
        assert_eq!(parser.parse_line(b"25"), Ok(Status::Partial));
    }

    #[test]
    fn multi_line_split_reply() {
        let outcome = feed_at_every_split(b"220-a\r\n220-b\r\n220 c\r\n");
        assert_eq!(
            outcome.lines,
            [
                line(220, false, b"a"),
                line(220, false, b"b"),
                line(220, true, b"c")
            ]
        );
        assert_eq!(outcome.error, None);
    }

    #[test]
    fn last_flag_only_on_final_line() {
        let mut parser = ReplyParser::new();
        let mut buffer = Vec::new();
        let mut last_flags = Vec::new();
        for &byte in b"220-a\r\n220-b\r\n220 c\r\n" {
            buffer.push(byte);
            if let Ok(Status::Complete((line, consumed))) = parser.parse_line(&buffer) {
                let last = line.last;
                last_flags.push(last);
                buffer.drain(..consumed);
                assert_eq!(parser.in_progress(), !last);
            }
        }
        assert_eq!(last_flags, [false, false, true]);
        assert!(!parser.in_progress());
    }

    #[test]
    fn bare_lf_and_empty_text() {
        let outcome = feed_at_every_split(b"250-\n250 done\n");
        assert_eq!(
            outcome.lines,
            [line(250, false, b""), line(250, true, b"done")]
        );
        assert_eq!(outcome.error, None);
    }

    #[test]
    fn non_utf8_text_kept() {
        let outcome = feed_at_every_split(b"250 caf\xe9\r\n");
        assert_eq!(outcome.lines, [line(250, true, b"caf\xe9")]);
    }

    #[test]
    fn consecutive_replies() {
        let outcome = feed_at_every_split(b"250-a\r\n250 b\r\n354 go\r\n");
        assert_eq!(outcome.lines.len(), 3);
        assert_eq!(outcome.lines[2], line(354, true, b"go"));
        assert_eq!(outcome.error, None);
    }

    #[test]
    fn partial_line_stays_unconsumed() {
        let outcome = feed_at_every_split(b"250 OK\r\n221 by");
        assert_eq!(outcome.lines, [line(250, true, b"OK")]);
        assert_eq!(outcome.leftover, b"221 by");
    }

    #[test]
    fn code_mismatch() {
        let outcome = feed_at_every_split(b"250-a\r\n251 b\r\n");
        assert_eq!(outcome.lines, [line(250, false, b"a")]);
        assert_eq!(
            outcome.error,
            Some(ReplyError::CodeMismatch {
                first: ReplyCode::OK,
                line: ReplyCode::new(251).unwrap(),
            })
        );
    }

    #[test]
    fn enhanced_code_parsed() {
        let mut parser = ReplyParser::new();
        let Ok(Status::Complete((line, _))) = parser.parse_line(b"550 5.1.1  unknown user\r\n")
        else {
            panic!("expected a complete line");
        };
        let expected = EnhancedCode {
            class: 5,
            subject: 1,
            detail: 1,
        };
        assert_eq!(line.enhanced, Some(expected));
        assert_eq!(line.text_after_enhanced(), b"unknown user");
        assert_eq!(std::format!("{expected}"), "5.1.1");
    }

    /// Input line, expected enhanced code as (class, subject, detail), and
    /// expected text after the enhanced code.
    type EnhancedCase = (&'static [u8], Option<(u8, u16, u16)>, &'static [u8]);

    #[test]
    fn enhanced_code_variants() {
        let cases: &[EnhancedCase] = &[
            (b"250 2.0.0 OK\r\n", Some((2, 0, 0)), b"OK"),
            (b"250 2.0.0\r\n", Some((2, 0, 0)), b""),
            (b"452 4.3.100 full\r\n", Some((4, 3, 100)), b"full"),
            (b"250 5.0.0 wrong class\r\n", None, b"5.0.0 wrong class"),
            (
                b"250 2.0.1000 four digits\r\n",
                None,
                b"2.0.1000 four digits",
            ),
            (b"250 2.0.0x\r\n", None, b"2.0.0x"),
            (b"250 2.0 short\r\n", None, b"2.0 short"),
            (b"250 3.0.0 bad class\r\n", None, b"3.0.0 bad class"),
            (b"250 OK\r\n", None, b"OK"),
        ];
        for &(input, expected, after) in cases {
            let mut parser = ReplyParser::new();
            let Ok(Status::Complete((line, _))) = parser.parse_line(input) else {
                panic!("expected a complete line for {input:?}");
            };
            let expected = expected.map(|(class, subject, detail)| EnhancedCode {
                class,
                subject,
                detail,
            });
            assert_eq!(line.enhanced, expected, "input {input:?}");
            assert_eq!(line.text_after_enhanced(), after, "input {input:?}");
        }
    }

    #[test]
    fn line_cap_stops_flood() {
        let flood = b"250-x\r\n".repeat(100_000);
        let mut parser = ReplyParser::new();
        let outcome = feed(&mut parser, &flood.chunks(1).collect::<Vec<_>>());
        assert_eq!(outcome.lines.len(), MAX_REPLY_LINES);
        assert_eq!(
            outcome.error,
            Some(ReplyError::TooManyLines {
                max: MAX_REPLY_LINES
            })
        );
    }

    #[test]
    fn line_cap_counts_per_reply() {
        let mut parser = ReplyParser::with_max_lines(2);
        let input = b"250-a\r\n250 b\r\n250-a\r\n250 b\r\n250-a\r\n250-b\r\n250 c\r\n";
        let outcome = feed(&mut parser, &[input]);
        assert_eq!(outcome.lines.len(), 6);
        assert_eq!(outcome.error, Some(ReplyError::TooManyLines { max: 2 }));
        assert!(!parser.in_progress());
    }

    #[test]
    fn byte_feeding_is_linear() {
        // One byte per call over a long line: each call searches only the
        // new byte, so the total equals the line length.
        let mut line = b"250 ".to_vec();
        line.extend(core::iter::repeat_n(b'x', 100_000));
        line.extend_from_slice(b"\r\n");
        let mut parser = ReplyParser::new();
        let mut complete = false;
        for end in 1..=line.len() {
            if let Ok(Status::Complete((_, consumed))) = parser.parse_line(&line[..end]) {
                assert_eq!(consumed, line.len());
                complete = true;
            }
        }
        assert!(complete);
        assert_eq!(parser.searched_bytes, line.len());
    }

    #[test]
    fn flood_searching_is_linear() {
        let flood = b"250-x\r\n".repeat(1000);
        let mut parser = ReplyParser::with_max_lines(usize::MAX);
        let outcome = feed(&mut parser, &flood.chunks(1).collect::<Vec<_>>());
        assert_eq!(outcome.lines.len(), 1000);
        assert_eq!(parser.searched_bytes, flood.len());
    }

    #[test]
    fn shorter_input_does_not_panic() {
        let mut parser = ReplyParser::new();
        assert_eq!(parser.parse_line(b"250 abcdef"), Ok(Status::Partial));
        // Breaks the contract (less input than before) but must not panic.
        assert_eq!(parser.parse_line(b"25"), Ok(Status::Partial));
        let Ok(Status::Complete((line, consumed))) = parser.parse_line(b"250 a\r\n") else {
            panic!("expected a complete line");
        };
        assert_eq!(line.text, b"a");
        assert_eq!(consumed, 7);
    }

    #[test]
    fn errors_display() {
        let mismatch = ReplyError::CodeMismatch {
            first: ReplyCode::OK,
            line: ReplyCode::SERVICE_READY,
        };
        assert_eq!(
            std::format!("{mismatch}"),
            "reply line has code 220 but the reply started with code 250"
        );
        assert_eq!(
            std::format!("{}", ReplyError::TooManyLines { max: 3 }),
            "reply has more than 3 lines"
        );
    }

    #[test]
    fn random_input_never_panics() {
        let alphabet = b"0123456789 -.\r\nabcSZ\xff";
        let mut rng = XorShift::new(0x5eed);
        for _ in 0..2000 {
            let input = rng.bytes_from(alphabet, 40);
            let whole = feed(&mut ReplyParser::new(), &[&input]);
            let split_at = rng.below(input.len() + 1);
            let (head, tail) = input.split_at(split_at);
            let split = feed(&mut ReplyParser::new(), &[head, tail]);
            assert_eq!(whole, split, "input {input:?} split at {split_at}");
            for line in &whole.lines {
                assert!(ReplyCode::new(line.code).is_some());
            }
        }
    }
}
