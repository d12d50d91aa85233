//! Choice of the Content-Transfer-Encoding for a text body.

/// Content-Transfer-Encoding of the text body (RFC 2045 section 6, RFC 6152).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TransferEncoding {
    /// ASCII lines of at most 998 octets, sent as they are.
    SevenBit,
    /// Lines of at most 998 octets with 8-bit bytes, sent as they are. Needs
    /// `BODY=8BITMIME` on MAIL FROM (RFC 6152).
    EightBit,
    /// Quoted-printable (RFC 2045 section 6.7), written by
    /// [`QuotedPrintableEncoder`](super::QuotedPrintableEncoder).
    QuotedPrintable,
}

/// Maximum length of a text line in octets, without its CRLF (RFC 5321 section
/// 4.5.3.1.6, RFC 2045 section 2.8).
const MAX_LINE_LEN: usize = 998;

impl TransferEncoding {
    /// Chooses how `body` travels: 7bit when the body is ASCII with lines of
    /// at most 998 octets; 8bit when it has 8-bit bytes, its lines are at
    /// most 998 octets and the server offers 8BITMIME; quoted-printable
    /// otherwise.
    ///
    /// Lines end at CRLF, bare LF or bare CR, as the dot-stuffer treats them.
    /// A line that starts with `.` counts one octet more because
    /// dot-stuffing doubles that dot. A NUL byte anywhere forces
    /// quoted-printable, because RFC 2045 section 2.7 forbids NUL in 7bit and
    /// 8bit data.
    pub fn choose(body: &[u8], server_has_8bitmime: bool) -> Self {
        let mut has_8bit = false;
        let mut line_len = 0usize;
        let mut previous = b'\n';
        for &byte in body {
            match byte {
                b'\r' => line_len = 0,
                b'\n' if previous == b'\r' => {}
                b'\n' => line_len = 0,
                0 => return Self::QuotedPrintable,
                _ => {
                    let at_line_start = previous == b'\r' || previous == b'\n';
                    let stuffed_dot = at_line_start && byte == b'.';
                    line_len = line_len.saturating_add(1 + usize::from(stuffed_dot));
                    if line_len > MAX_LINE_LEN {
                        return Self::QuotedPrintable;
                    }
                    has_8bit |= !byte.is_ascii();
                }
            }
            previous = byte;
        }

        match (has_8bit, server_has_8bitmime) {
            (false, _) => Self::SevenBit,
            (true, true) => Self::EightBit,
            (true, false) => Self::QuotedPrintable,
        }
    }

    /// Returns the field value: `7bit`, `8bit` or `quoted-printable`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SevenBit => "7bit",
            Self::EightBit => "8bit",
            Self::QuotedPrintable => "quoted-printable",
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use std::vec::Vec;

    #[test]
    fn choose_ascii_is_7bit() {
        assert_eq!(
            TransferEncoding::choose(b"", false),
            TransferEncoding::SevenBit
        );
        assert_eq!(
            TransferEncoding::choose(b"hello\r\nworld\n.\r", false),
            TransferEncoding::SevenBit
        );
        assert_eq!(
            TransferEncoding::choose(b"tab\there", true),
            TransferEncoding::SevenBit
        );
    }

    #[test]
    fn choose_8bit_needs_8bitmime() {
        let body = "Temperatur über Grenzwert\r\n".as_bytes();
        assert_eq!(
            TransferEncoding::choose(body, true),
            TransferEncoding::EightBit
        );
        assert_eq!(
            TransferEncoding::choose(body, false),
            TransferEncoding::QuotedPrintable
        );
    }

    #[test]
    fn choose_nul_forces_quoted_printable() {
        assert_eq!(
            TransferEncoding::choose(b"a\0b", true),
            TransferEncoding::QuotedPrintable
        );
    }

    #[test]
    fn choose_line_length_limit() {
        for ending in [&b"\r\n"[..], b"\n", b"\r"] {
            let mut body = Vec::new();
            body.extend_from_slice(&[b'a'; 998]);
            body.extend_from_slice(ending);
            body.extend_from_slice(&[b'b'; 998]);
            assert_eq!(
                TransferEncoding::choose(&body, false),
                TransferEncoding::SevenBit
            );
            body.push(b'b');
            assert_eq!(
                TransferEncoding::choose(&body, true),
                TransferEncoding::QuotedPrintable
            );
        }
    }

    #[test]
    fn choose_counts_stuffed_dot() {
        let mut body = std::vec![b'.'];
        body.extend_from_slice(&[b'a'; 997]);
        assert_eq!(
            TransferEncoding::choose(&body, false),
            TransferEncoding::QuotedPrintable
        );
        body.pop();
        assert_eq!(
            TransferEncoding::choose(&body, false),
            TransferEncoding::SevenBit
        );
        // A dot inside a line is not stuffed.
        let mut body = std::vec![b'a'; 997];
        body.push(b'.');
        assert_eq!(
            TransferEncoding::choose(&body, false),
            TransferEncoding::SevenBit
        );
    }

    #[test]
    fn as_str_values() {
        assert_eq!(TransferEncoding::SevenBit.as_str(), "7bit");
        assert_eq!(TransferEncoding::EightBit.as_str(), "8bit");
        assert_eq!(
            TransferEncoding::QuotedPrintable.as_str(),
            "quoted-printable"
        );
    }
}
