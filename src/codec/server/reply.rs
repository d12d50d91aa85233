//! Reply encoding (RFC 5321 section 4.2) with enhanced status codes
//! (RFC 2034, RFC 3463).

use core::fmt::{self, Write as _};

/// Maximum length of a reply line including CRLF (RFC 5321 section
/// 4.5.3.1.5).
pub const MAX_REPLY_LINE: usize = 512;

/// Enhanced status code `class.subject.detail` (RFC 3463 section 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EnhancedCode {
    /// Class: 2 success, 4 persistent transient failure, 5 permanent failure.
    pub class: u8,
    /// Subject, for example 1 for addressing or 3 for mail system status.
    pub subject: u16,
    /// Detail within the subject.
    pub detail: u16,
}

impl EnhancedCode {
    /// Creates the code `class.subject.detail`.
    pub const fn new(class: u8, subject: u16, detail: u16) -> Self {
        Self {
            class,
            subject,
            detail,
        }
    }
}

impl fmt::Display for EnhancedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

/// Error from [`encode_reply_line`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ReplyError {
    /// The output buffer cannot hold the line; nothing was written that the
    /// returned length would cover.
    BufferFull,
    /// The reply code is outside 200..=599.
    InvalidCode,
}

impl fmt::Display for ReplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BufferFull => f.write_str("reply does not fit the output buffer"),
            Self::InvalidCode => f.write_str("invalid reply code: expected 200 to 599"),
        }
    }
}

impl core::error::Error for ReplyError {}

/// Encodes one reply line `code[-| ][enhanced ]text CRLF` at the start of
/// `out` and returns its length.
///
/// `last` selects the separator: a space ends a reply, a hyphen announces
/// another line. Control characters in the text (CR, LF, NUL and the rest of
/// C0 except tab) become spaces, so that a caller's text can never start a
/// second reply line. Text that would make the line longer than
/// [`MAX_REPLY_LINE`] is cut at a character boundary.
pub fn encode_reply_line(
    out: &mut [u8],
    code: u16,
    last: bool,
    enhanced: Option<EnhancedCode>,
    text: fmt::Arguments<'_>,
) -> Result<usize, ReplyError> {
    if !(200..=599).contains(&code) {
        return Err(ReplyError::InvalidCode);
    }
    let limited_by_buffer = out.len() < MAX_REPLY_LINE;
    let capacity = out.len().min(MAX_REPLY_LINE);
    // Room for CRLF is kept back from the start.
    let Some(content_capacity) = capacity.checked_sub(2) else {
        return Err(ReplyError::BufferFull);
    };
    let mut line = LineWriter {
        out: &mut out[..content_capacity],
        len: 0,
        overflow: false,
    };
    let separator = if last { ' ' } else { '-' };
    // The code and the enhanced code must be written whole.
    let prefix = match enhanced {
        Some(enhanced) => write!(line, "{code}{separator}{enhanced} "),
        None => write!(line, "{code}{separator}"),
    };
    if prefix.is_err() || line.overflow {
        return Err(ReplyError::BufferFull);
    }
    // Text is cut at the line limit; the writer never returns an error.
    let _ = line.write_fmt(text);
    if line.overflow && limited_by_buffer {
        return Err(ReplyError::BufferFull);
    }
    let len = line.len;
    // `len <= content_capacity == capacity - 2 <= out.len() - 2`.
    let crlf = out.get_mut(len..len + 2).ok_or(ReplyError::BufferFull)?;
    crlf.copy_from_slice(b"\r\n");
    Ok(len + 2)
}

/// `fmt::Write` into a byte slice that replaces control characters and stops
/// at the end of the slice, cutting at a character boundary.
struct LineWriter<'a> {
    out: &'a mut [u8],
    len: usize,
    overflow: bool,
}

impl fmt::Write for LineWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            let c = if c.is_ascii_control() && c != '\t' {
                ' '
            } else {
                c
            };
            let mut encoded = [0u8; 4];
            let bytes = c.encode_utf8(&mut encoded).as_bytes();
            let end = self.len.saturating_add(bytes.len());
            match self.out.get_mut(self.len..end) {
                Some(target) => {
                    target.copy_from_slice(bytes);
                    self.len = end;
                }
                None => {
                    self.overflow = true;
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(
        out: &mut [u8],
        code: u16,
        last: bool,
        enhanced: Option<EnhancedCode>,
        text: &str,
    ) -> Result<usize, ReplyError> {
        encode_reply_line(out, code, last, enhanced, format_args!("{text}"))
    }

    #[test]
    fn last_line_with_enhanced_code() {
        let mut out = [0u8; 64];
        let n = encode(&mut out, 250, true, Some(EnhancedCode::new(2, 1, 0)), "OK").unwrap();
        assert_eq!(&out[..n], b"250 2.1.0 OK\r\n");
    }

    #[test]
    fn continuation_line_without_enhanced_code() {
        let mut out = [0u8; 64];
        let n = encode(&mut out, 250, false, None, "SIZE 1000").unwrap();
        assert_eq!(&out[..n], b"250-SIZE 1000\r\n");
    }

    #[test]
    fn empty_text() {
        let mut out = [0u8; 8];
        let n = encode(&mut out, 354, true, None, "").unwrap();
        assert_eq!(&out[..n], b"354 \r\n");
    }

    #[test]
    fn control_characters_become_spaces() {
        let mut out = [0u8; 64];
        let n = encode(&mut out, 550, true, None, "a\r\n250 b\0c\td").unwrap();
        assert_eq!(&out[..n], b"550 a  250 b c\td\r\n");
    }

    #[test]
    fn long_text_cut_at_line_limit() {
        let mut out = [0u8; 1024];
        let text = "é".repeat(400);
        let n = encode(&mut out, 550, true, None, &text).unwrap();
        assert!(n <= MAX_REPLY_LINE);
        assert!(n >= MAX_REPLY_LINE - 1);
        assert!(out[..n].ends_with(b"\r\n"));
        assert!(core::str::from_utf8(&out[..n]).is_ok());
    }

    #[test]
    fn small_buffer_is_full() {
        let mut out = [0u8; 10];
        assert_eq!(
            encode(&mut out, 250, true, None, "longer than ten"),
            Err(ReplyError::BufferFull)
        );
        assert_eq!(
            encode(
                &mut out[..5],
                250,
                true,
                Some(EnhancedCode::new(2, 0, 0)),
                ""
            ),
            Err(ReplyError::BufferFull)
        );
        assert_eq!(
            encode(&mut out[..1], 250, true, None, ""),
            Err(ReplyError::BufferFull)
        );
    }

    #[test]
    fn code_out_of_range() {
        let mut out = [0u8; 64];
        assert_eq!(
            encode(&mut out, 199, true, None, ""),
            Err(ReplyError::InvalidCode)
        );
        assert_eq!(
            encode(&mut out, 600, true, None, ""),
            Err(ReplyError::InvalidCode)
        );
    }
}
